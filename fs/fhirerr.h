/* Errors of the FHIR data plane (DESIGN.md "FHIR data as files", Errors):
 * HTTP statuses and local conditions to errno, and the reason lines they
 * leave, one for the directory's .error and one for the log. Pure. */
#ifndef HLFS_FHIRERR_H
#define HLFS_FHIRERR_H

#include <stddef.h>

#include "err.h"

/* X(NAME, "stats name"): the interactions of DESIGN.md's `/.stats` keys. */
#define HLFS_FHIR_OP_MAP(X)         \
	X(READ, "read")             \
	X(VREAD, "vread")           \
	X(SEARCH, "search")         \
	X(UPDATE, "update")         \
	X(DELETE, "delete")         \
	X(HISTORY, "history")       \
	X(EVERYTHING, "everything") \
	X(CAPABILITIES, "capabilities")

enum hlfs_fhir_op {
#define HLFS_FHIR_OP_ENUM(n, s) HLFS_FOP_##n,
	HLFS_FHIR_OP_MAP(HLFS_FHIR_OP_ENUM)
#undef HLFS_FHIR_OP_ENUM
	    HLFS_FOP__COUNT
};

/* "read", "search" ... (the `calls.fhir.<interaction>` suffix); static. */
const char *hlfs_fhir_op_name(enum hlfs_fhir_op op);

/* Failures found by the mount itself, before or instead of an HTTP status. */
enum hlfs_fhir_cond {
	HLFS_FC_NONE,	      /* the answer (status, hl_err) says it all */
	HLFS_FC_BAD_BODY,     /* a write refused before any call (not JSON, wrong type or id) */
	HLFS_FC_NOT_CAPABLE,  /* the interaction is not in the CapabilityStatement */
	HLFS_FC_TOO_BIG,      /* a write over fhir_max_bytes */
	HLFS_FC_BAD_BUNDLE,   /* a search answer that is not a usable Bundle */
	HLFS_FC_FOREIGN_LINK, /* a `next` link to another scheme, host or port */
	HLFS_FC_LIST_MAX,     /* a type listing longer than fhir_list_max */
	HLFS_FC_NO_DELETE,    /* rm without allow_delete */
	HLFS_FC_READ_ONLY,    /* any change on a ro mount */
};

/* Positive errno for an HTTP status (the table); 0 for 1xx-3xx. Statuses the
 * table does not name: 408 ETIMEDOUT, 406 and 415 EIO (the mount's own request
 * format), other 4xx EINVAL, other 5xx and above EIO. */
int hlfs_fhir_status_errno(long status);

/* Positive errno for a failure: cond when not NONE, else err (its code first
 * for deadline, throttling and credential failures, then its http_status,
 * then the control plane's mapping of the code). err may be NULL with a cond. */
int hlfs_fhir_errno(enum hlfs_fhir_cond cond, const struct hl_error *err);

/* Both lines of one failure. */
struct hlfs_fhir_reason {
	int err;	/* positive errno */
	char line[512]; /* for .error: may quote the service's diagnostics and version ids */
	char log[160];	/* for the log at the default level: no diagnostics, ids or query */
};

/* Builds the reason of a failed op. err's message is taken as the
 * OperationOutcome's diagnostics (flattened to one line, shortened at a UTF-8
 * boundary); current_version (a versionId, may be NULL) is named for ESTALE
 * and limit for LIST_MAX / TOO_BIG. Never fails; out is fully written. */
void hlfs_fhir_reason(struct hlfs_fhir_reason *out, enum hlfs_fhir_op op, enum hlfs_fhir_cond cond,
		      const struct hl_error *err, const char *current_version,
		      unsigned long long limit);

#endif
