#include "input.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum hlfs_input_state hlfs_input_check(const char *buf, size_t len, size_t chunk_start,
				       const char **why)
{
	size_t i = 0;
	if (len > HLFS_INPUT_MAX) {
		*why = "input is larger than 64 KiB";
		return HLFS_IN_INVALID;
	}
	while (i < len && is_ws(buf[i]))
		i++;
	if (i == len) /* blank so far: an empty line is complete (and then refused) */
		return memchr(buf, '\n', len) ? HLFS_IN_COMPLETE : HLFS_IN_INCOMPLETE;
	if (buf[i] == '{') {
		int depth = 0;
		bool str = false, esc = false;
		for (; i < len; i++) {
			char c = buf[i];
			if (str) {
				if (esc)
					esc = false;
				else if (c == '\\')
					esc = true;
				else if (c == '"')
					str = false;
				continue;
			}
			if (c == '"')
				str = true;
			else if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']') {
				if (--depth == 0)
					break;
			}
		}
		if (i == len)
			return HLFS_IN_INCOMPLETE;
		for (i++; i < len; i++) {
			if (!is_ws(buf[i])) {
				*why = "text after the JSON object";
				return HLFS_IN_INVALID;
			}
		}
		return HLFS_IN_COMPLETE;
	}
	/* One line: a newline anywhere but at the very end of this write means
	 * a second line. Earlier writes held no newline, or they would have
	 * completed the input already. */
	const char *nl = memchr(buf + chunk_start, '\n', len - chunk_start);
	if (nl && nl != buf + len - 1) {
		*why = "more than one line; write one s3:// URI or one JSON object";
		return HLFS_IN_INVALID;
	}
	return nl ? HLFS_IN_COMPLETE : HLFS_IN_INCOMPLETE;
}

void hlfs_job_request_free(struct hlfs_job_request *r)
{
	if (!r)
		return;
	free(r->job_name);
	free(r->input_uri);
	free(r->output_uri);
	free(r->kms_key);
	free(r->role_arn);
	free(r->client_token);
	free(r->validation_level);
	memset(r, 0, sizeof(*r));
}

