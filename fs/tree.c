#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "input.h"
#include "names.h"
#include "render.h"

#define MAX_LIST_ITEMS 100000 /* bound on one listing, however large the account */
#define MAX_NOTES 4096

/* ---- .error notes and tags being created ---- */

struct hlfs_errnote {
	char *key; /* "/", "<id>", "<id>/tags", "<id>/imports", "<id>/exports" */
	char *msg; /* one line ending in '\n' */
	struct hlfs_errnote *next;
};

struct hlfs_pending {
	char *ds_id;
	char *key;
	int opens;
	struct hlfs_pending *next;
};

/* An open snapshot: stat of its path gives the snapshot's size while it is open. */
struct hlfs_openfile {
	char *path;
	struct stat st;
	int opens;
	struct hlfs_openfile *next;
};

static int64_t clock_ms(void *arg)
{
	(void)arg;
	return hl_now_ms();
}

int64_t hlfs_deadline(const struct hlfs_fs *fs)
{
	return hl_now_ms() + fs->timeout_ms;
}

int hlfs_fs_init(struct hlfs_fs *fs, const struct hlfs_opts *opts, struct hl_client *client,
		 struct hlfs_stats *stats, struct hlfs_log *log)
{
	memset(fs, 0, sizeof(*fs));
	fs->opts = opts;
	fs->client = client;
	fs->stats = stats;
	fs->log = log;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->mount_time);
	fs->attr_ttl_ms = (int64_t)(opts->attr_ttl * 1000);
	fs->list_ttl_ms = (int64_t)(opts->list_ttl * 1000);
	fs->timeout_ms = (int64_t)(opts->timeout * 1000);
	fs->cache = hlfs_cache_new((size_t)opts->cache_mb << 20, clock_ms, NULL);
	if (!fs->cache)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	return 0;
}

void hlfs_fs_fini(struct hlfs_fs *fs)
{
	hlfs_cache_free(fs->cache);
	fs->cache = NULL;
	while (fs->errors) {
		struct hlfs_errnote *n = fs->errors;
		fs->errors = n->next;
		free(n->key);
		free(n->msg);
		free(n);
	}
	while (fs->open) {
		struct hlfs_openfile *o = fs->open;
		fs->open = o->next;
		free(o->path);
		free(o);
	}
	while (fs->pending) {
		struct hlfs_pending *p = fs->pending;
		fs->pending = p->next;
		free(p->ds_id);
		free(p->key);
		free(p);
	}
	pthread_mutex_destroy(&fs->lock);
}

void hlfs_fs_on_call(void *arg, const struct hl_call_info *info)
{
	struct hlfs_fs *fs = arg;
	hlfs_stats_on_call(fs->stats, info);
	hlfs_log_call(fs->log, info);
}

enum hl_err hlfs_fs_render_stats(struct hlfs_fs *fs, struct hl_buf *out)
{
	struct hlfs_cache_counters cc;
	hlfs_cache_counters(fs->cache, &cc);
	return hlfs_stats_render(fs->stats, &cc, out);
}

