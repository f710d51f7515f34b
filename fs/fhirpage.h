/* The FHIR data as the tree keeps it in the cache (DESIGN.md "FHIR data as
 * files"): a resource's file bytes, the CapabilityStatement, and one page of
 * a search, history or $everything answer. Every value's lexeme stays as
 * the service sent it: files are the api's pretty or compact printing of
 * the service's bytes, never a parse and re-serialisation. Pure: no I/O. */
#ifndef HLFS_FHIRPAGE_H
#define HLFS_FHIRPAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "fhirname.h"

/* Bound on one pretty-printed resource (indentation can grow a deep one). */
#define HLFS_FHIR_PRETTY_MAX (128u << 20)

/* A resource file: pretty JSON, its version and its time. */
struct hlfs_fres {
	char *bytes;
	size_t len;
	char vid[HLFS_FHIR_ID_MAX + 1]; /* meta.versionId; "" when none (or not an id) */
	double mtime;			/* meta.lastUpdated; < 0 when none */
	size_t cost;			/* heap bytes, this struct included */
};

/* Makes a resource file from one JSON object (body[0..n)). Returns 0, or
 * -EIO when it is not a JSON object, -EFBIG past HLFS_FHIR_PRETTY_MAX,
 * -ENOMEM. */
int hlfs_fres_new(const char *body, size_t n, struct hlfs_fres **ret);
void hlfs_fres_free(void *fres); /* NULL-safe; a cache free_fn */

/* The CapabilityStatement: metadata.json's bytes and the resource types of
 * its rest[mode=server].resource, sorted bytewise. */
struct hlfs_fcap {
	struct hlfs_fres *file;
	char **types;
	size_t ntypes;
	size_t cost;
};
/* -EIO when body is not a CapabilityStatement with a server rest. */
int hlfs_fcap_new(const char *body, size_t n, struct hlfs_fcap **ret);
void hlfs_fcap_free(void *fcap); /* NULL-safe */
/* True when type is one of cap's types. */
bool hlfs_fcap_has(const struct hlfs_fcap *cap, const char *type);

/* One entry of a page. */
struct hlfs_fentry {
	char *id;	   /* a listed match's id; NULL when not listed (an include, an
			    * outcome, another type, an id that is no file name) */
	char *vid;	   /* meta.versionId, when an id */
	double mtime;	   /* meta.lastUpdated; < 0 when none */
	size_t pretty_len; /* the size of its file (listed entries) */
	size_t line_off;   /* its compact line in lines, with HLFS_PG_LINES */
	size_t line_len;   /* without the '\n' */
	struct hlfs_fres *res; /* with HLFS_PG_RESOURCES, listed entries: the file, for the
				* caller to take (set it to NULL) */
};

/* What a page keeps. */
enum {
	HLFS_PG_LINES = 1,     /* every entry's resource, compact, one per line (the .ndjson streams) */
	HLFS_PG_RESOURCES = 2, /* each listed entry's file (the cache is filled from the page) */
	HLFS_PG_HISTORY = 4,   /* a history: entries are versions of one resource, listed by versionId */
};

struct hlfs_fpage {
	char *url;  /* where it came from (the base of a relative next link) */
	char *next; /* the next link, NULL on the last page */
	struct hlfs_fentry *e;
	size_t n;
	char *lines; /* HLFS_PG_LINES */
	size_t lines_len;
	size_t cost; /* heap bytes of the page (files taken out are not counted) */
};

/* Builds a page from a Bundle's body and its entries' spans (api/bundle.h).
 * type is the searched type (entries of another type are not listed);
 * flags HLFS_PG_*. Returns 0, -EIO for an entry that is not a JSON object,
 * or -ENOMEM. */
struct hl_bundle;
int hlfs_fpage_new(const char *body, const struct hl_bundle *b, const char *url, const char *type,
		   int flags, struct hlfs_fpage **ret);
void hlfs_fpage_free(void *page); /* NULL-safe; frees files not taken */
/* Listed entry named name (a resource's or a version's file name), or -1. */
long hlfs_fpage_find(const struct hlfs_fpage *p, const char *id);

#endif
