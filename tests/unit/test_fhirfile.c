/* fs/fhirfile.c through the seam: .ndjson streams read page by page, a
 * resource's write handle sent as one PUT at flush (If-Match from the
 * body, ESTALE on a conflict, EINVAL before any call), scratch files and
 * their rename onto a resource, against a scripted FHIR server with what
 * each costs in requests. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "errfile.h"
#include "fhirfile.h"
#include "fhirseam.h"
#include "open.h"
#include "resolve.h"
#include "tree.h"
#include "writes.h"

#define STORE "/clinic/fhir"

/* One compact line of fhir_resource(). */
static void line_of(struct hl_buf *b, const char *type, const char *prefix, size_t i)
{
	fhir_resource(b, type, prefix, i, "1");
	if (hl_buf_appendc(b, '\n') != HL_ERR_OK)
		abort();
}

static void test_all_ndjson(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	struct stat st;
	char line[256];
	static char buf[65536];
	static const char inc[] =
	    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":1.0e2},"
	    "\"search\":{\"mode\":\"include\"}},";
	char *p0 = fhir_page(w, "Observation", "code=1234-5&_count=100", "o", 1, 2, inc, 1);
	char *p1 = fhir_page(w, "Observation", "code=1234-5&_count=100", "o", 3, 1, "", 0);
	const struct fake_resp script[] = {
	    ANSWER_STORES,
	    ANSWER_CAPS,
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p1, 0},
	};
	fake_script(w->srv, script, 4);
	int before = fake_requests(w->srv);
	const char *all = STORE "/Observation?code=1234-5/all.ndjson";

	/* What each page's lines are: its entries compact, matches then the include. */
	struct hl_buf want0, want1;
	hl_buf_init(&want0, 0);
	hl_buf_init(&want1, 0);
	line_of(&want0, "Observation", "o", 1);
	line_of(&want0, "Observation", "o", 2);
	if (hl_buf_appends(&want0, "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":1.0e2}\n"))
		abort();
	line_of(&want1, "Observation", "o", 3);

	is_int(hlfs_do_open(&w->fs, all, O_RDONLY, false, &fh, &r), 0, "open all.ndjson");
	if (!fh)
		goto out;
	ok(fh->kind == HLFS_FH_FHIR && hlfs_fhir_is_stream(fh), "a stream");
	ok(!hlfs_fhir_writable(fh), "read-only: a flush has nothing to do");
	is_int(fake_requests(w->srv), before + 2,
	       "the store listing and the capabilities, no page");
	is_int(hlfs_do_getattr(&w->fs, all, &st, fh, &r), 0, "fstat it");
	ok(S_ISREG(st.st_mode) && st.st_size == 0 && (st.st_mode & 0777) == 0400,
	   "size 0, read-only");

	int n = hlfs_do_read(fh, buf, sizeof(buf), 0);
	is_int(n, (long long)want0.len, "a read from 0 gives page 0's lines only");
	ok(n > 0 && (size_t)n == want0.len && !memcmp(buf, want0.data, want0.len),
	   "matches then the include, compact, one a line, lexemes intact");
	is_int(fake_requests(w->srv), before + 3, "one page");
	is_str(req_line(w, before + 2, line, sizeof(line)),
	       "GET " FHIR_BASE "Observation?code=1234-5&_count=100", "the search's first page");
	is_int(hlfs_do_read(fh, buf, 10, 0), 10, "a short read");
	ok(!memcmp(buf, want0.data, 10), "its bytes");
	is_int(hlfs_do_read(fh, buf, sizeof(buf), 5), (long long)want0.len - 5,
	       "a read inside page 0 stops at its end");

	n = hlfs_do_read(fh, buf, sizeof(buf), (off_t)want0.len);
	is_int(n, (long long)want1.len, "a read at page 0's end gives page 1");
	ok(n > 0 && !memcmp(buf, want1.data, want1.len), "its line");
	is_int(fake_requests(w->srv), before + 4, "one more page");
	is_str(req_line(w, before + 3, line, sizeof(line)),
	       "GET " FHIR_BASE "Observation?code=1234-5&_count=100&page=1", "by the next link");
	is_int(hlfs_do_read(fh, buf, sizeof(buf), (off_t)(want0.len + want1.len)), 0,
	       "the end: EOF");
	is_int(hlfs_do_read(fh, buf, sizeof(buf), 0), (long long)want0.len,
	       "a reader that goes back starts over");
	is_int(fake_requests(w->srv), before + 4, "from the kept pages");
	hlfs_do_release(&w->fs, fh, &r);
	is_int(r.err, 0, "release");

	fh = NULL;
	is_int(hlfs_do_open(&w->fs, all, O_WRONLY, false, &fh, &r), -EACCES,
	       "all.ndjson is not for writing");
	ok(fh == NULL, "no handle");
out:
	hl_buf_free(&want0);
	hl_buf_free(&want1);
	free(p0);
	free(p1);
}

