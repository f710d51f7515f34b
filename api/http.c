#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http_easy.h"

#define HL_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define HL_DEFAULT_MAX_RESPONSE (8u << 20)
/* Idle handles kept for reuse; more concurrent callers get fresh handles
 * that are freed after use (connections live in the share either way). */
#define HL_POOL_MAX 32
#define HL_MAX_CONNECTIONS 64

struct hl_http {
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	CURL *pool[HL_POOL_MAX]; /* idle handles; protected by pool_lock */
	size_t n_pool;		 /* protected by pool_lock */
	char *ca_file;
	long connect_timeout_ms;
	size_t max_response_bytes;
	bool global_init;
};

/* Per-transfer state the callbacks write into. */
struct transfer {
	struct hl_http_response *resp;
	size_t max;
	bool too_large;
	bool nomem;
	const char *body;
	size_t body_len;
	size_t body_off; /* bytes handed to libcurl so far */
	long status;	 /* of the last status line seen */
	hl_http_sink sink;
	void *sink_arg;
};

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct hl_http *h = arg;
	(void)handle;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *arg)
{
	struct hl_http *h = arg;
	(void)handle;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_locks[data]);
}

void hl_http_free(struct hl_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_pool; i++)
		curl_easy_cleanup(h->pool[i]);
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_mutex_destroy(&h->pool_lock);
	free(h->ca_file);
	if (h->global_init)
		curl_global_cleanup();
	free(h);
}

enum hl_err hl_http_new(const struct hl_http_options *opt, struct hl_http **ret,
			struct hl_error *err)
{
	struct hl_http *h = calloc(1, sizeof(*h));
	enum hl_err rc;
	if (!h)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	pthread_mutex_init(&h->pool_lock, NULL);
	h->connect_timeout_ms = opt && opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms
								   : HL_DEFAULT_CONNECT_TIMEOUT_MS;
	h->max_response_bytes =
	    opt && opt->max_response_bytes ? opt->max_response_bytes : HL_DEFAULT_MAX_RESPONSE;
	if (opt && opt->ca_file && !(h->ca_file = strdup(opt->ca_file))) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* libcurl >= 7.84 makes this thread-safe and reference counted. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "curl_global_init failed");
		goto out;
	}
	h->global_init = true;
	h->share = curl_share_init();
	if (!h->share) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "curl share setup failed");
		goto out;
	}
	*ret = h;
	h = NULL;
	rc = HL_ERR_OK;
out:
	hl_http_free(h);
	return rc;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	if (t->sink && t->status >= 200 && t->status < 300) {
		if (t->sink(t->sink_arg, p, n)) {
			t->resp->sink_aborted = true;
			return 0;
		}
		t->resp->sunk += n;
		t->resp->bytes_in += n;
		return n;
	}
	if (t->resp->body.len + n > t->max) {
		t->too_large = true;
		return 0; /* fails the transfer: the cap is the point */
	}
	enum hl_err rc = hl_buf_append(&t->resp->body, p, n);
	if (rc) {
		t->too_large = rc == HL_ERR_TOO_LARGE;
		t->nomem = rc == HL_ERR_NOMEM;
		return 0;
	}
	t->resp->bytes_in += n;
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nitems;
	if (n > t->body_len - t->body_off)
		n = t->body_len - t->body_off;
	memcpy(buf, t->body + t->body_off, n);
	t->body_off += n;
	return n;
}

/* libcurl replays a request by itself when a reused connection dies before
 * any answer byte. Refusing the rewind turns that hidden replay into a
 * transfer error, so every request on the wire is one of our attempts:
 * paced, freshly signed, counted and reported. */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct transfer *t = arg;
	if (offset == 0 && origin == SEEK_SET && t->body_off == 0)
		return CURL_SEEKFUNC_OK; /* nothing sent yet: a no-op */
	return CURL_SEEKFUNC_CANTSEEK;
}

