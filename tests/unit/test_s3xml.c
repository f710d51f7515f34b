#include "s3xml.h"

#include "buf.h"

#include "guard.h"
#include "tap.h"

static const char page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix>out/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
    "<Contents><Key>out/Patient-1.ndjson</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
    "<Size>434234</Size><Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>"
    "<StorageClass>STANDARD</StorageClass></Contents>\n"
    "<Contents><Key>out/a &amp; b &lt;&#x41;&gt;.ndjson</Key>"
    "<LastModified>2026-12-01T10:00:01.500Z</LastModified><Size>18446744073709551615</Size></Contents>"
    "<CommonPrefixes><Prefix>out/sub/</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>out/z/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

static enum hl_err parse(const char *s, size_t n, struct hl_s3_list *l, struct hl_error *err)
{
	struct guarded g = guard(s, n);
	hl_error_clear(err);
	enum hl_err rc = hl_s3_list_parse(g.p, n, l, err);
	unguard(&g);
	return rc;
}

static void test_page(void)
{
	struct hl_s3_list l;
	struct hl_error err;

	is_int(parse(page, strlen(page), &l, &err), HL_ERR_OK, "a ListObjectsV2 page");
	if (err.code)
		diag("%s", err.message);
	is_int((long long)l.n_objects, 2, "two objects");
	is_str(l.objects[0].key, "out/Patient-1.ndjson", "key");
	ok(l.objects[0].size == 434234, "size");
	is_str(l.objects[0].etag, "\"9b2cf535f27731c974343645a3985328\"", "ETag with its quotes");
	is_str(l.objects[0].last_modified, "2026-12-01T10:00:00.000Z", "LastModified as sent");
	ok(l.objects[0].mtime == 1796119200.0, "mtime %.3f", l.objects[0].mtime);
	is_str(l.objects[0].storage_class, "STANDARD", "StorageClass");
	is_str(l.objects[1].key, "out/a & b <A>.ndjson", "XML references decoded in a key");
	ok(l.objects[1].size == UINT64_MAX, "size up to 2^64-1");
	ok(l.objects[1].mtime == 1796119201.5, "fractional mtime");
	ok(l.objects[1].etag == NULL && l.objects[1].storage_class == NULL, "absent is NULL");
	is_int((long long)l.n_prefixes, 2, "two common prefixes");
	is_str(l.prefixes[0], "out/sub/", "first prefix");
	is_str(l.prefixes[1], "out/z/", "second prefix");
	ok(l.is_truncated, "truncated");
	is_str(l.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", "continuation token");
	ok(l.has_key_count && l.key_count == 2, "KeyCount");
	ok(!l.url_encoded, "not url-encoded");
	hl_s3_list_clear(&l);
	ok(l.objects == NULL && l.n_objects == 0, "clear zeroes");
	hl_s3_list_clear(NULL);

	const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
			   "</ListBucketResult>";
	is_int(parse(last, strlen(last), &l, &err), HL_ERR_OK, "an empty last page");
	ok(!l.is_truncated && l.next_token == NULL && l.n_objects == 0 && l.key_count == 0,
	   "nothing in it");
	hl_s3_list_clear(&l);
}

static void test_url_encoding(void)
{
	/* EncodingType after the keys: decoding waits for the end. */
	const char *x = "<ListBucketResult><Contents><Key>a%20b+c%2Bd/%C3%A9%2F%2f..//x</Key>"
			"<LastModified>2026-12-01T10:00:00Z</LastModified><Size>0</Size></Contents>"
			"<CommonPrefixes><Prefix>p+q%25/</Prefix></CommonPrefixes>"
			"<EncodingType>url</EncodingType></ListBucketResult>";
	struct hl_s3_list l;
	struct hl_error err;

	is_int(parse(x, strlen(x), &l, &err), HL_ERR_OK, "url-encoded page");
	ok(l.url_encoded, "EncodingType url seen");
	is_str(l.objects[0].key, "a b c+d/\xc3\xa9//..//x", "key decoded (%%XX, + is a space)");
	is_str(l.prefixes[0], "p q%/", "prefix decoded");
	hl_s3_list_clear(&l);

	static const char *const bad[] = {"a%2", "a%zz", "a%00b", "%", "a%2G"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char doc[512];
		snprintf(doc, sizeof doc,
			 "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%s</Key>"
			 "<LastModified>2026-12-01T10:00:00Z</LastModified><Size>1</Size></Contents>"
			 "</ListBucketResult>",
			 bad[i]);
		is_int(parse(doc, strlen(doc), &l, &err), HL_ERR_PROTOCOL, "bad escape %s", bad[i]);
		is_str(err.message, "S3 listing: Key is not URL-encoded", "message names the element");
	}
}

static void refused(const char *doc, size_t n, const char *name, const char *msg)
{
	struct hl_s3_list l;
	struct hl_error err;

	is_int(parse(doc, n, &l, &err), HL_ERR_PROTOCOL, "refused: %s", name);
	ok(l.objects == NULL && l.prefixes == NULL && l.next_token == NULL, "zeroed: %s", name);
	if (msg)
		is_str(err.message, msg, "message: %s", name);
}

#define C(body) "<ListBucketResult><Contents>" body "</Contents></ListBucketResult>"
#define LM "<LastModified>2026-12-01T10:00:00Z</LastModified>"

static void test_hostile(void)
{
	const char *laughs =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>"
	    "<ListBucketResult><Contents><Key>&lol2;</Key></Contents></ListBucketResult>";
	refused(laughs, strlen(laughs), "billion laughs", "S3 listing: DOCTYPE refused");
	const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
			  "<ListBucketResult><Contents><Key>&x;</Key></Contents></ListBucketResult>";
	refused(xxe, strlen(xxe), "external entity", "S3 listing: DOCTYPE refused");
	const char *dtd = "<!DOCTYPE ListBucketResult SYSTEM \"http://example.com/x.dtd\">"
			  "<ListBucketResult/>";
	refused(dtd, strlen(dtd), "external DTD", "S3 listing: DOCTYPE refused");
	const char *undef = C("<Key>&foo;</Key>" LM "<Size>1</Size>");
	refused(undef, strlen(undef), "undefined entity", NULL);
	refused("", 0, "empty", NULL);
	refused("<ListBucketResult>", 18, "unclosed root", NULL);
	refused("<ListBucketResult></ListBucketResult><x/>", 41, "two roots", NULL);
	refused("<ListBucketResult><a></b></ListBucketResult>", 44, "mismatched tags", NULL);
	refused("<ListBucketResult>\xff</ListBucketResult>", 38, "invalid UTF-8", NULL);
	refused("<ListBucketResult>&#0;</ListBucketResult>", 41, "character reference to NUL",
		NULL);
	refused("<Error><Code>x</Code></Error>", 29, "an error document is not a page",
		"S3 listing: not a ListBucketResult");

	const char *missing[] = {
	    C("<Key>k</Key>" LM), C("<Size>1</Size>" LM), C("<Key>k</Key><Size>1</Size>"),
	};
	for (size_t i = 0; i < 3; i++)
		refused(missing[i], strlen(missing[i]), "Contents without a field",
			"S3 listing: Contents without Key, Size or LastModified");
	const char *sizes[] = {
	    C("<Key>k</Key>" LM "<Size>-1</Size>"), C("<Key>k</Key>" LM "<Size>1.5</Size>"),
	    C("<Key>k</Key>" LM "<Size></Size>"), C("<Key>k</Key>" LM "<Size> 1</Size>"),
	    C("<Key>k</Key>" LM "<Size>18446744073709551616</Size>"),
	    C("<Key>k</Key>" LM "<Size>1</Size><Size>1</Size>"),
	};
	for (size_t i = 0; i < 6; i++)
		refused(sizes[i], strlen(sizes[i]), "bad Size", "S3 listing: bad or repeated Size");
	const char *time = C("<Key>k</Key><LastModified>yesterday</LastModified><Size>1</Size>");
	refused(time, strlen(time), "bad LastModified", "S3 listing: LastModified is not a time");
	const char *twice = C("<Key>k</Key><Key>j</Key>" LM "<Size>1</Size>");
	refused(twice, strlen(twice), "two Keys", "S3 listing: repeated element Key");
	const char *inner = C("<Key>k<b>x</b></Key>" LM "<Size>1</Size>");
	refused(inner, strlen(inner), "element in a value", "S3 listing: element inside a value: b");
	const char *trunc = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	refused(trunc, strlen(trunc), "truncated, no token",
		"S3 listing: truncated page without NextContinuationToken");
	const char *yes = "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>";
	refused(yes, strlen(yes), "IsTruncated yes", "S3 listing: bad IsTruncated");
	const char *enc = "<ListBucketResult><EncodingType>b64</EncodingType></ListBucketResult>";
	refused(enc, strlen(enc), "unknown encoding", "S3 listing: unknown EncodingType");

	/* Nesting: 32 levels are read, 33 refused. */
	struct hl_buf b;
	struct hl_s3_list l;
	struct hl_error err;
	hl_buf_init(&b, 0);
	for (int depth = 32; depth <= 33; depth++) {
		hl_buf_reset(&b);
		if (hl_buf_appends(&b, "<ListBucketResult>"))
			abort();
		for (int i = 1; i < depth; i++)
			if (hl_buf_appends(&b, "<a>"))
				abort();
		for (int i = 1; i < depth; i++)
			if (hl_buf_appends(&b, "</a>"))
				abort();
		if (hl_buf_appends(&b, "</ListBucketResult>"))
			abort();
		enum hl_err rc = parse(b.data, b.len, &l, &err);
		is_int(rc, depth == 32 ? HL_ERR_OK : HL_ERR_PROTOCOL, "nesting %d", depth);
		hl_s3_list_clear(&l);
	}
	is_str(err.message, "S3 listing: nesting too deep", "depth message");

	/* A value over 16 KiB is refused; one of 16 KiB is read. */
	for (size_t len = 16 * 1024; len <= 16 * 1024 + 1; len++) {
		hl_buf_reset(&b);
		if (hl_buf_appends(&b, "<ListBucketResult><NextContinuationToken>"))
			abort();
		for (size_t i = 0; i < len; i++)
			if (hl_buf_appendc(&b, 't'))
				abort();
		if (hl_buf_appends(&b, "</NextContinuationToken></ListBucketResult>"))
			abort();
		is_int(parse(b.data, b.len, &l, &err), len <= 16 * 1024 ? HL_ERR_OK : HL_ERR_PROTOCOL,
		       "value of %zu bytes", len);
		hl_s3_list_clear(&l);
	}
	is_str(err.message, "S3 listing: value too long in NextContinuationToken", "length message");
	hl_buf_free(&b);

	/* Every truncation of a valid page is refused, with no leak. */
	size_t n = strlen(page), count = 0;
	for (size_t i = 0; i < n; i++) {
		if (parse(page, i, &l, &err) == HL_ERR_PROTOCOL)
			count++;
		hl_s3_list_clear(&l);
	}
	is_int((long long)count, (long long)n, "every truncated page refused");
}

static void test_many(void)
{
	struct hl_buf b;
	struct hl_s3_list l;
	struct hl_error err;
	bool all = true;

	hl_buf_init(&b, 0);
	if (hl_buf_appends(&b, "<ListBucketResult>"))
		abort();
	for (int i = 0; i < 1000; i++)
		if (hl_buf_appendf(&b, "<Contents><Key>k/%d</Key>" LM "<Size>%d</Size></Contents>", i,
				   i))
			abort();
	if (hl_buf_appends(&b, "</ListBucketResult>"))
		abort();
	is_int(parse(b.data, b.len, &l, &err), HL_ERR_OK, "1000 objects");
	is_int((long long)l.n_objects, 1000, "all read");
	for (size_t i = 0; i < l.n_objects && all; i++) {
		char want[32];
		snprintf(want, sizeof want, "k/%zu", i);
		all = strcmp(l.objects[i].key, want) == 0 && l.objects[i].size == i;
	}
	ok(all, "in order, with their sizes");
	hl_s3_list_clear(&l);
	hl_buf_free(&b);
}

static void test_errors(void)
{
	static const struct {
		long status;
		const char *body;
		enum hl_err want;
		const char *code, *msg;
	} cases[] = {
	    {404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
		  "<Message>The specified key does not exist.</Message><Key>secret/key</Key>"
		  "<RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>",
	     HL_ERR_NOT_FOUND, "NoSuchKey", "The specified key does not exist."},
	    {404, "<Error><Code>NoSuchBucket</Code></Error>", HL_ERR_NOT_FOUND, "NoSuchBucket", ""},
	    {403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
	     HL_ERR_ACCESS_DENIED, "AccessDenied", "Access Denied"},
	    {403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", HL_ERR_AUTH,
	     "SignatureDoesNotMatch", ""},
	    {403, "<Error><Code>InvalidAccessKeyId</Code></Error>", HL_ERR_AUTH, "InvalidAccessKeyId",
	     ""},
	    {400, "<Error><Code>ExpiredToken</Code></Error>", HL_ERR_AUTH, "ExpiredToken", ""},
	    {503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
		  "</Error>",
	     HL_ERR_THROTTLED, "SlowDown", "Please reduce your request rate."},
	    {500, "<Error><Code>InternalError</Code></Error>", HL_ERR_SERVER, "InternalError", ""},
	    {416, "<Error><Code>InvalidRange</Code></Error>", HL_ERR_RANGE, "InvalidRange", ""},
	    {412, "<Error><Code>PreconditionFailed</Code></Error>", HL_ERR_PRECONDITION,
	     "PreconditionFailed", ""},
	    {400, "<Error><Code>InvalidArgument</Code><Message>a\nb\tc</Message></Error>",
	     HL_ERR_VALIDATION, "InvalidArgument", "a b c"},
	    {404, "", HL_ERR_NOT_FOUND, "404", ""},
	    {412, "", HL_ERR_PRECONDITION, "412", ""},
	    {416, NULL, HL_ERR_RANGE, "416", ""},
	    {403, "", HL_ERR_ACCESS_DENIED, "403", ""},
	    {405, "", HL_ERR_UNSUPPORTED, "405", ""},
	    {501, "", HL_ERR_UNSUPPORTED, "501", ""},
	    {413, "", HL_ERR_REQUEST_TOO_LARGE, "413", ""},
	    {502, "<html><body>Bad Gateway</body></html>", HL_ERR_SERVER, "502", ""},
	    {503, "", HL_ERR_SERVER, "503", ""},
	    {409, "<Error><Code>Weird</Code></Error>", HL_ERR_SERVICE, "Weird", ""},
	    {400, "<!DOCTYPE x [<!ENTITY a \"b\">]><Error><Code>&a;</Code></Error>",
	     HL_ERR_VALIDATION, "400", ""},
	    {404, "<Error><Code>NoSuchKey", HL_ERR_NOT_FOUND, "404", ""},
	    /* A listing in an error answer is not an error document (and not leaked:
	     * fuzz_s3xml's first finding). */
	    {500, page, HL_ERR_SERVER, "500", ""},
	    /* A Code that sanitises to nothing gives the status (fuzz_s3xml's second). */
	    {500, "<Error><Code>800>#</Code></Error>", HL_ERR_SERVER, "500", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_error err;
		size_t n = cases[i].body ? strlen(cases[i].body) : 0;
		struct guarded g = guard(cases[i].body ? cases[i].body : "", n);
		hl_error_clear(&err);
		is_int(hl_s3_error_decode(cases[i].status, cases[i].body ? g.p : NULL, n, &err),
		       cases[i].want, "error %zu: %ld %s", i, cases[i].status, cases[i].code);
		is_int(err.code, cases[i].want, "err->code %zu", i);
		is_str(err.aws_code, cases[i].code, "aws_code %zu", i);
		is_str(err.message, cases[i].msg, "message %zu", i);
		is_int(err.http_status, cases[i].status, "status %zu", i);
		if (i == 0)
			is_str(err.request_id, "4442587FB7D0A2F9", "RequestId read");
		unguard(&g);
	}
	struct hl_error err;
	hl_error_clear(&err);
	snprintf(err.request_id, sizeof err.request_id, "from-header");
	const char *b = "<Error><Code>NoSuchKey</Code><RequestId>body</RequestId></Error>";
	hl_s3_error_decode(404, b, strlen(b), &err);
	is_str(err.request_id, "from-header", "a request id from the header is kept");
}

int main(void)
{
	test_page();
	test_url_encoding();
	test_hostile();
	test_many();
	test_errors();
	return done_testing();
}
