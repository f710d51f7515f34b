/* fs/fhirtree.c through the seam: the nodes of <store>/fhir/ (stat and read)
 * and its listings against a scripted FHIR server, with what each costs in
 * requests: fhir/ from the CapabilityStatement, a type listed page by page
 * as the kernel's offsets ask, EOVERFLOW at fhir_list_max, resources read
 * once and kept, a 404 as a lookup's ENOENT, a search directory's matches. */
#include <errno.h>
#include <string.h>

#include "errfile.h"
#include "fhirseam.h"
#include "tree.h"

#define STORE "/clinic/fhir"

static void test_fhir_dir(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	struct listing l;
	char op[80], line[256];
	static char buf[65536];
	static const struct fake_resp script[] = {ANSWER_STORES, ANSWER_CAPS};
	fake_script(w->srv, script, 2);
	int before = fake_requests(w->srv);

	is_int(hlfs_do_getattr(&w->fs, STORE, &st, NULL, &r), 0, "stat fhir/");
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "a directory, owner-only");
	is_int(fake_requests(w->srv), before + 1, "one request: the store listing");
	is_str(op_of(w, before, op, sizeof(op)), "ListFHIRDatastores", "which is a List");

	is_int(list_at(w, STORE, 0, LIST_MAX, &l, &r), 0, "list fhir/");
	is_int(fake_requests(w->srv), before + 2, "one more: the CapabilityStatement");
	is_str(req_line(w, before + 1, line, sizeof(line)), "GET " FHIR_BASE "metadata",
	       "GET metadata");
	static const char *const want[] = {
	    ".", "..", ".error", "metadata.json", "Encounter", "Observation", "Patient",
	};
	is_int((long long)l.n, 7, "the fixed entries and the server's R4 types");
	for (size_t i = 0; i < l.n && i < 7; i++)
		is_str(l.name[i], want[i], "entry %zu, types sorted", i);
	ok(l.type[3] == S_IFREG && l.type[4] == S_IFDIR,
	   "metadata.json a file, a type a directory");

	is_int(list_at(w, STORE, 0, LIST_MAX, &l, &r), 0, "list it again");
	is_int((long long)l.n, 7, "the same entries");
	is_int(fake_requests(w->srv), before + 2, "the CapabilityStatement is kept: no request");

	is_int(hlfs_do_getattr(&w->fs, STORE "/Patient", &st, NULL, &r), 0, "stat Patient/");
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "a directory");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Account", &st, NULL, &r), -ENOENT,
	       "an R4 type the server does not offer");
	is_str(r.dir, "", "is a lookup's ENOENT, recorded nowhere");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Zzzfoo", &st, NULL, &r), -ENOENT,
	       "a server type that is no R4 type is not a directory");
	is_int(fake_requests(w->srv), before + 2, "no request for any of them");

	is_int(hlfs_do_getattr(&w->fs, STORE "/metadata.json", &st, NULL, &r), 0,
	       "stat metadata.json");
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0400, "a read-only file");
	is_int(cat(w, STORE "/metadata.json", buf, sizeof(buf), &r), 0, "read it");
	ok(!strncmp(buf, "{\n  \"resourceType\": \"CapabilityStatement\",\n", 43),
	   "the CapabilityStatement, pretty");
	is_int((long long)strlen(buf), (long long)st.st_size, "as long as stat says");
	is_int(fake_requests(w->srv), before + 2, "still no request");

	is_int(list_at(w, STORE "/metadata.json", 0, LIST_MAX, &l, &r), -ENOTDIR,
	       "a file is not listed");
}

