/* FHIR streams, resource writes, scratch files, and changes by path. */
#include "fhirfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fhirdata.h"
#include "fhirjson.h"
#include "mount.h"
#include "openfiles.h" /* struct hlfs_fh: its lock and FHIR part (no calls) */
#include "scratch.h"

enum ffh_kind { FFH_STREAM, FFH_RESOURCE, FFH_SCRATCH };

struct hlfs_fhirfh {
	enum ffh_kind kind;
	struct hlfs_fctx x; /* its path, parsed; owns its query */
	/* FFH_STREAM: the page that holds the reader's place, from stream offset base */
	enum hlfs_fsrc src;
	size_t k;
	off_t base;
	struct hlfs_cval *page;
	/* FFH_RESOURCE: what was written, sent at flush when dirty */
	struct hl_buf buf;
	bool dirty;
	time_t mtime;
	/* buf.len and mtime as stat by path shows them: fh->lock is held across
	 * a PUT, and a stat must not wait for it (hlfs_fhir_writer_stat). */
	atomic_size_t shown_len;
	atomic_llong shown_mtime;
	/* FFH_SCRATCH */
	struct hlfs_scratch_file *sf;
};

static time_t now_secs(void)
{
	return (time_t)(hl_real_ms() / 1000);
}

/* Publishes a resource handle's size and mtime for hlfs_fhir_writer_stat;
 * fh->lock held. */
static void show(struct hlfs_fhirfh *f)
{
	atomic_store(&f->shown_len, f->buf.len);
	atomic_store(&f->shown_mtime, (long long)f->mtime);
}

void hlfs_fhirfh_free(struct hlfs_fhirfh *f)
{
	if (!f)
		return;
	hlfs_cval_unref(f->page);
	hl_buf_free(&f->buf);
	if (f->sf)
		hlfs_scratch_close(f->x.fs->scratch, f->sf);
	hlfs_fctx_fini(&f->x);
	free(f);
}

/* ---- sending a resource ---- */

/* The checks before any call, then one PUT of the user's bytes (an added id
 * aside), If-Match from the body's meta.versionId. */
static int send_body(struct hlfs_fctx *x, const char *id, const char *body, size_t len,
		     struct hlfs_res *res)
{
	struct hl_error err;
	struct hl_fhir_meta meta;
	struct hl_buf with_id;
	char name[HLFS_FHIR_NAME_MAX + 1];
	const char *type = x->fp.type;
	hlfs_fhirname_resource(id, name, sizeof(name));
	if (len > (size_t)x->fs->opts->fhir_max_bytes)
		return hlfs_fhir_refuse(res, x->type_dk, name, HLFS_FOP_UPDATE, HLFS_FC_TOO_BIG,
					NULL, (unsigned long long)x->fs->opts->fhir_max_bytes);
	hl_error_clear(&err);
	if (hl_fhir_check(body, len, type, id, &err) != HL_ERR_OK ||
	    hl_fhir_meta(body, len, &meta, &err) != HL_ERR_OK)
		return hlfs_fhir_refuse(res, x->type_dk, name, HLFS_FOP_UPDATE, HLFS_FC_BAD_BODY,
					err.message, 0);
	hl_buf_init(&with_id, (size_t)x->fs->opts->fhir_max_bytes + 256);
	int rc = 0;
	if (!meta.id && hl_fhir_insert_id(body, len, id, &with_id, &err) != HL_ERR_OK)
		rc = hlfs_fhir_refuse(res, x->type_dk, name, HLFS_FOP_UPDATE, HLFS_FC_BAD_BODY,
				      err.message, 0);
	if (rc == 0) {
		const char *vid = meta.version_id;
		if (vid && !hl_fhir_id_valid(vid, strlen(vid)))
			rc = hlfs_fhir_refuse(res, x->type_dk, name, HLFS_FOP_UPDATE,
					      HLFS_FC_BAD_BODY, "meta.versionId is not a FHIR id",
					      0);
		else if (meta.id)
			rc = hlfs_fhir_put(x, type, id, body, len, vid, name, res);
		else
			rc = hlfs_fhir_put(x, type, id, with_id.data, with_id.len, vid, name, res);
	}
	hl_buf_free(&with_id);
	hl_fhir_meta_clear(&meta);
	return rc;
}

/* ---- open ---- */

