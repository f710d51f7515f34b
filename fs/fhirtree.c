/* Nodes and listings of fhir/. */
#include "fhirtree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errfile.h"
#include "fhirdata.h"
#include "fhirjson.h"
#include "mount.h"
#include "scratch.h"

/* ---- content ---- */

static void dir_stat(struct hlfs_fs *fs, struct hlfs_content *c, mode_t mode)
{
	hlfs_fill_stat(fs, &c->st, mode, 0);
}

/* A file whose bytes are a cached resource (struct hlfs_fres in hold). */
static void fres_file(struct hlfs_fs *fs, struct hlfs_content *c, struct hlfs_cval *hold,
		      mode_t mode)
{
	const struct hlfs_fres *r = hold->data;
	c->hold = hold;
	c->bytes = r->bytes;
	c->len = r->len;
	hlfs_fill_stat(fs, &c->st, mode, (off_t)r->len);
	if (r->mtime >= 0)
		hlfs_stat_times(&c->st, r->mtime);
}

/* Walks x's search pages for the match id; *ret holds its page, *ret_i
 * its entry. Stops at fhir_list_max entries like a listing. */
static int find_match(struct hlfs_fctx *x, const char *id, struct hlfs_cval **ret, size_t *ret_i,
		      struct hlfs_res *res)
{
	size_t seen = 0;
	for (size_t k = 0;; k++) {
		struct hlfs_cval *pv = NULL;
		int rc = hlfs_fhir_page(x, HLFS_FS_SEARCH, k, &pv, res);
		if (rc)
			return rc;
		const struct hlfs_fpage *p = pv->data;
		long i = hlfs_fpage_find(p, id);
		if (i >= 0) {
			*ret = pv;
			*ret_i = (size_t)i;
			return 0;
		}
		seen += p->n;
		bool last = !p->next;
		hlfs_cval_unref(pv);
		if (last || seen >= (size_t)x->fs->opts->fhir_list_max)
			return hlfs_res_errno(res, -ENOENT);
	}
}

/* A match in a search directory: the resource as the search returned it. */
static int search_match(struct hlfs_fctx *x, enum hlfs_want want, struct hlfs_content *c,
			struct hlfs_res *res)
{
	struct hlfs_cval *pv = NULL;
	size_t i = 0;
	struct hl_error err;
	int rc = find_match(x, x->fp.leaf.id, &pv, &i, res);
	if (rc)
		return rc;
	const struct hlfs_fpage *p = pv->data;
	const struct hlfs_fentry *e = &p->e[i];
	mode_t mode = hlfs_fhir_mode(HLFS_FK_RESOURCE, true) & 07777;
	if (want == HLFS_FOR_READ) {
		hl_buf_free(&c->data);
		hl_buf_init(&c->data, HLFS_FHIR_PRETTY_MAX);
		if (hl_json_pretty(p->lines + e->line_off, e->line_len, &c->data, &err) !=
		    HL_ERR_OK) {
			hlfs_cval_unref(pv);
			return hlfs_res_errno(res, -EIO);
		}
		c->bytes = c->data.data;
		c->len = c->data.len;
	} else {
		c->len = e->pretty_len;
	}
	hlfs_fill_stat(x->fs, &c->st, S_IFREG | mode, (off_t)c->len);
	if (e->mtime >= 0)
		hlfs_stat_times(&c->st, e->mtime);
	hlfs_cval_unref(pv);
	return 0;
}

static int scratch_file(struct hlfs_fctx *x, struct hlfs_content *c, struct hlfs_res *res)
{
	struct hlfs_scratch_stat ss;
	int rc = hlfs_scratch_stat(x->fs->scratch, NULL, x->type_dk, x->name, &ss);
	if (rc)
		return hlfs_res_errno(res, rc);
	hlfs_fill_stat(x->fs, &c->st, hlfs_fhir_mode(HLFS_FK_SCRATCH, x->fs->opts->ro),
		       (off_t)ss.size);
	hlfs_stat_times(&c->st, (double)ss.mtime);
	return 0;
}

