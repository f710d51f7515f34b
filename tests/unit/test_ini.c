/* api/ini.c: RawConfigParser semantics, nested values, fatal errors, and
 * shlex-style splitting. Expected dumps were checked against botocore's
 * raw_config_parse() and Python's shlex.split() on the same inputs. */
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "ini.h"
#include "tap.h"

/* Copies s so that its last byte sits right before an unreadable page: an
 * over-read faults at once. Returns the copy; munmap(*map, *maplen) releases it. */
static char *guard_copy(const char *s, size_t n, void **map, size_t *maplen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (n + pg - 1) / pg + 1;
	*maplen = (data_pages + 1) * pg;
	char *m = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		abort();
	mprotect(m + data_pages * pg, pg, PROT_NONE);
	char *p = m + data_pages * pg - n;
	memcpy(p, s, n);
	*map = m;
	return p;
}

static void append_escaped(struct hl_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			hl_buf_appends(b, "\\n");
		else
			hl_buf_appendc(b, *s);
	}
}

/* Same format as the Python cross-check: "[sec] k=v k2={a=1,b=2} [sec2] ..." */
static char *dump(const struct hl_ini *ini)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	for (size_t i = 0; i < ini->n; i++) {
		const struct hl_ini_section *s = &ini->sections[i];
		hl_buf_appendf(&b, "%s[%s]", b.len ? " " : "", s->name);
		for (size_t j = 0; j < s->n; j++) {
			const struct hl_ini_entry *e = &s->entries[j];
			hl_buf_appendf(&b, " %s=", e->key);
			if (e->sub) {
				hl_buf_appendc(&b, '{');
				for (size_t k = 0; k < e->nsub; k++)
					hl_buf_appendf(&b, "%s%s=%s", k ? "," : "", e->sub[k].key,
						       e->sub[k].value);
				hl_buf_appendc(&b, '}');
			} else {
				append_escaped(&b, e->value);
			}
		}
	}
	return hl_buf_steal(&b);
}

struct parse_case {
	const char *name;
	const char *in;
	size_t len;	      /* 0 = strlen(in) */
	const char *want;     /* dump, or NULL for an error */
	const char *want_err; /* substring of the error message */
};

