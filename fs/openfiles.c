/* The registry of open file handles. */
#include "openfiles.h"

#include "fhirfile.h"
#include "s3read.h"
#include <stdlib.h>
#include <string.h>

#include "input.h"

/* An open snapshot: stat of its path gives the snapshot's size while it is open. */
struct byname {
	char *path;
	struct stat st;
	int opens;
	struct byname *next;
};

struct hlfs_openfiles {
	pthread_mutex_t lock;
	struct hlfs_fh *fhs;  /* protected by lock */
	struct byname *names; /* protected by lock */
};

struct hlfs_openfiles *hlfs_openfiles_new(void)
{
	struct hlfs_openfiles *o = calloc(1, sizeof(*o));
	if (o)
		pthread_mutex_init(&o->lock, NULL);
	return o;
}

void hlfs_openfiles_free(struct hlfs_openfiles *o)
{
	if (!o)
		return;
	while (o->fhs) {
		struct hlfs_fh *fh = o->fhs;
		o->fhs = fh->next;
		hlfs_fh_free(fh);
	}
	while (o->names) {
		struct byname *b = o->names;
		o->names = b->next;
		free(b->path);
		free(b);
	}
	pthread_mutex_destroy(&o->lock);
	free(o);
}

struct hlfs_fh *hlfs_fh_new(enum hlfs_fh_kind kind)
{
	struct hlfs_fh *fh = calloc(1, sizeof(*fh));
	if (!fh)
		return NULL;
	fh->kind = kind;
	pthread_mutex_init(&fh->lock, NULL);
	hlfs_content_init(&fh->snap);
	hl_buf_init(&fh->data, HLFS_INPUT_MAX + 1);
	return fh;
}

void hlfs_fh_free(struct hlfs_fh *fh)
{
	if (!fh)
		return;
	hlfs_content_fini(&fh->snap);
	hl_buf_free(&fh->data);
	free(fh->ds_id);
	free(fh->ds_arn);
	free(fh->key);
	free(fh->path);
	hlfs_s3read_free(fh->s3);
	hlfs_fhirfh_free(fh->fhir);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}

/* Registers (or updates) the newest open snapshot of path; o->lock held. */
static void name_add(struct hlfs_openfiles *o, const char *path, const struct stat *st)
{
	struct byname *b = o->names;
	while (b && strcmp(b->path, path))
		b = b->next;
	if (!b && (b = calloc(1, sizeof(*b))) && !(b->path = strdup(path))) {
		free(b);
		b = NULL;
	} else if (b && !b->opens) {
		b->next = o->names;
		o->names = b;
	}
	if (b) {
		b->st = *st;
		b->opens++;
	}
}

/* o->lock held. */
static void name_del(struct hlfs_openfiles *o, const char *path)
{
	for (struct byname **pp = &o->names; *pp; pp = &(*pp)->next) {
		struct byname *b = *pp;
		if (strcmp(b->path, path))
			continue;
		if (--b->opens == 0) {
			*pp = b->next;
			free(b->path);
			free(b);
		}
		break;
	}
}

void hlfs_fh_register(struct hlfs_openfiles *o, struct hlfs_fh *fh)
{
	pthread_mutex_lock(&o->lock);
	if (fh->kind == HLFS_FH_SNAPSHOT && fh->path)
		name_add(o, fh->path, &fh->snap.st);
	fh->prev = NULL;
	fh->next = o->fhs;
	if (o->fhs)
		o->fhs->prev = fh;
	o->fhs = fh;
	pthread_mutex_unlock(&o->lock);
}

void hlfs_fh_unregister(struct hlfs_openfiles *o, struct hlfs_fh *fh)
{
	pthread_mutex_lock(&o->lock);
	if (fh->kind == HLFS_FH_SNAPSHOT && fh->path)
		name_del(o, fh->path);
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		o->fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	fh->prev = fh->next = NULL;
	pthread_mutex_unlock(&o->lock);
}

bool hlfs_open_find(struct hlfs_openfiles *o, const char *path, struct stat *st)
{
	bool found = false;
	pthread_mutex_lock(&o->lock);
	for (struct byname *b = o->names; b && !found; b = b->next) {
		if (!strcmp(b->path, path)) {
			*st = b->st;
			found = true;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return found;
}

bool hlfs_open_find_writer(struct hlfs_openfiles *o, const char *path, struct stat *st)
{
	bool found = false;
	pthread_mutex_lock(&o->lock);
	for (struct hlfs_fh *fh = o->fhs; fh && !found; fh = fh->next)
		found = fh->kind == HLFS_FH_FHIR && fh->path && !strcmp(fh->path, path) &&
			hlfs_fhir_writer_stat(fh, st);
	pthread_mutex_unlock(&o->lock);
	return found;
}
