/* Listings, descriptions, jobs and tags through the cache and the service
 * (remote.h), each with its cache policy: which key (keys.h), which ttl,
 * what a value costs (footprint.h), and where a failure's reason goes. */
#ifndef HLFS_FETCH_H
#define HLFS_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "healthlake.h"
#include "jobdoc.h"
#include "names.h"
#include "resolve.h"
#include "result.h"

struct hlfs_fs;

/* One listing of data stores, with the naming rule applied. Items may be
 * borrowed from an earlier snapshot (parent) after a local change. */
struct hlfs_dslist {
	struct hlfs_cval *parent;
	struct hl_datastore_list *base;
	struct hl_datastore *own;
	struct hl_datastore **items;
	size_t n;
	struct hlfs_store_ref *refs;
	struct hlfs_names names;
	int64_t fetched_ms;
	size_t cost; /* heap bytes, the parent's included */
};

/* The get functions hand out one reference in *ret (unref when done); a
 * failure fills res. */

/* The listing; a failure goes to /.error as "<what>: <reason>". */
int hlfs_get_dslist(struct hlfs_fs *fs, int64_t deadline, const char *what, struct hlfs_cval **ret,
		    struct hlfs_res *res);
/* n's job listing; a failure goes to the .error of the directory n is in. */
int hlfs_get_joblist(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		     struct hlfs_cval **ret, struct hlfs_res *res);
/* n's store's tags; a failure goes to tags/.error. */
int hlfs_get_tags(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_cval **ret, struct hlfs_res *res);
/* n's store description (Describe when older than attr_ttl); a failure
 * leaves its reason in why (HLFS_WHY_MAX bytes). */
int hlfs_get_datastore(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		       struct hlfs_cval **ret, char *why);
/* The newest properties of n's store; *hold keeps them alive (unref it). */
const struct hl_datastore *hlfs_props(struct hlfs_fs *fs, const struct hlfs_treenode *n,
				      struct hlfs_cval **hold);
/* A job's newest properties for stat; *hold keeps the result alive. */
int hlfs_job_props(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   const struct hlfs_jobdoc **ret, struct hlfs_cval **hold, struct hlfs_res *res);
/* n's job for a read: the cached job when terminal (final, no call); else a
 * terminal job of the listing, kept as the job from now on; else its
 * description, asked for when stale. */
int hlfs_job_for_read(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      struct hlfs_cval **ret, struct hlfs_res *res);
/* A borrowed pointer into t, or NULL. */
const struct hl_tag *hlfs_tags_find(const struct hl_tag_list *t, const char *key);

/* Seeds the name index with the mount-time check's page, asked for at
 * fetched_ms, when that page is the whole account (list moved in): the first
 * lookups of stores then need no List. Its cache entry is as old as can be,
 * so that `ls` and every file still ask the service as their ttl says; only
 * name resolution, which goes by when the page was fetched, reads it. */
void hlfs_listing_seed(struct hlfs_fs *fs, struct hl_datastore_list *list, int64_t fetched_ms);
/* Puts a listing with item (owned, moved in) added or replacing the store
 * with its id in place of the cached one; nothing when none is cached. */
void hlfs_listing_patch(struct hlfs_fs *fs, struct hl_datastore *item);
/* Marks store ds_id as used by the kernel now (its K/<id> entry). */
void hlfs_store_touch(struct hlfs_fs *fs, const char *ds_id);
/* Drop cached values so that the next use asks the service. */
void hlfs_drop_listing(struct hlfs_fs *fs);
void hlfs_drop_datastore(struct hlfs_fs *fs, const char *ds_id);
void hlfs_drop_jobs(struct hlfs_fs *fs, const char *ds_id, bool exports);
void hlfs_drop_tags(struct hlfs_fs *fs, const char *ds_id);

#endif