static const struct parse_case cases[] = {
    {"basic", "[default]\naws_access_key_id = AKID\nregion: us-east-1\n", 0,
     "[default] aws_access_key_id=AKID region=us-east-1", NULL},
    {"key lowercased and trimmed", "[d]\n  Key_Name   =   v  \n", 0, "[d] key_name=v", NULL},
    {"inline comment kept", "[d]\nregion = us-east-1 # x\n", 0, "[d] region=us-east-1 # x", NULL},
    {"comment lines", "# c\n; c\n[d]\n  # indented\nk=v ; not a comment\n", 0,
     "[d] k=v ; not a comment", NULL},
    {"section name literal", "[ default ]\nk=v\n", 0, "[ default ] k=v", NULL},
    {"header to last bracket, trailing text ignored", "[a]b]\nk=v\n[s] trailing\nk=v\n", 0,
     "[a]b] k=v [s] k=v", NULL},
    {"continuation with blank line", "[s]\nk = a\n  b\n\n  c\nk2 = d\n", 0,
     "[s] k=a\\nb\\n\\nc k2=d", NULL},
    {"nested services", "[services x]\nhealthlake =\n  endpoint_url = http://x\n  Other=1\n", 0,
     "[services x] healthlake={endpoint_url=http://x,Other=1}", NULL},
    {"first delimiter splits", "[s]\nk = a:b=c\nj: a=b\n", 0, "[s] k=a:b=c j=a=b", NULL},
    {"empty value", "[s]\nk =\n", 0, "[s] k=", NULL},
    {"crlf and lone cr", "[s]\r\nk = v\r\nj = w\rl = x", 0, "[s] k=v j=w l=x", NULL},
    {"DEFAULT supplies keys", "[DEFAULT]\nx=1\n[a]\ny=2\n[b]\nx=3\n", 0, "[a] y=2 x=1 [b] x=3",
     NULL},
    {"same indent is not continuation", "[s]\n  k = v\n  j = w\n", 0, "[s] k=v j=w", NULL},
    {"trailing blank lines dropped", "[s]\nk = v\n\n\n", 0, "[s] k=v", NULL},
    {"key with inner space", "[s]\na b = c\n", 0, "[s] a b=c", NULL},
    {"empty file", "", 0, "", NULL},
    {"nested: blank and comment lines, later wins", "[s]\nk =\n\n  a = 1\n  # c\n  a = 2\n", 0,
     "[s] k={a=2}", NULL},
    {"deeper indent continues", "[s]\n  k = v\n    more\n  j = w\n", 0, "[s] k=v\\nmore j=w", NULL},
    {"DEFAULT reopened", "[DEFAULT]\na=1\n[DEFAULT]\nb=2\n[s]\n", 0, "[s] a=1 b=2", NULL},
    {"tab continuation", "[s]\nk = x\n\t\tcont\n", 0, "[s] k=x\\ncont", NULL},
    {"no final newline", "[s]\nk=v", 0, "[s] k=v", NULL},
    /* fatal errors */
    {"text before first section", "k=v\n", 0, NULL, "line 1: text before the first [section]"},
    {"continuation before first section", "#c\n\n  x = 1\n", 0, NULL,
     "line 3: text before the first [section]"},
    {"duplicate section", "[a]\nk=1\n[b]\n[a]\n", 0, NULL,
     "line 4: duplicate section [a] (first at line 1)"},
    {"duplicate key any case", "[a]\nK=1\nk=2\n", 0, NULL,
     "line 3: duplicate key 'k' in section [a] (first at line 2)"},
    {"duplicate key in reopened DEFAULT", "[DEFAULT]\na=1\n[DEFAULT]\na=2\n", 0, NULL,
     "line 4: duplicate key 'a'"},
    {"no delimiter", "[a]\nk=1\njunk\n", 0, NULL, "line 3: expected 'key = value'"},
    {"empty key", "[a]\n= v\n", 0, NULL, "line 2: empty key"},
    {"nested line without =", "[a]\nk =\n  nested_without_eq\n", 0, NULL,
     "line 2: nested value of 'k' has a line without '='"},
    {"empty brackets are not a header", "[]\n", 0, NULL, "line 1: text before the first"},
    {"continuation after header is an option line", "[s]\nk=v\n[t]\n  cont\n", 0, NULL,
     "line 4: expected 'key = value'"},
    {"NUL byte", "[a]\nk=v\0x\n", 9, NULL, "line 2: NUL byte"},
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		size_t n = c->len ? c->len : strlen(c->in);
		void *map;
		size_t maplen;
		char *in = guard_copy(c->in, n, &map, &maplen);
		struct hl_ini *ini = NULL;
		struct hl_error err;
		hl_error_clear(&err);
		enum hl_err rc = hl_ini_parse(in, n, &ini, &err);
		if (c->want) {
			is_int(rc, HL_ERR_OK, "%s: parses", c->name);
			if (!rc) {
				char *d = dump(ini);
				is_str(d, c->want, "%s: content", c->name);
				free(d);
			} else {
				diag("error: %s", err.message);
			}
		} else {
			is_int(rc, HL_ERR_CONFIG, "%s: fails", c->name);
			ok(strstr(err.message, c->want_err) != NULL, "%s: message", c->name);
			if (!strstr(err.message, c->want_err)) {
				tap_diag_str("got", err.message);
				tap_diag_str("expected", c->want_err);
			}
			ok(ini == NULL, "%s: no result on error", c->name);
		}
		hl_ini_free(ini);
		munmap(map, maplen);
	}
}

