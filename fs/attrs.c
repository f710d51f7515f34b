/* Stat fields and node contents. */
#include "attrs.h"

#include <string.h>
#include <time.h>

#include "mount.h"

static void set_time(struct timespec *ts, double t)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		ts->tv_nsec = 0;
}

void hlfs_fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim = fs->mount_time;
	st->st_ctim = fs->mount_time;
	st->st_atim = fs->mount_time;
}

void hlfs_stat_times(struct stat *st, double t)
{
	set_time(&st->st_mtim, t);
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

void hlfs_stat_mtime(struct stat *st, double t)
{
	set_time(&st->st_mtim, t);
}

void hlfs_content_init(struct hlfs_content *c)
{
	memset(c, 0, sizeof(*c));
	hl_buf_init(&c->data, 0);
}

void hlfs_content_fini(struct hlfs_content *c)
{
	if (!c)
		return;
	hl_buf_free(&c->data);
	hlfs_cval_unref(c->hold);
	c->hold = NULL;
	c->bytes = NULL;
	c->served = NULL;
}
