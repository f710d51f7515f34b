#include "fhirjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- The scanner: one walk validates, and prints when asked ---- */

struct walk {
	const char *s;
	size_t n;
	size_t pos;
	struct hl_buf *out; /* NULL: validate only */
	bool pretty;
	struct hl_error *err;
};

static enum hl_err bad(struct walk *w, const char *what)
{
	return hl_error_set(w->err, HL_ERR_INVALID, "JSON: %s at byte %zu", what, w->pos);
}

static enum hl_err emit(struct walk *w, const char *p, size_t len)
{
	if (!w->out)
		return HL_ERR_OK;
	enum hl_err rc = hl_buf_append(w->out, p, len);
	if (rc != HL_ERR_OK)
		return hl_error_set(w->err, rc, "JSON: %s", hl_strerror(rc));
	return HL_ERR_OK;
}

static enum hl_err newline(struct walk *w, unsigned depth)
{
	static const char spaces[] = "                                                                ";
	if (!w->out || !w->pretty)
		return HL_ERR_OK;
	enum hl_err rc = emit(w, "\n", 1);
	for (size_t left = (size_t)depth * 2; rc == HL_ERR_OK && left;) {
		size_t k = left < sizeof spaces - 1 ? left : sizeof spaces - 1;
		rc = emit(w, spaces, k);
		left -= k;
	}
	return rc;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t hl_json_skip_ws(const char *s, size_t n, size_t pos)
{
	while (pos < n && is_ws(s[pos]))
		pos++;
	return pos;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* The 4 hex digits at s[pos], if all there. */
static bool hex4(const char *s, size_t n, size_t pos, unsigned *ret)
{
	unsigned v = 0;
	if (pos > n || n - pos < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		int h = hl_hex_value(s[pos + i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*ret = v;
	return true;
}

static enum hl_err scan_string(struct walk *w)
{
	const char *s = w->s;
	size_t n = w->n, start = w->pos, i = start + 1;

	for (;;) {
		if (i >= n) {
			w->pos = i;
			return bad(w, "unterminated string");
		}
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			break;
		if (c < 0x20) {
			w->pos = i;
			return bad(w, "control character in string");
		}
		if (c == '\\') {
			char e = i + 1 < n ? s[i + 1] : '\0';
			unsigned u, lo;
			switch (e) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				break;
			default:
				w->pos = i;
				return bad(w, "invalid escape");
			}
			if (!hex4(s, n, i + 2, &u)) {
				w->pos = i;
				return bad(w, "invalid \\u escape");
			}
			/* I-JSON: a surrogate escape must be half of a pair. */
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
				    hex4(s, n, i + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
					i += 12;
					continue;
				}
				w->pos = i;
				return bad(w, "unpaired surrogate escape");
			}
			if (u >= 0xDC00 && u <= 0xDFFF) {
				w->pos = i;
				return bad(w, "unpaired surrogate escape");
			}
			i += 6;
			continue;
		}
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (!l) {
			w->pos = i;
			return bad(w, "invalid UTF-8");
		}
		i += l;
	}
	i++;
	enum hl_err rc = emit(w, s + start, i - start);
	w->pos = i;
	return rc;
}

static enum hl_err scan_number(struct walk *w)
{
	const char *s = w->s;
	size_t n = w->n, start = w->pos, i = start;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		goto bad;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i]))
			goto bad;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			goto bad;
		while (i < n && is_digit(s[i]))
			i++;
	}
	enum hl_err rc = emit(w, s + start, i - start);
	w->pos = i;
	return rc;
bad:
	w->pos = i;
	return bad(w, "invalid number");
}

static enum hl_err scan_literal(struct walk *w)
{
	static const char *const lits[] = {"true", "false", "null"};
	for (size_t k = 0; k < 3; k++) {
		size_t len = strlen(lits[k]);
		if (w->n - w->pos >= len && memcmp(w->s + w->pos, lits[k], len) == 0) {
			enum hl_err rc = emit(w, lits[k], len);
			w->pos += len;
			return rc;
		}
	}
	return bad(w, "value expected");
}

/* A member name, the colon and the whitespace up to the value. */
static enum hl_err scan_key(struct walk *w)
{
	enum hl_err rc;

