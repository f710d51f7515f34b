/* A bounded, growable byte buffer: every request, URL, header and body in
 * libhealthlake is built in one of these. */
#ifndef HL_BUF_H
#define HL_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct hl_buf {
	char *data;  /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* appends that would exceed this fail with HL_ERR_TOO_LARGE */
};

/* max == 0 means the default bound (16 MiB). No allocation happens here. */
void hl_buf_init(struct hl_buf *b, size_t max);
/* Frees the storage; the buffer is then empty and reusable. NULL is fine. */
void hl_buf_free(struct hl_buf *b);
/* Keeps the storage, sets len to 0. */
void hl_buf_reset(struct hl_buf *b);
/* Overwrites the contents with zeros before freeing (for secrets). */
void hl_buf_free_secure(struct hl_buf *b);

enum hl_err hl_buf_append(struct hl_buf *b, const void *p, size_t n);
enum hl_err hl_buf_appends(struct hl_buf *b, const char *s);
enum hl_err hl_buf_appendc(struct hl_buf *b, char c);
enum hl_err hl_buf_appendf(struct hl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Percent-encodes n bytes of s as SigV4 requires: every byte except
 * A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash) becomes %XX, uppercase hex.
 * The one URI encoder of the library: signer and URL builder both use it. */
enum hl_err hl_buf_append_uri(struct hl_buf *b, const char *s, size_t n, bool keep_slash);

/* The value of one hex digit (either case), -1 for any other byte. */
int hl_hex_value(char c);

/* Hands the storage to the caller (free() it); the buffer is then empty.
 * Returns "" (allocated) for an empty buffer, NULL on allocation failure. */
char *hl_buf_steal(struct hl_buf *b);

#endif
