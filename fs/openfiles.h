/* Open file handles: every handle (freed at unmount when the loop stopped
 * with files open), and the newest open snapshot of each path, whose stat
 * getattr of that path gives while it is open. Its own lock. */
#ifndef HLFS_OPENFILES_H
#define HLFS_OPENFILES_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "buf.h"
#include "node.h"

enum hlfs_fh_kind { HLFS_FH_SNAPSHOT, HLFS_FH_CONTROL, HLFS_FH_TAG, HLFS_FH_S3, HLFS_FH_FHIR };

struct hlfs_s3read;
struct hlfs_fhirfh;

/* One open file. A snapshot is fixed at open; control and tag files buffer
 * writes. */
struct hlfs_fh {
	enum hlfs_fh_kind kind;
	pthread_mutex_t lock;
	struct hlfs_content snap;    /* snapshot: what reads and fstat see */
	struct hl_buf data;	     /* control and tag files: buffered input */
	struct hlfs_fh *prev, *next; /* every open handle; protected by the registry's lock */
	bool exports;
	bool touched; /* created or truncated: an untouched close sets "" */
	bool sent;    /* the tag value went out */
	char *ds_id;
	char *ds_arn;
	char *key;  /* tag key */
	char *path; /* snapshot, FHIR: its path, for the open-file registry */
	struct hlfs_s3read *s3; /* HLFS_FH_S3: an object of a job's output (s3read.h) */
	struct hlfs_fs *s3fs;	/* HLFS_FH_S3, HLFS_FH_FHIR: where its read failures are recorded */
	struct hlfs_fhirfh *fhir; /* HLFS_FH_FHIR: a stream, a resource being written, a scratch file */
};

struct hlfs_openfiles;

/* Caller frees with hlfs_openfiles_free(), which frees every handle still
 * registered. NULL when out of memory. */
struct hlfs_openfiles *hlfs_openfiles_new(void);
void hlfs_openfiles_free(struct hlfs_openfiles *o); /* NULL-safe */

/* A new handle, not registered. NULL when out of memory. */
struct hlfs_fh *hlfs_fh_new(enum hlfs_fh_kind kind);
void hlfs_fh_free(struct hlfs_fh *fh); /* NULL-safe */

/* Adds fh to the handles; a snapshot's stat becomes its path's (fh->path). */
void hlfs_fh_register(struct hlfs_openfiles *o, struct hlfs_fh *fh);
/* Takes fh out again (before it is freed). */
void hlfs_fh_unregister(struct hlfs_openfiles *o, struct hlfs_fh *fh);

/* The stat of path's newest open snapshot, if one is open. */
bool hlfs_open_find(struct hlfs_openfiles *o, const char *path, struct stat *st);
/* The stat of a FHIR resource open for writing at path (fh->path), if one is:
 * a resource created through the mount is absent from the service until its PUT. */
bool hlfs_open_find_writer(struct hlfs_openfiles *o, const char *path, struct stat *st);

#endif
