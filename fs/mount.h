/* The state of one mount (fuse's private_data) and its lifecycle, the
 * clock and deadlines of its operations, and the stat fields every node
 * shares. */
#ifndef HLFS_MOUNT_H
#define HLFS_MOUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "healthlake.h"
#include "kio.h"
#include "log.h"
#include "opts.h"
#include "stats.h"

struct hlfs_errfile;
struct hlfs_pendings;
struct hlfs_openfiles;
struct hlfs_ksize;
struct hlfs_forgetq;
struct hl_s3;
struct hlfs_fhirs;
struct hlfs_scratch;

/* Lock order (none is held while taking another, except as listed): a file
 * handle's lock, then the pending registry's, the open files', the .error
 * records' or the cache's. The cache calls its eviction hook (forget.c)
 * with its lock held; that hook takes only the forget queue's lock. */
struct hlfs_fs {
	const struct hlfs_opts *opts;
	struct hl_client *client;
	struct hl_s3 *s3; /* job output (joboutput.h); NULL when it could not be set up */
	struct hlfs_cache *cache;
	struct hlfs_stats *stats;
	struct hlfs_log *log;
	uid_t uid;
	gid_t gid;
	struct timespec mount_time;
	int64_t attr_ttl_ms, list_ttl_ms, timeout_ms;
	struct hlfs_errfile *errors;   /* the .error records (errfile.c) */
	struct hlfs_pendings *pending; /* tag files being created (pending.c) */
	struct hlfs_openfiles *open;   /* open file handles (openfiles.c) */
	struct hlfs_ksize *ksize;      /* sizes the kernel may hold */
	struct hlfs_forgetq *forget;   /* stores for the kernel to forget (forget.c) */
	struct hlfs_fhirs *fhir;       /* FHIR clients of the stores (fhirdata.c) */
	struct hlfs_scratch *scratch;  /* editors' scratch files below fhir/ (scratch.h) */
	atomic_uint s3_spares;	       /* read-ahead windows lent to open files (s3read.h) */
	struct hlfs_kio kio;	       /* the INIT reply repair (kio.h) */
	/* The clock of ttls: the cache's, fetch times, kernel sizes. hl_now_ms()
	 * unless a test pins it before the first operation. Deadlines always
	 * follow hl_now_ms(), the api's clock. */
	int64_t (*now_ms)(void *arg);
	void *now_arg;
};

/* Now on fs's clock of ttls. Inline: every layer reads it, none depends on
 * mount.c for it. */
static inline int64_t hlfs_now(const struct hlfs_fs *fs)
{
	return fs->now_ms(fs->now_arg);
}

/* Fills fs from opts (borrowed; must outlive fs). Caller frees with
 * hlfs_fs_fini(). Returns 0 or -ENOMEM. */
int hlfs_fs_init(struct hlfs_fs *fs, const struct hlfs_opts *opts, struct hl_client *client,
		 struct hlfs_stats *stats, struct hlfs_log *log);
void hlfs_fs_fini(struct hlfs_fs *fs);

/* hl_client_options.on_call: stats, and the -d log line. arg is the fs. */
void hlfs_fs_on_call(void *arg, const struct hl_call_info *info);

/* Deadline (hl_now_ms() clock) for one operation starting now. Inline,
 * like hlfs_now(). */
static inline int64_t hlfs_deadline(const struct hlfs_fs *fs)
{
	return hl_now_ms() + fs->timeout_ms;
}

/* A getattr reply (lookups too) about to tell the kernel st for path. */
void hlfs_kernel_saw(struct hlfs_fs *fs, const char *path, const struct stat *st);
/* True when the kernel can hold no other size than size for path, so an
 * open of that size need not drop the kernel's attributes. */
bool hlfs_kernel_size_is(struct hlfs_fs *fs, const char *path, off_t size);

#endif
