/* Client-side validation of HealthLake inputs against the constraints of the
 * API model (healthlake-2017-07-01): lengths and patterns, so that a bad name
 * fails at once with a message naming the member and the rule, before any
 * request is signed or sent. Pure: no I/O, no locale.
 *
 * Lengths: the model's min/max on strings count characters (Unicode code
 * points; Smithy's definition), so UTF-8 input is decoded and counted.
 * Input that is not valid UTF-8 (overlong forms, surrogates, > U+10FFFF,
 * truncated sequences) is rejected for every member. */
#include "validate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- Unicode categories L (letters), N (numbers), Z (separators) ----
 *
 * The name patterns use \p{L}\p{Z}\p{N}. Without ICU we approximate them:
 *
 * 1. `lnz_ranges` lists, exactly as Unicode 14.0 assigns them, the L/N/Z code
 *    points inside the "precise" blocks below. It was produced with Python's
 *    unicodedata 14.0.0:
 *        [c for c in block if unicodedata.category(chr(c))[0] in "LNZ"]
 *    merged into ranges.
 * 2. `precise_and_rejected` lists those precise blocks plus blocks rejected
 *    wholesale because they hold (almost) no letters or digits: C0/C1
 *    controls and ASCII/Latin-1 punctuation (inside the first precise block),
 *    combining marks (U+0300, U+1AB0, U+1DC0, U+20D0, U+FE20 blocks),
 *    General Punctuation, symbols and arrows (U+2000-2BFF minus their letters
 *    and numbers), supplemental punctuation and CJK radicals, private use,
 *    variation selectors and small/vertical forms, Yijing hexagrams, ancient
 *    and musical symbols, SignWriting, emoji and pictographs, tags and the
 *    unassigned/private planes 4-16.
 * 3. Anything else (the remaining scripts: Indic other than Devanagari,
 *    Syriac, Ethiopic, Cherokee, Mongolian, Tibetan, historic scripts of
 *    plane 1, ...) is accepted as if it were a letter. That over-accepts the
 *    combining vowel signs and the few punctuation marks of those scripts;
 *    the service still validates, so an over-accepted name costs one
 *    ValidationException, while a wrongly rejected one would lock users out.
 * Measured against Python's unicodedata 14.0 over all code points: about
 * 2,100 assigned non-L/N/Z code points (marks and symbols of the unlisted
 * scripts) and the unassigned code points outside the precise blocks are
 * accepted, and about 200 L/N/Z ones are rejected (numbers in
 * symbol blocks such as counting rods and Siyaq numerals, U+2E2F).
 *
 * Precise blocks: Basic Latin..Arabic (U+0000-06FF), Devanagari, Thai,
 * Georgian and Hangul Jamo, Latin Extended Additional and Greek Extended,
 * U+2000-2BFF, CJK symbols..CJK compatibility (U+3000-33FF), CJK Ext A and
 * unified ideographs, Yi, Hangul syllables, CJK compatibility ideographs,
 * presentation forms (U+FB00-FDFF, U+FE70-FEFF), half/fullwidth forms and
 * specials, mathematical alphanumerics, planes 2-3 (CJK extensions). */

struct cp_range {
	uint32_t lo, hi;
};

