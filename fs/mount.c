/* The mount's state and lifecycle. */
#include "mount.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errfile.h"
#include "fhirdata.h"
#include "forget.h"
#include "ksize.h"
#include "openfiles.h"
#include "pending.h"
#include "scratch.h"

/* Paths whose kernel size is remembered: the files being re-read now. */
#define KSIZE_SLOTS 1024

static int64_t real_clock(void *arg)
{
	(void)arg;
	return hl_now_ms();
}

/* The cache's clock: the fs's, so that a pinned clock pins the ttls too. */
static int64_t cache_clock(void *arg)
{
	return hlfs_now(arg);
}

int hlfs_fs_init(struct hlfs_fs *fs, const struct hlfs_opts *opts, struct hl_client *client,
		 struct hlfs_stats *stats, struct hlfs_log *log)
{
	memset(fs, 0, sizeof(*fs));
	fs->opts = opts;
	fs->client = client;
	fs->stats = stats;
	fs->log = log;
	fs->uid = getuid();
	fs->gid = getgid();
	int64_t now = hl_real_ms();
	fs->mount_time.tv_sec = (time_t)(now / 1000);
	fs->mount_time.tv_nsec = (long)(now % 1000) * 1000000;
	fs->attr_ttl_ms = (int64_t)(opts->attr_ttl * 1000);
	fs->list_ttl_ms = (int64_t)(opts->list_ttl * 1000);
	fs->timeout_ms = (int64_t)(opts->timeout * 1000);
	fs->now_ms = real_clock;
	fs->cache = hlfs_cache_new((size_t)opts->cache_mb << 20, cache_clock, fs);
	/* The kernel keeps a size for attr_ttl from when the reply reaches it:
	 * allow the reply a second on its way. */
	fs->ksize = hlfs_ksize_new(KSIZE_SLOTS, fs->attr_ttl_ms + 1000);
	fs->errors = hlfs_errfile_new();
	fs->pending = hlfs_pendings_new();
	fs->open = hlfs_openfiles_new();
	fs->fhir = hlfs_fhirs_new(opts);
	/* Editors' scratch files live in memory: as much as the cache may hold. */
	const struct hlfs_scratch_limits lim = {
	    .max_total = (size_t)opts->cache_mb << 20,
	    .max_file = (size_t)opts->fhir_max_bytes,
	};
	fs->scratch = hlfs_scratch_new(&lim);
	if (!fs->cache || !fs->ksize || !fs->errors || !fs->pending || !fs->open || !fs->fhir ||
	    !fs->scratch) {
		hlfs_fs_fini(fs);
		return -ENOMEM;
	}
	hlfs_cache_on_evict(fs->cache, hlfs_forget_evicted, fs);
	return 0;
}

void hlfs_fs_fini(struct hlfs_fs *fs)
{
	hlfs_forget_stop(fs);
	/* Files still open when the loop stopped (a signal) hold cache values. */
	hlfs_openfiles_free(fs->open);
	fs->open = NULL;
	hlfs_pendings_free(fs->pending);
	fs->pending = NULL;
	hlfs_cache_free(fs->cache);
	fs->cache = NULL;
	hlfs_ksize_free(fs->ksize);
	fs->ksize = NULL;
	hlfs_errfile_free(fs->errors);
	fs->errors = NULL;
	hlfs_fhirs_free(fs->fhir); /* after the handles, which borrow its clients */
	fs->fhir = NULL;
	hlfs_scratch_free(fs->scratch);
	fs->scratch = NULL;
}

void hlfs_fs_on_call(void *arg, const struct hl_call_info *info)
{
	struct hlfs_fs *fs = arg;
	hlfs_stats_on_call(fs->stats, info);
	hlfs_log_call(fs->log, info);
}

void hlfs_kernel_saw(struct hlfs_fs *fs, const char *path, const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		hlfs_ksize_note(fs->ksize, path, st->st_size, hlfs_now(fs));
}

bool hlfs_kernel_size_is(struct hlfs_fs *fs, const char *path, off_t size)
{
	return hlfs_ksize_only(fs->ksize, path, size, hlfs_now(fs));
}
