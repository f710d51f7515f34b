/* The writes: control-file inputs that start jobs, tag values, mkdir,
 * rmdir, unlink, and refusals. */
#include "writes.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errfile.h"
#include "fetch.h"
#include "fhirfile.h"
#include "input.h"
#include "mount.h"
#include "pending.h"
#include "refuse.h"
#include "remote.h"
#include "resolve.h"

/* "<operation> <path>": FUSE paths are at most PATH_MAX. */
#define PATH_WHAT_MAX (PATH_MAX + 32)

/* ---- control and tag files ---- */

/* The record key of the directory fh's file is in. */
static void fh_dir_key(const struct hlfs_fh *fh, char *out)
{
	hlfs_dir_key(fh->kind == HLFS_FH_TAG ? HLFS_D_TAGS
		     : fh->exports	     ? HLFS_D_EXPORTS
					     : HLFS_D_IMPORTS,
		     fh->ds_id, out);
}

static int start_job(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res)
{
	char why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct hlfs_job_request r;
	struct hl_job *job = NULL;
	const char *kind = fh->exports ? "export" : "import";
	const struct hlfs_input_defaults def = {fs->opts->role_arn, fs->opts->import_output,
						fs->opts->kms_key};
	fh_dir_key(fh, dk);
	int rc = hlfs_input_parse(fh->exports, fh->data.data ? fh->data.data : "", fh->data.len,
				  &def, fh->ds_id, &r, why, sizeof(why));
	hl_buf_reset(&fh->data);
	if (rc)
		return hlfs_res_fail(res, rc, dk, "start %s job: %s", kind, why);
	rc = hlfs_remote_start_job(fs, fh->exports, fh->ds_id, &r, hlfs_deadline(fs), &job, why);
	hlfs_job_request_free(&r);
	/* Whatever happened, a job may exist now: list again. */
	hlfs_drop_jobs(fs, fh->ds_id, fh->exports);
	if (rc)
		return hlfs_res_fail(res, rc, dk, "start %s job: %s", kind, why);
	hlfs_logf(fs->log, LOG_INFO, "started %s job %s in %s", kind, job->id ? job->id : "?",
		  fh->ds_id);
	hl_job_free(job);
	return 0;
}

static int put_tag(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res)
{
	char why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	size_t len = fh->data.len;
	if (len && fh->data.data[len - 1] == '\n')
		len--; /* one trailing newline is stripped */
	char *value = strndup(fh->data.data ? fh->data.data : "", len);
	hl_buf_reset(&fh->data);
	fh->sent = true;
	if (!value)
		return hlfs_res_errno(res, -ENOMEM);
	int rc = hlfs_remote_tag(fs, fh->ds_arn, fh->key, value, hlfs_deadline(fs), why);
	free(value);
	hlfs_drop_tags(fs, fh->ds_id);
	if (rc) {
		fh_dir_key(fh, dk);
		return hlfs_res_fail(res, rc, dk, "write tag %s: %s", fh->key, why);
	}
	hlfs_pending_done(fs->pending, fh->ds_id, fh->key);
	return 0;
}

int hlfs_fh_act(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res)
{
	return fh->kind == HLFS_FH_TAG ? put_tag(fs, fh, res) : start_job(fs, fh, res);
}

