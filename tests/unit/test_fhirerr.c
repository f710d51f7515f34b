#include <errno.h>

#include "fhirerr.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct hl_error mkerr(enum hl_err code, long status, const char *msg)
{
	struct hl_error e;
	hl_error_clear(&e);
	e.code = code;
	e.http_status = status;
	snprintf(e.message, sizeof(e.message), "%s", msg ? msg : "");
	return e;
}

static void test_status_table(void)
{
	/* DESIGN.md "FHIR data as files", Errors, line by line */
	const struct {
		long status;
		int want;
	} t[] = {
	    {200, 0},	       {201, 0},	  {204, 0},	 {304, 0},	{400, EINVAL},
	    {422, EINVAL},     {401, EACCES},	  {403, EACCES}, {404, ENOENT}, {410, ENOENT},
	    {405, EOPNOTSUPP}, {501, EOPNOTSUPP}, {409, EBUSY},	 {412, ESTALE}, {413, EFBIG},
	    {429, EAGAIN},     {500, EIO},	  {502, EIO},	 {503, EIO},	{504, EIO},
	    {599, EIO},	       {408, ETIMEDOUT},  {406, EIO},	 {415, EIO},	{402, EINVAL},
	    {411, EINVAL},     {414, EINVAL},	  {431, EINVAL}, {451, EINVAL}, {499, EINVAL},
	    {600, EIO},	       {999, EIO},
	};
	for (size_t i = 0; i < N(t); i++)
		is_int(hlfs_fhir_status_errno(t[i].status), t[i].want, "HTTP %ld", t[i].status);
}

static void test_errno(void)
{
	const struct {
		enum hlfs_fhir_cond cond;
		enum hl_err code;
		long status;
		int want;
		const char *what;
	} t[] = {
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 400, EINVAL, "400 from the service"},
	    {HLFS_FC_NONE, HL_ERR_VALIDATION, 422, EINVAL, "422"},
	    {HLFS_FC_NONE, HL_ERR_NOT_FOUND, 404, ENOENT, "404"},
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 410, ENOENT, "410 deleted"},
	    {HLFS_FC_NONE, HL_ERR_ACCESS_DENIED, 403, EACCES, "403"},
	    {HLFS_FC_NONE, HL_ERR_AUTH, 401, EACCES, "401"},
	    {HLFS_FC_NONE, HL_ERR_CREDENTIALS, 0, EACCES, "credential provider failed"},
	    {HLFS_FC_NONE, HL_ERR_NO_CREDENTIALS, 0, EACCES, "no credentials"},
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 405, EOPNOTSUPP, "405"},
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 501, EOPNOTSUPP, "501 is not a 5xx retry case"},
	    {HLFS_FC_NONE, HL_ERR_CONFLICT, 409, EBUSY, "409"},
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 412, ESTALE, "412 If-Match mismatch"},
	    {HLFS_FC_NONE, HL_ERR_SERVICE, 413, EFBIG, "413"},
	    {HLFS_FC_NONE, HL_ERR_THROTTLED, 429, EAGAIN, "429 after the last retry"},
	    {HLFS_FC_NONE, HL_ERR_THROTTLED, 503, EAGAIN, "503 throttling after the last retry"},
	    {HLFS_FC_NONE, HL_ERR_THROTTLED, 0, EAGAIN, "throttled, no status"},
	    {HLFS_FC_NONE, HL_ERR_SERVER, 500, EIO, "500 after the last retry"},
	    {HLFS_FC_NONE, HL_ERR_SERVER, 503, EIO, "503"},
	    {HLFS_FC_NONE, HL_ERR_TIMEOUT, 0, ETIMEDOUT, "timeout="},
	    {HLFS_FC_NONE, HL_ERR_TIMEOUT, 503, ETIMEDOUT, "timeout= while retrying a 503"},
	    {HLFS_FC_NONE, HL_ERR_NETWORK, 0, EIO, "connection refused"},
	    {HLFS_FC_NONE, HL_ERR_RESOLVE, 0, EIO, "DNS"},
	    {HLFS_FC_NONE, HL_ERR_TLS, 0, EIO, "TLS"},
	    {HLFS_FC_NONE, HL_ERR_PROTOCOL, 200, EIO, "malformed 200 answer"},
	    {HLFS_FC_NONE, HL_ERR_TOO_LARGE, 200, EFBIG, "an answer over the client's cap"},
	    {HLFS_FC_NONE, HL_ERR_NOMEM, 0, ENOMEM, "out of memory"},
	    {HLFS_FC_NONE, HL_ERR_OK, 404, ENOENT, "status alone"},
	    {HLFS_FC_NONE, HL_ERR_OK, 200, EIO, "nothing wrong said: still a failure"},
	    {HLFS_FC_NONE, HL_ERR_INVALID, 0, EINVAL, "invalid input, no call"},
	    {HLFS_FC_BAD_BODY, HL_ERR_OK, 0, EINVAL, "wrong resourceType or id"},
	    {HLFS_FC_NOT_CAPABLE, HL_ERR_OK, 0, EOPNOTSUPP, "not in the CapabilityStatement"},
	    {HLFS_FC_TOO_BIG, HL_ERR_OK, 0, EFBIG, "over fhir_max_bytes"},
	    {HLFS_FC_BAD_BUNDLE, HL_ERR_OK, 200, EIO, "malformed Bundle"},
	    {HLFS_FC_FOREIGN_LINK, HL_ERR_OK, 200, EIO, "next link to another host"},
	    {HLFS_FC_LIST_MAX, HL_ERR_OK, 0, EOVERFLOW, "past fhir_list_max"},
	    {HLFS_FC_NO_DELETE, HL_ERR_OK, 0, EPERM, "rm without allow_delete"},
	    {HLFS_FC_READ_ONLY, HL_ERR_OK, 0, EROFS, "ro mount"},
	    {HLFS_FC_BAD_BUNDLE, HL_ERR_NOT_FOUND, 404, EIO, "the condition wins"},
	};
	for (size_t i = 0; i < N(t); i++) {
		struct hl_error e = mkerr(t[i].code, t[i].status, NULL);
		is_int(hlfs_fhir_errno(t[i].cond, &e), t[i].want, "%s", t[i].what);
	}
	is_int(hlfs_fhir_errno(HLFS_FC_LIST_MAX, NULL), EOVERFLOW, "a condition needs no error");
	is_int(hlfs_fhir_errno(HLFS_FC_NONE, NULL), EIO, "nothing at all is EIO");
}

