/* Mount options (DESIGN.md "Options"): parsed out of the FUSE argument list
 * with fuse_opt; FUSE's own options stay in the list. Pure apart from
 * allocation. */
#ifndef HLFS_OPTS_H
#define HLFS_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include <fuse_opt.h>

struct hlfs_opts {
	char *region;
	char *profile;
	char *endpoint;
	char *ca_file;
	char *role_arn;
	char *import_output;
	char *kms_key;
	char *preload; /* "synthea" or NULL */
	char *s3_endpoint; /* job output's S3 endpoint; NULL: the AWS CLI's chain */
	int allow_delete;
	int show_deleted;
	int ro;
	double attr_ttl; /* seconds */
	double list_ttl;
	double timeout;
	double max_tps;
	int max_attempts; /* 0: the AWS chain decides */
	long cache_mb;
	double fhir_tps;      /* FHIR data-plane calls started per second */
	long fhir_list_max;   /* most entries a type listing gives before EOVERFLOW */
	long fhir_max_bytes;  /* largest resource a write may send */
	/* Text of the numeric options as given; checked and converted after parsing. */
	char *s_attr_ttl, *s_list_ttl, *s_timeout, *s_max_tps, *s_max_attempts, *s_cache_mb;
	char *s_fhir_tps, *s_fhir_list_max, *s_fhir_max_bytes;
};

/* Parses and removes healthlakefs's options from args (FUSE's own, like -f,
 * -d, allow_other, uid=, stay; `ro` is kept for the kernel too). Fills *ret
 * with defaults for what is absent. Returns 0, or -EINVAL with the reason in
 * why, or -ENOMEM. Caller frees *ret with hlfs_opts_free() either way. */
int hlfs_opts_parse(struct fuse_args *args, struct hlfs_opts *ret, char *why, size_t whylen);
void hlfs_opts_free(struct hlfs_opts *o);

#endif
