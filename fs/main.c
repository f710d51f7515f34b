/* healthlakefs: option parsing, the mount-time check, daemonising and the
 * multi-threaded FUSE loop. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fetch.h"
#include "forget.h"
#include "mount.h"
#include "node.h"
#include "ops.h"
#include "opts.h"
#include "remote.h"
#include "s3.h"
#include "stats.h"

/* Copies argv into args without -d/--debug (ours: API call lines, not
 * libfuse's protocol dump) and without a mount(8)-style source argument
 * before the mountpoint. */
/* libfuse's bound on its loop's thread counts; above it a count is unset. */
#define LOOP_THREADS_MAX 100000u

static int preprocess(int argc, char **argv, struct fuse_args *args, bool *debug)
{
	int nonopt[2] = {-1, -1}, n_nonopt = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (n_nonopt < 2)
			nonopt[n_nonopt] = i;
		n_nonopt++;
	}
	int skip = n_nonopt == 2 ? nonopt[0] : -1;
	/* Worker threads: 32 unless -o max_threads says otherwise (a later
	 * option wins). With libfuse's 10, 32 readers of cold resources at
	 * 20 ms latency got a third of a 32-thread script's rate; with 32 the
	 * same (BENCHMARKS.md, D4). They start only as requests overlap. */
	if (fuse_opt_add_arg(args, argv[0]) || fuse_opt_add_arg(args, "-omax_threads=32"))
		return -1;
	for (int i = 1; i < argc; i++) {
		if (i == skip)
			continue;
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (fuse_opt_add_arg(args, argv[i]) || fuse_opt_add_arg(args, argv[i + 1]))
				return -1;
			i++;
			continue;
		}
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--debug")) {
			*debug = true;
			continue;
		}
		if (fuse_opt_add_arg(args, argv[i]))
			return -1;
	}
	return 0;
}

/* True when the failure means the set-up is wrong (stop), false when the
 * service is only unwell or refuses this one call (warn, mount anyway). */
static bool setup_error(enum hl_err e)
{
	switch (e) {
	case HL_ERR_TLS:
	case HL_ERR_AUTH:
	case HL_ERR_NO_CREDENTIALS:
	case HL_ERR_CREDENTIALS:
	case HL_ERR_NO_REGION:
	case HL_ERR_CONFIG:
	case HL_ERR_RESOLVE:
	case HL_ERR_INVALID:
	case HL_ERR_PROTOCOL:
	case HL_ERR_SERVICE:
		return true;
	default:
		return false;
	}
}

static int make_client(struct hlfs_fs *fs, const struct hlfs_opts *o, const char *ca_file,
		       struct hl_client **ret)
{
	struct hl_error err;
	struct hl_client_options co = {
	    .profile = o->profile,
	    .region = o->region,
	    .endpoint = o->endpoint,
	    .ca_file = ca_file,
	    .max_attempts = o->max_attempts,
	    .max_tps = o->max_tps,
	    .on_call = hlfs_fs_on_call,
	    .on_call_arg = fs,
	};
	hl_error_clear(&err);
	enum hl_err e = hl_client_new(&co, ret, &err);
	if (e != HL_ERR_OK) {
		fprintf(stderr, "healthlakefs: cannot set up the AWS client: %s%s%s\n",
			hl_strerror(e), err.message[0] ? ": " : "", err.message);
		return -1;
	}
	/* Job output's S3 client: a failure here never stops the mount; the
	 * .files directories then say why in their .error. */
	struct hl_s3_options so = {.endpoint = o->s3_endpoint,
				   .on_call = hlfs_fs_on_call,
				   .on_call_arg = fs};
	hl_s3_free(fs->s3);
	fs->s3 = NULL;
	hl_error_clear(&err);
	e = hl_s3_new(*ret, &so, &fs->s3, &err);
	if (e != HL_ERR_OK)
		hlfs_logf(fs->log, LOG_WARNING, "warning: no S3 client for job output: %s%s%s",
			  hl_strerror(e), err.message[0] ? ": " : "", err.message);
	return 0;
}

