/* The client's pacer: DESIGN.md's max_tps= as the service counts it. No
 * one-second window at the server may hold more than max_tps arrivals, even
 * when a call reaches the server late (a new connection, credentials, a busy
 * machine) and the next one early.
 *
 * k = floor(max_tps) slots (1 below 1/s). A call takes a free slot to start
 * and gives it back when it ends; the slot is free again window_ms after
 * that end. A call arrives at the server between its start and its end, so
 * two calls that used one slot arrive more than window_ms (>= 1 s) apart,
 * and k slots allow at most k arrivals in any second: a guarantee whatever
 * the delays on the way. A burst of k goes at once; a call waits only when
 * all k slots were used within the last window. Thread-safe. */
#ifndef HL_PACER_H
#define HL_PACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Added to the window: the server's clock may round its arrival times. */
#define HL_PACER_MARGIN_MS 5

struct hl_pacer {
	pthread_mutex_t lock;
	pthread_cond_t freed; /* signalled when a slot's call ends; CLOCK_MONOTONIC */
	int64_t *busy;	      /* per slot: when its last call ended (0 = never used),
			       * HL_PACER_IN_FLIGHT while one runs; protected by lock */
	int64_t *before;      /* per slot: busy[] before the running call took it,
			       * restored when that call sent nothing; protected by lock */
	size_t k;
	int64_t window_ms;
};

#define HL_PACER_IN_FLIGHT INT64_MAX

/* max_tps <= 0 (or absurd) means the default, 10. HL_ERR_NOMEM on failure. */
enum hl_err hl_pacer_init(struct hl_pacer *p, double max_tps);
/* Accepts a pacer that init failed or never ran on a zeroed struct. */
void hl_pacer_destroy(struct hl_pacer *p);

/* Pure core (time as a parameter): takes a slot free at now_ms and returns
 * its index, or returns -1 with *ret_free_at set to when the first slot
 * frees (HL_PACER_IN_FLIGHT when every slot is in use: it frees at an end). */
int hl_pacer_try(struct hl_pacer *p, int64_t now_ms, int64_t *ret_free_at);
/* The call on slot ended at now_ms. sent: it may have reached the server
 * (then the slot stays taken for a window); otherwise the slot is as it was. */
void hl_pacer_done(struct hl_pacer *p, int slot, int64_t now_ms, bool sent);

/* Waits for a slot (hl_now_ms() clock) and returns it; -1 when none frees
 * by deadline_ms (0 = no deadline), without waiting when that is already
 * known. */
int hl_pacer_acquire(struct hl_pacer *p, int64_t deadline_ms);

#endif
