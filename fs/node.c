/* A node's content: one switch over the node kinds, for stat and for read. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errfile.h"
#include "fetch.h"
#include "fhirtree.h"
#include "joboutput.h"
#include "mount.h"
#include "pending.h"
#include "render.h"

enum hl_err hlfs_fs_render_stats(struct hlfs_fs *fs, struct hl_buf *out)
{
	struct hlfs_cache_counters cc;
	hlfs_cache_counters(fs->cache, &cc);
	return hlfs_stats_render(fs->stats, &cc, out);
}

static void store_times(struct stat *st, const struct hl_datastore *d)
{
	if (d && d->has_created_at)
		hlfs_stat_times(st, d->created_at);
}

/* A file made of c->data (rendered here) or of bytes held in c->hold. */
static void file(struct hlfs_fs *fs, struct hlfs_content *c, mode_t mode, double mtime)
{
	if (!c->hold) {
		c->bytes = c->data.data ? c->data.data : "";
		c->len = c->data.len;
	}
	hlfs_fill_stat(fs, &c->st, S_IFREG | mode, (off_t)c->len);
	if (mtime >= 0)
		hlfs_stat_times(&c->st, mtime);
}

static int nomem(struct hlfs_res *r)
{
	return hlfs_res_errno(r, -ENOMEM);
}

/* A field: for stat the newest properties known, for a read its
 * description (Describe when stale). */
static int field(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		 enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	char why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	const struct hl_datastore *d;
	if (want == HLFS_FOR_STAT) {
		d = hlfs_props(fs, n, &c->hold);
	} else {
		int rc = hlfs_get_datastore(fs, n, deadline, &c->hold, why);
		if (rc) {
			if (rc == -ENOENT) /* gone: the listing that named it is out of date */
				hlfs_drop_listing(fs);
			hlfs_dir_key(HLFS_D_STORE, n->ds->id, dk);
			return hlfs_res_fail(res, rc, dk, "read %s/%s: %s", n->p.store,
					     hlfs_field_name(n->p.field), why);
		}
		d = c->hold->data;
	}
	/* The rendering is ours: the held value is no longer needed for it. */
	int rc = hlfs_render_field(n->p.field, d, &c->data) == HL_ERR_OK ? 0 : nomem(res);
	double mtime = d && d->has_created_at ? d->created_at : -1;
	hlfs_cval_unref(c->hold);
	c->hold = NULL;
	if (rc == 0)
		file(fs, c, 0400, mtime);
	return rc;
}

static int tag(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
	       enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	bool pending;
	if (want == HLFS_FOR_STAT) {
		/* Being created and not yet set: empty. */
		if (hlfs_pending_has(fs->pending, n->ds->id, n->p.leaf)) {
			file(fs, c, 0600, -1);
			return 0;
		}
		pending = false;
	} else {
		/* Being created: once closed its value comes at release, just
		 * after the close returned; while a writer still has a new one
		 * open it is empty, as stat says. */
		pending = hlfs_pending_settle(fs->pending, n->ds->id, n->p.leaf, deadline);
	}
	struct hlfs_cval *v = NULL;
	int rc = hlfs_get_tags(fs, n, deadline, &v, res);
	if (rc)
		return rc;
	const struct hl_tag *t = hlfs_tags_find(v->data, n->p.leaf);
	if (!t)
		rc = pending ? 0 : hlfs_res_errno(res, -ENOENT);
	else if (hl_buf_appends(&c->data, t->value ? t->value : "") != HL_ERR_OK ||
		 hl_buf_appendc(&c->data, '\n') != HL_ERR_OK)
		rc = nomem(res);
	hlfs_cval_unref(v);
	if (rc == 0)
		file(fs, c, 0600, -1);
	return rc;
}

/* A job file: the cached job's own bytes, no copy and no rendering. */
static int job(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
	       enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	const struct hlfs_jobdoc *j = NULL;
	int rc;
	if (want == HLFS_FOR_STAT) {
		rc = hlfs_job_props(fs, n, deadline, &j, &c->hold, res);
	} else {
		rc = hlfs_job_for_read(fs, n, deadline, &c->hold, res);
		if (rc == 0) {
			struct hlfs_jobdoc *own = c->hold->data;
			if (own->terminal)
				c->served = &own->served; /* lives as long as c->hold */
			j = own;
		}
	}
	if (rc)
		return rc;
	c->bytes = j->text;
	c->len = j->len;
	file(fs, c, 0400, j->has_submit_time ? j->submit_time : -1);
	return 0;
}

/* A path below <x>.files/: a directory or an object of job x's output
 * listing. Name rule: when job x does not exist, "<x>.files" is the file of
 * the job with that id. An object's bytes are not content: open reads them
 * from S3 (s3read.h). */
