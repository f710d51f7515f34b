/* libFuzzer target: api/fhirjson.h on arbitrary bytes. Beyond "no crash,
 * no leak", it checks the printer's promises:
 *   - validate, pretty and compact agree on what is valid;
 *   - compact(x) is x without the whitespace between tokens (every token
 *     byte for byte);
 *   - pretty(compact(x)) == pretty(x) and compact(pretty(x)) == compact(x);
 *   - hl_fhir_insert_id's result carries the id and keeps resourceType;
 *   - hl_fhir_error_decode classifies any body and keeps its text fields
 *     terminated.
 * A broken promise aborts, which libFuzzer reports as a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhirjson.h"

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

/* x without the blanks outside strings. */
static char *strip(const char *s, size_t n, size_t *ret_len)
{
	char *o = malloc(n + 1);
	size_t k = 0;
	bool in = false, esc = false;

	if (!o)
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in = false;
		} else if (c == '"') {
			in = true;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue;
		}
		o[k++] = c;
	}
	*ret_len = k;
	return o;
}

static void check_fhir(const char *s, size_t n)
{
	struct hl_fhir_meta before, after;
	struct hl_error err;
	struct hl_buf b;

	if (hl_fhir_meta(s, n, &before, &err) != HL_ERR_OK)
		return;
	(void)hl_fhir_check(s, n, before.resource_type, before.id, &err);
	hl_buf_init(&b, 0);
	if (hl_fhir_insert_id(s, n, "fz-1.a", &b, &err) == HL_ERR_OK) {
		CHECK(hl_fhir_meta(b.data, b.len, &after, &err) == HL_ERR_OK);
		CHECK(after.id && strcmp(after.id, "fz-1.a") == 0);
		CHECK((!before.resource_type && !after.resource_type) ||
		      (before.resource_type && after.resource_type &&
		       strcmp(before.resource_type, after.resource_type) == 0));
		if (before.resource_type)
			CHECK(hl_fhir_check(b.data, b.len, before.resource_type, "fz-1.a", &err) ==
			      HL_ERR_OK);
		hl_fhir_meta_clear(&after);
	}
	hl_buf_free(&b);
	hl_fhir_meta_clear(&before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct hl_error err;
	struct hl_buf p, c, p2, c2;
	bool valid = hl_json_validate(s, size, &err) == HL_ERR_OK;
	long status = 300 + (long)(size % 300);

	hl_error_clear(&err);
	CHECK(hl_fhir_error_decode(status, NULL, s, size, &err) == err.code);
	CHECK(err.code != HL_ERR_OK && err.http_status == status && err.aws_code[0]);
	CHECK(memchr(err.message, '\0', sizeof err.message) &&
	      memchr(err.aws_code, '\0', sizeof err.aws_code));

	hl_buf_init(&p, 0);
	hl_buf_init(&c, 0);
	hl_buf_init(&p2, 0);
	hl_buf_init(&c2, 0);
	enum hl_err rp = hl_json_pretty(s, size, &p, &err);
	/* Deep indentation can outgrow the output's bound (16 MiB): that is the
	 * bound working, not a disagreement. */
	if (rp == HL_ERR_TOO_LARGE && valid)
		goto out;
	CHECK((rp == HL_ERR_OK) == valid);
	CHECK((hl_json_compact(s, size, &c, &err) == HL_ERR_OK) == valid);
	if (valid) {
		size_t sl;
		char *st = strip(s, size, &sl);
		CHECK(sl == c.len && memcmp(st, c.data, sl) == 0);
		free(st);
		CHECK(hl_json_pretty(c.data, c.len, &p2, &err) == HL_ERR_OK);
		CHECK(p2.len == p.len && memcmp(p2.data, p.data, p.len) == 0);
		CHECK(hl_json_compact(p.data, p.len, &c2, &err) == HL_ERR_OK);
		CHECK(c2.len == c.len && memcmp(c2.data, c.data, c.len) == 0);
		check_fhir(s, size);
	}
out:
	hl_buf_free(&p);
	hl_buf_free(&c);
	hl_buf_free(&p2);
	hl_buf_free(&c2);
	return 0;
}
