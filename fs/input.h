/* Control-file input (imports/new, exports/new): when a buffered input is
 * complete, and what job request it describes (DESIGN.md "Writes"). Pure. */
#ifndef HLFS_INPUT_H
#define HLFS_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#define HLFS_INPUT_MAX (64 * 1024)

enum hlfs_input_state {
	HLFS_IN_INCOMPLETE, /* wait for more bytes (or close) */
	HLFS_IN_COMPLETE,   /* act now */
	HLFS_IN_INVALID,    /* EINVAL; *why says why */
};

/* Classifies buf[0..len), of which buf[chunk_start..len) came with the
 * latest write. *why (static text) is set for HLFS_IN_INVALID. Reads only
 * buf[0..len). */
enum hlfs_input_state hlfs_input_check(const char *buf, size_t len, size_t chunk_start,
				       const char **why);

/* Mount-option defaults for members the input leaves out; NULL = none. */
struct hlfs_input_defaults {
	const char *role_arn;
	const char *import_output;
	const char *kms_key;
};

/* A StartFHIRImportJob / StartFHIRExportJob request; NULL = absent. */
struct hlfs_job_request {
	char *job_name;
	char *input_uri; /* import only */
	char *output_uri;
	char *kms_key;
	char *role_arn;
	char *client_token;
	char *validation_level; /* import only; NULL = service default */
};

/* Parses one complete input. Returns 0 and fills *ret (caller frees with
 * hlfs_job_request_free()), or -EINVAL with the reason in why[0..whylen),
 * naming the member, or -ENOMEM. datastore_id is the store's id: a
 * DatastoreId member must equal it. */
int hlfs_input_parse(bool exports, const char *buf, size_t len,
		     const struct hlfs_input_defaults *def, const char *datastore_id,
		     struct hlfs_job_request *ret, char *why, size_t whylen);
void hlfs_job_request_free(struct hlfs_job_request *r);

#endif
