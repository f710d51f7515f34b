#include "ksize.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *path; /* NULL: free */
	off_t size;
	int64_t mixed_until; /* before this, the kernel may hold another size */
};

struct hlfs_ksize {
	pthread_mutex_t lock;
	struct slot *slots; /* protected by lock, as is lost_until */
	size_t mask;
	int64_t hold_ms;
	int64_t lost_until; /* a path lost its slot: new paths are unknown until then */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct hlfs_ksize *hlfs_ksize_new(size_t slots, int64_t hold_ms)
{
	size_t n = 1;
	while (n < slots)
		n <<= 1;
	struct hlfs_ksize *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->slots = calloc(n, sizeof(*k->slots));
	if (!k->slots) {
		free(k);
		return NULL;
	}
	pthread_mutex_init(&k->lock, NULL);
	k->mask = n - 1;
	k->hold_ms = hold_ms;
	k->lost_until = INT64_MIN;
	return k;
}

void hlfs_ksize_free(struct hlfs_ksize *k)
{
	if (!k)
		return;
	for (size_t i = 0; i <= k->mask; i++)
		free(k->slots[i].path);
	free(k->slots);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void hlfs_ksize_note(struct hlfs_ksize *k, const char *path, off_t size, int64_t now_ms)
{
	pthread_mutex_lock(&k->lock);
	struct slot *s = &k->slots[hash(path) & k->mask];
	if (s->path && !strcmp(s->path, path)) {
		if (s->size != size) {
			s->size = size;
			s->mixed_until = now_ms + k->hold_ms;
		}
		goto out;
	}
	char *copy = strdup(path);
	if (!copy) { /* cannot remember it: nothing may be trusted for a while */
		if (s->path)
			free(s->path);
		s->path = NULL;
		k->lost_until = now_ms + k->hold_ms;
		goto out;
	}
	int64_t mixed = INT64_MIN;
	if (s->path) {
		free(s->path);
		k->lost_until = now_ms + k->hold_ms;
	}
	if (now_ms < k->lost_until) /* it may have had a slot before and lost it */
		mixed = k->lost_until;
	s->path = copy;
	s->size = size;
	s->mixed_until = mixed;
out:
	pthread_mutex_unlock(&k->lock);
}

bool hlfs_ksize_only(struct hlfs_ksize *k, const char *path, off_t size, int64_t now_ms)
{
	bool only = false;
	pthread_mutex_lock(&k->lock);
	const struct slot *s = &k->slots[hash(path) & k->mask];
	if (s->path && !strcmp(s->path, path))
		only = s->size == size && now_ms >= s->mixed_until;
	pthread_mutex_unlock(&k->lock);
	return only;
}
