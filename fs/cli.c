#include "cli.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <string.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse.h>

#include "wait.h"

#ifndef HLFS_VERSION
#define HLFS_VERSION "unknown"
#endif

int hlfs_cli_early(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		return hlfs_wait_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "-o") == 0) {
			i++; /* its value is an option list, never a flag */
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			hlfs_cli_help(stdout, argv[0]);
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			hlfs_cli_version(stdout);
			return 0;
		}
	}
	return -1;
}

void hlfs_cli_help(FILE *out, const char *prog)
{
	fprintf(
	    out,
	    "usage: %s [-f] [-d] [-o option[,option...]] [source] mountpoint\n"
	    "       %s wait [--deleted] [--timeout S] [--interval S] PATH\n"
	    "       %s --help | --version\n"
	    "       mount -t fuse.healthlakefs healthlake mountpoint [-o options]\n"
	    "\n"
	    "Mounts Amazon HealthLake: data stores are directories, import and export\n"
	    "jobs are files. The source argument (e.g. \"healthlake\") is ignored.\n"
	    "\n"
	    "AWS settings (resolved like the AWS CLI):\n"
	    "    -o region=R          region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
	    "    -o profile=P         profile (default: AWS_PROFILE, else \"default\")\n"
	    "    -o endpoint=URL      service endpoint (default: AWS_ENDPOINT_URL_HEALTHLAKE,\n"
	    "                         AWS_ENDPOINT_URL, profile, regional); plain http:// only\n"
	    "                         to loopback\n"
	    "    -o ca_file=PATH      CA bundle (default: AWS_CA_BUNDLE, profile, system store)\n"
	    "    -o max_attempts=N    attempts per API call (default: AWS_MAX_ATTEMPTS, else 3)\n"
	    "\n"
	    "Defaults for writes:\n"
	    "    -o role_arn=ARN      DataAccessRoleArn for jobs started through new (none)\n"
	    "    -o import_output=S3URI  JobOutputDataConfig for imports (none)\n"
	    "    -o kms_key=KEY       KMS key for job output and mkdir (none)\n"
	    "    -o preload=synthea   mkdir creates stores preloaded with Synthea data (off)\n"
	    "\n"
	    "Safety:\n"
	    "    -o allow_delete      allow rmdir of stores, removal of tags and resources (off)\n"
	    "    -o show_deleted      list DELETED stores (off)\n"
	    "    -o ro                read-only: every change fails with EROFS (off)\n"
	    "\n"
	    "Caching and pacing:\n"
	    "    -o attr_ttl=S        cache lifetime of contents and descriptions (default 2)\n"
	    "    -o list_ttl=S        cache lifetime of listings (default 5); 0 disables\n"
	    "    -o timeout=S         bound on one filesystem operation (default 20)\n"
	    "    -o max_tps=N         API calls reaching the service per second at most (default 10)\n"
	    "    -o cache_mb=N        memory bound of the cache (default 64)\n"
	    "\n"
	    "FHIR data (<store>/fhir/):\n"
	    "    -o fhir_tps=N        FHIR calls started per second at most (default 100)\n"
	    "    -o fhir_list_max=N   most entries a type directory lists (default 10000)\n"
	    "    -o fhir_max_bytes=N  largest resource a write may send (default 8388608)\n"
	    "\n"
	    "FUSE's own:\n"
	    "    -f                   foreground, log to stderr (default: daemon, syslog)\n"
	    "    -d                   foreground, one log line per API call\n"
	    "    -o allow_other       let other users in (needs user_allow_other)\n"
	    "    -o uid=N, gid=N      owner of every file (default: the mounting user)\n"
	    "    -o umask=M           mode mask (default: owner-only modes)\n"
	    "    -o max_threads=N     worker threads at most (default 32)\n"
	    "    -h, --help           this text;  -V, --version  versions\n"
	    "\n"
	    "mount(8) options such as _netdev, noauto, nofail, user and x-systemd.* are\n"
	    "accepted and ignored. kill -USR1 writes /.stats to the log.\n"
	    "See healthlakefs(1).\n",
	    prog, prog, prog);
}

void hlfs_cli_version(FILE *out)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	fprintf(out, "healthlakefs %s\n", HLFS_VERSION);
	fprintf(out, "libfuse %s\n", fuse_pkgversion());
	fprintf(out, "libcurl %s\n", cv && cv->version ? cv->version : "unknown");
	fprintf(out, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(out, "cJSON %s\n", cJSON_Version());
}

bool hlfs_cli_mount_only_opt(const char *opt)
{
	/* mount.fuse3 drops most of these itself; the daemon also runs from
	 * fstab-like set-ups without it (systemd, direct calls), so drop them
	 * here as well. */
	static const char *const exact[] = {"_netdev", "auto",	  "noauto",   "nofail", "user",
					    "users",   "nouser",  "defaults", "owner",	"group",
					    "noowner", "nogroup", NULL};
	static const char *const prefix[] = {"x-", "comment=", NULL};
	if (!opt)
		return false;
	for (const char *const *e = exact; *e; e++)
		if (strcmp(opt, *e) == 0)
			return true;
	for (const char *const *p = prefix; *p; p++)
		if (strncmp(opt, *p, strlen(*p)) == 0)
			return true;
	return false;
}

static int drop_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)data;
	(void)outargs;
	if (key == FUSE_OPT_KEY_OPT && hlfs_cli_mount_only_opt(arg))
		return 0;
	return 1;
}

int hlfs_cli_drop_mount_opts(struct fuse_args *args)
{
	return fuse_opt_parse(args, NULL, NULL, drop_proc) == 0 ? 0 : -1;
}
