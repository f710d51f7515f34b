/* SigV4 against the worked examples of AWS-CONVENTIONS.md §1.4 (generated
 * with botocore) plus canonicalisation edge cases. Inputs that the signer
 * parses (path, query, header values) sit right before an unreadable page so
 * that any over-read faults at once. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigv4.h"
#include "tap.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=="
#define NOW ((time_t)1705322096) /* 2024-01-15 12:34:56 UTC */
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DS "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
#define MAX_GUARDED 64

/* Copies of strings placed so their NUL is the last readable byte. */
struct guard_pool {
	void *maps[MAX_GUARDED];
	size_t lens[MAX_GUARDED];
	size_t n;
};

static const char *guarded(struct guard_pool *gp, const char *s)
{
	if (!s)
		return NULL;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = strlen(s) + 1;
	size_t data_pages = (len + page - 1) / page;
	size_t total = (data_pages + 1) * page;
	if (gp->n == MAX_GUARDED)
		abort();
	char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		abort();
	if (mprotect(m + data_pages * page, page, PROT_NONE) != 0)
		abort();
	char *dst = m + data_pages * page - len;
	memcpy(dst, s, len);
	gp->maps[gp->n] = m;
	gp->lens[gp->n] = total;
	gp->n++;
	return dst;
}

static void guard_pool_free(struct guard_pool *gp)
{
	for (size_t i = 0; i < gp->n; i++)
		munmap(gp->maps[i], gp->lens[i]);
	gp->n = 0;
}

struct example {
	const char *name;
	const char *method;
	const char *path;
	const char *query;
	struct hl_header headers[4];
	const char *body;
	const char *token;
	const char *region;
	const char *canonical_request;
	const char *string_to_sign;
	const char *authorization;
};

#define CT_JSON                                              \
	{                                                    \
		"Content-Type", "application/x-amz-json-1.0" \
	}
#define SCOPE_E1 "20240115/us-east-1/healthlake/aws4_request"
#define SCOPE_W2 "20240115/us-west-2/healthlake/aws4_request"
#define STS(scope, hash) "AWS4-HMAC-SHA256\n20240115T123456Z\n" scope "\n" hash
#define AUTH(scope, sh, sig) \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" scope ", SignedHeaders=" sh ", Signature=" sig

