/* Listings, descriptions, jobs and tags through the cache and the service
 * (the file contents made of them are node.c's). Every value is charged
 * what it holds (footprint.h), plus the libfuse nodes that the kernel can
 * hold for its entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#include "errfile.h"
#include "footprint.h"
#include "keys.h"
#include "mount.h"
#include "remote.h"

/* Kernel inodes below a store besides its jobs and tags: the eight files,
 * .error, and tags/, imports/ and exports/ with their .error, new, latest. */
#define STORE_CHILD_NODES 19

/* ---- cached values ---- */

static void dslist_free(void *p)
{
	struct hlfs_dslist *d = p;
	if (!d)
		return;
	hlfs_names_free(&d->names);
	free(d->refs);
	free(d->items);
	hl_datastore_free(d->own);
	hl_datastore_list_free(d->base);
	hlfs_cval_unref(d->parent);
	free(d);
}

/* Builds refs and names over d->items, and adds their cost to d->cost. */
static int dslist_index(struct hlfs_dslist *d, bool show_deleted)
{
	size_t cap = d->n ? d->n : 1;
	d->refs = calloc(cap, sizeof(*d->refs));
	if (!d->refs)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		d->refs[i] = (struct hlfs_store_ref){d->items[i]->id, d->items[i]->name,
						     d->items[i]->status};
	d->cost += hlfs_alloc_cost(cap * sizeof(*d->refs)) +
		   hlfs_alloc_cost(cap * sizeof(*d->items)) +
		   3 * hlfs_alloc_cost(cap * sizeof(size_t)); /* the names' three indexes */
	return hlfs_names_build(d->refs, d->n, show_deleted, &d->names);
}

/* A listing value over list (moved in), as fetched at fetched_ms. */
static int dslist_wrap(struct hlfs_fs *fs, struct hl_datastore_list *list, int64_t fetched_ms,
		       struct hlfs_cval **ret)
{
	struct hlfs_dslist *d = calloc(1, sizeof(*d));
	if (!d) {
		hl_datastore_list_free(list);
		return -ENOMEM;
	}
	d->base = list;
	d->n = list->n;
	d->fetched_ms = fetched_ms;
	/* and a libfuse node for each store's directory */
	d->cost = hlfs_alloc_cost(sizeof(*d)) + hlfs_datastore_list_cost(list) +
		  list->n * HLFS_NODE_BYTES;
	d->items = calloc(d->n ? d->n : 1, sizeof(*d->items));
	if (!d->items)
		goto nomem;
	for (size_t i = 0; i < d->n; i++)
		d->items[i] = &list->items[i];
	if (dslist_index(d, fs->opts->show_deleted))
		goto nomem;
	*ret = hlfs_cval_new(d, d->cost, dslist_free);
	if (!*ret)
		return -ENOMEM;
	(*ret)->pinned = true;
	return 0;
nomem:
	dslist_free(d);
	return -ENOMEM;
}

static void joblist_free_v(void *p)
{
	hlfs_joblist_free(p);
}

static void jobdoc_free_v(void *p)
{
	hlfs_jobdoc_fini(p);
	free(p);
}

static void datastore_free_v(void *p)
{
	hl_datastore_free(p);
}

static void tags_free_v(void *p)
{
	hl_tag_list_free(p);
}

/* Wraps what a fetch made for the cache (ownership moves in). */
static int wrap(struct hlfs_cval **ret, void *data, size_t size, void (*free_fn)(void *))
{
	*ret = hlfs_cval_new(data, size, free_fn);
	return *ret ? 0 : -ENOMEM;
}

/* A job value over doc, whose bytes move in (doc is empty afterwards, also
 * on failure, when they are freed). */
static struct hlfs_cval *jobdoc_wrap(struct hlfs_jobdoc *doc)
{
	struct hlfs_jobdoc *d = malloc(sizeof(*d));
	if (!d) {
		hlfs_jobdoc_fini(doc);
		return NULL;
	}
	memcpy(d, doc, sizeof(*d));
	memset(doc, 0, sizeof(*doc));
	struct hlfs_cval *v =
	    hlfs_cval_new(d, hlfs_alloc_cost(sizeof(*d)) + hlfs_jobdoc_cost(d), jobdoc_free_v);
	if (v)
		v->immutable = d->terminal;
	return v;
}

/* A job value of its own: a copy of src, so that no listing is kept alive
 * by one of its jobs after the listing itself was let go. */
static struct hlfs_cval *jobdoc_value(const struct hlfs_jobdoc *src)
{
	struct hlfs_jobdoc copy;
	return hlfs_jobdoc_dup(src, &copy) == HL_ERR_OK ? jobdoc_wrap(&copy) : NULL;
}

