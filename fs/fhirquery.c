#include "fhirquery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Parameters the mount sets itself: the page size, the paging cursors of
 * HealthLake and common FHIR servers, and the response format it parses. */
static const char *const owned[] = {
    "_count",	 "_offset",	    "page",    "_page",	  "__page",
    "_getpages", "_getpagesoffset", "_format", "_pretty",
};

bool hlfs_fhirquery_owned(const char *key, size_t n)
{
	const char *colon = memchr(key, ':', n);
	if (colon) /* "_count:x" is still _count */
		n = (size_t)(colon - key);
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i]) == n && !memcmp(owned[i], key, n))
			return true;
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes s[0..n) into out (at least n + 1 bytes when not NULL); '+' is a
 * literal plus (FHIR dates carry time zones like +01:00). Returns the decoded
 * length, or -1 for a bad escape or a decoded NUL. */
static long decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		if (out)
			out[o] = c;
		o++;
	}
	if (out)
		out[o] = '\0';
	return (long)o;
}

/* One "k=v" piece of the query: the spans of key and value. */
struct span {
	const char *k, *v;
	size_t kn, vn;
};

static void split_pair(const char *s, size_t n, struct span *sp)
{
	const char *eq = memchr(s, '=', n);
	sp->k = s;
	sp->kn = eq ? (size_t)(eq - s) : n;
	sp->v = eq ? eq + 1 : s + n;
	sp->vn = eq ? n - sp->kn - 1 : 0;
}

/* Walks the pairs of q, checking each; when out is not NULL also records the
 * spans (out has room for HLFS_FQ_MAX_PARAMS). Returns the number of pairs or
 * -EINVAL with *reason. */
static long scan(const char *q, size_t n, enum hlfs_fq_mode mode, struct span *out,
		 const char **reason)
{
	char key[256];
	long count = 0;

	if (n > HLFS_FQ_MAX_LEN) {
		*reason = "search query too long";
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n;) {
		const char *amp = memchr(q + i, '&', n - i);
		size_t len = amp ? (size_t)(amp - (q + i)) : n - i;
		struct span sp;

		split_pair(q + i, len, &sp);
		if (len == 0) {
			*reason = "empty parameter in search query (\"&&\" or a '&' at an end)";
			return -EINVAL;
		}
		if (sp.kn == 0) {
			*reason = "search parameter without a name";
			return -EINVAL;
		}
		if (decode(sp.k, sp.kn, NULL) < 0 || decode(sp.v, sp.vn, NULL) < 0) {
			*reason = "bad percent-encoding in search query (each '%' takes two hex "
				  "digits; %00 is refused)";
			return -EINVAL;
		}
		if (mode == HLFS_FQ_USER) {
			/* Decoded, so that "%5Fcount" is caught too. Names longer than
			 * any owned one need no check. */
			long kl = sp.kn < sizeof(key) ? decode(sp.k, sp.kn, key) : -1;
			if (kl >= 0 && hlfs_fhirquery_owned(key, (size_t)kl)) {
				*reason =
				    "_count, paging and format parameters belong to the mount "
				    "(leave them out of a search directory's name)";
				return -EINVAL;
			}
		}
		if (count == HLFS_FQ_MAX_PARAMS) {
			*reason = "too many search parameters";
			return -EINVAL;
		}
		if (out)
			out[count] = sp;
		count++;
		if (!amp)
			break;
		i += len + 1;
	}
	return count;
}

int hlfs_fhirquery_check(const char *q, size_t n, enum hlfs_fq_mode mode, const char **reason)
{
	long c = scan(q, n, mode, NULL, reason);
	return c < 0 ? (int)c : 0;
}

void hlfs_fhirquery_free(struct hlfs_fhirquery *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++) {
		free(q->p[i].key);
		free(q->p[i].value);
	}
	free(q->p);
	free(q->wire);
	free(q->key);
	memset(q, 0, sizeof(*q));
}

/* Strict encoding of one decoded pair, as it goes on the wire. */
static char *encode_pair(const struct hlfs_fq_param *p)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	if (hl_buf_append_uri(&b, p->key, strlen(p->key), false) || hl_buf_appendc(&b, '=') ||
	    hl_buf_append_uri(&b, p->value, strlen(p->value), false)) {
		hl_buf_free(&b);
		return NULL;
	}
	return hl_buf_steal(&b);
}

/* Orders encoded pairs by key, then value, byte by byte, as SigV4's
 * canonical query does. An encoded key holds no '=', so the first '=' ends it. */
static int pair_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t xk = strcspn(x, "="), yk = strcspn(y, "=");
	int c = memcmp(x, y, xk < yk ? xk : yk);
	if (c)
		return c;
	if (xk != yk)
		return xk < yk ? -1 : 1;
	return strcmp(x + xk, y + yk);
}

/* Joins strs[0..n) with '&'. */
static char *join(char **strs, size_t n)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		if ((i && hl_buf_appendc(&b, '&')) || hl_buf_appends(&b, strs[i])) {
			hl_buf_free(&b);
			return NULL;
		}
	return hl_buf_steal(&b);
}

/* The wire query keeps the user's order (a server may care); the cache key
 * sorts the same pairs, so one search written in two orders is cached once. */
static int build_strings(struct hlfs_fhirquery *q)
{
	int rc = -ENOMEM;
	char **enc = calloc(q->n ? q->n : 1, sizeof(*enc));
	if (!enc)
		return -ENOMEM;
	for (size_t i = 0; i < q->n; i++)
		if (!(enc[i] = encode_pair(&q->p[i])))
			goto out;
	if (!(q->wire = join(enc, q->n)))
		goto out;
	qsort(enc, q->n, sizeof(*enc), pair_cmp);
	if (!(q->key = join(enc, q->n)))
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < q->n; i++)
		free(enc[i]);
	free(enc);
	return rc;
}

static char *decode_dup(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (out && decode(s, n, out) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

int hlfs_fhirquery_parse(const char *q, size_t n, enum hlfs_fq_mode mode,
			 struct hlfs_fhirquery *ret, const char **reason)
{
	struct hlfs_fhirquery r = {0};
	struct span *spans = NULL;
	long count;
	int rc = -EINVAL;

	if ((count = scan(q, n, mode, NULL, reason)) < 0)
		return (int)count;
	rc = -ENOMEM;
	spans = calloc(count ? (size_t)count : 1, sizeof(*spans));
	r.p = calloc(count ? (size_t)count : 1, sizeof(*r.p));
	if (!spans || !r.p)
		goto out;
	(void)scan(q, n, mode, spans, reason);
	for (long i = 0; i < count; i++) {
		r.p[i].key = decode_dup(spans[i].k, spans[i].kn);
		r.p[i].value = decode_dup(spans[i].v, spans[i].vn);
		r.n++;
		if (!r.p[i].key || !r.p[i].value)
			goto out;
	}
	if ((rc = build_strings(&r)) < 0)
		goto out;
	*ret = r;
	memset(&r, 0, sizeof(r));
	rc = 0;
out:
	hlfs_fhirquery_free(&r);
	free(spans);
	return rc;
}

char *hlfs_fhirquery_wire_count(const struct hlfs_fhirquery *q, unsigned count)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	if ((q->wire[0] && hl_buf_appendf(&b, "%s&", q->wire)) ||
	    hl_buf_appendf(&b, "_count=%u", count)) {
		hl_buf_free(&b);
		return NULL;
	}
	return hl_buf_steal(&b);
}
