/* api/config.c: profile choice, shared files, region, endpoint, CA bundle and
 * max_attempts precedence, with injected environments and temp files. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fake_env.h"
#include "tap.h"

static char tmpdir[256];
static char cred_path[300], config_path[300];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* Writes the two files (NULL = remove) and returns an env pointing at them. */
static void set_files(const char *creds, const char *config)
{
	unlink(cred_path);
	unlink(config_path);
	if (creds)
		write_file(cred_path, creds);
	if (config)
		write_file(config_path, config);
}

static void base_env(struct env *e)
{
	memset(e, 0, sizeof(*e));
	e->kv[0][0] = "AWS_SHARED_CREDENTIALS_FILE";
	e->kv[0][1] = cred_path;
	e->kv[1][0] = "AWS_CONFIG_FILE";
	e->kv[1][1] = config_path;
	e->kv[2][0] = "HOME";
	e->kv[2][1] = tmpdir;
}

static enum hl_err load(struct env *e, struct hl_config_options *o, struct hl_config **cfg,
			struct hl_error *err)
{
	struct hl_config_options none = {0};
	if (!o)
		o = &none;
	o->getenv_fn = env_get;
	o->getenv_arg = e;
	hl_error_clear(err);
	*cfg = NULL;
	return hl_config_load(o, cfg, err);
}

static void test_profile_choice(void)
{
	set_files(
	    "[a]\nregion = us-east-1\n[b]\nregion = us-east-2\n[default]\nregion = eu-west-1\n",
	    NULL);
	struct env e;
	struct hl_config *cfg;
	struct hl_error err;

	base_env(&e);
	is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "default profile loads");
	is_str(cfg->profile, "default", "no setting -> default");
	ok(!cfg->profile_explicit, "default is not explicit");
	is_str(cfg->region, "eu-west-1", "default profile's region");
	hl_config_free(cfg);

	env_add(&e, "AWS_PROFILE", "b");
	load(&e, NULL, &cfg, &err);
	is_str(cfg->profile, "b", "AWS_PROFILE");
	ok(!cfg->profile_explicit, "AWS_PROFILE is not explicit");
	hl_config_free(cfg);

	env_add(&e, "AWS_DEFAULT_PROFILE", "a");
	load(&e, NULL, &cfg, &err);
	is_str(cfg->profile, "a", "AWS_DEFAULT_PROFILE before AWS_PROFILE");
	hl_config_free(cfg);

	env_add(&e, "AWS_DEFAULT_PROFILE", "");
	load(&e, NULL, &cfg, &err);
	is_str(cfg->profile, "b", "empty AWS_DEFAULT_PROFILE is unset");
	hl_config_free(cfg);

	struct hl_config_options o = {.profile = "default"};
	load(&e, &o, &cfg, &err);
	is_str(cfg->profile, "default", "option before environment");
	ok(cfg->profile_explicit, "option is explicit");
	hl_config_free(cfg);

	o.profile = "missing";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_CONFIG, "named profile in neither file");
	has(err.message, "profile 'missing' not found", "ProfileNotFound message");
	has(err.message, cred_path, "message names the credentials file");
	ok(cfg == NULL, "no config on error");

	set_files(NULL, NULL);
	base_env(&e);
	env_add(&e, "AWS_REGION", "us-west-2");
	is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "missing files and default profile: fine");
	ok(cfg && cfg->profile_data == NULL, "no profile data without files");
	ok(cfg && hl_config_profile_get(cfg, "region") == NULL, "profile get on NULL data");
	hl_config_free(cfg);
}

