/* api/s3.c against the scripted loopback server: ListObjectsV2 paging,
 * HeadObject, ranged GetObject into the caller's buffer with If-Match, S3
 * signing on the wire, XML errors mapped, SlowDown retried; endpoint
 * resolution and bucket names. */
#include <stdlib.h>

#include "aws_env.h"
#include "fake_http.h"
#include "s3.h"
#include "tap.h"

static struct hl_client *client(const char *endpoint)
{
	struct hl_client_options o = {.endpoint = endpoint, .region = "us-east-1"};
	struct hl_client *c = NULL;
	struct hl_error e;
	if (hl_client_new(&o, &c, &e))
		diag("hl_client_new: %s", e.message);
	return c;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_names(void)
{
	static const struct {
		const char *b;
		bool valid, virt;
	} cases[] = {
	    {"demo-bucket", true, true}, {"b.with.dots", true, false}, {"ab", false, false},
	    {"Upper", false, false},	 {"-x-y", false, false},	{"x..y", false, false},
	    {"1.2.3.4", false, false},	 {"a-.b", false, false},	{"abc", true, true},
	    {"a b c", false, false},	 {"", false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_int(hl_s3_bucket_valid(cases[i].b), cases[i].valid, "valid(%s)", cases[i].b);
		is_int(hl_s3_bucket_virtual_ok(cases[i].b), cases[i].virt, "virtual(%s)",
		       cases[i].b);
	}
}

static void test_endpoints(void)
{
	struct hl_client *c = client("http://127.0.0.1:1");
	struct hl_s3 *s = NULL;
	struct hl_error e;
	is_int(hl_s3_new(c, NULL, &s, &e), HL_ERR_OK, "S3 client, nothing configured");
	is_str(hl_s3_endpoint(s), "https://s3.us-east-1.amazonaws.com", "regional default");
	hl_s3_free(s);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", 1);
	is_int(hl_s3_new(c, NULL, &s, &e), HL_ERR_OK, "with AWS_ENDPOINT_URL");
	is_str(hl_s3_endpoint(s), "http://127.0.0.1:9000", "AWS_ENDPOINT_URL used");
	hl_s3_free(s);
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9001/", 1);
	is_int(hl_s3_new(c, NULL, &s, &e), HL_ERR_OK, "with AWS_ENDPOINT_URL_S3");
	is_str(hl_s3_endpoint(s), "http://127.0.0.1:9001/", "AWS_ENDPOINT_URL_S3 first");
	hl_s3_free(s);
	struct hl_s3_options o = {.endpoint = "http://127.0.0.1:9002"};
	is_int(hl_s3_new(c, &o, &s, &e), HL_ERR_OK, "explicit endpoint");
	is_str(hl_s3_endpoint(s), "http://127.0.0.1:9002", "explicit first");
	hl_s3_free(s);
	setenv("AWS_ENDPOINT_URL_S3", "http://example.com", 1);
	is_int(hl_s3_new(c, NULL, &s, &e), HL_ERR_CONFIG, "plain http elsewhere refused");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_ENDPOINT_URL");
	hl_client_free(c);
}

#define PAGE1                                                                                   \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>"                             \
	"<Contents><Key>export/a b+1.ndjson</Key><LastModified>2026-12-01T10:00:00.000Z</"       \
	"LastModified><ETag>\"e1\"</ETag><Size>10</Size></Contents>"                              \
	"<IsTruncated>true</IsTruncated><NextContinuationToken>t+1/=</NextContinuationToken>"    \
	"</ListBucketResult>"
#define PAGE2                                                                                   \
	"<ListBucketResult><Contents><Key>export/b&amp;c</Key><LastModified>2026-12-01T10:00:"  \
	"01.000Z</LastModified><ETag>\"e2\"</ETag><Size>20</Size></Contents>"                    \
	"<IsTruncated>false</IsTruncated></ListBucketResult>"

static void test_calls(struct fake_srv *srv)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv->port);
	struct hl_client *c = client(url);
	struct hl_s3_options o = {.endpoint = url};
	struct hl_s3 *s = NULL;
	struct hl_error e;
	is_int(hl_s3_new(c, &o, &s, &e), HL_ERR_OK, "S3 client on the fake server");

