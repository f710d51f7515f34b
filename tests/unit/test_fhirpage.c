/* fs/fhirpage.c: resource files printed from the service's bytes (lexemes
 * intact), the CapabilityStatement's types, and one Bundle page's entries,
 * lines and files. Inputs sit right before an unreadable page. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bundle.h"
#include "fhirpage.h"
#include "guard.h"
#include "tap.h"

/* 2026-12-01T10:00:00Z */
#define T0 1796119200.0

/* hlfs_fres_new (fr) or hlfs_fcap_new (fc) of s, placed before a guard page. */
static int guarded_new(const char *s, struct hlfs_fres **fr, struct hlfs_fcap **fc)
{
	struct guarded g = guard(s, strlen(s));
	int rc = fr ? hlfs_fres_new(g.p, strlen(s), fr) : hlfs_fcap_new(g.p, strlen(s), fc);
	unguard(&g);
	return rc;
}
#define fres(s, ret) guarded_new((s), (ret), NULL)
#define fcap(s, ret) guarded_new((s), NULL, (ret))

static void test_fres_pretty(void)
{
	/* Members out of alphabetical order, decimals and exponents as
	 * written, escapes kept, empty containers, blanks around tokens. */
	static const char in[] =
	    " {\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\","
	    "\"lastUpdated\":\"2026-12-01T10:00:00.000Z\"},\"zeta\" : {\"value\":120.50,"
	    "\"unit\":\"mm[Hg]\"},\"alpha\":1.0e2,\"big\":1e400,\"n\":\"caf\\u00e9 \\\"q\\\"\\n\","
	    "\"e\":[],\"o\":{},\"a\":[1,true,null,-0.0]}\n";
	static const char want[] = "{\n"
				   "  \"resourceType\": \"Observation\",\n"
				   "  \"id\": \"o1\",\n"
				   "  \"meta\": {\n"
				   "    \"versionId\": \"3\",\n"
				   "    \"lastUpdated\": \"2026-12-01T10:00:00.000Z\"\n"
				   "  },\n"
				   "  \"zeta\": {\n"
				   "    \"value\": 120.50,\n"
				   "    \"unit\": \"mm[Hg]\"\n"
				   "  },\n"
				   "  \"alpha\": 1.0e2,\n"
				   "  \"big\": 1e400,\n"
				   "  \"n\": \"caf\\u00e9 \\\"q\\\"\\n\",\n"
				   "  \"e\": [],\n"
				   "  \"o\": {},\n"
				   "  \"a\": [\n"
				   "    1,\n"
				   "    true,\n"
				   "    null,\n"
				   "    -0.0\n"
				   "  ]\n"
				   "}\n";
	struct hlfs_fres *r = NULL;
	is_int(fres(in, &r), 0, "a resource becomes a file");
	if (!r)
		return;
	is_int((long long)r->len, (long long)strlen(want), "its length is the pretty text's");
	ok(r->bytes[r->len] == '\0', "NUL-terminated past its length");
	is_str(r->bytes, want, "pretty, members in input order, every token byte for byte");
	is_str(r->vid, "3", "meta.versionId");
	ok(r->mtime == T0, "meta.lastUpdated as its time (%.3f)", r->mtime);
	ok(r->cost > r->len + sizeof(*r), "its cost counts the struct and the bytes (%zu)",
	   r->cost);
	hlfs_fres_free(r);
}

