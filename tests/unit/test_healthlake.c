/* api/healthlake.c + api/client.c end to end against a scripted loopback
 * server: validation before the wire, request shape, retries with identical
 * bodies, error mapping, deadlines, pacing, paging, hostile answers. */
#include "aws_env.h"
#include "client_i.h"
#include "datastore_props.h"
#include "fake_http.h"
#include "healthlake.h"
#include "tap.h"

struct calls {
	int n;
	struct hl_call_info last;
	char op[64];
	char aws_code[64];
};

static void on_call(void *arg, const struct hl_call_info *i)
{
	struct calls *c = arg;
	c->n++;
	c->last = *i;
	snprintf(c->op, sizeof(c->op), "%s", i->operation);
	snprintf(c->aws_code, sizeof(c->aws_code), "%s", i->aws_code);
	c->last.operation = c->op;
	c->last.aws_code = c->aws_code;
	c->last.request_id = "";
}

static struct hl_client *client(struct fake_srv *s, struct calls *calls, int max_attempts,
				double max_tps)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	struct hl_client_options o = {
	    .endpoint = url,
	    .region = "us-east-1",
	    .max_attempts = max_attempts,
	    .max_tps = max_tps,
	    .on_call = on_call,
	    .on_call_arg = calls,
	    .max_response_bytes = 64 * 1024,
	};
	struct hl_client *c = NULL;
	struct hl_error e;
	enum hl_err rc = hl_client_new(&o, &c, &e);
	if (rc)
		diag("hl_client_new: %s: %s", hl_err_name(rc), e.message);
	return c;
}

static void test_refused_before_wire(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	struct hl_datastore_list *dl = NULL;
	struct hl_job *j = NULL;
	struct hl_job_list *jl = NULL;
	struct hl_tag_list *tl = NULL;
	int before = fake_requests(s);

	is_int(hl_describe_datastore(c, NULL, 0, &d, &e), HL_ERR_INVALID, "describe: NULL id");
	is_int(hl_describe_datastore(c, "", 0, &d, &e), HL_ERR_INVALID, "describe: empty id");
	is_int(hl_delete_datastore(c, "", 0, &d, &e), HL_ERR_INVALID, "delete: empty id");
	struct hl_create_datastore_input ci = {.name = "x", .type_version = "R5"};
	is_int(hl_create_datastore(c, &ci, 0, &d, &e), HL_ERR_INVALID, "create: type R5");
	struct hl_tag many[201];
	for (int i = 0; i < 201; i++)
		many[i] = (struct hl_tag){"k", "v"};
	struct hl_create_datastore_input ct = {.name = "x", .tags = many, .n_tags = 201};
	is_int(hl_create_datastore(c, &ct, 0, &d, &e), HL_ERR_INVALID, "create: 201 tags");
	struct hl_create_datastore_input cn = {.name = ""};
	is_int(hl_create_datastore(c, &cn, 0, &d, &e), HL_ERR_INVALID, "create: empty name");
	struct hl_list_datastores_input lm = {.max_results = 501};
	is_int(hl_list_datastores(c, &lm, 0, &dl, &e), HL_ERR_INVALID, "list: MaxResults 501");
	struct hl_list_datastores_input ls = {.status = "RUNNING"};
	is_int(hl_list_datastores(c, &ls, 0, &dl, &e), HL_ERR_INVALID, "list: unknown status");
	struct hl_list_datastores_input lt = {.next_token = "\xc3\xa9"};
	is_int(hl_list_datastores(c, &lt, 0, &dl, &e), HL_ERR_INVALID, "list: non-ASCII token");
	struct hl_start_import_input si = {.datastore_id = DS_ID,
					   .input_s3_uri = "s3://bucket-in/in/",
					   .output_s3_uri = "s3://bucket-out/",
					   .kms_key_id = "k"};
	is_int(hl_start_import_job(c, &si, 0, &j, &e), HL_ERR_INVALID, "import: no role");
	ok(strstr(e.message, "DataAccessRoleArn") != NULL, "  ... names the member: %s", e.message);
	struct hl_start_import_input sv = {.datastore_id = DS_ID,
					   .input_s3_uri = "s3://bucket-in/in/",
					   .output_s3_uri = "s3://bucket-out/",
					   .kms_key_id = "k",
					   .role_arn = "arn:aws:iam::123456789012:role/r",
					   .validation_level = "lenient"};
	is_int(hl_start_import_job(c, &sv, 0, &j, &e), HL_ERR_INVALID,
	       "import: unknown ValidationLevel");
	ok(strstr(e.message, "ValidationLevel") != NULL, "  ... names the member: %s", e.message);
	struct hl_start_export_input se = {
	    .datastore_id = DS_ID, .role_arn = "r", .kms_key_id = "k"};
	is_int(hl_start_export_job(c, &se, 0, &j, &e), HL_ERR_INVALID, "export: no output URI");
	is_int(hl_describe_job(c, HL_JOB_IMPORT, DS_ID, NULL, 0, &j, &e), HL_ERR_INVALID,
	       "describe job: no job id");
	struct hl_list_jobs_input lj = {.datastore_id = NULL};
	is_int(hl_list_jobs(c, HL_JOB_EXPORT, &lj, 0, &jl, &e), HL_ERR_INVALID,
	       "list jobs: no datastore");
	struct hl_list_jobs_input ljs = {.datastore_id = DS_ID, .job_status = "DONE"};
	is_int(hl_list_jobs(c, HL_JOB_EXPORT, &ljs, 0, &jl, &e), HL_ERR_INVALID,
	       "list jobs: unknown status");
	is_int(hl_list_tags(c, "arn:aws:s3:::bucket", 0, &tl, &e), HL_ERR_INVALID,
	       "list tags: not a HealthLake ARN");
	is_int(hl_list_tags(c, "arn:aws:healthlake:us-east-1:12345678901:datastore/fhir/" DS_ID, 0,
			    &tl, &e),
	       HL_ERR_INVALID, "list tags: 11-digit account");
	is_int(hl_tag_resource(c, ARN, many, 201, 0, &e), HL_ERR_INVALID, "tag: 201 tags");
	const char *keys[] = {""};
	is_int(hl_untag_resource(c, ARN, keys, 1, 0, &e), HL_ERR_INVALID, "untag: empty key");
	is_int(fake_requests(s) - before, 0, "none of them reached the server");
	is_int(calls.n, 0, "and none was reported as a call");
	ok(d == NULL && dl == NULL && j == NULL && jl == NULL && tl == NULL,
	   "no result written on refusal");
	hl_client_free(c);
}

