/* File contents: pretty JSON, one-value files, timestamps. Pure. */
#ifndef HLFS_RENDER_H
#define HLFS_RENDER_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "healthlake.h"
#include "path.h"

/* RFC 3339 UTC with 'Z', milliseconds when t has a fraction:
 * 2026-11-29T07:21:46.646Z. Returns 0, or -1 when out does not fit it (32
 * bytes always do) or t is out of range. */
int hlfs_render_time(double t, char *out, size_t n);

/* Appends raw as pretty JSON (two-space indent, "key": value, members in
 * their order, final newline) with timestamp members (CreatedAt, SubmitTime,
 * EndTime) given as epoch numbers written as RFC 3339 strings. */
enum hl_err hlfs_render_json(const cJSON *raw, struct hl_buf *out);

/* Appends the content of a store's file (status, datastore.json, id, ...). */
enum hl_err hlfs_render_field(enum hlfs_field f, const struct hl_datastore *d, struct hl_buf *out);

#endif