/* 250 Observations, 100 a page. */
static void test_type_paging(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	struct listing l;
	char line[256];
	static char buf[65536];
	char *p0 = fhir_page(w, "Observation", "_count=100", "o", 0, 100, "", 1);
	char *p1 = fhir_page(w, "Observation", "_count=100", "o", 100, 100, "", 2);
	char *p2 = fhir_page(w, "Observation", "_count=100", "o", 200, 50, "", 0);
	const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p1, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p2, 0},
	};
	fake_script(w->srv, script, 3);
	int before = fake_requests(w->srv);
	const char *dir = STORE "/Observation";

	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list Observation/ from 0");
	is_int(fake_requests(w->srv), before + 1, "one page asked for");
	is_str(req_line(w, before, line, sizeof(line)), "GET " FHIR_BASE "Observation?_count=100",
	       "a search of the type, 100 a page");
	is_int((long long)l.n, 103, "., .., .error and page 0's 100 entries only");
	is_str(l.name[2], ".error", ".error third");
	ok(l.off[0] == 1 && l.off[1] == 2 && l.off[2] == 3, "offsets 1, 2, 3");
	is_str(l.name[3], "o0.json", "page 0's first");
	is_str(l.name[102], "o99.json", "page 0's last");
	is_int((long long)l.off[3], (long long)page_off(0, 0), "entry 0's offset");
	is_int((long long)l.off[102], (long long)page_off(0, 99), "entry 99's offset");
	ok(l.type[3] == S_IFREG && l.perm[3] == 0600, "a resource is a file, writable");

	is_int(list_at(w, dir, page_off(0, 99), LIST_MAX, &l, &r), 0,
	       "go on from page 0's last offset");
	is_int(fake_requests(w->srv), before + 2, "the next page asked for");
	is_str(req_line(w, before + 1, line, sizeof(line)),
	       "GET " FHIR_BASE "Observation?_count=100&page=1", "by page 0's next link");
	is_int((long long)l.n, 100, "page 1's entries");
	ok(l.n == 100 && !strcmp(l.name[0], "o100.json") && !strcmp(l.name[99], "o199.json"),
	   "o100 .. o199");
	is_int((long long)l.off[99], (long long)page_off(1, 99), "with page 1's offsets");

	is_int(list_at(w, dir, page_off(1, 99), LIST_MAX, &l, &r), 0, "and on");
	is_int(fake_requests(w->srv), before + 3, "page 2 asked for");
	is_int((long long)l.n, 50, "its 50 entries");
	is_str(l.n ? l.name[49] : "", "o249.json", "to o249");
	is_int(list_at(w, dir, page_off(2, 49), LIST_MAX, &l, &r), 0, "from the very end");
	is_int((long long)l.n, 0, "nothing more");
	is_int(fake_requests(w->srv), before + 3, "and no request: page 2 had no next link");

	is_int(list_at(w, dir, 0, 10, &l, &r), 0, "a reader with room for 10 entries");
	is_int((long long)l.n, 10, "gets 10");
	is_str(l.name[9], "o6.json", "up to o6");
	is_int(list_at(w, dir, page_off(0, 49), LIST_MAX, &l, &r), 0, "from the middle of page 0");
	is_str(l.n ? l.name[0] : "", "o50.json", "goes on with the next entry");
	is_int((long long)l.n, 50, "to page 0's end");
	is_int(fake_requests(w->srv), before + 3, "pages are kept for list_ttl: no request");

	/* The listing filled the cache: stat and read cost nothing. */
	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation/o5.json", &st, NULL, &r), 0,
	       "stat a listed resource");
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600, "a writable file");
	is_int((long long)st.st_mtim.tv_sec, FHIR_T, "its time is meta.lastUpdated");
	is_int(cat(w, STORE "/Observation/o205.json", buf, sizeof(buf), &r), 0,
	       "read a resource listed on page 2");
	has(buf, "  \"id\": \"o205\",\n", "its pretty bytes");
	has(buf, "\"value\": 120.50\n", "the decimal as the service wrote it");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation/o205.json", &st, NULL, &r), 0,
	       "stat it");
	is_int((long long)st.st_size, (long long)strlen(buf), "its size is its bytes'");
	is_int(fake_requests(w->srv), before + 3, "neither stat nor read asked the service");
	free(p0);
	free(p1);
	free(p2);
}

