/* api/fhir.c against the scripted loopback server: request lines, headers
 * and bodies on the wire, bodies handed back byte for byte, ETag versions,
 * OperationOutcome errors, retries (5xx, 429, dropped connections), POST
 * only with its idempotency key, the 412 replay told apart from a real
 * conflict, next links followed only to the same origin; plus the ETag
 * reader. */
#include <stdlib.h>

#include "aws_env.h"
#include "fake_http.h"
#include "fhir.h"
#include "tap.h"

#define DS "/datastore/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/r4/"

static struct hl_client *client(struct fake_srv *s, int max_attempts)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	struct hl_client_options o = {.endpoint = url, .region = "us-east-1",
				      .max_attempts = max_attempts};
	struct hl_client *c = NULL;
	struct hl_error e;
	if (hl_client_new(&o, &c, &e))
		diag("hl_client_new: %s", e.message);
	return c;
}

struct calls {
	int n;
	char op[32];
	int attempts;
};

static void on_call(void *arg, const struct hl_call_info *i)
{
	struct calls *c = arg;
	c->n++;
	snprintf(c->op, sizeof(c->op), "%s", i->operation);
	c->attempts = i->attempts;
}

static struct hl_fhir *fhir(struct hl_client *c, struct calls *calls)
{
	/* The DatastoreEndpoint's host is not the configured one: only its path counts. */
	struct hl_fhir_options o = {.datastore_endpoint = "https://healthlake.us-east-1."
							  "amazonaws.com" DS,
				    .on_call = on_call,
				    .on_call_arg = calls};
	struct hl_fhir *f = NULL;
	struct hl_error e;
	if (hl_fhir_new(c, &o, &f, &e))
		diag("hl_fhir_new: %s", e.message);
	return f;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_pure(void)
{
	char v[64];
	ok(hl_fhir_etag_version("W/\"3\"", v, sizeof(v)) && strcmp(v, "3") == 0, "W/\"3\" -> 3");
	ok(hl_fhir_etag_version("\"a.b-1\"", v, sizeof(v)) && strcmp(v, "a.b-1") == 0,
	   "strong ETag");
	ok(!hl_fhir_etag_version("", v, sizeof(v)), "no ETag");
	ok(!hl_fhir_etag_version("W/\"\"", v, sizeof(v)), "empty version");

}

#define PATIENT "{\"resourceType\":\"Patient\",\"id\":\"p-1.a\",\"x\":120.50}"

static void test_calls(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, 3);
	struct hl_fhir *f = fhir(c, &calls);
	ok(c && f, "clients made");
	char want_base[128];
	snprintf(want_base, sizeof(want_base), "http://127.0.0.1:%d" DS, s->port);
	is_str(hl_fhir_base_url(f), want_base, "configured origin, DatastoreEndpoint's path");

	struct hl_fhir_result r;
	struct hl_error e;
	hl_fhir_result_init(&r);

	/* read: body byte for byte, ETag, Last-Modified */
	static const struct fake_resp read_ok[] = {
	    {FAKE_ANSWER, 200, "OK",
	     "ETag: W/\"7\"\r\nLast-Modified: Sat, 05 Dec 2026 10:00:00 GMT\r\n", PATIENT, 0}};
	fake_script(s, read_ok, 1);
	int base = fake_requests(s);
	is_int(hl_fhir_read(f, "Patient", "p-1.a", 0, &r, &e), HL_ERR_OK, "read");
	is_str(r.body.data, PATIENT, "body exactly as received (120.50 kept)");
	is_str(r.version_id, "7", "version from the ETag");
	is_str(r.last_modified, "Sat, 05 Dec 2026 10:00:00 GMT", "Last-Modified");
	ok(starts_with(fake_request(s, base), "GET " DS "Patient/p-1.a HTTP/1.1\r\n"),
	   "GET of the resource path");
	char v[512];
	ok(fake_header(s, base, "Accept", v, sizeof(v)) && !strcmp(v, "application/fhir+json"),
	   "Accept: application/fhir+json");
	ok(fake_header(s, base, "Authorization", v, sizeof(v)) &&
	       strstr(v, "/us-east-1/healthlake/aws4_request") &&
	       strstr(v, "SignedHeaders=accept;host;x-amz-date"),
	   "signed for healthlake: %s", v);
	is_int(calls.n, 1, "on_call once");
	is_str(calls.op, "read", "as a read");

	/* invalid input: nothing sent */
	is_int(hl_fhir_read(f, "Pat/ient", "x", 0, &r, &e), HL_ERR_INVALID, "bad type refused");
	is_int(hl_fhir_read(f, "Patient", "a/b", 0, &r, &e), HL_ERR_INVALID, "bad id refused");
	is_int(hl_fhir_read(f, "Patient", "../x", 0, &r, &e), HL_ERR_INVALID, "dots refused");
	is_int(fake_requests(s), base + 1, "nothing sent for refused input");