int hlfs_do_write(struct hlfs_fs *fs, struct hlfs_fh *fh, const char *buf, size_t size, off_t off,
		  struct hlfs_res *res)
{
	char dk[HLFS_DIRKEY_MAX];
	int rc = 0;
	hlfs_res_init(res);
	if (fh->kind == HLFS_FH_FHIR)
		return hlfs_fhir_write(fh, buf, size, off, res);
	if (fh->kind == HLFS_FH_SNAPSHOT || fh->kind == HLFS_FH_S3)
		return hlfs_res_errno(res, -EBADF);
	pthread_mutex_lock(&fh->lock);
	size_t before = fh->data.len;
	if (before + size > HLFS_INPUT_MAX || hl_buf_append(&fh->data, buf, size) != HL_ERR_OK) {
		hl_buf_reset(&fh->data);
		fh_dir_key(fh, dk);
		rc = hlfs_res_fail(res, EINVAL, dk, "write %s: input is larger than 64 KiB",
				   fh->kind == HLFS_FH_TAG ? fh->key : "new");
		goto out;
	}
	if (fh->kind == HLFS_FH_TAG) {
		if (fh->data.len && fh->data.data[fh->data.len - 1] == '\n')
			rc = put_tag(fs, fh, res);
		goto out;
	}
	const char *why = NULL;
	switch (hlfs_input_check(fh->data.data, fh->data.len, before, &why)) {
	case HLFS_IN_INCOMPLETE:
		break;
	case HLFS_IN_COMPLETE:
		rc = start_job(fs, fh, res);
		break;
	case HLFS_IN_INVALID:
		hl_buf_reset(&fh->data);
		fh_dir_key(fh, dk);
		rc = hlfs_res_fail(res, EINVAL, dk, "start %s job: %s",
				   fh->exports ? "export" : "import", why);
		break;
	}
out:
	pthread_mutex_unlock(&fh->lock);
	return rc ? rc : (int)size;
}

int hlfs_do_flush(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res)
{
	int rc = 0;
	hlfs_res_init(res);
	if (fh->kind == HLFS_FH_FHIR)
		return hlfs_fhir_flush(fh, res);
	if (fh->kind == HLFS_FH_SNAPSHOT || fh->kind == HLFS_FH_S3)
		return 0;
	pthread_mutex_lock(&fh->lock);
	if (fh->data.len > 0) /* an empty flush does nothing */
		rc = hlfs_fh_act(fs, fh, res);
	else if (fh->kind == HLFS_FH_TAG && fh->touched && !fh->sent)
		/* `: > tags/k` or a shell's dup-and-close: nothing to set yet; if no
		 * write follows, the release will set "" -- a reader may wait for it. */
		hlfs_pending_closing(fs->pending, fh->ds_id, fh->key, hl_now_ms());
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

/* The refusal of op on node by this mount's options, if any, in res. */
static int refused(struct hlfs_fs *fs, enum hlfs_op op, enum hlfs_node node, const char *dir,
		   const char *what, struct hlfs_res *res)
{
	return hlfs_refused(op, node, fs->opts->ro, fs->opts->allow_delete, dir, what, res);
}

int hlfs_do_truncate(struct hlfs_fs *fs, const char *path, struct hlfs_fh *fh, off_t size,
		     struct hlfs_res *res)
{
	struct hlfs_treenode n;
	hlfs_res_init(res);
	if (fh && fh->kind == HLFS_FH_FHIR)
		return hlfs_fhir_ftruncate(fh, size, res);
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc == 0 && n.p.node == HLFS_N_FHIR) {
		rc = hlfs_fhir_truncate(fs, &n, size, res);
		hlfs_node_fini(&n);
		return rc;
	}
	hlfs_node_fini(&n);
	if (size != 0) /* only an input can be emptied */
		return hlfs_res_errno(res, fs->opts->ro ? -EROFS : -EACCES);
	if (fh && (fh->kind == HLFS_FH_CONTROL || fh->kind == HLFS_FH_TAG)) {
		pthread_mutex_lock(&fh->lock);
		fh->touched = true;
		hl_buf_reset(&fh->data);
		pthread_mutex_unlock(&fh->lock);
		return 0;
	}
	rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc == 0)
		rc = refused(fs, HLFS_OP_TRUNCATE, n.p.node, "/", path, res);
	hlfs_node_fini(&n);
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

