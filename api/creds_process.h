/* The credential_process provider: runs the profile's command without a
 * shell under a deadline and parses its JSON (Version 1) output. */
#ifndef HL_CREDS_PROCESS_H
#define HL_CREDS_PROCESS_H

#include <stdbool.h>

#include "creds_i.h"

/* Runs the profile's credential_process, if any. *found is set when *out was
 * filled (caller clears it); nothing set is noted in r->tried, not an error. */
enum hl_err hl_creds_fetch_process(struct hl_creds_run *r, struct hl_credentials *out, bool *found,
				   struct hl_error *err);

/* Parses the command's output, the len bytes at data (no NUL needed): a
 * JSON object with Version 1, AccessKeyId, SecretAccessKey, optional
 * SessionToken and Expiration. Fills *out (caller clears it) or returns
 * HL_ERR_CREDENTIALS with err saying what is wrong, never quoting a secret.
 * Pure; exposed for tests. */
enum hl_err hl_creds_process_parse(const char *data, size_t len, struct hl_credentials *out,
				   struct hl_error *err);

#endif
