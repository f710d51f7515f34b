/* api/creds.c: the chain order, environment and file providers,
 * credential_process (real scripts in a temp dir), STS-only profiles, the
 * refresh windows with an injected clock, snapshots under threads. The
 * container and IMDS providers are driven against loopback servers by
 * tests/test_creds.py. */
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "creds.h"
#include "creds_i.h"
#include "creds_net.h"
#include "tap.h"

#define MAX_ENV 24
#define T0 ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

struct env {
	const char *kv[MAX_ENV][2];
};

static const char *env_get(void *arg, const char *name)
{
	struct env *e = arg;
	for (int i = 0; i < MAX_ENV && e->kv[i][0]; i++)
		if (strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

static void env_add(struct env *e, const char *k, const char *v)
{
	for (int i = 0; i < MAX_ENV - 1; i++) {
		if (!e->kv[i][0] || strcmp(e->kv[i][0], k) == 0) {
			e->kv[i][0] = k;
			e->kv[i][1] = v;
			return;
		}
	}
	abort();
}

static char tmpdir[256], cred_path[300], config_path[300];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void set_files(const char *creds, const char *config)
{
	unlink(cred_path);
	unlink(config_path);
	if (creds)
		write_file(cred_path, creds, 0600);
	if (config)
		write_file(config_path, config, 0600);
}

/* An environment with our files, a region, and IMDS off (it would wait on
 * 169.254.169.254 otherwise). */
static void base_env(struct env *e)
{
	memset(e, 0, sizeof(*e));
	env_add(e, "AWS_SHARED_CREDENTIALS_FILE", cred_path);
	env_add(e, "AWS_CONFIG_FILE", config_path);
	env_add(e, "HOME", tmpdir);
	env_add(e, "AWS_REGION", "us-east-1");
	env_add(e, "AWS_EC2_METADATA_DISABLED", "true");
}

/* Writes an executable script tmpdir/name. */
static const char *script(const char *name, const char *body)
{
	static char path[16][320];
	static int next;
	char *p = path[next++ % 16];
	snprintf(p, 320, "%s/%s", tmpdir, name);
	char text[2048];
	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	write_file(p, text, 0700);
	return p;
}

struct ctx {
	struct env e;
	struct hl_config *cfg;
	struct hl_creds_provider *p;
	struct hl_error err;
};

static enum hl_err setup(struct ctx *c, const char *profile)
{
	struct hl_config_options o = {
	    .profile = profile, .getenv_fn = env_get, .getenv_arg = &c->e};
	hl_error_clear(&c->err);
	c->cfg = NULL;
	c->p = NULL;
	enum hl_err rc = hl_config_load(&o, &c->cfg, &c->err);
	if (!rc)
		rc = hl_creds_provider_new(c->cfg, &c->p, &c->err);
	if (!rc) {
		struct hl_creds_tuning t;
		hl_creds_tuning_default(&t);
		t.process_timeout_ms = 3000;
		hl_creds_provider_tune(c->p, &t);
	}
	return rc;
}

static void teardown(struct ctx *c)
{
	hl_creds_provider_free(c->p);
	hl_config_free(c->cfg);
	c->p = NULL;
	c->cfg = NULL;
}

static enum hl_err get(struct ctx *c, time_t now, struct hl_credentials *out)
{
	hl_error_clear(&c->err);
	return hl_creds_get(c->p, now, out, &c->err);
}

#define has(str, sub, ...)                                               \
	do {                                                             \
		const char *s_ = (str);                                  \
		if (!ok(s_ && strstr(s_, (sub)) != NULL, __VA_ARGS__)) { \
			tap_diag_str("got", s_);                         \
			tap_diag_str("contains", (sub));                 \
		}                                                        \
	} while (0)

#define lacks(str, sub, ...) ok(!strstr((str), (sub)), __VA_ARGS__)

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
		enum hl_err rc = hl_creds_parse_time(cases[i].s, &t);
		is_int(rc, cases[i].rc, "parse_time '%s'", cases[i].s);
		if (!rc && !cases[i].rc)
			is_int(t, cases[i].want, "parse_time '%s' value", cases[i].s);
	}
	time_t t;
	is_int(hl_creds_parse_time(NULL, &t), HL_ERR_INVALID, "parse_time NULL");
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
	is_int(hl_creds_imds_stable_expiry(T0 + 6 * 3600, T0, 300), T0 + 6 * 3600,
	       "IMDS expiry far away is kept");
	is_int(hl_creds_imds_stable_expiry(T0 + 60, T0, 300), T0 + 900 + 300,
	       "IMDS expiry in 1 min is extended to now + 15 min + jitter");
	is_int(hl_creds_imds_stable_expiry(T0 - 3600, T0, 120), T0 + 900 + 120,
	       "IMDS expired credentials are extended (static stability)");
	is_int(hl_creds_imds_stable_expiry(T0 + 1201, T0, 300), T0 + 1201,
	       "IMDS expiry just outside the window is kept");
}

static void test_values(void)
{
	struct hl_credentials a = {0}, b;
	a.access_key_id = strdup("AK");
	a.secret_access_key = strdup("SK");
	a.expiration = 42;
	a.source = "environment";
	is_int(hl_credentials_copy(&b, &a), HL_ERR_OK, "copy");
	ok(b.access_key_id != a.access_key_id && strcmp(b.access_key_id, "AK") == 0,
	   "copy is deep");
	ok(b.session_token == NULL && b.expiration == 42 && b.source == a.source,
	   "copy keeps token absence, expiration and source");
	hl_credentials_clear(&a);
	ok(a.access_key_id == NULL && a.secret_access_key == NULL && a.source == NULL,
	   "clear resets every field");
	hl_credentials_clear(&b);
	hl_credentials_clear(NULL);
}

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
	char body[1024], conf[512], counter[320];
	snprintf(counter, sizeof(counter), "%s/counter", tmpdir);
	unlink(counter);
	snprintf(body, sizeof(body),
		 "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
		 "printf '{\"Version\":1,\"AccessKeyId\":\"AK%%s\",\"SecretAccessKey\":\"SK%%s\","
		 "\"Expiration\":\"2023-11-14T23:13:20Z\"}' $n $n",
		 counter, counter);
	snprintf(conf, sizeof(conf), "[default]\ncredential_process = %s\n",
		 script("count.sh", body));
	set_files(NULL, conf);
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
	char body[1024], conf[512], counter[320];
	snprintf(counter, sizeof(counter), "%s/tcounter", tmpdir);
	unlink(counter);
	/* every run returns new keys expiring at one fixed time; threads step
	 * the clock from 40 to 1 minute before it, through both refresh windows */
	snprintf(body, sizeof(body),
		 "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
		 "printf '{\"Version\":1,\"AccessKeyId\":\"AK%%s\",\"SecretAccessKey\":\"SK%%s\","
		 "\"Expiration\":\"2099-01-01T00:00:00Z\"}' $n $n",
		 counter, counter);
	snprintf(conf, sizeof(conf), "[default]\ncredential_process = %s\n",
		 script("tcount.sh", body));
	set_files(NULL, conf);
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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hl-test-creds-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	snprintf(config_path, sizeof(config_path), "%s/config", tmpdir);

	test_parse_time();
	test_policy();
	test_values();
	test_container_url();
	test_env_provider();
	test_env_refresh();
	test_files();
	test_process();
	test_process_refresh();
	test_threads();
	test_sts_profiles();
	test_none_and_secrets();

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