/* Sets *dst to a copy of s unless already set. Returns 0 or -ENOMEM. */
static int set_default(char **dst, const char *s)
{
	if (*dst || !s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copies a string member; -EINVAL when it is not a string. */
static int take_string(const cJSON *m, const char *path, char **dst, char *why, size_t whylen)
{
	if (!cJSON_IsString(m) || !m->valuestring)
		return fail(why, whylen, "%s must be a string", path);
	free(*dst);
	*dst = strdup(m->valuestring);
	return *dst ? 0 : -ENOMEM;
}

/* {"S3Configuration": {"S3Uri": ..., "KmsKeyId": ...}} */
static int take_output(const cJSON *o, const char *name, struct hlfs_job_request *r, char *why,
		       size_t whylen)
{
	char path[96];
	int rc;
	if (!cJSON_IsObject(o))
		return fail(why, whylen, "%s must be an object", name);
	for (const cJSON *m = o->child; m; m = m->next) {
		if (!m->string || strcmp(m->string, "S3Configuration")) {
			snprintf(path, sizeof(path), "%s.%s", name, m->string ? m->string : "");
			return fail(why, whylen, "unknown member %s", path);
		}
		snprintf(path, sizeof(path), "%s.S3Configuration", name);
		if (!cJSON_IsObject(m))
			return fail(why, whylen, "%s must be an object", path);
		for (const cJSON *s = m->child; s; s = s->next) {
			char sub[128];
			snprintf(sub, sizeof(sub), "%s.%s", path, s->string ? s->string : "");
			if (s->string && !strcmp(s->string, "S3Uri"))
				rc = take_string(s, sub, &r->output_uri, why, whylen);
			else if (s->string && !strcmp(s->string, "KmsKeyId"))
				rc = take_string(s, sub, &r->kms_key, why, whylen);
			else
				return fail(why, whylen, "unknown member %s", sub);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int parse_json(bool exports, const char *buf, size_t len, const char *datastore_id,
		      struct hlfs_job_request *r, char *why, size_t whylen)
{
	const char *end = NULL;
	int rc = 0;
	cJSON *j = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!j || !cJSON_IsObject(j)) {
		rc = fail(why, whylen, "%s", "input is not a valid JSON object");
		goto out;
	}
	const char *outname = exports ? "OutputDataConfig" : "JobOutputDataConfig";
	for (const cJSON *m = j->child; m && rc == 0; m = m->next) {
		const char *k = m->string ? m->string : "";
		if (!strcmp(k, "JobName")) {
			rc = take_string(m, k, &r->job_name, why, whylen);
		} else if (!strcmp(k, "DataAccessRoleArn")) {
			rc = take_string(m, k, &r->role_arn, why, whylen);
		} else if (!strcmp(k, "ClientToken")) {
			rc = take_string(m, k, &r->client_token, why, whylen);
		} else if (!strcmp(k, "DatastoreId")) {
			if (!cJSON_IsString(m) || !m->valuestring)
				rc = fail(why, whylen, "%s must be a string", k);
			else if (strcmp(m->valuestring, datastore_id))
				rc = fail(
				    why, whylen, "%s",
				    "DatastoreId is not the id of this directory's data store");
		} else if (!strcmp(k, outname)) {
			rc = take_output(m, outname, r, why, whylen);
		} else if (!exports && !strcmp(k, "InputDataConfig")) {
			if (!cJSON_IsObject(m)) {
				rc = fail(why, whylen, "%s must be an object", k);
				continue;
			}
			for (const cJSON *s = m->child; s && rc == 0; s = s->next) {
				if (s->string && !strcmp(s->string, "S3Uri"))
					rc = take_string(s, "InputDataConfig.S3Uri", &r->input_uri,
							 why, whylen);
				else
					rc = fail(why, whylen, "unknown member InputDataConfig.%s",
						  s->string ? s->string : "");
			}
		} else if (!exports && !strcmp(k, "ValidationLevel")) {
			rc = take_string(m, k, &r->validation_level, why, whylen);
		} else {
			rc = fail(why, whylen, "unknown member %s", k);
		}
	}
out:
	cJSON_Delete(j);
	return rc;
}

int hlfs_input_parse(bool exports, const char *buf, size_t len,
		     const struct hlfs_input_defaults *def, const char *datastore_id,
		     struct hlfs_job_request *ret, char *why, size_t whylen)
{
	struct hlfs_job_request r;
	int rc;
	size_t a = 0, b = len;

	memset(&r, 0, sizeof(r));
	while (a < b && is_ws(buf[a]))
		a++;
	while (b > a && is_ws(buf[b - 1]))
		b--;
	if (a == b) {
		rc = fail(why, whylen, "%s", "empty input; write an s3:// URI or a JSON object");
		goto out;
	}
	if (buf[a] == '{') {
		rc = parse_json(exports, buf + a, b - a, datastore_id, &r, why, whylen);
		if (rc)
			goto out;
	} else {
		if (b - a < 5 || memcmp(buf + a, "s3://", 5) || memchr(buf + a, '\0', b - a)) {
			rc = fail(why, whylen, "%s",
				  "expected an s3:// URI or a JSON object of job members");
			goto out;
		}
		char *uri = strndup(buf + a, b - a);
		if (!uri) {
			rc = -ENOMEM;
			goto out;
		}
		if (exports)
			r.output_uri = uri;
		else
			r.input_uri = uri;
	}

	if ((rc = set_default(&r.role_arn, def->role_arn)) ||
	    (rc = set_default(&r.kms_key, def->kms_key)) ||
	    (!exports && (rc = set_default(&r.output_uri, def->import_output))))
		goto out;

	const char *outname = exports ? "OutputDataConfig" : "JobOutputDataConfig";
	char member[96];
	if (!exports && !r.input_uri) {
		rc = fail(why, whylen, "%s", "missing required member InputDataConfig.S3Uri");
		goto out;
	}
	if (!r.output_uri) {
		snprintf(member, sizeof(member), "%s.S3Configuration.S3Uri%s", outname,
			 exports ? "" : " (or mount with -o import_output=)");
		rc = fail(why, whylen, "missing required member %s", member);
		goto out;
	}
	if (!r.kms_key) {
		snprintf(member, sizeof(member), "%s.S3Configuration.KmsKeyId", outname);
		rc = fail(why, whylen, "missing required member %s (or mount with -o kms_key=)",
			  member);
		goto out;
	}
	if (!r.role_arn) {
		rc = fail(why, whylen, "%s",
			  "missing required member DataAccessRoleArn (or mount with -o role_arn=)");
		goto out;
	}
	*ret = r;
	memset(&r, 0, sizeof(r));
	rc = 0;
out:
	hlfs_job_request_free(&r);
	return rc;
}