/* fhir_list_max 150: the second page's 51st entry is one too many. */
static void test_list_max(struct world *w)
{
	struct hlfs_res r;
	struct listing l;
	static char buf[4096];
	char *p0 = fhir_page(w, "Encounter", "_count=100", "e", 0, 100, "", 1);
	char *p1 = fhir_page(w, "Encounter", "_count=100", "e", 100, 100, "", 2);
	const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p1, 0},
	};
	fake_script(w->srv, script, 2);
	w->opts.fhir_list_max = 150;
	int before = fake_requests(w->srv);
	const char *dir = STORE "/Encounter";

	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list Encounter/");
	is_int((long long)l.n, 103, "page 0 whole");
	is_int(list_at(w, dir, page_off(0, 99), LIST_MAX, &l, &r), 0, "go on");
	is_int((long long)l.n, 50, "page 1 up to fhir_list_max");
	is_str(l.n ? l.name[49] : "", "e149.json", "the 150th resource last");
	is_int(fake_requests(w->srv), before + 2, "two pages");
	is_int(list_at(w, dir, page_off(1, 49), LIST_MAX, &l, &r), -EOVERFLOW,
	       "going on past fhir_list_max");
	is_int((long long)l.n, 0, "gives nothing");
	is_str(r.dir, DS_ID "/fhir/Encounter", "the reason goes to Encounter/.error");
	has(r.why, "fhir_list_max", "naming the option: %s", r.why);
	has(r.why, "(150)", "and its value");
	hlfs_record(&w->fs, &r);
	is_int(fake_requests(w->srv), before + 2, "no request for it");
	is_int(cat(w, STORE "/Encounter/.error", buf, sizeof(buf), &r), 0, "read Encounter/.error");
	has(buf, "more resources than fhir_list_max", "the reason is there");
	ok(buf[0] && buf[strlen(buf) - 1] == '\n' && !strchr(buf, '\n')[1], "one line: %s", buf);
	w->opts.fhir_list_max = 10000;
	free(p0);
	free(p1);
}

#define P1                                                                           \
	"{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\"," \
	"\"lastUpdated\":\"" FHIR_T_TEXT "\"},\"w\":[120.50,1.0e2],\"name\":\"Ren\\u00e9e\"}"
#define P1_PRETTY                                                                     \
	"{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\",\n  \"meta\": {\n"     \
	"    \"versionId\": \"2\",\n    \"lastUpdated\": \"" FHIR_T_TEXT "\"\n  },\n" \
	"  \"w\": [\n    120.50,\n    1.0e2\n  ],\n  \"name\": \"Ren\\u00e9e\"\n}\n"

static void test_resource(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	char line[256];
	static char buf[65536];
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", "ETag: W/\"2\"\r\n", P1, 0},
	    ANSWER_404,
	    {FAKE_ANSWER, 500, "Internal Server Error", NULL, OUTCOME("exception", "disk on fire"),
	     0},
	};
	fake_script(w->srv, script, 3);
	int before = fake_requests(w->srv);

	is_int(cat(w, STORE "/Patient/p1.json", buf, sizeof(buf), &r), 0, "read Patient/p1.json");
	is_int(fake_requests(w->srv), before + 1, "one read");
	is_str(req_line(w, before, line, sizeof(line)), "GET " FHIR_BASE "Patient/p1",
	       "of Patient/p1");
	is_str(buf, P1_PRETTY, "pretty, lexemes and escapes as the service sent them");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Patient/p1.json", &st, NULL, &r), 0, "stat it");
	is_int((long long)st.st_size, (long long)strlen(P1_PRETTY), "its exact size");
	is_int((long long)st.st_mtim.tv_sec, FHIR_T, "its time");
	is_int(cat(w, STORE "/Patient/p1.json", buf, sizeof(buf), &r), 0, "read it again");
	is_int(fake_requests(w->srv), before + 1, "within attr_ttl: no request");

	is_int(hlfs_do_getattr(&w->fs, STORE "/Patient/gone.json", &st, NULL, &r), -ENOENT,
	       "a resource the service does not have");
	is_str(r.dir, "", "a lookup's answer, recorded nowhere");
	is_int(fake_requests(w->srv), before + 2, "one read");
	is_str(req_line(w, before + 1, line, sizeof(line)), "GET " FHIR_BASE "Patient/gone",
	       "of Patient/gone");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Patient/gone.json", &st, NULL, &r), -ENOENT,
	       "asked again");
	is_int(fake_requests(w->srv), before + 2, "its absence is kept for attr_ttl");

	is_int(cat(w, STORE "/Patient/p3.json", buf, sizeof(buf), &r), -EIO, "a 500 is EIO");
	is_str(r.dir, DS_ID "/fhir/Patient", "recorded in Patient/.error");
	has(r.why, "disk on fire", "quoting the diagnostics: %s", r.why);
	ok(!strstr(r.log, "fire") && !strstr(r.log, "p3"), "the log line has neither: %s", r.log);
	is_int(fake_requests(w->srv), before + 3, "one read (max_attempts 1)");
}

