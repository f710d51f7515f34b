/* Credentials: the AWS SDKs' default provider chain, cached and refreshed
 * before expiry, safe to use from many threads. */
#ifndef HL_CREDS_H
#define HL_CREDS_H

#include <stdbool.h>
#include <time.h>

#include "credentials.h" /* struct hl_credentials */
#include "err.h"

struct hl_config; /* config.h */
struct hl_creds_provider;

/* Creates the default chain for cfg's profile (cfg must outlive the provider).
 * Nothing is resolved yet. Caller frees with hl_creds_provider_free(). */
enum hl_err hl_creds_provider_new(const struct hl_config *cfg, struct hl_creds_provider **ret,
				  struct hl_error *err);
void hl_creds_provider_free(struct hl_creds_provider *p);

/* Returns a snapshot of current credentials into *ret (caller clears it),
 * resolving or refreshing them first when needed: < 15 min left tries a
 * refresh and keeps the old ones on failure, < 10 min left must refresh.
 * Thread-safe. now is wall-clock seconds. Errors name what was tried, never a secret. */
enum hl_err hl_creds_get(struct hl_creds_provider *p, time_t now, struct hl_credentials *ret,
			 struct hl_error *err);

/* Drops the cache so the next hl_creds_get() resolves the chain again (used
 * after the service rejected the credentials, e.g. keys rotated in a file). */
void hl_creds_invalidate(struct hl_creds_provider *p);

#endif