static void test_everything(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	char line[256];
	static char buf[65536];
	static const char page[] =
	    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
	    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}},"
	    "{\"resource\":{ \"resourceType\" : \"Observation\", \"id\":\"o1\",\"v\":120.50}}]}";
	static const char want[] =
	    "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n"
	    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"v\":120.50}\n";
	static const struct fake_resp script[] = {{FAKE_ANSWER, 200, "OK", NULL, page, 0}};
	fake_script(w->srv, script, 1);
	int before = fake_requests(w->srv);
	is_int(
	    hlfs_do_open(&w->fs, STORE "/Patient/p1.everything.ndjson", O_RDONLY, false, &fh, &r),
	    0, "open Patient/p1.everything.ndjson");
	if (!fh)
		return;
	ok(hlfs_fhir_is_stream(fh), "a stream");
	is_int(hlfs_do_read(fh, buf, sizeof(buf), 0), (long long)strlen(want), "read it");
	buf[strlen(want)] = '\0';
	is_str(buf, want, "every resource of every type, compact, one a line");
	is_int(hlfs_do_read(fh, buf, sizeof(buf), (off_t)strlen(want)), 0, "then EOF");
	is_int(fake_requests(w->srv), before + 1, "one request");
	is_str(req_line(w, before, line, sizeof(line)),
	       "GET " FHIR_BASE "Patient/p1/$everything?_count=100", "$everything");
	hlfs_do_release(&w->fs, fh, &r);
}

static int64_t pinned(void *arg)
{
	return *(int64_t *)arg;
}

/* A reader that pauses longer than list_ttl between two pages: the page it
 * holds leads on, one request, not the pages before it again. */
static void test_paused_reader(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	char line[256];
	static char buf[65536];
	int64_t now = hl_now_ms();
	if (!ok(world_up(&w, srv, false), "a mount with a pinned clock"))
		return;
	w.fs.now_ms = pinned;
	w.fs.now_arg = &now;
	w.fs.list_ttl_ms = 5000;
	char *p0 = fhir_page(&w, "Observation", "code=9&_count=100", "o", 0, 3, "", 1);
	char *p1 = fhir_page(&w, "Observation", "code=9&_count=100", "o", 3, 3, "", 2);
	char *p2 = fhir_page(&w, "Observation", "code=9&_count=100", "o", 6, 3, "", 0);
	const struct fake_resp script[] = {
	    ANSWER_STORES,
	    ANSWER_CAPS,
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p1, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p2, 0},
	};
	fake_script(srv, script, 5);
	int before = fake_requests(srv);
	if (hlfs_do_open(&w.fs, STORE "/Observation?code=9/all.ndjson", O_RDONLY, false, &fh, &r) ==
	    0) {
		int n0 = hlfs_do_read(fh, buf, sizeof(buf), 0);
		ok(n0 > 0, "page 0 read");
		now += 10000;
		int n1 = hlfs_do_read(fh, buf, sizeof(buf), n0);
		ok(n1 > 0 && strstr(buf, "\"id\":\"o3\""), "after a pause past list_ttl, page 1");
		is_int(fake_requests(srv), before + 4, "costs one request");
		is_str(req_line(&w, before + 3, line, sizeof(line)),
		       "GET " FHIR_BASE "Observation?code=9&_count=100&page=1",
		       "page 0's next link");
		now += 10000;
		int n2 = hlfs_do_read(fh, buf, sizeof(buf), n0 + n1);
		ok(n2 > 0 && strstr(buf, "\"id\":\"o6\""), "and again, page 2");
		is_int(fake_requests(srv), before + 5, "one request");
		is_str(req_line(&w, before + 4, line, sizeof(line)),
		       "GET " FHIR_BASE "Observation?code=9&_count=100&page=2",
		       "page 1's next link");
		is_int(hlfs_do_read(fh, buf, sizeof(buf), n0 + n1 + n2), 0, "then EOF");
		is_int(fake_requests(srv), before + 5, "without a request");
		hlfs_do_release(&w.fs, fh, &r);
	}
	world_down(&w);
	free(p0);
	free(p1);
	free(p2);
}

