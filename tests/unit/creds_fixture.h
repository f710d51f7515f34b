/* What the credentials unit tests share: a fake environment, a temp dir
 * with the shared credentials and config files, executable scripts, and a
 * provider built from them with a short process timeout. Header-only; for
 * tests/unit/test_creds*.c. */
#ifndef HL_CREDS_FIXTURE_H
#define HL_CREDS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "creds.h"
#include "creds_i.h"
#include "fake_env.h"
#include "tap.h"

#define T0 ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

static __attribute__((unused)) char tmpdir[256], cred_path[300], config_path[300];

static __attribute__((unused)) void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static __attribute__((unused)) void set_files(const char *creds, const char *config)
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
static __attribute__((unused)) void base_env(struct env *e)
{
	memset(e, 0, sizeof(*e));
	env_add(e, "AWS_SHARED_CREDENTIALS_FILE", cred_path);
	env_add(e, "AWS_CONFIG_FILE", config_path);
	env_add(e, "HOME", tmpdir);
	env_add(e, "AWS_REGION", "us-east-1");
	env_add(e, "AWS_EC2_METADATA_DISABLED", "true");
}

/* Writes an executable script tmpdir/name. */
static __attribute__((unused)) const char *script(const char *name, const char *body)
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

/* Makes credential_process of the default profile (and nothing else in the
 * files) a script that counts its runs in the file counter (reset here) and
 * returns keys AK<n>/SK<n> expiring at expiration. */
static __attribute__((unused)) void use_counting_process(const char *name, const char *counter,
							 const char *expiration)
{
	char body[1024], conf[512];
	unlink(counter);
	snprintf(body, sizeof(body),
		 "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
		 "printf '{\"Version\":1,\"AccessKeyId\":\"AK%%s\",\"SecretAccessKey\":\"SK%%s\","
		 "\"Expiration\":\"%s\"}' $n $n",
		 counter, counter, expiration);
	snprintf(conf, sizeof(conf), "[default]\ncredential_process = %s\n", script(name, body));
	set_files(NULL, conf);
}

struct ctx {
	struct env e;
	struct hl_config *cfg;
	struct hl_creds_provider *p;
	struct hl_error err;
};

static __attribute__((unused)) enum hl_err setup(struct ctx *c, const char *profile)
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

static __attribute__((unused)) void teardown(struct ctx *c)
{
	hl_creds_provider_free(c->p);
	hl_config_free(c->cfg);
	c->p = NULL;
	c->cfg = NULL;
}

static __attribute__((unused)) enum hl_err get(struct ctx *c, time_t now,
					       struct hl_credentials *out)
{
	hl_error_clear(&c->err);
	return hl_creds_get(c->p, now, out, &c->err);
}

#define lacks(str, sub, ...) ok(!strstr((str), (sub)), __VA_ARGS__)

/* Makes the temp dir the files and scripts live in. false on failure. */
static __attribute__((unused)) bool fixture_begin(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hl-test-creds-XXXXXX");
	if (!mkdtemp(tmpdir))
		return false;
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	snprintf(config_path, sizeof(config_path), "%s/config", tmpdir);
	return true;
}

static __attribute__((unused)) void fixture_end(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
}

#endif
