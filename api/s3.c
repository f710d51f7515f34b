#include "s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_i.h"
#include "clock.h"
#include "config.h"
#include "query.h"
#include "url.h"

/* S3 takes 5,500 GET/HEAD requests a second per prefix: pacing below that
 * capped a sequential read at 100 windows a second (400 MiB/s). */
#define HL_S3_DEFAULT_TPS 5500.0
#define HL_S3_MAX_LIST_BYTES (16u << 20)
#define HL_S3_MAX_PAGES 100000

struct hl_s3 {
	struct hl_client *c; /* borrowed */
	char *endpoint;
	char *scheme;	/* "http" or "https" */
	char *host;	/* the endpoint's Host value */
	char *base;	/* the endpoint's path without its trailing '/': "" or "/p" */
	bool path_style;
	struct hl_pacer pacer;
	struct hl_retry_quota quota;
	bool quota_init;
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

bool hl_s3_bucket_valid(const char *b)
{
	size_t n = b ? strlen(b) : 0;
	if (n < 3 || n > 63)
		return false;
	bool all_ip = true;
	int dots = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && ch != '-' && ch != '.')
			return false;
		if ((i == 0 || i == n - 1) && !alnum)
			return false;
		if (ch == '.' && (b[i + 1] == '.' || b[i + 1] == '-' || (i && b[i - 1] == '-')))
			return false;
		dots += ch == '.';
		if (!(ch == '.' || (ch >= '0' && ch <= '9')))
			all_ip = false;
	}
	return !(all_ip && dots == 3);
}

bool hl_s3_bucket_virtual_ok(const char *b)
{
	return hl_s3_bucket_valid(b) && !strchr(b, '.');
}

void hl_s3_free(struct hl_s3 *s)
{
	if (!s)
		return;
	hl_pacer_destroy(&s->pacer);
	if (s->quota_init)
		hl_quota_destroy(&s->quota);
	free(s->endpoint);
	free(s->scheme);
	free(s->host);
	free(s->base);
	free(s);
}

