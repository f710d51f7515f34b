/* Opening, reading and releasing files. Every hlfs_do_* fills res
 * (result.h), which the caller records with hlfs_record(). */
#ifndef HLFS_OPEN_H
#define HLFS_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "openfiles.h"
#include "result.h"

struct hlfs_fs;

/* *ret_fh is allocated here; free with hlfs_do_release(). A snapshot's
 * stat is what stat of its path gives while it is open. */
int hlfs_do_open(struct hlfs_fs *fs, const char *path, int flags, bool create,
		 struct hlfs_fh **ret_fh, struct hlfs_res *res);
/* Copies from the snapshot (or a tag file's buffer); returns bytes or -errno. */
int hlfs_do_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off);
/* Acts on what is left and frees fh; a failure to act fills res. */
void hlfs_do_release(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res);

#endif
