/* Open files of fhir/ that are not snapshots, and the changes made by path
 * (DESIGN.md "FHIR data as files"): `.ndjson` streams read page by page,
 * resource files written into a buffer and sent as one PUT at flush (with
 * If-Match from the body's meta.versionId), editors' scratch files, unlink,
 * rename, and the chmod/chown/utimens that editors make. Every function
 * that can fail fills res (result.h). */
#ifndef HLFS_FHIRFILE_H
#define HLFS_FHIRFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "resolve.h"
#include "result.h"

struct hlfs_fs;
struct hlfs_fh;
struct hlfs_fhirfh; /* a handle's FHIR part; struct hlfs_fh.fhir */

/* Opens n (an HLFS_N_FHIR node). Returns 0 with *ret, the FHIR part of a
 * handle for the caller to make (struct hlfs_fh.fhir, kind HLFS_FH_FHIR);
 * 1 when the file is read as a snapshot (node.h's content; the caller
 * opens it); or -errno. */
int hlfs_fhir_open(struct hlfs_fs *fs, const struct hlfs_treenode *n, int flags, bool create,
		   struct hlfs_fhirfh **ret, struct hlfs_res *res);
/* Bytes read (0 at the end), or -errno. */
int hlfs_fhir_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off, struct hlfs_res *res);
/* size, or -errno (EFBIG past fhir_max_bytes). */
int hlfs_fhir_write(struct hlfs_fh *fh, const char *buf, size_t size, off_t off,
		    struct hlfs_res *res);
/* Sends what was written since the last flush (a resource's PUT). */
int hlfs_fhir_flush(struct hlfs_fh *fh, struct hlfs_res *res);
int hlfs_fhir_ftruncate(struct hlfs_fh *fh, off_t size, struct hlfs_res *res);
/* The stat of an open handle. */
void hlfs_fhir_fstat(struct hlfs_fh *fh, struct stat *st);
/* For a resource open for writing: its stat as written so far, without
 * waiting for fh's lock (held across a PUT); false for any other handle. A
 * file created through the mount exists only in such a handle until its PUT. */
bool hlfs_fhir_writer_stat(const struct hlfs_fh *fh, struct stat *st);
/* A stream: read to EOF, its size unknown to the kernel. */
bool hlfs_fhir_is_stream(const struct hlfs_fh *fh);
/* Whether a flush has anything to do (not a read-only handle). */
bool hlfs_fhir_writable(const struct hlfs_fh *fh);
void hlfs_fhirfh_free(struct hlfs_fhirfh *f); /* NULL-safe */

/* By path. */
int hlfs_fhir_unlink(struct hlfs_fs *fs, const struct hlfs_treenode *n, struct hlfs_res *res);
/* rename(2) from n to the node `to` of the same store. */
int hlfs_fhir_rename(struct hlfs_fs *fs, const struct hlfs_treenode *n,
		     const struct hlfs_treenode *to, struct hlfs_res *res);
int hlfs_fhir_truncate(struct hlfs_fs *fs, const struct hlfs_treenode *n, off_t size,
		       struct hlfs_res *res);
/* chmod (mode), chown (uid, gid; -1 keeps), utimens (all false): what keeps
 * the mode and owner a file shows succeeds without effect. */
enum hlfs_fhir_attr { HLFS_FA_MODE, HLFS_FA_OWNER, HLFS_FA_TIMES };
int hlfs_fhir_setattr(struct hlfs_fs *fs, const struct hlfs_treenode *n, enum hlfs_fhir_attr what,
		      mode_t mode, uid_t uid, gid_t gid, struct hlfs_res *res);

#endif
