#include "query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* Percent-decodes s[0..n) into tmp, then appends it strictly encoded. */
static enum hl_err reencode(struct hl_buf *out, struct hl_buf *tmp, const char *s, size_t n)
{
	enum hl_err rc = HL_ERR_OK;
	hl_buf_reset(tmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hl_hex_value(s[i + 1])) >= 0 &&
		    (lo = hl_hex_value(s[i + 2])) >= 0) {
			rc = hl_buf_appendc(tmp, (char)(hi * 16 + lo));
			i += 2;
		} else {
			rc = hl_buf_appendc(tmp, s[i]);
		}
	}
	if (!rc && tmp->len)
		rc = hl_buf_append_uri(out, tmp->data, tmp->len, false);
	return rc;
}

enum hl_err hl_query_encode(const char *raw, size_t len, struct hl_buf *out)
{
	struct hl_buf tmp;
	enum hl_err rc = HL_ERR_OK;
	bool first = out->len == 0;
	hl_buf_init(&tmp, out->max);
	for (size_t i = 0; i <= len && !rc;) {
		size_t j = i;
		while (j < len && raw[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(raw + i, '=', j - i);
			size_t klen = eq ? (size_t)(eq - (raw + i)) : j - i;
			if (!first)
				rc = hl_buf_appendc(out, '&');
			first = false;
			if (!rc)
				rc = reencode(out, &tmp, raw + i, klen);
			if (!rc)
				rc = hl_buf_appendc(out, '=');
			if (!rc && eq)
				rc = reencode(out, &tmp, eq + 1, (size_t)(raw + j - (eq + 1)));
		}
		i = j + 1;
	}
	hl_buf_free(&tmp);
	return rc;
}

enum hl_err hl_query_add(struct hl_buf *out, const char *key, const char *value)
{
	enum hl_err rc = HL_ERR_OK;
	if (out->len)
		rc = hl_buf_appendc(out, '&');
	if (!rc)
		rc = hl_buf_append_uri(out, key, strlen(key), false);
	if (!rc)
		rc = hl_buf_appendc(out, '=');
	if (!rc)
		rc = hl_buf_append_uri(out, value, strlen(value), false);
	return rc;
}

/* RFC 3986 pchar minus nothing we need: unreserved, sub-delims, ':', '@',
 * and '%' followed by two hex digits; segments neither empty nor dots. */
static bool clean_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *seg = p + 1;;) {
		size_t n = strcspn(seg, "/");
		if (n == 0 && seg[n] == '/')
			return false; /* "//" */
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)seg[i];
			if (c == '%') {
				if (i + 2 >= n || hl_hex_value(seg[i + 1]) < 0 ||
				    hl_hex_value(seg[i + 2]) < 0)
					return false;
				i += 2;
				continue;
			}
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@", c)))
				return false;
		}
		if (!seg[n])
			return true;
		seg += n + 1;
	}
}

/* The port a URL reaches: its own, else its scheme's default. */
static unsigned origin_port(const struct hl_url *u)
{
	if (u->port)
		return u->port;
	return strcmp(u->scheme, "https") == 0 ? 443 : strcmp(u->scheme, "http") == 0 ? 80 : 0;
}

enum hl_err hl_query_next_link(const char *request_url, const char *link, char **ret_path,
			       char **ret_query, struct hl_error *err)
{
	struct hl_url req, nl;
	struct hl_buf q;
	char *path = NULL;
	enum hl_err rc;

	hl_buf_init(&q, 64 * 1024);
	if (hl_url_parse(request_url, &req)) {
		rc = hl_error_set(err, HL_ERR_INVALID, "request URL is not absolute");
		goto out;
	}
	if (!link || hl_url_parse(link, &nl)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "next link is not an absolute URL");
		goto out;
	}
	if (strcmp(req.scheme, nl.scheme) != 0 || strcmp(req.host, nl.host) != 0 ||
	    req.ipv6 != nl.ipv6 || origin_port(&req) != origin_port(&nl)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL,
				  "next link points to another origin; not followed");
		goto out;
	}
	path = nl.path_len ? strndup(nl.path, nl.path_len) : strdup("/");
	if (!path) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!clean_path(path)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "next link has an unusable path");
		goto out;
	}
	if (nl.has_query) {
		const char *qs = nl.path + nl.path_len + 1; /* after the '?' */
		if ((rc = hl_query_encode(qs, strcspn(qs, "#"), &q))) {
			hl_error_set(err, rc, "next link query too long");
			goto out;
		}
	}
	char *query = hl_buf_steal(&q);
	if (!query) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	*ret_path = path;
	*ret_query = query;
	path = NULL;
	rc = HL_ERR_OK;
out:
	free(path);
	hl_buf_free(&q);
	return rc;
}
