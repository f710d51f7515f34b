/* `healthlakefs wait PATH`: waits on a mounted store or job path until a
 * terminal state, mirroring the SDK waiters, with a progress line. It reads
 * the mount's own files, so it needs no credentials and makes no API call
 * beyond what the mount does for those reads. */
#ifndef HLFS_WAIT_H
#define HLFS_WAIT_H

#include <stdbool.h>
#include <stddef.h>

enum hlfs_wait_target {
	HLFS_WAIT_STORE_ACTIVE,   /* FHIRDatastoreActive */
	HLFS_WAIT_STORE_DELETED,  /* FHIRDatastoreDeleted */
	HLFS_WAIT_IMPORT,         /* FHIRImportJobCompleted */
	HLFS_WAIT_EXPORT,         /* FHIRExportJobCompleted */
};

enum hlfs_wait_verdict {
	HLFS_WAIT_PENDING,
	HLFS_WAIT_SUCCESS,
	HLFS_WAIT_FAILURE,
};

/* The acceptors of the SDK waiter for target, applied to one observed
 * status (NULL = the path no longer exists). Pure. */
enum hlfs_wait_verdict hlfs_wait_judge(enum hlfs_wait_target t, const char *status);

/* Progress facts read from a job file; zero when absent. */
struct hlfs_wait_progress {
	char status[32];
	char message[256];
	long long scanned;
	long long imported;
	long long with_errors;
	double size_mb;
};

/* Parses a job file's JSON (as the mount renders it). Pure. Returns false
 * when the text has no JobStatus. */
bool hlfs_wait_parse_job(const char *json, size_t len, struct hlfs_wait_progress *ret);

/* Entry point for `healthlakefs wait ...`; argv[0] is "wait". Returns the
 * process exit status: 0 success, 1 failure state, 2 usage or I/O error,
 * 3 timeout. */
int hlfs_wait_main(int argc, char **argv);

#endif
