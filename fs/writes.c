/* The writes: control-file inputs that start jobs, tag values, mkdir,
 * rmdir, unlink, and refusals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"
#include "tree_i.h"

/* ---- control and tag files ---- */

/* The record key of the directory fh's file is in. */
static void fh_dir_key(const struct hlfs_fh *fh, char *out, size_t n)
{
	hlfs_dir_key(fh->kind == HLFS_FH_TAG ? HLFS_D_TAGS
		     : fh->exports	     ? HLFS_D_EXPORTS
					     : HLFS_D_IMPORTS,
		     fh->ds_id, out, n);
}

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
	fh_dir_key(fh, dk, sizeof(dk));
	int rc = hlfs_input_parse(fh->exports, fh->data.data ? fh->data.data : "", fh->data.len,
				  &def, fh->ds_id, &r, why, sizeof(why));
	hl_buf_reset(&fh->data);
	if (rc) {
		hlfs_note(fs, dk, "start %s job: %s", kind, why);
		return rc;
	}
	enum hl_err e;
	hlfs_call_begin(fs, &err);
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
	rc = hlfs_call_end(fs, e, &err, why, sizeof(why));
	hlfs_job_request_free(&r);
	/* Whatever happened, a job may exist now: list again. */
	hlfs_forget_jobs(fs, fh->ds_id, fh->exports);
	if (rc) {
		hlfs_note(fs, dk, "start %s job: %s", kind, why);
		return rc;
	}
	hlfs_logf(fs->log, LOG_INFO, "started %s job %s in %s", kind, job->id ? job->id : "?",
		  fh->ds_id);
	hl_job_free(job);
	return 0;
}

static int put_tag(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	char why[600], dk[96];
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
	fh_dir_key(fh, dk, sizeof(dk));
	hlfs_call_begin(fs, &err);
	enum hl_err e = hl_tag_resource(fs->client, fh->ds_arn, &t, 1, hlfs_deadline(fs), &err);
	int rc = hlfs_call_end(fs, e, &err, why, sizeof(why));
	free(value);
	hlfs_forget_tags(fs, fh->ds_id);
	if (rc)
		hlfs_note(fs, dk, "write tag %s: %s", fh->key, why);
	else
		hlfs_pending_done(fs, fh->ds_id, fh->key);
	return rc;
}

