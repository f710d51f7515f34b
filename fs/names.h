/* The store-name rule (DESIGN.md "Store names") over one listing snapshot.
 * Pure: no I/O, no clock. */
#ifndef HLFS_NAMES_H
#define HLFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* One store of a listing, as far as naming is concerned. Strings are
 * borrowed from the caller's snapshot; name may be NULL. */
struct hlfs_store_ref {
	const char *id;
	const char *name;
	const char *status;
};

/* Directory names of one snapshot, with sorted indexes for lookups. */
struct hlfs_names {
	size_t n;
	const char *
	    *dir; /* dir[i]: directory name of store i (its name or its id), NULL when hidden */
	size_t *by_dir; /* indexes of visible stores sorted by dir name */
	size_t *by_id;	/* indexes of visible stores sorted by id */
	size_t n_visible;
};

/* True when s may be a directory name: not "", ".", "..", ".stats" or
 * ".error", no '/', at most 255 bytes, valid UTF-8. */
bool hlfs_name_safe(const char *s);

/* Applies the rule to stores[0..n). The result borrows the strings of stores,
 * which must outlive it. Caller frees with hlfs_names_free(). Returns 0 or -ENOMEM. */
int hlfs_names_build(const struct hlfs_store_ref *stores, size_t n, bool show_deleted,
		     struct hlfs_names *ret);
void hlfs_names_free(struct hlfs_names *nm);

/* Index of the visible store that component resolves to (its directory name,
 * else its id), or -1. */
long hlfs_names_find(const struct hlfs_names *nm, const struct hlfs_store_ref *stores,
		     const char *component);

#endif