static int content(struct hlfs_fctx *x, enum hlfs_want want, struct hlfs_content *c,
		   struct hlfs_res *res)
{
	struct hlfs_fs *fs = x->fs;
	const struct hlfs_fhirpath *fp = &x->fp;
	enum hlfs_fhir_kind kind = fp->leaf.kind;
	mode_t mode = hlfs_fhir_mode(kind, fs->opts->ro);
	struct hlfs_cval *hold = NULL;
	int rc = 0;
	/* Every node below a type needs the type to exist. */
	if (fp->type[0] && (rc = hlfs_fhir_type_ok(x, fp->type, res)))
		return rc;
	switch (kind) {
	case HLFS_FK_HISTORY:
		/* A history is there when the resource has one: its first page,
		 * which its listing then reads from the cache. */
		if ((rc = hlfs_fhir_page(x, HLFS_FS_HISTORY, 0, &hold, res)))
			return rc;
		hlfs_cval_unref(hold);
		if (want == HLFS_FOR_READ)
			return hlfs_res_errno(res, -EISDIR);
		dir_stat(fs, c, mode);
		return 0;
	case HLFS_FK_FHIR:
	case HLFS_FK_TYPE:
	case HLFS_FK_SEARCH:
		if (want == HLFS_FOR_READ)
			return hlfs_res_errno(res, -EISDIR);
		dir_stat(fs, c, mode);
		return 0;
	case HLFS_FK_METADATA:
		if ((rc = hlfs_fhir_cap(x, &hold, res)))
			return rc;
		c->hold = hold;
		c->bytes = ((const struct hlfs_fcap *)hold->data)->file->bytes;
		c->len = ((const struct hlfs_fcap *)hold->data)->file->len;
		hlfs_fill_stat(fs, &c->st, mode, (off_t)c->len);
		return 0;
	case HLFS_FK_ERROR:
		if (hl_buf_appends(&c->data, "") != HL_ERR_OK ||
		    hlfs_errfile_text(fs->errors, fp->type[0] ? x->type_dk : x->fhir_dk,
				      &c->data) != HL_ERR_OK)
			return hlfs_res_errno(res, -ENOMEM);
		c->bytes = c->data.data;
		c->len = c->data.len;
		hlfs_fill_stat(fs, &c->st, mode, (off_t)c->len);
		return 0;
	case HLFS_FK_RESOURCE:
		if (fp->parent == HLFS_FP_SEARCH)
			return search_match(x, want, c, res);
		if ((rc = hlfs_fhir_resource(x, fp->type, fp->leaf.id, &hold, res)))
			return rc;
		fres_file(fs, c, hold, mode);
		return 0;
	case HLFS_FK_VERSION:
		if ((rc = hlfs_fhir_version(x, fp->type, fp->owner_id, fp->leaf.id, &hold, res)))
			return rc;
		fres_file(fs, c, hold, mode);
		return 0;
	case HLFS_FK_EVERYTHING:
		/* There when the patient is: its first page says so, and is what
		 * the reader reads first (head -1 costs that one call). */
		if ((rc = hlfs_fhir_page(x, HLFS_FS_EVERYTHING, 0, &hold, res)))
			return rc;
		hlfs_cval_unref(hold);
		hold = NULL;
		/* fall through */
	case HLFS_FK_ALL:
		/* Streams: size 0, read to EOF (fhirfile.h). */
		hlfs_fill_stat(fs, &c->st, mode, 0);
		c->bytes = "";
		return 0;
	case HLFS_FK_SCRATCH:
		return scratch_file(x, c, res);
	}
	return hlfs_res_errno(res, -ENOENT);
}

int hlfs_fhir_content(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res)
{
	struct hlfs_fctx x;
	int rc = hlfs_fctx_init(&x, fs, n, false, deadline, res);
	if (rc == 0)
		rc = content(&x, want, c, res);
	hlfs_fctx_fini(&x);
	return rc;
}

