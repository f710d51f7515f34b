/* stat, readdir and readlink. */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "fhirfile.h"
#include "fhirtree.h"
#include "joboutput.h"
#include "mount.h"
#include "node.h"
#include "openfiles.h"
#include "resolve.h"

int hlfs_do_getattr(struct hlfs_fs *fs, const char *path, struct stat *st, const struct hlfs_fh *fh,
		    struct hlfs_res *res)
{
	struct hlfs_treenode n;
	int64_t deadline = hlfs_deadline(fs);
	hlfs_res_init(res);
	/* An open file's size is that of its snapshot: fstat (and the kernel's
	 * size check before a read) gives what that open reads. */
	if (fh && fh->kind == HLFS_FH_SNAPSHOT) {
		*st = fh->snap.st;
		return 0;
	}
	if (fh && fh->kind == HLFS_FH_FHIR) {
		hlfs_fhir_fstat((struct hlfs_fh *)fh, st);
		return 0;
	}
	if (!path) /* nameless: only its handle could say */
		return hlfs_res_errno(res, -ENOENT);
	if (hlfs_open_find(fs->open, path, st))
		return 0;
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc == 0)
		rc = hlfs_node_stat(fs, &n, deadline, st, res);
	hlfs_node_fini(&n);
	/* A resource being created through the mount (cp) is absent from the
	 * service until the PUT at close; the kernel asks for it meanwhile (at
	 * once when attr_ttl=0). */
	if (rc == -ENOENT && hlfs_open_find_writer(fs->open, path, st)) {
		hlfs_res_init(res);
		rc = 0;
	}
	return rc;
}

/* Stats child (a node below parent described by its path) and passes it on. */
static int emit(struct hlfs_fs *fs, const struct hlfs_treenode *parent, const struct hlfs_path *cp,
		const char *name, int64_t deadline, void *ctx,
		int (*fill)(void *, const char *, const struct stat *))
{
	struct hlfs_treenode c = *parent;
	struct hlfs_res ignored;
	struct stat st;
	c.p = *cp;
	if (hlfs_node_stat(fs, &c, deadline, &st, &ignored) != 0)
		return 0; /* vanished or failing: leave it out of this listing */
	return fill(ctx, name, &st);
}

static int list_root(struct hlfs_fs *fs, const struct hlfs_treenode *n, struct hlfs_path *cp,
		     int64_t deadline, void *ctx,
		     int (*fill)(void *, const char *, const struct stat *), struct hlfs_res *res)
{
	struct hlfs_cval *hold = NULL;
	cp->node = HLFS_N_STATS;
	if (emit(fs, n, cp, ".stats", deadline, ctx, fill))
		return 0;
	int rc = hlfs_get_dslist(fs, deadline, "list data stores", &hold, res);
	if (rc)
		return rc;
	const struct hlfs_dslist *d = hold->data;
	for (size_t i = 0; i < d->n; i++) {
		if (!d->names.dir[i])
			continue;
		struct hlfs_treenode c = {.lv = hold, .ds = d->items[i]};
		c.p.node = HLFS_N_STORE;
		c.p.dir = HLFS_D_ROOT;
		snprintf(c.p.store, sizeof(c.p.store), "%s", d->names.dir[i]);
		if (emit(fs, &c, &c.p, d->names.dir[i], deadline, ctx, fill))
			break;
	}
	hlfs_cval_unref(hold);
	return 0;
}

static int list_store(struct hlfs_fs *fs, const struct hlfs_treenode *n, struct hlfs_path *cp,
		      int64_t deadline, void *ctx,
		      int (*fill)(void *, const char *, const struct stat *))
{
	cp->dir = HLFS_D_STORE;
	for (int f = 0; f < HLFS_F__COUNT; f++) {
		cp->node = HLFS_N_FIELD;
		cp->field = (enum hlfs_field)f;
		if (emit(fs, n, cp, hlfs_field_name(cp->field), deadline, ctx, fill))
			return 0;
	}
	static const char *const dirs[] = {"tags", "imports", "exports"};
	for (int i = 0; i < 3; i++) {
		cp->node = i == 0 ? HLFS_N_TAGS : HLFS_N_JOBS;
		cp->exports = i == 2;
		if (emit(fs, n, cp, dirs[i], deadline, ctx, fill))
			return 0;
	}
	cp->node = HLFS_N_FHIR; /* listed while the store is ACTIVE; stat makes no call */
	cp->sub[0] = '\0';
	emit(fs, n, cp, "fhir", deadline, ctx, fill);
	return 0;
}

static int list_tags(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline, void *ctx,
		     int (*fill)(void *, const char *, const struct stat *), struct hlfs_res *res)
{
	struct hlfs_cval *hold = NULL;
	int rc = hlfs_get_tags(fs, n, deadline, &hold, res);
	if (rc)
		return rc;
	const struct hl_tag_list *t = hold->data;
	for (size_t i = 0; i < t->n; i++) {
		char name[HLFS_NAME_MAX + 1];
		if (!t->items[i].key || hlfs_tag_encode(t->items[i].key, name, sizeof(name)) != 0)
			continue;
		struct stat st;
		hlfs_fill_stat(fs, &st, S_IFREG | 0600,
			       (off_t)strlen(t->items[i].value ? t->items[i].value : "") + 1);
		if (fill(ctx, name, &st))
			break;
	}
	hlfs_cval_unref(hold);
	return 0;
}

