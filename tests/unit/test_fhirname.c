#include <errno.h>
#include <sys/stat.h>

#include "fhirname.h"
#include "guard.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { L = 0, C = 1 }; /* lookup or create */

struct ncase {
	enum hlfs_fhir_parent parent;
	const char *ptype;
	const char *name;
	int create;
	int rc;			  /* 0 or -errno */
	enum hlfs_fhir_kind kind; /* when rc == 0 */
	const char *field;	  /* type (TYPE/SEARCH) or id, when rc == 0 */
};

#define FH HLFS_FP_FHIR, NULL
#define TY(t) HLFS_FP_TYPE, t
#define SE(t) HLFS_FP_SEARCH, t
#define HI(t) HLFS_FP_HISTORY, t

static const struct ncase cases[] = {
    /* fhir/ */
    {FH, "metadata.json", L, 0, HLFS_FK_METADATA, NULL},
    {FH, ".error", L, 0, HLFS_FK_ERROR, NULL},
    {FH, "Patient", L, 0, HLFS_FK_TYPE, "Patient"},
    {FH, "Observation", L, 0, HLFS_FK_TYPE, "Observation"},
    {FH, "Account", L, 0, HLFS_FK_TYPE, "Account"},
    {FH, "VisionPrescription", L, 0, HLFS_FK_TYPE, "VisionPrescription"},
    {FH, "MedicinalProductUndesirableEffect", L, 0, HLFS_FK_TYPE,
     "MedicinalProductUndesirableEffect"},
    {FH, "patient", L, -ENOENT, 0, NULL},
    {FH, "PATIENT", L, -ENOENT, 0, NULL},
    {FH, "Patients", L, -ENOENT, 0, NULL},
    {FH, "Patien", L, -ENOENT, 0, NULL},
    {FH, "Resource", L, -ENOENT, 0, NULL},	 /* abstract */
    {FH, "DomainResource", L, -ENOENT, 0, NULL}, /* abstract */
    {FH, "Foo", L, -ENOENT, 0, NULL},
    {FH, "metadata", L, -ENOENT, 0, NULL},
    {FH, "Metadata.json", L, -ENOENT, 0, NULL},
    {FH, "metadata.json~", L, -ENOENT, 0, NULL},
    {FH, ".swp", L, -ENOENT, 0, NULL},
    {FH, "4913", L, -ENOENT, 0, NULL},
    {FH, ".", L, -ENOENT, 0, NULL},
    {FH, "..", L, -ENOENT, 0, NULL},
    {FH, "", L, -ENOENT, 0, NULL},
    {FH, "Patient ", L, -ENOENT, 0, NULL},
    {FH, " Patient", L, -ENOENT, 0, NULL},
    {FH, "Patient\n", L, -ENOENT, 0, NULL},
    {FH, "Pati\xc3\xa9nt", L, -ENOENT, 0, NULL},
    {FH, "Patient.json", L, -ENOENT, 0, NULL},
    {FH, "p123.json", L, -ENOENT, 0, NULL},
    {FH, "a/b", L, -ENOENT, 0, NULL},
    /* searches */
    {FH, "Patient?name=smith", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Observation?code=8480-6", L, 0, HLFS_FK_SEARCH, "Observation"},
    {FH, "Observation?patient=p123&date=ge2024-01-01", L, 0, HLFS_FK_SEARCH, "Observation"},
    {FH, "Observation?code=http:%2F%2Floinc.org|8480-6", L, 0, HLFS_FK_SEARCH, "Observation"},
    {FH, "Observation?code:text=blood pressure", L, 0, HLFS_FK_SEARCH, "Observation"},
    {FH, "Observation?value-quantity=gt140|http:%2F%2Funitsofmeasure.org|mm[Hg]", L, 0,
     HLFS_FK_SEARCH, "Observation"},
    {FH, "Patient?name:exact=M\xc3\xbcller", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_id=a,b,c", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_sort=-birthdate&_elements=id,name", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_revinclude=Observation:subject", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?birthdate=ge2024-01-01T00:00:00+01:00", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a=b=c", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a=", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a=%25", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a=?b", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?a=#b", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_total=accurate", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_summary=count", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?_count=5", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=x&_count=5", L, -EINVAL, 0, NULL},
    {FH, "Patient?%5Fcount=5", L, -EINVAL, 0, NULL},
    {FH, "Patient?%5fcount=5", L, -EINVAL, 0, NULL},
    {FH, "Patient?_count:x=5", L, -EINVAL, 0, NULL},
    {FH, "Patient?_count", L, -EINVAL, 0, NULL},
    {FH, "Patient?_offset=10", L, -EINVAL, 0, NULL},
    {FH, "Patient?page=abc", L, -EINVAL, 0, NULL},
    {FH, "Patient?_page=2", L, -EINVAL, 0, NULL},
    {FH, "Patient?__page=2", L, -EINVAL, 0, NULL},
    {FH, "Patient?_getpages=x", L, -EINVAL, 0, NULL},
    {FH, "Patient?_getpagesoffset=100", L, -EINVAL, 0, NULL},
    {FH, "Patient?_format=xml", L, -EINVAL, 0, NULL},
    {FH, "Patient?_pretty=true", L, -EINVAL, 0, NULL},
    {FH, "Patient?_counts=5", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?pages=5", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?x=_count", L, 0, HLFS_FK_SEARCH, "Patient"},
    {FH, "Patient?name=%", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=%2", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=%zz", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=%00", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=a&&b=c", L, -EINVAL, 0, NULL},
    {FH, "Patient?&name=a", L, -EINVAL, 0, NULL},
    {FH, "Patient?name=a&", L, -EINVAL, 0, NULL},
    {FH, "Patient?=a", L, -EINVAL, 0, NULL},
    {FH, "Patient?&", L, -EINVAL, 0, NULL},
    {FH, "patient?name=x", L, -ENOENT, 0, NULL},
    {FH, "Foo?name=x", L, -ENOENT, 0, NULL},
    {FH, "?name=x", L, -ENOENT, 0, NULL},
    {FH, "Patient ?name=x", L, -ENOENT, 0, NULL},
    /* a type directory */
    {TY("Patient"), "p123.json", L, 0, HLFS_FK_RESOURCE, "p123"},
    {TY("Patient"), "p123.json", C, 0, HLFS_FK_RESOURCE, "p123"},
    {TY("Patient"), "a.json", L, 0, HLFS_FK_RESOURCE, "a"},
    {TY("Patient"), "A-Z.a-z.0-9.json", L, 0, HLFS_FK_RESOURCE, "A-Z.a-z.0-9"},
    {TY("Patient"), "123.json", L, 0, HLFS_FK_RESOURCE, "123"},
    {TY("Patient"), "f.json.json", L, 0, HLFS_FK_RESOURCE, "f.json"},
    {TY("Patient"), "p1.history.json", L, 0, HLFS_FK_RESOURCE, "p1.history"},
    {TY("Patient"), "metadata.json", L, 0, HLFS_FK_RESOURCE, "metadata"},
    {TY("Patient"), ".hidden.json", L, 0, HLFS_FK_RESOURCE, ".hidden"},
    {TY("Patient"), "...json", L, -ENOENT, 0, NULL}, /* id ".." */
    {TY("Patient"), "-.json", L, 0, HLFS_FK_RESOURCE, "-"},
    {TY("Patient"), "..json", L, -ENOENT, 0, NULL},
    {TY("Patient"), "..json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "....json", L, 0, HLFS_FK_RESOURCE, "..."},
    {TY("Patient"), ".json", L, -ENOENT, 0, NULL},
    {TY("Patient"), ".json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "a_b.json", L, -ENOENT, 0, NULL},
    {TY("Patient"), "a_b.json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "a b.json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "a%2Fb.json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "\xc3\xa9.json", C, -EINVAL, 0, NULL},
    {TY("Patient"), "a:b.json", L, -ENOENT, 0, NULL},
    {TY("Patient"), "a\tb.json", L, -ENOENT, 0, NULL},
    {TY("Patient"), "p123.JSON", L, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "p123.Json", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "p123.history", L, 0, HLFS_FK_HISTORY, "p123"},
    {TY("Patient"), "p123.history", C, 0, HLFS_FK_HISTORY, "p123"},
    {TY("Patient"), "a_b.history", L, -ENOENT, 0, NULL},
    {TY("Patient"), ".history", C, -EINVAL, 0, NULL},
    {TY("Patient"), "p123.everything.ndjson", L, 0, HLFS_FK_EVERYTHING, "p123"},
    {TY("Patient"), "x.y.everything.ndjson", L, 0, HLFS_FK_EVERYTHING, "x.y"},
    {TY("Patient"), ".everything.ndjson", L, -ENOENT, 0, NULL},
    {TY("Patient"), "a_b.everything.ndjson", C, -EINVAL, 0, NULL},
    {TY("Observation"), "o1.everything.ndjson", L, -ENOENT, 0, NULL},
    {TY("Observation"), "o1.everything.ndjson", C, -EINVAL, 0, NULL},
    {TY("Observation"), "o1.json", L, 0, HLFS_FK_RESOURCE, "o1"},
    {TY("Observation"), "o1.ndjson", L, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".error", L, 0, HLFS_FK_ERROR, NULL},
    {TY("Patient"), ".error", C, 0, HLFS_FK_ERROR, NULL},
    /* editors' scratch files (DESIGN.md's examples and their kin) */
    {TY("Patient"), "sedAbC123", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "sedAbC123", L, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "f.json.tmp", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".f.json.swp", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".f.json.swx", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".f.json.swo", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "4913", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "5036", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "f.json~", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "p123.json~", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "#p123.json#", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".#p123.json", C, -EINVAL, 0, NULL}, /* emacs lock: a bad id */
    {TY("Patient"), ".p123.json.kate-swp", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".goutputstream-AB12CD", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "p123.json.XXXXXX", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "tmp.x7Yz", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "all.ndjson", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "Patient?name=x", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "\xc3\xa9t\xc3\xa9", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "\xff\xfe", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "a\nb", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "%2F", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "json", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "p123", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), "history", C, 0, HLFS_FK_SCRATCH, NULL},
    {TY("Patient"), ".", L, -ENOENT, 0, NULL},
    {TY("Patient"), "..", L, -ENOENT, 0, NULL},
    {TY("Patient"), ".", C, -ENOENT, 0, NULL},
    {TY("Patient"), "", C, -ENOENT, 0, NULL},
    {TY("patient"), "p1.json", L, -ENOENT, 0, NULL},
    {TY("Foo"), "p1.json", L, -ENOENT, 0, NULL},
    {TY(NULL), "p1.json", L, -ENOENT, 0, NULL},
    /* a search directory */
    {SE("Patient"), "p1.json", L, 0, HLFS_FK_RESOURCE, "p1"},
    {SE("Patient"), "all.ndjson", L, 0, HLFS_FK_ALL, NULL},
    {SE("Patient"), "all.json", L, 0, HLFS_FK_RESOURCE, "all"},
    {SE("Patient"), ".error", L, -ENOENT, 0, NULL},
    {SE("Patient"), "sedAbC123", C, -ENOENT, 0, NULL},
    {SE("Patient"), "p1.history", L, -ENOENT, 0, NULL},
    {SE("Patient"), "p1.everything.ndjson", L, -ENOENT, 0, NULL},
    {SE("Patient"), "a_b.json", L, -ENOENT, 0, NULL},
    {SE("Patient"), "All.ndjson", L, -ENOENT, 0, NULL},
    /* a history directory */
    {HI("Patient"), "1.json", L, 0, HLFS_FK_VERSION, "1"},
    {HI("Patient"), "2.json", L, 0, HLFS_FK_VERSION, "2"},
    {HI("Patient"), "abc-1.json", L, 0, HLFS_FK_VERSION, "abc-1"},
    {HI("Patient"), "1", L, -ENOENT, 0, NULL},
    {HI("Patient"), ".error", L, -ENOENT, 0, NULL},
    {HI("Patient"), "1.json~", C, -ENOENT, 0, NULL},
    {HI("Patient"), "..json", L, -ENOENT, 0, NULL},
    {HI("Patient"), "4913", C, -ENOENT, 0, NULL},
};

static void test_table(void)
{
	for (size_t i = 0; i < N(cases); i++) {
		const struct ncase *c = &cases[i];
		struct hlfs_fhirname r;
		const char *why = NULL;
		memset(&r, 0x55, sizeof(r));
		int rc = hlfs_fhirname_parse(c->parent, c->ptype, c->name, c->create, &r, &why);
		is_int(rc, c->rc, "case %zu (parent %d, %s): rc", i, (int)c->parent,
		       c->create ? "create" : "lookup");
		if (rc != c->rc) {
			tap_diag_str("name", c->name);
			continue;
		}
		if (rc) {
			ok(why && *why && !strstr(why, c->name[0] ? c->name : "\x01"),
			   "case %zu: a reason that does not repeat the name", i);
			continue;
		}
		is_int(r.kind, c->kind, "case %zu: kind", i);
		if (c->kind == HLFS_FK_TYPE || c->kind == HLFS_FK_SEARCH)
			is_str(r.type, c->field, "case %zu: type", i);
		else if (c->field)
			is_str(r.id, c->field, "case %zu: id", i);
	}
}

static void test_search_query_span(void)
{
	struct hlfs_fhirname r;
	const char *why;
	const char *name = "Observation?code=8480-6&date=ge2024";
	is_int(hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, name, false, &r, &why), 0, "search parses");
	ok(r.query == name + 12, "query points after the '?'");
	is_int(r.query_len, strlen("code=8480-6&date=ge2024"), "query length");
	is_int(hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, "Patient?", false, &r, &why), 0, "empty");
	is_int(r.query_len, 0, "empty query");
}

static void test_lengths(void)
{
	char name[300], id[80];
	struct hlfs_fhirname r;
	const char *why;

	/* ids of 64 and 65 characters */
	memset(id, 'a', 64);
	id[64] = '\0';
	snprintf(name, sizeof(name), "%s.json", id);
	is_int(hlfs_fhirname_parse(HLFS_FP_TYPE, "Patient", name, false, &r, &why), 0, "id of 64");
	is_str(r.id, id, "64-character id kept whole");
	memset(id, 'a', 65);
	id[65] = '\0';
	snprintf(name, sizeof(name), "%s.json", id);
	is_int(hlfs_fhirname_parse(HLFS_FP_TYPE, "Patient", name, false, &r, &why), -ENOENT,
	       "id of 65: lookup ENOENT");
	is_int(hlfs_fhirname_parse(HLFS_FP_TYPE, "Patient", name, true, &r, &why), -EINVAL,
	       "id of 65: create EINVAL");
	snprintf(name, sizeof(name), "%s.history", id);
	is_int(hlfs_fhirname_parse(HLFS_FP_TYPE, "Patient", name, false, &r, &why), -ENOENT,
	       "history of a 65-character id");
	snprintf(name, sizeof(name), "%s.json", id);
	is_int(hlfs_fhirname_parse(HLFS_FP_HISTORY, "Patient", name, false, &r, &why), -ENOENT,
	       "versionId of 65");

	/* names of 255 and 256 bytes */
	memset(name, 's', 255);
	name[255] = '\0';
	is_int(hlfs_fhirname_parse(HLFS_FP_TYPE, "Patient", name, true, &r, &why), 0,
	       "scratch name of 255 bytes");
	is_int(r.kind, HLFS_FK_SCRATCH, "  is scratch");
	name[255] = 's';
	name[256] = '\0';
	for (int p = HLFS_FP_FHIR; p <= HLFS_FP_HISTORY; p++) {
		is_int(hlfs_fhirname_parse(p, "Patient", name, false, &r, &why), -ENAMETOOLONG,
		       "256 bytes in parent %d: ENAMETOOLONG", p);
		ok(why && strstr(why, "255"), "  reason names the limit");
	}
	/* a search name of 255 bytes */
	memcpy(name, "Patient?name=", 13);
	memset(name + 13, 'x', 242);
	name[255] = '\0';
	is_int(hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, name, false, &r, &why), 0,
	       "search name of 255 bytes");
	is_int(r.query_len, 255 - 8, "  query length");
	name[255] = 'x';
	name[256] = '\0';
	is_int(hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, name, false, &r, &why), -ENAMETOOLONG,
	       "search name of 256 bytes");
}

