#include <errno.h>
#include <string.h>

#include "tap.h"
#include "xattr.h"

static const char STORE_JSON[] =
    "{\n  \"DatastoreId\": \"0123456789abcdef0123456789abcdef\",\n"
    "  \"DatastoreArn\": \"arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/"
    "0123456789abcdef0123456789abcdef\",\n"
    "  \"DatastoreName\": \"clinic\",\n  \"DatastoreStatus\": \"ACTIVE\",\n"
    "  \"CreatedAt\": \"2026-11-29T07:21:46.646Z\",\n"
    "  \"DatastoreTypeVersion\": \"R4\",\n"
    "  \"DatastoreEndpoint\": \"https://healthlake.us-east-1.amazonaws.com/datastore/"
    "0123456789abcdef0123456789abcdef/r4/\"\n}\n";

static const char JOB_JSON[] =
    "{\n  \"JobId\": \"5f0e\",\n  \"JobStatus\": \"IN_PROGRESS\",\n"
    "  \"SubmitTime\": \"2026-11-29T07:21:46.646Z\",\n  \"DatastoreId\": \"x\"\n}\n";

static void test_list(void)
{
	static const char want_store[] = "user.healthlake.id\0user.healthlake.arn\0"
					 "user.healthlake.status\0user.healthlake.endpoint";
	static const char want_job[] = "user.healthlake.status\0user.healthlake.submit_time";
	char buf[256];
	int n = hlfs_xattr_list(HLFS_XATTR_STORE, NULL, 0);
	is_int(n, sizeof(want_store), "store list size query is exact");
	is_int(hlfs_xattr_list(HLFS_XATTR_STORE, buf, sizeof(buf)), sizeof(want_store),
	       "store list length");
	ok(memcmp(buf, want_store, sizeof(want_store)) == 0, "store names, NUL-terminated each");
	is_int(hlfs_xattr_list(HLFS_XATTR_STORE, buf, (size_t)n - 1), -ERANGE,
	       "one byte short -> ERANGE");
	is_int(hlfs_xattr_list(HLFS_XATTR_STORE, buf, (size_t)n), n, "exact size fits");
	is_int(hlfs_xattr_list(HLFS_XATTR_JOB, NULL, 0), sizeof(want_job), "job list size");
	is_int(hlfs_xattr_list(HLFS_XATTR_JOB, buf, sizeof(buf)), sizeof(want_job),
	       "job list length");
	ok(memcmp(buf, want_job, sizeof(want_job)) == 0, "job names");
	is_int(hlfs_xattr_list(HLFS_XATTR_NONE, NULL, 0), 0, "other nodes: empty list");
	is_int(hlfs_xattr_list(HLFS_XATTR_NONE, buf, sizeof(buf)), 0, "other nodes: 0 copied");
}

static void test_known(void)
{
	ok(hlfs_xattr_known(HLFS_XATTR_STORE, "user.healthlake.arn"), "store has arn");
	ok(!hlfs_xattr_known(HLFS_XATTR_STORE, "user.healthlake.submit_time"),
	   "store has no submit_time");
	ok(hlfs_xattr_known(HLFS_XATTR_JOB, "user.healthlake.submit_time"), "job submit_time");
	ok(!hlfs_xattr_known(HLFS_XATTR_JOB, "user.healthlake.id"), "job has no id");
	ok(!hlfs_xattr_known(HLFS_XATTR_STORE, "security.capability"), "no security.*");
	ok(!hlfs_xattr_known(HLFS_XATTR_STORE, "user.healthlake."), "prefix alone unknown");
	ok(!hlfs_xattr_known(HLFS_XATTR_NONE, "user.healthlake.status"), "none knows nothing");
}

static void get_is(enum hlfs_xattr_kind k, const struct hlfs_xattr_facts *f, const char *name,
		   const char *want)
{
	char buf[512];
	int n = hlfs_xattr_get(k, f, name, NULL, 0);
	is_int(n, strlen(want), "%s: size query is exact", name);
	memset(buf, 0, sizeof(buf));
	is_int(hlfs_xattr_get(k, f, name, buf, sizeof(buf)), strlen(want), "%s: length", name);
	is_str(buf, want, "%s: value", name);
	if (n > 0)
		is_int(hlfs_xattr_get(k, f, name, buf, (size_t)n - 1), -ERANGE, "%s: ERANGE", name);
}

