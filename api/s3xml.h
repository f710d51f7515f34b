/* S3's XML answers (AWS-CONVENTIONS.md §8): ListObjectsV2 pages and error
 * documents, read with libexpat. Pure: no I/O, no clock, no global state.
 *
 * Hostile input is refused, not survived: any DOCTYPE (so no entity can be
 * declared: no billion laughs, no external entities), malformed XML, nesting
 * deeper than 32 elements, or a value longer than 16 KiB is HL_ERR_PROTOCOL.
 * Memory is bounded by the input: the objects read plus one value. */
#ifndef HL_S3XML_H
#define HL_S3XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* One <Contents>. Strings are NUL-terminated copies. */
struct hl_s3_object {
	char *key;           /* decoded: EncodingType=url already undone */
	uint64_t size;
	char *etag;          /* as sent, quotes included; NULL when absent */
	char *last_modified; /* as sent, e.g. "2026-12-01T10:00:00.000Z" */
	double mtime;        /* last_modified in seconds since the epoch */
	char *storage_class; /* NULL when absent */
};

struct hl_s3_list {
	struct hl_s3_object *objects;
	size_t n_objects;
	char **prefixes; /* <CommonPrefixes><Prefix>, decoded like keys */
	size_t n_prefixes;
	bool is_truncated;
	char *next_token; /* NextContinuationToken; set whenever is_truncated */
	bool has_key_count;
	uint64_t key_count; /* KeyCount when has_key_count */
	bool url_encoded;   /* EncodingType was "url" */
};

/* Reads a ListBucketResult (ListObjectsV2). Each <Contents> needs Key, Size
 * and a LastModified that parses; a truncated page needs a continuation
 * token; an EncodingType=url key must decode (%XX, '+' is a space) to bytes
 * without NUL. Anything else is HL_ERR_PROTOCOL naming the element, never a
 * key. On success the caller frees with hl_s3_list_clear(); on error *ret is
 * zeroed. */
enum hl_err hl_s3_list_parse(const char *xml, size_t len, struct hl_s3_list *ret,
			     struct hl_error *err);
/* Frees everything and zeroes *l. NULL is fine. */
void hl_s3_list_clear(struct hl_s3_list *l);

/* Decodes an S3 error answer (status >= 300, body maybe empty as for HEAD)
 * into *err: aws_code from <Code> (else the status number), message from
 * <Message> (one printable line), request_id from <RequestId> unless already
 * set, http_status, and err->code: NoSuchKey/NoSuchBucket NOT_FOUND,
 * AccessDenied ACCESS_DENIED, SlowDown THROTTLED, InternalError SERVER,
 * InvalidRange RANGE, PreconditionFailed PRECONDITION, signature and key
 * errors AUTH, then by status (404, 403, 412, 416, 405/501, 413, 5xx).
 * Never fails; returns err->code. err must not be NULL. */
enum hl_err hl_s3_error_decode(long status, const char *body, size_t len, struct hl_error *err);

#endif