static void test_fres_meta(void)
{
	struct hlfs_fres *r = NULL;
	is_int(fres("{\"resourceType\":\"Patient\",\"id\":\"p1\"}", &r), 0, "no meta");
	if (r) {
		is_str(r->vid, "", "no versionId: empty");
		ok(r->mtime < 0, "no lastUpdated: no time");
		is_str(r->bytes, "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\"\n}\n",
		       "its bytes");
	}
	hlfs_fres_free(r);

	r = NULL;
	is_int(fres("{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"a b\","
		    "\"lastUpdated\":\"2026-12-01T12:00:00.500+02:00\"}}",
		    &r),
	       0, "a versionId that is no id, an instant with an offset");
	if (r) {
		is_str(r->vid, "", "a versionId that is no FHIR id is not kept");
		ok(r->mtime == T0 + 0.5, "the offset is applied (%.3f)", r->mtime);
	}
	hlfs_fres_free(r);

	r = NULL;
	is_int(fres("{\"meta\":{\"versionId\":7,\"lastUpdated\":\"yesterday\"}}", &r), 0,
	       "meta members of the wrong kind");
	if (r) {
		is_str(r->vid, "", "a number versionId: none");
		ok(r->mtime < 0, "an unparsable lastUpdated: no time");
	}
	hlfs_fres_free(r);

	r = NULL;
	is_int(fres("{}", &r), 0, "an empty object is a resource file too");
	if (r)
		is_str(r->bytes, "{}\n", "{} and a newline");
	hlfs_fres_free(r);
	hlfs_fres_free(NULL); /* NULL-safe */
}

static void test_fres_refused(void)
{
	static const char *const bad[] = {
	    "[{\"resourceType\":\"Patient\"}]",
	    "\"Patient\"",
	    "42",
	    "null",
	    "",
	    "{\"a\":1",
	    "{\"a\":1}x",
	    "{\"a\":01}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hlfs_fres *r = (struct hlfs_fres *)&r; /* must be reset */
		is_int(fres(bad[i], &r), -EIO, "not a JSON object: -EIO (%zu)", i);
		ok(r == NULL, "and no result");
	}
}

/* {"a":[[...[0,0,...]...]]}: depth arrays, the innermost with zeros 0s. */
static void deep_doc(struct hl_buf *b, size_t depth, size_t zeros)
{
	bool failed = false;
	hl_buf_reset(b);
	failed |= hl_buf_appends(b, "{\"a\":") != HL_ERR_OK;
	for (size_t i = 0; i < depth; i++)
		failed |= hl_buf_appendc(b, '[') != HL_ERR_OK;
	for (size_t i = 0; i < zeros; i++)
		failed |= hl_buf_appends(b, i ? ",0" : "0") != HL_ERR_OK;
	for (size_t i = 0; i < depth; i++)
		failed |= hl_buf_appendc(b, ']') != HL_ERR_OK;
	if (failed || hl_buf_appendc(b, '}') != HL_ERR_OK)
		abort();
}

static void test_fres_deep(void)
{
	struct hl_buf in;
	struct hlfs_fres *r = NULL;
	/* The deepest nesting JSON allows: an object holding 511 arrays. */
	hl_buf_init(&in, 0);
	deep_doc(&in, 511, 0);
	is_int(hlfs_fres_new(in.data, in.len, &r), 0, "512 levels deep");
	if (r) {
		/* "{", "  \"a\": [", then lines 2 spaces deeper each, the innermost
		 * array empty, closers back out, "}". */
		size_t want = 2 + 9; /* "{\n" and "  \"a\": [\n" */
		for (size_t lvl = 2; lvl < 511; lvl++)
			want += 2 * lvl + 2; /* "[\n" opening, indented */
		want += 2 * 511 + 3;	     /* the innermost "[]\n" */
		for (size_t lvl = 2; lvl < 511; lvl++)
			want += 2 * lvl + 2; /* "]\n" closing */
		want += 2 + 2 + 2;	     /* "  ]\n", "}\n" */
		is_int((long long)r->len, (long long)want, "every level indented two more");
		ok(r->len > 2 && !memcmp(r->bytes + r->len - 6, "  ]\n}\n", 6), "closed");
	}
	hlfs_fres_free(r);
	r = NULL;
	/* One more level is no JSON this parser accepts. */
	deep_doc(&in, 512, 0);
	is_int(hlfs_fres_new(in.data, in.len, &r), -EIO, "513 levels: -EIO");
	ok(r == NULL, "no result");

	/* Indentation grows a deep resource: 140,000 elements 500 levels
	 * down print about a kilobyte each, past HLFS_FHIR_PRETTY_MAX. */
	deep_doc(&in, 500, 140000);
	ok(in.len < (1u << 20) && (size_t)140000 * 1000 > HLFS_FHIR_PRETTY_MAX,
	   "an input of %zu bytes whose printing is larger than the bound", in.len);
	is_int(hlfs_fres_new(in.data, in.len, &r), -EFBIG, "past HLFS_FHIR_PRETTY_MAX: -EFBIG");
	ok(r == NULL, "no result");
	hl_buf_free(&in);
}

