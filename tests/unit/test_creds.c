/* api/creds.c: the chain order, environment and file providers, STS-only
 * profiles, the refresh windows with an injected clock, snapshots under
 * threads. credential_process is tested in test_creds_process.c, the
 * container URL rules in test_creds_net.c; the container and IMDS providers
 * are driven against loopback servers by tests/test_creds.py. */
#include <pthread.h>
#include <stdio.h>

#include "creds_fixture.h"
#include "iso8601.h"

static void test_parse_time(void)
{
	struct {
		const char *s;
		enum hl_err rc;
		time_t want;
	} cases[] = {
	    {"2023-11-14T22:13:20Z", HL_ERR_OK, T0},
	    {"2023-11-14T22:13:20.123456Z", HL_ERR_OK, T0},
	    {"2023-11-14 22:13:20z", HL_ERR_OK, T0},
	    {"2023-11-14T23:13:20+01:00", HL_ERR_OK, T0},
	    {"2023-11-14T20:43:20-0130", HL_ERR_OK, T0},
	    {"2023-11-14T22:13:20", HL_ERR_OK, T0},
	    {"2024-02-29T00:00:00Z", HL_ERR_OK, 1709164800},
	    {"2023-02-29T00:00:00Z", HL_ERR_INVALID, 0},
	    {"2024-02-30T00:00:00Z", HL_ERR_INVALID, 0},
	    {"2023-13-01T00:00:00Z", HL_ERR_INVALID, 0},
	    {"2023-11-14T22:13", HL_ERR_INVALID, 0},
	    {"2023-11-14T22:13:20Zjunk", HL_ERR_INVALID, 0},
	    {"2023-11-14T22:13:20.Z", HL_ERR_INVALID, 0},
	    {"2023-11-14T22:13:20+1", HL_ERR_INVALID, 0},
	    {"1700000000", HL_ERR_INVALID, 0},
	    {"", HL_ERR_INVALID, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;
		enum hl_err rc = hl_iso8601_parse_secs(cases[i].s, &t) ? HL_ERR_OK : HL_ERR_INVALID;
		is_int(rc, cases[i].rc, "parse_time '%s'", cases[i].s);
		if (!rc && !cases[i].rc)
			is_int(t, cases[i].want, "parse_time '%s' value", cases[i].s);
	}
	time_t t;
	ok(!hl_iso8601_parse_secs(NULL, &t), "parse_time NULL");
}

static void test_policy(void)
{
	struct {
		time_t exp, now;
		enum hl_refresh want;
	} cases[] = {
	    {0, T0, HL_REFRESH_NONE},
	    {T0 + 3600, T0, HL_REFRESH_NONE},
	    {T0 + 15 * 60, T0, HL_REFRESH_NONE},
	    {T0 + 15 * 60 - 1, T0, HL_REFRESH_ADVISORY},
	    {T0 + 10 * 60, T0, HL_REFRESH_ADVISORY},
	    {T0 + 10 * 60 - 1, T0, HL_REFRESH_MANDATORY},
	    {T0, T0, HL_REFRESH_MANDATORY},
	    {T0 - 5, T0, HL_REFRESH_MANDATORY},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(hl_creds_refresh_need(cases[i].exp, cases[i].now), cases[i].want,
		       "refresh_need(exp=now%+ld)", (long)(cases[i].exp ? cases[i].exp - T0 : 0));
}

static void test_env_provider(void)
{
	struct ctx c;
	struct hl_credentials cr;
	set_files("[default]\naws_access_key_id = AKFILE\naws_secret_access_key = SKFILE\n"
		  "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = SKDEV\n",
		  NULL);

	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKENV");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKENV");
	env_add(&c.e, "AWS_SESSION_TOKEN", "TOKSESSION");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_OK, "env: found");
	is_str(cr.source, "environment", "env: source");
	is_str(cr.access_key_id, "AKENV", "env: key id");
	is_str(cr.secret_access_key, "SKENV", "env: secret");
	is_str(cr.session_token, "TOKSESSION", "env: AWS_SESSION_TOKEN");
	is_int(cr.expiration, 0, "env: no expiration");
	hl_credentials_clear(&cr);
	teardown(&c);

	env_add(&c.e, "AWS_SECURITY_TOKEN", "TOKSECURITY");
	setup(&c, NULL);
	get(&c, T0, &cr);
	is_str(cr.session_token, "TOKSECURITY", "env: AWS_SECURITY_TOKEN first");
	hl_credentials_clear(&cr);
	teardown(&c);

	env_add(&c.e, "AWS_PROFILE", "dev");
	setup(&c, NULL);
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKENV", "env: AWS_PROFILE does not remove the env provider");
	hl_credentials_clear(&cr);
	teardown(&c);

	setup(&c, "dev");
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKDEV", "env: an explicit profile skips the environment");
	is_str(cr.source, "shared-credentials-file", "env skipped: source");
	hl_credentials_clear(&cr);
	teardown(&c);

	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKENV");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CREDENTIALS, "env: partial credentials are fatal");
	has(c.err.message, "AWS_SECRET_ACCESS_KEY", "env partial: message");
	ok(cr.access_key_id == NULL, "env partial: nothing returned");
	teardown(&c);

	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKENV");
	setup(&c, NULL);
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKFILE", "env: empty AWS_ACCESS_KEY_ID is skipped");
	hl_credentials_clear(&cr);
	teardown(&c);

	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKENV");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKENV");
	env_add(&c.e, "AWS_CREDENTIAL_EXPIRATION", "not a time");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CREDENTIALS, "env: bad expiration is an error");
	teardown(&c);
}

