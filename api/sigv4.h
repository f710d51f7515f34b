/* AWS Signature Version 4: a pure function of the request, the credentials,
 * the scope and the time. No I/O, no clock. */
#ifndef HL_SIGV4_H
#define HL_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "creds.h"
#include "err.h"

struct hl_header {
	const char *name;
	const char *value;
};

struct hl_sigv4_request {
	const char *method;          /* "POST", "GET", ... */
	const char *path;            /* as sent on the wire (percent-encoded once); "" means "/" */
	const char *query;           /* as sent on the wire, strictly encoded, without '?'; NULL or "" for none */
	const struct hl_header *headers; /* headers to sign; must include "host". x-amz-date and
					   * x-amz-security-token are added by the signer. */
	size_t n_headers;
	const void *body;
	size_t body_len;
};

/* Everything the signer produced. All strings owned; free with hl_sigv4_result_free(). */
struct hl_sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *authorization;   /* value of the Authorization header */
	char *signed_headers;  /* "content-type;host;x-amz-date;..." */
	char amz_date[17];     /* value to send as X-Amz-Date: YYYYMMDDTHHMMSSZ */
};

/* Signs req for (region, service) at time now. The caller sends X-Amz-Date:
 * ret->amz_date, X-Amz-Security-Token: creds->session_token when non-empty, and
 * Authorization: ret->authorization. On error *ret is untouched. */
enum hl_err hl_sigv4_sign(const struct hl_sigv4_request *req, const struct hl_credentials *creds,
			  const char *region, const char *service, time_t now,
			  struct hl_sigv4_result *ret, struct hl_error *err);

/* NULL-safe; wipes nothing secret because the result holds no secret. */
void hl_sigv4_result_free(struct hl_sigv4_result *r);

/* Lowercase hex SHA-256 of data into out[65]. */
void hl_sha256_hex(const void *data, size_t len, char out[65]);

#endif
