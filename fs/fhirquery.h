/* The query of a FHIR search: a search directory's name after the '?', or the
 * query of a Bundle's `next` link. Split into parameters, percent-decoded,
 * re-encoded strictly for the wire (AWS-CONVENTIONS.md §1.2) and given a
 * canonical key for the cache. Pure: no I/O. */
#ifndef HLFS_FHIRQUERY_H
#define HLFS_FHIRQUERY_H

#include <stdbool.h>
#include <stddef.h>

/* How a query is read. */
enum hlfs_fq_mode {
	HLFS_FQ_USER, /* a search directory's name: mount-owned parameters are EINVAL */
	HLFS_FQ_LINK, /* a `next` link from the service: every parameter is kept */
};

#define HLFS_FQ_MAX_PARAMS 256 /* more parameters than this is EINVAL */
#define HLFS_FQ_MAX_LEN 65536  /* longer query text is EINVAL (links only; names stop at 255) */

/* One parameter, decoded: key and value are the bytes meant, NUL-terminated
 * (a decoded NUL is refused, so strlen works). */
struct hlfs_fq_param {
	char *key;
	char *value;
};

/* Caller frees with hlfs_fhirquery_free(). */
struct hlfs_fhirquery {
	size_t n;
	struct hlfs_fq_param *p; /* in the order written */
	char *wire;		 /* strictly encoded "k=v&k=v" in the order written, "" for none */
	char *key;		 /* the same pairs sorted by bytes (as SigV4 sorts them) */
};

/* Validates q[0..n) without allocating. Returns 0 or -EINVAL with *reason a
 * static sentence that never quotes the query (it is PHI). */
int hlfs_fhirquery_check(const char *q, size_t n, enum hlfs_fq_mode mode, const char **reason);

/* Parses q[0..n) (no leading '?'). Returns 0, -EINVAL (*reason set as above)
 * or -ENOMEM. *ret is written only on success. */
int hlfs_fhirquery_parse(const char *q, size_t n, enum hlfs_fq_mode mode,
			 struct hlfs_fhirquery *ret, const char **reason);
/* Frees what parse allocated; the struct is then empty. NULL is fine. */
void hlfs_fhirquery_free(struct hlfs_fhirquery *q);

/* The wire query with the mount's page size appended ("k=v&_count=100", or
 * "_count=100" alone). Caller frees. NULL on ENOMEM. */
char *hlfs_fhirquery_wire_count(const struct hlfs_fhirquery *q, unsigned count);

/* True when the decoded parameter name key[0..n) belongs to the mount: _count
 * and the paging and format parameters (the part before a ':' modifier counts). */
bool hlfs_fhirquery_owned(const char *key, size_t n);

#endif