static bool writing(int flags, bool create)
{
	return create || (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}


/* A resource opened for writing: its bytes now, unless truncated. */
static int open_resource(struct hlfs_fhirfh *f, int flags, bool create, struct hlfs_res *res)
{
	struct hlfs_fctx *x = &f->x;
	f->kind = FFH_RESOURCE;
	f->mtime = now_secs();
	hl_buf_init(&f->buf, (size_t)x->fs->opts->fhir_max_bytes + 1);
	show(f);
	if (create || (flags & O_TRUNC))
		return 0;
	struct hlfs_cval *cv = NULL;
	int rc = hlfs_fhir_resource(x, x->fp.type, x->fp.leaf.id, &cv, res);
	if (rc)
		return rc;
	const struct hlfs_fres *r = cv->data;
	if (hl_buf_append(&f->buf, r->bytes, r->len) != HL_ERR_OK)
		rc = hlfs_res_errno(res, -EFBIG);
	if (r->mtime >= 0)
		f->mtime = (time_t)r->mtime;
	show(f);
	hlfs_cval_unref(cv);
	return rc;
}

int hlfs_fhir_open(struct hlfs_fs *fs, const struct hlfs_treenode *n, int flags, bool create,
		   struct hlfs_fhirfh **ret, struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = calloc(1, sizeof(*f));
	if (!f)
		return hlfs_res_errno(res, -ENOMEM);
	hl_buf_init(&f->buf, 0);
	struct hlfs_fctx *x = &f->x;
	int rc = hlfs_fctx_init(x, fs, n, create, n->deadline, res);
	if (rc == 0 && x->fp.type[0])
		rc = hlfs_fhir_type_ok(x, x->fp.type, res);
	if (rc)
		goto fail;
	const struct hlfs_fhirname *leaf = &x->fp.leaf;
	bool w = writing(flags, create);
	if (w && fs->opts->ro) {
		rc = hlfs_res_errno(res, -EROFS);
		goto fail;
	}
	switch (leaf->kind) {
	case HLFS_FK_SCRATCH:
		f->kind = FFH_SCRATCH;
		rc = hlfs_scratch_open(fs->scratch, x->type_dk, x->name, create, flags & O_EXCL,
				       flags & O_TRUNC, now_secs(), &f->sf);
		if (rc)
			rc = hlfs_res_errno(res, rc);
		break;
	case HLFS_FK_RESOURCE:
		if (!w) {
			rc = 1;
			break;
		}
		if (x->fp.parent != HLFS_FP_TYPE) {
			rc = hlfs_res_errno(res, -EACCES); /* a search's copy is read-only */
			break;
		}
		rc = open_resource(f, flags, create, res);
		break;
	case HLFS_FK_ALL:
	case HLFS_FK_EVERYTHING:
		if (w) {
			rc = hlfs_res_errno(res, -EACCES);
			break;
		}
		f->kind = FFH_STREAM;
		f->src = leaf->kind == HLFS_FK_ALL ? HLFS_FS_SEARCH : HLFS_FS_EVERYTHING;
		if (leaf->kind == HLFS_FK_EVERYTHING)
			memcpy(x->fp.owner_id, leaf->id, sizeof(x->fp.owner_id));
		break;
	case HLFS_FK_METADATA:
	case HLFS_FK_ERROR:
	case HLFS_FK_VERSION:
		rc = w ? hlfs_res_errno(res, -EACCES) : 1;
		break;
	default:
		rc = hlfs_res_errno(res, create ? -EPERM : -EISDIR);
	}
	if (rc)
		goto fail;
	f->x.fp.query = NULL; /* it pointed into the caller's path; x.q holds the query */
	*ret = f;
	return 0;
fail:
	hlfs_fhirfh_free(f);
	return rc;
}

/* ---- read, write ---- */

/* Makes b at least len bytes long; the new bytes are zeros, as in a file
 * written past its end. */
static enum hl_err grow(struct hl_buf *b, size_t len)
{
	static const char zeros[4096];
	while (b->len < len) {
		size_t n = len - b->len < sizeof(zeros) ? len - b->len : sizeof(zeros);
		enum hl_err e = hl_buf_append(b, zeros, n);
		if (e != HL_ERR_OK)
			return e;
	}
	return HL_ERR_OK;
}

static int stream_read(struct hlfs_fhirfh *f, char *buf, size_t size, off_t off,
		       struct hlfs_res *res)
{
	if (off < f->base) {
		hlfs_cval_unref(f->page); /* a reader that went back: from the start */
		f->page = NULL;
		f->k = 0;
		f->base = 0;
	}
	f->x.deadline = hlfs_deadline(f->x.fs);
	for (;;) {
		if (!f->page) {
			int rc = hlfs_fhir_page(&f->x, f->src, f->k, &f->page, res);
			if (rc == -ENOENT && !res->dir[0])
				return 0; /* past the last page */
			if (rc)
				return rc;
		}
		const struct hlfs_fpage *p = f->page->data;
		off_t end = f->base + (off_t)p->lines_len;
		if (off < end) {
			/* Up to the end of this page only: the next one is asked
			 * for when the reader gets there. */
			size_t n = (size_t)(end - off);
			if (n > size)
				n = size;
			memcpy(buf, p->lines + (off - f->base), n);
			return (int)n;
		}
		if (!p->next)
			return 0;
		/* By the held page's next link: the cache may have dropped it. */
		struct hlfs_cval *next = NULL;
		int rc = hlfs_fhir_page_after(&f->x, f->src, f->k + 1, f->page, &next, res);
		if (rc == -ENOENT && !res->dir[0])
			return 0;
		if (rc)
			return rc;
		hlfs_cval_unref(f->page);
		f->page = next;
		f->base = end;
		f->k++;
	}
}

int hlfs_fhir_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off, struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = fh->fhir;
	int rc = 0;
	hlfs_res_init(res);
	pthread_mutex_lock(&fh->lock);
	switch (f->kind) {
	case FFH_STREAM:
		rc = stream_read(f, buf, size, off, res);
		break;
	case FFH_RESOURCE:
		if (off >= 0 && (size_t)off < f->buf.len) {
			size_t n = f->buf.len - (size_t)off;
			rc = (int)(n < size ? n : size);
			memcpy(buf, f->buf.data + off, (size_t)rc);
		}
		break;
	case FFH_SCRATCH:
		rc = (int)hlfs_scratch_read(f->x.fs->scratch, f->sf, buf, size, off);
		if (rc < 0)
			rc = hlfs_res_errno(res, rc);
		break;
	}
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

int hlfs_fhir_write(struct hlfs_fh *fh, const char *buf, size_t size, off_t off,
		    struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = fh->fhir;
	struct hlfs_fctx *x = &f->x;
	int rc = (int)size;
	hlfs_res_init(res);
	pthread_mutex_lock(&fh->lock);
	if (f->kind == FFH_SCRATCH) {
		ssize_t w = hlfs_scratch_write(x->fs->scratch, f->sf, buf, size, off, now_secs());
		rc = w < 0 ? hlfs_res_errno(res, (int)w) : (int)w;
	} else if (f->kind != FFH_RESOURCE || off < 0) {
		rc = hlfs_res_errno(res, -EBADF);
	} else if ((size_t)off + size > (size_t)x->fs->opts->fhir_max_bytes) {
		rc = hlfs_fhir_refuse(res, x->type_dk, x->name, HLFS_FOP_UPDATE, HLFS_FC_TOO_BIG,
				      NULL, (unsigned long long)x->fs->opts->fhir_max_bytes);
	} else if (grow(&f->buf, (size_t)off + size) != HL_ERR_OK) {
		rc = hlfs_res_errno(res, -ENOMEM);
	} else {
		memcpy(f->buf.data + off, buf, size);
		f->dirty = true;
		f->mtime = now_secs();
		show(f);
	}
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

int hlfs_fhir_flush(struct hlfs_fh *fh, struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = fh->fhir;
	int rc = 0;
	hlfs_res_init(res);
	pthread_mutex_lock(&fh->lock);
	if (f->kind == FFH_RESOURCE && f->dirty) {
		/* One attempt per write: a failed one is close's error, not sent again
		 * at the next close of a duplicate descriptor. */
		f->dirty = false;
		f->x.deadline = hlfs_deadline(f->x.fs);
		rc = send_body(&f->x, f->x.fp.leaf.id, f->buf.data ? f->buf.data : "", f->buf.len,
			       res);
	}
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

int hlfs_fhir_ftruncate(struct hlfs_fh *fh, off_t size, struct hlfs_res *res)
{
	struct hlfs_fhirfh *f = fh->fhir;
	struct hlfs_fctx *x = &f->x;
	int rc = 0;
	hlfs_res_init(res);
	pthread_mutex_lock(&fh->lock);
	if (size < 0) {
		rc = hlfs_res_errno(res, -EINVAL);
	} else if (f->kind == FFH_SCRATCH) {
		rc = hlfs_scratch_truncate(x->fs->scratch, f->sf, NULL, NULL, size, now_secs());
		if (rc)
			rc = hlfs_res_errno(res, rc);
	} else if (f->kind != FFH_RESOURCE) {
		rc = hlfs_res_errno(res, -EACCES);
	} else if ((size_t)size > (size_t)x->fs->opts->fhir_max_bytes) {
		rc = hlfs_res_errno(res, -EFBIG);
	} else if ((size_t)size <= f->buf.len) {
		f->buf.len = (size_t)size;
		if (f->buf.data)
			f->buf.data[size] = '\0';
	} else if (grow(&f->buf, (size_t)size) != HL_ERR_OK) {
		rc = hlfs_res_errno(res, -ENOMEM);
	}
	if (f->kind == FFH_RESOURCE)
		show(f);
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

void hlfs_fhir_fstat(struct hlfs_fh *fh, struct stat *st)
{
	struct hlfs_fhirfh *f = fh->fhir;
	struct hlfs_fs *fs = f->x.fs;
	pthread_mutex_lock(&fh->lock);
	switch (f->kind) {
	case FFH_STREAM:
		hlfs_fill_stat(fs, st, hlfs_fhir_mode(f->x.fp.leaf.kind, fs->opts->ro), 0);
		break;
	case FFH_RESOURCE:
		hlfs_fill_stat(fs, st, hlfs_fhir_mode(HLFS_FK_RESOURCE, fs->opts->ro),
			       (off_t)f->buf.len);
		hlfs_stat_times(st, (double)f->mtime);
		break;
	case FFH_SCRATCH: {
		struct hlfs_scratch_stat ss = {0};
		(void)hlfs_scratch_stat(fs->scratch, f->sf, NULL, NULL, &ss);
		hlfs_fill_stat(fs, st, hlfs_fhir_mode(HLFS_FK_SCRATCH, false), (off_t)ss.size);
		hlfs_stat_times(st, (double)ss.mtime);
		break;
	}
	}
	pthread_mutex_unlock(&fh->lock);
}

bool hlfs_fhir_writer_stat(const struct hlfs_fh *fh, struct stat *st)
{
	const struct hlfs_fhirfh *f = fh->fhir; /* its kind never changes after open */
	if (fh->kind != HLFS_FH_FHIR || !f || f->kind != FFH_RESOURCE)
		return false;
	struct hlfs_fs *fs = f->x.fs;
	hlfs_fill_stat(fs, st, hlfs_fhir_mode(HLFS_FK_RESOURCE, fs->opts->ro),
		       (off_t)atomic_load(&f->shown_len));
	hlfs_stat_times(st, (double)atomic_load(&f->shown_mtime));
	return true;
}

bool hlfs_fhir_is_stream(const struct hlfs_fh *fh)
{
	return fh->kind == HLFS_FH_FHIR && fh->fhir->kind == FFH_STREAM;
}

bool hlfs_fhir_writable(const struct hlfs_fh *fh)
{
	return fh->kind == HLFS_FH_FHIR && fh->fhir->kind != FFH_STREAM;
}

/* ---- by path ---- */

static int refuse_change(struct hlfs_fs *fs, struct hlfs_res *res)
{
	return hlfs_res_errno(res, fs->opts->ro ? -EROFS : -EPERM);
}

int hlfs_fhir_unlink(struct hlfs_fs *fs, const struct hlfs_treenode *n, struct hlfs_res *res)
{
	struct hlfs_fctx x;
	int rc = hlfs_fctx_init(&x, fs, n, false, n->deadline, res);
	if (rc)
		goto out;
	if (fs->opts->ro) {
		rc = hlfs_res_errno(res, -EROFS);
	} else if (x.fp.leaf.kind == HLFS_FK_SCRATCH) {
		rc = hlfs_scratch_unlink(fs->scratch, x.type_dk, x.name);
		if (rc)
			rc = hlfs_res_errno(res, rc);
	} else if (x.fp.leaf.kind != HLFS_FK_RESOURCE || x.fp.parent != HLFS_FP_TYPE) {
		rc = refuse_change(fs, res);
	} else if (!fs->opts->allow_delete) {
		rc = hlfs_fhir_refuse(res, x.type_dk, x.name, HLFS_FOP_DELETE, HLFS_FC_NO_DELETE,
				      NULL, 0);
	} else if ((rc = hlfs_fhir_type_ok(&x, x.fp.type, res)) == 0) {
		rc = hlfs_fhir_delete(&x, x.fp.type, x.fp.leaf.id, x.name, res);
	}
out:
	hlfs_fctx_fini(&x);
	return rc;
}

/* Renaming a resource to a scratch name (an editor's backup): the scratch
 * becomes a copy, the resource stays. */
static int resource_to_scratch(struct hlfs_fctx *from, struct hlfs_fctx *to,
			       struct hlfs_res *res)
{
	struct hlfs_cval *cv = NULL;
	int rc = hlfs_fhir_resource(from, from->fp.type, from->fp.leaf.id, &cv, res);
	if (rc)
		return rc;
	const struct hlfs_fres *r = cv->data;
	rc = hlfs_scratch_put(from->fs->scratch, to->type_dk, to->name, r->bytes, r->len,
			      now_secs());
	hlfs_cval_unref(cv);
	return rc ? hlfs_res_errno(res, rc) : 0;
}

/* Renaming a scratch file onto a resource: its bytes are written as the
 * resource, and the scratch goes once the service has them. */
static int scratch_to_resource(struct hlfs_fctx *from, struct hlfs_fctx *to,
			       struct hlfs_res *res)
{
	char *data = NULL;
	size_t len = 0;
	int rc = hlfs_scratch_copy(from->fs->scratch, from->type_dk, from->name, &data, &len);
	if (rc)
		return hlfs_res_errno(res, rc);
	rc = send_body(to, to->fp.leaf.id, data, len, res);
	free(data);
	if (rc == 0)
		(void)hlfs_scratch_unlink(from->fs->scratch, from->type_dk, from->name);
	return rc;
}

int hlfs_fhir_rename(struct hlfs_fs *fs, const struct hlfs_treenode *n,
		     const struct hlfs_treenode *to, struct hlfs_res *res)
{
	struct hlfs_fctx a, b;
	int64_t deadline = n->deadline; /* the lookups of both paths spent part of it */
	memset(&b, 0, sizeof(b));
	int rc = hlfs_fctx_init(&a, fs, n, false, deadline, res);
	if (rc == 0)
		rc = hlfs_fctx_init(&b, fs, to, true, deadline, res);
	if (rc)
		goto out;
	enum hlfs_fhir_kind ka = a.fp.leaf.kind, kb = b.fp.leaf.kind;
	bool same_dir = !strcmp(a.type_dk, b.type_dk) && a.fp.parent == HLFS_FP_TYPE &&
			b.fp.parent == HLFS_FP_TYPE;
	if (fs->opts->ro) {
		rc = hlfs_res_errno(res, -EROFS);
	} else if (!same_dir) {
		rc = hlfs_res_errno(res, -EPERM);
	} else if (ka == HLFS_FK_SCRATCH && kb == HLFS_FK_SCRATCH) {
		rc = hlfs_scratch_rename(fs->scratch, a.type_dk, a.name, b.type_dk, b.name,
					 now_secs());
		if (rc)
			rc = hlfs_res_errno(res, rc);
	} else if (ka == HLFS_FK_SCRATCH && kb == HLFS_FK_RESOURCE) {
		rc = scratch_to_resource(&a, &b, res);
	} else if (ka == HLFS_FK_RESOURCE && kb == HLFS_FK_SCRATCH) {
		rc = resource_to_scratch(&a, &b, res);
	} else {
		rc = hlfs_res_errno(res, -EPERM);
	}
out:
	hlfs_fctx_fini(&a);
	hlfs_fctx_fini(&b);
	return rc;
}

int hlfs_fhir_truncate(struct hlfs_fs *fs, const struct hlfs_treenode *n, off_t size,
		       struct hlfs_res *res)
{
	struct hlfs_fctx x;
	int rc = hlfs_fctx_init(&x, fs, n, false, n->deadline, res);
	if (rc)
		goto out;
	if (fs->opts->ro)
		rc = hlfs_res_errno(res, -EROFS);
	else if (x.fp.leaf.kind != HLFS_FK_SCRATCH || size < 0)
		rc = hlfs_res_errno(res, -EPERM); /* a resource changes by a write of its bytes */
	else if ((rc = hlfs_scratch_truncate(fs->scratch, NULL, x.type_dk, x.name, size,
					     now_secs())))
		rc = hlfs_res_errno(res, rc);
out:
	hlfs_fctx_fini(&x);
	return rc;
}

int hlfs_fhir_setattr(struct hlfs_fs *fs, const struct hlfs_treenode *n, enum hlfs_fhir_attr what,
		      mode_t mode, uid_t uid, gid_t gid, struct hlfs_res *res)
{
	struct hlfs_fctx x;
	int rc = hlfs_fctx_init(&x, fs, n, false, n->deadline, res);
	if (rc)
		goto out;
	mode_t shown = hlfs_fhir_mode(x.fp.leaf.kind, fs->opts->ro);
	bool keeps = what == HLFS_FA_TIMES ||
		     (what == HLFS_FA_MODE && (mode & 07777) == (shown & 07777)) ||
		     (what == HLFS_FA_OWNER && (uid == (uid_t)-1 || uid == fs->uid) &&
		      (gid == (gid_t)-1 || gid == fs->gid));
	if (!keeps)
		rc = refuse_change(fs, res);
out:
	hlfs_fctx_fini(&x);
	return rc;
}
