/* api/client.c policy pieces: pacing with an injected clock, the retry
 * quota, the retry decision and backoff bounds. */
#include <string.h>

#include "client_i.h"
#include "tap.h"

/* Checks that no window of w ms holds more than k of the sorted starts. */
static bool window_ok(const int64_t *s, size_t n, size_t k, int64_t w)
{
	for (size_t i = k; i < n; i++)
		if (s[i] - s[i - k] < w)
			return false;
	return true;
}

static void test_pacer(void)
{
	struct hl_pacer p;
	is_int(hl_pacer_init(&p, 10), HL_ERR_OK, "pacer 10/s");
	is_int(p.k, 10, "burst of 10");
	is_int(p.window_ms, 1000, "window 1 s");
	int64_t t0 = 1000000;
	for (int i = 0; i < 10; i++)
		is_int(hl_pacer_reserve(&p, t0, 0), t0, "burst start %d immediate", i);
	is_int(hl_pacer_reserve(&p, t0, t0 + 500), -1, "11th would wait 1 s: refused by deadline");
	is_int(hl_pacer_reserve(&p, t0 + 10, 0), t0 + 1000, "11th starts a second after the first");
	is_int(hl_pacer_reserve(&p, t0 + 10, t0 + 1000), t0 + 1000,
	       "12th may start at the deadline itself");
	is_int(hl_pacer_reserve(&p, t0 + 5000, 0), t0 + 5000, "after a pause: immediate");
	hl_pacer_destroy(&p);

	is_int(hl_pacer_init(&p, 0.5), HL_ERR_OK, "pacer 0.5/s");
	is_int(p.k, 1, "one at a time");
	is_int(p.window_ms, 2000, "every 2 s");
	is_int(hl_pacer_reserve(&p, 0, 0), 0, "first immediate");
	is_int(hl_pacer_reserve(&p, 100, 0), 2000, "second after 2 s");
	is_int(hl_pacer_reserve(&p, 100, 0), 4000, "third after 4 s (reservations queue)");
	hl_pacer_destroy(&p);

	is_int(hl_pacer_init(&p, 2.5), HL_ERR_OK, "pacer 2.5/s");
	is_int(p.k, 2, "burst 2");
	is_int(p.window_ms, 800, "2 per 800 ms");
	hl_pacer_destroy(&p);

	is_int(hl_pacer_init(&p, 0), HL_ERR_OK, "pacer 0 = default");
	is_int(p.k, 10, "default 10/s");
	hl_pacer_destroy(&p);

	/* Arrivals at pseudo-random times: no one-second window ever holds
	 * more than 10 starts, and nobody waits when the window has room. */
	is_int(hl_pacer_init(&p, 10), HL_ERR_OK, "pacer for the property check");
	int64_t starts[400];
	int64_t now = 0;
	unsigned seed = 12345;
	bool monotone = true, never_early = true;
	for (size_t i = 0; i < 400; i++) {
		seed = seed * 1103515245u + 12345u;
		now += (seed >> 16) % 150;
		starts[i] = hl_pacer_reserve(&p, now, 0);
		if (starts[i] < now)
			never_early = false;
		if (i && starts[i] < starts[i - 1])
			monotone = false;
	}
	ok(never_early, "no start before its request");
	ok(monotone, "starts are handed out in order");
	ok(window_ok(starts, 400, 10, 1000), "never more than 10 starts in any 1 s window");
	hl_pacer_destroy(&p);
}

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
	test_pacer();
	test_quota();
	test_classify();
	test_backoff();
	return done_testing();
}
