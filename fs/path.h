/* The path -> node model of the tree (DESIGN.md "Tree"). Pure: no I/O. */
#ifndef HLFS_PATH_H
#define HLFS_PATH_H

#include <stdbool.h>
#include <stddef.h>

enum hlfs_node {
	HLFS_N_ROOT,   /* / */
	HLFS_N_STATS,  /* /.stats */
	HLFS_N_ERROR,  /* <dir>/.error; .dir says which directory */
	HLFS_N_STORE,  /* /<store> */
	HLFS_N_FIELD,  /* /<store>/status, datastore.json, id, ... ; .field */
	HLFS_N_TAGS,   /* /<store>/tags */
	HLFS_N_TAG,    /* /<store>/tags/<key>; .leaf is the decoded key */
	HLFS_N_JOBS,   /* /<store>/imports or exports; .exports */
	HLFS_N_NEW,    /* .../new */
	HLFS_N_LATEST, /* .../latest */
	HLFS_N_JOB,    /* .../<job-id>; .leaf is the id */
	HLFS_N_FILES,  /* .../<job-id>.files[/<sub>]: a job's output (joboutput.h); .leaf
			* is the job id, .sub the path below the .files directory */
	HLFS_N_FHIR,   /* /<store>/fhir[/<sub>]: the FHIR data (fhirtree.h); .sub the path
			* below fhir/ ("" for fhir/ itself) */
};

/* Directories that own a .error file. */
enum hlfs_dir { HLFS_D_ROOT, HLFS_D_STORE, HLFS_D_TAGS, HLFS_D_IMPORTS, HLFS_D_EXPORTS };

#define HLFS_FIELD_MAP(X)               \
	X(STATUS, "status")             \
	X(JSON, "datastore.json")       \
	X(ID, "id")                     \
	X(ARN, "arn")                   \
	X(ENDPOINT, "endpoint")         \
	X(NAME, "name")                 \
	X(TYPE_VERSION, "type_version") \
	X(CREATED_AT, "created_at")

/* clang-format off */
enum hlfs_field {
#define HLFS_FIELD_ENUM(n, s) HLFS_F_##n,
	HLFS_FIELD_MAP(HLFS_FIELD_ENUM)
#undef HLFS_FIELD_ENUM
	HLFS_F__COUNT
};
/* clang-format on */

#define HLFS_NAME_MAX 255
/* Longest path below a .files directory: S3's longest key. */
#define HLFS_SUB_MAX 1024

struct hlfs_path {
	enum hlfs_node node;
	enum hlfs_dir
	    dir; /* the directory that holds the node (for .error: the one it reports on) */
	enum hlfs_field field; /* HLFS_N_FIELD */
	bool exports; /* HLFS_N_JOBS/NEW/LATEST/JOB and dir: exports/ rather than imports/ */
	char store[HLFS_NAME_MAX + 1]; /* the store component as given (name or id); "" at / */
	char leaf[HLFS_NAME_MAX + 1];  /* decoded tag key or job id */
	/* HLFS_N_FILES, HLFS_N_FHIR: the path below. HLFS_N_FILES: the name is also a job id itself ("<x>.files" when job x
	 * does not exist names that job's file), and the path below it. */
	bool files_alt;
	char sub[HLFS_SUB_MAX + 1];
};

/* Parses an absolute FUSE path. Returns 0, or -ENOENT when the path cannot
 * name anything in the tree (including a job name that is not a job id and a
 * tag file name with a bad escape), or -ENAMETOOLONG. Reads only up to the NUL. */
int hlfs_path_parse(const char *path, struct hlfs_path *ret);

/* File name of a field ("status"); static. */
const char *hlfs_field_name(enum hlfs_field f);

/* Length of the UTF-8 sequence at p (1 <= n bytes available), 0 when invalid. */
size_t hlfs_utf8_len(const unsigned char *p, size_t n);

/* Tag key -> file name: '%' -> "%25", '/' -> "%2F". Returns 0, or -ENAMETOOLONG
 * when the result (NUL included) does not fit in n bytes. */
int hlfs_tag_encode(const char *key, char *out, size_t n);
/* File name -> tag key; any other '%' sequence is -ENOENT. n as above. */
int hlfs_tag_decode(const char *name, size_t len, char *out, size_t n);

#endif
