#include "ops.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "errfile.h"
#include "fhirfile.h"
#include "mount.h"
#include "open.h"
#include "openfiles.h"
#include "path.h"
#include "tree.h"
#include "writes.h"
#include "xattrops.h"

static struct hlfs_fs *fs_of(void)
{
	return fuse_get_context()->private_data;
}

static struct hlfs_fh *fh_of(const struct fuse_file_info *fi)
{
	return fi ? (struct hlfs_fh *)(uintptr_t)fi->fh : NULL;
}

/* A path below some store's fhir/. */
static bool fhir_path(const char *path)
{
	struct hlfs_path p;
	return hlfs_path_parse(path, &p) == 0 && p.node == HLFS_N_FHIR;
}

/* Every operation ends here: its result is recorded (.error, log) in this
 * one place, and its return value goes to the kernel. */
static int done(struct hlfs_fs *fs, int rc, const struct hlfs_res *r)
{
	hlfs_record(fs, r);
	return rc;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct hlfs_fs *fs = fs_of();
	/* Lookups and listings in one directory may run side by side: every
	 * layer below is thread-safe, and a cold lookup below fhir/ waits on
	 * the service. libfuse 3.16.2 and later send this only when asked;
	 * older ones never do, hence the repair (kio.h). */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) {
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
		hlfs_kio_want(&fs->kio, FUSE_PARALLEL_DIROPS);
	}
	/* The kernel caches what our own cache would: names for the listing
	 * ttl, attributes for the content ttl; no negative entries, so a store
	 * created elsewhere shows up as soon as the listing does. */
	cfg->entry_timeout = fs->opts->list_ttl;
	cfg->attr_timeout = fs->opts->attr_ttl;
	cfg->negative_timeout = 0;
	cfg->use_ino = 0;
	cfg->kernel_cache = 0;
	cfg->direct_io = 0;
	cfg->hard_remove = 1;
	return fs;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct hlfs_fs *fs = fs_of();
	struct hlfs_res r;
	/* A file renamed over or removed while open has no name any more
	 * (hard_remove): libfuse passes its handle with path NULL. */
	if (!path && !fh_of(fi))
		return -ENOENT;
	int rc = done(fs, hlfs_do_getattr(fs, path, st, fh_of(fi), &r), &r);
	if (rc == 0 && path)
		hlfs_kernel_saw(fs, path, st);
	return rc;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

/* Names and types only, never FUSE_FILL_DIR_PLUS: libfuse before 3.17 looks
 * a plus entry up (taking a node and a lookup count) but, with the offset of
 * 0 that we pass, sends it to the kernel without its inode, so the kernel
 * ignores it, looks the name up again anyway, and never forgets the first
 * count: every listed entry's node stayed for the life of the mount. */
static int fill(void *ctx, const char *name, const struct stat *st)
{
	struct fill_ctx *c = ctx;
	return c->filler(c->buf, name, st, 0, 0);
}

/* The same with the entry's offset: a directory listed in pages. */
static int fill_at(void *ctx, const char *name, const struct stat *st, off_t off)
{
	struct fill_ctx *c = ctx;
	return c->filler(c->buf, name, st, off, 0);
}

/* A directory below fhir/ keeps, per open, whether its listing already
 * failed with EOVERFLOW: ls goes on reading after that error (it takes it
 * for one entry's), so the next read at that place must be the end. */
static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	fi->fh = 0;
	if (!fhir_path(path))
		return 0;
	bool *overflowed = calloc(1, sizeof(*overflowed));
	if (!overflowed)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)overflowed;
	return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	free((void *)(uintptr_t)fi->fh);
	fi->fh = 0;
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)flags;
	struct fill_ctx c = {buf, filler};
	struct hlfs_res r;
	bool *overflowed = fi ? (bool *)(uintptr_t)fi->fh : NULL;
	if (fhir_path(path) && overflowed)
		return done(fs_of(),
			    hlfs_do_readdir_at(fs_of(), path, off, overflowed, &c, fill_at, &r), &r);
	return done(fs_of(), hlfs_do_readdir(fs_of(), path, &c, fill, &r), &r);
}

static int open_common(const char *path, struct fuse_file_info *fi, bool create)
{
	struct hlfs_fs *fs = fs_of();
	struct hlfs_fh *fh = NULL;
	struct hlfs_res r;
	int rc = done(fs, hlfs_do_open(fs, path, fi->flags, create, &fh, &r), &r);
	if (rc)
		return rc;
	fi->fh = (uint64_t)(uintptr_t)fh;
	/* A terminal job's bytes never change, so the kernel may keep them --
	 * from the second kernel open on: the first must make the kernel drop
	 * what it cached while the job was running. */
	fi->keep_cache = fh->snap.served && atomic_exchange(fh->snap.served, true);
	/* A FHIR stream's size is unknown (0 in stat): the kernel must pass
	 * every read on, like /proc files. */
	fi->direct_io = fh->kind == HLFS_FH_FHIR && hlfs_fhir_is_stream(fh);
	/* A terminal job's output objects do not change either (an ETag that
	 * does fails the read with ESTALE). */
	if (fh->kind == HLFS_FH_S3)
		fi->keep_cache = 1;
	fi->nonseekable = fh->kind == HLFS_FH_CONTROL;
	/* A snapshot is read-only and complete at open: close has nothing to
	 * flush, so spare the kernel a FLUSH round trip per read. */
	fi->noflush = fh->kind == HLFS_FH_SNAPSHOT || fh->kind == HLFS_FH_S3 ||
		      (fh->kind == HLFS_FH_FHIR && !hlfs_fhir_writable(fh));
	/* The kernel may hold a size from before this snapshot and would stop
	 * reading there: make it ask again, unless it cannot hold another. */
	if (fh->kind == HLFS_FH_SNAPSHOT && !fi->keep_cache &&
	    !hlfs_kernel_size_is(fs, path, fh->snap.st.st_size))
		fuse_invalidate_path(fuse_get_context()->fuse, path);
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	return open_common(path, fi, false);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	return open_common(path, fi, true);
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	return hlfs_do_read(fh_of(fi), buf, size, off);
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_write(fs_of(), fh_of(fi), buf, size, off, &r), &r);
}

