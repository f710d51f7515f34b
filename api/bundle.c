#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member picked from an object (NULL when absent or null), named
 * in errors as at + name ("entry[3].response." "etag"). */
static enum hl_err want_string(const char *s, const struct hl_json_want *w, const char *at,
			       char **ret, struct hl_error *err)
{
	char kind = hl_json_kind(s, w->val);

	*ret = NULL;
	if (w->count > 1)
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s%s appears twice", at, w->name);
	if (w->count == 0 || kind == 'n')
		return HL_ERR_OK;
	if (kind != '"')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s%s is not a string", at,
				    w->name);
	enum hl_err rc = hl_json_string_dup(s, w->val, ret, err);
	if (rc == HL_ERR_INVALID)
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s%s holds a NUL character", at,
				    w->name);
	return rc;
}

/* An object member picked: 1 when there, 0 when absent or null, -1 with err
 * set (HL_ERR_PROTOCOL). */
static int want_object(const char *s, const struct hl_json_want *w, const char *at,
		       struct hl_error *err)
{
	char kind = hl_json_kind(s, w->val);

	if (w->count > 1) {
		hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s%s appears twice", at, w->name);
		return -1;
	}
	if (w->count == 0 || kind == 'n')
		return 0;
	if (kind != '{') {
		hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s%s is not an object", at, w->name);
		return -1;
	}
	return 1;
}

struct str_field {
	const char *name;
	char **dst;
};

#define MAX_FIELDS 4

/* Reads up to MAX_FIELDS string members of obj in one pass. */
static enum hl_err read_fields(const char *s, struct hl_span obj, const char *at,
			       const struct str_field *f, size_t n, struct hl_error *err)
{
	struct hl_json_want w[MAX_FIELDS];
	enum hl_err rc;

	for (size_t i = 0; i < n; i++)
		w[i].name = f[i].name;
	hl_json_pick(s, obj, w, n);
	for (size_t i = 0; i < n; i++)
		if ((rc = want_string(s, &w[i], at, f[i].dst, err)) != HL_ERR_OK)
			return rc;
	return HL_ERR_OK;
}

static void entry_clear(struct hl_bundle_entry *e)
{
	free(e->full_url);
	free(e->search_mode);
	free(e->request_method);
	free(e->request_url);
	free(e->status);
	free(e->etag);
	free(e->last_modified);
	free(e->location);
	memset(e, 0, sizeof(*e));
}

void hl_bundle_clear(struct hl_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_entries; i++)
		entry_clear(&b->entries[i]);
	free(b->entries);
	free(b->type);
	free(b->next_url);
	memset(b, 0, sizeof(*b));
}

static enum hl_err read_entry(const char *s, struct hl_span obj, size_t i,
			      struct hl_bundle_entry *e, struct hl_error *err)
{
	struct hl_json_want w[] = {
	    {.name = "resource"}, {.name = "fullUrl"},  {.name = "search"},
	    {.name = "request"},  {.name = "response"},
	};
	const struct str_field search[] = {{"mode", &e->search_mode}};
	const struct str_field request[] = {{"method", &e->request_method},
					    {"url", &e->request_url}};
	const struct str_field response[] = {{"status", &e->status},
					     {"etag", &e->etag},
					     {"lastModified", &e->last_modified},
					     {"location", &e->location}};
	const struct {
		const struct str_field *f;
		size_t n;
	} subs[] = {{search, 1}, {request, 2}, {response, 4}};
	char at[48], sub[64];
	enum hl_err rc;
	int found;

	snprintf(at, sizeof at, "entry[%zu].", i);
	hl_json_pick(s, obj, w, sizeof w / sizeof w[0]);
	if ((found = want_object(s, &w[0], at, err)) < 0)
		return HL_ERR_PROTOCOL;
	if (found)
		e->resource = w[0].val;
	if ((rc = want_string(s, &w[1], at, &e->full_url, err)) != HL_ERR_OK)
		return rc;
	for (size_t k = 0; k < 3; k++) {
		if ((found = want_object(s, &w[2 + k], at, err)) < 0)
			return HL_ERR_PROTOCOL;
		if (!found)
			continue;
		snprintf(sub, sizeof sub, "%s%s.", at, w[2 + k].name);
		if ((rc = read_fields(s, w[2 + k].val, sub, subs[k].f, subs[k].n, err)) != HL_ERR_OK)
			return rc;
	}
	return HL_ERR_OK;
}

static enum hl_err read_entries(const char *s, struct hl_span arr, struct hl_bundle *b,
				struct hl_error *err)
{
	struct hl_json_iter it;
	struct hl_span k, v;
	size_t cap = 0;
	enum hl_err rc;