/* ---- CapabilityStatement ---- */

static void test_fcap(void)
{
	static const char caps[] =
	    "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":\"4.0.1\",\"rest\":["
	    "{\"mode\":\"client\",\"resource\":[{\"type\":\"Account\"}]},"
	    "{\"mode\":\"server\",\"resource\":["
	    "{\"type\":\"Patient\"},{\"type\":\"Observation\"},{\"type\":\"bad-type\"},"
	    "{\"type\":7},{\"profile\":\"x\"},{\"type\":\"Encounter\"},{\"type\":"
	    "\"AllergyIntolerance\"}"
	    "]}]}";
	struct hlfs_fcap *c = NULL;
	is_int(fcap(caps, &c), 0, "a CapabilityStatement");
	if (!c)
		return;
	is_int((long long)c->ntypes, 4, "the server's four types with a usable name");
	if (c->ntypes == 4) {
		is_str(c->types[0], "AllergyIntolerance", "sorted bytewise: 0");
		is_str(c->types[1], "Encounter", "1");
		is_str(c->types[2], "Observation", "2");
		is_str(c->types[3], "Patient", "3");
	}
	ok(hlfs_fcap_has(c, "Observation") && hlfs_fcap_has(c, "AllergyIntolerance") &&
	       hlfs_fcap_has(c, "Patient"),
	   "hlfs_fcap_has finds them");
	ok(!hlfs_fcap_has(c, "Account"), "a client rest's type is not the server's");
	ok(!hlfs_fcap_has(c, "bad-type") && !hlfs_fcap_has(c, "") && !hlfs_fcap_has(c, "patient"),
	   "nor a bad name, the empty one, another case");
	ok(c->file && c->file->len > 0 && !strncmp(c->file->bytes, "{\n  \"resourceType\": ", 20),
	   "metadata.json is its pretty printing");
	ok(c->cost > c->file->cost, "its cost includes the file's");
	hlfs_fcap_free(c);

	c = NULL;
	is_int(
	    fcap("{\"resourceType\":\"CapabilityStatement\",\"rest\":[{\"mode\":\"server\"}]}", &c),
	    0, "a server rest without resources");
	if (c)
		is_int((long long)c->ntypes, 0, "has no types");
	ok(c && !hlfs_fcap_has(c, "Patient"), "and finds none");
	hlfs_fcap_free(c);
	hlfs_fcap_free(NULL);

	static const char *const bad[] = {
	    "{\"resourceType\":\"CapabilityStatement\"}",
	    "{\"resourceType\":\"CapabilityStatement\",\"rest\":[]}",
	    "{\"resourceType\":\"CapabilityStatement\",\"rest\":[{\"mode\":\"client\","
	    "\"resource\":[{\"type\":\"Patient\"}]}]}",
	    "{\"rest\":\"server\"}",
	    "{\"rest\":[{\"mode\":\"server\"}],\"rest\":[]}",
	    "[]",
	    "{\"rest\":[",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		is_int(fcap(bad[i], &c), -EIO, "no server rest, or no JSON: -EIO (%zu)", i);
		ok(c == NULL, "no result");
	}
}

/* ---- pages ---- */

#define OBS(id, vid, extra)                                                                  \
	"{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"meta\":{\"versionId\":\"" vid \
	"\",\"lastUpdated\":\"2026-12-01T10:00:00Z\"}" extra "}"

/* Entries: 0 a match, 1 an include, 2 an outcome, 3 a match with a bad
 * id, 4 an entry without a mode, 5 a match of another type, 6 a match
 * without an id, 7 a match with its id twice, 8 a match named "..". */
