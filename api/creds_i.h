/* Internals of api/creds.c that unit tests and the credtool helper reach:
 * the pure refresh policy, timestamp parsing, and tunables that let tests
 * run the slow paths (retries, process timeouts) quickly. */
#ifndef HL_CREDS_I_H
#define HL_CREDS_I_H

#include <stdbool.h>
#include <time.h>

#include "creds.h"

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
 * moves to now + 15 min + jitter_secs. Pure. */
time_t hl_creds_imds_stable_expiry(time_t expiration, time_t now, unsigned jitter_secs);

/* Parses an ISO 8601 / RFC 3339 timestamp ("2024-01-15T12:34:56Z", with
 * optional fraction, "+HH:MM"/"+HHMM"/"Z" offset, 'T' or ' '; no offset
 * means UTC). HL_ERR_INVALID when malformed. */
enum hl_err hl_creds_parse_time(const char *s, time_t *ret);

/* The container endpoint URL the environment asks for, validated as the
 * SDKs do. *ret_url is NULL (and HL_ERR_OK returned) when neither
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set. Caller frees. */
enum hl_err hl_creds_container_url(const struct hl_config *cfg, const char *relative_host,
				   char **ret_url, struct hl_error *err);

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

#endif
