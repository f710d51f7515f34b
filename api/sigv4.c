/* SigV4 signing, following botocore's SigV4Auth (see AWS-CONVENTIONS.md §1):
 * every canonicalisation rule below mirrors what botocore does, because the
 * service and healthlake-local verify against that behaviour. */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define SHA256_LEN 32
#define ALGORITHM "AWS4-HMAC-SHA256"

/* One header as the signer sees it: a borrowed name and value plus the
 * caller's position, so repeated headers keep their order after sorting. */
struct sig_header {
	const char *name;
	const char *value;
	size_t pos;
};

/* One query pair: borrowed slices of the raw query string. */
struct query_pair {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static enum hl_err sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	unsigned int n = 0;
	/* EVP_Digest wants a non-NULL pointer even for zero bytes */
	if (!EVP_Digest(len ? data : "", len, out, &n, EVP_sha256(), NULL) || n != SHA256_LEN)
		return HL_ERR_NOMEM;
	return HL_ERR_OK;
}

void hl_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_LEN];
	if (sha256(data, len, md)) {
		out[0] = '\0';
		return;
	}
	to_hex(md, SHA256_LEN, out);
}

static enum hl_err hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
			unsigned char out[SHA256_LEN])
{
	unsigned int n = 0;
	if (key_len > (size_t)0x7fffffff)
		return HL_ERR_INVALID;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg_len ? msg : (const void *)"", msg_len, out,
		  &n) ||
	    n != SHA256_LEN)
		return HL_ERR_NOMEM;
	return HL_ERR_OK;
}

void hl_sigv4_keys_wipe(struct hl_sigv4_keys *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

enum hl_err hl_sigv4_derive_keys(const char *secret, const char *date8, const char *region,
				 const char *service, struct hl_sigv4_keys *ret)
{
	struct hl_sigv4_keys k;
	struct hl_buf seed;
	enum hl_err rc;

	hl_buf_init(&seed, 0);
	if (!secret || !date8 || !region || !service || !ret) {
		rc = HL_ERR_INVALID;
		goto out;
	}
	rc = hl_buf_appends(&seed, "AWS4");
	if (!rc)
		rc = hl_buf_appends(&seed, secret);
	if (!rc)
		rc = hmac(seed.data, seed.len, date8, strlen(date8), k.k_date);
	if (!rc)
		rc = hmac(k.k_date, SHA256_LEN, region, strlen(region), k.k_region);
	if (!rc)
		rc = hmac(k.k_region, SHA256_LEN, service, strlen(service), k.k_service);
	if (!rc)
		rc = hmac(k.k_service, SHA256_LEN, "aws4_request", 12, k.k_signing);
	if (rc)
		goto out;
	*ret = k;
	rc = HL_ERR_OK;
out:
	hl_sigv4_keys_wipe(&k);
	hl_buf_free_secure(&seed);
	return rc;
}

/* ---- canonical URI ---- */

/* botocore's remove_dot_segments(): split on '/', drop empty and "."
 * segments, let ".." pop one, keep a leading '/' if the input had one and a
 * trailing '/' if the input had one and anything is left. Then every byte
 * but the unreserved set and '/' is percent-encoded (so "%" becomes "%25"). */
static enum hl_err append_canonical_uri(struct hl_buf *out, const char *path)
{
	size_t plen = strlen(path);
	size_t nseg = 0;
	struct query_pair *segs = NULL; /* key/key_len reused as segment slices */
	struct hl_buf norm;
	enum hl_err rc;

	hl_buf_init(&norm, 0);
	if (plen == 0) {
		rc = hl_buf_appendc(out, '/');
		goto out;
	}
	size_t max_segs = 1;
	for (size_t i = 0; i < plen; i++)
		max_segs += path[i] == '/';
	segs = calloc(max_segs, sizeof(*segs));
	if (!segs) {
		rc = HL_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i <= plen;) {
		size_t j = i;
		while (j < plen && path[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0 || (n == 1 && path[i] == '.')) {
			/* empty or "." segment: dropped */
		} else if (n == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (nseg)
				nseg--;
		} else {
			segs[nseg].key = path + i;
			segs[nseg].key_len = n;
			nseg++;
		}
		i = j + 1;
	}
	rc = HL_ERR_OK;
	if (path[0] == '/')
		rc = hl_buf_appendc(&norm, '/');
	for (size_t s = 0; s < nseg && !rc; s++) {
		if (s)
			rc = hl_buf_appendc(&norm, '/');
		if (!rc)
			rc = hl_buf_append(&norm, segs[s].key, segs[s].key_len);
	}
	if (!rc && path[plen - 1] == '/' && nseg)
		rc = hl_buf_appendc(&norm, '/');
	if (!rc && norm.len)
		rc = hl_buf_append_uri(out, norm.data, norm.len, true);
out:
	free(segs);
	hl_buf_free(&norm);
	return rc;
}

/* ---- canonical query ---- */

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int cmp_pair(const void *pa, const void *pb)
{
	const struct query_pair *a = pa, *b = pb;
	int c = cmp_bytes(a->key, a->key_len, b->key, b->key_len);
	return c ? c : cmp_bytes(a->val, a->val_len, b->val, b->val_len);
}

/* botocore splits the raw query on '&' (empty pieces included), each piece at
 * its first '=' (none means an empty value), sorts bytewise by key then value
 * and joins "k=v" with '&'. Nothing is re-encoded: the caller sends exactly
 * these bytes, strictly encoded. */
static enum hl_err append_canonical_query(struct hl_buf *out, const char *query)
{
	struct query_pair *pairs = NULL;
	enum hl_err rc = HL_ERR_OK;

	if (!query || !*query)
		goto out;
	size_t qlen = strlen(query);
	size_t n = 1;
	for (size_t i = 0; i < qlen; i++)
		n += query[i] == '&';
	pairs = calloc(n, sizeof(*pairs));
	if (!pairs) {
		rc = HL_ERR_NOMEM;
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i <= qlen; k++) {
		size_t j = i;
		while (j < qlen && query[j] != '&')
			j++;
		const char *eq = memchr(query + i, '=', j - i);
		pairs[k].key = query + i;
		if (eq) {
			pairs[k].key_len = (size_t)(eq - (query + i));
			pairs[k].val = eq + 1;
			pairs[k].val_len = (size_t)(query + j - (eq + 1));
		} else {
			pairs[k].key_len = j - i;
			pairs[k].val = query + j;
			pairs[k].val_len = 0;
		}
		i = j + 1;
	}
	qsort(pairs, n, sizeof(*pairs), cmp_pair);
	for (size_t p = 0; p < n && !rc; p++) {
		if (p)
			rc = hl_buf_appendc(out, '&');
		if (!rc)
			rc = hl_buf_append(out, pairs[p].key, pairs[p].key_len);
		if (!rc)
			rc = hl_buf_appendc(out, '=');
		if (!rc)
			rc = hl_buf_append(out, pairs[p].val, pairs[p].val_len);
	}
out:
	free(pairs);
	return rc;
}

/* ---- canonical headers ---- */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int cmp_name(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)lower(*a), cb = (unsigned char)lower(*b);
		if (ca != cb || !ca)
			return (ca > cb) - (ca < cb);
	}
}

