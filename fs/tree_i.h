/* Private to the tree modules, which together implement tree.h:
 *   tree.c     the mount's state and lifecycle, resolution, stat, readdir
 *   errfile.c  the per-directory .error records
 *   fetch.c    cached listings, descriptions, jobs and tags
 *   snapshot.c what an open of a read-only file reads
 *   open.c     file handles, open/read/release, the open and pending registries
 *   writes.c   control-file inputs and jobs, tag writes, mkdir/rmdir/unlink
 *   forget.c   the kernel forgets stores the cache let go
 * Every int-returning function here returns 0 or -errno. */
#ifndef HLFS_TREE_I_H
#define HLFS_TREE_I_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "healthlake.h"
#include "jobdoc.h"
#include "names.h"
#include "path.h"
#include "tree.h"

#define HLFS_MAX_LIST_ITEMS 100000 /* bound on one listing, however large the account */
/* A fetch time older than any ttl: the value is stale for every use. */
#define HLFS_ANCIENT_MS (INT64_MIN / 4)

/* ---- tree.c ---- */

/* A parsed path and its store. lv holds the listing ds points into. */
struct hlfs_treenode {
	struct hlfs_path p;
	struct hlfs_cval *lv;	       /* the dslist; NULL for / */
	const struct hl_datastore *ds; /* the store, from the listing */
};

/* Parses path and finds its store; release n with hlfs_node_fini(). A
 * failure to list lands in /.error. */
int hlfs_resolve(struct hlfs_fs *fs, const char *path, int64_t deadline, struct hlfs_treenode *n);
void hlfs_node_fini(struct hlfs_treenode *n);

/* Around one api call: counts it in flight; on failure writes the reason
 * into why (when given) and returns -errno. */
void hlfs_call_begin(struct hlfs_fs *fs, struct hl_error *err);
int hlfs_call_end(struct hlfs_fs *fs, enum hl_err e, const struct hl_error *err, char *why,
		  size_t wl);

/* A stat of ours: owner, mode, size, times of the mount. */
void hlfs_fill_stat(struct hlfs_fs *fs, struct stat *st, mode_t mode, off_t size);
/* Sets st's three times to t (seconds since the epoch). */
void hlfs_stat_times(struct stat *st, double t);

/* ---- errfile.c ---- */

/* Records why an operation on an entry of directory key failed, and logs it. */
void hlfs_note(struct hlfs_fs *fs, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends the record of directory key (nothing when there is none). */
enum hl_err hlfs_note_text(struct hlfs_fs *fs, const char *key, struct hl_buf *out);
/* The record key of directory d of store ds_id ("/" for the root). */
void hlfs_dir_key(enum hlfs_dir d, const char *ds_id, char *out, size_t n);
/* The record key of the directory n is in. */
void hlfs_node_dir_key(const struct hlfs_treenode *n, char *out, size_t len);
/* Frees every record; for hlfs_fs_fini(). */
void hlfs_notes_free(struct hlfs_fs *fs);

/* ---- fetch.c ---- */

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

/* Cached values: "L" a struct hlfs_dslist, "D/<id>" a struct hl_datastore,
 * "J/i|e/<id>" a struct hlfs_joblist, "j/i|e/<id>/<job>" a struct
 * hlfs_jobdoc, "T/<id>" a struct hl_tag_list, "K/<id>" no data: it charges
 * the kernel's inodes below the store, which forget.c drops on eviction.
 * The get functions hand out one reference in *ret (unref when done). */
int hlfs_get_dslist(struct hlfs_fs *fs, int64_t deadline, struct hlfs_cval **ret, char *why,
		    size_t wl);
/* Failures of these two land in the .error of the directory concerned. */
int hlfs_get_joblist(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		     struct hlfs_cval **ret);
int hlfs_get_tags(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_cval **ret);
/* The newest properties of n's store; *hold keeps them alive (unref it). */
const struct hl_datastore *hlfs_props(struct hlfs_fs *fs, const struct hlfs_treenode *n,
				      struct hlfs_cval **hold);
/* A job's newest properties for stat; *hold keeps the result alive. */
int hlfs_job_props(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   const struct hlfs_jobdoc **ret, struct hlfs_cval **hold);
/* A borrowed pointer into t, or NULL. */
const struct hl_tag *hlfs_tags_find(const struct hl_tag_list *t, const char *key);
/* n's store description (Describe when older than attr_ttl). */
int hlfs_get_datastore(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		       struct hlfs_cval **ret, char *why, size_t wl);
/* n's job for an open: the cached job when terminal (final, no call); else a
 * terminal job of the listing, kept as the job from now on; else its
 * description, asked for when stale. A failure lands in the jobs' .error. */
int hlfs_job_for_open(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      struct hlfs_cval **ret);
/* Puts a listing with item (owned, moved in) added or replacing the store
 * with its id in place of the cached one; nothing when none is cached. */
void hlfs_listing_patch(struct hlfs_fs *fs, struct hl_datastore *item);
/* Marks store ds_id as used by the kernel now (its K/<id> entry). */
void hlfs_store_touch(struct hlfs_fs *fs, const char *ds_id);
/* Drop cached values so that the next use asks the service. */
void hlfs_forget_listing(struct hlfs_fs *fs);
void hlfs_forget_datastore(struct hlfs_fs *fs, const char *ds_id);
void hlfs_forget_jobs(struct hlfs_fs *fs, const char *ds_id, bool exports);
void hlfs_forget_tags(struct hlfs_fs *fs, const char *ds_id);

/* ---- snapshot.c ---- */

/* Fills fh (bytes, len, st; served) with the content of read-only file n. */
int hlfs_snapshot(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_fh *fh);

/* ---- open.c ---- */

/* Whether a tag file key of ds_id is open for creation. */
bool hlfs_pending_has(struct hlfs_fs *fs, const char *ds_id, const char *key);
/* A close of it was seen with nothing written: its value is set at release. */
void hlfs_pending_closing(struct hlfs_fs *fs, const char *ds_id, const char *key);
/* Its value went out: it is an ordinary tag from now on. */
void hlfs_pending_done(struct hlfs_fs *fs, const char *ds_id, const char *key);
/* After such a close, waits (not past deadline) for the release to set the
 * value, so that a read right after `: > tags/k` finds it. True when it is
 * still pending after all (open elsewhere: a new tag then reads empty). */
bool hlfs_pending_settle(struct hlfs_fs *fs, const char *ds_id, const char *key, int64_t deadline);
/* The stat of path's newest open snapshot, if one is open. */
bool hlfs_open_find(struct hlfs_fs *fs, const char *path, struct stat *st);
/* Frees both registries; for hlfs_fs_fini(). */
void hlfs_open_registries_free(struct hlfs_fs *fs);

/* ---- forget.c ---- */

/* The cache's on_evict hook (arg is the fs): queues the store of an evicted
 * K/, J/ or T/ entry for the kernel to forget. Never blocks. */
void hlfs_forget_evicted(void *arg, const char *key);

/* ---- writes.c ---- */

/* Acts on a control or tag file's buffered input; caller holds fh->lock. */
int hlfs_fh_act(struct hlfs_fs *fs, struct hlfs_fh *fh);

#endif
