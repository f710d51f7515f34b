#include "query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* Percent-decodes s[0..n) into tmp, then appends it strictly encoded. */
static enum hl_err reencode(struct hl_buf *out, struct hl_buf *tmp, const char *s, size_t n)
{
	enum hl_err rc = HL_ERR_OK;
	hl_buf_reset(tmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hl_hex_value(s[i + 1])) >= 0 && (lo = hl_hex_value(s[i + 2])) >= 0) {
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
				if (i + 2 >= n || hl_hex_value(seg[i + 1]) < 0 || hl_hex_value(seg[i + 2]) < 0)
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

struct origin {
	CURLU *u;
	char *scheme, *host, *port, *path, *query;
};

static void origin_free(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
	curl_free(o->path);
	curl_free(o->query);
	curl_url_cleanup(o->u);
}

/* Parses url without normalising its path; false when it is not absolute. */
static bool origin_parse(const char *url, struct origin *o)
{
	memset(o, 0, sizeof(*o));
	o->u = curl_url();
	if (!o->u || curl_url_set(o->u, CURLUPART_URL, url, CURLU_PATH_AS_IS) ||
	    curl_url_get(o->u, CURLUPART_SCHEME, &o->scheme, 0) ||
	    curl_url_get(o->u, CURLUPART_HOST, &o->host, 0) ||
	    curl_url_get(o->u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) ||
	    curl_url_get(o->u, CURLUPART_PATH, &o->path, 0))
		return false;
	if (curl_url_get(o->u, CURLUPART_QUERY, &o->query, 0) != CURLUE_OK)
		o->query = NULL; /* none */
	return true;
}

enum hl_err hl_query_next_link(const char *request_url, const char *link, char **ret_path,
			       char **ret_query, struct hl_error *err)
{
	struct origin req, nl;
	struct hl_buf q;
	char *path = NULL;
	enum hl_err rc;

	hl_buf_init(&q, 64 * 1024);
	bool req_ok = origin_parse(request_url, &req);
	bool link_ok = link && origin_parse(link, &nl);
	if (!link)
		memset(&nl, 0, sizeof(nl));
	if (!req_ok) {
		rc = hl_error_set(err, HL_ERR_INVALID, "request URL is not absolute");
		goto out;
	}
	if (!link_ok) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "next link is not an absolute URL");
		goto out;
	}
	if (strcasecmp(req.scheme, nl.scheme) != 0 || strcasecmp(req.host, nl.host) != 0 ||
	    strcmp(req.port, nl.port) != 0) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL,
				  "next link points to another origin; not followed");
		goto out;
	}
	if (!clean_path(nl.path)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "next link has an unusable path");
		goto out;
	}
	if (nl.query && (rc = hl_query_encode(nl.query, strlen(nl.query), &q))) {
		hl_error_set(err, rc, "next link query too long");
		goto out;
	}
	path = strdup(nl.path);
	char *query = hl_buf_steal(&q);
	if (!path || !query) {
		free(query);
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
	origin_free(&req);
	origin_free(&nl);
	return rc;
}
