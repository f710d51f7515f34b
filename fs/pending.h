/* Tag files being created: created or truncated and not yet set, stat
 * shows them, empty. Its own lock and condition variable. */
#ifndef HLFS_PENDING_H
#define HLFS_PENDING_H

#include <stdbool.h>
#include <stdint.h>

struct hlfs_pendings;

/* Caller frees with hlfs_pendings_free(). NULL when out of memory. */
struct hlfs_pendings *hlfs_pendings_new(void);
void hlfs_pendings_free(struct hlfs_pendings *p); /* NULL-safe */

/* One more open of tag file key of ds_id for creation. 0 or -ENOMEM. */
int hlfs_pending_add(struct hlfs_pendings *p, const char *ds_id, const char *key);
/* One open fewer; the last one drops it. */
void hlfs_pending_del(struct hlfs_pendings *p, const char *ds_id, const char *key);
/* Whether it is open for creation. */
bool hlfs_pending_has(struct hlfs_pendings *p, const char *ds_id, const char *key);
/* A close of it was seen with nothing written, at now_ms: its value is set
 * at release. */
void hlfs_pending_closing(struct hlfs_pendings *p, const char *ds_id, const char *key,
			  int64_t now_ms);
/* The last open's release is setting its value now. */
void hlfs_pending_releasing(struct hlfs_pendings *p, const char *ds_id, const char *key);
/* Its value went out: it is an ordinary tag from now on. */
void hlfs_pending_done(struct hlfs_pendings *p, const char *ds_id, const char *key);
/* After such a close, waits (not past deadline, hl_now_ms() clock) for the
 * release to set the value, so that a read right after `: > tags/k` finds
 * it. True when it is still pending after all (open elsewhere: a new tag
 * then reads empty). */
bool hlfs_pending_settle(struct hlfs_pendings *p, const char *ds_id, const char *key,
			 int64_t deadline);

#endif
