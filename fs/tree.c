/* The mount's state and lifecycle, path resolution, stat, readdir and
 * readlink. The rest of tree.h lives in the modules tree_i.h lists. */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "ksize.h"
#include "names.h"
#include "render.h"
#include "tree_i.h"

/* Paths whose kernel size is remembered: the files being re-read now. */
#define KSIZE_SLOTS 1024

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
	/* The kernel keeps a size for attr_ttl from when the reply reaches it:
	 * allow the reply a second on its way. */
	fs->ksize = hlfs_ksize_new(KSIZE_SLOTS, fs->attr_ttl_ms + 1000);
	if (!fs->cache || !fs->ksize) {
		hlfs_cache_free(fs->cache);
		hlfs_ksize_free(fs->ksize);
		return -ENOMEM;
	}
	hlfs_cache_on_evict(fs->cache, hlfs_forget_evicted, fs);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits are against hl_now_ms() */
	pthread_cond_init(&fs->settled, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void hlfs_fs_fini(struct hlfs_fs *fs)
{
	hlfs_forget_stop(fs);
	/* Files still open when the loop stopped (a signal) hold cache values. */
	hlfs_open_registries_free(fs);
	hlfs_cache_free(fs->cache);
	fs->cache = NULL;
	hlfs_ksize_free(fs->ksize);
	fs->ksize = NULL;
	hlfs_notes_free(fs);
	pthread_cond_destroy(&fs->settled);
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

void hlfs_call_begin(struct hlfs_fs *fs, struct hl_error *err)
{
	hl_error_clear(err);
	hlfs_stats_inflight(fs->stats, 1);
}

int hlfs_call_end(struct hlfs_fs *fs, enum hl_err e, const struct hl_error *err, char *why,
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

/* ---- resolution ---- */

void hlfs_node_fini(struct hlfs_treenode *n)
{
	hlfs_cval_unref(n->lv);
	n->lv = NULL;
}

/* Finds n's store in listing lv; on success n holds lv (moved in) and the
 * store is marked as in use by the kernel. */
static bool take_store(struct hlfs_fs *fs, struct hlfs_treenode *n, struct hlfs_cval *lv)
{
	struct hlfs_dslist *d = lv->data;
	long i = hlfs_names_find(&d->names, d->refs, n->p.store);
	if (i < 0)
		return false;
	n->lv = lv;
	n->ds = d->items[i];
	hlfs_store_touch(fs, n->ds->id);
	return true;
}

/* Parses path and finds its store. A failure to list lands in /.error. */
int hlfs_resolve(struct hlfs_fs *fs, const char *path, int64_t deadline, struct hlfs_treenode *n)
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
	 * a name it does not know is worth a fresh listing (when stale). The
	 * store directory's own lookup does not list either: it would double
	 * the calls of a read with list_ttl=0 and make every path walk wait on
	 * an unwell service, for a store deleted elsewhere that `ls` and its
	 * status (DELETED) already show. */
	struct hlfs_cval *lv = NULL;
	if (hlfs_cache_peek(fs->cache, "L", &lv, NULL) == 0) {
		if (take_store(fs, n, lv))
			return 0;
		hlfs_cval_unref(lv);
	}
	rc = hlfs_get_dslist(fs, deadline, &lv, why, sizeof(why));
	if (rc) {
		hlfs_note(fs, "/", "lookup %s: %s", n->p.store, why);
		return rc;
	}
	if (take_store(fs, n, lv))
		return 0;
	hlfs_cval_unref(lv);
	return -ENOENT;
}

/* ---- what the kernel holds ---- */

void hlfs_kernel_saw(struct hlfs_fs *fs, const char *path, const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		hlfs_ksize_note(fs->ksize, path, st->st_size, hl_now_ms());
}

bool hlfs_kernel_size_is(struct hlfs_fs *fs, const char *path, off_t size)
{
	return hlfs_ksize_only(fs->ksize, path, size, hl_now_ms());
}

/* ---- stat ---- */

static void set_time(struct timespec *ts, double t)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		ts->tv_nsec = 0;
}

void hlfs_fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size)
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

