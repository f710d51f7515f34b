/* Reading one object of a job's output (DESIGN.md "Job output as files"):
 * ranged GETs of what the reader asks for, with If-Match on the listing's
 * ETag, and for a sequential reader one read-ahead window, so that memory
 * per open file is bounded by the window however large the object. */
#ifndef HLFS_S3READ_H
#define HLFS_S3READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"

struct hlfs_fs;
struct hlfs_s3read;

/* The read-ahead window (BENCHMARKS.md "Job output reads"). */
#define HLFS_S3_WINDOW (4u << 20)

/* A reader of bucket/key (size bytes, etag as listed or NULL); failures
 * of reads go to the .error of directory key dk, naming the file as name.
 * NULL when out of memory. Free with hlfs_s3read_free(). */
struct hlfs_s3read *hlfs_s3read_new(struct hlfs_fs *fs, const char *bucket, const char *key,
				    uint64_t size, const char *etag, const char *dk,
				    const char *name);
void hlfs_s3read_free(struct hlfs_s3read *r); /* NULL-safe */

/* Copies up to size bytes at off into buf: the bytes read (short only at
 * the object's end), or -errno with res filled (ESTALE when the object
 * changed since it was listed, EACCES without s3:GetObject); each GET
 * ends by deadline (hl_now_ms() clock). Thread-safe. */
int hlfs_s3read_read(struct hlfs_s3read *r, char *buf, size_t size, off_t off, int64_t deadline,
		     struct hlfs_res *res);

#endif
