#include "bundle.h"

#include "guard.h"
#include "tap.h"

static const char searchset[] =
    "{\"resourceType\":\"Bundle\",\"id\":\"b1\",\"type\":\"searchset\",\"total\":3,\n"
    " \"link\":[{\"relation\":\"self\",\"url\":\"https://h/x\"},\n"
    "   {\"relation\":\"next\",\"url\":\"https:\\/\\/h\\/datastore\\/d\\/r4\\/Observation?_count=2\\u0026page=Zm9v%3D\"}],\n"
    " \"entry\":[\n"
    "  {\"fullUrl\":\"https://h/Observation/o1\",\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":{\"value\":120.50}},\"search\":{\"mode\":\"match\"}},\n"
    "  {\"fullUrl\":\"https://h/Patient/p1\",\"resource\" : { \"resourceType\" : \"Patient\" , \"x\" : 1e400 , \"n\":\"\\u00e9\" } ,\"search\":{\"mode\":\"include\"}}\n"
    " ]}";

static const char history[] =
    "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":["
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\"}},"
    "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/p1\"},"
    "\"response\":{\"status\":\"200 OK\",\"etag\":\"W/\\\"2\\\"\",\"lastModified\":\"2026-12-01T10:00:00.000Z\",\"location\":\"Patient/p1/_history/2\"}},"
    "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"},\"response\":{\"status\":\"204 No Content\",\"etag\":\"W/\\\"3\\\"\"}},"
    "{\"resource\":null,\"search\":null,\"response\":null}"
    "]}";

static enum hl_err parse(const char *s, size_t n, struct hl_bundle *b, struct hl_error *err)
{
	struct guarded g = guard(s, n);
	/* Spans are offsets: they stay meaningful after the guard goes. */
	hl_error_clear(err);
	enum hl_err rc = hl_bundle_parse(g.p, n, b, err);
	unguard(&g);
	return rc;
}

static bool span_is(const char *body, struct hl_span sp, const char *want)
{
	return sp.len == strlen(want) && memcmp(body + sp.off, want, sp.len) == 0;
}

static void test_searchset(void)
{
	struct hl_bundle b;
	struct hl_error err;
	size_t n = strlen(searchset);

	is_int(parse(searchset, n, &b, &err), HL_ERR_OK, "searchset parsed");
	is_str(b.type, "searchset", "type");
	ok(b.has_total && b.total == 3, "total 3");
	is_str(b.next_url, "https://h/datastore/d/r4/Observation?_count=2&page=Zm9v%3D",
	       "next link decoded (\\/ and \\u0026), percent-escapes untouched");
	is_int((long long)b.n_entries, 2, "two entries");
	ok(span_is(searchset, b.entries[0].resource,
		   "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":{\"value\":120.50}}"),
	   "first resource is the exact bytes of the body");
	ok(span_is(searchset, b.entries[1].resource,
		   "{ \"resourceType\" : \"Patient\" , \"x\" : 1e400 , \"n\":\"\\u00e9\" }"),
	   "second resource keeps its blanks, 1e400 and \\u00e9");
	is_str(b.entries[0].full_url, "https://h/Observation/o1", "fullUrl");
	is_str(b.entries[0].search_mode, "match", "search.mode match");
	is_str(b.entries[1].search_mode, "include", "search.mode include");
	ok(b.entries[0].status == NULL && b.entries[0].etag == NULL, "no response in a searchset");

	/* The span can be pretty-printed on its own, lexemes intact. */
	struct hl_buf out;
	hl_buf_init(&out, 0);
	is_int(hl_json_pretty(searchset + b.entries[1].resource.off, b.entries[1].resource.len, &out,
			      &err),
	       HL_ERR_OK, "span pretty-prints");
	is_str(out.data,
	       "{\n  \"resourceType\": \"Patient\",\n  \"x\": 1e400,\n  \"n\": \"\\u00e9\"\n}\n",
	       "pretty span");
	hl_buf_free(&out);
	hl_bundle_clear(&b);
	ok(b.entries == NULL && b.n_entries == 0, "clear zeroes");
	hl_bundle_clear(NULL);
}

static void test_history(void)
{
	struct hl_bundle b;
	struct hl_error err;

	is_int(parse(history, strlen(history), &b, &err), HL_ERR_OK, "history parsed");
	ok(!b.has_total && b.next_url == NULL, "no total, no next");
	is_int((long long)b.n_entries, 3, "three entries");
	ok(span_is(history, b.entries[0].resource,
		   "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\"}}"),
	   "resource span");
	is_str(b.entries[0].request_method, "PUT", "request.method");
	is_str(b.entries[0].request_url, "Patient/p1", "request.url");
	is_str(b.entries[0].status, "200 OK", "response.status");
	is_str(b.entries[0].etag, "W/\"2\"", "response.etag decoded");
	is_str(b.entries[0].last_modified, "2026-12-01T10:00:00.000Z", "response.lastModified");
	is_str(b.entries[0].location, "Patient/p1/_history/2", "response.location");
	is_int((long long)b.entries[1].resource.len, 0, "a deletion has no resource");
	is_str(b.entries[1].request_method, "DELETE", "deletion's method");
	is_str(b.entries[1].etag, "W/\"3\"", "deletion's etag");
	ok(b.entries[2].resource.len == 0 && b.entries[2].search_mode == NULL &&
	       b.entries[2].status == NULL,
	   "null members count as absent");
	hl_bundle_clear(&b);

	const char *empty = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}";
	is_int(parse(empty, strlen(empty), &b, &err), HL_ERR_OK, "empty searchset");
	ok(b.has_total && b.total == 0 && b.n_entries == 0 && b.entries == NULL, "no entries");
	hl_bundle_clear(&b);

	const char *big = "{\"resourceType\":\"Bundle\",\"total\":18446744073709551615}";
	is_int(parse(big, strlen(big), &b, &err), HL_ERR_OK, "total UINT64_MAX");
	ok(b.total == UINT64_MAX, "total read exactly");
	hl_bundle_clear(&b);
}

static void test_many_entries(void)
{
	struct hl_buf s;
	struct hl_bundle b;
	struct hl_error err;
	size_t count = 1000;
	bool spans_ok = true;

	hl_buf_init(&s, 0);
	if (hl_buf_appends(&s, "{\"resourceType\":\"Bundle\",\"entry\":["))
		abort();
	for (size_t i = 0; i < count; i++)
		if (hl_buf_appendf(&s, "%s{\"resource\":{\"resourceType\":\"Basic\",\"id\":\"b%zu\"}}",
				   i ? "," : "", i))
			abort();
	if (hl_buf_appends(&s, "]}"))
		abort();
	is_int(parse(s.data, s.len, &b, &err), HL_ERR_OK, "a thousand entries");
	is_int((long long)b.n_entries, (long long)count, "all of them");
	for (size_t i = 0; i < b.n_entries && spans_ok; i++) {
		char want[96];
		snprintf(want, sizeof want, "{\"resourceType\":\"Basic\",\"id\":\"b%zu\"}", i);
		spans_ok = span_is(s.data, b.entries[i].resource, want);
	}
	ok(spans_ok, "every span is its resource, in order");
	hl_bundle_clear(&b);
	hl_buf_free(&s);
}

static void test_refused(void)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
	    {"{\"resourceType\":\"Patient\"}", "Bundle: resourceType is not Bundle"},
	    {"{\"entry\":[]}", "Bundle: resourceType is not Bundle"},
	    {"[]", "Bundle: the body is not a JSON object"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":{}}", "Bundle: entry is not an array"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[1]}", "Bundle: entry[0] is not an object"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{},{\"resource\":[]}]}",
	     "Bundle: entry[1].resource is not an object"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{},\"resource\":{}}]}",
	     "Bundle: entry[0].resource appears twice"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":1}]}",
	     "Bundle: entry[0].fullUrl is not a string"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"a\\u0000b\"}]}",
	     "Bundle: entry[0].fullUrl holds a NUL character"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"search\":\"match\"}]}",
	     "Bundle: entry[0].search is not an object"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"response\":{\"etag\":3}}]}",
	     "Bundle: entry[0].response.etag is not a string"},
	    {"{\"resourceType\":\"Bundle\",\"total\":-1}", "Bundle: total is not an unsigned integer"},
	    {"{\"resourceType\":\"Bundle\",\"total\":1.0}", "Bundle: total is not an unsigned integer"},
	    {"{\"resourceType\":\"Bundle\",\"total\":1e2}", "Bundle: total is not an unsigned integer"},
	    {"{\"resourceType\":\"Bundle\",\"total\":\"3\"}", "Bundle: total is not an unsigned integer"},
	    {"{\"resourceType\":\"Bundle\",\"total\":18446744073709551616}",
	     "Bundle: total is not an unsigned integer"},
	    {"{\"resourceType\":\"Bundle\",\"total\":1,\"total\":2}", "Bundle: total appears twice"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[],\"entry\":[]}", "Bundle: entry appears twice"},
	    {"{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\",\"url\":\"a\"},"
	     "{\"relation\":\"next\",\"url\":\"b\"}]}",
	     "Bundle: more than one next link"},
	    {"{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\"}]}",
	     "Bundle: link[0] has no url"},
	    {"{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\",\"url\":7}]}",
	     "Bundle: link[0].url is not a string"},
	    {"{\"resourceType\":\"Bundle\",\"link\":{}}", "Bundle: link is not an array"},
	    {"{\"resourceType\":\"Bundle\",\"link\":[\"next\"]}", "Bundle: link[0] is not an object"},
	    {"{\"resourceType\":\"Bundle\",\"type\":[]}", "Bundle: type is not a string"},
	    {"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"v\":01}}]}",
	     "JSON: ',' or '}' expected at byte 52"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_bundle b;
		struct hl_error err;
		is_int(parse(cases[i].body, strlen(cases[i].body), &b, &err), HL_ERR_PROTOCOL,
		       "refused: %s", cases[i].body);
		is_str(err.message, cases[i].msg, "message %zu", i);
		ok(b.entries == NULL && b.next_url == NULL && b.type == NULL, "output zeroed %zu", i);
	}

	/* Every truncation of a valid Bundle is refused, with no leak. */
	size_t n = strlen(searchset), refused = 0;
	for (size_t i = 0; i < n; i++) {
		struct hl_bundle b;
		struct hl_error err;
		if (parse(searchset, i, &b, &err) == HL_ERR_PROTOCOL)
			refused++;
	}
	is_int((long long)refused, (long long)n, "every truncated searchset refused");

	/* Invalid UTF-8 inside a resource is refused, not cut out. */
	const char *utf = "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"n\":\"\xc3\x28\"}}]}";
	struct hl_bundle b;
	struct hl_error err;
	is_int(parse(utf, strlen(utf), &b, &err), HL_ERR_PROTOCOL, "invalid UTF-8 in a resource");
}

int main(void)
{
	test_searchset();
	test_history();
	test_many_entries();
	test_refused();
	return done_testing();
}