static int cmp_header(const void *pa, const void *pb)
{
	const struct sig_header *a = pa, *b = pb;
	int c = cmp_name(a->name, b->name);
	if (c)
		return c;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

/* RFC 9110 token characters: anything else cannot be a header name. */
static bool valid_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

/* Length of the whitespace character at p (0 if none). botocore folds values
 * with Python's str.split(), whose whitespace is this exact set of code
 * points; bytes that are not one of these UTF-8 sequences are ordinary. */
static size_t ws_len(const unsigned char *p, const unsigned char *end)
{
	size_t left = (size_t)(end - p);
	if ((*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x20))
		return 1;
	if (left >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2; /* U+0085, U+00A0 */
	if (left < 3)
		return 0;
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return 3; /* U+1680 */
	if (p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return 3; /* U+205F */
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

/* Appends value trimmed, with every inner run of whitespace as one space. */
static enum hl_err append_folded(struct hl_buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	const unsigned char *end = p + strlen(value);
	bool first = true;
	enum hl_err rc = HL_ERR_OK;

	while (p < end && !rc) {
		size_t w;
		while (p < end && (w = ws_len(p, end)) > 0)
			p += w;
		if (p == end)
			break;
		const unsigned char *word = p;
		while (p < end && ws_len(p, end) == 0)
			p++;
		if (!first)
			rc = hl_buf_appendc(out, ' ');
		if (!rc)
			rc = hl_buf_append(out, word, (size_t)(p - word));
		first = false;
	}
	return rc;
}

static bool name_is(const char *name, const char *lower_name)
{
	return cmp_name(name, lower_name) == 0;
}

/* Writes "name:v1,v2\n" per distinct name into *canon and "n1;n2" into
 * *signed_names; hdrs must be sorted. */
static enum hl_err append_headers(struct hl_buf *canon, struct hl_buf *signed_names,
				  const struct sig_header *hdrs, size_t n)
{
	enum hl_err rc = HL_ERR_OK;
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i;
		if (signed_names->len)
			rc = hl_buf_appendc(signed_names, ';');
		for (const char *c = hdrs[i].name; *c && !rc; c++) {
			rc = hl_buf_appendc(canon, lower(*c));
			if (!rc)
				rc = hl_buf_appendc(signed_names, lower(*c));
		}
		if (!rc)
			rc = hl_buf_appendc(canon, ':');
		for (; j < n && !rc && cmp_name(hdrs[j].name, hdrs[i].name) == 0; j++) {
			if (j > i)
				rc = hl_buf_appendc(canon, ',');
			if (!rc)
				rc = append_folded(canon, hdrs[j].value);
		}
		if (!rc)
			rc = hl_buf_appendc(canon, '\n');
		i = j;
	}
	return rc;
}

/* Region, service and access key end up inside the '/'-separated scope and
 * the Authorization header: refuse anything that would change its shape. */
static bool valid_scope_part(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f || c == '/' || c == ',')
			return false;
	}
	return true;
}

static bool valid_method(const char *m)
{
	if (!m || !*m)
		return false;
	for (; *m; m++)
		if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z')))
			return false;
	return true;
}

/* X-Amz-Date text; years outside 1000-9999 do not fit the 16-character form. */
static enum hl_err format_amz_date(time_t now, char out[17])
{
	struct tm tm;
	if (!gmtime_r(&now, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return HL_ERR_INVALID;
	return HL_ERR_OK;
}

/* Checks the request and builds the list of headers to sign: the caller's,
 * minus any Authorization / X-Amz-Date / (when we have a token)
 * X-Amz-Security-Token, plus ours. Caller frees *ret_hdrs. */
static enum hl_err collect_headers(const struct hl_sigv4_request *req, const char *amz_date,
				   const char *token, const char *content_sha256,
				   struct sig_header **ret_hdrs, size_t *ret_n, struct hl_error *err)
{
	struct sig_header *h = NULL;
	size_t n = 0;
	bool have_host = false;
	enum hl_err rc;

	if (req->n_headers && !req->headers) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: headers is NULL");
		goto out;
	}
	h = calloc(req->n_headers + 3, sizeof(*h));
	if (!h) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "sigv4: out of memory");
		goto out;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct hl_header *in = &req->headers[i];
		if (!in->name || !in->value || !valid_header_name(in->name)) {
			rc =
			    hl_error_set(err, HL_ERR_INVALID, "sigv4: header %zu: invalid name", i);
			goto out;
		}
		if (strpbrk(in->value, "\r\n")) {
			rc = hl_error_set(err, HL_ERR_INVALID,
					  "sigv4: header %s: value contains CR or LF", in->name);
			goto out;
		}
		if (name_is(in->name, "date")) {
			/* botocore would then sign Date instead of X-Amz-Date */
			rc = hl_error_set(
			    err, HL_ERR_INVALID,
			    "sigv4: a Date header must not be sent; X-Amz-Date is used");
			goto out;
		}
		if (name_is(in->name, "authorization") || name_is(in->name, "x-amz-date") ||
		    (token && name_is(in->name, "x-amz-security-token")) ||
		    (content_sha256 && name_is(in->name, "x-amz-content-sha256")))
			continue;
		if (name_is(in->name, "host"))
			have_host = true;
		h[n].name = in->name;
		h[n].value = in->value;
		h[n].pos = n;
		n++;
	}
	if (!have_host) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: no Host header to sign");
		goto out;
	}
	h[n].name = "x-amz-date";
	h[n].value = amz_date;
	h[n].pos = n;
	n++;
	if (token) {
		h[n].name = "x-amz-security-token";
		h[n].value = token;
		h[n].pos = n;
		n++;
	}
	if (content_sha256) {
		h[n].name = "x-amz-content-sha256";
		h[n].value = content_sha256;
		h[n].pos = n;
		n++;
	}
	qsort(h, n, sizeof(*h), cmp_header);
	*ret_hdrs = h;
	*ret_n = n;
	h = NULL;
	rc = HL_ERR_OK;