int hlfs_fh_act(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	return fh->kind == HLFS_FH_TAG ? put_tag(fs, fh) : start_job(fs, fh);
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
		fh_dir_key(fh, dk, sizeof(dk));
		hlfs_note(fs, dk, "write %s: input is larger than 64 KiB",
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
		fh_dir_key(fh, dk, sizeof(dk));
		hlfs_note(fs, dk, "start %s job: %s", fh->exports ? "export" : "import", why);
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
		rc = hlfs_fh_act(fs, fh);
	else if (fh->kind == HLFS_FH_TAG && fh->touched && !fh->sent)
		/* `: > tags/k` or a shell's dup-and-close: nothing to set yet; if no
		 * write follows, the release will set "" -- a reader may wait for it. */
		hlfs_pending_closing(fs, fh->ds_id, fh->key);
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

int hlfs_do_truncate(struct hlfs_fs *fs, const char *path, struct hlfs_fh *fh)
{
	struct hlfs_treenode n;
	if (fh && fh->kind != HLFS_FH_SNAPSHOT) {
		pthread_mutex_lock(&fh->lock);
		fh->touched = true;
		hl_buf_reset(&fh->data);
		pthread_mutex_unlock(&fh->lock);
		return 0;
	}
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n);
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
		hlfs_note(fs, "/", "mkdir %s: read-only mount", p.store);
		return -EROFS;
	}
	hl_error_clear(&err);
	if (hl_validate_datastore_name(p.store, &err) != HL_ERR_OK) {
		hlfs_note(fs, "/", "mkdir %s: invalid data store name: %s", p.store, err.message);
		return -EINVAL;
	}
	/* Asked afresh, filtered by the name: the cached listing may predate a
	 * store made elsewhere, and the service itself allows duplicates. */
	struct hl_list_datastores_input lin = {.name = p.store, .max_results = 500};
	struct hl_datastore_list *same = NULL;
	hlfs_call_begin(fs, &err);
	enum hl_err le =
	    hl_list_datastores_all(fs->client, &lin, HLFS_MAX_LIST_ITEMS, deadline, &same, &err);
	rc = hlfs_call_end(fs, le, &err, why, sizeof(why));
	if (rc) {
		hlfs_note(fs, "/", "mkdir %s: %s", p.store, why);
		return rc;
	}
	for (size_t i = 0; i < same->n; i++) {
		const struct hl_datastore *x = &same->items[i];
		if (x->name && !strcmp(x->name, p.store) &&
		    (!x->status || strcmp(x->status, "DELETED"))) {
			hlfs_note(fs, "/", "mkdir %s: a data store with that name exists (%s)",
				  p.store, x->id ? x->id : "?");
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
	hlfs_call_begin(fs, &err);
	enum hl_err e = hl_create_datastore(fs->client, &in, deadline, &d, &err);
	rc = hlfs_call_end(fs, e, &err, why, sizeof(why));
	if (rc) {
		hlfs_note(fs, "/", "mkdir %s: %s", p.store, why);
		hlfs_forget_listing(fs); /* it may exist after all */
		return rc;
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
		d->created_at = wall_now();
		d->has_created_at = true;
	}
	if (!d->name || !d->type_version || !d->status)
		goto relist;
	hlfs_listing_patch(fs, d);
	return 0;
relist: /* too little to show it now: the next listing will */
	hlfs_forget_listing(fs);
	hl_datastore_free(d);
	return 0;
}

int hlfs_do_rmdir(struct hlfs_fs *fs, const char *path)
{
	struct hlfs_treenode n;
	struct hl_error err;
	struct hl_datastore *d = NULL;
	char why[600];
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, path, deadline, &n);
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
		hlfs_note(fs, "/", "rmdir %s: read-only mount", n.p.store);
		rc = -EROFS;
		goto out;
	}
	if (!fs->opts->allow_delete) {
		hlfs_note(fs, "/", "rmdir %s: deleting a data store needs the allow_delete option",
			  n.p.store);
		rc = -EPERM;
		goto out;
	}
	hlfs_call_begin(fs, &err);
	enum hl_err e = hl_delete_datastore(fs->client, n.ds->id, deadline, &d, &err);
	rc = hlfs_call_end(fs, e, &err, why, sizeof(why));
	hlfs_forget_datastore(fs, n.ds->id);
	if (rc) {
		hlfs_note(fs, "/", "rmdir %s: %s", n.p.store, why);
		goto out;
	}
	hlfs_logf(fs->log, LOG_INFO, "deleting data store %s (%s)", n.p.store, n.ds->id);
	/* It stays listed, DELETING, until the service says DELETED. */
	struct hl_datastore *c = datastore_dup(n.ds);
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
		hlfs_forget_listing(fs);
	}
	hl_datastore_free(d);
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_unlink(struct hlfs_fs *fs, const char *path)
{
	struct hlfs_treenode n;
	struct hl_error err;
	char why[600], dk[96];
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n);
	if (rc)
		return rc;
	hlfs_node_dir_key(&n, dk, sizeof(dk));
	if (n.p.node != HLFS_N_TAG) {
		bool dir = n.p.node == HLFS_N_ROOT || n.p.node == HLFS_N_STORE ||
			   n.p.node == HLFS_N_TAGS || n.p.node == HLFS_N_JOBS;
		rc = dir ? -EISDIR : fs->opts->ro ? -EROFS : -EPERM;
		if (!dir)
			hlfs_note(fs, dk, "unlink %s: %s", path,
				  fs->opts->ro ? "read-only mount" : "only tags can be removed");
		goto out;
	}
	if (fs->opts->ro || !fs->opts->allow_delete) {
		rc = fs->opts->ro ? -EROFS : -EPERM;
		hlfs_note(fs, dk, "unlink tag %s: %s", n.p.leaf,
			  fs->opts->ro ? "read-only mount"
				       : "removing a tag needs the allow_delete option");
		goto out;
	}
	const char *keys[1] = {n.p.leaf};
	hlfs_call_begin(fs, &err);
	enum hl_err e = hl_untag_resource(fs->client, n.ds->arn, keys, 1, hlfs_deadline(fs), &err);
	rc = hlfs_call_end(fs, e, &err, why, sizeof(why));
	hlfs_forget_tags(fs, n.ds->id);
	if (rc)
		hlfs_note(fs, dk, "unlink tag %s: %s", n.p.leaf, why);
out:
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_refuse(struct hlfs_fs *fs, const char *path, const char *op)
{
	struct hlfs_treenode n;
	char dk[96];
	int rc = hlfs_resolve(fs, path, hlfs_deadline(fs), &n);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		hlfs_node_dir_key(&n, dk, sizeof(dk));
		hlfs_node_fini(&n);
	} else {
		snprintf(dk, sizeof(dk), "/");
	}
	hlfs_note(fs, dk, "%s %s: %s", op, path,
		  fs->opts->ro ? "read-only mount" : "not an operation this filesystem offers");
	return fs->opts->ro ? -EROFS : -EPERM;
}
