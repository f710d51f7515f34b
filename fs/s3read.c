/* Ranged reads with windows read ahead. The kernel reads a file in order in
 * chunks of at most max_read and sends the next chunks before they are
 * asked for, several at a time, which libfuse's worker threads may hand us
 * out of order. So a sequential reader is served from windows on multiples
 * of HLFS_S3_WINDOW, each fetched once by one GET: the window being read,
 * the ones ahead fetched by threads of their own while it is read, and the
 * one behind kept until the reader is half way into the next, for chunks
 * that arrive late. A reader that jumps gets exactly what it asked for.
 *
 * Each window's GET is in one slot, whose state says who may touch its
 * buffer: while S_FILLING only the fetcher (a thread of its own, or the
 * reader that needed it, with r->lock released), otherwise whoever holds
 * r->lock. A fetch posts its result under r->lock and broadcasts r->done. */
#include "s3read.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mount.h"
#include "remote.h"

#define W ((uint64_t)HLFS_S3_WINDOW)

enum slot_state { S_EMPTY, S_FILLING, S_READY, S_FAILED };

struct slot {
	struct hlfs_s3read *r; /* the fetch thread's way back */
	char *buf;	       /* W bytes, allocated at first use */
	uint64_t idx;	       /* not S_EMPTY: window idx, bytes [idx * W, idx * W + len) */
	size_t len;	       /* S_READY: less than W only at the object's end */
	enum slot_state st;
	int64_t deadline;     /* a background fetch's: the read's that started it */
	bool thread;	      /* th is a fetch thread not joined yet */
	pthread_t th;
	struct hlfs_res res; /* S_FAILED: why, for the reader that needs the window */
};

struct hlfs_s3read {
	struct hlfs_fs *fs;
	char *bucket, *key, *etag, *name; /* never change: fetch threads read them unlocked */
	char dk[HLFS_DIRKEY_MAX];
	uint64_t size;
	pthread_mutex_t lock;
	pthread_cond_t done; /* a slot left S_FILLING */
	/* The rest is protected by lock. */
	struct slot slot[HLFS_S3_SLOTS];
	int nslots;	     /* slots in use: 1 + the spare windows granted */
	bool spares_asked;   /* once per open file, at its first sequential read */
	bool run;	     /* a sequential run is going on */
	uint64_t hw;	     /* the run's furthest byte asked for, plus one */
};

struct hlfs_s3read *hlfs_s3read_new(struct hlfs_fs *fs, const char *bucket, const char *key,
				    uint64_t size, const char *etag, const char *dk,
				    const char *name)
{
	struct hlfs_s3read *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits are against hl_now_ms() */
	pthread_cond_init(&r->done, &ca);
	pthread_condattr_destroy(&ca);
	r->fs = fs;
	r->size = size;
	r->nslots = 1;
	for (int i = 0; i < HLFS_S3_SLOTS; i++)
		r->slot[i].r = r;
	snprintf(r->dk, sizeof(r->dk), "%s", dk);
	r->bucket = strdup(bucket);
	r->key = strdup(key);
	r->name = strdup(name);
	r->etag = etag ? strdup(etag) : NULL;
	if (!r->bucket || !r->key || !r->name || (etag && !r->etag)) {
		hlfs_s3read_free(r);
		return NULL;
	}
	return r;
}

void hlfs_s3read_free(struct hlfs_s3read *r)
{
	if (!r)
		return;
	/* Release comes after the last read has returned, so only fetch
	 * threads can be running: each ends by its read's deadline. */
	for (int i = 0; i < HLFS_S3_SLOTS; i++)
		if (r->slot[i].thread)
			pthread_join(r->slot[i].th, NULL);
	if (r->nslots > 1)
		atomic_fetch_sub(&r->fs->s3_spares, (unsigned)(r->nslots - 1));
	for (int i = 0; i < HLFS_S3_SLOTS; i++)
		free(r->slot[i].buf);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->lock);
	free(r->bucket);
	free(r->key);
	free(r->etag);
	free(r->name);
	free(r);
}

/* GETs want bytes at off into dst. 0 or -errno with res filled. Takes no
 * lock: it reads only what never changes. */
static int get(struct hlfs_s3read *r, uint64_t off, size_t want, char *dst, size_t *got,
	       int64_t deadline, struct hlfs_res *res)
{
	char why[HLFS_WHY_MAX];
	*got = 0;
	int rc = hlfs_remote_s3_get(r->fs, r->bucket, r->key, off, want, r->etag, dst, got,
				    deadline, why);
	if (rc == -ESTALE)
		return hlfs_res_fail(res, rc, r->dk, "read %s: the object changed since it was "
						     "listed (%s)",
				     r->name, why);
	if (rc)
		return hlfs_res_fail(res, rc, r->dk, "read %s: %s", r->name, why);
	return 0;
}