/* clang-format off */
static const struct example examples[] = {
	{"A DescribeFHIRDatastore",
	 "POST",
	 "/",
	 NULL,
	 {CT_JSON,
	  {"Host", "healthlake.us-east-1.amazonaws.com"},
	  {"X-Amz-Target", "HealthLake.DescribeFHIRDatastore"}},
	 "{\"DatastoreId\":\"" DS "\"}",
	 NULL,
	 "us-east-1",
	 "POST\n/\n\n"
	 "content-type:application/x-amz-json-1.0\n"
	 "host:healthlake.us-east-1.amazonaws.com\n"
	 "x-amz-date:20240115T123456Z\n"
	 "x-amz-target:HealthLake.DescribeFHIRDatastore\n\n"
	 "content-type;host;x-amz-date;x-amz-target\n"
	 "f6f97d9cc13abf09bd0df5f51e9bda316f9091efe4d2357c22c48caf9d5ae30a",
	 STS(SCOPE_E1, "d4259b44c470d1736bfbc980a96dbed5cdaa396a4d65464742dbaf2107539498"),
	 AUTH(SCOPE_E1, "content-type;host;x-amz-date;x-amz-target",
	      "5ab9dda41de5e96e7f95ad4c2188b40b860ea78cb45bf7198c0b432ef08ec75c")},
	{"B ListFHIRDatastores with token",
	 "POST",
	 "/",
	 "",
	 {CT_JSON,
	  {"Host", "healthlake.us-west-2.amazonaws.com"},
	  {"X-Amz-Target", "HealthLake.ListFHIRDatastores"}},
	 "{\"MaxResults\":10}",
	 TOKEN,
	 "us-west-2",
	 "POST\n/\n\n"
	 "content-type:application/x-amz-json-1.0\n"
	 "host:healthlake.us-west-2.amazonaws.com\n"
	 "x-amz-date:20240115T123456Z\n"
	 "x-amz-security-token:" TOKEN "\n"
	 "x-amz-target:HealthLake.ListFHIRDatastores\n\n"
	 "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
	 "c85361bc66a773f8ac883fc34e452cb647b1af5df5421c966b988ed3466e806b",
	 STS(SCOPE_W2, "fd2fe5a7c12c7787f8bd627a77500715743b3ff52af294ee604905c827cc3ca5"),
	 AUTH(SCOPE_W2, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
	      "3ee85203899f0c25a9b9b0a996cd45793bb431005a055a412a9107126545a5c1")},
	{"C FHIR search with awkward query",
	 "GET",
	 "/datastore/" DS "/r4/Patient",
	 "name=Jos%C3%A9%20Mar%C3%ADa&identifier=urn%3Aoid%3A1.2.36%7Ca%2Bb%2Fc%3Dd"
	 "&address-city=%E6%9D%B1%E4%BA%AC&given=b&given=a&_count=50&family=&_elements=id%2Cname",
	 {{"Host", "healthlake.us-east-1.amazonaws.com"}},
	 "",
	 NULL,
	 "us-east-1",
	 "GET\n/datastore/" DS "/r4/Patient\n"
	 "_count=50&_elements=id%2Cname&address-city=%E6%9D%B1%E4%BA%AC&family=&given=a&given=b"
	 "&identifier=urn%3Aoid%3A1.2.36%7Ca%2Bb%2Fc%3Dd&name=Jos%C3%A9%20Mar%C3%ADa\n"
	 "host:healthlake.us-east-1.amazonaws.com\n"
	 "x-amz-date:20240115T123456Z\n\n"
	 "host;x-amz-date\n" EMPTY_SHA,
	 STS(SCOPE_E1, "899d2daa811ca3444bd924c60e09544db708b61c32f30a070bd9e3d3c3528541"),
	 AUTH(SCOPE_E1, "host;x-amz-date",
	      "f9a9b8666ecf3d6a56730e5e3f85b4d808c41bd634d540aaba56d7b0a5563b60")},
	{"D $export with token",
	 "GET",
	 "/datastore/" DS "/r4/Patient/$export",
	 "_type=Patient%2CObservation&_since=2024-01-01T00%3A00%3A00Z",
	 {{"Host", "healthlake.us-east-1.amazonaws.com"}},
	 NULL,
	 TOKEN,
	 "us-east-1",
	 "GET\n/datastore/" DS "/r4/Patient/%24export\n"
	 "_since=2024-01-01T00%3A00%3A00Z&_type=Patient%2CObservation\n"
	 "host:healthlake.us-east-1.amazonaws.com\n"
	 "x-amz-date:20240115T123456Z\n"
	 "x-amz-security-token:" TOKEN "\n\n"
	 "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA,
	 STS(SCOPE_E1, "e6356074e67869ed2278328f8ad5ca3397102b9535a9db162d79e3397160248b"),
	 AUTH(SCOPE_E1, "host;x-amz-date;x-amz-security-token",
	      "a55c784cf4d062a9443256bd8973eeeb421dc9701f415b218211abe56423b880")},
	{"E custom endpoint with port",
	 "POST",
	 "/base/path",
	 NULL,
	 {CT_JSON, {"Host", "example.com:8443"}, {"X-Amz-Target", "HealthLake.ListFHIRDatastores"}},
	 "{}",
	 NULL,
	 "eu-west-1",
	 "POST\n/base/path\n\n"
	 "content-type:application/x-amz-json-1.0\n"
	 "host:example.com:8443\n"
	 "x-amz-date:20240115T123456Z\n"
	 "x-amz-target:HealthLake.ListFHIRDatastores\n\n"
	 "content-type;host;x-amz-date;x-amz-target\n"
	 "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
	 STS("20240115/eu-west-1/healthlake/aws4_request",
	     "17ad95210ac39d0d6259e58619ac3674686b32e48bd03129a0d5e2c60fb2b6d4"),
	 AUTH("20240115/eu-west-1/healthlake/aws4_request",
	      "content-type;host;x-amz-date;x-amz-target",
	      "75bd20d347d3f86a04457ed9b5a6f8a7c0ca183fdbaedec10605679d1879aba8")},
};
/* clang-format on */