static void test_paths(void)
{
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/d", tmpdir);
	mkdir(sub, 0700);
	char p1[320];
	snprintf(p1, sizeof(p1), "%s/d/cfg", tmpdir);
	write_file(p1, "[default]\nregion = ap-south-1\n");

	struct env e;
	struct hl_config *cfg;
	struct hl_error err;
	struct {
		const char *value;
		const char *extra_k, *extra_v;
	} cases[] = {
	    {"~/d/cfg", NULL, NULL},
	    {"$D/cfg", "D", sub},
	    {"${D}/cfg", "D", sub},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base_env(&e);
		env_add(&e, "AWS_CONFIG_FILE", cases[i].value);
		if (cases[i].extra_k)
			env_add(&e, cases[i].extra_k, cases[i].extra_v);
		is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "path %s loads", cases[i].value);
		if (cfg) {
			is_str(cfg->config_file, p1, "path %s expands", cases[i].value);
			is_str(cfg->region, "ap-south-1", "path %s: file was read", cases[i].value);
		}
		hl_config_free(cfg);
	}

	base_env(&e);
	env_add(&e, "AWS_CONFIG_FILE", "$UNSET_VAR/x");
	env_add(&e, "AWS_REGION", "us-east-1");
	load(&e, NULL, &cfg, &err);
	is_str(cfg ? cfg->config_file : NULL, "$UNSET_VAR/x", "unset variables stay as written");
	hl_config_free(cfg);

	/* defaults are under ~/.aws */
	memset(&e, 0, sizeof(e));
	env_add(&e, "HOME", tmpdir);
	env_add(&e, "AWS_REGION", "us-east-1");
	load(&e, NULL, &cfg, &err);
	char want[320];
	snprintf(want, sizeof(want), "%s/.aws/credentials", tmpdir);
	is_str(cfg ? cfg->credentials_file : NULL, want, "default credentials path");
	snprintf(want, sizeof(want), "%s/.aws/config", tmpdir);
	is_str(cfg ? cfg->config_file : NULL, want, "default config path");
	hl_config_free(cfg);

	/* a directory in place of the file counts as missing */
	base_env(&e);
	env_add(&e, "AWS_CONFIG_FILE", sub);
	env_add(&e, "AWS_REGION", "us-east-1");
	is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "directory as config file is ignored");
	hl_config_free(cfg);
}

static void test_file_rules(void)
{
	struct env e;
	struct hl_config *cfg;
	struct hl_error err;
	struct hl_config_options o = {0};

	set_files("[default]\nregion = us-east-1\n",
		  "[default]\nregion = us-east-1\nbroken line\n");
	base_env(&e);
	is_int(load(&e, NULL, &cfg, &err), HL_ERR_CONFIG, "parse failure is fatal");
	has(err.message, config_path, "parse error names the file");
	has(err.message, "line 3", "parse error names the line");

	/* config: [x] is not a profile; credentials: [profile x] is literal */
	set_files("[profile lit]\nregion = us-east-1\n", "[x]\nregion = us-east-1\n");
	o.profile = "x";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_CONFIG, "[x] in config is not profile x");
	o.profile = "lit";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_CONFIG,
	       "[profile lit] in credentials is not profile lit");
	o.profile = "profile lit";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_OK, "credentials [profile lit] is 'profile lit'");
	hl_config_free(cfg);

	set_files(NULL, "[profile \"my name\"]\nregion = sa-east-1\n"
			"[profile  spaced ]\nregion = ca-central-1\n"
			"[profile a b]\nregion = us-east-1\n");
	o.profile = "my name";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_OK, "quoted profile name");
	is_str(cfg ? cfg->region : NULL, "sa-east-1", "quoted profile's region");
	hl_config_free(cfg);
	o.profile = "spaced";
	load(&e, &o, &cfg, &err);
	is_str(cfg ? cfg->region : NULL, "ca-central-1", "extra spaces in header");
	hl_config_free(cfg);
	o.profile = "a";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_CONFIG, "three words is not a profile");

	set_files(NULL, "[default]\nregion = us-east-1\nmax_attempts = 5\n"
			"[profile default]\nregion = eu-west-2\n");
	load(&e, NULL, &cfg, &err);
	is_str(cfg ? cfg->region : NULL, "eu-west-2", "[profile default] later wins");
	is_int(cfg ? cfg->max_attempts : 0, 3, "the earlier section is replaced entirely");
	hl_config_free(cfg);

	set_files(NULL, "[profile default]\nregion = eu-west-2\n[default]\nregion = us-east-1\n");
	load(&e, NULL, &cfg, &err);
	is_str(cfg ? cfg->region : NULL, "us-east-1", "[default] later wins");
	hl_config_free(cfg);

	/* merge */
	set_files("[dev]\nregion = eu-north-1\naws_access_key_id = AKCRED\n",
		  "[profile dev]\nregion = us-east-1\naws_access_key_id = AKCONF\n"
		  "credential_process = /bin/true\n");
	o.profile = "dev";
	is_int(load(&e, &o, &cfg, &err), HL_ERR_OK, "merge loads");
	is_str(cfg->region, "eu-north-1", "credentials-file key over config key");
	is_str(hl_config_profile_get(cfg, "credential_process"), "/bin/true",
	       "config-only key visible in merged view");
	is_str(hl_profile_get(cfg->profile_data, HL_PROFILE_CREDENTIALS, "aws_access_key_id"),
	       "AKCRED", "credentials-file view");
	is_str(hl_profile_get(cfg->profile_data, HL_PROFILE_CONFIG, "aws_access_key_id"), "AKCONF",
	       "config-file view");
	ok(hl_profile_get(cfg->profile_data, HL_PROFILE_CREDENTIALS, "credential_process") == NULL,
	   "credentials-file view lacks config keys");

	/* re-reading picks up rotated keys */
	set_files("[dev]\nregion = eu-north-1\naws_access_key_id = AKROTATED\n", NULL);
	struct hl_profile *p = NULL;
	is_int(hl_config_read_profile(cfg, &p, &err), HL_ERR_OK, "read_profile");
	is_str(hl_profile_get(p, HL_PROFILE_MERGED, "aws_access_key_id"), "AKROTATED",
	       "read_profile sees the new file");
	hl_profile_free(p);
	set_files(NULL, NULL);
	p = (struct hl_profile *)1;
	is_int(hl_config_read_profile(cfg, &p, &err), HL_ERR_CONFIG,
	       "read_profile: named profile gone");
	hl_config_free(cfg);

	/* nested keys read as absent through the profile view */
	set_files(NULL, "[default]\nregion =\n  x = y\n");
	env_add(&e, "AWS_REGION", "us-east-1");
	load(&e, NULL, &cfg, &err);
	ok(cfg && hl_config_profile_get(cfg, "region") == NULL, "nested value is not a string");
	hl_config_free(cfg);
}

