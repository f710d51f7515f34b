#include "fhirerr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errmap.h"
#include "fhirname.h"
#include "path.h"

const char *hlfs_fhir_op_name(enum hlfs_fhir_op op)
{
	switch (op) {
#define HLFS_FHIR_OP_CASE(n, s) \
	case HLFS_FOP_##n:      \
		return s;
		HLFS_FHIR_OP_MAP(HLFS_FHIR_OP_CASE)
#undef HLFS_FHIR_OP_CASE
	case HLFS_FOP__COUNT:
		break;
	}
	return "unknown";
}

int hlfs_fhir_status_errno(long status)
{
	if (status < 400)
		return 0;
	switch (status) {
	case 400:
	case 422:
		return EINVAL;
	case 401:
	case 403:
		return EACCES;
	case 404:
	case 410:
		return ENOENT;
	case 405:
	case 501:
		return EOPNOTSUPP;
	case 409:
		return EBUSY;
	case 412:
		return ESTALE;
	case 413:
		return EFBIG;
	case 429:
		return EAGAIN;
	case 408:
		return ETIMEDOUT;
	case 406: /* the mount's Accept or Content-Type was refused: its fault, not the user's */
	case 415:
		return EIO;
	default:
		break;
	}
	return status < 500 ? EINVAL : EIO;
}

static int cond_errno(enum hlfs_fhir_cond cond)
{
	switch (cond) {
	case HLFS_FC_BAD_BODY:
		return EINVAL;
	case HLFS_FC_NOT_CAPABLE:
		return EOPNOTSUPP;
	case HLFS_FC_TOO_BIG:
		return EFBIG;
	case HLFS_FC_BAD_BUNDLE:
	case HLFS_FC_FOREIGN_LINK:
		return EIO;
	case HLFS_FC_LIST_MAX:
		return EOVERFLOW;
	case HLFS_FC_NO_DELETE:
		return EPERM;
	case HLFS_FC_READ_ONLY:
		return EROFS;
	case HLFS_FC_NONE:
		break;
	}
	return 0;
}

int hlfs_fhir_errno(enum hlfs_fhir_cond cond, const struct hl_error *err)
{
	int e = cond_errno(cond);
	if (e)
		return e;
	if (!err)
		return EIO;
	switch (err->code) {
	case HL_ERR_OK:
		/* A status the caller took as failure but the transport did not. */
		return err->http_status >= 400 ? hlfs_fhir_status_errno(err->http_status) : EIO;
	case HL_ERR_TIMEOUT:   /* timeout= reached, even while retrying a 5xx */
	case HL_ERR_THROTTLED: /* 429, or a 503 throttle, after the last retry */
	case HL_ERR_NOMEM:
	case HL_ERR_CREDENTIALS: /* no HTTP status: the chain failed */
	case HL_ERR_NO_CREDENTIALS:
		return hlfs_errno(err->code);
	case HL_ERR_TOO_LARGE:
		/* A resource or page larger than the client accepts: too large to serve. */
		return EFBIG;
	default:
		break;
	}
	if (err->http_status >= 400)
		return hlfs_fhir_status_errno(err->http_status);
	return hlfs_errno(err->code);
}

/* What happened, without anything of the request or the answer's text. */
static const char *summary(int e, enum hlfs_fhir_cond cond)
{
	switch (cond) {
	case HLFS_FC_BAD_BODY:
		return "refused before any call";
	case HLFS_FC_NOT_CAPABLE:
		return "the store's CapabilityStatement does not offer this interaction";
	case HLFS_FC_TOO_BIG:
		return "the resource is larger than fhir_max_bytes";
	case HLFS_FC_BAD_BUNDLE:
		return "the service's answer is not a usable Bundle";
	case HLFS_FC_FOREIGN_LINK:
		return "the service's next link leads to another host; not followed";
	case HLFS_FC_LIST_MAX:
		return "more resources than fhir_list_max; use a search (<Type>?<query>) or an "
		       "export";
	case HLFS_FC_NO_DELETE:
		return "deleting needs the mount option allow_delete";
	case HLFS_FC_READ_ONLY:
		return "the mount is read-only";
	case HLFS_FC_NONE:
		break;
	}
	switch (e) {
	case EINVAL:
		return "the service refused the request as invalid";
	case EACCES:
		return "access denied";
	case ENOENT:
		return "not found";
	case EOPNOTSUPP:
		return "the service does not support this interaction";
	case EBUSY:
		return "conflict";
	case ESTALE:
		return "the resource changed since the version this write is based on; nothing "
		       "was overwritten";
	case EFBIG:
		return "too large";
	case EAGAIN:
		return "throttled after the last retry; try again later";
	case ETIMEDOUT:
		return "timeout= reached";
	case ENOMEM:
		return "out of memory";
	default:
		break;
	}
	return "service or network error";
}

