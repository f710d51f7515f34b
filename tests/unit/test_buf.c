#include <string.h>

#include "buf.h"
#include "tap.h"

static void test_append_and_bound(void)
{
	struct hl_buf b;
	hl_buf_init(&b, 8);
	is_int(hl_buf_appends(&b, "abcd"), HL_ERR_OK, "append within bound");
	is_int(hl_buf_appendf(&b, "%d", 123), HL_ERR_OK, "appendf within bound");
	is_str(b.data, "abcd123", "contents");
	is_int(hl_buf_appends(&b, "xy"), HL_ERR_TOO_LARGE, "append past bound fails");
	is_str(b.data, "abcd123", "failed append leaves contents unchanged");
	is_int(hl_buf_appendc(&b, 'z'), HL_ERR_OK, "append exactly to bound");
	is_int((long long)b.len, 8, "length at bound");
	hl_buf_free(&b);
	ok(b.data == NULL && b.len == 0, "free empties the buffer");
}

static void test_uri_encoding(void)
{
	static const struct {
		const char *in;
		bool keep_slash;
		const char *want;
	} cases[] = {
		{"abcXYZ019-_.~", false, "abcXYZ019-_.~"},
		{"a b", false, "a%20b"},
		{"a+b/c=d", false, "a%2Bb%2Fc%3Dd"},
		{"a+b/c=d", true, "a%2Bb/c%3Dd"},
		{"%", false, "%25"},
		{"\xc3\xa9", false, "%C3%A9"},
		{"\xe6\x9d\xb1", false, "%E6%9D%B1"},
		{"$export", true, "%24export"},
		{"", false, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hl_buf b;
		hl_buf_init(&b, 0);
		hl_buf_append_uri(&b, cases[i].in, strlen(cases[i].in), cases[i].keep_slash);
		char *s = hl_buf_steal(&b);
		is_str(s, cases[i].want, "uri encode case %zu", i);
		free(s);
	}
}

static void test_steal_empty(void)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	char *s = hl_buf_steal(&b);
	is_str(s, "", "steal of an empty buffer gives an empty string");
	free(s);
}

static void test_hex_value(void)
{
	is_int(hl_hex_value('0'), 0, "hex 0");
	is_int(hl_hex_value('9'), 9, "hex 9");
	is_int(hl_hex_value('a'), 10, "hex a");
	is_int(hl_hex_value('F'), 15, "hex F");
	is_int(hl_hex_value('g'), -1, "g is not hex");
	is_int(hl_hex_value('\0'), -1, "NUL is not hex");
	is_int(hl_hex_value((char)0xc3), -1, "a high byte is not hex");
}

int main(void)
{
	test_hex_value();
	test_append_and_bound();
	test_uri_encoding();
	test_steal_empty();
	return done_testing();
}