	if (w->pos >= w->n || w->s[w->pos] != '"')
		return bad(w, "member name expected");
	if ((rc = scan_string(w)) != HL_ERR_OK)
		return rc;
	w->pos = hl_json_skip_ws(w->s, w->n, w->pos);
	if (w->pos >= w->n || w->s[w->pos] != ':')
		return bad(w, "':' expected");
	w->pos++;
	if ((rc = emit(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1)) != HL_ERR_OK)
		return rc;
	w->pos = hl_json_skip_ws(w->s, w->n, w->pos);
	return HL_ERR_OK;
}

/* One value at w->pos, nested under `base` containers. Iterative, with its
 * own small stack, so hostile nesting cannot exhaust the C stack. */
static enum hl_err walk_value(struct walk *w, unsigned base)
{
	bool object[HL_JSON_MAX_DEPTH]; /* per open container below base */
	unsigned d = base;
	enum hl_err rc;

	for (;;) {
		/* A value is expected here. */
		w->pos = hl_json_skip_ws(w->s, w->n, w->pos);
		if (w->pos >= w->n)
			return bad(w, "value expected");
		char c = w->s[w->pos];
		if (c == '{' || c == '[') {
			char close = c == '{' ? '}' : ']';
			if (d >= HL_JSON_MAX_DEPTH)
				return bad(w, "nesting too deep");
			if ((rc = emit(w, &c, 1)) != HL_ERR_OK)
				return rc;
			w->pos = hl_json_skip_ws(w->s, w->n, w->pos + 1);
			if (w->pos < w->n && w->s[w->pos] == close) {
				if ((rc = emit(w, &close, 1)) != HL_ERR_OK)
					return rc;
				w->pos++;
			} else {
				object[d - base] = c == '{';
				d++;
				if ((rc = newline(w, d)) != HL_ERR_OK)
					return rc;
				if (c == '{' && (rc = scan_key(w)) != HL_ERR_OK)
					return rc;
				continue;
			}
		} else if (c == '"') {
			rc = scan_string(w);
		} else if (c == '-' || is_digit(c)) {
			rc = scan_number(w);
		} else {
			rc = scan_literal(w);
		}
		if (rc != HL_ERR_OK)
			return rc;

		/* After a value: close containers until a ',' asks for the next. */
		for (;;) {
			if (d == base)
				return HL_ERR_OK;
			bool obj = object[d - base - 1];
			w->pos = hl_json_skip_ws(w->s, w->n, w->pos);
			if (w->pos >= w->n)
				return bad(w, obj ? "unterminated object" : "unterminated array");
			c = w->s[w->pos];
			if (c == ',') {
				w->pos++;
				if ((rc = emit(w, ",", 1)) != HL_ERR_OK ||
				    (rc = newline(w, d)) != HL_ERR_OK)
					return rc;
				w->pos = hl_json_skip_ws(w->s, w->n, w->pos);
				if (obj && (rc = scan_key(w)) != HL_ERR_OK)
					return rc;
				break;
			}
			if (c != (obj ? '}' : ']'))
				return bad(w, obj ? "',' or '}' expected" : "',' or ']' expected");
			d--;
			if ((rc = newline(w, d)) != HL_ERR_OK || (rc = emit(w, &c, 1)) != HL_ERR_OK)
				return rc;
			w->pos++;
		}
	}
}

static enum hl_err walk_doc(const char *s, size_t n, struct hl_buf *out, bool pretty,
			    struct hl_error *err)
{
	struct walk w = {.s = s, .n = n, .pos = 0, .out = out, .pretty = pretty, .err = err};
	enum hl_err rc;

	if (!s && n)
		return hl_error_set(err, HL_ERR_INVALID, "JSON: no input");
	if ((rc = walk_value(&w, 0)) != HL_ERR_OK)
		return rc;
	w.pos = hl_json_skip_ws(s, n, w.pos);
	if (w.pos != n)
		return bad(&w, "trailing bytes after the value");
	return pretty ? emit(&w, "\n", 1) : HL_ERR_OK;
}

enum hl_err hl_json_validate(const char *s, size_t n, struct hl_error *err)
{
	return walk_doc(s, n, NULL, false, err);
}

enum hl_err hl_json_pretty(const char *s, size_t n, struct hl_buf *out, struct hl_error *err)
{
	return walk_doc(s, n, out, true, err);
}

