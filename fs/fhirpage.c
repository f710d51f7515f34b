/* FHIR values of the cache, built from the service's bytes. */
#include "fhirpage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bundle.h"
#include "fhirjson.h"
#include "footprint.h"
#include "iso8601.h"

/* A buffer's bytes in an allocation of their own size: a cached value is
 * charged what it holds, not the slack of its growth. */
static char *shrink(struct hl_buf *b, size_t *ret_len)
{
	*ret_len = b->len;
	char *p = hl_buf_steal(b);
	if (!p)
		return NULL;
	char *q = realloc(p, *ret_len + 1);
	return q ? q : p;
}

/* versionId and lastUpdated of one resource; absent or unusable ones stay
 * "" and -1. */
static void read_meta(const char *s, size_t n, char *vid, double *mtime)
{
	struct hl_fhir_meta m;
	struct hl_error err;
	vid[0] = '\0';
	*mtime = -1;
	if (hl_fhir_meta(s, n, &m, &err) != HL_ERR_OK)
		return;
	if (m.version_id && hl_fhir_id_valid(m.version_id, strlen(m.version_id)))
		memcpy(vid, m.version_id, strlen(m.version_id) + 1);
	double t;
	if (m.last_updated && hl_iso8601_parse(m.last_updated, &t))
		*mtime = t;
	hl_fhir_meta_clear(&m);
}

int hlfs_fres_new(const char *body, size_t n, struct hlfs_fres **ret)
{
	struct hl_error err;
	struct hl_span v;
	*ret = NULL;
	if (hl_json_document(body, n, &v, &err) != HL_ERR_OK || hl_json_kind(body, v) != '{')
		return -EIO;
	struct hlfs_fres *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	struct hl_buf b;
	hl_buf_init(&b, HLFS_FHIR_PRETTY_MAX);
	enum hl_err e = hl_json_pretty(body + v.off, v.len, &b, &err);
	if (e != HL_ERR_OK) {
		hl_buf_free(&b);
		free(r);
		return e == HL_ERR_TOO_LARGE ? -EFBIG : e == HL_ERR_NOMEM ? -ENOMEM : -EIO;
	}
	if (!(r->bytes = shrink(&b, &r->len))) {
		free(r);
		return -ENOMEM;
	}
	read_meta(body + v.off, v.len, r->vid, &r->mtime);
	r->cost = hlfs_alloc_cost(sizeof(*r)) + hlfs_alloc_cost(r->len + 1);
	*ret = r;
	return 0;
}

void hlfs_fres_free(void *fres)
{
	struct hlfs_fres *r = fres;
	if (!r)
		return;
	free(r->bytes);
	free(r);
}

/* ---- CapabilityStatement ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the types of one rest[] entry's resource array. */
static int add_types(struct hlfs_fcap *c, const char *s, struct hl_span resources)
{
	struct hl_json_iter it;
	struct hl_span k, r, t;
	if (!hl_json_iter_init(&it, s, resources))
		return 0;
	while (hl_json_iter_next(&it, &k, &r)) {
		char *type = NULL;
		struct hl_error err;
		if (hl_json_member(s, r, "type", &t) != 1 ||
		    hl_json_string_dup(s, t, &type, &err) != HL_ERR_OK)
			continue;
		if (!hlfs_fhir_type_syntax_ok(type, strlen(type))) {
			free(type);
			continue;
		}
		char **g = realloc(c->types, (c->ntypes + 1) * sizeof(*g));
		if (!g) {
			free(type);
			return -ENOMEM;
		}
		c->types = g;
		c->types[c->ntypes++] = type;
		c->cost += hlfs_str_cost(type);
	}
	return 0;
}

int hlfs_fcap_new(const char *body, size_t n, struct hlfs_fcap **ret)
{
	struct hl_error err;
	struct hl_span doc, rest, one, k, mode, res;
	struct hl_json_iter it;
	*ret = NULL;
	if (hl_json_document(body, n, &doc, &err) != HL_ERR_OK ||
	    hl_json_member(body, doc, "rest", &rest) != 1 || !hl_json_iter_init(&it, body, rest))
		return -EIO;
	struct hlfs_fcap *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int rc = 0;
	bool server = false;
	while (rc == 0 && hl_json_iter_next(&it, &k, &one)) {
		if (hl_json_member(body, one, "mode", &mode) != 1 ||
		    !hl_json_string_eq(body, mode, "server"))
			continue;
		server = true;
		if (hl_json_member(body, one, "resource", &res) == 1)
			rc = add_types(c, body, res);
	}
	if (rc == 0 && !server)
		rc = -EIO;
	if (rc == 0)
		rc = hlfs_fres_new(body, n, &c->file);
	if (rc) {
		hlfs_fcap_free(c);
		return rc;
	}
	if (c->ntypes) /* qsort of no array: types is NULL */
		qsort(c->types, c->ntypes, sizeof(*c->types), cmp_str);
	c->cost += hlfs_alloc_cost(sizeof(*c)) + hlfs_alloc_cost(c->ntypes * sizeof(*c->types)) +
		   c->file->cost;
	*ret = c;
	return 0;
}

