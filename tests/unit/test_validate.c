/* hl_validate_*: valid and invalid inputs for every member, built at run
 * time (s + rep * n + tail) and placed right before an unreadable page so
 * that reading past the NUL faults at once. */
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "healthlake.h"
#include "tap.h"

typedef enum hl_err (*validate_fn)(const char *, struct hl_error *);

struct vcase {
	validate_fn fn;
	const char *fn_name;
	const char *s;	 /* NULL with rep == NULL means a NULL input */
	const char *rep; /* repeated n times after s */
	size_t n;
	const char *tail; /* appended last */
	bool valid;
	const char *message; /* exact err->message for some invalid cases */
};

#define F(f) f, #f
#define UUID "1234abcd-12ab-34cd-56ef-1234567890ab"
#define ACCT "123456789012"
#define ROLE "arn:aws:iam::" ACCT ":role/"

/* clang-format off */
static const struct vcase cases[] = {
	/* DatastoreName: 1-256 characters of L, Z, N and _.:/=+-%@ */
	{F(hl_validate_datastore_name), "a", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "a/b", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "..", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), ".", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "My Datastore 1", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "a_b.c:d/e=f+g-h%i@j", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", NULL, 0, NULL, true,
	 NULL}, /* Ünïcödé */
	{F(hl_validate_datastore_name), "\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd", NULL, 0, NULL,
	 true, NULL}, /* Greek */
	{F(hl_validate_datastore_name), "\xd0\x9a\xd0\xb8\xd1\x80", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "\xe5\x90\x8d\xe5\x89\x8d", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "\xed\x95\x9c\xea\xb5\xad", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "\xe3\x81\x8b\xe3\x82\xab", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_name), "\xd9\xa1\xd9\xa2", NULL, 0, NULL, true, NULL}, /* ١٢ */
	{F(hl_validate_datastore_name), "\xf0\xa0\x80\x80", NULL, 0, NULL, true, NULL}, /* U+20000 */
	{F(hl_validate_datastore_name), "a\xc2\xa0" "b", NULL, 0, NULL, true, NULL}, /* NBSP: Zs */
	{F(hl_validate_datastore_name), "a\xe3\x80\x80" "b", NULL, 0, NULL, true, NULL}, /* U+3000 */
	{F(hl_validate_datastore_name), "\xc2\xbd", NULL, 0, NULL, true, NULL}, /* ½: No */
	{F(hl_validate_datastore_name), "", "x", 256, NULL, true, NULL},
	{F(hl_validate_datastore_name), "", "\xc3\xa9", 256, NULL, true, NULL}, /* 512 bytes */
	{F(hl_validate_datastore_name), "", "\xe6\x9d\xb1", 256, NULL, true, NULL},
	{F(hl_validate_datastore_name), "", "x", 257, NULL, false,
	 "DatastoreName: must be 1-256 characters"},
	{F(hl_validate_datastore_name), "", "\xc3\xa9", 257, NULL, false,
	 "DatastoreName: must be 1-256 characters"},
	{F(hl_validate_datastore_name), "", NULL, 0, NULL, false,
	 "DatastoreName: must be 1-256 characters"},
	{F(hl_validate_datastore_name), NULL, NULL, 0, NULL, false, "DatastoreName: is required"},
	{F(hl_validate_datastore_name), "\xff", NULL, 0, NULL, false,
	 "DatastoreName: must be valid UTF-8"},
	{F(hl_validate_datastore_name), "ab\xc3", NULL, 0, NULL, false,
	 "DatastoreName: must be valid UTF-8"}, /* truncated */
	{F(hl_validate_datastore_name), "\xe6\x9d", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "\xc0\xaf", NULL, 0, NULL, false, NULL}, /* overlong '/' */
	{F(hl_validate_datastore_name), "\xe0\x80\xaf", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "\xed\xa0\x80", NULL, 0, NULL, false, NULL}, /* surrogate */
	{F(hl_validate_datastore_name), "\xf4\x90\x80\x80", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "\x80", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a!b", NULL, 0, NULL, false,
	 "DatastoreName: character U+0021 at position 2 is not allowed (letters, digits, "
	 "spaces and _.:/=+-%@ only)"},
	{F(hl_validate_datastore_name), "a#b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a*b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a$b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a~b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a\\b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a\tb", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a\nb", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a\x7f", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_name), "a\xc2\x85", NULL, 0, NULL, false, NULL}, /* NEL: Cc */
	{F(hl_validate_datastore_name), "a\xc2\xb7", NULL, 0, NULL, false, NULL}, /* ·: Po */
	{F(hl_validate_datastore_name), "a\xc2\xad", NULL, 0, NULL, false, NULL}, /* soft hyphen */
	{F(hl_validate_datastore_name), "\xc3\xa9\xe2\x80\xa2", NULL, 0, NULL, false,
	 "DatastoreName: character U+2022 at position 2 is not allowed (letters, digits, "
	 "spaces and _.:/=+-%@ only)"}, /* bullet */
	{F(hl_validate_datastore_name), "a\xe2\x80\x8b", NULL, 0, NULL, false, NULL}, /* ZWSP */
	{F(hl_validate_datastore_name), "e\xcc\x81", NULL, 0, NULL, false, NULL}, /* combining */
	{F(hl_validate_datastore_name), "a\xe2\x86\x92", NULL, 0, NULL, false, NULL}, /* arrow */
	{F(hl_validate_datastore_name), "a\xe2\x82\xac", NULL, 0, NULL, false, NULL}, /* euro */
	{F(hl_validate_datastore_name), "\xf0\x9f\x98\x80", NULL, 0, NULL, false, NULL}, /* emoji */
	{F(hl_validate_datastore_name), "\xee\x80\x80", NULL, 0, NULL, false, NULL}, /* PUA */
	{F(hl_validate_datastore_name), "\xef\xbc\x81", NULL, 0, NULL, false, NULL}, /* ！ */
	{F(hl_validate_datastore_name), "\xe3\x80\x82", NULL, 0, NULL, false, NULL}, /* 。 */

	/* DatastoreId / JobId: 1-32 of the same set */
	{F(hl_validate_datastore_id), "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_id), "", "a", 33, NULL, false,
	 "DatastoreId: must be 1-32 characters"},
	{F(hl_validate_datastore_id), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_id), "../x", NULL, 0, NULL, true, NULL},
	{F(hl_validate_datastore_id), "a?b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_datastore_id), NULL, NULL, 0, NULL, false, "DatastoreId: is required"},
	{F(hl_validate_job_id), "", "f", 32, NULL, true, NULL},
	{F(hl_validate_job_id), "", "f", 33, NULL, false, "JobId: must be 1-32 characters"},
	{F(hl_validate_job_id), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_job_id), "a&b", NULL, 0, NULL, false, NULL},

	/* JobName: 1-64 */
	{F(hl_validate_job_name), "nightly export 2024-01-15", NULL, 0, NULL, true, NULL},
	{F(hl_validate_job_name), "a/b", NULL, 0, NULL, true, NULL},
	{F(hl_validate_job_name), "..", NULL, 0, NULL, true, NULL},
	{F(hl_validate_job_name), "", "j", 64, NULL, true, NULL},
	{F(hl_validate_job_name), "", "j", 65, NULL, false, "JobName: must be 1-64 characters"},
	{F(hl_validate_job_name), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_job_name), "a|b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_job_name), "a\xff", NULL, 0, NULL, false, "JobName: must be valid UTF-8"},

	/* TagKey 1-128, TagValue 0-256: no '%' */
	{F(hl_validate_tag_key), "aws:cost-center", NULL, 0, NULL, true, NULL},
	{F(hl_validate_tag_key), "", "k", 128, NULL, true, NULL},
	{F(hl_validate_tag_key), "", "k", 129, NULL, false, "TagKey: must be 1-128 characters"},
	{F(hl_validate_tag_key), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_tag_key), "50%", NULL, 0, NULL, false,
	 "TagKey: character U+0025 at position 3 is not allowed (letters, digits, spaces and "
	 "_.:/=+-@ only)"},
	{F(hl_validate_tag_key), NULL, NULL, 0, NULL, false, NULL},
	{F(hl_validate_tag_value), "", NULL, 0, NULL, true, NULL},
	{F(hl_validate_tag_value), "Team A / \xc3\xa9quipe", NULL, 0, NULL, true, NULL},
	{F(hl_validate_tag_value), "", "v", 256, NULL, true, NULL},
	{F(hl_validate_tag_value), "", "v", 257, NULL, false,
	 "TagValue: must be at most 256 characters"},
	{F(hl_validate_tag_value), "100%", NULL, 0, NULL, false, NULL},
	{F(hl_validate_tag_value), NULL, NULL, 0, NULL, false, "TagValue: is required"},

	/* S3Uri: s3://bucket[/key], at most 1024 */
	{F(hl_validate_s3_uri), "s3://my-bucket", NULL, 0, NULL, true, NULL},
	{F(hl_validate_s3_uri), "s3://my-bucket/", NULL, 0, NULL, true, NULL},
	{F(hl_validate_s3_uri), "s3://my.bucket-1/prefix/\xc3\xa9 key?x#y", NULL, 0, NULL, true,
	 NULL},
	{F(hl_validate_s3_uri), "s3://abc", NULL, 0, NULL, true, NULL},
	{F(hl_validate_s3_uri), "s3://", "b", 63, NULL, true, NULL},
	{F(hl_validate_s3_uri), "s3://", "b", 64, NULL, false,
	 "S3Uri: must match s3://bucket[/key] with a 3-63 character bucket of a-z 0-9 . -"},
	{F(hl_validate_s3_uri), "s3://bkt/", "k", 1015, NULL, true, NULL}, /* 1024 */
	{F(hl_validate_s3_uri), "s3://bkt/", "k", 1016, NULL, false,
	 "S3Uri: must be at most 1024 characters"},
	{F(hl_validate_s3_uri), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), NULL, NULL, 0, NULL, false, "S3Uri: is required"},
	{F(hl_validate_s3_uri), "s3://ab", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://ab/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://-abc/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://abc-/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://abc./x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://Abc/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://a_c/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "S3://abc/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "https://abc/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), " s3://abc/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://abc/x\ny", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://abc/x\xe2\x80\xa8", NULL, 0, NULL, false, NULL},
	{F(hl_validate_s3_uri), "s3://abc/\xff", NULL, 0, NULL, false, NULL},

	/* DataAccessRoleArn: arn:aws(-p)?:iam::<12>:role/.+, 20-2048 */
	{F(hl_validate_role_arn), ROLE "HealthLakeImport", NULL, 0, NULL, true, NULL},
	{F(hl_validate_role_arn), "arn:aws-cn:iam::" ACCT ":role/x", NULL, 0, NULL, true, NULL},
	{F(hl_validate_role_arn), "arn:aws-us-gov:iam::" ACCT ":role/service/a", NULL, 0, NULL,
	 true, NULL},
	{F(hl_validate_role_arn), ROLE, "r", 2048 - 31, NULL, true, NULL},
	{F(hl_validate_role_arn), ROLE, "r", 2049 - 31, NULL, false,
	 "DataAccessRoleArn: must be 20-2048 characters"},
	{F(hl_validate_role_arn), "arn:aws:iam::1:role", NULL, 0, NULL, false,
	 "DataAccessRoleArn: must be 20-2048 characters"},
	{F(hl_validate_role_arn), "arn:aws:iam::12345678901:role/x", NULL, 0, NULL, false,
	 "DataAccessRoleArn: must match arn:aws(-<partition>)?:iam::<12 digits>:role/<name>"},
	{F(hl_validate_role_arn), "arn:aws:iam::1234567890123:role/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), "arn:aws:iam::" ACCT ":user/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), ROLE, NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), "arn:aws-:iam::" ACCT ":role/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), "arn:aws:iam:us-east-1:" ACCT ":role/x", NULL, 0, NULL, false,
	 NULL},
	{F(hl_validate_role_arn), "arn:aws:sts::" ACCT ":role/x", NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), ROLE "a\nb", NULL, 0, NULL, false, NULL},
	{F(hl_validate_role_arn), NULL, NULL, 0, NULL, false, NULL},

	/* KmsKeyId */
	{F(hl_validate_kms_key_id), UUID, NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "key/" UUID, NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "alias/my-key", NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "alias/aws/healthlake", NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "arn:aws:kms:us-east-1:" ACCT ":key/" UUID, NULL, 0, NULL,
	 true, NULL},
	{F(hl_validate_kms_key_id), "arn:aws-us-gov:kms:us-gov-west-1:" ACCT ":alias/x", NULL, 0,
	 NULL, true, NULL},
	{F(hl_validate_kms_key_id), "arn:aws-iso-b:kms:us-isob-east-1:" ACCT ":key/k", NULL, 0,
	 NULL, true, NULL},
	{F(hl_validate_kms_key_id), "us-east-1:" ACCT ":key/x", NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), ACCT ":alias/x", NULL, 0, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "", "k", 400, NULL, true, NULL},
	{F(hl_validate_kms_key_id), "", "k", 401, NULL, false,
	 "KmsKeyId: must be 1-400 characters"},
	{F(hl_validate_kms_key_id), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), "key/", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), "alias/", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), "a b", NULL, 0, NULL, false,
	 "KmsKeyId: must be a key id, key/<id>, alias/<name> or a KMS key or alias ARN"},
	{F(hl_validate_kms_key_id), "key/a/b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), "arn:aws:kms:us-east-1:" ACCT ":key/a b", NULL, 0, NULL, false,
	 NULL},
	{F(hl_validate_kms_key_id), "arn:aws:s3:::bucket", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), "arn:aws-xx:kms:us-east-1:" ACCT ":key/k", NULL, 0, NULL, false,
	 NULL},
	{F(hl_validate_kms_key_id), "\xc3\xa9", NULL, 0, NULL, false, NULL},
	{F(hl_validate_kms_key_id), NULL, NULL, 0, NULL, false, "KmsKeyId: is required"},

	/* ClientToken: [a-zA-Z0-9-]{1,64} */
	{F(hl_validate_client_token), UUID, NULL, 0, NULL, true, NULL},
	{F(hl_validate_client_token), "a", NULL, 0, NULL, true, NULL},
	{F(hl_validate_client_token), "", "A", 64, NULL, true, NULL},
	{F(hl_validate_client_token), "", "A", 65, NULL, false,
	 "ClientToken: must be 1-64 characters"},
	{F(hl_validate_client_token), "", NULL, 0, NULL, false, NULL},
	{F(hl_validate_client_token), "a_b", NULL, 0, NULL, false,
	 "ClientToken: must match [a-zA-Z0-9-]+"},
	{F(hl_validate_client_token), "a b", NULL, 0, NULL, false, NULL},
	{F(hl_validate_client_token), "\xc3\xa9", NULL, 0, NULL, false, NULL},
	{F(hl_validate_client_token), NULL, NULL, 0, NULL, false, NULL},
};
/* clang-format on */

