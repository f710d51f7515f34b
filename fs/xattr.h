/* Read-only extended attributes (user.healthlake.*) of store directories
 * and job files. Pure: the facts come from the text of the store's
 * datastore.json or of the job file, as the mount renders them, so the
 * attributes cost what reading that file costs and always agree with it. */
#ifndef HLFS_XATTR_H
#define HLFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>

enum hlfs_xattr_kind {
	HLFS_XATTR_NONE,  /* no attributes */
	HLFS_XATTR_STORE, /* a store directory */
	HLFS_XATTR_JOB,	  /* an import or export job file */
};

/* Values of one node; NULL members read as "". Owned by the struct. */
struct hlfs_xattr_facts {
	char *id;
	char *arn;
	char *status;
	char *endpoint;
	char *submit_time; /* RFC 3339, as in the job file */
};

/* The listxattr(2) answer for kind: names, each ending in NUL. With size 0
 * returns the length needed; else copies into buf and returns the length,
 * or -ERANGE when size is too small. */
int hlfs_xattr_list(enum hlfs_xattr_kind kind, char *buf, size_t size);

/* True when name is an attribute of kind. */
bool hlfs_xattr_known(enum hlfs_xattr_kind kind, const char *name);

/* The getxattr(2) answer: the value without a NUL or newline. With size 0
 * returns its length; else copies it and returns the length, or -ERANGE when
 * size is too small; -ENODATA for a name kind does not have. */
int hlfs_xattr_get(enum hlfs_xattr_kind kind, const struct hlfs_xattr_facts *f, const char *name,
		   char *buf, size_t size);

/* Fills *ret from the JSON text of datastore.json (STORE) or a job file
 * (JOB). Returns 0, -EIO when the text is not a JSON object, or -ENOMEM.
 * Caller frees *ret with hlfs_xattr_facts_free() either way. */
int hlfs_xattr_facts_parse(enum hlfs_xattr_kind kind, const char *json, size_t len,
			   struct hlfs_xattr_facts *ret);
void hlfs_xattr_facts_free(struct hlfs_xattr_facts *f);

#endif
