/* FHIR resources as bytes: a lexeme-preserving JSON scanner, printer and
 * the few reads and edits the program itself needs (resourceType, id, meta).
 *
 * Resource values are the user's clinical data, so nothing here goes
 * through a tree of doubles: every string and number token is copied byte
 * for byte ("120.50" stays "120.50", "1e400" stays "1e400", "\u00e9" stays
 * as written). Pure: no I/O, no clock, no global state.
 *
 * Accepted input is strict RFC 8259 JSON, plus I-JSON's (RFC 7493) rule that
 * text is valid UTF-8 and \u escapes pair their surrogates: one value with
 * optional whitespace (space, tab, LF, CR) around it, no BOM, no trailing
 * bytes, nesting at most HL_JSON_MAX_DEPTH arrays/objects deep. Duplicate
 * member names are valid JSON and are kept by the printers; the FHIR readers
 * below refuse a duplicated member they read.
 *
 * Errors: invalid input is HL_ERR_INVALID with a message naming the byte
 * offset, never the content (it may be PHI). A caller parsing a service
 * response turns that into HL_ERR_PROTOCOL. */
#ifndef HL_FHIRJSON_H
#define HL_FHIRJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Deepest nesting accepted: 512 containers; a 513th '[' or '{' is refused. */
#define HL_JSON_MAX_DEPTH 512

/* A run of bytes inside a caller's body: body + off, len bytes. */
struct hl_span {
	size_t off;
	size_t len;
};

/* ---- Whole documents ---- */

/* Checks that s[0..n) is one valid JSON text (rules above). */
enum hl_err hl_json_validate(const char *s, size_t n, struct hl_error *err);

/* Appends s pretty-printed to out: two-space indent, members in input
 * order, "key": value, empty containers as {} and [], every token byte for
 * byte, a final '\n'. Indentation can make the output far larger than the
 * input (two bytes per level per line), so out's bound matters: beyond it
 * the result is HL_ERR_TOO_LARGE. On error out may hold a partial result. */
enum hl_err hl_json_pretty(const char *s, size_t n, struct hl_buf *out, struct hl_error *err);

/* Appends s on one line with no whitespace between tokens and no final
 * newline (an NDJSON line once the caller adds '\n'). Same errors. */
enum hl_err hl_json_compact(const char *s, size_t n, struct hl_buf *out, struct hl_error *err);

/* hl_json_validate, then gives the span of the value without the blanks
 * around it. */
enum hl_err hl_json_document(const char *s, size_t n, struct hl_span *ret_value,
			     struct hl_error *err);

/* ---- Pieces for modules that cut spans out of a validated body ---- */

/* Offset of the first non-whitespace byte at or after pos (n if none). */
size_t hl_json_skip_ws(const char *s, size_t n, size_t pos);

/* Validates the single value starting exactly at s[pos] as if nested under
 * `depth` containers; on success *ret_end is the offset just after it. */
enum hl_err hl_json_value_end(const char *s, size_t n, size_t pos, unsigned depth,
			      size_t *ret_end, struct hl_error *err);

/* Walks the members of an object or the elements of an array. The span must
 * come from a validated body (hl_json_validate, hl_json_value_end). */
struct hl_json_iter {
	const char *s;
	size_t pos;  /* next byte to read */
	size_t end;  /* offset of the closing bracket */
	bool object;
};

/* Returns false when the span is not an object or array. */
bool hl_json_iter_init(struct hl_json_iter *it, const char *s, struct hl_span container);
/* Next member: *key is the name's token including its quotes (len 0 for
 * array elements), *val the value's token(s). False at the end. */
bool hl_json_iter_next(struct hl_json_iter *it, struct hl_span *key, struct hl_span *val);

/* The first byte of a value span: '{', '[', '"', 't', 'f', 'n' or a number's
 * first byte ('-', '0'..'9'). 0 for an empty span. */
char hl_json_kind(const char *s, struct hl_span v);

