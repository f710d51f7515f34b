/* api/http.c against a scripted loopback server: headers on the wire,
 * connection reuse, response cap, request ids, error mapping, timeouts;
 * plus the pure URL rules. */
#include "fake_http.h"
#include "http.h"
#include "tap.h"

#include "client_i.h" /* hl_now_ms */

static enum hl_err post(struct hl_http *h, struct fake_srv *s, const char *body, long timeout_ms,
			struct hl_http_response *resp, struct hl_error *e)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
	const struct hl_header hdrs[] = {
	    {"Host", "healthlake.test"},
	    {"Content-Type", "application/x-amz-json-1.0"},
	    {"X-Amz-Target", "HealthLake.ListFHIRDatastores"},
	    {"Expect", ""},
	    {"X-Empty", ""},
	    {"amz-sdk-request", "attempt=1; max=3"},
	};
	struct hl_http_request req = {
	    .url = url,
	    .headers = hdrs,
	    .n_headers = sizeof(hdrs) / sizeof(hdrs[0]),
	    .body = body,
	    .body_len = strlen(body),
	    .timeout_ms = timeout_ms,
	};
	hl_error_clear(e);
	return hl_http_post(h, &req, resp, e);
}

static void test_wire(void)
{
	struct fake_srv s;
	ok(fake_start(&s), "fake server up");
	struct hl_http *h = NULL;
	struct hl_error e;
	struct hl_http_options o = {.max_response_bytes = 1000};
	is_int(hl_http_new(&o, &h, &e), HL_ERR_OK, "transport created");
	struct hl_http_response r;
	hl_http_response_init(&r);

	static const struct fake_resp answers[] = {
	    {FAKE_ANSWER, 200, "OK", "x-amzn-requestid: req-123\r\n", "{\"a\":1}", 0},
	    {FAKE_ANSWER, 503, "Service Unavailable",
	     "X-Amzn-ErrorType: ThrottlingException:http://x\r\nX-Amzn-RequestId: r2\r\n",
	     "<html>busy</html>", 0},
	};
	fake_script(&s, answers, 2);
	const char *body = "{\"MaxResults\":10}";
	is_int(post(h, &s, body, 5000, &r, &e), HL_ERR_OK, "POST answered");
	is_int(r.status, 200, "status 200");
	is_str(r.body.data, "{\"a\":1}", "body received");
	is_str(r.request_id, "req-123", "request id read case-insensitively");
	is_int(r.bytes_in, 7, "bytes in counted");
	is_int(r.bytes_out, (long long)strlen(body), "bytes out counted");
	char v[256];
	ok(fake_header(&s, 0, "Host", v, sizeof(v)) && strcmp(v, "healthlake.test") == 0,
	   "Host header is the one we set (%s)", v);
	ok(fake_header(&s, 0, "Content-Type", v, sizeof(v)) &&
	       strcmp(v, "application/x-amz-json-1.0") == 0,
	   "Content-Type is the JSON 1.0 type");
	ok(!fake_header(&s, 0, "Expect", v, sizeof(v)), "no Expect header");
	ok(fake_header(&s, 0, "X-Empty", v, sizeof(v)) && v[0] == '\0', "empty header sent empty");
	ok(!fake_header(&s, 0, "Date", v, sizeof(v)), "no Date header");
	ok(fake_header(&s, 0, "amz-sdk-request", v, sizeof(v)) &&
	       strcmp(v, "attempt=1; max=3") == 0,
	   "amz-sdk-request passed through");
	is_str(fake_body(&s, 0), body, "body bytes on the wire");
	const char *req0 = fake_request(&s, 0);
	ok(req0 && strncmp(req0, "POST / HTTP/1.1\r\n", 17) == 0, "POST / over HTTP/1.1");

	is_int(post(h, &s, body, 5000, &r, &e), HL_ERR_OK, "error answer is still an answer");
	is_int(r.status, 503, "status 503");
	is_str(r.reason, "Service Unavailable", "reason phrase captured");
	is_str(r.error_type, "ThrottlingException:http://x", "X-Amzn-ErrorType captured raw");
	is_str(r.request_id, "r2", "request id of this answer");

	for (int i = 0; i < 5; i++)
		post(h, &s, body, 5000, &r, &e);
	is_int(fake_requests(&s), 7, "7 requests served");
	is_int(fake_connections(&s), 1, "all on one connection (reused)");

	/* The cap: 1000 bytes allowed, 1001 refused. */
	char *big = malloc(1002);
	memset(big, 'x', 1001);
	big[1001] = '\0';
	big[1000] = '\0';
	struct fake_resp capped[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, big, 0},
	};
	fake_script(&s, capped, 1);
	is_int(post(h, &s, body, 5000, &r, &e), HL_ERR_OK, "1000-byte answer fits the cap");
	is_int(r.body.len, 1000, "all of it");
	big[1000] = 'x';
	fake_script(&s, capped, 1);
	is_int(post(h, &s, body, 5000, &r, &e), HL_ERR_TOO_LARGE, "1001-byte answer is too large");

	static const struct fake_resp drop[] = {{FAKE_DROP, 0, NULL, NULL, NULL, 0}};
	fake_script(&s, drop, 1);
	is_int(post(h, &s, body, 5000, &r, &e), HL_ERR_NETWORK, "dropped connection -> NETWORK");
	ok(e.message[0] != '\0', "with a reason: %s", e.message);

	static const struct fake_resp stall[] = {{FAKE_STALL, 0, NULL, NULL, NULL, 1500}};
	fake_script(&s, stall, 1);
	int64_t t0 = hl_now_ms();
	is_int(post(h, &s, body, 300, &r, &e), HL_ERR_TIMEOUT, "stalled server -> TIMEOUT");
	int64_t took = hl_now_ms() - t0;
	ok(took >= 280 && took < 1000, "gave up after the 300 ms budget (%lld ms)",
	   (long long)took);
	ok(r.timed_out, "marked as timed out");

	hl_http_response_free(&r);
	hl_http_free(h);
	fake_stop(&s);
	free(big); /* the server may still have been writing it */
}

