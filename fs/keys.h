/* The cache keys of the tree (DESIGN-NOTES.md "Cache keys"), one enum with
 * its format and its parse, so that no module builds or peeks into a key by
 * hand. Pure. */
#ifndef HLFS_KEYS_H
#define HLFS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum hlfs_key_kind {
	HLFS_K_LISTING,	  /* "L": the store listing */
	HLFS_K_DATASTORE, /* "D/<id>": a store's description */
	HLFS_K_JOBLIST,	  /* "J/i|e/<id>": a store's import or export jobs */
	HLFS_K_JOB,	  /* "j/i|e/<id>/<job>": one job */
	HLFS_K_TAGS,	  /* "T/<id>": a store's tags */
	HLFS_K_KERNEL,	  /* "K/<id>": no data; the kernel's inodes below a store */
	HLFS_K_FILES,	  /* "F/i|e/<id>/<job>": a terminal job's output listing */
	HLFS_K_FHIR,	  /* "f/<id>/<rest>": a store's FHIR data; rest is fhirdata.h's */
};

/* A key's parts; ds_id and job_id are borrowed (from the caller, or from
 * the key string for hlfs_key_parse). */
struct hlfs_key {
	enum hlfs_key_kind kind;
	const char *ds_id;  /* all but HLFS_K_LISTING */
	bool exports;	    /* HLFS_K_JOBLIST, HLFS_K_JOB, HLFS_K_FILES */
	const char *job_id; /* HLFS_K_JOB, HLFS_K_FILES */
	const char *rest;   /* HLFS_K_FHIR */
};

/* Enough for every key but HLFS_K_FHIR's (whose rest may hold a search
 * query: size its buffer by the rest): ids are at most 32 characters, a
 * job id 32, a store's directory component never enters a key. */
#define HLFS_KEY_MAX 128
/* The one key without parts, as hlfs_key_format writes it. */
#define HLFS_LISTING_KEY "L"

/* Writes k into out (n bytes). Returns 0, or -ENAMETOOLONG when it does not
 * fit (out then holds an empty string). */
int hlfs_key_format(const struct hlfs_key *k, char *out, size_t n);

/* Parses key; ds_id and job_id point into key. Returns 0 or -EINVAL. For
 * HLFS_K_JOB, HLFS_K_FILES and HLFS_K_FHIR, ds_id is not NUL-terminated: ds_len gives its length. */
int hlfs_key_parse(const char *key, struct hlfs_key *ret, size_t *ds_len);

#endif
