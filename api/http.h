/* HTTP transport of libhealthlake over libcurl: a pool of easy handles (each
 * used by one thread at a time) sharing one DNS, TLS-session and connection
 * cache, so sequential and concurrent calls reuse connections. One call =
 * one request of any method; no retries here (client.c decides). */
#ifndef HL_HTTP_H
#define HL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "sigv4.h"

struct hl_http_options {
	const char *ca_file;	   /* NULL: the system store. Verification is always on */
	long connect_timeout_ms;   /* 0: 5000 */
	size_t max_response_bytes; /* 0: 8 MiB */
};

struct hl_http;

/* Caller frees with hl_http_free(). */
enum hl_err hl_http_new(const struct hl_http_options *opt, struct hl_http **ret,
			struct hl_error *err);
/* Frees every pooled handle and the share; no request may be in flight. */
void hl_http_free(struct hl_http *h);

/* Receives the body of a 2xx answer as it arrives (other answers are
 * buffered in resp->body for error decoding). Returns 0 to go on, anything
 * else to abort the transfer. */
typedef int (*hl_http_sink)(void *arg, const char *p, size_t n);

struct hl_http_request {
	const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD"; NULL: "POST" */
	const char *url;    /* sent as is: no dot-segment removal, no re-encoding */
	const struct hl_header *headers; /* sent as given, in order; "Name:" with an empty
					  * value is sent as an empty header */
	size_t n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms; /* whole transfer, > 0 */
	hl_http_sink sink; /* NULL: 2xx bodies go to resp->body too */
	void *sink_arg;
	size_t max_response_bytes; /* 0: the transport's; only without a sink */
};

struct hl_http_response {
	long status;	      /* 0 when no answer */
	char reason[64];      /* reason phrase of the status line */
	char request_id[64];  /* x-amzn-RequestId */
	char error_type[128]; /* X-Amzn-ErrorType, raw */
	char etag[256];
	char last_modified[64];
	char location[2048];
	char content_range[128];
	char amz_error_code[64]; /* x-amz-error-code (S3 HEAD errors carry no body) */
	long long content_length; /* -1 when absent */
	struct hl_buf body;   /* capped at max_response_bytes; empty for a sunk 2xx */
	size_t bytes_in;      /* body bytes received */
	size_t bytes_out;     /* body bytes sent */
	bool timed_out;	      /* the failure was a connect or transfer timeout */
	bool connect_failed;  /* the failure happened before the request was sent */
	bool sink_aborted;    /* the sink returned non-zero */
	size_t sunk;	      /* bytes handed to the sink */
};

/* Initialises *r (empty); free with hl_http_response_free(). */
void hl_http_response_init(struct hl_http_response *r);
void hl_http_response_free(struct hl_http_response *r);

/* Sends req and fills *resp. Returns HL_ERR_OK whenever an HTTP answer came
 * back, whatever its status; otherwise HL_ERR_RESOLVE, HL_ERR_NETWORK,
 * HL_ERR_TLS, HL_ERR_TIMEOUT or HL_ERR_TOO_LARGE with err set. Thread-safe. */
enum hl_err hl_http_send(struct hl_http *h, const struct hl_http_request *req,
			 struct hl_http_response *resp, struct hl_error *err);
/* hl_http_send with req->method ignored: always POST. */
enum hl_err hl_http_post(struct hl_http *h, const struct hl_http_request *req,
			 struct hl_http_response *resp, struct hl_error *err);

#endif
