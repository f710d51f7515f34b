/* Ranged reads with a read-ahead window. One window per open file: the
 * kernel reads a file in order in chunks of at most max_read, and its own
 * read-ahead sends the next chunks before they are asked for, so a window
 * on the multiple of its size where the reader is serves the next ones
 * without a request; a chunk handed to us late, behind the window, is fetched
 * on its own without dropping the window; a reader that jumps gets exactly
 * what it asked for. */
#include "s3read.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

struct hlfs_s3read {
	struct hlfs_fs *fs;
	pthread_mutex_t lock;
	char *bucket, *key, *etag, *name;
	char dk[HLFS_DIRKEY_MAX];
	uint64_t size;
	char *win; /* bytes [win_off, win_off + win_len) of the object */
	size_t cap;
	uint64_t win_off;
	size_t win_len;
};

struct hlfs_s3read *hlfs_s3read_new(struct hlfs_fs *fs, const char *bucket, const char *key,
				    uint64_t size, const char *etag, const char *dk,
				    const char *name)
{
	struct hlfs_s3read *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->fs = fs;
	r->size = size;
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
	pthread_mutex_destroy(&r->lock);
	free(r->bucket);
	free(r->key);
	free(r->etag);
	free(r->name);
	free(r->win);
	free(r);
}

/* True when a read at off continues the window's reader: at or just past
 * what the window holds (the kernel's read-ahead may run ahead of it). */
static bool sequential(const struct hlfs_s3read *r, uint64_t off)
{
	if (off == 0)
		return true;
	if (r->win_len == 0)
		return false;
	uint64_t end = r->win_off + r->win_len;
	return off >= r->win_off && off <= end + HLFS_S3_WINDOW;
}

/* GETs want bytes at off into dst. 0 or -errno with res filled. */
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

/* Fills the window with want bytes at off. 0 or -errno with res filled. */
static int fill(struct hlfs_s3read *r, uint64_t off, size_t want, int64_t deadline,
		struct hlfs_res *res)
{
	if (want > r->cap) {
		char *w = realloc(r->win, want);
		if (!w)
			return hlfs_res_errno(res, -ENOMEM);
		r->win = w;
		r->cap = want;
	}
	r->win_len = 0;
	size_t got = 0;
	int rc = get(r, off, want, r->win, &got, deadline, res);
	if (rc)
		return rc;
	r->win_off = off;
	r->win_len = got;
	return 0;
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
	size_t done = 0;
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (done < size) {
		uint64_t cur = start + done;
		if (r->win_len && cur >= r->win_off && cur < r->win_off + r->win_len) {
			size_t at = (size_t)(cur - r->win_off), n = r->win_len - at;
			if (n > size - done)
				n = size - done;
			memcpy(buf + done, r->win + at, n);
			done += n;
			continue;
		}
		size_t want = size - done;
		if (r->win_len && cur < r->win_off && r->win_off - cur <= HLFS_S3_WINDOW) {
			/* A chunk of the kernel's read-ahead that a FUSE worker thread
			 * hands us after the window has moved on: fetch just it into
			 * the caller's buffer and keep the window the reader is in. */
			if (want > r->win_off - cur)
				want = (size_t)(r->win_off - cur);
			size_t got = 0;
			rc = get(r, cur, want, buf + done, &got, deadline, res);
			if (rc || got == 0)
				break;
			done += got;
			continue;
		}
		uint64_t at = cur;
		if (sequential(r, cur) && want < HLFS_S3_WINDOW) {
			/* Windows on multiples of their size: chunks that arrive out
			 * of order still fall in the window their neighbours use. */
			at = cur - cur % HLFS_S3_WINDOW;
			want = HLFS_S3_WINDOW;
		}
		if (want > r->size - at)
			want = (size_t)(r->size - at);
		rc = fill(r, at, want, deadline, res);
		if (rc || r->win_off + r->win_len <= cur)
			break; /* a failure, or an object shorter than listed */
	}
	pthread_mutex_unlock(&r->lock);
	return rc ? rc : (int)done;
}