static size_t count_headers(const struct hl_header *h, size_t max)
{
	size_t n = 0;
	while (n < max && h[n].name)
		n++;
	return n;
}

static void test_examples(void)
{
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		const struct example *ex = &examples[i];
		struct guard_pool gp = {0};
		struct hl_header hdrs[4];
		size_t nh = count_headers(ex->headers, 4);
		for (size_t h = 0; h < nh; h++) {
			hdrs[h].name = guarded(&gp, ex->headers[h].name);
			hdrs[h].value = guarded(&gp, ex->headers[h].value);
		}
		struct hl_sigv4_request req = {
		    .method = guarded(&gp, ex->method),
		    .path = guarded(&gp, ex->path),
		    .query = guarded(&gp, ex->query),
		    .headers = hdrs,
		    .n_headers = nh,
		    .body = ex->body,
		    .body_len = ex->body ? strlen(ex->body) : 0,
		};
		struct hl_credentials cr = {.access_key_id = AKID,
					    .secret_access_key = SECRET,
					    .session_token = (char *)ex->token};
		struct hl_sigv4_result r = {0};
		struct hl_error err;
		hl_error_clear(&err);
		enum hl_err rc = hl_sigv4_sign(&req, &cr, ex->region, "healthlake", NOW, &r, &err);
		is_int(rc, HL_ERR_OK, "%s: signs (%s)", ex->name, err.message);
		is_str(r.canonical_request, ex->canonical_request, "%s: canonical request",
		       ex->name);
		is_str(r.string_to_sign, ex->string_to_sign, "%s: string to sign", ex->name);
		is_str(r.authorization, ex->authorization, "%s: Authorization", ex->name);
		is_str(r.amz_date, "20240115T123456Z", "%s: X-Amz-Date", ex->name);
		/* the documented hash of the canonical request is the STS's last line */
		char h[65];
		hl_sha256_hex(ex->canonical_request, strlen(ex->canonical_request), h);
		is_str(h, strrchr(ex->string_to_sign, '\n') + 1,
		       "%s: expected canonical request hashes to the documented value", ex->name);
		hl_sigv4_result_free(&r);
		guard_pool_free(&gp);
	}
}

static void hex32(const unsigned char *k, char out[65])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[k[i] >> 4];
		out[2 * i + 1] = d[k[i] & 15];
	}
	out[64] = '\0';
}

