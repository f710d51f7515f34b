/* api/endpoint.c: the region rule, the default endpoint per partition, the
 * check of a configured URL (it must agree with what the client accepts). */
#include <stdlib.h>

#include "endpoint.h"
#include "tap.h"
#include "url.h"

static void test_regions(void)
{
	static const struct {
		const char *r;
		bool ok;
	} t[] = {
	    {"us-east-1", true}, {"eusc-de-east-1", true}, {"local", true}, {"a", true},
	    {"", false},	 {"123", false},	   {"-us", false},  {"us-", false},
	    {"us_east", false},	 {"us.east", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(hl_endpoint_region_ok(t[i].r), t[i].ok, "region '%s' ok=%d", t[i].r,
		       t[i].ok);
	char r64[65];
	memset(r64, 'a', 64);
	r64[64] = '\0';
	ok(!hl_endpoint_region_ok(r64), "64 characters is too long");
	r64[63] = '\0';
	ok(hl_endpoint_region_ok(r64), "63 is fine");
}

static void test_defaults(void)
{
	static const struct {
		const char *service, *region;
		bool fips, dual;
		const char *want;
	} t[] = {
	    {"healthlake", "us-east-1", false, false, "https://healthlake.us-east-1.amazonaws.com"},
	    {"healthlake", "us-east-1", true, false,
	     "https://healthlake-fips.us-east-1.amazonaws.com"},
	    {"healthlake", "eu-west-2", false, true, "https://healthlake.eu-west-2.api.aws"},
	    {"healthlake", "cn-north-1", false, false,
	     "https://healthlake.cn-north-1.amazonaws.com.cn"},
	    {"healthlake", "us-gov-west-1", false, false,
	     "https://healthlake.us-gov-west-1.amazonaws.com"},
	    {"healthlake", "us-iso-east-1", false, false,
	     "https://healthlake.us-iso-east-1.c2s.ic.gov"},
	    {"healthlake", "aws-iso-b-global", false, false,
	     "https://healthlake.aws-iso-b-global.sc2s.sgov.gov"},
	    {"healthlake", "local", false, false, "https://healthlake.local.amazonaws.com"},
	    /* S3 keeps its own dual-stack form on the plain DNS suffix */
	    {"s3", "us-east-1", false, false, "https://s3.us-east-1.amazonaws.com"},
	    {"s3", "us-east-1", true, true, "https://s3-fips.dualstack.us-east-1.amazonaws.com"},
	    {"s3", "cn-north-1", false, true, "https://s3.dualstack.cn-north-1.amazonaws.com.cn"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *url = NULL;
		is_int(hl_endpoint_default(t[i].service, t[i].region, t[i].fips, t[i].dual, &url),
		       HL_ERR_OK, "default for %s in %s fips=%d dual=%d", t[i].service, t[i].region,
		       t[i].fips, t[i].dual);
		is_str(url, t[i].want, "  URL");
		free(url);
	}
}

static void test_check(void)
{
	static const struct {
		const char *url;
		bool ok;
		const char *says;
	} t[] = {
	    {"https://hl.example.com/base", true, NULL},
	    {"http://127.0.0.1:4566", true, NULL},
	    {"http://[::1]:8080", true, NULL},
	    {"http://[::ffff:127.0.0.1]:8080", true, NULL},
	    {"http://example.com", false, "plain http:// is allowed only to a loopback host"},
	    {"http://[::ffff:10.0.0.1]:80", false, "loopback"},
	    {"ftp://127.0.0.1/", false, "scheme must be https"},
	    {"https://h/?q=1", false, "no query, fragment or spaces"},
	    {"not a url", false, "expected https://host[:port][/path]"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hl_error e;
		hl_error_clear(&e);
		enum hl_err rc = hl_endpoint_check(t[i].url, "AWS_ENDPOINT_URL", &e);
		is_int(rc, t[i].ok ? HL_ERR_OK : HL_ERR_CONFIG, "check %s", t[i].url);
		/* what the configuration accepts, the client accepts, and back */
		is_int(hl_url_allowed(t[i].url) && !strpbrk(t[i].url, "?#"), t[i].ok,
		       "  the client agrees");
		if (!t[i].ok)
			ok(strstr(e.message, t[i].says) && strstr(e.message, "AWS_ENDPOINT_URL"),
			   "  message: %s", e.message);
	}
}

int main(void)
{
	test_regions();
	test_defaults();
	test_check();
	return done_testing();
}
