#include <stdlib.h>

#include "footprint.h"
#include "jobdoc.h"
#include "render.h"
#include "tap.h"

/* A job the way the api hands it over: parsed from JSON. */
static void job_from(struct hl_job *j, const char *id, const char *status, double submit)
{
	char json[256];
	snprintf(
	    json, sizeof(json),
	    "{\"JobId\":\"%s\",\"JobStatus\":\"%s\",\"SubmitTime\":%.3f,\"DatastoreId\":\"d\"}", id,
	    status, submit);
	*j = (struct hl_job){.id = strdup(id),
			     .status = strdup(status),
			     .submit_time = submit,
			     .has_submit_time = true,
			     .raw = cJSON_Parse(json)};
}

static void job_clear(struct hl_job *j)
{
	free(j->id);
	free(j->status);
	cJSON_Delete(j->raw);
}

int main(void)
{
	struct hl_job j;
	struct hlfs_jobdoc d, c;
	struct hl_buf want;
	job_from(&j, "aaa", "COMPLETED", 1795936906.646);
	is_int(hlfs_jobdoc_make(&j, &d), HL_ERR_OK, "a job renders");
	hl_buf_init(&want, 0);
	hlfs_render_json(j.raw, &want);
	is_str(d.text, want.data, "its text is the job file the renderer makes");
	is_int(d.len, want.len, "and its length");
	is_str(d.id, "aaa", "id kept");
	is_str(d.status, "COMPLETED", "status kept");
	ok(d.terminal, "COMPLETED is terminal");
	ok(d.has_submit_time && d.submit_time == j.submit_time, "submit time kept");
	is_int(hlfs_jobdoc_cost(&d), hlfs_alloc_cost(4 + 10 + want.len + 1),
	       "charged one allocation: id, status and text");
	ok(hlfs_jobdoc_cost(&d) < hlfs_job_cost(&j),
	   "smaller than the job with its tree (%zu < %zu)", hlfs_jobdoc_cost(&d),
	   hlfs_job_cost(&j));
	hlfs_jobdoc_fini(&d);
	/* A job as the service describes it: the rendered file against the tree. */
	struct hl_job full = {
	    .id = strdup("0123456789abcdef0123456789abcdef"),
	    .status = strdup("COMPLETED"),
	    .raw = cJSON_Parse(
		"{\"JobId\":\"0123456789abcdef0123456789abcdef\",\"JobName\":\"import-0\","
		"\"JobStatus\":\"COMPLETED\",\"SubmitTime\":1795936906.646,\"EndTime\":1795936916."
		"1,"
		"\"DatastoreId\":\"fedcba9876543210fedcba9876543210\",\"InputDataConfig\":{"
		"\"S3Uri\":"
		"\"s3://bucket/in/\"},\"JobOutputDataConfig\":{\"S3Configuration\":{\"S3Uri\":"
		"\"s3://bucket/out/\",\"KmsKeyId\":\"arn:aws:kms:us-east-1:123456789012:key/k\"}},"
		"\"DataAccessRoleArn\":\"arn:aws:iam::123456789012:role/r\",\"ValidationLevel\":"
		"\"structure-only\"}")};
	is_int(hlfs_jobdoc_make(&full, &d), HL_ERR_OK, "a full job renders");
	ok(2 * hlfs_jobdoc_cost(&d) <= hlfs_job_cost(&full),
	   "a full job takes at most half the memory rendered: %zu bytes, %zu as a tree",
	   hlfs_jobdoc_cost(&d), hlfs_job_cost(&full));
	free(full.id);
	free(full.status);
	cJSON_Delete(full.raw);
	hlfs_jobdoc_fini(&d);
	is_int(hlfs_jobdoc_make(&j, &d), HL_ERR_OK, "the first job again");
	is_int(hlfs_jobdoc_dup(&d, &c), HL_ERR_OK, "a copy");
	ok(c.text != d.text, "owns its bytes");
	is_str(c.text, d.text, "the same text");
	is_str(c.status, "COMPLETED", "the same status");
	hlfs_jobdoc_fini(&c);
	hlfs_jobdoc_fini(&d);
	ok(d.id == NULL, "fini empties it");
	hlfs_jobdoc_fini(NULL);
	hl_buf_free(&want);
	job_clear(&j);

	struct hl_job none = {.id = "x"};
	is_int(hlfs_jobdoc_make(&none, &d), HL_ERR_INVALID, "no status: refused");

	/* A listing: invalid ids are left out, the newest is by SubmitTime. */
	struct hl_job items[5];
	job_from(&items[0], "b2", "IN_PROGRESS", 200);
	job_from(&items[1], "bad*id", "COMPLETED", 900);
	job_from(&items[2], "a1", "COMPLETED", 300);
	job_from(&items[3], "c3", "FAILED", 300);
	job_from(&items[4], "z9", "SUBMITTED", 100);
	struct hl_job_list l = {.items = items, .n = 5};
	struct hlfs_joblist *jl = NULL;
	is_int(hlfs_joblist_make(&l, 42, &jl), HL_ERR_OK, "a listing renders");
	is_int(jl->n, 4, "the job with an id the tree cannot show is left out");
	is_str(jl->items[0].id, "b2", "the service's order is kept");
	is_str(jl->items[1].id, "a1", "...");
	is_int(jl->newest, 2, "newest: latest SubmitTime, ties to the greater id (c3)");
	is_int(jl->fetched_ms, 42, "fetch time kept");
	const char *ids[] = {"a1", "b2", "c3", "z9"};
	for (size_t i = 0; i < 4; i++) {
		const struct hlfs_jobdoc *f = hlfs_joblist_find(jl, ids[i]);
		ok(f && !strcmp(f->id, ids[i]), "find %s", ids[i]);
	}
	ok(!hlfs_joblist_find(jl, "bad*id"), "the left-out job is not found");
	ok(!hlfs_joblist_find(jl, "a0") && !hlfs_joblist_find(jl, "zz"), "nor are others");
	ok(jl->cost > 4 * 100, "its cost counts the texts (%zu)", jl->cost);
	hlfs_joblist_free(jl);
	struct hl_job_list empty = {0};
	is_int(hlfs_joblist_make(&empty, 0, &jl), HL_ERR_OK, "an empty listing");
	is_int(jl->newest, -1, "has no newest job");
	ok(!hlfs_joblist_find(jl, "a1"), "finds nothing");
	hlfs_joblist_free(jl);
	hlfs_joblist_free(NULL);
	for (size_t i = 0; i < 5; i++)
		job_clear(&items[i]);
	return done_testing();
}