/* clang-format off */
static const struct cp_range lnz_ranges[] = {
	{0x0020, 0x0020}, {0x0030, 0x0039}, {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00A0, 0x00A0},
	{0x00AA, 0x00AA}, {0x00B2, 0x00B3}, {0x00B5, 0x00B5}, {0x00B9, 0x00BA}, {0x00BC, 0x00BE},
	{0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x02C1}, {0x02C6, 0x02D1}, {0x02E0, 0x02E4},
	{0x02EC, 0x02EC}, {0x02EE, 0x02EE}, {0x0370, 0x0374}, {0x0376, 0x0377}, {0x037A, 0x037D},
	{0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1},
	{0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F}, {0x0531, 0x0556}, {0x0559, 0x0559},
	{0x0560, 0x0588}, {0x05D0, 0x05EA}, {0x05EF, 0x05F2}, {0x0620, 0x064A}, {0x0660, 0x0669},
	{0x066E, 0x066F}, {0x0671, 0x06D3}, {0x06D5, 0x06D5}, {0x06E5, 0x06E6}, {0x06EE, 0x06FC},
	{0x06FF, 0x06FF}, {0x0904, 0x0939}, {0x093D, 0x093D}, {0x0950, 0x0950}, {0x0958, 0x0961},
	{0x0966, 0x096F}, {0x0971, 0x097F}, {0x0E01, 0x0E30}, {0x0E32, 0x0E33}, {0x0E40, 0x0E46},
	{0x0E50, 0x0E59}, {0x10A0, 0x10C5}, {0x10C7, 0x10C7}, {0x10CD, 0x10CD}, {0x10D0, 0x10FA},
	{0x10FC, 0x11FF}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D},
	{0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D},
	{0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC},
	{0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC},
	{0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x2070, 0x2071},
	{0x2074, 0x2079}, {0x207F, 0x2089}, {0x2090, 0x209C}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
	{0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
	{0x214E, 0x214E}, {0x2150, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793},
	{0x3000, 0x3000}, {0x3005, 0x3007}, {0x3021, 0x3029}, {0x3031, 0x3035}, {0x3038, 0x303C},
	{0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x30FF}, {0x3105, 0x312F},
	{0x3131, 0x318E}, {0x3192, 0x3195}, {0x31A0, 0x31BF}, {0x31F0, 0x31FF}, {0x3220, 0x3229},
	{0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0x3400, 0x4DBF},
	{0x4E00, 0x9FFF}, {0xA000, 0xA48C}, {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6}, {0xD7CB, 0xD7FB},
	{0xF900, 0xFA6D}, {0xFA70, 0xFAD9}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB1D},
	{0xFB1F, 0xFB28}, {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41},
	{0xFB43, 0xFB44}, {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7},
	{0xFDF0, 0xFDFB}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}, {0xFF10, 0xFF19}, {0xFF21, 0xFF3A},
	{0xFF41, 0xFF5A}, {0xFF66, 0xFFBE}, {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7},
	{0xFFDA, 0xFFDC}, {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F},
	{0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6}, {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9},
	{0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A},
	{0x1D50D, 0x1D514}, {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E},
	{0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5},
	{0x1D6A8, 0x1D6C0}, {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714},
	{0x1D716, 0x1D734}, {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788},
	{0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB}, {0x1D7CE, 0x1D7FF},
	{0x20000, 0x2A6DF}, {0x2A700, 0x2B738}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1},
	{0x2CEB0, 0x2EBE0}, {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};
/* clang-format on */

/* clang-format off */
static const struct cp_range precise_and_rejected[] = {
	{0x0000, 0x06FF},   {0x0900, 0x097F},   {0x0E00, 0x0E7F},   {0x10A0, 0x11FF},
	{0x1AB0, 0x1AFF},   {0x1DC0, 0x1FFF},   {0x2000, 0x2BFF},   {0x2DE0, 0x2FFF},
	{0x3000, 0x33FF},   {0x3400, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7FF},
	{0xE000, 0xFAFF},   {0xFB00, 0xFDFF},   {0xFE00, 0xFE6F},   {0xFE70, 0xFFFF},
	{0x10190, 0x101FF}, {0x1CF00, 0x1CFCF}, {0x1D000, 0x1D7FF}, {0x1D800, 0x1DAAF},
	{0x1EC70, 0x1EDFF}, {0x1EF00, 0x1FFFF}, {0x20000, 0x3FFFF}, {0x40000, 0x10FFFF},
};
/* clang-format on */

