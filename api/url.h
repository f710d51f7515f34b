/* The one URL parser of libhealthlake and its loopback rule, for the
 * service endpoint, the container credentials URL and the IMDS endpoint
 * alike, so that what the configuration accepts the client can use. Pure. */
#ifndef HL_URL_H
#define HL_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct hl_url {
	char scheme[16];  /* lowercase */
	char host[256];	  /* lowercase; an IPv6 literal without its brackets */
	bool ipv6;	  /* host was a [bracketed] IPv6 literal */
	unsigned port;	  /* 0 when the URL names none */
	const char *path; /* borrowed from the parsed string: from the first '/' after
			   * the host up to '?' or '#' ("" when none) */
	size_t path_len;
	bool has_query;	   /* a '?' follows */
	bool has_fragment; /* a '#' follows */
};

/* Parses an absolute URL scheme://host[:port][/path][?query][#fragment].
 * Refused (HL_ERR_INVALID): no scheme, user:password@, an empty host or
 * one with characters no host name has, an IPv6 literal inet_pton
 * refuses, a port outside 1-65535, spaces or control characters anywhere.
 * *ret borrows url for path. */
enum hl_err hl_url_parse(const char *url, struct hl_url *ret);

/* True for "localhost" (any case), 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104
 * (IPv4-mapped loopback). host as in struct hl_url (no brackets). */
bool hl_url_host_is_loopback(const char *host);

/* True when url parses and is https, or plain http to a loopback host:
 * anything else would send signed requests (and session tokens) in the clear. */
bool hl_url_allowed(const char *url);

/* What a client signs of an endpoint URL: the Host header value (lowercase
 * host, brackets kept for IPv6, the port only when not the scheme's
 * default) and the path ("/" when empty). A query or fragment is refused
 * (HL_ERR_CONFIG). Caller frees both. */
enum hl_err hl_url_split(const char *url, char **ret_host, char **ret_path, struct hl_error *err);

#endif
