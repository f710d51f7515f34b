#include "client_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "rand.h"
#include "sigv4.h"
#include "url.h"

/* Per-attempt bound when the caller gives no deadline (the SDKs' default
 * read timeout). */
#define HL_ATTEMPT_TIMEOUT_MS 60000

/* ---- Retry quota ---- */

void hl_quota_init(struct hl_retry_quota *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->tokens = HL_QUOTA_MAX;
}

void hl_quota_destroy(struct hl_retry_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

int hl_quota_acquire(struct hl_retry_quota *q, bool timeout)
{
	int cost = timeout ? HL_QUOTA_TIMEOUT_COST : HL_QUOTA_RETRY_COST;
	pthread_mutex_lock(&q->lock);
	if (q->tokens < cost)
		cost = 0;
	else
		q->tokens -= cost;
	pthread_mutex_unlock(&q->lock);
	return cost;
}

void hl_quota_success(struct hl_retry_quota *q, int last_cost)
{
	pthread_mutex_lock(&q->lock);
	q->tokens += last_cost ? last_cost : 1;
	if (q->tokens > HL_QUOTA_MAX)
		q->tokens = HL_QUOTA_MAX;
	pthread_mutex_unlock(&q->lock);
}

/* ---- Retry decision, backoff ---- */

enum hl_retry hl_retry_classify(enum hl_err transport, long status, const char *aws_code)
{
	switch (transport) {
	case HL_ERR_OK:
		break;
	case HL_ERR_TIMEOUT:
		return HL_RETRY_TIMEOUT;
	case HL_ERR_NETWORK:
	case HL_ERR_RESOLVE:
		return HL_RETRY_YES;
	default:
		/* TLS verification, oversized answers, configuration: the same
		 * request would fail the same way. */
		return HL_RETRY_NO;
	}
	if (hl_aws_code_is_throttling(aws_code))
		return HL_RETRY_THROTTLE;
	if (status == 500 || status == 502 || status == 503 || status == 504 ||
	    hl_aws_code_is_transient(aws_code))
		return HL_RETRY_YES;
	return HL_RETRY_NO;
}

int64_t hl_backoff_ms(int n, double r)
{
	double cap = 20.0, base = 1.0;
	for (int i = 1; i < n && base < cap; i++)
		base *= 2;
	if (base > cap)
		base = cap;
	if (!(r >= 0) || r >= 1)
		r = 0;
	return (int64_t)(r * base * 1000.0);
}

/* ---- Client ---- */

void hl_client_free(struct hl_client *c)
{
	if (!c)
		return;
	hl_http_free(c->http);
	hl_creds_provider_free(c->creds);
	hl_config_free(c->cfg);
	hl_pacer_destroy(&c->pacer);
	if (c->quota.tokens >= 0)
		hl_quota_destroy(&c->quota);
	free(c->host);
	free(c->path);
	free(c);
}

enum hl_err hl_client_new(const struct hl_client_options *opt, struct hl_client **ret,
			  struct hl_error *err)
{
	static const struct hl_client_options none = {0};
	struct hl_client *c = calloc(1, sizeof(*c));
	enum hl_err rc;
	if (!opt)
		opt = &none;
	if (!c)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	c->quota.tokens = -1; /* not initialised yet, for hl_client_free */
	hl_error_clear(err);

	struct hl_config_options co = {
	    .profile = opt->profile,
	    .region = opt->region,
	    .endpoint = opt->endpoint,
	    .ca_bundle = opt->ca_file,
	    .max_attempts = opt->max_attempts,
	};
	if ((rc = hl_config_load(&co, &c->cfg, err)))
		goto out;
	/* config.c enforces this too; a plain-http endpoint elsewhere would
	 * send signed requests (and session tokens) in the clear. */
	if (!hl_url_allowed(c->cfg->endpoint)) {
		rc = hl_error_set(err, HL_ERR_CONFIG,
				  "endpoint %s: only https, or plain http to a loopback address",
				  c->cfg->endpoint);
		goto out;
	}
	if ((rc = hl_url_split(c->cfg->endpoint, &c->host, &c->path, err)))
		goto out;
	c->max_attempts = c->cfg->max_attempts >= 1 ? c->cfg->max_attempts : 3;
	if ((rc = hl_creds_provider_new(c->cfg, &c->creds, err)))
		goto out;
	struct hl_http_options ho = {
	    .ca_file = c->cfg->ca_bundle,
	    .connect_timeout_ms = opt->connect_timeout_ms,
	    .max_response_bytes = opt->max_response_bytes,
	};
	if ((rc = hl_http_new(&ho, &c->http, err)))
		goto out;
	if ((rc = hl_pacer_init(&c->pacer, opt->max_tps))) {
		hl_error_set(err, rc, "out of memory");
		goto out;
	}
	hl_quota_init(&c->quota);
	c->on_call = opt->on_call;
	c->on_call_arg = opt->on_call_arg;
	*ret = c;
	c = NULL;
	rc = HL_ERR_OK;
out:
	hl_client_free(c);
	return rc;
}

const char *hl_client_region(const struct hl_client *c)
{
	return c->cfg->region;
}

const char *hl_client_endpoint(const struct hl_client *c)
{
	return c->cfg->endpoint;
}

/* One attempt's request: signs body for op with fresh credentials and the
 * current time, then sends it. *sent tells whether it reached the wire. */
struct cp_call {
	struct hl_client *c;
	const char *op;
	const char *body;
	const char *invocation_id;
};

static enum hl_err cp_attempt(void *arg, int n, int64_t timeout_ms, struct hl_http_response *resp,
			      bool *sent, struct hl_error *e)
{
	const struct cp_call *cp = arg;
	struct hl_client *c = cp->c;
	char target[128], sdk_request[64];

	snprintf(target, sizeof(target), "HealthLake.%s", cp->op);
	snprintf(sdk_request, sizeof(sdk_request), "attempt=%d; max=%d", n, c->max_attempts);
	const struct hl_header h[] = {
	    {"Content-Type", "application/x-amz-json-1.0"},
	    {"X-Amz-Target", target},
	};
	/* botocore adds these after signing: they stay unsigned. */
	const struct hl_header after[] = {
	    {"amz-sdk-invocation-id", cp->invocation_id},
	    {"amz-sdk-request", sdk_request},
	};
	const struct hl_signed_req r = {
	    .service = "healthlake",
	    .method = "POST",
	    .url = c->cfg->endpoint,
	    .host = c->host,
	    .path = c->path,
	    .query = "",
	    .headers = h,
	    .n_headers = sizeof(h) / sizeof(h[0]),
	    .unsigned_headers = after,
	    .n_unsigned = sizeof(after) / sizeof(after[0]),
	    .body = cp->body,
	    .len = strlen(cp->body),
	};
	return hl_client_send_signed(c, &r, timeout_ms, resp, sent, e);
}

enum hl_err hl_client_send_signed(struct hl_client *c, const struct hl_signed_req *r,
				  int64_t timeout_ms, struct hl_http_response *resp, bool *sent,
				  struct hl_error *e)
{
	struct hl_credentials creds = {0};
	struct hl_sigv4_result sig = {0};
	struct hl_header sh[9], hdrs[16];
	size_t ns = 0, nh = 0;
	enum hl_err rc;

	*sent = false;
	if (r->n_headers > 8 || r->n_unsigned > 2) {
		rc = hl_error_set(e, HL_ERR_INVALID, "too many headers");
		goto out;
	}
	if ((rc = hl_creds_get(c->creds, hl_real_now(), &creds, e)))
		goto out;
	sh[ns++] = (struct hl_header){"host", r->host};
	hdrs[nh++] = (struct hl_header){"Host", r->host};
	for (size_t i = 0; i < r->n_headers; i++)
		sh[ns++] = hdrs[nh++] = r->headers[i];
	struct hl_sigv4_request sreq = {
	    .method = r->method,
	    .path = r->path,
	    .query = r->query,
	    .headers = sh,
	    .n_headers = ns,
	    .body = r->body,
	    .body_len = r->len,
	    .s3 = r->s3,
	};
	if ((rc = hl_sigv4_sign(&sreq, &creds, c->cfg->region, r->service, hl_real_now(), &sig, e)))
		goto out;
	if (r->s3)
		hdrs[nh++] = (struct hl_header){"x-amz-content-sha256", sig.payload_hash};
	hdrs[nh++] = (struct hl_header){"X-Amz-Date", sig.amz_date};
	if (creds.session_token && creds.session_token[0])
		hdrs[nh++] = (struct hl_header){"X-Amz-Security-Token", creds.session_token};
	hdrs[nh++] = (struct hl_header){"Authorization", sig.authorization};
	hdrs[nh++] = (struct hl_header){"Expect", ""};
	for (size_t i = 0; i < r->n_unsigned; i++)
		hdrs[nh++] = r->unsigned_headers[i];
	struct hl_http_request req = {
	    .method = r->method,
	    .url = r->url,
	    .headers = hdrs,
	    .n_headers = nh,
	    .body = r->body,
	    .body_len = r->len,
	    .timeout_ms = (long)timeout_ms,
	    .sink = r->sink,
	    .sink_arg = r->sink_arg,
	    .max_response_bytes = r->max_response_bytes,
	};
	*sent = true;
	rc = hl_http_send(c->http, &req, resp, e);
out:
	hl_sigv4_result_free(&sig);
	hl_credentials_clear(&creds);
	return rc;
}

static void cp_decode(void *arg, const struct hl_http_response *resp, struct hl_error *e)
{
	const struct cp_call *cp = arg;
	hl_json_error_decode(resp->status, resp->reason, resp->error_type, resp->body.data,
			     resp->body.len, e);
	if (e->code == HL_ERR_AUTH)
		hl_creds_invalidate(cp->c->creds); /* rotated keys: re-read next time */
}

/* Turns e (the last attempt's error, if any) into HL_ERR_TIMEOUT, keeping
 * its code, status and request id and quoting its message. */
static enum hl_err deadline_error(struct hl_error *e, const char *when, int attempts)
{
	char last[sizeof(e->message)];
	if (!attempts)
		return hl_error_set(e, HL_ERR_TIMEOUT, "deadline reached %s", when);
	snprintf(last, sizeof(last), "%s", e->message);
	return hl_error_set(e, HL_ERR_TIMEOUT,
			    "deadline reached %s after %d attempts; last error: %s%s%s", when,
			    attempts, e->aws_code[0] ? e->aws_code : hl_err_name(e->code),
			    last[0] ? ": " : "", last);
}

static bool accepted(const struct hl_call *call, long status)
{
	if (status >= 200 && status < 300)
		return true;
	for (size_t i = 0; i < sizeof(call->accept_status) / sizeof(call->accept_status[0]); i++)
		if (call->accept_status[i] && call->accept_status[i] == status)
			return true;
	return false;
}

enum hl_err hl_call_run(const struct hl_call *call, struct hl_http_response *resp,
			struct hl_call_stats *st, struct hl_error *err)
{
	struct hl_error e;
	int last_cost = 0;
	enum hl_err rc;
	int64_t deadline_ms = call->deadline_ms;

	hl_error_clear(&e);
	memset(st, 0, sizeof(*st));
	for (int n = 1;; n++) {
		int64_t now = hl_now_ms();
		if (deadline_ms && now >= deadline_ms && n == 1) {
			rc = hl_error_set(&e, HL_ERR_TIMEOUT, "deadline already passed");
			goto out;
		}
		int slot = hl_pacer_acquire(call->pacer, deadline_ms);
		if (slot < 0) {
			rc = deadline_error(&e, "while pacing", st->attempts);
			goto out;
		}
		now = hl_now_ms();
		int64_t timeout_ms = HL_ATTEMPT_TIMEOUT_MS;
		if (deadline_ms) {
			timeout_ms = deadline_ms - now;
			if (timeout_ms <= 0) {
				hl_pacer_done(call->pacer, slot, now, false);
				rc = hl_error_set(&e, HL_ERR_TIMEOUT, "deadline reached");
				goto out;
			}
		}
		struct hl_error ae;
		hl_error_clear(&ae);
		bool sent = false;
		enum hl_err trc = call->attempt(call->arg, n, timeout_ms, resp, &sent, &ae);
		/* the call reached the server, if at all, before now */
		hl_pacer_done(call->pacer, slot, hl_now_ms(), sent);
		if (!sent) {
			/* Credentials or signing failed: nothing to retry. */
			e = ae;
			rc = trc ? trc : HL_ERR_CREDENTIALS;
			goto out;
		}
		st->attempts++;
		st->bytes_in += resp->bytes_in;
		st->bytes_out += resp->bytes_out;
		snprintf(ae.request_id, sizeof(ae.request_id), "%s", resp->request_id);
		if (trc == HL_ERR_OK && accepted(call, resp->status)) {
			ae.http_status = resp->status;
			e = ae;
			rc = HL_ERR_OK;
			hl_quota_success(call->quota, last_cost);
			goto out;
		}
		if (trc == HL_ERR_OK) {
			ae.http_status = resp->status;
			call->decode(call->arg, resp, &ae);
		}
		e = ae;
		rc = ae.code;
		enum hl_retry kind = hl_retry_classify(trc, resp->status, ae.aws_code);
		if (trc == HL_ERR_OK && call->throttle_429 && resp->status == 429)
			kind = HL_RETRY_THROTTLE;
		if (kind == HL_RETRY_THROTTLE)
			st->throttled++;
		if (call->throttle_429 && kind == HL_RETRY_THROTTLE)
			rc = e.code = HL_ERR_THROTTLED;
		bool unknown_outcome =
		    trc != HL_ERR_OK ? !resp->connect_failed : resp->status >= 500;
		if (unknown_outcome && !call->replay_safe)
			st->maybe_applied = true; /* not sent again: the caller may look */
		if (trc == HL_ERR_TIMEOUT && deadline_ms && hl_now_ms() >= deadline_ms)
			goto out; /* the transfer ran into the deadline itself */
		if (kind == HL_RETRY_NO || n >= call->max_attempts)
			goto out;
		/* A receiver that already got bytes cannot take them again, and an
		 * unsafe request may already have done its work. */
		if ((resp->sunk && !call->sink_restartable) || (unknown_outcome && !call->replay_safe))
			goto out;
		int64_t delay = hl_backoff_ms(n, hl_rand_unit());
		if (deadline_ms && hl_now_ms() + delay >= deadline_ms) {
			rc = deadline_error(&e, "before the next retry", st->attempts);
			goto out;
		}
		/* Only a retry that will happen spends quota. */
		int cost = hl_quota_acquire(call->quota, kind == HL_RETRY_TIMEOUT);
		if (!cost) {
			size_t l = strlen(e.message);
			snprintf(e.message + l, sizeof(e.message) - l, " (retry quota exhausted)");
			goto out;
		}
		last_cost = cost;
		if (unknown_outcome)
			st->maybe_applied = true;
		hl_sleep_until_ms(hl_now_ms() + delay);
	}
out:
	e.code = rc;
	if (err)
		*err = e;
	return rc;
}

enum hl_err hl_client_call(struct hl_client *c, const char *op, const char *body,
			   int64_t deadline_ms, cJSON **ret, struct hl_error *err)
{
	struct hl_http_response resp;
	struct hl_error e;
	struct hl_call_info info = {.operation = op};
	struct hl_call_stats st = {0};
	char invocation_id[37];
	int64_t t0 = hl_now_ms();
	cJSON *root = NULL;
	enum hl_err rc;

	hl_http_response_init(&resp);
	hl_error_clear(&e);
	if ((rc = hl_uuid4(invocation_id))) {
		hl_error_set(&e, rc, "no randomness for the invocation id");
		goto out;
	}
	struct cp_call cp = {.c = c, .op = op, .body = body, .invocation_id = invocation_id};
	/* Every control-plane operation is safe to replay: reads are, and the
	 * job and store starts carry a ClientToken. */
	struct hl_call call = {
	    .pacer = &c->pacer,
	    .quota = &c->quota,
	    .max_attempts = c->max_attempts,
	    .deadline_ms = deadline_ms,
	    .replay_safe = true,
	    .attempt = cp_attempt,
	    .decode = cp_decode,
	    .arg = &cp,
	};
	rc = hl_call_run(&call, &resp, &st, &e);
	if (rc == HL_ERR_OK)
		rc = hl_json_parse_object(resp.body.data, resp.body.len, &root, &e);
out:
	hl_http_response_free(&resp);
	info.attempts = st.attempts;
	info.throttled = st.throttled;
	info.bytes_in = st.bytes_in;
	info.bytes_out = st.bytes_out;
	info.code = rc;
	info.aws_code = e.aws_code;
	info.http_status = e.http_status;
	info.request_id = e.request_id;
	info.ms = (double)(hl_now_ms() - t0);
	if (c->on_call)
		c->on_call(c->on_call_arg, &info);
	if (rc) {
		e.code = rc;
		if (err)
			*err = e;
		cJSON_Delete(root);
		return rc;
	}
	if (err)
		*err = e;
	*ret = root;
	return HL_ERR_OK;
}