static const char searchset[] =
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":["
    "{\"relation\":\"self\",\"url\":\"http://h/datastore/d/r4/Observation?_count=100\"},"
    "{\"relation\":\"next\",\"url\":\"http://h/datastore/d/r4/Observation?_count=100&page=2\"}],"
    "\"entry\":["
    "{\"resource\":" OBS(
	"o1", "2",
	",\"valueQuantity\":{\"value\":120.50}") ","
						 "\"search\":{\"mode\":\"match\"}},"
						 "{\"resource\":{\"resourceType\":\"Patient\","
						 "\"id\":\"p1\",\"x\" : 1.0e2},"
						 "\"search\":{\"mode\":\"include\"}},"
						 "{\"resource\":{\"resourceType\":"
						 "\"OperationOutcome\",\"issue\":[]},"
						 "\"search\":{\"mode\":\"outcome\"}},"
						 "{\"resource\":" OBS(
						     "bad id", "1",
						     "") ",\"search\":{\"mode\":\"match\"}},"
							 "{\"resource\":" OBS(
							     "o2", "5",
							     ",\"note\":\"a\\tb\"") "},"
										    "{\"resource\":"
										    "{\"resourceTyp"
										    "e\":"
										    "\"Patient\","
										    "\"id\":\"p2\"}"
										    ",\"search\":{"
										    "\"mode\":"
										    "\"match\"}},"
										    "{\"resource\":"
										    "{\"resourceTyp"
										    "e\":"
										    "\"Observation"
										    "\"},"
										    "\"search\":{"
										    "\"mode\":"
										    "\"match\"}},"
										    "{\"resource\":"
										    "{\"resourceTyp"
										    "e\":"
										    "\"Observation"
										    "\",\"id\":"
										    "\"o3\",\"id\":"
										    "\"o4\"},"
										    "\"search\":{"
										    "\"mode\":"
										    "\"match\"}},"
										    "{\"resource\":"
										    "{\"resourceTyp"
										    "e\":"
										    "\"Observation"
										    "\",\"id\":\".."
										    "\"},"
										    "\"search\":{"
										    "\"mode\":"
										    "\"match\"}}"
										    "]}";

/* The compact line each entry of searchset gives. */
static const char *const searchset_lines[] = {
    OBS("o1", "2", ",\"valueQuantity\":{\"value\":120.50}"),
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":1.0e2}",
    "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}",
    OBS("bad id", "1", ""),
    OBS("o2", "5", ",\"note\":\"a\\tb\""),
    "{\"resourceType\":\"Patient\",\"id\":\"p2\"}",
    "{\"resourceType\":\"Observation\"}",
    "{\"resourceType\":\"Observation\",\"id\":\"o3\",\"id\":\"o4\"}",
    "{\"resourceType\":\"Observation\",\"id\":\"..\"}",
};
#define NLINES (sizeof(searchset_lines) / sizeof(searchset_lines[0]))

struct parsed {
	struct guarded g;
	struct hl_bundle b;
};

static bool parse(struct parsed *p, const char *s)
{
	struct hl_error err;
	p->g = guard(s, strlen(s));
	if (hl_bundle_parse(p->g.p, strlen(s), &p->b, &err) != HL_ERR_OK) {
		diag("hl_bundle_parse: %s", err.message);
		unguard(&p->g);
		return false;
	}
	return true;
}

static void unparse(struct parsed *p)
{
	hl_bundle_clear(&p->b);
	unguard(&p->g);
}

/* The pretty length of one resource, as its own file would have. */
static size_t pretty_len(const char *s)
{
	struct hlfs_fres *r = NULL;
	size_t n = hlfs_fres_new(s, strlen(s), &r) == 0 ? r->len : 0;
	hlfs_fres_free(r);
	return n;
}

