/* Query strings and follow-up links of the FHIR data plane (AWS-CONVENTIONS.md
 * §1.2): what goes on the wire is exactly what is signed, so every query is
 * re-encoded strictly, and a service-supplied `next` link is only followed to
 * the origin the request went to. Pure: no I/O. */
#ifndef HL_QUERY_H
#define HL_QUERY_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Appends raw (a user's query string, without '?') to out, re-encoded
 * strictly: split on '&' (empty pieces dropped), each piece at its first '='
 * (none: an empty value), key and value percent-decoded ('+' stays a plus,
 * a '%' not followed by two hex digits stays a '%'), then percent-encoded
 * with hl_buf_append_uri (no '/' kept), joined as "k=v&k=v" in the given
 * order. Repeated keys are kept. HL_ERR_TOO_LARGE when out's bound is hit. */
enum hl_err hl_query_encode(const char *raw, size_t len, struct hl_buf *out);

/* Appends "key=value" strictly encoded, with '&' first when out is not
 * empty. */
enum hl_err hl_query_add(struct hl_buf *out, const char *key, const char *value);

/* Checks a Bundle `next` link against the URL of the request that returned
 * it. Accepted only when it is absolute and its scheme, host and port equal
 * the request's (default ports made explicit, host compared without case);
 * its path must be clean (starts with '/', no '.', '..' or empty segment,
 * only URL path characters or %XX). On success *ret_path is the link's path
 * as it was (already encoded once) and *ret_query its query re-encoded with
 * hl_query_encode ("" for none); caller frees both. Anything else is
 * HL_ERR_PROTOCOL with err set, the link itself never quoted (it may carry
 * search terms). */
enum hl_err hl_query_next_link(const char *request_url, const char *link, char **ret_path,
			       char **ret_query, struct hl_error *err);

#endif
