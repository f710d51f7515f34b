#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every valued option goes through proc(), so that a repeated one replaces
 * the earlier value instead of leaking it. */
struct valued {
	const char *prefix;
	size_t off;
};

static const struct valued valued[] = {
#define V(p, m)                                  \
	{                                        \
		p, offsetof(struct hlfs_opts, m) \
	}
    V("region=", region),
    V("profile=", profile),
    V("endpoint=", endpoint),
    V("ca_file=", ca_file),
    V("role_arn=", role_arn),
    V("import_output=", import_output),
    V("kms_key=", kms_key),
    V("preload=", preload),
    V("attr_ttl=", s_attr_ttl),
    V("list_ttl=", s_list_ttl),
    V("timeout=", s_timeout),
    V("max_tps=", s_max_tps),
    V("max_attempts=", s_max_attempts),
    V("cache_mb=", s_cache_mb),
    V("s3_endpoint=", s3_endpoint),
    V("fhir_tps=", s_fhir_tps),
    V("fhir_list_max=", s_fhir_list_max),
    V("fhir_max_bytes=", s_fhir_max_bytes),
#undef V
};

enum { KEY_RO = 1, KEY_VALUED = 100 };

static const struct fuse_opt templates[] = {
    FUSE_OPT_KEY("region=", KEY_VALUED + 0),
    FUSE_OPT_KEY("profile=", KEY_VALUED + 1),
    FUSE_OPT_KEY("endpoint=", KEY_VALUED + 2),
    FUSE_OPT_KEY("ca_file=", KEY_VALUED + 3),
    FUSE_OPT_KEY("role_arn=", KEY_VALUED + 4),
    FUSE_OPT_KEY("import_output=", KEY_VALUED + 5),
    FUSE_OPT_KEY("kms_key=", KEY_VALUED + 6),
    FUSE_OPT_KEY("preload=", KEY_VALUED + 7),
    FUSE_OPT_KEY("attr_ttl=", KEY_VALUED + 8),
    FUSE_OPT_KEY("list_ttl=", KEY_VALUED + 9),
    FUSE_OPT_KEY("timeout=", KEY_VALUED + 10),
    FUSE_OPT_KEY("max_tps=", KEY_VALUED + 11),
    FUSE_OPT_KEY("max_attempts=", KEY_VALUED + 12),
    FUSE_OPT_KEY("cache_mb=", KEY_VALUED + 13),
    FUSE_OPT_KEY("s3_endpoint=", KEY_VALUED + 14),
    FUSE_OPT_KEY("fhir_tps=", KEY_VALUED + 15),
    FUSE_OPT_KEY("fhir_list_max=", KEY_VALUED + 16),
    FUSE_OPT_KEY("fhir_max_bytes=", KEY_VALUED + 17),
    {"allow_delete", offsetof(struct hlfs_opts, allow_delete), 1},
    {"show_deleted", offsetof(struct hlfs_opts, show_deleted), 1},
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_END,
};

static int proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)outargs;
	struct hlfs_opts *o = data;
	if (key == KEY_RO) {
		o->ro = 1;
		return 1; /* keep it: the kernel mount is read-only as well */
	}
	if (key >= KEY_VALUED && key < KEY_VALUED + (int)(sizeof(valued) / sizeof(valued[0]))) {
		const struct valued *v = &valued[key - KEY_VALUED];
		char **dst = (char **)((char *)o + v->off);
		char *copy = strdup(arg + strlen(v->prefix));
		if (!copy)
			return -1;
		free(*dst);
		*dst = copy;
		return 0;
	}
	return 1;
}

/* Converts text to a finite double in [min, max]; false when it is not one. */
static bool to_double(const char *s, double min, double max, double *ret)
{
	char *end = NULL;
	if (!s || !*s)
		return false;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || !isfinite(d) || d < min || d > max)
		return false;
	*ret = d;
	return true;
}

static bool to_long(const char *s, long min, long max, long *ret)
{
	char *end = NULL;
	if (!s || !*s)
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

int hlfs_opts_parse(struct fuse_args *args, struct hlfs_opts *ret, char *why, size_t whylen)
{
	memset(ret, 0, sizeof(*ret));
	if (fuse_opt_parse(args, ret, templates, proc) != 0) {
		snprintf(why, whylen, "cannot parse the options");
		return -EINVAL;
	}
	ret->attr_ttl = 2;
	ret->list_ttl = 5;
	ret->timeout = 20;
	ret->max_tps = 10;
	ret->cache_mb = 64;
	ret->fhir_tps = 100;
	ret->fhir_list_max = 10000;
	ret->fhir_max_bytes = 8L << 20;
	long l = 0;
	const char *bad = NULL, *val = NULL;
	if (ret->s_attr_ttl && !to_double(ret->s_attr_ttl, 0, 86400, &ret->attr_ttl))
		bad = "attr_ttl", val = ret->s_attr_ttl;
	else if (ret->s_list_ttl && !to_double(ret->s_list_ttl, 0, 86400, &ret->list_ttl))
		bad = "list_ttl", val = ret->s_list_ttl;
	else if (ret->s_timeout &&
		 (!to_double(ret->s_timeout, 0, 86400, &ret->timeout) || ret->timeout <= 0))
		bad = "timeout", val = ret->s_timeout;
	else if (ret->s_max_tps &&
		 (!to_double(ret->s_max_tps, 0, 1e6, &ret->max_tps) || ret->max_tps <= 0))
		bad = "max_tps", val = ret->s_max_tps;
	else if (ret->s_max_attempts && !to_long(ret->s_max_attempts, 1, 100, &l))
		bad = "max_attempts", val = ret->s_max_attempts;
	if (!bad && ret->s_max_attempts)
		ret->max_attempts = (int)l;
	if (!bad && ret->s_cache_mb && !to_long(ret->s_cache_mb, 1, 1L << 20, &ret->cache_mb))
		bad = "cache_mb", val = ret->s_cache_mb;
	if (!bad && ret->s_fhir_tps &&
	    (!to_double(ret->s_fhir_tps, 0, 1e6, &ret->fhir_tps) || ret->fhir_tps <= 0))
		bad = "fhir_tps", val = ret->s_fhir_tps;
	if (!bad && ret->s_fhir_list_max &&
	    !to_long(ret->s_fhir_list_max, 1, 100000000, &ret->fhir_list_max))
		bad = "fhir_list_max", val = ret->s_fhir_list_max;
	if (!bad && ret->s_fhir_max_bytes &&
	    !to_long(ret->s_fhir_max_bytes, 1, 1L << 30, &ret->fhir_max_bytes))
		bad = "fhir_max_bytes", val = ret->s_fhir_max_bytes;
	if (!bad && ret->preload && strcmp(ret->preload, "synthea"))
		bad = "preload", val = ret->preload;
	if (bad) {
		snprintf(why, whylen, "invalid value for %s=: '%s'", bad, val);
		return -EINVAL;
	}
	return 0;
}

void hlfs_opts_free(struct hlfs_opts *o)
{
	if (!o)
		return;
	char **s[] = {&o->region,	  &o->profile,	     &o->endpoint,  &o->ca_file,
		      &o->role_arn,	  &o->import_output, &o->kms_key,   &o->preload,
		      &o->s_attr_ttl,	  &o->s_list_ttl,    &o->s_timeout, &o->s_max_tps,
		      &o->s_max_attempts, &o->s_cache_mb,    &o->s3_endpoint, &o->s_fhir_tps,
		      &o->s_fhir_list_max, &o->s_fhir_max_bytes};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}
