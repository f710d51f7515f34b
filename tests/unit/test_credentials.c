/* api/credentials.c: the credentials value and the helpers the providers
 * share (building a value, notes on what was tried, JSON members). */
#include <cjson/cJSON.h>

#include "creds_fixture.h"

static void test_policy(void)
{
	is_int(hl_creds_imds_stable_expiry(T0 + 6 * 3600, T0, 300), T0 + 6 * 3600,
	       "IMDS expiry far away is kept");
	is_int(hl_creds_imds_stable_expiry(T0 + 60, T0, 300), T0 + 900 + 300,
	       "IMDS expiry in 1 min is extended to now + 15 min + jitter");
	is_int(hl_creds_imds_stable_expiry(T0 - 3600, T0, 120), T0 + 900 + 120,
	       "IMDS expired credentials are extended (static stability)");
	is_int(hl_creds_imds_stable_expiry(T0 + 1201, T0, 300), T0 + 1201,
	       "IMDS expiry just outside the window is kept");
}

static void test_values(void)
{
	struct hl_credentials a = {0}, b;
	a.access_key_id = strdup("AK");
	a.secret_access_key = strdup("SK");
	a.expiration = 42;
	a.source = "environment";
	is_int(hl_credentials_copy(&b, &a), HL_ERR_OK, "copy");
	ok(b.access_key_id != a.access_key_id && strcmp(b.access_key_id, "AK") == 0,
	   "copy is deep");
	ok(b.session_token == NULL && b.expiration == 42 && b.source == a.source,
	   "copy keeps token absence, expiration and source");
	hl_credentials_clear(&a);
	ok(a.access_key_id == NULL && a.secret_access_key == NULL && a.source == NULL,
	   "clear resets every field");
	hl_credentials_clear(&b);
	hl_credentials_clear(NULL);
}

static void test_set(void)
{
	struct hl_credentials c;
	is_int(hl_creds_set(&c, HL_CREDS_SRC_IMDS, "AK", "SK", "", 7), HL_ERR_OK, "set");
	ok(c.session_token == NULL, "an empty token is no token");
	is_str(c.source, "imds", "the source is named");
	ok(c.expiration == 7 && strcmp(c.secret_access_key, "SK") == 0, "the rest is copied");
	hl_credentials_clear(&c);
	is_int(hl_creds_set(&c, HL_CREDS_SRC_PROCESS, "AK", "SK", "TOK", 0), HL_ERR_OK, "with a token");
	is_str(c.session_token, "TOK", "  kept");
	hl_credentials_clear(&c);
	is_str(hl_creds_source_name(HL_CREDS_SRC_SHARED_FILE), "shared-credentials-file",
	       "source names are the SDKs'");
	is_str(hl_creds_source_name(HL_CREDS_SRC_CONTAINER), "container", "  container");
}

static void test_tried_and_json(void)
{
	struct hl_creds_run r = {0};
	hl_buf_init(&r.tried, 4096);
	hl_creds_tried(&r, "environment (%s unset)", "AWS_ACCESS_KEY_ID");
	hl_creds_tried(&r, "%s", "imds");
	is_str(r.tried.data, "environment (AWS_ACCESS_KEY_ID unset); imds", "notes joined with '; '");
	hl_buf_free(&r.tried);

	const char doc[] = "{\"AccessKeyId\":\"AK\",\"Secret\":\"s3cr3t\",\"N\":1}";
	cJSON *j = cJSON_ParseWithLengthOpts(doc, sizeof(doc) - 1, NULL, 0);
	is_str(hl_creds_json_str(j, "AccessKeyId"), "AK", "a string member");
	ok(hl_creds_json_str(j, "N") == NULL, "a number is no string");
	ok(hl_creds_json_str(j, "accesskeyid") == NULL, "names are case-sensitive");
	ok(hl_creds_json_str(NULL, "x") == NULL, "NULL object");
	hl_creds_json_delete_secure(j);
	hl_creds_json_delete_secure(NULL);
	cJSON *arr = cJSON_CreateArray();
	hl_creds_json_delete_secure(arr);
	ok(true, "delete_secure takes objects, NULL and other values");
}

int main(void)
{
	test_policy();
	test_values();
	test_set();
	test_tried_and_json();
	return done_testing();
}