	if (hl_json_kind(s, arr) != '[')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: entry is not an array");
	hl_json_iter_init(&it, s, arr);
	while (hl_json_iter_next(&it, &k, &v)) {
		size_t i = b->n_entries;
		if (hl_json_kind(s, v) != '{')
			return hl_error_set(err, HL_ERR_PROTOCOL,
					    "Bundle: entry[%zu] is not an object", i);
		if (i == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct hl_bundle_entry *p = realloc(b->entries, ncap * sizeof(*p));
			if (!p)
				return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
			b->entries = p;
			cap = ncap;
		}
		memset(&b->entries[i], 0, sizeof(b->entries[i]));
		b->n_entries++;
		if ((rc = read_entry(s, v, i, &b->entries[i], err)) != HL_ERR_OK)
			return rc;
	}
	return HL_ERR_OK;
}

static enum hl_err read_links(const char *s, struct hl_span arr, struct hl_bundle *b,
			      struct hl_error *err)
{
	struct hl_json_iter it;
	struct hl_span k, v;
	char at[48];
	size_t i = 0;
	enum hl_err rc;

	if (hl_json_kind(s, arr) != '[')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: link is not an array");
	hl_json_iter_init(&it, s, arr);
	for (; hl_json_iter_next(&it, &k, &v); i++) {
		struct hl_json_want w[] = {{.name = "relation"}, {.name = "url"}};

		if (!hl_json_pick(s, v, w, 2))
			return hl_error_set(err, HL_ERR_PROTOCOL,
					    "Bundle: link[%zu] is not an object", i);
		snprintf(at, sizeof at, "link[%zu].", i);
		if (w[0].count > 1)
			return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %srelation appears twice",
					    at);
		if (!w[0].count || !hl_json_string_eq(s, w[0].val, "next"))
			continue;
		if (b->next_url)
			return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: more than one next link");
		if ((rc = want_string(s, &w[1], at, &b->next_url, err)) != HL_ERR_OK)
			return rc;
		if (!b->next_url)
			return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: link[%zu] has no url", i);
	}
	return HL_ERR_OK;
}

/* Bundle.total: an unsigned integer token that fits in 64 bits. */
static enum hl_err read_total(const char *s, struct hl_span v, struct hl_bundle *b,
			      struct hl_error *err)
{
	uint64_t t = 0;

	if (v.len == 0 || v.len > 20 || (v.len > 1 && s[v.off] == '0'))
		goto bad;
	for (size_t i = 0; i < v.len; i++) {
		char c = s[v.off + i];
		if (c < '0' || c > '9' || t > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			goto bad;
		t = t * 10 + (uint64_t)(c - '0');
	}
	b->total = t;
	b->has_total = true;
	return HL_ERR_OK;
bad:
	return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: total is not an unsigned integer");
}

enum hl_err hl_bundle_parse(const char *body, size_t len, struct hl_bundle *ret,
			    struct hl_error *err)
{
	struct hl_json_want w[] = {
	    {.name = "resourceType"}, {.name = "type"}, {.name = "total"},
	    {.name = "link"},         {.name = "entry"},
	};
	enum hl_err (*const readers[])(const char *, struct hl_span, struct hl_bundle *,
				       struct hl_error *) = {read_total, read_links, read_entries};
	struct hl_bundle b = {0};
	struct hl_span root;
	enum hl_err rc;

	memset(ret, 0, sizeof(*ret));
	if ((rc = hl_json_document(body, len, &root, err)) != HL_ERR_OK) {
		/* The scanner's message stays: it names an offset, no value. */
		if (err && rc == HL_ERR_INVALID)
			err->code = HL_ERR_PROTOCOL;
		return rc == HL_ERR_INVALID ? HL_ERR_PROTOCOL : rc;
	}
	if (!hl_json_pick(body, root, w, sizeof w / sizeof w[0]))
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: the body is not a JSON object");
	if (w[0].count != 1 || !hl_json_string_eq(body, w[0].val, "Bundle"))
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: resourceType is not Bundle");
	if ((rc = want_string(body, &w[1], "", &b.type, err)) != HL_ERR_OK)
		goto out;
	/* total, link, entry: each at most once, null as absent. */
	for (size_t k = 0; k < 3; k++) {
		const struct hl_json_want *m = &w[2 + k];
		if (m->count > 1) {
			rc = hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s appears twice", m->name);
			goto out;
		}
		if (m->count == 1 && hl_json_kind(body, m->val) != 'n' &&
		    (rc = readers[k](body, m->val, &b, err)) != HL_ERR_OK)
			goto out;
	}
	*ret = b;
	return HL_ERR_OK;
out:
	hl_bundle_clear(&b);
	return rc;
}