static void test_page_lines(void)
{
	struct parsed ps;
	struct hlfs_fpage *p = NULL;
	static const char url[] = "http://h/datastore/d/r4/Observation?_count=100";
	if (!ok(parse(&ps, searchset), "a searchset"))
		return;
	is_int(hlfs_fpage_new(ps.g.p, &ps.b, url, "Observation", HLFS_PG_LINES, &p), 0,
	       "a page of a search, with lines");
	if (!p) {
		unparse(&ps);
		return;
	}
	is_str(p->url, url, "its url kept");
	is_str(p->next, "http://h/datastore/d/r4/Observation?_count=100&page=2", "its next link");
	is_int((long long)p->n, (long long)NLINES, "an entry per resource");
	for (size_t i = 0; i < p->n && i < NLINES; i++) {
		bool listed = i == 0 || i == 4;
		ok((p->e[i].id != NULL) == listed, "entry %zu %s", i,
		   listed ? "listed" : "not listed");
		ok(!p->e[i].res, "entry %zu: no file kept without HLFS_PG_RESOURCES", i);
	}
	is_str(p->e[0].id, "o1", "a match by its id");
	is_str(p->e[0].vid, "2", "and its versionId");
	ok(p->e[0].mtime == T0, "and its time");
	is_int((long long)p->e[0].pretty_len, (long long)pretty_len(searchset_lines[0]),
	       "its size is its file's");
	is_str(p->e[4].id, "o2", "an entry without a mode is a match");
	is_int((long long)p->e[4].pretty_len, (long long)pretty_len(searchset_lines[4]),
	       "its size too");
	ok(p->e[1].mtime < 0 && !p->e[1].vid, "an include: no version, no time");

	/* The lines: compact, one per line, in order, each where its entry says. */
	size_t off = 0;
	for (size_t i = 0; i < p->n && i < NLINES; i++) {
		size_t n = strlen(searchset_lines[i]);
		is_int((long long)p->e[i].line_off, (long long)off, "line %zu's offset", i);
		is_int((long long)p->e[i].line_len, (long long)n, "line %zu's length", i);
		ok(off + n < p->lines_len && !memcmp(p->lines + off, searchset_lines[i], n) &&
		       p->lines[off + n] == '\n',
		   "line %zu is the resource compact, lexemes intact, then a newline", i);
		off += n + 1;
	}
	is_int((long long)p->lines_len, (long long)off, "nothing else in the lines");
	ok(p->lines && p->lines[p->lines_len] == '\0', "NUL-terminated");
	ok(!memchr(p->lines, '\r', p->lines_len), "no CR");

	is_int(hlfs_fpage_find(p, "o1"), 0, "find o1");
	is_int(hlfs_fpage_find(p, "o2"), 4, "find o2");
	is_int(hlfs_fpage_find(p, "p1"), -1, "an include is not found");
	is_int(hlfs_fpage_find(p, "p2"), -1, "nor a match of another type");
	is_int(hlfs_fpage_find(p, "bad id"), -1, "nor a bad id");
	is_int(hlfs_fpage_find(p, "o3"), -1, "nor an id given twice");
	is_int(hlfs_fpage_find(p, ".."), -1, "nor a dot segment");
	is_int(hlfs_fpage_find(p, "nope"), -1, "nor anything else");
	ok(p->cost > p->lines_len, "its cost counts its lines");
	hlfs_fpage_free(p);

	/* $everything: every type, nothing listed, every line kept. */
	p = NULL;
	is_int(hlfs_fpage_new(ps.g.p, &ps.b, url, "", HLFS_PG_LINES, &p), 0, "type \"\"");
	if (p) {
		size_t listed = 0;
		for (size_t i = 0; i < p->n; i++)
			listed += p->e[i].id != NULL;
		is_int((long long)listed, 0, "lists nothing");
		is_int((long long)p->n, (long long)NLINES, "and keeps every entry's line");
		is_int((long long)p->lines_len, (long long)off, "the same lines");
	}
	hlfs_fpage_free(p);
	unparse(&ps);
}

