#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "endpoint.h"
#include "ini.h"

#define MAX_ATTEMPTS_LIMIT 20

struct hl_profile {
	struct hl_ini *creds_ini;
	struct hl_ini *config_ini;
	const struct hl_ini_section *creds;  /* into creds_ini, may be NULL */
	const struct hl_ini_section *config; /* into config_ini, may be NULL */
};

static const char *env_raw(const struct hl_config *cfg, const char *name)
{
	if (cfg->getenv_fn)
		return cfg->getenv_fn(cfg->getenv_arg, name);
	return getenv(name);
}

const char *hl_config_getenv(const struct hl_config *cfg, const char *name)
{
	return env_raw(cfg, name);
}

/* The settings chains treat an empty variable as unset. */
static const char *env_set(const struct hl_config *cfg, const char *name)
{
	const char *v = env_raw(cfg, name);
	return v && *v ? v : NULL;
}

bool hl_config_true(const char *s)
{
	return s && strcasecmp(s, "true") == 0;
}

void hl_profile_free(struct hl_profile *p)
{
	if (!p)
		return;
	hl_ini_free(p->creds_ini);
	hl_ini_free(p->config_ini);
	free(p);
}

static const char *section_get(const struct hl_ini_section *s, const char *key)
{
	const struct hl_ini_entry *e = hl_ini_entry(s, key);
	return e && !e->sub ? e->value : NULL;
}

const char *hl_profile_get(const struct hl_profile *p, enum hl_profile_file which, const char *key)
{
	if (!p)
		return NULL;
	const char *v = NULL;
	if (which != HL_PROFILE_CONFIG)
		v = section_get(p->creds, key);
	if (!v && which != HL_PROFILE_CREDENTIALS)
		v = section_get(p->config, key);
	return v;
}

const char *hl_config_profile_get(const struct hl_config *cfg, const char *key)
{
	return hl_profile_get(cfg->profile_data, HL_PROFILE_MERGED, key);
}

/* os.path.expandvars: $name and ${name} of set variables; others stay. */
static enum hl_err expand_vars(const struct hl_config *cfg, const char *in, struct hl_buf *out)
{
	enum hl_err e = HL_ERR_OK;
	for (const char *p = in; *p && !e; p++) {
		if (*p != '$') {
			e = hl_buf_appendc(out, *p);
			continue;
		}
		const char *name = p + 1, *end;
		size_t n = 0;
		if (*name == '{') {
			end = strchr(name, '}');
			if (!end) {
				e = hl_buf_appendc(out, *p);
				continue;
			}
			name++;
			n = (size_t)(end - name);
		} else {
			while ((name[n] >= 'A' && name[n] <= 'Z') ||
			       (name[n] >= 'a' && name[n] <= 'z') ||
			       (name[n] >= '0' && name[n] <= '9') || name[n] == '_')
				n++;
			if (!n) {
				e = hl_buf_appendc(out, *p);
				continue;
			}
			end = name + n - 1;
		}
		char var[256];
		const char *val = NULL;
		if (n < sizeof(var)) {
			memcpy(var, name, n);
			var[n] = '\0';
			val = env_raw(cfg, var);
		}
		if (val) {
			e = hl_buf_appends(out, val);
			p = end;
		} else {
			e = hl_buf_appendc(out, *p);
		}
	}
	return e;
}

