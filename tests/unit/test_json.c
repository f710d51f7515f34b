/* api/json.c: error decoding, code sanitising, response parsing (hostile
 * inputs included) and request bodies. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"
#include "tap.h"

/* Places s right before an unreadable page, so reading past len crashes. */
struct guarded {
	char *map;
	size_t maplen;
	char *p;
};

static struct guarded guard(const char *s, size_t len)
{
	struct guarded g = {0};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;
	g.maplen = (pages + 1) * page;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED) {
		g.map = NULL;
		return g;
	}
	mprotect(g.map + pages * page, page, PROT_NONE);
	g.p = g.map + pages * page - len;
	memcpy(g.p, s, len);
	return g;
}

static void unguard(struct guarded *g)
{
	if (g->map)
		munmap(g->map, g->maplen);
}

static void test_sanitize(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"ValidationException", "ValidationException"},
	    {"com.amazon.coral.validate#ValidationException", "ValidationException"},
	    {"ThrottlingException:http://internal.amazon.com/coral/", "ThrottlingException"},
	    {"aws.protocoltests#Foo:http://x#y", "Foo"},
	    {"a#b#ConflictException", "ConflictException"},
	    {"  ResourceNotFoundException  ", "ResourceNotFoundException"},
	    {"", ""},
	    {"#", ""},
	    {":x", ""},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[64];
		hl_aws_code_sanitize(t[i].in, out, sizeof(out));
		is_str(out, t[i].want, "sanitise \"%s\"", t[i].in);
	}
	char small[6];
	hl_aws_code_sanitize("ValidationException", small, sizeof(small));
	is_str(small, "Valid", "sanitise truncates to the buffer");
	char out[8] = "x";
	hl_aws_code_sanitize(NULL, out, sizeof(out));
	is_str(out, "", "NULL code gives empty");
}

