#include "pacer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define HL_DEFAULT_TPS 10.0
#define HL_PACER_MAX_K 1000

enum hl_err hl_pacer_init(struct hl_pacer *p, double max_tps)
{
	memset(p, 0, sizeof(*p));
	if (!(max_tps > 0) || max_tps > 1e9)
		max_tps = HL_DEFAULT_TPS;
	double k = max_tps < 1 ? 1 : max_tps > HL_PACER_MAX_K ? HL_PACER_MAX_K : max_tps;
	p->k = (size_t)k; /* floor: never more than max_tps arrivals per second */
	double w = (double)p->k * 1000.0 / max_tps;
	p->window_ms = (int64_t)w;
	if ((double)p->window_ms < w)
		p->window_ms++;
	p->window_ms += HL_PACER_MARGIN_MS;
	p->busy = calloc(p->k, sizeof(*p->busy));
	p->before = calloc(p->k, sizeof(*p->before));
	if (!p->busy || !p->before) {
		free(p->busy);
		free(p->before);
		p->busy = p->before = NULL;
		return HL_ERR_NOMEM;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits are against hl_now_ms() */
	pthread_cond_init(&p->freed, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->lock, NULL);
	return HL_ERR_OK;
}

void hl_pacer_destroy(struct hl_pacer *p)
{
	if (!p || !p->busy)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p->busy);
	free(p->before);
	p->busy = p->before = NULL;
}

/* With p->lock held. */
static int try_locked(struct hl_pacer *p, int64_t now_ms, int64_t *ret_free_at)
{
	size_t best = 0;
	for (size_t i = 1; i < p->k; i++)
		if (p->busy[i] < p->busy[best])
			best = i;
	int64_t b = p->busy[best];
	int64_t free_at = b == HL_PACER_IN_FLIGHT ? b : b ? b + p->window_ms : 0;
	if (free_at > now_ms) {
		*ret_free_at = free_at;
		return -1;
	}
	p->before[best] = b;
	p->busy[best] = HL_PACER_IN_FLIGHT;
	return (int)best;
}

int hl_pacer_try(struct hl_pacer *p, int64_t now_ms, int64_t *ret_free_at)
{
	pthread_mutex_lock(&p->lock);
	int slot = try_locked(p, now_ms, ret_free_at);
	pthread_mutex_unlock(&p->lock);
	return slot;
}

void hl_pacer_done(struct hl_pacer *p, int slot, int64_t now_ms, bool sent)
{
	if (slot < 0 || (size_t)slot >= p->k)
		return;
	pthread_mutex_lock(&p->lock);
	p->busy[slot] = sent ? (now_ms > 0 ? now_ms : 1) : p->before[slot];
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

int hl_pacer_acquire(struct hl_pacer *p, int64_t deadline_ms)
{
	int slot;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		int64_t now = hl_now_ms(), free_at;
		if ((slot = try_locked(p, now, &free_at)) >= 0)
			break;
		/* a slot in flight frees a window after its call ends, at the soonest */
		bool flying = free_at == HL_PACER_IN_FLIGHT;
		int64_t earliest = flying ? now + p->window_ms : free_at;
		if (deadline_ms && (earliest > deadline_ms || now >= deadline_ms))
			break; /* no slot in time: refuse now rather than at the deadline */
		int64_t until = flying ? deadline_ms : free_at;
		if (!until) {
			pthread_cond_wait(&p->freed, &p->lock);
		} else {
			if (deadline_ms && until > deadline_ms)
				until = deadline_ms;
			struct timespec ts;
			hl_mono_after(until - now, &ts);
			pthread_cond_timedwait(&p->freed, &p->lock, &ts);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return slot;
}
