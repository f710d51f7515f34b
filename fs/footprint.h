/* What cached values really cost in memory, so that cache_mb bounds the
 * process and not an estimate (BENCHMARKS.md 5.a). Sizes follow glibc's
 * malloc: every allocation takes its request plus an 8-byte header, rounded
 * up to 16, at least 32 bytes. Pure. */
#ifndef HLFS_FOOTPRINT_H
#define HLFS_FOOTPRINT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "healthlake.h"

/* Bytes the kernel makes libfuse's high-level API keep per inode it holds
 * (its node, name and hash links; measured at about 300 per file). Charged
 * to the values whose entries the kernel can look up. */
#define HLFS_NODE_BYTES 320

/* The heap bytes of one malloc(n); 0 for n == 0 (nothing allocated). */
size_t hlfs_alloc_cost(size_t n);
/* Of a NUL-terminated copy of s (strdup); 0 for NULL. */
size_t hlfs_str_cost(const char *s);
/* Of a parsed cJSON tree: every node and its strings. 0 for NULL. */
size_t hlfs_json_cost(const cJSON *j);
/* Of the strings and tree a result owns (not the struct itself, which lives
 * in an array or its own allocation). */
size_t hlfs_datastore_cost(const struct hl_datastore *d);
size_t hlfs_job_cost(const struct hl_job *j);
/* Of a whole list: the struct, its item array and what every item owns. */
size_t hlfs_datastore_list_cost(const struct hl_datastore_list *l);
size_t hlfs_tag_list_cost(const struct hl_tag_list *t);

#endif
