/* Every service call of the tree, bracketed the same way. */
#include "remote.h"

#include <errno.h>
#include <stdio.h>

#include "errmap.h"
#include "mount.h"
#include "result.h"

static void begin(struct hlfs_fs *fs, struct hl_error *err)
{
	hl_error_clear(err);
	hlfs_stats_inflight(fs->stats, 1);
}

/* 0, or -errno with the reason in why. */
static int end(struct hlfs_fs *fs, enum hl_err e, const struct hl_error *err, char *why)
{
	hlfs_stats_inflight(fs->stats, -1);
	if (e == HL_ERR_OK)
		return 0;
	const char *code = err->aws_code[0] ? err->aws_code : hl_strerror(err->code);
	if (err->message[0])
		snprintf(why, HLFS_WHY_MAX, "%s: %s", code, err->message);
	else
		snprintf(why, HLFS_WHY_MAX, "%s", code);
	int en = hlfs_errno(e);
	return -(en ? en : EIO);
}

int hlfs_remote_list_datastores(struct hlfs_fs *fs, const char *name, int64_t deadline,
				struct hl_datastore_list **ret, char *why)
{
	struct hl_list_datastores_input in = {.name = name, .max_results = 500};
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e =
	    hl_list_datastores_all(fs->client, &in, HLFS_MAX_LIST_ITEMS, deadline, ret, &err);
	return end(fs, e, &err, why);
}

enum hl_err hlfs_remote_probe(struct hlfs_fs *fs, int64_t deadline, struct hl_datastore_list **ret,
			      struct hl_error *err)
{
	struct hl_list_datastores_input in = {.max_results = 1};
	hl_error_clear(err);
	return hl_list_datastores(fs->client, &in, deadline, ret, err);
}

int hlfs_remote_describe_datastore(struct hlfs_fs *fs, const char *ds_id, int64_t deadline,
				   struct hl_datastore **ret, char *why)
{
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_describe_datastore(fs->client, ds_id, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_create_datastore(struct hlfs_fs *fs, const struct hl_create_datastore_input *in,
				 int64_t deadline, struct hl_datastore **ret, char *why)
{
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_create_datastore(fs->client, in, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_delete_datastore(struct hlfs_fs *fs, const char *ds_id, int64_t deadline,
				 struct hl_datastore **ret, char *why)
{
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_delete_datastore(fs->client, ds_id, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_list_jobs(struct hlfs_fs *fs, bool exports, const char *ds_id, int64_t deadline,
			  struct hl_job_list **ret, char *why)
{
	struct hl_list_jobs_input in = {.datastore_id = ds_id, .max_results = 500};
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_list_jobs_all(fs->client, exports ? HL_JOB_EXPORT : HL_JOB_IMPORT, &in,
					 HLFS_MAX_LIST_ITEMS, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_describe_job(struct hlfs_fs *fs, bool exports, const char *ds_id,
			     const char *job_id, int64_t deadline, struct hl_job **ret, char *why)
{
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_describe_job(fs->client, exports ? HL_JOB_EXPORT : HL_JOB_IMPORT, ds_id,
					job_id, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_start_job(struct hlfs_fs *fs, bool exports, const char *ds_id,
			  const struct hlfs_job_request *r, int64_t deadline, struct hl_job **ret,
			  char *why)
{
	struct hl_error err;
	enum hl_err e;
	begin(fs, &err);
	if (exports) {
		struct hl_start_export_input in = {.datastore_id = ds_id,
						   .job_name = r->job_name,
						   .output_s3_uri = r->output_uri,
						   .kms_key_id = r->kms_key,
						   .role_arn = r->role_arn,
						   .client_token = r->client_token};
		e = hl_start_export_job(fs->client, &in, deadline, ret, &err);
	} else {
		struct hl_start_import_input in = {.datastore_id = ds_id,
						   .job_name = r->job_name,
						   .input_s3_uri = r->input_uri,
						   .output_s3_uri = r->output_uri,
						   .kms_key_id = r->kms_key,
						   .role_arn = r->role_arn,
						   .client_token = r->client_token,
						   .validation_level = r->validation_level};
		e = hl_start_import_job(fs->client, &in, deadline, ret, &err);
	}
	return end(fs, e, &err, why);
}

int hlfs_remote_list_tags(struct hlfs_fs *fs, const char *arn, int64_t deadline,
			  struct hl_tag_list **ret, char *why)
{
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_list_tags(fs->client, arn, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_tag(struct hlfs_fs *fs, const char *arn, const char *key, const char *value,
		    int64_t deadline, char *why)
{
	struct hl_tag t = {(char *)key, (char *)value};
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_tag_resource(fs->client, arn, &t, 1, deadline, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_untag(struct hlfs_fs *fs, const char *arn, const char *key, int64_t deadline,
		      char *why)
{
	const char *keys[1] = {key};
	struct hl_error err;
	begin(fs, &err);
	enum hl_err e = hl_untag_resource(fs->client, arn, keys, 1, deadline, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_s3_list(struct hlfs_fs *fs, const char *bucket, const char *prefix,
			int64_t deadline, struct hl_s3_list *ret, char *why)
{
	struct hl_error err;
	if (!fs->s3) {
		snprintf(why, HLFS_WHY_MAX, "no S3 client (see the mount's log)");
		return -EIO;
	}
	begin(fs, &err);
	enum hl_err e = hl_s3_list_all(fs->s3, bucket, prefix, deadline, ret, &err);
	return end(fs, e, &err, why);
}

int hlfs_remote_s3_get(struct hlfs_fs *fs, const char *bucket, const char *key, uint64_t off,
		       size_t len, const char *etag, void *buf, size_t *ret_n, int64_t deadline,
		       char *why)
{
	struct hl_error err;
	if (!fs->s3) {
		snprintf(why, HLFS_WHY_MAX, "no S3 client (see the mount's log)");
		return -EIO;
	}
	begin(fs, &err);
	enum hl_err e =
	    hl_s3_get_range(fs->s3, bucket, key, off, len, etag, buf, ret_n, deadline, &err);
	return end(fs, e, &err, why);
}
