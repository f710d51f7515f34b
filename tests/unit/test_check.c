/* api/check.c: the model's rules beyond hl_validate_*, one table per rule,
 * each invalid case naming its member. */
#include "check.h"
#include "tap.h"

#define ARN_OK "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"

static void test_strings(void)
{
	static const struct {
		const char *name;
		hl_validate_fn fn;
		const char *s;
		bool ok;
		const char *member;
	} t[] = {
	    {"status", hl_check_datastore_status, "ACTIVE", true, NULL},
	    {"status", hl_check_datastore_status, "CREATE_FAILED", true, NULL},
	    {"status", hl_check_datastore_status, "active", false, "DatastoreStatus"},
	    {"job status", hl_check_job_status, "CANCEL_FAILED", true, NULL},
	    {"job status", hl_check_job_status, "DONE", false, "JobStatus"},
	    {"validation", hl_check_validation_level, "structure-only", true, NULL},
	    {"validation", hl_check_validation_level, "STRICT", false, "ValidationLevel"},
	    {"type", hl_check_type_version, "R4", true, NULL},
	    {"type", hl_check_type_version, "R5", false, "DatastoreTypeVersion"},
	    {"token", hl_check_next_token, "abc==", true, NULL},
	    {"token", hl_check_next_token, "ab\xc3\xa9", false, "NextToken"},
	    {"arn", hl_check_arn, ARN_OK, true, NULL},
	    {"arn", hl_check_arn,
	     "arn:aws-us-gov:healthlake:us-gov-west-1:123456789012:datastore/fhir/"
	     "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
	     true, NULL},
	    {"arn", hl_check_arn,
	     "arn:aws:healthlake:us-east-1:12345678901:datastore/fhir/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
	     false, "ResourceARN"},
	    {"arn", hl_check_arn, "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/short",
	     false, "ResourceARN"},
	    {"arn", hl_check_arn, "arn:aws:s3:::bucket", false, "ResourceARN"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hl_error e;
		hl_error_clear(&e);
		is_int(t[i].fn(t[i].s, &e), t[i].ok ? HL_ERR_OK : HL_ERR_INVALID, "%s '%.40s'",
		       t[i].name, t[i].s);
		if (!t[i].ok)
			ok(strncmp(e.message, t[i].member, strlen(t[i].member)) == 0,
			   "  message names %s: %s", t[i].member, e.message);
		is_int(t[i].fn(t[i].s, NULL), t[i].ok ? HL_ERR_OK : HL_ERR_INVALID, "  NULL err");
	}
	char long_token[HL_MAX_NEXT_TOKEN + 2];
	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[HL_MAX_NEXT_TOKEN + 1] = '\0';
	is_int(hl_check_next_token(long_token, NULL), HL_ERR_INVALID, "a token one too long");
	long_token[HL_MAX_NEXT_TOKEN] = '\0';
	is_int(hl_check_next_token(long_token, NULL), HL_ERR_OK, "a token of the maximum length");
}

static void test_others(void)
{
	struct hl_error e;
	is_int(hl_check("JobId", NULL, hl_validate_job_id, true, &e), HL_ERR_INVALID,
	       "a required member missing");
	is_str(e.message, "JobId is required", "  says so");
	is_int(hl_check("JobId", NULL, hl_validate_job_id, false, &e), HL_ERR_OK,
	       "an optional one may be");
	is_int(hl_check("JobId", "bad!", hl_validate_job_id, false, &e), HL_ERR_INVALID,
	       "a present one is checked");
	is_int(hl_check_max_results(0, NULL), HL_ERR_OK, "MaxResults 0 = none");
	is_int(hl_check_max_results(HL_MAX_RESULTS, NULL), HL_ERR_OK, "MaxResults at the maximum");
	is_int(hl_check_max_results(HL_MAX_RESULTS + 1, NULL), HL_ERR_INVALID, "  one above");
	is_int(hl_check_max_results(-1, NULL), HL_ERR_INVALID, "  negative");
	is_int(hl_check_time("SubmittedAfter", -1, &e), HL_ERR_INVALID, "a negative time");
	is_str(e.message, "SubmittedAfter: must not be negative", "  names its member");
	is_int(hl_check_time("SubmittedAfter", 0, NULL), HL_ERR_OK, "time 0");
	struct hl_tag tags[HL_MAX_TAGS + 1];
	for (size_t i = 0; i <= HL_MAX_TAGS; i++)
		tags[i] = (struct hl_tag){"k", "v"};
	is_int(hl_check_tags(tags, HL_MAX_TAGS, NULL), HL_ERR_OK, "200 tags");
	is_int(hl_check_tags(tags, HL_MAX_TAGS + 1, NULL), HL_ERR_INVALID, "201 tags");
	is_int(hl_check_tags(NULL, 1, NULL), HL_ERR_INVALID, "tags missing");
	is_int(hl_check_tags(NULL, 0, NULL), HL_ERR_OK, "no tags");
	tags[3].key = "";
	is_int(hl_check_tags(tags, 5, &e), HL_ERR_INVALID, "an empty key");
	tags[3] = (struct hl_tag){"k", NULL};
	is_int(hl_check_tags(tags, 5, &e), HL_ERR_INVALID, "a missing value");
	is_str(e.message, "Tags.Value is required", "  names it");
}

int main(void)
{
	test_strings();
	test_others();
	return done_testing();
}
