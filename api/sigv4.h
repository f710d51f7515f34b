/* AWS Signature Version 4: a pure function of the request, the credentials,
 * the scope and the time. No I/O, no clock. */
#ifndef HL_SIGV4_H
#define HL_SIGV4_H

#include <stdbool.h>
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
	/* S3's rules (botocore S3SigV4Auth): the canonical URI is the path
	 * exactly as sent (no dot-segment removal, no second encoding), and the
	 * signer adds and signs x-amz-content-sha256 (replacing the caller's),
	 * which the caller then sends with the value in payload_hash. */
	bool s3;
};

/* Everything the signer produced. All strings owned; free with hl_sigv4_result_free(). */
struct hl_sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *authorization;   /* value of the Authorization header */
	char *signed_headers;  /* "content-type;host;x-amz-date;..." */
	char amz_date[17];     /* value to send as X-Amz-Date: YYYYMMDDTHHMMSSZ */
	char payload_hash[65]; /* hex SHA-256 of the body; S3: send as x-amz-content-sha256 */
};

/* Signs req for (region, service) at time now. The caller sends X-Amz-Date:
 * ret->amz_date, X-Amz-Security-Token: creds->session_token when non-empty, and
 * Authorization: ret->authorization. Every header in req->headers is signed
 * except Authorization and X-Amz-Date (replaced) and X-Amz-Security-Token when
 * the credentials carry a token (replaced). HL_ERR_INVALID for a NULL or
 * non-alphabetic method, NULL path, no Host header, a Date header, a header
 * name that is not an HTTP token, CR/LF in a value or token, an empty key,
 * secret, region or service. Caller frees *ret with hl_sigv4_result_free();
 * on error *ret is untouched and *err (may be NULL) says why, never quoting a secret. */
enum hl_err hl_sigv4_sign(const struct hl_sigv4_request *req, const struct hl_credentials *creds,
			  const char *region, const char *service, time_t now,
			  struct hl_sigv4_result *ret, struct hl_error *err);

/* NULL-safe; wipes nothing secret because the result holds no secret. */
void hl_sigv4_result_free(struct hl_sigv4_result *r);

/* Lowercase hex SHA-256 of data into out[65]. On an (unlikely) libcrypto
 * failure out is the empty string. */
void hl_sha256_hex(const void *data, size_t len, char out[65]);

/* The SigV4 key chain, exposed so tests can pin each step. Secret material:
 * wipe with hl_sigv4_keys_wipe() as soon as it is no longer needed. */
struct hl_sigv4_keys {
	unsigned char k_date[32];
	unsigned char k_region[32];
	unsigned char k_service[32];
	unsigned char k_signing[32];
};

/* kDate = HMAC("AWS4"+secret, date8) ... kSigning = HMAC(kService, "aws4_request").
 * date8 is "YYYYMMDD". Writes *ret only on success; "AWS4"+secret is wiped. */
enum hl_err hl_sigv4_derive_keys(const char *secret, const char *date8, const char *region,
				 const char *service, struct hl_sigv4_keys *ret);
/* Zeroes *k (NULL is fine). */
void hl_sigv4_keys_wipe(struct hl_sigv4_keys *k);

#endif