static void test_describe(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	static const struct fake_resp r[] = {
	    {FAKE_ANSWER, 200, "OK", "x-amzn-RequestId: rid-1\r\n",
	     "{\"DatastoreProperties\":" PROPS ",\"Extra\":1}", 0},
	};
	fake_script(s, r, 1);
	int base = fake_requests(s);
	is_int(hl_describe_datastore(c, DS_ID, hl_now_ms() + 5000, &d, &e), HL_ERR_OK,
	       "describe works");
	if (d) {
		is_str(d->id, DS_ID, "id");
		is_str(d->name, "clinic", "name");
		is_str(d->status, "ACTIVE", "status");
		ok(d->has_created_at && d->created_at == 1705322096.5, "created_at fractional");
		char *raw = cJSON_PrintUnformatted(d->raw);
		is_str(raw, PROPS, "raw is the properties object as sent");
		free(raw);
	}
	hl_datastore_free(d);
	char v[512];
	ok(fake_header(s, base, "X-Amz-Target", v, sizeof(v)) &&
	       strcmp(v, "HealthLake.DescribeFHIRDatastore") == 0,
	   "X-Amz-Target");
	char host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%d", s->port);
	ok(fake_header(s, base, "Host", v, sizeof(v)) && strcmp(v, host) == 0,
	   "Host is the signed host:port (%s)", v);
	ok(fake_header(s, base, "Authorization", v, sizeof(v)) &&
	       strncmp(v, "AWS4-HMAC-SHA256 ", 17) == 0,
	   "signed");
	ok(fake_header(s, base, "X-Amz-Date", v, sizeof(v)) && strlen(v) == 16,
	   "X-Amz-Date present");
	ok(fake_header(s, base, "amz-sdk-invocation-id", v, sizeof(v)) && strlen(v) == 36,
	   "invocation id is a UUID");
	ok(fake_header(s, base, "amz-sdk-request", v, sizeof(v)) &&
	       strcmp(v, "attempt=1; max=3") == 0,
	   "amz-sdk-request attempt=1; max=3");
	is_str(fake_body(s, base), "{\"DatastoreId\":\"" DS_ID "\"}", "body");
	is_int(calls.n, 1, "one call reported");
	is_int(calls.last.attempts, 1, "one attempt");
	is_int(calls.last.code, HL_ERR_OK, "reported OK");
	is_int(calls.last.http_status, 200, "status 200");
	ok(calls.last.bytes_in > 100 && calls.last.bytes_out == strlen(fake_body(s, base)),
	   "bytes counted (in %zu, out %zu)", calls.last.bytes_in, calls.last.bytes_out);
	is_str(calls.last.operation, "DescribeFHIRDatastore", "operation name");
	hl_client_free(c);
}

