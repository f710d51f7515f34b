#include "wait.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

enum hlfs_wait_verdict hlfs_wait_judge(enum hlfs_wait_target t, const char *status)
{
	static const char *const job_ok[] = {"COMPLETED", "COMPLETED_WITH_ERRORS", NULL};
	static const char *const import_bad[] = {"FAILED", NULL};
	static const char *const export_bad[] = {"CANCEL_COMPLETED", "FAILED", "CANCEL_FAILED",
						 NULL};
	static const char *const store_bad[] = {"CREATE_FAILED", "DELETED", NULL};

	switch (t) {
	case HLFS_WAIT_STORE_ACTIVE:
		if (!status)
			return HLFS_WAIT_FAILURE;
		if (strcmp(status, "ACTIVE") == 0)
			return HLFS_WAIT_SUCCESS;
		return in_list(status, store_bad) ? HLFS_WAIT_FAILURE : HLFS_WAIT_PENDING;
	case HLFS_WAIT_STORE_DELETED:
		/* A mount hides DELETED stores, so the directory vanishing is success too. */
		if (!status || strcmp(status, "DELETED") == 0)
			return HLFS_WAIT_SUCCESS;
		return HLFS_WAIT_PENDING;
	case HLFS_WAIT_IMPORT:
	case HLFS_WAIT_EXPORT:
		if (!status)
			return HLFS_WAIT_FAILURE;
		if (in_list(status, job_ok))
			return HLFS_WAIT_SUCCESS;
		if (in_list(status, t == HLFS_WAIT_IMPORT ? import_bad : export_bad))
			return HLFS_WAIT_FAILURE;
		/* The import waiter has no cancel acceptors; a cancelled import is
		 * terminal all the same, so stop rather than wait forever. */
		if (t == HLFS_WAIT_IMPORT &&
		    (strcmp(status, "CANCEL_COMPLETED") == 0 || strcmp(status, "CANCEL_FAILED") == 0))
			return HLFS_WAIT_FAILURE;
		return HLFS_WAIT_PENDING;
	}
	return HLFS_WAIT_PENDING;
}

static long long num_member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

bool hlfs_wait_parse_job(const char *json, size_t len, struct hlfs_wait_progress *ret)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!root)
		return false;
	bool found = false;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "JobStatus");
	if (cJSON_IsString(st)) {
		struct hlfs_wait_progress p;
		memset(&p, 0, sizeof(p));
		snprintf(p.status, sizeof(p.status), "%s", st->valuestring);
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "Message");
		if (cJSON_IsString(msg))
			snprintf(p.message, sizeof(p.message), "%s", msg->valuestring);
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(root, "JobProgressReport");
		if (cJSON_IsObject(rep)) {
			p.scanned = num_member(rep, "TotalNumberOfResourcesScanned");
			p.imported = num_member(rep, "TotalNumberOfResourcesImported");
			p.with_errors = num_member(rep, "TotalNumberOfResourcesWithCustomerError");
			const cJSON *mb = cJSON_GetObjectItemCaseSensitive(
				rep, "TotalSizeOfScannedFilesInMB");
			p.size_mb = cJSON_IsNumber(mb) ? mb->valuedouble : 0;
		}
		*ret = p;
		found = true;
	}
	cJSON_Delete(root);
	return found;
}

