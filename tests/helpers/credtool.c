/* credtool: resolves config and credentials as healthlakefs would and prints
 * them as JSON: region, endpoint, and for each lookup the credential source,
 * access key id and whether a token exists. Never prints a secret.
 *
 *   credtool [--profile P] [--region R] [--endpoint URL] [--ca-bundle F]
 *            [--max-attempts N] [--then SECS]... [--invalidate-then SECS]...
 *            [--fast] [--process-timeout-ms MS] [--container-host HOST[:PORT]]
 *
 * --then SECS looks the credentials up again SECS seconds later (an
 * injected clock, so refresh windows are reached without waiting);
 * --invalidate-then does the same after hl_creds_invalidate().
 * On a failure prints {"error": CODE, "message": ...} and exits 1. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "creds.h"
#include "creds_i.h"

#define MAX_STEPS 16

static cJSON *error_json(const struct hl_error *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", hl_err_name(err->code));
	cJSON_AddStringToObject(o, "message", err->message);
	return o;
}

static void print_and_free(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

static long num_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end) {
		fprintf(stderr, "credtool: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct hl_config_options opt = {0};
	long steps[MAX_STEPS];
	bool invalidate[MAX_STEPS];
	int nsteps = 0;
	struct hl_creds_tuning tune;
	hl_creds_tuning_default(&tune);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--fast") == 0) {
			tune.container_retry_sleep_ms = 50;
			continue;
		}
		if (!v) {
			fprintf(stderr, "credtool: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--profile") == 0) {
			opt.profile = v;
		} else if (strcmp(a, "--region") == 0) {
			opt.region = v;
		} else if (strcmp(a, "--endpoint") == 0) {
			opt.endpoint = v;
		} else if (strcmp(a, "--ca-bundle") == 0) {
			opt.ca_bundle = v;
		} else if (strcmp(a, "--max-attempts") == 0) {
			opt.max_attempts = (int)num_arg(v);
		} else if ((strcmp(a, "--then") == 0 || strcmp(a, "--invalidate-then") == 0) &&
			   nsteps < MAX_STEPS) {
			invalidate[nsteps] = a[2] == 'i';
			steps[nsteps++] = num_arg(v);
		} else if (strcmp(a, "--process-timeout-ms") == 0) {
			tune.process_timeout_ms = num_arg(v);
		} else if (strcmp(a, "--container-host") == 0) {
			tune.container_host = v;
		} else {
			fprintf(stderr, "credtool: unknown option %s\n", a);
			return 2;
		}
	}

	struct hl_error err;
	hl_error_clear(&err);
	struct hl_config *cfg = NULL;
	struct hl_creds_provider *p = NULL;
	int status = 1;
	if (hl_config_load(&opt, &cfg, &err) || hl_creds_provider_new(cfg, &p, &err)) {
		fprintf(stderr, "credtool: %s: %s\n", hl_err_name(err.code), err.message);
		print_and_free(error_json(&err));
		goto out;
	}
	hl_creds_provider_tune(p, &tune);

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "profile", cfg->profile);
	cJSON_AddBoolToObject(o, "profile_explicit", cfg->profile_explicit);
	cJSON_AddStringToObject(o, "region", cfg->region);
	cJSON_AddStringToObject(o, "endpoint", cfg->endpoint);
	cJSON_AddBoolToObject(o, "endpoint_custom", cfg->endpoint_custom);
	if (cfg->ca_bundle)
		cJSON_AddStringToObject(o, "ca_bundle", cfg->ca_bundle);
	else
		cJSON_AddNullToObject(o, "ca_bundle");
	cJSON_AddNumberToObject(o, "max_attempts", cfg->max_attempts);
	cJSON *list = cJSON_AddArrayToObject(o, "credentials");

	time_t start = time(NULL);
	status = 0;
	for (int s = -1; s < nsteps; s++) {
		time_t now = start + (s < 0 ? 0 : steps[s]);
		if (s >= 0 && invalidate[s])
			hl_creds_invalidate(p);
		struct hl_credentials c;
		hl_error_clear(&err);
		if (hl_creds_get(p, now, &c, &err)) {
			fprintf(stderr, "credtool: %s: %s\n", hl_err_name(err.code), err.message);
			cJSON_AddItemToArray(list, error_json(&err));
			if (s < 0) {
				cJSON_AddStringToObject(o, "error", hl_err_name(err.code));
				cJSON_AddStringToObject(o, "message", err.message);
			}
			status = 1;
			continue;
		}
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "source", c.source);
		cJSON_AddStringToObject(e, "access_key_id", c.access_key_id);
		cJSON_AddBoolToObject(e, "has_token", c.session_token != NULL);
		cJSON_AddNumberToObject(e, "expiration", (double)c.expiration);
		cJSON_AddNumberToObject(e, "now", (double)now);
		cJSON_AddItemToArray(list, e);
		hl_credentials_clear(&c);
	}
	print_and_free(o);
out:
	hl_creds_provider_free(p);
	hl_config_free(cfg);
	return status;
}