static void test_derived_keys(void)
{
	static const struct {
		const char *region;
		const char *k_date, *k_region, *k_service, *k_signing;
	} cases[] = {
	    {"us-east-1", "207de81b9b5d0a2cc6c672095d223f04f88789dbcb2aaca6add895e6edb59a77",
	     "3e9db546b60345435b8ff91152afd8aa6a46cd8bf5d1ca3da1ac64da530d850c",
	     "9703c6a3b207ea588e3ef5cfb1ff52d6a3384799374e963f7c873d21c624f4d8",
	     "afbf7a2ded76260c629417ce831aa30184eed46aa930e2974e98774a68c8f754"},
	    {"us-west-2", "207de81b9b5d0a2cc6c672095d223f04f88789dbcb2aaca6add895e6edb59a77",
	     "bcdd2d8ab361880e8e8a999495f0b933c80e31f39ebb3fa9753c4ce0ab5d9a8f",
	     "6d213e36cf8bb48ac672944d152c22e2f5f03522c7cf5c57e62fdb9380d1b1a0",
	     "06614d9c9041f9e7a1e7fb08041fd0e539c598f664a2c465e51b560ab30a5dcf"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hl_sigv4_keys k;
		char h[65];
		is_int(hl_sigv4_derive_keys(SECRET, "20240115", cases[i].region, "healthlake", &k),
		       HL_ERR_OK, "derive keys %s", cases[i].region);
		hex32(k.k_date, h);
		is_str(h, cases[i].k_date, "kDate %s", cases[i].region);
		hex32(k.k_region, h);
		is_str(h, cases[i].k_region, "kRegion %s", cases[i].region);
		hex32(k.k_service, h);
		is_str(h, cases[i].k_service, "kService %s", cases[i].region);
		hex32(k.k_signing, h);
		is_str(h, cases[i].k_signing, "kSigning %s", cases[i].region);
		hl_sigv4_keys_wipe(&k);
		static const unsigned char zero[sizeof(k)];
		ok(memcmp(&k, zero, sizeof(k)) == 0, "wipe zeroes the keys");
	}
	struct hl_sigv4_keys k;
	is_int(hl_sigv4_derive_keys(NULL, "20240115", "r", "s", &k), HL_ERR_INVALID,
	       "derive keys: NULL secret");
	is_int(hl_sigv4_derive_keys(SECRET, "20240115", "r", "s", NULL), HL_ERR_INVALID,
	       "derive keys: NULL result");
}

/* Signs a GET with only a Host header (plus extra headers) and returns part
 * `line` of the canonical request in out: 0 method, 1 URI, 2 query, 3 the
 * header block, 4 signed headers. false if signing failed. */
static bool canon_line(const char *path, const char *query, const struct hl_header *extra,
		       size_t n_extra, const char *token, int line, char *out, size_t outsz)
{
	struct guard_pool gp = {0};
	struct hl_header hdrs[8];
	size_t n = 0;
	hdrs[n].name = "host";
	hdrs[n].value = "h.example";
	n++;
	for (size_t i = 0; i < n_extra && n < 8; i++) {
		hdrs[n].name = guarded(&gp, extra[i].name);
		hdrs[n].value = guarded(&gp, extra[i].value);
		n++;
	}
	struct hl_sigv4_request req = {.method = "GET",
				       .path = guarded(&gp, path),
				       .query = guarded(&gp, query),
				       .headers = hdrs,
				       .n_headers = n};
	struct hl_credentials cr = {
	    .access_key_id = AKID, .secret_access_key = SECRET, .session_token = (char *)token};
	struct hl_sigv4_result r = {0};
	bool good = hl_sigv4_sign(&req, &cr, "us-east-1", "healthlake", NOW, &r, NULL) == HL_ERR_OK;
	if (good) {
		const char *p = r.canonical_request;
		for (int i = 0; i < (line < 3 ? line : 3) && p; i++) {
			p = strchr(p, '\n');
			if (p)
				p++;
		}
		if (p && line >= 4) { /* the line after the header block's empty line */
			p = strstr(p, "\n\n");
			if (p)
				p += 2;
		}
		good = p != NULL;
		if (good) {
			size_t len = strcspn(p, "\n");
			if (line == 3) /* the header block: up to the empty line */
				len = (size_t)(strstr(p, "\n\n") - p) + 1;
			snprintf(out, outsz, "%.*s", (int)len, p);
		}
	}
	hl_sigv4_result_free(&r);
	guard_pool_free(&gp);
	return good;
}

static void test_canonical_uri(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"/a//b/./c/../d", "/a/b/d"},
	    {"/r4/Patient/$export", "/r4/Patient/%24export"},
	    {"/a%20b/c d", "/a%2520b/c%20d"},
	    {"/x/\xc3\xa9", "/x/%C3%A9"},
	    {"//double//", "/double/"},
	    {"/a/..", "/"},
	    {"", "/"},
	    {"/", "/"},
	    {"/a/b/", "/a/b/"},
	    {"/..", "/"},
	    {"/./", "/"},
	    {"/a/../b/../", "/"},
	    {"/%2F/~x", "/%252F/~x"},
	    {"/a/.../b", "/a/.../b"},
	    {"/:@!*'()+,;=&", "/%3A%40%21%2A%27%28%29%2B%2C%3B%3D%26"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[256] = "";
		ok(canon_line(cases[i].in, NULL, NULL, 0, NULL, 1, got, sizeof(got)),
		   "uri case %zu signs", i);
		is_str(got, cases[i].want, "canonical URI of \"%s\"", cases[i].in);
	}
}