/* The configuration accepted http://[::ffff:127.0.0.1]:PORT (IPv4-mapped
 * loopback) and the client then refused it: one URL rule now, and the call
 * reaches the IPv4 listener. */
static void test_mapped_loopback(struct fake_srv *s)
{
	char url[64], host[64], v[512];
	snprintf(url, sizeof(url), "http://[::ffff:127.0.0.1]:%d", s->port);
	struct hl_client_options o = {.endpoint = url, .region = "us-east-1", .max_tps = 100};
	struct hl_client *c = NULL;
	struct hl_error e;
	enum hl_err rc = hl_client_new(&o, &c, &e);
	is_int(rc, HL_ERR_OK, "client for %s (%s)", url, rc ? e.message : "");
	if (!c)
		return;
	static const struct fake_resp r[] = {
	    {FAKE_ANSWER, 200, "OK", "", "{\"DatastoreProperties\":" PROPS "}", 0},
	};
	fake_script(s, r, 1);
	int base = fake_requests(s);
	struct hl_datastore *d = NULL;
	is_int(hl_describe_datastore(c, DS_ID, hl_now_ms() + 5000, &d, &e), HL_ERR_OK,
	       "a call over the mapped address works");
	snprintf(host, sizeof(host), "[::ffff:127.0.0.1]:%d", s->port);
	ok(fake_header(s, base, "Host", v, sizeof(v)) && strcmp(v, host) == 0,
	   "Host is the bracketed literal with its port (%s)", v);
	hl_datastore_free(d);
	hl_client_free(c);
	o.endpoint = "http://[::ffff:10.0.0.1]:80";
	c = NULL;
	is_int(hl_client_new(&o, &c, &e), HL_ERR_CONFIG, "a mapped address off loopback is not");
	hl_client_free(c);
}