enum hl_err hl_json_compact(const char *s, size_t n, struct hl_buf *out, struct hl_error *err)
{
	return walk_doc(s, n, out, false, err);
}

enum hl_err hl_json_document(const char *s, size_t n, struct hl_span *ret_value,
			     struct hl_error *err)
{
	enum hl_err rc = hl_json_validate(s, n, err);
	size_t start, end = n;

	if (rc != HL_ERR_OK)
		return rc;
	start = hl_json_skip_ws(s, n, 0);
	while (is_ws(s[end - 1]))
		end--;
	*ret_value = (struct hl_span){start, end - start};
	return HL_ERR_OK;
}

enum hl_err hl_json_value_end(const char *s, size_t n, size_t pos, unsigned depth,
			      size_t *ret_end, struct hl_error *err)
{
	struct walk w = {.s = s, .n = n, .pos = pos, .out = NULL, .pretty = false, .err = err};
	enum hl_err rc;

	if (pos >= n || is_ws(s[pos]))
		return bad(&w, "value expected");
	if (depth > HL_JSON_MAX_DEPTH)
		return bad(&w, "nesting too deep");
	if ((rc = walk_value(&w, depth)) != HL_ERR_OK)
		return rc;
	*ret_end = w.pos;
	return HL_ERR_OK;
}

/* ---- Reading a validated body ---- */

bool hl_json_iter_init(struct hl_json_iter *it, const char *s, struct hl_span v)
{
	if (v.len < 2 || (s[v.off] != '{' && s[v.off] != '['))
		return false;
	it->s = s;
	it->pos = v.off + 1;
	it->end = v.off + v.len - 1;
	it->object = s[v.off] == '{';
	return true;
}

/* The end of the string token at s[pos] == '"', without checking it. */
static bool skip_string(const char *s, size_t end, size_t pos, size_t *ret)
{
	for (size_t i = pos + 1; i < end; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"') {
			*ret = i + 1;
			return true;
		}
	}
	return false;
}

/* The end of the value at s[pos] in a body already validated: brackets are
 * matched and strings skipped, nothing more, so that reading a validated
 * body costs one pass per level instead of a full validation. Bounded by
 * end whatever the bytes are. */
static bool skip_value(const char *s, size_t end, size_t pos, size_t *ret)
{
	size_t depth = 0, i = pos;

	if (pos >= end)
		return false;
	if (s[pos] != '{' && s[pos] != '[' && s[pos] != '"') {
		while (i < end && !strchr(",:]} \t\r\n", s[i]))
			i++;
		*ret = i;
		return i > pos;
	}
	for (; i < end; i++) {
		switch (s[i]) {
		case '"':
			if (!skip_string(s, end, i, &i))
				return false;
			i--;
			if (depth == 0) {
				*ret = i + 1;
				return true;
			}
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return false;
			if (--depth == 0) {
				*ret = i + 1;
				return true;
			}
			break;
		default:
			break;
		}
	}
	return false;
}

bool hl_json_iter_next(struct hl_json_iter *it, struct hl_span *key, struct hl_span *val)
{
	const char *s = it->s;
	size_t p = hl_json_skip_ws(s, it->end, it->pos), e;

	if (p < it->end && s[p] == ',')
		p = hl_json_skip_ws(s, it->end, p + 1);
	if (p >= it->end)
		return false;
	*key = (struct hl_span){0, 0};
	if (it->object) {
		if (s[p] != '"' || !skip_string(s, it->end, p, &e))
			goto stop;
		*key = (struct hl_span){p, e - p};
		p = hl_json_skip_ws(s, it->end, e);
		if (p >= it->end || s[p] != ':')
			goto stop;
		p = hl_json_skip_ws(s, it->end, p + 1);
	}
	if (!skip_value(s, it->end, p, &e))
		goto stop;
	*val = (struct hl_span){p, e - p};
	it->pos = e;
	return true;
stop:
	/* Only reachable with a span that was not validated: end the walk. */
	it->pos = it->end;
	return false;
}

char hl_json_kind(const char *s, struct hl_span v)
{
	return v.len ? s[v.off] : '\0';
}

