#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso8601.h"

/* ---- Errors ---- */

void hl_aws_code_sanitize(const char *code, char *out, size_t outsz)
{
	if (!outsz)
		return;
	out[0] = '\0';
	if (!code)
		return;
	size_t end = strcspn(code, ":");
	size_t start = 0;
	for (size_t i = 0; i < end; i++)
		if (code[i] == '#')
			start = i + 1;
	size_t n = end - start;
	/* Trim blanks a header value may carry. */
	while (n && isspace((unsigned char)code[start])) {
		start++;
		n--;
	}
	while (n && isspace((unsigned char)code[start + n - 1]))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, code + start, n);
	out[n] = '\0';
}

static bool in_list(const char *code, const char *const *list)
{
	if (!code)
		return false;
	for (size_t i = 0; list[i]; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

bool hl_aws_code_is_throttling(const char *code)
{
	static const char *const throttling[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "RequestLimitExceeded",
	    "BandwidthLimitExceeded",
	    "LimitExceededException",
	    "RequestThrottled",
	    "SlowDown",
	    "PriorRequestNotComplete",
	    "EC2ThrottledException",
	    NULL,
	};
	return in_list(code, throttling);
}

bool hl_aws_code_is_transient(const char *code)
{
	static const char *const transient[] = {
	    "RequestTimeout",
	    "RequestTimeoutException",
	    "PriorRequestNotComplete",
	    NULL,
	};
	return in_list(code, transient);
}

enum hl_err hl_err_from_aws(const char *code, long status)
{
	static const char *const auth[] = {
	    "UnrecognizedClientException",
	    "InvalidSignatureException",
	    "ExpiredToken",
	    "ExpiredTokenException",
	    "IncompleteSignature",
	    "IncompleteSignatureException",
	    "MissingAuthenticationToken",
	    "MissingAuthenticationTokenException",
	    "SignatureDoesNotMatch",
	    "InvalidClientTokenId",
	    "InvalidAccessKeyId",
	    "AuthFailure",
	    NULL,
	};
	if (!code)
		code = "";
	if (hl_aws_code_is_throttling(code))
		return HL_ERR_THROTTLED;
	if (strcmp(code, "ValidationException") == 0)
		return HL_ERR_VALIDATION;
	if (strcmp(code, "ResourceNotFoundException") == 0)
		return HL_ERR_NOT_FOUND;
	if (strcmp(code, "ConflictException") == 0)
		return HL_ERR_CONFLICT;
	if (strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0)
		return HL_ERR_ACCESS_DENIED;
	if (in_list(code, auth))
		return HL_ERR_AUTH;
	if (strcmp(code, "InternalServerException") == 0 || strcmp(code, "InternalFailure") == 0 ||
	    strcmp(code, "ServiceUnavailableException") == 0 || status >= 500)
		return HL_ERR_SERVER;
	return HL_ERR_SERVICE;
}

static bool all_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

static bool looks_html(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i < len && s[i] == '<';
}

void hl_copy_printable(char *out, size_t outsz, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	if (n < len) {
		/* Cut: do not leave half a UTF-8 sequence at the end. */
		size_t k = n;
		while (k && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k && ((unsigned char)out[k - 1] & 0x80))
			n = k - 1;
	}
	out[n] = '\0';
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

enum hl_err hl_json_error_decode(long status, const char *reason, const char *error_type,
				 const char *body, size_t len, struct hl_error *err)
{
	char raw_code[256] = "";
	cJSON *root = NULL;

	err->http_status = status;
	err->aws_code[0] = '\0';
	err->message[0] = '\0';
	if (error_type && *error_type)
		snprintf(raw_code, sizeof(raw_code), "%s", error_type);

	if (!body)
		len = 0;
	if (status >= 500 && (all_blank(body, len) || looks_html(body, len))) {
		if (!raw_code[0])
			snprintf(raw_code, sizeof(raw_code), "%ld", status);
		snprintf(err->message, sizeof(err->message), "%s", reason ? reason : "");
	} else if (!all_blank(body, len)) {
		const char *end = NULL;
		root = cJSON_ParseWithLengthOpts(body, len, &end, false);
		if (cJSON_IsObject(root)) {
			const char *c = str_member(root, "code");
			if (!c)
				c = str_member(root, "__type");
			if (!raw_code[0] && c)
				snprintf(raw_code, sizeof(raw_code), "%s", c);
			const char *m = str_member(root, "message");
			if (!m)
				m = str_member(root, "Message");
			if (m)
				hl_copy_printable(err->message, sizeof(err->message), m, strlen(m));
		} else {
			hl_copy_printable(err->message, sizeof(err->message), body, len);
		}
	} else if (reason) {
		snprintf(err->message, sizeof(err->message), "%s", reason);
	}
	if (!raw_code[0])
		snprintf(raw_code, sizeof(raw_code), "%ld", status);
	hl_aws_code_sanitize(raw_code, err->aws_code, sizeof(err->aws_code));
	err->code = hl_err_from_aws(err->aws_code, status);
	cJSON_Delete(root);
	return err->code;
}

/* A C string cannot hold the NUL that a JSON "\u0000" escape decodes to:
 * cJSON would silently cut the string there, so a hostile name "x\u0000y"
 * would read as "x". Such escapes become U+FFFD instead, which no valid
 * HealthLake name contains, so callers can tell the value was not kept
 * faithfully. Returns a malloc'd copy, or NULL when the body has none. */
static char *replace_nul_escapes(const char *body, size_t len, bool *nomem)
{
	char *copy = NULL;
	*nomem = false;
	for (size_t i = 0; i + 6 <= len; i++) {
		if (body[i] != '\\')
			continue;
		if (body[i + 1] == 'u' && memcmp(body + i + 2, "0000", 4) == 0) {
			if (!copy) {
				copy = malloc(len + 1);
				if (!copy) {
					*nomem = true;
					return NULL;
				}
				memcpy(copy, body, len);
				copy[len] = '\0';
			}
			memcpy(copy + i + 2, "fffd", 4);
		}
		i++; /* skip the escaped character, so "\\\\u0000" is left alone */
	}
	return copy;
}

/* ---- Success bodies ---- */

enum hl_err hl_json_parse_object(const char *body, size_t len, cJSON **ret, struct hl_error *err)
{
	cJSON *root;
	if (!body || all_blank(body, len)) {
		root = cJSON_CreateObject();
		if (!root)
			return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		*ret = root;
		return HL_ERR_OK;
	}
	bool nomem;
	char *fixed = replace_nul_escapes(body, len, &nomem);
	if (nomem)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	const char *text = fixed ? fixed : body;
	const char *end = NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	enum hl_err rc = HL_ERR_OK;
	if (!root) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "response body is not valid JSON");
	} else if (!cJSON_IsObject(root) || !all_blank(end, len - (size_t)(end - text))) {
		cJSON_Delete(root);
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "response body is not one JSON object");
	} else {
		*ret = root;
	}
	free(fixed);
	return rc;
}