/* Opens path for writing (as `>` does), writes body, flushes; the flush's
 * result. */
static int write_file(struct world *w, const char *path, bool create, const char *body,
		      struct hlfs_res *r)
{
	struct hlfs_fh *fh = NULL;
	struct hlfs_res rel;
	int rc =
	    hlfs_do_open(&w->fs, path, O_WRONLY | O_TRUNC | (create ? O_CREAT : 0), create, &fh, r);
	is_int(rc, 0, "open %s for writing", path);
	if (rc)
		return rc;
	is_int(hlfs_do_write(&w->fs, fh, body, strlen(body), 0, r), (long long)strlen(body),
	       "write %zu bytes", strlen(body));
	rc = hlfs_do_flush(&w->fs, fh, r);
	is_int(rc, -r->err, "flush: the result says what the call returns");
	struct hlfs_res again;
	is_int(hlfs_do_flush(&w->fs, fh, &again), 0, "a second flush has nothing to send");
	hlfs_do_release(&w->fs, fh, &rel);
	is_int(rel.err, 0, "release");
	return rc;
}

#define P1_V3                                                                                  \
	"{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\",\n  \"meta\": {\"versionId\": " \
	"\"3\"},"                                                                              \
	"\n  \"w\": 120.50\n}\n"
#define P1_V4                                                                        \
	"{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"4\"," \
	"\"lastUpdated\":\"" FHIR_T_TEXT "\"},\"w\":120.50}"
#define P1_V5                                                                        \
	"{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"5\"," \
	"\"lastUpdated\":\"" FHIR_T_TEXT "\"},\"w\":99}"

static void test_put(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	char line[256], hdr[256];
	static char buf[65536];
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"4\"\r\n", P1_V4, 0},
	};
	fake_script(w->srv, script, 1);
	int before = fake_requests(w->srv);
	const char *p1 = STORE "/Patient/p1.json";

	is_int(hlfs_do_open(&w->fs, p1, O_WRONLY | O_TRUNC, false, &fh, &r), 0,
	       "open p1.json to replace it");
	if (!fh)
		return;
	is_int(hlfs_do_write(&w->fs, fh, P1_V3, 20, 0, &r), 20, "write a part");
	is_int(hlfs_do_write(&w->fs, fh, P1_V3 + 20, strlen(P1_V3) - 20, 20, &r),
	       (long long)strlen(P1_V3) - 20, "and the rest");
	is_int(fake_requests(w->srv), before, "nothing sent while writing");
	struct stat st;
	is_int(hlfs_do_getattr(&w->fs, p1, &st, fh, &r), 0, "fstat");
	is_int((long long)st.st_size, (long long)strlen(P1_V3), "the size written so far");
	is_int(hlfs_do_flush(&w->fs, fh, &r), 0, "flush sends it");
	is_int(fake_requests(w->srv), before + 1, "one request");
	is_str(req_line(w, before, line, sizeof(line)), "PUT " FHIR_BASE "Patient/p1",
	       "a PUT of Patient/p1");
	ok(fake_header(w->srv, before, "If-Match", hdr, sizeof(hdr)), "with If-Match");
	is_str(hdr, "W/\"3\"", "from the body's meta.versionId");
	is_str(fake_body(w->srv, before), P1_V3, "the user's bytes, as written");
	is_int(hlfs_do_flush(&w->fs, fh, &r), 0, "flush again");
	is_int(fake_requests(w->srv), before + 1, "nothing new to send");
	hlfs_do_release(&w->fs, fh, &r);
	is_int(r.err, 0, "release");
	is_int(fake_requests(w->srv), before + 1, "release sends nothing");

	is_int(cat(w, p1, buf, sizeof(buf), &r), 0, "read p1.json");
	has(buf, "\"versionId\": \"4\"", "the service's answer is the new copy");
	is_int(fake_requests(w->srv), before + 1, "without a request");

	/* An open that writes nothing sends nothing. */
	fh = NULL;
	is_int(hlfs_do_open(&w->fs, p1, O_WRONLY, false, &fh, &r), 0, "open p1.json, no O_TRUNC");
	if (fh) {
		is_int(hlfs_do_flush(&w->fs, fh, &r), 0, "flush with nothing written");
		hlfs_do_release(&w->fs, fh, &r);
	}
	is_int(fake_requests(w->srv), before + 1, "no request: the copy was cached");
}

