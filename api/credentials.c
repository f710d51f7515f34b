#include "credentials.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "creds_i.h"

static const char *const source_names[] = {
    [HL_CREDS_SRC_NONE] = "none",
    [HL_CREDS_SRC_ENV] = "environment",
    [HL_CREDS_SRC_SHARED_FILE] = "shared-credentials-file",
    [HL_CREDS_SRC_PROCESS] = "credential_process",
    [HL_CREDS_SRC_CONFIG_FILE] = "config-file",
    [HL_CREDS_SRC_CONTAINER] = "container",
    [HL_CREDS_SRC_IMDS] = "imds",
};

const char *hl_creds_source_name(enum hl_creds_source src)
{
	return source_names[src];
}

/* ---- credentials values ---- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void hl_credentials_clear(struct hl_credentials *c)
{
	if (!c)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

enum hl_err hl_credentials_copy(struct hl_credentials *dst, const struct hl_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->expiration = src->expiration;
	dst->source = src->source;
	if (src->access_key_id && !(dst->access_key_id = strdup(src->access_key_id)))
		goto nomem;
	if (src->secret_access_key && !(dst->secret_access_key = strdup(src->secret_access_key)))
		goto nomem;
	if (src->session_token && !(dst->session_token = strdup(src->session_token)))
		goto nomem;
	return HL_ERR_OK;
nomem:
	hl_credentials_clear(dst);
	return HL_ERR_NOMEM;
}

enum hl_err hl_creds_set(struct hl_credentials *c, enum hl_creds_source src, const char *akid,
			 const char *secret, const char *token, time_t expiration)
{
	struct hl_credentials tmp = {
	    .access_key_id = (char *)akid,
	    .secret_access_key = (char *)secret,
	    .session_token = token && *token ? (char *)token : NULL,
	    .expiration = expiration,
	    .source = source_names[src],
	};
	return hl_credentials_copy(c, &tmp);
}

/* ---- pure policy ---- */

time_t hl_creds_imds_stable_expiry(time_t expiration, time_t now, unsigned jitter_secs)
{
	time_t window = HL_CREDS_ADVISORY_SECS + (time_t)jitter_secs;
	if (now >= expiration - window)
		return now + window;
	return expiration;
}

/* ---- provider plumbing ---- */

const char *hl_creds_env(const struct hl_creds_run *r, const char *name)
{
	const char *v = hl_config_getenv(r->cfg, name);
	return v && *v ? v : NULL;
}

/* env first, then the profile key, as every SDK setting does */
const char *hl_creds_setting(const struct hl_creds_run *r, const char *envname, const char *key)
{
	const char *v = hl_creds_env(r, envname);
	if (v)
		return v;
	v = hl_profile_get(r->prof, HL_PROFILE_MERGED, key);
	return v && *v ? v : NULL;
}

void hl_creds_tried(struct hl_creds_run *r, const char *fmt, const char *a)
{
	if (r->tried.len)
		hl_buf_appends(&r->tried, "; ");
	hl_buf_appendf(&r->tried, fmt, a);
}

const char *hl_creds_json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

void hl_creds_json_delete_secure(cJSON *j)
{
	if (!j)
		return;
	/* wipe the secrets cJSON copied before freeing them */
	for (cJSON *it = j->child; cJSON_IsObject(j) && it; it = it->next)
		if (cJSON_IsString(it) && it->valuestring)
			explicit_bzero(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(j);
}
