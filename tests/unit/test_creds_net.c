/* api/creds_net.c: the container endpoint URL rules and the credentials
 * document parser (inputs end right before an unreadable page). The
 * container and IMDS providers themselves are driven against loopback
 * servers by tests/test_creds.py. */
#include <stdio.h>

#include "creds_fixture.h"
#include "creds_net.h"
#include "guard.h"

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

/* The container/IMDS document parser alone. */
static void test_metadata_parse(void)
{
	static const struct {
		const char *in;
		const char *missing; /* NULL: parses */
	} t[] = {
	    {"{\"Code\": \"Success\", \"AccessKeyId\": \"AKM\", \"SecretAccessKey\": \"SKM\", "
	     "\"Token\": \"TM\", \"Expiration\": \"2023-11-14T22:13:20Z\"}",
	     NULL},
	    {"{\"AccessKeyId\": \"AKM\", \"SecretAccessKey\": \"SKM\", \"Expiration\": "
	     "\"2023-11-14T22:13:20Z\"}",
	     "Token"},
	    {"{\"AccessKeyId\": \"AKM\", \"SecretAccessKey\": \"SKM\", \"Token\": \"TM\"}",
	     "Expiration"},
	    {"{\"SecretAccessKey\": \"SKM\", \"Token\": \"TM\", \"Expiration\": \"x\"}",
	     "AccessKeyId"},
	    {"{\"AccessKeyId\": \"AKM\", \"SecretAccessKey\": \"SKM\", \"Token\": \"TM\", "
	     "\"Expiration\": \"tomorrow\"}",
	     "a valid Expiration"},
	    {"{\"AccessKeyId\": \"AKM\", \"SecretAccessKey\": \"SKM\"", "a JSON object"},
	    {"\"AKM\"", "a JSON object"},
	    {"", "a JSON object"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].in);
		struct guarded g = guard(t[i].in, n);
		struct hl_credentials cr = {0};
		const char *missing = "unset";
		enum hl_err rc =
		    hl_creds_metadata_parse(g.p, n, HL_CREDS_SRC_CONTAINER, &cr, &missing);
		if (!t[i].missing) {
			is_int(rc, HL_ERR_OK, "metadata %zu: accepted", i);
			ok(missing == NULL, "metadata %zu: nothing missing", i);
			is_str(cr.access_key_id, "AKM", "metadata %zu: key id", i);
			is_str(cr.secret_access_key, "SKM", "metadata %zu: secret", i);
			is_str(cr.session_token, "TM", "metadata %zu: token", i);
			is_int(cr.expiration, T0, "metadata %zu: expiration", i);
			is_str(cr.source, "container", "metadata %zu: source", i);
		} else {
			is_int(rc, HL_ERR_PROTOCOL, "metadata %zu: rejected", i);
			is_str(missing, t[i].missing, "metadata %zu: names what is missing", i);
			ok(cr.access_key_id == NULL, "metadata %zu: nothing returned", i);
		}
		hl_credentials_clear(&cr);
		unguard(&g);
	}
	struct hl_credentials cr = {0};
	const char *missing = NULL;
	is_int(hl_creds_metadata_parse(NULL, 0, HL_CREDS_SRC_IMDS, &cr, &missing), HL_ERR_PROTOCOL,
	       "metadata NULL body: rejected");
	is_str(missing, "a JSON object", "metadata NULL body: not an object");
}

int main(void)
{
	if (!fixture_begin())
		return 1;

	test_container_url();
	test_metadata_parse();

	fixture_end();
	return done_testing();
}