/* Names placed right before an unreadable page: a parser that reads past
 * the NUL faults at once. */
static void test_guard_page(void)
{
	const char *names[] = {"p1.json",  "Patient?a=%2", "Patient?a=%", "x.everything.ndjson",
			       ".history", "Patient",	   "4913",	  "all.ndjson",
			       "",	   "Patient?",	   "..",	  "a.json~"};
	for (size_t i = 0; i < N(names); i++) {
		struct guarded g = guard(names[i], strlen(names[i]) + 1);
		struct hlfs_fhirname r;
		struct hlfs_fhirpath fp;
		const char *why;
		for (int p = HLFS_FP_FHIR; p <= HLFS_FP_HISTORY; p++)
			(void)hlfs_fhirname_parse(p, "Patient", g.p, p % 2, &r, &why);
		(void)hlfs_fhirpath_parse(g.p, false, &fp, &why);
		unguard(&g);
		ok(1, "guard page: %zu", i);
	}
}

struct pcase {
	const char *path;
	int create;
	int rc;
	enum hlfs_fhir_kind kind;
	enum hlfs_fhir_parent parent;
	const char *type, *id, *owner;
	const char *query; /* NULL: none */
};

static const struct pcase pcases[] = {
    {"", L, 0, HLFS_FK_FHIR, HLFS_FP_FHIR, "", "", "", NULL},
    {"metadata.json", L, 0, HLFS_FK_METADATA, HLFS_FP_FHIR, "", "", "", NULL},
    {".error", L, 0, HLFS_FK_ERROR, HLFS_FP_FHIR, "", "", "", NULL},
    {"Patient", L, 0, HLFS_FK_TYPE, HLFS_FP_FHIR, "Patient", "", "", NULL},
    {"Patient/", L, 0, HLFS_FK_TYPE, HLFS_FP_FHIR, "Patient", "", "", NULL},
    {"Patient/p1.json", L, 0, HLFS_FK_RESOURCE, HLFS_FP_TYPE, "Patient", "p1", "", NULL},
    {"Patient//p1.json", L, 0, HLFS_FK_RESOURCE, HLFS_FP_TYPE, "Patient", "p1", "", NULL},
    {"Patient/.error", L, 0, HLFS_FK_ERROR, HLFS_FP_TYPE, "Patient", "", "", NULL},
    {"Patient/p1.history", L, 0, HLFS_FK_HISTORY, HLFS_FP_TYPE, "Patient", "p1", "p1", NULL},
    {"Patient/p1.history/2.json", L, 0, HLFS_FK_VERSION, HLFS_FP_HISTORY, "Patient", "2", "p1",
     NULL},
    {"Patient/p1.everything.ndjson", L, 0, HLFS_FK_EVERYTHING, HLFS_FP_TYPE, "Patient", "p1", "",
     NULL},
    {"Patient/sedAbC123", C, 0, HLFS_FK_SCRATCH, HLFS_FP_TYPE, "Patient", "", "", NULL},
    {"Observation?code=8480-6", L, 0, HLFS_FK_SEARCH, HLFS_FP_FHIR, "Observation", "", "",
     "code=8480-6"},
    {"Observation?code=8480-6/all.ndjson", L, 0, HLFS_FK_ALL, HLFS_FP_SEARCH, "Observation", "", "",
     "code=8480-6"},
    {"Observation?code=8480-6/o1.json", L, 0, HLFS_FK_RESOURCE, HLFS_FP_SEARCH, "Observation", "o1",
     "", "code=8480-6"},
    {"Observation?/all.ndjson", L, 0, HLFS_FK_ALL, HLFS_FP_SEARCH, "Observation", "", "", ""},
    /* failures */
    {"Foo", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Foo/p1.json", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/p1.json/x", L, -ENOTDIR, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/p1.history/2.json/x", L, -ENOTDIR, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/sedAbC123/x", L, -ENOTDIR, 0, 0, NULL, NULL, NULL, NULL},
    {"metadata.json/x", L, -ENOTDIR, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/p1.history/x", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/p1.history/x~", C, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/a_b.json", C, -EINVAL, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/a_b.json", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient?_count=1/all.ndjson", L, -EINVAL, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient?x=1/sed123", C, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"/Patient", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"Patient/../Patient", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
    {"./Patient", L, -ENOENT, 0, 0, NULL, NULL, NULL, NULL},
};

static void test_paths(void)
{
	for (size_t i = 0; i < N(pcases); i++) {
		const struct pcase *c = &pcases[i];
		struct hlfs_fhirpath p;
		const char *why = NULL;
		int rc = hlfs_fhirpath_parse(c->path, c->create, &p, &why);
		is_int(rc, c->rc, "path %zu: rc", i);
		if (rc != c->rc) {
			tap_diag_str("path", c->path);
			continue;
		}
		if (rc) {
			ok(why && *why, "path %zu: a reason", i);
			continue;
		}
		is_int(p.leaf.kind, c->kind, "path %zu: kind", i);
		is_int(p.parent, c->parent, "path %zu: parent", i);
		is_str(p.type, c->type, "path %zu: type", i);
		is_str(p.leaf.id, c->id, "path %zu: id", i);
		is_str(p.owner_id, c->owner, "path %zu: owner", i);
		if (c->query) {
			ok(p.query && p.query_len == strlen(c->query) &&
			       !memcmp(p.query, c->query, p.query_len),
			   "path %zu: query span", i);
			ok(p.query >= c->path && p.query < c->path + strlen(c->path) + 1,
			   "path %zu: query points into the path", i);
		} else {
			ok(!p.query, "path %zu: no query", i);
		}
	}
}

static void test_rules(void)
{
	ok(hlfs_fhir_id_ok("a", 1), "id a");
	ok(hlfs_fhir_id_ok("A-z.0", 5), "id A-z.0");
	ok(!hlfs_fhir_id_ok("", 0), "empty id");
	ok(!hlfs_fhir_id_ok(".", 1), "id .");
	ok(!hlfs_fhir_id_ok("..", 2), "id ..");
	ok(hlfs_fhir_id_ok("...", 3), "id ... (not a dot segment)");
	ok(!hlfs_fhir_id_ok("a_b", 3), "underscore");
	ok(!hlfs_fhir_id_ok("a b", 3), "space");
	ok(!hlfs_fhir_id_ok("a/b", 3), "slash");
	ok(!hlfs_fhir_id_ok("a%b", 3), "percent");
	ok(!hlfs_fhir_id_ok("a\0b", 3), "NUL inside");
	ok(hlfs_fhir_id_ok("ab\0", 2), "length is what counts");
	/* every byte value once */
	int good = 0;
	for (int c = 0; c < 256; c++) {
		char s = (char)c;
		good += hlfs_fhir_id_ok(&s, 1);
	}
	is_int(good, 26 + 26 + 10 + 2 - 1,
	       "single-byte ids: letters, digits, '-' ('.' alone is not)");

	ok(hlfs_fhir_type_syntax_ok("Patient", 7), "type syntax");
	ok(hlfs_fhir_type_syntax_ok("Zz", 2), "type syntax Zz");
	ok(!hlfs_fhir_type_syntax_ok("patient", 7), "lowercase start");
	ok(!hlfs_fhir_type_syntax_ok("Pa1", 3), "digit");
	ok(!hlfs_fhir_type_syntax_ok("", 0), "empty type");
	ok(!hlfs_fhir_type_r4("Zz", 2), "Zz is not R4");
	ok(!hlfs_fhir_type_r4("Patient", 6), "prefix of a type");
	ok(!hlfs_fhir_type_r4("Patients", 8), "extension of a type");

	size_t n;
	const char *const *t = hlfs_fhir_types_r4(&n);
	is_int(n, 146,
	       "FHIR R4 has 146 concrete resource types (hl7.org/fhir/R4 resource-types less "
	       "Resource, DomainResource)");
	int sorted = 1, all = 1;
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(t[i - 1], t[i]) >= 0)
			sorted = 0;
		if (!hlfs_fhir_type_r4(t[i], strlen(t[i])) ||
		    !hlfs_fhir_type_syntax_ok(t[i], strlen(t[i])))
			all = 0;
	}
	ok(sorted, "types in byte order (bsearch relies on it)");
	ok(all, "every listed type is found and obeys the rule");
	const char *must[] = {"Patient",
			      "Observation",
			      "Encounter",
			      "Condition",
			      "MedicationRequest",
			      "Immunization",
			      "Procedure",
			      "DiagnosticReport",
			      "AllergyIntolerance",
			      "CarePlan",
			      "Claim",
			      "ExplanationOfBenefit",
			      "DocumentReference",
			      "Practitioner",
			      "Organization",
			      "Location",
			      "Device",
			      "Provenance",
			      "Binary",
			      "Bundle"};
	for (size_t i = 0; i < N(must); i++)
		ok(hlfs_fhir_type_r4(must[i], strlen(must[i])), "R4 type %s", must[i]);
}

