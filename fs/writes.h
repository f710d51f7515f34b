/* The writes: control-file inputs that start jobs, tag values, truncate,
 * mkdir, rmdir, unlink, and the refusals of what the tree does not offer.
 * Every hlfs_do_* fills res (result.h), which the caller records with
 * hlfs_record(), and returns 0 (or a count) or -errno. */
#ifndef HLFS_WRITES_H
#define HLFS_WRITES_H

#include <stddef.h>

#include "openfiles.h"
#include "result.h"

struct hlfs_fs;

/* Buffers; a write that completes an input makes the call. Returns size or
 * -errno. */
int hlfs_do_write(struct hlfs_fs *fs, struct hlfs_fh *fh, const char *buf, size_t size, off_t off,
		  struct hlfs_res *res);
/* Acts on buffered, unfinished input; an empty flush does nothing. */
int hlfs_do_flush(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res);
/* Truncation: to 0 for control and tag files; below fhir/ what fhirfile.h
 * takes; refused elsewhere. */
int hlfs_do_truncate(struct hlfs_fs *fs, const char *path, struct hlfs_fh *fh, off_t size,
		     struct hlfs_res *res);
/* CreateFHIRDatastore, after the name checks; the store shows at once. */
int hlfs_do_mkdir(struct hlfs_fs *fs, const char *path, struct hlfs_res *res);
/* DeleteFHIRDatastore, only with allow_delete. */
int hlfs_do_rmdir(struct hlfs_fs *fs, const char *path, struct hlfs_res *res);
/* UntagResource for a tag file with allow_delete; EPERM for the rest. */
int hlfs_do_unlink(struct hlfs_fs *fs, const char *path, struct hlfs_res *res);
/* rename(2): below fhir/, what editors need (fhirfile.h); refused elsewhere. */
int hlfs_do_rename(struct hlfs_fs *fs, const char *from, const char *to, unsigned int flags,
		   struct hlfs_res *res);
/* chmod, chown, utimens (op "chmod", "chown", "utimens"): below fhir/ what
 * keeps a file as it shows succeeds (fhirfile.h); refused elsewhere. */
int hlfs_do_setattr(struct hlfs_fs *fs, const char *path, const char *op, mode_t mode, uid_t uid,
		    gid_t gid, struct hlfs_res *res);
/* Operations the tree does not offer: EPERM, or EROFS on an ro mount. */
int hlfs_do_refuse(struct hlfs_fs *fs, const char *path, const char *op, struct hlfs_res *res);

/* Acts on a control or tag file's buffered input; caller holds fh->lock. */
int hlfs_fh_act(struct hlfs_fs *fs, struct hlfs_fh *fh, struct hlfs_res *res);

#endif