static void test_retries(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	/* The first answer closes the connection, so the drop comes on a
	 * fresh one (a drop on a reused one is tested below). */
	static const struct fake_resp r[] = {
	    {FAKE_ANSWER_CLOSE, 503, "Service Unavailable", NULL, "", 0},
	    {FAKE_DROP, 0, NULL, NULL, NULL, 0},
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"DatastoreId\":\"" DS_ID "\",\"DatastoreArn\":\"" ARN "\","
	     "\"DatastoreStatus\":\"CREATING\",\"DatastoreEndpoint\":\"e\"}",
	     0},
	};
	fake_script(s, r, 3);
	int base = fake_requests(s);
	struct hl_create_datastore_input in = {.name = "clinic"};
	is_int(hl_create_datastore(c, &in, hl_now_ms() + 10000, &d, &e), HL_ERR_OK,
	       "create succeeds on the third attempt");
	is_int(fake_requests(s) - base, 3, "three attempts on the wire");
	is_int(calls.n, 1, "reported once");
	is_int(calls.last.attempts, 3, "with 3 attempts");
	const char *b0 = fake_body(s, base), *b1 = fake_body(s, base + 1),
		   *b2 = fake_body(s, base + 2);
	ok(b0 && b1 && b2 && strcmp(b0, b1) == 0 && strcmp(b1, b2) == 0,
	   "identical body bytes on every attempt");
	ok(b0 && strstr(b0, "\"ClientToken\":\"") != NULL, "a generated ClientToken: %s", b0);
	char v0[64] = "", v1[64] = "", v2[64] = "", i0[64] = "", i2[64] = "";
	fake_header(s, base, "amz-sdk-request", v0, sizeof(v0));
	fake_header(s, base + 1, "amz-sdk-request", v1, sizeof(v1));
	fake_header(s, base + 2, "amz-sdk-request", v2, sizeof(v2));
	is_str(v0, "attempt=1; max=3", "attempt 1 header");
	is_str(v1, "attempt=2; max=3", "attempt 2 header");
	is_str(v2, "attempt=3; max=3", "attempt 3 header");
	fake_header(s, base, "amz-sdk-invocation-id", i0, sizeof(i0));
	fake_header(s, base + 2, "amz-sdk-invocation-id", i2, sizeof(i2));
	ok(i0[0] && strcmp(i0, i2) == 0, "one invocation id for the whole call");
	if (d)
		is_str(d->status, "CREATING", "Create response parsed");
	hl_datastore_free(d);
	d = NULL;

	/* A second call generates a different token. */
	fake_script(s, r + 2, 1);
	is_int(hl_create_datastore(c, &in, 0, &d, &e), HL_ERR_OK, "second create");
	hl_datastore_free(d);
	d = NULL;
	const char *b3 = fake_body(s, base + 3);
	ok(b0 && b3 && strcmp(b0, b3) != 0, "a new call gets a new ClientToken");

	/* A reused connection that dies without an answer: libcurl would
	 * replay the request by itself; the transport refuses that, so the
	 * second request is our own counted attempt 2, same body bytes. */
	static const struct fake_resp warm[] = {r[2], {FAKE_DROP, 0, NULL, NULL, NULL, 0}, r[2]};
	fake_script(s, warm, 3);
	base = fake_requests(s);
	is_int(hl_create_datastore(c, &in, 0, &d, &e), HL_ERR_OK, "warm-up call");
	hl_datastore_free(d);
	d = NULL;
	is_int(hl_create_datastore(c, &in, 0, &d, &e), HL_ERR_OK, "dropped on a reused connection");
	hl_datastore_free(d);
	d = NULL;
	is_int(fake_requests(s) - base, 3, "the request reached the server twice");
	is_int(calls.last.attempts, 2, "as two attempts of ours");
	ok(strcmp(fake_body(s, base + 1), fake_body(s, base + 2)) == 0, "with the same bytes");
	fake_header(s, base + 2, "amz-sdk-request", v2, sizeof(v2));
	is_str(v2, "attempt=2; max=3", "the second one is our attempt 2, re-signed");

	/* Throttling until attempts run out. */
	static const struct fake_resp thr = {FAKE_ANSWER,
					     400,
					     "Bad Request",
					     NULL,
					     "{\"__type\":\"ThrottlingException\","
					     "\"Message\":\"Rate exceeded\"}",
					     0};
	static const struct fake_resp thr3[] = {thr, thr, thr};
	fake_script(s, thr3, 3);
	is_int(hl_describe_datastore(c, DS_ID, hl_now_ms() + 10000, &d, &e), HL_ERR_THROTTLED,
	       "throttled on every attempt -> THROTTLED");
	is_str(e.aws_code, "ThrottlingException", "aws code kept");
	is_str(e.message, "Rate exceeded", "message kept");
	is_int(calls.last.attempts, 3, "3 attempts");
	is_int(calls.last.throttled, 3, "3 throttled");

	/* Not retried: validation, auth, malformed success. */
	static const struct fake_resp val[] = {
	    {FAKE_ANSWER, 400, "Bad Request", "x-amzn-RequestId: rv\r\n",
	     "{\"__type\":\"ValidationException\",\"message\":\"nope\"}", 0},
	    {FAKE_ANSWER, 400, "Bad Request", NULL, "{\"__type\":\"UnrecognizedClientException\"}",
	     0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":{\"DatastoreId\":\"x\"}}", 0},
	    {FAKE_ANSWER, 409, "Conflict", NULL, "{\"__type\":\"ConflictException\"}", 0},
	};
	fake_script(s, val, 5);
	base = fake_requests(s);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_VALIDATION, "VALIDATION");
	is_str(e.request_id, "rv", "request id in the error");
	is_int(e.http_status, 400, "status in the error");
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_AUTH, "AUTH");
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_PROTOCOL,
	       "truncated -> PROTOCOL");
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_PROTOCOL,
	       "missing members -> PROTOCOL");
	is_int(hl_delete_datastore(c, DS_ID, 0, &d, &e), HL_ERR_CONFLICT, "CONFLICT");
	is_int(fake_requests(s) - base, 5, "each tried once");
	ok(d == NULL, "no result on errors");
	hl_client_free(c);
}