static int files(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		 enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	int rc = hlfs_files_get(fs, n, deadline, &c->hold, res);
	if (rc == 1) {
		if (!n->p.files_alt)
			return hlfs_res_errno(res, -ENOENT);
		struct hlfs_treenode alt = *n;
		alt.p.node = HLFS_N_JOB;
		int w = snprintf(alt.p.leaf, sizeof(alt.p.leaf), "%s.files", n->p.leaf);
		if (w < 0 || (size_t)w >= sizeof(alt.p.leaf)) /* files_alt: a job id, 32 at most */
			return hlfs_res_errno(res, -ENOENT);
		return job(fs, &alt, deadline, want, c, res);
	}
	if (rc)
		return rc;
	const struct hlfs_files *f = c->hold->data;
	size_t i = 0;
	switch (hlfs_files_find(f, n->p.sub, &i)) {
	case HLFS_FILES_DIR:
		if (want == HLFS_FOR_READ)
			return hlfs_res_errno(res, -EISDIR);
		hlfs_fill_stat(fs, &c->st, S_IFDIR | 0500, 0);
		if (f->time >= 0)
			hlfs_stat_times(&c->st, f->time);
		return 0;
	case HLFS_FILES_OBJECT:
		hlfs_fill_stat(fs, &c->st, S_IFREG | 0400, (off_t)f->list.objects[i].size);
		hlfs_stat_times(&c->st, f->list.objects[i].mtime);
		return 0;
	default:
		return hlfs_res_errno(res, -ENOENT);
	}
}

/* The newest job of n's jobs directory, for latest (ENOENT when none). */
static int latest(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_content *c, struct hlfs_res *res)
{
	int rc = hlfs_get_joblist(fs, n, deadline, &c->hold, res);
	if (rc)
		return rc;
	const struct hlfs_joblist *jl = c->hold->data;
	if (jl->newest < 0)
		return hlfs_res_errno(res, -ENOENT);
	const struct hlfs_jobdoc *j = &jl->items[jl->newest];
	c->bytes = j->id; /* the link's target */
	c->len = strlen(j->id);
	hlfs_fill_stat(fs, &c->st, S_IFLNK | 0777, (off_t)c->len);
	if (j->has_submit_time)
		hlfs_stat_mtime(&c->st, j->submit_time);
	return 0;
}

int hlfs_node_content(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	char dk[HLFS_DIRKEY_MAX];
	struct hlfs_cval *hold = NULL;
	hlfs_content_init(c);
	hlfs_res_init(res);
	switch (n->p.node) {
	case HLFS_N_STATS:
		if (hlfs_fs_render_stats(fs, &c->data) != HL_ERR_OK)
			return nomem(res);
		file(fs, c, 0400, -1);
		return 0;
	case HLFS_N_ERROR:
		hlfs_node_dir_key(n, dk);
		if (hlfs_errfile_text(fs->errors, dk, &c->data) != HL_ERR_OK)
			return nomem(res);
		file(fs, c, 0400, -1);
		return 0;
	case HLFS_N_FIELD:
		return field(fs, n, deadline, want, c, res);
	case HLFS_N_TAG:
		return tag(fs, n, deadline, want, c, res);
	case HLFS_N_JOB:
		return job(fs, n, deadline, want, c, res);
	case HLFS_N_FILES:
		return files(fs, n, deadline, want, c, res);
	case HLFS_N_FHIR:
		return hlfs_fhir_content(fs, n, deadline, want, c, res);
	default:
		break;
	}
	/* Directories, new and latest: nothing to read here. */
	if (want == HLFS_FOR_READ)
		return hlfs_res_errno(res, -EISDIR);
	switch (n->p.node) {
	case HLFS_N_ROOT:
		hlfs_fill_stat(fs, &c->st, S_IFDIR | 0700, 0);
		return 0;
	case HLFS_N_NEW:
		hlfs_fill_stat(fs, &c->st, S_IFREG | 0200, 0);
		return 0;
	case HLFS_N_LATEST:
		return latest(fs, n, deadline, c, res);
	default: /* a store, tags/, imports/, exports/ */
		hlfs_fill_stat(fs, &c->st, S_IFDIR | 0700, 0);
		store_times(&c->st, hlfs_props(fs, n, &hold));
		hlfs_cval_unref(hold);
		return 0;
	}
}

int hlfs_node_stat(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   struct stat *st, struct hlfs_res *res)
{
	struct hlfs_content c;
	int rc = hlfs_node_content(fs, n, deadline, HLFS_FOR_STAT, &c, res);
	if (rc == 0)
		*st = c.st;
	hlfs_content_fini(&c);
	return rc;
}
