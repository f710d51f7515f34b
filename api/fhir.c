#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_i.h"
#include "clock.h"
#include "fhirjson.h"
#include "json.h"
#include "query.h"
#include "rand.h"
#include "sigv4.h"
#include "url.h"

#define HL_FHIR_DEFAULT_TPS 100.0
#define HL_FHIR_DEFAULT_MAX (64u << 20)
#define HL_FHIR_MEDIA "application/fhir+json"

struct hl_fhir {
	struct hl_client *c; /* borrowed */
	char *origin;	     /* "http://127.0.0.1:8080": the configured endpoint's */
	char *base_path;     /* "/datastore/<id>/r4/" */
	char *base_url;	     /* origin + base_path */
	size_t max_response_bytes;
	struct hl_pacer own_pacer;
	struct hl_pacer *pacer; /* own_pacer, or the caller's shared one */
	struct hl_retry_quota quota;
	bool quota_init;
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

void hl_fhir_free(struct hl_fhir *f)
{
	if (!f)
		return;
	hl_pacer_destroy(&f->own_pacer);
	if (f->quota_init)
		hl_quota_destroy(&f->quota);
	free(f->origin);
	free(f->base_path);
	free(f->base_url);
	free(f);
}

/* The origin of the configured endpoint: its scheme and the Host it signs. */
static enum hl_err make_origin(const struct hl_client *c, struct hl_buf *out)
{
	struct hl_url u;
	if (hl_url_parse(c->cfg->endpoint, &u))
		return HL_ERR_CONFIG;
	return hl_buf_appendf(out, "%s://%s", u.scheme, c->host);
}

enum hl_err hl_fhir_new(struct hl_client *c, const struct hl_fhir_options *opt,
			struct hl_fhir **ret, struct hl_error *err)
{
	struct hl_fhir *f = calloc(1, sizeof(*f));
	char *ds_host = NULL, *ds_path = NULL;
	struct hl_buf b;
	enum hl_err rc;

	hl_buf_init(&b, 8192);
	if (!f) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!opt || !opt->datastore_endpoint) {
		rc = hl_error_set(err, HL_ERR_INVALID, "no DatastoreEndpoint");
		goto out;
	}
	if ((rc = hl_url_split(opt->datastore_endpoint, &ds_host, &ds_path, err)))
		goto out;
	if ((rc = make_origin(c, &b))) {
		hl_error_set(err, rc, "endpoint URL unusable");
		goto out;
	}
	f->origin = hl_buf_steal(&b);
	size_t pl = strlen(ds_path);
	/* Resource paths are joined onto the base: exactly one '/' between. */
	if ((rc = hl_buf_appends(&b, ds_path)) ||
	    (pl && ds_path[pl - 1] != '/' && (rc = hl_buf_appendc(&b, '/')))) {
		hl_error_set(err, rc, "DatastoreEndpoint too long");
		goto out;
	}
	f->base_path = hl_buf_steal(&b);
	if (!f->origin || !f->base_path ||
	    hl_buf_appendf(&b, "%s%s", f->origin, f->base_path) ||
	    !(f->base_url = hl_buf_steal(&b))) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	f->c = c;
	f->max_response_bytes = opt->max_response_bytes ? opt->max_response_bytes
							 : HL_FHIR_DEFAULT_MAX;
	f->pacer = opt->pacer ? opt->pacer : &f->own_pacer;
	if (!opt->pacer && (rc = hl_pacer_init(&f->own_pacer, opt->fhir_tps > 0
								  ? opt->fhir_tps
								  : HL_FHIR_DEFAULT_TPS))) {
		hl_error_set(err, rc, "out of memory");
		goto out;
	}
	hl_quota_init(&f->quota);
	f->quota_init = true;
	f->on_call = opt->on_call;
	f->on_call_arg = opt->on_call_arg;
	*ret = f;
	f = NULL;
	rc = HL_ERR_OK;
out:
	hl_fhir_free(f);
	free(ds_host);
	free(ds_path);
	hl_buf_free(&b);
	return rc;
}

