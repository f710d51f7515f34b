#include <errno.h>

#include "opts.h"
#include "tap.h"

/* Parses argv; returns rc and leaves the remaining args joined in rest. */
static int parse(const char *const *argv, struct hlfs_opts *o, char *rest, size_t n, char *why,
		 size_t wn)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < argc; i++)
		fuse_opt_add_arg(&args, argv[i]);
	int rc = hlfs_opts_parse(&args, o, why, wn);
	rest[0] = '\0';
	for (int i = 0; i < args.argc; i++) {
		strncat(rest, args.argv[i], n - strlen(rest) - 1);
		if (i + 1 < args.argc)
			strncat(rest, " ", n - strlen(rest) - 1);
	}
	fuse_opt_free_args(&args);
	return rc;
}

int main(void)
{
	struct hlfs_opts o;
	char rest[512], why[256];

	const char *a1[] = {"healthlakefs", "/mnt", NULL};
	is_int(parse(a1, &o, rest, sizeof(rest), why, sizeof(why)), 0, "no options");
	ok(o.attr_ttl == 2 && o.list_ttl == 5 && o.timeout == 20 && o.max_tps == 10,
	   "default ttls, timeout and tps");
	is_int(o.cache_mb, 64, "default cache_mb");
	ok(!o.s3_endpoint, "no s3_endpoint: the AWS CLI's chain");
	is_int(o.max_attempts, 0, "max_attempts left to the AWS chain");
	ok(!o.allow_delete && !o.show_deleted && !o.ro, "flags off");
	ok(!o.region && !o.endpoint && !o.role_arn && !o.preload, "strings unset");
	is_str(rest, "healthlakefs /mnt", "arguments kept");
	hlfs_opts_free(&o);

	const char *a2[] = {
	    "healthlakefs",
	    "-f",
	    "-d",
	    "-o",
	    "region=eu-west-1,profile=prod,endpoint=http://127.0.0.1:9,ca_file=/ca.pem,"
	    "role_arn=arn:aws:iam::123456789012:role/r,import_output=s3://b/o/,"
	    "kms_key=alias/k,preload=synthea,allow_delete,show_deleted,ro,"
	    "attr_ttl=0.5,list_ttl=0,timeout=1.25,max_attempts=5,max_tps=2.5,"
	    "cache_mb=8,s3_endpoint=http://127.0.0.1:10,allow_other,uid=1000,gid=1000,umask=077",
	    "/mnt",
	    NULL};
	is_int(parse(a2, &o, rest, sizeof(rest), why, sizeof(why)), 0, "every option");
	is_str(o.region, "eu-west-1", "region");
	is_str(o.profile, "prod", "profile");
	is_str(o.endpoint, "http://127.0.0.1:9", "endpoint");
	is_str(o.ca_file, "/ca.pem", "ca_file");
	is_str(o.role_arn, "arn:aws:iam::123456789012:role/r", "role_arn");
	is_str(o.import_output, "s3://b/o/", "import_output");
	is_str(o.kms_key, "alias/k", "kms_key");
	is_str(o.preload, "synthea", "preload");
	ok(o.allow_delete && o.show_deleted && o.ro, "flags on");
	ok(o.attr_ttl == 0.5, "fractional attr_ttl");
	ok(o.list_ttl == 0, "list_ttl 0");
	ok(o.timeout == 1.25, "fractional timeout");
	is_int(o.max_attempts, 5, "max_attempts");
	ok(o.max_tps == 2.5, "max_tps");
	is_int(o.cache_mb, 8, "cache_mb");
	is_str(o.s3_endpoint, "http://127.0.0.1:10", "s3_endpoint");
	is_str(rest, "healthlakefs -o ro,allow_other,uid=1000,gid=1000,umask=077 -f -d /mnt",
	       "FUSE's own options (and ro) stay for FUSE");
	hlfs_opts_free(&o);

	const char *a3[] = {"healthlakefs", "-o", "region=a,region=b", "-o", "timeout=1,timeout=3",
			    "/mnt",	    NULL};
	is_int(parse(a3, &o, rest, sizeof(rest), why, sizeof(why)), 0, "repeated options");
	is_str(o.region, "b", "the last region wins");
	ok(o.timeout == 3, "the last timeout wins");
	hlfs_opts_free(&o);

	static const struct {
		const char *opt;
		const char *why;
	} bad[] = {
	    {"attr_ttl=abc", "invalid value for attr_ttl=: 'abc'"},
	    {"attr_ttl=-1", "invalid value for attr_ttl=: '-1'"},
	    {"list_ttl=2s", "invalid value for list_ttl=: '2s'"},
	    {"timeout=0", "invalid value for timeout=: '0'"},
	    {"timeout=", "invalid value for timeout=: ''"},
	    {"max_attempts=0", "invalid value for max_attempts=: '0'"},
	    {"max_attempts=1.5", "invalid value for max_attempts=: '1.5'"},
	    {"max_tps=0", "invalid value for max_tps=: '0'"},
	    {"cache_mb=0", "invalid value for cache_mb=: '0'"},
	    {"attr_ttl=nan", "invalid value for attr_ttl=: 'nan'"},
	    {"preload=other", "invalid value for preload=: 'other'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a[] = {"healthlakefs", "-o", bad[i].opt, "/mnt", NULL};
		why[0] = '\0';
		is_int(parse(a, &o, rest, sizeof(rest), why, sizeof(why)), -EINVAL, "%s refused",
		       bad[i].opt);
		is_str(why, bad[i].why, "%s reason", bad[i].opt);
		hlfs_opts_free(&o);
	}
	return done_testing();
}
