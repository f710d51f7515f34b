/* What the kernel reads of the tree's shape: getattr, readdir, readlink.
 * Every hlfs_do_* fills res (result.h), which the caller records with
 * hlfs_record(), and returns 0 or -errno. */
#ifndef HLFS_TREE_H
#define HLFS_TREE_H

#include <stdbool.h>

#include <stddef.h>
#include <sys/stat.h>

#include "result.h"

struct hlfs_fs;
struct hlfs_fh;

/* Fills *st; an open snapshot (fh, or one open on path) gives its own size. */
int hlfs_do_getattr(struct hlfs_fs *fs, const char *path, struct stat *st, const struct hlfs_fh *fh,
		    struct hlfs_res *res);
/* fill(ctx, name, st) returns nonzero when the buffer is full. */
int hlfs_do_readdir(struct hlfs_fs *fs, const char *path, void *ctx,
		    int (*fill)(void *ctx, const char *name, const struct stat *st),
		    struct hlfs_res *res);
/* The same below fhir/, whose type and search directories are listed page
 * by page: fill(ctx, name, st, off) takes each entry's offset, and off is
 * where the kernel goes on from. *overflowed is the open directory's: a
 * listing fails with EOVERFLOW once, then ends there. */
int hlfs_do_readdir_at(struct hlfs_fs *fs, const char *path, off_t off, bool *overflowed, void *ctx,
		       int (*fill)(void *ctx, const char *name, const struct stat *st, off_t off),
		       struct hlfs_res *res);
/* imports/latest and exports/latest: the newest job's id. */
int hlfs_do_readlink(struct hlfs_fs *fs, const char *path, char *buf, size_t size,
		     struct hlfs_res *res);

#endif