/* 'Observation?code=8480-6': page 0 has o1, o2 and an include, page 1 o3. */
static void test_search_dir(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	struct listing l;
	char line[256];
	static char buf[65536];
	static const char include[] = "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"},"
				      "\"search\":{\"mode\":\"include\"}},";
	char *p0 = fhir_page(w, "Observation", "code=8480-6&_count=100", "o", 1, 2, include, 1);
	char *p1 = fhir_page(w, "Observation", "code=8480-6&_count=100", "o", 3, 1, "", 0);
	const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p1, 0},
	};
	fake_script(w->srv, script, 2);
	int before = fake_requests(w->srv);
	const char *dir = STORE "/Observation?code=8480-6";

	is_int(hlfs_do_getattr(&w->fs, dir, &st, NULL, &r), 0, "stat a search directory");
	ok(S_ISDIR(st.st_mode), "a directory");
	is_int(fake_requests(w->srv), before, "that costs no search");

	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation?code=8480-6/o2.json", &st, NULL, &r), 0,
	       "stat a match");
	is_int(fake_requests(w->srv), before + 1, "one page of the search");
	is_str(req_line(w, before, line, sizeof(line)),
	       "GET " FHIR_BASE "Observation?code=8480-6&_count=100",
	       "the query and the page size");
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0400, "a search's copy is read-only");
	is_int((long long)st.st_mtim.tv_sec, FHIR_T, "its time");
	size_t size = (size_t)st.st_size;
	is_int(cat(w, STORE "/Observation?code=8480-6/o2.json", buf, sizeof(buf), &r), 0,
	       "read it");
	is_int((long long)strlen(buf), (long long)size, "as many bytes as stat said");
	ok(!strncmp(buf, "{\n  \"resourceType\": \"Observation\",\n  \"id\": \"o2\",\n", 49),
	   "the match, pretty");
	has(buf, "\"value\": 120.50\n", "its decimal intact");
	is_int(fake_requests(w->srv), before + 1, "from the kept page");

	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation?code=8480-6/o3.json", &st, NULL, &r), 0,
	       "a match on page 1");
	is_int(fake_requests(w->srv), before + 2, "costs page 1");
	is_str(req_line(w, before + 1, line, sizeof(line)),
	       "GET " FHIR_BASE "Observation?code=8480-6&_count=100&page=1", "by the next link");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation?code=8480-6/p1.json", &st, NULL, &r),
	       -ENOENT, "an include is no match");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation?code=8480-6/o9.json", &st, NULL, &r),
	       -ENOENT, "nor is what no page has");
	is_int(fake_requests(w->srv), before + 2, "looked for in the kept pages");

	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list the search directory");
	is_int((long long)l.n, 5, "., .., all.ndjson and page 0's two matches");
	ok(l.n == 5 && !strcmp(l.name[2], "all.ndjson") && !strcmp(l.name[3], "o1.json") &&
	       !strcmp(l.name[4], "o2.json"),
	   "all.ndjson in the place of .error, then o1, o2");
	ok(l.n == 5 && l.perm[3] == 0400 && l.perm[4] == 0400,
	   "the matches listed read-only, as stat shows them");
	is_int(list_at(w, dir, page_off(0, 2), LIST_MAX, &l, &r), 0, "go on");
	ok(l.n == 1 && !strcmp(l.name[0], "o3.json"), "page 1's match");
	is_int(fake_requests(w->srv), before + 2, "no request");

	is_int(hlfs_do_getattr(&w->fs, STORE "/Observation?code=bad%zz", &st, NULL, &r), -EINVAL,
	       "a query that does not decode");
	is_str(r.dir, DS_ID "/fhir/Observation", "its reason in Observation/.error");
	is_int(fake_requests(w->srv), before + 2, "refused before any call");
	free(p0);
	free(p1);
}