/* ---- cache keys (keys.h) ---- */

/* A fetch time older than any ttl: the value is stale for every use. */
#define ANCIENT_MS (INT64_MIN / 4)

static void key_of(enum hlfs_key_kind kind, const char *ds_id, bool exports, const char *job_id,
		   char *out)
{
	struct hlfs_key k = {.kind = kind, .ds_id = ds_id, .exports = exports, .job_id = job_id};
	(void)hlfs_key_format(&k, out, HLFS_KEY_MAX); /* ids are bounded: it fits */
}

static void drop(struct hlfs_fs *fs, enum hlfs_key_kind kind, const char *ds_id, bool exports)
{
	char key[HLFS_KEY_MAX];
	key_of(kind, ds_id, exports, NULL, key);
	hlfs_cache_invalidate(fs->cache, key);
}

void hlfs_drop_listing(struct hlfs_fs *fs)
{
	hlfs_cache_invalidate(fs->cache, HLFS_LISTING_KEY);
}

void hlfs_drop_datastore(struct hlfs_fs *fs, const char *ds_id)
{
	drop(fs, HLFS_K_DATASTORE, ds_id, false);
}

void hlfs_drop_jobs(struct hlfs_fs *fs, const char *ds_id, bool exports)
{
	drop(fs, HLFS_K_JOBLIST, ds_id, exports);
}

void hlfs_drop_tags(struct hlfs_fs *fs, const char *ds_id)
{
	drop(fs, HLFS_K_TAGS, ds_id, false);
}

void hlfs_store_touch(struct hlfs_fs *fs, const char *ds_id)
{
	char key[HLFS_KEY_MAX];
	key_of(HLFS_K_KERNEL, ds_id, false, NULL, key);
	(void)hlfs_cache_touch(fs->cache, key, STORE_CHILD_NODES * HLFS_NODE_BYTES);
}

/* ---- fetches ---- */

struct fetch_ctx {
	struct hlfs_fs *fs;
	int64_t deadline;
	const char *ds_id;
	const char *arn;
	const char *job_id;
	bool exports;
};

static int fetch_dslist(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	(void)wl; /* HLFS_WHY_MAX, the cache's too */
	struct fetch_ctx *f = arg;
	struct hl_datastore_list *list = NULL;
	int64_t started = hlfs_now(f->fs);
	int rc = hlfs_remote_list_datastores(f->fs, NULL, f->deadline, &list, why);
	if (rc)
		return rc;
	return dslist_wrap(f->fs, list, started, ret);
}

void hlfs_listing_seed(struct hlfs_fs *fs, struct hl_datastore_list *list, int64_t fetched_ms)
{
	struct hlfs_cval *v = NULL;
	if (dslist_wrap(fs, list, fetched_ms, &v) == 0)
		(void)hlfs_cache_put(fs->cache, HLFS_LISTING_KEY, v, ANCIENT_MS);
	hlfs_cval_unref(v);
}

static int fetch_datastore(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	(void)wl;
	struct fetch_ctx *f = arg;
	struct hl_datastore *d = NULL;
	int rc = hlfs_remote_describe_datastore(f->fs, f->ds_id, f->deadline, &d, why);
	if (rc)
		return rc;
	return wrap(ret, d, hlfs_alloc_cost(sizeof(*d)) + hlfs_datastore_cost(d), datastore_free_v);
}

static int fetch_joblist(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	(void)wl;
	struct fetch_ctx *f = arg;
	struct hl_job_list *list = NULL;
	struct hlfs_joblist *j = NULL;
	int64_t started = hlfs_now(f->fs);
	int rc = hlfs_remote_list_jobs(f->fs, f->exports, f->ds_id, f->deadline, &list, why);
	if (rc)
		return rc;
	enum hl_err e = hlfs_joblist_make(list, started, &j);
	hl_job_list_free(list);
	if (e != HL_ERR_OK)
		return -ENOMEM;
	return wrap(ret, j, j->cost + j->n * HLFS_NODE_BYTES, joblist_free_v);
}

static int fetch_job(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	struct fetch_ctx *f = arg;
	struct hl_job *job = NULL;
	struct hlfs_jobdoc doc;
	int rc = hlfs_remote_describe_job(f->fs, f->exports, f->ds_id, f->job_id, f->deadline, &job,
					  why);
	if (rc)
		return rc;
	enum hl_err e = hlfs_jobdoc_make(job, &doc);
	hl_job_free(job);
	if (e != HL_ERR_OK) {
		snprintf(why, wl, "the description of job %s has no id or status", f->job_id);
		return e == HL_ERR_NOMEM ? -ENOMEM : -EIO;
	}
	*ret = jobdoc_wrap(&doc);
	return *ret ? 0 : -ENOMEM;
}