/* fsync(2) sends a resource's buffered bytes, as close(2) does. */
static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	struct hlfs_res r;
	struct hlfs_fh *fh = fh_of(fi);
	if (!fh || fh->kind != HLFS_FH_FHIR)
		return 0;
	return done(fs_of(), hlfs_do_flush(fs_of(), fh, &r), &r);
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_flush(fs_of(), fh_of(fi), &r), &r);
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct hlfs_res r;
	hlfs_do_release(fs_of(), fh_of(fi), &r);
	hlfs_record(fs_of(), &r); /* the kernel does not wait for it: only .error says */
	fi->fh = 0;
	return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = fh_of(fi);
	if (!path && !(fh && fh->kind == HLFS_FH_FHIR))
		return -ENOENT; /* nameless (see op_getattr) and not a buffer of ours */
	return done(fs_of(), hlfs_do_truncate(fs_of(), path, fh_of(fi), size, &r), &r);
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_readlink(fs_of(), path, buf, size, &r), &r);
}

static int op_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_mkdir(fs_of(), path, &r), &r);
}

static int op_rmdir(const char *path)
{
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_rmdir(fs_of(), path, &r), &r);
}

static int op_unlink(const char *path)
{
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_unlink(fs_of(), path, &r), &r);
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_rename(fs_of(), from, to, flags, &r), &r);
}

static int op_link(const char *from, const char *to)
{
	(void)from;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_refuse(fs_of(), to, "link", &r), &r);
}

static int op_symlink(const char *target, const char *path)
{
	(void)target;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_refuse(fs_of(), path, "symlink", &r), &r);
}

static int op_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)mode;
	(void)dev;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_refuse(fs_of(), path, "mknod", &r), &r);
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	struct hlfs_res r;
	if (!path)
		return -ENOENT; /* nameless (see op_getattr) */
	return done(fs_of(), hlfs_do_setattr(fs_of(), path, "chmod", mode, 0, 0, &r), &r);
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)fi;
	struct hlfs_res r;
	if (!path)
		return -ENOENT; /* nameless (see op_getattr) */
	return done(fs_of(), hlfs_do_setattr(fs_of(), path, "chown", 0, uid, gid, &r), &r);
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	struct hlfs_res r;
	if (!path)
		return -ENOENT; /* nameless (see op_getattr) */
	return done(fs_of(), hlfs_do_setattr(fs_of(), path, "utimens", 0, 0, 0, &r), &r);
}

/* Below fhir/ extended attributes are not supported (ENOTSUP): sed and
 * cp, copying a file's ACL to their new file, then fall back to chmod. */
static int op_setxattr(const char *path, const char *name, const char *value, size_t size,
		       int flags)
{
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	if (fhir_path(path))
		return -ENOTSUP;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_refuse(fs_of(), path, "setxattr", &r), &r);
}

static int op_removexattr(const char *path, const char *name)
{
	(void)name;
	if (fhir_path(path))
		return -ENOTSUP;
	struct hlfs_res r;
	return done(fs_of(), hlfs_do_refuse(fs_of(), path, "removexattr", &r), &r);
}

static int op_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = 255;
	return 0;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.release = op_release,
	.truncate = op_truncate,
	.readlink = op_readlink,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.unlink = op_unlink,
	.rename = op_rename,
	.link = op_link,
	.symlink = op_symlink,
	.mknod = op_mknod,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.getxattr = hlfs_op_getxattr,
	.listxattr = hlfs_op_listxattr,
	.statfs = op_statfs,
};

const struct fuse_operations *hlfs_operations(void)
{
	return &ops;
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

/* userdata is libfuse's struct fuse; the mount is the thread's context,
 * which the INIT request's thread has from init on. Threads that only
 * send notifications have none and are never the INIT reply. */
static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	struct fuse_context *c = count == 2 ? fuse_get_context() : NULL; /* INIT's shape first */
	struct hlfs_fs *fs = c ? c->private_data : NULL;
	if (fs) {
		struct iovec mine[2] = {iov[0], iov[1]};
		struct fuse_init_out body;
		if (hlfs_kio_patch(&fs->kio, mine, count, &body))
			return writev(fd, mine, count);
	}
	return writev(fd, iov, count);
}

int hlfs_ops_take_io(struct fuse *f)
{
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 14)
	struct fuse_session *se = fuse_get_session(f);
	const struct fuse_custom_io io = {.read = io_read, .writev = io_writev};
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
#else
	(void)f;
	return -ENOTSUP;
#endif
}