/* Patient/p1.history/: versions 3 and 2 on one page; 1 read by vread. */
static void test_history(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	struct listing l;
	char line[256];
	static char buf[65536];
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":["
	     "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":"
	     "\"3\",\"lastUpdated\":\"" FHIR_T_TEXT "\"},\"w\":3.10}},"
	     "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}},"
	     "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":"
	     "\"2\"},\"w\":2.0}}]}",
	     0},
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"},"
	     "\"w\":1.00}",
	     0},
	};
	fake_script(w->srv, script, 2);
	int before = fake_requests(w->srv);
	const char *dir = STORE "/Patient/p1.history";

	is_int(hlfs_do_getattr(&w->fs, dir, &st, NULL, &r), 0, "stat a history directory");
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "a directory");
	is_int(fake_requests(w->srv), before + 1, "its first page says the history is there");
	is_int(list_at(w, dir, 0, LIST_MAX, &l, &r), 0, "list it");
	is_int(fake_requests(w->srv), before + 1, "from the cached page");
	is_str(req_line(w, before, line, sizeof(line)),
	       "GET " FHIR_BASE "Patient/p1/_history?_count=100", "of the resource's history");
	ok(l.n == 4 && !strcmp(l.name[2], "3.json") && !strcmp(l.name[3], "2.json"),
	   "., .., then a file per version, by versionId (%zu entries)", l.n);
	is_int(cat(w, STORE "/Patient/p1.history/2.json", buf, sizeof(buf), &r), 0,
	       "read version 2");
	has(buf, "\"w\": 2.0\n", "its bytes");
	is_int(hlfs_do_getattr(&w->fs, STORE "/Patient/p1.history/3.json", &st, NULL, &r), 0,
	       "stat version 3");
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0400, "read-only");
	is_int((long long)st.st_mtim.tv_sec, FHIR_T, "its time");
	is_int(fake_requests(w->srv), before + 1, "the page filled the cache");
	is_int(cat(w, STORE "/Patient/p1.history/1.json", buf, sizeof(buf), &r), 0,
	       "read a version the page did not have");
	is_int(fake_requests(w->srv), before + 2, "one vread");
	is_str(req_line(w, before + 1, line, sizeof(line)),
	       "GET " FHIR_BASE "Patient/p1/_history/1", "of Patient/p1/_history/1");
	has(buf, "\"w\": 1.00\n", "its bytes");
	is_int(cat(w, STORE "/Patient/p1.history/1.json", buf, sizeof(buf), &r), 0, "again");
	is_int(fake_requests(w->srv), before + 2, "a version never changes: no request");
}

/* Pages the mount must not use: a next link to another host, a next link
 * to itself, a Bundle that is none, a failing next page; and a type with
 * no resources. */
