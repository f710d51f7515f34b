/* api/creds_net.c: the container endpoint URL rules. The container and
 * IMDS providers themselves are driven against loopback servers by
 * tests/test_creds.py. */
#include <stdio.h>

#include "creds_fixture.h"
#include "creds_net.h"

static void test_container_url(void)
{
	struct {
		const char *rel, *full;
		enum hl_err rc;
		const char *want;
	} cases[] = {
	    {"/v2/creds/abc", NULL, HL_ERR_OK, "http://169.254.170.2/v2/creds/abc"},
	    {"/v2/x", "http://127.0.0.1:9/full", HL_ERR_OK, "http://169.254.170.2/v2/x"},
	    {NULL, "http://127.0.0.1:9/full", HL_ERR_OK, "http://127.0.0.1:9/full"},
	    {NULL, "http://169.254.170.23/v1/credentials", HL_ERR_OK,
	     "http://169.254.170.23/v1/credentials"},
	    {NULL, "http://[fd00:ec2::23]/v1", HL_ERR_OK, "http://[fd00:ec2::23]/v1"},
	    {NULL, "http://localhost:8080/", HL_ERR_OK, "http://localhost:8080/"},
	    {NULL, "https://creds.example.com/x", HL_ERR_OK, "https://creds.example.com/x"},
	    {NULL, "http://creds.example.com/x", HL_ERR_CONFIG, "allowed only"},
	    {NULL, "http://169.254.169.254/x", HL_ERR_CONFIG, "allowed only"},
	    {NULL, "ftp://127.0.0.1/x", HL_ERR_CONFIG, "not an http(s) URL"},
	    {NULL, "127.0.0.1/x", HL_ERR_CONFIG, "not an http(s) URL"},
	    {"", "", HL_ERR_OK, NULL},
	    {NULL, NULL, HL_ERR_OK, NULL},
	};
	set_files(NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctx c;
		base_env(&c.e);
		if (cases[i].rel)
			env_add(&c.e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", cases[i].rel);
		if (cases[i].full)
			env_add(&c.e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", cases[i].full);
		setup(&c, NULL);
		char *url = NULL;
		hl_error_clear(&c.err);
		enum hl_err rc = hl_creds_container_url(c.cfg, NULL, &url, &c.err);
		is_int(rc, cases[i].rc, "container url %zu: result", i);
		if (!rc)
			is_str(url, cases[i].want, "container url %zu: value", i);
		else
			has(c.err.message, cases[i].want, "container url %zu: message", i);
		free(url);
		teardown(&c);
	}
}

int main(void)
{
	if (!fixture_begin())
		return 1;

	test_container_url();

	fixture_end();
	return done_testing();
}
