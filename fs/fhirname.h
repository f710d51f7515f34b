/* Names of the <store>/fhir/ subtree (DESIGN.md "FHIR data as files"): what a
 * component names, given the directory it is looked up in, and the names built
 * back from types, ids and queries. Pure: no I/O, no clock, no allocation. */
#ifndef HLFS_FHIRNAME_H
#define HLFS_FHIRNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HLFS_FHIR_ID_MAX 64    /* FHIR id: [A-Za-z0-9.-]{1,64} */
#define HLFS_FHIR_TYPE_MAX 64  /* longest name the type rule accepts */
#define HLFS_FHIR_NAME_MAX 255 /* one path component */

/* What a name is. */
enum hlfs_fhir_kind {
	HLFS_FK_FHIR,	    /* fhir/ itself (hlfs_fhirpath_parse of "") */
	HLFS_FK_METADATA,   /* fhir/metadata.json */
	HLFS_FK_ERROR,	    /* fhir/.error, <Type>/.error */
	HLFS_FK_TYPE,	    /* fhir/<Type>/ */
	HLFS_FK_SEARCH,	    /* fhir/<Type>?<query>/ (lookup only) */
	HLFS_FK_RESOURCE,   /* <Type>/<id>.json, or a match in a search directory */
	HLFS_FK_HISTORY,    /* <Type>/<id>.history/ (lookup only) */
	HLFS_FK_VERSION,    /* <Type>/<id>.history/<versionId>.json */
	HLFS_FK_EVERYTHING, /* Patient/<id>.everything.ndjson (lookup only) */
	HLFS_FK_ALL,	    /* <Type>?<query>/all.ndjson */
	HLFS_FK_SCRATCH,    /* any other acceptable name in a type directory: an editor's file */
};

/* The directory a component is looked up in. */
enum hlfs_fhir_parent {
	HLFS_FP_FHIR,	 /* <store>/fhir/ */
	HLFS_FP_TYPE,	 /* <Type>/ */
	HLFS_FP_SEARCH,	 /* <Type>?<query>/ */
	HLFS_FP_HISTORY, /* <Type>/<id>.history/ */
};

/* One parsed component. Strings are copies, NUL-terminated; query points
 * into the caller's name (not NUL-terminated there: use query_len). */
struct hlfs_fhirname {
	enum hlfs_fhir_kind kind;
	char type[HLFS_FHIR_TYPE_MAX + 1]; /* TYPE, SEARCH */
	char id[HLFS_FHIR_ID_MAX + 1]; /* RESOURCE, HISTORY, EVERYTHING; VERSION: the versionId */
	const char *query;	       /* SEARCH: after the '?', as the user wrote it */
	size_t query_len;
};

/* Parses one component (NUL-terminated) looked up in parent. parent_type is
 * the type of the enclosing type/search/history directory (NULL under fhir/).
 * create: the name is about to be created (O_CREAT, rename target), so a name
 * shaped like a resource but with a bad id is EINVAL rather than ENOENT.
 * Returns 0 and fills *ret, or -ENOENT / -EINVAL / -ENAMETOOLONG with *reason
 * a static sentence that never repeats the name (it may hold PHI). */
int hlfs_fhirname_parse(enum hlfs_fhir_parent parent, const char *parent_type, const char *name,
			bool create, struct hlfs_fhirname *ret, const char **reason);

/* A whole path below fhir/. */
struct hlfs_fhirpath {
	struct hlfs_fhirname leaf;
	enum hlfs_fhir_parent parent; /* where the leaf was found */
	char type[HLFS_FHIR_TYPE_MAX +
		  1]; /* the type every node below fhir/ belongs to; "" at fhir/ */
	char owner_id[HLFS_FHIR_ID_MAX + 1]; /* HISTORY, VERSION: the resource id; "" otherwise */
	const char *query;		     /* SEARCH and inside one: its query, in path */
	size_t query_len;
};
/* Parses path, a path below fhir/ without a leading '/' ("" is fhir/ itself,
 * "Patient/p1.history/2.json"). Same returns as hlfs_fhirname_parse, plus
 * -ENOTDIR below a file; create applies to the last component only. */
int hlfs_fhirpath_parse(const char *path, bool create, struct hlfs_fhirpath *ret,
			const char **reason);

/* True when s[0..n) is a FHIR id: [A-Za-z0-9.-]{1,64}, and not "." or ".."
 * (they would be dot segments of the URL path). Also the rule for versionIds. */
bool hlfs_fhir_id_ok(const char *s, size_t n);
/* True when s[0..n) has the shape of a resource type name: [A-Z][A-Za-z]{0,63}. */
bool hlfs_fhir_type_syntax_ok(const char *s, size_t n);
/* True when s[0..n) is one of the 146 concrete resource types of FHIR R4 (4.0.1). */
bool hlfs_fhir_type_r4(const char *s, size_t n);
/* The R4 types in byte order; *ret_n set to their number. Static. */
const char *const *hlfs_fhir_types_r4(size_t *ret_n);

/* Whether readdir shows the kind (lookup-only kinds are not listed). */
bool hlfs_fhir_listed(enum hlfs_fhir_kind kind);
/* File type and permission bits (S_IFDIR|0700 ...), ro mount or not. */
mode_t hlfs_fhir_mode(enum hlfs_fhir_kind kind, bool ro);

/* Names built back. Each writes a NUL-terminated name into out[0..n) and
 * returns 0, -EINVAL when an input breaks its rule, or -ENAMETOOLONG when the
 * name would be longer than 255 bytes or not fit in n. */
int hlfs_fhirname_resource(const char *id, char *out, size_t n);   /* <id>.json */
int hlfs_fhirname_history(const char *id, char *out, size_t n);	   /* <id>.history */
int hlfs_fhirname_everything(const char *id, char *out, size_t n); /* <id>.everything.ndjson */
/* type must be an R4 type; query is used as given (a strict wire query from
 * fhirquery is always a valid name part): <Type>?<query>. */
int hlfs_fhirname_search(const char *type, const char *query, char *out, size_t n);

#endif