static void test_store(void)
{
	struct hlfs_xattr_facts f;
	is_int(hlfs_xattr_facts_parse(HLFS_XATTR_STORE, STORE_JSON, strlen(STORE_JSON), &f), 0,
	       "store JSON parses");
	get_is(HLFS_XATTR_STORE, &f, "user.healthlake.id", "0123456789abcdef0123456789abcdef");
	get_is(HLFS_XATTR_STORE, &f, "user.healthlake.arn",
	       "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/"
	       "0123456789abcdef0123456789abcdef");
	get_is(HLFS_XATTR_STORE, &f, "user.healthlake.status", "ACTIVE");
	get_is(HLFS_XATTR_STORE, &f, "user.healthlake.endpoint",
	       "https://healthlake.us-east-1.amazonaws.com/datastore/"
	       "0123456789abcdef0123456789abcdef/r4/");
	char buf[8];
	is_int(
	    hlfs_xattr_get(HLFS_XATTR_STORE, &f, "user.healthlake.submit_time", buf, sizeof(buf)),
	    -ENODATA, "store: submit_time is ENODATA");
	is_int(hlfs_xattr_get(HLFS_XATTR_STORE, &f, "user.other", NULL, 0), -ENODATA,
	       "unknown name: ENODATA, also for a size query");
	hlfs_xattr_facts_free(&f);
	ok(f.id == NULL && f.arn == NULL, "free clears");
	hlfs_xattr_facts_free(&f); /* twice is harmless */
	hlfs_xattr_facts_free(NULL);
}

static void test_job(void)
{
	struct hlfs_xattr_facts f;
	is_int(hlfs_xattr_facts_parse(HLFS_XATTR_JOB, JOB_JSON, strlen(JOB_JSON), &f), 0,
	       "job JSON parses");
	get_is(HLFS_XATTR_JOB, &f, "user.healthlake.status", "IN_PROGRESS");
	get_is(HLFS_XATTR_JOB, &f, "user.healthlake.submit_time", "2026-11-29T07:21:46.646Z");
	hlfs_xattr_facts_free(&f);

	/* A member that is absent reads as an empty value, like the one-value files. */
	const char *bare = "{\"JobStatus\": \"SUBMITTED\"}";
	is_int(hlfs_xattr_facts_parse(HLFS_XATTR_JOB, bare, strlen(bare), &f), 0, "bare job");
	get_is(HLFS_XATTR_JOB, &f, "user.healthlake.submit_time", "");
	hlfs_xattr_facts_free(&f);
}

static void test_bad_json(void)
{
	static const char *const bad[] = {"", "not json", "[1,2]", "\"str\"", "{\"a\": ", NULL};
	struct hlfs_xattr_facts f;
	for (const char *const *b = bad; *b; b++) {
		is_int(hlfs_xattr_facts_parse(HLFS_XATTR_STORE, *b, strlen(*b), &f), -EIO,
		       "'%s' is EIO", *b);
		ok(f.id == NULL && f.status == NULL, "'%s' leaves no facts", *b);
		hlfs_xattr_facts_free(&f);
	}
	/* The length bounds the parse: a valid object cut short is refused. */
	is_int(hlfs_xattr_facts_parse(HLFS_XATTR_JOB, JOB_JSON, 20, &f), -EIO, "cut object is EIO");
	hlfs_xattr_facts_free(&f);
	/* Wrong member types are treated as absent. */
	const char *typed = "{\"JobStatus\": 3, \"SubmitTime\": null}";
	is_int(hlfs_xattr_facts_parse(HLFS_XATTR_JOB, typed, strlen(typed), &f), 0, "typed");
	get_is(HLFS_XATTR_JOB, &f, "user.healthlake.status", "");
	hlfs_xattr_facts_free(&f);
}

int main(void)
{
	test_list();
	test_known();
	test_store();
	test_job();
	test_bad_json();
	return done_testing();
}
