#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tap.h"

static void test_mount_only(void)
{
	static const struct {
		const char *opt;
		bool want;
	} cases[] = {
	    {"_netdev", true},
	    {"noauto", true},
	    {"auto", true},
	    {"nofail", true},
	    {"user", true},
	    {"users", true},
	    {"nouser", true},
	    {"defaults", true},
	    {"x-systemd.automount", true},
	    {"x-systemd.idle-timeout=60", true},
	    {"x-gvfs-show", true},
	    {"comment=systemd.automount", true},
	    {"region=us-east-1", false},
	    {"endpoint=http://127.0.0.1:1", false},
	    {"allow_other", false},
	    {"ro", false},
	    {"rw", false},
	    {"dev", false},
	    {"suid", false},
	    {"user_id=0", false}, /* a prefix of "user" is not "user" */
	    {"userx", false},
	    {"_netdevx", false},
	    {"x", false},
	    {"", false},
	    {NULL, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(hlfs_cli_mount_only_opt(cases[i].opt), cases[i].want, "mount-only '%s'",
		       cases[i].opt ? cases[i].opt : "(null)");
}

static void join(const struct fuse_args *a, char *out, size_t n)
{
	out[0] = '\0';
	size_t len = 0;
	for (int i = 0; i < a->argc && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", i ? " " : "", a->argv[i]);
}

static void test_drop(void)
{
	char *argv[] = {"healthlakefs",
			"healthlake",
			"/mnt/x",
			"-o",
			"rw,_netdev,region=us-east-1,x-systemd.automount,noauto,allow_other",
			"-f",
			"-o",
			"nofail,endpoint=http://127.0.0.1:9/,comment=x",
			NULL};
	struct fuse_args a = FUSE_ARGS_INIT(0, NULL);
	char got[1024];
	for (int i = 0; argv[i]; i++)
		fuse_opt_add_arg(&a, argv[i]);
	is_int(hlfs_cli_drop_mount_opts(&a), 0, "drop succeeds");
	join(&a, got, sizeof(got));
	diag("after: %s", got);
	ok(!strstr(got, "_netdev"), "_netdev dropped");
	ok(!strstr(got, "x-systemd"), "x-systemd.automount dropped");
	ok(!strstr(got, "noauto"), "noauto dropped");
	ok(!strstr(got, "nofail"), "nofail dropped");
	ok(!strstr(got, "comment="), "comment= dropped");
	ok(strstr(got, "region=us-east-1") != NULL, "region kept");
	ok(strstr(got, "endpoint=http://127.0.0.1:9/") != NULL, "endpoint kept");
	ok(strstr(got, "allow_other") != NULL, "allow_other kept");
	ok(strstr(got, "rw") != NULL, "rw kept");
	ok(strstr(got, " -f") != NULL, "-f kept");
	ok(strstr(got, "healthlake /mnt/x") != NULL, "source and mountpoint kept in order");
	fuse_opt_free_args(&a);

	/* Nothing left of an all-mount-only list is not an error. */
	struct fuse_args b = FUSE_ARGS_INIT(0, NULL);
	fuse_opt_add_arg(&b, "healthlakefs");
	fuse_opt_add_arg(&b, "-o");
	fuse_opt_add_arg(&b, "_netdev,noauto");
	fuse_opt_add_arg(&b, "/mnt/y");
	is_int(hlfs_cli_drop_mount_opts(&b), 0, "drop of an all-mount-only list succeeds");
	join(&b, got, sizeof(got));
	is_str(got, "healthlakefs /mnt/y", "empty -o list disappears");
	fuse_opt_free_args(&b);
}

/* Runs hlfs_cli_early with stdout captured into out. */
static int early_captured(int argc, char **argv, char *out, size_t n)
{
	FILE *tmp = tmpfile();
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(fileno(tmp), STDOUT_FILENO);
	int rc = hlfs_cli_early(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(tmp);
	size_t len = fread(out, 1, n - 1, tmp);
	out[len] = '\0';
	fclose(tmp);
	return rc;
}

static void test_early(void)
{
	static char out[16384];
	char *mount_argv[] = {"healthlakefs", "-o", "region=x", "healthlake", "/mnt", NULL};
	is_int(early_captured(5, mount_argv, out, sizeof(out)), -1, "plain mount goes on");
	is_str(out, "", "plain mount prints nothing");

	char *optval[] = {"healthlakefs", "-o", "--help", "/mnt", NULL};
	is_int(early_captured(4, optval, out, sizeof(out)), -1, "an -o value is not --help");

	char *after[] = {"healthlakefs", "/mnt", "--", "--version", NULL};
	is_int(early_captured(4, after, out, sizeof(out)), -1, "nothing after -- is a flag");

	char *help[] = {"healthlakefs", "-f", "--help", NULL};
	is_int(early_captured(3, help, out, sizeof(out)), 0, "--help exits 0");
	ok(strstr(out, "usage: healthlakefs") != NULL, "--help prints usage");

	char *h[] = {"healthlakefs", "-h", NULL};
	is_int(early_captured(2, h, out, sizeof(out)), 0, "-h exits 0");
	ok(strstr(out, "Caching and pacing:") != NULL, "-h prints groups");

	char *version[] = {"healthlakefs", "--version", NULL};
	is_int(early_captured(2, version, out, sizeof(out)), 0, "--version exits 0");
	ok(strncmp(out, "healthlakefs ", 13) == 0, "--version starts with the name");
	char *v[] = {"healthlakefs", "/mnt", "-V", NULL};
	is_int(early_captured(3, v, out, sizeof(out)), 0, "-V exits 0");
	ok(strstr(out, "cJSON ") != NULL, "-V prints cJSON");

	/* `wait` with no path is a usage error (2), not a mount. */
	char *w[] = {"healthlakefs", "wait", NULL};
	FILE *devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	is_int(early_captured(2, w, out, sizeof(out)), 2, "wait without a path: usage (2)");
}

static void test_help_text(void)
{
	static const char *const names[] = {"region=",	     "profile=",
					    "endpoint=",     "ca_file=",
					    "role_arn=",     "import_output=",
					    "kms_key=",	     "preload=synthea",
					    "allow_delete",  "show_deleted",
					    " ro ",	     "attr_ttl=",
					    "list_ttl=",     "timeout=",
					    "max_attempts=", "max_tps=",
					    "cache_mb=",     " -f ",
					    " -d ",	     "allow_other",
					    "uid=",	     "gid=",
					    "umask=",	     "(default 2)",
					    "(default 5)",   "(default 20)",
					    "(default 10)",  "(default 64)",
					    "else 3)",	     NULL};
	static const char *const groups[] = {"AWS settings", "Defaults for writes",
					     "Safety:",	     "Caching and pacing:",
					     "FUSE's own:",  NULL};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	hlfs_cli_help(f, "healthlakefs");
	fclose(f);
	for (const char *const *n = names; *n; n++)
		ok(strstr(text, *n) != NULL, "help names '%s'", *n);
	const char *prev = text;
	for (const char *const *g = groups; *g; g++) {
		const char *at = strstr(text, *g);
		ok(at && at >= prev, "group '%s' present, in order", *g);
		if (at)
			prev = at;
	}
	free(text);
}

static void test_version_text(void)
{
	char *text = NULL;
	size_t len = 0;
	char want[128];
	FILE *f = open_memstream(&text, &len);
	hlfs_cli_version(f);
	fclose(f);
	diag("%s", text);
	snprintf(want, sizeof(want), "healthlakefs %s\nlibfuse %s\nlibcurl ", HLFS_VERSION,
		 fuse_pkgversion());
	ok(strncmp(text, want, strlen(want)) == 0, "version lines start with ours, then libfuse");
	ok(strstr(text, "\nOpenSSL ") != NULL, "OpenSSL line");
	ok(strstr(text, "\ncJSON 1.") != NULL, "cJSON line");
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	is_int(lines, 5, "five lines");
	free(text);
}

int main(void)
{
	test_mount_only();
	test_drop();
	test_early();
	test_help_text();
	test_version_text();
	return done_testing();
}
