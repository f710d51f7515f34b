#include "xattrops.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "errfile.h"
#include "mount.h"
#include "node.h"
#include "ops.h"
#include "path.h"
#include "resolve.h"
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

/* Reads the facts from the file that holds them (the store's
 * datastore.json, or the job file itself) as a read of it would: through
 * the same cache and node content, so an attribute costs no call that
 * reading the file would not, and no open is made (nor counted). */
static int load(struct hlfs_fs *fs, const char *path, enum hlfs_xattr_kind kind,
		struct hlfs_xattr_facts *ret, struct hlfs_res *res)
{
	char file[PATH_MAX];
	struct hlfs_treenode n;
	struct hlfs_content c;
	const char *src = path;
	memset(ret, 0, sizeof(*ret));
	hlfs_content_init(&c);
	if (kind == HLFS_XATTR_STORE) {
		if (snprintf(file, sizeof(file), "%s/datastore.json", path) >= (int)sizeof(file))
			return hlfs_res_errno(res, -ENAMETOOLONG);
		src = file;
	}
	int64_t deadline = hlfs_deadline(fs);
	int rc = hlfs_resolve(fs, src, deadline, &n, res);
	if (rc == 0)
		rc = hlfs_node_content(fs, &n, deadline, HLFS_FOR_READ, &c, res);
	if (rc == 0) {
		rc = hlfs_xattr_facts_parse(kind, c.bytes, c.len, ret);
		if (rc)
			hlfs_res_errno(res, rc);
	}
	hlfs_content_fini(&c);
	hlfs_node_fini(&n);
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
	struct hlfs_res r;
	hlfs_res_init(&r);
	int rc = load(fs, path, kind, &f, &r);
	hlfs_record(fs, &r);
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