static void test_modes(void)
{
	const struct {
		enum hlfs_fhir_kind k;
		mode_t rw, ro;
		bool listed;
	} m[] = {
	    {HLFS_FK_FHIR, S_IFDIR | 0700, S_IFDIR | 0700, true},
	    {HLFS_FK_METADATA, S_IFREG | 0400, S_IFREG | 0400, true},
	    {HLFS_FK_ERROR, S_IFREG | 0400, S_IFREG | 0400, true},
	    {HLFS_FK_TYPE, S_IFDIR | 0700, S_IFDIR | 0700, true},
	    {HLFS_FK_SEARCH, S_IFDIR | 0700, S_IFDIR | 0700, false},
	    {HLFS_FK_RESOURCE, S_IFREG | 0600, S_IFREG | 0400, true},
	    {HLFS_FK_HISTORY, S_IFDIR | 0700, S_IFDIR | 0700, false},
	    {HLFS_FK_VERSION, S_IFREG | 0400, S_IFREG | 0400, true},
	    {HLFS_FK_EVERYTHING, S_IFREG | 0400, S_IFREG | 0400, false},
	    {HLFS_FK_ALL, S_IFREG | 0400, S_IFREG | 0400, true},
	    {HLFS_FK_SCRATCH, S_IFREG | 0600, S_IFREG | 0600, true},
	};
	for (size_t i = 0; i < N(m); i++) {
		is_int(hlfs_fhir_mode(m[i].k, false), m[i].rw, "mode of kind %d", (int)m[i].k);
		is_int(hlfs_fhir_mode(m[i].k, true), m[i].ro, "mode of kind %d on ro", (int)m[i].k);
		is_int(hlfs_fhir_listed(m[i].k), m[i].listed, "listed kind %d", (int)m[i].k);
	}
}

