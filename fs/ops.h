/* The fuse_operations table (high-level libfuse API): each operation is a
 * thin wrapper around a do_* of tree.c. */
#ifndef HLFS_OPS_H
#define HLFS_OPS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse.h>
#include <fuse_lowlevel.h>

/* Static table, never NULL. init() expects private_data to be a struct hlfs_fs. */
const struct fuse_operations *hlfs_operations(void);

/* After fuse_mount(): the daemon's reads and writes of /dev/fuse go
 * through ops.c, which repairs libfuse's INIT reply (kio.h). Returns 0 or
 * -errno (older libfuse: -ENOTSUP); without it directory operations run
 * one at a time, which is only slower. */
int hlfs_ops_take_io(struct fuse *f);

#endif
