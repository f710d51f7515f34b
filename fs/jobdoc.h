/* A job as the tree shows it: its file's bytes, rendered once when the job is
 * fetched, and the few facts stat, `latest` and the xattrs need. Made from the
 * api's struct hl_job, whose JSON tree is not kept: the rendered bytes take
 * about half the memory of the tree, and an open serves them as they are
 * instead of rendering again. Pure. */
#ifndef HLFS_JOBDOC_H
#define HLFS_JOBDOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "healthlake.h"

struct hlfs_jobdoc {
	const char *id; /* id, status and text share one allocation, owned */
	const char *status;
	const char *output_uri; /* S3Uri of the job's output ("" when none), for .files */
	const char *text; /* the job file: pretty JSON, final newline */
	size_t len;	  /* of text */
	double submit_time;
	bool has_submit_time;
	bool terminal; /* hl_job_status_terminal(status) */
	/* Set by the first open that served these bytes: from then on the
	 * kernel's page cache may be kept, as it can hold nothing else. */
	atomic_bool served;
};

/* Renders j into *ret. Caller frees with hlfs_jobdoc_fini(). Returns
 * HL_ERR_OK, HL_ERR_NOMEM, or HL_ERR_INVALID when j has no id or status. */
enum hl_err hlfs_jobdoc_make(const struct hl_job *j, struct hlfs_jobdoc *ret);
void hlfs_jobdoc_fini(struct hlfs_jobdoc *d); /* NULL-safe; d is then empty */
/* A copy of src that owns its bytes. HL_ERR_OK or HL_ERR_NOMEM. */
enum hl_err hlfs_jobdoc_dup(const struct hlfs_jobdoc *src, struct hlfs_jobdoc *ret);
/* Heap bytes d owns. */
size_t hlfs_jobdoc_cost(const struct hlfs_jobdoc *d);

/* One job listing, as the jobs directory shows it. */
struct hlfs_joblist {
	struct hlfs_jobdoc *items; /* in the service's order */
	size_t n;
	size_t *by_id;	    /* indexes of items sorted by id */
	long newest;	    /* index of the newest job by SubmitTime, -1 when none */
	int64_t fetched_ms; /* hl_now_ms() when the listing was asked for */
	size_t cost;	    /* heap bytes of all of the above */
};

/* Keeps the jobs of l whose id is a valid job id (the only names the tree
 * can show), rendered; the newest is the one with the latest SubmitTime
 * (ties: the greater id). Caller frees *ret with hlfs_joblist_free(). */
enum hl_err hlfs_joblist_make(const struct hl_job_list *l, int64_t fetched_ms,
			      struct hlfs_joblist **ret);
void hlfs_joblist_free(struct hlfs_joblist *j); /* NULL-safe */
/* The job with that id, borrowed from j, or NULL. */
const struct hlfs_jobdoc *hlfs_joblist_find(const struct hlfs_joblist *j, const char *id);

#endif