/* Copies a header value, trimmed, into out. */
static void header_value(const char *v, size_t n, char *out, size_t outsz)
{
	while (n && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*value = line + k + 1;
	*vlen = n - k - 1;
	return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new status line (after 100 Continue, say): forget the previous
		 * one's headers. "HTTP/1.1 503 Service Unavailable" */
		const char *sp = memchr(p, ' ', n);
		const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p)) : NULL;
		struct hl_http_response *r = t->resp;
		r->reason[0] = r->request_id[0] = r->error_type[0] = r->etag[0] = '\0';
		r->last_modified[0] = r->location[0] = r->content_range[0] = '\0';
		r->amz_error_code[0] = '\0';
		r->content_length = -1;
		t->status = 0;
		for (const char *d = sp ? sp + 1 : p + n; d < p + n && *d >= '0' && *d <= '9'; d++)
			t->status = t->status * 10 + (*d - '0');
		if (sp2)
			header_value(sp2 + 1, n - (size_t)(sp2 + 1 - p), t->resp->reason,
				     sizeof(t->resp->reason));
	} else if (header_is(p, n, "x-amzn-RequestId", &v, &vlen)) {
		header_value(v, vlen, t->resp->request_id, sizeof(t->resp->request_id));
	} else if (header_is(p, n, "x-amz-request-id", &v, &vlen)) {
		header_value(v, vlen, t->resp->request_id, sizeof(t->resp->request_id));
	} else if (header_is(p, n, "X-Amzn-ErrorType", &v, &vlen)) {
		header_value(v, vlen, t->resp->error_type, sizeof(t->resp->error_type));
	} else if (header_is(p, n, "x-amz-error-code", &v, &vlen)) {
		header_value(v, vlen, t->resp->amz_error_code, sizeof(t->resp->amz_error_code));
	} else if (header_is(p, n, "ETag", &v, &vlen)) {
		header_value(v, vlen, t->resp->etag, sizeof(t->resp->etag));
	} else if (header_is(p, n, "Last-Modified", &v, &vlen)) {
		header_value(v, vlen, t->resp->last_modified, sizeof(t->resp->last_modified));
	} else if (header_is(p, n, "Location", &v, &vlen) ||
		   (!t->resp->location[0] && header_is(p, n, "Content-Location", &v, &vlen))) {
		header_value(v, vlen, t->resp->location, sizeof(t->resp->location));
	} else if (header_is(p, n, "Content-Range", &v, &vlen)) {
		header_value(v, vlen, t->resp->content_range, sizeof(t->resp->content_range));
	} else if (header_is(p, n, "Content-Length", &v, &vlen)) {
		char num[32];
		header_value(v, vlen, num, sizeof(num));
		char *end = NULL;
		long long cl = strtoll(num, &end, 10);
		t->resp->content_length = end && end != num && !*end && cl >= 0 ? cl : -1;
	}
	return n;
}

static CURL *handle_new(struct hl_http *h)
{
	const struct hl_http_easy_opts o = {h->connect_timeout_ms, h->ca_file};
	CURL *e = NULL;
	if (hl_http_easy_new(&o, &e))
		return NULL;
	if (curl_easy_setopt(e, CURLOPT_SHARE, h->share) ||
	    /* The signature covers the path as sent: libcurl must not remove
	     * dot segments from it. */
	    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    /* The shared cache closes idle connections beyond this; libcurl's
	     * default (5) would thrash as soon as 6 threads call at once. */
	    curl_easy_setopt(e, CURLOPT_MAXCONNECTS, (long)HL_MAX_CONNECTIONS) ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_response_bytes) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header)) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static CURL *handle_get(struct hl_http *h)
{
	CURL *e = NULL;
	pthread_mutex_lock(&h->pool_lock);
	if (h->n_pool)
		e = h->pool[--h->n_pool];
	pthread_mutex_unlock(&h->pool_lock);
	return e ? e : handle_new(h);
}

static void handle_put(struct hl_http *h, CURL *e)
{
	pthread_mutex_lock(&h->pool_lock);
	if (h->n_pool < HL_POOL_MAX) {
		h->pool[h->n_pool++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&h->pool_lock);
	if (e)
		curl_easy_cleanup(e);
}

void hl_http_response_init(struct hl_http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	hl_buf_init(&r->body, 0);
}

void hl_http_response_free(struct hl_http_response *r)
{
	if (r)
		hl_buf_free(&r->body);
}

/* Maps a failed transfer to the library's error and says whether the
 * request may have been sent. */
static enum hl_err map_curl(CURLcode cc, const struct transfer *t, struct hl_http_response *resp)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		resp->connect_failed = true;
		return HL_ERR_RESOLVE;
	case CURLE_COULDNT_CONNECT:
		resp->connect_failed = true;
		return HL_ERR_NETWORK;
	case CURLE_OPERATION_TIMEDOUT:
		resp->timed_out = true;
		return HL_ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return HL_ERR_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HL_ERR_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		if (resp->sink_aborted)
			return HL_ERR_INVALID;
		if (t->too_large)
			return HL_ERR_TOO_LARGE;
		return t->nomem ? HL_ERR_NOMEM : HL_ERR_NETWORK;
	case CURLE_OUT_OF_MEMORY:
		return HL_ERR_NOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HL_ERR_CONFIG;
	default:
		/* send/recv errors, resets, empty or partial answers */
		return HL_ERR_NETWORK;
	}
}

