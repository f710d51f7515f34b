/* The JSON 1.0 protocol of HealthLake, both directions: request bodies built
 * with cJSON, error answers decoded into struct hl_error, success bodies
 * turned into typed results. Pure: no I/O, no clock, no global state. */
#ifndef HL_JSON_H
#define HL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "healthlake.h"

/* ---- Errors ---- */

/* Cuts code at its first ':' and keeps what follows the last '#'
 * ("com.amazon.coral#ValidationException:x" -> "ValidationException"), into
 * out (truncated to outsz - 1 bytes). */
void hl_aws_code_sanitize(const char *code, char *out, size_t outsz);
/* True for the standard-mode throttling codes (AWS-CONVENTIONS.md 5.3). */
bool hl_aws_code_is_throttling(const char *code);
/* True for RequestTimeout, RequestTimeoutException, PriorRequestNotComplete. */
bool hl_aws_code_is_transient(const char *code);
/* Copies at most outsz-1 bytes of s into out, control characters made
 * blanks, never ending in half a UTF-8 sequence: an error text stays one
 * printable line. */
void hl_copy_printable(char *out, size_t outsz, const char *s, size_t len);
/* Maps a sanitised code (may be "" or a status number) and the HTTP status
 * to the library's enum: ValidationException -> VALIDATION, ... */
enum hl_err hl_err_from_aws(const char *code, long status);

/* Decodes an error answer (status >= 300) into *err: aws_code from the
 * X-Amzn-ErrorType header (may be NULL), then body `code`, then `__type`,
 * then the status number; message from `message`/`Message`, or the reason
 * phrase for a >= 500 answer with an empty or HTML body, or the body itself
 * when it is not JSON. Sets err->code and err->http_status; leaves
 * err->request_id alone. Returns err->code. err must not be NULL. */
enum hl_err hl_json_error_decode(long status, const char *reason, const char *error_type,
				 const char *body, size_t len, struct hl_error *err);

/* ---- Success bodies ---- */

/* Parses a success body. An empty (or all-blank) body is {}; anything but a
 * JSON object, or trailing garbage, is HL_ERR_PROTOCOL. Caller frees *ret
 * with cJSON_Delete(). Uses cJSON's thread-safe entry point. */
enum hl_err hl_json_parse_object(const char *body, size_t len, cJSON **ret, struct hl_error *err);

/* Reads a timestamp member: a JSON number (epoch seconds, maybe
 * fractional) or an ISO 8601 / RFC 3339 string (iso8601.h). Returns false on any
 * other type or syntax. */
bool hl_json_timestamp(const cJSON *v, double *ret);

/* What a datastore object must carry: Create/Delete responses lack the type
 * version, DatastoreProperties has it. */
enum hl_shape { HL_SHAPE_PROPERTIES, HL_SHAPE_START };

/* Fills *d from obj, which it takes over (obj becomes d->raw, also on
 * failure it is freed). Missing required members or members of the wrong
 * type are HL_ERR_PROTOCOL; null counts as absent; unknown members are kept
 * in raw only. On error *d is left zeroed. */
enum hl_err hl_json_take_datastore(cJSON *obj, enum hl_shape shape, struct hl_datastore *d,
				   struct hl_error *err);
enum hl_err hl_json_take_job(cJSON *obj, enum hl_job_kind kind, enum hl_shape shape,
			     struct hl_job *j, struct hl_error *err);
/* Reads {"Tags": [{"Key":..,"Value":..}]} (absent Tags = none). */
enum hl_err hl_json_tags(const cJSON *root, struct hl_tag_list *l, struct hl_error *err);
/* Reads an optional string member of a response page (NextToken): null or
 * absent -> *ret NULL; a non-string is HL_ERR_PROTOCOL. Caller frees *ret. */
enum hl_err hl_json_opt_string(const cJSON *obj, const char *name, char **ret,
			       struct hl_error *err);

/* Frees what d/j own and zeroes them (not the struct itself). */
void hl_datastore_clear(struct hl_datastore *d);
void hl_job_clear(struct hl_job *j);

/* ---- Request bodies. Each returns a compact JSON text the caller frees
 * with free(), or NULL when out of memory. Inputs are assumed validated;
 * NULL/0 members are left out; timestamps are integer epoch seconds. ---- */

char *hl_body_create_datastore(const struct hl_create_datastore_input *in,
			       const char *client_token);
char *hl_body_datastore_id(const char *id);
char *hl_body_list_datastores(const struct hl_list_datastores_input *in, const char *next_token);
char *hl_body_start_import(const struct hl_start_import_input *in, const char *client_token);
char *hl_body_start_export(const struct hl_start_export_input *in, const char *client_token);
char *hl_body_describe_job(const char *datastore_id, const char *job_id);
char *hl_body_list_jobs(const struct hl_list_jobs_input *in, const char *next_token);
char *hl_body_tag_resource(const char *arn, const struct hl_tag *tags, size_t n);
char *hl_body_untag_resource(const char *arn, const char *const *keys, size_t n);
char *hl_body_list_tags(const char *arn);

#endif