static void test_conflict(struct world *w)
{
	struct hlfs_res r;
	char line[256];
	static char buf[65536];
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 412, "Precondition Failed", NULL,
	     OUTCOME("conflict", "version 3 is not the current one"), 0},
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"5\"\r\n", P1_V5, 0},
	};
	fake_script(w->srv, script, 2);
	int before = fake_requests(w->srv);
	const char *p1 = STORE "/Patient/p1.json";

	is_int(write_file(w, p1, false, P1_V3, &r), -ESTALE, "a write based on version 3: ESTALE");
	is_int(fake_requests(w->srv), before + 2, "the PUT and a read of the current version");
	is_str(req_line(w, before, line, sizeof(line)), "PUT " FHIR_BASE "Patient/p1", "the PUT");
	is_str(req_line(w, before + 1, line, sizeof(line)), "GET " FHIR_BASE "Patient/p1",
	       "then the read");
	is_str(r.dir, DS_ID "/fhir/Patient", "recorded in Patient/.error");
	has(r.why, "current version 5", "naming the current version: %s", r.why);
	ok(!strstr(r.log, "p1") && !strstr(r.log, "version 3"), "the log line names neither: %s",
	   r.log);
	hlfs_record(&w->fs, &r);
	is_int(cat(w, STORE "/Patient/.error", buf, sizeof(buf), &r), 0, "read Patient/.error");
	has(buf, "current version 5", "the reason is there");
	is_int(cat(w, p1, buf, sizeof(buf), &r), 0, "read p1.json");
	has(buf, "\"versionId\": \"5\"", "the current version, from the read after the 412");
	is_int(fake_requests(w->srv), before + 2, "without another request");
}

static void test_refused_bodies(struct world *w)
{
	struct hlfs_res r;
	static const struct {
		const char *body, *what;
	} t[] = {
	    {"{\"resourceType\":\"Observation\",\"id\":\"p1\"}", "another resourceType"},
	    {"{\"id\":\"p1\"}", "no resourceType"},
	    {"{\"resourceType\":\"Patient\",\"id\":\"p2\"}", "another id"},
	    {"[{\"resourceType\":\"Patient\"}]", "not an object"},
	    {"{\"resourceType\":\"Patient\",", "not JSON"},
	    {"{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"a b\"}}", "a bad versionId"},
	};
	int before = fake_requests(w->srv);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		is_int(write_file(w, STORE "/Patient/p1.json", false, t[i].body, &r), -EINVAL,
		       "%s: EINVAL", t[i].what);
		is_str(r.dir, DS_ID "/fhir/Patient", "in Patient/.error");
		has(r.why, "refused before any call", "saying so");
	}
	is_int(fake_requests(w->srv), before, "and no request for any");

	w->opts.fhir_max_bytes = 16;
	struct hlfs_fh *fh = NULL;
	if (hlfs_do_open(&w->fs, STORE "/Patient/p1.json", O_WRONLY | O_TRUNC, false, &fh, &r) ==
	    0) {
		is_int(hlfs_do_write(&w->fs, fh, "{\"resourceType\":", 16, 0, &r), 16,
		       "a write up to fhir_max_bytes");
		is_int(hlfs_do_write(&w->fs, fh, "\"Patient\"}", 10, 16, &r), -EFBIG,
		       "past it: EFBIG");
		has(r.why, "fhir_max_bytes", "naming the option: %s", r.why);
		hlfs_do_release(&w->fs, fh, &r);
	}
	w->opts.fhir_max_bytes = 8L << 20;
	is_int(fake_requests(w->srv), before, "no request");
}

