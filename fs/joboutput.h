/* A terminal job's output objects as a directory tree (DESIGN.md "Job output
 * as files"): `<jobs>/<job-id>.files/` lists the objects under the job's
 * output folder, one ListObjectsV2 listing (all pages) per job, cached as
 * final; a key's part below the folder is its path, sub-folders are
 * directories. Reads are s3read.h's. */
#ifndef HLFS_JOBOUTPUT_H
#define HLFS_JOBOUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "resolve.h"
#include "result.h"
#include "s3xml.h"

struct hlfs_fs;

/* One job's output listing, objects sorted by key (bytewise). */
struct hlfs_files {
	char *bucket;
	char *folder; /* the keys' common prefix, ending in '/' (or "" for a bucket's root) */
	struct hl_s3_list list;
	double time; /* the job's SubmitTime, for the directories; < 0 when unknown */
};

/* What a path below a .files directory is. */
enum hlfs_files_kind { HLFS_FILES_NONE, HLFS_FILES_DIR, HLFS_FILES_OBJECT };

/* Job n->p.leaf's output listing in *hold (unref it). -ENOENT with the
 * reason in the jobs directory's .error when the job is not terminal or
 * has no output location; the listing's own failure (EACCES, EIO, ...)
 * likewise. Returns 1, with nothing in res, when the job does not exist. */
int hlfs_files_get(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   struct hlfs_cval **hold, struct hlfs_res *res);

/* Pure: what sub ("" for the .files directory itself) is in f; for an
 * object, *obj is its index. */
enum hlfs_files_kind hlfs_files_find(const struct hlfs_files *f, const char *sub, size_t *obj);

/* Pure: calls fn once for each entry of directory sub, in key order, with
 * the entry's name and, for an object, its index (else -1). Keys whose
 * path has an empty, "." or ".." component, or one longer than 255 bytes,
 * are left out (no name can reach them). Stops when fn returns non-zero. */
void hlfs_files_each(const struct hlfs_files *f, const char *sub,
		     int (*fn)(void *ctx, const char *name, long obj), void *ctx);

#endif
