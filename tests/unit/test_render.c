#include "iso8601.h"
#include "render.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void json_case(const char *in, const char *want, const char *what)
{
	cJSON *j = cJSON_Parse(in);
	struct hl_buf b;
	hl_buf_init(&b, 0);
	ok(j != NULL, "%s: input parses", what);
	is_int(hlfs_render_json(j, &b), HL_ERR_OK, "%s: renders", what);
	is_str(b.data, want, "%s", what);
	hl_buf_free(&b);
	cJSON_Delete(j);
}

int main(void)
{
	static const struct {
		double t;
		const char *want;
	} times[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {1795936906.646, "2026-11-29T07:21:46.646Z"},
	    {1795936906.0, "2026-11-29T07:21:46Z"},
	    {1795936906.5, "2026-11-29T07:21:46.500Z"},
	    {1795936906.9996, "2026-11-29T07:21:47.000Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	};
	for (size_t i = 0; i < N(times); i++) {
		char out[40];
		is_int(hl_iso8601_format(times[i].t, out, sizeof(out)), 1, "time %f", times[i].t);
		is_str(out, times[i].want, "time %f", times[i].t);
	}
	char small[10];
	is_int(hl_iso8601_format(0, small, sizeof(small)), 0, "too small a buffer");
	is_int(hl_iso8601_format(1e300, small, sizeof(small)), 0, "out of range");

	json_case(
	    "{\"DatastoreId\":\"abc\",\"DatastoreStatus\":\"ACTIVE\",\"CreatedAt\":1795936906.646}",
	    "{\n  \"DatastoreId\": \"abc\",\n  \"DatastoreStatus\": \"ACTIVE\",\n"
	    "  \"CreatedAt\": \"2026-11-29T07:21:46.646Z\"\n}\n",
	    "store with timestamp");
	json_case("{\"Z\":1,\"A\":2}", "{\n  \"Z\": 1,\n  \"A\": 2\n}\n", "member order kept");
	json_case("{\"a\":{\"b\":[1,2.5,true,false,null],\"c\":{},\"d\":[]}}",
		  "{\n  \"a\": {\n    \"b\": [\n      1,\n      2.5,\n      true,\n      false,\n"
		  "      null\n    ],\n    \"c\": {},\n    \"d\": []\n  }\n}\n",
		  "nesting");
	json_case("{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u00e9\"}",
		  "{\n  \"s\": \"q\\\"b\\\\n\\nt\\tc\\u0001\xc3\xa9\"\n}\n", "escapes");
	json_case("{\"SubmitTime\":1795936906,\"EndTime\":\"already\",\"Other\":1795936906}",
		  "{\n  \"SubmitTime\": \"2026-11-29T07:21:46Z\",\n  \"EndTime\": \"already\",\n"
		  "  \"Other\": 1795936906\n}\n",
		  "only timestamp members are converted");
	json_case("{\"x\":{\"CreatedAt\":0.25}}",
		  "{\n  \"x\": {\n    \"CreatedAt\": \"1970-01-01T00:00:00.250Z\"\n  }\n}\n",
		  "nested timestamp");
	json_case("{\"n\":0.1,\"m\":-3,\"big\":12345678901234567890}",
		  "{\n  \"n\": 0.1,\n  \"m\": -3,\n  \"big\": 1.2345678901234567e+19\n}\n",
		  "numbers");
	json_case("[]", "[]\n", "empty array");

	struct hl_datastore d = {
	    .id = "0123456789abcdef0123456789abcdef",
	    .arn = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/x",
	    .name = NULL,
	    .status = "ACTIVE",
	    .type_version = "R4",
	    .endpoint = "https://h/datastore/x/r4/",
	    .created_at = 1795936906.646,
	    .has_created_at = true,
	};
	static const struct {
		enum hlfs_field f;
		const char *want;
	} fields[] = {
	    {HLFS_F_STATUS, "ACTIVE\n"},
	    {HLFS_F_ID, "0123456789abcdef0123456789abcdef\n"},
	    {HLFS_F_ARN, "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/x\n"},
	    {HLFS_F_ENDPOINT, "https://h/datastore/x/r4/\n"},
	    {HLFS_F_NAME, "\n"},
	    {HLFS_F_TYPE_VERSION, "R4\n"},
	    {HLFS_F_CREATED_AT, "2026-11-29T07:21:46.646Z\n"},
	    {HLFS_F_JSON, "{}\n"},
	};
	for (size_t i = 0; i < N(fields); i++) {
		struct hl_buf b;
		hl_buf_init(&b, 0);
		is_int(hlfs_render_field(fields[i].f, &d, &b), HL_ERR_OK, "field %s",
		       hlfs_field_name(fields[i].f));
		is_str(b.data, fields[i].want, "field %s", hlfs_field_name(fields[i].f));
		hl_buf_free(&b);
	}
	struct hl_buf b;
	hl_buf_init(&b, 0);
	d.name = "clinic-a";
	hlfs_render_field(HLFS_F_NAME, &d, &b);
	is_str(b.data, "clinic-a\n", "name when named");
	hl_buf_free(&b);
	return done_testing();
}
