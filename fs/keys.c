#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hlfs_key_format(const struct hlfs_key *k, char *out, size_t n)
{
	char ie = k->exports ? 'e' : 'i';
	int w;
	switch (k->kind) {
	case HLFS_K_LISTING:
		w = snprintf(out, n, "%s", HLFS_LISTING_KEY);
		break;
	case HLFS_K_DATASTORE:
		w = snprintf(out, n, "D/%s", k->ds_id);
		break;
	case HLFS_K_JOBLIST:
		w = snprintf(out, n, "J/%c/%s", ie, k->ds_id);
		break;
	case HLFS_K_JOB:
		w = snprintf(out, n, "j/%c/%s/%s", ie, k->ds_id, k->job_id);
		break;
	case HLFS_K_FILES:
		w = snprintf(out, n, "F/%c/%s/%s", ie, k->ds_id, k->job_id);
		break;
	case HLFS_K_TAGS:
		w = snprintf(out, n, "T/%s", k->ds_id);
		break;
	case HLFS_K_KERNEL:
		w = snprintf(out, n, "K/%s", k->ds_id);
		break;
	case HLFS_K_FHIR:
		w = snprintf(out, n, "f/%s/%s", k->ds_id, k->rest);
		break;
	default:
		w = -1;
	}
	if (w < 0 || (size_t)w >= n) {
		if (n)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* "i/" or "e/" at s: sets *exports. */
static bool side(const char *s, bool *exports)
{
	if ((s[0] != 'i' && s[0] != 'e') || s[1] != '/')
		return false;
	*exports = s[0] == 'e';
	return true;
}

int hlfs_key_parse(const char *key, struct hlfs_key *ret, size_t *ds_len)
{
	memset(ret, 0, sizeof(*ret));
	if (!strcmp(key, HLFS_LISTING_KEY)) {
		ret->kind = HLFS_K_LISTING;
		return 0;
	}
	if (!key[0] || key[1] != '/')
		return -EINVAL;
	const char *rest = key + 2;
	switch (key[0]) {
	case 'D':
		ret->kind = HLFS_K_DATASTORE;
		break;
	case 'T':
		ret->kind = HLFS_K_TAGS;
		break;
	case 'K':
		ret->kind = HLFS_K_KERNEL;
		break;
	case 'J':
		ret->kind = HLFS_K_JOBLIST;
		if (!side(rest, &ret->exports))
			return -EINVAL;
		rest += 2;
		break;
	case 'f': {
		const char *slash = strchr(rest, '/');
		if (!slash || slash == rest || !slash[1])
			return -EINVAL;
		ret->kind = HLFS_K_FHIR;
		ret->ds_id = rest;
		ret->rest = slash + 1;
		if (ds_len)
			*ds_len = (size_t)(slash - rest);
		return 0;
	}
	case 'j':
	case 'F': {
		ret->kind = key[0] == 'j' ? HLFS_K_JOB : HLFS_K_FILES;
		if (!side(rest, &ret->exports))
			return -EINVAL;
		rest += 2;
		const char *slash = strchr(rest, '/');
		if (!slash || slash == rest || !slash[1])
			return -EINVAL;
		ret->ds_id = rest;
		ret->job_id = slash + 1;
		if (ds_len)
			*ds_len = (size_t)(slash - rest);
		return 0;
	}
	default:
		return -EINVAL;
	}
	if (!*rest)
		return -EINVAL;
	ret->ds_id = rest;
	if (ds_len)
		*ds_len = strlen(rest);
	return 0;
}
