#include <errno.h>

#include "fhirquery.h"
#include "guard.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct qcase {
	const char *q;
	enum hlfs_fq_mode mode;
	int rc;
	size_t n;	  /* parameters */
	const char *wire; /* strict, written order */
	const char *key;  /* strict, sorted */
};

#define U HLFS_FQ_USER
#define K HLFS_FQ_LINK

static const struct qcase cases[] = {
    {"", U, 0, 0, "", ""},
    {"name=smith", U, 0, 1, "name=smith", "name=smith"},
    {"code=8480-6", U, 0, 1, "code=8480-6", "code=8480-6"},
    {"patient=p123&date=ge2024-01-01", U, 0, 2, "patient=p123&date=ge2024-01-01",
     "date=ge2024-01-01&patient=p123"},
    /* DESIGN.md: the user's %2F stays %2F, ':' and '|' are encoded */
    {"code=http:%2F%2Floinc.org|8480-6", U, 0, 1, "code=http%3A%2F%2Floinc.org%7C8480-6",
     "code=http%3A%2F%2Floinc.org%7C8480-6"},
    {"code:text=blood pressure", U, 0, 1, "code%3Atext=blood%20pressure",
     "code%3Atext=blood%20pressure"},
    {"code:not=x", U, 0, 1, "code%3Anot=x", "code%3Anot=x"},
    {"subject:Patient.name=x", U, 0, 1, "subject%3APatient.name=x", "subject%3APatient.name=x"},
    {"value-quantity=gt140|http:%2F%2Funitsofmeasure.org|mm[Hg]", U, 0, 1,
     "value-quantity=gt140%7Chttp%3A%2F%2Funitsofmeasure.org%7Cmm%5BHg%5D",
     "value-quantity=gt140%7Chttp%3A%2F%2Funitsofmeasure.org%7Cmm%5BHg%5D"},
    /* '+' is a literal plus: FHIR dates carry zones */
    {"birthdate=ge2024-01-01T00:00:00+01:00", U, 0, 1,
     "birthdate=ge2024-01-01T00%3A00%3A00%2B01%3A00",
     "birthdate=ge2024-01-01T00%3A00%3A00%2B01%3A00"},
    {"a=%2B", U, 0, 1, "a=%2B", "a=%2B"},
    {"a=%20", U, 0, 1, "a=%20", "a=%20"},
    {"a= ", U, 0, 1, "a=%20", "a=%20"},
    /* lowercase hex decodes, comes out uppercase; unreserved escapes come out plain */
    {"a=%2f%3a", U, 0, 1, "a=%2F%3A", "a=%2F%3A"},
    {"a=%41%7e%2D%2e%5f", U, 0, 1, "a=A~-._", "a=A~-._"},
    {"%61=1", U, 0, 1, "a=1", "a=1"},
    /* reserved characters by escape stay data */
    {"a=%26b", U, 0, 1, "a=%26b", "a=%26b"},
    {"a=%3D", U, 0, 1, "a=%3D", "a=%3D"},
    {"a%3Db=c", U, 0, 1, "a%3Db=c", "a%3Db=c"},
    {"a=%25", U, 0, 1, "a=%25", "a=%25"},
    {"a=%2525", U, 0, 1, "a=%2525", "a=%2525"},
    /* '=' after the first is data; no '=' means an empty value */
    {"a=b=c", U, 0, 1, "a=b%3Dc", "a=b%3Dc"},
    {"a", U, 0, 1, "a=", "a="},
    {"a=", U, 0, 1, "a=", "a="},
    {"a=?b#c", U, 0, 1, "a=%3Fb%23c", "a=%3Fb%23c"},
    {"a=,;!*'()$@", U, 0, 1, "a=%2C%3B%21%2A%27%28%29%24%40", "a=%2C%3B%21%2A%27%28%29%24%40"},
    {"name=M\xc3\xbcller", U, 0, 1, "name=M%C3%BCller", "name=M%C3%BCller"},
    {"name=M%C3%BCller", U, 0, 1, "name=M%C3%BCller", "name=M%C3%BCller"},
    {"name=\xff", U, 0, 1, "name=%FF", "name=%FF"},
    {"a=\x01\x7f", U, 0, 1, "a=%01%7F", "a=%01%7F"},
    {"_id=a,b,c", U, 0, 1, "_id=a%2Cb%2Cc", "_id=a%2Cb%2Cc"},
    {"_include=Observation:patient&_revinclude=Provenance:target", U, 0, 2,
     "_include=Observation%3Apatient&_revinclude=Provenance%3Atarget",
     "_include=Observation%3Apatient&_revinclude=Provenance%3Atarget"},
    /* order: the wire keeps it, the key sorts by key then value, bytewise */
    {"b=1&a=2", U, 0, 2, "b=1&a=2", "a=2&b=1"},
    {"a=2&a=1", U, 0, 2, "a=2&a=1", "a=1&a=2"},
    {"a=1&a=1", U, 0, 2, "a=1&a=1", "a=1&a=1"},
    {"a0=1&a=2", U, 0, 2, "a0=1&a=2", "a=2&a0=1"},
    {"Zed=1&_sort=x&address=y", U, 0, 3, "Zed=1&_sort=x&address=y", "Zed=1&_sort=x&address=y"},
    {"address=y&_sort=x&Zed=1", U, 0, 3, "address=y&_sort=x&Zed=1", "Zed=1&_sort=x&address=y"},
    {"_sort=-date,name", U, 0, 1, "_sort=-date%2Cname", "_sort=-date%2Cname"},
    /* harmless control parameters stay the user's */
    {"_total=accurate&_summary=count&_elements=id", U, 0, 3,
     "_total=accurate&_summary=count&_elements=id", "_elements=id&_summary=count&_total=accurate"},
    /* mount-owned parameters */
    {"_count=5", U, -EINVAL, 0, NULL, NULL},
    {"_count=", U, -EINVAL, 0, NULL, NULL},
    {"_count", U, -EINVAL, 0, NULL, NULL},
    {"a=1&_count=5", U, -EINVAL, 0, NULL, NULL},
    {"%5Fcount=5", U, -EINVAL, 0, NULL, NULL},
    {"_%63ount=5", U, -EINVAL, 0, NULL, NULL},
    {"_count:missing=true", U, -EINVAL, 0, NULL, NULL},
    {"_offset=1", U, -EINVAL, 0, NULL, NULL},
    {"page=x", U, -EINVAL, 0, NULL, NULL},
    {"_page=x", U, -EINVAL, 0, NULL, NULL},
    {"__page=x", U, -EINVAL, 0, NULL, NULL},
    {"_getpages=x", U, -EINVAL, 0, NULL, NULL},
    {"_getpagesoffset=x", U, -EINVAL, 0, NULL, NULL},
    {"_format=json", U, -EINVAL, 0, NULL, NULL},
    {"_pretty=true", U, -EINVAL, 0, NULL, NULL},
    {"_Count=5", U, 0, 1, "_Count=5", "_Count=5"}, /* names are case-sensitive */
    {"count=5", U, 0, 1, "count=5", "count=5"},
    {"a=_count", U, 0, 1, "a=_count", "a=_count"},
    {"pagex=1", U, 0, 1, "pagex=1", "pagex=1"},
    /* ... which a next link carries and keeps */
    {"_count=100&page=AbC%3D%3D", K, 0, 2, "_count=100&page=AbC%3D%3D",
     "_count=100&page=AbC%3D%3D"},
    {"page=a+b", K, 0, 1, "page=a%2Bb", "page=a%2Bb"},
    {"_getpages=x&_getpagesoffset=100&_count=100&_pretty=true&_bundletype=searchset", K, 0, 5,
     "_getpages=x&_getpagesoffset=100&_count=100&_pretty=true&_bundletype=searchset",
     "_bundletype=searchset&_count=100&_getpages=x&_getpagesoffset=100&_pretty=true"},
    /* malformed */
    {"a=%", U, -EINVAL, 0, NULL, NULL},
    {"a=%2", U, -EINVAL, 0, NULL, NULL},
    {"a=%2G", U, -EINVAL, 0, NULL, NULL},
    {"a=%G2", U, -EINVAL, 0, NULL, NULL},
    {"a=% 2", U, -EINVAL, 0, NULL, NULL},
    {"a=%%", U, -EINVAL, 0, NULL, NULL},
    {"%=1", U, -EINVAL, 0, NULL, NULL},
    {"a=%00", U, -EINVAL, 0, NULL, NULL},
    {"%00=1", U, -EINVAL, 0, NULL, NULL},
    {"a=%00", K, -EINVAL, 0, NULL, NULL},
    {"=1", U, -EINVAL, 0, NULL, NULL},
    {"=", U, -EINVAL, 0, NULL, NULL},
    {"&", U, -EINVAL, 0, NULL, NULL},
    {"&a=1", U, -EINVAL, 0, NULL, NULL},
    {"a=1&", U, -EINVAL, 0, NULL, NULL},
    {"a=1&&b=2", U, -EINVAL, 0, NULL, NULL},
    {"a=1&=2", U, -EINVAL, 0, NULL, NULL},
    {"a=1&&b=2", K, -EINVAL, 0, NULL, NULL},
};

