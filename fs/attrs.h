/* What every node of the tree shares: the stat fields of ours (owner,
 * mode, size, the mount's times) and a node's content, the value stat and
 * open are made of. A module of its own so that the layers below node.c
 * (the fhir/ subtree's) fill a stat without calling back into node.c. */
#ifndef HLFS_ATTRS_H
#define HLFS_ATTRS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "cache.h"

struct hlfs_fs;

/* A node's content. bytes point into data or into hold's value. */
struct hlfs_content {
	struct stat st;
	struct hl_buf data;
	const char *bytes; /* files, HLFS_FOR_READ only */
	size_t len;
	struct hlfs_cval *hold; /* the cached value bytes point into, or NULL */
	atomic_bool *served;	/* terminal job (bytes never change): its first-open flag */
};

/* A stat of ours: owner, mode, size, times of the mount. */
void hlfs_fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size);
/* Sets st's three times to t (seconds since the epoch). */
void hlfs_stat_times(struct stat *st, double t);
/* Sets st's modification time only. */
void hlfs_stat_mtime(struct stat *st, double t);
void hlfs_content_init(struct hlfs_content *c);
void hlfs_content_fini(struct hlfs_content *c); /* NULL-safe */

#endif
