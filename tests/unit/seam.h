/* A mount's state over a scripted loopback server, for the unit tests of
 * the glue through its seam (the hlfs_glue library). Header-only. */
#ifndef HLFS_TEST_SEAM_H
#define HLFS_TEST_SEAM_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "aws_env.h"
#include "datastore_props.h"
#include "errfile.h"
#include "fake_http.h"
#include "mount.h"
#include "open.h"
#include "tap.h"

#define JOB_ID "0123456789abcdef0123456789abcdef"
#define DENIED "{\"__type\":\"AccessDeniedException\",\"message\":\"not allowed\"}"

struct world {
	struct fake_srv *srv;
	struct hl_client *client;
	struct hlfs_stats *stats;
	struct hlfs_log log;
	struct hlfs_opts opts;
	struct hlfs_fs fs;
};

static __attribute__((unused)) bool world_up(struct world *w, struct fake_srv *srv, bool ro)
{
	w->srv = srv;
	char url[64];
	memset(&w->opts, 0, sizeof(w->opts));
	w->opts.attr_ttl = 3600; /* nothing goes stale while a test runs */
	w->opts.list_ttl = 3600;
	w->opts.timeout = 10;
	w->opts.cache_mb = 16;
	w->opts.ro = ro;
	w->opts.fhir_tps = 1000; /* the options' defaults but the pace: no test waits */
	w->opts.fhir_list_max = 10000;
	w->opts.fhir_max_bytes = 8L << 20;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", w->srv->port);
	struct hl_client_options o = {.endpoint = url,
				      .region = "us-east-1",
				      .max_attempts = 1,
				      .max_tps = 1000,
				      .max_response_bytes = 1 << 20};
	struct hl_error e;
	if (hl_client_new(&o, &w->client, &e) != HL_ERR_OK) {
		diag("hl_client_new: %s", e.message);
		return false;
	}
	hlfs_log_init(&w->log, true, false);
	w->stats = hlfs_stats_new();
	return w->stats && hlfs_fs_init(&w->fs, &w->opts, w->client, w->stats, &w->log) == 0;
}

static __attribute__((unused)) void world_down(struct world *w)
{
	hlfs_fs_fini(&w->fs);
	hlfs_stats_free(w->stats);
	hl_client_free(w->client);
}

/* The operation of request i (its X-Amz-Target, without the service). */
static __attribute__((unused)) const char *op_of(struct world *w, int i, char *out, size_t n)
{
	char t[64];
	if (!fake_header(w->srv, i, "X-Amz-Target", t, sizeof(t)))
		return "";
	const char *dot = strrchr(t, '.');
	snprintf(out, n, "%s", dot ? dot + 1 : t);
	return out;
}

/* Method and target of request i ("GET /datastore/<id>/r4/metadata"), for
 * the FHIR data plane, whose requests have no X-Amz-Target. */
static __attribute__((unused)) const char *req_line(struct world *w, int i, char *out, size_t n)
{
	const char *r = fake_request(w->srv, i);
	const char *sp = r ? strstr(r, " HTTP/1.1\r\n") : NULL;
	snprintf(out, n, "%.*s", sp ? (int)(sp - r) : 0, r ? r : "");
	return out;
}

/* Reads path whole through open/read/release, recording as ops.c does. A
 * failed read is returned; out holds what was read. */
static __attribute__((unused)) int cat(struct world *w, const char *path, char *out, size_t n,
				       struct hlfs_res *res)
{
	struct hlfs_fh *fh = NULL;
	struct hlfs_res rel;
	int rc = hlfs_do_open(&w->fs, path, O_RDONLY, false, &fh, res);
	is_int(rc, -res->err, "open %s: the result says what the call returns", path);
	hlfs_record(&w->fs, res);
	if (rc)
		return rc;
	int got = hlfs_do_read(fh, out, n - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	hlfs_do_release(&w->fs, fh, &rel);
	is_int(rel.err, 0, "release %s", path);
	return got < 0 ? got : 0;
}

/* Credentials and settings the way the SDKs read them; no files, no IMDS. */
static __attribute__((unused)) void seam_env(void)
{
	aws_test_env();
}

#endif
