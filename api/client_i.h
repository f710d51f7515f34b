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

/* ---- The retry loop shared by the control plane, FHIR and S3 ---- */

/* Builds, signs (fresh credentials, current time) and sends attempt n.
 * *sent false: nothing reached the wire (credentials, signing), so the
 * call ends with that error. */
typedef enum hl_err (*hl_attempt_fn)(void *arg, int n, int64_t timeout_ms,
				     struct hl_http_response *resp, bool *sent,
				     struct hl_error *e);
/* Turns an answer the call does not accept into e (code, aws_code,
 * message); e->http_status and e->request_id are already set. */
typedef void (*hl_decode_fn)(void *arg, const struct hl_http_response *resp,
			     struct hl_error *e);

struct hl_call {
	struct hl_pacer *pacer;
	struct hl_retry_quota *quota;
	int max_attempts;
	int64_t deadline_ms;   /* absolute hl_now_ms(); 0: none */
	bool replay_safe;      /* false (a POST without idempotency key): once a request may
				* have reached the server it is never sent again */
	bool throttle_429;     /* the data plane also treats a bare 429 as throttling */
	bool sink_restartable; /* each attempt's sink starts over (a ranged read into a
				* buffer), so a stream cut midway may be retried */
	long accept_status[4]; /* statuses that end the call successfully besides 2xx; 0 ends */
	hl_attempt_fn attempt;
	hl_decode_fn decode;
	void *arg;
};

struct hl_call_stats {
	int attempts;  /* sent */
	int throttled; /* answered with throttling */
	size_t bytes_in, bytes_out;
	bool maybe_applied; /* an earlier attempt was sent and its outcome is unknown
			     * (no answer, or 5xx): a later 412/409 may be our own echo;
			     * for a call not replay_safe, the last attempt's outcome */
};

/* Runs call: pacing, attempts, retries with standard-mode backoff and the
 * quota. A successful answer (2xx or accept_status) is left in *resp (init
 * by the caller) and returns HL_ERR_OK; err gets its status and request id.
 * Which error a failed call returns:
 * - attempts ran out, or the retry quota did: the last attempt's error
 *   (HL_ERR_THROTTLED when it was throttled, HL_ERR_SERVER for 5xx, ...);
 * - the deadline was reached while pacing, during a transfer, or the next
 *   backoff would end past it: HL_ERR_TIMEOUT, with the last attempt's
 *   aws_code/http_status/request_id kept and its message quoted;
 * - anything not retryable, or a streamed answer that failed after its
 *   first bytes reached the sink (unless sink_restartable): that error, at
 *   once.
 * *resp then holds the last answer, if any. */
enum hl_err hl_call_run(const struct hl_call *call, struct hl_http_response *resp,
			struct hl_call_stats *st, struct hl_error *err);

/* One request, signed with a fresh credentials snapshot and the current
 * time, then sent: headers (besides Host) are signed and sent as given;
 * X-Amz-Date, the token, x-amz-content-sha256 (s3) and Authorization are
 * added; unsigned_headers are sent last, unsigned. */
struct hl_signed_req {
	const char *service; /* "healthlake", "s3" */
	bool s3;	     /* S3's signing rules */
	const char *method;
	const char *url;
	const char *host;  /* Host header, as signed */
	const char *path;  /* as on the wire */
	const char *query; /* as on the wire, strictly encoded; "" for none */
	const struct hl_header *headers;
	size_t n_headers; /* at most 8 */
	const struct hl_header *unsigned_headers;
	size_t n_unsigned; /* at most 2 */
	const void *body;
	size_t len;
	hl_http_sink sink;
	void *sink_arg;
	size_t max_response_bytes;
};

/* An hl_attempt_fn body: *sent false when signing or credentials failed. */
enum hl_err hl_client_send_signed(struct hl_client *c, const struct hl_signed_req *r,
				  int64_t timeout_ms, struct hl_http_response *resp, bool *sent,
				  struct hl_error *e);

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
