/* FHIR Bundles (searchset, history) as the service sent them: the entries'
 * resources are byte spans of the body, never re-serialised, and only the
 * few fields the program reads are decoded (AWS-CONVENTIONS.md §7).
 * Pure: no I/O, no clock, no global state. */
#ifndef HL_BUNDLE_H
#define HL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fhirjson.h"

/* One entry. Strings are decoded copies, NULL when absent or null. */
struct hl_bundle_entry {
	struct hl_span resource; /* entry.resource, a JSON object; len 0 when absent */
	char *full_url;          /* entry.fullUrl */
	char *search_mode;       /* entry.search.mode: "match", "include", "outcome" */
	char *request_method;    /* entry.request.method (history: "DELETE" has no resource) */
	char *request_url;       /* entry.request.url */
	char *status;            /* entry.response.status, e.g. "200 OK" */
	char *etag;              /* entry.response.etag, e.g. W/"3" */
	char *last_modified;     /* entry.response.lastModified, as written */
	char *location;          /* entry.response.location */
};

struct hl_bundle {
	char *type;       /* Bundle.type, e.g. "searchset" */
	bool has_total;
	uint64_t total;   /* Bundle.total when has_total */
	char *next_url;   /* the link whose relation is "next", decoded; NULL when none */
	struct hl_bundle_entry *entries;
	size_t n_entries;
};

/* Reads a Bundle body: one JSON object (strict, as hl_json_validate) whose
 * resourceType is "Bundle". Spans point into body, which must outlive them.
 * A malformed Bundle (wrong types, a resource that is not an object, two
 * "next" links, a total that is not an unsigned integer) is HL_ERR_PROTOCOL;
 * the message names the field and entry index, never a value. On success the
 * caller frees with hl_bundle_clear(); on error *ret is zeroed. */
enum hl_err hl_bundle_parse(const char *body, size_t len, struct hl_bundle *ret,
			    struct hl_error *err);

/* Frees everything and zeroes *b. NULL is fine. */
void hl_bundle_clear(struct hl_bundle *b);

#endif