/* Decodes a string token (quotes included, from a validated body) into a
 * new NUL-terminated UTF-8 string. A "\u0000" inside, or a token that is not
 * a string, is HL_ERR_INVALID. Caller frees *ret. */
enum hl_err hl_json_string_dup(const char *s, struct hl_span tok, char **ret, struct hl_error *err);
/* True when the string token decodes to exactly lit. */
bool hl_json_string_eq(const char *s, struct hl_span tok, const char *lit);

/* Several lookups in one pass over a validated object: each wants[i].val
 * is set to the value of the member named wants[i].name and count to the
 * times that name appeared (0 absent, above 1 ambiguous). False when obj is
 * not an object. */
struct hl_json_want {
	const char *name;
	struct hl_span val;
	unsigned count;
};
bool hl_json_pick(const char *s, struct hl_span obj, struct hl_json_want *wants, size_t n);

/* Looks up member `name` (decoded comparison) in a validated object span.
 * Returns 1 and sets *ret_val when found once, 0 when absent, -1 when the
 * name occurs more than once (ambiguous) or obj is not an object. */
int hl_json_member(const char *s, struct hl_span obj, const char *name, struct hl_span *ret_val);

/* ---- FHIR ---- */

/* FHIR's id rule: [A-Za-z0-9\-\.]{1,64}. */
bool hl_fhir_id_valid(const char *id, size_t len);

/* What the program reads of a resource; each a decoded copy, NULL when
 * absent (or null). */
struct hl_fhir_meta {
	char *resource_type;
	char *id;
	char *version_id;   /* meta.versionId */
	char *last_updated; /* meta.lastUpdated, as written (an instant) */
};

/* Reads the members above from one JSON object. Invalid JSON, a body that
 * is not an object, a duplicated or non-string member among those read is
 * HL_ERR_INVALID. On success the caller frees with hl_fhir_meta_clear(); on
 * error *ret is zeroed. */
enum hl_err hl_fhir_meta(const char *body, size_t n, struct hl_fhir_meta *ret,
			 struct hl_error *err);
/* Frees the strings and zeroes *m. NULL is fine. */
void hl_fhir_meta_clear(struct hl_fhir_meta *m);

/* Checks what a write may send: one JSON object whose resourceType is the
 * string `type` and whose id is absent or the string `id`. type NULL accepts
 * any resourceType (still required); id NULL requires the id be absent.
 * HL_ERR_INVALID with a message fit for the user (no values quoted). */
enum hl_err hl_fhir_check(const char *body, size_t n, const char *type, const char *id,
			  struct hl_error *err);

/* Appends body to out with "id": "<id>" inserted when the object has no id,
 * every other byte unchanged: right after the resourceType member when there
 * is one, else right after the opening brace, spaced like the member it
 * follows. A body that already has this id is copied as is; another id, an
 * invalid id, or invalid JSON is HL_ERR_INVALID. */
enum hl_err hl_fhir_insert_id(const char *body, size_t n, const char *id, struct hl_buf *out,
			      struct hl_error *err);

/* Decodes a FHIR error answer (status >= 300) into *err. The message is the
 * first issue's `diagnostics` of an OperationOutcome, else its
 * `details.text`, else a JSON body's `message`/`Message`, made one printable
 * line. aws_code comes from error_type (the X-Amzn-ErrorType header, may be
 * NULL), else a JSON body's `__type`/`code`, else the status number. The
 * class: throttling codes and 429 THROTTLED; credential codes AUTH; then by
 * status: 400/422 VALIDATION, 401 AUTH, 403 ACCESS_DENIED, 404/410
 * NOT_FOUND, 405/501 UNSUPPORTED, 409 CONFLICT, 412 PRECONDITION, 413
 * REQUEST_TOO_LARGE, other 5xx SERVER, else SERVICE. Sets http_status;
 * leaves request_id alone. Never fails; returns err->code. err not NULL. */
enum hl_err hl_fhir_error_decode(long status, const char *error_type, const char *body,
				 size_t len, struct hl_error *err);

#endif