static void test_create_adds_id(struct world *w)
{
	struct hlfs_res r;
	char line[256], hdr[64];
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 201, "Created", NULL,
	     "{\"resourceType\":\"Patient\",\"id\":\"p7\",\"meta\":{\"versionId\":\"1\"}}", 0},
	};
	fake_script(w->srv, script, 1);
	int before = fake_requests(w->srv);
	is_int(write_file(w, STORE "/Patient/p7.json", true,
			  "{\"resourceType\":\"Patient\",\"active\":true}", &r),
	       0, "create p7.json with a body without id");
	is_int(fake_requests(w->srv), before + 1, "one request");
	is_str(req_line(w, before, line, sizeof(line)), "PUT " FHIR_BASE "Patient/p7",
	       "a PUT of Patient/p7");
	is_str(fake_body(w->srv, before),
	       "{\"resourceType\":\"Patient\",\"id\":\"p7\",\"active\":true}",
	       "the id added after resourceType, every other byte the user's");
	ok(!fake_header(w->srv, before, "If-Match", hdr, sizeof(hdr)),
	   "no If-Match without meta.versionId");
}

static void test_scratch(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	struct stat st;
	char line[256], hdr[64];
	static char buf[65536];
	static const char body[] =
	    "{\"resourceType\": \"Patient\", \"id\": \"p9\", \"x\": 1.0e2}\n";
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 201, "Created", NULL,
	     "{\"resourceType\":\"Patient\",\"id\":\"p9\",\"meta\":{\"versionId\":\"1\"},\"x\":1."
	     "0e2}",
	     0},
	};
	fake_script(w->srv, script, 1);
	int before = fake_requests(w->srv);
	const char *tmp = STORE "/Patient/p9.json.tmp";

	is_int(hlfs_do_open(&w->fs, tmp, O_WRONLY | O_CREAT | O_EXCL, true, &fh, &r), 0,
	       "create a scratch file");
	if (!fh)
		return;
	is_int(hlfs_do_write(&w->fs, fh, body, strlen(body), 0, &r), (long long)strlen(body),
	       "write it");
	is_int(hlfs_do_flush(&w->fs, fh, &r), 0, "flush");
	hlfs_do_release(&w->fs, fh, &r);
	is_int(hlfs_do_getattr(&w->fs, tmp, &st, NULL, &r), 0, "stat it");
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600, "a file, 0600");
	is_int((long long)st.st_size, (long long)strlen(body), "of what was written");
	is_int(cat(w, tmp, buf, sizeof(buf), &r), 0, "read it");
	is_str(buf, body, "its bytes");
	is_int(fake_requests(w->srv), before, "a scratch file is never sent");

	is_int(hlfs_do_rename(&w->fs, tmp, STORE "/Patient/p9.json", 0, &r), 0,
	       "rename it onto p9.json");
	is_int(fake_requests(w->srv), before + 1, "one request");
	is_str(req_line(w, before, line, sizeof(line)), "PUT " FHIR_BASE "Patient/p9",
	       "a PUT of Patient/p9");
	is_str(fake_body(w->srv, before), body, "of the scratch file's bytes");
	ok(!fake_header(w->srv, before, "If-Match", hdr, sizeof(hdr)), "no If-Match");
	is_int(hlfs_do_getattr(&w->fs, tmp, &st, NULL, &r), -ENOENT, "the scratch file is gone");
	is_int(cat(w, STORE "/Patient/p9.json", buf, sizeof(buf), &r), 0, "read p9.json");
	has(buf, "\"x\": 1.0e2", "the service's answer");
	is_int(fake_requests(w->srv), before + 1, "no request");

	/* A wrong body stays a scratch file. */
	fh = NULL;
	is_int(hlfs_do_open(&w->fs, tmp, O_WRONLY | O_CREAT, true, &fh, &r), 0, "another one");
	if (fh) {
		is_int(hlfs_do_write(&w->fs, fh, "{\"resourceType\":\"Observation\"}", 30, 0, &r),
		       30, "of another type");
		hlfs_do_release(&w->fs, fh, &r);
	}
	is_int(hlfs_do_rename(&w->fs, tmp, STORE "/Patient/p9.json", 0, &r), -EINVAL,
	       "renamed onto p9.json: EINVAL");
	is_int(hlfs_do_getattr(&w->fs, tmp, &st, NULL, &r), 0, "the scratch file stays");
	is_int(hlfs_do_unlink(&w->fs, tmp, &r), 0, "it is removed without allow_delete");
	is_int(hlfs_do_getattr(&w->fs, tmp, &st, NULL, &r), -ENOENT, "gone");
	is_int(hlfs_do_unlink(&w->fs, STORE "/Patient/p9.json", &r), -EPERM,
	       "a resource is not, without allow_delete");
	has(r.why, "allow_delete", "saying why: %s", r.why);
	is_int(fake_requests(w->srv), before + 1, "none of that asked the service");
}