/* ---- listings ---- */

typedef int fill_fn(void *ctx, const char *name, const struct stat *st, off_t off);

/* Offsets of a paged listing: the fixed entries take 1..3, entry i of page
 * k takes ((k + 1) << 20) + i + 1, so that the kernel's offset says where
 * to go on. */
#define OFF_PAGE_SHIFT 20
#define OFF_FIXED 3

static off_t entry_off(size_t k, size_t i)
{
	return (off_t)(((k + 1) << OFF_PAGE_SHIFT) + i + 1);
}

/* The entries of src's pages from offset off, one page at a time: after a
 * page whose entries went out, the kernel asks again, so that a reader
 * who stops never costs the next page. */
static int list_pages(struct hlfs_fctx *x, enum hlfs_fsrc src, off_t off, bool *overflowed,
		      void *ctx, fill_fn *fill, struct hlfs_res *res)
{
	size_t k = 0, i = 0;
	bool filled = false;
	const size_t max = (size_t)x->fs->opts->fhir_list_max;
	/* Only a type directory's files are writable: a search's are its matches. */
	mode_t mode = hlfs_fhir_mode(HLFS_FK_RESOURCE, x->fs->opts->ro || src != HLFS_FS_TYPE);
	if (off > OFF_FIXED) {
		k = ((size_t)off >> OFF_PAGE_SHIFT) - 1;
		i = ((size_t)off & ((1u << OFF_PAGE_SHIFT) - 1));
	}
	for (;;) {
		struct hlfs_cval *pv = NULL;
		int rc = hlfs_fhir_page(x, src, k, &pv, res);
		if (rc == -ENOENT && !res->dir[0])
			return hlfs_res_errno(res, 0); /* past the last page */
		if (rc)
			return filled ? hlfs_res_errno(res, 0) : rc;
		const struct hlfs_fpage *p = pv->data;
		for (; i < p->n; i++) {
			const struct hlfs_fentry *e = &p->e[i];
			if (!e->id)
				continue;
			if (k * HLFS_FHIR_PAGE + i >= max) {
				hlfs_cval_unref(pv);
				if (filled || *overflowed)
					return hlfs_res_errno(res, 0);
				*overflowed = true;
				return hlfs_fhir_refuse(res, x->type_dk, x->fp.type,
							HLFS_FOP_SEARCH, HLFS_FC_LIST_MAX, NULL,
							max);
			}
			char name[HLFS_FHIR_NAME_MAX + 1];
			struct stat st;
			if (hlfs_fhirname_resource(e->id, name, sizeof(name)))
				continue;
			hlfs_fill_stat(x->fs, &st, mode, (off_t)e->pretty_len);
			if (fill(ctx, name, &st, entry_off(k, i))) {
				hlfs_cval_unref(pv);
				return 0;
			}
			filled = true;
		}
		bool last = !p->next;
		hlfs_cval_unref(pv);
		if (last || filled)
			return 0;
		k++;
		i = 0;
	}
}

static int list_fhir(struct hlfs_fctx *x, void *ctx, fill_fn *fill, struct hlfs_res *res)
{
	struct hlfs_cval *cv = NULL;
	struct stat st;
	hlfs_fill_stat(x->fs, &st, hlfs_fhir_mode(HLFS_FK_ERROR, false), 0);
	if (fill(ctx, ".error", &st, 0))
		return 0;
	int rc = hlfs_fhir_cap(x, &cv, res);
	if (rc)
		return rc;
	const struct hlfs_fcap *cap = cv->data;
	hlfs_fill_stat(x->fs, &st, hlfs_fhir_mode(HLFS_FK_METADATA, false), 0);
	if (fill(ctx, "metadata.json", &st, 0))
		goto out;
	hlfs_fill_stat(x->fs, &st, hlfs_fhir_mode(HLFS_FK_TYPE, false), 0);
	for (size_t i = 0; i < cap->ntypes; i++) {
		const char *t = cap->types[i];
		if (hlfs_fhir_type_r4(t, strlen(t)) && fill(ctx, t, &st, 0))
			break;
	}
out:
	hlfs_cval_unref(cv);
	return 0;
}