static void test_table(void)
{
	for (size_t i = 0; i < N(cases); i++) {
		const struct qcase *c = &cases[i];
		struct hlfs_fhirquery q;
		const char *why = NULL, *why2 = NULL;
		int chk = hlfs_fhirquery_check(c->q, strlen(c->q), c->mode, &why2);
		int rc = hlfs_fhirquery_parse(c->q, strlen(c->q), c->mode, &q, &why);
		is_int(rc, c->rc, "case %zu: parse rc", i);
		is_int(chk, c->rc, "case %zu: check agrees", i);
		if (rc != c->rc) {
			tap_diag_str("query", c->q);
			if (!rc)
				hlfs_fhirquery_free(&q);
			continue;
		}
		if (rc) {
			ok(why && *why && why == why2, "case %zu: the same reason from both", i);
			/* the reason never quotes the query (PHI); short queries
			 * like "&" or "_count" may occur in its fixed text */
			ok(strlen(c->q) < 7 || !strstr(why, c->q),
			   "case %zu: reason does not quote", i);
			continue;
		}
		is_int(q.n, c->n, "case %zu: parameter count", i);
		is_str(q.wire, c->wire, "case %zu: wire", i);
		is_str(q.key, c->key, "case %zu: key", i);
		hlfs_fhirquery_free(&q);
	}
}

