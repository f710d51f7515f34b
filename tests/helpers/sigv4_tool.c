/* sigv4_tool: signs request descriptions with hl_sigv4_sign() so pytest can
 * compare the C signer with botocore.
 *
 * stdin: one JSON object, or an array of them:
 *   {"method": "GET", "path": "/a b", "query": "k=v" | null,
 *    "headers": [["Host", "h.example"], ["X-A", " v "]],
 *    "body_hex": "00ff" | "body_b64": "AP8=" (optional, default empty),
 *    "access_key": "AKID", "secret_key": "...", "token": "..." | null,
 *    "region": "us-east-1", "service": "healthlake", "time": 1705322096}
 * stdout: the same shape (object or array) of
 *   {"canonical_request", "string_to_sign", "authorization", "amz_date", "signed_headers"}
 *   or {"error": "<HL_ERR name>", "message": "..."} for a request the signer refused.
 * Exit status 0 unless the input itself could not be read or parsed. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query.h"
#include "sigv4.h"

#define MAX_INPUT (64u * 1024 * 1024)

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static enum hl_err decode_hex(const char *s, struct hl_buf *out)
{
	size_t n = strlen(s);
	if (n % 2)
		return HL_ERR_INVALID;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hl_hex_value(s[i]), lo = hl_hex_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return HL_ERR_INVALID;
		enum hl_err e = hl_buf_appendc(out, (char)(hi * 16 + lo));
		if (e)
			return e;
	}
	return HL_ERR_OK;
}

static enum hl_err decode_b64(const char *s, struct hl_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		int v = b64val(*s);
		if (v < 0)
			return HL_ERR_INVALID;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			enum hl_err e = hl_buf_appendc(out, (char)((acc >> bits) & 0xff));
			if (e)
				return e;
		}
	}
	return HL_ERR_OK;
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *error_object(enum hl_err code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "error", hl_err_name(code));
		cJSON_AddStringToObject(o, "message", message);
	}
	return o;
}

/* The request as the data-plane clients build it, when the description asks
 * for that instead of a ready path and query: "raw_query" (a user's query,
 * re-encoded strictly), "next_link" with "request_url" (a Bundle link), or
 * "s3_bucket"/"s3_key" (a path-style object path, the key encoded once). */
static enum hl_err build_target(const cJSON *in, char **path, char **query, struct hl_error *err)
{
	const char *raw = str_member(in, "raw_query"), *link = str_member(in, "next_link");
	const char *bucket = str_member(in, "s3_bucket"), *key = str_member(in, "s3_key");
	struct hl_buf b;
	enum hl_err rc = HL_ERR_OK;
	if (link)
		return hl_query_next_link(str_member(in, "request_url"), link, path, query, err);
	hl_buf_init(&b, 0);
	if (raw) {
		if ((rc = hl_query_encode(raw, strlen(raw), &b)) || !(*query = hl_buf_steal(&b)))
			rc = rc ? rc : HL_ERR_NOMEM;
	}
	if (!rc && bucket && key) {
		hl_buf_reset(&b);
		/* An empty bucket: virtual-hosted style, the bucket is in the host. */
		if ((bucket[0] && ((rc = hl_buf_appendc(&b, '/')) ||
				   (rc = hl_buf_appends(&b, bucket)))) ||
		    (rc = hl_buf_appendc(&b, '/')) ||
		    (rc = hl_buf_append_uri(&b, key, strlen(key), true)))
			;
		else if (!(*path = hl_buf_steal(&b)))
			rc = HL_ERR_NOMEM;
	}
	hl_buf_free(&b);
	return rc;
}

