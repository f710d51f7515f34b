/* Settings resolved as the AWS SDKs/CLI v2 do: explicit option, then the
 * environment, then the profile in the shared config/credentials files. */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* What the caller sets explicitly (mount options). NULL/0 = not set. */
struct hl_config_options {
	const char *profile;
	const char *region;
	const char *endpoint;
	const char *ca_bundle;
	int max_attempts;
	/* Environment lookup; NULL means getenv. Tests pass their own. */
	const char *(*getenv_fn)(void *arg, const char *name);
	void *getenv_arg;
};

/* A key=value view of one profile, merged as botocore does (credentials-file
 * keys over config-file keys). */
struct hl_profile;

struct hl_config {
	char *profile;          /* effective profile name ("default" when none chosen) */
	bool profile_explicit;  /* set by option: removes the environment credentials provider */
	char *region;           /* never NULL after a successful load */
	char *endpoint;         /* full URL: scheme://host[:port][/path] */
	bool endpoint_custom;   /* configured rather than derived from the region */
	char *ca_bundle;        /* NULL = system store */
	int max_attempts;       /* total attempts, >= 1; default 3 */
	char *credentials_file; /* resolved paths, for error text */
	char *config_file;
	struct hl_profile *profile_data; /* may be NULL when neither file has the profile */
	const char *(*getenv_fn)(void *arg, const char *name);
	void *getenv_arg;
};

/* Resolves every setting. Caller frees with hl_config_free(). On error
 * (HL_ERR_NO_REGION, HL_ERR_CONFIG) err->message names what was tried. */
enum hl_err hl_config_load(const struct hl_config_options *opt, struct hl_config **ret,
			   struct hl_error *err);
void hl_config_free(struct hl_config *cfg);

/* The endpoint of service ("healthlake", "s3") as the AWS CLI resolves it:
 * explicit_url (may be NULL), AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 * the profile's [services] section (<service> = / endpoint_url =), the
 * profile's endpoint_url (all skipped when ignore_configured_endpoint_urls),
 * else the regional default (https://s3.<region>.amazonaws.com for S3).
 * *ret_custom says it was configured. Caller frees *ret_url. */
enum hl_err hl_config_service_endpoint(const struct hl_config *cfg, const char *service,
				       const char *explicit_url, char **ret_url, bool *ret_custom,
				       struct hl_error *err);

/* The environment as this config sees it (options' getenv_fn or getenv). */
const char *hl_config_getenv(const struct hl_config *cfg, const char *name);
/* A key of the effective profile (lowercase name), or NULL. */
const char *hl_config_profile_get(const struct hl_config *cfg, const char *key);

/* Which file's keys a profile lookup sees: the credential chain needs them
 * apart (credentials-file keys, then credential_process, then config-file keys). */
enum hl_profile_file {
	HL_PROFILE_MERGED,      /* credentials-file keys over config-file keys */
	HL_PROFILE_CREDENTIALS, /* section [name] of the credentials file */
	HL_PROFILE_CONFIG,      /* [profile name] / [default] of the config file */
};

/* Reads both shared files again (keys may have been rotated since load) and
 * returns cfg's profile. *ret is NULL when neither file has the profile (an
 * error for a named profile other than "default"). Caller frees the result
 * with hl_profile_free(), which wipes it. */
enum hl_err hl_config_read_profile(const struct hl_config *cfg, struct hl_profile **ret,
				   struct hl_error *err);
void hl_profile_free(struct hl_profile *p);
/* A key (lowercase) of p as seen from which, or NULL; p may be NULL. Keys
 * holding a nested block (`s3 =` + indented lines) read as absent. */
const char *hl_profile_get(const struct hl_profile *p, enum hl_profile_file which,
			   const char *key);

/* True when s equals "true" in any case (the SDKs' boolean settings). */
bool hl_config_true(const char *s);

#endif