static void test_decoded(void)
{
	struct hlfs_fhirquery q;
	const char *why;
	const char *s = "code=http:%2F%2Floinc.org|8480-6&a&b=x%26y%3Dz&name:exact=M%c3%bcller";
	is_int(hlfs_fhirquery_parse(s, strlen(s), U, &q, &why), 0, "parses");
	is_int(q.n, 4, "four parameters");
	is_str(q.p[0].key, "code", "key 0");
	is_str(q.p[0].value, "http://loinc.org|8480-6", "value 0 decoded");
	is_str(q.p[1].key, "a", "key 1");
	is_str(q.p[1].value, "", "value 1 empty");
	is_str(q.p[2].value, "x&y=z", "value 2 keeps its & and =");
	is_str(q.p[3].key, "name:exact", "modifier in the key");
	is_str(q.p[3].value, "M\xc3\xbcller", "UTF-8 decoded");
	char *w = hlfs_fhirquery_wire_count(&q, 100);
	is_str(w,
	       "code=http%3A%2F%2Floinc.org%7C8480-6&a=&b=x%26y%3Dz&name%3Aexact=M%C3%BCller"
	       "&_count=100",
	       "wire with the mount's page size");
	free(w);
	hlfs_fhirquery_free(&q);
	ok(q.n == 0 && !q.p && !q.wire && !q.key, "free empties the struct");
	hlfs_fhirquery_free(&q);
	hlfs_fhirquery_free(NULL);
	ok(1, "free twice and free(NULL) are fine");

	is_int(hlfs_fhirquery_parse("", 0, U, &q, &why), 0, "empty query");
	w = hlfs_fhirquery_wire_count(&q, 100);
	is_str(w, "_count=100", "empty query: page size alone");
	free(w);
	hlfs_fhirquery_free(&q);
}

static void test_same_search(void)
{
	/* one search written several ways shares one key */
	const char *ways[] = {
	    "patient=p123&date=ge2024-01-01",	  "date=ge2024-01-01&patient=p123",
	    "patient=%70123&date=ge2024-01-01",	  "%70atient=p123&%64ate=ge2024-01-01",
	    "date=ge2024%2D01%2D01&patient=p123",
	};
	char *first = NULL;
	for (size_t i = 0; i < N(ways); i++) {
		struct hlfs_fhirquery q;
		const char *why;
		if (hlfs_fhirquery_parse(ways[i], strlen(ways[i]), U, &q, &why)) {
			ok(0, "way %zu parses", i);
			continue;
		}
		if (!first)
			first = strdup(q.key);
		is_str(q.key, first, "way %zu: same key", i);
		hlfs_fhirquery_free(&q);
	}
	free(first);

	/* different searches differ */
	const char *diff[] = {"a=1", "a=2", "a=1&a=1", "a=1,2", "a:exact=1", "A=1", "a=%2B", "a= "};
	for (size_t i = 0; i < N(diff); i++)
		for (size_t j = i + 1; j < N(diff); j++) {
			struct hlfs_fhirquery x, y;
			const char *why;
			if (hlfs_fhirquery_parse(diff[i], strlen(diff[i]), U, &x, &why) ||
			    hlfs_fhirquery_parse(diff[j], strlen(diff[j]), U, &y, &why)) {
				ok(0, "parse %zu %zu", i, j);
				continue;
			}
			ok(strcmp(x.key, y.key) != 0, "keys of %s and %s differ", diff[i], diff[j]);
			hlfs_fhirquery_free(&x);
			hlfs_fhirquery_free(&y);
		}
}

