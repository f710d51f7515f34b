/* The providers that ask a local HTTP endpoint over libcurl: container
 * credentials (ECS/EKS) and EC2 instance metadata (IMDSv2, v1 fallback). */
#ifndef HL_CREDS_NET_H
#define HL_CREDS_NET_H

#include <stdbool.h>

#include "creds_i.h"

/* The container endpoint URL the environment asks for, validated as the
 * SDKs do. *ret_url is NULL (and HL_ERR_OK returned) when neither
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set. Caller frees. */
enum hl_err hl_creds_container_url(const struct hl_config *cfg, const char *relative_host,
				   char **ret_url, struct hl_error *err);

/* Container credentials, when the environment names an endpoint. *found is
 * set when *out was filled (caller clears it). */
enum hl_err hl_creds_fetch_container(struct hl_creds_run *r, struct hl_credentials *out,
				     bool *found, struct hl_error *err);

/* EC2 instance metadata credentials, unless disabled. *found is set when *out
 * was filled (caller clears it); an unreachable service is noted in r->tried. */
enum hl_err hl_creds_fetch_imds(struct hl_creds_run *r, struct hl_credentials *out, bool *found,
				struct hl_error *err);

/* Parses a container or IMDS credentials document, the len bytes at data
 * (no NUL needed; NULL with len 0 is fine): a JSON object with AccessKeyId,
 * SecretAccessKey, Token and an ISO 8601 Expiration. Fills *out (caller
 * clears it); otherwise HL_ERR_PROTOCOL with *missing naming what is absent
 * ("a JSON object" when it is not one), or HL_ERR_NOMEM. Pure; exposed for tests. */
enum hl_err hl_creds_metadata_parse(const char *data, size_t len, enum hl_creds_source src,
				    struct hl_credentials *out, const char **missing);

#endif