int hlfs_do_mkdir(struct hlfs_fs *fs, const char *path, struct hlfs_res *res)
{
	struct hlfs_path p;
	struct hl_error err;
	struct hl_datastore *d = NULL;
	struct hl_datastore_list *same = NULL;
	char why[HLFS_WHY_MAX], what[HLFS_NAME_MAX + 8];
	int64_t deadline = hlfs_deadline(fs);
	hlfs_res_init(res);
	int rc = hlfs_path_parse(path, &p);
	if (rc)
		return hlfs_res_errno(res, rc == -ENOENT ? -EPERM : rc);
	snprintf(what, sizeof(what), "mkdir %s", p.store);
	rc = refused(fs, HLFS_OP_MKDIR, p.node, "/", what, res);
	if (rc)
		return rc;
	hl_error_clear(&err);
	if (hl_validate_datastore_name(p.store, &err) != HL_ERR_OK)
		return hlfs_res_fail(res, EINVAL, "/", "%s: invalid data store name: %s", what,
				     err.message);
	/* Asked afresh, filtered by the name: the cached listing may predate a
	 * store made elsewhere, and the service itself allows duplicates. */
	rc = hlfs_remote_list_datastores(fs, p.store, deadline, &same, why);
	if (rc)
		return hlfs_res_fail(res, rc, "/", "%s: %s", what, why);
	for (size_t i = 0; i < same->n; i++) {
		const struct hl_datastore *x = &same->items[i];
		if (x->name && !strcmp(x->name, p.store) &&
		    (!x->status || strcmp(x->status, "DELETED"))) {
			rc = hlfs_res_fail(res, EEXIST, "/",
					   "%s: a data store with that name exists (%s)", what,
					   x->id ? x->id : "?");
			hl_datastore_list_free(same);
			return rc;
		}
	}
	hl_datastore_list_free(same);
	struct hl_create_datastore_input in = {
	    .name = p.store,
	    .kms_key_id = fs->opts->kms_key,
	    .preload_synthea = fs->opts->preload != NULL,
	};
	rc = hlfs_remote_create_datastore(fs, &in, deadline, &d, why);
	if (rc) {
		hlfs_drop_listing(fs); /* it may exist after all */
		return hlfs_res_fail(res, rc, "/", "%s: %s", what, why);
	}
	hlfs_logf(fs->log, LOG_INFO, "created data store %s (%s)", p.store, d->id ? d->id : "?");
	/* Visible at once as CREATING: the answer carries id, arn, status and
	 * endpoint; the rest we know. The listing will say the same soon. */
	if (!d->id || !d->arn)
		goto relist;
	if (!d->name)
		d->name = strdup(p.store);
	if (!d->type_version)
		d->type_version = strdup("R4");
	if (!d->status)
		d->status = strdup("CREATING");
	if (!d->has_created_at) {
		d->created_at = (double)hl_real_ms() / 1000.0;
		d->has_created_at = true;
	}
	if (!d->name || !d->type_version || !d->status)
		goto relist;
	hlfs_listing_patch(fs, d);
	return 0;
relist: /* too little to show it now: the next listing will */
	hlfs_drop_listing(fs);
	hl_datastore_free(d);
	return 0;
}

/* The listing shows the store DELETING (or what the service said) at once. */
static void show_deleting(struct hlfs_fs *fs, const struct hl_datastore *ds,
			  const struct hl_datastore *d)
{
	struct hl_datastore *c = datastore_dup(ds);
	const char *st = d && d->status ? d->status : "DELETING";
	char *s = c ? strdup(st) : NULL;
	if (s) {
		free(c->status);
		c->status = s;
		if (c->raw && cJSON_GetObjectItemCaseSensitive(c->raw, "DatastoreStatus"))
			cJSON_ReplaceItemInObjectCaseSensitive(c->raw, "DatastoreStatus",
							       cJSON_CreateString(st));
		hlfs_listing_patch(fs, c);
	} else {
		hl_datastore_free(c);
		hlfs_drop_listing(fs);
	}
}

