/* One set of AWS credentials as a value: copied, wiped, named by the
 * provider that made it. The helpers every provider shares to make one
 * (creds_i.h) are defined in credentials.c too, below the providers. */
#ifndef HL_CREDENTIALS_H
#define HL_CREDENTIALS_H

#include <time.h>

#include "err.h"

/* One snapshot of credentials. Owned strings; free with hl_credentials_clear(),
 * which also wipes them. session_token is NULL when there is none. */
struct hl_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	time_t expiration;  /* 0 = does not expire */
	const char *source; /* static: "environment", "shared-credentials-file", "config-file",
			     * "credential_process", "container", "imds" */
};

void hl_credentials_clear(struct hl_credentials *c);
/* Deep copy. Returns HL_ERR_NOMEM on failure (dst then cleared). */
enum hl_err hl_credentials_copy(struct hl_credentials *dst, const struct hl_credentials *src);

#endif