static int fetch_tags(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	(void)wl;
	struct fetch_ctx *f = arg;
	struct hl_tag_list *t = NULL;
	int rc = hlfs_remote_list_tags(f->fs, f->arn, f->deadline, &t, why);
	if (rc)
		return rc;
	return wrap(ret, t, hlfs_tag_list_cost(t) + t->n * HLFS_NODE_BYTES, tags_free_v);
}

int hlfs_get_dslist(struct hlfs_fs *fs, int64_t deadline, const char *what, struct hlfs_cval **ret,
		    struct hlfs_res *res)
{
	char why[HLFS_WHY_MAX];
	struct fetch_ctx f = {.fs = fs, .deadline = deadline};
	int rc = hlfs_cache_get(fs->cache, HLFS_LISTING_KEY, fs->list_ttl_ms, deadline,
				fetch_dslist, &f, ret, why, sizeof(why));
	if (rc)
		return hlfs_res_fail(res, rc, "/", "%s: %s", what, why);
	return 0;
}

/* The newest properties of n's store: its description when that is newer
 * than the listing. *hold keeps them alive; unref it when done. */
const struct hl_datastore *hlfs_props(struct hlfs_fs *fs, const struct hlfs_treenode *n,
				      struct hlfs_cval **hold)
{
	char key[HLFS_KEY_MAX];
	struct hlfs_cval *dv = NULL;
	int64_t at = 0;
	*hold = NULL;
	key_of(HLFS_K_DATASTORE, n->ds->id, false, NULL, key);
	if (hlfs_cache_peek(fs->cache, key, &dv, &at) == 0) {
		const struct hlfs_dslist *d = n->lv->data;
		if (at >= d->fetched_ms) {
			*hold = dv;
			return dv->data;
		}
		hlfs_cval_unref(dv);
	}
	return n->ds;
}

int hlfs_get_joblist(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		     struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[HLFS_KEY_MAX], why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct fetch_ctx f = {
	    .fs = fs, .deadline = deadline, .ds_id = n->ds->id, .exports = n->p.exports};
	key_of(HLFS_K_JOBLIST, n->ds->id, n->p.exports, NULL, key);
	int rc = hlfs_cache_get(fs->cache, key, fs->list_ttl_ms, deadline, fetch_joblist, &f, ret,
				why, sizeof(why));
	if (rc) {
		/* Listing imports/ is an operation in the store's directory; a
		 * lookup or read of a job, or of latest, one in imports/. */
		hlfs_node_dir_key(n, dk);
		return hlfs_res_fail(res, rc, dk, "list %s of %s: %s",
				     n->p.exports ? "exports" : "imports", n->p.store, why);
	}
	return 0;
}

/* n's job through the cache under key (its job key), described when stale. */
static int get_job(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   const char *key, struct hlfs_cval **ret, char *why)
{
	struct fetch_ctx f = {.fs = fs,
			      .deadline = deadline,
			      .ds_id = n->ds->id,
			      .job_id = n->p.leaf,
			      .exports = n->p.exports};
	return hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_job, &f, ret, why,
			      HLFS_WHY_MAX);
}

/* A job's newest properties for stat: its description when newer than the
 * listing, else the listing's item, else a description fetched now.
 * *hold keeps the result alive. */
int hlfs_job_props(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   const struct hlfs_jobdoc **ret, struct hlfs_cval **hold, struct hlfs_res *res)
{
	char jk[HLFS_KEY_MAX], why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct hlfs_cval *lv = NULL, *jv = NULL;
	int64_t at = 0;
	int rc = hlfs_get_joblist(fs, n, deadline, &lv, res);
	if (rc)
		return rc;
	const struct hlfs_joblist *jl = lv->data;
	const struct hlfs_jobdoc *item = hlfs_joblist_find(jl, n->p.leaf);
	key_of(HLFS_K_JOB, n->ds->id, n->p.exports, n->p.leaf, jk);
	if (hlfs_cache_peek(fs->cache, jk, &jv, &at) == 0) {
		if (!item || jv->immutable || at >= jl->fetched_ms) {
			hlfs_cval_unref(lv);
			*hold = jv;
			*ret = jv->data;
			return 0;
		}
		hlfs_cval_unref(jv);
	}
	if (item) {
		*hold = lv;
		*ret = item;
		return 0;
	}
	hlfs_cval_unref(lv);
	/* Not in the listing (it may be older than the job): ask. */
	rc = get_job(fs, n, deadline, jk, &jv, why);
	if (rc == -ENOENT)
		return hlfs_res_errno(res, rc);
	if (rc) {
		hlfs_node_dir_key(n, dk);
		return hlfs_res_fail(res, rc, dk, "lookup %s: %s", n->p.leaf, why);
	}
	*hold = jv;
	*ret = jv->data;
	return 0;
}