static void test_op_names(void)
{
	const char *want[] = {"read",	"vread",   "search",	 "update",
			      "delete", "history", "everything", "capabilities"};
	is_int(HLFS_FOP__COUNT, N(want), "eight interactions");
	for (size_t i = 0; i < N(want); i++)
		is_str(hlfs_fhir_op_name((enum hlfs_fhir_op)i), want[i], "op %zu", i);
	is_str(hlfs_fhir_op_name(HLFS_FOP__COUNT), "unknown", "out of range");
}

/* The log line must never hold the diagnostics, a version or anything of a query. */
static void no_leak(const struct hlfs_fhir_reason *r, const char *secret, const char *what)
{
	ok(!strstr(r->log, secret), "%s: the log line holds none of it", what);
	ok(!strchr(r->line, '\n') && !strchr(r->log, '\n'), "%s: one line each", what);
}

static void test_reasons(void)
{
	struct hlfs_fhir_reason r;
	struct hl_error e;

	e = mkerr(HL_ERR_SERVICE, 412, "Resource Patient/p123 has version 4, not 3");
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, "4", 0);
	is_int(r.err, ESTALE, "412: ESTALE");
	is_str(r.line,
	       "update: the resource changed since the version this write is based on; nothing "
	       "was overwritten (HTTP 412); current version 4: Resource Patient/p123 has version "
	       "4, not 3",
	       ".error names the current version and quotes the diagnostics");
	is_str(r.log,
	       "fhir update: the resource changed since the version this write is based on; "
	       "nothing was overwritten (HTTP 412)",
	       "the log line has neither");
	no_leak(&r, "p123", "412");

	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, "bad version!", 0);
	ok(!strstr(r.line, "bad version!"), "a current version that is not an id is left out");
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, NULL, 0);
	ok(!strstr(r.line, "current version"), "no current version, no mention");

	e = mkerr(HL_ERR_NOT_FOUND, 404, "");
	hlfs_fhir_reason(&r, HLFS_FOP_READ, HLFS_FC_NONE, &e, "9", 0);
	is_int(r.err, ENOENT, "404");
	is_str(r.line, "read: not found (HTTP 404)", "no diagnostics, no colon");
	ok(!strstr(r.line, "version"), "a version is named for ESTALE only");

	e = mkerr(HL_ERR_VALIDATION, 400,
		  "Invalid search parameter\r\n  'birthdate' value \t 'x-y-z'\x01 for Patient?");
	hlfs_fhir_reason(&r, HLFS_FOP_SEARCH, HLFS_FC_NONE, &e, NULL, 0);
	is_str(r.line,
	       "search: the service refused the request as invalid (HTTP 400): Invalid search "
	       "parameter 'birthdate' value 'x-y-z' for Patient?",
	       "control bytes and runs of spaces become one space");
	is_str(r.log, "fhir search: the service refused the request as invalid (HTTP 400)",
	       "search log line");
	no_leak(&r, "x-y-z", "400 search");

	e = mkerr(HL_ERR_SERVICE, 422, "   \r\n\t ");
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, NULL, 0);
	is_str(r.line, "update: the service refused the request as invalid (HTTP 422)",
	       "blank diagnostics are left out");

	e = mkerr(HL_ERR_OK, 0, "");
	hlfs_fhir_reason(&r, HLFS_FOP_SEARCH, HLFS_FC_LIST_MAX, &e, NULL, 10000);
	is_int(r.err, EOVERFLOW, "list max");
	is_str(r.line,
	       "search: more resources than fhir_list_max; use a search (<Type>?<query>) or an "
	       "export (10000)",
	       "list max: says what to do and the limit");

	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_TOO_BIG, NULL, NULL, 8388608);
	is_int(r.err, EFBIG, "too big");
	is_str(r.line, "update: the resource is larger than fhir_max_bytes (8388608)", "too big");

	e = mkerr(HL_ERR_INVALID, 0, "resourceType is not the directory's type");
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_BAD_BODY, &e, NULL, 0);
	is_int(r.err, EINVAL, "bad body");
	is_str(r.line, "update: refused before any call: resourceType is not the directory's type",
	       "bad body: the check's own reason");
	is_str(r.log, "fhir update: refused before any call", "bad body log");

	e = mkerr(HL_ERR_OK, 200, "https://evil.example/steal?token=abc");
	hlfs_fhir_reason(&r, HLFS_FOP_SEARCH, HLFS_FC_FOREIGN_LINK, &e, NULL, 0);
	is_int(r.err, EIO, "foreign link");
	ok(!strstr(r.line, "evil") && !strstr(r.log, "evil"),
	   "a foreign link's text is in neither line");
	ok(!strstr(r.line, "HTTP"), "a condition carries no HTTP status");

	const struct {
		enum hlfs_fhir_op op;
		enum hlfs_fhir_cond cond;
		enum hl_err code;
		long status;
		const char *msg;
		int err;
		const char *line;
	} t[] = {
	    {HLFS_FOP_DELETE, HLFS_FC_NO_DELETE, HL_ERR_OK, 0, "", EPERM,
	     "delete: deleting needs the mount option allow_delete"},
	    {HLFS_FOP_UPDATE, HLFS_FC_READ_ONLY, HL_ERR_OK, 0, "", EROFS,
	     "update: the mount is read-only"},
	    {HLFS_FOP_EVERYTHING, HLFS_FC_NOT_CAPABLE, HL_ERR_OK, 0, "", EOPNOTSUPP,
	     "everything: the store's CapabilityStatement does not offer this interaction"},
	    {HLFS_FOP_SEARCH, HLFS_FC_BAD_BUNDLE, HL_ERR_PROTOCOL, 200, "x", EIO,
	     "search: the service's answer is not a usable Bundle"},
	    {HLFS_FOP_READ, HLFS_FC_NONE, HL_ERR_TIMEOUT, 0, "deadline of 20 s reached", ETIMEDOUT,
	     "read: timeout= reached: deadline of 20 s reached"},
	    {HLFS_FOP_VREAD, HLFS_FC_NONE, HL_ERR_THROTTLED, 429, "Rate exceeded", EAGAIN,
	     "vread: throttled after the last retry; try again later (HTTP 429): Rate exceeded"},
	    {HLFS_FOP_HISTORY, HLFS_FC_NONE, HL_ERR_SERVICE, 405, "", EOPNOTSUPP,
	     "history: the service does not support this interaction (HTTP 405)"},
	    {HLFS_FOP_CAPABILITIES, HLFS_FC_NONE, HL_ERR_ACCESS_DENIED, 403, "", EACCES,
	     "capabilities: access denied (HTTP 403)"},
	    {HLFS_FOP_UPDATE, HLFS_FC_NONE, HL_ERR_CONFLICT, 409, "", EBUSY,
	     "update: conflict (HTTP 409)"},
	    {HLFS_FOP_READ, HLFS_FC_NONE, HL_ERR_SERVER, 502, "", EIO,
	     "read: service or network error (HTTP 502)"},
	    {HLFS_FOP_READ, HLFS_FC_NONE, HL_ERR_NOMEM, 0, "", ENOMEM, "read: out of memory"},
	};
	for (size_t i = 0; i < N(t); i++) {
		e = mkerr(t[i].code, t[i].status, t[i].msg);
		hlfs_fhir_reason(&r, t[i].op, t[i].cond, &e, NULL, 0);
		is_int(r.err, t[i].err, "reason %zu: errno", i);
		is_str(r.line, t[i].line, "reason %zu: line", i);
	}
}

