/* HTTP transport of libhealthlake over libcurl: a pool of easy handles (each
 * used by one thread at a time) sharing one DNS, TLS-session and connection
 * cache, so sequential and concurrent calls reuse connections. One request
 * = one POST; no retries here (client.c decides). */
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

struct hl_http_request {
	const char *url;
	const struct hl_header *headers; /* sent as given, in order; "Name:" with an empty
					  * value is sent as an empty header */
	size_t n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms; /* whole transfer, > 0 */
};

struct hl_http_response {
	long status;	      /* 0 when no answer */
	char reason[64];      /* reason phrase of the status line */
	char request_id[64];  /* x-amzn-RequestId */
	char error_type[128]; /* X-Amzn-ErrorType, raw */
	struct hl_buf body;   /* capped at max_response_bytes */
	size_t bytes_in;      /* body bytes received */
	size_t bytes_out;     /* body bytes sent */
	bool timed_out;	      /* the failure was a connect or transfer timeout */
	bool connect_failed;  /* the failure happened before the request was sent */
};

/* Initialises *r (empty); free with hl_http_response_free(). */
void hl_http_response_init(struct hl_http_response *r);
void hl_http_response_free(struct hl_http_response *r);

/* Sends req and fills *resp. Returns HL_ERR_OK whenever an HTTP answer came
 * back, whatever its status; otherwise HL_ERR_RESOLVE, HL_ERR_NETWORK,
 * HL_ERR_TLS, HL_ERR_TIMEOUT or HL_ERR_TOO_LARGE with err set. Thread-safe. */
enum hl_err hl_http_post(struct hl_http *h, const struct hl_http_request *req,
			 struct hl_http_response *resp, struct hl_error *err);

#endif
