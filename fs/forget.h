/* The kernel forgets the entries of stores the cache let go, so that
 * libfuse's per-inode memory stays within cache_mb too. */
#ifndef HLFS_FORGET_H
#define HLFS_FORGET_H

struct hlfs_fs;
struct fuse_session;

/* Starts the thread that tells the kernel, through se, to forget the
 * entries of stores the cache let go. Stop it before the session goes.
 * Returns 0 or -errno; without it nothing is forgotten, which is only more
 * memory. */
int hlfs_forget_start(struct hlfs_fs *fs, struct fuse_session *se);
void hlfs_forget_stop(struct hlfs_fs *fs); /* a no-op when not started */

/* The cache's on_evict hook (arg is the fs): queues the store of an evicted
 * K/, J/ or T/ entry for the kernel to forget. Never blocks. */
void hlfs_forget_evicted(void *arg, const char *key);

#endif
