/* /.stats counters (DESIGN.md "/.stats"), fed by hl_client_options.on_call
 * and by the tree (inflight), rendered as `key value` lines. */
#ifndef HLFS_STATS_H
#define HLFS_STATS_H

#include <stdint.h>

#include "buf.h"
#include "cache.h"
#include "healthlake.h"

struct hlfs_stats;

/* Caller frees with hlfs_stats_free(). NULL on allocation failure. */
struct hlfs_stats *hlfs_stats_new(void);
void hlfs_stats_free(struct hlfs_stats *s);

/* The on_call hook (arg is the struct hlfs_stats *). Thread-safe. */
void hlfs_stats_on_call(void *arg, const struct hl_call_info *info);
/* The same for the FHIR data plane: calls.fhir.<interaction> and
 * errors.fhir.<status> (never the service's text: it may quote data). */
void hlfs_stats_on_fhir_call(void *arg, const struct hl_call_info *info);
/* +1 when an API call starts, -1 when it ends. */
void hlfs_stats_inflight(struct hlfs_stats *s, int delta);

/* Appends every counter, one "key value\n" line each, keys sorted; cache
 * counters come from cc (may be NULL: zeros). */
enum hl_err hlfs_stats_render(struct hlfs_stats *s, const struct hlfs_cache_counters *cc,
			      struct hl_buf *out);

#endif
