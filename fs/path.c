#include "path.h"

#include <errno.h>
#include <string.h>

#include "validate.h"

static const char *const field_names[] = {
#define HLFS_FIELD_STR(n, s) s,
    HLFS_FIELD_MAP(HLFS_FIELD_STR)
#undef HLFS_FIELD_STR
};

const char *hlfs_field_name(enum hlfs_field f)
{
	if ((unsigned)f >= HLFS_F__COUNT)
		return "";
	return field_names[f];
}

static bool comp_is(const char *p, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	return n == m && memcmp(p, lit, m) == 0;
}

size_t hlfs_utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int hlfs_tag_encode(const char *key, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = key; *p; p++) {
		const char *rep = *p == '%' ? "%25" : *p == '/' ? "%2F" : NULL;
		size_t rl = rep ? 3 : 1;
		if (o + rl + 1 > n)
			return -ENAMETOOLONG;
		if (rep)
			memcpy(out + o, rep, 3);
		else
			out[o] = *p;
		o += rl;
	}
	if (o + 1 > n)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

int hlfs_tag_decode(const char *name, size_t len, char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '%') {
			if (len - i < 3)
				return -ENOENT;
			if (name[i + 1] == '2' && (name[i + 2] == 'F' || name[i + 2] == 'f'))
				c = '/';
			else if (name[i + 1] == '2' && name[i + 2] == '5')
				c = '%';
			else
				return -ENOENT;
			i += 2;
		}
		if (o + 2 > n)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	if (o + 1 > n)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

static int copy_comp(char *dst, const char *p, size_t n)
{
	if (n > HLFS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* Parses the rest of a path below imports/ or exports/. */
static int parse_jobs(const char *c, size_t n, struct hlfs_path *r)
{
	if (comp_is(c, n, ".error")) {
		r->node = HLFS_N_ERROR;
		return 0;
	}
	if (comp_is(c, n, "new")) {
		r->node = HLFS_N_NEW;
		return 0;
	}
	if (comp_is(c, n, "latest")) {
		r->node = HLFS_N_LATEST;
		return 0;
	}
	static const char files[] = ".files";
	size_t fl = sizeof(files) - 1;
	if (n > fl && !memcmp(c + n - fl, files, fl) && hl_job_id_ok(c, n - fl)) {
		r->node = HLFS_N_FILES;
		r->files_alt = hl_job_id_ok(c, n);
		return copy_comp(r->leaf, c, n - fl);
	}
	if (!hl_job_id_ok(c, n))
		return -ENOENT;
	r->node = HLFS_N_JOB;
	return copy_comp(r->leaf, c, n);
}

static int parse_in_store(const char *c, size_t n, struct hlfs_path *r)
{
	r->dir = HLFS_D_STORE;
	if (comp_is(c, n, ".error")) {
		r->node = HLFS_N_ERROR;
		return 0;
	}
	if (comp_is(c, n, "tags")) {
		r->node = HLFS_N_TAGS;
		return 0;
	}
	if (comp_is(c, n, "imports") || comp_is(c, n, "exports")) {
		r->node = HLFS_N_JOBS;
		r->exports = c[0] == 'e';
		return 0;
	}
	for (int f = 0; f < HLFS_F__COUNT; f++) {
		if (comp_is(c, n, field_names[f])) {
			r->node = HLFS_N_FIELD;
			r->field = (enum hlfs_field)f;
			return 0;
		}
	}
	return -ENOENT;
}

int hlfs_path_parse(const char *path, struct hlfs_path *ret)
{
	struct hlfs_path r;
	const char *comp[4];
	size_t len[4];
	size_t depth = 0;
	const char *p = path;
	const char *below = NULL; /* what follows a fourth component's slash */

	memset(&r, 0, sizeof(r));
	if (*p != '/')
		return -ENOENT;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		if (depth == 3) {
			below = start; /* only a .files directory goes deeper */
			break;
		}
		comp[depth] = start;
		len[depth] = (size_t)(p - start);
		if (len[depth] > HLFS_NAME_MAX)
			return -ENAMETOOLONG;
		depth++;
	}

	int rc = 0;
	r.node = HLFS_N_ROOT;
	r.dir = HLFS_D_ROOT;
	if (depth >= 1) {
		const char *c = comp[0];
		size_t n = len[0];
		if (comp_is(c, n, ".stats") || comp_is(c, n, ".error")) {
			if (depth > 1)
				return -ENOENT;
			r.node = c[1] == 's' ? HLFS_N_STATS : HLFS_N_ERROR;
			goto done;
		}
		if (comp_is(c, n, ".") || comp_is(c, n, ".."))
			return -ENOENT;
		rc = copy_comp(r.store, c, n);
		if (rc < 0)
			return rc;
		r.node = HLFS_N_STORE;
	}
	if (depth >= 2 && comp_is(comp[1], len[1], "fhir")) {
		/* Below fhir/ the names are fhirname.h's: keep the rest whole. */
		r.node = HLFS_N_FHIR;
		r.dir = HLFS_D_STORE;
		if (depth >= 3) {
			size_t bl = strlen(comp[2]);
			while (bl && comp[2][bl - 1] == '/')
				bl--;
			if (bl > HLFS_SUB_MAX)
				return -ENAMETOOLONG;
			memcpy(r.sub, comp[2], bl);
			r.sub[bl] = '\0';
		}
		goto done;
	}
	if (depth >= 2) {
		rc = parse_in_store(comp[1], len[1], &r);
		if (rc < 0)
			return rc;
		if (depth > 2 && r.node != HLFS_N_TAGS && r.node != HLFS_N_JOBS)
			return -ENOENT;
	}
	if (depth >= 3) {
		if (below && r.node != HLFS_N_JOBS)
			return -ENOENT;
		if (r.node == HLFS_N_TAGS) {
			r.dir = HLFS_D_TAGS;
			if (comp_is(comp[2], len[2], ".error")) {
				r.node = HLFS_N_ERROR;
			} else {
				rc = hlfs_tag_decode(comp[2], len[2], r.leaf, sizeof(r.leaf));
				if (rc < 0)
					return rc;
				r.node = HLFS_N_TAG;
			}
		} else {
			r.dir = r.exports ? HLFS_D_EXPORTS : HLFS_D_IMPORTS;
			rc = parse_jobs(comp[2], len[2], &r);
			if (rc < 0)
				return rc;
			if (below && r.node != HLFS_N_FILES)
				return -ENOENT;
			if (below) {
				size_t bl = strlen(below);
				while (bl && below[bl - 1] == '/')
					bl--;
				if (bl > HLFS_SUB_MAX)
					return -ENAMETOOLONG;
				memcpy(r.sub, below, bl);
				r.sub[bl] = '\0';
				r.files_alt = false; /* a path below it: a directory, not a job file */
			}
		}
	}
done:
	*ret = r;
	return 0;
}
