#include "names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static bool utf8_valid(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = hlfs_utf8_len(p + i, n - i);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

bool hlfs_name_safe(const char *s)
{
	if (!s || !*s)
		return false;
	size_t n = strlen(s);
	if (n > 255 || strchr(s, '/'))
		return false;
	if (!strcmp(s, ".") || !strcmp(s, "..") || !strcmp(s, ".stats") || !strcmp(s, ".error"))
		return false;
	/* U+FFFD marks a character the api layer could not keep (an escaped NUL):
	 * the name is not the service's name, so the store goes by its id. */
	if (strstr(s, "\xef\xbf\xbd"))
		return false;
	return utf8_valid((const unsigned char *)s, n);
}

/* qsort has no context argument in C17; sort (key, index) pairs instead. */
struct keyed {
	const char *key;
	size_t idx;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool hidden(const struct hlfs_store_ref *s, bool show_deleted)
{
	return !show_deleted && s->status && !strcmp(s->status, "DELETED");
}

/* Binary search over pairs sorted by key; returns the first match or -1. */
static long keyed_find(const struct keyed *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && !strcmp(v[lo].key, key))
		return (long)lo;
	return -1;
}

int hlfs_names_build(const struct hlfs_store_ref *stores, size_t n, bool show_deleted,
		     struct hlfs_names *ret)
{
	int rc = -ENOMEM;
	const char **dir = calloc(n ? n : 1, sizeof(*dir));
	size_t *by_dir = calloc(n ? n : 1, sizeof(*by_dir));
	size_t *by_id = calloc(n ? n : 1, sizeof(*by_id));
	struct keyed *names = calloc(n ? n : 1, sizeof(*names));
	struct keyed *ids = calloc(n ? n : 1, sizeof(*ids));
	size_t nn = 0, ni = 0;

	if (!dir || !by_dir || !by_id || !names || !ids)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (hidden(&stores[i], show_deleted))
			continue;
		ids[ni++] = (struct keyed){stores[i].id, i};
		if (stores[i].name)
			names[nn++] = (struct keyed){stores[i].name, i};
	}
	qsort(ids, ni, sizeof(*ids), keyed_cmp);
	qsort(names, nn, sizeof(*names), keyed_cmp);

	for (size_t k = 0; k < ni; k++) {
		size_t i = ids[k].idx;
		const struct hlfs_store_ref *s = &stores[i];
		dir[i] = s->id;
		if (!s->name || !hlfs_name_safe(s->name))
			continue;
		long f = keyed_find(names, nn, s->name);
		bool unique = f >= 0 && ((size_t)f + 1 >= nn || strcmp(names[f + 1].key, s->name));
		if (!unique)
			continue;
		long g = keyed_find(ids, ni, s->name);
		if (g >= 0 && ids[g].idx != i)
			continue; /* another store's id */
		dir[i] = s->name;
	}

	/* Index of directory names for lookups; reuse the names array. */
	for (size_t k = 0; k < ni; k++) {
		size_t i = ids[k].idx;
		names[k] = (struct keyed){dir[i], i};
	}
	qsort(names, ni, sizeof(*names), keyed_cmp);
	for (size_t k = 0; k < ni; k++) {
		by_dir[k] = names[k].idx;
		by_id[k] = ids[k].idx;
	}
	ret->n = n;
	ret->dir = dir;
	ret->by_dir = by_dir;
	ret->by_id = by_id;
	ret->n_visible = ni;
	dir = NULL;
	by_dir = NULL;
	by_id = NULL;
	rc = 0;
out:
	free(dir);
	free(by_dir);
	free(by_id);
	free(names);
	free(ids);
	return rc;
}

void hlfs_names_free(struct hlfs_names *nm)
{
	if (!nm)
		return;
	free(nm->dir);
	free(nm->by_dir);
	free(nm->by_id);
	memset(nm, 0, sizeof(*nm));
}

long hlfs_names_find(const struct hlfs_names *nm, const struct hlfs_store_ref *stores,
		     const char *component)
{
	size_t lo = 0, hi = nm->n_visible;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(nm->dir[nm->by_dir[mid]], component) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nm->n_visible && !strcmp(nm->dir[nm->by_dir[lo]], component))
		return (long)nm->by_dir[lo];
	lo = 0;
	hi = nm->n_visible;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(stores[nm->by_id[mid]].id, component) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nm->n_visible && !strcmp(stores[nm->by_id[lo]].id, component))
		return (long)nm->by_id[lo];
	return -1;
}
