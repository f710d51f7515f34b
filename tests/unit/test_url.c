/* api/url.c: the one URL parser, the loopback rule, and what the client and
 * the configuration make of an endpoint (they must agree). */
#include <stdlib.h>

#include "guard.h"
#include "tap.h"
#include "url.h"

static void test_parse(void)
{
	struct {
		const char *url;
		enum hl_err rc;
		const char *scheme, *host;
	} cases[] = {
	    {"https://Example.COM:8443/base", HL_ERR_OK, "https", "example.com"},
	    {"HTTP://[::1]:80/", HL_ERR_OK, "http", "::1"},
	    {"http://127.0.0.1", HL_ERR_OK, "http", "127.0.0.1"},
	    {"https://h?x", HL_ERR_OK, "https", "h"},
	    {"example.com", HL_ERR_INVALID, NULL, NULL},
	    {"://x", HL_ERR_INVALID, NULL, NULL},
	    {"https://", HL_ERR_INVALID, NULL, NULL},
	    {"https://:443/", HL_ERR_INVALID, NULL, NULL},
	    {"https://[::1/", HL_ERR_INVALID, NULL, NULL},
	    {"https://h:/", HL_ERR_INVALID, NULL, NULL},
	    {"https://h:0/", HL_ERR_INVALID, NULL, NULL},
	    {"1http://h/", HL_ERR_INVALID, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hl_url u;
		enum hl_err rc = hl_url_parse(cases[i].url, &u);
		is_int(rc, cases[i].rc, "parse %s", cases[i].url);
		if (!rc && !cases[i].rc) {
			is_str(u.scheme, cases[i].scheme, "parse %s: scheme", cases[i].url);
			is_str(u.host, cases[i].host, "parse %s: host", cases[i].url);
		}
	}
	struct {
		const char *host;
		bool loop;
	} hosts[] = {
	    {"127.0.0.1", true},      {"127.255.0.9", true}, {"localhost", true},
	    {"LOCALHOST", true},      {"::1", true},	     {"::ffff:127.0.0.2", true},
	    {"128.0.0.1", false},     {"10.0.0.1", false},   {"localhost.evil", false},
	    {"169.254.170.2", false}, {"::2", false},	     {"", false},
	};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		is_int(hl_url_host_is_loopback(hosts[i].host), hosts[i].loop, "loopback '%s'",
		       hosts[i].host);
}

static void test_allowed_split(void)
{
	static const struct {
		const char *url;
		bool ok;
	} allowed[] = {
	    {"https://healthlake.us-east-1.amazonaws.com", true},
	    {"https://10.0.0.1:8443/x", true},
	    {"http://127.0.0.1:4566", true},
	    {"http://127.1.2.3/", true},
	    {"http://localhost:8080", true},
	    {"http://LOCALHOST", true},
	    {"http://[::1]:8080/", true},
	    {"http://10.0.0.1:80", false},
	    {"http://example.com", false},
	    {"http://127.0.0.1.example.com", false},
	    {"http://[::2]/", false},
	    {"ftp://127.0.0.1/", false},
	    {"not a url", false},
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		is_int(hl_url_allowed(allowed[i].url), allowed[i].ok, "allowed(%s) = %d",
		       allowed[i].url, allowed[i].ok);

	static const struct {
		const char *url, *host, *path;
	} split[] = {
	    {"https://Example.COM:443/p/", "example.com", "/p/"},
	    {"https://Example.COM:8443/base/path", "example.com:8443", "/base/path"},
	    {"http://127.0.0.1:43817", "127.0.0.1:43817", "/"},
	    {"http://localhost:80/", "localhost", "/"},
	    {"https://healthlake.us-east-1.amazonaws.com", "healthlake.us-east-1.amazonaws.com",
	     "/"},
	    {"http://[::1]:9000/", "[::1]:9000", "/"},
	};
	for (size_t i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		char *host = NULL, *path = NULL;
		struct hl_error e;
		is_int(hl_url_split(split[i].url, &host, &path, &e), HL_ERR_OK, "split %s",
		       split[i].url);
		is_str(host, split[i].host, "  host");
		is_str(path, split[i].path, "  path");
		free(host);
		free(path);
	}
	char *host = NULL, *path = NULL;
	struct hl_error e;
	is_int(hl_url_split("https://x/?a=b", &host, &path, &e), HL_ERR_CONFIG,
	       "endpoint with a query refused");
}

/* Cases the two parsers this module replaces disagreed on, and edges. */
static void test_more(void)
{
	struct hl_url u;
	is_int(hl_url_parse("http://[::ffff:127.0.0.1]:8080/p?q", &u), HL_ERR_OK, "mapped literal");
	is_str(u.host, "::ffff:127.0.0.1", "  host without brackets");
	ok(u.ipv6 && u.port == 8080 && u.path_len == 2 && strncmp(u.path, "/p", 2) == 0 &&
	       u.has_query && !u.has_fragment,
	   "  ipv6, port, path, query");
	ok(hl_url_allowed("http://[::ffff:127.0.0.1]:8080"), "mapped loopback is loopback");
	ok(!hl_url_allowed("http://[::ffff:10.0.0.1]:8080"), "a mapped other address is not");
	char *host = NULL, *path = NULL;
	struct hl_error e;
	is_int(hl_url_split("http://[::FFFF:127.0.0.1]:8080", &host, &path, &e), HL_ERR_OK,
	       "split the mapped literal");
	is_str(host, "[::ffff:127.0.0.1]:8080", "  Host keeps the brackets");
	free(host);
	free(path);
	is_int(hl_url_split("https://x/p#frag", &host, &path, &e), HL_ERR_CONFIG,
	       "a fragment is refused too");
	static const char *const bad[] = {
	    "https://user:pw@host/", "https://ho st/",	   "https://host/a b",
	    "https://[::1]x/",	     "https://[zz::1]/",   "https://[::1%25eth0]/",
	    "https://h:65536/",	     "https://h:123456/",  "https://h:8a/",
	    "https://h\\x/",	     "https://h\t/",	   "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(hl_url_parse(bad[i], &u), HL_ERR_INVALID, "refused: '%s'", bad[i]);
	is_int(hl_url_parse(NULL, &u), HL_ERR_INVALID, "NULL refused");
	is_int(hl_url_parse("https://h:65535", &u), HL_ERR_OK, "port 65535");
	ok(u.port == 65535 && u.path_len == 0, "  port read, no path");
	/* the URL's NUL as the last readable byte: no read past it */
	static const char *const edge[] = {"https://h", "https://[::1]", "https://h:1", "https://"};
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		struct guarded g = guard(edge[i], strlen(edge[i]) + 1);
		is_int(hl_url_parse(g.p, &u), i < 3 ? HL_ERR_OK : HL_ERR_INVALID, "guarded '%s'",
		       edge[i]);
		unguard(&g);
	}
}

int main(void)
{
	test_parse();
	test_allowed_split();
	test_more();
	return done_testing();
}
