#include <string.h>

#include "tap.h"
#include "wait.h"

static void test_judge(void)
{
	static const struct {
		enum hlfs_wait_target t;
		const char *status;
		enum hlfs_wait_verdict want;
	} cases[] = {
		{HLFS_WAIT_STORE_ACTIVE, "CREATING", HLFS_WAIT_PENDING},
		{HLFS_WAIT_STORE_ACTIVE, "ACTIVE", HLFS_WAIT_SUCCESS},
		{HLFS_WAIT_STORE_ACTIVE, "CREATE_FAILED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_STORE_ACTIVE, "DELETED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_STORE_ACTIVE, NULL, HLFS_WAIT_FAILURE},
		{HLFS_WAIT_STORE_DELETED, "DELETING", HLFS_WAIT_PENDING},
		{HLFS_WAIT_STORE_DELETED, "DELETED", HLFS_WAIT_SUCCESS},
		{HLFS_WAIT_STORE_DELETED, NULL, HLFS_WAIT_SUCCESS},
		{HLFS_WAIT_IMPORT, "SUBMITTED", HLFS_WAIT_PENDING},
		{HLFS_WAIT_IMPORT, "IN_PROGRESS", HLFS_WAIT_PENDING},
		{HLFS_WAIT_IMPORT, "COMPLETED", HLFS_WAIT_SUCCESS},
		{HLFS_WAIT_IMPORT, "COMPLETED_WITH_ERRORS", HLFS_WAIT_SUCCESS},
		{HLFS_WAIT_IMPORT, "FAILED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_IMPORT, "CANCEL_COMPLETED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_EXPORT, "CANCEL_COMPLETED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_EXPORT, "CANCEL_FAILED", HLFS_WAIT_FAILURE},
		{HLFS_WAIT_EXPORT, "QUEUED", HLFS_WAIT_PENDING},
		{HLFS_WAIT_EXPORT, "COMPLETED", HLFS_WAIT_SUCCESS},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(hlfs_wait_judge(cases[i].t, cases[i].status), cases[i].want,
		       "judge case %zu (%s)", i, cases[i].status ? cases[i].status : "gone");
}

static void test_parse(void)
{
	const char *json = "{\n  \"JobId\": \"abc\",\n  \"JobStatus\": \"IN_PROGRESS\",\n"
			   "  \"Message\": \"half way\",\n  \"JobProgressReport\": {\n"
			   "    \"TotalNumberOfResourcesScanned\": 120,\n"
			   "    \"TotalNumberOfResourcesImported\": 100,\n"
			   "    \"TotalSizeOfScannedFilesInMB\": 1.5\n  }\n}\n";
	struct hlfs_wait_progress p;
	ok(hlfs_wait_parse_job(json, strlen(json), &p), "job JSON parses");
	is_str(p.status, "IN_PROGRESS", "status");
	is_str(p.message, "half way", "message");
	is_int(p.scanned, 120, "scanned");
	is_int(p.imported, 100, "imported");
	ok(p.size_mb > 1.49 && p.size_mb < 1.51, "size in MB");
	ok(!hlfs_wait_parse_job("{\"JobId\":\"x\"}", 13, &p), "no JobStatus is refused");
	ok(!hlfs_wait_parse_job("{\"JobStatus\":", 13, &p), "truncated JSON is refused");
	ok(!hlfs_wait_parse_job("{\"JobStatus\":7}", 15, &p), "non-string status is refused");
}

int main(void)
{
	test_judge();
	test_parse();
	return done_testing();
}