bool hl_json_timestamp(const cJSON *v, double *ret)
{
	if (cJSON_IsNumber(v)) {
		*ret = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v))
		return hl_iso8601_parse(v->valuestring, ret);
	return false;
}

/* Reads string member name of o: absent or null is NULL (an error when
 * required), another type is an error. */
static enum hl_err get_str(const cJSON *o, const char *what, const char *name, bool required,
			   char **out, struct hl_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return hl_error_set(err, HL_ERR_PROTOCOL, "%s: required member %s missing",
					    what, name);
		return HL_ERR_OK;
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return hl_error_set(err, HL_ERR_PROTOCOL, "%s: member %s is not a string", what,
				    name);
	*out = strdup(v->valuestring);
	if (!*out)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	return HL_ERR_OK;
}

static enum hl_err get_time(const cJSON *o, const char *what, const char *name, bool required,
			    double *out, bool *has, struct hl_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	*has = false;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return hl_error_set(err, HL_ERR_PROTOCOL, "%s: required member %s missing",
					    what, name);
		return HL_ERR_OK;
	}
	if (!hl_json_timestamp(v, out))
		return hl_error_set(err, HL_ERR_PROTOCOL, "%s: member %s is not a timestamp", what,
				    name);
	*has = true;
	return HL_ERR_OK;
}

void hl_datastore_clear(struct hl_datastore *d)
{
	if (!d)
		return;
	free(d->id);
	free(d->arn);
	free(d->name);
	free(d->status);
	free(d->type_version);
	free(d->endpoint);
	cJSON_Delete(d->raw);
	memset(d, 0, sizeof(*d));
}

void hl_job_clear(struct hl_job *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->name);
	free(j->status);
	free(j->datastore_id);
	free(j->message);
	cJSON_Delete(j->raw);
	memset(j, 0, sizeof(*j));
}

enum hl_err hl_json_take_datastore(cJSON *obj, enum hl_shape shape, struct hl_datastore *d,
				   struct hl_error *err)
{
	const char *what = "datastore";
	enum hl_err rc;
	memset(d, 0, sizeof(*d));
	d->raw = obj;
	if (!cJSON_IsObject(obj)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "%s: not a JSON object", what);
		goto out;
	}
	if ((rc = get_str(obj, what, "DatastoreId", true, &d->id, err)) ||
	    (rc = get_str(obj, what, "DatastoreArn", true, &d->arn, err)) ||
	    (rc = get_str(obj, what, "DatastoreName", false, &d->name, err)) ||
	    (rc = get_str(obj, what, "DatastoreStatus", true, &d->status, err)) ||
	    (rc = get_str(obj, what, "DatastoreTypeVersion", shape == HL_SHAPE_PROPERTIES,
			  &d->type_version, err)) ||
	    (rc = get_str(obj, what, "DatastoreEndpoint", true, &d->endpoint, err)) ||
	    (rc = get_time(obj, what, "CreatedAt", false, &d->created_at, &d->has_created_at, err)))
		goto out;
	rc = HL_ERR_OK;