static void test_format(void)
{
	char out[300], id[70];
	is_int(hlfs_fhirname_resource("p123", out, sizeof(out)), 0, "resource name");
	is_str(out, "p123.json", "  p123.json");
	is_int(hlfs_fhirname_history("p123", out, sizeof(out)), 0, "history name");
	is_str(out, "p123.history", "  p123.history");
	is_int(hlfs_fhirname_everything("p123", out, sizeof(out)), 0, "everything name");
	is_str(out, "p123.everything.ndjson", "  p123.everything.ndjson");
	is_int(hlfs_fhirname_resource("a_b", out, sizeof(out)), -EINVAL, "bad id");
	is_int(hlfs_fhirname_resource("", out, sizeof(out)), -EINVAL, "empty id");
	is_int(hlfs_fhirname_resource("..", out, sizeof(out)), -EINVAL, "dot-dot id");
	is_int(hlfs_fhirname_resource("p123", out, 9), -ENAMETOOLONG, "no room for the NUL");
	is_int(hlfs_fhirname_resource("p123", out, 10), 0, "exact room");
	memset(id, 'i', 64);
	id[64] = '\0';
	is_int(hlfs_fhirname_everything(id, out, sizeof(out)), 0, "everything of a 64 id");
	is_int(strlen(out), 64 + 18, "  length");
	id[64] = 'i';
	id[65] = '\0';
	is_int(hlfs_fhirname_resource(id, out, sizeof(out)), -EINVAL, "65-character id");

	is_int(hlfs_fhirname_search("Patient", "name=smith", out, sizeof(out)), 0, "search");
	is_str(out, "Patient?name=smith", "  Patient?name=smith");
	is_int(hlfs_fhirname_search("Patient", "", out, sizeof(out)), 0, "empty query");
	is_str(out, "Patient?", "  Patient?");
	is_int(hlfs_fhirname_search("Foo", "a=b", out, sizeof(out)), -EINVAL, "unknown type");
	is_int(hlfs_fhirname_search("Patient", "a=/", out, sizeof(out)), -EINVAL, "slash");
	char q[260];
	memset(q, 'q', 247);
	q[247] = '\0';
	is_int(hlfs_fhirname_search("Patient", q, out, sizeof(out)), 0, "255-byte search name");
	q[247] = 'q';
	q[248] = '\0';
	is_int(hlfs_fhirname_search("Patient", q, out, sizeof(out)), -ENAMETOOLONG, "256 bytes");

	/* every R4 type: names round-trip through the parser */
	size_t n;
	const char *const *t = hlfs_fhir_types_r4(&n);
	int good = 0;
	for (size_t i = 0; i < n; i++) {
		struct hlfs_fhirname r;
		const char *why;
		char nm[300];
		if (hlfs_fhirname_search(t[i], "a=1", nm, sizeof(nm)) == 0 &&
		    hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, nm, false, &r, &why) == 0 &&
		    r.kind == HLFS_FK_SEARCH && !strcmp(r.type, t[i]) &&
		    hlfs_fhirname_parse(HLFS_FP_FHIR, NULL, t[i], false, &r, &why) == 0 &&
		    r.kind == HLFS_FK_TYPE &&
		    hlfs_fhirname_parse(HLFS_FP_TYPE, t[i], "x.json", false, &r, &why) == 0)
			good++;
	}
	is_int(good, (long long)n, "every R4 type works as a type and a search directory");
}

int main(void)
{
	test_table();
	test_search_query_span();
	test_lengths();
	test_guard_page();
	test_paths();
	test_rules();
	test_modes();
	test_format();
	return done_testing();
}