static void test_deadlines(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 10, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;

	int before = fake_requests(s);
	is_int(hl_describe_datastore(c, DS_ID, hl_now_ms() - 1, &d, &e), HL_ERR_TIMEOUT,
	       "deadline already passed -> TIMEOUT");
	is_int(fake_requests(s) - before, 0, "nothing sent");
	is_int(calls.last.attempts, 0, "reported with 0 attempts");

	static const struct fake_resp stall[] = {{FAKE_STALL, 0, NULL, NULL, NULL, 900}};
	fake_script(s, stall, 1);
	int64_t t0 = hl_now_ms();
	is_int(hl_describe_datastore(c, DS_ID, t0 + 400, &d, &e), HL_ERR_TIMEOUT,
	       "stalled server -> TIMEOUT");
	int64_t took = hl_now_ms() - t0;
	ok(took >= 380 && took < 700, "returned at the deadline (%lld ms)", (long long)took);
	fake_sleep_ms(600); /* let the fake server finish its stall */

	static const struct fake_resp busy = {FAKE_ANSWER, 503, "Service Unavailable", NULL, "", 0};
	static const struct fake_resp busy10[] = {busy, busy, busy, busy, busy,
						  busy, busy, busy, busy, busy};
	fake_script(s, busy10, 10);
	t0 = hl_now_ms();
	enum hl_err rc = hl_describe_datastore(c, DS_ID, t0 + 1500, &d, &e);
	took = hl_now_ms() - t0;
	is_int(rc, HL_ERR_TIMEOUT, "5xx while backing off past the deadline -> TIMEOUT");
	ok(took < 1800, "never ran past the deadline (300 ms scheduling slack) (%lld ms)",
	   (long long)took);
	is_str(e.aws_code, "503", "last error's code kept");
	ok(strstr(e.message, "deadline") != NULL, "message says why: %s", e.message);
	hl_client_free(c);

	/* Pacing: 1 call per second; the second call cannot start in time. */
	struct calls pc = {0};
	c = client(s, &pc, 3, 1);
	fake_script(s, NULL, 0);
	static const struct fake_resp okr[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	};
	fake_script(s, okr, 2);
	int base = fake_requests(s);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "first paced call");
	hl_datastore_free(d);
	d = NULL;
	t0 = hl_now_ms();
	is_int(hl_describe_datastore(c, DS_ID, t0 + 300, &d, &e), HL_ERR_TIMEOUT,
	       "second call would wait 1 s: TIMEOUT at once");
	ok(hl_now_ms() - t0 < 250, "without waiting for nothing");
	is_int(pc.last.attempts, 0, "reported with 0 attempts");
	is_int(fake_requests(s) - base, 1, "nothing sent for it");
	t0 = hl_now_ms();
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "without deadline it waits");
	took = hl_now_ms() - t0;
	ok(took >= 850, "for the pacer (%lld ms)", (long long)took);
	ok(pc.last.ms >= 850, "wait counted in the call's time (%.0f ms)", pc.last.ms);
	hl_datastore_free(d);
	hl_client_free(c);
}