static void test_lookup(void)
{
	const char *in = "[profile dev]\nRegion = eu-west-1\nservices = x\n"
			 "[services x]\nhealthlake =\n  endpoint_url = http://127.0.0.1:1\n";
	struct hl_ini *ini = NULL;
	is_int(hl_ini_parse(in, strlen(in), &ini, NULL), HL_ERR_OK, "lookup: parses");
	const struct hl_ini_section *s = hl_ini_find(ini, "profile dev");
	ok(s != NULL, "find section by literal name");
	is_str(hl_ini_get(s, "region"), "eu-west-1", "get lowercased key");
	ok(hl_ini_get(s, "Region") == NULL, "lookups are exact (keys stored lowercase)");
	ok(hl_ini_find(ini, "dev") == NULL, "no section 'dev'");
	const struct hl_ini_entry *e = hl_ini_entry(hl_ini_find(ini, "services x"), "healthlake");
	is_str(hl_ini_sub_get(e, "endpoint_url"), "http://127.0.0.1:1", "nested get");
	ok(hl_ini_sub_get(e, "nope") == NULL, "nested absent");
	ok(hl_ini_get(NULL, "x") == NULL && hl_ini_find(NULL, "x") == NULL, "NULL-safe lookups");
	hl_ini_free(ini);
	hl_ini_free(NULL);
}

static void test_bounds(void)
{
	size_t n = HL_INI_MAX_SIZE + 1;
	char *big = malloc(n);
	memset(big, '#', n);
	struct hl_ini *ini = NULL;
	struct hl_error err;
	hl_error_clear(&err);
	is_int(hl_ini_parse(big, n, &ini, &err), HL_ERR_TOO_LARGE, "oversized input rejected");
	free(big);

	struct hl_buf b;
	hl_buf_init(&b, 0);
	for (int i = 0; i <= HL_INI_MAX_SECTIONS; i++)
		hl_buf_appendf(&b, "[s%d]\n", i);
	hl_error_clear(&err);
	is_int(hl_ini_parse(b.data, b.len, &ini, &err), HL_ERR_TOO_LARGE, "too many sections");
	ok(strstr(err.message, "more than") != NULL, "too many sections: message");
	hl_buf_free(&b);
}

struct split_case {
	const char *in;
	int argc; /* -1 = error */
	const char *words[4];
};

static const struct split_case splits[] = {
    {"a b  c", 3, {"a", "b", "c"}},
    {" 'x y' \"p \\\" q\" ", 2, {"x y", "p \" q"}},
    {"a\\ b", 1, {"a b"}},
    {"a\"\"b", 1, {"ab"}},
    {"\"\"", 1, {""}},
    {"x '' y", 3, {"x", "", "y"}},
    {"\"a\\nb\"", 1, {"a\\nb"}},
    {"a\\\\b", 1, {"a\\b"}},
    {"profile \"my name\"", 2, {"profile", "my name"}},
    {"a\tb\nc", 3, {"a", "b", "c"}},
    {"\"\\\\\"", 1, {"\\"}},
    {"", 0, {NULL}},
    {"   ", 0, {NULL}},
    {"\"abc", -1, {NULL}},
    {"abc\\", -1, {NULL}},
    {"'x", -1, {NULL}},
};

static void test_split(void)
{
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		const struct split_case *c = &splits[i];
		char **argv = NULL;
		size_t argc = 0;
		struct hl_error err;
		hl_error_clear(&err);
		enum hl_err rc = hl_shell_split(c->in, &argv, &argc, &err);
		if (c->argc < 0) {
			is_int(rc, HL_ERR_INVALID, "split '%s' fails", c->in);
			ok(err.message[0] != '\0', "split '%s': message set", c->in);
			continue;
		}
		is_int(rc, HL_ERR_OK, "split '%s' ok", c->in);
		if (rc)
			continue;
		is_int(argc, c->argc, "split '%s': word count", c->in);
		for (int j = 0; j < c->argc && (size_t)j < argc; j++)
			is_str(argv[j], c->words[j], "split '%s': word %d", c->in, j);
		ok(argv[argc] == NULL, "split '%s': NULL-terminated", c->in);
		hl_shell_split_free(argv);
	}
}

int main(void)
{
	test_cases();
	test_lookup();
	test_bounds();
	test_split();
	return done_testing();
}