/* Environment credentials with an expiration are re-read at refresh. */
static void test_env_refresh(void)
{
	struct ctx c;
	struct hl_credentials cr;
	set_files(NULL, NULL);
	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKONE");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKONE");
	env_add(&c.e, "AWS_CREDENTIAL_EXPIRATION", "2023-11-14T23:13:20Z"); /* T0 + 1 h */
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_OK, "env refresh: first");
	is_int(cr.expiration, T0 + 3600, "env refresh: expiration parsed");
	hl_credentials_clear(&cr);

	/* rotate the environment: not seen while > 15 min are left */
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKTWO");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKTWO");
	env_add(&c.e, "AWS_CREDENTIAL_EXPIRATION", "2023-11-15T00:13:20Z"); /* T0 + 2 h */
	get(&c, T0 + 3600 - 16 * 60, &cr);
	is_str(cr.access_key_id, "AKONE", "env refresh: cached while > 15 min left");
	hl_credentials_clear(&cr);
	get(&c, T0 + 3600 - 14 * 60, &cr);
	is_str(cr.access_key_id, "AKTWO", "env refresh: advisory window refreshes");
	is_str(cr.secret_access_key, "SKTWO", "env refresh: secret rotated too");
	is_int(cr.expiration, T0 + 7200, "env refresh: new expiration");
	hl_credentials_clear(&cr);

	/* advisory failure keeps the old ones; mandatory failure is an error */
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "");
	is_int(get(&c, T0 + 7200 - 12 * 60, &cr), HL_ERR_OK, "env refresh: advisory failure ok");
	is_str(cr.access_key_id, "AKTWO", "env refresh: advisory failure keeps old");
	hl_credentials_clear(&cr);
	is_int(get(&c, T0 + 7200 - 9 * 60, &cr), HL_ERR_CREDENTIALS,
	       "env refresh: mandatory failure is an error");
	has(c.err.message, "AWS_ACCESS_KEY_ID", "env refresh: message says why");
	ok(cr.access_key_id == NULL, "env refresh: nothing returned on error");

	/* refreshed but still expired */
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKTHREE");
	env_add(&c.e, "AWS_CREDENTIAL_EXPIRATION", "2023-11-14T22:13:20Z"); /* T0 */
	is_int(get(&c, T0 + 7200 - 60, &cr), HL_ERR_CREDENTIALS, "env refresh: expired result");
	has(c.err.message, "already expired", "env refresh: expired message");
	teardown(&c);

	base_env(&c.e);
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKONE");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKONE");
	env_add(&c.e, "AWS_CREDENTIAL_EXPIRATION", "2023-11-14T22:00:00Z");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CREDENTIALS, "env: expired at first use is an error");
	teardown(&c);
}

