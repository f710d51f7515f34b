/* The per-directory .error records: the last failure in each directory,
 * newest first, bounded. Its own lock. */
#ifndef HLFS_ERRFILE_H
#define HLFS_ERRFILE_H

#include <stddef.h>

#include "buf.h"
#include "path.h"
#include "resolve.h"
#include "result.h"

struct hlfs_fs;
struct hlfs_errfile;

/* Caller frees with hlfs_errfile_free(). NULL when out of memory. */
struct hlfs_errfile *hlfs_errfile_new(void);
void hlfs_errfile_free(struct hlfs_errfile *ef); /* NULL-safe */

/* The one place a result is recorded: a failure with a reason goes to its
 * directory's .error and to the log. Returns 0 or -errno, for FUSE. */
int hlfs_record(struct hlfs_fs *fs, const struct hlfs_res *r);

/* Appends the record of directory key (nothing when there is none). */
enum hl_err hlfs_errfile_text(struct hlfs_errfile *ef, const char *key, struct hl_buf *out);

/* The record key of directory d of store ds_id ("/" for the root), in a
 * buffer of HLFS_DIRKEY_MAX bytes. */
void hlfs_dir_key(enum hlfs_dir d, const char *ds_id, char *out);
/* The record key of the directory n is in. */
void hlfs_node_dir_key(const struct hlfs_treenode *n, char *out);

#endif
