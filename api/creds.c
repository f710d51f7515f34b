/* The default credential chain in botocore's order, restricted to the
 * providers that need no other AWS API: environment, shared credentials file,
 * credential_process, config file, container, EC2 IMDS. Providers that need
 * STS/SSO fail with a pointer to credential_process. This file holds the
 * chain, the cache and its refresh rules, and the environment and file
 * providers; credential_process is in creds_process.c, the container and
 * IMDS providers in creds_net.c, and what all of them share (below them,
 * never calling back up here) in credentials.c. */
#include "creds.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "creds_i.h"
#include "iso8601.h"
#include "creds_net.h"
#include "creds_process.h"

struct hl_creds_provider {
	const struct hl_config *cfg;
	struct hl_creds_tuning tune;
	pthread_mutex_t refresh_lock; /* held while a provider fetches */
	pthread_mutex_t lock;	      /* guards the fields below; never held while fetching */
	struct hl_credentials cached; /* protected by lock */
	bool have;		      /* protected by lock */
	enum hl_creds_source kind;    /* protected by lock: who produced cached */
	unsigned long generation;     /* protected by lock: bumped by invalidate */
};

/* ---- pure helpers ---- */

enum hl_refresh hl_creds_refresh_need(time_t expiration, time_t now)
{
	if (expiration == 0)
		return HL_REFRESH_NONE;
	time_t left = expiration - now;
	if (left < HL_CREDS_MANDATORY_SECS)
		return HL_REFRESH_MANDATORY;
	if (left < HL_CREDS_ADVISORY_SECS)
		return HL_REFRESH_ADVISORY;
	return HL_REFRESH_NONE;
}

/* ---- 1. environment ---- */

static enum hl_err fetch_env(struct hl_creds_run *r, bool refreshing, struct hl_credentials *out,
			     bool *found, struct hl_error *err)
{
	const char *akid = hl_creds_env(r, "AWS_ACCESS_KEY_ID");
	if (!akid) {
		if (refreshing)
			return hl_error_set(err, HL_ERR_CREDENTIALS,
					    "environment credentials: AWS_ACCESS_KEY_ID is no "
					    "longer set at refresh");
		hl_creds_tried(r, "environment (%s not set)", "AWS_ACCESS_KEY_ID");
		return HL_ERR_OK;
	}
	const char *secret = hl_creds_env(r, "AWS_SECRET_ACCESS_KEY");
	if (!secret)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "partial credentials in the environment: AWS_ACCESS_KEY_ID is "
				    "set but AWS_SECRET_ACCESS_KEY is not");
	const char *token = hl_creds_env(r, "AWS_SECURITY_TOKEN");
	if (!token)
		token = hl_creds_env(r, "AWS_SESSION_TOKEN");
	const char *exp_s = hl_creds_env(r, "AWS_CREDENTIAL_EXPIRATION");
	time_t exp = 0;
	if (refreshing && !exp_s)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "environment credentials: AWS_CREDENTIAL_EXPIRATION is no "
				    "longer set at refresh");
	if (exp_s && !hl_iso8601_parse_secs(exp_s, &exp))
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "AWS_CREDENTIAL_EXPIRATION '%.64s' is not an ISO 8601 time",
				    exp_s);
	if (hl_creds_set(out, HL_CREDS_SRC_ENV, akid, secret, token, exp))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	*found = true;
	return HL_ERR_OK;
}

/* ---- 2-4, 6: profiles that need other AWS APIs ---- */

static enum hl_err unsupported(const struct hl_creds_run *r, const char *what, struct hl_error *err)
{
	const char *name = r->cfg->profile;
	return hl_error_set(err, HL_ERR_CONFIG,
			    "profile '%s' uses %s, which needs another AWS API and is not "
			    "supported; put `credential_process = aws configure "
			    "export-credentials --profile %s --format process` (AWS CLI v2) in a "
			    "separate profile and use that one",
			    name, what, name);
}