enum hl_err hl_s3_new(struct hl_client *c, const struct hl_s3_options *opt, struct hl_s3 **ret,
		      struct hl_error *err)
{
	static const struct hl_s3_options none = {0};
	struct hl_s3 *s = calloc(1, sizeof(*s));
	char *path = NULL;
	bool custom = false;
	enum hl_err rc;
	if (!opt)
		opt = &none;
	if (!s)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	if ((rc = hl_config_service_endpoint(c->cfg, "s3", opt->endpoint, &s->endpoint, &custom,
					     err)))
		goto out;
	if ((rc = hl_url_split(s->endpoint, &s->host, &path, err)))
		goto out;
	size_t pl = strlen(path);
	while (pl && path[pl - 1] == '/')
		path[--pl] = '\0';
	s->base = path;
	path = NULL;
	struct hl_url u;
	if (hl_url_parse(s->endpoint, &u)) {
		rc = hl_error_set(err, HL_ERR_CONFIG, "invalid S3 endpoint URL");
		goto out;
	}
	if (!(s->scheme = strdup(u.scheme))) { /* lowercase */
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Local servers and other custom endpoints know no bucket hosts. */
	s->path_style = custom || opt->force_path_style;
	if ((rc = hl_pacer_init(&s->pacer, opt->tps > 0 ? opt->tps : HL_S3_DEFAULT_TPS))) {
		hl_error_set(err, rc, "out of memory");
		goto out;
	}
	hl_quota_init(&s->quota);
	s->quota_init = true;
	s->c = c;
	s->on_call = opt->on_call;
	s->on_call_arg = opt->on_call_arg;
	*ret = s;
	s = NULL;
	rc = HL_ERR_OK;
out:
	free(path);
	hl_s3_free(s);
	return rc;
}

const char *hl_s3_endpoint(const struct hl_s3 *s)
{
	return s->endpoint;
}

/* ---- One request ---- */

struct sx {
	struct hl_s3 *s;
	const char *method;
	struct hl_buf host, path, query, url;
	const struct hl_header *headers;
	size_t n_headers;
	hl_http_sink sink;
	void *sink_arg;
	size_t *sink_fill; /* the sink's fill level, zeroed before each attempt */
};

/* Host, path and URL of bucket/key (key NULL: the bucket itself). The key is
 * encoded once, '/' kept (§8.1). */
static enum hl_err sx_target(struct sx *x, const char *bucket, const char *key)
{
	struct hl_s3 *s = x->s;
	bool virt = !s->path_style && hl_s3_bucket_virtual_ok(bucket);
	enum hl_err rc;
	if (virt)
		rc = hl_buf_appendf(&x->host, "%s.%s", bucket, s->host);
	else
		rc = hl_buf_appends(&x->host, s->host);
	if (!rc)
		rc = hl_buf_appends(&x->path, s->base);
	if (!rc && !virt)
		rc = hl_buf_appendf(&x->path, "/%s", bucket);
	if (!rc && (key || virt))
		rc = hl_buf_appendc(&x->path, '/');
	if (!rc && key)
		rc = hl_buf_append_uri(&x->path, key, strlen(key), true);
	if (!rc)
		rc = hl_buf_appends(&x->query, "");
	return rc;
}

static enum hl_err sx_attempt(void *arg, int n, int64_t timeout_ms,
			      struct hl_http_response *resp, bool *sent, struct hl_error *e)
{
	struct sx *x = arg;
	(void)n;
	if (x->sink_fill)
		*x->sink_fill = 0; /* a retried range rewrites the same bytes */
	const struct hl_signed_req r = {
	    .service = "s3",
	    .s3 = true,
	    .method = x->method,
	    .url = x->url.data,
	    .host = x->host.data,
	    .path = x->path.data,
	    .query = x->query.data,
	    .headers = x->headers,
	    .n_headers = x->n_headers,
	    .sink = x->sink,
	    .sink_arg = x->sink_arg,
	    .max_response_bytes = HL_S3_MAX_LIST_BYTES,
	};
	return hl_client_send_signed(x->s->c, &r, timeout_ms, resp, sent, e);
}

static void sx_decode(void *arg, const struct hl_http_response *resp, struct hl_error *e)
{
	const struct sx *x = arg;
	hl_s3_error_decode(resp->status, resp->body.data, resp->body.len, e);
	if (e->code == HL_ERR_AUTH)
		hl_creds_invalidate(x->s->c->creds);
}

static void sx_init(struct sx *x, struct hl_s3 *s, const char *method)
{
	memset(x, 0, sizeof(*x));
	x->s = s;
	x->method = method;
	hl_buf_init(&x->host, 1024);
	hl_buf_init(&x->path, 8192);
	hl_buf_init(&x->query, 16384);
	hl_buf_init(&x->url, 32768);
}

static void sx_free(struct sx *x)
{
	hl_buf_free(&x->host);
	hl_buf_free(&x->path);
	hl_buf_free(&x->query);
	hl_buf_free(&x->url);
}

/* Sends x through the retry loop; reports the call as op. */
static enum hl_err sx_run(struct sx *x, const char *op, int64_t deadline_ms,
			  struct hl_http_response *resp, struct hl_error *e)
{
	struct hl_call_stats st = {0};
	int64_t t0 = hl_now_ms();
	enum hl_err rc;
	hl_buf_reset(&x->url);
	if ((rc = hl_buf_appendf(&x->url, "%s://%s%s%s%s", x->s->scheme, x->host.data, x->path.data,
				 x->query.data[0] ? "?" : "", x->query.data))) {
		hl_error_set(e, HL_ERR_INVALID, "request URL too long");
		goto out;
	}
	struct hl_call call = {
	    .pacer = &x->s->pacer,
	    .quota = &x->s->quota,
	    .max_attempts = x->s->c->max_attempts,
	    .deadline_ms = deadline_ms,
	    .replay_safe = true, /* GET and HEAD only */
	    .throttle_429 = true,
	    .sink_restartable = x->sink_fill != NULL,
	    .attempt = sx_attempt,
	    .decode = sx_decode,
	    .arg = x,
	};
	rc = hl_call_run(&call, resp, &st, e);
out:
	if (x->s->on_call) {
		struct hl_call_info info = {
		    .operation = op,
		    .code = rc,
		    .aws_code = e->aws_code,
		    .http_status = e->http_status,
		    .attempts = st.attempts,
		    .throttled = st.throttled,
		    .ms = (double)(hl_now_ms() - t0),
		    .bytes_in = st.bytes_in,
		    .bytes_out = st.bytes_out,
		    .request_id = e->request_id,
		};
		x->s->on_call(x->s->on_call_arg, &info);
	}
	return rc;
}

static enum hl_err check_names(const char *bucket, const char *key, struct hl_error *err)
{
	if (!hl_s3_bucket_valid(bucket))
		return hl_error_set(err, HL_ERR_INVALID, "invalid bucket name");
	if (key && (!*key || strlen(key) > 1024))
		return hl_error_set(err, HL_ERR_INVALID, "invalid object key");
	return HL_ERR_OK;
}

/* Starts a request on bucket/key: clears *err, readies *resp and *x (which
 * object_end() frees, whatever this returns), checks the names and builds
 * the target. */
static enum hl_err object_begin(struct sx *x, struct hl_s3 *s, const char *method,
				const char *bucket, const char *key,
				struct hl_http_response *resp, struct hl_error *err)
{
	hl_error_clear(err);
	hl_http_response_init(resp);
	sx_init(x, s, method);
	enum hl_err rc = check_names(bucket, key, err);
	if (rc)
		return rc;
	if (sx_target(x, bucket, key))
		return hl_error_set(err, HL_ERR_INVALID, "object path too long");
	return HL_ERR_OK;
}

/* Ends what object_begin() started: frees *x and *resp, hands e to err. */
static enum hl_err object_end(struct sx *x, struct hl_http_response *resp,
			      const struct hl_error *e, enum hl_err rc, struct hl_error *err)
{
	sx_free(x);
	hl_http_response_free(resp);
	if (err)
		*err = *e;
	return rc;
}

/* ---- ListObjectsV2 ---- */

/* Moves page's objects to the end of all's. */
static enum hl_err append_page(struct hl_s3_list *all, struct hl_s3_list *page)
{
	if (page->n_objects) {
		struct hl_s3_object *o = realloc(
		    all->objects, (all->n_objects + page->n_objects) * sizeof(*all->objects));
		if (!o)
			return HL_ERR_NOMEM;
		all->objects = o;
		memcpy(all->objects + all->n_objects, page->objects,
		       page->n_objects * sizeof(*page->objects));
		all->n_objects += page->n_objects;
		free(page->objects);
		page->objects = NULL;
		page->n_objects = 0;
	}
	return HL_ERR_OK;
}

enum hl_err hl_s3_list_all(struct hl_s3 *s, const char *bucket, const char *prefix,
			   int64_t deadline_ms, struct hl_s3_list *ret, struct hl_error *err)
{
	struct hl_s3_list all = {0}, page = {0};
	struct hl_http_response resp;
	struct hl_error e;
	char *token = NULL, *prev = NULL;
	enum hl_err rc;

	hl_error_clear(&e);
	hl_http_response_init(&resp);
	if ((rc = check_names(bucket, NULL, &e)))
		goto out;
	for (int pages = 0;; pages++) {
		struct sx x;
		sx_init(&x, s, "GET");
		rc = sx_target(&x, bucket, NULL);
		hl_buf_reset(&x.query);
		if (!rc)
			rc = hl_query_add(&x.query, "list-type", "2");
		if (!rc && prefix && *prefix)
			rc = hl_query_add(&x.query, "prefix", prefix);
		if (!rc && token)
			rc = hl_query_add(&x.query, "continuation-token", token);
		if (rc) {
			sx_free(&x);
			hl_error_set(&e, rc == HL_ERR_TOO_LARGE ? HL_ERR_INVALID : rc,
				     "listing request too long");
			rc = e.code;
			goto out;
		}
		rc = sx_run(&x, "ListObjectsV2", deadline_ms, &resp, &e);
		sx_free(&x);
		if (rc)
			goto out;
		if ((rc = hl_s3_list_parse(resp.body.data, resp.body.len, &page, &e)))
			goto out;
		if ((rc = append_page(&all, &page))) {
			hl_error_set(&e, rc, "out of memory");
			goto out;
		}
		free(prev);
		prev = token;
		token = NULL;
		if (!page.is_truncated)
			break;
		if ((prev && strcmp(prev, page.next_token) == 0) || pages + 1 >= HL_S3_MAX_PAGES) {
			rc = hl_error_set(&e, HL_ERR_PROTOCOL,
					  "listing does not advance (continuation token repeated)");
			goto out;
		}
		token = page.next_token;
		page.next_token = NULL;
		hl_s3_list_clear(&page);
	}
	*ret = all;
	memset(&all, 0, sizeof(all));
	rc = HL_ERR_OK;
out:
	hl_s3_list_clear(&page);
	hl_s3_list_clear(&all);
	hl_http_response_free(&resp);
	free(token);
	free(prev);
	if (err)
		*err = e;
	return rc;
}

/* ---- HeadObject ---- */

enum hl_err hl_s3_head_object(struct hl_s3 *s, const char *bucket, const char *key,
			      int64_t deadline_ms, struct hl_s3_head *ret, struct hl_error *err)
{
	struct hl_http_response resp;
	struct hl_error e;
	struct sx x;
	enum hl_err rc;

	if ((rc = object_begin(&x, s, "HEAD", bucket, key, &resp, &e)))
		goto out;
	if ((rc = sx_run(&x, "HeadObject", deadline_ms, &resp, &e)))
		goto out;
	if (resp.content_length < 0) {
		rc = hl_error_set(&e, HL_ERR_PROTOCOL, "HeadObject answer without Content-Length");
		goto out;
	}
	ret->size = (uint64_t)resp.content_length;
	snprintf(ret->etag, sizeof(ret->etag), "%s", resp.etag);
	snprintf(ret->last_modified, sizeof(ret->last_modified), "%s", resp.last_modified);
	rc = HL_ERR_OK;
out:
	return object_end(&x, &resp, &e, rc, err);
}

/* ---- Ranged GetObject ---- */

struct range_sink {
	char *buf;
	size_t len, got;
};

static int range_take(void *arg, const char *p, size_t n)
{
	struct range_sink *r = arg;
	if (n > r->len - r->got)
		return 1; /* more than asked for: the server ignored the range */
	memcpy(r->buf + r->got, p, n);
	r->got += n;
	return 0;
}

enum hl_err hl_s3_get_range(struct hl_s3 *s, const char *bucket, const char *key, uint64_t off,
			    size_t len, const char *if_match, void *buf, size_t *ret_n,
			    int64_t deadline_ms, struct hl_error *err)
{
	struct hl_http_response resp;
	struct hl_error e;
	struct sx x;
	struct range_sink rs = {.buf = buf, .len = len};
	char range[64];
	struct hl_header h[2];
	size_t nh = 0;
	enum hl_err rc;

	if ((rc = object_begin(&x, s, "GET", bucket, key, &resp, &e)))
		goto out;
	if (!len || !buf || off > UINT64_MAX - len ||
	    (if_match && (!*if_match || strpbrk(if_match, "\r\n")))) {
		rc = hl_error_set(&e, HL_ERR_INVALID, "invalid range or ETag");
		goto out;
	}
	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	h[nh++] = (struct hl_header){"Range", range};
	if (if_match)
		h[nh++] = (struct hl_header){"If-Match", if_match};
	x.headers = h;
	x.n_headers = nh;
	x.sink = range_take;
	x.sink_arg = &rs;
	x.sink_fill = &rs.got;
	rc = sx_run(&x, "GetObject", deadline_ms, &resp, &e);
	if (rc == HL_ERR_INVALID && resp.sink_aborted)
		rc = hl_error_set(&e, HL_ERR_PROTOCOL, "GetObject answered more than the range");
	if (rc)
		goto out;
	/* 200 is the whole object: right only when the range starts at 0. */
	if (resp.status != 206 && !(resp.status == 200 && off == 0)) {
		rc = hl_error_set(&e, HL_ERR_PROTOCOL, "GetObject answered %ld to a ranged read",
				  resp.status);
		goto out;
	}
	*ret_n = rs.got;
	rc = HL_ERR_OK;
out:
	return object_end(&x, &resp, &e, rc, err);
}
