/* File handles: open, read, release. */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfile.h"
#include "fhirfile.h"
#include "joboutput.h"
#include "mount.h"
#include "node.h"
#include "pending.h"
#include "refuse.h"
#include "resolve.h"
#include "s3read.h"
#include "writes.h"

static enum hlfs_op open_op(int flags, bool create)
{
	int acc = flags & O_ACCMODE;
	if (create)
		return acc == O_RDONLY ? HLFS_OP_CREATE_READ : HLFS_OP_CREATE;
	return acc == O_RDONLY	 ? HLFS_OP_OPEN_READ
	       : acc == O_WRONLY ? HLFS_OP_OPEN_WRITE
				 : HLFS_OP_OPEN_RDWR;
}

static enum hlfs_op access_op(int flags)
{
	return open_op(flags, false);
}

/* The refusal of op on node by this mount's options, if any, in res; a
 * reason goes to dir as "create <path>: <reason>" (only creating has one). */
static int refused(struct hlfs_fs *fs, enum hlfs_op op, enum hlfs_node node, const char *dir,
		   const char *path, struct hlfs_res *res)
{
	char what[PATH_MAX + 8];
	if (!hlfs_refuse(op, node, fs->opts->ro, fs->opts->allow_delete).err)
		return 0; /* the usual case: no text to make */
	snprintf(what, sizeof(what), "create %s", path);
	return hlfs_refused(op, node, fs->opts->ro, fs->opts->allow_delete, dir, what, res);
}

/* A control or tag file: a handle that buffers input. */
static int open_input(struct hlfs_fs *fs, const struct hlfs_treenode *n, int flags, bool create,
		      struct hlfs_fh **ret_fh, struct hlfs_res *res)
{
	struct hlfs_fh *fh = hlfs_fh_new(n->p.node == HLFS_N_NEW ? HLFS_FH_CONTROL : HLFS_FH_TAG);
	if (!fh || !(fh->ds_id = strdup(n->ds->id)) || !(fh->ds_arn = strdup(n->ds->arn)) ||
	    !(fh->key = strdup(n->p.leaf))) {
		hlfs_fh_free(fh);
		return hlfs_res_errno(res, -ENOMEM);
	}
	fh->exports = n->p.exports;
	fh->touched = create || (flags & O_TRUNC);
	if (fh->kind == HLFS_FH_TAG) {
		int rc = hlfs_pending_add(fs->pending, fh->ds_id, fh->key);
		if (rc) {
			hlfs_fh_free(fh);
			return hlfs_res_errno(res, rc);
		}
	}
	hlfs_fh_register(fs->open, fh);
	*ret_fh = fh;
	return 0;
}

/* A read-only file: a snapshot of its content, fixed for the open. */
static int open_snapshot(struct hlfs_fs *fs, const struct hlfs_treenode *n, const char *path,
			 int64_t deadline, struct hlfs_fh **ret_fh, struct hlfs_res *res)
{
	struct hlfs_fh *fh = hlfs_fh_new(HLFS_FH_SNAPSHOT);
	if (!fh)
		return hlfs_res_errno(res, -ENOMEM);
	hlfs_content_fini(&fh->snap);
	int rc = hlfs_node_content(fs, n, deadline, HLFS_FOR_READ, &fh->snap, res);
	if (rc == 0 && !(fh->path = strdup(path)))
		rc = hlfs_res_errno(res, -ENOMEM);
	if (rc) {
		hlfs_fh_free(fh);
		return rc;
	}
	hlfs_fh_register(fs->open, fh);
	*ret_fh = fh;
	return 0;
}

/* An object of a job's output: a reader of its bytes in S3. */
static int open_object(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		       struct hlfs_fh **ret_fh, struct hlfs_res *res)
{
	struct hlfs_content c;
	char dk[HLFS_DIRKEY_MAX];
	size_t i = 0;
	int rc = hlfs_node_content(fs, n, deadline, HLFS_FOR_STAT, &c, res);
	if (rc)
		goto out;
	const struct hlfs_files *f = c.hold->data;
	if (hlfs_files_find(f, n->p.sub, &i) != HLFS_FILES_OBJECT) {
		rc = hlfs_res_errno(res, -EISDIR);
		goto out;
	}
	const struct hl_s3_object *o = &f->list.objects[i];
	struct hlfs_fh *fh = hlfs_fh_new(HLFS_FH_S3);
	hlfs_node_dir_key(n, dk);
	if (fh) {
		fh->s3fs = fs;
		fh->s3 = hlfs_s3read_new(fs, f->bucket, o->key, o->size, o->etag, dk, n->p.sub);
	}
	if (!fh || !fh->s3) {
		hlfs_fh_free(fh);
		rc = hlfs_res_errno(res, -ENOMEM);
		goto out;
	}
	fh->snap.st = c.st;
	hlfs_fh_register(fs->open, fh);
	*ret_fh = fh;
out:
	hlfs_content_fini(&c);
	return rc;
}