out:
	free(h);
	return rc;
}

enum hl_err hl_sigv4_sign(const struct hl_sigv4_request *req, const struct hl_credentials *creds,
			  const char *region, const char *service, time_t now,
			  struct hl_sigv4_result *ret, struct hl_error *err)
{
	struct sig_header *hdrs = NULL;
	size_t n_hdrs = 0;
	struct hl_buf cr, sts, auth, names, scope;
	struct hl_sigv4_keys keys;
	char amz_date[17] = "";
	char hexbuf[2 * SHA256_LEN + 1];
	unsigned char md[SHA256_LEN];
	enum hl_err rc;

	hl_buf_init(&cr, 0);
	hl_buf_init(&sts, 0);
	hl_buf_init(&auth, 0);
	hl_buf_init(&names, 0);
	hl_buf_init(&scope, 0);
	memset(&keys, 0, sizeof(keys));

	if (!req || !ret || !creds) {
		rc = hl_error_set(err, HL_ERR_INVALID,
				  "sigv4: missing request, credentials or result");
		goto out;
	}
	if (!valid_method(req->method) || !req->path || (req->body_len && !req->body)) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: invalid method, path or body");
		goto out;
	}
	if (!valid_scope_part(creds->access_key_id) || !creds->secret_access_key ||
	    !*creds->secret_access_key) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: incomplete credentials");
		goto out;
	}
	if (!valid_scope_part(region) || !valid_scope_part(service)) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: invalid region or service name");
		goto out;
	}
	const char *token =
	    creds->session_token && *creds->session_token ? creds->session_token : NULL;
	if (token && strpbrk(token, "\r\n")) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: session token contains CR or LF");
		goto out;
	}
	if (format_amz_date(now, amz_date)) {
		rc = hl_error_set(err, HL_ERR_INVALID, "sigv4: time out of range");
		goto out;
	}
	/* The payload hash comes first: S3 signs it as a header too. */
	if (sha256(req->body, req->body_len, md)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "sigv4: hashing the body failed");
		goto out;
	}
	char payload_hash[2 * SHA256_LEN + 1];
	to_hex(md, SHA256_LEN, payload_hash);
	rc = collect_headers(req, amz_date, token, req->s3 ? payload_hash : NULL, &hdrs, &n_hdrs,
			     err);
	if (rc)
		goto out;

	/* canonical request: six lines */
	for (const char *m = req->method; *m && !rc; m++)
		rc = hl_buf_appendc(&cr, (*m >= 'a' && *m <= 'z') ? (char)(*m - 'a' + 'A') : *m);
	if (!rc)
		rc = hl_buf_appendc(&cr, '\n');
	if (!rc && req->s3)
		rc = req->path[0] ? hl_buf_appends(&cr, req->path) : hl_buf_appendc(&cr, '/');
	else if (!rc)
		rc = append_canonical_uri(&cr, req->path);
	if (!rc)
		rc = hl_buf_appendc(&cr, '\n');
	if (!rc)
		rc = append_canonical_query(&cr, req->query);
	if (!rc)
		rc = hl_buf_appendc(&cr, '\n');
	if (!rc)
		rc = append_headers(&cr, &names, hdrs, n_hdrs);
	if (!rc)
		rc = hl_buf_appendf(&cr, "\n%s\n", names.data);
	if (!rc)
		rc = hl_buf_appends(&cr, payload_hash);

	/* string to sign */
	if (!rc)
		rc = hl_buf_appendf(&scope, "%.8s/%s/%s/aws4_request", amz_date, region, service);
	if (!rc)
		rc = sha256(cr.data, cr.len, md);
	if (!rc) {
		to_hex(md, SHA256_LEN, hexbuf);
		rc = hl_buf_appendf(&sts, ALGORITHM "\n%s\n%s\n%s", amz_date, scope.data, hexbuf);
	}

	/* signature and header */
	if (!rc) {
		char date8[9];
		memcpy(date8, amz_date, 8);
		date8[8] = '\0';
		rc = hl_sigv4_derive_keys(creds->secret_access_key, date8, region, service, &keys);
	}
	if (!rc)
		rc = hmac(keys.k_signing, SHA256_LEN, sts.data, sts.len, md);
	if (!rc) {
		to_hex(md, SHA256_LEN, hexbuf);
		rc = hl_buf_appendf(&auth,
				    ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
				    creds->access_key_id, scope.data, names.data, hexbuf);
	}
	if (rc) {
		hl_error_set(err, rc, "sigv4: building the signature failed: %s", hl_strerror(rc));
		goto out;
	}

	struct hl_sigv4_result r = {0};
	r.canonical_request = hl_buf_steal(&cr);
	r.string_to_sign = hl_buf_steal(&sts);
	r.authorization = hl_buf_steal(&auth);
	r.signed_headers = hl_buf_steal(&names);
	memcpy(r.amz_date, amz_date, sizeof(r.amz_date));
	memcpy(r.payload_hash, payload_hash, sizeof(r.payload_hash));
	if (!r.canonical_request || !r.string_to_sign || !r.authorization || !r.signed_headers) {
		hl_sigv4_result_free(&r);
		rc = hl_error_set(err, HL_ERR_NOMEM, "sigv4: out of memory");
		goto out;
	}
	*ret = r;
	rc = HL_ERR_OK;
out:
	hl_sigv4_keys_wipe(&keys);
	OPENSSL_cleanse(md, sizeof(md));
	free(hdrs);
	hl_buf_free(&cr);
	hl_buf_free(&sts);
	hl_buf_free(&auth);
	hl_buf_free(&names);
	hl_buf_free(&scope);
	return rc;
}

void hl_sigv4_result_free(struct hl_sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	free(r->signed_headers);
	r->canonical_request = NULL;
	r->string_to_sign = NULL;
	r->authorization = NULL;
	r->signed_headers = NULL;
}
