#include "url.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

static char lower(char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3986 unreserved characters: what a DNS name or IPv4 address uses. */
static bool is_host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static enum hl_err parse_port(const char *p, size_t n, unsigned *ret)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return HL_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return HL_ERR_INVALID;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return HL_ERR_INVALID;
	*ret = v;
	return HL_ERR_OK;
}

enum hl_err hl_url_parse(const char *url, struct hl_url *ret)
{
	struct hl_url u = {0};
	if (!url)
		return HL_ERR_INVALID;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return HL_ERR_INVALID;
	const char *sep = strstr(url, "://");
	if (!sep || sep == url || (size_t)(sep - url) >= sizeof(u.scheme) || !is_alpha(url[0]))
		return HL_ERR_INVALID;
	for (const char *p = url; p < sep; p++) {
		if (!is_alpha(*p) && !is_digit(*p) && *p != '+' && *p != '-' && *p != '.')
			return HL_ERR_INVALID;
		u.scheme[p - url] = lower(*p);
	}
	const char *h = sep + 3;
	size_t alen = strcspn(h, "/?#");
	const char *hs = h, *he, *port = NULL;
	if (*h == '[') {
		const char *close = memchr(h, ']', alen);
		if (!close)
			return HL_ERR_INVALID;
		hs = h + 1;
		he = close;
		if (close + 1 < h + alen) {
			if (close[1] != ':')
				return HL_ERR_INVALID;
			port = close + 2;
		}
		u.ipv6 = true;
	} else {
		const char *colon = memchr(h, ':', alen);
		he = colon ? colon : h + alen;
		if (colon)
			port = colon + 1;
		for (const char *p = hs; p < he; p++)
			if (!is_host_char(*p))
				return HL_ERR_INVALID; /* '@' (user:password@) among others */
	}
	size_t hn = (size_t)(he - hs);
	if (hn == 0 || hn >= sizeof(u.host))
		return HL_ERR_INVALID;
	for (size_t i = 0; i < hn; i++)
		u.host[i] = lower(hs[i]);
	unsigned char a6[16];
	if (u.ipv6 && inet_pton(AF_INET6, u.host, a6) != 1)
		return HL_ERR_INVALID;
	if (port && parse_port(port, (size_t)(h + alen - port), &u.port))
		return HL_ERR_INVALID;
	const char *rest = h + alen;
	u.path = rest;
	u.path_len = *rest == '/' ? strcspn(rest, "?#") : 0;
	rest += u.path_len;
	u.has_query = *rest == '?';
	u.has_fragment = strchr(rest, '#') != NULL;
	*ret = u;
	return HL_ERR_OK;
}

bool hl_url_host_is_loopback(const char *host)
{
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char lo[16] = {[15] = 1};
		static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
		return memcmp(a, lo, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
	}
	return false;
}

bool hl_url_allowed(const char *url)
{
	struct hl_url u;
	if (hl_url_parse(url, &u))
		return false;
	if (strcmp(u.scheme, "https") == 0)
		return true;
	return strcmp(u.scheme, "http") == 0 && hl_url_host_is_loopback(u.host);
}

enum hl_err hl_url_split(const char *url, char **ret_host, char **ret_path, struct hl_error *err)
{
	struct hl_url u;
	struct hl_buf b;
	char *host = NULL, *path = NULL;
	enum hl_err rc;
	hl_buf_init(&b, 512);
	if (hl_url_parse(url, &u)) {
		rc = hl_error_set(err, HL_ERR_CONFIG, "invalid endpoint URL");
		goto out;
	}
	if (u.has_query || u.has_fragment) {
		rc = hl_error_set(err, HL_ERR_CONFIG, "endpoint URL must not have a query");
		goto out;
	}
	bool default_port = !u.port || (strcmp(u.scheme, "https") == 0 && u.port == 443) ||
			    (strcmp(u.scheme, "http") == 0 && u.port == 80);
	if ((rc = hl_buf_appendf(&b, u.ipv6 ? "[%s]" : "%s", u.host)) ||
	    (!default_port && (rc = hl_buf_appendf(&b, ":%u", u.port)))) {
		hl_error_set(err, rc, "endpoint host too long");
		goto out;
	}
	host = hl_buf_steal(&b);
	path = u.path_len ? strndup(u.path, u.path_len) : strdup("/");
	if (!host || !path) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	*ret_host = host;
	*ret_path = path;
	host = path = NULL;
	rc = HL_ERR_OK;
out:
	free(host);
	free(path);
	hl_buf_free(&b);
	return rc;
}
