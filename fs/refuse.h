/* Which operations the tree refuses, and how (DESIGN.md "Errors"): on an ro
 * mount, without allow_delete, or because the tree does not offer them
 * there. One table, pure. */
#ifndef HLFS_REFUSE_H
#define HLFS_REFUSE_H

#include <stdbool.h>

#include "path.h"
#include "result.h"

enum hlfs_op {
	HLFS_OP_OPEN_READ,   /* open O_RDONLY */
	HLFS_OP_OPEN_WRITE,  /* open O_WRONLY */
	HLFS_OP_OPEN_RDWR,   /* open O_RDWR */
	HLFS_OP_CREATE,	     /* open with O_CREAT, for writing */
	HLFS_OP_CREATE_READ, /* open with O_CREAT, O_RDONLY */
	HLFS_OP_TRUNCATE,    /* truncate by path */
	HLFS_OP_MKDIR,
	HLFS_OP_RMDIR,
	HLFS_OP_UNLINK,
	HLFS_OP_OTHER, /* rename, link, symlink, mknod, chmod, chown, utimens, set/removexattr */
};

struct hlfs_refusal {
	int err;	    /* 0: the tree goes on with the operation; else a positive errno */
	const char *reason; /* static; NULL when no .error records the refusal */
};

/* The refusal of op on a node of kind node, or {0, NULL}. */
struct hlfs_refusal hlfs_refuse(enum hlfs_op op, enum hlfs_node node, bool ro, bool allow_delete);
/* The same as a result: 0, or -errno with res filled, its reason (if any)
 * for the .error of dir as "<what>: <reason>". */
int hlfs_refused(enum hlfs_op op, enum hlfs_node node, bool ro, bool allow_delete,
		 const char *dir, const char *what, struct hlfs_res *res);

#endif