/* One ListFHIRDatastores(MaxResults=1). Returns -1 when mounting must not go on. */
static int check_setup(struct hlfs_fs *fs)
{
	struct hl_error err;
	struct hl_datastore_list *l = NULL;
	int64_t started = hlfs_now(fs);
	enum hl_err e = hlfs_remote_probe(fs, hlfs_deadline(fs), &l, &err);
	if (e == HL_ERR_OK) {
		if (!l->next_token) /* the whole account: the first lookups need no List */
			hlfs_listing_seed(fs, l, started);
		else
			hl_datastore_list_free(l);
		return 0;
	}
	const char *code = err.aws_code[0] ? err.aws_code : hl_strerror(e);
	if (setup_error(e)) {
		fprintf(stderr, "healthlakefs: cannot mount: %s%s%s (endpoint %s, region %s)\n",
			code, err.message[0] ? ": " : "", err.message,
			hl_client_endpoint(fs->client), hl_client_region(fs->client));
		return -1;
	}
	hlfs_logf(fs->log, LOG_WARNING, "warning: set-up check failed, mounting anyway: %s%s%s",
		  code, err.message[0] ? ": " : "", err.message);
	return 0;
}

struct usr1 {
	struct hlfs_fs *fs;
	atomic_bool stop;
};

/* Writes /.stats to the log on SIGUSR1 (blocked in every other thread). */
static void *usr1_thread(void *arg)
{
	struct usr1 *u = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0 || atomic_load(&u->stop))
			break;
		struct hl_buf b;
		hl_buf_init(&b, 0);
		if (hlfs_fs_render_stats(u->fs, &b) == HL_ERR_OK && b.data) {
			char *save = NULL;
			for (char *line = strtok_r(b.data, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				hlfs_logf(u->fs->log, LOG_INFO, "stats %s", line);
		}
		hl_buf_free(&b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts co;
	struct hlfs_opts o;
	struct hlfs_log log = {0};
	struct hlfs_fs fs;
	struct hlfs_stats *stats = NULL;
	struct fuse *f = NULL;
	char why[512], ca_abs[PATH_MAX];
	const char *ca_file = NULL;

	/* cache_mb bounds what is live; glibc would also give each FUSE worker
	 * an arena of its own, where freed chunks stay (a 100,000-resource
	 * listing at cache_mb=4 peaked 6 MB higher with one arena per thread
	 * than with one in all). Two keep the 2-core machine's workers apart. */
	mallopt(M_ARENA_MAX, 2);
	bool debug = false, fs_ready = false, mounted = false, handlers = false;
	bool usr1_started = false;
	pthread_t usr1_th;
	struct usr1 u = {.fs = &fs};
	int rc = 1;

	int early = hlfs_cli_early(argc, argv); /* wait, --help, --version */
	if (early >= 0)
		return early;

	memset(&co, 0, sizeof(co));
	memset(&o, 0, sizeof(o));
	if (preprocess(argc, argv, &args, &debug) != 0 || hlfs_cli_drop_mount_opts(&args) != 0) {
		fprintf(stderr, "healthlakefs: out of memory\n");
		goto out;
	}
	if (hlfs_opts_parse(&args, &o, why, sizeof(why)) != 0) {
		fprintf(stderr, "healthlakefs: %s\n", why);
		goto out;
	}
	if (fuse_parse_cmdline(&args, &co) != 0)
		goto out;
	if (co.show_help || co.show_version) { /* cli.c answered them already: not reached */
		co.show_help ? hlfs_cli_help(stdout, argv[0]) : hlfs_cli_version(stdout);
		rc = 0;
		goto out;
	}
	if (!co.mountpoint) {
		fprintf(stderr, "healthlakefs: no mountpoint given (see --help)\n");
		goto out;
	}
	bool foreground = co.foreground || debug;
	hlfs_log_init(&log, foreground, debug);
	if (o.ca_file) /* the daemon changes directory to / */
		ca_file = realpath(o.ca_file, ca_abs) ? ca_abs : o.ca_file;

	stats = hlfs_stats_new();
	if (!stats || hlfs_fs_init(&fs, &o, NULL, stats, &log) != 0) {
		fprintf(stderr, "healthlakefs: out of memory\n");
		goto out;
	}
	fs_ready = true;
	if (make_client(&fs, &o, ca_file, &fs.client) != 0 || check_setup(&fs) != 0)
		goto out;

	if (fuse_opt_add_arg(&args, "-odefault_permissions") ||
	    fuse_opt_add_arg(&args, "-ofsname=healthlake") ||
	    fuse_opt_add_arg(&args, "-osubtype=healthlakefs"))
		goto out;
	f = fuse_new(&args, hlfs_operations(), sizeof(struct fuse_operations), &fs);
	if (!f)
		goto out;
	if (fuse_mount(f, co.mountpoint) != 0)
		goto out;
	mounted = true;
	if (hlfs_ops_take_io(f) != 0)
		hlfs_logf(&log, LOG_WARNING, "warning: lookups in one directory will run one at a time "
					     "(no custom io in this libfuse)");
	if (!foreground) {
		/* Nothing of the client (connections, per-thread handles) should
		 * cross the fork: make a fresh one in the daemon. */
		hl_s3_free(fs.s3);
		fs.s3 = NULL;
		hl_client_free(fs.client);
		fs.client = NULL;
		if (fuse_daemonize(false) != 0 || make_client(&fs, &o, ca_file, &fs.client) != 0)
			goto out;
	}
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out;
	handlers = true;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: they inherit it */
	if (hlfs_forget_start(&fs, fuse_get_session(f)) != 0)
		hlfs_logf(&log, LOG_WARNING, "warning: no thread to let the kernel forget stores: "
					     "memory may grow past cache_mb");
	usr1_started = pthread_create(&usr1_th, NULL, usr1_thread, &u) == 0;
	hlfs_logf(&log, LOG_INFO, "mounted %s (endpoint %s, region %s)", co.mountpoint,
		  hl_client_endpoint(fs.client), hl_client_region(fs.client));

#if FUSE_USE_VERSION >= 312
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	if (!lc)
		goto out;
	fuse_loop_cfg_set_clone_fd(lc, (unsigned)co.clone_fd);
	/* Unset is UINT_MAX, which libfuse's setter logs as invalid on every
	 * mount: pass only a value the user gave. */
	if (co.max_idle_threads <= LOOP_THREADS_MAX)
		fuse_loop_cfg_set_idle_threads(lc, co.max_idle_threads);
	if (co.max_threads > 0 && co.max_threads <= LOOP_THREADS_MAX) /* else unset: libfuse's */
		fuse_loop_cfg_set_max_threads(lc, co.max_threads);
	rc = fuse_loop_mt(f, lc) == 0 ? 0 : 1;
	fuse_loop_cfg_destroy(lc);
#else
	struct fuse_loop_config lc = {.clone_fd = co.clone_fd,
				      .max_idle_threads = co.max_idle_threads};
	rc = fuse_loop_mt(f, &lc) == 0 ? 0 : 1;
#endif
out:
	if (fs_ready)
		hlfs_forget_stop(&fs); /* before the session goes */
	if (usr1_started) {
		atomic_store(&u.stop, true);
		pthread_kill(usr1_th, SIGUSR1);
		pthread_join(usr1_th, NULL);
	}
	if (handlers)
		fuse_remove_signal_handlers(fuse_get_session(f));
	if (mounted)
		fuse_unmount(f);
	if (f)
		fuse_destroy(f);
	if (fs_ready) {
		hlfs_fs_fini(&fs); /* first: a file left open may have a GET in flight (s3read.h) */
		hl_s3_free(fs.s3);
		hl_client_free(fs.client);
	}
	hlfs_stats_free(stats);
	hlfs_log_close(&log);
	free(co.mountpoint);
	hlfs_opts_free(&o);
	fuse_opt_free_args(&args);
	return rc;
}