static void test_files(void)
{
	struct ctx c;
	struct hl_credentials cr;

	set_files("[default]\naws_access_key_id = AKC\naws_secret_access_key = SKC\n"
		  "aws_session_token = TSESS\naws_security_token = TSEC\n",
		  "[default]\naws_access_key_id = AKCONF\naws_secret_access_key = SKCONF\n");
	base_env(&c.e);
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_OK, "files: found");
	is_str(cr.source, "shared-credentials-file", "credentials file before config file");
	is_str(cr.access_key_id, "AKC", "files: key id");
	is_str(cr.session_token, "TSEC", "files: aws_security_token checked first");
	hl_credentials_clear(&cr);
	teardown(&c);

	set_files("[other]\naws_access_key_id = X\naws_secret_access_key = Y\n",
		  "[profile dev]\naws_access_key_id = AKCONF\naws_secret_access_key = SKCONF\n"
		  "aws_session_token =\n");
	setup(&c, "dev");
	is_int(get(&c, T0, &cr), HL_ERR_OK, "config file keys");
	is_str(cr.source, "config-file", "config file: source");
	is_str(cr.access_key_id, "AKCONF", "config file: key id");
	ok(cr.session_token == NULL, "config file: empty token is no token");
	hl_credentials_clear(&cr);
	teardown(&c);

	set_files("[default]\naws_access_key_id = AKC\n", NULL);
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CREDENTIALS, "files: partial is fatal");
	has(c.err.message, "aws_secret_access_key", "files partial: message");
	has(c.err.message, cred_path, "files partial: names the file");
	teardown(&c);

	/* keys rotated in the file are seen after invalidate */
	set_files("[default]\naws_access_key_id = AKOLD\naws_secret_access_key = SKOLD\n", NULL);
	setup(&c, NULL);
	get(&c, T0, &cr);
	is_str(cr.access_key_id, "AKOLD", "rotation: first");
	hl_credentials_clear(&cr);
	set_files("[default]\naws_access_key_id = AKNEW\naws_secret_access_key = SKNEW\n", NULL);
	get(&c, T0 + 86400, &cr);
	is_str(cr.access_key_id, "AKOLD", "rotation: static keys stay cached");
	hl_credentials_clear(&cr);
	hl_creds_invalidate(c.p);
	get(&c, T0 + 86400, &cr);
	is_str(cr.access_key_id, "AKNEW", "rotation: invalidate re-reads the file");
	hl_credentials_clear(&cr);
	teardown(&c);
}

struct thread_arg {
	struct hl_creds_provider *p;
	time_t start;
	int bad;
	int errors;
};

static void *hammer(void *a)
{
	struct thread_arg *t = a;
	for (int i = 0; i < 40; i++) {
		struct hl_credentials cr;
		struct hl_error err;
		/* later and later: every few calls lands in a refresh window */
		if (hl_creds_get(t->p, t->start + i * 60, &cr, &err)) {
			t->errors++;
			continue;
		}
		if (strncmp(cr.access_key_id, "AK", 2) != 0 || !cr.secret_access_key ||
		    strcmp(cr.access_key_id + 2, cr.secret_access_key + 2) != 0)
			t->bad++;
		hl_credentials_clear(&cr);
	}
	return NULL;
}

static void test_threads(void)
{
	struct ctx c;
	char counter[320];
	snprintf(counter, sizeof(counter), "%s/tcounter", tmpdir);
	/* every run returns new keys expiring at one fixed time; threads step
	 * the clock from 40 to 1 minute before it, through both refresh windows */
	use_counting_process("tcount.sh", counter, "2099-01-01T00:00:00Z");
	base_env(&c.e);
	setup(&c, NULL);
	time_t exp_2099 = 4070908800;
	struct thread_arg args[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){.p = c.p, .start = exp_2099 - 40 * 60};
		pthread_create(&th[i], NULL, hammer, &args[i]);
	}
	int bad = 0, errors = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += args[i].bad;
		errors += args[i].errors;
	}
	is_int(bad, 0, "threads: every snapshot pairs a key id with its own secret");
	is_int(errors, 0, "threads: refreshes inside both windows never fail");
	FILE *f = fopen(counter, "r");
	int runs = 0;
	if (f) {
		if (fscanf(f, "%d", &runs) != 1)
			runs = 0;
		fclose(f);
	}
	ok(runs > 10, "threads: the process ran again in the windows (%d runs)", runs);
	teardown(&c);
}