	/* search: strict query, then a next page on the same origin */
	char page1[512];
	snprintf(page1, sizeof(page1),
		 "{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\",\"url\":"
		 "\"http://127.0.0.1:%d" DS "Patient?page=a+b%%3D&_count=1\"}],"
		 "\"entry\":[{\"resource\":" PATIENT "}]}",
		 s->port);
	const struct fake_resp search[] = {{FAKE_ANSWER, 200, "OK", NULL, page1, 0},
					   {FAKE_ANSWER, 200, "OK", NULL,
					    "{\"resourceType\":\"Bundle\",\"link\":[]}", 0}};
	fake_script(s, search, 2);
	base = fake_requests(s);
	is_int(hl_fhir_search(f, "Patient", "name:contains=Jos\xc3\xa9 M&_count=1", 0, &r, &e),
	       HL_ERR_OK, "search");
	ok(starts_with(fake_request(s, base),
		       "GET " DS "Patient?name%3Acontains=Jos%C3%A9%20M&_count=1 HTTP/1.1"),
	   "query strictly encoded on the wire");
	is_int(r.bundle.n_entries, 1, "one entry");
	ok(r.bundle.n_entries == 1 && r.bundle.entries[0].resource.len == strlen(PATIENT) &&
	       memcmp(r.body.data + r.bundle.entries[0].resource.off, PATIENT,
		      strlen(PATIENT)) == 0,
	   "the entry's resource is a span of the body, byte for byte");
	ok(r.bundle.next_url && strstr(r.bundle.next_url, "page=a+b%3D"), "next link kept as received");
	struct hl_fhir_result r2;
	hl_fhir_result_init(&r2);
	is_int(hl_fhir_next(f, &r, 0, &r2, &e), HL_ERR_OK, "next page");
	ok(starts_with(fake_request(s, base + 1), "GET " DS "Patient?page=a%2Bb%3D&_count=1 "),
	   "next link re-encoded strictly");
	ok(r2.bundle.next_url == NULL, "last page");
	is_int(hl_fhir_next(f, &r2, 0, &r, &e), HL_ERR_INVALID, "no next after the last page");

	/* a next link elsewhere: refused, nothing sent */
	free(r2.bundle.next_url);
	r2.bundle.next_url = strdup("http://127.0.0.2:1/datastore/x/r4/Patient?page=2");
	base = fake_requests(s);
	is_int(hl_fhir_next(f, &r2, 0, &r, &e), HL_ERR_PROTOCOL, "foreign next link refused");
	is_int(fake_requests(s), base, "no request made");
	hl_fhir_result_free(&r2);

