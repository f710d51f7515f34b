/* Internals of the credentials modules (api/creds.c, api/creds_process.c,
 * api/creds_net.c): the pure refresh policy, timestamp parsing, tunables that
 * let tests run the slow paths (retries, process timeouts) quickly, and the
 * per-run helpers every provider uses. */
#ifndef HL_CREDS_I_H
#define HL_CREDS_I_H

#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "creds.h"

struct cJSON;

#define HL_CREDS_ADVISORY_SECS (15 * 60)  /* try a refresh, keep the old ones on failure */
#define HL_CREDS_MANDATORY_SECS (10 * 60) /* must refresh */

enum hl_refresh {
	HL_REFRESH_NONE,
	HL_REFRESH_ADVISORY,
	HL_REFRESH_MANDATORY,
};

/* What the cache must do for credentials expiring at expiration (0 = never)
 * at time now. Pure. */
enum hl_refresh hl_creds_refresh_need(time_t expiration, time_t now);

/* IMDS static stability: an expiry closer than 15 min + jitter_secs to now
 * moves to now + 15 min + jitter_secs. Pure; in api/credentials.c. */
time_t hl_creds_imds_stable_expiry(time_t expiration, time_t now, unsigned jitter_secs);

struct hl_creds_tuning {
	long process_timeout_ms;       /* credential_process deadline (default 15 s: below the
					* filesystem's 20 s per-operation timeout) */
	long container_timeout_ms;     /* per attempt (default 2 s) */
	long container_retry_sleep_ms; /* between attempts (default 1 s) */
	int container_attempts;	       /* default 3 */
	const char *container_host;    /* for RELATIVE_URI (default "169.254.170.2") */
};

void hl_creds_tuning_default(struct hl_creds_tuning *t);
/* Replaces the provider's tunables (strings are borrowed). Call before the
 * first hl_creds_get(). */
void hl_creds_provider_tune(struct hl_creds_provider *p, const struct hl_creds_tuning *t);

/* ---- shared by the providers (defined in api/credentials.c, below them) ---- */

/* Which provider produced a set of credentials. */
enum hl_creds_source {
	HL_CREDS_SRC_NONE,
	HL_CREDS_SRC_ENV,
	HL_CREDS_SRC_SHARED_FILE,
	HL_CREDS_SRC_PROCESS,
	HL_CREDS_SRC_CONFIG_FILE,
	HL_CREDS_SRC_CONTAINER,
	HL_CREDS_SRC_IMDS,
};

/* "environment", "imds", ...: static. */
const char *hl_creds_source_name(enum hl_creds_source src);

/* One chain run: the profile as the files say now, and notes on what was tried. */
struct hl_creds_run {
	const struct hl_creds_tuning *tune; /* the provider's */
	const struct hl_config *cfg;
	struct hl_profile *prof;
	time_t now;
	struct hl_buf tried;
};

/* Fills c from borrowed strings (copied); an empty token means none.
 * HL_ERR_NOMEM leaves c cleared. */
enum hl_err hl_creds_set(struct hl_credentials *c, enum hl_creds_source src, const char *akid,
			 const char *secret, const char *token, time_t expiration);
/* The environment variable, NULL when unset or empty. Borrowed. */
const char *hl_creds_env(const struct hl_creds_run *r, const char *name);
/* The environment variable, else the profile key; NULL when neither is set
 * or non-empty. Borrowed. */
const char *hl_creds_setting(const struct hl_creds_run *r, const char *envname, const char *key);
/* Notes "what was tried" for the no-credentials message; fmt has one %s for a. */
void hl_creds_tried(struct hl_creds_run *r, const char *fmt, const char *a);
/* The string member name of obj, or NULL. Borrowed from obj. */
const char *hl_creds_json_str(const struct cJSON *obj, const char *name);
/* Wipes the string members of a parsed object (they may be secrets), then
 * frees it. Accepts NULL. */
void hl_creds_json_delete_secure(struct cJSON *j);

#endif
