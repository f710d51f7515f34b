#include "refuse.h"

#include <errno.h>
#include <stddef.h>

#define N(x) (1u << HLFS_N_##x)
#define DIRS (N(ROOT) | N(STORE) | N(TAGS) | N(JOBS))
#define ALL 0xffffu
#define OP(x) (1u << HLFS_OP_##x)
#define OPENS_W (OP(OPEN_WRITE) | OP(OPEN_RDWR))

enum when { ANY, RO, NO_DELETE };

/* The first row that matches decides; none matching lets the operation go on. */
static const struct row {
	unsigned ops, nodes;
	enum when when;
	int err;
	const char *reason;
} rows[] = {
    /* A job's output is read-only, always. */
    {~OP(OPEN_READ), N(FILES), ANY, EROFS, NULL},
    /* new is write-only, even for root; a read-only file is read-only for root too. */
    {OP(OPEN_READ) | OP(OPEN_RDWR), N(NEW), RO, EROFS, NULL},
    {OP(OPEN_READ) | OP(OPEN_RDWR), N(NEW), ANY, EACCES, NULL},
    {OPENS_W, ALL, RO, EROFS, NULL},
    {OPENS_W, N(NEW) | N(TAG), ANY, 0, NULL},
    {OPENS_W, ALL, ANY, EACCES, NULL},
    /* Only a tag file can be made. */
    {OP(CREATE), ALL & ~N(TAG), RO, EROFS, "read-only mount"},
    {OP(CREATE), ALL & ~N(TAG), ANY, EPERM, "files cannot be created here"},
    {OP(CREATE), N(TAG), RO, EROFS, NULL},
    {OP(CREATE_READ), ALL, RO, EROFS, "read-only mount"},
    {OP(CREATE_READ), ALL, ANY, EPERM, "files cannot be created here"},
    /* `>` truncates before writing; the write is what counts. */
    {OP(TRUNCATE), ALL, RO, EROFS, NULL},
    {OP(TRUNCATE), N(NEW) | N(TAG), ANY, 0, NULL},
    {OP(TRUNCATE), DIRS, ANY, EISDIR, NULL},
    {OP(TRUNCATE), ALL, ANY, EACCES, NULL},
    /* mkdir of what exists is the kernel's EEXIST; only stores can be made. */
    {OP(MKDIR), N(ROOT) | N(STATS) | N(ERROR), ANY, EEXIST, NULL},
    {OP(MKDIR), ALL & ~N(STORE), RO, EROFS, NULL},
    {OP(MKDIR), ALL & ~N(STORE), ANY, EPERM, NULL},
    {OP(MKDIR), N(STORE), RO, EROFS, "read-only mount"},
    {OP(RMDIR), ALL & ~DIRS, ANY, ENOTDIR, NULL},
    {OP(RMDIR), N(ROOT) | N(TAGS) | N(JOBS), RO, EROFS, NULL},
    {OP(RMDIR), N(ROOT), ANY, EBUSY, NULL},
    {OP(RMDIR), N(TAGS) | N(JOBS), ANY, EPERM, NULL},
    {OP(RMDIR), N(STORE), RO, EROFS, "read-only mount"},
    {OP(RMDIR), N(STORE), NO_DELETE, EPERM, "deleting a data store needs the allow_delete option"},
    {OP(UNLINK), DIRS, ANY, EISDIR, NULL},
    {OP(UNLINK), ALL & ~N(TAG), RO, EROFS, "read-only mount"},
    {OP(UNLINK), ALL & ~N(TAG), ANY, EPERM, "only tags can be removed"},
    {OP(UNLINK), N(TAG), RO, EROFS, "read-only mount"},
    {OP(UNLINK), N(TAG), NO_DELETE, EPERM, "removing a tag needs the allow_delete option"},
    {OP(OTHER), ALL, RO, EROFS, "read-only mount"},
    {OP(OTHER), ALL, ANY, EPERM, "not an operation this filesystem offers"},
};

struct hlfs_refusal hlfs_refuse(enum hlfs_op op, enum hlfs_node node, bool ro, bool allow_delete)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		if (!(r->ops & (1u << op)) || !(r->nodes & (1u << node)))
			continue;
		if ((r->when == RO && !ro) || (r->when == NO_DELETE && allow_delete))
			continue;
		return (struct hlfs_refusal){r->err, r->reason};
	}
	return (struct hlfs_refusal){0, NULL};
}

int hlfs_refused(enum hlfs_op op, enum hlfs_node node, bool ro, bool allow_delete,
		 const char *dir, const char *what, struct hlfs_res *res)
{
	struct hlfs_refusal r = hlfs_refuse(op, node, ro, allow_delete);
	if (!r.err)
		return 0;
	if (!r.reason)
		return hlfs_res_errno(res, r.err);
	return hlfs_res_fail(res, r.err, dir, "%s: %s", what, r.reason);
}
