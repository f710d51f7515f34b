/* libhealthlake: the Amazon HealthLake control-plane API (2017-07-01) as
 * typed C calls. Knows nothing of FUSE. Thread-safe: one struct hl_client is
 * shared by all threads of a process; two clients can live side by side. */
#ifndef HL_HEALTHLAKE_H
#define HL_HEALTHLAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "clock.h" /* hl_now_ms(): the clock of every deadline_ms */
#include "err.h"
#include "validate.h" /* the model's input rules, checked before every call */

/* What one API call cost, reported after it ends (success or not). Strings
 * are valid only during the callback. */
struct hl_call_info {
	const char *operation;  /* "DescribeFHIRDatastore" */
	enum hl_err code;       /* HL_ERR_OK on success */
	const char *aws_code;   /* "" when none */
	long http_status;       /* of the last attempt; 0 when none */
	int attempts;           /* >= 1 when anything was sent; 0 when refused before sending */
	int throttled;          /* attempts answered with a throttling error */
	double ms;              /* wall time of the whole call, pacing and backoff included */
	size_t bytes_in;        /* response bytes received, all attempts */
	size_t bytes_out;       /* request bytes sent, all attempts */
	const char *request_id; /* of the last attempt; "" when none */
};

struct hl_client_options {
	const char *profile;    /* NULL: AWS_DEFAULT_PROFILE, AWS_PROFILE, "default" */
	const char *region;     /* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile */
	const char *endpoint;   /* NULL: AWS_ENDPOINT_URL_HEALTHLAKE, AWS_ENDPOINT_URL, profile, regional */
	const char *ca_file;    /* NULL: AWS_CA_BUNDLE, profile ca_bundle, system store */
	int max_attempts;       /* 0: AWS_MAX_ATTEMPTS, profile max_attempts, 3 */
	double max_tps;         /* 0: 10. Calls (attempts included) started per second, all threads */
	int connect_timeout_ms; /* 0: 5000 */
	size_t max_response_bytes; /* 0: 8 MiB; larger responses fail with HL_ERR_TOO_LARGE */
	/* Called once per API call from the calling thread; may be NULL. */
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

struct hl_client;

/* Resolves config and the credential chain (credentials are fetched lazily,
 * at the first call). Caller frees with hl_client_free(). */
enum hl_err hl_client_new(const struct hl_client_options *opt, struct hl_client **ret,
			  struct hl_error *err);
void hl_client_free(struct hl_client *c);
/* Effective settings, owned by the client. */
const char *hl_client_region(const struct hl_client *c);
const char *hl_client_endpoint(const struct hl_client *c);

/* ---- Results. Each owns its strings and its raw JSON. ---- */

struct hl_datastore {
	char *id;
	char *arn;
	char *name;         /* NULL when the store has no name */
	char *status;       /* "CREATING", "ACTIVE", ... */
	char *type_version; /* "R4"; NULL in Create/Delete responses */
	char *endpoint;
	double created_at;  /* epoch seconds, fractional; valid when has_created_at */
	bool has_created_at;
	cJSON *raw;         /* the DatastoreProperties object (or the Create/Delete
			     * response) exactly as received, members in the service's order */
};

enum hl_job_kind { HL_JOB_IMPORT, HL_JOB_EXPORT };

struct hl_job {
	enum hl_job_kind kind;
	char *id;
	char *name;          /* NULL when none */
	char *status;        /* "SUBMITTED", ..., "COMPLETED" */
	char *datastore_id;  /* may be NULL in Start responses */
	char *message;       /* NULL when none */
	double submit_time;  /* epoch seconds; valid when has_submit_time */
	bool has_submit_time;
	double end_time;
	bool has_end_time;
	cJSON *raw;          /* the *JobProperties object (or the Start response) as received */
};

struct hl_datastore_list {
	struct hl_datastore *items;
	size_t n;
	char *next_token;    /* NULL when this was the last page */
};

struct hl_job_list {
	struct hl_job *items;
	size_t n;
	char *next_token;
};

struct hl_tag {
	char *key;
	char *value;
};

struct hl_tag_list {
	struct hl_tag *items;
	size_t n;
};

void hl_datastore_free(struct hl_datastore *d);        /* frees d itself; NULL-safe */
void hl_job_free(struct hl_job *j);                    /* frees j itself; NULL-safe */
void hl_datastore_list_free(struct hl_datastore_list *l);
void hl_job_list_free(struct hl_job_list *l);
void hl_tag_list_free(struct hl_tag_list *l);

/* True for COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCEL_COMPLETED, CANCEL_FAILED. */
bool hl_job_status_terminal(const char *status);

/* ---- Inputs. NULL/0 members are left out of the request. ---- */

struct hl_create_datastore_input {
	const char *name;
	const char *type_version;   /* NULL = "R4" */
	const char *kms_key_id;     /* NULL = AWS owned key; set = CUSTOMER_MANAGED_KMS_KEY */
	bool preload_synthea;
	const char *client_token;   /* NULL = generated UUID4, reused on every attempt */
	const struct hl_tag *tags;
	size_t n_tags;
};

struct hl_list_datastores_input {
	const char *name;           /* Filter.DatastoreName */
	const char *status;         /* Filter.DatastoreStatus */
	int64_t created_before;     /* epoch seconds; 0 = unset */
	int64_t created_after;
	int max_results;            /* 0 = unset (service default) */
	const char *next_token;
};

struct hl_start_import_input {
	const char *datastore_id;
	const char *job_name;
	const char *input_s3_uri;
	const char *output_s3_uri;  /* JobOutputDataConfig.S3Configuration.S3Uri */
	const char *kms_key_id;     /* JobOutputDataConfig.S3Configuration.KmsKeyId (required by the model) */
	const char *role_arn;       /* DataAccessRoleArn */
	const char *client_token;
	const char *validation_level; /* "strict", "structure-only", "minimal"; NULL = service default */
};

struct hl_start_export_input {
	const char *datastore_id;
	const char *job_name;
	const char *output_s3_uri;
	const char *kms_key_id;
	const char *role_arn;
	const char *client_token;
};

struct hl_list_jobs_input {
	const char *datastore_id;
	const char *job_name;
	const char *job_status;
	int64_t submitted_before;   /* epoch seconds; 0 = unset */
	int64_t submitted_after;
	int max_results;
	const char *next_token;
};

/* ---- Operations. Every call validates its input against the model before
 * any network I/O (HL_ERR_INVALID, nothing sent), honours deadline_ms (an
 * absolute hl_now_ms() value; 0 = none) across pacing, retries and backoff,
 * and on failure fills *err (may be NULL). ret_* are written only on success. */

/* Caller frees *ret with hl_datastore_free(). */
enum hl_err hl_create_datastore(struct hl_client *c, const struct hl_create_datastore_input *in,
				int64_t deadline_ms, struct hl_datastore **ret, struct hl_error *err);
enum hl_err hl_delete_datastore(struct hl_client *c, const char *id, int64_t deadline_ms,
				struct hl_datastore **ret, struct hl_error *err);
enum hl_err hl_describe_datastore(struct hl_client *c, const char *id, int64_t deadline_ms,
				  struct hl_datastore **ret, struct hl_error *err);
/* One page. Caller frees *ret with hl_datastore_list_free(). */
enum hl_err hl_list_datastores(struct hl_client *c, const struct hl_list_datastores_input *in,
			       int64_t deadline_ms, struct hl_datastore_list **ret,
			       struct hl_error *err);
/* All pages (NextToken followed until absent; a repeated token or more than
 * max_items items is HL_ERR_PROTOCOL). in->next_token is ignored. */
enum hl_err hl_list_datastores_all(struct hl_client *c, const struct hl_list_datastores_input *in,
				   size_t max_items, int64_t deadline_ms,
				   struct hl_datastore_list **ret, struct hl_error *err);

/* Start responses carry id, status and datastore id only. Free with hl_job_free(). */
enum hl_err hl_start_import_job(struct hl_client *c, const struct hl_start_import_input *in,
				int64_t deadline_ms, struct hl_job **ret, struct hl_error *err);
enum hl_err hl_start_export_job(struct hl_client *c, const struct hl_start_export_input *in,
				int64_t deadline_ms, struct hl_job **ret, struct hl_error *err);
enum hl_err hl_describe_job(struct hl_client *c, enum hl_job_kind kind, const char *datastore_id,
			    const char *job_id, int64_t deadline_ms, struct hl_job **ret,
			    struct hl_error *err);
enum hl_err hl_list_jobs(struct hl_client *c, enum hl_job_kind kind,
			 const struct hl_list_jobs_input *in, int64_t deadline_ms,
			 struct hl_job_list **ret, struct hl_error *err);
enum hl_err hl_list_jobs_all(struct hl_client *c, enum hl_job_kind kind,
			     const struct hl_list_jobs_input *in, size_t max_items,
			     int64_t deadline_ms, struct hl_job_list **ret, struct hl_error *err);

enum hl_err hl_tag_resource(struct hl_client *c, const char *arn, const struct hl_tag *tags,
			    size_t n, int64_t deadline_ms, struct hl_error *err);
enum hl_err hl_untag_resource(struct hl_client *c, const char *arn, const char *const *keys,
			      size_t n, int64_t deadline_ms, struct hl_error *err);
/* Caller frees *ret with hl_tag_list_free(). */
enum hl_err hl_list_tags(struct hl_client *c, const char *arn, int64_t deadline_ms,
			 struct hl_tag_list **ret, struct hl_error *err);

#endif
