#include "cache.h"

#include "result.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "healthlake.h"

#define ENTRY_OVERHEAD 96

struct flight;

struct entry {
	char *key;
	struct hlfs_cval *val; /* NULL until the first fetch succeeds */
	int64_t fetched_ms;
	struct flight *flight;	   /* running fetch, or NULL */
	struct entry *hnext;	   /* hash chain */
	struct entry *prev, *next; /* LRU: head is most recent */
	size_t charged;
};

/* One fetch in progress, shared by its starter and its waiters. */
struct flight {
	pthread_cond_t cond;
	int refs; /* starter + waiters; protected by c->lock */
	bool done;
	bool detached;	     /* entry invalidated or replaced: do not store */
	struct entry *entry; /* valid while !detached */
	int rc;
	struct hlfs_cval *val;
	char why[HLFS_WHY_MAX]; /* whole: a reason is never cut here */
};

struct hlfs_cache {
	pthread_mutex_t lock;
	struct entry **buckets; /* protected by lock, as is everything below */
	size_t nbuckets;
	struct entry *head, *tail;
	size_t max_bytes;
	struct hlfs_cache_counters ctr;
	int64_t (*now_ms)(void *);
	void *now_arg;
	void (*on_evict)(void *, const char *);
	void *evict_arg;
};

struct hlfs_cval *hlfs_cval_new(void *data, size_t size, void (*free_fn)(void *))
{
	struct hlfs_cval *v = calloc(1, sizeof(*v));
	if (!v) {
		if (free_fn)
			free_fn(data);
		return NULL;
	}
	atomic_init(&v->refs, 1);
	v->data = data;
	v->size = size;
	v->free_fn = free_fn;
	return v;
}

struct hlfs_cval *hlfs_cval_ref(struct hlfs_cval *v)
{
	if (v)
		atomic_fetch_add(&v->refs, 1);
	return v;
}