/* Sets the method on a pooled handle, undoing what the previous use set. */
static bool set_method(CURL *e, const char *method, struct transfer *t)
{
	bool head = strcmp(method, "HEAD") == 0;
	bool get = strcmp(method, "GET") == 0;
	bool bodyless = head || get || (strcmp(method, "DELETE") == 0 && !t->body_len);
	if (curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) || curl_easy_setopt(e, CURLOPT_NOBODY, 0L) ||
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL))
		return false;
	if (head)
		return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
	if (!bodyless && (curl_easy_setopt(e, CURLOPT_POST, 1L) ||
			  curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read) ||
			  curl_easy_setopt(e, CURLOPT_READDATA, t) ||
			  curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek) ||
			  curl_easy_setopt(e, CURLOPT_SEEKDATA, t) ||
			  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len)))
		return false;
	if (!get && strcmp(method, "POST") != 0 &&
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method))
		return false;
	return true;
}

enum hl_err hl_http_post(struct hl_http *h, const struct hl_http_request *req,
			 struct hl_http_response *resp, struct hl_error *err)
{
	struct hl_http_request r = *req;
	r.method = "POST";
	return hl_http_send(h, &r, resp, err);
}

enum hl_err hl_http_send(struct hl_http *h, const struct hl_http_request *req,
			 struct hl_http_response *resp, struct hl_error *err)
{
	struct curl_slist *hdrs = NULL;
	struct hl_buf line;
	char errbuf[CURL_ERROR_SIZE] = "";
	size_t max = req->max_response_bytes && !req->sink ? req->max_response_bytes
							     : h->max_response_bytes;
	struct transfer t = {.resp = resp,
			     .max = max,
			     .body = req->body ? req->body : "",
			     .body_len = req->body ? req->body_len : 0,
			     .sink = req->sink,
			     .sink_arg = req->sink_arg};
	const char *method = req->method ? req->method : "POST";
	enum hl_err rc;
	CURL *e = NULL;

	hl_buf_init(&line, 16384);
	hl_buf_free(&resp->body);
	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	hl_buf_init(&resp->body, max + 1);

	for (size_t i = 0; i < req->n_headers; i++) {
		hl_buf_reset(&line);
		/* "Name;" is how libcurl sends a header with an empty value;
		 * "Name:" would remove it (that is what we want for Expect). */
		bool empty = !req->headers[i].value || !req->headers[i].value[0];
		bool remove = empty && strcasecmp(req->headers[i].name, "Expect") == 0;
		if ((rc = hl_buf_appendf(&line, "%s%s%s", req->headers[i].name,
					 remove	 ? ":"
					 : empty ? ";"
						 : ": ",
					 empty ? "" : req->headers[i].value))) {
			hl_error_set(err, rc, "request header too large");
			goto out;
		}
		struct curl_slist *n = curl_slist_append(hdrs, line.data);
		if (!n) {
			rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
			goto out;
		}
		hdrs = n;
	}
	e = handle_get(h);
	if (!e) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory (curl handle)");
		goto out;
	}
	if (curl_easy_setopt(e, CURLOPT_URL, req->url) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) || !set_method(e, method, &t) ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
			     (curl_off_t)(req->sink ? 0 : max)) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 1L) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t) ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "curl option setup failed");
		goto out;
	}
	CURLcode cc = curl_easy_perform(e);
	curl_off_t up = 0;
	if (curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up > 0)
		resp->bytes_out = (size_t)up;
	if (cc != CURLE_OK) {
		rc = map_curl(cc, &t, resp);
		if (rc == HL_ERR_TOO_LARGE)
			hl_error_set(err, rc, "response larger than %zu bytes", max);
		else if (resp->sink_aborted)
			hl_error_set(err, rc, "transfer stopped by its receiver");
		else
			hl_error_set(err, rc, "%s%s%s", curl_easy_strerror(cc),
				     errbuf[0] ? ": " : "", errbuf);
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	rc = HL_ERR_OK;
out:
	if (e) {
		/* Drop pointers to this call's stack before the handle is reused. */
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
		curl_easy_setopt(e, CURLOPT_READDATA, NULL);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, NULL);
		handle_put(h, e);
	}
	curl_slist_free_all(hdrs);
	hl_buf_free(&line);
	return rc;
}