out:
	if (rc)
		hl_datastore_clear(d);
	return rc;
}

enum hl_err hl_json_take_job(cJSON *obj, enum hl_job_kind kind, enum hl_shape shape,
			     struct hl_job *j, struct hl_error *err)
{
	const char *what = kind == HL_JOB_IMPORT ? "import job" : "export job";
	bool full = shape == HL_SHAPE_PROPERTIES;
	enum hl_err rc;
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->raw = obj;
	if (!cJSON_IsObject(obj)) {
		rc = hl_error_set(err, HL_ERR_PROTOCOL, "%s: not a JSON object", what);
		goto out;
	}
	if ((rc = get_str(obj, what, "JobId", true, &j->id, err)) ||
	    (rc = get_str(obj, what, "JobName", false, &j->name, err)) ||
	    (rc = get_str(obj, what, "JobStatus", true, &j->status, err)) ||
	    (rc = get_str(obj, what, "DatastoreId", full, &j->datastore_id, err)) ||
	    (rc = get_str(obj, what, "Message", false, &j->message, err)) ||
	    (rc = get_time(obj, what, "SubmitTime", full, &j->submit_time, &j->has_submit_time,
			   err)) ||
	    (rc = get_time(obj, what, "EndTime", false, &j->end_time, &j->has_end_time, err)))
		goto out;
	rc = HL_ERR_OK;
out:
	if (rc) {
		hl_job_clear(j);
		j->kind = kind;
	}
	return rc;
}

enum hl_err hl_json_tags(const cJSON *root, struct hl_tag_list *l, struct hl_error *err)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(root, "Tags");
	enum hl_err rc = HL_ERR_OK;
	memset(l, 0, sizeof(*l));
	if (!tags || cJSON_IsNull(tags))
		return HL_ERR_OK;
	if (!cJSON_IsArray(tags))
		return hl_error_set(err, HL_ERR_PROTOCOL, "Tags is not a list");
	int n = cJSON_GetArraySize(tags);
	if (n == 0)
		return HL_ERR_OK;
	l->items = calloc((size_t)n, sizeof(*l->items));
	if (!l->items)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		struct hl_tag *dst = &l->items[l->n];
		if (!cJSON_IsObject(t)) {
			rc = hl_error_set(err, HL_ERR_PROTOCOL, "tag: not a JSON object");
			goto out;
		}
		if ((rc = get_str(t, "tag", "Key", true, &dst->key, err)))
			goto out;
		l->n++; /* count it now so the key is freed on a later error */
		if ((rc = get_str(t, "tag", "Value", true, &dst->value, err)))
			goto out;
	}
	rc = HL_ERR_OK;
out:
	if (rc) {
		for (size_t i = 0; i < l->n; i++) {
			free(l->items[i].key);
			free(l->items[i].value);
		}
		free(l->items);
		memset(l, 0, sizeof(*l));
	}
	return rc;
}

enum hl_err hl_json_opt_string(const cJSON *obj, const char *name, char **ret, struct hl_error *err)
{
	return get_str(obj, "response", name, false, ret, err);
}

/* ---- Request bodies ---- */

/* Each add_* is a no-op for an unset value and returns false only when out
 * of memory, so builders chain them with &&. */
static bool add_str(cJSON *o, const char *name, const char *v)
{
	return !v || cJSON_AddStringToObject(o, name, v) != NULL;
}

static bool add_int(cJSON *o, const char *name, long long v)
{
	return !v || cJSON_AddNumberToObject(o, name, (double)v) != NULL;
}

static char *finish(cJSON *o, bool ok)
{
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

/* {"S3Configuration": {"S3Uri": uri, "KmsKeyId": kms}} */
static bool add_s3_config(cJSON *o, const char *name, const char *uri, const char *kms)
{
	cJSON *outer = cJSON_AddObjectToObject(o, name);
	cJSON *s3 = outer ? cJSON_AddObjectToObject(outer, "S3Configuration") : NULL;
	return s3 && add_str(s3, "S3Uri", uri) && add_str(s3, "KmsKeyId", kms);
}

static bool add_tags(cJSON *o, const struct hl_tag *tags, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "Tags");
	if (!arr)
		return false;
	for (size_t i = 0; i < n; i++) {
		cJSON *t = cJSON_CreateObject();
		if (!t)
			return false;
		cJSON_AddItemToArray(arr, t);
		if (!cJSON_AddStringToObject(t, "Key", tags[i].key ? tags[i].key : "") ||
		    !cJSON_AddStringToObject(t, "Value", tags[i].value ? tags[i].value : ""))
			return false;
	}
	return true;
}