static void put_utf8(char *dst, size_t *k, unsigned cp)
{
	if (cp < 0x80) {
		dst[(*k)++] = (char)cp;
	} else if (cp < 0x800) {
		dst[(*k)++] = (char)(0xC0 | cp >> 6);
		dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		dst[(*k)++] = (char)(0xE0 | cp >> 12);
		dst[(*k)++] = (char)(0x80 | (cp >> 6 & 0x3F));
		dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		dst[(*k)++] = (char)(0xF0 | cp >> 18);
		dst[(*k)++] = (char)(0x80 | (cp >> 12 & 0x3F));
		dst[(*k)++] = (char)(0x80 | (cp >> 6 & 0x3F));
		dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
	}
}

/* Decodes a validated string token into dst (room for tok.len bytes: no
 * escape decodes longer than it is written). Returns the length; *nul is
 * set when a "\u0000" was met. */
static size_t decode(const char *s, struct hl_span tok, char *dst, bool *nul)
{
	const char *p = s + tok.off + 1, *end = s + tok.off + tok.len - 1;
	size_t k = 0;
	unsigned u = 0, lo = 0;

	*nul = false;
	while (p < end) {
		if (*p != '\\') {
			dst[k++] = *p++;
			continue;
		}
		switch (p[1]) {
		case 'b': dst[k++] = '\b'; break;
		case 'f': dst[k++] = '\f'; break;
		case 'n': dst[k++] = '\n'; break;
		case 'r': dst[k++] = '\r'; break;
		case 't': dst[k++] = '\t'; break;
		case 'u':
			hex4(p, 6, 2, &u);
			if (u >= 0xD800 && u <= 0xDBFF && hex4(p, 12, 8, &lo)) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			if (u == 0)
				*nul = true;
			put_utf8(dst, &k, u);
			p += 6;
			continue;
		default: dst[k++] = p[1]; break; /* " \ / */
		}
		p += 2;
	}
	return k;
}

enum hl_err hl_json_string_dup(const char *s, struct hl_span tok, char **ret, struct hl_error *err)
{
	bool nul;
	char *d;
	size_t k;

	if (tok.len < 2 || s[tok.off] != '"')
		return hl_error_set(err, HL_ERR_INVALID, "JSON: a string was expected");
	if (!(d = malloc(tok.len)))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	k = decode(s, tok, d, &nul);
	if (nul) {
		free(d);
		return hl_error_set(err, HL_ERR_INVALID, "JSON: string holds a NUL character");
	}
	d[k] = '\0';
	*ret = d;
	return HL_ERR_OK;
}

bool hl_json_string_eq(const char *s, struct hl_span tok, const char *lit)
{
	char small[256], *d = small;
	size_t litlen = strlen(lit), k;
	bool nul, eq;

	if (tok.len < 2 || s[tok.off] != '"')
		return false;
	/* No decoded byte takes more than six token bytes (\u0041). */
	if (tok.len - 2 < litlen || tok.len - 2 > 6 * litlen)
		return false;
	if (tok.len > sizeof small && !(d = malloc(tok.len)))
		return false;
	k = decode(s, tok, d, &nul);
	eq = k == litlen && memcmp(d, lit, k) == 0;
	if (d != small)
		free(d);
	return eq;
}

bool hl_json_pick(const char *s, struct hl_span obj, struct hl_json_want *wants, size_t n)
{
	struct hl_json_iter it;
	struct hl_span k, v;

	for (size_t i = 0; i < n; i++) {
		wants[i].val = (struct hl_span){0, 0};
		wants[i].count = 0;
	}
	if (hl_json_kind(s, obj) != '{' || !hl_json_iter_init(&it, s, obj))
		return false;
	while (hl_json_iter_next(&it, &k, &v)) {
		for (size_t i = 0; i < n; i++) {
			if (hl_json_string_eq(s, k, wants[i].name)) {
				wants[i].val = v;
				wants[i].count++;
				break;
			}
		}
	}
	return true;
}

int hl_json_member(const char *s, struct hl_span obj, const char *name, struct hl_span *ret_val)
{
	struct hl_json_want w = {.name = name};

	if (!hl_json_pick(s, obj, &w, 1) || w.count > 1)
		return -1;
	if (w.count == 1)
		*ret_val = w.val;
	return (int)w.count;
}

/* ---- FHIR ---- */

