/* The only module of fs/ that calls the service (hl_* of healthlake.h):
 * each call is counted in flight for /.stats, and a failure is turned into
 * -errno (errmap.h) and its reason, "<code>: <message>", written into why
 * (HLFS_WHY_MAX bytes; never a secret: the api guarantees it of struct
 * hl_error). Outputs are the api's; callers free them as healthlake.h says. */
#ifndef HLFS_REMOTE_H
#define HLFS_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "healthlake.h"
#include "input.h"
#include "s3.h"

struct hlfs_fs;

/* A listing, however many pages, of at most HLFS_MAX_LIST_ITEMS stores;
 * only those named name when name is given. */
#define HLFS_MAX_LIST_ITEMS 100000 /* bound on one listing, however large the account */
int hlfs_remote_list_datastores(struct hlfs_fs *fs, const char *name, int64_t deadline,
				struct hl_datastore_list **ret, char *why);
/* The mount-time check: one page of one store. The api's own error, for the
 * check to tell set-up errors from passing ones. */
enum hl_err hlfs_remote_probe(struct hlfs_fs *fs, int64_t deadline, struct hl_datastore_list **ret,
			      struct hl_error *err);
int hlfs_remote_describe_datastore(struct hlfs_fs *fs, const char *ds_id, int64_t deadline,
				   struct hl_datastore **ret, char *why);
int hlfs_remote_create_datastore(struct hlfs_fs *fs, const struct hl_create_datastore_input *in,
				 int64_t deadline, struct hl_datastore **ret, char *why);
int hlfs_remote_delete_datastore(struct hlfs_fs *fs, const char *ds_id, int64_t deadline,
				 struct hl_datastore **ret, char *why);
int hlfs_remote_list_jobs(struct hlfs_fs *fs, bool exports, const char *ds_id, int64_t deadline,
			  struct hl_job_list **ret, char *why);
int hlfs_remote_describe_job(struct hlfs_fs *fs, bool exports, const char *ds_id,
			     const char *job_id, int64_t deadline, struct hl_job **ret, char *why);
/* StartFHIRImportJob or StartFHIRExportJob of request r in store ds_id. */
int hlfs_remote_start_job(struct hlfs_fs *fs, bool exports, const char *ds_id,
			  const struct hlfs_job_request *r, int64_t deadline, struct hl_job **ret,
			  char *why);
int hlfs_remote_list_tags(struct hlfs_fs *fs, const char *arn, int64_t deadline,
			  struct hl_tag_list **ret, char *why);
int hlfs_remote_tag(struct hlfs_fs *fs, const char *arn, const char *key, const char *value,
		    int64_t deadline, char *why);
int hlfs_remote_untag(struct hlfs_fs *fs, const char *arn, const char *key, int64_t deadline,
		      char *why);

/* Job output (joboutput.h): every object under prefix, all pages; bytes
 * [off, off + len) of one object, If-Match etag (HL_ERR_PRECONDITION is
 * ESTALE). -EIO when the mount has no S3 client. */
int hlfs_remote_s3_list(struct hlfs_fs *fs, const char *bucket, const char *prefix,
			int64_t deadline, struct hl_s3_list *ret, char *why);
int hlfs_remote_s3_get(struct hlfs_fs *fs, const char *bucket, const char *key, uint64_t off,
		       size_t len, const char *etag, void *buf, size_t *ret_n, int64_t deadline,
		       char *why);

#endif