char *hl_body_create_datastore(const struct hl_create_datastore_input *in, const char *client_token)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = add_str(o, "DatastoreName", in->name) &&
		  add_str(o, "DatastoreTypeVersion", in->type_version ? in->type_version : "R4");
	if (ok && in->kms_key_id) {
		cJSON *sse = cJSON_AddObjectToObject(o, "SseConfiguration");
		cJSON *kms = sse ? cJSON_AddObjectToObject(sse, "KmsEncryptionConfig") : NULL;
		ok = kms && add_str(kms, "CmkType", "CUSTOMER_MANAGED_KMS_KEY") &&
		     add_str(kms, "KmsKeyId", in->kms_key_id);
	}
	if (ok && in->preload_synthea) {
		cJSON *pre = cJSON_AddObjectToObject(o, "PreloadDataConfig");
		ok = pre && add_str(pre, "PreloadDataType", "SYNTHEA");
	}
	ok = ok && add_str(o, "ClientToken", client_token);
	if (ok && in->n_tags)
		ok = add_tags(o, in->tags, in->n_tags);
	return finish(o, ok);
}

char *hl_body_datastore_id(const char *id)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	return finish(o, add_str(o, "DatastoreId", id ? id : ""));
}

char *hl_body_list_datastores(const struct hl_list_datastores_input *in, const char *next_token)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = true;
	if (in && (in->name || in->status || in->created_before || in->created_after)) {
		cJSON *f = cJSON_AddObjectToObject(o, "Filter");
		ok = f && add_str(f, "DatastoreName", in->name) &&
		     add_str(f, "DatastoreStatus", in->status) &&
		     add_int(f, "CreatedBefore", in->created_before) &&
		     add_int(f, "CreatedAfter", in->created_after);
	}
	ok = ok && add_str(o, "NextToken", next_token) &&
	     add_int(o, "MaxResults", in ? in->max_results : 0);
	return finish(o, ok);
}

char *hl_body_start_import(const struct hl_start_import_input *in, const char *client_token)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = add_str(o, "JobName", in->job_name);
	if (ok) {
		cJSON *input = cJSON_AddObjectToObject(o, "InputDataConfig");
		ok = input && add_str(input, "S3Uri", in->input_s3_uri);
	}
	ok = ok && add_s3_config(o, "JobOutputDataConfig", in->output_s3_uri, in->kms_key_id) &&
	     add_str(o, "DatastoreId", in->datastore_id) &&
	     add_str(o, "DataAccessRoleArn", in->role_arn) &&
	     add_str(o, "ClientToken", client_token) &&
	     add_str(o, "ValidationLevel", in->validation_level);
	return finish(o, ok);
}

char *hl_body_start_export(const struct hl_start_export_input *in, const char *client_token)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = add_str(o, "JobName", in->job_name) &&
		  add_s3_config(o, "OutputDataConfig", in->output_s3_uri, in->kms_key_id) &&
		  add_str(o, "DatastoreId", in->datastore_id) &&
		  add_str(o, "DataAccessRoleArn", in->role_arn) &&
		  add_str(o, "ClientToken", client_token);
	return finish(o, ok);
}

char *hl_body_describe_job(const char *datastore_id, const char *job_id)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	return finish(o, add_str(o, "DatastoreId", datastore_id) && add_str(o, "JobId", job_id));
}

char *hl_body_list_jobs(const struct hl_list_jobs_input *in, const char *next_token)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = add_str(o, "DatastoreId", in->datastore_id) &&
		  add_str(o, "NextToken", next_token) &&
		  add_int(o, "MaxResults", in->max_results) &&
		  add_str(o, "JobName", in->job_name) && add_str(o, "JobStatus", in->job_status) &&
		  add_int(o, "SubmittedBefore", in->submitted_before) &&
		  add_int(o, "SubmittedAfter", in->submitted_after);
	return finish(o, ok);
}

char *hl_body_tag_resource(const char *arn, const struct hl_tag *tags, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	return finish(o, add_str(o, "ResourceARN", arn) && add_tags(o, tags, n));
}

char *hl_body_untag_resource(const char *arn, const char *const *keys, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = add_str(o, "ResourceARN", arn);
	cJSON *arr = ok ? cJSON_AddArrayToObject(o, "TagKeys") : NULL;
	ok = arr != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		cJSON *k = cJSON_CreateString(keys[i] ? keys[i] : "");
		ok = k != NULL;
		if (k)
			cJSON_AddItemToArray(arr, k);
	}
	return finish(o, ok);
}

char *hl_body_list_tags(const char *arn)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	return finish(o, add_str(o, "ResourceARN", arn));
}
