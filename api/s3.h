/* Reading job output from S3 (AWS-CONVENTIONS.md §8): ListObjectsV2 with
 * paging, HeadObject and ranged GetObject into the caller's buffer, signed
 * with S3's rules, retried by the client's loop, paced by its own budget.
 * Endpoint resolved like the AWS CLI's; path-style addressing for a
 * configured endpoint, virtual-hosted on AWS. Knows nothing of FUSE.
 * Thread-safe. */
#ifndef HL_S3_H
#define HL_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "healthlake.h"
#include "s3xml.h"

struct hl_s3_options {
	const char *endpoint;  /* explicit (s3_endpoint=); NULL: AWS_ENDPOINT_URL_S3, ... */
	bool force_path_style; /* path style on AWS too */
	double tps;	       /* own pacer (pacer.h), arrivals/s; 0: 5,500 (S3's GET rate per prefix) */
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

struct hl_s3;

/* Borrows c (configuration, credentials, transport), which must outlive the
 * result. Caller frees with hl_s3_free(). */
enum hl_err hl_s3_new(struct hl_client *c, const struct hl_s3_options *opt, struct hl_s3 **ret,
		      struct hl_error *err);
void hl_s3_free(struct hl_s3 *s);
/* The resolved endpoint URL. */
const char *hl_s3_endpoint(const struct hl_s3 *s);

/* Every object whose key starts with prefix, all pages (continuation
 * tokens passed back unchanged; a token seen twice is HL_ERR_PROTOCOL).
 * bucket must be a valid bucket name, else HL_ERR_INVALID and nothing is
 * sent. Caller frees *ret with hl_s3_list_clear(). Errors as
 * hl_s3_error_decode() maps them (NoSuchBucket NOT_FOUND, AccessDenied
 * ACCESS_DENIED, SlowDown THROTTLED after the last retry, ...). */
enum hl_err hl_s3_list_all(struct hl_s3 *s, const char *bucket, const char *prefix,
			   int64_t deadline_ms, struct hl_s3_list *ret, struct hl_error *err);

struct hl_s3_head {
	uint64_t size;
	char etag[256];	       /* as sent, quotes included */
	char last_modified[64]; /* HTTP date, as sent */
};

enum hl_err hl_s3_head_object(struct hl_s3 *s, const char *bucket, const char *key,
			      int64_t deadline_ms, struct hl_s3_head *ret, struct hl_error *err);

/* Reads bytes [off, off + len) of the object into buf (len > 0); *ret_n is
 * the number read, less than len only at the object's end. With if_match
 * (an ETag, quotes included) an object that changed is HL_ERR_PRECONDITION;
 * off at or past the end is HL_ERR_RANGE. */
enum hl_err hl_s3_get_range(struct hl_s3 *s, const char *bucket, const char *key, uint64_t off,
			    size_t len, const char *if_match, void *buf, size_t *ret_n,
			    int64_t deadline_ms, struct hl_error *err);

/* ---- Pure pieces, exposed for the unit tests ---- */

/* S3's bucket naming rules (3-63 of a-z 0-9 . -, starting and ending with a
 * letter or digit, no "..", not an IPv4 address). */
bool hl_s3_bucket_valid(const char *bucket);
/* Whether bucket can be addressed virtual-hosted over TLS (valid, no dots). */
bool hl_s3_bucket_virtual_ok(const char *bucket);

#endif
