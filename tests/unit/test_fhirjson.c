#include "fhirjson.h"

#include "guard.h"
#include "tap.h"

/* Pretty-prints s (placed before an unreadable page); NULL when refused. */
static char *pretty(const char *s, size_t n, bool compact, struct hl_error *err)
{
	struct guarded g = guard(s, n);
	struct hl_buf b;
	enum hl_err rc;

	hl_buf_init(&b, 0);
	hl_error_clear(err);
	rc = compact ? hl_json_compact(g.p, n, &b, err) : hl_json_pretty(g.p, n, &b, err);
	unguard(&g);
	if (rc != HL_ERR_OK) {
		hl_buf_free(&b);
		return NULL;
	}
	return hl_buf_steal(&b);
}

static void is_pretty(const char *in, const char *want, const char *name)
{
	struct hl_error err;
	char *got = pretty(in, strlen(in), false, &err);
	is_str(got, want, "pretty: %s", name);
	if (!got)
		diag("error: %s", err.message);
	free(got);
}

static void is_compact(const char *in, const char *want, const char *name)
{
	struct hl_error err;
	char *got = pretty(in, strlen(in), true, &err);
	is_str(got, want, "compact: %s", name);
	free(got);
}

static void refused(const char *in, size_t n, const char *name)
{
	struct hl_error err;
	struct guarded g = guard(in, n);
	char *got = pretty(in, n, false, &err);
	ok(got == NULL && err.code == HL_ERR_INVALID, "refused: %s (%s)", name, err.message);
	free(got);
	hl_error_clear(&err);
	is_int(hl_json_validate(g.p, n, &err), HL_ERR_INVALID, "validate agrees: %s", name);
	unguard(&g);
}

static void accepted(const char *in, size_t n, const char *name)
{
	struct hl_error err;
	struct guarded g = guard(in, n);
	hl_error_clear(&err);
	is_int(hl_json_validate(g.p, n, &err), HL_ERR_OK, "accepted: %s", name);
	if (err.code)
		diag("error: %s", err.message);
	unguard(&g);
}

static void test_lexemes(void)
{
	/* Every number form comes out as written. */
	static const char *const nums[] = {
	    "0", "-0", "120.50", "1e400", "-1E-400", "1.0e+10", "0.000000000000000000001",
	    "123456789012345678901234567890", "-9223372036854775809", "1E2", "2.50E+00",
	    "4.9e-324", "1.7976931348623157e309",
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		char in[128], want[160];
		snprintf(in, sizeof in, "{\"v\":%s}", nums[i]);
		snprintf(want, sizeof want, "{\n  \"v\": %s\n}\n", nums[i]);
		is_pretty(in, want, nums[i]);
	}
	is_pretty("{\"valueQuantity\":{\"value\":120.50,\"unit\":\"mm[Hg]\"}}",
		  "{\n  \"valueQuantity\": {\n    \"value\": 120.50,\n    \"unit\": \"mm[Hg]\"\n  }\n}\n",
		  "a Quantity keeps 120.50");
	/* Escapes stay as written, in values and in names. */
	is_pretty("[\"\\u00e9\\u00E9\\/\\\"\\\\\\b\\f\\n\\r\\t\"]",
		  "[\n  \"\\u00e9\\u00E9\\/\\\"\\\\\\b\\f\\n\\r\\t\"\n]\n", "escapes copied");
	is_pretty("{\"\\u0069d\":\"\\ud83d\\ude00\"}", "{\n  \"\\u0069d\": \"\\ud83d\\ude00\"\n}\n",
		  "escaped name, surrogate pair");
	is_pretty("[\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"]",
		  "[\n  \"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"\n]\n", "raw UTF-8 copied");
	is_pretty("{\"a\":true,\"b\":false,\"c\":null}",
		  "{\n  \"a\": true,\n  \"b\": false,\n  \"c\": null\n}\n", "literals");
}