/* os.path.expanduser: ~ is $HOME (else the passwd entry), ~user that user's home. */
static enum hl_err expand_user(const struct hl_config *cfg, const char *in, struct hl_buf *out)
{
	if (in[0] != '~')
		return hl_buf_appends(out, in);
	const char *slash = strchr(in, '/');
	size_t ulen = slash ? (size_t)(slash - in - 1) : strlen(in) - 1;
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	const char *home = NULL;
	if (ulen == 0) {
		home = env_raw(cfg, "HOME");
		if (!home && getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
			home = res->pw_dir;
	} else {
		char user[256];
		if (ulen < sizeof(user)) {
			memcpy(user, in + 1, ulen);
			user[ulen] = '\0';
			if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
				home = res->pw_dir;
		}
	}
	if (!home)
		return hl_buf_appends(out, in);
	size_t hl = strlen(home);
	while (hl > 0 && home[hl - 1] == '/')
		hl--;
	const char *rest = in + 1 + ulen;
	if (hl == 0 && !*rest)
		return hl_buf_appendc(out, '/');
	enum hl_err e = hl_buf_append(out, home, hl);
	return e ? e : hl_buf_appends(out, rest);
}

static enum hl_err expand_path(const struct hl_config *cfg, const char *in, char **ret)
{
	struct hl_buf a, b;
	hl_buf_init(&a, 64 * 1024);
	hl_buf_init(&b, 64 * 1024);
	enum hl_err e = expand_vars(cfg, in, &a);
	if (!e)
		e = hl_buf_append(&a, "", 0); /* ensure a NUL-terminated string exists */
	if (!e)
		e = expand_user(cfg, a.data, &b);
	if (!e)
		e = hl_buf_append(&b, "", 0);
	if (!e) {
		*ret = hl_buf_steal(&b);
		if (!*ret)
			e = HL_ERR_NOMEM;
	}
	hl_buf_free(&a);
	hl_buf_free(&b);
	return e;
}

/* Reads and parses one shared file. *ret stays NULL when the file does not
 * exist or is not a regular file (botocore ignores those). */
static enum hl_err read_ini(const char *path, struct hl_ini **ret, struct hl_error *err)
{
	struct hl_buf b;
	hl_buf_init(&b, HL_INI_MAX_SIZE + 1);
	enum hl_err rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			rc = HL_ERR_OK;
			goto out;
		}
		rc = hl_error_set(err, HL_ERR_CONFIG, "%s: %s", path, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = HL_ERR_OK;
		goto out;
	}
	for (;;) {
		char chunk[8192];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hl_error_set(err, HL_ERR_CONFIG, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		rc = hl_buf_append(&b, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof(chunk));
		if (rc == HL_ERR_TOO_LARGE) {
			rc = hl_error_set(err, HL_ERR_CONFIG, "%s: larger than %u bytes", path,
					  HL_INI_MAX_SIZE);
			goto out;
		}
		if (rc) {
			rc = hl_error_set(err, rc, "out of memory");
			goto out;
		}
	}
	struct hl_error perr;
	hl_error_clear(&perr);
	rc = hl_ini_parse(b.data ? b.data : "", b.len, ret, &perr);
	if (rc) {
		rc = hl_error_set(err, rc == HL_ERR_NOMEM ? rc : HL_ERR_CONFIG,
				  "cannot parse %s: %s", path, perr.message);
		goto out;
	}
	rc = HL_ERR_OK;
out:
	if (fd >= 0)
		close(fd);
	hl_buf_free_secure(&b);
	return rc;
}

/* botocore's _parse_section(): the header must split (shell-style) into
 * exactly two words; the second is the name. Returns true on a match. */
static bool header_names(const char *header, const char *kind, const char *name)
{
	if (strncmp(header, kind, strlen(kind)) != 0)
		return false;
	char **argv = NULL;
	size_t argc = 0;
	if (hl_shell_split(header, &argv, &argc, NULL) != HL_ERR_OK)
		return false;
	bool match = argc == 2 && strcmp(argv[1], name) == 0;
	hl_shell_split_free(argv);
	return match;
}

/* The config-file section for profile name: [profile name] or [default] for
 * "default"; when several qualify the last one wins, as in botocore. */
static const struct hl_ini_section *config_profile(const struct hl_ini *ini, const char *name)
{
	const struct hl_ini_section *found = NULL;
	for (size_t i = 0; ini && i < ini->n; i++) {
		const char *h = ini->sections[i].name;
		if (strncmp(h, "profile", 7) == 0) {
			if (header_names(h, "profile", name))
				found = &ini->sections[i];
		} else if (strncmp(h, "sso-session", 11) == 0 || strncmp(h, "services", 8) == 0) {
			continue;
		} else if (strcmp(h, "default") == 0 && strcmp(name, "default") == 0) {
			found = &ini->sections[i];
		}
	}
	return found;
}

static enum hl_err load_profile(const char *cred_path, const char *config_path, const char *profile,
				struct hl_profile **ret, struct hl_error *err)
{
	struct hl_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	enum hl_err rc = read_ini(cred_path, &p->creds_ini, err);
	if (!rc)
		rc = read_ini(config_path, &p->config_ini, err);
	if (rc) {
		hl_profile_free(p);
		return rc;
	}
	p->creds = hl_ini_find(p->creds_ini, profile);
	p->config = config_profile(p->config_ini, profile);
	*ret = p;
	return HL_ERR_OK;
}

enum hl_err hl_config_read_profile(const struct hl_config *cfg, struct hl_profile **ret,
				   struct hl_error *err)
{
	struct hl_profile *p = NULL;
	enum hl_err rc =
	    load_profile(cfg->credentials_file, cfg->config_file, cfg->profile, &p, err);
	if (rc)
		return rc;
	if (!p->creds && !p->config) {
		hl_profile_free(p);
		p = NULL;
		if (strcmp(cfg->profile, "default") != 0)
			return hl_error_set(err, HL_ERR_CONFIG,
					    "profile '%s' not found in %s or %s", cfg->profile,
					    cfg->credentials_file, cfg->config_file);
	}
	*ret = p;
	return HL_ERR_OK;
}

static const char *setting(const struct hl_config *cfg, const char *env, const char *key,
			   const char **from)
{
	const char *v = env_set(cfg, env);
	if (v) {
		*from = env;
		return v;
	}
	v = hl_config_profile_get(cfg, key);
	if (v && *v) {
		*from = key;
		return v;
	}
	return NULL;
}

static enum hl_err resolve_region(const struct hl_config_options *opt, struct hl_config *cfg,
				  struct hl_error *err)
{
	const char *from = "the region option";
	const char *r = opt->region && *opt->region ? opt->region : NULL;
	if (!r && (r = env_set(cfg, "AWS_REGION")))
		from = "AWS_REGION";
	if (!r && (r = env_set(cfg, "AWS_DEFAULT_REGION")))
		from = "AWS_DEFAULT_REGION";
	if (!r && (r = hl_config_profile_get(cfg, "region")) && *r)
		from = "the profile's region key";
	if (!r || !*r)
		return hl_error_set(err, HL_ERR_NO_REGION,
				    "no region: tried the region option, AWS_REGION, "
				    "AWS_DEFAULT_REGION and 'region' in profile '%s' (%s, %s)",
				    cfg->profile, cfg->config_file, cfg->credentials_file);
	if (!hl_endpoint_region_ok(r))
		return hl_error_set(err, HL_ERR_CONFIG,
				    "invalid region '%.64s' from %s: expected a host label "
				    "such as us-east-1",
				    r, from);
	cfg->region = strdup(r);
	return cfg->region ? HL_ERR_OK : hl_error_set(err, HL_ERR_NOMEM, "out of memory");
}

/* Profile `services = NAME` -> [services NAME] -> <service> -> endpoint_url. */
static enum hl_err services_endpoint(const struct hl_config *cfg, const struct hl_ini *config_ini,
				     const char *service, const char **ret, struct hl_error *err)
{
	*ret = NULL;
	const char *name = hl_config_profile_get(cfg, "services");
	if (!name)
		return HL_ERR_OK;
	const struct hl_ini_section *s = NULL;
	for (size_t i = 0; config_ini && i < config_ini->n; i++)
		if (header_names(config_ini->sections[i].name, "services", name))
			s = &config_ini->sections[i];
	if (!s)
		return hl_error_set(err, HL_ERR_CONFIG,
				    "profile '%s' names services '%s' but %s has no [services %s]",
				    cfg->profile, name, cfg->config_file, name);
	*ret = hl_ini_sub_get(hl_ini_entry(s, service), "endpoint_url");
	return HL_ERR_OK;
}

enum hl_err hl_config_service_endpoint(const struct hl_config *cfg, const char *service,
				       const char *explicit_url, char **ret_url, bool *ret_custom,
				       struct hl_error *err)
{
	const struct hl_ini *config_ini = cfg->profile_data ? cfg->profile_data->config_ini : NULL;
	const char *url = NULL, *from = NULL;
	char env_name[64];
	enum hl_err rc;
	int k = snprintf(env_name, sizeof(env_name), "AWS_ENDPOINT_URL_%s", service);
	if (k < 0 || (size_t)k >= sizeof(env_name))
		return hl_error_set(err, HL_ERR_INVALID, "service name too long");
	for (char *p = env_name; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (*p == '-' || *p == ' ')
			*p = '_';
	if (explicit_url && *explicit_url) {
		url = explicit_url;
		from = "the endpoint option";
	}
	const char *ign_from;
	bool ignore = hl_config_true(setting(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
					     "ignore_configured_endpoint_urls", &ign_from));
	if (!url && !ignore) {
		if ((url = env_set(cfg, env_name))) {
			from = env_name;
		} else if ((url = env_set(cfg, "AWS_ENDPOINT_URL"))) {
			from = "AWS_ENDPOINT_URL";
		} else {
			rc = services_endpoint(cfg, config_ini, service, &url, err);
			if (rc)
				return rc;
			if (url && *url) {
				from = "the profile's services section";
			} else if ((url = hl_config_profile_get(cfg, "endpoint_url")) && *url) {
				from = "the profile's endpoint_url";
			} else {
				url = NULL;
			}
		}
	}
	if (url) {
		rc = hl_endpoint_check(url, from, err);
		if (rc)
			return rc;
		if (!(*ret_url = strdup(url)))
			return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		*ret_custom = true;
		return HL_ERR_OK;
	}
	const char *f;
	bool fips = hl_config_true(setting(cfg, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", &f));
	bool dual = hl_config_true(
	    setting(cfg, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint", &f));
	if ((rc = hl_endpoint_default(service, cfg->region, fips, dual, ret_url)))
		return hl_error_set(err, rc, "out of memory");
	*ret_custom = false;
	return HL_ERR_OK;
}

static enum hl_err resolve_endpoint(const struct hl_config_options *opt, struct hl_config *cfg,
				    struct hl_error *err)
{
	return hl_config_service_endpoint(cfg, "healthlake", opt->endpoint, &cfg->endpoint,
					  &cfg->endpoint_custom, err);
}

static enum hl_err resolve_max_attempts(const struct hl_config_options *opt, struct hl_config *cfg,
					struct hl_error *err)
{
	if (opt->max_attempts < 0 || opt->max_attempts > MAX_ATTEMPTS_LIMIT)
		return hl_error_set(err, HL_ERR_CONFIG, "max_attempts option %d: expected 1..%d",
				    opt->max_attempts, MAX_ATTEMPTS_LIMIT);
	if (opt->max_attempts > 0) {
		cfg->max_attempts = opt->max_attempts;
		return HL_ERR_OK;
	}
	const char *from;
	const char *v = setting(cfg, "AWS_MAX_ATTEMPTS", "max_attempts", &from);
	if (!v) {
		cfg->max_attempts = 3;
		return HL_ERR_OK;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > MAX_ATTEMPTS_LIMIT)
		return hl_error_set(err, HL_ERR_CONFIG,
				    "invalid max_attempts '%.32s' from %s: "
				    "expected an integer 1..%d",
				    v, from, MAX_ATTEMPTS_LIMIT);
	cfg->max_attempts = (int)n;
	return HL_ERR_OK;
}

void hl_config_free(struct hl_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->profile);
	free(cfg->region);
	free(cfg->endpoint);
	free(cfg->ca_bundle);
	free(cfg->credentials_file);
	free(cfg->config_file);
	hl_profile_free(cfg->profile_data);
	free(cfg);
}

enum hl_err hl_config_load(const struct hl_config_options *opt, struct hl_config **ret,
			   struct hl_error *err)
{
	static const struct hl_config_options none = {0};
	if (!opt)
		opt = &none;
	enum hl_err rc;
	struct hl_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	cfg->getenv_fn = opt->getenv_fn;
	cfg->getenv_arg = opt->getenv_arg;

	const char *profile = "default";
	const char *v;
	if (opt->profile && *opt->profile) {
		profile = opt->profile;
		cfg->profile_explicit = true;
	} else if ((v = env_set(cfg, "AWS_DEFAULT_PROFILE")) || (v = env_set(cfg, "AWS_PROFILE"))) {
		profile = v;
	}
	cfg->profile = strdup(profile);
	const char *cp = env_set(cfg, "AWS_SHARED_CREDENTIALS_FILE");
	const char *fp = env_set(cfg, "AWS_CONFIG_FILE");
	if (!cfg->profile ||
	    expand_path(cfg, cp ? cp : "~/.aws/credentials", &cfg->credentials_file) ||
	    expand_path(cfg, fp ? fp : "~/.aws/config", &cfg->config_file)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}

	rc = load_profile(cfg->credentials_file, cfg->config_file, cfg->profile, &cfg->profile_data,
			  err);
	if (rc)
		goto out;
	if (!cfg->profile_data->creds && !cfg->profile_data->config &&
	    strcmp(cfg->profile, "default") != 0) {
		rc = hl_error_set(err, HL_ERR_CONFIG, "profile '%s' not found in %s or %s",
				  cfg->profile, cfg->credentials_file, cfg->config_file);
		goto out;
	}

	rc = resolve_region(opt, cfg, err);
	if (!rc)
		rc = resolve_endpoint(opt, cfg, err);
	if (!rc)
		rc = resolve_max_attempts(opt, cfg, err);
	if (rc)
		goto out;
	const char *from;
	const char *ca = opt->ca_bundle && *opt->ca_bundle
			     ? opt->ca_bundle
			     : setting(cfg, "AWS_CA_BUNDLE", "ca_bundle", &from);
	if (ca && !(cfg->ca_bundle = strdup(ca))) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* the documented contract: NULL when neither file has the profile */
	if (!cfg->profile_data->creds && !cfg->profile_data->config) {
		hl_profile_free(cfg->profile_data);
		cfg->profile_data = NULL;
	}
	*ret = cfg;
	cfg = NULL;
	rc = HL_ERR_OK;
out:
	hl_config_free(cfg);
	return rc;
}
