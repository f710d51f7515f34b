/* What the API model adds to the hl_validate_* rules for the 13 operations:
 * required members, enums, ARNs, tokens, counts. Used by healthlake.c before
 * anything is signed; pure. Each returns HL_ERR_OK or HL_ERR_INVALID with
 * err->message naming the member (err may be NULL). */
#ifndef HL_CHECK_H
#define HL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "healthlake.h" /* struct hl_tag */

#define HL_MAX_TAGS 200
#define HL_MAX_NEXT_TOKEN 8192
#define HL_MAX_RESULTS 500

typedef enum hl_err (*hl_validate_fn)(const char *s, struct hl_error *err);

/* s checked with fn; NULL is an error only when required. */
enum hl_err hl_check(const char *member, const char *s, hl_validate_fn fn, bool required,
		     struct hl_error *err);
enum hl_err hl_check_datastore_status(const char *s, struct hl_error *err);
enum hl_err hl_check_job_status(const char *s, struct hl_error *err);
enum hl_err hl_check_validation_level(const char *s, struct hl_error *err);
/* Only "R4". */
enum hl_err hl_check_type_version(const char *s, struct hl_error *err);
/* ASCII, at most HL_MAX_NEXT_TOKEN characters. */
enum hl_err hl_check_next_token(const char *s, struct hl_error *err);
/* A HealthLake datastore ARN in any partition. */
enum hl_err hl_check_arn(const char *s, struct hl_error *err);
/* 0 (none) to HL_MAX_RESULTS. */
enum hl_err hl_check_max_results(int v, struct hl_error *err);
/* Epoch seconds, not negative. */
enum hl_err hl_check_time(const char *member, int64_t v, struct hl_error *err);
/* At most HL_MAX_TAGS, each key and value valid. */
enum hl_err hl_check_tags(const struct hl_tag *tags, size_t n, struct hl_error *err);

#endif