struct region_case {
	const char *opt, *env_region, *env_default, *profile;
	enum hl_err rc;
	const char *want;
};

static void test_region(void)
{
	static const struct region_case cases[] = {
	    {"eu-west-1", "us-east-1", "us-east-2", "us-west-1", HL_ERR_OK, "eu-west-1"},
	    {NULL, "us-east-1", "us-east-2", "us-west-1", HL_ERR_OK, "us-east-1"},
	    {NULL, NULL, "us-east-2", "us-west-1", HL_ERR_OK, "us-east-2"},
	    {NULL, "", "us-east-2", "us-west-1", HL_ERR_OK, "us-east-2"},
	    {NULL, NULL, NULL, "us-west-1", HL_ERR_OK, "us-west-1"},
	    {"", NULL, NULL, "us-west-1", HL_ERR_OK, "us-west-1"},
	    {NULL, NULL, NULL, NULL, HL_ERR_NO_REGION, NULL},
	    {"Us-East-1", NULL, NULL, NULL, HL_ERR_OK, "Us-East-1"},
	    {"us_east_1", NULL, NULL, NULL, HL_ERR_CONFIG, NULL},
	    {"12345", NULL, NULL, NULL, HL_ERR_CONFIG, NULL},
	    {"-us", NULL, NULL, NULL, HL_ERR_CONFIG, NULL},
	    {"us-", NULL, NULL, NULL, HL_ERR_CONFIG, NULL},
	    {NULL, "us east", NULL, NULL, HL_ERR_CONFIG, NULL},
	    {"a123456789012345678901234567890123456789012345678901234567890123", NULL, NULL, NULL,
	     HL_ERR_CONFIG, NULL},
	    {"a12345678901234567890123456789012345678901234567890123456789012", NULL, NULL, NULL,
	     HL_ERR_OK, "a12345678901234567890123456789012345678901234567890123456789012"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct region_case *c = &cases[i];
		char conf[128] = "[default]\n";
		if (c->profile)
			snprintf(conf, sizeof(conf), "[default]\nregion = %s\n", c->profile);
		set_files(NULL, conf);
		struct env e;
		base_env(&e);
		if (c->env_region)
			env_add(&e, "AWS_REGION", c->env_region);
		if (c->env_default)
			env_add(&e, "AWS_DEFAULT_REGION", c->env_default);
		struct hl_config_options o = {.region = c->opt};
		struct hl_config *cfg;
		struct hl_error err;
		enum hl_err rc = load(&e, &o, &cfg, &err);
		is_int(rc, c->rc, "region case %zu: result", i);
		if (!rc && c->want)
			is_str(cfg->region, c->want, "region case %zu: value", i);
		if (rc == HL_ERR_NO_REGION) {
			has(err.message, "AWS_REGION", "no-region message names AWS_REGION");
			has(err.message, "AWS_DEFAULT_REGION", "... AWS_DEFAULT_REGION");
			has(err.message, "region option", "... the option");
			has(err.message, config_path, "... the config file");
		}
		if (rc == HL_ERR_CONFIG)
			has(err.message, "invalid region", "region case %zu: message", i);
		hl_config_free(cfg);
	}
}

struct ep_case {
	const char *name;
	const char *opt;
	const char *env[6]; /* name, value pairs */
	const char *config;
	const char *region;
	enum hl_err rc;
	const char *want; /* endpoint, or a substring of the error */
	bool custom;
};

/* Writes c's config file and fills e with its environment. */
static void ep_case_setup(const struct ep_case *c, struct env *e)
{
	char conf[512];
	snprintf(conf, sizeof(conf), "[default]\nregion = %s\n%s", c->region,
		 c->config ? c->config : "");
	set_files(NULL, conf);
	base_env(e);
	for (int j = 0; j < 6 && c->env[j]; j += 2)
		env_add(e, c->env[j], c->env[j + 1]);
}

/* Checks one case's outcome: rc, then the url and custom flag, or the
 * error message. */
static void ep_case_check(const char *what, const struct ep_case *c, enum hl_err rc,
			  const char *url, bool custom, const struct hl_error *err)
{
	is_int(rc, c->rc, "%s %s: result", what, c->name);
	if (rc == HL_ERR_OK && c->rc == HL_ERR_OK) {
		is_str(url, c->want, "%s %s: url", what, c->name);
		is_int(custom, c->custom, "%s %s: custom flag", what, c->name);
	} else if (rc && rc == c->rc) {
		has(err->message, c->want, "%s %s: message", what, c->name);
	}
}

static void test_endpoint(void)
{
	static const struct ep_case cases[] = {
	    {"derived",
	     NULL,
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.amazonaws.com",
	     false},
	    {"fips",
	     NULL,
	     {"AWS_USE_FIPS_ENDPOINT", "TRUE"},
	     NULL,
	     "us-east-2",
	     HL_ERR_OK,
	     "https://healthlake-fips.us-east-2.amazonaws.com",
	     false},
	    {"dualstack from profile",
	     NULL,
	     {NULL},
	     "use_dualstack_endpoint = true\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.api.aws",
	     false},
	    {"fips+dualstack",
	     NULL,
	     {"AWS_USE_FIPS_ENDPOINT", "true", "AWS_USE_DUALSTACK_ENDPOINT", "true"},
	     NULL,
	     "us-west-2",
	     HL_ERR_OK,
	     "https://healthlake-fips.us-west-2.api.aws",
	     false},
	    {"env false beats profile true",
	     NULL,
	     {"AWS_USE_FIPS_ENDPOINT", "false"},
	     "use_fips_endpoint = true\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.amazonaws.com",
	     false},
	    {"'1' is not true",
	     NULL,
	     {"AWS_USE_FIPS_ENDPOINT", "1"},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.amazonaws.com",
	     false},
	    {"china",
	     NULL,
	     {NULL},
	     NULL,
	     "cn-north-1",
	     HL_ERR_OK,
	     "https://healthlake.cn-north-1.amazonaws.com.cn",
	     false},
	    {"china dualstack",
	     NULL,
	     {"AWS_USE_DUALSTACK_ENDPOINT", "true"},
	     NULL,
	     "cn-northwest-1",
	     HL_ERR_OK,
	     "https://healthlake.cn-northwest-1.api.amazonwebservices.com.cn",
	     false},
	    {"govcloud fips",
	     NULL,
	     {"AWS_USE_FIPS_ENDPOINT", "true"},
	     NULL,
	     "us-gov-west-1",
	     HL_ERR_OK,
	     "https://healthlake-fips.us-gov-west-1.amazonaws.com",
	     false},
	    {"iso-e",
	     NULL,
	     {NULL},
	     NULL,
	     "eu-isoe-west-1",
	     HL_ERR_OK,
	     "https://healthlake.eu-isoe-west-1.cloud.adc-e.uk",
	     false},
	    {"iso-b",
	     NULL,
	     {NULL},
	     NULL,
	     "us-isob-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-isob-east-1.sc2s.sgov.gov",
	     false},
	    {"listed global region",
	     NULL,
	     {NULL},
	     NULL,
	     "aws-cn-global",
	     HL_ERR_OK,
	     "https://healthlake.aws-cn-global.amazonaws.com.cn",
	     false},
	    {"unknown region falls back to aws",
	     NULL,
	     {NULL},
	     NULL,
	     "xx-foo-1",
	     HL_ERR_OK,
	     "https://healthlake.xx-foo-1.amazonaws.com",
	     false},
	    {"cn prefix without digits is aws",
	     NULL,
	     {NULL},
	     NULL,
	     "cn-north",
	     HL_ERR_OK,
	     "https://healthlake.cn-north.amazonaws.com",
	     false},
	    {"option wins",
	     "https://opt.example:8443/p/",
	     {"AWS_ENDPOINT_URL_HEALTHLAKE", "https://svc.example", "AWS_ENDPOINT_URL",
	      "https://all.example"},
	     "endpoint_url = https://prof.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://opt.example:8443/p/",
	     true},
	    {"service env before global env",
	     NULL,
	     {"AWS_ENDPOINT_URL_HEALTHLAKE", "https://svc.example", "AWS_ENDPOINT_URL",
	      "https://all.example"},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "https://svc.example",
	     true},
	    {"global env",
	     NULL,
	     {"AWS_ENDPOINT_URL", "https://all.example"},
	     "endpoint_url = https://prof.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://all.example",
	     true},
	    {"services section before endpoint_url",
	     NULL,
	     {NULL},
	     "services = local\nendpoint_url = https://prof.example\n"
	     "[services local]\nhealthlake =\n  endpoint_url = http://127.0.0.1:9000\n"
	     "s3 =\n  endpoint_url = https://s3.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "http://127.0.0.1:9000",
	     true},
	    {"services without healthlake falls to endpoint_url",
	     NULL,
	     {NULL},
	     "services = local\nendpoint_url = https://prof.example\n"
	     "[services local]\ns3 =\n  endpoint_url = https://s3.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://prof.example",
	     true},
	    {"services section missing",
	     NULL,
	     {NULL},
	     "services = nope\n",
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "[services nope]",
	     false},
	    {"ignore flag env",
	     NULL,
	     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", "AWS_ENDPOINT_URL",
	      "https://all.example"},
	     "endpoint_url = https://prof.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.amazonaws.com",
	     false},
	    {"ignore flag profile",
	     NULL,
	     {NULL},
	     "ignore_configured_endpoint_urls = True\nendpoint_url = https://prof.example\n",
	     "us-east-1",
	     HL_ERR_OK,
	     "https://healthlake.us-east-1.amazonaws.com",
	     false},
	    {"ignore flag keeps the option",
	     "https://opt.example",
	     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "https://opt.example",
	     true},
	    {"custom endpoint disables fips",
	     NULL,
	     {"AWS_ENDPOINT_URL", "https://all.example", "AWS_USE_FIPS_ENDPOINT", "true"},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "https://all.example",
	     true},
	    {"no scheme",
	     "example.com",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "invalid endpoint 'example.com'",
	     false},
	    {"http to a public host",
	     NULL,
	     {"AWS_ENDPOINT_URL", "http://example.com"},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "allowed only to a loopback host",
	     false},
	    {"http to 10/8",
	     "http://10.0.0.1:80",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "loopback",
	     false},
	    {"http to localhost",
	     "http://LocalHost:8080/x",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "http://LocalHost:8080/x",
	     true},
	    {"http to 127.9.8.7",
	     "http://127.9.8.7:1",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "http://127.9.8.7:1",
	     true},
	    {"http to [::1]",
	     "http://[::1]:9/",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_OK,
	     "http://[::1]:9/",
	     true},
	    {"http to 127.0.0.1.evil.com",
	     "http://127.0.0.1.evil.com/",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "loopback",
	     false},
	    {"ftp",
	     "ftp://127.0.0.1/",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "scheme must be https",
	     false},
	    {"userinfo",
	     "https://user:pw@example.com/",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "invalid endpoint",
	     false},
	    {"bad port",
	     "https://example.com:99999/",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "invalid endpoint",
	     false},
	    {"query",
	     "https://example.com/?a=b",
	     {NULL},
	     NULL,
	     "us-east-1",
	     HL_ERR_CONFIG,
	     "no query",
	     false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ep_case *c = &cases[i];
		struct env e;
		ep_case_setup(c, &e);
		struct hl_config_options o = {.endpoint = c->opt};
		struct hl_config *cfg;
		struct hl_error err;
		enum hl_err rc = load(&e, &o, &cfg, &err);
		ep_case_check("endpoint", c, rc, rc ? NULL : cfg->endpoint,
			      rc ? false : cfg->endpoint_custom, &err);
		hl_config_free(cfg);
	}
}

/* hl_config_service_endpoint for S3: the CLI's order, S3's own hosts. */
static void test_s3_endpoint(void)
{
	static const struct ep_case cases[] = {
	    {"regional", NULL, {NULL}, NULL, "eu-west-1", HL_ERR_OK,
	     "https://s3.eu-west-1.amazonaws.com", false},
	    {"china", NULL, {NULL}, NULL, "cn-north-1", HL_ERR_OK,
	     "https://s3.cn-north-1.amazonaws.com.cn", false},
	    {"dualstack", NULL, {"AWS_USE_DUALSTACK_ENDPOINT", "true"}, NULL, "us-east-1",
	     HL_ERR_OK, "https://s3.dualstack.us-east-1.amazonaws.com", false},
	    {"fips", NULL, {"AWS_USE_FIPS_ENDPOINT", "true"}, NULL, "us-east-1", HL_ERR_OK,
	     "https://s3-fips.us-east-1.amazonaws.com", false},
	    {"explicit first", "http://127.0.0.1:1", {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2"},
	     NULL, "us-east-1", HL_ERR_OK, "http://127.0.0.1:1", true},
	    {"AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL", NULL,
	     {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2", "AWS_ENDPOINT_URL", "http://127.0.0.1:3"},
	     NULL, "us-east-1", HL_ERR_OK, "http://127.0.0.1:2", true},
	    {"AWS_ENDPOINT_URL_HEALTHLAKE is not S3's", NULL,
	     {"AWS_ENDPOINT_URL_HEALTHLAKE", "http://127.0.0.1:4"}, NULL, "us-east-1", HL_ERR_OK,
	     "https://s3.us-east-1.amazonaws.com", false},
	    {"services section s3", NULL, {NULL},
	     "services = local\nendpoint_url = https://prof.example\n"
	     "[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n",
	     "us-east-1", HL_ERR_OK, "http://127.0.0.1:9000", true},
	    {"services without s3 falls to endpoint_url", NULL, {NULL},
	     "services = local\nendpoint_url = https://prof.example\n"
	     "[services local]\nhealthlake =\n  endpoint_url = http://127.0.0.1:9000\n",
	     "us-east-1", HL_ERR_OK, "https://prof.example", true},
	    {"ignored configured endpoints", NULL,
	     {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	      "true"},
	     NULL, "us-east-1", HL_ERR_OK, "https://s3.us-east-1.amazonaws.com", false},
	    {"plain http elsewhere", NULL, {"AWS_ENDPOINT_URL_S3", "http://example.com"}, NULL,
	     "us-east-1", HL_ERR_CONFIG, "AWS_ENDPOINT_URL_S3", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ep_case *c = &cases[i];
		struct env e;
		ep_case_setup(c, &e);
		struct hl_config *cfg;
		struct hl_error err;
		char *url = NULL;
		bool custom = false;
		is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "s3 %s: config", c->name);
		enum hl_err rc = hl_config_service_endpoint(cfg, "s3", c->opt, &url, &custom, &err);
		ep_case_check("s3", c, rc, url, custom, &err);
		free(url);
		hl_config_free(cfg);
	}
}

static void test_ca_and_attempts(void)
{
	struct env e;
	struct hl_config *cfg;
	struct hl_error err;
	set_files(NULL,
		  "[default]\nregion = us-east-1\nca_bundle = /prof/ca.pem\nmax_attempts = 7\n");
	base_env(&e);
	load(&e, NULL, &cfg, &err);
	is_str(cfg->ca_bundle, "/prof/ca.pem", "ca_bundle from profile");
	is_int(cfg->max_attempts, 7, "max_attempts from profile");
	hl_config_free(cfg);

	env_add(&e, "AWS_CA_BUNDLE", "/env/ca.pem");
	env_add(&e, "AWS_MAX_ATTEMPTS", "2");
	load(&e, NULL, &cfg, &err);
	is_str(cfg->ca_bundle, "/env/ca.pem", "AWS_CA_BUNDLE over profile");
	is_int(cfg->max_attempts, 2, "AWS_MAX_ATTEMPTS over profile");
	hl_config_free(cfg);

	struct hl_config_options o = {.ca_bundle = "/opt/ca.pem", .max_attempts = 9};
	load(&e, &o, &cfg, &err);
	is_str(cfg->ca_bundle, "/opt/ca.pem", "option over AWS_CA_BUNDLE");
	is_int(cfg->max_attempts, 9, "option over AWS_MAX_ATTEMPTS");
	hl_config_free(cfg);

	set_files(NULL, "[default]\nregion = us-east-1\n");
	base_env(&e);
	load(&e, NULL, &cfg, &err);
	ok(cfg->ca_bundle == NULL, "no CA bundle: system store");
	is_int(cfg->max_attempts, 3, "default max_attempts is 3");
	hl_config_free(cfg);

	const char *bad[] = {"0", "-1", "21", "3x", "", " "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_add(&e, "AWS_MAX_ATTEMPTS", bad[i]);
		enum hl_err rc = load(&e, NULL, &cfg, &err);
		if (!*bad[i]) {
			is_int(rc, HL_ERR_OK, "empty AWS_MAX_ATTEMPTS is unset");
			hl_config_free(cfg);
			continue;
		}
		is_int(rc, HL_ERR_CONFIG, "AWS_MAX_ATTEMPTS='%s' rejected", bad[i]);
		has(err.message, "max_attempts", "max_attempts message");
	}
	env_add(&e, "AWS_MAX_ATTEMPTS", "20");
	is_int(load(&e, NULL, &cfg, &err), HL_ERR_OK, "20 attempts accepted");
	hl_config_free(cfg);
	o = (struct hl_config_options){.max_attempts = -2};
	is_int(load(&e, &o, &cfg, &err), HL_ERR_CONFIG, "negative option rejected");
}

static void test_config_true(void)
{
	ok(hl_config_true("TrUe") && !hl_config_true("yes") && !hl_config_true(NULL),
	   "boolean settings: only 'true'");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hl-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	snprintf(config_path, sizeof(config_path), "%s/config", tmpdir);

	test_profile_choice();
	test_paths();
	test_file_rules();
	test_region();
	test_endpoint();
	test_s3_endpoint();
	test_ca_and_attempts();
	test_config_true();

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