bool hl_fhir_id_valid(const char *id, size_t len)
{
	if (!id || len < 1 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* Validates a document and gives the span of its top-level object. */
static enum hl_err root_object(const char *body, size_t n, struct hl_span *ret,
			       struct hl_error *err)
{
	enum hl_err rc = hl_json_document(body, n, ret, err);

	if (rc == HL_ERR_OK && hl_json_kind(body, *ret) != '{')
		return hl_error_set(err, HL_ERR_INVALID, "the body is not a JSON object");
	return rc;
}

/* A string member read into *ret (NULL when absent or null). */
static enum hl_err string_member(const char *s, struct hl_span obj, const char *name, char **ret,
				 struct hl_error *err)
{
	struct hl_span v;
	int found = hl_json_member(s, obj, name, &v);

	*ret = NULL;
	if (found < 0)
		return hl_error_set(err, HL_ERR_INVALID, "%s appears more than once", name);
	if (found == 0 || hl_json_kind(s, v) == 'n')
		return HL_ERR_OK;
	if (hl_json_kind(s, v) != '"')
		return hl_error_set(err, HL_ERR_INVALID, "%s is not a string", name);
	return hl_json_string_dup(s, v, ret, err);
}

void hl_fhir_meta_clear(struct hl_fhir_meta *m)
{
	if (!m)
		return;
	free(m->resource_type);
	free(m->id);
	free(m->version_id);
	free(m->last_updated);
	memset(m, 0, sizeof(*m));
}

enum hl_err hl_fhir_meta(const char *body, size_t n, struct hl_fhir_meta *ret,
			 struct hl_error *err)
{
	struct hl_fhir_meta m = {0};
	struct hl_span root, meta;
	enum hl_err rc;
	int found;

	memset(ret, 0, sizeof(*ret));
	if ((rc = root_object(body, n, &root, err)) != HL_ERR_OK)
		goto out;
	if ((rc = string_member(body, root, "resourceType", &m.resource_type, err)) != HL_ERR_OK ||
	    (rc = string_member(body, root, "id", &m.id, err)) != HL_ERR_OK)
		goto out;
	found = hl_json_member(body, root, "meta", &meta);
	if (found < 0) {
		rc = hl_error_set(err, HL_ERR_INVALID, "meta appears more than once");
		goto out;
	}
	if (found && hl_json_kind(body, meta) == '{') {
		if ((rc = string_member(body, meta, "versionId", &m.version_id, err)) != HL_ERR_OK ||
		    (rc = string_member(body, meta, "lastUpdated", &m.last_updated, err)) !=
			HL_ERR_OK)
			goto out;
	} else if (found && hl_json_kind(body, meta) != 'n') {
		rc = hl_error_set(err, HL_ERR_INVALID, "meta is not an object");
		goto out;
	}
	*ret = m;
	return HL_ERR_OK;
out:
	hl_fhir_meta_clear(&m);
	return rc;
}

/* The id member's value span; 0 absent, 1 present and a string, else an
 * error is set. */
static int id_member(const char *body, struct hl_span root, struct hl_span *ret,
		     struct hl_error *err)
{
	int found = hl_json_member(body, root, "id", ret);

	if (found < 0) {
		hl_error_set(err, HL_ERR_INVALID, "the body has more than one id");
		return -1;
	}
	if (found && hl_json_kind(body, *ret) != '"') {
		hl_error_set(err, HL_ERR_INVALID, "the body's id is not a string");
		return -1;
	}
	return found;
}

enum hl_err hl_fhir_check(const char *body, size_t n, const char *type, const char *id,
			  struct hl_error *err)
{
	struct hl_span root, v;
	enum hl_err rc;
	int found;

	if ((rc = root_object(body, n, &root, err)) != HL_ERR_OK)
		return rc;
	found = hl_json_member(body, root, "resourceType", &v);
	if (found < 0)
		return hl_error_set(err, HL_ERR_INVALID, "the body has more than one resourceType");
	if (found == 0)
		return hl_error_set(err, HL_ERR_INVALID, "the body has no resourceType");
	if (hl_json_kind(body, v) != '"')
		return hl_error_set(err, HL_ERR_INVALID, "the body's resourceType is not a string");
	if (type && !hl_json_string_eq(body, v, type))
		return hl_error_set(err, HL_ERR_INVALID,
				    "the body's resourceType is not %.64s", type);
	found = id_member(body, root, &v, err);
	if (found < 0)
		return HL_ERR_INVALID;
	if (found && !id)
		return hl_error_set(err, HL_ERR_INVALID, "the body must not carry an id");
	if (found && !hl_json_string_eq(body, v, id))
		return hl_error_set(err, HL_ERR_INVALID,
				    "the body's id differs from the id it is written to");
	return HL_ERR_OK;
}

enum hl_err hl_fhir_insert_id(const char *body, size_t n, const char *id, struct hl_buf *out,
			      struct hl_error *err)
{
	struct hl_span root, k, v, at = {0, 0}, rt_key = {0, 0}, first_key = {0, 0};
	struct hl_span sep = {0, 0}, colon = {0, 0}, first_sep = {0, 0}, first_colon = {0, 0};
	struct hl_json_iter it;
	size_t idlen = id ? strlen(id) : 0, before;
	enum hl_err rc;
	int found;

	if (!hl_fhir_id_valid(id, idlen))
		return hl_error_set(err, HL_ERR_INVALID, "not a valid FHIR id");
	if ((rc = root_object(body, n, &root, err)) != HL_ERR_OK)
		return rc;
	found = id_member(body, root, &v, err);
	if (found < 0)
		return HL_ERR_INVALID;
	if (found) {
		if (!hl_json_string_eq(body, v, id))
			return hl_error_set(err, HL_ERR_INVALID,
					    "the body's id differs from the id it is written to");
		rc = hl_buf_append(out, body, n);
		return rc ? hl_error_set(err, rc, "%s", hl_strerror(rc)) : HL_ERR_OK;
	}

	/* Find resourceType (or the first member) and the spacing around it. */
	hl_json_iter_init(&it, body, root);
	for (;;) {
		/* The blanks between '{' or ',' and the name: the member's spacing. */
		before = hl_json_skip_ws(body, it.end, it.pos);
		before = before < it.end && body[before] == ',' ? before + 1 : it.pos;
		if (!hl_json_iter_next(&it, &k, &v))
			break;
		if (!first_key.len) {
			first_key = k;
			first_sep = (struct hl_span){before, k.off - before};
			first_colon = (struct hl_span){k.off + k.len, v.off - k.off - k.len};
		}
		if (hl_json_string_eq(body, k, "resourceType")) {
			if (rt_key.len)
				return hl_error_set(err, HL_ERR_INVALID,
						    "the body has more than one resourceType");
			rt_key = k;
			at = v;
			sep = (struct hl_span){before, k.off - before};
			colon = (struct hl_span){k.off + k.len, v.off - k.off - k.len};
		}
	}

	if (rt_key.len) {
		/* ..."resourceType": "X"<,><sep>"id"<colon>"<id>"... */
		size_t cut = at.off + at.len;
		if ((rc = hl_buf_append(out, body, cut)) || (rc = hl_buf_appendc(out, ',')) ||
		    (rc = hl_buf_append(out, body + sep.off, sep.len)) ||
		    (rc = hl_buf_appends(out, "\"id\"")) ||
		    (rc = hl_buf_append(out, body + colon.off, colon.len)) ||
		    (rc = hl_buf_appendf(out, "\"%s\"", id)) ||
		    (rc = hl_buf_append(out, body + cut, n - cut)))
			return hl_error_set(err, rc, "%s", hl_strerror(rc));
		return HL_ERR_OK;
	}
	if (first_key.len) {
		/* {<sep>"id"<colon>"<id>",<sep>"first"... */
		if ((rc = hl_buf_append(out, body, first_key.off)) ||
		    (rc = hl_buf_appends(out, "\"id\"")) ||
		    (rc = hl_buf_append(out, body + first_colon.off, first_colon.len)) ||
		    (rc = hl_buf_appendf(out, "\"%s\",", id)) ||
		    (rc = hl_buf_append(out, body + first_sep.off, first_sep.len)) ||
		    (rc = hl_buf_append(out, body + first_key.off, n - first_key.off)))
			return hl_error_set(err, rc, "%s", hl_strerror(rc));
		return HL_ERR_OK;
	}
	/* An empty object: {"id":"<id>"} keeping whatever was inside. */
	if ((rc = hl_buf_append(out, body, root.off + 1)) ||
	    (rc = hl_buf_appendf(out, "\"id\":\"%s\"", id)) ||
	    (rc = hl_buf_append(out, body + root.off + 1, n - root.off - 1)))
		return hl_error_set(err, rc, "%s", hl_strerror(rc));
	return HL_ERR_OK;
}

/* Copies the string member `name` of obj, decoded and printable, into out;
 * false when there is none. */
static bool message_member(const char *s, struct hl_span obj, const char *name, char *out,
			   size_t outsz)
{
	struct hl_span v;
	char *text = NULL;

	if (hl_json_member(s, obj, name, &v) != 1 || hl_json_kind(s, v) != '"' ||
	    hl_json_string_dup(s, v, &text, NULL) != HL_ERR_OK)
		return false;
	hl_copy_printable(out, outsz, text, strlen(text));
	free(text);
	return out[0] != '\0';
}

/* OperationOutcome: the first issue's diagnostics, else the first
 * details.text. */
static bool outcome_message(const char *s, struct hl_span root, char *out, size_t outsz)
{
	struct hl_span issues, k, v, details;
	struct hl_json_iter it;

	if (hl_json_member(s, root, "issue", &issues) != 1 || !hl_json_iter_init(&it, s, issues))
		return false;
	while (hl_json_iter_next(&it, &k, &v))
		if (hl_json_kind(s, v) == '{' && message_member(s, v, "diagnostics", out, outsz))
			return true;
	hl_json_iter_init(&it, s, issues);
	while (hl_json_iter_next(&it, &k, &v))
		if (hl_json_kind(s, v) == '{' && hl_json_member(s, v, "details", &details) == 1 &&
		    hl_json_kind(s, details) == '{' && message_member(s, details, "text", out, outsz))
			return true;
	return false;
}

static enum hl_err fhir_class(const char *code, long status)
{
	if (status == 429 || hl_aws_code_is_throttling(code))
		return HL_ERR_THROTTLED;
	if (hl_err_from_aws(code, 0) == HL_ERR_AUTH)
		return HL_ERR_AUTH;
	switch (status) {
	case 400:
	case 422: return HL_ERR_VALIDATION;
	case 401: return HL_ERR_AUTH;
	case 403: return HL_ERR_ACCESS_DENIED;
	case 404:
	case 410: return HL_ERR_NOT_FOUND;
	case 405:
	case 501: return HL_ERR_UNSUPPORTED;
	case 409: return HL_ERR_CONFLICT;
	case 412: return HL_ERR_PRECONDITION;
	case 413: return HL_ERR_REQUEST_TOO_LARGE;
	default: return status >= 500 ? HL_ERR_SERVER : HL_ERR_SERVICE;
	}
}

enum hl_err hl_fhir_error_decode(long status, const char *error_type, const char *body,
				 size_t len, struct hl_error *err)
{
	char raw[256] = "";
	struct hl_span root;

	err->http_status = status;
	err->aws_code[0] = '\0';
	err->message[0] = '\0';
	if (error_type && *error_type)
		snprintf(raw, sizeof raw, "%s", error_type);
	if (body && len && hl_json_document(body, len, &root, NULL) == HL_ERR_OK &&
	    hl_json_kind(body, root) == '{') {
		struct hl_span rt;
		bool outcome = hl_json_member(body, root, "resourceType", &rt) == 1 &&
			       hl_json_string_eq(body, rt, "OperationOutcome");
		if (!(outcome && outcome_message(body, root, err->message, sizeof err->message)) &&
		    !message_member(body, root, "message", err->message, sizeof err->message))
			message_member(body, root, "Message", err->message, sizeof err->message);
		if (!raw[0] && !message_member(body, root, "__type", raw, sizeof raw))
			message_member(body, root, "code", raw, sizeof raw);
	}
	if (!raw[0])
		snprintf(raw, sizeof raw, "%ld", status);
	hl_aws_code_sanitize(raw, err->aws_code, sizeof err->aws_code);
	if (!err->aws_code[0]) /* "x#" or ":y" sanitise to nothing */
		snprintf(err->aws_code, sizeof err->aws_code, "%ld", status);
	err->code = fhir_class(err->aws_code, status);
	return err->code;
}
