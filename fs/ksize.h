/* Which size the kernel may hold for a file. The kernel keeps the attributes
 * our getattr replies give it (lookups go through getattr too) for attr_ttl
 * and limits reads to that size, so an open whose snapshot is longer than
 * what the kernel holds would be read short. Dropping the kernel's attributes on
 * every open costs a GETATTR round trip per read (BENCHMARKS.md 2.a); this
 * table lets an open skip it when every size given for the path within the
 * kernel's hold time was the snapshot's own size.
 *
 * A fixed number of slots, one path each: a path that lost its slot to
 * another is unknown, and while any path lost its slot recently every path
 * new to the table is unknown too, so the answer errs only towards dropping.
 * Pure: the clock is a parameter. Thread-safe. */
#ifndef HLFS_KSIZE_H
#define HLFS_KSIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct hlfs_ksize;

/* slots is rounded up to a power of two; hold_ms is how long the kernel may
 * keep a size it was given (attr_ttl plus a margin for the reply's way).
 * Caller frees with hlfs_ksize_free(). NULL on allocation failure. */
struct hlfs_ksize *hlfs_ksize_new(size_t slots, int64_t hold_ms);
void hlfs_ksize_free(struct hlfs_ksize *k); /* NULL-safe */

/* Records that a reply about to go to the kernel gives path this size. */
void hlfs_ksize_note(struct hlfs_ksize *k, const char *path, off_t size, int64_t now_ms);
/* True when size is the only size the kernel can hold for path now. */
bool hlfs_ksize_only(struct hlfs_ksize *k, const char *path, off_t size, int64_t now_ms);

#endif
