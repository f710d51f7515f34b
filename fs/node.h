/* What a node of the tree is: its mode, size, times and, for a file, its
 * bytes. One function for getattr, open and the xattr reads alike. */
#ifndef HLFS_NODE_H
#define HLFS_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "cache.h"
#include "resolve.h"
#include "result.h"

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

/* What the content is asked for: stat goes by what is cached where the
 * contract allows it (a listing's item), a read asks the service as the
 * file's ttl says and wants the bytes. */
enum hlfs_want { HLFS_FOR_STAT, HLFS_FOR_READ };

/* Fills c (free with hlfs_content_fini(), also on failure). For
 * HLFS_FOR_READ a directory is EISDIR. */
int hlfs_node_content(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res);
/* The stat part alone. */
int hlfs_node_stat(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   struct stat *st, struct hlfs_res *res);
/* Renders /.stats. */
enum hl_err hlfs_fs_render_stats(struct hlfs_fs *fs, struct hl_buf *out);

/* A stat of ours: owner, mode, size, times of the mount. */
void hlfs_fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size);
/* Sets st's three times to t (seconds since the epoch). */
void hlfs_stat_times(struct stat *st, double t);
/* Sets st's modification time only. */
void hlfs_stat_mtime(struct stat *st, double t);

void hlfs_content_init(struct hlfs_content *c);
void hlfs_content_fini(struct hlfs_content *c); /* NULL-safe */

#endif
