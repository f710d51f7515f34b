/* api/creds_process.c: credential_process through the chain, with real
 * scripts in a temp dir: argument splitting, order against the file keys,
 * exit status, signals, timeouts, the JSON contract and refresh; and the
 * output parser on its own, with inputs that end right before an unreadable
 * page. */
#include <stdio.h>

#include "creds_fixture.h"
#include "creds_process.h"
#include "guard.h"

static void test_process(void)
{
	struct ctx c;
	struct hl_credentials cr;
	char conf[1024];
	const char *ok_script = script(
	    "ok.sh", "[ \"$1\" = 'arg with space' ] || { echo \"bad arg: $1\" >&2; exit 9; }\n"
		     "printf '{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", \"SecretAccessKey\": "
		     "\"SKPROC\", \"SessionToken\": \"TPROC\"}'");
	snprintf(conf, sizeof(conf),
		 "[profile p]\ncredential_process = %s \"arg with space\"\n"
		 "aws_access_key_id = AKCONF\naws_secret_access_key = SKCONF\n",
		 ok_script);
	set_files(NULL, conf);
	base_env(&c.e);
	setup(&c, "p");
	is_int(get(&c, T0, &cr), HL_ERR_OK, "process: runs");
	if (c.err.message[0])
		diag("%s", c.err.message);
	is_str(cr.source, "credential_process", "process before config-file keys");
	is_str(cr.access_key_id, "AKPROC", "process: key id");
	is_str(cr.secret_access_key, "SKPROC", "process: secret");
	is_str(cr.session_token, "TPROC", "process: token");
	is_int(cr.expiration, 0, "process: no expiration");
	hl_credentials_clear(&cr);
	teardown(&c);

	/* credentials-file keys come before credential_process; a process set in
	 * the credentials file works too */
	snprintf(conf, sizeof(conf), "[p]\ncredential_process = %s 'arg with space'\n", ok_script);
	set_files("[p]\naws_access_key_id = AKCRED\naws_secret_access_key = SKCRED\n",
		  "[profile p]\ncredential_process = /nonexistent\n");
	setup(&c, "p");
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKCRED", "credentials-file keys before credential_process");
	hl_credentials_clear(&cr);
	teardown(&c);
	set_files(conf, NULL);
	setup(&c, "p");
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKPROC", "credential_process in the credentials file");
	hl_credentials_clear(&cr);
	teardown(&c);

	struct {
		const char *name, *body, *want;
		enum hl_err rc;
	} bad[] = {
	    {"fail.sh", "echo 'token expired: run aws sso login' >&2; exit 3",
	     "exited with status 3: token expired: run aws sso login", HL_ERR_CREDENTIALS},
	    {"v2.sh", "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'",
	     "Version must be the number 1", HL_ERR_CREDENTIALS},
	    {"vstr.sh",
	     "echo '{\"Version\": \"1\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'",
	     "Version must be the number 1", HL_ERR_CREDENTIALS},
	    {"nosecret.sh", "echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'",
	     "lacks SecretAccessKey", HL_ERR_CREDENTIALS},
	    {"noid.sh", "echo '{\"Version\": 1, \"SecretAccessKey\": \"S\"}'", "lacks AccessKeyId",
	     HL_ERR_CREDENTIALS},
	    {"notjson.sh", "echo 'AKIA... SECRET...'", "not a JSON object", HL_ERR_CREDENTIALS},
	    {"badexp.sh",
	     "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", "
	     "\"Expiration\": \"tomorrow\"}'",
	     "Expiration 'tomorrow'", HL_ERR_CREDENTIALS},
	    {"expired.sh",
	     "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", "
	     "\"Expiration\": \"2020-01-01T00:00:00Z\"}'",
	     "already expired", HL_ERR_CREDENTIALS},
	    {"slow.sh", "exec sleep 5", "did not finish within 300 ms", HL_ERR_CREDENTIALS},
	    {"killed.sh", "kill -9 $$", "killed by signal 9", HL_ERR_CREDENTIALS},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(conf, sizeof(conf),
			 "[default]\ncredential_process = %s\n"
			 "aws_access_key_id = AKCONF\naws_secret_access_key = SKCONF\n",
			 script(bad[i].name, bad[i].body));
		set_files(NULL, conf);
		setup(&c, NULL);
		struct hl_creds_tuning t;
		hl_creds_tuning_default(&t);
		t.process_timeout_ms = 300;
		hl_creds_provider_tune(c.p, &t);
		is_int(get(&c, T0, &cr), bad[i].rc, "process %s: fails (no fallback)", bad[i].name);
		has(c.err.message, bad[i].want, "process %s: message", bad[i].name);
		ok(cr.access_key_id == NULL, "process %s: nothing returned", bad[i].name);
		teardown(&c);
	}

	/* an exec failure is reported by posix_spawn, or (under valgrind, which
	 * cannot vfork) as the child's exit status 127 */
	const char *cmds[][3] = {
	    {"/nonexistent/program --x", "cannot run '/nonexistent/program'",
	     "'/nonexistent/program' exited with status 127"},
	    {"'unbalanced", "no closing quotation", "no closing quotation"},
	    {"\"\"", "cannot run ''", "'' exited with status 127"},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(conf, sizeof(conf), "[default]\ncredential_process = %s\n", cmds[i][0]);
		set_files(NULL, conf);
		setup(&c, NULL);
		ok(get(&c, T0, &cr) != HL_ERR_OK, "process '%s' fails", cmds[i][0]);
		bool match = strstr(c.err.message, cmds[i][1]) || strstr(c.err.message, cmds[i][2]);
		ok(match, "process '%s': message", cmds[i][0]);
		if (!match)
			tap_diag_str("got", c.err.message);
		teardown(&c);
	}
}

