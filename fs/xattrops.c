#include "xattrops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "path.h"
#include "tree.h"
#include "xattr.h"

static enum hlfs_xattr_kind kind_of(const char *path)
{
	struct hlfs_path p;
	if (hlfs_path_parse(path, &p) != 0)
		return HLFS_XATTR_NONE;
	if (p.node == HLFS_N_STORE)
		return HLFS_XATTR_STORE;
	if (p.node == HLFS_N_JOB)
		return HLFS_XATTR_JOB;
	return HLFS_XATTR_NONE;
}

/* Reads the facts the way `cat` would read the file that holds them (the
 * store's datastore.json, or the job file itself): through the same cache,
 * so an attribute costs no call that reading the file would not. */
static int load(struct hlfs_fs *fs, const char *path, enum hlfs_xattr_kind kind,
		struct hlfs_xattr_facts *ret)
{
	char file[PATH_MAX];
	struct hlfs_fh *fh = NULL;
	const char *src = path;
	int rc;
	memset(ret, 0, sizeof(*ret));
	if (kind == HLFS_XATTR_STORE) {
		if (snprintf(file, sizeof(file), "%s/datastore.json", path) >= (int)sizeof(file))
			return -ENAMETOOLONG;
		src = file;
	}
	rc = hlfs_do_open(fs, src, O_RDONLY, false, &fh);
	if (rc)
		return rc;
	rc = hlfs_xattr_facts_parse(kind, fh->bytes, fh->len, ret);
	hlfs_do_release(fs, fh);
	return rc;
}

int hlfs_op_getxattr(const char *path, const char *name, char *value, size_t size)
{
	struct hlfs_fs *fs = fuse_get_context()->private_data;
	struct hlfs_xattr_facts f;
	enum hlfs_xattr_kind kind = kind_of(path);
	/* Names we do not have (security.capability on every write, ACLs)
	 * are answered at once, without touching the tree. */
	if (!hlfs_xattr_known(kind, name))
		return -ENODATA;
	int rc = load(fs, path, kind, &f);
	if (rc == 0)
		rc = hlfs_xattr_get(kind, &f, name, value, size);
	hlfs_xattr_facts_free(&f);
	return rc;
}

int hlfs_op_listxattr(const char *path, char *list, size_t size)
{
	/* The names depend only on the kind of node; the kernel has already
	 * looked the path up, so no call is needed. */
	return hlfs_xattr_list(kind_of(path), list, size);
}