int hlfs_get_tags(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[HLFS_KEY_MAX], why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct fetch_ctx f = {.fs = fs, .deadline = deadline, .arn = n->ds->arn};
	key_of(HLFS_K_TAGS, n->ds->id, false, NULL, key);
	int rc = hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_tags, &f, ret, why,
				sizeof(why));
	if (rc) {
		hlfs_dir_key(HLFS_D_TAGS, n->ds->id, dk);
		return hlfs_res_fail(res, rc, dk, "list tags of %s: %s", n->p.store, why);
	}
	return 0;
}

const struct hl_tag *hlfs_tags_find(const struct hl_tag_list *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].key && !strcmp(t->items[i].key, key))
			return &t->items[i];
	return NULL;
}

int hlfs_get_datastore(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		       struct hlfs_cval **ret, char *why)
{
	char key[HLFS_KEY_MAX];
	struct fetch_ctx f = {.fs = fs, .deadline = deadline, .ds_id = n->ds->id};
	key_of(HLFS_K_DATASTORE, n->ds->id, false, NULL, key);
	return hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_datastore, &f, ret,
			      why, HLFS_WHY_MAX);
}

int hlfs_job_for_read(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[HLFS_KEY_MAX], why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct hlfs_cval *v = NULL, *lv = NULL;
	int64_t at = 0;
	key_of(HLFS_K_JOB, n->ds->id, n->p.exports, n->p.leaf, key);
	if (hlfs_cache_peek(fs->cache, key, &v, &at) == 0 && v->immutable) {
		*ret = v;
		return 0;
	}
	hlfs_cval_unref(v);
	v = NULL;
	/* A listing that fails here costs nothing but the Describe below: its
	 * reason is not the read's, which is the Describe's. */
	struct hlfs_res lres;
	if (hlfs_get_joblist(fs, n, deadline, &lv, &lres) == 0) {
		const struct hlfs_jobdoc *item = hlfs_joblist_find(lv->data, n->p.leaf);
		if (item && item->terminal && (v = jobdoc_value(item)))
			(void)hlfs_cache_put(fs->cache, key, v, hlfs_now(fs));
		hlfs_cval_unref(lv);
	}
	if (v) {
		*ret = v;
		return 0;
	}
	int rc = get_job(fs, n, deadline, key, ret, why);
	if (rc) {
		hlfs_node_dir_key(n, dk);
		return hlfs_res_fail(res, rc, dk, "read %s: %s", n->p.leaf, why);
	}
	return 0;
}

/* Replaces the cached listing by one where item (owned, moved in) is added,
 * or replaces the store with item's id. Nothing when no listing is cached. */
void hlfs_listing_patch(struct hlfs_fs *fs, struct hl_datastore *item)
{
	struct hlfs_cval *old = NULL, *nv = NULL;
	int64_t at = 0;
	struct hlfs_dslist *d = NULL;
	if (hlfs_cache_peek(fs->cache, HLFS_LISTING_KEY, &old, &at) != 0)
		goto out;
	const struct hlfs_dslist *o = old->data;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->items = calloc(o->n + 1, sizeof(*d->items));
	if (!d->items)
		goto out;
	bool replaced = false;
	for (size_t i = 0; i < o->n; i++) {
		if (!replaced && !strcmp(o->items[i]->id, item->id)) {
			d->items[d->n++] = item;
			replaced = true;
		} else {
			d->items[d->n++] = o->items[i];
		}
	}
	if (!replaced)
		d->items[d->n++] = item;
	/* The parent stays alive through this listing: charge it here. */
	d->cost = o->cost + hlfs_alloc_cost(sizeof(*d)) + hlfs_alloc_cost(sizeof(*item)) +
		  hlfs_datastore_cost(item);
	d->own = item;
	item = NULL;
	d->parent = hlfs_cval_ref(old);
	d->fetched_ms = o->fetched_ms;
	if (dslist_index(d, fs->opts->show_deleted))
		goto out;
	nv = hlfs_cval_new(d, d->cost, dslist_free);
	d = NULL;
	if (nv) {
		nv->pinned = true;
		hlfs_cache_put(fs->cache, HLFS_LISTING_KEY, nv, at);
	}
out:
	dslist_free(d);
	hl_datastore_free(item);
	hlfs_cval_unref(nv);
	hlfs_cval_unref(old);
}
