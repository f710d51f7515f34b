/* api/client.c policy pieces: the retry quota, the retry decision and
 * backoff bounds; the retry loop with scripted attempts. */
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

/* ---- hl_call_run with scripted attempts (no network) ---- */

struct step {
	enum hl_err trc;
	long status;
	bool connect_failed;
	size_t sunk;
};

struct script {
	const struct step *steps;
	int n, next;
};

static enum hl_err scripted(void *arg, int n, int64_t timeout_ms, struct hl_http_response *resp,
			    bool *sent, struct hl_error *e)
{
	struct script *sc = arg;
	(void)n;
	(void)timeout_ms;
	const struct step *st = &sc->steps[sc->next < sc->n ? sc->next : sc->n - 1];
	sc->next++;
	*sent = true;
	resp->status = st->trc ? 0 : st->status;
	resp->connect_failed = st->connect_failed;
	resp->sunk = st->sunk;
	if (st->trc)
		hl_error_set(e, st->trc, "transport");
	return st->trc;
}

static void decode_status(void *arg, const struct hl_http_response *resp, struct hl_error *e)
{
	(void)arg;
	e->code = resp->status >= 500 ? HL_ERR_SERVER : HL_ERR_VALIDATION;
}

static enum hl_err run_script_r(const struct step *steps, int n, bool replay_safe, bool t429,
				long accept, bool restartable, struct hl_call_stats *st)
{
	struct hl_pacer p;
	struct hl_retry_quota q;
	struct script sc = {steps, n, 0};
	struct hl_http_response resp;
	struct hl_error e;
	hl_pacer_init(&p, 1000);
	hl_quota_init(&q);
	hl_http_response_init(&resp);
	struct hl_call call = {.pacer = &p,
			       .quota = &q,
			       .max_attempts = 3,
			       .replay_safe = replay_safe,
			       .throttle_429 = t429,
			       .sink_restartable = restartable,
			       .accept_status = {accept},
			       .attempt = scripted,
			       .decode = decode_status,
			       .arg = &sc};
	enum hl_err rc = hl_call_run(&call, &resp, st, &e);
	hl_http_response_free(&resp);
	hl_quota_destroy(&q);
	hl_pacer_destroy(&p);
	return rc;
}

static enum hl_err run_script(const struct step *steps, int n, bool replay_safe, bool t429,
			      long accept, struct hl_call_stats *st)
{
	return run_script_r(steps, n, replay_safe, t429, accept, false, st);
}

static void test_call_run(void)
{
	struct hl_call_stats st;
	static const struct step lost[] = {{HL_ERR_NETWORK, 0, false, 0}, {HL_ERR_OK, 200, false, 0}};
	is_int(run_script(lost, 2, false, false, 0, &st), HL_ERR_NETWORK,
	       "unsafe request, answer lost: not sent again");
	is_int(st.attempts, 1, "  one attempt");
	is_int(run_script(lost, 2, true, false, 0, &st), HL_ERR_OK, "safe request: retried");
	ok(st.attempts == 2 && st.maybe_applied, "  two attempts, the first maybe applied");
	static const struct step refused[] = {{HL_ERR_NETWORK, 0, true, 0},
					      {HL_ERR_OK, 201, false, 0}};
	is_int(run_script(refused, 2, false, false, 0, &st), HL_ERR_OK,
	       "unsafe request never sent (connect failed): retried");
	ok(st.attempts == 2 && !st.maybe_applied, "  and known not applied");
	static const struct step five[] = {{HL_ERR_OK, 503, false, 0}, {HL_ERR_OK, 200, false, 0}};
	is_int(run_script(five, 2, false, false, 0, &st), HL_ERR_SERVER,
	       "unsafe request, 503: not sent again");
	static const struct step thr[] = {{HL_ERR_OK, 429, false, 0},
					  {HL_ERR_OK, 429, false, 0},
					  {HL_ERR_OK, 200, false, 0}};
	is_int(run_script(thr, 3, true, true, 0, &st), HL_ERR_OK, "429 retried on the data plane");
	ok(st.attempts == 3 && st.throttled == 2, "  three attempts, two throttled");
	is_int(run_script(thr, 3, true, false, 0, &st), HL_ERR_VALIDATION,
	       "a bare 429 is not retried in standard mode");
	is_int(st.attempts, 1, "  one attempt");
	static const struct step thr3[] = {{HL_ERR_OK, 429, false, 0}};
	is_int(run_script(thr3, 1, true, true, 0, &st), HL_ERR_THROTTLED,
	       "throttled to the last attempt: THROTTLED");
	static const struct step cut[] = {{HL_ERR_NETWORK, 0, false, 10}, {HL_ERR_OK, 200, false, 0}};
	is_int(run_script(cut, 2, true, false, 0, &st), HL_ERR_NETWORK,
	       "a stream cut after bytes reached the sink is not retried");
	is_int(run_script_r(cut, 2, true, false, 0, true, &st), HL_ERR_OK,
	       "unless the sink starts over on each attempt");
	is_int(st.attempts, 2, "  two attempts");
	static const struct step nm[] = {{HL_ERR_OK, 304, false, 0}};
	is_int(run_script(nm, 1, true, false, 304, &st), HL_ERR_OK, "accept_status honoured");
}

int main(void)
{
	test_call_run();
	test_quota();
	test_classify();
	test_backoff();
	return done_testing();
}
