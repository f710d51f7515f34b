#include "stats.h"
#include "tap.h"

static const char *render(struct hlfs_stats *s, const struct hlfs_cache_counters *cc)
{
	static char out[2048];
	struct hl_buf b;
	hl_buf_init(&b, 0);
	if (hlfs_stats_render(s, cc, &b) != HL_ERR_OK)
		return "render failed";
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	hl_buf_free(&b);
	return out;
}

int main(void)
{
	struct hlfs_stats *s = hlfs_stats_new();
	is_str(render(s, NULL),
	       "bytes.in 0\nbytes.out 0\ncache.hits 0\ncache.misses 0\ncoalesced 0\ninflight 0\n"
	       "retries 0\nthrottled 0\n",
	       "fixed keys present from the start, sorted");

	struct hl_call_info ok1 = {.operation = "DescribeFHIRDatastore",
				   .code = HL_ERR_OK,
				   .aws_code = "",
				   .attempts = 1,
				   .bytes_in = 100,
				   .bytes_out = 50};
	struct hl_call_info thr = {.operation = "ListFHIRDatastores",
				   .code = HL_ERR_THROTTLED,
				   .aws_code = "ThrottlingException",
				   .attempts = 3,
				   .throttled = 3,
				   .bytes_in = 30,
				   .bytes_out = 60};
	struct hl_call_info net = {.operation = "ListFHIRDatastores",
				   .code = HL_ERR_NETWORK,
				   .aws_code = "",
				   .attempts = 2};
	struct hl_call_info tmo = {
	    .operation = "TagResource", .code = HL_ERR_TIMEOUT, .aws_code = "", .attempts = 0};
	struct hl_call_info refused = {.operation = "CreateFHIRDatastore",
				       .code = HL_ERR_INVALID,
				       .aws_code = "",
				       .attempts = 0};
	hlfs_stats_on_call(s, &ok1);
	hlfs_stats_on_call(s, &ok1);
	hlfs_stats_on_call(s, &thr);
	hlfs_stats_on_call(s, &net);
	hlfs_stats_on_call(s, &tmo);
	hlfs_stats_on_call(s, &refused);
	hlfs_stats_inflight(s, 1);
	hlfs_stats_inflight(s, 1);
	hlfs_stats_inflight(s, -1);
	struct hlfs_cache_counters cc = {.hits = 7, .misses = 4, .coalesced = 49};
	is_str(render(s, &cc),
	       "bytes.in 230\nbytes.out 160\ncache.hits 7\ncache.misses 4\n"
	       "calls.DescribeFHIRDatastore 2\ncalls.ListFHIRDatastores 2\ncalls.TagResource 1\n"
	       "coalesced 49\nerrors.ThrottlingException 1\nerrors.network 1\nerrors.timeout 1\n"
	       "inflight 1\nretries 3\nthrottled 3\n",
	       "calls once each, errors by code, retries = extra attempts");
	hlfs_stats_free(s);
	hlfs_stats_free(NULL);
	ok(1, "free accepts NULL");
	return done_testing();
}