static void test_long_and_odd(void)
{
	struct hlfs_fhir_reason r;
	struct hl_error e = mkerr(HL_ERR_VALIDATION, 400, "");

	/* 511 bytes of 3-byte characters: the line is cut at a character boundary */
	size_t n = 0;
	while (n + 3 < sizeof(e.message)) {
		memcpy(e.message + n, "\xe2\x82\xac", 3); /* U+20AC */
		n += 3;
	}
	e.message[n] = '\0';
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, NULL, 0);
	size_t len = strlen(r.line);
	ok(len < sizeof(r.line), "fits");
	const char *colon = strstr(r.line, "): ");
	ok(colon != NULL, "diagnostics present");
	size_t tail = colon ? len - (size_t)(colon + 3 - r.line) : 0;
	is_int(tail % 3, 0, "cut between characters, never inside one");

	/* invalid UTF-8 and DEL */
	e = mkerr(HL_ERR_VALIDATION, 400,
		  "a\xff\xfe b\x7f"
		  "c\xc3");
	hlfs_fhir_reason(&r, HLFS_FOP_UPDATE, HLFS_FC_NONE, &e, NULL, 0);
	is_str(r.line, "update: the service refused the request as invalid (HTTP 400): a?? b c?",
	       "invalid bytes become '?', DEL a space");

	/* every op, every condition, every status class: the log line never holds
	 * the diagnostics */
	int leaks = 0, lines = 0;
	long statuses[] = {0, 400, 401, 404, 405, 409, 410, 412, 413, 422, 429, 500, 503};
	for (int op = 0; op < HLFS_FOP__COUNT; op++)
		for (int c = HLFS_FC_NONE; c <= HLFS_FC_READ_ONLY; c++)
			for (size_t s = 0; s < N(statuses); s++) {
				e = mkerr(HL_ERR_SERVICE, statuses[s], "PHI-Smith-1970");
				hlfs_fhir_reason(&r, (enum hlfs_fhir_op)op, (enum hlfs_fhir_cond)c,
						 &e, "7", 100);
				if (strstr(r.log, "Smith") || strstr(r.log, " 7"))
					leaks++;
				if (strchr(r.line, '\n') || !r.line[0] || !r.log[0] || !r.err)
					lines++;
			}
	is_int(leaks, 0, "no log line holds diagnostics or a version");
	is_int(lines, 0, "every reason is one non-empty line with an errno");
}

int main(void)
{
	test_status_table();
	test_errno();
	test_op_names();
	test_reasons();
	test_long_and_odd();
	return done_testing();
}