int hlfs_do_rmdir(struct hlfs_fs *fs, const char *path, struct hlfs_res *res)
{
	struct hlfs_treenode n;
	struct hl_datastore *d = NULL;
	char why[HLFS_WHY_MAX], what[HLFS_NAME_MAX + 8];
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n, res);
	if (rc)
		goto out;
	snprintf(what, sizeof(what), "rmdir %s", n.p.store);
	rc = refused(fs, HLFS_OP_RMDIR, n.p.node, "/", what, res);
	if (rc)
		goto out;
	rc = hlfs_remote_delete_datastore(fs, n.ds->id, deadline, &d, why);
	hlfs_drop_datastore(fs, n.ds->id);
	if (rc) {
		hlfs_res_fail(res, rc, "/", "%s: %s", what, why);
		goto out;
	}
	hlfs_logf(fs->log, LOG_INFO, "deleting data store %s (%s)", n.p.store, n.ds->id);
	/* It stays listed, DELETING, until the service says DELETED. */
	show_deleting(fs, n.ds, d);
	hl_datastore_free(d);
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_unlink(struct hlfs_fs *fs, const char *path, struct hlfs_res *res)
{
	struct hlfs_treenode n;
	char why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX], what[PATH_WHAT_MAX];
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n, res);
	if (rc)
		goto out;
	if (n.p.node == HLFS_N_FHIR) {
		rc = hlfs_fhir_unlink(fs, &n, res);
		goto out;
	}
	hlfs_node_dir_key(&n, dk);
	if (n.p.node == HLFS_N_TAG)
		snprintf(what, sizeof(what), "unlink tag %s", n.p.leaf);
	else
		snprintf(what, sizeof(what), "unlink %s", path);
	rc = refused(fs, HLFS_OP_UNLINK, n.p.node, dk, what, res);
	if (rc)
		goto out;
	rc = hlfs_remote_untag(fs, n.ds->arn, n.p.leaf, n.deadline, why);
	hlfs_drop_tags(fs, n.ds->id);
	if (rc)
		hlfs_res_fail(res, rc, dk, "%s: %s", what, why);
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_refuse(struct hlfs_fs *fs, const char *path, const char *op, struct hlfs_res *res)
{
	struct hlfs_treenode n;
	char dk[HLFS_DIRKEY_MAX], what[PATH_WHAT_MAX];
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n, res);
	if (rc && rc != -ENOENT) {
		hlfs_node_fini(&n);
		return rc;
	}
	if (rc == 0)
		hlfs_node_dir_key(&n, dk);
	else
		snprintf(dk, sizeof(dk), "/");
	hlfs_node_fini(&n);
	snprintf(what, sizeof(what), "%s %s", op, path);
	hlfs_res_init(res);
	return refused(fs, HLFS_OP_OTHER, HLFS_N_ROOT, dk, what, res);
}

int hlfs_do_rename(struct hlfs_fs *fs, const char *from, const char *to, unsigned int flags,
		   struct hlfs_res *res)
{
	struct hlfs_treenode a, b;
	memset(&b, 0, sizeof(b));
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, from, deadline, &a, res);
	if (rc == 0 && a.p.node == HLFS_N_FHIR && flags == 0) {
		/* The target need not exist: its store is found by its path. */
		if ((rc = hlfs_resolve(fs, to, deadline, &b, res)) == 0 && b.p.node == HLFS_N_FHIR &&
		    a.ds == b.ds)
			rc = hlfs_fhir_rename(fs, &a, &b, res);
		else if (rc == 0)
			rc = hlfs_res_errno(res, fs->opts->ro ? -EROFS : -EPERM);
		hlfs_node_fini(&a);
		hlfs_node_fini(&b);
		return rc;
	}
	hlfs_node_fini(&a);
	return hlfs_do_refuse(fs, from, "rename", res);
}

int hlfs_do_setattr(struct hlfs_fs *fs, const char *path, const char *op, mode_t mode, uid_t uid,
		    gid_t gid, struct hlfs_res *res)
{
	struct hlfs_treenode n;
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n, res);
	if (rc == 0 && n.p.node == HLFS_N_FHIR) {
		enum hlfs_fhir_attr what = op[2] == 'm'	  ? HLFS_FA_MODE
					   : op[2] == 'o' ? HLFS_FA_OWNER
							  : HLFS_FA_TIMES;
		rc = hlfs_fhir_setattr(fs, &n, what, mode, uid, gid, res);
		hlfs_node_fini(&n);
		return rc;
	}
	hlfs_node_fini(&n);
	return hlfs_do_refuse(fs, path, op, res);
}
