/*
 * floorfs: the smallest FUSE filesystem that looks like one corner of a
 * healthlakefs mount, used by scripts/bench as the floor of FUSE round trips.
 *
 *   floorfs [-f] [-s] -o status=FILE,job=FILE[,OPTS] MOUNTPOINT
 *
 * It serves, from memory, exactly:
 *   /s/              directory (0700)
 *   /s/status        content of FILE given by status= (0400)
 *   /s/imports/      directory (0700)
 *   /s/imports/job   content of FILE given by job= (0400)
 * so a path of the same depth as <store>/status and <store>/imports/<job-id>
 * costs the same number of lookups.
 *
 * Kernel cache settings are chosen on the command line so that they can be
 * set to whatever healthlakefs uses:
 *   entry_timeout=, attr_timeout=, negative_timeout=  (libfuse's own options)
 *   status_keep_cache=0|1, job_keep_cache=0|1     fi->keep_cache on open
 *   status_direct_io=0|1,  job_direct_io=0|1      fi->direct_io on open
 * and, to reproduce what another filesystem asks of the kernel on top of the
 * floor (for diagnosis, not for the floor itself):
 *   flush=1           implement flush (the kernel then sends FLUSH on every close)
 *   status_inval=1    fuse_invalidate_path() on each open of status (the kernel
 *                     then asks for its attributes again)
 * The file contents are read once at start-up; nothing changes afterwards.
 */
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct floor_file {
	char *data;
	size_t size;
	int keep_cache;
	int direct_io;
	int inval_on_open;
};

struct floor_state {
	struct floor_file status;
	struct floor_file job;
	time_t start;
};

/* Parsed from -o; strings are owned by fuse_opt (freed at exit by the OS). */
struct floor_conf {
	char *status_path;
	char *job_path;
	int status_keep_cache;
	int job_keep_cache;
	int status_direct_io;
	int job_direct_io;
	int flush;
	int status_inval;
};

static const struct fuse_opt floor_opts[] = {
	{ "status=%s", offsetof(struct floor_conf, status_path), 0 },
	{ "job=%s", offsetof(struct floor_conf, job_path), 0 },
	{ "status_keep_cache=%d", offsetof(struct floor_conf, status_keep_cache), 0 },
	{ "job_keep_cache=%d", offsetof(struct floor_conf, job_keep_cache), 0 },
	{ "status_direct_io=%d", offsetof(struct floor_conf, status_direct_io), 0 },
	{ "job_direct_io=%d", offsetof(struct floor_conf, job_direct_io), 0 },
	{ "flush=%d", offsetof(struct floor_conf, flush), 0 },
	{ "status_inval=%d", offsetof(struct floor_conf, status_inval), 0 },
	FUSE_OPT_END
};

enum floor_node { NODE_NONE, NODE_ROOT, NODE_STORE, NODE_STATUS, NODE_IMPORTS, NODE_JOB };

static enum floor_node floor_lookup(const char *path)
{
	if (strcmp(path, "/") == 0)
		return NODE_ROOT;
	if (strcmp(path, "/s") == 0)
		return NODE_STORE;
	if (strcmp(path, "/s/status") == 0)
		return NODE_STATUS;
	if (strcmp(path, "/s/imports") == 0)
		return NODE_IMPORTS;
	if (strcmp(path, "/s/imports/job") == 0)
		return NODE_JOB;
	return NODE_NONE;
}

static struct floor_state *floor_state(void)
{
	return fuse_get_context()->private_data;
}

static struct floor_file *floor_file(struct floor_state *st, enum floor_node n)
{
	if (n == NODE_STATUS)
		return &st->status;
	if (n == NODE_JOB)
		return &st->job;
	return NULL;
}

static int floor_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi)
{
	(void)fi;
	struct floor_state *st = floor_state();
	enum floor_node n = floor_lookup(path);
	if (n == NODE_NONE)
		return -ENOENT;
	memset(sb, 0, sizeof(*sb));
	sb->st_uid = getuid();
	sb->st_gid = getgid();
	sb->st_mtime = st->start;
	sb->st_atime = st->start;
	sb->st_ctime = st->start;
	struct floor_file *f = floor_file(st, n);
	if (f) {
		sb->st_mode = S_IFREG | 0400;
		sb->st_nlink = 1;
		sb->st_size = (off_t)f->size;
	} else {
		sb->st_mode = S_IFDIR | 0700;
		sb->st_nlink = 2;
	}
	return 0;
}