/* A history: every version, all pages (bounded by fhir_list_max). */
static int list_history(struct hlfs_fctx *x, void *ctx, fill_fn *fill, struct hlfs_res *res)
{
	size_t seen = 0;
	struct stat st;
	hlfs_fill_stat(x->fs, &st, hlfs_fhir_mode(HLFS_FK_VERSION, false), 0);
	for (size_t k = 0;; k++) {
		struct hlfs_cval *pv = NULL;
		int rc = hlfs_fhir_page(x, HLFS_FS_HISTORY, k, &pv, res);
		if (rc == -ENOENT && !res->dir[0] && k > 0)
			return hlfs_res_errno(res, 0);
		if (rc)
			return rc;
		const struct hlfs_fpage *p = pv->data;
		bool full = false;
		for (size_t i = 0; i < p->n && !full; i++) {
			char name[HLFS_FHIR_NAME_MAX + 1];
			if (p->e[i].id && !hlfs_fhirname_resource(p->e[i].id, name, sizeof(name)))
				full = fill(ctx, name, &st, 0) != 0;
		}
		seen += p->n;
		bool last = !p->next;
		hlfs_cval_unref(pv);
		if (full || last)
			return 0;
		if (seen >= (size_t)x->fs->opts->fhir_list_max)
			return hlfs_fhir_refuse(res, x->type_dk, x->fp.type, HLFS_FOP_HISTORY,
						HLFS_FC_LIST_MAX, NULL,
						(unsigned long long)x->fs->opts->fhir_list_max);
	}
}

int hlfs_fhir_readdir(struct hlfs_fs *fs, const struct hlfs_treenode *n, off_t off,
		      bool *overflowed, void *ctx, fill_fn *fill, struct hlfs_res *res)
{
	struct hlfs_fctx x;
	struct hlfs_content self;
	hlfs_content_init(&self);
	int rc = hlfs_fctx_init(&x, fs, n, false, n->deadline, res);
	if (rc == 0)
		rc = content(&x, HLFS_FOR_STAT, &self, res);
	if (rc == 0 && !S_ISDIR(self.st.st_mode))
		rc = hlfs_res_errno(res, -ENOTDIR);
	if (rc)
		goto out;
	switch (x.fp.leaf.kind) {
	case HLFS_FK_FHIR:
	case HLFS_FK_HISTORY:
		/* Small listings, in one go (offset 0: libfuse keeps them). */
		if (fill(ctx, ".", NULL, 0) || fill(ctx, "..", NULL, 0))
			break;
		rc = x.fp.leaf.kind == HLFS_FK_FHIR ? list_fhir(&x, ctx, fill, res)
						    : list_history(&x, ctx, fill, res);
		break;
	case HLFS_FK_TYPE:
	case HLFS_FK_SEARCH: {
		/* Paged with offsets. A search directory has all.ndjson in the
		 * place of .error. */
		struct stat st;
		bool type = x.fp.leaf.kind == HLFS_FK_TYPE;
		hlfs_fill_stat(fs, &st, hlfs_fhir_mode(type ? HLFS_FK_ERROR : HLFS_FK_ALL, false), 0);
		if ((off < 1 && fill(ctx, ".", NULL, 1)) || (off < 2 && fill(ctx, "..", NULL, 2)) ||
		    (off < 3 && fill(ctx, type ? ".error" : "all.ndjson", &st, 3)))
			break;
		rc = list_pages(&x, type ? HLFS_FS_TYPE : HLFS_FS_SEARCH, off, overflowed, ctx,
				fill, res);
		break;
	}
	default:
		rc = hlfs_res_errno(res, -ENOTDIR);
	}
out:
	hlfs_content_fini(&self);
	hlfs_fctx_fini(&x);
	return rc;
}