static void test_canonical_query(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {NULL, ""},
	    {"", ""},
	    {"a&b=&=c&", "=&=c&a=&b="},
	    {"b=2&a=1&a=0", "a=0&a=1&b=2"},
	    {"k=v=w", "k=v=w"},
	    {"_count=1&Zed=2&address=3", "Zed=2&_count=1&address=3"},
	    {"&", "=&="},
	    {"a=b%2Bc&a=b", "a=b&a=b%2Bc"},
	    {"x", "x="},
	    {"ab=1&a=2", "a=2&ab=1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[256] = "x";
		ok(canon_line("/", cases[i].in, NULL, 0, NULL, 2, got, sizeof(got)),
		   "query case %zu signs", i);
		is_str(got, cases[i].want, "canonical query of \"%s\"",
		       cases[i].in ? cases[i].in : "(null)");
	}
}

static void test_header_folding(void)
{
	static const struct hl_header extra[] = {
	    {"X-A", "  a   b\t c  "},
	    {"x-a", "2"},
	    {"X-E", ""},
	    {"X-N", "a\xc2\xa0\xe3\x80\x80"
		    "b"},
	    {"X-Amz-Date", "old"},
	    {"Authorization", "x"},
	    {"X-Amz-Security-Token", "old"},
	};
	char got[1024] = "";
	ok(canon_line("/", NULL, extra, 7, "TOK", 3, got, sizeof(got)), "header case signs");
	/* the same request through botocore gives exactly this block */
	is_str(got,
	       "host:h.example\nx-a:a b c,2\nx-amz-date:20240115T123456Z\n"
	       "x-amz-security-token:TOK\nx-e:\nx-n:a b\n",
	       "headers: lowercase, folded, repeats joined, ours replace the caller's");
	ok(canon_line("/", NULL, extra, 7, "TOK", 4, got, sizeof(got)), "header case signs");
	is_str(got, "host;x-a;x-amz-date;x-amz-security-token;x-e;x-n", "signed headers");

	/* without a token a caller's X-Amz-Security-Token is signed as given */
	ok(canon_line("/", NULL, extra + 6, 1, "", 4, got, sizeof(got)), "empty token signs");
	is_str(got, "host;x-amz-date;x-amz-security-token", "empty token: caller's token kept");
	ok(canon_line("/", NULL, extra + 6, 1, "", 3, got, sizeof(got)), "empty token signs");
	is_str(got, "host:h.example\nx-amz-date:20240115T123456Z\nx-amz-security-token:old\n",
	       "empty token: caller's value signed");
}

static void test_lowercase_method(void)
{
	char got[64] = "";
	struct hl_header h = {"Host", "h"};
	struct hl_sigv4_request req = {
	    .method = "delete", .path = "/", .headers = &h, .n_headers = 1};
	struct hl_credentials cr = {.access_key_id = AKID, .secret_access_key = SECRET};
	struct hl_sigv4_result r = {0};
	is_int(hl_sigv4_sign(&req, &cr, "us-east-1", "healthlake", NOW, &r, NULL), HL_ERR_OK,
	       "lowercase method signs");
	snprintf(got, sizeof(got), "%.*s", (int)strcspn(r.canonical_request, "\n"),
		 r.canonical_request);
	is_str(got, "DELETE", "method is uppercased like botocore does");
	hl_sigv4_result_free(&r);
	hl_sigv4_result_free(NULL);
}