/* Bytes in window idx. */
static size_t window_len(const struct hlfs_s3read *r, uint64_t idx)
{
	uint64_t left = r->size - idx * W;
	return left < W ? (size_t)left : (size_t)W;
}

/* Fetches slot s's window (marked S_FILLING by the caller, who holds
 * r->lock and gives it up meanwhile), and posts the result. */
static int fill(struct hlfs_s3read *r, struct slot *s, int64_t deadline, struct hlfs_res *res)
{
	size_t got = 0;
	pthread_mutex_unlock(&r->lock);
	int rc = get(r, s->idx * W, window_len(r, s->idx), s->buf, &got, deadline, res);
	pthread_mutex_lock(&r->lock);
	s->st = rc ? S_EMPTY : S_READY;
	s->len = got;
	pthread_cond_broadcast(&r->done);
	return rc;
}

/* A fetch thread: a window ahead of the reader. A failure is kept in the
 * slot for the reader that comes to need the window, and for none other. */
static void *fetch_ahead(void *arg)
{
	struct slot *s = arg;
	struct hlfs_s3read *r = s->r;
	struct hlfs_res res;
	size_t got = 0;
	hlfs_res_init(&res);
	int rc = get(r, s->idx * W, window_len(r, s->idx), s->buf, &got, s->deadline, &res);
	pthread_mutex_lock(&r->lock);
	s->st = rc ? S_FAILED : S_READY;
	s->len = got;
	s->res = res;
	pthread_cond_broadcast(&r->done);
	pthread_mutex_unlock(&r->lock);
	return NULL; /* nothing of r past the unlock: whoever joins may free it */
}

/* Joins fetch threads that have posted; r->lock held (a thread takes the
 * lock only to post, so this waits for nothing but its exit). */
static void reap(struct hlfs_s3read *r)
{
	for (int i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slot[i];
		if (s->thread && s->st != S_FILLING) {
			pthread_join(s->th, NULL);
			s->thread = false;
		}
	}
}

/* Waits for some fetch to post, until deadline; r->lock held. */
static int wait_fetch(struct hlfs_s3read *r, int64_t deadline, struct hlfs_res *res)
{
	int64_t left = deadline - hl_now_ms();
	struct timespec ts;
	if (left <= 0)
		return hlfs_res_fail(res, -ETIMEDOUT, r->dk, "read %s: timed out waiting for its "
							     "range from S3",
				     r->name);
	hl_mono_after(left, &ts);
	pthread_cond_timedwait(&r->done, &r->lock, &ts); /* a timeout is seen next round */
	return 0;
}

/* The oldest window the reader may still want: the one behind its last
 * byte by half a window when it holds more than one (a chunk later than
 * that is fetched alone), its own otherwise. */
static uint64_t lowest(const struct hlfs_s3read *r)
{
	uint64_t last = r->hw - 1, lag = r->nslots > 1 ? W / 2 : 0;
	return last > lag ? (last - lag) / W : 0;
}

static struct slot *find(struct hlfs_s3read *r, uint64_t idx)
{
	for (int i = 0; i < r->nslots; i++)
		if (r->slot[i].st != S_EMPTY && r->slot[i].idx == idx)
			return &r->slot[i];
	return NULL;
}

/* A slot whose window the reader no longer wants, r->lock held; with any,
 * for a reader that needs a window now, the oldest one held if there is
 * none. NULL when every slot is being fetched. */
static struct slot *free_slot(struct hlfs_s3read *r, bool any)
{
	uint64_t lo = lowest(r), hi = lo + (uint64_t)r->nslots - 1;
	struct slot *pick = NULL;
	for (int i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slot[i];
		if (s->st == S_FILLING)
			continue;
		if (s->st == S_EMPTY || s->idx < lo || s->idx > hi)
			return s;
		if (any && (!pick || s->idx < pick->idx))
			pick = s;
	}
	return pick;
}

/* Gives s its buffer, once. False when out of memory. */
static bool has_buf(struct slot *s)
{
	return s->buf || (s->buf = malloc(W));
}

/* Starts fetches of the windows ahead of the reader that its slots have
 * room for; r->lock held. A thread that cannot start leaves it to the
 * reader. */
static void read_ahead(struct hlfs_s3read *r, int64_t deadline)
{
	uint64_t lo = lowest(r), mine = (r->hw - 1) / W;
	for (uint64_t idx = mine + 1; idx < lo + (uint64_t)r->nslots && idx * W < r->size; idx++) {
		if (find(r, idx))
			continue;
		struct slot *s = free_slot(r, false);
		if (!s || !has_buf(s))
			return;
		s->st = S_FILLING;
		s->idx = idx;
		s->deadline = deadline;
		if (pthread_create(&s->th, NULL, fetch_ahead, s) != 0) {
			s->st = S_EMPTY;
			return;
		}
		s->thread = true;
	}
}