const char *hl_fhir_base_url(const struct hl_fhir *f)
{
	return f->base_url;
}

void hl_fhir_result_init(struct hl_fhir_result *r)
{
	memset(r, 0, sizeof(*r));
	hl_buf_init(&r->body, 0);
}

void hl_fhir_result_free(struct hl_fhir_result *r)
{
	if (!r)
		return;
	hl_http_sink sink = r->sink;
	void *arg = r->sink_arg;
	hl_buf_free(&r->body);
	free(r->url);
	hl_bundle_clear(&r->bundle);
	hl_fhir_result_init(r);
	r->sink = sink;
	r->sink_arg = arg;
}

/* ---- Pure pieces ---- */

bool hl_fhir_etag_version(const char *etag, char *out, size_t outsz)
{
	const char *p = etag;
	if (p[0] == 'W' && p[1] == '/')
		p += 2;
	size_t n = strlen(p);
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	if (!n || n >= outsz || !hl_fhir_id_valid(p, n))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* ---- Requests ---- */

struct fx {
	struct hl_fhir *f;
	const char *method;
	const char *path;  /* as sent */
	const char *query; /* strictly encoded, "" for none */
	const char *url;
	const char *body;
	size_t len;
	const char *if_match;
	const char *idem_key;
	hl_http_sink sink;
	void *sink_arg;
};

static enum hl_err fx_attempt(void *arg, int n, int64_t timeout_ms,
			      struct hl_http_response *resp, bool *sent, struct hl_error *e)
{
	const struct fx *x = arg;
	struct hl_header h[4];
	size_t nh = 0;
	(void)n;
	h[nh++] = (struct hl_header){"Accept", HL_FHIR_MEDIA};
	if (x->body)
		h[nh++] = (struct hl_header){"Content-Type", HL_FHIR_MEDIA};
	if (x->if_match)
		h[nh++] = (struct hl_header){"If-Match", x->if_match};
	if (x->idem_key)
		h[nh++] = (struct hl_header){"x-amz-fhir-idempotency-key", x->idem_key};
	const struct hl_signed_req r = {
	    .service = "healthlake",
	    .method = x->method,
	    .url = x->url,
	    .host = x->f->c->host,
	    .path = x->path,
	    .query = x->query,
	    .headers = h,
	    .n_headers = nh,
	    .body = x->body,
	    .len = x->len,
	    .sink = x->sink,
	    .sink_arg = x->sink_arg,
	    .max_response_bytes = x->f->max_response_bytes,
	};
	return hl_client_send_signed(x->f->c, &r, timeout_ms, resp, sent, e);
}

static void fx_decode(void *arg, const struct hl_http_response *resp, struct hl_error *e)
{
	const struct fx *x = arg;
	hl_fhir_error_decode(resp->status, resp->error_type, resp->body.data, resp->body.len, e);
	if (e->code == HL_ERR_AUTH)
		hl_creds_invalidate(x->f->c->creds);
}

/* Moves the answer into res. */
static enum hl_err take_answer(const struct fx *x, struct hl_http_response *resp,
			       struct hl_fhir_result *res, bool paged, struct hl_error *e)
{
	res->status = resp->status;
	snprintf(res->etag, sizeof(res->etag), "%s", resp->etag);
	if (!hl_fhir_etag_version(resp->etag, res->version_id, sizeof(res->version_id)))
		res->version_id[0] = '\0';
	snprintf(res->last_modified, sizeof(res->last_modified), "%s", resp->last_modified);
	snprintf(res->location, sizeof(res->location), "%s", resp->location);
	hl_buf_free(&res->body);
	res->body = resp->body;
	hl_buf_init(&resp->body, 0);
	free(res->url);
	hl_bundle_clear(&res->bundle);
	if (!(res->url = strdup(x->url)))
		return hl_error_set(e, HL_ERR_NOMEM, "out of memory");
	/* A malformed Bundle is the service's fault: HL_ERR_PROTOCOL (EIO). */
	if (paged && !x->sink && res->status == 200)
		return hl_bundle_parse(res->body.data, res->body.len, &res->bundle, e);
	return HL_ERR_OK;
}

static void report(struct hl_fhir *f, const char *op, enum hl_err rc, const struct hl_error *e,
		   const struct hl_call_stats *st, int64_t t0)
{
	if (!f->on_call)
		return;
	struct hl_call_info info = {
	    .operation = op,
	    .code = rc,
	    .aws_code = e->aws_code,
	    .http_status = e->http_status,
	    .attempts = st->attempts,
	    .throttled = st->throttled,
	    .ms = (double)(hl_now_ms() - t0),
	    .bytes_in = st->bytes_in,
	    .bytes_out = st->bytes_out,
	    .request_id = e->request_id,
	};
	f->on_call(f->on_call_arg, &info);
}

/* Sends x (path and query set, url built here) through the retry loop and
 * leaves the answer in res. *st tells what the attempts did. */
static enum hl_err send_fx(struct fx *x, bool replay_safe, bool paged, int64_t deadline_ms,
			   struct hl_fhir_result *res, struct hl_call_stats *st, struct hl_error *e)
{
	struct hl_http_response resp;
	struct hl_buf url;
	enum hl_err rc;

	hl_http_response_init(&resp);
	hl_buf_init(&url, 128 * 1024);
	if ((rc = hl_buf_appendf(&url, "%s%s%s%s", x->f->origin, x->path, x->query[0] ? "?" : "",
				 x->query))) {
		hl_error_set(e, rc, "request URL too long");
		goto out;
	}
	x->url = url.data;
	x->sink = res->sink;
	x->sink_arg = res->sink_arg;
	struct hl_call call = {
	    .pacer = x->f->pacer,
	    .quota = &x->f->quota,
	    .max_attempts = x->f->c->max_attempts,
	    .deadline_ms = deadline_ms,
	    .replay_safe = replay_safe,
	    .throttle_429 = true,
	    .attempt = fx_attempt,
	    .decode = fx_decode,
	    .arg = x,
	};
	rc = hl_call_run(&call, &resp, st, e);
	res->attempts = st->attempts;
	if (rc == HL_ERR_OK) {
		rc = take_answer(x, &resp, res, paged, e);
	} else if (resp.status) {
		struct hl_error ignored; /* the call's error stands */
		take_answer(x, &resp, res, false, &ignored);
	}
out:
	x->url = NULL;
	hl_buf_free(&url);
	hl_http_response_free(&resp);
	return rc;
}

/* "<base_path><a>[/<b>[/<c>[/<d>]]]" into out, each part checked. */
static bool valid_type(const char *t)
{
	if (!t || !*t)
		return false;
	for (; *t; t++)
		if (!((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z')))
			return false;
	return true;
}

static bool valid_id(const char *id)
{
	return id && hl_fhir_id_valid(id, strlen(id));
}

/* One interaction end to end: checks, path, query, the call, the report. */
static enum hl_err interact(struct hl_fhir *f, const char *op, const char *method,
			    const char *rel_path, const char *raw_query, const char *body,
			    size_t len, const char *if_match, const char *key, bool paged,
			    bool replay_safe, int64_t deadline_ms, struct hl_fhir_result *res,
			    struct hl_call_stats *st, struct hl_error *err)
{
	struct hl_buf path, query;
	struct hl_error e;
	int64_t t0 = hl_now_ms();
	enum hl_err rc;

	hl_error_clear(&e);
	memset(st, 0, sizeof(*st));
	hl_buf_init(&path, 8192);
	hl_buf_init(&query, 64 * 1024);
	if ((rc = hl_buf_appendf(&path, "%s%s", f->base_path, rel_path)) ||
	    (raw_query && (rc = hl_query_encode(raw_query, strlen(raw_query), &query))) ||
	    (rc = hl_buf_appends(&query, ""))) {
		hl_error_set(&e, rc == HL_ERR_TOO_LARGE ? HL_ERR_INVALID : rc,
			     "request path or query too long");
		rc = e.code;
		goto out;
	}
	struct fx x = {.f = f,
		       .method = method,
		       .path = path.data,
		       .query = query.data ? query.data : "",
		       .body = body,
		       .len = len,
		       .if_match = if_match,
		       .idem_key = key};
	rc = send_fx(&x, replay_safe, paged, deadline_ms, res, st, &e);
out:
	report(f, op, rc, &e, st, t0);
	hl_buf_free(&path);
	hl_buf_free(&query);
	if (err)
		*err = e;
	return rc;
}

static enum hl_err refuse(struct hl_error *err, const char *what)
{
	return hl_error_set(err, HL_ERR_INVALID, "invalid %s", what);
}

/* Where one interaction goes: [base]<type>/<id><suffix>, or [base]<suffix>
 * without a type. */
struct target {
	const char *op, *method;
	const char *type, *id, *suffix;
	bool paged;
	bool once; /* not sent again after an answer that may follow its effect */
};

static enum hl_err resource_call(struct hl_fhir *f, const struct target *t,
				 const char *raw_query, const char *body, size_t len,
				 const char *if_match, const char *key, int64_t deadline_ms,
				 struct hl_fhir_result *res, struct hl_call_stats *st,
				 struct hl_error *err)
{
	char rel[256];
	int k;
	memset(st, 0, sizeof(*st));
	if (t->type && !valid_type(t->type))
		return refuse(err, "resource type");
	if (t->type && !valid_id(t->id))
		return refuse(err, "resource id");
	if (t->type)
		k = snprintf(rel, sizeof(rel), "%s/%s%s", t->type, t->id, t->suffix);
	else
		k = snprintf(rel, sizeof(rel), "%s", t->suffix);
	if (k < 0 || (size_t)k >= sizeof(rel))
		return refuse(err, "path");
	return interact(f, t->op, t->method, rel, raw_query, body, len, if_match, key, t->paged,
			!t->once, deadline_ms, res, st, err);
}

static enum hl_err get(struct hl_fhir *f, const struct target *t, const char *raw_query,
		       int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	struct hl_call_stats st;
	return resource_call(f, t, raw_query, NULL, 0, NULL, NULL, deadline_ms, res, &st, err);
}

enum hl_err hl_fhir_capabilities(struct hl_fhir *f, int64_t deadline_ms,
				 struct hl_fhir_result *res, struct hl_error *err)
{
	const struct target t = {"capabilities", "GET", NULL, NULL, "metadata", false, false};
	return get(f, &t, NULL, deadline_ms, res, err);
}

enum hl_err hl_fhir_read(struct hl_fhir *f, const char *type, const char *id,
			 int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	const struct target t = {"read", "GET", type, id, "", false, false};
	return get(f, &t, NULL, deadline_ms, res, err);
}

enum hl_err hl_fhir_vread(struct hl_fhir *f, const char *type, const char *id, const char *vid,
			  int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	char suffix[80];
	if (!valid_id(vid))
		return refuse(err, "version id");
	snprintf(suffix, sizeof(suffix), "/_history/%s", vid);
	const struct target t = {"vread", "GET", type, id, suffix, false, false};
	return get(f, &t, NULL, deadline_ms, res, err);
}

enum hl_err hl_fhir_search(struct hl_fhir *f, const char *type, const char *raw_query,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	if (!valid_type(type))
		return refuse(err, "resource type");
	const struct target t = {"search", "GET", NULL, NULL, type, true, false};
	return get(f, &t, raw_query, deadline_ms, res, err);
}

enum hl_err hl_fhir_history(struct hl_fhir *f, const char *type, const char *id,
			    const char *raw_query, int64_t deadline_ms,
			    struct hl_fhir_result *res, struct hl_error *err)
{
	const struct target t = {"history", "GET", type, id, "/_history", true, false};
	return get(f, &t, raw_query, deadline_ms, res, err);
}

enum hl_err hl_fhir_everything(struct hl_fhir *f, const char *id, const char *raw_query,
			       int64_t deadline_ms, struct hl_fhir_result *res,
			       struct hl_error *err)
{
	const struct target t = {"everything", "GET", "Patient", id, "/$everything", true, false};
	return get(f, &t, raw_query, deadline_ms, res, err);
}

enum hl_err hl_fhir_next(struct hl_fhir *f, const struct hl_fhir_result *prev,
			 int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	char *path = NULL, *query = NULL;
	struct hl_call_stats st = {0};
	struct hl_error e;
	int64_t t0 = hl_now_ms();
	enum hl_err rc;

	hl_error_clear(&e);
	if (!prev || !prev->url || !prev->bundle.next_url) {
		rc = hl_error_set(&e, HL_ERR_INVALID, "no next page");
		goto out;
	}
	/* Service-supplied: it must not make us sign for another origin. */
	if ((rc = hl_query_next_link(prev->url, prev->bundle.next_url, &path, &query, &e)))
		goto out;
	struct fx x = {.f = f, .method = "GET", .path = path, .query = query};
	rc = send_fx(&x, true, true, deadline_ms, res, &st, &e);
out:
	report(f, "search", rc, &e, &st, t0);
	free(path);
	free(query);
	if (err)
		*err = e;
	return rc;
}

/* Equal as JSON apart from each object's top-level "meta" (which the server
 * sets) and number spelling. Used only to recognise our own write. */
static bool same_resource(const char *a, size_t alen, const char *b, size_t blen)
{
	cJSON *ja = NULL, *jb = NULL;
	bool same = false;
	if (hl_json_parse_object(a, alen, &ja, NULL) || hl_json_parse_object(b, blen, &jb, NULL))
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(ja, "meta");
	cJSON_DeleteItemFromObjectCaseSensitive(jb, "meta");
	same = cJSON_Compare(ja, jb, true);
out:
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return same;
}

/* After a 412 that may answer our own earlier, applied attempt: is the
 * version after if_match_version ours (our content)? 1 yes, 0 no (a real
 * conflict), -1 when that could not be read (*e says why): the write may
 * have been made, so it is not a conflict either. */
static int own_write(struct hl_fhir *f, const char *type, const char *id, const char *body,
		     size_t len, const char *if_match_version, int64_t deadline_ms,
		     struct hl_fhir_result *cur, struct hl_error *e)
{
	char *end = NULL;
	long long want = strtoll(if_match_version, &end, 10);
	if (!end || *end || want < 0)
		return 0;
	hl_http_sink sink = cur->sink;
	cur->sink = NULL;
	enum hl_err rc = hl_fhir_read(f, type, id, deadline_ms, cur, e);
	cur->sink = sink;
	if (rc == HL_ERR_NOT_FOUND)
		return 0; /* deleted since: whatever we made is gone, not overwritten by us */
	if (rc)
		return -1;
	long long have = strtoll(cur->version_id, &end, 10);
	if (!end || *end || have <= want)
		return 0;
	if (have == want + 1)
		return same_resource(cur->body.data, cur->body.len, body, len);
	/* Another write came after ours: ours, if applied, is version want + 1.
	 * Calling it a conflict would say "nothing overwritten" of a write that
	 * was made. cur keeps the current resource (the caller caches it). */
	char vid[32];
	struct hl_fhir_result v;
	hl_fhir_result_init(&v);
	snprintf(vid, sizeof(vid), "%lld", want + 1);
	rc = hl_fhir_vread(f, type, id, vid, deadline_ms, &v, e);
	int mine = rc == HL_ERR_OK ? same_resource(v.body.data, v.body.len, body, len)
	      : rc == HL_ERR_NOT_FOUND ? 0
				       : -1;
	hl_fhir_result_free(&v);
	return mine;
}

/* An update without If-Match is not replayed blindly: a replay of a write
 * whose answer was lost (or was a 5xx after the write) makes a second
 * version of it. After such an answer the resource is read: our content
 * there is our write; otherwise (absent, other content) it is sent again. A
 * read that fails leaves the update's own error. */
static enum hl_err put_unconditional(struct hl_fhir *f, const char *type, const char *id,
				     const char *body, size_t len, int64_t deadline_ms,
				     struct hl_fhir_result *res, struct hl_error *err)
{
	const struct target t = {"update", "PUT", type, id, "", false, true};
	struct hl_call_stats st;
	enum hl_err rc = HL_ERR_OK;
	int rounds = f->c->max_attempts > 0 ? f->c->max_attempts : 1;
	for (int k = 0; k < rounds; k++) {
		rc = resource_call(f, &t, NULL, body, len, NULL, NULL, deadline_ms, res, &st, err);
		if (rc == HL_ERR_OK || !st.maybe_applied)
			return rc;
		struct hl_fhir_result cur;
		struct hl_error e;
		hl_fhir_result_init(&cur);
		enum hl_err rrc = hl_fhir_read(f, type, id, deadline_ms, &cur, &e);
		bool mine = rrc == HL_ERR_OK && same_resource(cur.body.data, cur.body.len, body, len);
		if (mine) {
			hl_http_sink sink = res->sink;
			void *sink_arg = res->sink_arg;
			hl_fhir_result_free(res);
			*res = cur; /* the service's copy, as a successful PUT answers */
			res->sink = sink;
			res->sink_arg = sink_arg;
			res->replayed = true;
			if (err)
				hl_error_clear(err);
			return HL_ERR_OK;
		}
		hl_fhir_result_free(&cur);
		if (rrc != HL_ERR_OK && rrc != HL_ERR_NOT_FOUND)
			return rc;
	}
	return rc;
}

enum hl_err hl_fhir_update(struct hl_fhir *f, const char *type, const char *id,
			   const char *body, size_t len, const char *if_match_version,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	char if_match[80];
	struct hl_call_stats st;
	struct hl_error e;
	if (!body)
		return refuse(err, "body");
	if (if_match_version && !valid_id(if_match_version))
		return refuse(err, "version id");
	if (!if_match_version)
		return put_unconditional(f, type, id, body, len, deadline_ms, res, err);
	snprintf(if_match, sizeof(if_match), "W/\"%s\"", if_match_version);
	const struct target t = {"update", "PUT", type, id, "", false, false};
	enum hl_err rc = resource_call(f, &t, NULL, body, len, if_match, NULL, deadline_ms, res,
				       &st, err);
	if (rc != HL_ERR_PRECONDITION || !st.maybe_applied)
		return rc;
	hl_error_clear(&e);
	int mine = own_write(f, type, id, body, len, if_match_version, deadline_ms, res, &e);
	if (mine > 0) {
		res->replayed = true;
		res->attempts += st.attempts;
		if (err)
			hl_error_clear(err);
		rc = HL_ERR_OK;
	} else if (mine < 0) {
		rc = e.code ? e.code : HL_ERR_SERVER;
		if (err) {
			*err = e;
			err->code = rc;
			snprintf(err->message, sizeof(err->message),
				 "an answer was lost and whether the write was made could not be "
				 "read: %.400s",
				 e.message);
		}
	}
	return rc;
}

enum hl_err hl_fhir_create(struct hl_fhir *f, const char *type, const char *body, size_t len,
			   const char *key, int64_t deadline_ms, struct hl_fhir_result *res,
			   struct hl_error *err)
{
	char made[37];
	struct hl_call_stats st;
	enum hl_err rc;
	if (!body || !valid_type(type))
		return refuse(err, !body ? "body" : "resource type");
	if (!key) {
		if ((rc = hl_uuid4(made)))
			return hl_error_set(err, rc, "no randomness for the idempotency key");
		key = made;
	}
	if (!*key || strlen(key) > 64 || strpbrk(key, "\r\n"))
		return refuse(err, "idempotency key");
	const struct target t = {"create", "POST", NULL, NULL, type, false, false};
	return resource_call(f, &t, NULL, body, len, NULL, key, deadline_ms, res, &st, err);
}

enum hl_err hl_fhir_delete(struct hl_fhir *f, const char *type, const char *id,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err)
{
	struct hl_call_stats st;
	const struct target t = {"delete", "DELETE", type, id, "", false, false};
	return resource_call(f, &t, NULL, NULL, 0, NULL, NULL, deadline_ms, res, &st, err);
}
