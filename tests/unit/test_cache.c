#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "tap.h"

/* A clock the test moves by hand. */
static int64_t fake_now(void *arg)
{
	return atomic_load((_Atomic int64_t *)arg);
}

struct fetcher {
	atomic_int calls;
	int rc;
	size_t size;
	bool immutable;
	struct hlfs_cache *cache;
	uint64_t wait_coalesced; /* block until this many waiters joined */
	int block_ms;		 /* or block this long */
	_Atomic int64_t *clock;	 /* when set, the fetch moves it on by advance_ms */
	int64_t advance_ms;
	char value[32];
};

static void free_str(void *p)
{
	free(p);
}

static int fetch(void *arg, struct hlfs_cval **ret, char *why, size_t whylen)
{
	struct fetcher *f = arg;
	int n = atomic_fetch_add(&f->calls, 1) + 1;
	if (f->wait_coalesced) {
		struct hlfs_cache_counters k;
		for (int i = 0; i < 5000; i++) {
			hlfs_cache_counters(f->cache, &k);
			if (k.coalesced >= f->wait_coalesced)
				break;
			usleep(1000);
		}
	}
	if (f->block_ms)
		usleep((useconds_t)f->block_ms * 1000);
	if (f->clock)
		atomic_fetch_add(f->clock, f->advance_ms);
	if (f->rc) {
		snprintf(why, whylen, "fetch %d failed", n);
		return f->rc;
	}
	char *s = malloc(48);
	snprintf(s, 48, "%s#%d", f->value, n);
	*ret = hlfs_cval_new(s, f->size, free_str);
	(*ret)->immutable = f->immutable;
	return 0;
}

static const char *get(struct hlfs_cache *c, const char *key, int64_t ttl, struct fetcher *f,
		       int *rc)
{
	static char out[64];
	struct hlfs_cval *v = NULL;
	char why[64] = "";
	*rc = hlfs_cache_get(c, key, ttl, 0, fetch, f, &v, why, sizeof(why));
	if (*rc) {
		snprintf(out, sizeof(out), "error:%s", why);
		return out;
	}
	snprintf(out, sizeof(out), "%s", (const char *)v->data);
	hlfs_cval_unref(v);
	return out;
}

struct thread_arg {
	struct hlfs_cache *c;
	struct fetcher *f;
	int64_t deadline;
	int rc;
	char got[64];
};

struct evicted {
	int n;
	char last[32];
};

static void on_evict(void *arg, const char *key)
{
	struct evicted *e = arg;
	e->n++;
	snprintf(e->last, sizeof(e->last), "%s", key);
}

static void *reader(void *p)
{
	struct thread_arg *a = p;
	struct hlfs_cval *v = NULL;
	char why[64] = "";
	a->rc = hlfs_cache_get(a->c, "k", 1000, a->deadline, fetch, a->f, &v, why, sizeof(why));
	snprintf(a->got, sizeof(a->got), "%s", a->rc ? why : (const char *)v->data);
	hlfs_cval_unref(v);
	return NULL;
}