static void test_mapping(void)
{
	static const struct {
		const char *code;
		long status;
		enum hl_err want;
	} t[] = {
	    {"ValidationException", 400, HL_ERR_VALIDATION},
	    {"ResourceNotFoundException", 400, HL_ERR_NOT_FOUND},
	    {"ConflictException", 400, HL_ERR_CONFLICT},
	    {"AccessDeniedException", 403, HL_ERR_ACCESS_DENIED},
	    {"ThrottlingException", 400, HL_ERR_THROTTLED},
	    {"Throttling", 400, HL_ERR_THROTTLED},
	    {"TooManyRequestsException", 429, HL_ERR_THROTTLED},
	    {"ThrottlingException", 503, HL_ERR_THROTTLED},
	    {"UnrecognizedClientException", 400, HL_ERR_AUTH},
	    {"InvalidSignatureException", 403, HL_ERR_AUTH},
	    {"ExpiredToken", 400, HL_ERR_AUTH},
	    {"ExpiredTokenException", 403, HL_ERR_AUTH},
	    {"IncompleteSignature", 403, HL_ERR_AUTH},
	    {"MissingAuthenticationToken", 403, HL_ERR_AUTH},
	    {"SignatureDoesNotMatch", 403, HL_ERR_AUTH},
	    {"InvalidClientTokenId", 403, HL_ERR_AUTH},
	    {"InternalServerException", 500, HL_ERR_SERVER},
	    {"503", 503, HL_ERR_SERVER},
	    {"SomethingNew", 502, HL_ERR_SERVER},
	    {"SomethingNew", 400, HL_ERR_SERVICE},
	    {"404", 404, HL_ERR_SERVICE},
	    {"", 400, HL_ERR_SERVICE},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(hl_err_from_aws(t[i].code, t[i].status), t[i].want, "map %s/%ld -> %s",
		       t[i].code, t[i].status, hl_err_name(t[i].want));
	ok(hl_aws_code_is_throttling("SlowDown"), "SlowDown is throttling");
	ok(hl_aws_code_is_throttling("EC2ThrottledException"), "EC2ThrottledException too");
	ok(!hl_aws_code_is_throttling("ValidationException"), "validation is not throttling");
	ok(!hl_aws_code_is_throttling(NULL), "NULL is not throttling");
	ok(hl_aws_code_is_transient("RequestTimeout"), "RequestTimeout is transient");
	ok(hl_aws_code_is_transient("PriorRequestNotComplete"), "PriorRequestNotComplete too");
	ok(!hl_aws_code_is_transient("InternalServerException"), "ISE is not (status decides)");
}

static void decode(long status, const char *reason, const char *hdr, const char *body,
		   struct hl_error *e)
{
	hl_error_clear(e);
	struct guarded g = guard(body, strlen(body));
	hl_json_error_decode(status, reason, hdr, g.p, strlen(body), e);
	unguard(&g);
}

static void test_error_decode(void)
{
	struct hl_error e;
	decode(400, "Bad Request", NULL,
	       "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
	       "\"Message\":\"bad name\"}",
	       &e);
	is_str(e.aws_code, "ValidationException", "__type sanitised");
	is_str(e.message, "bad name", "Message read");
	is_int(e.code, HL_ERR_VALIDATION, "mapped to VALIDATION");
	is_int(e.http_status, 400, "status kept");

	decode(400, "Bad Request", "ThrottlingException:http://x",
	       "{\"__type\":\"ValidationException\",\"message\":\"slow down\"}", &e);
	is_str(e.aws_code, "ThrottlingException", "X-Amzn-ErrorType header wins over body");
	is_str(e.message, "slow down", "lowercase message read");
	is_int(e.code, HL_ERR_THROTTLED, "mapped to THROTTLED");

	decode(400, "Bad Request", "",
	       "{\"code\":\"ConflictException\",\"__type\":\"ValidationException\"}", &e);
	is_str(e.aws_code, "ConflictException", "body code wins over __type");
	is_int(e.code, HL_ERR_CONFLICT, "mapped to CONFLICT");

	decode(400, "Bad Request", NULL,
	       "{\"message\":\"first\",\"Message\":\"second\",\"__type\":\"X\"}", &e);
	is_str(e.message, "first", "message preferred over Message");

	decode(503, "Service Unavailable", NULL, "", &e);
	is_str(e.aws_code, "503", "5xx with empty body: code is the status");
	is_str(e.message, "Service Unavailable", "5xx with empty body: message is the reason");
	is_int(e.code, HL_ERR_SERVER, "5xx -> SERVER");

	decode(502, "Bad Gateway", NULL, "  <html><body>gateway</body></html>", &e);
	is_str(e.aws_code, "502", "5xx with html body: code is the status");
	is_str(e.message, "Bad Gateway", "html body ignored");

	decode(403, "Forbidden", NULL, "not json\nat all", &e);
	is_str(e.aws_code, "403", "non-JSON body: code is the status");
	is_str(e.message, "not json at all", "non-JSON body becomes the message, one line");
	is_int(e.code, HL_ERR_SERVICE, "unknown 4xx -> SERVICE");

	decode(400, "Bad Request", NULL, "[1,2]", &e);
	is_str(e.aws_code, "400", "JSON that is not an object: code is the status");

	decode(400, "Bad Request", NULL, "{\"__type\": 17, \"message\": [1]}", &e);
	is_str(e.aws_code, "400", "wrong-typed __type ignored");
	is_str(e.message, "", "wrong-typed message ignored");

	char big[4000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char body[8200];
	snprintf(body, sizeof(body), "{\"__type\":\"%s\",\"message\":\"%s\"}", big, big);
	decode(400, "Bad Request", NULL, body, &e);
	is_int((long long)strlen(e.aws_code), (long long)sizeof(e.aws_code) - 1,
	       "huge code truncated to the field");
	is_int((long long)strlen(e.message), (long long)sizeof(e.message) - 1,
	       "huge message truncated to the field");

	/* 510 ASCII bytes then a 3-byte character: the 511-byte cut would
	 * keep only its first byte. */
	char utf[600];
	size_t u = 0;
	memcpy(utf, "{\"message\":\"", 12);
	u = 12;
	memset(utf + u, 'a', 510);
	u += 510;
	memcpy(utf + u, "\xe6\x9d\xb1\"}", 6);
	utf[u + 6] = '\0';
	decode(400, "Bad Request", NULL, utf, &e);
	is_int((long long)strlen(e.message), 510, "cut message ends before a split UTF-8 sequence");
	decode(400, "Bad Request", NULL, "{\"message\":\"\xc3\xa9\xe6\x9d\xb1\"}", &e);
	is_str(e.message, "\xc3\xa9\xe6\x9d\xb1", "short UTF-8 message kept whole");

	decode(400, "Bad Request", NULL, "{\"__type\":\"Validation", &e);
	is_str(e.aws_code, "400", "truncated JSON: code is the status");
	is_str(e.message, "{\"__type\":\"Validation", "truncated JSON: body is the message");
}

static void test_parse_object(void)
{
	static const struct {
		const char *body;
		enum hl_err want;
	} t[] = {
	    {"", HL_ERR_OK},
	    {"  \r\n", HL_ERR_OK},
	    {"{}", HL_ERR_OK},
	    {"{\"a\":1}  \n", HL_ERR_OK},
	    {"[]", HL_ERR_PROTOCOL},
	    {"\"x\"", HL_ERR_PROTOCOL},
	    {"{\"a\":1} {", HL_ERR_PROTOCOL},
	    {"{\"a\":", HL_ERR_PROTOCOL},
	    {"{\"a\":\"unterminated", HL_ERR_PROTOCOL},
	    {"{\"a\":1}x", HL_ERR_PROTOCOL},
	    {"nul", HL_ERR_PROTOCOL},
	    {"{\"a\":tru", HL_ERR_PROTOCOL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = strlen(t[i].body);
		struct guarded g = guard(t[i].body, len);
		cJSON *root = NULL;
		struct hl_error e;
		hl_error_clear(&e);
		enum hl_err rc = hl_json_parse_object(g.p, len, &root, &e);
		is_int(rc, t[i].want, "parse case %zu", i);
		if (rc == HL_ERR_OK)
			ok(cJSON_IsObject(root), "  ... gives an object");
		cJSON_Delete(root);
		unguard(&g);
	}
}

/* An escaped NUL must not silently cut a string short (a hostile name
 * "x\u0000y" would read as "x"): it becomes U+FFFD, an escaped backslash
 * before "u0000" stays literal text. */
static void test_nul_escapes(void)
{
	static const struct {
		const char *body;
		const char *want;
	} t[] = {
	    {"{\"Name\":\"x\\u0000y\"}", "x\xef\xbf\xbdy"},
	    {"{\"Name\":\"\\u0000\"}", "\xef\xbf\xbd"},
	    {"{\"Name\":\"a\\\\u0000\"}", "a\\u0000"},
	    {"{\"Name\":\"plain\"}", "plain"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = strlen(t[i].body);
		struct guarded g = guard(t[i].body, len);
		cJSON *root = NULL;
		struct hl_error e;
		hl_error_clear(&e);
		is_int(hl_json_parse_object(g.p, len, &root, &e), HL_ERR_OK, "NUL case %zu parses", i);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "Name");
		is_str(cJSON_IsString(v) ? v->valuestring : NULL, t[i].want, "NUL case %zu value", i);
		cJSON_Delete(root);
		unguard(&g);
	}
}

/* The text rule itself is tested in test_iso8601.c; here, that a JSON
 * timestamp member follows it. */
static void test_timestamps(void)
{
	cJSON *str = cJSON_CreateString("2024-01-15T12:34:56.250Z");
	double v = 0;
	ok(hl_json_timestamp(str, &v) && v > 1705322096.249 && v < 1705322096.251,
	   "ISO 8601 string timestamp");
	cJSON_Delete(str);
	cJSON *n = cJSON_CreateNumber(1705322096.646);
	ok(hl_json_timestamp(n, &v) && v > 1705322096.645 && v < 1705322096.647,
	   "fractional number timestamp");
	cJSON_Delete(n);
	cJSON *b = cJSON_CreateTrue();
	ok(!hl_json_timestamp(b, &v), "a boolean is not a timestamp");
	cJSON_Delete(b);
	cJSON *bad = cJSON_CreateString("2024-02-30T12:00:00Z");
	ok(!hl_json_timestamp(bad, &v), "a JSON timestamp on a day that does not exist is refused");
	cJSON_Delete(bad);
}

static cJSON *parse(const char *s)
{
	cJSON *root = NULL;
	struct hl_error e;
	if (hl_json_parse_object(s, strlen(s), &root, &e))
		return NULL;
	return root;
}

static void test_datastore(void)
{
	struct hl_datastore d;
	struct hl_error e;
	cJSON *o = parse("{\"Zeta\":1,\"DatastoreId\":\"a1b2\",\"DatastoreArn\":\"arn:x\","
			 "\"DatastoreName\":null,\"DatastoreStatus\":\"ACTIVE\","
			 "\"CreatedAt\":1705322096.5,\"DatastoreTypeVersion\":\"R4\","
			 "\"DatastoreEndpoint\":\"https://e/\",\"Unknown\":{\"x\":[1]}}");
	is_int(hl_json_take_datastore(o, HL_SHAPE_PROPERTIES, &d, &e), HL_ERR_OK,
	       "full datastore parses");
	is_str(d.id, "a1b2", "id");
	is_str(d.arn, "arn:x", "arn");
	ok(d.name == NULL, "null name is absent");
	is_str(d.status, "ACTIVE", "status");
	is_str(d.type_version, "R4", "type version");
	is_str(d.endpoint, "https://e/", "endpoint");
	ok(d.has_created_at && d.created_at == 1705322096.5, "created_at");
	char *raw = cJSON_PrintUnformatted(d.raw);
	is_str(raw,
	       "{\"Zeta\":1,\"DatastoreId\":\"a1b2\",\"DatastoreArn\":\"arn:x\","
	       "\"DatastoreName\":null,\"DatastoreStatus\":\"ACTIVE\","
	       "\"CreatedAt\":1705322096.5,\"DatastoreTypeVersion\":\"R4\","
	       "\"DatastoreEndpoint\":\"https://e/\",\"Unknown\":{\"x\":[1]}}",
	       "raw keeps every member in the service's order");
	free(raw);
	hl_datastore_clear(&d);

	o = parse("{\"DatastoreId\":\"a\",\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"CREATING\","
		  "\"DatastoreEndpoint\":\"e\",\"CreatedAt\":\"2024-01-15T12:34:56Z\"}");
	is_int(hl_json_take_datastore(o, HL_SHAPE_START, &d, &e), HL_ERR_OK,
	       "Create response shape needs no type version");
	ok(d.type_version == NULL, "type version absent");
	ok(d.has_created_at && d.created_at == 1705322096, "ISO 8601 CreatedAt accepted");
	hl_datastore_clear(&d);

	static const struct {
		const char *json;
		const char *why;
	} bad[] = {
	    {"{\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"A\",\"DatastoreEndpoint\":\"e\","
	     "\"DatastoreTypeVersion\":\"R4\"}",
	     "missing id"},
	    {"{\"DatastoreId\":7,\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"A\","
	     "\"DatastoreEndpoint\":\"e\",\"DatastoreTypeVersion\":\"R4\"}",
	     "numeric id"},
	    {"{\"DatastoreId\":\"a\",\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"A\","
	     "\"DatastoreEndpoint\":\"e\"}",
	     "missing type version in properties"},
	    {"{\"DatastoreId\":\"a\",\"DatastoreArn\":\"b\",\"DatastoreStatus\":null,"
	     "\"DatastoreEndpoint\":\"e\",\"DatastoreTypeVersion\":\"R4\"}",
	     "null status"},
	    {"{\"DatastoreId\":\"a\",\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"A\","
	     "\"DatastoreEndpoint\":\"e\",\"DatastoreTypeVersion\":\"R4\",\"CreatedAt\":\"soon\"}",
	     "unparseable CreatedAt"},
	    {"{\"DatastoreId\":\"a\",\"DatastoreArn\":\"b\",\"DatastoreStatus\":\"A\","
	     "\"DatastoreEndpoint\":\"e\",\"DatastoreTypeVersion\":\"R4\",\"DatastoreName\":[]}",
	     "list as name"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = parse(bad[i].json);
		ok(o != NULL, "fixture parses: %s", bad[i].why);
		hl_error_clear(&e);
		is_int(hl_json_take_datastore(o, HL_SHAPE_PROPERTIES, &d, &e), HL_ERR_PROTOCOL,
		       "PROTOCOL: %s", bad[i].why);
		ok(d.raw == NULL && d.id == NULL, "  ... and nothing left behind");
		ok(e.message[0] != '\0', "  ... with a reason: %s", e.message);
	}
	cJSON *arr = cJSON_CreateArray();
	is_int(hl_json_take_datastore(arr, HL_SHAPE_PROPERTIES, &d, &e), HL_ERR_PROTOCOL,
	       "an array is not a datastore");

	/* Hostile content is stored as is: 1 MiB name, control bytes, UTF-8. */
	size_t big = 1 << 20;
	char *name = malloc(big + 1);
	memset(name, 'n', big);
	name[big] = '\0';
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "DatastoreId", "../../etc/passwd\n\x01");
	cJSON_AddStringToObject(h, "DatastoreArn", "\xe6\x9d\xb1");
	cJSON_AddStringToObject(h, "DatastoreName", name);
	cJSON_AddStringToObject(h, "DatastoreStatus", "WEIRD");
	cJSON_AddStringToObject(h, "DatastoreTypeVersion", "R5");
	cJSON_AddStringToObject(h, "DatastoreEndpoint", "");
	is_int(hl_json_take_datastore(h, HL_SHAPE_PROPERTIES, &d, &e), HL_ERR_OK,
	       "hostile strings are stored, not judged");
	is_str(d.id, "../../etc/passwd\n\x01", "id kept byte for byte");
	ok(d.name && strlen(d.name) == big, "1 MiB name kept");
	hl_datastore_clear(&d);
	free(name);
}

static void test_job(void)
{
	struct hl_job j;
	struct hl_error e;
	cJSON *o = parse("{\"JobId\":\"j1\",\"JobName\":\"n\",\"JobStatus\":\"COMPLETED\","
			 "\"SubmitTime\":1700000000,\"EndTime\":\"2023-11-14T22:13:21.5Z\","
			 "\"DatastoreId\":\"d\",\"InputDataConfig\":{\"S3Uri\":\"s3://b/k\"},"
			 "\"Message\":\"done\"}");
	is_int(hl_json_take_job(o, HL_JOB_IMPORT, HL_SHAPE_PROPERTIES, &j, &e), HL_ERR_OK,
	       "import job parses");
	is_int(j.kind, HL_JOB_IMPORT, "kind");
	is_str(j.id, "j1", "id");
	is_str(j.name, "n", "name");
	is_str(j.status, "COMPLETED", "status");
	is_str(j.datastore_id, "d", "datastore id");
	is_str(j.message, "done", "message");
	ok(j.has_submit_time && j.submit_time == 1700000000, "submit time");
	ok(j.has_end_time && j.end_time == 1700000001.5, "ISO end time");
	ok(cJSON_GetObjectItemCaseSensitive(j.raw, "InputDataConfig") != NULL,
	   "untyped members kept in raw");
	hl_job_clear(&j);

	o = parse("{\"JobId\":\"j1\",\"JobStatus\":\"SUBMITTED\"}");
	is_int(hl_json_take_job(o, HL_JOB_EXPORT, HL_SHAPE_START, &j, &e), HL_ERR_OK,
	       "Start response: id and status suffice");
	ok(j.datastore_id == NULL && !j.has_submit_time, "optional members absent");
	is_int(j.kind, HL_JOB_EXPORT, "export kind");
	hl_job_clear(&j);

	o = parse("{\"JobId\":\"j1\",\"JobStatus\":\"SUBMITTED\",\"DatastoreId\":\"d\"}");
	is_int(hl_json_take_job(o, HL_JOB_IMPORT, HL_SHAPE_PROPERTIES, &j, &e), HL_ERR_PROTOCOL,
	       "properties without SubmitTime are malformed");
	o = parse("{\"JobId\":\"j1\",\"JobStatus\":true}");
	is_int(hl_json_take_job(o, HL_JOB_IMPORT, HL_SHAPE_START, &j, &e), HL_ERR_PROTOCOL,
	       "boolean status is malformed");
	is_int(j.kind, HL_JOB_IMPORT, "kind survives the failure");
	ok(j.raw == NULL, "raw freed on failure");
}

static void test_tags(void)
{
	struct hl_tag_list l;
	struct hl_error e;
	cJSON *o =
	    parse("{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\",\"Value\":\"\"}]}");
	is_int(hl_json_tags(o, &l, &e), HL_ERR_OK, "tags parse");
	is_int(l.n, 2, "two tags");
	if (l.n == 2) {
		is_str(l.items[0].key, "a", "first key");
		is_str(l.items[1].value, "", "empty value kept");
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.items[i].key);
		free(l.items[i].value);
	}
	free(l.items);
	cJSON_Delete(o);

	o = parse("{}");
	is_int(hl_json_tags(o, &l, &e), HL_ERR_OK, "absent Tags is none");
	is_int(l.n, 0, "zero tags");
	cJSON_Delete(o);

	o = parse("{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\"}]}");
	is_int(hl_json_tags(o, &l, &e), HL_ERR_PROTOCOL, "tag without value is malformed");
	ok(l.items == NULL && l.n == 0, "nothing left behind");
	cJSON_Delete(o);

	o = parse("{\"Tags\":{\"Key\":\"a\"}}");
	is_int(hl_json_tags(o, &l, &e), HL_ERR_PROTOCOL, "Tags as object is malformed");
	cJSON_Delete(o);

	char *t = NULL;
	o = parse("{\"NextToken\":\"abc\",\"Other\":1}");
	is_int(hl_json_opt_string(o, "NextToken", &t, &e), HL_ERR_OK, "NextToken read");
	is_str(t, "abc", "NextToken value");
	free(t);
	is_int(hl_json_opt_string(o, "Missing", &t, &e), HL_ERR_OK, "absent member fine");
	ok(t == NULL, "absent is NULL");
	is_int(hl_json_opt_string(o, "Other", &t, &e), HL_ERR_PROTOCOL, "number is malformed");
	cJSON_Delete(o);
}

static void test_bodies(void)
{
	char *s;
	struct hl_tag tags[] = {{"team", "a b"}, {"k\"q", "\xc3\xa9"}};
	struct hl_create_datastore_input ci = {
	    .name = "clinic",
	    .kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/x",
	    .preload_synthea = true,
	    .tags = tags,
	    .n_tags = 2,
	};
	s = hl_body_create_datastore(&ci, "tok-1");
	is_str(s,
	       "{\"DatastoreName\":\"clinic\",\"DatastoreTypeVersion\":\"R4\","
	       "\"SseConfiguration\":{\"KmsEncryptionConfig\":{\"CmkType\":"
	       "\"CUSTOMER_MANAGED_KMS_KEY\",\"KmsKeyId\":\"arn:aws:kms:us-east-1:123456789012:key/"
	       "x\"}},"
	       "\"PreloadDataConfig\":{\"PreloadDataType\":\"SYNTHEA\"},\"ClientToken\":\"tok-1\","
	       "\"Tags\":[{\"Key\":\"team\",\"Value\":\"a "
	       "b\"},{\"Key\":\"k\\\"q\",\"Value\":\"\xc3\xa9\"}]}",
	       "CreateFHIRDatastore body, all members");
	free(s);
	struct hl_create_datastore_input cmin = {0};
	s = hl_body_create_datastore(&cmin, "t");
	is_str(s, "{\"DatastoreTypeVersion\":\"R4\",\"ClientToken\":\"t\"}",
	       "CreateFHIRDatastore body, minimal");
	free(s);

	struct hl_start_import_input si = {.datastore_id = "d",
					   .input_s3_uri = "s3://in/x",
					   .output_s3_uri = "s3://out/",
					   .kms_key_id = "k",
					   .role_arn = "r",
					   .validation_level = "minimal"};
	s = hl_body_start_import(&si, "t");
	is_str(s,
	       "{\"InputDataConfig\":{\"S3Uri\":\"s3://in/x\"},\"JobOutputDataConfig\":{"
	       "\"S3Configuration\":{\"S3Uri\":\"s3://out/\",\"KmsKeyId\":\"k\"}},"
	       "\"DatastoreId\":\"d\",\"DataAccessRoleArn\":\"r\",\"ClientToken\":\"t\","
	       "\"ValidationLevel\":\"minimal\"}",
	       "StartFHIRImportJob body with ValidationLevel");
	free(s);

	s = hl_body_datastore_id("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6");
	is_str(s, "{\"DatastoreId\":\"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6\"}",
	       "Describe body matches the SigV4 vector's bytes");
	free(s);

	struct hl_list_datastores_input li = {.status = "ACTIVE",
					      .created_after = 1700000000,
					      .created_before = 4102444800,
					      .max_results = 10};
	s = hl_body_list_datastores(&li, "nt");
	is_str(s,
	       "{\"Filter\":{\"DatastoreStatus\":\"ACTIVE\",\"CreatedBefore\":4102444800,"
	       "\"CreatedAfter\":1700000000},\"NextToken\":\"nt\",\"MaxResults\":10}",
	       "ListFHIRDatastores body: integer epoch seconds");
	free(s);
	s = hl_body_list_datastores(NULL, NULL);
	is_str(s, "{}", "ListFHIRDatastores without input is {}");
	free(s);
	struct hl_list_datastores_input l10 = {.max_results = 10};
	s = hl_body_list_datastores(&l10, NULL);
	is_str(s, "{\"MaxResults\":10}", "MaxResults only, as in SigV4 vector B");
	free(s);

	struct hl_start_import_input ii = {
	    .datastore_id = "d",
	    .job_name = "j",
	    .input_s3_uri = "s3://in/",
	    .output_s3_uri = "s3://out/",
	    .kms_key_id = "k",
	    .role_arn = "r",
	};
	s = hl_body_start_import(&ii, "ct");
	is_str(s,
	       "{\"JobName\":\"j\",\"InputDataConfig\":{\"S3Uri\":\"s3://in/\"},"
	       "\"JobOutputDataConfig\":{\"S3Configuration\":{\"S3Uri\":\"s3://out/\","
	       "\"KmsKeyId\":\"k\"}},\"DatastoreId\":\"d\",\"DataAccessRoleArn\":\"r\","
	       "\"ClientToken\":\"ct\"}",
	       "StartFHIRImportJob body");
	free(s);
	struct hl_start_export_input ei = {
	    .datastore_id = "d", .output_s3_uri = "s3://out/", .kms_key_id = "k", .role_arn = "r"};
	s = hl_body_start_export(&ei, "ct");
	is_str(s,
	       "{\"OutputDataConfig\":{\"S3Configuration\":{\"S3Uri\":\"s3://out/\","
	       "\"KmsKeyId\":\"k\"}},\"DatastoreId\":\"d\",\"DataAccessRoleArn\":\"r\","
	       "\"ClientToken\":\"ct\"}",
	       "StartFHIRExportJob body, no job name");
	free(s);
	s = hl_body_describe_job("d", "j");
	is_str(s, "{\"DatastoreId\":\"d\",\"JobId\":\"j\"}", "Describe job body");
	free(s);
	struct hl_list_jobs_input lj = {
	    .datastore_id = "d", .job_status = "COMPLETED", .submitted_after = 5, .max_results = 2};
	s = hl_body_list_jobs(&lj, "t");
	is_str(s,
	       "{\"DatastoreId\":\"d\",\"NextToken\":\"t\",\"MaxResults\":2,"
	       "\"JobStatus\":\"COMPLETED\",\"SubmittedAfter\":5}",
	       "List jobs body");
	free(s);
	s = hl_body_tag_resource("arn", tags, 1);
	is_str(s, "{\"ResourceARN\":\"arn\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"a b\"}]}",
	       "TagResource body");
	free(s);
	const char *keys[] = {"a", "b"};
	s = hl_body_untag_resource("arn", keys, 2);
	is_str(s, "{\"ResourceARN\":\"arn\",\"TagKeys\":[\"a\",\"b\"]}", "UntagResource body");
	free(s);
	s = hl_body_list_tags("arn");
	is_str(s, "{\"ResourceARN\":\"arn\"}", "ListTagsForResource body");
	free(s);
}

int main(void)
{
	test_sanitize();
	test_mapping();
	test_error_decode();
	test_parse_object();
	test_nul_escapes();
	test_timestamps();
	test_datastore();
	test_job();
	test_tags();
	test_bodies();
	return done_testing();
}
