/* What a node of the tree is: its mode, size, times and, for a file, its
 * bytes. One function for getattr, open and the xattr reads alike. */
#ifndef HLFS_NODE_H
#define HLFS_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "attrs.h"
#include "buf.h"
#include "cache.h"
#include "resolve.h"
#include "result.h"

struct hlfs_fs;


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



#endif
