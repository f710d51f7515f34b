/* Path -> node: a parsed path and its store, found in the listing. */
#ifndef HLFS_RESOLVE_H
#define HLFS_RESOLVE_H

#include <stdint.h>

#include "cache.h"
#include "healthlake.h"
#include "path.h"
#include "result.h"

struct hlfs_fs;

/* A parsed path and its store. lv holds the listing ds points into. */
struct hlfs_treenode {
	struct hlfs_path p;
	struct hlfs_cval *lv;	       /* the dslist; NULL for / */
	const struct hl_datastore *ds; /* the store, from the listing */
	int64_t deadline;	       /* the operation's, as given to hlfs_resolve(): the
					* calls after the lookup share it */
};

/* Parses path and finds its store; release n with hlfs_node_fini() (also
 * on failure). A failure to list goes to /.error. */
int hlfs_resolve(struct hlfs_fs *fs, const char *path, int64_t deadline, struct hlfs_treenode *n,
		 struct hlfs_res *res);
void hlfs_node_fini(struct hlfs_treenode *n);

#endif