/* Builds s + rep*n + tail so that its NUL is the last readable byte. */
static char *guarded_build(const struct vcase *c, void **ret_map, size_t *ret_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rl = c->rep ? strlen(c->rep) : 0;
	size_t len = strlen(c->s ? c->s : "") + rl * c->n + strlen(c->tail ? c->tail : "") + 1;
	size_t data_pages = (len + page - 1) / page;
	size_t total = (data_pages + 1) * page;
	char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + data_pages * page, page, PROT_NONE) != 0)
		abort();
	char *dst = m + data_pages * page - len, *p = dst;
	size_t sl = strlen(c->s ? c->s : "");
	memcpy(p, c->s ? c->s : "", sl);
	p += sl;
	for (size_t i = 0; i < c->n; i++, p += rl)
		memcpy(p, c->rep, rl);
	size_t tl = strlen(c->tail ? c->tail : "");
	memcpy(p, c->tail ? c->tail : "", tl + 1);
	*ret_map = m;
	*ret_len = total;
	return dst;
}

/* Printable form of a case's input for the test description. */
static const char *show(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	if (!s)
		return "(null)";
	for (; *s && o + 5 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		void *map = NULL;
		size_t map_len = 0;
		const char *input = NULL;
		if (c->s || c->rep)
			input = guarded_build(c, &map, &map_len);
		struct hl_error err;
		hl_error_clear(&err);
		enum hl_err rc = c->fn(input, &err);
		char shown[64], shown_rep[32];
		is_int(rc, c->valid ? HL_ERR_OK : HL_ERR_INVALID,
		       "case %zu: %s(\"%s\" + \"%s\" x%zu) %s", i, c->fn_name,
		       show(c->s, shown, sizeof(shown)),
		       show(c->rep ? c->rep : "", shown_rep, sizeof(shown_rep)), c->n,
		       c->valid ? "valid" : "invalid");
		if (!c->valid) {
			ok(err.code == HL_ERR_INVALID, "case %zu: err->code set", i);
			/* every message starts with the member name and a colon */
			const char *colon = strchr(err.message, ':');
			ok(colon && colon > err.message && colon[1] == ' ',
			   "case %zu: message names the member: %s", i, err.message);
			if (c->message)
				is_str(err.message, c->message, "case %zu: message", i);
			is_int(c->fn(input, NULL), HL_ERR_INVALID, "case %zu: NULL err is fine", i);
		} else {
			is_str(err.message, "", "case %zu: no message on success", i);
		}
		if (map)
			munmap(map, map_len);
	}
}