void hlfs_stat_times(struct stat *st, double t)
{
	set_time(&st->st_mtim, t);
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static void store_times(struct stat *st, const struct hl_datastore *d)
{
	if (d && d->has_created_at)
		hlfs_stat_times(st, d->created_at);
}

/* The newest job of n's jobs directory (ENOENT when there is none);
 * *hold keeps it alive, also on failure: unref it when done. */
static int latest_job(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      const struct hlfs_jobdoc **ret, struct hlfs_cval **hold)
{
	int rc = hlfs_get_joblist(fs, n, deadline, hold);
	if (rc)
		return rc;
	const struct hlfs_joblist *jl = (*hold)->data;
	if (jl->newest < 0)
		return -ENOENT;
	*ret = &jl->items[jl->newest];
	return 0;
}

static int stat_node(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		     struct stat *st)
{
	struct hl_buf b;
	struct hlfs_cval *hold = NULL;
	char dk[96];
	int rc = 0;
	hl_buf_init(&b, 0);
	switch (n->p.node) {
	case HLFS_N_ROOT:
		hlfs_fill_stat(fs, st, S_IFDIR | 0700, 0);
		break;
	case HLFS_N_STATS:
		if (hlfs_fs_render_stats(fs, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		hlfs_fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		break;
	case HLFS_N_ERROR:
		hlfs_node_dir_key(n, dk, sizeof(dk));
		if (hlfs_note_text(fs, dk, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		hlfs_fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		break;
	case HLFS_N_STORE:
	case HLFS_N_TAGS:
	case HLFS_N_JOBS:
		hlfs_fill_stat(fs, st, S_IFDIR | 0700, 0);
		store_times(st, hlfs_props(fs, n, &hold));
		break;
	case HLFS_N_FIELD: {
		const struct hl_datastore *d = hlfs_props(fs, n, &hold);
		if (hlfs_render_field(n->p.field, d, &b) != HL_ERR_OK)
			rc = -ENOMEM;
		hlfs_fill_stat(fs, st, S_IFREG | 0400, (off_t)b.len);
		store_times(st, d);
		break;
	}
	case HLFS_N_TAG: {
		if (hlfs_pending_has(fs, n->ds->id, n->p.leaf)) {
			hlfs_fill_stat(fs, st, S_IFREG | 0600, 0);
			break;
		}
		rc = hlfs_get_tags(fs, n, deadline, &hold);
		if (rc)
			break;
		const struct hl_tag *t = hlfs_tags_find(hold->data, n->p.leaf);
		if (!t) {
			rc = -ENOENT;
			break;
		}
		hlfs_fill_stat(fs, st, S_IFREG | 0600, (off_t)strlen(t->value ? t->value : "") + 1);
		break;
	}
	case HLFS_N_NEW:
		hlfs_fill_stat(fs, st, S_IFREG | 0200, 0);
		break;
	case HLFS_N_LATEST: {
		const struct hlfs_jobdoc *j = NULL;
		rc = latest_job(fs, n, deadline, &j, &hold);
		if (rc)
			break;
		hlfs_fill_stat(fs, st, S_IFLNK | 0777, (off_t)strlen(j->id));
		if (j->has_submit_time)
			set_time(&st->st_mtim, j->submit_time);
		break;
	}
	case HLFS_N_JOB: {
		const struct hlfs_jobdoc *j = NULL;
		rc = hlfs_job_props(fs, n, deadline, &j, &hold);
		if (rc)
			break;
		hlfs_fill_stat(fs, st, S_IFREG | 0400, (off_t)j->len);
		if (j->has_submit_time)
			hlfs_stat_times(st, j->submit_time);
		break;
	}
	}
	hlfs_cval_unref(hold);
	hl_buf_free(&b);
	return rc;
}

int hlfs_do_getattr(struct hlfs_fs *fs, const char *path, struct stat *st, const struct hlfs_fh *fh)
{
	struct hlfs_treenode n;
	int64_t deadline = hlfs_deadline(fs);
	/* An open file's size is that of its snapshot: fstat (and the kernel's
	 * size check before a read) gives what that open reads. */
	if (fh && fh->kind == HLFS_FH_SNAPSHOT) {
		*st = fh->st;
		return 0;
	}
	if (hlfs_open_find(fs, path, st))
		return 0;
	int rc = hlfs_resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	rc = stat_node(fs, &n, deadline, st);
	hlfs_node_fini(&n);
	return rc;
}

/* ---- readdir ---- */

/* Stats child (a node below n described by its path) and passes it on. */
static int emit(struct hlfs_fs *fs, const struct hlfs_treenode *parent, const struct hlfs_path *cp,
		const char *name, int64_t deadline, void *ctx,
		int (*fill)(void *, const char *, const struct stat *))
{
	struct hlfs_treenode c = *parent;
	struct stat st;
	c.p = *cp;
	if (stat_node(fs, &c, deadline, &st) != 0)
		return 0; /* vanished or failing: leave it out of this listing */
	return fill(ctx, name, &st);
}

int hlfs_do_readdir(struct hlfs_fs *fs, const char *path, void *ctx,
		    int (*fill)(void *ctx, const char *name, const struct stat *st))
{
	struct hlfs_treenode n;
	struct hlfs_cval *hold = NULL;
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n);
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
		rc = hlfs_get_dslist(fs, deadline, &hold, why, sizeof(why));
		if (rc) {
			hlfs_note(fs, "/", "list data stores: %s", why);
			goto out;
		}
		const struct hlfs_dslist *d = hold->data;
		for (size_t i = 0; i < d->n; i++) {
			if (!d->names.dir[i])
				continue;
			struct hlfs_treenode c = {.lv = hold, .ds = d->items[i]};
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
		rc = hlfs_get_tags(fs, &n, deadline, &hold);
		if (rc)
			goto out;
		const struct hl_tag_list *t = hold->data;
		for (size_t i = 0; i < t->n; i++) {
			char name[HLFS_NAME_MAX + 1];
			if (!t->items[i].key ||
			    hlfs_tag_encode(t->items[i].key, name, sizeof(name)) != 0)
				continue;
			struct stat st;
			hlfs_fill_stat(fs, &st, S_IFREG | 0600,
				       (off_t)strlen(t->items[i].value ? t->items[i].value : "") +
					   1);
			if (fill(ctx, name, &st))
				break;
		}
		break;
	}
	case HLFS_N_JOBS: {
		cp.node = HLFS_N_NEW;
		if (emit(fs, &n, &cp, "new", deadline, ctx, fill))
			goto out;
		rc = hlfs_get_joblist(fs, &n, deadline, &hold);
		if (rc)
			goto out;
		const struct hlfs_joblist *jl = hold->data;
		if (jl->newest >= 0) {
			cp.node = HLFS_N_LATEST;
			if (emit(fs, &n, &cp, "latest", deadline, ctx, fill))
				goto out;
		}
		for (size_t i = 0; i < jl->n; i++) {
			const char *id = jl->items[i].id; /* a valid job id (jobdoc.h) */
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
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_readlink(struct hlfs_fs *fs, const char *path, char *buf, size_t size)
{
	struct hlfs_treenode n;
	struct hlfs_cval *hold = NULL;
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	if (n.p.node != HLFS_N_LATEST) {
		rc = -EINVAL;
		goto out;
	}
	const struct hlfs_jobdoc *j = NULL;
	rc = latest_job(fs, &n, deadline, &j, &hold);
	if (rc)
		goto out;
	snprintf(buf, size, "%s", j->id);
out:
	hlfs_cval_unref(hold);
	hlfs_node_fini(&n);
	return rc;
}