	/* update with If-Match; a 5xx then success */
	static const struct fake_resp upd[] = {
	    {FAKE_ANSWER, 503, "Service Unavailable", NULL, "", 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"8\"\r\n", PATIENT, 0}};
	fake_script(s, upd, 2);
	base = fake_requests(s);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), "7", 0, &r, &e),
	       HL_ERR_OK, "update after one 503");
	is_int(r.attempts, 2, "two attempts");
	is_str(fake_body(s, base + 1), PATIENT, "body sent byte for byte");
	ok(fake_header(s, base + 1, "If-Match", v, sizeof(v)) && !strcmp(v, "W/\"7\""),
	   "If-Match: W/\"7\"");
	ok(fake_header(s, base + 1, "Content-Type", v, sizeof(v)) &&
	       !strcmp(v, "application/fhir+json"),
	   "Content-Type: application/fhir+json");
	is_str(r.version_id, "8", "new version");
	ok(!r.replayed, "not a replay");

	/* a lost answer, then 412: our own write (version 8, same content) */
	const char *applied = "{\"resourceType\":\"Patient\",\"id\":\"p-1.a\",\"meta\":{"
			      "\"versionId\":\"8\"},\"x\":120.5}";
	const struct fake_resp replay[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL, "", 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"8\"\r\n", applied, 0}};
	fake_script(s, replay, 3);
	base = fake_requests(s);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), "7", 0, &r, &e),
	       HL_ERR_OK, "412 after a lost answer recognised as our write");
	ok(r.replayed, "marked as replayed");
	is_str(r.body.data, applied, "the current resource returned");
	ok(starts_with(fake_request(s, base + 2), "GET " DS "Patient/p-1.a "),
	   "current resource read");

	/* the same, but someone else's version: a real conflict */
	const char *other = "{\"resourceType\":\"Patient\",\"id\":\"p-1.a\",\"x\":1}";
	const struct fake_resp conflict[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL,
	     "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"diagnostics\":\"changed\"}]}",
	     0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"8\"\r\n", other, 0}};
	fake_script(s, conflict, 3);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), "7", 0, &r, &e),
	       HL_ERR_PRECONDITION, "a real conflict stays 412");
	is_str(e.message, "changed", "its OperationOutcome message");
	is_int(e.http_status, 412, "status 412");

	/* a lost answer, then 412, and another write (version 9) came after:
	 * version 8, read by vread, decides. Ours: our write was made, the
	 * current resource is returned; someone else's: a real conflict. */
	const char *later = "{\"resourceType\":\"Patient\",\"id\":\"p-1.a\",\"meta\":{"
			    "\"versionId\":\"9\"},\"x\":2}";
	struct fake_resp overtaken[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL, "", 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"9\"\r\n", later, 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"8\"\r\n", applied, 0}};
	for (int mine = 1; mine >= 0; mine--) {
		overtaken[3].body = mine ? applied : other;
		fake_script(s, overtaken, 4);
		base = fake_requests(s);
		enum hl_err got = hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT),
						 "7", 0, &r, &e);
		is_int(got, mine ? HL_ERR_OK : HL_ERR_PRECONDITION,
		       mine ? "our write overtaken by another is ours, not a conflict"
			    : "version 8 not ours: a conflict");
		ok(starts_with(fake_request(s, base + 3), "GET " DS "Patient/p-1.a/_history/8 "),
		   "the version after If-Match read");
		if (mine) {
			ok(r.replayed, "marked as replayed");
			is_str(r.body.data, later, "the current resource returned");
		}
	}

	/* the same, but the resource cannot be read: not a conflict (ESTALE
	 * would say nothing was written), the read's error */
	static const struct fake_resp unknown[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL, "", 0},
	    {FAKE_ANSWER, 403, "Forbidden", NULL, "", 0}};
	fake_script(s, unknown, 3);
	enum hl_err got = hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), "7", 0,
					 &r, &e);
	ok(got != HL_ERR_OK && got != HL_ERR_PRECONDITION, "undecided: neither success nor 412");
	ok(strstr(e.message, "could not be read") != NULL, "the message says so");

	/* without If-Match: a lost answer is never replayed blindly. The
	 * service holds our content: our write, one PUT. */
	const struct fake_resp lost_ours[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"8\"\r\n", applied, 0}};
	fake_script(s, lost_ours, 2);
	base = fake_requests(s);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), NULL, 0, &r, &e),
	       HL_ERR_OK, "unconditional: lost answer, our content there: success");
	ok(r.replayed, "marked as replayed");
	is_str(r.version_id, "8", "the service's version");
	is_int(fake_requests(s), base + 2, "one PUT and one read, no second PUT");
	ok(starts_with(fake_request(s, base + 1), "GET " DS "Patient/p-1.a "), "the read");
	/* A 5xx, and the resource is absent: sent again. */
	static const struct fake_resp lost_absent[] = {
	    {FAKE_ANSWER, 503, "Service Unavailable", NULL, "", 0},
	    {FAKE_ANSWER, 404, "Not Found", NULL, "", 0},
	    {FAKE_ANSWER, 201, "Created", "ETag: W/\"1\"\r\n", PATIENT, 0}};
	fake_script(s, lost_absent, 3);
	base = fake_requests(s);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), NULL, 0, &r, &e),
	       HL_ERR_OK, "unconditional: 5xx, absent, sent again");
	ok(starts_with(fake_request(s, base + 2), "PUT " DS "Patient/p-1.a "), "the second PUT");
	is_str(r.version_id, "1", "its answer");

	/* a 412 on the first attempt: no read, a conflict */
	static const struct fake_resp direct412[] = {
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL, "", 0}};
	fake_script(s, direct412, 1);
	base = fake_requests(s);
	is_int(hl_fhir_update(f, "Patient", "p-1.a", PATIENT, strlen(PATIENT), "7", 0, &r, &e),
	       HL_ERR_PRECONDITION, "412 at once is a conflict");
	is_int(fake_requests(s), base + 1, "without reading the resource");

	/* create: one idempotency key on every attempt */
	static const struct fake_resp create[] = {
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 201, "Created", "Location: http://h/Patient/n1/_history/1\r\n", "{}", 0}};
	fake_script(s, create, 2);
	base = fake_requests(s);
	is_int(hl_fhir_create(f, "Patient", "{}", 2, NULL, 0, &r, &e), HL_ERR_OK,
	       "create retried after a dropped connection");
	char k1[128] = "", k2[128] = "";
	fake_header(s, base, "x-amz-fhir-idempotency-key", k1, sizeof(k1));
	fake_header(s, base + 1, "x-amz-fhir-idempotency-key", k2, sizeof(k2));
	ok(strlen(k1) == 36 && strcmp(k1, k2) == 0, "same key on both attempts (%s)", k1);
	ok(starts_with(fake_request(s, base), "POST " DS "Patient HTTP/1.1"), "POST to the type");
	is_str(r.location, "http://h/Patient/n1/_history/1", "Location");

	/* throttling: 429 retried; then given up as THROTTLED */
	static const struct fake_resp thr[] = {{FAKE_ANSWER, 429, "Too Many", NULL, "", 0},
					       {FAKE_ANSWER, 429, "Too Many", NULL, "", 0},
					       {FAKE_ANSWER, 429, "Too Many", NULL, "", 0}};
	fake_script(s, thr, 3);
	base = fake_requests(s);
	is_int(hl_fhir_delete(f, "Patient", "p1", 0, &r, &e), HL_ERR_THROTTLED,
	       "429 until the last attempt");
	is_int(fake_requests(s), base + 3, "three attempts");
	ok(starts_with(fake_request(s, base), "DELETE " DS "Patient/p1 HTTP/1.1"), "DELETE");

	/* $everything, history, vread, capabilities paths */
	static const struct fake_resp bundles[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"resourceType\":\"Bundle\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"resourceType\":\"Bundle\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"resourceType\":\"Patient\"}", 0}};
	fake_script(s, bundles, 5);
	base = fake_requests(s);
	is_int(hl_fhir_everything(f, "p1", "_count=100", 0, &r, &e), HL_ERR_OK, "$everything");
	ok(starts_with(fake_request(s, base), "GET " DS "Patient/p1/$everything?_count=100 "),
	   "$everything path");
	is_int(hl_fhir_history(f, "Observation", "o.1", NULL, 0, &r, &e), HL_ERR_OK, "history");
	ok(starts_with(fake_request(s, base + 1), "GET " DS "Observation/o.1/_history HTTP"),
	   "history path");
	is_int(hl_fhir_vread(f, "Observation", "o.1", "3", 0, &r, &e), HL_ERR_OK, "vread");
	ok(starts_with(fake_request(s, base + 2), "GET " DS "Observation/o.1/_history/3 HTTP"),
	   "vread path");
	is_int(hl_fhir_capabilities(f, 0, &r, &e), HL_ERR_OK, "capabilities");
	ok(starts_with(fake_request(s, base + 3), "GET " DS "metadata HTTP"), "metadata path");
	is_int(hl_fhir_search(f, "Patient", NULL, 0, &r, &e), HL_ERR_PROTOCOL,
	       "a search answer that is not a Bundle is a protocol error");

	hl_fhir_result_free(&r);
	hl_fhir_free(f);
	hl_client_free(c);
}