static void test_errors(void)
{
	static const struct hl_header host = {"Host", "h"};
	static const struct hl_header bad_name = {"X A", "v"};
	static const struct hl_header colon_name = {"X:A", "v"};
	static const struct hl_header crlf = {"X-A", "v\r\nInjected: 1"};
	static const struct hl_header date = {"Date", "Mon, 15 Jan 2024 12:34:56 GMT"};
	static const struct hl_header null_value = {"X-A", NULL};
	static const struct hl_header only_other = {"X-A", "v"};
	static const struct {
		const char *name;
		const char *method, *path;
		const struct hl_header *hdr;
		size_t n_hdr;
		const void *body;
		size_t body_len;
		const char *akid, *secret, *token, *region, *service;
		time_t now;
	} cases[] = {
	    {"NULL method", NULL, "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"empty method", "", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"method with space", "GE T", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "r", "s",
	     NOW},
	    {"NULL path", "GET", NULL, &host, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"NULL headers", "GET", "/", NULL, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"no headers", "GET", "/", NULL, 0, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"no host", "GET", "/", &only_other, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"bad header name", "GET", "/", &bad_name, 1, NULL, 0, AKID, SECRET, NULL, "r", "s",
	     NOW},
	    {"colon in name", "GET", "/", &colon_name, 1, NULL, 0, AKID, SECRET, NULL, "r", "s",
	     NOW},
	    {"CRLF in value", "GET", "/", &crlf, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"Date header", "GET", "/", &date, 1, NULL, 0, AKID, SECRET, NULL, "r", "s", NOW},
	    {"NULL header value", "GET", "/", &null_value, 1, NULL, 0, AKID, SECRET, NULL, "r", "s",
	     NOW},
	    {"NULL body with length", "POST", "/", &host, 1, NULL, 3, AKID, SECRET, NULL, "r", "s",
	     NOW},
	    {"NULL key", "GET", "/", &host, 1, NULL, 0, NULL, SECRET, NULL, "r", "s", NOW},
	    {"empty key", "GET", "/", &host, 1, NULL, 0, "", SECRET, NULL, "r", "s", NOW},
	    {"NULL secret", "GET", "/", &host, 1, NULL, 0, AKID, NULL, NULL, "r", "s", NOW},
	    {"empty secret", "GET", "/", &host, 1, NULL, 0, AKID, "", NULL, "r", "s", NOW},
	    {"token with LF", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, "a\nb", "r", "s", NOW},
	    {"NULL region", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, NULL, "s", NOW},
	    {"empty region", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "", "s", NOW},
	    {"slash in region", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "a/b", "s", NOW},
	    {"NULL service", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "r", NULL, NOW},
	    {"year 10000", "GET", "/", &host, 1, NULL, 0, AKID, SECRET, NULL, "r", "s",
	     (time_t)253402300800},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hl_sigv4_request req = {.method = cases[i].method,
					       .path = cases[i].path,
					       .headers = cases[i].hdr,
					       .n_headers = cases[i].n_hdr,
					       .body = cases[i].body,
					       .body_len = cases[i].body_len};
		struct hl_credentials cr = {.access_key_id = (char *)cases[i].akid,
					    .secret_access_key = (char *)cases[i].secret,
					    .session_token = (char *)cases[i].token};
		char sentinel;
		struct hl_sigv4_result r = {.canonical_request = &sentinel};
		struct hl_error err;
		hl_error_clear(&err);
		is_int(hl_sigv4_sign(&req, &cr, cases[i].region, cases[i].service, cases[i].now, &r,
				     &err),
		       HL_ERR_INVALID, "error: %s", cases[i].name);
		ok(r.canonical_request == &sentinel, "error: %s leaves the result untouched",
		   cases[i].name);
		ok(err.code == HL_ERR_INVALID && err.message[0], "error: %s sets a message (%s)",
		   cases[i].name, err.message);
		ok(!strstr(err.message, SECRET), "error: %s does not quote the secret",
		   cases[i].name);
	}
	struct hl_sigv4_request req = {
	    .method = "GET", .path = "/", .headers = &host, .n_headers = 1};
	struct hl_credentials cr = {.access_key_id = AKID, .secret_access_key = SECRET};
	struct hl_sigv4_result r = {0};
	is_int(hl_sigv4_sign(NULL, &cr, "r", "s", NOW, &r, NULL), HL_ERR_INVALID, "NULL request");
	is_int(hl_sigv4_sign(&req, NULL, "r", "s", NOW, &r, NULL), HL_ERR_INVALID, "NULL creds");
	is_int(hl_sigv4_sign(&req, &cr, "r", "s", NOW, NULL, NULL), HL_ERR_INVALID, "NULL result");
}