static bool in_ranges(const struct cp_range *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* \p{L}, \p{Z} or \p{N}, approximately: see the comment above the tables. */
static bool is_lnz(uint32_t cp)
{
	if (in_ranges(lnz_ranges, N_OF(lnz_ranges), cp))
		return true;
	return !in_ranges(precise_and_rejected, N_OF(precise_and_rejected), cp);
}

/* Decodes one UTF-8 sequence at s (NUL-terminated). Returns its length and
 * sets *cp, or 0 for an invalid sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1fu;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0fu;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		/* a NUL terminator fails this test, so a truncated sequence stops here */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Counts code points; false when s is not valid UTF-8. */
static bool utf8_count(const char *s, size_t *ret_n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (*p) {
		uint32_t cp;
		size_t l = utf8_decode(p, &cp);
		if (!l)
			return false;
		p += l;
		n++;
	}
	*ret_n = n;
	return true;
}

/* Common prologue: present, valid UTF-8, min..max characters. */
static enum hl_err check_length(const char *member, const char *s, size_t min, size_t max,
				struct hl_error *err)
{
	size_t n;
	if (!s)
		return hl_error_set(err, HL_ERR_INVALID, "%s: is required", member);
	if (!utf8_count(s, &n))
		return hl_error_set(err, HL_ERR_INVALID, "%s: must be valid UTF-8", member);
	if (n < min || n > max) {
		if (min == max)
			return hl_error_set(err, HL_ERR_INVALID, "%s: must be %zu characters",
					    member, min);
		if (min == 0)
			return hl_error_set(err, HL_ERR_INVALID,
					    "%s: must be at most %zu characters", member, max);
		return hl_error_set(err, HL_ERR_INVALID, "%s: must be %zu-%zu characters", member,
				    min, max);
	}
	return HL_ERR_OK;
}

/* ^([\p{L}\p{Z}\p{N}<punct>]*)$ on valid UTF-8. */
static enum hl_err check_name_chars(const char *member, const char *s, const char *punct,
				    struct hl_error *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t pos = 1;
	while (*p) {
		uint32_t cp = 0;
		size_t l = utf8_decode(p, &cp);
		bool good = l && (cp < 0x80 && strchr(punct, (int)cp) ? true : is_lnz(cp));
		if (!good)
			return hl_error_set(err, HL_ERR_INVALID,
					    "%s: character U+%04X at position %zu is not allowed "
					    "(letters, digits, spaces and %s only)",
					    member, (unsigned)cp, pos, punct);
		p += l;
		pos++;
	}
	return HL_ERR_OK;
}

static enum hl_err validate_name(const char *member, const char *s, size_t min, size_t max,
				 const char *punct, struct hl_error *err)
{
	enum hl_err rc = check_length(member, s, min, max, err);
	if (rc)
		return rc;
	return check_name_chars(member, s, punct, err);
}

/* Characters besides \p{L}\p{Z}\p{N} that the name patterns allow. */
#define NAME_PUNCT "_.:/=+-%@"
#define TAG_PUNCT "_.:/=+-@"

enum hl_err hl_validate_datastore_name(const char *s, struct hl_error *err)
{
	return validate_name("DatastoreName", s, 1, 256, NAME_PUNCT, err);
}

enum hl_err hl_validate_datastore_id(const char *s, struct hl_error *err)
{
	return validate_name("DatastoreId", s, 1, 32, NAME_PUNCT, err);
}

enum hl_err hl_validate_job_id(const char *s, struct hl_error *err)
{
	return validate_name("JobId", s, 1, 32, NAME_PUNCT, err);
}

bool hl_job_id_ok(const char *s, size_t n)
{
	char buf[32 * 4 + 1]; /* 32 characters of at most 4 UTF-8 bytes */
	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return hl_validate_job_id(buf, NULL) == HL_ERR_OK;
}

enum hl_err hl_validate_job_name(const char *s, struct hl_error *err)
{
	return validate_name("JobName", s, 1, 64, NAME_PUNCT, err);
}

enum hl_err hl_validate_tag_key(const char *s, struct hl_error *err)
{
	return validate_name("TagKey", s, 1, 128, TAG_PUNCT, err);
}

enum hl_err hl_validate_tag_value(const char *s, struct hl_error *err)
{
	return validate_name("TagValue", s, 0, 256, TAG_PUNCT, err);
}

/* ---- ASCII pattern helpers: each returns the number of bytes matched at s
 * (0 = no match). ---- */

static bool is_lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static size_t span_digits(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && is_digit(s[n]))
		n++;
	return n;
}

static size_t prefix(const char *s, const char *lit)
{
	size_t n = strlen(lit);
	return strncmp(s, lit, n) == 0 ? n : 0;
}

/* ".+" / ".*" to the end: any characters except the ECMAScript line
 * terminators (LF, CR, U+2028, U+2029), which '.' does not match. */
static bool dot_star_to_end(const char *s, size_t min)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (*p) {
		uint32_t cp;
		size_t l = utf8_decode(p, &cp);
		if (!l || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029)
			return false;
		p += l;
		n++;
	}
	return n >= min;
}

enum hl_err hl_validate_client_token(const char *s, struct hl_error *err)
{
	enum hl_err rc = check_length("ClientToken", s, 1, 64, err);
	if (rc)
		return rc;
	for (const char *p = s; *p; p++)
		if (!is_lower_digit(*p) && !(*p >= 'A' && *p <= 'Z') && *p != '-')
			return hl_error_set(err, HL_ERR_INVALID,
					    "ClientToken: must match [a-zA-Z0-9-]+");
	return HL_ERR_OK;
}

/* s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?, matched against the whole
 * string: the bucket runs to the first '/', 3-63 characters. */
