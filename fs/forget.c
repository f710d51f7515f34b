/* The kernel forgets stores the cache let go. libfuse's high-level API keeps
 * a node (about 300 bytes) for every inode the kernel holds, and after a
 * `find` over a large account the kernel holds them all until memory runs
 * short: 240,000 files cost 74 MB that no cache setting bounded. The cache
 * charges those nodes to its entries (K/, J/, T/, and the FHIR data's f/);
 * when it evicts one, the store is queued here, and a thread of its own tells the kernel to drop the
 * store's directory entry, which takes every unused entry below it along.
 * libfuse frees the nodes when the kernel's FORGETs arrive.
 *
 * The notification must not come from a FUSE worker: the kernel takes the
 * root directory's lock for it, which a lookup waiting on that worker may
 * hold. Files open below the store stay usable; a shell whose working
 * directory is the store finds it again at its next lookup of the path. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_lowlevel.h>

#include "fetch.h"
#include "forget.h"
#include "keys.h"
#include "mount.h"

#define QUEUE_MAX 1024 /* stores waiting; more are left to the kernel's own reclaim */
#define ID_MAX 64      /* store ids are at most 32 characters */
#define RECENT 8       /* a store evicted with its listings is queued once */

struct hlfs_forgetq {
	struct hlfs_fs *fs;
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t head, count; /* protected by lock, as are stop and ids */
	bool stop;
	char ids[QUEUE_MAX][ID_MAX]; /* a ring */
	bool data[QUEUE_MAX];	     /* queued for FHIR data (fhirdata.h), whose store is in use */
	/* The forget thread's own: when it last dropped a store in use. */
	char last_id[ID_MAX];
	int64_t last_ms;
};

/* A store in use is dropped at most this often: the entries of a walk
 * below it pile up by about 1 MB a second at most between two drops. */
#define IN_USE_EVERY_MS 200

/* The store id of an evicted key that charges the kernel's nodes (K/, J/,
 * T/, f/) into out (ID_MAX bytes), and whether it is FHIR data; false for
 * the others. */
static bool store_of(const char *key, char *out, bool *data)
{
	struct hlfs_key k;
	size_t len = 0;
	if (hlfs_key_parse(key, &k, &len) != 0 || len >= ID_MAX)
		return false;
	if (k.kind != HLFS_K_KERNEL && k.kind != HLFS_K_TAGS && k.kind != HLFS_K_JOBLIST &&
	    k.kind != HLFS_K_FHIR)
		return false;
	memcpy(out, k.ds_id, len);
	out[len] = '\0';
	*data = k.kind == HLFS_K_FHIR;
	return true;
}

void hlfs_forget_evicted(void *arg, const char *key)
{
	struct hlfs_fs *fs = arg;
	struct hlfs_forgetq *q = fs->forget;
	char id[ID_MAX];
	bool data = false;
	if (!q || !store_of(key, id, &data))
		return;
	size_t len = strlen(id);
	pthread_mutex_lock(&q->lock);
	for (size_t k = 0; k < RECENT && k < q->count; k++) {
		size_t at = (q->head + q->count - 1 - k) % QUEUE_MAX;
		if (!strcmp(q->ids[at], id)) {
			q->data[at] = q->data[at] || data;
			goto out;
		}
	}
	if (q->count < QUEUE_MAX) {
		memcpy(q->ids[(q->head + q->count) % QUEUE_MAX], id, len + 1);
		q->data[(q->head + q->count) % QUEUE_MAX] = data;
		q->count++;
		pthread_cond_signal(&q->cond);
	}
out:
	pthread_mutex_unlock(&q->lock);
}

static void forget_name(struct hlfs_forgetq *q, const char *name)
{
	/* ENOENT: the kernel does not hold it, which is fine. */
	(void)fuse_lowlevel_notify_inval_entry(q->se, FUSE_ROOT_ID, name, strlen(name));
}

/* Drops the kernel's entries for store id, by its directory name and by its
 * id (both can be looked up) -- unless it is in use again already. FHIR
 * data is evicted while its store is in use (a walk of fhir/): then the
 * store is dropped anyway, at most once every IN_USE_EVERY_MS; what is in
 * use below it stays, the rest goes. */
static void forget_store(struct hlfs_forgetq *q, const char *id, bool data)
{
	char key[HLFS_KEY_MAX], dir[HLFS_NAME_MAX + 1] = "";
	struct hlfs_cval *v = NULL;
	struct hlfs_key k = {.kind = HLFS_K_KERNEL, .ds_id = id};
	(void)hlfs_key_format(&k, key, sizeof(key));
	if (hlfs_cache_peek(q->fs->cache, key, &v, NULL) == 0) {
		hlfs_cval_unref(v);
		int64_t now = hl_now_ms();
		if (!data || (!strcmp(q->last_id, id) && now - q->last_ms < IN_USE_EVERY_MS))
			return;
		snprintf(q->last_id, sizeof(q->last_id), "%s", id);
		q->last_ms = now;
	}
	if (hlfs_cache_peek(q->fs->cache, HLFS_LISTING_KEY, &v, NULL) == 0) {
		const struct hlfs_dslist *d = v->data;
		long i = hlfs_names_find(&d->names, d->refs, id);
		if (i >= 0 && d->names.dir[i])
			snprintf(dir, sizeof(dir), "%s", d->names.dir[i]);
		hlfs_cval_unref(v);
	}
	if (dir[0] && strcmp(dir, id))
		forget_name(q, dir);
	forget_name(q, id);
}

static void *forget_thread(void *arg)
{
	struct hlfs_forgetq *q = arg;
	char id[ID_MAX];
	bool data;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->stop && q->count == 0)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop)
			break;
		memcpy(id, q->ids[q->head], ID_MAX);
		data = q->data[q->head];
		q->head = (q->head + 1) % QUEUE_MAX;
		q->count--;
		pthread_mutex_unlock(&q->lock);
		forget_store(q, id, data);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int hlfs_forget_start(struct hlfs_fs *fs, struct fuse_session *se)
{
	struct hlfs_forgetq *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fs = fs;
	q->se = se;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	int rc = pthread_create(&q->thread, NULL, forget_thread, q);
	if (rc) {
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return -rc;
	}
	fs->forget = q;
	return 0;
}

void hlfs_forget_stop(struct hlfs_fs *fs)
{
	struct hlfs_forgetq *q = fs->forget;
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	/* Evictions from now on find no queue: workers have stopped by now. */
	fs->forget = NULL;
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
