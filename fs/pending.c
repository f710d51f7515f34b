/* The registry of tag files being created. */
#include "pending.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "healthlake.h"

/* How long after such a close a reader waits for the release to begin: the
 * kernel sends it right after the last close returns. A close that was not
 * the last (a shell's `exec 3> k` closes a duplicate) costs a reader this. */
#define RELEASE_GRACE_MS 200

struct entry {
	char *ds_id;
	char *key;
	int opens;
	int64_t closed_ms; /* a close was seen with nothing written (hl_now_ms), or 0 */
	bool releasing;	   /* the last close's release is setting the value now */
	struct entry *next;
};

struct hlfs_pendings {
	pthread_mutex_t lock;
	pthread_cond_t settled; /* an entry was set or given up; with lock */
	struct entry *head;	/* protected by lock */
};

struct hlfs_pendings *hlfs_pendings_new(void)
{
	struct hlfs_pendings *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits are against hl_now_ms() */
	pthread_cond_init(&p->settled, &ca);
	pthread_condattr_destroy(&ca);
	return p;
}

static void entry_free(struct entry *e)
{
	free(e->ds_id);
	free(e->key);
	free(e);
}

void hlfs_pendings_free(struct hlfs_pendings *p)
{
	if (!p)
		return;
	while (p->head) {
		struct entry *e = p->head;
		p->head = e->next;
		entry_free(e);
	}
	pthread_cond_destroy(&p->settled);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The entry of ds_id's key (*result NULL when none); p->lock held. */
static struct entry **find(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	struct entry **pp = &p->head;
	while (*pp && (strcmp((*pp)->ds_id, ds_id) || strcmp((*pp)->key, key)))
		pp = &(*pp)->next;
	return pp;
}

/* Unlinks and frees *pp, waking readers that wait on it; p->lock held. */
static void drop(struct hlfs_pendings *p, struct entry **pp)
{
	struct entry *e = *pp;
	*pp = e->next;
	entry_free(e);
	pthread_cond_broadcast(&p->settled);
}

bool hlfs_pending_has(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&p->lock);
	bool found = *find(p, ds_id, key) != NULL;
	pthread_mutex_unlock(&p->lock);
	return found;
}

int hlfs_pending_add(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	int rc = 0;
	pthread_mutex_lock(&p->lock);
	struct entry *e = *find(p, ds_id, key);
	if (e) {
		e->opens++;
	} else if ((e = calloc(1, sizeof(*e))) && (e->ds_id = strdup(ds_id)) &&
		   (e->key = strdup(key))) {
		e->opens = 1;
		e->next = p->head;
		p->head = e;
	} else {
		if (e)
			entry_free(e);
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void hlfs_pending_del(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&p->lock);
	struct entry **pp = find(p, ds_id, key);
	if (*pp && --(*pp)->opens == 0)
		drop(p, pp);
	pthread_mutex_unlock(&p->lock);
}

void hlfs_pending_closing(struct hlfs_pendings *p, const char *ds_id, const char *key,
			  int64_t now_ms)
{
	pthread_mutex_lock(&p->lock);
	struct entry *e = *find(p, ds_id, key);
	if (e)
		e->closed_ms = now_ms;
	pthread_mutex_unlock(&p->lock);
}

void hlfs_pending_releasing(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&p->lock);
	struct entry *e = *find(p, ds_id, key);
	if (e && e->opens == 1) {
		e->releasing = true;
		pthread_cond_broadcast(&p->settled);
	}
	pthread_mutex_unlock(&p->lock);
}

void hlfs_pending_done(struct hlfs_pendings *p, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&p->lock);
	struct entry **pp = find(p, ds_id, key);
	if (*pp)
		drop(p, pp);
	pthread_mutex_unlock(&p->lock);
}

bool hlfs_pending_settle(struct hlfs_pendings *p, const char *ds_id, const char *key,
			 int64_t deadline)
{
	struct entry *e;
	pthread_mutex_lock(&p->lock);
	while ((e = *find(p, ds_id, key)) && (e->releasing || e->closed_ms)) {
		int64_t until = e->releasing ? deadline : e->closed_ms + RELEASE_GRACE_MS;
		int64_t left = (until < deadline ? until : deadline) - hl_now_ms();
		if (left <= 0)
			break;
		struct timespec ts;
		hl_mono_after(left, &ts);
		pthread_cond_timedwait(&p->settled, &p->lock, &ts);
	}
	bool still = e != NULL;
	pthread_mutex_unlock(&p->lock);
	return still;
}
