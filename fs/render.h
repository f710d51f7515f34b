/* File contents: pretty JSON, one-value files, timestamps. Pure. */
#ifndef HLFS_RENDER_H
#define HLFS_RENDER_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "healthlake.h"
#include "path.h"

/* Appends raw as pretty JSON (two-space indent, "key": value, members in
 * their order, final newline) with timestamp members (CreatedAt, SubmitTime,
 * EndTime) given as epoch numbers written as RFC 3339 strings. */
enum hl_err hlfs_render_json(const cJSON *raw, struct hl_buf *out);

/* Appends the content of a store's file (status, datastore.json, id, ...). */
enum hl_err hlfs_render_field(enum hlfs_field f, const struct hl_datastore *d, struct hl_buf *out);

#endif