/* Whether a read at start continues the reader's run: near its furthest
 * byte, behind it by the chunks the kernel may still have in flight or
 * ahead by its read-ahead. */
static bool continues(const struct hlfs_s3read *r, uint64_t start)
{
	return r->run && start + W >= r->hw && start <= r->hw + W;
}

/* The first sequential read of an open file asks the mount for its spare
 * windows: as many as it has left, up to HLFS_S3_SLOTS - 1, and none past
 * the object's own windows. */
static void take_spares(struct hlfs_s3read *r)
{
	r->spares_asked = true;
	uint64_t windows = (r->size + W - 1) / W;
	unsigned have = atomic_load(&r->fs->s3_spares), want = HLFS_S3_SLOTS - 1;
	if (windows - 1 < want)
		want = (unsigned)(windows - 1);
	if (want == 0)
		return;
	while (have < HLFS_S3_SPARES) {
		unsigned n = HLFS_S3_SPARES - have < want ? HLFS_S3_SPARES - have : want;
		if (atomic_compare_exchange_weak(&r->fs->s3_spares, &have, have + n)) {
			r->nslots += (int)n;
			return;
		}
	}
}

/* Copies what window s holds at cur; 0 when it ends before cur (an object
 * shorter than listed). */
static size_t copy_out(const struct slot *s, uint64_t cur, char *dst, size_t want)
{
	uint64_t at = cur - s->idx * W;
	if (at >= s->len)
		return 0;
	size_t n = s->len - (size_t)at;
	if (n > want)
		n = want;
	memcpy(dst, s->buf + at, n);
	return n;
}

int hlfs_s3read_read(struct hlfs_s3read *r, char *buf, size_t size, off_t off, int64_t deadline,
		     struct hlfs_res *res)
{
	hlfs_res_init(res);
	if (off < 0)
		return hlfs_res_errno(res, -EINVAL);
	uint64_t start = (uint64_t)off;
	if (start >= r->size)
		return 0;
	if (size > r->size - start)
		size = (size_t)(r->size - start);
	if (size == 0)
		return 0;
	pthread_mutex_lock(&r->lock);
	reap(r);
	if (start != 0 && !continues(r, start)) {
		/* A jump: exactly what was asked for, and a run may begin after it. */
		r->run = true;
		r->hw = start + size;
		pthread_mutex_unlock(&r->lock);
		size_t got = 0;
		int rc = get(r, start, size, buf, &got, deadline, res);
		return rc ? rc : (int)got;
	}
	if (start == 0 && !(r->run && r->hw <= W))
		r->hw = 0; /* from the start again: a new run */
	r->run = true;
	if (r->hw < start + size)
		r->hw = start + size;
	if (!r->spares_asked)
		take_spares(r);
	read_ahead(r, deadline);
	size_t done = 0;
	int rc = 0;
	while (done < size && !rc) {
		uint64_t cur = start + done, idx = cur / W;
		struct slot *s = find(r, idx);
		if (s && s->st == S_READY) {
			size_t n = copy_out(s, cur, buf + done, size - done);
			if (n == 0)
				break;
			done += n;
		} else if (s && s->st == S_FILLING) {
			rc = wait_fetch(r, deadline, res);
		} else if (s) { /* S_FAILED: this reader needs the window, so it hears why */
			*res = s->res;
			rc = -res->err;
			s->st = S_EMPTY;
		} else if (idx < lowest(r)) {
			/* A chunk that comes after its window was let go: fetch just
			 * it, into the caller's buffer, and keep the windows. */
			uint64_t end = (idx + 1) * W;
			size_t want = end - cur < size - done ? (size_t)(end - cur) : size - done;
			size_t got = 0;
			pthread_mutex_unlock(&r->lock);
			rc = get(r, cur, want, buf + done, &got, deadline, res);
			pthread_mutex_lock(&r->lock);
			done += got;
			if (!rc && got < want)
				break; /* an object shorter than listed */
		} else if (!(s = free_slot(r, true))) {
			rc = wait_fetch(r, deadline, res); /* every slot is being fetched */
		} else if (!has_buf(s)) {
			rc = hlfs_res_errno(res, -ENOMEM);
		} else {
			s->st = S_FILLING;
			s->idx = idx;
			rc = fill(r, s, deadline, res);
		}
	}
	reap(r);
	pthread_mutex_unlock(&r->lock);
	return rc ? rc : (int)done;
}
