#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "entry[3].fullUrl", or "type" for a member of the Bundle itself. */
static const char *field(char *out, size_t outsz, const char *where, size_t idx, const char *name)
{
	if (where)
		snprintf(out, outsz, "%s[%zu].%s", where, idx, name);
	else
		snprintf(out, outsz, "%s", name);
	return out;
}

/* A string member (NULL when absent or null) of the validated object obj,
 * named in errors as field() says. */
static enum hl_err str_member(const char *s, struct hl_span obj, const char *name, char **ret,
			      const char *where, size_t idx, struct hl_error *err)
{
	char f[96];
	struct hl_span v;
	int found = hl_json_member(s, obj, name, &v);

	*ret = NULL;
	if (found < 0)
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s appears twice",
				    field(f, sizeof f, where, idx, name));
	if (found == 0 || hl_json_kind(s, v) == 'n')
		return HL_ERR_OK;
	if (hl_json_kind(s, v) != '"')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s is not a string",
				    field(f, sizeof f, where, idx, name));
	enum hl_err rc = hl_json_string_dup(s, v, ret, err);
	if (rc == HL_ERR_INVALID)
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s holds a NUL character",
				    field(f, sizeof f, where, idx, name));
	return rc;
}

/* An object member of entry[idx]: 1 with *ret, 0 when absent or null, -1
 * with err set (HL_ERR_PROTOCOL). */
static int obj_member(const char *s, struct hl_span obj, const char *name, struct hl_span *ret,
		      size_t idx, struct hl_error *err)
{
	int found = hl_json_member(s, obj, name, ret);

	if (found < 0) {
		hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: entry[%zu].%s appears twice", idx, name);
		return -1;
	}
	if (found == 0 || hl_json_kind(s, *ret) == 'n')
		return 0;
	if (hl_json_kind(s, *ret) != '{') {
		hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: entry[%zu].%s is not an object", idx,
			     name);
		return -1;
	}
	return 1;
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
	struct hl_span v;
	enum hl_err rc;
	int found;

	found = hl_json_member(s, obj, "resource", &v);
	if (found < 0)
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: entry[%zu].resource appears twice",
				    i);
	if (found && hl_json_kind(s, v) != '{' && hl_json_kind(s, v) != 'n')
		return hl_error_set(err, HL_ERR_PROTOCOL,
				    "Bundle: entry[%zu].resource is not an object", i);
	if (found && hl_json_kind(s, v) == '{')
		e->resource = v;
	if ((rc = str_member(s, obj, "fullUrl", &e->full_url, "entry", i, err)) != HL_ERR_OK)
		return rc;
	if ((found = obj_member(s, obj, "search", &v, i, err)) < 0)
		return HL_ERR_PROTOCOL;
	if (found && (rc = str_member(s, v, "mode", &e->search_mode, "entry", i, err)) != HL_ERR_OK)
		return rc;
	if ((found = obj_member(s, obj, "request", &v, i, err)) < 0)
		return HL_ERR_PROTOCOL;
	if (found &&
	    ((rc = str_member(s, v, "method", &e->request_method, "entry", i, err)) != HL_ERR_OK ||
	     (rc = str_member(s, v, "url", &e->request_url, "entry", i, err)) != HL_ERR_OK))
		return rc;
	if ((found = obj_member(s, obj, "response", &v, i, err)) < 0)
		return HL_ERR_PROTOCOL;
	if (found &&
	    ((rc = str_member(s, v, "status", &e->status, "entry", i, err)) != HL_ERR_OK ||
	     (rc = str_member(s, v, "etag", &e->etag, "entry", i, err)) != HL_ERR_OK ||
	     (rc = str_member(s, v, "lastModified", &e->last_modified, "entry", i, err)) !=
		 HL_ERR_OK ||
	     (rc = str_member(s, v, "location", &e->location, "entry", i, err)) != HL_ERR_OK))
		return rc;
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
	struct hl_span k, v, rel;
	size_t i = 0;
	enum hl_err rc;

	if (hl_json_kind(s, arr) != '[')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: link is not an array");
	hl_json_iter_init(&it, s, arr);
	for (; hl_json_iter_next(&it, &k, &v); i++) {
		if (hl_json_kind(s, v) != '{')
			return hl_error_set(err, HL_ERR_PROTOCOL,
					    "Bundle: link[%zu] is not an object", i);
		int found = hl_json_member(s, v, "relation", &rel);
		if (found < 0)
			return hl_error_set(err, HL_ERR_PROTOCOL,
					    "Bundle: link[%zu].relation appears twice", i);
		if (!found || !hl_json_string_eq(s, rel, "next"))
			continue;
		if (b->next_url)
			return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: more than one next link");
		if ((rc = str_member(s, v, "url", &b->next_url, "link", i, err)) != HL_ERR_OK)
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

/* A member of the Bundle itself: 1 with *ret, 0 when absent or null, -1
 * (err set) when it appears twice. */
static int top_member(const char *s, struct hl_span root, const char *name, struct hl_span *ret,
		      struct hl_error *err)
{
	int found = hl_json_member(s, root, name, ret);

	if (found < 0)
		hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: %s appears twice", name);
	return found == 1 && hl_json_kind(s, *ret) == 'n' ? 0 : found;
}

enum hl_err hl_bundle_parse(const char *body, size_t len, struct hl_bundle *ret,
			    struct hl_error *err)
{
	struct hl_bundle b = {0};
	struct hl_span root, v;
	enum hl_err rc = HL_ERR_PROTOCOL;
	int found;

	memset(ret, 0, sizeof(*ret));
	if ((rc = hl_json_document(body, len, &root, err)) != HL_ERR_OK) {
		/* The scanner's message stays: it names an offset, no value. */
		if (err && rc == HL_ERR_INVALID)
			err->code = HL_ERR_PROTOCOL;
		return rc == HL_ERR_INVALID ? HL_ERR_PROTOCOL : rc;
	}
	if (hl_json_kind(body, root) != '{')
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: the body is not a JSON object");
	found = hl_json_member(body, root, "resourceType", &v);
	if (found != 1 || !hl_json_string_eq(body, v, "Bundle"))
		return hl_error_set(err, HL_ERR_PROTOCOL, "Bundle: resourceType is not Bundle");

	if ((rc = str_member(body, root, "type", &b.type, NULL, 0, err)) != HL_ERR_OK)
		goto out;
	if ((found = top_member(body, root, "total", &v, err)) < 0 ||
	    (found && (rc = read_total(body, v, &b, err)) != HL_ERR_OK))
		goto out;
	if ((found = top_member(body, root, "link", &v, err)) < 0 ||
	    (found && (rc = read_links(body, v, &b, err)) != HL_ERR_OK))
		goto out;
	if ((found = top_member(body, root, "entry", &v, err)) < 0 ||
	    (found && (rc = read_entries(body, v, &b, err)) != HL_ERR_OK))
		goto out;
	*ret = b;
	return HL_ERR_OK;
out:
	hl_bundle_clear(&b);
	/* top_member() failures leave rc at the last success. */
	return rc != HL_ERR_OK ? rc : HL_ERR_PROTOCOL;
}
