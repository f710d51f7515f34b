#include <errno.h>

#include "refuse.h"
#include "tap.h"

struct row {
	enum hlfs_op op;
	enum hlfs_node node;
	bool ro, allow_delete;
	int err;
	bool recorded; /* a reason for .error */
};

#define RW false
#define RO true

int main(void)
{
	/* DESIGN.md's errno table, one row per case the tree decides before
	 * any call; the ro rows are checked on every kind of mount option. */
	static const struct row rows[] = {
	    /* opens */
	    {HLFS_OP_OPEN_READ, HLFS_N_FIELD, RO, false, 0, false},
	    {HLFS_OP_OPEN_READ, HLFS_N_TAG, RW, false, 0, false},
	    {HLFS_OP_OPEN_READ, HLFS_N_NEW, RW, false, EACCES, false},
	    {HLFS_OP_OPEN_READ, HLFS_N_NEW, RO, false, EROFS, false},
	    {HLFS_OP_OPEN_RDWR, HLFS_N_NEW, RW, false, EACCES, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_NEW, RW, false, 0, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_NEW, RO, false, EROFS, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_TAG, RW, false, 0, false},
	    {HLFS_OP_OPEN_RDWR, HLFS_N_TAG, RW, false, 0, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_TAG, RO, false, EROFS, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_FIELD, RW, true, EACCES, false},
	    {HLFS_OP_OPEN_WRITE, HLFS_N_JOB, RO, false, EROFS, false},
	    {HLFS_OP_OPEN_RDWR, HLFS_N_STATS, RW, false, EACCES, false},
	    /* creating: only tag files */
	    {HLFS_OP_CREATE, HLFS_N_TAG, RW, false, 0, false},
	    {HLFS_OP_CREATE, HLFS_N_TAG, RO, false, EROFS, false},
	    {HLFS_OP_CREATE, HLFS_N_FIELD, RW, false, EPERM, true},
	    {HLFS_OP_CREATE, HLFS_N_ROOT, RO, false, EROFS, true},
	    {HLFS_OP_CREATE_READ, HLFS_N_TAG, RW, false, EPERM, true},
	    /* truncate */
	    {HLFS_OP_TRUNCATE, HLFS_N_NEW, RW, false, 0, false},
	    {HLFS_OP_TRUNCATE, HLFS_N_TAG, RW, false, 0, false},
	    {HLFS_OP_TRUNCATE, HLFS_N_TAG, RO, false, EROFS, false},
	    {HLFS_OP_TRUNCATE, HLFS_N_STORE, RW, false, EISDIR, false},
	    {HLFS_OP_TRUNCATE, HLFS_N_JOB, RW, false, EACCES, false},
	    /* mkdir */
	    {HLFS_OP_MKDIR, HLFS_N_STORE, RW, false, 0, false},
	    {HLFS_OP_MKDIR, HLFS_N_STORE, RO, false, EROFS, true},
	    {HLFS_OP_MKDIR, HLFS_N_ROOT, RO, false, EEXIST, false},
	    {HLFS_OP_MKDIR, HLFS_N_ERROR, RW, false, EEXIST, false},
	    {HLFS_OP_MKDIR, HLFS_N_TAGS, RW, false, EPERM, false},
	    {HLFS_OP_MKDIR, HLFS_N_JOB, RO, false, EROFS, false},
	    /* rmdir */
	    {HLFS_OP_RMDIR, HLFS_N_STORE, RW, true, 0, false},
	    {HLFS_OP_RMDIR, HLFS_N_STORE, RW, false, EPERM, true},
	    {HLFS_OP_RMDIR, HLFS_N_STORE, RO, true, EROFS, true},
	    {HLFS_OP_RMDIR, HLFS_N_ROOT, RW, true, EBUSY, false},
	    {HLFS_OP_RMDIR, HLFS_N_ROOT, RO, true, EROFS, false},
	    {HLFS_OP_RMDIR, HLFS_N_JOBS, RW, true, EPERM, false},
	    {HLFS_OP_RMDIR, HLFS_N_FIELD, RO, true, ENOTDIR, false},
	    /* unlink */
	    {HLFS_OP_UNLINK, HLFS_N_TAG, RW, true, 0, false},
	    {HLFS_OP_UNLINK, HLFS_N_TAG, RW, false, EPERM, true},
	    {HLFS_OP_UNLINK, HLFS_N_TAG, RO, true, EROFS, true},
	    {HLFS_OP_UNLINK, HLFS_N_STORE, RO, true, EISDIR, false},
	    {HLFS_OP_UNLINK, HLFS_N_JOB, RW, true, EPERM, true},
	    {HLFS_OP_UNLINK, HLFS_N_JOB, RO, true, EROFS, true},
	    /* what the tree never offers */
	    {HLFS_OP_OTHER, HLFS_N_FIELD, RW, true, EPERM, true},
	    {HLFS_OP_OTHER, HLFS_N_ROOT, RO, false, EROFS, true},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct hlfs_refusal got = hlfs_refuse(r->op, r->node, r->ro, r->allow_delete);
		is_int(got.err, r->err, "row %zu: op %d on node %d%s%s", i, (int)r->op,
		       (int)r->node, r->ro ? ", ro" : "", r->allow_delete ? ", allow_delete" : "");
		ok((got.reason != NULL) == r->recorded, "row %zu: %s", i,
		   r->recorded ? "its reason goes to .error" : "no reason recorded");
	}
	/* ro wins over everything a write could do: no row lets a write through. */
	for (int op = HLFS_OP_OPEN_WRITE; op <= HLFS_OP_OTHER; op++)
		for (int node = HLFS_N_ROOT; node <= HLFS_N_JOB; node++) {
			struct hlfs_refusal got =
			    hlfs_refuse((enum hlfs_op)op, (enum hlfs_node)node, true, true);
			if (got.err == 0) {
				ok(0, "op %d on node %d goes on under ro", op, node);
				return done_testing();
			}
		}
	ok(1, "under ro every writing operation is refused");
	return done_testing();
}