static int floor_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
			 struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	enum floor_node n = floor_lookup(path);
	const char *child = NULL;
	const char *child2 = NULL;
	if (n == NODE_ROOT)
		child = "s";
	else if (n == NODE_STORE) {
		child = "status";
		child2 = "imports";
	} else if (n == NODE_IMPORTS)
		child = "job";
	else
		return n == NODE_NONE ? -ENOENT : -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, child, NULL, 0, 0);
	if (child2)
		fill(buf, child2, NULL, 0, 0);
	return 0;
}

static int floor_open(const char *path, struct fuse_file_info *fi)
{
	enum floor_node n = floor_lookup(path);
	struct floor_file *f = floor_file(floor_state(), n);
	if (!f)
		return n == NODE_NONE ? -ENOENT : -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->keep_cache = f->keep_cache ? 1 : 0;
	fi->direct_io = f->direct_io ? 1 : 0;
	if (f->inval_on_open)
		fuse_invalidate_path(fuse_get_context()->fuse, path);
	return 0;
}

static int floor_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)fi;
	struct floor_file *f = floor_file(floor_state(), floor_lookup(path));
	if (!f)
		return -ENOENT;
	if (off < 0 || (size_t)off >= f->size)
		return 0;
	size_t n = f->size - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, f->data + off, n);
	return (int)n;
}

static int floor_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static const struct fuse_operations floor_ops = {
	.getattr = floor_getattr,
	.readdir = floor_readdir,
	.open = floor_open,
	.read = floor_read,
};

/* The same with flush: only for reproducing another filesystem's requests. */
static const struct fuse_operations floor_ops_flush = {
	.getattr = floor_getattr,
	.readdir = floor_readdir,
	.open = floor_open,
	.read = floor_read,
	.flush = floor_flush,
};

/* Reads a whole small file into *ret (caller frees ret->data). Returns 0 or -1. */
static int floor_load(const char *path, struct floor_file *ret)
{
	int rc = -1;
	char *data = NULL;
	size_t len = 0;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		goto out;
	size_t cap = 4096;
	data = malloc(cap);
	if (!data)
		goto out;
	for (;;) {
		size_t n = fread(data + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			if (cap >= (1u << 20))
				goto out; /* content files are small; refuse anything silly */
			char *bigger = realloc(data, cap * 2);
			if (!bigger)
				goto out;
			data = bigger;
			cap *= 2;
		}
	}
	if (ferror(fp))
		goto out;
	ret->data = data;
	ret->size = len;
	data = NULL;
	rc = 0;
out:
	free(data);
	if (fp)
		fclose(fp);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 1;
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct floor_conf conf = { 0 };
	struct floor_state st = { 0 };

	if (fuse_opt_parse(&args, &conf, floor_opts, NULL) == -1)
		goto out;
	if (!conf.status_path) {
		fprintf(stderr, "floorfs: -o status=FILE is required\n");
		goto out;
	}
	if (floor_load(conf.status_path, &st.status) != 0) {
		fprintf(stderr, "floorfs: cannot read %s\n", conf.status_path);
		goto out;
	}
	if (floor_load(conf.job_path ? conf.job_path : conf.status_path, &st.job) != 0) {
		fprintf(stderr, "floorfs: cannot read %s\n", conf.job_path);
		goto out;
	}
	st.status.keep_cache = conf.status_keep_cache;
	st.status.direct_io = conf.status_direct_io;
	st.status.inval_on_open = conf.status_inval;
	st.job.keep_cache = conf.job_keep_cache;
	st.job.direct_io = conf.job_direct_io;
	st.start = time(NULL);
	rc = fuse_main(args.argc, args.argv, conf.flush ? &floor_ops_flush : &floor_ops, &st);
out:
	free(st.status.data);
	free(st.job.data);
	free(conf.status_path);
	free(conf.job_path);
	fuse_opt_free_args(&args);
	return rc;
}
