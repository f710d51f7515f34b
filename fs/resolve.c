/* Path resolution. */
#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "keys.h"
#include "mount.h"

void hlfs_node_fini(struct hlfs_treenode *n)
{
	hlfs_cval_unref(n->lv);
	n->lv = NULL;
}

/* Finds n's store in listing lv; on success n holds lv (moved in) and the
 * store is marked as in use by the kernel. */
static bool take_store(struct hlfs_fs *fs, struct hlfs_treenode *n, struct hlfs_cval *lv)
{
	struct hlfs_dslist *d = lv->data;
	long i = hlfs_names_find(&d->names, d->refs, n->p.store);
	if (i < 0)
		return false;
	n->lv = lv;
	n->ds = d->items[i];
	hlfs_store_touch(fs, n->ds->id);
	return true;
}

int hlfs_resolve(struct hlfs_fs *fs, const char *path, int64_t deadline, struct hlfs_treenode *n,
		 struct hlfs_res *res)
{
	memset(n, 0, sizeof(*n));
	n->deadline = deadline;
	hlfs_res_init(res);
	int rc = hlfs_path_parse(path, &n->p);
	if (rc)
		return hlfs_res_errno(res, rc);
	if (n->p.node == HLFS_N_ROOT || n->p.node == HLFS_N_STATS ||
	    (n->p.node == HLFS_N_ERROR && n->p.dir == HLFS_D_ROOT))
		return 0;
	/* A name the last listing knows resolves through it, however old: a
	 * store's id never changes, and its contents have their own ttl. Only
	 * a name it does not know is worth a fresh listing (when stale). The
	 * store directory's own lookup does not list either: it would double
	 * the calls of a read with list_ttl=0 and make every path walk wait on
	 * an unwell service, for a store deleted elsewhere that `ls` and its
	 * status (DELETED) already show. */
	struct hlfs_cval *lv = NULL;
	if (hlfs_cache_peek(fs->cache, HLFS_LISTING_KEY, &lv, NULL) == 0) {
		if (take_store(fs, n, lv))
			return 0;
		hlfs_cval_unref(lv);
	}
	char what[HLFS_NAME_MAX + 16];
	snprintf(what, sizeof(what), "lookup %s", n->p.store);
	rc = hlfs_get_dslist(fs, deadline, what, &lv, res);
	if (rc)
		return rc;
	if (take_store(fs, n, lv))
		return 0;
	hlfs_cval_unref(lv);
	return hlfs_res_errno(res, -ENOENT);
}