static enum hl_err check_sts_profiles(struct hl_creds_run *r, struct hl_error *err)
{
	const struct hl_profile *pf = r->prof;
	bool web_id_key = hl_profile_get(pf, HL_PROFILE_MERGED, "web_identity_token_file") != NULL;
	if (hl_profile_get(pf, HL_PROFILE_MERGED, "role_arn") && !web_id_key)
		return unsupported(r, "role_arn (assume role via STS)", err);
	if (hl_creds_env(r, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "AWS_WEB_IDENTITY_TOKEN_FILE is set: web identity credentials "
		    "need AWS STS and are not supported; use credential_process = "
		    "aws configure export-credentials --profile X --format process");
	if (web_id_key)
		return unsupported(r, "web_identity_token_file (STS web identity)", err);
	if (hl_profile_get(pf, HL_PROFILE_MERGED, "sso_role_name") ||
	    hl_profile_get(pf, HL_PROFILE_MERGED, "sso_account_id"))
		return unsupported(r, "AWS IAM Identity Center (sso_*)", err);
	return HL_ERR_OK;
}

/* ---- 5 and 8: static keys in a shared file ---- */

static enum hl_err fetch_file_keys(struct hl_creds_run *r, enum hl_profile_file which,
				   struct hl_credentials *out, bool *found, struct hl_error *err)
{
	bool creds_file = which == HL_PROFILE_CREDENTIALS;
	const char *path = creds_file ? r->cfg->credentials_file : r->cfg->config_file;
	enum hl_creds_source src = creds_file ? HL_CREDS_SRC_SHARED_FILE : HL_CREDS_SRC_CONFIG_FILE;
	const char *akid = hl_profile_get(r->prof, which, "aws_access_key_id");
	if (!akid) {
		hl_creds_tried(r,
			       creds_file ? "shared credentials file %s (no keys for the profile)"
					  : "config file %s (no keys for the profile)",
			       path);
		return HL_ERR_OK;
	}
	const char *secret = hl_profile_get(r->prof, which, "aws_secret_access_key");
	if (!*akid || !secret || !*secret)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "partial credentials in %s, profile '%s': aws_access_key_id "
				    "needs a non-empty aws_secret_access_key",
				    path, r->cfg->profile);
	const char *token = hl_profile_get(r->prof, which, "aws_security_token");
	if (!token)
		token = hl_profile_get(r->prof, which, "aws_session_token");
	if (hl_creds_set(out, src, akid, secret, token, 0))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	*found = true;
	return HL_ERR_OK;
}

/* ---- the chain ---- */

static enum hl_err run_begin(struct hl_creds_run *r, struct hl_creds_provider *p, time_t now,
			     struct hl_error *err)
{
	memset(r, 0, sizeof(*r));
	r->tune = &p->tune;
	r->cfg = p->cfg;
	r->now = now;
	hl_buf_init(&r->tried, 2048);
	return hl_config_read_profile(p->cfg, &r->prof, err);
}

static void run_end(struct hl_creds_run *r)
{
	hl_profile_free(r->prof);
	hl_buf_free(&r->tried);
}

/* One provider by kind; *found false means it had nothing. */
static enum hl_err fetch_one(struct hl_creds_run *r, enum hl_creds_source kind, bool refreshing,
			     struct hl_credentials *out, bool *found, struct hl_error *err)
{
	*found = false;
	switch (kind) {
	case HL_CREDS_SRC_ENV:
		return fetch_env(r, refreshing, out, found, err);
	case HL_CREDS_SRC_SHARED_FILE:
		return fetch_file_keys(r, HL_PROFILE_CREDENTIALS, out, found, err);
	case HL_CREDS_SRC_PROCESS:
		return hl_creds_fetch_process(r, out, found, err);
	case HL_CREDS_SRC_CONFIG_FILE:
		return fetch_file_keys(r, HL_PROFILE_CONFIG, out, found, err);
	case HL_CREDS_SRC_CONTAINER:
		return hl_creds_fetch_container(r, out, found, err);
	case HL_CREDS_SRC_IMDS:
		return hl_creds_fetch_imds(r, out, found, err);
	case HL_CREDS_SRC_NONE:
		break;
	}
	return HL_ERR_OK;
}