int main(void)
{
	_Atomic int64_t now = 1000000;
	int rc;
	struct hlfs_cache *c = hlfs_cache_new(1 << 20, fake_now, (void *)&now);
	struct fetcher f = {.size = 10, .cache = c};
	snprintf(f.value, sizeof(f.value), "v");

	is_str(get(c, "a", 2000, &f, &rc), "v#1", "first get fetches");
	is_str(get(c, "a", 2000, &f, &rc), "v#1", "second get within ttl is a hit");
	atomic_store(&now, 1001999);
	is_str(get(c, "a", 2000, &f, &rc), "v#1", "1 ms before expiry still a hit");
	atomic_store(&now, 1002000);
	is_str(get(c, "a", 2000, &f, &rc), "v#2", "at expiry it refetches");
	is_str(get(c, "a", 0, &f, &rc), "v#3", "ttl 0 always fetches");
	struct hlfs_cache_counters k;
	hlfs_cache_counters(c, &k);
	is_int(k.hits, 2, "hits counted");
	is_int(k.misses, 3, "misses counted");

	/* Failure: not cached, the stale value survives, the reason comes back. */
	f.rc = -EIO;
	is_str(get(c, "a", 0, &f, &rc), "error:fetch 4 failed", "failed fetch gives its reason");
	is_int(rc, -EIO, "and its errno");
	struct hlfs_cval *pv = NULL;
	int64_t at = 0;
	is_int(hlfs_cache_peek(c, "a", &pv, &at), 0, "stale value kept after a failure");
	is_str(pv ? (const char *)pv->data : NULL, "v#3", "peek sees the last good value");
	is_int(at, 1002000, "and when it was fetched");
	hlfs_cval_unref(pv);
	is_str(get(c, "nope", 1000, &f, &rc), "error:fetch 5 failed", "failure on a new key");
	is_int(hlfs_cache_peek(c, "nope", &pv, NULL), -ENOENT, "a failed new key leaves nothing");
	f.rc = 0;

	/* Immutable values never go stale. */
	f.immutable = true;
	is_str(get(c, "job", 1, &f, &rc), "v#6", "immutable fetched");
	atomic_store(&now, 9000000);
	is_str(get(c, "job", 1, &f, &rc), "v#6", "immutable still served much later");
	f.immutable = false;

	/* Invalidation of one key and of a prefix. */
	is_str(get(c, "s/1/x", 100000, &f, &rc), "v#7", "fill s/1/x");
	is_str(get(c, "s/1/y", 100000, &f, &rc), "v#8", "fill s/1/y");
	is_str(get(c, "s/2/x", 100000, &f, &rc), "v#9", "fill s/2/x");
	hlfs_cache_invalidate_prefix(c, "s/1/");
	is_str(get(c, "s/1/x", 100000, &f, &rc), "v#10", "prefix invalidated x");
	is_str(get(c, "s/2/x", 100000, &f, &rc), "v#9", "other prefix untouched");
	hlfs_cache_invalidate(c, "s/2/x");
	is_str(get(c, "s/2/x", 100000, &f, &rc), "v#11", "key invalidated");

	/* Put replaces at once. */
	char *s = strdup("local");
	struct hlfs_cval *lv = hlfs_cval_new(s, 5, free_str);
	is_int(hlfs_cache_put(c, "s/2/x", lv, atomic_load(&now)), 0, "put");
	hlfs_cval_unref(lv);
	is_str(get(c, "s/2/x", 100000, &f, &rc), "local", "put value served");
	hlfs_cache_free(c);

	/* Coalescing: 8 concurrent readers of one cold key make one fetch. */
	atomic_store(&now, 0);
	c = hlfs_cache_new(1 << 20, fake_now, (void *)&now);
	struct fetcher g = {.size = 1, .cache = c, .wait_coalesced = 7};
	snprintf(g.value, sizeof(g.value), "w");
	pthread_t th[8];
	struct thread_arg ta[8];
	for (int i = 0; i < 8; i++) {
		ta[i] = (struct thread_arg){.c = c, .f = &g};
		pthread_create(&th[i], NULL, reader, &ta[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	is_int(atomic_load(&g.calls), 1, "8 concurrent readers: one fetch");
	bool all = true;
	for (int i = 0; i < 8; i++)
		all = all && ta[i].rc == 0 && !strcmp(ta[i].got, "w#1");
	ok(all, "every reader got the one result");
	hlfs_cache_counters(c, &k);
	is_int(k.coalesced, 7, "7 coalesced");
	is_int(k.misses, 1, "1 miss");

	/* A waiter's deadline bounds its wait even when the fetch is slow. The
	 * deadline is in the cache's clock; waiting is in real time. */
	hlfs_cache_invalidate(c, "k");
	struct fetcher slow = {.size = 1, .cache = c, .block_ms = 400};
	snprintf(slow.value, sizeof(slow.value), "s");
	struct thread_arg first = {.c = c, .f = &slow};
	pthread_create(&th[0], NULL, reader, &first);
	for (int i = 0; i < 2000 && atomic_load(&slow.calls) == 0; i++)
		usleep(1000);
	struct thread_arg waiter = {.c = c, .f = &slow, .deadline = 50};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	reader(&waiter);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	is_int(waiter.rc, -ETIMEDOUT, "waiter past its deadline: ETIMEDOUT");
	ok(waited >= 40 && waited < 350, "it waited about its 50 ms (%ld ms)", waited);
	pthread_join(th[0], NULL);
	is_int(first.rc, 0, "the slow fetch itself succeeded");
	is_int(atomic_load(&slow.calls), 1, "the waiter did not fetch");

	/* Invalidation while a fetch runs: its result is not stored, and a new
	 * reader starts a fresh fetch instead of joining the old one. */
	hlfs_cache_invalidate(c, "k");
	atomic_store(&slow.calls, 0);
	struct thread_arg old = {.c = c, .f = &slow};
	pthread_create(&th[0], NULL, reader, &old);
	for (int i = 0; i < 2000 && atomic_load(&slow.calls) == 0; i++)
		usleep(1000);
	hlfs_cache_invalidate(c, "k");
	struct fetcher quick = {.size = 1, .cache = c};
	snprintf(quick.value, sizeof(quick.value), "q");
	struct thread_arg fresh_reader = {.c = c, .f = &quick};
	reader(&fresh_reader);
	is_str(fresh_reader.got, "q#1", "new reader fetched anew");
	pthread_join(th[0], NULL);
	is_str(old.got, "s#1", "old fetch still answered its caller");
	struct thread_arg after = {.c = c, .f = &quick};
	reader(&after);
	is_str(after.got, "q#1", "the detached result did not overwrite the new one");
	/* A put while a fetch runs wins: the fetch answers its caller only. */
	hlfs_cache_invalidate(c, "k");
	atomic_store(&slow.calls, 0);
	struct thread_arg racer = {.c = c, .f = &slow};
	pthread_create(&th[0], NULL, reader, &racer);
	for (int i = 0; i < 2000 && atomic_load(&slow.calls) == 0; i++)
		usleep(1000);
	struct hlfs_cval *pv2 = hlfs_cval_new(strdup("put"), 3, free_str);
	is_int(hlfs_cache_put(c, "k", pv2, 0), 0, "put during a fetch");
	hlfs_cval_unref(pv2);
	pthread_join(th[0], NULL);
	is_str(racer.got, "s#1", "the running fetch answered its caller");
	struct thread_arg later = {.c = c, .f = &quick};
	reader(&later);
	is_str(later.got, "put", "the put value stayed in the cache");
	hlfs_cache_free(c);

	/* LRU bound: each entry costs 96 + key + 1000 bytes; 3 fit in 3500. */
	c = hlfs_cache_new(3500, fake_now, (void *)&now);
	struct fetcher h = {.size = 1000, .cache = c};
	snprintf(h.value, sizeof(h.value), "h");
	get(c, "a", 100000, &h, &rc);
	get(c, "b", 100000, &h, &rc);
	get(c, "c", 100000, &h, &rc);
	get(c, "a", 100000, &h, &rc); /* a is now most recent */
	get(c, "d", 100000, &h, &rc); /* evicts b */
	hlfs_cache_counters(c, &k);
	is_int(k.entries, 3, "bounded to 3 entries");
	ok(k.bytes <= 3500, "bytes within bound (%zu)", k.bytes);
	is_int(hlfs_cache_peek(c, "b", &pv, NULL), -ENOENT, "least recently used evicted");
	is_int(hlfs_cache_peek(c, "a", &pv, NULL), 0, "recently used kept");
	hlfs_cval_unref(pv);
	/* A pinned value (the store listing) outlives the bound, even when it
	 * alone is larger than the whole bound. */
	struct hlfs_cval *big = hlfs_cval_new(strdup("L"), 5000, free_str);
	big->pinned = true;
	is_int(hlfs_cache_put(c, "L", big, 0), 0, "put a pinned value over the bound");
	hlfs_cval_unref(big);
	get(c, "e", 100000, &h, &rc);
	get(c, "f", 100000, &h, &rc);
	is_int(hlfs_cache_peek(c, "L", &pv, NULL), 0, "pinned value never evicted");
	hlfs_cval_unref(pv);
	is_int(hlfs_cache_peek(c, "e", &pv, NULL), -ENOENT, "unpinned entries give way instead");
	/* Touch: a memo without data, charged like any value, told on eviction. */
	hlfs_cache_free(c);
	c = hlfs_cache_new(1000, fake_now, (void *)&now);
	struct evicted ev = {0};
	hlfs_cache_on_evict(c, on_evict, &ev);
	is_int(hlfs_cache_touch(c, "K/a", 300), 0, "touch an absent key");
	is_int(hlfs_cache_peek(c, "K/a", &pv, NULL), 0, "it is there now");
	ok(pv->data == NULL && pv->immutable, "without data, never stale");
	hlfs_cval_unref(pv);
	is_int(hlfs_cache_touch(c, "K/b", 300), 0, "a second one");
	is_int(hlfs_cache_touch(c, "K/a", 300), 0, "touching K/a again makes it the newest");
	is_int(ev.n, 0, "nothing evicted while within the bound");
	is_int(hlfs_cache_touch(c, "K/c", 300), 0, "a third one goes over the bound");
	is_int(ev.n, 1, "one eviction reported");
	is_str(ev.last, "K/b", "the least recently used: K/b, not the re-touched K/a");
	is_int(hlfs_cache_peek(c, "K/b", &pv, NULL), -ENOENT, "and it is gone");
	hlfs_cache_invalidate(c, "K/a");
	is_int(ev.n, 1, "an invalidation is not an eviction");
	hlfs_cache_counters(c, &k);
	ok(k.bytes <= 1000, "the bound holds (%zu bytes)", k.bytes);

	/* Many keys: the table grows and every key stays reachable. */
	hlfs_cache_free(c);
	c = hlfs_cache_new(100 << 20, fake_now, (void *)&now);
	h.size = 1;
	atomic_store(&h.calls, 0);
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		get(c, key, 100000, &h, &rc);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		get(c, key, 100000, &h, &rc);
	}
	is_int(atomic_load(&h.calls), 5000, "5000 keys fetched once each");
	hlfs_cache_free(c);

	/* A fetch that waited longer than the ttl (a pacer's queue): its
	 * value's age counts from the answer, so it is not stale on arrival. */
	atomic_store(&now, 0);
	c = hlfs_cache_new(1 << 20, fake_now, (void *)&now);
	struct fetcher late = {.size = 10, .cache = c, .clock = &now, .advance_ms = 5000};
	snprintf(late.value, sizeof(late.value), "s");
	is_str(get(c, "late", 2000, &late, &rc), "s#1", "a fetch that took 5 s of a 2 s ttl");
	late.clock = NULL;
	is_str(get(c, "late", 2000, &late, &rc), "s#1", "is fresh when it arrives");
	atomic_store(&now, 6999);
	is_str(get(c, "late", 2000, &late, &rc), "s#1", "for the ttl after the answer");
	atomic_store(&now, 7000);
	is_str(get(c, "late", 2000, &late, &rc), "s#2", "and no longer");
	hlfs_cache_free(c);
	return done_testing();
}
