/* The mounted tree: resolves paths to stores and jobs through the cache and
 * the api, builds file snapshots, performs the writes of DESIGN.md. Every
 * do_* function returns 0 or -errno and is what one FUSE operation does.
 * Implemented by tree.c, errfile.c, fetch.c, open.c and writes.c, which
 * share tree_i.h. */
#ifndef HLFS_TREE_H
#define HLFS_TREE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "cache.h"
#include "healthlake.h"
#include "log.h"
#include "opts.h"
#include "path.h"
#include "stats.h"

struct fuse_session;
struct hlfs_errnote;
struct hlfs_pending;
struct hlfs_openfile;
struct hlfs_fh;
struct hlfs_ksize;
struct hlfs_forgetq;

/* State of one mount; fuse's private_data. */
struct hlfs_fs {
	const struct hlfs_opts *opts;
	struct hl_client *client;
	struct hlfs_cache *cache;
	struct hlfs_stats *stats;
	struct hlfs_log *log;
	uid_t uid;
	gid_t gid;
	struct timespec mount_time;
	int64_t attr_ttl_ms, list_ttl_ms, timeout_ms;
	pthread_mutex_t lock;
	struct hlfs_errnote *errors;  /* protected by lock */
	struct hlfs_pending *pending; /* tags being created; protected by lock */
	pthread_cond_t settled;	      /* a pending tag was set or given up; with lock */
	struct hlfs_openfile *open;   /* open snapshots by path; protected by lock */
	struct hlfs_fh *fhs;	      /* every open file, freed at unmount; protected by lock */
	struct hlfs_ksize *ksize;     /* sizes the kernel may hold */
	struct hlfs_forgetq *forget;  /* stores for the kernel to forget (forget.c) */
};

/* Fills fs from opts (borrowed; must outlive fs). Caller frees with
 * hlfs_fs_fini(). Returns 0 or -ENOMEM. */
int hlfs_fs_init(struct hlfs_fs *fs, const struct hlfs_opts *opts, struct hl_client *client,
		 struct hlfs_stats *stats, struct hlfs_log *log);
void hlfs_fs_fini(struct hlfs_fs *fs);

/* hl_client_options.on_call: stats, and the -d log line. arg is the fs. */
void hlfs_fs_on_call(void *arg, const struct hl_call_info *info);

/* Seeds the name index with the mount-time check's page, asked for at
 * fetched_ms, when that page is the whole account (list moved in): the first
 * lookups of stores then need no List. Its cache entry is as old as can be,
 * so that `ls` and every file still ask the service as their ttl says; only
 * name resolution, which goes by when the page was fetched, reads it. */
void hlfs_listing_seed(struct hlfs_fs *fs, struct hl_datastore_list *list, int64_t fetched_ms);

/* Starts the thread that tells the kernel, through se, to forget the
 * entries of stores the cache let go, so that libfuse's per-inode memory
 * stays within cache_mb too. Stop it before the session goes. Returns 0 or
 * -errno; without it nothing is forgotten, which is only more memory. */
int hlfs_forget_start(struct hlfs_fs *fs, struct fuse_session *se);
void hlfs_forget_stop(struct hlfs_fs *fs); /* a no-op when not started */

/* A getattr reply (lookups too) about to tell the kernel st for path. */
void hlfs_kernel_saw(struct hlfs_fs *fs, const char *path, const struct stat *st);
/* True when the kernel can hold no other size than size for path, so an
 * open of that size need not drop the kernel's attributes. */
bool hlfs_kernel_size_is(struct hlfs_fs *fs, const char *path, off_t size);

enum hlfs_fh_kind { HLFS_FH_SNAPSHOT, HLFS_FH_CONTROL, HLFS_FH_TAG };

/* One open file. A snapshot is fixed at open; control and tag files buffer
 * writes. */
struct hlfs_fh {
	enum hlfs_fh_kind kind;
	pthread_mutex_t lock;
	struct hl_buf data; /* snapshot made at open, or buffered input */
	const char *bytes;  /* snapshot: what reads see, in data or in hold's value */
	size_t len;
	struct hlfs_cval *hold; /* snapshot: the cached value bytes point into, or NULL */
	struct hlfs_fh *prev, *next; /* fs->fhs; protected by fs->lock */
	atomic_bool *served; /* terminal job (bytes never change): its first-open flag */
	bool exports;
	bool touched; /* created or truncated: an untouched close sets "" */
	bool sent;    /* the tag value went out */
	char *ds_id;
	char *ds_arn;
	char *key;	/* tag key */
	char *path;	/* snapshot: its path, for the open-file registry */
	struct stat st; /* snapshot: what fstat says */
};

/* Deadline (hl_now_ms() clock) for one operation starting now. */
int64_t hlfs_deadline(const struct hlfs_fs *fs);

/* Fills *st; an open snapshot (fh, or one open on path) gives its own size. */
int hlfs_do_getattr(struct hlfs_fs *fs, const char *path, struct stat *st,
		    const struct hlfs_fh *fh);
/* fill(ctx, name, st) returns nonzero when the buffer is full. */
int hlfs_do_readdir(struct hlfs_fs *fs, const char *path, void *ctx,
		    int (*fill)(void *ctx, const char *name, const struct stat *st));
/* *ret_fh is allocated here; free with hlfs_do_release(). fs is where the
 * open snapshot is registered (stat of its path gives its size). */
int hlfs_do_open(struct hlfs_fs *fs, const char *path, int flags, bool create,
		 struct hlfs_fh **ret_fh);
/* Copies from the snapshot (or a tag file's buffer); returns bytes or -errno. */
int hlfs_do_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off);
/* Buffers; a write that completes an input makes the call and returns its
 * errno. Returns size or -errno. */
int hlfs_do_write(struct hlfs_fs *fs, struct hlfs_fh *fh, const char *buf, size_t size);
/* Acts on buffered, unfinished input; an empty flush does nothing. */
int hlfs_do_flush(struct hlfs_fs *fs, struct hlfs_fh *fh);
/* Acts on what is left and frees fh. */
void hlfs_do_release(struct hlfs_fs *fs, struct hlfs_fh *fh);
/* Truncation to 0: accepted for control and tag files only. */
int hlfs_do_truncate(struct hlfs_fs *fs, const char *path, struct hlfs_fh *fh);
/* imports/latest and exports/latest: the newest job's id. */
int hlfs_do_readlink(struct hlfs_fs *fs, const char *path, char *buf, size_t size);
/* CreateFHIRDatastore, after the name checks; the store shows at once. */
int hlfs_do_mkdir(struct hlfs_fs *fs, const char *path);
/* DeleteFHIRDatastore, only with allow_delete. */
int hlfs_do_rmdir(struct hlfs_fs *fs, const char *path);
/* UntagResource for a tag file with allow_delete; EPERM for the rest. */
int hlfs_do_unlink(struct hlfs_fs *fs, const char *path);
/* Operations the tree does not offer: EPERM, or EROFS on an ro mount. */
int hlfs_do_refuse(struct hlfs_fs *fs, const char *path, const char *op);
/* Renders /.stats. */
enum hl_err hlfs_fs_render_stats(struct hlfs_fs *fs, struct hl_buf *out);

#endif