void hlfs_cval_unref(struct hlfs_cval *v)
{
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	if (v->free_fn)
		v->free_fn(v->data);
	free(v);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct hlfs_cache *hlfs_cache_new(size_t max_bytes, int64_t (*now_ms)(void *), void *now_arg)
{
	struct hlfs_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->max_bytes = max_bytes;
	c->now_ms = now_ms;
	c->now_arg = now_arg;
	return c;
}

static struct entry **slot(struct hlfs_cache *c, const char *key)
{
	struct entry **p = &c->buckets[hash(key) & (c->nbuckets - 1)];
	while (*p && strcmp((*p)->key, key))
		p = &(*p)->hnext;
	return p;
}

static void lru_unlink(struct hlfs_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else if (c->head == e)
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (c->tail == e)
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_front(struct hlfs_cache *c, struct entry *e)
{
	lru_unlink(c, e);
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void charge(struct hlfs_cache *c, struct entry *e)
{
	c->ctr.bytes -= e->charged;
	e->charged = ENTRY_OVERHEAD + strlen(e->key) + (e->val ? e->val->size : 0);
	c->ctr.bytes += e->charged;
}

/* Unhooks e from hash and LRU, detaches its flight, frees it. */
static void remove_entry(struct hlfs_cache *c, struct entry *e)
{
	struct entry **p = slot(c, e->key);
	if (*p == e)
		*p = e->hnext;
	lru_unlink(c, e);
	if (e->flight) {
		e->flight->detached = true;
		e->flight->entry = NULL;
	}
	c->ctr.bytes -= e->charged;
	c->ctr.entries--;
	hlfs_cval_unref(e->val);
	free(e->key);
	free(e);
}

static void grow(struct hlfs_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i];
		while (e) {
			struct entry *next = e->hnext;
			size_t k = hash(e->key) & (n - 1);
			e->hnext = b[k];
			b[k] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static struct entry *add_entry(struct hlfs_cache *c, const char *key)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = strdup(key);
	if (!e->key) {
		free(e);
		return NULL;
	}
	if (c->ctr.entries + 1 > c->nbuckets * 2)
		grow(c);
	struct entry **p = slot(c, key);
	e->hnext = *p;
	*p = e;
	c->ctr.entries++;
	lru_front(c, e);
	charge(c, e);
	return e;
}

/* Drops least recently used entries (not ones being fetched) over the bound. */
static void evict(struct hlfs_cache *c, const struct entry *keep)
{
	struct entry *e = c->tail;
	while (e && c->ctr.bytes > c->max_bytes) {
		struct entry *prev = e->prev;
		if (!e->flight && e != keep && !(e->val && e->val->pinned)) {
			if (c->on_evict)
				c->on_evict(c->evict_arg, e->key);
			remove_entry(c, e);
		}
		e = prev;
	}
}

static bool fresh(const struct hlfs_cache *c, const struct entry *e, int64_t ttl_ms)
{
	if (!e->val)
		return false;
	if (e->val->immutable)
		return true;
	return ttl_ms > 0 && c->now_ms(c->now_arg) < e->fetched_ms + ttl_ms;
}

static void flight_put(struct flight *f)
{
	if (--f->refs > 0)
		return;
	hlfs_cval_unref(f->val);
	pthread_cond_destroy(&f->cond);
	free(f);
}

/* Waits (lock held) until f is done or the deadline passes. The deadline is
 * in the cache's clock; it is turned into a real monotonic instant once. */
static int wait_flight(struct hlfs_cache *c, struct flight *f, int64_t deadline_ms)
{
	struct timespec ts;
	if (deadline_ms != 0) {
		int64_t left = deadline_ms - c->now_ms(c->now_arg);
		if (left <= 0)
			return f->done ? 0 : -ETIMEDOUT;
		hl_mono_after(left, &ts);
	}
	while (!f->done) {
		if (deadline_ms == 0)
			pthread_cond_wait(&f->cond, &c->lock);
		else if (pthread_cond_timedwait(&f->cond, &c->lock, &ts) == ETIMEDOUT && !f->done)
			return -ETIMEDOUT;
	}
	return 0;
}

int hlfs_cache_get(struct hlfs_cache *c, const char *key, int64_t ttl_ms, int64_t deadline_ms,
		   hlfs_fetch_fn *fetch, void *arg, struct hlfs_cval **ret, char *why,
		   size_t whylen)
{
	struct flight *f = NULL;
	int rc;

	pthread_mutex_lock(&c->lock);
	struct entry *e = *slot(c, key);
	if (e && fresh(c, e, ttl_ms)) {
		c->ctr.hits++;
		lru_front(c, e);
		*ret = hlfs_cval_ref(e->val);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (e && e->flight) {
		c->ctr.coalesced++;
		f = e->flight;
		f->refs++;
		rc = wait_flight(c, f, deadline_ms);
		if (rc == 0) {
			rc = f->rc;
			if (rc == 0)
				*ret = hlfs_cval_ref(f->val);
			else if (why && whylen)
				snprintf(why, whylen, "%s", f->why);
		} else if (why && whylen) {
			snprintf(why, whylen, "timed out waiting for a request in flight");
		}
		flight_put(f);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	c->ctr.misses++;
	if (!e)
		e = add_entry(c, key);
	f = e ? calloc(1, sizeof(*f)) : NULL;
	if (!f) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	f->refs = 1;
	f->entry = e;
	e->flight = f;
	pthread_mutex_unlock(&c->lock);

	struct hlfs_cval *v = NULL;
	rc = fetch(arg, &v, f->why, sizeof(f->why));
	if (rc == 0 && !v)
		rc = -EIO;

	pthread_mutex_lock(&c->lock);
	f->done = true;
	f->rc = rc;
	f->val = rc == 0 ? v : NULL;
	if (rc != 0)
		hlfs_cval_unref(v);
	if (!f->detached) {
		e = f->entry;
		e->flight = NULL;
		if (rc == 0) {
			hlfs_cval_unref(e->val);
			e->val = hlfs_cval_ref(v);
			/* Age counts from the answer, not from the fetch's start:
			 * a call that queued behind a pacer for longer than the
			 * ttl would otherwise arrive stale and be fetched again
			 * by the next reader. A change made here meanwhile
			 * detached the fetch (above), so nothing older than the
			 * call is kept. */
			e->fetched_ms = c->now_ms(c->now_arg);
			charge(c, e);
			evict(c, e);
		} else if (!e->val) {
			remove_entry(c, e);
		}
	}
	if (rc == 0)
		*ret = hlfs_cval_ref(v);
	else if (why && whylen)
		snprintf(why, whylen, "%s", f->why);
	pthread_cond_broadcast(&f->cond);
	flight_put(f);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int hlfs_cache_peek(struct hlfs_cache *c, const char *key, struct hlfs_cval **ret,
		    int64_t *ret_fetched_ms)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&c->lock);
	struct entry *e = *slot(c, key);
	if (e && e->val) {
		*ret = hlfs_cval_ref(e->val);
		if (ret_fetched_ms)
			*ret_fetched_ms = e->fetched_ms;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int hlfs_cache_put(struct hlfs_cache *c, const char *key, struct hlfs_cval *v, int64_t fetched_ms)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = *slot(c, key);
	if (!e)
		e = add_entry(c, key);
	if (!e) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	if (e->flight) { /* the running fetch may predate this change */
		e->flight->detached = true;
		e->flight->entry = NULL;
		e->flight = NULL;
	}
	hlfs_cval_unref(e->val);
	e->val = hlfs_cval_ref(v);
	e->fetched_ms = fetched_ms;
	lru_front(c, e);
	charge(c, e);
	evict(c, e);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int hlfs_cache_touch(struct hlfs_cache *c, const char *key, size_t size)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	struct entry *e = *slot(c, key);
	if (e) { /* without a value it is being fetched, which will do */
		if (e->val)
			lru_front(c, e);
		goto out;
	}
	struct hlfs_cval *v = hlfs_cval_new(NULL, size, NULL);
	if (v)
		e = add_entry(c, key);
	if (!e || !v) {
		hlfs_cval_unref(v);
		rc = -ENOMEM;
		goto out;
	}
	v->immutable = true;
	e->val = v;
	e->fetched_ms = c->now_ms(c->now_arg);
	lru_front(c, e);
	charge(c, e);
	evict(c, e);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void hlfs_cache_on_evict(struct hlfs_cache *c, void (*fn)(void *arg, const char *key), void *arg)
{
	c->on_evict = fn;
	c->evict_arg = arg;
}

void hlfs_cache_invalidate(struct hlfs_cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = *slot(c, key);
	if (e)
		remove_entry(c, e);
	pthread_mutex_unlock(&c->lock);
}

void hlfs_cache_invalidate_prefix(struct hlfs_cache *c, const char *prefix)
{
	size_t n = strlen(prefix);
	pthread_mutex_lock(&c->lock);
	struct entry *e = c->head;
	while (e) {
		struct entry *next = e->next;
		if (!strncmp(e->key, prefix, n))
			remove_entry(c, e);
		e = next;
	}
	pthread_mutex_unlock(&c->lock);
}

void hlfs_cache_counters(struct hlfs_cache *c, struct hlfs_cache_counters *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->ctr;
	pthread_mutex_unlock(&c->lock);
}

void hlfs_cache_free(struct hlfs_cache *c)
{
	if (!c)
		return;
	while (c->head)
		remove_entry(c, c->head);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}
