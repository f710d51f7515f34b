/* Inside libhealthlake: the client object, its retry policy (SDK standard
 * mode), its pacer and the one function that performs an API call. The
 * policy pieces are pure (time and randomness come in as parameters) so the
 * unit tests pin them. */
#ifndef HL_CLIENT_I_H
#define HL_CLIENT_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "creds.h"
#include "err.h"
#include "healthlake.h"
#include "http.h"
#include "pacer.h"
#include "rand.h" /* hl_uuid4(), hl_rand_unit(): were declared here */

/* ---- Retry quota (standard mode): 500 tokens per client. ---- */
#define HL_QUOTA_MAX 500
#define HL_QUOTA_RETRY_COST 5
#define HL_QUOTA_TIMEOUT_COST 10

struct hl_retry_quota {
	pthread_mutex_t lock;
	int tokens; /* protected by lock */
};

void hl_quota_init(struct hl_retry_quota *q);
void hl_quota_destroy(struct hl_retry_quota *q);
/* Takes the cost of one retry; returns it, or 0 when too few tokens are left
 * (then the caller must not retry). */
int hl_quota_acquire(struct hl_retry_quota *q, bool timeout);
/* After a successful call: +1 when it needed no retry (last_cost 0), else
 * gives back last_cost. Never above HL_QUOTA_MAX. */
void hl_quota_success(struct hl_retry_quota *q, int last_cost);

/* ---- Retry decision ---- */
enum hl_retry {
	HL_RETRY_NO,
	HL_RETRY_YES,	   /* transient: 500/502/503/504, RequestTimeout codes, connection errors */
	HL_RETRY_THROTTLE, /* a throttling code, at any status */
	HL_RETRY_TIMEOUT,  /* a connect/read timeout: retried at the higher quota cost */
};

/* transport: what hl_http_post returned (HL_ERR_OK when an answer came);
 * status/aws_code: of that answer. */
enum hl_retry hl_retry_classify(enum hl_err transport, long status, const char *aws_code);

/* Full-jitter backoff after failed attempt n (1-based): r * min(2^(n-1), 20) s,
 * r in [0,1). In milliseconds. */
int64_t hl_backoff_ms(int n, double r);

struct hl_client {
	struct hl_config *cfg;
	struct hl_creds_provider *creds;
	struct hl_http *http;
	char *host; /* Host header, as signed */
	char *path; /* request path, as signed */
	int max_attempts;
	struct hl_pacer pacer;
	struct hl_retry_quota quota;
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

/* Performs operation op ("DescribeFHIRDatastore") with the given JSON body:
 * pacing, signing, sending, retrying, decoding errors, reporting on_call.
 * On success *ret is the parsed response object (caller cJSON_Delete()s).
 *
 * Each attempt takes a pacer slot, a fresh credentials snapshot and a fresh
 * signature over the same body bytes. Which error a failed call returns:
 * - attempts ran out, or the retry quota did: the last attempt's error
 *   (HL_ERR_THROTTLED when it was throttled, HL_ERR_SERVER for 5xx, ...);
 * - the deadline was reached while pacing, during a transfer, or the next
 *   backoff would end past it: HL_ERR_TIMEOUT, with the last attempt's
 *   aws_code/http_status/request_id kept and its message quoted;
 * - anything not retryable: that error, at once.
 * A call refused before sending (pacing, credentials) is reported to
 * on_call with attempts 0. */
enum hl_err hl_client_call(struct hl_client *c, const char *op, const char *body,
			   int64_t deadline_ms, cJSON **ret, struct hl_error *err);

#endif