static void test_sha256(void)
{
	char h[65];
	hl_sha256_hex("", 0, h);
	is_str(h, EMPTY_SHA, "sha256 of nothing");
	hl_sha256_hex(NULL, 0, h);
	is_str(h, EMPTY_SHA, "sha256 of NULL, 0");
	hl_sha256_hex("abc", 3, h);
	is_str(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
}

static void test_binary_body(void)
{
	/* bytes including NUL are hashed exactly, not as a string */
	static const unsigned char body[] = {0x00, 0xff, 0x10, 0x00};
	struct hl_header host = {"Host", "h"};
	struct hl_sigv4_request req = {.method = "PUT",
				       .path = "/",
				       .headers = &host,
				       .n_headers = 1,
				       .body = body,
				       .body_len = sizeof(body)};
	struct hl_credentials cr = {.access_key_id = AKID, .secret_access_key = SECRET};
	struct hl_sigv4_result r = {0};
	char want[65];
	hl_sha256_hex(body, sizeof(body), want);
	is_int(hl_sigv4_sign(&req, &cr, "r", "s", NOW, &r, NULL), HL_ERR_OK, "binary body signs");
	const char *last = r.canonical_request ? strrchr(r.canonical_request, '\n') : NULL;
	is_str(last ? last + 1 : NULL, want, "payload hash covers all body bytes");
	hl_sigv4_result_free(&r);
}

/* S3's rules (AWS-CONVENTIONS.md §8.1): the path as sent, and
 * x-amz-content-sha256 added, signed and replacing the caller's. */
static void test_s3_mode(void)
{
	const struct hl_header hdrs[] = {{"Host", "127.0.0.1:8080"},
					 {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}};
	struct hl_sigv4_request req = {
	    .method = "GET",
	    .path = "/demo-bucket/export/a%20b//x/../Patient%2B1.ndjson",
	    .query = NULL,
	    .headers = hdrs,
	    .n_headers = 2,
	    .s3 = true,
	};
	struct hl_credentials creds = {.access_key_id = "AKIDEXAMPLE",
				       .secret_access_key = "secret"};
	struct hl_sigv4_result r = {0};
	struct hl_error e;
	is_int(hl_sigv4_sign(&req, &creds, "us-east-1", "s3", 1705322096, &r, &e), HL_ERR_OK,
	       "S3 request signed");
	is_str(r.canonical_request,
	       "GET\n/demo-bucket/export/a%20b//x/../Patient%2B1.ndjson\n\n"
	       "host:127.0.0.1:8080\n"
	       "x-amz-content-sha256:"
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	       "x-amz-date:20240115T123456Z\n\n"
	       "host;x-amz-content-sha256;x-amz-date\n"
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "path as sent, content hash signed");
	is_str(r.payload_hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "payload hash to send");
	hl_sigv4_result_free(&r);
	req.s3 = false;
	req.n_headers = 1;
	is_int(hl_sigv4_sign(&req, &creds, "us-east-1", "healthlake", 1705322096, &r, &e),
	       HL_ERR_OK, "same path, FHIR rules");
	ok(strstr(r.canonical_request, "\n/demo-bucket/export/a%2520b/Patient%252B1.ndjson\n") !=
	       NULL,
	   "FHIR rules normalise and encode again");
	ok(!strstr(r.canonical_request, "x-amz-content-sha256"), "no content hash header");
	hl_sigv4_result_free(&r);
}

int main(void)
{
	test_examples();
	test_s3_mode();
	test_derived_keys();
	test_canonical_uri();
	test_canonical_query();
	test_header_folding();
	test_lowercase_method();
	test_errors();
	test_sha256();
	test_binary_body();
	return done_testing();
}
