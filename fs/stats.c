#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named {
	char key[96];
	uint64_t n;
};

struct hlfs_stats {
	pthread_mutex_t lock;
	struct named *dyn; /* calls.* and errors.*; protected by lock, as are all below */
	size_t ndyn, capdyn;
	uint64_t retries, throttled, bytes_in, bytes_out;
	int64_t inflight;
};

struct hlfs_stats *hlfs_stats_new(void)
{
	struct hlfs_stats *s = calloc(1, sizeof(*s));
	if (s)
		pthread_mutex_init(&s->lock, NULL);
	return s;
}

void hlfs_stats_free(struct hlfs_stats *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->dyn);
	free(s);
}

/* Adds 1 to key, creating it; an allocation failure loses one count. */
static void bump(struct hlfs_stats *s, const char *prefix, const char *name)
{
	char key[96];
	snprintf(key, sizeof(key), "%s.%s", prefix, name);
	for (size_t i = 0; i < s->ndyn; i++) {
		if (!strcmp(s->dyn[i].key, key)) {
			s->dyn[i].n++;
			return;
		}
	}
	if (s->ndyn == s->capdyn) {
		size_t cap = s->capdyn ? s->capdyn * 2 : 16;
		struct named *d = realloc(s->dyn, cap * sizeof(*d));
		if (!d)
			return;
		s->dyn = d;
		s->capdyn = cap;
	}
	snprintf(s->dyn[s->ndyn].key, sizeof(s->dyn[s->ndyn].key), "%s", key);
	s->dyn[s->ndyn].n = 1;
	s->ndyn++;
}

/* Counts one call: calls.[fhir.]<operation>, and errors.<code> (the data
 * plane's: errors.fhir.<status>). */
static void count(struct hlfs_stats *s, const struct hl_call_info *info, bool fhir)
{
	char name[80];
	/* A call refused before sending anything (bad input) cost nothing. */
	if (info->attempts == 0 && info->code != HL_ERR_TIMEOUT)
		return;
	const char *fallback = info->code == HL_ERR_TIMEOUT ? "timeout" : "network";
	pthread_mutex_lock(&s->lock);
	snprintf(name, sizeof(name), "%s%s", fhir ? "fhir." : "",
		 info->operation ? info->operation : "unknown");
	bump(s, "calls", name);
	if (info->code != HL_ERR_OK) {
		/* FHIR errors by status only: their text may quote the resource. */
		if (fhir && info->http_status > 0)
			snprintf(name, sizeof(name), "fhir.%ld", info->http_status);
		else if (fhir)
			snprintf(name, sizeof(name), "fhir.%s", fallback);
		else
			snprintf(name, sizeof(name), "%s",
				 info->aws_code && *info->aws_code ? info->aws_code : fallback);
		bump(s, "errors", name);
	}
	if (info->attempts > 1)
		s->retries += (uint64_t)(info->attempts - 1);
	if (info->throttled > 0)
		s->throttled += (uint64_t)info->throttled;
	s->bytes_in += info->bytes_in;
	s->bytes_out += info->bytes_out;
	pthread_mutex_unlock(&s->lock);
}

void hlfs_stats_on_call(void *arg, const struct hl_call_info *info)
{
	count(arg, info, false);
}

void hlfs_stats_on_fhir_call(void *arg, const struct hl_call_info *info)
{
	count(arg, info, true);
}

void hlfs_stats_inflight(struct hlfs_stats *s, int delta)
{
	pthread_mutex_lock(&s->lock);
	s->inflight += delta;
	pthread_mutex_unlock(&s->lock);
}

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->key, ((const struct named *)b)->key);
}

enum hl_err hlfs_stats_render(struct hlfs_stats *s, const struct hlfs_cache_counters *cc,
			      struct hl_buf *out)
{
	struct hlfs_cache_counters zero = {0};
	enum hl_err e = HL_ERR_NOMEM;
	if (!cc)
		cc = &zero;
	pthread_mutex_lock(&s->lock);
	size_t n = s->ndyn + 8;
	struct named *all = calloc(n, sizeof(*all));
	if (!all)
		goto out;
	if (s->ndyn) /* s->dyn is NULL until a call or error is counted */
		memcpy(all, s->dyn, s->ndyn * sizeof(*all));
	struct named *f = all + s->ndyn;
	f[0] = (struct named){"retries", s->retries};
	f[1] = (struct named){"throttled", s->throttled};
	f[2] = (struct named){"cache.hits", cc->hits};
	f[3] = (struct named){"cache.misses", cc->misses};
	f[4] = (struct named){"coalesced", cc->coalesced};
	f[5] = (struct named){"inflight", (uint64_t)(s->inflight > 0 ? s->inflight : 0)};
	f[6] = (struct named){"bytes.in", s->bytes_in};
	f[7] = (struct named){"bytes.out", s->bytes_out};
	pthread_mutex_unlock(&s->lock);
	qsort(all, n, sizeof(*all), named_cmp);
	e = HL_ERR_OK;
	for (size_t i = 0; i < n && e == HL_ERR_OK; i++)
		e = hl_buf_appendf(out, "%s %llu\n", all[i].key, (unsigned long long)all[i].n);
	free(all);
	return e;
out:
	pthread_mutex_unlock(&s->lock);
	return e;
}