static void test_bad_pages(struct world *w)
{
	struct hlfs_res r;
	struct listing l;
	char line[256];
	static char loop[1024];
	static const char foreign[] =
	    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":"
	    "\"next\",\"url\":\"http://evil.example:9" FHIR_BASE "Patient?name=f&page=1\"}],"
	    "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"x0\"}}]}";
	snprintf(loop, sizeof(loop),
		 "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":"
		 "\"next\",\"url\":\"http://127.0.0.1:%d" FHIR_BASE "Patient?name=l&_count=100\"}],"
		 "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"x0\"}}]}",
		 w->srv->port);
	char *p0 = fhir_page(w, "Patient", "name=e&_count=100", "x", 0, 2, "", 1);
	const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, foreign, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, loop, 0},
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":[1]}]}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, p0, 0},
	    {FAKE_ANSWER, 500, "Internal Server Error", NULL, OUTCOME("exception", "page lost"), 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}",
	     0},
	};
	fake_script(w->srv, script, 6);
	int before = fake_requests(w->srv);

	is_int(list_at(w, STORE "/Patient?name=f", 0, LIST_MAX, &l, &r), 0, "list a search");
	is_int((long long)l.n, 4, "page 0: ., .., all.ndjson, x0.json");
	is_int(list_at(w, STORE "/Patient?name=f", page_off(0, 0), LIST_MAX, &l, &r), -EIO,
	       "its next link leads to another host: EIO");
	is_str(r.dir, DS_ID "/fhir/Patient", "in Patient/.error");
	has(r.why, "another host", "saying so: %s", r.why);
	ok(!strstr(r.why, "evil") && !strstr(r.log, "evil"), "without the link");
	is_int(fake_requests(w->srv), before + 1, "and not followed");

	is_int(list_at(w, STORE "/Patient?name=l", 0, LIST_MAX, &l, &r), 0, "another search");
	is_int(list_at(w, STORE "/Patient?name=l", page_off(0, 0), LIST_MAX, &l, &r), -EIO,
	       "whose next link is its own URL: EIO");
	has(r.why, "not a usable Bundle", "a bad Bundle: %s", r.why);
	is_int(fake_requests(w->srv), before + 2, "not followed");

	is_int(list_at(w, STORE "/Patient?name=b", 0, LIST_MAX, &l, &r), -EIO,
	       "an answer that is no Bundle: EIO");
	has(r.why, "not a usable Bundle", "saying so: %s", r.why);
	is_int(fake_requests(w->srv), before + 3, "one request");

	is_int(list_at(w, STORE "/Patient?name=e", 0, LIST_MAX, &l, &r), 0, "a search");
	is_int(list_at(w, STORE "/Patient?name=e", page_off(0, 1), LIST_MAX, &l, &r), -EIO,
	       "whose page 1 fails with a 500: EIO");
	has(r.why, "page lost", "quoting the diagnostics: %s", r.why);
	is_int(fake_requests(w->srv), before + 5, "two requests");
	is_str(req_line(w, before + 4, line, sizeof(line)),
	       "GET " FHIR_BASE "Patient?name=e&_count=100&page=1", "page 1's");

	is_int(list_at(w, STORE "/Patient", 0, LIST_MAX, &l, &r), 0, "list a type with nothing");
	ok(l.n == 3 && !strcmp(l.name[2], ".error"), "., .. and .error only");
	is_int(fake_requests(w->srv), before + 6, "one request");
	free(p0);
}

/* fhir/ is there while the store is ACTIVE: no call otherwise. */
static void test_not_active(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_res r;
	struct stat st;
	static char list[2048];
	const char *props = PROPS, *at = strstr(props, "\"ACTIVE\"");
	snprintf(list, sizeof(list), "{\"DatastorePropertiesList\":[%.*s\"CREATING\"%s]}",
		 (int)(at - props), props, at + 8);
	const struct fake_resp script[] = {{FAKE_ANSWER, 200, "OK", NULL, list, 0}};
	if (!ok(world_up(&w, srv, false), "a mount of a store being created"))
		return;
	fake_script(srv, script, 1);
	int before = fake_requests(srv);
	is_int(hlfs_do_getattr(&w.fs, STORE "/Patient", &st, NULL, &r), -ENOENT,
	       "fhir/Patient of a CREATING store: ENOENT");
	is_int(hlfs_do_getattr(&w.fs, STORE, &st, NULL, &r), -ENOENT, "fhir/ too");
	is_int(fake_requests(srv), before + 1, "the store listing only");
	world_down(&w);
}

int main(void)
{
	static struct fake_srv srv;
	struct world w;
	if (!fhir_world_up(&srv, &w))
		return done_testing();
	test_fhir_dir(&w);
	test_type_paging(&w);
	test_list_max(&w);
	test_resource(&w);
	test_search_dir(&w);
	test_history(&w);
	test_bad_pages(&w);
	world_down(&w);
	test_not_active(&srv);
	fake_stop(&srv);
	return done_testing();
}