	static const struct fake_resp list[] = {
	    {FAKE_ANSWER, 503, "Slow Down", NULL,
	     "<Error><Code>SlowDown</Code><Message>slow</Message></Error>", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, PAGE1, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, PAGE2, 0}};
	fake_script(srv, list, 3);
	int base = fake_requests(srv);
	struct hl_s3_list l = {0};
	is_int(hl_s3_list_all(s, "demo-bucket", "export/", 0, &l, &e), HL_ERR_OK,
	       "listing after one SlowDown");
	is_int(l.n_objects, 2, "both pages");
	if (l.n_objects == 2) {
		is_str(l.objects[0].key, "export/a b+1.ndjson", "first key");
		is_str(l.objects[1].key, "export/b&c", "second key unescaped");
		is_int(l.objects[1].size, 20, "size");
	}
	ok(starts_with(fake_request(srv, base + 1),
		       "GET /demo-bucket?list-type=2&prefix=export%2F HTTP/1.1"),
	   "path-style listing, strict query");
	ok(starts_with(fake_request(srv, base + 2),
		       "GET /demo-bucket?list-type=2&prefix=export%2F&continuation-token=t%2B1%2F%3D "),
	   "continuation token passed back, encoded once");
	char v[512];
	ok(fake_header(srv, base + 1, "x-amz-content-sha256", v, sizeof(v)) &&
	       !strcmp(v, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "x-amz-content-sha256 sent");
	ok(fake_header(srv, base + 1, "Authorization", v, sizeof(v)) &&
	       strstr(v, "/us-east-1/s3/aws4_request") &&
	       strstr(v, "SignedHeaders=host;x-amz-content-sha256;x-amz-date"),
	   "signed for s3: %s", v);
	hl_s3_list_clear(&l);

	/* a token that repeats: refused, not a loop */
	static const struct fake_resp loop[] = {{FAKE_ANSWER, 200, "OK", NULL, PAGE1, 0},
						{FAKE_ANSWER, 200, "OK", NULL, PAGE1, 0}};
	fake_script(srv, loop, 2);
	is_int(hl_s3_list_all(s, "demo-bucket", "", 0, &l, &e), HL_ERR_PROTOCOL,
	       "a repeated continuation token ends the listing");

	static const struct fake_resp nobucket[] = {
	    {FAKE_ANSWER, 404, "Not Found", NULL,
	     "<Error><Code>NoSuchBucket</Code><Message>none</Message></Error>", 0}};
	fake_script(srv, nobucket, 1);
	is_int(hl_s3_list_all(s, "demo-bucket", "", 0, &l, &e), HL_ERR_NOT_FOUND, "NoSuchBucket");
	is_str(e.aws_code, "NoSuchBucket", "  code kept");
	base = fake_requests(srv);
	is_int(hl_s3_list_all(s, "Bad_Bucket", "", 0, &l, &e), HL_ERR_INVALID, "bad bucket");
	is_int(fake_requests(srv), base, "nothing sent for it");

	/* HeadObject */
	static const struct fake_resp head[] = {
	    {FAKE_ANSWER, 200, "OK",
	     "ETag: \"e1\"\r\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n", NULL, 0},
	    {FAKE_ANSWER, 403, "Forbidden", NULL, NULL, 0}};
	fake_script(srv, head, 2);
	base = fake_requests(srv);
	struct hl_s3_head h;
	is_int(hl_s3_head_object(s, "demo-bucket", "export/a b+1.ndjson", 0, &h, &e), HL_ERR_OK,
	       "HeadObject");
	ok(starts_with(fake_request(srv, base), "HEAD /demo-bucket/export/a%20b%2B1.ndjson "),
	   "key encoded once, '/' kept");
	is_str(h.etag, "\"e1\"", "ETag");
	is_int(h.size, 0, "size from Content-Length");
	is_int(hl_s3_head_object(s, "demo-bucket", "k", 0, &h, &e), HL_ERR_ACCESS_DENIED,
	       "403 without a body is AccessDenied");

	/* ranged GetObject into our buffer */
	static const struct fake_resp get[] = {
	    {FAKE_ANSWER, 206, "Partial Content", "Content-Range: bytes 2-6/10\r\n", "llo w", 0},
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL,
	     "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions "
	     "you specified did not hold</Message></Error>",
	     0},
	    {FAKE_ANSWER, 416, "Range Not Satisfiable", NULL,
	     "<Error><Code>InvalidRange</Code></Error>", 0},
	    {FAKE_ANSWER, 206, "Partial Content", NULL, "too long for it", 0},
	    {FAKE_ANSWER, 404, "Not Found", NULL, "<Error><Code>NoSuchKey</Code></Error>", 0}};
	fake_script(srv, get, 5);
	base = fake_requests(srv);
	char buf[8] = "";
	size_t n = 0;
	is_int(hl_s3_get_range(s, "demo-bucket", "export/x", 2, 5, "\"e1\"", buf, &n, 0, &e),
	       HL_ERR_OK, "ranged read");
	ok(n == 5 && memcmp(buf, "llo w", 5) == 0, "bytes land in the caller's buffer");
	ok(fake_header(srv, base, "Range", v, sizeof(v)) && !strcmp(v, "bytes=2-6"),
	   "Range: bytes=2-6");
	ok(fake_header(srv, base, "If-Match", v, sizeof(v)) && !strcmp(v, "\"e1\""), "If-Match");
	ok(fake_header(srv, base, "Authorization", v, sizeof(v)) &&
	       strstr(v, "SignedHeaders=host;if-match;range;x-amz-content-sha256;x-amz-date"),
	   "Range and If-Match signed");
	is_int(hl_s3_get_range(s, "demo-bucket", "export/x", 2, 5, "\"e0\"", buf, &n, 0, &e),
	       HL_ERR_PRECONDITION, "changed object: PRECONDITION (ESTALE)");
	is_int(hl_s3_get_range(s, "demo-bucket", "export/x", 99, 5, NULL, buf, &n, 0, &e),
	       HL_ERR_RANGE, "past the end: RANGE");
	is_int(hl_s3_get_range(s, "demo-bucket", "export/x", 0, 5, NULL, buf, &n, 0, &e),
	       HL_ERR_PROTOCOL, "more bytes than asked: refused, buffer never overrun");
	is_int(hl_s3_get_range(s, "demo-bucket", "export/x", 0, 5, NULL, buf, &n, 0, &e),
	       HL_ERR_NOT_FOUND, "NoSuchKey");
	ok(!strstr(e.message, "AKID"), "no key id in the message");

	hl_s3_free(s);
	hl_client_free(c);
}

int main(void)
{
	aws_test_env();
	test_names();
	test_endpoints();
	struct fake_srv s;
	ok(fake_start(&s), "fake server up");
	test_calls(&s);
	fake_stop(&s);
	return done_testing();
}