static void test_owned(void)
{
	const char *yes[] = {"_count",	    "_offset",	       "page",	  "_page",   "__page",
			     "_getpages",   "_getpagesoffset", "_format", "_pretty", "_count:x",
			     "page:missing"};
	const char *no[] = {
	    "_counts",	"count",	"_coun", "",	      ":",	  "pages",
	    "_summary", "_total",	"_sort", "_elements", "_include", "_revinclude",
	    "_id",	"_lastUpdated", "name",	 "_Count",    "Page"};
	for (size_t i = 0; i < N(yes); i++)
		ok(hlfs_fhirquery_owned(yes[i], strlen(yes[i])), "%s is the mount's", yes[i]);
	for (size_t i = 0; i < N(no); i++)
		ok(!hlfs_fhirquery_owned(no[i], strlen(no[i])), "'%s' is the user's", no[i]);
	ok(hlfs_fhirquery_owned("_countX", 6), "length is what counts");
}

static void test_limits(void)
{
	struct hlfs_fhirquery q;
	const char *why;
	char *big = malloc(HLFS_FQ_MAX_LEN + 2);
	/* HLFS_FQ_MAX_PARAMS parameters pass, one more does not */
	size_t n = 0;
	for (int i = 0; i < HLFS_FQ_MAX_PARAMS; i++)
		n += (size_t)snprintf(big + n, 16, "%sa=%d", i ? "&" : "", i);
	is_int(hlfs_fhirquery_parse(big, n, K, &q, &why), 0, "256 parameters");
	is_int(q.n, HLFS_FQ_MAX_PARAMS, "  all kept");
	hlfs_fhirquery_free(&q);
	n += (size_t)snprintf(big + n, 16, "&b=1");
	is_int(hlfs_fhirquery_parse(big, n, K, &q, &why), -EINVAL, "257 parameters");
	/* length */
	memset(big, 'x', HLFS_FQ_MAX_LEN + 1);
	big[0] = 'a';
	big[1] = '=';
	is_int(hlfs_fhirquery_check(big, HLFS_FQ_MAX_LEN, K, &why), 0, "64 KiB query");
	is_int(hlfs_fhirquery_check(big, HLFS_FQ_MAX_LEN + 1, K, &why), -EINVAL, "one more byte");
	/* a key longer than the owned-name buffer is not owned, whatever it is */
	memset(big, '_', 300);
	big[300] = '=';
	is_int(hlfs_fhirquery_check(big, 301, U, &why), 0, "300-byte key");
	free(big);

	/* bytes after n are not read: NULs and garbage past the end */
	is_int(hlfs_fhirquery_parse("a=1&_count=5", 3, U, &q, &why), 0, "only n bytes count");
	is_str(q.wire, "a=1", "  a=1");
	hlfs_fhirquery_free(&q);
	is_int(hlfs_fhirquery_check("a=%2", 3, U, &why), -EINVAL, "escape cut by n");
	/* an embedded NUL is data the wire cannot carry */
	is_int(hlfs_fhirquery_check("a=\0b", 4, U, &why), -EINVAL, "raw NUL");
}

/* Queries placed right before an unreadable page, no NUL after them. */
static void test_guard_page(void)
{
	const char *qs[] = {"a=%",  "a=%4", "%",      "a",    "a=",	   "&",
			    "a=1&", "=",    "_count", "page", "a=%41&b=%", "x"};
	for (size_t i = 0; i < N(qs); i++) {
		struct guarded g = guard(qs[i], strlen(qs[i]));
		struct hlfs_fhirquery q;
		const char *why;
		for (int m = HLFS_FQ_USER; m <= HLFS_FQ_LINK; m++)
			if (hlfs_fhirquery_parse(g.p, strlen(qs[i]), m, &q, &why) == 0)
				hlfs_fhirquery_free(&q);
		unguard(&g);
		ok(1, "guard page: %s", qs[i]);
	}
}

int main(void)
{
	test_table();
	test_decoded();
	test_same_search();
	test_owned();
	test_limits();
	test_guard_page();
	return done_testing();
}
