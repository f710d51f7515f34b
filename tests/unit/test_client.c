/* api/client.c policy pieces: the retry
 * quota, the retry decision and backoff bounds. */
#include <string.h>

#include "client_i.h"
#include "tap.h"

static void test_quota(void)
{
	struct hl_retry_quota q;
	hl_quota_init(&q);
	is_int(q.tokens, 500, "quota starts at 500");
	is_int(hl_quota_acquire(&q, false), 5, "a retry costs 5");
	is_int(hl_quota_acquire(&q, true), 10, "a timeout retry costs 10");
	is_int(q.tokens, 485, "485 left");
	hl_quota_success(&q, 10);
	is_int(q.tokens, 495, "success after a retry refunds its cost");
	hl_quota_success(&q, 0);
	is_int(q.tokens, 496, "success without retry adds 1");
	hl_quota_success(&q, 0);
	hl_quota_success(&q, 0);
	hl_quota_success(&q, 0);
	hl_quota_success(&q, 0);
	hl_quota_success(&q, 0);
	is_int(q.tokens, 500, "never above 500");
	int granted = 0;
	while (hl_quota_acquire(&q, false))
		granted++;
	is_int(granted, 100, "100 retries drain the quota");
	is_int(hl_quota_acquire(&q, true), 0, "empty quota refuses timeouts too");
	hl_quota_success(&q, 5);
	is_int(hl_quota_acquire(&q, true), 0, "5 tokens are not enough for a timeout retry");
	is_int(hl_quota_acquire(&q, false), 5, "but enough for a normal one");
	hl_quota_destroy(&q);
}

static void test_classify(void)
{
	static const struct {
		enum hl_err transport;
		long status;
		const char *code;
		enum hl_retry want;
	} t[] = {
	    {HL_ERR_OK, 500, "InternalServerException", HL_RETRY_YES},
	    {HL_ERR_OK, 502, "502", HL_RETRY_YES},
	    {HL_ERR_OK, 503, "503", HL_RETRY_YES},
	    {HL_ERR_OK, 504, "504", HL_RETRY_YES},
	    {HL_ERR_OK, 501, "501", HL_RETRY_NO},
	    {HL_ERR_OK, 429, "429", HL_RETRY_NO},
	    {HL_ERR_OK, 400, "ThrottlingException", HL_RETRY_THROTTLE},
	    {HL_ERR_OK, 429, "TooManyRequestsException", HL_RETRY_THROTTLE},
	    {HL_ERR_OK, 503, "SlowDown", HL_RETRY_THROTTLE},
	    {HL_ERR_OK, 400, "RequestTimeout", HL_RETRY_YES},
	    {HL_ERR_OK, 400, "ValidationException", HL_RETRY_NO},
	    {HL_ERR_OK, 403, "AccessDeniedException", HL_RETRY_NO},
	    {HL_ERR_OK, 400, "UnrecognizedClientException", HL_RETRY_NO},
	    {HL_ERR_OK, 409, "ConflictException", HL_RETRY_NO},
	    {HL_ERR_NETWORK, 0, "", HL_RETRY_YES},
	    {HL_ERR_RESOLVE, 0, "", HL_RETRY_YES},
	    {HL_ERR_TIMEOUT, 0, "", HL_RETRY_TIMEOUT},
	    {HL_ERR_TLS, 0, "", HL_RETRY_NO},
	    {HL_ERR_TOO_LARGE, 0, "", HL_RETRY_NO},
	    {HL_ERR_NOMEM, 0, "", HL_RETRY_NO},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(hl_retry_classify(t[i].transport, t[i].status, t[i].code), t[i].want,
		       "retry? %s %ld %s", hl_err_name(t[i].transport), t[i].status, t[i].code);
}

static void test_backoff(void)
{
	is_int(hl_backoff_ms(1, 0), 0, "r=0: no wait");
	ok(hl_backoff_ms(1, 0.9999) < 1000, "after attempt 1: < 1 s");
	ok(hl_backoff_ms(2, 0.9999) < 2000 && hl_backoff_ms(2, 0.9999) >= 1990,
	   "after attempt 2: < 2 s");
	is_int(hl_backoff_ms(3, 0.5), 2000, "after attempt 3: half of 4 s");
	ok(hl_backoff_ms(6, 0.9999) < 20000 && hl_backoff_ms(6, 0.9999) > 19900,
	   "after attempt 6: capped at 20 s");
	ok(hl_backoff_ms(60, 0.9999) < 20000, "huge attempt numbers stay capped");
	is_int(hl_backoff_ms(2, 1.5), 0, "r outside [0,1) is treated as 0");
}

int main(void)
{
	test_quota();
	test_classify();
	test_backoff();
	return done_testing();
}
