/* The FHIR data plane's cache policy and calls. */
#include "fhirdata.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "fhir.h"
#include "footprint.h"
#include "keys.h"
#include "log.h"
#include "mount.h"
#include "pacer.h"
#include "stats.h"

struct client {
	char ds_id[64];
	struct hl_fhir *api;
	struct client *next;
};

struct hlfs_fhirs {
	pthread_mutex_t lock;
	struct hl_pacer pacer;
	struct client *head; /* protected by lock; freed at unmount only */
};

struct hlfs_fhirs *hlfs_fhirs_new(const struct hlfs_opts *o)
{
	struct hlfs_fhirs *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (hl_pacer_init(&f->pacer, o->fhir_tps) != HL_ERR_OK) {
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void hlfs_fhirs_free(struct hlfs_fhirs *f)
{
	if (!f)
		return;
	for (struct client *c = f->head, *next; c; c = next) {
		next = c->next;
		hl_fhir_free(c->api);
		free(c);
	}
	hl_pacer_destroy(&f->pacer);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* hl_fhir_options.on_call: /.stats and the -d line (no URL, no query). */
static void on_call(void *arg, const struct hl_call_info *info)
{
	struct hlfs_fs *fs = arg;
	hlfs_stats_on_fhir_call(fs->stats, info);
	hlfs_log_call(fs->log, info);
}

static struct hl_fhir *client_of(struct hlfs_fs *fs, const struct hl_datastore *ds)
{
	struct hlfs_fhirs *f = fs->fhir;
	struct hl_fhir *api = NULL;
	pthread_mutex_lock(&f->lock);
	for (struct client *c = f->head; c && !api; c = c->next)
		if (!strcmp(c->ds_id, ds->id))
			api = c->api;
	if (!api) {
		struct client *c = calloc(1, sizeof(*c));
		struct hl_error err;
		const struct hl_fhir_options opt = {
		    .datastore_endpoint = ds->endpoint,
		    .pacer = &f->pacer,
		    .on_call = on_call,
		    .on_call_arg = fs,
		};
		if (c && hl_fhir_new(fs->client, &opt, &c->api, &err) == HL_ERR_OK) {
			snprintf(c->ds_id, sizeof(c->ds_id), "%s", ds->id);
			c->next = f->head;
			f->head = c;
			api = c->api;
		} else {
			free(c);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return api;
}

/* ---- reasons ---- */

/* A reason travels through the cache as one string: the .error line, a
 * newline, the log line. */
static int reason(char *why, size_t whylen, const char *name, enum hlfs_fhir_op op,
		  enum hlfs_fhir_cond cond, const struct hl_error *err, const char *vid,
		  unsigned long long limit)
{
	struct hlfs_fhir_reason r;
	hlfs_fhir_reason(&r, op, cond, err, vid, limit);
	snprintf(why, whylen, "%s: %s\n%s", name, r.line, r.log);
	return -r.err;
}

/* Fills res from a reason made by reason(): recorded in dk. */
static int fail_res(struct hlfs_res *res, int rc, const char *dk, const char *why)
{
	const char *nl = strrchr(why, '\n');
	hlfs_res_fail(res, rc, dk, "%.*s", nl ? (int)(nl - why) : (int)strlen(why), why);
	snprintf(res->log, sizeof(res->log), "%s", nl ? nl + 1 : "fhir: failed");
	return -res->err;
}

int hlfs_fhir_refuse(struct hlfs_res *res, const char *dk, const char *name,
		     enum hlfs_fhir_op op, enum hlfs_fhir_cond cond, const char *detail,
		     unsigned long long limit)
{
	char why[HLFS_WHY_MAX];
	struct hl_error err;
	hl_error_clear(&err);
	if (detail)
		snprintf(err.message, sizeof(err.message), "%s", detail);
	int rc = reason(why, sizeof(why), name, op, cond, detail ? &err : NULL, NULL, limit);
	return fail_res(res, rc, dk, why);
}

/* ---- context ---- */

/* How old the newest known properties of n's store are (listing or
 * description), on the clock of ttls. */
static int64_t known_age(struct hlfs_fs *fs, const struct hlfs_treenode *n)
{
	char key[HLFS_KEY_MAX];
	struct hlfs_cval *dv = NULL;
	int64_t at = ((const struct hlfs_dslist *)n->lv->data)->fetched_ms, dat = 0;
	struct hlfs_key k = {.kind = HLFS_K_DATASTORE, .ds_id = n->ds->id};
	if (hlfs_key_format(&k, key, sizeof(key)) == 0 &&
	    hlfs_cache_peek(fs->cache, key, &dv, &dat) == 0) {
		if (dat > at)
			at = dat;
		hlfs_cval_unref(dv);
	}
	return hlfs_now(fs) - at;
}

int hlfs_fctx_init(struct hlfs_fctx *x, struct hlfs_fs *fs, const struct hlfs_treenode *n,
		   bool create, int64_t deadline, struct hlfs_res *res)
{
	const char *why = NULL, *sub = n->p.sub;
	struct hlfs_cval *hold = NULL;
	memset(x, 0, sizeof(*x));
	x->fs = fs;
	x->deadline = deadline;
	if (!n->ds)
		return hlfs_res_errno(res, -ENOENT);
	/* The newest properties known: a store created through the mount is
	 * ACTIVE as soon as its status file says so. */
	const struct hl_datastore *ds = hlfs_props(fs, n, &hold);
	bool active = ds->status && !strcmp(ds->status, "ACTIVE");
	hlfs_cval_unref(hold);
	if (!active && known_age(fs, n) > fs->list_ttl_ms) {
		/* What is known says otherwise, but it is old: a listing patched
		 * at mkdir is kept for lookups however old, and the description
		 * may have been evicted. Ask (Describe when stale). */
		char dwhy[HLFS_WHY_MAX];
		if (hlfs_get_datastore(fs, n, deadline, &hold, dwhy) == 0) {
			ds = hold->data;
			active = ds->status && !strcmp(ds->status, "ACTIVE");
			hlfs_cval_unref(hold);
		}
	}
	ds = n->ds; /* id and endpoint never change */
	if (!active)
		return hlfs_res_errno(res, -ENOENT); /* fhir/ is there while the store is ACTIVE */
	snprintf(x->ds_id, sizeof(x->ds_id), "%s", ds->id);
	snprintf(x->fhir_dk, sizeof(x->fhir_dk), "%s/fhir", ds->id);
	const char *last = strrchr(sub, '/');
	const char *leaf = last ? last + 1 : sub;
	if (strlen(leaf) >= sizeof(x->name))
		return hlfs_res_errno(res, -ENAMETOOLONG);
	memcpy(x->name, leaf, strlen(leaf) + 1);
	int rc = hlfs_fhirpath_parse(sub, create, &x->fp, &why);
	/* The type comes from the first component, also when a later part
	 * (a search's query, a created file's id) is refused: that reason
	 * belongs in the type's .error. */
	size_t tn = strcspn(sub, "/?");
	if (hlfs_fhir_type_r4(sub, tn))
		snprintf(x->type_dk, sizeof(x->type_dk), "%s/fhir/%.*s", ds->id, (int)tn, sub);
	if (rc == -EINVAL)
		return hlfs_res_fail(res, rc, x->type_dk[0] ? x->type_dk : x->fhir_dk, "%s", why);
	if (rc)
		return hlfs_res_errno(res, rc);
	if (x->fp.leaf.kind == HLFS_FK_EVERYTHING) /* the patient it is of */
		memcpy(x->fp.owner_id, x->fp.leaf.id, sizeof(x->fp.owner_id));
	if (x->fp.query) {
		rc = hlfs_fhirquery_parse(x->fp.query, x->fp.query_len, HLFS_FQ_USER, &x->q, &why);
		if (rc == -EINVAL)
			return hlfs_res_fail(res, rc, x->type_dk, "search: %s", why);
		if (rc)
			return hlfs_res_errno(res, rc);
		x->has_q = true;
	}
	if (!(x->api = client_of(fs, ds)))
		return hlfs_res_fail(res, -EIO, x->fhir_dk, "fhir: cannot set up the FHIR client");
	return 0;
}

void hlfs_fctx_fini(struct hlfs_fctx *x)
{
	if (x->has_q)
		hlfs_fhirquery_free(&x->q);
	x->has_q = false;
}

/* ---- keys ---- */

#define FKEY_MAX 4096

/* "f/<ds>/<rest>" of x's store. */
static int fkey(const struct hlfs_fctx *x, char *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fkey(const struct hlfs_fctx *x, char *out, const char *fmt, ...)
{
	char rest[FKEY_MAX];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(rest))
		return -ENAMETOOLONG;
	struct hlfs_key k = {.kind = HLFS_K_FHIR, .ds_id = x->ds_id, .rest = rest};
	return hlfs_key_format(&k, out, FKEY_MAX);
}

/* ---- calls ---- */

struct fetch {
	struct hlfs_fctx *x;
	const char *type, *id, *vid;
	enum hlfs_fsrc src;
	size_t k;
	struct hlfs_cval *prev; /* page k-1 when the caller holds it */
};

static void begin(struct hlfs_fs *fs, struct hl_error *err, struct hl_fhir_result *r)
{
	hl_error_clear(err);
	hl_fhir_result_init(r);
	hlfs_stats_inflight(fs->stats, 1);
}

static void end(struct hlfs_fs *fs, struct hl_fhir_result *r)
{
	hlfs_stats_inflight(fs->stats, -1);
	hl_fhir_result_free(r);
}

static struct hlfs_cval *fres_cval(struct hlfs_fres *r, size_t extra)
{
	return hlfs_cval_new(r, r->cost + extra, hlfs_fres_free);
}

static int fetch_cap(void *arg, struct hlfs_cval **ret, char *why, size_t whylen)
{
	struct fetch *f = arg;
	struct hl_fhir_result r;
	struct hl_error err;
	struct hlfs_fcap *cap = NULL;
	begin(f->x->fs, &err, &r);
	enum hl_err e = hl_fhir_capabilities(f->x->api, f->x->deadline, &r, &err);
	int rc = e ? reason(why, whylen, "metadata.json", HLFS_FOP_CAPABILITIES, HLFS_FC_NONE,
			    &err, NULL, 0)
		   : hlfs_fcap_new(r.body.data, r.body.len, &cap);
	if (rc == -EIO && !e)
		rc = reason(why, whylen, "metadata.json", HLFS_FOP_CAPABILITIES,
			    HLFS_FC_BAD_BUNDLE, NULL, NULL, 0);
	end(f->x->fs, &r);
	if (rc)
		return rc;
	if (!(*ret = hlfs_cval_new(cap, cap->cost, hlfs_fcap_free)))
		return -ENOMEM;
	(*ret)->immutable = true; /* the service's capabilities do not change under a mount */
	return 0;
}

int hlfs_fhir_cap(struct hlfs_fctx *x, struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[FKEY_MAX], why[HLFS_WHY_MAX] = "";
	struct fetch f = {.x = x};
	int rc = fkey(x, key, "M");
	if (rc == 0)
		rc = hlfs_cache_get(x->fs->cache, key, 0, x->deadline, fetch_cap, &f, ret, why,
				    sizeof(why));
	return rc ? fail_res(res, rc, x->fhir_dk, why) : 0;
}

int hlfs_fhir_type_ok(struct hlfs_fctx *x, const char *type, struct hlfs_res *res)
{
	struct hlfs_cval *cv = NULL;
	int rc = hlfs_fhir_cap(x, &cv, res);
	if (rc)
		return rc;
	bool ok = hlfs_fcap_has(cv->data, type);
	hlfs_cval_unref(cv);
	return ok ? 0 : hlfs_res_errno(res, -ENOENT);
}

static int fetch_resource(void *arg, struct hlfs_cval **ret, char *why, size_t whylen)
{
	struct fetch *f = arg;
	struct hl_fhir_result r;
	struct hl_error err;
	struct hlfs_fres *fr = NULL;
	char name[HLFS_FHIR_NAME_MAX + 1];
	hlfs_fhirname_resource(f->vid ? f->vid : f->id, name, sizeof(name));
	begin(f->x->fs, &err, &r);
	enum hl_err e =
	    f->vid ? hl_fhir_vread(f->x->api, f->type, f->id, f->vid, f->x->deadline, &r, &err)
		   : hl_fhir_read(f->x->api, f->type, f->id, f->x->deadline, &r, &err);
	if (e == HL_ERR_NOT_FOUND && !f->vid) {
		/* Absent is an answer too, kept like a resource for attr_ttl: cp's
		 * stat and then its create's lookup ask once. A write drops it. */
		end(f->x->fs, &r);
		if (!(fr = calloc(1, sizeof(*fr))))
			return -ENOMEM;
		fr->cost = hlfs_alloc_cost(sizeof(*fr));
		fr->mtime = -1;
		return (*ret = fres_cval(fr, 0)) ? 0 : -ENOMEM;
	}
	int rc = e ? reason(why, whylen, name, f->vid ? HLFS_FOP_VREAD : HLFS_FOP_READ,
			    HLFS_FC_NONE, &err, NULL, 0)
		   : hlfs_fres_new(r.body.data, r.body.len, &fr);
	if (rc == -EIO && !e)
		rc = reason(why, whylen, name, f->vid ? HLFS_FOP_VREAD : HLFS_FOP_READ,
			    HLFS_FC_BAD_BUNDLE, NULL, NULL, 0);
	end(f->x->fs, &r);
	if (rc)
		return rc;
	/* The kernel may hold a node for the file. */
	if (!(*ret = fres_cval(fr, HLFS_NODE_BYTES)))
		return -ENOMEM;
	(*ret)->immutable = f->vid != NULL; /* a version never changes */
	return 0;
}

static int get_resource(struct hlfs_fctx *x, const char *type, const char *id, const char *vid,
			struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[FKEY_MAX], why[HLFS_WHY_MAX] = "";
	struct fetch f = {.x = x, .type = type, .id = id, .vid = vid};
	int rc = vid ? fkey(x, key, "V/%s/%s/%s", type, id, vid) : fkey(x, key, "R/%s/%s", type, id);
	if (rc == 0)
		rc = hlfs_cache_get(x->fs->cache, key, x->fs->attr_ttl_ms, x->deadline,
				    fetch_resource, &f, ret, why, sizeof(why));
	if (rc == 0 && !((const struct hlfs_fres *)(*ret)->data)->bytes) {
		hlfs_cval_unref(*ret); /* known to be absent */
		*ret = NULL;
		rc = -ENOENT;
	}
	if (rc == -ENOENT)
		return hlfs_res_errno(res, rc); /* a lookup's answer, not a failure */
	return rc ? fail_res(res, rc, x->type_dk, why) : 0;
}

int hlfs_fhir_resource(struct hlfs_fctx *x, const char *type, const char *id,
		       struct hlfs_cval **ret, struct hlfs_res *res)
{
	return get_resource(x, type, id, NULL, ret, res);
}

int hlfs_fhir_version(struct hlfs_fctx *x, const char *type, const char *id, const char *vid,
		      struct hlfs_cval **ret, struct hlfs_res *res)
{
	return get_resource(x, type, id, vid, ret, res);
}

/* ---- pages ---- */

static int page_key(const struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k, char *key)
{
	switch (src) {
	case HLFS_FS_TYPE:
		return fkey(x, key, "P/%s?#%zu", x->fp.type, k);
	case HLFS_FS_SEARCH:
		return fkey(x, key, "P/%s?%s#%zu", x->fp.type, x->q.key, k);
	case HLFS_FS_HISTORY:
		return fkey(x, key, "H/%s/%s#%zu", x->fp.type, x->fp.owner_id, k);
	case HLFS_FS_EVERYTHING:
		return fkey(x, key, "E/%s#%zu", x->fp.owner_id, k);
	}
	return -EINVAL;
}

static enum hlfs_fhir_op src_op(enum hlfs_fsrc src)
{
	return src == HLFS_FS_HISTORY	   ? HLFS_FOP_HISTORY
	       : src == HLFS_FS_EVERYTHING ? HLFS_FOP_EVERYTHING
					   : HLFS_FOP_SEARCH;
}

static const char *src_name(enum hlfs_fsrc src)
{
	return src == HLFS_FS_TYPE	   ? "listing"
	       : src == HLFS_FS_SEARCH	   ? "search"
	       : src == HLFS_FS_HISTORY	   ? "history"
					   : "everything";
}

/* Page 0: the interaction itself. */
static enum hl_err first_page(struct hlfs_fctx *x, enum hlfs_fsrc src, struct hl_fhir_result *r,
			      struct hl_error *err)
{
	static const char count[] = "_count=100";
	switch (src) {
	case HLFS_FS_TYPE:
		return hl_fhir_search(x->api, x->fp.type, count, x->deadline, r, err);
	case HLFS_FS_SEARCH: {
		char *q = hlfs_fhirquery_wire_count(&x->q, HLFS_FHIR_PAGE);
		if (!q)
			return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		enum hl_err e = hl_fhir_search(x->api, x->fp.type, q, x->deadline, r, err);
		free(q);
		return e;
	}
	case HLFS_FS_HISTORY:
		return hl_fhir_history(x->api, x->fp.type, x->fp.owner_id, count, x->deadline, r,
				       err);
	case HLFS_FS_EVERYTHING:
		return hl_fhir_everything(x->api, x->fp.owner_id, count, x->deadline, r, err);
	}
	return hl_error_set(err, HL_ERR_INVALID, "no such source");
}

/* Moves the files a page carries into the cache, where reads find them. */
static void fill_cache(struct hlfs_fctx *x, enum hlfs_fsrc src, struct hlfs_fpage *p)
{
	char key[FKEY_MAX];
	int64_t now = hlfs_now(x->fs);
	for (size_t i = 0; i < p->n; i++) {
		struct hlfs_fentry *e = &p->e[i];
		if (!e->res)
			continue;
		int rc = src == HLFS_FS_HISTORY
			     ? fkey(x, key, "V/%s/%s/%s", x->fp.type, x->fp.owner_id, e->id)
			     : fkey(x, key, "R/%s/%s", x->fp.type, e->id);
		struct hlfs_cval *cv = rc ? NULL : fres_cval(e->res, HLFS_NODE_BYTES);
		e->res = NULL; /* the value owns it now, or it was freed */
		if (!cv)
			continue;
		cv->immutable = src == HLFS_FS_HISTORY;
		(void)hlfs_cache_put(x->fs->cache, key, cv, now);
		hlfs_cval_unref(cv);
	}
}

static int peek_page(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k, struct hlfs_cval **ret)
{
	char key[FKEY_MAX];
	int rc = page_key(x, src, k, key);
	return rc ? rc : hlfs_cache_peek(x->fs->cache, key, ret, NULL);
}

/* Whether page k (p, just fetched) is page k/2 again: next links that
 * cycle (1 -> 2 -> 1) repeat a URL, and a cycle of length L from page m
 * shows at the first even k with k/2 >= m and L dividing k/2 (Floyd's
 * test), within 2 (m + L) pages. Page k/2 gone from the cache: no test. */
static bool looped(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k, const struct hlfs_fpage *p)
{
	char key[FKEY_MAX];
	struct hlfs_cval *half = NULL;
	if (k < 2 || k % 2 || !p->url || page_key(x, src, k / 2, key) != 0 ||
	    hlfs_cache_peek(x->fs->cache, key, &half, NULL) != 0)
		return false;
	const struct hlfs_fpage *h = half->data;
	bool same = h->url && !strcmp(h->url, p->url);
	hlfs_cval_unref(half);
	return same;
}

static int fetch_page(void *arg, struct hlfs_cval **ret, char *why, size_t whylen)
{
	struct fetch *f = arg;
	struct hlfs_fctx *x = f->x;
	struct hl_fhir_result r;
	struct hl_error err;
	struct hlfs_cval *prev = NULL;
	struct hlfs_fpage *p = NULL;
	struct hlfs_res pres;
	/* The reason names the directory or stream read ("Patient",
	 * "p1.history", "all.ndjson"); the interaction follows it. */
	const char *name = x->name[0] ? x->name : src_name(f->src);
	enum hlfs_fhir_op op = src_op(f->src);
	int rc = 0;
	if (f->k > 0 && f->prev) {
		prev = hlfs_cval_ref(f->prev);
	} else if (f->k > 0 && peek_page(x, f->src, f->k - 1, &prev) == 0) {
		/* The page before, however old: its next link goes on where it
		 * ended, and asking for it fresh would walk back to page 0. */
	} else if (f->k > 0) {
		rc = hlfs_fhir_page(x, f->src, f->k - 1, &prev, &pres);
		if (rc) {
			if (pres.why[0]) /* a failure, as the page before it left it */
				snprintf(why, whylen, "%s\n%s", pres.why, pres.log);
			return rc;
		}
	}
	if (prev) {
		const struct hlfs_fpage *pp = prev->data;
		if (!pp->next) {
			hlfs_cval_unref(prev);
			return -ENOENT;
		}
		if (f->k >= HLFS_FHIR_MAX_PAGES || (pp->url && !strcmp(pp->next, pp->url))) {
			hlfs_cval_unref(prev);
			return reason(why, whylen, name, op, HLFS_FC_BAD_BUNDLE, NULL, NULL, 0);
		}
	}
	begin(x->fs, &err, &r);
	enum hl_err e;
	if (prev) {
		struct hl_fhir_result link;
		const struct hlfs_fpage *pp = prev->data;
		hl_fhir_result_init(&link);
		link.url = pp->url;
		link.bundle.next_url = pp->next;
		e = hl_fhir_next(x->api, &link, x->deadline, &r, &err);
		hlfs_cval_unref(prev);
	} else {
		e = first_page(x, f->src, &r, &err);
	}
	int flags = f->src == HLFS_FS_TYPE	  ? HLFS_PG_RESOURCES
		    : f->src == HLFS_FS_SEARCH	  ? HLFS_PG_LINES
		    : f->src == HLFS_FS_HISTORY	  ? HLFS_PG_RESOURCES | HLFS_PG_HISTORY
						  : HLFS_PG_LINES;
	if (e == HL_ERR_NOT_FOUND && !prev)
		rc = -ENOENT; /* no such resource (a history, an everything): a lookup's answer */
	else if (e == HL_ERR_PROTOCOL)
		rc = reason(why, whylen, name, op,
			    err.http_status ? HLFS_FC_BAD_BUNDLE : HLFS_FC_FOREIGN_LINK, NULL, NULL,
			    0);
	else if (e)
		rc = reason(why, whylen, name, op, HLFS_FC_NONE, &err, NULL, 0);
	else if ((rc = hlfs_fpage_new(r.body.data, &r.bundle, r.url,
				      f->src == HLFS_FS_EVERYTHING ? "" : x->fp.type, flags, &p)))
		rc = rc == -ENOMEM ? rc
				   : reason(why, whylen, name, op, HLFS_FC_BAD_BUNDLE, NULL, NULL, 0);
	end(x->fs, &r);
	if (rc == 0 && looped(x, f->src, f->k, p)) {
		hlfs_fpage_free(p);
		rc = reason(why, whylen, name, op, HLFS_FC_BAD_BUNDLE, NULL, NULL, 0);
	}
	if (rc)
		return rc;
	fill_cache(x, f->src, p);
	size_t listed = 0;
	for (size_t i = 0; i < p->n; i++)
		listed += p->e[i].id != NULL;
	if (!(*ret = hlfs_cval_new(p, p->cost + listed * HLFS_NODE_BYTES, hlfs_fpage_free)))
		return -ENOMEM;
	return 0;
}

int hlfs_fhir_page_after(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k,
			 struct hlfs_cval *prev, struct hlfs_cval **ret, struct hlfs_res *res)
{
	char key[FKEY_MAX], why[HLFS_WHY_MAX] = "";
	struct fetch f = {.x = x, .src = src, .k = k, .prev = prev};
	int rc = page_key(x, src, k, key);
	if (rc == 0)
		rc = hlfs_cache_get(x->fs->cache, key, x->fs->list_ttl_ms, x->deadline, fetch_page,
				    &f, ret, why, sizeof(why));
	if (rc == -ENOENT && !strchr(why, '\n'))
		return hlfs_res_errno(res, rc); /* past the last page */
	return rc ? fail_res(res, rc, x->type_dk, why) : 0;
}

int hlfs_fhir_page(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k, struct hlfs_cval **ret,
		   struct hlfs_res *res)
{
	return hlfs_fhir_page_after(x, src, k, NULL, ret, res);
}

/* ---- writes ---- */

/* What a change of type/id makes stale: its listings, searches, history and
 * every $everything of the store. */
static void drop_after_write(struct hlfs_fctx *x, const char *type, const char *id)
{
	char key[FKEY_MAX];
	if (fkey(x, key, "P/%s?", type) == 0)
		hlfs_cache_invalidate_prefix(x->fs->cache, key);
	if (fkey(x, key, "H/%s/%s#", type, id) == 0)
		hlfs_cache_invalidate_prefix(x->fs->cache, key);
	if (fkey(x, key, "E/") == 0)
		hlfs_cache_invalidate_prefix(x->fs->cache, key);
	if (fkey(x, key, "R/%s/%s", type, id) == 0)
		hlfs_cache_invalidate(x->fs->cache, key);
}

/* Puts the service's answer (a resource) as the cached copy. */
static void put_answer(struct hlfs_fctx *x, const char *type, const char *id,
		       const struct hl_buf *body)
{
	char key[FKEY_MAX];
	struct hlfs_fres *fr = NULL;
	if (!body->len || hlfs_fres_new(body->data, body->len, &fr) != 0 ||
	    fkey(x, key, "R/%s/%s", type, id) != 0) {
		hlfs_fres_free(fr);
		return;
	}
	struct hlfs_cval *cv = fres_cval(fr, HLFS_NODE_BYTES);
	if (cv) {
		(void)hlfs_cache_put(x->fs->cache, key, cv, hlfs_now(x->fs));
		hlfs_cval_unref(cv);
	}
}

int hlfs_fhir_put(struct hlfs_fctx *x, const char *type, const char *id, const char *body,
		  size_t len, const char *if_match, const char *name, struct hlfs_res *res)
{
	struct hl_fhir_result r;
	struct hl_error err;
	char why[HLFS_WHY_MAX];
	int rc = 0;
	begin(x->fs, &err, &r);
	enum hl_err e = hl_fhir_update(x->api, type, id, body, len, if_match, x->deadline, &r, &err);
	drop_after_write(x, type, id); /* whatever happened, the service may have changed */
	if (e == HL_ERR_OK) {
		put_answer(x, type, id, &r.body);
	} else if (e == HL_ERR_PRECONDITION) {
		/* Name the version that is there now: one read, which also
		 * refreshes the cached copy the user will look at next. */
		struct hl_fhir_result cur;
		struct hl_error cerr;
		hl_fhir_result_init(&cur);
		hl_error_clear(&cerr);
		char vid[HLFS_FHIR_ID_MAX + 1] = "";
		if (hl_fhir_read(x->api, type, id, x->deadline, &cur, &cerr) == HL_ERR_OK) {
			snprintf(vid, sizeof(vid), "%s", cur.version_id);
			put_answer(x, type, id, &cur.body);
		}
		hl_fhir_result_free(&cur);
		rc = reason(why, sizeof(why), name, HLFS_FOP_UPDATE, HLFS_FC_NONE, &err, vid, 0);
	} else {
		rc = reason(why, sizeof(why), name, HLFS_FOP_UPDATE, HLFS_FC_NONE, &err, NULL, 0);
	}
	end(x->fs, &r);
	return rc ? fail_res(res, rc, x->type_dk, why) : 0;
}

int hlfs_fhir_delete(struct hlfs_fctx *x, const char *type, const char *id, const char *name,
		     struct hlfs_res *res)
{
	struct hl_fhir_result r;
	struct hl_error err;
	char why[HLFS_WHY_MAX];
	int rc = 0;
	begin(x->fs, &err, &r);
	enum hl_err e = hl_fhir_delete(x->api, type, id, x->deadline, &r, &err);
	drop_after_write(x, type, id);
	if (e)
		rc = reason(why, sizeof(why), name, HLFS_FOP_DELETE, HLFS_FC_NONE, &err, NULL, 0);
	end(x->fs, &r);
	return rc ? fail_res(res, rc, x->type_dk, why) : 0;
}