static void test_layout(void)
{
	is_pretty("{}", "{}\n", "empty object");
	is_pretty("[ ]", "[]\n", "empty array with blank");
	is_pretty(" \t\r\n{ \"a\" : [ 1 , { } , [ ] ] } \n", "{\n  \"a\": [\n    1,\n    {},\n    []\n  ]\n}\n",
		  "whitespace dropped, nesting indented");
	is_pretty("{\"z\":1,\"a\":2,\"m\":3}", "{\n  \"z\": 1,\n  \"a\": 2,\n  \"m\": 3\n}\n",
		  "member order kept");
	is_pretty("{\"a\":1,\"a\":2}", "{\n  \"a\": 1,\n  \"a\": 2\n}\n", "duplicate names kept");
	is_pretty("\"s\"", "\"s\"\n", "top-level string");
	is_pretty("42", "42\n", "top-level number");
	is_compact(" { \"a\" : [ 1 , 2.50 ] ,\n \"b\" : { } } ", "{\"a\":[1,2.50],\"b\":{}}",
		   "compact drops whitespace, no newline");
	is_compact("{\n  \"s\": \" keep  spaces \"\n}\n", "{\"s\":\" keep  spaces \"}",
		   "compact keeps whitespace inside strings");

	/* pretty(compact(x)) == pretty(x) == pretty(pretty(x)) */
	const char *x = "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\",\"B\"]}],"
			"\"n\":-1.50e3}";
	struct hl_error err;
	char *p1 = pretty(x, strlen(x), false, &err);
	char *c1 = pretty(p1, strlen(p1), true, &err);
	char *p2 = pretty(c1, strlen(c1), false, &err);
	is_str(c1, x, "compact(pretty(x)) == x for compact x");
	is_str(p2, p1, "pretty is idempotent through compact");
	free(p1);
	free(c1);
	free(p2);
}

static void test_depth(void)
{
	char buf[2 * (HL_JSON_MAX_DEPTH + 1) + 8];
	size_t n = 0;
	struct hl_error err;

	for (size_t i = 0; i < HL_JSON_MAX_DEPTH; i++)
		buf[n++] = '[';
	for (size_t i = 0; i < HL_JSON_MAX_DEPTH; i++)
		buf[n++] = ']';
	accepted(buf, n, "512 nested arrays");
	char *p = pretty(buf, n, false, &err);
	ok(p && strlen(p) > 2 * 512 * 256, "512 levels pretty-printed (%zu bytes)", p ? strlen(p) : 0);
	free(p);
	struct hl_buf small;
	hl_buf_init(&small, 64 * 1024);
	is_int(hl_json_pretty(buf, n, &small, &err), HL_ERR_TOO_LARGE,
	       "indentation past the output's bound is TOO_LARGE");
	hl_buf_free(&small);

	n = 0;
	for (size_t i = 0; i < HL_JSON_MAX_DEPTH + 1; i++)
		buf[n++] = '[';
	for (size_t i = 0; i < HL_JSON_MAX_DEPTH + 1; i++)
		buf[n++] = ']';
	refused(buf, n, "513 nested arrays");
	(void)pretty(buf, n, false, &err);
	ok(strstr(err.message, "nesting too deep") != NULL, "depth error says so: %s", err.message);

	/* A million opening brackets: refused without using the C stack. */
	size_t big = 1000000;
	char *deep = malloc(big);
	memset(deep, '{', big);
	refused(deep, big, "a million '{'");
	free(deep);
}

static void test_invalid(void)
{
	static const char *const bad[] = {
	    "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}",
	    "{a:1}", "{'a':1}", "[1 2]", "01", "-", "-01", "1.", ".5", "1e", "1e+", "+1", "0x10",
	    "NaN", "Infinity", "-Infinity", "tru", "nul", "True", "[true false]", "\"abc",
	    "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"",
	    "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"tab\there\"", "\"nl\nhere\"", "{} {}",
	    "[] x", "1 2", "\xef\xbb\xbf{}", "{\"a\":1}}", "[[]", "\"\\\"", "/* c */ {}", "[1]//",
	    "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
	    "\"\xff\"", "\"\x80\"", "\"\xc3\"", "\"\xe2\x82\"", "\"\xf0\x9f\x98\"",
	    "[\"a\"\x0c]", "[1,\v2]", "{\"a\":1 \"b\":2}", "[1e5.5]", "--1", "1-", "[-]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], strlen(bad[i]), bad[i]);
	refused("[\"a\0b\"]", 7, "raw NUL in a string");
	refused("[1]\0", 4, "NUL after the value");

	/* Every proper prefix of a valid document is refused. */
	const char *doc = "{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":1.5e3},"
			  "\"note\":[\"\\u00e9\\ud83d\\ude00\",true,null]}";
	size_t len = strlen(doc);
	int prefixes_ok = 0;
	for (size_t i = 0; i < len; i++) {
		struct hl_error err;
		struct guarded g = guard(doc, i);
		if (hl_json_validate(g.p, i, &err) == HL_ERR_INVALID)
			prefixes_ok++;
		unguard(&g);
	}
	is_int(prefixes_ok, (long long)len, "every truncation refused");
	accepted(doc, len, "the whole document");

	struct hl_error err;
	(void)pretty("[1,]", 4, false, &err);
	is_str(err.message, "JSON: value expected at byte 3", "error names the byte offset");
}