void hlfs_fcap_free(void *fcap)
{
	struct hlfs_fcap *c = fcap;
	if (!c)
		return;
	for (size_t i = 0; i < c->ntypes; i++)
		free(c->types[i]);
	free(c->types);
	hlfs_fres_free(c->file);
	free(c);
}

bool hlfs_fcap_has(const struct hlfs_fcap *cap, const char *type)
{
	return cap->ntypes &&
	       bsearch(&type, cap->types, cap->ntypes, sizeof(*cap->types), cmp_str) != NULL;
}

/* ---- pages ---- */

/* Whether entry e of a page of type's search is listed, and by which id:
 * a match (or an entry without a mode) of the searched type whose id is a
 * file name; in a history, by its versionId. */
static int entry_name(const char *body, const struct hl_bundle_entry *be, const char *type,
		      int flags, struct hlfs_fentry *e)
{
	struct hl_fhir_meta m;
	struct hl_error err;
	if (be->search_mode && strcmp(be->search_mode, "match"))
		return 0;
	if (hl_fhir_meta(body + be->resource.off, be->resource.len, &m, &err) != HL_ERR_OK)
		return 0;
	int rc = 0;
	const char *name = flags & HLFS_PG_HISTORY ? m.version_id : m.id;
	if (m.resource_type && !strcmp(m.resource_type, type) && name &&
	    hlfs_fhir_id_ok(name, strlen(name))) {
		if (!(e->id = strdup(name)) ||
		    (m.version_id && !(e->vid = strdup(m.version_id))))
			rc = -ENOMEM;
		if (m.last_updated && !hl_iso8601_parse(m.last_updated, &e->mtime))
			e->mtime = -1;
	}
	hl_fhir_meta_clear(&m);
	return rc;
}

/* Fills e's file (or only its size) for a listed entry. */
static int entry_file(const char *body, const struct hl_bundle_entry *be, int flags,
		      struct hlfs_fentry *e)
{
	struct hlfs_fres *r = NULL;
	int rc = hlfs_fres_new(body + be->resource.off, be->resource.len, &r);
	if (rc)
		return rc == -ENOMEM ? rc : 0; /* unprintable: not listed */
	e->pretty_len = r->len;
	if (flags & HLFS_PG_RESOURCES)
		e->res = r;
	else
		hlfs_fres_free(r);
	return 0;
}

static void entry_unlist(struct hlfs_fentry *e)
{
	free(e->id);
	free(e->vid);
	e->id = e->vid = NULL;
}

int hlfs_fpage_new(const char *body, const struct hl_bundle *b, const char *url, const char *type,
		   int flags, struct hlfs_fpage **ret)
{
	*ret = NULL;
	struct hlfs_fpage *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int rc = 0;
	struct hl_buf lines;
	hl_buf_init(&lines, HLFS_FHIR_PRETTY_MAX);
	if ((url && !(p->url = strdup(url))) || (b->next_url && !(p->next = strdup(b->next_url))) ||
	    (b->n_entries && !(p->e = calloc(b->n_entries, sizeof(*p->e)))))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < b->n_entries; i++) {
		const struct hl_bundle_entry *be = &b->entries[i];
		if (!be->resource.len)
			continue; /* a deleted version in a history: nothing to show */
		struct hlfs_fentry *e = &p->e[p->n++];
		e->mtime = -1;
		if (flags & HLFS_PG_LINES) {
			struct hl_error err;
			e->line_off = lines.len;
			if (hl_json_compact(body + be->resource.off, be->resource.len, &lines,
					    &err) != HL_ERR_OK ||
			    hl_buf_appendc(&lines, '\n') != HL_ERR_OK) {
				rc = -ENOMEM;
				break;
			}
			e->line_len = lines.len - e->line_off - 1;
		}
		if ((rc = entry_name(body, be, type, flags, e)) == 0 && e->id) {
			rc = entry_file(body, be, flags, e);
			if (rc == 0 && !e->pretty_len)
				entry_unlist(e);
		}
		p->cost += hlfs_str_cost(e->id) + hlfs_str_cost(e->vid);
	}
	if (rc == 0 && (flags & HLFS_PG_LINES) && !(p->lines = shrink(&lines, &p->lines_len)))
		rc = -ENOMEM;
	hl_buf_free(&lines);
	if (rc) {
		hlfs_fpage_free(p);
		return rc;
	}
	p->cost += hlfs_alloc_cost(sizeof(*p)) + hlfs_str_cost(p->url) + hlfs_str_cost(p->next) +
		   hlfs_alloc_cost(b->n_entries * sizeof(*p->e)) +
		   (p->lines ? hlfs_alloc_cost(p->lines_len + 1) : 0);
	*ret = p;
	return 0;
}

void hlfs_fpage_free(void *page)
{
	struct hlfs_fpage *p = page;
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		entry_unlist(&p->e[i]);
		hlfs_fres_free(p->e[i].res);
	}
	free(p->e);
	free(p->lines);
	free(p->url);
	free(p->next);
	free(p);
}

long hlfs_fpage_find(const struct hlfs_fpage *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].id && !strcmp(p->e[i].id, id))
			return (long)i;
	return -1;
}