static int list_jobs(struct hlfs_fs *fs, const struct hlfs_treenode *n, struct hlfs_path *cp,
		     int64_t deadline, void *ctx,
		     int (*fill)(void *, const char *, const struct stat *), struct hlfs_res *res)
{
	struct hlfs_cval *hold = NULL;
	cp->node = HLFS_N_NEW;
	if (emit(fs, n, cp, "new", deadline, ctx, fill))
		return 0;
	int rc = hlfs_get_joblist(fs, n, deadline, &hold, res);
	if (rc)
		return rc;
	const struct hlfs_joblist *jl = hold->data;
	if (jl->newest >= 0) {
		cp->node = HLFS_N_LATEST;
		if (emit(fs, n, cp, "latest", deadline, ctx, fill))
			goto out;
	}
	for (size_t i = 0; i < jl->n; i++) {
		const char *id = jl->items[i].id; /* a valid job id (jobdoc.h) */
		cp->node = HLFS_N_JOB;
		snprintf(cp->leaf, sizeof(cp->leaf), "%s", id);
		if (emit(fs, n, cp, id, deadline, ctx, fill))
			goto out;
	}
out:
	hlfs_cval_unref(hold);
	return 0;
}

struct files_ctx {
	struct hlfs_fs *fs;
	const struct hlfs_files *f;
	void *ctx;
	int (*fill)(void *, const char *, const struct stat *);
};

static int files_entry(void *ctx, const char *name, long obj)
{
	struct files_ctx *fc = ctx;
	struct stat st;
	if (obj < 0) {
		hlfs_fill_stat(fc->fs, &st, S_IFDIR | 0500, 0);
		if (fc->f->time >= 0)
			hlfs_stat_times(&st, fc->f->time);
	} else {
		const struct hl_s3_object *o = &fc->f->list.objects[obj];
		hlfs_fill_stat(fc->fs, &st, S_IFREG | 0400, (off_t)o->size);
		hlfs_stat_times(&st, o->mtime);
	}
	return fc->fill(fc->ctx, name, &st);
}

/* A directory of a job's output: no .error of its own (an object may have
 * that name); failures go to the jobs directory's. */
static int list_files(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      void *ctx, int (*fill)(void *, const char *, const struct stat *),
		      struct hlfs_res *res)
{
	struct hlfs_cval *hold = NULL;
	int rc = hlfs_files_get(fs, n, deadline, &hold, res);
	if (rc)
		return rc < 0 ? rc : hlfs_res_errno(res, -ENOTDIR);
	struct files_ctx fc = {fs, hold->data, ctx, fill};
	hlfs_files_each(fc.f, n->p.sub, files_entry, &fc);
	hlfs_cval_unref(hold);
	return 0;
}

int hlfs_do_readdir(struct hlfs_fs *fs, const char *path, void *ctx,
		    int (*fill)(void *ctx, const char *name, const struct stat *st),
		    struct hlfs_res *res)
{
	struct hlfs_treenode n;
	struct stat self;
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc == 0)
		rc = hlfs_node_stat(fs, &n, deadline, &self, res);
	if (rc)
		goto out;
	if (!S_ISDIR(self.st_mode)) {
		rc = hlfs_res_errno(res, -ENOTDIR);
		goto out;
	}
	fill(ctx, ".", NULL); /* no attributes: libfuse gives "." no inode of its own */
	fill(ctx, "..", NULL);
	if (n.p.node == HLFS_N_FILES) {
		rc = list_files(fs, &n, deadline, ctx, fill, res);
		goto out;
	}
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
	case HLFS_N_ROOT:
		rc = list_root(fs, &n, &cp, deadline, ctx, fill, res);
		break;
	case HLFS_N_STORE:
		rc = list_store(fs, &n, &cp, deadline, ctx, fill);
		break;
	case HLFS_N_TAGS:
		rc = list_tags(fs, &n, deadline, ctx, fill, res);
		break;
	case HLFS_N_JOBS:
		rc = list_jobs(fs, &n, &cp, deadline, ctx, fill, res);
		break;
	default:
		rc = hlfs_res_errno(res, -ENOTDIR);
	}
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_readdir_at(struct hlfs_fs *fs, const char *path, off_t off, bool *overflowed, void *ctx,
		       int (*fill)(void *ctx, const char *name, const struct stat *st, off_t off),
		       struct hlfs_res *res)
{
	struct hlfs_treenode n;
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n, res);
	if (rc == 0 && n.p.node != HLFS_N_FHIR)
		rc = hlfs_res_errno(res, -ENOTDIR);
	if (rc == 0)
		rc = hlfs_fhir_readdir(fs, &n, off, overflowed, ctx, fill, res);
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_readlink(struct hlfs_fs *fs, const char *path, char *buf, size_t size,
		     struct hlfs_res *res)
{
	struct hlfs_treenode n;
	struct hlfs_content c;
	int64_t deadline = hlfs_deadline(fs);
	hlfs_content_init(&c);
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc)
		goto out;
	if (n.p.node != HLFS_N_LATEST) {
		rc = hlfs_res_errno(res, -EINVAL);
		goto out;
	}
	hlfs_content_fini(&c);
	rc = hlfs_node_content(fs, &n, deadline, HLFS_FOR_STAT, &c, res);
	if (rc == 0)
		snprintf(buf, size, "%.*s", (int)c.len, c.bytes);
out:
	hlfs_content_fini(&c);
	hlfs_node_fini(&n);
	return rc;
}
