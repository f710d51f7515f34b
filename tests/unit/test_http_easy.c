/* api/http_easy.c: what every easy handle of the library does, seen from a
 * loopback server: our User-Agent, HTTP/1.1, no redirects followed, no
 * protocol but http(s). */
#include "fake_http.h"
#include "http_easy.h"
#include "tap.h"

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *handle(const char *url)
{
	const struct hl_http_easy_opts o = {2000, NULL};
	CURL *e = NULL;
	if (hl_http_easy_new(&o, &e) || curl_easy_setopt(e, CURLOPT_URL, url) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink)) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct fake_srv s;
	if (!ok(fake_start(&s), "fake server up"))
		return done_testing();
	char url[64], v[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);

	static const struct fake_resp redirect[] = {
	    {FAKE_ANSWER, 302, "Found", "Location: http://127.0.0.1:1/elsewhere\r\n", "", 0},
	};
	fake_script(&s, redirect, 1);
	int base = fake_requests(&s);
	CURL *e = handle(url);
	ok(e != NULL, "a handle");
	is_int(curl_easy_perform(e), CURLE_OK, "a request");
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	is_int(status, 302, "a redirect is answered, not followed");
	is_int(fake_requests(&s) - base, 1, "  one request");
	ok(fake_header(&s, base, "User-Agent", v, sizeof(v)) &&
	       strncmp(v, "healthlakefs/", 13) == 0,
	   "our User-Agent (%s)", v);
	ok(strstr(fake_request(&s, base), " HTTP/1.1\r\n") != NULL, "HTTP/1.1");
	curl_easy_cleanup(e);

	e = handle("file:///etc/passwd");
	is_int(curl_easy_perform(e), CURLE_UNSUPPORTED_PROTOCOL, "file:// is refused");
	curl_easy_cleanup(e);

	const struct hl_http_easy_opts bad_ca = {2000, "/nonexistent/ca.pem"};
	e = NULL;
	is_int(hl_http_easy_new(&bad_ca, &e), HL_ERR_OK, "a CA file is only read at connect");
	curl_easy_cleanup(e);
	is_int(hl_http_easy_setopt_err(CURLE_OUT_OF_MEMORY), HL_ERR_NOMEM, "OOM -> NOMEM");
	is_int(hl_http_easy_setopt_err(CURLE_UNKNOWN_OPTION), HL_ERR_CONFIG,
	       "a refused option -> CONFIG");

	fake_stop(&s);
	curl_global_cleanup();
	return done_testing();
}