enum hl_err hl_validate_s3_uri(const char *s, struct hl_error *err)
{
	enum hl_err rc = check_length("S3Uri", s, 0, 1024, err);
	if (rc)
		return rc;
	bool good = prefix(s, "s3://") == 5;
	if (good) {
		const char *b = s + 5;
		size_t n = strcspn(b, "/");
		good = n >= 3 && n <= 63 && is_lower_digit(b[0]) && is_lower_digit(b[n - 1]);
		for (size_t i = 1; good && i + 1 < n; i++)
			good = is_lower_digit(b[i]) || b[i] == '.' || b[i] == '-';
		if (good && b[n] == '/')
			good = dot_star_to_end(b + n + 1, 0);
	}
	if (!good)
		return hl_error_set(err, HL_ERR_INVALID,
				    "S3Uri: must match s3://bucket[/key] with a 3-63 character "
				    "bucket of a-z 0-9 . -");
	return HL_ERR_OK;
}

/* arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+ (whole string), 20-2048 characters. */
enum hl_err hl_validate_role_arn(const char *s, struct hl_error *err)
{
	enum hl_err rc = check_length("DataAccessRoleArn", s, 20, 2048, err);
	if (rc)
		return rc;
	const char *p = s;
	bool good = prefix(p, "arn:aws");
	if (good) {
		p += 7;
		if (*p == '-') {
			size_t n = strcspn(p + 1, ":");
			good = n > 0;
			p += 1 + n;
		}
	}
	if (good && (good = prefix(p, ":iam::")))
		p += 6;
	if (good && (good = span_digits(p, 12) == 12))
		p += 12;
	if (good && (good = prefix(p, ":role/")))
		p += 6;
	if (good)
		good = dot_star_to_end(p, 1);
	if (!good)
		return hl_error_set(err, HL_ERR_INVALID,
				    "DataAccessRoleArn: must match "
				    "arn:aws(-<partition>)?:iam::<12 digits>:role/<name>");
	return HL_ERR_OK;
}

/* The KMS key pattern, matched against the whole string:
 *   (arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:kms:)?
 *   ([a-z]{2}-[a-z]+(-[a-z]+)?-\d:)?
 *   (\d{12}:)?
 *   (((key/)?[a-zA-Z0-9-_]+)|(alias/[a-zA-Z0-9:/_-]+))
 * Each optional prefix can match in at most one way, so trying each present
 * and absent (as a backtracking matcher would) checks at most 8 tails. */
static bool kms_tail(const char *s)
{
	bool alias = prefix(s, "alias/") > 0;
	/* "key/" must be stripped when present: '/' is not in the id class */
	const char *p = s + (alias ? 6 : prefix(s, "key/"));
	if (!*p)
		return false;
	for (; *p; p++) {
		char c = *p;
		if (!(is_lower_digit(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
		      (alias && (c == ':' || c == '/'))))
			return false;
	}
	return true;
}

static size_t kms_arn_prefix(const char *s)
{
	static const char *const arns[] = {
	    "arn:aws:kms:", "arn:aws-us-gov:kms:", "arn:aws-iso:kms:", "arn:aws-iso-b:kms:",
	    "arn:aws-cn:kms:"};
	for (size_t i = 0; i < N_OF(arns); i++)
		if (prefix(s, arns[i]))
			return strlen(arns[i]);
	return 0;
}

/* [a-z]{2}-[a-z]+(-[a-z]+)?-\d: */
static size_t kms_region_prefix(const char *s)
{
	size_t n = 0;
	if (!is_lower(s[0]) || !is_lower(s[1]) || s[2] != '-')
		return 0;
	n = 3;
	if (!is_lower(s[n]))
		return 0;
	while (is_lower(s[n]))
		n++;
	if (s[n] == '-' && is_lower(s[n + 1])) {
		n++;
		while (is_lower(s[n]))
			n++;
	}
	if (s[n] == '-' && is_digit(s[n + 1]) && s[n + 2] == ':')
		return n + 3;
	return 0;
}

static size_t kms_account_prefix(const char *s)
{
	return span_digits(s, 12) == 12 && s[12] == ':' ? 13 : 0;
}

enum hl_err hl_validate_kms_key_id(const char *s, struct hl_error *err)
{
	enum hl_err rc = check_length("KmsKeyId", s, 1, 400, err);
	if (rc)
		return rc;
	size_t arn = kms_arn_prefix(s);
	for (int a = 0; a < 2; a++) {
		const char *p1 = s + (a ? arn : 0);
		if (a && !arn)
			continue;
		size_t region = kms_region_prefix(p1);
		for (int r = 0; r < 2; r++) {
			const char *p2 = p1 + (r ? region : 0);
			if (r && !region)
				continue;
			size_t account = kms_account_prefix(p2);
			if (kms_tail(p2) || (account && kms_tail(p2 + account)))
				return HL_ERR_OK;
		}
	}
	return hl_error_set(err, HL_ERR_INVALID,
			    "KmsKeyId: must be a key id, key/<id>, alias/<name> or a KMS key or "
			    "alias ARN");
}
