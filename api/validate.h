/* Client-side validation of HealthLake inputs against the API model's
 * constraints (healthlake-2017-07-01). Pure: no I/O, no locale. */
#ifndef HL_VALIDATE_H
#define HL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Each returns HL_ERR_OK or HL_ERR_INVALID with err->message naming the member and rule. */
enum hl_err hl_validate_datastore_name(const char *s, struct hl_error *err);
enum hl_err hl_validate_datastore_id(const char *s, struct hl_error *err);
enum hl_err hl_validate_job_id(const char *s, struct hl_error *err);
enum hl_err hl_validate_job_name(const char *s, struct hl_error *err);
enum hl_err hl_validate_s3_uri(const char *s, struct hl_error *err);
enum hl_err hl_validate_role_arn(const char *s, struct hl_error *err);
enum hl_err hl_validate_kms_key_id(const char *s, struct hl_error *err);
enum hl_err hl_validate_tag_key(const char *s, struct hl_error *err);
enum hl_err hl_validate_tag_value(const char *s, struct hl_error *err);
enum hl_err hl_validate_client_token(const char *s, struct hl_error *err);

/* The job-id rule of DESIGN.md, the n bytes at s (no NUL needed): true when
 * hl_validate_job_id() would accept them (1-32 characters of the JobId
 * pattern, valid UTF-8, no NUL). A name that fails it is no job, so fs/
 * answers ENOENT without a call. */
bool hl_job_id_ok(const char *s, size_t n);

#endif