static void test_sts_profiles(void)
{
	struct ctx c;
	struct hl_credentials cr;
	struct {
		const char *conf;
		const char *what;
	} cases[] = {
	    {"[profile x]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
	     "role_arn"},
	    {"[profile x]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = /t\n",
	     "web_identity_token_file"},
	    {"[profile x]\nsso_account_id = 1\nsso_role_name = r\nsso_start_url = https://s\n",
	     "sso_"},
	    {"[profile x]\nlogin_session = arn:aws:iam::1:user/u\n", "login_session"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_files(NULL, cases[i].conf);
		base_env(&c.e);
		setup(&c, "x");
		is_int(get(&c, T0, &cr), HL_ERR_CONFIG, "sts profile %s: fails", cases[i].what);
		has(c.err.message, cases[i].what, "sts profile %s: names the setting",
		    cases[i].what);
		has(c.err.message,
		    "credential_process = aws configure export-credentials --profile x --format "
		    "process",
		    "sts profile %s: suggests credential_process", cases[i].what);
		teardown(&c);
	}
	/* login comes after the shared credentials file in the chain */
	set_files("[x]\naws_access_key_id = AKC\naws_secret_access_key = SKC\n",
		  "[profile x]\nlogin_session = arn:aws:iam::1:user/u\n");
	setup(&c, "x");
	is_int(get(&c, T0, &cr), HL_ERR_OK, "login_session after credentials-file keys");
	hl_credentials_clear(&cr);
	teardown(&c);
	/* role_arn comes before the credentials file */
	set_files("[x]\naws_access_key_id = AKC\naws_secret_access_key = SKC\n",
		  "[profile x]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = x\n");
	setup(&c, "x");
	is_int(get(&c, T0, &cr), HL_ERR_CONFIG, "role_arn before credentials-file keys");
	teardown(&c);
	/* environment web identity */
	set_files(NULL, NULL);
	base_env(&c.e);
	env_add(&c.e, "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
	env_add(&c.e, "AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CONFIG, "env web identity fails");
	has(c.err.message, "AWS_WEB_IDENTITY_TOKEN_FILE", "env web identity: message");
	teardown(&c);
	/* ... but environment keys come first */
	env_add(&c.e, "AWS_ACCESS_KEY_ID", "AKENV");
	env_add(&c.e, "AWS_SECRET_ACCESS_KEY", "SKENV");
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_OK, "env keys before web identity");
	hl_credentials_clear(&cr);
	teardown(&c);
}

static void test_none_and_secrets(void)
{
	struct ctx c;
	struct hl_credentials cr;
	set_files(NULL, "[default]\nregion = us-east-1\n");
	base_env(&c.e);
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_NO_CREDENTIALS, "nothing configured");
	const char *m = c.err.message;
	has(m, "environment", "none: lists environment");
	has(m, "shared credentials file", "none: lists the credentials file");
	has(m, "credential_process", "none: lists credential_process");
	has(m, "config file", "none: lists the config file");
	has(m, "container", "none: lists container");
	has(m, "EC2 IMDS (disabled", "none: lists IMDS");
	teardown(&c);

	/* errors never carry a secret */
	const char *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";
	char conf[512];
	snprintf(conf, sizeof(conf), "[default]\naws_access_key_id =\naws_secret_access_key = %s\n",
		 secret);
	set_files(conf, NULL);
	setup(&c, NULL);
	is_int(get(&c, T0, &cr), HL_ERR_CREDENTIALS, "empty key id with a secret: fails");
	lacks(c.err.message, secret, "file error message holds no secret");
	teardown(&c);

	snprintf(conf, sizeof(conf), "[default]\naws_secret_access_key %s\n", secret);
	set_files(conf, NULL);
	struct hl_config_options o = {.getenv_fn = env_get, .getenv_arg = &c.e};
	struct hl_config *cfg = NULL;
	hl_error_clear(&c.err);
	is_int(hl_config_load(&o, &cfg, &c.err), HL_ERR_CONFIG, "parse error with a secret");
	lacks(c.err.message, secret, "parse error message holds no secret");
}

int main(void)
{
	if (!fixture_begin())
		return 1;

	test_parse_time();
	test_policy();
	test_env_provider();
	test_env_refresh();
	test_files();
	test_threads();
	test_sts_profiles();
	test_none_and_secrets();

	fixture_end();
	return done_testing();
}