/* Reads a whole small file. Returns bytes read, or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: healthlakefs wait [--deleted] [--timeout SECONDS] [--interval SECONDS] PATH\n"
		   "  PATH is a store directory (waits for ACTIVE, or with --deleted for its\n"
		   "  deletion) or a job file under imports/ or exports/ (waits for completion).\n"
		   "  Exit: 0 success, 1 failed state, 2 usage or I/O error, 3 timeout.\n");
}

static enum hlfs_wait_target classify(const char *path, bool deleted, bool *ok)
{
	struct stat st;
	*ok = true;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return deleted ? HLFS_WAIT_STORE_DELETED : HLFS_WAIT_STORE_ACTIVE;
	char *copy = strdup(path);
	if (!copy) {
		*ok = false;
		return HLFS_WAIT_IMPORT;
	}
	char *parent = basename(dirname(copy));
	enum hlfs_wait_target t = HLFS_WAIT_IMPORT;
	if (strcmp(parent, "exports") == 0)
		t = HLFS_WAIT_EXPORT;
	else if (strcmp(parent, "imports") != 0)
		*ok = false;
	free(copy);
	return t;
}

/* Observes the current status. Returns 0, or -errno (-ENOENT = gone). */
static int observe(const char *path, enum hlfs_wait_target t, struct hlfs_wait_progress *p)
{
	memset(p, 0, sizeof(*p));
	if (t == HLFS_WAIT_STORE_ACTIVE || t == HLFS_WAIT_STORE_DELETED) {
		char file[4096], buf[32];
		snprintf(file, sizeof(file), "%s/status", path);
		ssize_t n = read_small(file, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(p->status, sizeof(p->status), "%s", buf);
		return 0;
	}
	/* Job files are pretty JSON of a few KiB; 1 MiB is far beyond any. */
	size_t cap = 1024 * 1024;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	ssize_t n = read_small(path, buf, cap);
	int rc = n < 0 ? (int)n : hlfs_wait_parse_job(buf, (size_t)n, p) ? 0 : -EIO;
	free(buf);
	return rc;
}

int hlfs_wait_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"deleted", no_argument, NULL, 'D'},
		{"timeout", required_argument, NULL, 't'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool deleted = false;
	double timeout = 0, interval = 2;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "Dt:i:h", longopts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'D':
			deleted = true;
			break;
		case 't':
		case 'i': {
			double v = strtod(optarg, &end);
			if (!end || *end || v < 0 || (c == 'i' && v < 0.05)) {
				fprintf(stderr, "healthlakefs wait: bad --%s value '%s'\n",
					c == 't' ? "timeout" : "interval", optarg);
				return 2;
			}
			if (c == 't')
				timeout = v;
			else
				interval = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	bool ok;
	enum hlfs_wait_target t = classify(path, deleted, &ok);
	if (!ok) {
		fprintf(stderr, "healthlakefs wait: %s: not a store directory or a job file under "
				"imports/ or exports/\n", path);
		return 2;
	}
	bool tty = isatty(STDOUT_FILENO);
	double start = (double)hl_now_ms() / 1000.0;
	char last[32] = "";
	for (;;) {
		struct hlfs_wait_progress p;
		int rc = observe(path, t, &p);
		double elapsed = (double)hl_now_ms() / 1000.0 - start;
		const char *status = rc == 0 ? p.status : NULL;
		if (rc < 0 && rc != -ENOENT) {
			fprintf(stderr, "%shealthlakefs wait: %s: %s\n", tty ? "\n" : "", path,
				strerror(-rc));
			return 2;
		}
		enum hlfs_wait_verdict v = hlfs_wait_judge(t, status);
		const char *shown = status ? status : "GONE";
		bool job = t == HLFS_WAIT_IMPORT || t == HLFS_WAIT_EXPORT;
		char line[256];
		if (job && (p.scanned || p.imported)) {
			double rate = elapsed > 0 ? (double)p.imported / elapsed : 0;
			snprintf(line, sizeof(line),
				 "%-22s %6.0fs  scanned %lld  imported %lld  (%.1f/s)", shown,
				 elapsed, p.scanned, p.imported, rate);
		} else {
			snprintf(line, sizeof(line), "%-22s %6.0fs", shown, elapsed);
		}
		if (tty) {
			printf("\r\033[K%s", line);
			fflush(stdout);
		} else if (strcmp(last, shown) != 0) {
			printf("%s\n", line);
			fflush(stdout);
		}
		snprintf(last, sizeof(last), "%s", shown);
		if (v != HLFS_WAIT_PENDING) {
			if (tty)
				printf("\n");
			if (v == HLFS_WAIT_FAILURE) {
				fprintf(stderr, "healthlakefs wait: %s: %s%s%s\n", path,
					status ? status : "no longer exists", p.message[0] ? ": " : "",
					p.message);
				return 1;
			}
			return 0;
		}
		if (timeout > 0 && elapsed + interval > timeout) {
			if (tty)
				printf("\n");
			fprintf(stderr, "healthlakefs wait: %s: still %s after %.0f s\n", path, shown,
				timeout);
			return 3;
		}
		struct timespec ts = {(time_t)interval,
				      (long)((interval - (double)(time_t)interval) * 1e9)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}
