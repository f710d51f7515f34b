#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(t, m) {t, offsetof(struct hlfs_opts, m), 1}

enum { KEY_RO = 1 };

static const struct fuse_opt templates[] = {
	OPT("region=%s", region),
	OPT("profile=%s", profile),
	OPT("endpoint=%s", endpoint),
	OPT("ca_file=%s", ca_file),
	OPT("role_arn=%s", role_arn),
	OPT("import_output=%s", import_output),
	OPT("kms_key=%s", kms_key),
	OPT("preload=%s", preload),
	OPT("allow_delete", allow_delete),
	OPT("show_deleted", show_deleted),
	OPT("attr_ttl=%s", s_attr_ttl),
	OPT("list_ttl=%s", s_list_ttl),
	OPT("timeout=%s", s_timeout),
	OPT("max_tps=%s", s_max_tps),
	OPT("max_attempts=%s", s_max_attempts),
	OPT("cache_mb=%s", s_cache_mb),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_END,
};

static int proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)arg;
	(void)outargs;
	struct hlfs_opts *o = data;
	if (key == KEY_RO) {
		o->ro = 1;
		return 1; /* keep it: the kernel mount is read-only as well */
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
	long l = 0;
	const char *bad = NULL, *val = NULL;
	if (ret->s_attr_ttl && !to_double(ret->s_attr_ttl, 0, 86400, &ret->attr_ttl))
		bad = "attr_ttl", val = ret->s_attr_ttl;
	else if (ret->s_list_ttl && !to_double(ret->s_list_ttl, 0, 86400, &ret->list_ttl))
		bad = "list_ttl", val = ret->s_list_ttl;
	else if (ret->s_timeout && (!to_double(ret->s_timeout, 0, 86400, &ret->timeout) ||
				    ret->timeout <= 0))
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
	char **s[] = {&o->region,     &o->profile,      &o->endpoint,   &o->ca_file,
		      &o->role_arn,   &o->import_output, &o->kms_key,    &o->preload,
		      &o->s_attr_ttl, &o->s_list_ttl,    &o->s_timeout,  &o->s_max_tps,
		      &o->s_max_attempts, &o->s_cache_mb};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}
