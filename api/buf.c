#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HL_BUF_DEFAULT_MAX (16u * 1024 * 1024)

void hl_buf_init(struct hl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : HL_BUF_DEFAULT_MAX;
}

void hl_buf_free(struct hl_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void hl_buf_free_secure(struct hl_buf *b)
{
	if (!b)
		return;
	if (b->data) {
		/* volatile so the compiler cannot drop the wipe of a buffer about to be freed */
		volatile char *p = b->data;
		for (size_t i = 0; i < b->cap; i++)
			p[i] = 0;
	}
	hl_buf_free(b);
}

void hl_buf_reset(struct hl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static enum hl_err grow(struct hl_buf *b, size_t extra)
{
	if (extra > b->max || b->len > b->max - extra)
		return HL_ERR_TOO_LARGE;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return HL_ERR_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return HL_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return HL_ERR_OK;
}

enum hl_err hl_buf_append(struct hl_buf *b, const void *p, size_t n)
{
	enum hl_err e = grow(b, n);
	if (e)
		return e;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return HL_ERR_OK;
}

enum hl_err hl_buf_appends(struct hl_buf *b, const char *s)
{
	return hl_buf_append(b, s, strlen(s));
}

enum hl_err hl_buf_appendc(struct hl_buf *b, char c)
{
	return hl_buf_append(b, &c, 1);
}

enum hl_err hl_buf_appendf(struct hl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return HL_ERR_INVALID;
	enum hl_err e = grow(b, (size_t)n);
	if (e)
		return e;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return HL_ERR_OK;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

enum hl_err hl_buf_append_uri(struct hl_buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		enum hl_err e;
		if (unreserved(c) || (keep_slash && c == '/')) {
			e = hl_buf_appendc(b, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			e = hl_buf_append(b, esc, 3);
		}
		if (e)
			return e;
	}
	return HL_ERR_OK;
}

char *hl_buf_steal(struct hl_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int hl_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
