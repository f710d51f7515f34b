/* The one set-up of a libcurl easy handle in libhealthlake, for the service
 * client (http.c) and the credential providers (creds_net.c) alike: every
 * option checked, verification always on, no signals, no redirects, http(s)
 * only. Callers add what is theirs (URL, writers, share, timeouts). */
#ifndef HL_HTTP_EASY_H
#define HL_HTTP_EASY_H

#include <curl/curl.h>

#include "err.h"

struct hl_http_easy_opts {
	long connect_timeout_ms; /* > 0 */
	const char *ca_file;	 /* NULL: the system store */
};

/* Caller frees *ret with curl_easy_cleanup(). HL_ERR_NOMEM when libcurl
 * has no memory, HL_ERR_CONFIG when it refuses an option (a libcurl built
 * without one we need). */
enum hl_err hl_http_easy_new(const struct hl_http_easy_opts *o, CURL **ret);

/* The error for a refused curl_easy_setopt() result: HL_ERR_NOMEM or HL_ERR_CONFIG. */
enum hl_err hl_http_easy_setopt_err(CURLcode cc);

#endif