static void test_page_resources(void)
{
	struct parsed ps;
	struct hlfs_fpage *p = NULL;
	if (!ok(parse(&ps, searchset), "a searchset"))
		return;
	is_int(hlfs_fpage_new(ps.g.p, &ps.b, NULL, "Observation", HLFS_PG_RESOURCES, &p), 0,
	       "a page of a type listing, keeping files");
	if (!p) {
		unparse(&ps);
		return;
	}
	ok(p->url == NULL, "no url given, none kept");
	ok(p->lines == NULL && p->lines_len == 0, "no lines without HLFS_PG_LINES");
	struct hlfs_fres *want = NULL;
	const char *o1 = searchset_lines[0];
	is_int(hlfs_fres_new(o1, strlen(o1), &want), 0, "o1 alone");
	ok(p->e[0].res && want && p->e[0].res->len == want->len &&
	       !memcmp(p->e[0].res->bytes, want->bytes, want->len),
	   "o1's file is what reading it alone gives");
	ok(p->e[0].res && !strcmp(p->e[0].res->vid, "2") && p->e[0].res->mtime == T0,
	   "with its version and time");
	ok(p->e[4].res != NULL, "o2's file");
	ok(!p->e[1].res && !p->e[2].res && !p->e[3].res && !p->e[5].res && !p->e[6].res &&
	       !p->e[7].res && !p->e[8].res,
	   "no file for what is not listed");
	/* The caller takes one; the page frees the other. */
	struct hlfs_fres *taken = p->e[0].res;
	p->e[0].res = NULL;
	hlfs_fpage_free(p);
	ok(taken && strstr(taken->bytes, "\"value\": 120.50\n"), "a taken file outlives its page");
	hlfs_fres_free(taken);
	hlfs_fres_free(want);
	unparse(&ps);
}

static const char history[] =
    "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":["
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"3\"},"
    "\"active\":false}},"
    "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}},"
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\","
    "\"lastUpdated\":\"2026-12-01T10:00:00Z\"},\"active\":true}},"
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}},"
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"}}}"
    "]}";

static void test_page_history(void)
{
	struct parsed ps;
	struct hlfs_fpage *p = NULL;
	if (!ok(parse(&ps, history), "a history"))
		return;
	is_int(hlfs_fpage_new(ps.g.p, &ps.b, "http://h/x", "Patient",
			      HLFS_PG_RESOURCES | HLFS_PG_HISTORY, &p),
	       0, "a page of a history");
	if (!p) {
		unparse(&ps);
		return;
	}
	ok(p->next == NULL, "the last page: no next link");
	is_int((long long)p->n, 4, "a deleted version has no entry");
	is_str(p->e[0].id, "3", "versions are named by versionId: 3");
	is_str(p->e[1].id, "2", "2");
	ok(p->e[1].mtime == T0, "with their time");
	ok(p->e[2].id == NULL, "a version without a versionId is not listed");
	is_str(p->e[3].id, "1", "1");
	is_int(hlfs_fpage_find(p, "2"), 1, "find version 2");
	is_int(hlfs_fpage_find(p, "p1"), -1, "the resource id names no version");
	ok(p->e[1].res && strstr(p->e[1].res->bytes, "\"active\": true"), "version 2's file");
	ok(p->e[0].res && strstr(p->e[0].res->bytes, "\"active\": false"), "version 3's file");
	hlfs_fpage_free(p);
	unparse(&ps);
}

static void test_page_empty(void)
{
	struct parsed ps;
	struct hlfs_fpage *p = NULL;
	if (!ok(parse(&ps, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}"),
		"an empty searchset"))
		return;
	is_int(
	    hlfs_fpage_new(ps.g.p, &ps.b, NULL, "Patient", HLFS_PG_LINES | HLFS_PG_RESOURCES, &p),
	    0, "a page of nothing");
	ok(p && p->n == 0 && p->lines_len == 0 && !p->next, "no entries, no lines, no next");
	ok(p && p->lines && p->lines[0] == '\0', "its lines an empty string");
	ok(p && hlfs_fpage_find(p, "x") == -1, "finds nothing");
	hlfs_fpage_free(p);
	hlfs_fpage_free(NULL);
	unparse(&ps);
}

int main(void)
{
	test_fres_pretty();
	test_fres_meta();
	test_fres_refused();
	test_fres_deep();
	test_fcap();
	test_page_lines();
	test_page_resources();
	test_page_history();
	test_page_empty();
	return done_testing();
}