/* Records why an operation on an entry of directory key failed, and logs it. */
static void note(struct hlfs_fs *fs, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct hlfs_fs *fs, const char *key, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++) /* one line, whatever the service said */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	hlfs_logf(fs->log, LOG_WARNING, "%s", line);
	size_t n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';

	pthread_mutex_lock(&fs->lock);
	struct hlfs_errnote **pp = &fs->errors, *found = NULL;
	size_t count = 0;
	for (; *pp; pp = &(*pp)->next, count++) {
		if (!strcmp((*pp)->key, key)) {
			found = *pp;
			*pp = found->next; /* move to the front below */
			break;
		}
	}
	char *msg = strdup(line);
	if (!found && msg) {
		found = calloc(1, sizeof(*found));
		if (found)
			found->key = strdup(key);
		if (found && !found->key) {
			free(found);
			found = NULL;
		}
	}
	if (found && msg) {
		free(found->msg);
		found->msg = msg;
		found->next = fs->errors;
		fs->errors = found;
		msg = NULL;
	} else if (found) { /* out of memory: keep the old message */
		found->next = fs->errors;
		fs->errors = found;
	}
	free(msg);
	/* Bound the list: drop the oldest notes. */
	if (count + 1 > MAX_NOTES) {
		struct hlfs_errnote *n = fs->errors;
		for (size_t i = 1; n && i < MAX_NOTES; i++)
			n = n->next;
		while (n && n->next) {
			struct hlfs_errnote *d = n->next;
			n->next = d->next;
			free(d->key);
			free(d->msg);
			free(d);
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

static enum hl_err note_text(struct hlfs_fs *fs, const char *key, struct hl_buf *out)
{
	enum hl_err e = HL_ERR_OK;
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_errnote *n = fs->errors; n; n = n->next) {
		if (!strcmp(n->key, key)) {
			e = hl_buf_appends(out, n->msg);
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return e;
}

static void dir_key(enum hlfs_dir d, const char *ds_id, char *out, size_t n)
{
	static const char *const suffix[] = {"", "", "/tags", "/imports", "/exports"};
	if (d == HLFS_D_ROOT || !ds_id)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%s%s", ds_id, suffix[d]);
}

static bool pending_has(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	bool found = false;
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_pending *p = fs->pending; p && !found; p = p->next)
		found = !strcmp(p->ds_id, ds_id) && !strcmp(p->key, key);
	pthread_mutex_unlock(&fs->lock);
	return found;
}

static int pending_add(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	int rc = 0;
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending *p = fs->pending;
	while (p && (strcmp(p->ds_id, ds_id) || strcmp(p->key, key)))
		p = p->next;
	if (p) {
		p->opens++;
	} else if ((p = calloc(1, sizeof(*p))) && (p->ds_id = strdup(ds_id)) &&
		   (p->key = strdup(key))) {
		p->opens = 1;
		p->next = fs->pending;
		fs->pending = p;
	} else {
		if (p) {
			free(p->ds_id);
			free(p);
		}
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static void pending_del(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_pending **pp = &fs->pending; *pp; pp = &(*pp)->next) {
		struct hlfs_pending *p = *pp;
		if (strcmp(p->ds_id, ds_id) || strcmp(p->key, key))
			continue;
		if (--p->opens == 0) {
			*pp = p->next;
			free(p->ds_id);
			free(p->key);
			free(p);
		}
		break;
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Registers (or updates) the newest open snapshot of path. */
static void open_add(struct hlfs_fs *fs, const char *path, const struct stat *st)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_openfile *o = fs->open;
	while (o && strcmp(o->path, path))
		o = o->next;
	if (!o && (o = calloc(1, sizeof(*o))) && !(o->path = strdup(path))) {
		free(o);
		o = NULL;
	} else if (o && !o->opens) {
		o->next = fs->open;
		fs->open = o;
	}
	if (o) {
		o->st = *st;
		o->opens++;
	}
	pthread_mutex_unlock(&fs->lock);
}

static void open_del(struct hlfs_fs *fs, const char *path)
{
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_openfile **pp = &fs->open; *pp; pp = &(*pp)->next) {
		struct hlfs_openfile *o = *pp;
		if (strcmp(o->path, path))
			continue;
		if (--o->opens == 0) {
			*pp = o->next;
			free(o->path);
			free(o);
		}
		break;
	}
	pthread_mutex_unlock(&fs->lock);
}

static bool open_find(struct hlfs_fs *fs, const char *path, struct stat *st)
{
	bool found = false;
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_openfile *o = fs->open; o && !found; o = o->next) {
		if (!strcmp(o->path, path)) {
			*st = o->st;
			found = true;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return found;
}

/* "<what>: <code>: <message>" from an api error; never holds a secret (the
 * api guarantees it of struct hl_error). */
static void reason(char *out, size_t n, const struct hl_error *e)
{
	const char *code = e->aws_code[0] ? e->aws_code : hl_strerror(e->code);
	if (e->message[0])
		snprintf(out, n, "%s: %s", code, e->message);
	else
		snprintf(out, n, "%s", code);
}

static void call_begin(struct hlfs_fs *fs, struct hl_error *err)
{
	hl_error_clear(err);
	hlfs_stats_inflight(fs->stats, 1);
}

static int call_end(struct hlfs_fs *fs, enum hl_err e, const struct hl_error *err, char *why,
		    size_t wl)
{
	hlfs_stats_inflight(fs->stats, -1);
	if (e == HL_ERR_OK)
		return 0;
	if (why && wl)
		reason(why, wl, err);
	int en = hlfs_errno(e);
	return -(en ? en : EIO);
}

/* ---- cached values ---- */

/* One listing of data stores, with the naming rule applied. Items may be
 * borrowed from an earlier snapshot (parent) after a local change. */
struct dslist {
	struct hlfs_cval *parent;
	struct hl_datastore_list *base;
	struct hl_datastore *own;
	struct hl_datastore **items;
	size_t n;
	struct hlfs_store_ref *refs;
	struct hlfs_names names;
	int64_t fetched_ms;
};

static void dslist_free(void *p)
{
	struct dslist *d = p;
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

/* Builds refs and names over d->items. */
static int dslist_index(struct dslist *d, bool show_deleted)
{
	d->refs = calloc(d->n ? d->n : 1, sizeof(*d->refs));
	if (!d->refs)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		d->refs[i] = (struct hlfs_store_ref){d->items[i]->id, d->items[i]->name,
						     d->items[i]->status};
	return hlfs_names_build(d->refs, d->n, show_deleted, &d->names);
}

struct joblist {
	struct hl_job_list *list;
	long newest; /* index of the newest job by SubmitTime, -1 when none */
	int64_t fetched_ms;
};

static void joblist_free(void *p)
{
	struct joblist *j = p;
	if (!j)
		return;
	hl_job_list_free(j->list);
	free(j);
}

/* A job's properties: owned (Describe) or borrowed from a listing. */
struct jobval {
	struct hl_job *own;
	struct hlfs_cval *owner;
	const struct hl_job *job;
};

static void jobval_free(void *p)
{
	struct jobval *j = p;
	if (!j)
		return;
	hl_job_free(j->own);
	hlfs_cval_unref(j->owner);
	free(j);
}

static void datastore_free_v(void *p)
{
	hl_datastore_free(p);
}

static void tags_free_v(void *p)
{
	hl_tag_list_free(p);
}

static size_t raw_size(const cJSON *raw)
{
	(void)raw;
	return 1024; /* a description's footprint, roughly: members and strings */
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
	struct fetch_ctx *f = arg;
	struct hl_list_datastores_input in = {.max_results = 500};
	struct hl_datastore_list *list = NULL;
	struct hl_error err;
	int64_t started = hl_now_ms();

	call_begin(f->fs, &err);
	enum hl_err e =
	    hl_list_datastores_all(f->fs->client, &in, MAX_LIST_ITEMS, f->deadline, &list, &err);
	int rc = call_end(f->fs, e, &err, why, wl);
	if (rc)
		return rc;
	struct dslist *d = calloc(1, sizeof(*d));
	if (!d) {
		hl_datastore_list_free(list);
		return -ENOMEM;
	}
	d->base = list;
	d->n = list->n;
	d->fetched_ms = started;
	d->items = calloc(d->n ? d->n : 1, sizeof(*d->items));
	if (!d->items)
		goto nomem;
	for (size_t i = 0; i < d->n; i++)
		d->items[i] = &list->items[i];
	if (dslist_index(d, f->fs->opts->show_deleted))
		goto nomem;
	*ret = hlfs_cval_new(d, sizeof(*d) + d->n * 1024, dslist_free);
	return *ret ? 0 : -ENOMEM;
nomem:
	dslist_free(d);
	return -ENOMEM;
}

static int fetch_datastore(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	struct fetch_ctx *f = arg;
	struct hl_datastore *d = NULL;
	struct hl_error err;
	call_begin(f->fs, &err);
	enum hl_err e = hl_describe_datastore(f->fs->client, f->ds_id, f->deadline, &d, &err);
	int rc = call_end(f->fs, e, &err, why, wl);
	if (rc)
		return rc;
	*ret = hlfs_cval_new(d, raw_size(d->raw), datastore_free_v);
	return *ret ? 0 : -ENOMEM;
}

static int fetch_joblist(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	struct fetch_ctx *f = arg;
	struct hl_list_jobs_input in = {.datastore_id = f->ds_id, .max_results = 500};
	struct hl_job_list *list = NULL;
	struct hl_error err;
	int64_t started = hl_now_ms();
	call_begin(f->fs, &err);
	enum hl_err e = hl_list_jobs_all(f->fs->client, f->exports ? HL_JOB_EXPORT : HL_JOB_IMPORT,
					 &in, MAX_LIST_ITEMS, f->deadline, &list, &err);
	int rc = call_end(f->fs, e, &err, why, wl);
	if (rc)
		return rc;
	struct joblist *j = calloc(1, sizeof(*j));
	if (!j) {
		hl_job_list_free(list);
		return -ENOMEM;
	}
	j->list = list;
	j->fetched_ms = started;
	j->newest = -1;
	for (size_t i = 0; i < list->n; i++) {
		const struct hl_job *x = &list->items[i];
		if (!x->id || !hlfs_job_id_ok(x->id, strlen(x->id)))
			continue;
		if (j->newest < 0) {
			j->newest = (long)i;
			continue;
		}
		const struct hl_job *b = &list->items[j->newest];
		double tx = x->has_submit_time ? x->submit_time : 0;
		double tb = b->has_submit_time ? b->submit_time : 0;
		if (tx > tb || (tx == tb && strcmp(x->id, b->id) > 0))
			j->newest = (long)i;
	}
	*ret = hlfs_cval_new(j, sizeof(*j) + list->n * 1024, joblist_free);
	return *ret ? 0 : -ENOMEM;
}

static int fetch_job(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	struct fetch_ctx *f = arg;
	struct hl_job *job = NULL;
	struct hl_error err;
	call_begin(f->fs, &err);
	enum hl_err e = hl_describe_job(f->fs->client, f->exports ? HL_JOB_EXPORT : HL_JOB_IMPORT,
					f->ds_id, f->job_id, f->deadline, &job, &err);
	int rc = call_end(f->fs, e, &err, why, wl);
	if (rc)
		return rc;
	struct jobval *v = calloc(1, sizeof(*v));
	if (!v) {
		hl_job_free(job);
		return -ENOMEM;
	}
	v->own = job;
	v->job = job;
	*ret = hlfs_cval_new(v, 1024, jobval_free);
	if (*ret)
		(*ret)->immutable = hl_job_status_terminal(job->status);
	return *ret ? 0 : -ENOMEM;
}

static int fetch_tags(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	struct fetch_ctx *f = arg;
	struct hl_tag_list *t = NULL;
	struct hl_error err;
	call_begin(f->fs, &err);
	enum hl_err e = hl_list_tags(f->fs->client, f->arn, f->deadline, &t, &err);
	int rc = call_end(f->fs, e, &err, why, wl);
	if (rc)
		return rc;
	*ret = hlfs_cval_new(t, 256 + t->n * 400, tags_free_v);
	return *ret ? 0 : -ENOMEM;
}

/* ---- resolution ---- */

struct node {
	struct hlfs_path p;
	struct hlfs_cval *lv;	       /* the dslist; NULL for / */
	const struct hl_datastore *ds; /* the store, from the listing */
};

static void node_fini(struct node *n)
{
	hlfs_cval_unref(n->lv);
	n->lv = NULL;
}

static int get_dslist(struct hlfs_fs *fs, int64_t deadline, struct hlfs_cval **ret, char *why,
		      size_t wl)
{
	struct fetch_ctx f = {.fs = fs, .deadline = deadline};
	return hlfs_cache_get(fs->cache, "L", fs->list_ttl_ms, deadline, fetch_dslist, &f, ret, why,
			      wl);
}

/* Parses path and finds its store. A failure to list lands in /.error. */
static int resolve(struct hlfs_fs *fs, const char *path, int64_t deadline, struct node *n)
{
	char why[600];
	memset(n, 0, sizeof(*n));
	int rc = hlfs_path_parse(path, &n->p);
	if (rc)
		return rc;
	if (n->p.node == HLFS_N_ROOT || n->p.node == HLFS_N_STATS ||
	    (n->p.node == HLFS_N_ERROR && n->p.dir == HLFS_D_ROOT))
		return 0;
	/* A name the last listing knows resolves through it, however old: a
	 * store's id never changes, and its contents have their own ttl. Only
	 * a name it does not know is worth a fresh listing (when stale). */
	struct hlfs_cval *lv = NULL;
	if (hlfs_cache_peek(fs->cache, "L", &lv, NULL) == 0) {
		struct dslist *d = lv->data;
		long i = hlfs_names_find(&d->names, d->refs, n->p.store);
		if (i >= 0) {
			n->lv = lv;
			n->ds = d->items[i];
			return 0;
		}
		hlfs_cval_unref(lv);
	}
	rc = get_dslist(fs, deadline, &n->lv, why, sizeof(why));
	if (rc) {
		note(fs, "/", "lookup %s: %s", n->p.store, why);
		return rc;
	}
	struct dslist *d = n->lv->data;
	long i = hlfs_names_find(&d->names, d->refs, n->p.store);
	if (i < 0) {
		node_fini(n);
		return -ENOENT;
	}
	n->ds = d->items[i];
	return 0;
}

/* The newest properties of n's store: its description when that is newer
 * than the listing. *hold keeps them alive; unref it when done. */
static const struct hl_datastore *props(struct hlfs_fs *fs, const struct node *n,
					struct hlfs_cval **hold)
{
	char key[96];
	struct hlfs_cval *dv = NULL;
	int64_t at = 0;
	*hold = NULL;
	snprintf(key, sizeof(key), "D/%s", n->ds->id);
	if (hlfs_cache_peek(fs->cache, key, &dv, &at) == 0) {
		const struct dslist *d = n->lv->data;
		if (at >= d->fetched_ms) {
			*hold = dv;
			return dv->data;
		}
		hlfs_cval_unref(dv);
	}
	return n->ds;
}

static void job_keys(const struct node *n, char *list_key, size_t ln, char *job_key, size_t jn)
{
	char k = n->p.exports ? 'e' : 'i';
	if (list_key)
		snprintf(list_key, ln, "J/%c/%s", k, n->ds->id);
	if (job_key)
		snprintf(job_key, jn, "j/%c/%s/%s", k, n->ds->id, n->p.leaf);
}

static int get_joblist(struct hlfs_fs *fs, const struct node *n, int64_t deadline,
		       struct hlfs_cval **ret)
{
	char key[96], why[600], dk[96];
	struct fetch_ctx f = {
	    .fs = fs, .deadline = deadline, .ds_id = n->ds->id, .exports = n->p.exports};
	job_keys(n, key, sizeof(key), NULL, 0);
	int rc = hlfs_cache_get(fs->cache, key, fs->list_ttl_ms, deadline, fetch_joblist, &f, ret,
				why, sizeof(why));
	if (rc) {
		dir_key(HLFS_D_STORE, n->ds->id, dk, sizeof(dk));
		note(fs, dk, "list %s of %s: %s", n->p.exports ? "exports" : "imports", n->p.store,
		     why);
	}
	return rc;
}

static const struct hl_job *joblist_find(const struct joblist *j, const char *id)
{
	for (size_t i = 0; i < j->list->n; i++)
		if (j->list->items[i].id && !strcmp(j->list->items[i].id, id))
			return &j->list->items[i];
	return NULL;
}

/* A job's newest properties for stat: its description when newer than the
 * listing, else the listing's item, else a description fetched now.
 * *hold keeps the result alive. */
static int job_props(struct hlfs_fs *fs, const struct node *n, int64_t deadline,
		     const struct hl_job **ret, struct hlfs_cval **hold)
{
	char jk[400], why[600], dk[96];
	struct hlfs_cval *lv = NULL, *jv = NULL;
	int64_t at = 0;
	int rc = get_joblist(fs, n, deadline, &lv);
	if (rc)
		return rc;
	const struct joblist *jl = lv->data;
	const struct hl_job *item = joblist_find(jl, n->p.leaf);
	job_keys(n, NULL, 0, jk, sizeof(jk));
	if (hlfs_cache_peek(fs->cache, jk, &jv, &at) == 0) {
		if (!item || jv->immutable || at >= jl->fetched_ms) {
			hlfs_cval_unref(lv);
			*hold = jv;
			*ret = ((const struct jobval *)jv->data)->job;
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
	struct fetch_ctx f = {.fs = fs,
			      .deadline = deadline,
			      .ds_id = n->ds->id,
			      .job_id = n->p.leaf,
			      .exports = n->p.exports};
	rc = hlfs_cache_get(fs->cache, jk, fs->attr_ttl_ms, deadline, fetch_job, &f, &jv, why,
			    sizeof(why));
	if (rc) {
		if (rc != -ENOENT) {
			dir_key(n->p.dir, n->ds->id, dk, sizeof(dk));
			note(fs, dk, "lookup %s: %s", n->p.leaf, why);
		}
		return rc;
	}
	*hold = jv;
	*ret = ((const struct jobval *)jv->data)->job;
	return 0;
}

static int get_tags(struct hlfs_fs *fs, const struct node *n, int64_t deadline,
		    struct hlfs_cval **ret)
{
	char key[96], why[600], dk[96];
	struct fetch_ctx f = {.fs = fs, .deadline = deadline, .arn = n->ds->arn};
	snprintf(key, sizeof(key), "T/%s", n->ds->id);
	int rc = hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_tags, &f, ret, why,
				sizeof(why));
	if (rc) {
		dir_key(HLFS_D_TAGS, n->ds->id, dk, sizeof(dk));
		note(fs, dk, "list tags of %s: %s", n->p.store, why);
	}
	return rc;
}

static const struct hl_tag *tags_find(const struct hl_tag_list *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].key && !strcmp(t->items[i].key, key))
			return &t->items[i];
	return NULL;
}

/* ---- stat ---- */

static void set_time(struct timespec *ts, double t)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		ts->tv_nsec = 0;
}

static void fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim = fs->mount_time;
	st->st_ctim = fs->mount_time;
	st->st_atim = fs->mount_time;
}

static void store_times(struct stat *st, const struct hl_datastore *d)
{
	if (d && d->has_created_at) {
		set_time(&st->st_mtim, d->created_at);
		st->st_ctim = st->st_mtim;
		st->st_atim = st->st_mtim;
	}
}

static int stat_node(struct hlfs_fs *fs, const struct node *n, int64_t deadline, struct stat *st)
{
	struct hl_buf b;
	struct hlfs_cval *hold = NULL;
	char dk[96];
	int rc = 0;
	hl_buf_init(&b, 0);
	switch (n->p.node) {
	case HLFS_N_ROOT:
		fill_stat(fs, st, S_IFDIR | 0700, 0);
		break;
	case HLFS_N_STATS:
		if (hlfs_fs_render_stats(fs, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		break;
	case HLFS_N_ERROR:
		dir_key(n->p.dir, n->ds ? n->ds->id : NULL, dk, sizeof(dk));
		if (note_text(fs, dk, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		break;
	case HLFS_N_STORE:
	case HLFS_N_TAGS:
	case HLFS_N_JOBS:
		fill_stat(fs, st, S_IFDIR | 0700, 0);
		store_times(st, props(fs, n, &hold));
		break;
	case HLFS_N_FIELD: {
		const struct hl_datastore *d = props(fs, n, &hold);
		if (hlfs_render_field(n->p.field, d, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		store_times(st, d);
		break;
	}
	case HLFS_N_TAG: {
		if (pending_has(fs, n->ds->id, n->p.leaf)) {
			fill_stat(fs, st, S_IFREG | 0600, 0);
			break;
		}
		rc = get_tags(fs, n, deadline, &hold);
		if (rc)
			break;
		const struct hl_tag *t = tags_find(hold->data, n->p.leaf);
		if (!t) {
			rc = -ENOENT;
			break;
		}
		fill_stat(fs, st, S_IFREG | 0600, (off_t)strlen(t->value ? t->value : "") + 1);
		break;
	}
	case HLFS_N_NEW:
		fill_stat(fs, st, S_IFREG | 0200, 0);
		break;
	case HLFS_N_LATEST: {
		rc = get_joblist(fs, n, deadline, &hold);
		if (rc)
			break;
		const struct joblist *jl = hold->data;
		if (jl->newest < 0) {
			rc = -ENOENT;
			break;
		}
		const struct hl_job *j = &jl->list->items[jl->newest];
		fill_stat(fs, st, S_IFLNK | 0777, (off_t)strlen(j->id));
		if (j->has_submit_time)
			set_time(&st->st_mtim, j->submit_time);
		break;
	}
	case HLFS_N_JOB: {
		const struct hl_job *j = NULL;
		rc = job_props(fs, n, deadline, &j, &hold);
		if (rc)
			break;
		if (hlfs_render_json(j->raw, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		if (j->has_submit_time) {
			set_time(&st->st_mtim, j->submit_time);
			st->st_ctim = st->st_mtim;
			st->st_atim = st->st_mtim;
		}
		break;
	}
	}
	hlfs_cval_unref(hold);
	hl_buf_free(&b);
	return rc;
}

int hlfs_do_getattr(struct hlfs_fs *fs, const char *path, struct stat *st, const struct hlfs_fh *fh)
{
	struct node n;
	int64_t deadline = hlfs_deadline(fs);
	/* An open file's size is that of its snapshot: fstat (and the kernel's
	 * size check before a read) gives what that open reads. */
	if (fh && fh->kind == HLFS_FH_SNAPSHOT) {
		*st = fh->st;
		return 0;
	}
	if (open_find(fs, path, st))
		return 0;
	int rc = resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	rc = stat_node(fs, &n, deadline, st);
	node_fini(&n);
	return rc;
}

/* ---- readdir ---- */

/* Stats child (a node below n described by its path) and passes it on. */
static int emit(struct hlfs_fs *fs, const struct node *parent, const struct hlfs_path *cp,
		const char *name, int64_t deadline, void *ctx,
		int (*fill)(void *, const char *, const struct stat *))
{
	struct node c = *parent;
	struct stat st;
	c.p = *cp;
	if (stat_node(fs, &c, deadline, &st) != 0)
		return 0; /* vanished or failing: leave it out of this listing */
	return fill(ctx, name, &st);
}

int hlfs_do_readdir(struct hlfs_fs *fs, const char *path, void *ctx,
		    int (*fill)(void *ctx, const char *name, const struct stat *st))
{
	struct node n;
	struct hlfs_cval *hold = NULL;
	int64_t deadline = hlfs_deadline(fs);
	int rc = resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	struct stat self;
	rc = stat_node(fs, &n, deadline, &self);
	if (rc)
		goto out;
	if (!S_ISDIR(self.st_mode)) {
		rc = -ENOTDIR;
		goto out;
	}
	fill(ctx, ".", NULL); /* no attributes: libfuse gives "." no inode of its own */
	fill(ctx, "..", NULL);
	struct hlfs_path cp = n.p;
	cp.dir = n.p.node == HLFS_N_ROOT    ? HLFS_D_ROOT
		 : n.p.node == HLFS_N_STORE ? HLFS_D_STORE
		 : n.p.node == HLFS_N_TAGS  ? HLFS_D_TAGS
		 : n.p.exports		    ? HLFS_D_EXPORTS
					    : HLFS_D_IMPORTS;
	cp.node = HLFS_N_ERROR;
	if (emit(fs, &n, &cp, ".error", deadline, ctx, fill))
		goto out;

	switch (n.p.node) {
	case HLFS_N_ROOT: {
		cp.node = HLFS_N_STATS;
		if (emit(fs, &n, &cp, ".stats", deadline, ctx, fill))
			goto out;
		char why[600];
		rc = get_dslist(fs, deadline, &hold, why, sizeof(why));
		if (rc) {
			note(fs, "/", "list data stores: %s", why);
			goto out;
		}
		const struct dslist *d = hold->data;
		for (size_t i = 0; i < d->n; i++) {
			if (!d->names.dir[i])
				continue;
			struct node c = {.lv = hold, .ds = d->items[i]};
			c.p.node = HLFS_N_STORE;
			c.p.dir = HLFS_D_ROOT;
			snprintf(c.p.store, sizeof(c.p.store), "%s", d->names.dir[i]);
			struct stat st;
			if (stat_node(fs, &c, deadline, &st) == 0 &&
			    fill(ctx, d->names.dir[i], &st))
				break;
		}
		break;
	}
	case HLFS_N_STORE: {
		cp.dir = HLFS_D_STORE;
		for (int f = 0; f < HLFS_F__COUNT; f++) {
			cp.node = HLFS_N_FIELD;
			cp.field = (enum hlfs_field)f;
			if (emit(fs, &n, &cp, hlfs_field_name(cp.field), deadline, ctx, fill))
				goto out;
		}
		static const char *const dirs[] = {"tags", "imports", "exports"};
		for (int i = 0; i < 3; i++) {
			cp.node = i == 0 ? HLFS_N_TAGS : HLFS_N_JOBS;
			cp.exports = i == 2;
			if (emit(fs, &n, &cp, dirs[i], deadline, ctx, fill))
				goto out;
		}
		break;
	}
	case HLFS_N_TAGS: {
		rc = get_tags(fs, &n, deadline, &hold);
		if (rc)
			goto out;
		const struct hl_tag_list *t = hold->data;
		for (size_t i = 0; i < t->n; i++) {
			char name[HLFS_NAME_MAX + 1];
			if (!t->items[i].key ||
			    hlfs_tag_encode(t->items[i].key, name, sizeof(name)) != 0)
				continue;
			struct stat st;
			fill_stat(fs, &st, S_IFREG | 0600,
				  (off_t)strlen(t->items[i].value ? t->items[i].value : "") + 1);
			if (fill(ctx, name, &st))
				break;
		}
		break;
	}
	case HLFS_N_JOBS: {
		cp.node = HLFS_N_NEW;
		if (emit(fs, &n, &cp, "new", deadline, ctx, fill))
			goto out;
		rc = get_joblist(fs, &n, deadline, &hold);
		if (rc)
			goto out;
		const struct joblist *jl = hold->data;
		if (jl->newest >= 0) {
			cp.node = HLFS_N_LATEST;
			if (emit(fs, &n, &cp, "latest", deadline, ctx, fill))
				goto out;
		}
		for (size_t i = 0; i < jl->list->n; i++) {
			const char *id = jl->list->items[i].id;
			if (!id || !hlfs_job_id_ok(id, strlen(id)))
				continue;
			cp.node = HLFS_N_JOB;
			snprintf(cp.leaf, sizeof(cp.leaf), "%s", id);
			if (emit(fs, &n, &cp, id, deadline, ctx, fill))
				goto out;
		}
		break;
	}
	default:
		rc = -ENOTDIR;
	}
out:
	hlfs_cval_unref(hold);
	node_fini(&n);
	return rc;
}

/* ---- open, read ---- */

static struct hlfs_fh *fh_new(enum hlfs_fh_kind kind)
{
	struct hlfs_fh *fh = calloc(1, sizeof(*fh));
	if (!fh)
		return NULL;
	fh->kind = kind;
	pthread_mutex_init(&fh->lock, NULL);
	hl_buf_init(&fh->data, kind == HLFS_FH_SNAPSHOT ? 0 : HLFS_INPUT_MAX + 1);
	return fh;
}

static void fh_free(struct hlfs_fh *fh)
{
	if (!fh)
		return;
	hl_buf_free(&fh->data);
	free(fh->ds_id);
	free(fh->ds_arn);
	free(fh->key);
	free(fh->path);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}

/* The content of a read-only file, fetched as its open requires. */
static int snapshot(struct hlfs_fs *fs, const struct node *n, int64_t deadline, struct hlfs_fh *fh)
{
	char key[400], why[600], dk[96];
	struct hlfs_cval *v = NULL;
	double mtime = -1;
	int rc = 0;
	switch (n->p.node) {
	case HLFS_N_STATS:
		if (hlfs_fs_render_stats(fs, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	case HLFS_N_ERROR:
		dir_key(n->p.dir, n->ds ? n->ds->id : NULL, dk, sizeof(dk));
		if (note_text(fs, dk, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	case HLFS_N_FIELD: {
		struct fetch_ctx f = {.fs = fs, .deadline = deadline, .ds_id = n->ds->id};
		snprintf(key, sizeof(key), "D/%s", n->ds->id);
		rc = hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_datastore, &f,
				    &v, why, sizeof(why));
		if (rc) {
			dir_key(HLFS_D_STORE, n->ds->id, dk, sizeof(dk));
			note(fs, dk, "read %s/%s: %s", n->p.store, hlfs_field_name(n->p.field),
			     why);
			if (rc == -ENOENT) /* gone: the listing that named it is out of date */
				hlfs_cache_invalidate(fs->cache, "L");
			break;
		}
		const struct hl_datastore *d = v->data;
		if (hlfs_render_field(n->p.field, d, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		if (d->has_created_at)
			mtime = d->created_at;
		break;
	}
	case HLFS_N_JOB: {
		struct hlfs_cval *lv = NULL;
		int64_t at = 0;
		job_keys(n, NULL, 0, key, sizeof(key));
		/* A terminal job in a listing is final: no need to ask again. */
		if (hlfs_cache_peek(fs->cache, key, &v, &at) != 0 || !v->immutable) {
			hlfs_cval_unref(v);
			v = NULL;
			if (get_joblist(fs, n, deadline, &lv) == 0) {
				const struct hl_job *item = joblist_find(lv->data, n->p.leaf);
				struct jobval *jv = NULL;
				if (item && hl_job_status_terminal(item->status) &&
				    (jv = calloc(1, sizeof(*jv)))) {
					jv->owner = hlfs_cval_ref(lv);
					jv->job = item;
					v = hlfs_cval_new(jv, 256, jobval_free);
					if (v) {
						v->immutable = true;
						hlfs_cache_put(fs->cache, key, v, hl_now_ms());
					}
				}
			}
			hlfs_cval_unref(lv);
		}
		if (!v) {
			struct fetch_ctx f = {.fs = fs,
					      .deadline = deadline,
					      .ds_id = n->ds->id,
					      .job_id = n->p.leaf,
					      .exports = n->p.exports};
			rc = hlfs_cache_get(fs->cache, key, fs->attr_ttl_ms, deadline, fetch_job,
					    &f, &v, why, sizeof(why));
			if (rc) {
				dir_key(n->p.dir, n->ds->id, dk, sizeof(dk));
				note(fs, dk, "read %s: %s", n->p.leaf, why);
				break;
			}
		}
		const struct hl_job *j = ((const struct jobval *)v->data)->job;
		fh->keep_cache = hl_job_status_terminal(j->status);
		if (hlfs_render_json(j->raw, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		if (j->has_submit_time)
			mtime = j->submit_time;
		break;
	}
	case HLFS_N_TAG: {
		rc = get_tags(fs, n, deadline, &v);
		if (rc)
			break;
		const struct hl_tag *t = tags_find(v->data, n->p.leaf);
		if (!t) {
			rc = -ENOENT;
			break;
		}
		if (hl_buf_appends(&fh->data, t->value ? t->value : "") != HL_ERR_OK ||
		    hl_buf_appendc(&fh->data, '\n') != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	}
	default:
		rc = -EISDIR;
	}
	hlfs_cval_unref(v);
	if (rc == 0) {
		fill_stat(fs, &fh->st, S_IFREG | (n->p.node == HLFS_N_TAG ? 0600 : 0400),
			  (off_t)fh->data.len);
		if (mtime >= 0) {
			set_time(&fh->st.st_mtim, mtime);
			fh->st.st_ctim = fh->st.st_mtim;
			fh->st.st_atim = fh->st.st_mtim;
		}
	}
	return rc;
}

int hlfs_do_open(struct hlfs_fs *fs, const char *path, int flags, bool create,
		 struct hlfs_fh **ret_fh)
{
	struct node n;
	struct hlfs_fh *fh = NULL;
	char dk[96];
	int64_t deadline = hlfs_deadline(fs);
	int acc = flags & O_ACCMODE;
	if (create) { /* only a tag file can be made; nothing else is worth a lookup */
		struct hlfs_path p;
		if (hlfs_path_parse(path, &p) != 0 || p.node != HLFS_N_TAG) {
			note(fs, "/", "create %s: %s", path,
			     fs->opts->ro ? "read-only mount" : "files cannot be created here");
			return fs->opts->ro ? -EROFS : -EPERM;
		}
	}
	int rc = resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	dir_key(n.p.dir, n.ds ? n.ds->id : NULL, dk, sizeof(dk));

	if (n.p.node == HLFS_N_NEW || (n.p.node == HLFS_N_TAG && acc != O_RDONLY)) {
		if (fs->opts->ro) {
			rc = -EROFS;
			goto out;
		}
		if (n.p.node == HLFS_N_NEW && acc != O_WRONLY) {
			rc = -EACCES; /* write-only, even for root */
			goto out;
		}
		fh = fh_new(n.p.node == HLFS_N_NEW ? HLFS_FH_CONTROL : HLFS_FH_TAG);
		if (!fh || !(fh->ds_id = strdup(n.ds->id)) || !(fh->ds_arn = strdup(n.ds->arn)) ||
		    !(fh->key = strdup(n.p.leaf))) {
			rc = -ENOMEM;
			goto out;
		}
		fh->exports = n.p.exports;
		fh->touched = create || (flags & O_TRUNC);
		if (fh->kind == HLFS_FH_TAG) {
			rc = pending_add(fs, fh->ds_id, fh->key);
			if (rc)
				goto out;
		}
		*ret_fh = fh;
		fh = NULL;
		goto out;
	}
	if (create) {
		rc = fs->opts->ro ? -EROFS : -EPERM;
		note(fs, dk, "create %s: %s", path,
		     fs->opts->ro ? "read-only mount" : "files cannot be created here");
		goto out;
	}
	if (acc != O_RDONLY) {
		rc = fs->opts->ro ? -EROFS : -EACCES; /* read-only file, even for root */
		goto out;
	}
	fh = fh_new(HLFS_FH_SNAPSHOT);
	if (!fh) {
		rc = -ENOMEM;
		goto out;
	}
	rc = snapshot(fs, &n, deadline, fh);
	if (rc)
		goto out;
	if (!(fh->path = strdup(path))) {
		rc = -ENOMEM;
		goto out;
	}
	open_add(fs, path, &fh->st);
	*ret_fh = fh;
	fh = NULL;
out:
	fh_free(fh);
	node_fini(&n);
	return rc;
}

int hlfs_do_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off)
{
	if (fh->kind == HLFS_FH_CONTROL)
		return -EBADF;
	pthread_mutex_lock(&fh->lock);
	size_t len = fh->data.len;
	size_t n = 0;
	if (off >= 0 && (size_t)off < len) {
		n = len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, fh->data.data + off, n);
	}
	pthread_mutex_unlock(&fh->lock);
	return (int)n;
}

/* ---- writes ---- */

static int start_job(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	char why[600], dk[96];
	struct hlfs_job_request r;
	struct hl_job *job = NULL;
	struct hl_error err;
	const char *kind = fh->exports ? "export" : "import";
	int64_t deadline = hlfs_deadline(fs);
	const struct hlfs_input_defaults def = {fs->opts->role_arn, fs->opts->import_output,
						fs->opts->kms_key};
	dir_key(fh->exports ? HLFS_D_EXPORTS : HLFS_D_IMPORTS, fh->ds_id, dk, sizeof(dk));
	int rc = hlfs_input_parse(fh->exports, fh->data.data ? fh->data.data : "", fh->data.len,
				  &def, fh->ds_id, &r, why, sizeof(why));
	hl_buf_reset(&fh->data);
	if (rc) {
		note(fs, dk, "start %s job: %s", kind, why);
		return rc;
	}
	enum hl_err e;
	call_begin(fs, &err);
	if (fh->exports) {
		struct hl_start_export_input in = {.datastore_id = fh->ds_id,
						   .job_name = r.job_name,
						   .output_s3_uri = r.output_uri,
						   .kms_key_id = r.kms_key,
						   .role_arn = r.role_arn,
						   .client_token = r.client_token};
		e = hl_start_export_job(fs->client, &in, deadline, &job, &err);
	} else {
		struct hl_start_import_input in = {.datastore_id = fh->ds_id,
						   .job_name = r.job_name,
						   .input_s3_uri = r.input_uri,
						   .output_s3_uri = r.output_uri,
						   .kms_key_id = r.kms_key,
						   .role_arn = r.role_arn,
						   .client_token = r.client_token,
						   .validation_level = r.validation_level};
		e = hl_start_import_job(fs->client, &in, deadline, &job, &err);
	}
	rc = call_end(fs, e, &err, why, sizeof(why));
	hlfs_job_request_free(&r);
	/* Whatever happened, a job may exist now: list again. */
	char key[96];
	snprintf(key, sizeof(key), "J/%c/%s", fh->exports ? 'e' : 'i', fh->ds_id);
	hlfs_cache_invalidate(fs->cache, key);
	if (rc) {
		note(fs, dk, "start %s job: %s", kind, why);
		return rc;
	}
	hlfs_logf(fs->log, LOG_INFO, "started %s job %s in %s", kind, job->id ? job->id : "?",
		  fh->ds_id);
	hl_job_free(job);
	return 0;
}

static int put_tag(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	char why[600], dk[96], key[96];
	struct hl_error err;
	size_t len = fh->data.len;
	if (len && fh->data.data[len - 1] == '\n')
		len--; /* one trailing newline is stripped */
	char *value = strndup(fh->data.data ? fh->data.data : "", len);
	hl_buf_reset(&fh->data);
	fh->sent = true;
	if (!value)
		return -ENOMEM;
	struct hl_tag t = {fh->key, value};
	dir_key(HLFS_D_TAGS, fh->ds_id, dk, sizeof(dk));
	call_begin(fs, &err);
	enum hl_err e = hl_tag_resource(fs->client, fh->ds_arn, &t, 1, hlfs_deadline(fs), &err);
	int rc = call_end(fs, e, &err, why, sizeof(why));
	free(value);
	snprintf(key, sizeof(key), "T/%s", fh->ds_id);
	hlfs_cache_invalidate(fs->cache, key);
	if (rc)
		note(fs, dk, "write tag %s: %s", fh->key, why);
	return rc;
}

int hlfs_do_write(struct hlfs_fs *fs, struct hlfs_fh *fh, const char *buf, size_t size)
{
	char dk[96];
	int rc = 0;
	if (fh->kind == HLFS_FH_SNAPSHOT)
		return -EBADF;
	pthread_mutex_lock(&fh->lock);
	size_t before = fh->data.len;
	if (before + size > HLFS_INPUT_MAX || hl_buf_append(&fh->data, buf, size) != HL_ERR_OK) {
		hl_buf_reset(&fh->data);
		dir_key(fh->kind == HLFS_FH_TAG ? HLFS_D_TAGS
			: fh->exports		? HLFS_D_EXPORTS
						: HLFS_D_IMPORTS,
			fh->ds_id, dk, sizeof(dk));
		note(fs, dk, "write %s: input is larger than 64 KiB",
		     fh->kind == HLFS_FH_TAG ? fh->key : "new");
		rc = -EINVAL;
		goto out;
	}
	if (fh->kind == HLFS_FH_TAG) {
		if (fh->data.len && fh->data.data[fh->data.len - 1] == '\n')
			rc = put_tag(fs, fh);
		goto out;
	}
	const char *why = NULL;
	switch (hlfs_input_check(fh->data.data, fh->data.len, before, &why)) {
	case HLFS_IN_INCOMPLETE:
		break;
	case HLFS_IN_COMPLETE:
		rc = start_job(fs, fh);
		break;
	case HLFS_IN_INVALID:
		hl_buf_reset(&fh->data);
		dir_key(fh->exports ? HLFS_D_EXPORTS : HLFS_D_IMPORTS, fh->ds_id, dk, sizeof(dk));
		note(fs, dk, "start %s job: %s", fh->exports ? "export" : "import", why);
		rc = -EINVAL;
		break;
	}
out:
	pthread_mutex_unlock(&fh->lock);
	return rc ? rc : (int)size;
}

int hlfs_do_flush(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	int rc = 0;
	if (fh->kind == HLFS_FH_SNAPSHOT)
		return 0;
	pthread_mutex_lock(&fh->lock);
	if (fh->data.len > 0) /* an empty flush does nothing */
		rc = fh->kind == HLFS_FH_TAG ? put_tag(fs, fh) : start_job(fs, fh);
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

void hlfs_do_release(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	if (!fh)
		return;
	if (fh->kind != HLFS_FH_SNAPSHOT) {
		pthread_mutex_lock(&fh->lock);
		if (fh->data.len > 0 || (fh->kind == HLFS_FH_TAG && fh->touched && !fh->sent))
			(void)(fh->kind == HLFS_FH_TAG ? put_tag(fs, fh) : start_job(fs, fh));
		pthread_mutex_unlock(&fh->lock);
		if (fh->kind == HLFS_FH_TAG)
			pending_del(fs, fh->ds_id, fh->key);
	} else if (fh->path) {
		open_del(fs, fh->path);
	}
	fh_free(fh);
}

int hlfs_do_truncate(struct hlfs_fs *fs, const char *path, struct hlfs_fh *fh)
{
	struct node n;
	if (fh && fh->kind != HLFS_FH_SNAPSHOT) {
		pthread_mutex_lock(&fh->lock);
		fh->touched = true;
		hl_buf_reset(&fh->data);
		pthread_mutex_unlock(&fh->lock);
		return 0;
	}
	int rc = resolve(fs, path, hlfs_deadline(fs), &n);
	if (rc)
		return rc;
	if (fs->opts->ro)
		rc = -EROFS;
	else if (n.p.node == HLFS_N_NEW || n.p.node == HLFS_N_TAG)
		rc = 0; /* `>` truncates before writing; the write is what counts */
	else if (n.p.node == HLFS_N_ROOT || n.p.node == HLFS_N_STORE || n.p.node == HLFS_N_TAGS ||
		 n.p.node == HLFS_N_JOBS)
		rc = -EISDIR;
	else
		rc = -EACCES;
	node_fini(&n);
	return rc;
}

int hlfs_do_readlink(struct hlfs_fs *fs, const char *path, char *buf, size_t size)
{
	struct node n;
	struct hlfs_cval *hold = NULL;
	int64_t deadline = hlfs_deadline(fs);
	int rc = resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	if (n.p.node != HLFS_N_LATEST) {
		rc = -EINVAL;
		goto out;
	}
	rc = get_joblist(fs, &n, deadline, &hold);
	if (rc)
		goto out;
	const struct joblist *jl = hold->data;
	if (jl->newest < 0) {
		rc = -ENOENT;
		goto out;
	}
	snprintf(buf, size, "%s", jl->list->items[jl->newest].id);
out:
	hlfs_cval_unref(hold);
	node_fini(&n);
	return rc;
}

/* ---- directories and removals ---- */

/* A deep copy of d, or NULL. */
static struct hl_datastore *datastore_dup(const struct hl_datastore *d)
{
	struct hl_datastore *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = *d;
	c->id = d->id ? strdup(d->id) : NULL;
	c->arn = d->arn ? strdup(d->arn) : NULL;
	c->name = d->name ? strdup(d->name) : NULL;
	c->status = d->status ? strdup(d->status) : NULL;
	c->type_version = d->type_version ? strdup(d->type_version) : NULL;
	c->endpoint = d->endpoint ? strdup(d->endpoint) : NULL;
	c->raw = d->raw ? cJSON_Duplicate(d->raw, true) : NULL;
	if ((d->id && !c->id) || (d->arn && !c->arn) || (d->name && !c->name) ||
	    (d->status && !c->status) || (d->type_version && !c->type_version) ||
	    (d->endpoint && !c->endpoint) || (d->raw && !c->raw)) {
		hl_datastore_free(c);
		return NULL;
	}
	return c;
}

/* Replaces the cached listing by one where item (owned, moved in) is added,
 * or replaces the store with item's id. Nothing when no listing is cached. */
static void listing_patch(struct hlfs_fs *fs, struct hl_datastore *item)
{
	struct hlfs_cval *old = NULL, *nv = NULL;
	int64_t at = 0;
	struct dslist *d = NULL;
	if (hlfs_cache_peek(fs->cache, "L", &old, &at) != 0)
		goto out;
	const struct dslist *o = old->data;
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
	d->own = item;
	item = NULL;
	d->parent = hlfs_cval_ref(old);
	d->fetched_ms = o->fetched_ms;
	if (dslist_index(d, fs->opts->show_deleted))
		goto out;
	nv = hlfs_cval_new(d, sizeof(*d) + d->n * 1024, dslist_free);
	d = NULL;
	if (nv)
		hlfs_cache_put(fs->cache, "L", nv, at);
out:
	dslist_free(d);
	hl_datastore_free(item);
	hlfs_cval_unref(nv);
	hlfs_cval_unref(old);
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

int hlfs_do_mkdir(struct hlfs_fs *fs, const char *path)
{
	struct hlfs_path p;
	struct hl_error err;
	struct hl_datastore *d = NULL;
	char why[600];
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_path_parse(path, &p);
	if (rc)
		return rc == -ENOENT ? -EPERM : rc;
	if (p.node != HLFS_N_STORE) {
		if (p.node == HLFS_N_ROOT || p.node == HLFS_N_STATS || p.node == HLFS_N_ERROR)
			return -EEXIST;
		return fs->opts->ro ? -EROFS : -EPERM;
	}
	if (fs->opts->ro) {
		note(fs, "/", "mkdir %s: read-only mount", p.store);
		return -EROFS;
	}
	hl_error_clear(&err);
	if (hl_validate_datastore_name(p.store, &err) != HL_ERR_OK) {
		note(fs, "/", "mkdir %s: invalid data store name: %s", p.store, err.message);
		return -EINVAL;
	}
	/* Asked afresh, filtered by the name: the cached listing may predate a
	 * store made elsewhere, and the service itself allows duplicates. */
	struct hl_list_datastores_input lin = {.name = p.store, .max_results = 500};
	struct hl_datastore_list *same = NULL;
	call_begin(fs, &err);
	enum hl_err le =
	    hl_list_datastores_all(fs->client, &lin, MAX_LIST_ITEMS, deadline, &same, &err);
	rc = call_end(fs, le, &err, why, sizeof(why));
	if (rc) {
		note(fs, "/", "mkdir %s: %s", p.store, why);
		return rc;
	}
	for (size_t i = 0; i < same->n; i++) {
		const struct hl_datastore *x = &same->items[i];
		if (x->name && !strcmp(x->name, p.store) &&
		    (!x->status || strcmp(x->status, "DELETED"))) {
			note(fs, "/", "mkdir %s: a data store with that name exists (%s)", p.store,
			     x->id ? x->id : "?");
			hl_datastore_list_free(same);
			return -EEXIST;
		}
	}
	hl_datastore_list_free(same);
	struct hl_create_datastore_input in = {
	    .name = p.store,
	    .kms_key_id = fs->opts->kms_key,
	    .preload_synthea = fs->opts->preload != NULL,
	};
	call_begin(fs, &err);
	enum hl_err e = hl_create_datastore(fs->client, &in, deadline, &d, &err);
	rc = call_end(fs, e, &err, why, sizeof(why));
	if (rc) {
		note(fs, "/", "mkdir %s: %s", p.store, why);
		hlfs_cache_invalidate(fs->cache, "L"); /* it may exist after all */
		return rc;
	}
	hlfs_logf(fs->log, LOG_INFO, "created data store %s (%s)", p.store, d->id ? d->id : "?");
	/* Visible at once as CREATING: the answer carries id, arn, status and
	 * endpoint; the rest we know. The listing will say the same soon. */
	if (!d->id || !d->arn) {
		hlfs_cache_invalidate(fs->cache, "L");
		hl_datastore_free(d);
		return 0;
	}
	if (!d->name)
		d->name = strdup(p.store);
	if (!d->type_version)
		d->type_version = strdup("R4");
	if (!d->status)
		d->status = strdup("CREATING");
	if (!d->has_created_at) {
		d->created_at = wall_now();
		d->has_created_at = true;
	}
	if (!d->name || !d->type_version || !d->status) {
		hlfs_cache_invalidate(fs->cache, "L");
		hl_datastore_free(d);
		return 0;
	}
	listing_patch(fs, d);
	return 0;
}

int hlfs_do_rmdir(struct hlfs_fs *fs, const char *path)
{
	struct node n;
	struct hl_error err;
	struct hl_datastore *d = NULL;
	char why[600], key[96];
	int64_t deadline = hlfs_deadline(fs);
	int rc = resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	if (n.p.node != HLFS_N_STORE) {
		bool dir =
		    n.p.node == HLFS_N_ROOT || n.p.node == HLFS_N_TAGS || n.p.node == HLFS_N_JOBS;
		rc = !dir		       ? -ENOTDIR
		     : fs->opts->ro	       ? -EROFS
		     : n.p.node == HLFS_N_ROOT ? -EBUSY
					       : -EPERM;
		goto out;
	}
	if (fs->opts->ro) {
		note(fs, "/", "rmdir %s: read-only mount", n.p.store);
		rc = -EROFS;
		goto out;
	}
	if (!fs->opts->allow_delete) {
		note(fs, "/", "rmdir %s: deleting a data store needs the allow_delete option",
		     n.p.store);
		rc = -EPERM;
		goto out;
	}
	call_begin(fs, &err);
	enum hl_err e = hl_delete_datastore(fs->client, n.ds->id, deadline, &d, &err);
	rc = call_end(fs, e, &err, why, sizeof(why));
	snprintf(key, sizeof(key), "D/%s", n.ds->id);
	hlfs_cache_invalidate(fs->cache, key);
	if (rc) {
		note(fs, "/", "rmdir %s: %s", n.p.store, why);
		goto out;
	}
	hlfs_logf(fs->log, LOG_INFO, "deleting data store %s (%s)", n.p.store, n.ds->id);
	/* It stays listed, DELETING, until the service says DELETED. */
	struct hl_datastore *c = datastore_dup(n.ds);
	const char *st = d && d->status ? d->status : "DELETING";
	if (c) {
		char *s = strdup(st);
		if (s) {
			free(c->status);
			c->status = s;
			if (c->raw && cJSON_GetObjectItemCaseSensitive(c->raw, "DatastoreStatus"))
				cJSON_ReplaceItemInObjectCaseSensitive(c->raw, "DatastoreStatus",
								       cJSON_CreateString(st));
			listing_patch(fs, c);
		} else {
			hl_datastore_free(c);
			hlfs_cache_invalidate(fs->cache, "L");
		}
	} else {
		hlfs_cache_invalidate(fs->cache, "L");
	}
	hl_datastore_free(d);
out:
	node_fini(&n);
	return rc;
}

int hlfs_do_unlink(struct hlfs_fs *fs, const char *path)
{
	struct node n;
	struct hl_error err;
	char why[600], dk[96], key[96];
	int rc = resolve(fs, path, hlfs_deadline(fs), &n);
	if (rc)
		return rc;
	dir_key(n.p.dir, n.ds ? n.ds->id : NULL, dk, sizeof(dk));
	if (n.p.node != HLFS_N_TAG) {
		bool dir = n.p.node == HLFS_N_ROOT || n.p.node == HLFS_N_STORE ||
			   n.p.node == HLFS_N_TAGS || n.p.node == HLFS_N_JOBS;
		rc = dir ? -EISDIR : fs->opts->ro ? -EROFS : -EPERM;
		if (!dir)
			note(fs, dk, "unlink %s: %s", path,
			     fs->opts->ro ? "read-only mount" : "only tags can be removed");
		goto out;
	}
	if (fs->opts->ro || !fs->opts->allow_delete) {
		rc = fs->opts->ro ? -EROFS : -EPERM;
		note(fs, dk, "unlink tag %s: %s", n.p.leaf,
		     fs->opts->ro ? "read-only mount"
				  : "removing a tag needs the allow_delete option");
		goto out;
	}
	const char *keys[1] = {n.p.leaf};
	call_begin(fs, &err);
	enum hl_err e = hl_untag_resource(fs->client, n.ds->arn, keys, 1, hlfs_deadline(fs), &err);
	rc = call_end(fs, e, &err, why, sizeof(why));
	snprintf(key, sizeof(key), "T/%s", n.ds->id);
	hlfs_cache_invalidate(fs->cache, key);
	if (rc)
		note(fs, dk, "unlink tag %s: %s", n.p.leaf, why);
out:
	node_fini(&n);
	return rc;
}

int hlfs_do_refuse(struct hlfs_fs *fs, const char *path, const char *op)
{
	struct node n;
	char dk[96];
	int rc = resolve(fs, path, hlfs_deadline(fs), &n);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		dir_key(n.p.dir, n.ds ? n.ds->id : NULL, dk, sizeof(dk));
		node_fini(&n);
	} else {
		snprintf(dk, sizeof(dk), "/");
	}
	note(fs, dk, "%s %s: %s", op, path,
	     fs->opts->ro ? "read-only mount" : "not an operation this filesystem offers");
	return fs->opts->ro ? -EROFS : -EPERM;
}
