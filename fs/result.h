/* The one error value of fs/: what an operation's failure is (errno), which
 * directory's .error it belongs to, and why. Every hlfs_do_* fills one, and
 * hlfs_record() (errfile.h) records it, once, at the edge. Pure. */
#ifndef HLFS_RESULT_H
#define HLFS_RESULT_H

#include <stddef.h>

/* A reason, whole: the service's code and message (up to 64 + 512 bytes)
 * with what was being done and to which entry. */
#define HLFS_WHY_MAX 1024
/* A .error record's key: "/", "<id>", "<id>/tags|imports|exports". */
#define HLFS_DIRKEY_MAX 128

struct hlfs_res {
	int err;		   /* 0, or a positive errno */
	char dir[HLFS_DIRKEY_MAX]; /* the .error it goes to; "" when it goes to none */
	char why[HLFS_WHY_MAX];	   /* one line, without its newline */
	/* What the log gets instead of why when why may hold PHI (the FHIR
	 * data plane's diagnostics, ids, queries); "" logs why. */
	char log[192];
};

/* An empty result: success. */
void hlfs_res_init(struct hlfs_res *r);
/* A failure with errno err (positive or negative) that no .error records
 * (plain ENOENT of a lookup, refusals the kernel explains). Returns -err. */
int hlfs_res_errno(struct hlfs_res *r, int err);
/* A failure recorded in the .error of directory dir. Returns -err. */
int hlfs_res_fail(struct hlfs_res *r, int err, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 0 or -errno, what FUSE wants. */
int hlfs_res_rc(const struct hlfs_res *r);

#endif