/* The calls after an operation's lookups share its deadline: a rename
 * whose lookups spent all of it sends nothing (each step used to start a
 * fresh timeout=, so one operation could last twice that). */
static void test_shared_deadline(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	static const char body[] = "{\"resourceType\": \"Patient\", \"id\": \"p8\"}\n";
	const char *tmp = STORE "/Patient/p8.tmp", *dst = STORE "/Patient/p8.json";
	is_int(hlfs_do_open(&w->fs, tmp, O_WRONLY | O_CREAT, true, &fh, &r), 0, "a scratch file");
	if (!fh)
		return;
	is_int(hlfs_do_write(&w->fs, fh, body, strlen(body), 0, &r), (long long)strlen(body),
	       "written");
	hlfs_do_release(&w->fs, fh, &r);
	int before = fake_requests(w->srv);
	struct hlfs_treenode a, b;
	int64_t spent = hl_now_ms() - 1;
	is_int(hlfs_resolve(&w->fs, tmp, spent, &a, &r), 0, "its lookup, from the cache");
	is_int(hlfs_resolve(&w->fs, dst, spent, &b, &r), 0, "the target's");
	is_int(hlfs_fhir_rename(&w->fs, &a, &b, &r), -ETIMEDOUT,
	       "renamed with the operation's deadline gone: ETIMEDOUT");
	is_int(fake_requests(w->srv), before, "and no PUT sent");
	hlfs_node_fini(&a);
	hlfs_node_fini(&b);
	is_int(hlfs_do_unlink(&w->fs, tmp, &r), 0, "the scratch file stays, and goes");
}

/* What editors do around a resource: a backup by rename, mode and owner
 * copied, times set. */
static void test_editor_moves(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	static char buf[65536], orig[65536];
	int before = fake_requests(w->srv);
	const char *p9 = STORE "/Patient/p9.json", *bak = STORE "/Patient/p9.json~";

	is_int(cat(w, p9, orig, sizeof(orig), &r), 0, "read p9.json (cached)");
	is_int(hlfs_do_rename(&w->fs, p9, bak, 0, &r), 0, "rename p9.json to p9.json~");
	is_int(cat(w, bak, buf, sizeof(buf), &r), 0, "read the backup");
	is_str(buf, orig, "a copy of the resource");
	is_int(hlfs_do_getattr(&w->fs, p9, &st, NULL, &r), 0, "the resource stays");
	is_int(hlfs_do_unlink(&w->fs, bak, &r), 0, "remove the backup");

	is_int(hlfs_do_setattr(&w->fs, p9, "chmod", 0600, (uid_t)-1, (gid_t)-1, &r), 0,
	       "chmod to the mode it shows");
	is_int(hlfs_do_setattr(&w->fs, p9, "chmod", 0644, (uid_t)-1, (gid_t)-1, &r), -EPERM,
	       "another mode: EPERM");
	is_int(hlfs_do_setattr(&w->fs, p9, "chown", 0, getuid(), getgid(), &r), 0,
	       "chown to its owner");
	is_int(hlfs_do_setattr(&w->fs, p9, "chown", 0, getuid() + 1, (gid_t)-1, &r), -EPERM,
	       "to another: EPERM");
	is_int(hlfs_do_setattr(&w->fs, p9, "utimens", 0, (uid_t)-1, (gid_t)-1, &r), 0,
	       "setting times succeeds");
	is_int(hlfs_do_rename(&w->fs, p9, STORE "/Patient/p10.json", 0, &r), -EPERM,
	       "a resource renamed onto another: EPERM");
	is_int(hlfs_do_rename(&w->fs, p9, STORE "/Observation/x.tmp", 0, &r), -EPERM,
	       "into another type: EPERM");
	is_int(fake_requests(w->srv), before, "none of it asked the service");
}

/* A write drops the type's listing; with allow_delete, unlink is DELETE,
 * and the resource is gone from the cache. */