static void test_paging(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore_list *l = NULL;
	static const struct fake_resp pages[] = {
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"DatastorePropertiesList\":[" PROPS "," PROPS "],\"NextToken\":\"A\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"DatastorePropertiesList\":[" PROPS "],\"NextToken\":\"B\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastorePropertiesList\":[],\"NextToken\":null}",
	     0},
	};
	fake_script(s, pages, 3);
	int base = fake_requests(s);
	is_int(hl_list_datastores_all(c, NULL, 10, 0, &l, &e), HL_ERR_OK, "all pages");
	is_int(l ? l->n : 0, 3, "3 items");
	ok(l && l->next_token == NULL, "no next token at the end");
	hl_datastore_list_free(l);
	l = NULL;
	ok(strstr(fake_body(s, base + 1), "\"NextToken\":\"A\"") != NULL, "token A sent back");
	ok(strstr(fake_body(s, base + 2), "\"NextToken\":\"B\"") != NULL, "token B sent back");

	fake_script(s, pages, 1);
	is_int(hl_list_datastores(c, NULL, 0, &l, &e), HL_ERR_OK, "one page");
	is_str(l ? l->next_token : NULL, "A", "its next token");
	hl_datastore_list_free(l);
	l = NULL;

	static const struct fake_resp loop[] = {
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"DatastorePropertiesList\":[" PROPS "],\"NextToken\":\"A\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"DatastorePropertiesList\":[" PROPS "],\"NextToken\":\"A\"}", 0},
	};
	fake_script(s, loop, 2);
	is_int(hl_list_datastores_all(c, NULL, 100, 0, &l, &e), HL_ERR_PROTOCOL,
	       "repeated token -> PROTOCOL");
	fake_script(s, pages, 3);
	is_int(hl_list_datastores_all(c, NULL, 2, 0, &l, &e), HL_ERR_PROTOCOL,
	       "more than max_items -> PROTOCOL");
	ok(l == NULL, "no partial result");

	static const struct fake_resp jobs[] = {
	    {FAKE_ANSWER, 200, "OK", NULL,
	     "{\"ExportJobPropertiesList\":[{\"JobId\":\"j1\",\"JobStatus\":\"COMPLETED\","
	     "\"SubmitTime\":1,\"DatastoreId\":\"" DS_ID "\",\"OutputDataConfig\":{}}],"
	     "\"NextToken\":\"\"}",
	     0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"ExportJobPropertiesList\":{}}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"}]}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "", 0},
	};
	fake_script(s, jobs, 4);
	struct hl_job_list *jl = NULL;
	struct hl_list_jobs_input in = {.datastore_id = DS_ID};
	is_int(hl_list_jobs_all(c, HL_JOB_EXPORT, &in, 0, 0, &jl, &e), HL_ERR_OK,
	       "jobs: empty NextToken ends the listing");
	is_int(jl ? jl->n : 0, 1, "one job");
	if (jl && jl->n)
		is_str(jl->items[0].id, "j1", "job id");
	hl_job_list_free(jl);
	jl = NULL;
	is_int(hl_list_jobs(c, HL_JOB_EXPORT, &in, 0, &jl, &e), HL_ERR_PROTOCOL,
	       "list member of the wrong type -> PROTOCOL");
	struct hl_tag_list *tl = NULL;
	is_int(hl_list_tags(c, ARN, 0, &tl, &e), HL_ERR_OK, "tags");
	is_int(tl ? tl->n : 0, 1, "one tag");
	hl_tag_list_free(tl);
	struct hl_tag t = {"k", "v"};
	is_int(hl_tag_resource(c, ARN, &t, 1, 0, &e), HL_ERR_OK,
	       "empty answer to TagResource is {}");
	hl_client_free(c);
}

static void test_too_large(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	size_t n = 100 * 1024;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	struct fake_resp r[] = {{FAKE_ANSWER, 200, "OK", NULL, big, 0}};
	fake_script(s, r, 1);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_TOO_LARGE,
	       "answer over max_response_bytes -> TOO_LARGE");
	is_int(calls.last.attempts, 1, "not retried");
	/* One more round trip: the one-connection-at-a-time server has then
	 * finished writing big. */
	static const struct fake_resp after[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	};
	fake_script(s, after, 1);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "next call fine");
	hl_datastore_free(d);
	fake_script(s, NULL, 0);
	free(big);
	hl_client_free(c);
}