/* Appends s to out[*len..cap) as one line: control bytes and invalid UTF-8
 * become spaces or '?', runs of spaces one space, cut at a character boundary. */
static void append_line(char *out, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = *len;
	bool space = o > 0 && out[o - 1] == ' ';

	for (size_t i = 0; i < n;) {
		size_t cl = hlfs_utf8_len(p + i, n - i);
		const char *c = (const char *)p + i;
		char sub;
		if (cl == 0 || (cl == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			sub = cl == 0 ? '?' : ' ';
			c = &sub;
			cl = 1;
			i++;
		} else {
			i += cl;
		}
		if (*c == ' ') {
			if (space)
				continue;
			space = true;
		} else {
			space = false;
		}
		if (o + cl + 1 > cap)
			break;
		memcpy(out + o, c, cl);
		o += cl;
	}
	while (o > *len && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	*len = o;
}

static void appendf(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void appendf(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	if (*len + 1 >= cap)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (k < 0)
		out[*len] = '\0';
	else
		*len = (size_t)k < cap - *len ? *len + (size_t)k : cap - 1;
}

void hlfs_fhir_reason(struct hlfs_fhir_reason *out, enum hlfs_fhir_op op, enum hlfs_fhir_cond cond,
		      const struct hl_error *err, const char *current_version,
		      unsigned long long limit)
{
	int e = hlfs_fhir_errno(cond, err);
	const char *what = summary(e, cond);
	const char *name = hlfs_fhir_op_name(op);
	long status = err && cond == HLFS_FC_NONE ? err->http_status : 0;
	size_t ln = 0, gn = 0;

	out->err = e;
	out->line[0] = out->log[0] = '\0';
	appendf(out->line, sizeof(out->line), &ln, "%s: %s", name, what);
	appendf(out->log, sizeof(out->log), &gn, "fhir %s: %s", name, what);
	if (cond == HLFS_FC_LIST_MAX || cond == HLFS_FC_TOO_BIG) {
		appendf(out->line, sizeof(out->line), &ln, " (%llu)", limit);
		appendf(out->log, sizeof(out->log), &gn, " (%llu)", limit);
	}
	if (status) {
		appendf(out->line, sizeof(out->line), &ln, " (HTTP %ld)", status);
		appendf(out->log, sizeof(out->log), &gn, " (HTTP %ld)", status);
	}
	/* A versionId is shown only when it is one: the service's text stays out
	 * of this part of the line. */
	if (e == ESTALE && current_version &&
	    hlfs_fhir_id_ok(current_version, strnlen(current_version, HLFS_FHIR_ID_MAX + 1)))
		appendf(out->line, sizeof(out->line), &ln, "; current version %s", current_version);
	/* The diagnostics may quote the resource: .error only, never the log. */
	if (err && err->message[0] && (cond == HLFS_FC_NONE || cond == HLFS_FC_BAD_BODY)) {
		size_t before = ln, start;
		appendf(out->line, sizeof(out->line), &ln, ": ");
		start = ln;
		append_line(out->line, sizeof(out->line), &ln, err->message);
		if (ln == start) /* nothing printable: no dangling ": " */
			out->line[ln = before] = '\0';
	}
}
