/* The fhir/ subtree's shape (DESIGN.md "FHIR data as files"): what each
 * node is (mode, size, times, and a file's bytes) and what a directory
 * lists. A type or search directory is listed page by page as the kernel
 * reads it, so a reader that stops early stops the search. */
#ifndef HLFS_FHIRTREE_H
#define HLFS_FHIRTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "node.h"
#include "resolve.h"
#include "result.h"

struct hlfs_fs;

/* node.h's content of n (an HLFS_N_FHIR node). */
int hlfs_fhir_content(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		      enum hlfs_want want, struct hlfs_content *c, struct hlfs_res *res);

/* Lists directory n from the kernel's offset off: fill(ctx, name, st, off)
 * is given each entry with its own offset and returns nonzero when the
 * buffer is full. A listing past fhir_list_max fails with EOVERFLOW when
 * *overflowed is false (and sets it), else ends there. */
int hlfs_fhir_readdir(struct hlfs_fs *fs, const struct hlfs_treenode *n, off_t off,
		      bool *overflowed, void *ctx,
		      int (*fill)(void *ctx, const char *name, const struct stat *st, off_t off),
		      struct hlfs_res *res);

#endif