/* A file below fhir/: a snapshot to read, or a handle of fhirfile.h's. */
static int open_fhir(struct hlfs_fs *fs, const struct hlfs_treenode *n, const char *path,
		     int flags, bool create, int64_t deadline, struct hlfs_fh **ret_fh,
		     struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = NULL;
	int rc = hlfs_fhir_open(fs, n, flags, create, &f, res);
	if (rc == 1)
		return open_snapshot(fs, n, path, deadline, ret_fh, res);
	if (rc)
		return rc;
	struct hlfs_fh *fh = hlfs_fh_new(HLFS_FH_FHIR);
	if (!fh || !(fh->path = strdup(path))) {
		hlfs_fh_free(fh);
		hlfs_fhirfh_free(f);
		return hlfs_res_errno(res, -ENOMEM);
	}
	fh->fhir = f;
	fh->s3fs = fs;
	hlfs_fh_register(fs->open, fh);
	*ret_fh = fh;
	return 0;
}

int hlfs_do_open(struct hlfs_fs *fs, const char *path, int flags, bool create,
		 struct hlfs_fh **ret_fh, struct hlfs_res *res)
{
	struct hlfs_treenode n;
	char dk[HLFS_DIRKEY_MAX];
	int64_t deadline = hlfs_deadline(fs);
	hlfs_res_init(res);
	if (create) { /* only a tag file can be made; nothing else is worth a lookup */
		struct hlfs_path p;
		bool parsed = hlfs_path_parse(path, &p) == 0;
		if (!parsed || (p.node != HLFS_N_TAG && p.node != HLFS_N_FHIR))
			return refused(fs, open_op(flags, true), parsed ? p.node : HLFS_N_ROOT, "/",
				       path, res);
	}
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc)
		goto out;
	if (n.p.node == HLFS_N_FHIR) {
		rc = open_fhir(fs, &n, path, flags, create, deadline, ret_fh, res);
		goto out;
	}
	hlfs_node_dir_key(&n, dk);
	rc = refused(fs, access_op(flags), n.p.node, dk, path, res);
	if (rc)
		goto out;
	bool input = n.p.node == HLFS_N_NEW ||
		     (n.p.node == HLFS_N_TAG && access_op(flags) != HLFS_OP_OPEN_READ);
	if (create && !input)
		rc = refused(fs, open_op(flags, true), n.p.node, dk, path, res);
	else if (input)
		rc = open_input(fs, &n, flags, create, ret_fh, res);
	else if (n.p.node == HLFS_N_FILES && n.p.sub[0])
		rc = open_object(fs, &n, deadline, ret_fh, res);
	else
		rc = open_snapshot(fs, &n, path, deadline, ret_fh, res);
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off)
{
	if (fh->kind == HLFS_FH_CONTROL)
		return -EBADF;
	if (fh->kind == HLFS_FH_FHIR) {
		struct hlfs_res res;
		int rc = hlfs_fhir_read(fh, buf, size, off, &res);
		return rc < 0 ? hlfs_record(fh->s3fs, &res) : rc;
	}
	if (fh->kind == HLFS_FH_S3) {
		struct hlfs_res res;
		int rc = hlfs_s3read_read(fh->s3, buf, size, off, hlfs_deadline(fh->s3fs), &res);
		return rc < 0 ? hlfs_record(fh->s3fs, &res) : rc;
	}
	pthread_mutex_lock(&fh->lock);
	/* A snapshot never changes after open; a tag file reads its input. */
	const char *src = fh->kind == HLFS_FH_SNAPSHOT ? fh->snap.bytes : fh->data.data;
	size_t len = fh->kind == HLFS_FH_SNAPSHOT ? fh->snap.len : fh->data.len;
	size_t n = 0;
	if (off >= 0 && (size_t)off < len) {
		n = len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, src + off, n);
	}
	pthread_mutex_unlock(&fh->lock);
	return (int)n;
}

void hlfs_do_release(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res)
{
	hlfs_res_init(res);
	if (!fh)
		return;
	hlfs_fh_unregister(fs->open, fh);
	if (fh->kind == HLFS_FH_TAG)
		hlfs_pending_releasing(fs->pending, fh->ds_id, fh->key);
	if (fh->kind == HLFS_FH_CONTROL || fh->kind == HLFS_FH_TAG) {
		pthread_mutex_lock(&fh->lock);
		if (fh->data.len > 0 || (fh->kind == HLFS_FH_TAG && fh->touched && !fh->sent))
			(void)hlfs_fh_act(fs, fh, res);
		pthread_mutex_unlock(&fh->lock);
		if (fh->kind == HLFS_FH_TAG)
			hlfs_pending_del(fs->pending, fh->ds_id, fh->key);
	}
	hlfs_fh_free(fh);
}