static enum hl_err resolve_chain(struct hl_creds_run *r, struct hl_credentials *out,
				 enum hl_creds_source *kind, struct hl_error *err)
{
	bool found = false;
	enum hl_err rc;
	if (r->cfg->profile_explicit) {
		hl_creds_tried(r, "environment (%s)", "skipped: profile chosen explicitly");
	} else {
		rc = fetch_env(r, false, out, &found, err);
		if (rc || found) {
			*kind = HL_CREDS_SRC_ENV;
			return rc;
		}
	}
	rc = check_sts_profiles(r, err);
	if (rc)
		return rc;
	static const enum hl_creds_source rest[] = {HL_CREDS_SRC_SHARED_FILE, HL_CREDS_SRC_PROCESS,
						    HL_CREDS_SRC_CONFIG_FILE,
						    HL_CREDS_SRC_CONTAINER, HL_CREDS_SRC_IMDS};
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		if (rest[i] == HL_CREDS_SRC_PROCESS &&
		    hl_profile_get(r->prof, HL_PROFILE_MERGED, "login_session"))
			return unsupported(r, "login_session (aws login)", err);
		rc = fetch_one(r, rest[i], false, out, &found, err);
		if (rc || found) {
			*kind = rest[i];
			return rc;
		}
	}
	return hl_error_set(err, HL_ERR_NO_CREDENTIALS,
			    "no credentials for profile '%s'; tried: %s", r->cfg->profile,
			    r->tried.data ? r->tried.data : "nothing");
}

/* Runs the whole chain (kind == HL_CREDS_SRC_NONE) or refreshes from one provider. */
static enum hl_err fetch(struct hl_creds_provider *p, enum hl_creds_source kind, time_t now,
			 struct hl_credentials *out, enum hl_creds_source *ret_kind,
			 struct hl_error *err)
{
	struct hl_creds_run r;
	enum hl_err rc = run_begin(&r, p, now, err);
	if (rc)
		goto out;
	if (kind == HL_CREDS_SRC_NONE) {
		rc = resolve_chain(&r, out, ret_kind, err);
	} else {
		bool found = false;
		*ret_kind = kind;
		rc = fetch_one(&r, kind, true, out, &found, err);
		if (!rc && !found)
			rc = hl_error_set(
			    err, HL_ERR_CREDENTIALS,
			    "refreshing %s credentials: the provider returned none (%s)",
			    hl_creds_source_name(kind), r.tried.data ? r.tried.data : "");
	}
	if (!rc && out->expiration != 0 && out->expiration <= now) {
		hl_credentials_clear(out);
		rc =
		    hl_error_set(err, HL_ERR_CREDENTIALS, "credentials from %s are already expired",
				 hl_creds_source_name(*ret_kind));
	}
out:
	run_end(&r);
	return rc;
}

/* ---- the cache ---- */

void hl_creds_tuning_default(struct hl_creds_tuning *t)
{
	t->process_timeout_ms = 15000;
	t->container_timeout_ms = 2000;
	t->container_retry_sleep_ms = 1000;
	t->container_attempts = 3;
	t->container_host = "169.254.170.2";
}

void hl_creds_provider_tune(struct hl_creds_provider *p, const struct hl_creds_tuning *t)
{
	p->tune = *t;
	if (p->tune.container_attempts < 1)
		p->tune.container_attempts = 1;
}

enum hl_err hl_creds_provider_new(const struct hl_config *cfg, struct hl_creds_provider **ret,
				  struct hl_error *err)
{
	struct hl_creds_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	p->cfg = cfg;
	hl_creds_tuning_default(&p->tune);
	if (pthread_mutex_init(&p->lock, NULL)) {
		free(p);
		return hl_error_set(err, HL_ERR_NOMEM, "cannot create a mutex");
	}
	if (pthread_mutex_init(&p->refresh_lock, NULL)) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return hl_error_set(err, HL_ERR_NOMEM, "cannot create a mutex");
	}
	*ret = p;
	return HL_ERR_OK;
}

