/* api/query.c: strict re-encoding of user queries and the origin rule for
 * Bundle next links. */
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "tap.h"

static void test_encode(void)
{
	static const struct {
		const char *raw, *want;
	} cases[] = {
	    {"", ""},
	    {"a=b", "a=b"},
	    {"name=Jos%C3%A9 Mar%C3%ADa", "name=Jos%C3%A9%20Mar%C3%ADa"},
	    {"name=José María", "name=Jos%C3%A9%20Mar%C3%ADa"},
	    {"identifier=urn:oid:1.2.36|a+b/c=d", "identifier=urn%3Aoid%3A1.2.36%7Ca%2Bb%2Fc%3Dd"},
	    {"name:contains=sm ith&_count=100", "name%3Acontains=sm%20ith&_count=100"},
	    {"given=b&given=a", "given=b&given=a"},
	    {"family", "family="},
	    {"family=", "family="},
	    {"a&&b=1&", "a=&b=1"},
	    {"_elements=id,name", "_elements=id%2Cname"},
	    {"x=%zz%4", "x=%25zz%254"},
	    {"x=%2b%2B+", "x=%2B%2B%2B"},
	    {"=v", "=v"},
	    {"k=%00", "k=%00"},
	    {"address-city=東京", "address-city=%E6%9D%B1%E4%BA%AC"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hl_buf b;
		hl_buf_init(&b, 0);
		is_int(hl_query_encode(cases[i].raw, strlen(cases[i].raw), &b), HL_ERR_OK,
		       "encode case %zu", i);
		is_str(b.data ? b.data : "", cases[i].want, "strict form of '%s'", cases[i].raw);
		hl_buf_free(&b);
	}
	struct hl_buf b;
	hl_buf_init(&b, 0);
	is_int(hl_query_encode("a=1", 3, &b), HL_ERR_OK, "first part");
	is_int(hl_query_encode("b=2", 3, &b), HL_ERR_OK, "second part appended");
	is_str(b.data, "a=1&b=2", "parts joined with &");
	is_int(hl_query_add(&b, "_count", "a b"), HL_ERR_OK, "add a pair");
	is_str(b.data, "a=1&b=2&_count=a%20b", "added pair strictly encoded");
	hl_buf_free(&b);
	hl_buf_init(&b, 8);
	is_int(hl_query_encode("abcdefgh=ijk", 12, &b), HL_ERR_TOO_LARGE, "bound respected");
	hl_buf_free(&b);
}

static void test_next_link(void)
{
	const char *req = "http://127.0.0.1:8080/datastore/d1/r4/Patient?_count=2";
	static const struct {
		const char *link;
		enum hl_err want;
		const char *path, *query;
	} cases[] = {
	    {"http://127.0.0.1:8080/datastore/d1/r4/Patient?_count=2&page=ab+c%3D%3D",
	     HL_ERR_OK, "/datastore/d1/r4/Patient", "_count=2&page=ab%2Bc%3D%3D"},
	    {"HTTP://127.0.0.1:8080/datastore/d1/r4/Patient", HL_ERR_OK,
	     "/datastore/d1/r4/Patient", ""},
	    {"http://127.0.0.1:8080/datastore/d1/r4/Patient/$everything?page=x:y", HL_ERR_OK,
	     "/datastore/d1/r4/Patient/$everything", "page=x%3Ay"},
	    {"http://127.0.0.1:8081/datastore/d1/r4/Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"https://127.0.0.1:8080/datastore/d1/r4/Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://127.0.0.2:8080/datastore/d1/r4/Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://evil.example/datastore/d1/r4/Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://127.0.0.1:8080@evil.example/x", HL_ERR_PROTOCOL, NULL, NULL},
	    {"/datastore/d1/r4/Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"Patient?page=2", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://127.0.0.1:8080/datastore/d1/r4/../../x", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://127.0.0.1:8080/datastore//x", HL_ERR_PROTOCOL, NULL, NULL},
	    {"http://127.0.0.1:8080/datastore/%zz", HL_ERR_PROTOCOL, NULL, NULL},
	    {"", HL_ERR_PROTOCOL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = NULL, *query = NULL;
		struct hl_error e;
		hl_error_clear(&e);
		enum hl_err rc = hl_query_next_link(req, cases[i].link, &path, &query, &e);
		is_int(rc, cases[i].want, "link '%s'", cases[i].link);
		if (cases[i].want == HL_ERR_OK && rc == HL_ERR_OK) {
			is_str(path, cases[i].path, "path kept");
			is_str(query, cases[i].query, "query re-encoded");
		} else {
			ok(!path && !query, "nothing returned on refusal");
			ok(!strstr(e.message, "evil") && !strstr(e.message, "page"),
			   "message does not quote the link: %s", e.message);
		}
		free(path);
		free(query);
	}
	char *path = NULL, *query = NULL;
	is_int(hl_query_next_link("https://Example.COM/datastore/x/r4/",
				  "https://example.com:443/datastore/x/r4/Patient?a=1", &path, &query,
				  NULL),
	       HL_ERR_OK, "default port equals an explicit 443, host case ignored");
	free(path);
	free(query);
	is_int(hl_query_next_link("https://h.example/p", NULL, &path, &query, NULL),
	       HL_ERR_PROTOCOL, "no link");
}

int main(void)
{
	test_encode();
	test_next_link();
	return done_testing();
}