struct sunk {
	struct hl_buf b;
};

static int take(void *arg, const char *p, size_t n)
{
	struct sunk *k = arg;
	return hl_buf_append(&k->b, p, n) ? 1 : 0;
}

/* fhir_tps: no 1-second window sees more starts than the budget; a sink
 * gets a page's bytes as they arrive. */
static void test_pacing_and_sink(struct fake_srv *s)
{
	struct hl_client *c = client(s, 1);
	struct hl_fhir_options o = {.datastore_endpoint = "http://x" DS, .fhir_tps = 4};
	struct hl_fhir *f = NULL;
	struct hl_error e;
	ok(c && hl_fhir_new(c, &o, &f, &e) == HL_ERR_OK, "paced FHIR client");
	static const struct fake_resp page = {FAKE_ANSWER, 200, "OK", NULL,
					      "{\"resourceType\":\"Bundle\",\"x\":120.50}", 0};
	struct fake_resp script[9];
	for (size_t i = 0; i < 9; i++)
		script[i] = page;
	fake_script(s, script, 9);
	struct hl_fhir_result r;
	hl_fhir_result_init(&r);
	int64_t t0 = hl_now_ms();
	for (int i = 0; i < 8; i++)
		hl_fhir_read(f, "Patient", "p1", 0, &r, &e);
	int64_t took = hl_now_ms() - t0;
	ok(took >= 1000, "8 reads at fhir_tps=4 take at least one window (%lld ms)",
	   (long long)took);
	struct sunk k;
	hl_buf_init(&k.b, 0);
	r.sink = take;
	r.sink_arg = &k;
	is_int(hl_fhir_search(f, "Patient", NULL, 0, &r, &e), HL_ERR_OK, "streamed search");
	is_str(k.b.data, "{\"resourceType\":\"Bundle\",\"x\":120.50}", "page went to the sink");
	is_int(r.body.len, 0, "and was not buffered");
	hl_buf_free(&k.b);
	hl_fhir_result_free(&r);
	hl_fhir_free(f);
	hl_client_free(c);
}

int main(void)
{
	aws_test_env();
	test_pure();
	struct fake_srv s;
	ok(fake_start(&s), "fake server up");
	test_calls(&s);
	test_pacing_and_sink(&s);
	fake_stop(&s);
	return done_testing();
}
