#include "s3xml.h"

#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "iso8601.h"
#include "json.h"

#define MAX_DEPTH 32
#define MAX_VALUE (16 * 1024) /* bytes of one value, at most */

/* The elements read; everything else is skipped. */
enum el {
	EL_OTHER,
	EL_LIST,     /* ListBucketResult */
	EL_CONTENTS,
	EL_COMMON,   /* CommonPrefixes */
	EL_KEY,
	EL_SIZE,
	EL_ETAG,
	EL_MODIFIED, /* LastModified */
	EL_CLASS,    /* StorageClass */
	EL_PREFIX,
	EL_TRUNCATED,
	EL_TOKEN,    /* NextContinuationToken */
	EL_COUNT,    /* KeyCount */
	EL_ENCODING, /* EncodingType */
	EL_ERROR,
	EL_CODE,
	EL_MESSAGE,
	EL_REQUEST_ID,
};

static const char *const el_names[] = {
    [EL_LIST] = "ListBucketResult", [EL_CONTENTS] = "Contents", [EL_COMMON] = "CommonPrefixes",
    [EL_KEY] = "Key", [EL_SIZE] = "Size", [EL_ETAG] = "ETag", [EL_MODIFIED] = "LastModified",
    [EL_CLASS] = "StorageClass", [EL_PREFIX] = "Prefix", [EL_TRUNCATED] = "IsTruncated",
    [EL_TOKEN] = "NextContinuationToken", [EL_COUNT] = "KeyCount",
    [EL_ENCODING] = "EncodingType", [EL_ERROR] = "Error", [EL_CODE] = "Code",
    [EL_MESSAGE] = "Message", [EL_REQUEST_ID] = "RequestId",
};

struct parse {
	XML_Parser p;
	unsigned depth;
	enum el path[MAX_DEPTH]; /* path[0] is the root */
	bool collecting;         /* inside a value element: text goes to `text` */
	struct hl_buf text;
	enum hl_err rc;
	char why[96];
	/* ListBucketResult */
	struct hl_s3_list list;
	size_t cap_objects, cap_prefixes;
	struct hl_s3_object cur;
	bool cur_has_size;
	/* Error */
	char code[256], message[512], request_id[64];
};

static enum el el_of(const char *name)
{
	for (size_t i = 1; i < sizeof el_names / sizeof el_names[0]; i++)
		if (strcmp(name, el_names[i]) == 0)
			return (enum el)i;
	return EL_OTHER;
}

/* Records the first failure and stops expat. */
static void fail(struct parse *ps, enum hl_err rc, const char *why, const char *what)
{
	if (ps->rc == HL_ERR_OK) {
		ps->rc = rc;
		snprintf(ps->why, sizeof ps->why, "%s%s%s", why, what ? " " : "", what ? what : "");
	}
	XML_StopParser(ps->p, XML_FALSE);
}

