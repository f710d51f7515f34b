#include "check.h"

#include <ctype.h>
#include <string.h>

#include "validate.h"

enum hl_err hl_check(const char *member, const char *s, hl_validate_fn fn, bool required,
			 struct hl_error *err)
{
	if (!s) {
		if (required)
			return hl_error_set(err, HL_ERR_INVALID, "%s is required", member);
		return HL_ERR_OK;
	}
	return fn(s, err);
}

static bool in_enum(const char *s, const char *const *values)
{
	for (size_t i = 0; values[i]; i++)
		if (strcmp(s, values[i]) == 0)
			return true;
	return false;
}

enum hl_err hl_check_datastore_status(const char *s, struct hl_error *err)
{
	static const char *const v[] = {"CREATING", "ACTIVE",	     "DELETING",
					"DELETED",  "CREATE_FAILED", NULL};
	if (!in_enum(s, v))
		return hl_error_set(err, HL_ERR_INVALID, "DatastoreStatus: unknown value");
	return HL_ERR_OK;
}

enum hl_err hl_check_job_status(const char *s, struct hl_error *err)
{
	static const char *const v[] = {"SUBMITTED",
					"QUEUED",
					"IN_PROGRESS",
					"COMPLETED_WITH_ERRORS",
					"COMPLETED",
					"FAILED",
					"CANCEL_SUBMITTED",
					"CANCEL_IN_PROGRESS",
					"CANCEL_COMPLETED",
					"CANCEL_FAILED",
					NULL};
	if (!in_enum(s, v))
		return hl_error_set(err, HL_ERR_INVALID, "JobStatus: unknown value");
	return HL_ERR_OK;
}

enum hl_err hl_check_validation_level(const char *s, struct hl_error *err)
{
	static const char *const v[] = {"strict", "structure-only", "minimal", NULL};
	if (!in_enum(s, v))
		return hl_error_set(err, HL_ERR_INVALID,
				    "ValidationLevel: must be strict, structure-only or minimal");
	return HL_ERR_OK;
}

enum hl_err hl_check_type_version(const char *s, struct hl_error *err)
{
	if (strcmp(s, "R4") != 0)
		return hl_error_set(err, HL_ERR_INVALID, "DatastoreTypeVersion: must be R4");
	return HL_ERR_OK;
}

enum hl_err hl_check_next_token(const char *s, struct hl_error *err)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] > 0x7f)
			return hl_error_set(err, HL_ERR_INVALID, "NextToken: must be ASCII");
	if (n > HL_MAX_NEXT_TOKEN)
		return hl_error_set(err, HL_ERR_INVALID, "NextToken: longer than %d characters",
				    HL_MAX_NEXT_TOKEN);
	return HL_ERR_OK;
}

/* ^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-z0-9-]+:\d{12}:datastore/fhir/.{32},
 * 1-1011 characters. */
enum hl_err hl_check_arn(const char *s, struct hl_error *err)
{
	static const char *const partitions[] = {
	    "arn:aws-us-gov:", "arn:aws-iso-b:", "arn:aws-iso:", "arn:aws-cn:", "arn:aws:", NULL};
	const char *p = NULL;
	size_t len = strlen(s);
	if (len < 1 || len > 1011)
		goto bad;
	for (size_t i = 0; partitions[i]; i++) {
		size_t n = strlen(partitions[i]);
		if (strncmp(s, partitions[i], n) == 0) {
			p = s + n;
			break;
		}
	}
	if (!p || strncmp(p, "healthlake:", 11) != 0)
		goto bad;
	p += 11;
	const char *q = p;
	while (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '-')
		q++;
	if (q == p || *q != ':')
		goto bad;
	p = q + 1;
	for (int i = 0; i < 12; i++, p++)
		if (!isdigit((unsigned char)*p))
			goto bad;
	if (strncmp(p, ":datastore/fhir/", 16) != 0)
		goto bad;
	p += 16;
	/* .{32}: 32 characters other than line breaks (UTF-8 sequences count
	 * as one character). */
	size_t chars = 0;
	for (; *p && chars < 32; p++) {
		if (*p == '\n' || *p == '\r')
			goto bad;
		if (((unsigned char)*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars < 32)
		goto bad;
	return HL_ERR_OK;
bad:
	return hl_error_set(
	    err, HL_ERR_INVALID,
	    "ResourceARN: must be a HealthLake datastore ARN "
	    "(arn:aws:healthlake:REGION:ACCOUNT:datastore/fhir/ID), 1-1011 characters");
}

enum hl_err hl_check_max_results(int v, struct hl_error *err)
{
	if (v < 0 || v > HL_MAX_RESULTS)
		return hl_error_set(err, HL_ERR_INVALID, "MaxResults: must be 1-%d",
				    HL_MAX_RESULTS);
	return HL_ERR_OK;
}

enum hl_err hl_check_time(const char *member, int64_t v, struct hl_error *err)
{
	if (v < 0)
		return hl_error_set(err, HL_ERR_INVALID, "%s: must not be negative", member);
	return HL_ERR_OK;
}

enum hl_err hl_check_tags(const struct hl_tag *tags, size_t n, struct hl_error *err)
{
	enum hl_err rc;
	if (n > HL_MAX_TAGS)
		return hl_error_set(err, HL_ERR_INVALID, "Tags: at most %d", HL_MAX_TAGS);
	if (n && !tags)
		return hl_error_set(err, HL_ERR_INVALID, "Tags: missing");
	for (size_t i = 0; i < n; i++)
		if ((rc = hl_check("Tags.Key", tags[i].key, hl_validate_tag_key, true, err)) ||
		    (rc = hl_check("Tags.Value", tags[i].value, hl_validate_tag_value, true, err)))
			return rc;
	return HL_ERR_OK;
}