void hl_creds_provider_free(struct hl_creds_provider *p)
{
	if (!p)
		return;
	hl_credentials_clear(&p->cached);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->refresh_lock);
	free(p);
}

void hl_creds_invalidate(struct hl_creds_provider *p)
{
	pthread_mutex_lock(&p->lock);
	hl_credentials_clear(&p->cached);
	p->have = false;
	p->kind = HL_CREDS_SRC_NONE;
	p->generation++;
	pthread_mutex_unlock(&p->lock);
}

/* Copies the cache when it needs nothing (or only an advisory refresh and
 * allow_advisory). Call with p->lock held. */
static enum hl_err snapshot_locked(struct hl_creds_provider *p, time_t now, bool allow_advisory,
				   struct hl_credentials *ret, bool *done)
{
	*done = false;
	if (!p->have)
		return HL_ERR_OK;
	enum hl_refresh need = hl_creds_refresh_need(p->cached.expiration, now);
	if (need == HL_REFRESH_NONE || (need == HL_REFRESH_ADVISORY && allow_advisory)) {
		*done = true;
		return hl_credentials_copy(ret, &p->cached);
	}
	return HL_ERR_OK;
}

enum hl_err hl_creds_get(struct hl_creds_provider *p, time_t now, struct hl_credentials *ret,
			 struct hl_error *err)
{
	bool done;
	enum hl_err rc;
	memset(ret, 0, sizeof(*ret));

	pthread_mutex_lock(&p->lock);
	rc = snapshot_locked(p, now, false, ret, &done);
	enum refresh_mode { FULL, ADVISORY, MANDATORY } mode = FULL;
	if (!done && p->have)
		mode = hl_creds_refresh_need(p->cached.expiration, now) == HL_REFRESH_ADVISORY
			   ? ADVISORY
			   : MANDATORY;
	pthread_mutex_unlock(&p->lock);
	if (done)
		return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;

	if (mode == ADVISORY) {
		/* someone is already refreshing: the current ones are still good */
		if (pthread_mutex_trylock(&p->refresh_lock) != 0) {
			pthread_mutex_lock(&p->lock);
			rc = snapshot_locked(p, now, true, ret, &done);
			pthread_mutex_unlock(&p->lock);
			if (done)
				return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;
			pthread_mutex_lock(&p->refresh_lock);
		}
	} else {
		pthread_mutex_lock(&p->refresh_lock);
	}

	/* another thread may have refreshed or invalidated while we waited */
	pthread_mutex_lock(&p->lock);
	rc = snapshot_locked(p, now, false, ret, &done);
	enum hl_creds_source kind = p->have ? p->kind : HL_CREDS_SRC_NONE;
	unsigned long gen = p->generation;
	pthread_mutex_unlock(&p->lock);
	if (done) {
		pthread_mutex_unlock(&p->refresh_lock);
		return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;
	}

	struct hl_credentials fresh = {0};
	enum hl_creds_source got = kind;
	struct hl_error ferr;
	hl_error_clear(&ferr);
	rc = fetch(p, kind, now, &fresh, &got, &ferr);
	pthread_mutex_lock(&p->lock);
	if (!rc) {
		if (p->generation == gen) {
			hl_credentials_clear(&p->cached);
			/* without memory for the cache the caller still gets fresh ones */
			p->have = hl_credentials_copy(&p->cached, &fresh) == HL_ERR_OK;
			p->kind = p->have ? got : HL_CREDS_SRC_NONE;
		}
		*ret = fresh;
		memset(&fresh, 0, sizeof(fresh));
	} else if (kind != HL_CREDS_SRC_NONE && p->have && p->generation == gen &&
		   hl_creds_refresh_need(p->cached.expiration, now) == HL_REFRESH_ADVISORY) {
		/* advisory refresh failed: keep what we have */
		rc = hl_credentials_copy(ret, &p->cached);
	} else if (err) {
		*err = ferr;
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&p->refresh_lock);
	hl_credentials_clear(&fresh);
	if (rc == HL_ERR_NOMEM)
		return hl_error_set(err, rc, "out of memory");
	return rc;
}