/* The retry quota in the call path: an empty quota stops retrying, a
 * success after a retry refunds its cost. */
static void test_quota(struct fake_srv *s)
{
	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	static const struct fake_resp busy = {FAKE_ANSWER, 503, "Service Unavailable", NULL, "", 0};
	static const struct fake_resp good = {
	    FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0};
	static const struct fake_resp r[] = {busy, busy, busy, good};

	c->quota.tokens = 5; /* one retry's worth */
	fake_script(s, r, 4);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_SERVER,
	       "quota for one retry only: SERVER");
	is_int(calls.last.attempts, 2, "after 2 attempts, not 3");
	ok(strstr(e.message, "retry quota exhausted") != NULL, "says why: %s", e.message);
	is_int(c->quota.tokens, 0, "quota spent");
	c->quota.tokens = 5;
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "503 then 200: OK");
	is_int(calls.last.attempts, 2, "2 attempts");
	is_int(c->quota.tokens, 5, "the retry's cost came back");
	hl_datastore_free(d);
	d = NULL;
	fake_script(s, &good, 1);
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "first-time success");
	is_int(c->quota.tokens, 6, "adds one token");
	hl_datastore_free(d);
	hl_client_free(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Keys rotated in the credentials file are used right after the service
 * rejected the old ones: AUTH drops the provider's cache. */
static void test_auth_rotation(struct fake_srv *s)
{
	char dir[] = "/tmp/hl-test-XXXXXX";
	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	char path[64];
	snprintf(path, sizeof(path), "%s/credentials", dir);
	write_file(path, "[default]\naws_access_key_id = AKIDOLDKEY\n"
			 "aws_secret_access_key = old-secret\n");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);

	struct calls calls = {0};
	struct hl_client *c = client(s, &calls, 3, 100);
	struct hl_error e;
	struct hl_datastore *d = NULL;
	static const struct fake_resp r[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	    {FAKE_ANSWER, 400, "Bad Request", NULL,
	     "{\"__type\":\"UnrecognizedClientException\",\"message\":\"bad key\"}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	};
	fake_script(s, r, 4);
	int base = fake_requests(s);
	char v[512];
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "call with the file's key");
	hl_datastore_free(d);
	d = NULL;
	ok(fake_header(s, base, "Authorization", v, sizeof(v)) &&
	       strstr(v, "Credential=AKIDOLDKEY/") != NULL,
	   "signed with the old key");
	write_file(path, "[default]\naws_access_key_id = AKIDNEWKEY\n"
			 "aws_secret_access_key = new-secret\n");
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_AUTH, "old key cached: AUTH");
	ok(fake_header(s, base + 1, "Authorization", v, sizeof(v)) &&
	       strstr(v, "Credential=AKIDOLDKEY/") != NULL,
	   "that call still used the cached key");
	is_int(calls.last.attempts, 1, "AUTH is not retried");
	is_int(hl_describe_datastore(c, DS_ID, 0, &d, &e), HL_ERR_OK, "next call");
	hl_datastore_free(d);
	ok(fake_header(s, base + 2, "Authorization", v, sizeof(v)) &&
	       strstr(v, "Credential=AKIDNEWKEY/") != NULL,
	   "re-read the file after the rejection: new key (%s)", v);
	hl_client_free(c);
	unlink(path);
	rmdir(dir);
	fake_script(s, NULL, 0);
}

int main(void)
{
	aws_test_env();

	struct fake_srv s;
	if (!ok(fake_start(&s), "fake server up"))
		return done_testing();
	ok(hl_job_status_terminal("COMPLETED") && hl_job_status_terminal("CANCEL_FAILED") &&
	       !hl_job_status_terminal("IN_PROGRESS") && !hl_job_status_terminal(NULL),
	   "terminal job states");
	test_refused_before_wire(&s);
	test_describe(&s);
	test_mapped_loopback(&s);
	test_retries(&s);
	test_deadlines(&s);
	test_paging(&s);
	test_too_large(&s);
	test_quota(&s);
	test_auth_rotation(&s);
	fake_stop(&s);
	return done_testing();
}