/* Is the element now open (at ps->depth - 1) a value this parser reads? */
static bool wanted(const struct parse *ps)
{
	unsigned d = ps->depth;
	enum el e = ps->path[d - 1], parent = d >= 2 ? ps->path[d - 2] : EL_OTHER;

	if (d == 2 && parent == EL_LIST)
		return e == EL_TRUNCATED || e == EL_TOKEN || e == EL_COUNT || e == EL_ENCODING;
	if (d == 3 && parent == EL_CONTENTS && ps->path[0] == EL_LIST)
		return e == EL_KEY || e == EL_SIZE || e == EL_ETAG || e == EL_MODIFIED ||
		       e == EL_CLASS;
	if (d == 3 && parent == EL_COMMON && ps->path[0] == EL_LIST)
		return e == EL_PREFIX;
	if (d == 2 && parent == EL_ERROR)
		return e == EL_CODE || e == EL_MESSAGE || e == EL_REQUEST_ID;
	return false;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct parse *ps = ud;
	(void)attrs;

	if (ps->rc != HL_ERR_OK) /* expat may still report after a stop */
		return;
	if (ps->collecting) {
		fail(ps, HL_ERR_PROTOCOL, "element inside a value:", name);
		return;
	}
	if (ps->depth >= MAX_DEPTH) {
		fail(ps, HL_ERR_PROTOCOL, "nesting too deep", NULL);
		return;
	}
	ps->path[ps->depth++] = el_of(name);
	if (ps->depth == 2 && ps->path[1] == EL_CONTENTS && ps->path[0] == EL_LIST) {
		memset(&ps->cur, 0, sizeof ps->cur);
		ps->cur_has_size = false;
	}
	if (wanted(ps)) {
		ps->collecting = true;
		hl_buf_reset(&ps->text);
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct parse *ps = ud;

	if (ps->rc != HL_ERR_OK || !ps->collecting)
		return;
	enum hl_err rc = hl_buf_append(&ps->text, s, (size_t)len);
	if (rc != HL_ERR_OK)
		fail(ps, rc == HL_ERR_NOMEM ? rc : HL_ERR_PROTOCOL, "value too long in",
		     el_names[ps->path[ps->depth - 1]]);
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

/* Stores a copy of the collected text in *slot, which must be empty. */
static void take_text(struct parse *ps, char **slot, const char *what)
{
	if (*slot) {
		fail(ps, HL_ERR_PROTOCOL, "repeated element", what);
		return;
	}
	if (!(*slot = strdup(ps->text.data ? ps->text.data : "")))
		fail(ps, HL_ERR_NOMEM, "out of memory", NULL);
}

static bool grow(struct parse *ps, void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, ncap * size);
	if (!p) {
		fail(ps, HL_ERR_NOMEM, "out of memory", NULL);
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

static void object_clear(struct hl_s3_object *o)
{
	free(o->key);
	free(o->etag);
	free(o->last_modified);
	free(o->storage_class);
	memset(o, 0, sizeof(*o));
}

static void end_contents(struct parse *ps)
{
	struct hl_s3_list *l = &ps->list;

	if (!ps->cur.key || !ps->cur_has_size || !ps->cur.last_modified) {
		fail(ps, HL_ERR_PROTOCOL, "Contents without Key, Size or LastModified", NULL);
		return;
	}
	if (!hl_iso8601_parse(ps->cur.last_modified, &ps->cur.mtime)) {
		fail(ps, HL_ERR_PROTOCOL, "LastModified is not a time", NULL);
		return;
	}
	if (!grow(ps, (void **)&l->objects, &ps->cap_objects, l->n_objects, sizeof(*l->objects)))
		return;
	l->objects[l->n_objects++] = ps->cur;
	memset(&ps->cur, 0, sizeof ps->cur);
}

static void end_value(struct parse *ps, enum el e)
{
	struct hl_s3_list *l = &ps->list;
	const char *t = ps->text.data ? ps->text.data : "";
	char *prefix = NULL;

	switch (e) {
	case EL_KEY: take_text(ps, &ps->cur.key, "Key"); break;
	case EL_ETAG: take_text(ps, &ps->cur.etag, "ETag"); break;
	case EL_MODIFIED: take_text(ps, &ps->cur.last_modified, "LastModified"); break;
	case EL_CLASS: take_text(ps, &ps->cur.storage_class, "StorageClass"); break;
	case EL_TOKEN: take_text(ps, &l->next_token, "NextContinuationToken"); break;
	case EL_SIZE:
		if (ps->cur_has_size || !parse_u64(t, &ps->cur.size))
			fail(ps, HL_ERR_PROTOCOL, "bad or repeated", "Size");
		ps->cur_has_size = true;
		break;
	case EL_COUNT:
		if (l->has_key_count || !parse_u64(t, &l->key_count))
			fail(ps, HL_ERR_PROTOCOL, "bad or repeated", "KeyCount");
		l->has_key_count = true;
		break;
	case EL_TRUNCATED:
		if (strcmp(t, "true") != 0 && strcmp(t, "false") != 0)
			fail(ps, HL_ERR_PROTOCOL, "bad", "IsTruncated");
		l->is_truncated = strcmp(t, "true") == 0;
		break;
	case EL_ENCODING:
		if (strcmp(t, "url") != 0)
			fail(ps, HL_ERR_PROTOCOL, "unknown", "EncodingType");
		l->url_encoded = true;
		break;
	case EL_PREFIX:
		take_text(ps, &prefix, "Prefix");
		if (prefix && grow(ps, (void **)&l->prefixes, &ps->cap_prefixes, l->n_prefixes,
				   sizeof(*l->prefixes)))
			l->prefixes[l->n_prefixes++] = prefix;
		else
			free(prefix);
		break;
	case EL_CODE: hl_copy_printable(ps->code, sizeof ps->code, t, ps->text.len); break;
	case EL_MESSAGE: hl_copy_printable(ps->message, sizeof ps->message, t, ps->text.len); break;
	case EL_REQUEST_ID:
		hl_copy_printable(ps->request_id, sizeof ps->request_id, t, ps->text.len);
		break;
	default: break;
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct parse *ps = ud;
	enum el e;
	(void)name;

	if (ps->rc != HL_ERR_OK || !ps->depth)
		return;
	e = ps->path[ps->depth - 1];
	if (ps->collecting) {
		ps->collecting = false;
		end_value(ps, e);
	} else if (e == EL_CONTENTS && ps->depth == 2 && ps->path[0] == EL_LIST) {
		end_contents(ps);
	}
	ps->depth--;
}

/* No DTD at all: S3 never sends one, and without it no entity exists. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	fail(ud, HL_ERR_PROTOCOL, "DOCTYPE refused", NULL);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
	(void)pubid, (void)notation;
	fail(ud, HL_ERR_PROTOCOL, "entity declaration refused", NULL);
}

/* Runs expat over the whole document; ps->rc and ps->why say how it went. */
static void run(struct parse *ps, const char *xml, size_t len)
{
	hl_buf_init(&ps->text, MAX_VALUE);
	if (len > INT_MAX) {
		ps->rc = HL_ERR_TOO_LARGE;
		snprintf(ps->why, sizeof ps->why, "document too large");
		return;
	}
	if (!(ps->p = XML_ParserCreate(NULL))) {
		ps->rc = HL_ERR_NOMEM;
		snprintf(ps->why, sizeof ps->why, "out of memory");
		return;
	}
	XML_SetUserData(ps->p, ps);
	XML_SetElementHandler(ps->p, on_start, on_end);
	XML_SetCharacterDataHandler(ps->p, on_text);
	XML_SetStartDoctypeDeclHandler(ps->p, on_doctype);
	XML_SetEntityDeclHandler(ps->p, on_entity);
	XML_SetParamEntityParsing(ps->p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(ps->p, xml ? xml : "", (int)len, XML_TRUE) != XML_STATUS_OK &&
	    ps->rc == HL_ERR_OK) {
		enum XML_Error e = XML_GetErrorCode(ps->p);
		ps->rc = e == XML_ERROR_NO_MEMORY ? HL_ERR_NOMEM : HL_ERR_PROTOCOL;
		snprintf(ps->why, sizeof ps->why, "%s at line %lu", XML_ErrorString(e),
			 (unsigned long)XML_GetCurrentLineNumber(ps->p));
	}
	XML_ParserFree(ps->p);
	ps->p = NULL;
	object_clear(&ps->cur);
	hl_buf_free(&ps->text);
}

void hl_s3_list_clear(struct hl_s3_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_objects; i++)
		object_clear(&l->objects[i]);
	for (size_t i = 0; i < l->n_prefixes; i++)
		free(l->prefixes[i]);
	free(l->objects);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

/* EncodingType=url, undone in place as botocore does (unquote_plus): %XX
 * is a byte, '+' a space. False on a bad escape or a %00. */
static bool url_decode(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p == '%') {
			int hi = hl_hex_value(p[1]), lo = hi < 0 ? -1 : hl_hex_value(p[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			*o++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return true;
}

enum hl_err hl_s3_list_parse(const char *xml, size_t len, struct hl_s3_list *ret,
			     struct hl_error *err)
{
	struct parse *ps = calloc(1, sizeof(*ps));
	enum hl_err rc;

	memset(ret, 0, sizeof(*ret));
	if (!ps)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	run(ps, xml, len);
	if (ps->rc == HL_ERR_OK && ps->path[0] != EL_LIST) {
		ps->rc = HL_ERR_PROTOCOL;
		snprintf(ps->why, sizeof ps->why, "not a ListBucketResult");
	}
	if (ps->rc == HL_ERR_OK && ps->list.is_truncated && !ps->list.next_token) {
		ps->rc = HL_ERR_PROTOCOL;
		snprintf(ps->why, sizeof ps->why, "truncated page without NextContinuationToken");
	}
	for (size_t i = 0; ps->rc == HL_ERR_OK && ps->list.url_encoded && i < ps->list.n_objects;
	     i++)
		if (!url_decode(ps->list.objects[i].key)) {
			ps->rc = HL_ERR_PROTOCOL;
			snprintf(ps->why, sizeof ps->why, "Key is not URL-encoded");
		}
	for (size_t i = 0; ps->rc == HL_ERR_OK && ps->list.url_encoded && i < ps->list.n_prefixes;
	     i++)
		if (!url_decode(ps->list.prefixes[i])) {
			ps->rc = HL_ERR_PROTOCOL;
			snprintf(ps->why, sizeof ps->why, "Prefix is not URL-encoded");
		}
	rc = ps->rc;
	if (rc == HL_ERR_OK) {
		*ret = ps->list;
	} else {
		hl_s3_list_clear(&ps->list);
		hl_error_set(err, rc, "S3 listing: %s", ps->why);
	}
	free(ps);
	return rc;
}

static enum hl_err s3_class(const char *code, long status)
{
	static const struct {
		const char *code;
		enum hl_err err;
	} table[] = {
	    {"NoSuchKey", HL_ERR_NOT_FOUND},
	    {"NoSuchBucket", HL_ERR_NOT_FOUND},
	    {"NoSuchUpload", HL_ERR_NOT_FOUND},
	    {"InvalidRange", HL_ERR_RANGE},
	    {"PreconditionFailed", HL_ERR_PRECONDITION},
	    {"InternalError", HL_ERR_SERVER},
	    {"ServiceUnavailable", HL_ERR_SERVER},
	    {"AllAccessDisabled", HL_ERR_ACCESS_DENIED},
	    {"InvalidToken", HL_ERR_AUTH},
	    {"TokenRefreshRequired", HL_ERR_AUTH},
	    {"InvalidArgument", HL_ERR_VALIDATION},
	    {"InvalidRequest", HL_ERR_VALIDATION},
	    {"MethodNotAllowed", HL_ERR_UNSUPPORTED},
	    {"NotImplemented", HL_ERR_UNSUPPORTED},
	    {"EntityTooLarge", HL_ERR_REQUEST_TOO_LARGE},
	};
	enum hl_err e;

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(code, table[i].code) == 0)
			return table[i].err;
	if (status == 501) /* not a 5xx worth retrying */
		return HL_ERR_UNSUPPORTED;
	/* Throttling, AccessDenied, signature errors, 5xx: as everywhere. */
	e = hl_err_from_aws(code, status);
	if (e != HL_ERR_SERVICE)
		return e;
	switch (status) {
	case 404: return HL_ERR_NOT_FOUND;
	case 403: return HL_ERR_ACCESS_DENIED;
	case 412: return HL_ERR_PRECONDITION;
	case 416: return HL_ERR_RANGE;
	case 405:
	case 501: return HL_ERR_UNSUPPORTED;
	case 413: return HL_ERR_REQUEST_TOO_LARGE;
	case 400: return HL_ERR_VALIDATION;
	default: return HL_ERR_SERVICE;
	}
}

enum hl_err hl_s3_error_decode(long status, const char *body, size_t len, struct hl_error *err)
{
	struct parse *ps = calloc(1, sizeof(*ps));
	char raw[256] = "";

	err->http_status = status;
	err->aws_code[0] = '\0';
	err->message[0] = '\0';
	if (ps && body && len) {
		run(ps, body, len);
		if (ps->rc == HL_ERR_OK && ps->path[0] == EL_ERROR) {
			snprintf(raw, sizeof raw, "%s", ps->code);
			snprintf(err->message, sizeof err->message, "%s", ps->message);
			if (!err->request_id[0])
				snprintf(err->request_id, sizeof err->request_id, "%s",
					 ps->request_id);
		}
		/* A listing where an error was expected: read, then dropped. */
		hl_s3_list_clear(&ps->list);
	}
	free(ps);
	if (!raw[0])
		snprintf(raw, sizeof raw, "%ld", status);
	hl_aws_code_sanitize(raw, err->aws_code, sizeof err->aws_code);
	if (!err->aws_code[0]) /* "x#" or ":y" sanitise to nothing */
		snprintf(err->aws_code, sizeof err->aws_code, "%ld", status);
	err->code = s3_class(err->aws_code, status);
	return err->code;
}