static void test_errors(void)
{
	struct fake_srv s;
	ok(fake_start(&s), "second fake server up");
	struct hl_http *h = NULL;
	struct hl_error e;
	is_int(hl_http_new(NULL, &h, &e), HL_ERR_OK, "transport with defaults");
	struct hl_http_response r;
	hl_http_response_init(&r);

	/* TLS to a plain-HTTP server: the handshake fails. */
	char url[64];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", s.port);
	struct hl_http_request req = {.url = url, .body = "{}", .body_len = 2, .timeout_ms = 3000};
	is_int(hl_http_post(h, &req, &r, &e), HL_ERR_TLS, "https to a plain server -> TLS");

	/* A port nobody listens on. */
	fake_stop(&s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	is_int(hl_http_post(h, &req, &r, &e), HL_ERR_NETWORK, "refused connection -> NETWORK");
	ok(r.connect_failed, "marked as failed before sending");

	hl_http_response_free(&r);
	hl_http_free(h);
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

struct sink_state {
	struct hl_buf got;
	int calls;
	bool stop;
};

static int sink(void *arg, const char *p, size_t n)
{
	struct sink_state *s = arg;
	s->calls++;
	if (s->stop)
		return 1;
	return hl_buf_append(&s->got, p, n) ? 1 : 0;
}

/* hl_http_send: every method, response headers, the path sent as is, and a
 * streaming sink that sees 2xx bodies only. */
static void test_methods(void)
{
	struct fake_srv s;
	ok(fake_start(&s), "fake server up");
	struct hl_http *h = NULL;
	struct hl_error e;
	is_int(hl_http_new(NULL, &h, &e), HL_ERR_OK, "transport created");
	struct hl_http_response r;
	hl_http_response_init(&r);
	static const struct fake_resp answers[] = {
	    {FAKE_ANSWER, 200, "OK",
	     "ETag: W/\"3\"\r\nLast-Modified: Sat, 05 Dec 2026 10:00:00 GMT\r\n", "{\"id\":\"a\"}", 0},
	    {FAKE_ANSWER, 201, "Created", "Location: http://h/r4/Patient/a/_history/1\r\n", "{}", 0},
	    {FAKE_ANSWER, 204, "No Content", NULL, NULL, 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: \"abc\"\r\nx-amz-request-id: s3req\r\n", NULL, 0},
	    {FAKE_ANSWER, 206, "Partial Content", "Content-Range: bytes 0-4/10\r\n", "hello", 0},
	    {FAKE_ANSWER, 404, "Not Found", NULL, "<Error><Code>NoSuchKey</Code></Error>", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "abcdef", 0},
	};
	fake_script(&s, answers, sizeof(answers) / sizeof(answers[0]));
	char url[256];
	const struct hl_header hdrs[] = {{"Host", "h.test"}, {"Expect", ""}};
	struct hl_http_request req = {.headers = hdrs, .n_headers = 2, .timeout_ms = 5000};
	req.url = url;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/r4/a/../b//c/$x?q=a%%20b", s.port);
	req.method = "GET";
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "GET answered");
	ok(starts_with(fake_request(&s, 0), "GET /r4/a/../b//c/$x?q=a%20b HTTP/1.1\r\n"),
	   "GET with the path exactly as given");
	is_str(r.etag, "W/\"3\"", "ETag read");
	is_str(r.last_modified, "Sat, 05 Dec 2026 10:00:00 GMT", "Last-Modified read");
	is_int(r.content_length, 10, "Content-Length read");

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/r4/Patient", s.port);
	req.method = "PUT";
	req.body = "{\"a\":120.50}";
	req.body_len = strlen(req.body);
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "PUT answered");
	ok(starts_with(fake_request(&s, 1), "PUT /r4/Patient HTTP/1.1\r\n"), "PUT sent");
	is_str(fake_body(&s, 1), "{\"a\":120.50}", "PUT body bytes");
	is_str(r.location, "http://h/r4/Patient/a/_history/1", "Location read");
	is_int(r.status, 201, "201");

	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "DELETE answered");
	ok(starts_with(fake_request(&s, 2), "DELETE /r4/Patient HTTP/1.1\r\n"),
	   "DELETE sent");
	is_int(r.status, 204, "204");
	is_str(r.etag, "", "headers of the previous answer forgotten");

	req.method = "HEAD";
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "HEAD answered");
	ok(starts_with(fake_request(&s, 3), "HEAD /r4/Patient HTTP/1.1\r\n"), "HEAD sent");
	is_str(r.etag, "\"abc\"", "S3 ETag read");
	is_str(r.request_id, "s3req", "x-amz-request-id read");

	struct sink_state st = {.calls = 0};
	hl_buf_init(&st.got, 0);
	req.method = "GET";
	req.sink = sink;
	req.sink_arg = &st;
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "ranged GET answered");
	is_str(st.got.data, "hello", "2xx body went to the sink");
	is_int(r.body.len, 0, "and not to the buffer");
	is_int(r.sunk, 5, "sunk bytes counted");
	is_str(r.content_range, "bytes 0-4/10", "Content-Range read");
	ok(starts_with(fake_request(&s, 4), "GET /r4/Patient HTTP/1.1\r\n"),
	   "a pooled handle used for HEAD sends GET again");

	hl_buf_reset(&st.got);
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_OK, "404 answered");
	is_int(st.got.len, 0, "error body not given to the sink");
	is_str(r.body.data, "<Error><Code>NoSuchKey</Code></Error>", "error body buffered");

	st.stop = true;
	is_int(hl_http_send(h, &req, &r, &e), HL_ERR_INVALID, "a sink can stop the transfer");
	ok(r.sink_aborted, "and the response says so");
	hl_buf_free(&st.got);
	hl_http_response_free(&r);
	hl_http_free(h);
	fake_stop(&s);
}

int main(void)
{
	test_wire();
	test_methods();
	test_errors();
	return done_testing();
}