static void test_valid_edges(void)
{
	static const char *const good[] = {
	    "\"\\u0000\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xed\x9f\xbf\"", "\"\xee\x80\x80\"",
	    "\"\\uD834\\uDD1E\"", "\"\\uFFFF\"", "[-0.0e-0]", "{\"\":\"\"}", "\"\x7f\"",
	    "[[[[[]]]]]", "{\"a\":{\"a\":{\"a\":{}}}}",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		accepted(good[i], strlen(good[i]), good[i]);
}

static void test_scan_helpers(void)
{
	const char *s = "{ \"a\" : [1, {\"b\":\"x\"}], \"\\u0063\": \"caf\\u00e9\", \"a\": 2 }";
	struct hl_span root = {0, strlen(s)}, k, v;
	struct hl_json_iter it;
	char *str = NULL;
	struct hl_error err;
	size_t end;
	int n = 0;

	is_int(hl_json_value_end(s, strlen(s), 8, 1, &end, &err), HL_ERR_OK, "value_end on [..]");
	is_int((long long)end, 22, "value_end stops after the array");
	is_int(hl_json_value_end(s, strlen(s), 1, 0, &end, &err), HL_ERR_INVALID,
	       "value_end refuses leading blank");
	ok(hl_json_iter_init(&it, s, root), "iterate an object");
	while (hl_json_iter_next(&it, &k, &v))
		n++;
	is_int(n, 3, "three members");
	is_int(hl_json_member(s, root, "a", &v), -1, "duplicate name is ambiguous");
	is_int(hl_json_member(s, root, "c", &v), 1, "escaped name found by decoded value");
	is_int(hl_json_string_dup(s, v, &str, &err), HL_ERR_OK, "decode");
	is_str(str, "caf\xc3\xa9", "\\u00e9 decoded to UTF-8");
	free(str);
	is_int(hl_json_member(s, root, "zz", &v), 0, "absent member");
	const char *pair = "\"\\ud83d\\ude00\\n\\/\"";
	is_int(hl_json_string_dup(pair, (struct hl_span){0, strlen(pair)}, &str, &err), HL_ERR_OK,
	       "decode pair");
	is_str(str, "\xf0\x9f\x98\x80\n/", "surrogate pair decoded");
	free(str);
	const char *nul = "\"a\\u0000b\"";
	is_int(hl_json_string_dup(nul, (struct hl_span){0, strlen(nul)}, &str, &err), HL_ERR_INVALID,
	       "NUL refused on decode");
	ok(!hl_json_string_eq(nul, (struct hl_span){0, strlen(nul)}, "a"), "eq stops at no NUL");
}

/* The iterator trusts validation, but stays inside its span on any bytes. */
static void test_iter_unvalidated(void)
{
	static const char *const junk[] = {
	    "{\"a\":\"open}", "{\"a\" 1}", "{1:2}", "[[[]", "[\"\\\"]", "{\"a\":}", "[]]", "{\"a\":[}",
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		size_t n = strlen(junk[i]);
		struct guarded g = guard(junk[i], n);
		struct hl_json_iter it;
		struct hl_span k, v;
		int count = 0;
		bool inside = true;
		if (hl_json_iter_init(&it, g.p, (struct hl_span){0, n}))
			while (hl_json_iter_next(&it, &k, &v) && count++ < 10)
				inside = inside && v.off + v.len <= n && k.off + k.len <= n;
		ok(inside && count < 10, "junk %s: walk ends inside the span", junk[i]);
		unguard(&g);
	}
}

static void test_pick(void)
{
	const char *s = "{\"a\":1,\"b\":[2],\"a\":3,\"c\":null}";
	struct hl_json_want w[] = {{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
	ok(hl_json_pick(s, (struct hl_span){0, strlen(s)}, w, 4), "pick from an object");
	ok(w[0].count == 2 && w[1].count == 1 && w[2].count == 1 && w[3].count == 0, "counts");
	ok(w[1].val.len == 3 && memcmp(s + w[1].val.off, "[2]", 3) == 0, "span of b");
	ok(!hl_json_pick("[1]", (struct hl_span){0, 3}, w, 1), "an array is not an object");
}

static void test_id_valid(void)
{
	ok(hl_fhir_id_valid("abc-DEF.123", 11), "letters, digits, - and .");
	ok(hl_fhir_id_valid("a", 1), "one character");
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	ok(hl_fhir_id_valid(id, 64), "64 characters");
	ok(!hl_fhir_id_valid(id, 65), "65 characters refused");
	ok(!hl_fhir_id_valid("", 0), "empty refused");
	ok(!hl_fhir_id_valid("a_b", 3), "underscore refused");
	ok(!hl_fhir_id_valid("a/b", 3), "slash refused");
	ok(!hl_fhir_id_valid("a b", 3), "space refused");
	ok(!hl_fhir_id_valid("caf\xc3\xa9", 5), "non-ASCII refused");
	ok(!hl_fhir_id_valid(NULL, 0), "NULL refused");
}

static void test_meta(void)
{
	const char *r = "{\"resourceType\":\"Patient\",\"id\":\"p-1\",\"meta\":{\"versionId\":\"3\","
			"\"lastUpdated\":\"2026-12-01T10:00:00.000Z\"},\"x\":120.50}";
	struct hl_fhir_meta m;
	struct hl_error err;

	is_int(hl_fhir_meta(r, strlen(r), &m, &err), HL_ERR_OK, "meta read");
	is_str(m.resource_type, "Patient", "resourceType");
	is_str(m.id, "p-1", "id");
	is_str(m.version_id, "3", "meta.versionId");
	is_str(m.last_updated, "2026-12-01T10:00:00.000Z", "meta.lastUpdated as written");
	hl_fhir_meta_clear(&m);

	const char *bare = "{\"resourceType\":\"Basic\"}";
	is_int(hl_fhir_meta(bare, strlen(bare), &m, &err), HL_ERR_OK, "no id, no meta");
	ok(m.id == NULL && m.version_id == NULL && m.last_updated == NULL, "absent is NULL");
	hl_fhir_meta_clear(&m);

	const char *dup = "{\"resourceType\":\"Basic\",\"id\":\"a\",\"id\":\"b\"}";
	is_int(hl_fhir_meta(dup, strlen(dup), &m, &err), HL_ERR_INVALID, "duplicate id refused");
	ok(m.resource_type == NULL, "output zeroed on error");
	const char *num = "{\"resourceType\":\"Basic\",\"meta\":{\"versionId\":3}}";
	is_int(hl_fhir_meta(num, strlen(num), &m, &err), HL_ERR_INVALID, "numeric versionId refused");
	const char *arr = "[{\"resourceType\":\"Basic\"}]";
	is_int(hl_fhir_meta(arr, strlen(arr), &m, &err), HL_ERR_INVALID, "array refused");
	const char *nested = "{\"resourceType\":\"Basic\",\"contained\":[{\"id\":\"x\"}]}";
	is_int(hl_fhir_meta(nested, strlen(nested), &m, &err), HL_ERR_OK, "nested id ignored");
	ok(m.id == NULL, "only the top-level id is read");
	hl_fhir_meta_clear(&m);
	hl_fhir_meta_clear(NULL);
}

static void test_check(void)
{
	static const struct {
		const char *body, *type, *id;
		enum hl_err want;
		const char *msg;
	} cases[] = {
	    {"{\"resourceType\":\"Patient\"}", "Patient", "p1", HL_ERR_OK, ""},
	    {"{\"resourceType\":\"Patient\",\"id\":\"p1\"}", "Patient", "p1", HL_ERR_OK, ""},
	    {"{\"id\":\"p\\u0031\",\"resourceType\":\"Patient\"}", "Patient", "p1", HL_ERR_OK, ""},
	    {"{\"resourceType\":\"Patient\"}", NULL, NULL, HL_ERR_OK, ""},
	    {"{\"resourceType\":\"Patient\",\"id\":\"p2\"}", "Patient", "p1", HL_ERR_INVALID,
	     "the body's id differs from the id it is written to"},
	    {"{\"resourceType\":\"Patient\",\"id\":\"p1\"}", "Patient", NULL, HL_ERR_INVALID,
	     "the body must not carry an id"},
	    {"{\"resourceType\":\"Observation\"}", "Patient", "p1", HL_ERR_INVALID,
	     "the body's resourceType is not Patient"},
	    {"{\"id\":\"p1\"}", "Patient", "p1", HL_ERR_INVALID, "the body has no resourceType"},
	    {"{\"resourceType\":1}", "Patient", "p1", HL_ERR_INVALID,
	     "the body's resourceType is not a string"},
	    {"{\"resourceType\":\"Patient\",\"resourceType\":\"Patient\"}", "Patient", "p1",
	     HL_ERR_INVALID, "the body has more than one resourceType"},
	    {"{\"resourceType\":\"Patient\",\"id\":1}", "Patient", "p1", HL_ERR_INVALID,
	     "the body's id is not a string"},
	    {"[]", "Patient", "p1", HL_ERR_INVALID, "the body is not a JSON object"},
	    {"{\"resourceType\":\"Patient\",}", "Patient", "p1", HL_ERR_INVALID,
	     "JSON: member name expected at byte 26"},
	    {"{\"resourceType\":\"Patient\"} {}", "Patient", "p1", HL_ERR_INVALID,
	     "JSON: trailing bytes after the value at byte 27"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_error err;
		size_t n = strlen(cases[i].body);
		struct guarded g = guard(cases[i].body, n);
		hl_error_clear(&err);
		is_int(hl_fhir_check(g.p, n, cases[i].type, cases[i].id, &err), cases[i].want,
		       "check %s", cases[i].body);
		is_str(err.message, cases[i].msg, "check message %zu", i);
		unguard(&g);
	}
}

static void is_inserted(const char *body, const char *id, const char *want, const char *name)
{
	struct hl_buf b;
	struct hl_error err;
	size_t n = strlen(body);
	struct guarded g = guard(body, n);

	hl_buf_init(&b, 0);
	hl_error_clear(&err);
	enum hl_err rc = hl_fhir_insert_id(g.p, n, id, &b, &err);
	is_str(rc == HL_ERR_OK ? b.data : NULL, want, "insert id: %s", name);
	if (rc == HL_ERR_OK)
		is_int(hl_fhir_check(b.data, b.len, NULL, id, &err), HL_ERR_OK, "result checks: %s",
		       name);
	hl_buf_free(&b);
	unguard(&g);
}

static void test_insert_id(void)
{
	is_inserted("{\"resourceType\":\"Patient\",\"active\":true}", "p1",
		    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true}", "compact body");
	is_inserted("{\n  \"resourceType\": \"Patient\",\n  \"v\": 120.50\n}\n", "p1",
		    "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\",\n  \"v\": 120.50\n}\n",
		    "pretty body keeps its layout");
	is_inserted("{\"active\":true,\"resourceType\":\"Patient\"}", "a.b-c",
		    "{\"active\":true,\"resourceType\":\"Patient\",\"id\":\"a.b-c\"}",
		    "resourceType last");
	is_inserted("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":1e400}", "p1",
		    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":1e400}", "same id: unchanged");
	is_inserted("{\"resourceType\":\"Basic\"}", "b", "{\"resourceType\":\"Basic\",\"id\":\"b\"}",
		    "only resourceType");

	struct hl_buf b;
	struct hl_error err;
	hl_buf_init(&b, 0);
	const char *other = "{\"resourceType\":\"Patient\",\"id\":\"p2\"}";
	is_int(hl_fhir_insert_id(other, strlen(other), "p1", &b, &err), HL_ERR_INVALID,
	       "another id refused");
	const char *ok_body = "{\"resourceType\":\"Patient\"}";
	is_int(hl_fhir_insert_id(ok_body, strlen(ok_body), "p_1", &b, &err), HL_ERR_INVALID,
	       "invalid id refused");
	is_int(hl_fhir_insert_id("{", 1, "p1", &b, &err), HL_ERR_INVALID, "invalid JSON refused");
	is_int((long long)b.len, 0, "nothing appended on error");
	hl_buf_free(&b);

	/* Bodies without resourceType are still edited (the check refuses them). */
	hl_buf_init(&b, 0);
	is_int(hl_fhir_insert_id("{ \"a\": 1}", 9, "x", &b, &err), HL_ERR_OK, "no resourceType");
	is_str(b.data, "{ \"id\": \"x\", \"a\": 1}", "inserted first, spaced like the first");
	hl_buf_reset(&b);
	is_int(hl_fhir_insert_id("{ }", 3, "x", &b, &err), HL_ERR_OK, "empty object");
	is_str(b.data, "{\"id\":\"x\" }", "empty object gets the id");
	hl_buf_free(&b);

	/* A bounded buffer too small is TOO_LARGE, not a crash. */
	hl_buf_init(&b, 8);
	is_int(hl_fhir_insert_id(ok_body, strlen(ok_body), "p1", &b, &err), HL_ERR_TOO_LARGE,
	       "bounded output");
	hl_buf_free(&b);
}

static void test_error_decode(void)
{
	static const struct {
		long status;
		const char *type, *body;
		enum hl_err want;
		const char *code, *msg;
	} cases[] = {
	    {400, NULL,
	     "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
	     "\"invalid\",\"details\":{\"text\":\"later\"}},{\"code\":\"x\",\"diagnostics\":"
	     "\"Patient.birthDate: bad\\ndate \\u00e9\"}]}",
	     HL_ERR_VALIDATION, "400", "Patient.birthDate: bad date \xc3\xa9"},
	    {422, NULL,
	     "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"details\":{\"text\":\"unprocessable\"}}]}",
	     HL_ERR_VALIDATION, "422", "unprocessable"},
	    {404, NULL, "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}", HL_ERR_NOT_FOUND,
	     "404", ""},
	    {410, NULL, "", HL_ERR_NOT_FOUND, "410", ""},
	    {412, NULL,
	     "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"diagnostics\":\"version mismatch\"}]}",
	     HL_ERR_PRECONDITION, "412", "version mismatch"},
	    {409, NULL, "{}", HL_ERR_CONFLICT, "409", ""},
	    {405, NULL, "", HL_ERR_UNSUPPORTED, "405", ""},
	    {501, NULL, "", HL_ERR_UNSUPPORTED, "501", ""},
	    {413, NULL, "", HL_ERR_REQUEST_TOO_LARGE, "413", ""},
	    {429, NULL, "", HL_ERR_THROTTLED, "429", ""},
	    {400, "ThrottlingException", "{\"message\":\"Rate exceeded\"}", HL_ERR_THROTTLED,
	     "ThrottlingException", "Rate exceeded"},
	    {403, NULL, "{\"__type\":\"com.amazon#UnrecognizedClientException\",\"Message\":\"bad key\"}",
	     HL_ERR_AUTH, "UnrecognizedClientException", "bad key"},
	    {403, "AccessDeniedException:http://x", "{\"message\":\"no\"}", HL_ERR_ACCESS_DENIED,
	     "AccessDeniedException", "no"},
	    {401, NULL, "", HL_ERR_AUTH, "401", ""},
	    {500, NULL, "<html>oops</html>", HL_ERR_SERVER, "500", ""},
	    {503, NULL, "{\"resourceType\":\"OperationOutcome\"", HL_ERR_SERVER, "503", ""},
	    {418, NULL, "[\"x\"]", HL_ERR_SERVICE, "418", ""},
	    {400, "x#", "{\"__type\":\"y\"}", HL_ERR_VALIDATION, "400", ""},
	    {409, NULL, "{\"__type\":\":only\"}", HL_ERR_CONFLICT, "409", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_error err;
		size_t n = strlen(cases[i].body);
		struct guarded g = guard(cases[i].body, n);
		hl_error_clear(&err);
		is_int(hl_fhir_error_decode(cases[i].status, cases[i].type, g.p, n, &err),
		       cases[i].want, "FHIR error %zu (%ld)", i, cases[i].status);
		is_int(err.code, cases[i].want, "err->code %zu", i);
		is_str(err.aws_code, cases[i].code, "aws_code %zu", i);
		is_str(err.message, cases[i].msg, "message %zu", i);
		is_int(err.http_status, cases[i].status, "http_status %zu", i);
		unguard(&g);
	}
}

int main(void)
{
	test_error_decode();
	test_lexemes();
	test_layout();
	test_depth();
	test_invalid();
	test_valid_edges();
	test_scan_helpers();
	test_iter_unvalidated();
	test_pick();
	test_id_valid();
	test_meta();
	test_check();
	test_insert_id();
	return done_testing();
}