/* Signs one description; returns a new JSON object (result or error), NULL on OOM. */
static cJSON *sign_one(const cJSON *in)
{
	struct hl_header *hdrs = NULL;
	struct hl_buf body;
	struct hl_sigv4_result r = {0};
	struct hl_error err;
	cJSON *out = NULL;
	char *built_path = NULL, *built_query = NULL;

	hl_buf_init(&body, 0);
	hl_error_clear(&err);
	const cJSON *jh = cJSON_GetObjectItemCaseSensitive(in, "headers");
	if (!cJSON_IsArray(jh))
		jh = NULL;
	size_t nh = jh ? (size_t)cJSON_GetArraySize(jh) : 0;
	hdrs = calloc(nh + 1, sizeof(*hdrs));
	if (!hdrs)
		goto out;
	size_t i = 0;
	const cJSON *pair;
	cJSON_ArrayForEach(pair, jh)
	{
		const cJSON *n = cJSON_GetArrayItem(pair, 0), *v = cJSON_GetArrayItem(pair, 1);
		hdrs[i].name = cJSON_IsString(n) ? n->valuestring : NULL;
		hdrs[i].value = cJSON_IsString(v) ? v->valuestring : NULL;
		i++;
	}
	const char *hex = str_member(in, "body_hex"), *b64 = str_member(in, "body_b64");
	enum hl_err rc = hex ? decode_hex(hex, &body) : b64 ? decode_b64(b64, &body) : HL_ERR_OK;
	if (rc) {
		out = error_object(rc, "body_hex/body_b64 could not be decoded");
		goto out;
	}
	const cJSON *jt = cJSON_GetObjectItemCaseSensitive(in, "time");
	if ((rc = build_target(in, &built_path, &built_query, &err))) {
		out = error_object(rc, err.message);
		goto out;
	}
	struct hl_sigv4_request req = {.method = str_member(in, "method"),
				       .path = built_path ? built_path : str_member(in, "path"),
				       .query = built_query ? built_query : str_member(in, "query"),
				       .headers = hdrs,
				       .n_headers = nh,
				       .body = body.data,
				       .body_len = body.len,
				       .s3 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "s3"))};
	struct hl_credentials creds = {.access_key_id = (char *)str_member(in, "access_key"),
				       .secret_access_key = (char *)str_member(in, "secret_key"),
				       .session_token = (char *)str_member(in, "token")};
	time_t now = cJSON_IsNumber(jt) ? (time_t)jt->valuedouble : 0;
	rc = hl_sigv4_sign(&req, &creds, str_member(in, "region"), str_member(in, "service"), now,
			   &r, &err);
	if (rc) {
		out = error_object(rc, err.message);
		goto out;
	}
	out = cJSON_CreateObject();
	if (!out)
		goto out;
	if (!cJSON_AddStringToObject(out, "canonical_request", r.canonical_request) ||
	    !cJSON_AddStringToObject(out, "string_to_sign", r.string_to_sign) ||
	    !cJSON_AddStringToObject(out, "authorization", r.authorization) ||
	    !cJSON_AddStringToObject(out, "signed_headers", r.signed_headers) ||
	    !cJSON_AddStringToObject(out, "amz_date", r.amz_date) ||
	    !cJSON_AddStringToObject(out, "payload_hash", r.payload_hash) ||
	    !cJSON_AddStringToObject(out, "path", req.path) ||
	    (req.query && !cJSON_AddStringToObject(out, "query", req.query))) {
		cJSON_Delete(out);
		out = NULL;
	}
out:
	free(built_path);
	free(built_query);
	hl_sigv4_result_free(&r);
	hl_buf_free(&body);
	free(hdrs);
	return out;
}

int main(void)
{
	struct hl_buf in;
	cJSON *doc = NULL, *result = NULL;
	char *text = NULL;
	int status = 1;
	char chunk[65536];
	size_t n;

	hl_buf_init(&in, MAX_INPUT);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (hl_buf_append(&in, chunk, n)) {
			fprintf(stderr, "sigv4_tool: input too large\n");
			goto out;
		}
	}
	if (ferror(stdin) || !in.data) {
		fprintf(stderr, "sigv4_tool: no input\n");
		goto out;
	}
	const char *end = NULL;
	doc = cJSON_ParseWithLengthOpts(in.data, in.len, &end, 0);
	if (doc && end) /* only whitespace may follow the document */
		end += strspn(end, " \t\r\n");
	if (!doc || !end || end != in.data + in.len) {
		fprintf(stderr, "sigv4_tool: invalid JSON near offset %td\n",
			end ? end - in.data : (ptrdiff_t)0);
		goto out;
	}
	if (cJSON_IsArray(doc)) {
		result = cJSON_CreateArray();
		const cJSON *item;
		cJSON_ArrayForEach(item, doc)
		{
			cJSON *one = sign_one(item);
			if (!one || !result || !cJSON_AddItemToArray(result, one)) {
				cJSON_Delete(one);
				goto oom;
			}
		}
	} else {
		result = sign_one(doc);
	}
	if (!result)
		goto oom;
	text = cJSON_PrintUnformatted(result);
	if (!text)
		goto oom;
	puts(text);
	status = 0;
	goto out;
oom:
	fprintf(stderr, "sigv4_tool: out of memory\n");
out:
	free(text);
	cJSON_Delete(result);
	cJSON_Delete(doc);
	hl_buf_free(&in);
	return status;
}