/* The job-id rule fs/ applies to names under imports/ and exports/: the
 * same as the check before sending (fs/path.c had its own, which let
 * "abc\u20ac" through to an EINVAL from this one). */
static void test_job_id_ok(void)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
	    {"0123456789abcdef0123456789abcdef", true},
	    {"a", true},
	    {"job id_.:/=+-%@", true},
	    {"\xc3\xa9\xc3\xa9", true},	  /* letters beyond ASCII */
	    {"abc\xe2\x82\xac", false}, /* U+20AC, a currency symbol */
	    {"bad!job", false},
	    {"0123456789abcdef0123456789abcdef0", false},
	    {"", false},
	    {"\xc3", false}, /* truncated UTF-8 */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].s);
		struct guarded g = guard(t[i].s, n); /* no NUL, then an unreadable page */
		is_int(hl_job_id_ok(g.p, n), t[i].ok, "job id \"%s\" ok=%d", t[i].s, t[i].ok);
		unguard(&g);
	}
	char id[200] = "";
	for (int i = 0; i < 32; i++)
		strncat(id, "\xc3\xa9", sizeof(id) - strlen(id) - 1);
	ok(hl_job_id_ok(id, strlen(id)), "32 two-byte characters are a job id");
	strncat(id, "a", sizeof(id) - strlen(id) - 1);
	ok(!hl_job_id_ok(id, strlen(id)), "33 characters are not");
	ok(!hl_job_id_ok("ab\0c", 4), "an embedded NUL is not");
	ok(hl_job_id_ok("abcdef", 3), "only the n bytes count");
}

int main(void)
{
	test_table();
	test_job_id_ok();
	return done_testing();
}