static void test_write_then_delete(struct world *w)
{
	struct hlfs_res r;
	struct listing l;
	struct stat st;
	char line[256];
	char *page = fhir_page(w, "Encounter", "_count=100", "e", 0, 2, "", 0);
	char *again = fhir_page(w, "Encounter", "_count=100", "e", 0, 3, "", 0);
	const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, page, 0},
	    {FAKE_ANSWER, 201, "Created", NULL, "{\"resourceType\":\"Encounter\",\"id\":\"e2\"}",
	     0},
	    {FAKE_ANSWER, 200, "OK", NULL, again, 0},
	    {FAKE_ANSWER, 204, "No Content", NULL, NULL, 0},
	    ANSWER_404,
	};
	fake_script(w->srv, script, 5);
	int before = fake_requests(w->srv);
	const char *dir = STORE "/Encounter", *e1 = STORE "/Encounter/e1.json";

	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list Encounter/");
	is_int((long long)l.n, 5, "two resources");
	is_int(
	    write_file(w, STORE "/Encounter/e2.json", true, "{\"resourceType\":\"Encounter\"}", &r),
	    0, "create e2.json");
	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list it again");
	is_int((long long)l.n, 6, "three: the listing was dropped by the write");
	is_int(fake_requests(w->srv), before + 3, "a page, the PUT, a page");

	is_int(hlfs_do_unlink(&w->fs, e1, &r), -EPERM, "rm without allow_delete: EPERM");
	is_int(fake_requests(w->srv), before + 3, "no request");
	w->opts.allow_delete = 1;
	is_int(hlfs_do_unlink(&w->fs, e1, &r), 0, "with allow_delete");
	is_int(fake_requests(w->srv), before + 4, "one request");
	is_str(req_line(w, before + 3, line, sizeof(line)), "DELETE " FHIR_BASE "Encounter/e1",
	       "a DELETE of Encounter/e1");
	is_int(hlfs_do_getattr(&w->fs, e1, &st, NULL, &r), -ENOENT, "then it is gone");
	is_int(fake_requests(w->srv), before + 5, "asked once: the cached copy was dropped");
	is_int(hlfs_do_unlink(&w->fs, STORE "/Encounter?_id=e2/e2.json", &r), -EPERM,
	       "a search's copy is never deleted");
	w->opts.allow_delete = 0;
	is_int(fake_requests(w->srv), before + 5, "no request");
	free(page);
	free(again);
}

/* A read-only mount refuses every change with EROFS and no call. */
static void test_ro(struct fake_srv *srv)
{
	struct world ro;
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	static const struct fake_resp script[] = {ANSWER_STORES, ANSWER_CAPS};
	if (!ok(world_up(&ro, srv, true), "an ro mount"))
		return;
	fake_script(srv, script, 2);
	struct stat st;
	is_int(hlfs_do_getattr(&ro.fs, STORE "/Patient", &st, NULL, &r), 0,
	       "stat Patient/ (the store listing and the capabilities)");
	int before = fake_requests(srv);
	is_int(hlfs_do_open(&ro.fs, STORE "/Patient/p1.json", O_WRONLY | O_TRUNC, false, &fh, &r),
	       -EROFS, "open a resource for writing: EROFS");
	ok(fh == NULL, "no handle");
	is_int(hlfs_do_open(&ro.fs, STORE "/Patient/x.tmp", O_WRONLY | O_CREAT, true, &fh, &r),
	       -EROFS, "create a scratch file: EROFS");
	is_int(hlfs_do_unlink(&ro.fs, STORE "/Patient/p1.json", &r), -EROFS, "unlink: EROFS");
	is_int(hlfs_do_rename(&ro.fs, STORE "/Patient/a.tmp", STORE "/Patient/p1.json", 0, &r),
	       -EROFS, "rename: EROFS");
	is_int(fake_requests(srv), before, "no request for any");
	world_down(&ro);
}

int main(void)
{
	static struct fake_srv srv;
	struct world w;
	if (!fhir_world_up(&srv, &w))
		return done_testing();
	test_all_ndjson(&w);
	test_everything(&w);
	test_put(&w);
	test_conflict(&w);
	test_refused_bodies(&w);
	test_create_adds_id(&w);
	test_scratch(&w);
	test_shared_deadline(&w);
	test_editor_moves(&w);
	test_write_then_delete(&w);
	world_down(&w);
	test_ro(&srv);
	test_paused_reader(&srv);
	fake_stop(&srv);
	return done_testing();
}
