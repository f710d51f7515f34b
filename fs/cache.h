/* TTL cache with request coalescing and an LRU memory bound (DESIGN.md
 * "Cache"). Values are immutable, reference-counted snapshots. Knows nothing
 * of HealthLake: keys are strings, fetches are callbacks. The clock is
 * injected so tests pin time. */
#ifndef HLFS_CACHE_H
#define HLFS_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An immutable value. data is owned and freed by free_fn when the last
 * reference goes. */
struct hlfs_cval {
	atomic_int refs;
	void *data;
	size_t size;	/* bytes charged against the memory bound */
	bool immutable; /* never goes stale (terminal jobs) */
	bool pinned;    /* never evicted by the memory bound: the store listing, which every
			 * lookup needs; evicting it would turn each lookup into a full re-list */
	void (*free_fn)(void *data);
};

/* Wraps data (ownership moves in; on failure free_fn(data) is called and
 * NULL returned). One reference, held by the caller. */
struct hlfs_cval *hlfs_cval_new(void *data, size_t size, void (*free_fn)(void *));
/* Takes one more reference (v may be NULL); returns v. */
struct hlfs_cval *hlfs_cval_ref(struct hlfs_cval *v);
/* Drops one reference; the last one frees the value. */
void hlfs_cval_unref(struct hlfs_cval *v); /* NULL-safe */

struct hlfs_cache_counters {
	uint64_t hits;	    /* served from a fresh entry */
	uint64_t misses;    /* started a fetch */
	uint64_t coalesced; /* waited for another thread's fetch instead */
	size_t bytes;
	size_t entries;
};

struct hlfs_cache;

/* now_ms(arg) is the clock of every ttl and deadline given to the cache.
 * Caller frees with hlfs_cache_free(). NULL on allocation failure. */
struct hlfs_cache *hlfs_cache_new(size_t max_bytes, int64_t (*now_ms)(void *), void *now_arg);
/* No fetch may be running. NULL-safe. */
void hlfs_cache_free(struct hlfs_cache *c);

/* fn(arg, key) is told of every entry the memory bound evicts (not of
 * invalidations), with the cache's lock held: it must not call into the
 * cache, only take note. Set it before the cache is shared. */
void hlfs_cache_on_evict(struct hlfs_cache *c, void (*fn)(void *arg, const char *key), void *arg);

/* Fills *ret (one reference for the caller, or NULL) and returns 0, or -errno. */
typedef int hlfs_fetch_fn(void *arg, struct hlfs_cval **ret, char *why, size_t whylen);

/* Returns key's value when fresh (its fetch answered less than ttl_ms ago,
 * or immutable); otherwise fetches it with fetch(arg) -- unless another thread is
 * already fetching the key, in which case it waits for that result, but not
 * past deadline_ms (0 = no deadline; -ETIMEDOUT). A failed fetch is not
 * cached; its -errno and reason (why) go to every waiter. On success *ret
 * holds one reference for the caller. */
int hlfs_cache_get(struct hlfs_cache *c, const char *key, int64_t ttl_ms, int64_t deadline_ms,
		   hlfs_fetch_fn *fetch, void *arg, struct hlfs_cval **ret, char *why,
		   size_t whylen);

/* The cached value however old, and when it was fetched; -ENOENT when none.
 * Counts nothing. *ret holds one reference. */
int hlfs_cache_peek(struct hlfs_cache *c, const char *key, struct hlfs_cval **ret,
		    int64_t *ret_fetched_ms);

/* Stores v under key as fetched at fetched_ms (the cache takes its own
 * reference). A fetch of key running now will not overwrite it. Returns 0 or
 * -ENOMEM. */
int hlfs_cache_put(struct hlfs_cache *c, const char *key, struct hlfs_cval *v, int64_t fetched_ms);

/* Marks key as just used. When it is absent, stores a value without data
 * that is charged size bytes and never goes stale: a memo of something that
 * costs memory elsewhere and must go when the bound says so. Returns 0 or
 * -ENOMEM. */
int hlfs_cache_touch(struct hlfs_cache *c, const char *key, size_t size);

/* Drops key (and detaches a running fetch of it, whose result then is not
 * stored), or every key starting with prefix. */
void hlfs_cache_invalidate(struct hlfs_cache *c, const char *key);
void hlfs_cache_invalidate_prefix(struct hlfs_cache *c, const char *prefix);

void hlfs_cache_counters(struct hlfs_cache *c, struct hlfs_cache_counters *ret);

#endif