/* A process whose credentials expire is run again inside the window. */
static void test_process_refresh(void)
{
	struct ctx c;
	struct hl_credentials cr;
	char counter[320];
	snprintf(counter, sizeof(counter), "%s/counter", tmpdir);
	use_counting_process("count.sh", counter, "2023-11-14T23:13:20Z");
	base_env(&c.e);
	setup(&c, NULL);
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AK1", "process refresh: first run");
	is_int(cr.expiration, T0 + 3600, "process refresh: expiration");
	hl_credentials_clear(&cr);
	get(&c, T0 + 30 * 60, &cr);
	is_str(cr.access_key_id, "AK1", "process refresh: cached at 30 min left");
	hl_credentials_clear(&cr);
	get(&c, T0 + 3600 - 9 * 60, &cr);
	is_str(cr.access_key_id, "AK2", "process refresh: ran again in the mandatory window");
	is_str(cr.secret_access_key, "SK2", "process refresh: snapshot is consistent");
	hl_credentials_clear(&cr);
	teardown(&c);
}

/* The output parser alone: each input ends at an unreadable page. */
static void test_parse(void)
{
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
	static const struct {
		const char *in;
		const char *want; /* NULL: parses; else part of the error message */
		const char *token;
		time_t exp;
	} t[] = {
	    {"{\"Version\": 1, \"AccessKeyId\": \"AKP\", \"SecretAccessKey\": \"" SECRET "\", "
	     "\"SessionToken\": \"TOK\", \"Expiration\": \"2023-11-14T22:13:20Z\"}",
	     NULL, "TOK", T0},
	    {"{\"Version\":1,\"AccessKeyId\":\"AKP\",\"SecretAccessKey\":\"" SECRET "\"}", NULL,
	     NULL, 0},
	    {"{\"Version\": 1, \"AccessKeyId\": \"AKP\"", "not a JSON object", NULL, 0},
	    {"{\"Version\": 1, \"AccessKeyId\": \"AKP\", \"SecretAccessKey\": \"" SECRET,
	     "not a JSON object", NULL, 0},
	    {"[1]", "not a JSON object", NULL, 0},
	    {"", "not a JSON object", NULL, 0},
	    {"{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" SECRET "\"}",
	     "Version must be the number 1", NULL, 0},
	    {"{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" SECRET "\"}",
	     "Version must be the number 1", NULL, 0},
	    {"{\"Version\": 1, \"AccessKeyId\": \"\", \"SecretAccessKey\": \"" SECRET "\"}",
	     "lacks AccessKeyId", NULL, 0},
	    {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"\"}",
	     "lacks SecretAccessKey", NULL, 0},
	    {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" SECRET "\", "
	     "\"Expiration\": \"soon\"}",
	     "Expiration 'soon'", NULL, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].in);
		struct guarded g = guard(t[i].in, n);
		struct hl_credentials cr = {0};
		struct hl_error err;
		hl_error_clear(&err);
		enum hl_err rc = hl_creds_process_parse(g.p, n, &cr, &err);
		if (!t[i].want) {
			is_int(rc, HL_ERR_OK, "parse %zu: accepted", i);
			is_str(cr.access_key_id, "AKP", "parse %zu: key id", i);
			is_str(cr.secret_access_key, SECRET, "parse %zu: secret", i);
			is_str(cr.session_token, t[i].token, "parse %zu: token", i);
			is_int(cr.expiration, t[i].exp, "parse %zu: expiration", i);
			is_str(cr.source, "credential_process", "parse %zu: source", i);
		} else {
			is_int(rc, HL_ERR_CREDENTIALS, "parse %zu: rejected", i);
			has(err.message, t[i].want, "parse %zu: message", i);
			lacks(err.message, SECRET, "parse %zu: message holds no secret", i);
			ok(cr.access_key_id == NULL, "parse %zu: nothing returned", i);
		}
		hl_credentials_clear(&cr);
		unguard(&g);
	}
#undef SECRET
}

int main(void)
{
	if (!fixture_begin())
		return 1;

	test_parse();
	test_process();
	test_process_refresh();

	fixture_end();
	return done_testing();
}
