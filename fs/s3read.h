/* Reading one object of a job's output (DESIGN.md "Job output as files"):
 * ranged GETs of what the reader asks for, with If-Match on the listing's
 * ETag, and for a sequential reader windows read ahead by background
 * fetches, so that several ranges are in flight for a fast reader while
 * memory per open file stays bounded however large the object. */
#ifndef HLFS_S3READ_H
#define HLFS_S3READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"

struct hlfs_fs;
struct hlfs_s3read;

/* The read-ahead window and how many windows one open file may hold: the
 * one behind (for the kernel's late chunks), the one being read and the
 * ones ahead, being fetched (BENCHMARKS.md "Job output reads"). Memory per
 * open file is at most HLFS_S3_SLOTS * HLFS_S3_WINDOW; every window past a
 * file's first comes from a mount-wide budget of HLFS_S3_SPARES windows
 * (struct hlfs_fs.s3_spares), and a file that finds it spent reads with
 * one window and nothing in flight ahead. -D overrides are for the bench. */
#ifndef HLFS_S3_WINDOW
#define HLFS_S3_WINDOW (4u << 20)
#endif
#ifndef HLFS_S3_SLOTS
#define HLFS_S3_SLOTS 3
#endif
#ifndef HLFS_S3_SPARES
#define HLFS_S3_SPARES 16
#endif

/* A reader of bucket/key (size bytes, etag as listed or NULL); failures
 * of reads go to the .error of directory key dk, naming the file as name.
 * NULL when out of memory. Free with hlfs_s3read_free(). */
struct hlfs_s3read *hlfs_s3read_new(struct hlfs_fs *fs, const char *bucket, const char *key,
				    uint64_t size, const char *etag, const char *dk,
				    const char *name);
/* NULL-safe. Waits for the reader's fetches still in flight (each ends by
 * the deadline of the read that started it) before freeing what they
 * write to. */
void hlfs_s3read_free(struct hlfs_s3read *r);

/* Copies up to size bytes at off into buf: the bytes read (short only at
 * the object's end), or -errno with res filled (ESTALE when the object
 * changed since it was listed, EACCES without s3:GetObject, ETIMEDOUT when
 * deadline passed); each GET ends by deadline (hl_now_ms() clock), and so
 * does the wait for a window another thread is fetching. Thread-safe. */
int hlfs_s3read_read(struct hlfs_s3read *r, char *buf, size_t size, off_t off, int64_t deadline,
		     struct hlfs_res *res);

#endif
