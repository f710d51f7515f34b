#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *guarded;
static size_t page;

/* Places n bytes right before a PROT_NONE page: an over-read faults. */
static const char *place(const char *s, size_t n)
{
	char *dst = guarded + page - n;
	memcpy(dst, s, n);
	return dst;
}

#define ROLE "arn:aws:iam::123456789012:role/hl"
#define ID "0123456789abcdef0123456789abcdef"

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	guarded = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guarded == MAP_FAILED || mprotect(guarded + page, page, PROT_NONE) != 0)
		return 1;

	static const struct {
		const char *buf;
		size_t chunk_start;
		enum hlfs_input_state want;
	} checks[] = {
	    {"s3://b/in/\n", 0, HLFS_IN_COMPLETE},
	    {"s3://b/in/", 0, HLFS_IN_INCOMPLETE},
	    {"s3://b/in/\n", 5, HLFS_IN_COMPLETE},
	    {"s3://a\ns3://b\n", 0, HLFS_IN_INVALID},
	    {"s3://a\n\n", 0, HLFS_IN_INVALID},
	    {"", 0, HLFS_IN_INCOMPLETE},
	    {"  ", 0, HLFS_IN_INCOMPLETE},
	    {"\n", 0, HLFS_IN_COMPLETE},
	    {"{\"a\": 1}", 0, HLFS_IN_COMPLETE},
	    {"{\n  \"a\": {\n    \"b\": \"}\"\n  }\n}\n", 0, HLFS_IN_COMPLETE},
	    {"{\n  \"a\": \"x\\\"}\"", 0, HLFS_IN_INCOMPLETE},
	    {"{\"a\": [1, {\"b\": 2}]", 0, HLFS_IN_INCOMPLETE},
	    {"{\"a\": 1} x", 0, HLFS_IN_INVALID},
	    {"{\"a\": 1}\n{\"b\": 2}\n", 0, HLFS_IN_INVALID},
	};
	for (size_t i = 0; i < N(checks); i++) {
		const char *why = NULL;
		size_t n = strlen(checks[i].buf);
		enum hlfs_input_state st =
		    hlfs_input_check(place(checks[i].buf, n), n, checks[i].chunk_start, &why);
		is_int(st, checks[i].want, "check case %zu", i);
		if (checks[i].want == HLFS_IN_INVALID)
			ok(why && *why, "invalid input has a reason");
	}
	/* The 64 KiB bound. */
	static char big[HLFS_INPUT_MAX + 2];
	memset(big, ' ', sizeof(big));
	const char *why = NULL;
	is_int(hlfs_input_check(big, HLFS_INPUT_MAX + 1, 0, &why), HLFS_IN_INVALID, "> 64 KiB");
	is_str(why, "input is larger than 64 KiB", "reason for size");
	is_int(hlfs_input_check(big, HLFS_INPUT_MAX, 0, &why), HLFS_IN_INCOMPLETE,
	       "64 KiB of blanks");

	static const struct hlfs_input_defaults none = {NULL, NULL, NULL};
	static const struct hlfs_input_defaults all = {ROLE, "s3://out/x/", "alias/k"};
	static const struct {
		const char *what;
		bool exports;
		const char *buf;
		const struct hlfs_input_defaults *def;
		int rc;
		const char *why_has; /* substring of the reason, or NULL */
		const char *in, *out, *kms, *role, *name, *token;
	} cases[] = {
	    {"import URI with defaults", false, "s3://b/in/\n", &all, 0, NULL, "s3://b/in/",
	     "s3://out/x/", "alias/k", ROLE, NULL, NULL},
	    {"export URI with defaults", true, " s3://b/out/ \r\n", &all, 0, NULL, NULL,
	     "s3://b/out/", "alias/k", ROLE, NULL, NULL},
	    {"import URI without role", false, "s3://b/in/\n", &none, -EINVAL,
	     "JobOutputDataConfig.S3Configuration.S3Uri", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"export URI without kms", true, "s3://b/o/\n", &none, -EINVAL,
	     "OutputDataConfig.S3Configuration.KmsKeyId", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"not a URI", false, "/tmp/x\n", &all, -EINVAL, "s3://", NULL, NULL, NULL, NULL, NULL,
	     NULL},
	    {"empty", false, "\n", &all, -EINVAL, "empty", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"full JSON import", false,
	     "{\n  \"JobName\": \"j1\",\n  \"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"},\n"
	     "  \"JobOutputDataConfig\": {\"S3Configuration\": {\"S3Uri\": \"s3://b/o/\", "
	     "\"KmsKeyId\": \"k2\"}},\n  \"DataAccessRoleArn\": "
	     "\"arn:aws:iam::123456789012:role/x\",\n"
	     "  \"ClientToken\": \"tok-1\",\n  \"DatastoreId\": \"" ID "\"\n}\n",
	     &all, 0, NULL, "s3://b/i/", "s3://b/o/", "k2", "arn:aws:iam::123456789012:role/x",
	     "j1", "tok-1"},
	    {"JSON import members override, rest defaulted", false,
	     "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"}}", &all, 0, NULL, "s3://b/i/",
	     "s3://out/x/", "alias/k", ROLE, NULL, NULL},
	    {"JSON export", true,
	     "{\"OutputDataConfig\": {\"S3Configuration\": {\"S3Uri\": \"s3://b/e/\"}}, "
	     "\"JobName\": \"e\"}",
	     &all, 0, NULL, NULL, "s3://b/e/", "alias/k", ROLE, "e", NULL},
	    {"unknown member", false,
	     "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"}, \"Bogus\": 1}", &all, -EINVAL,
	     "unknown member Bogus", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"unknown nested member", false,
	     "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\", \"X\": 1}}", &all, -EINVAL,
	     "InputDataConfig.X", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"import member on export", true, "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"}}",
	     &all, -EINVAL, "unknown member InputDataConfig", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"wrong type", false, "{\"JobName\": 3, \"InputDataConfig\": {\"S3Uri\": \"s3://b\"}}",
	     &all, -EINVAL, "JobName must be a string", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"other store's id", false,
	     "{\"DatastoreId\": \"other\", \"InputDataConfig\": {\"S3Uri\": \"s3://b\"}}", &all,
	     -EINVAL, "DatastoreId", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"missing input", false, "{\"JobName\": \"j\"}", &all, -EINVAL, "InputDataConfig.S3Uri",
	     NULL, NULL, NULL, NULL, NULL, NULL},
	    {"missing role", false,
	     "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"}, "
	     "\"JobOutputDataConfig\": {\"S3Configuration\": {\"S3Uri\": \"s3://b/o/\", "
	     "\"KmsKeyId\": \"k\"}}}",
	     &none, -EINVAL, "DataAccessRoleArn", NULL, NULL, NULL, NULL, NULL, NULL},
	    {"broken JSON", false, "{\"JobName\": }", &all, -EINVAL, "JSON", NULL, NULL, NULL, NULL,
	     NULL, NULL},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct hlfs_job_request r;
		char whybuf[256] = "";
		size_t n = strlen(cases[i].buf);
		memset(&r, 0x5a, sizeof(r));
		int rc = hlfs_input_parse(cases[i].exports, place(cases[i].buf, n), n, cases[i].def,
					  ID, &r, whybuf, sizeof(whybuf));
		is_int(rc, cases[i].rc, "%s: rc", cases[i].what);
		if (rc != 0) {
			if (cases[i].why_has &&
			    !ok(strstr(whybuf, cases[i].why_has) != NULL, "%s: reason names %s",
				cases[i].what, cases[i].why_has))
				diag("reason: %s", whybuf);
			continue;
		}
		is_str(r.input_uri, cases[i].in, "%s: input", cases[i].what);
		is_str(r.output_uri, cases[i].out, "%s: output", cases[i].what);
		is_str(r.kms_key, cases[i].kms, "%s: kms", cases[i].what);
		is_str(r.role_arn, cases[i].role, "%s: role", cases[i].what);
		is_str(r.job_name, cases[i].name, "%s: name", cases[i].what);
		is_str(r.client_token, cases[i].token, "%s: token", cases[i].what);
		hlfs_job_request_free(&r);
	}

	/* ValidationLevel is a StartFHIRImportJob member (the api checks its enum);
	 * an export has no such member. */
	struct hlfs_job_request r;
	char whybuf[256] = "";
	const char *vl = "{\"InputDataConfig\": {\"S3Uri\": \"s3://b/i/\"}, "
			 "\"ValidationLevel\": \"minimal\"}";
	is_int(hlfs_input_parse(false, vl, strlen(vl), &all, ID, &r, whybuf, sizeof(whybuf)), 0,
	       "import with ValidationLevel");
	is_str(r.validation_level, "minimal", "ValidationLevel kept");
	hlfs_job_request_free(&r);
	const char *ve = "{\"OutputDataConfig\": {\"S3Configuration\": {\"S3Uri\": \"s3://b/e/\"}}, "
			 "\"ValidationLevel\": \"minimal\"}";
	is_int(hlfs_input_parse(true, ve, strlen(ve), &all, ID, &r, whybuf, sizeof(whybuf)),
	       -EINVAL, "export with ValidationLevel is refused");
	ok(strstr(whybuf, "unknown member ValidationLevel") != NULL, "reason names it: %s", whybuf);
	return done_testing();
}
