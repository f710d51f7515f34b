/* api/pacer.c: slots taken and given back with an injected clock, the
 * window after each end, and the promise as the server counts it when
 * calls arrive anywhere between their start and their end. */
#include <pthread.h>

#include "clock.h"
#include "pacer.h"
#include "tap.h"

#define W10 (1000 + HL_PACER_MARGIN_MS)

static void test_init(void)
{
	static const struct {
		double tps;
		size_t k;
		int64_t w;
	} t[] = {
	    {10, 10, 1000 + HL_PACER_MARGIN_MS},  {0.5, 1, 2000 + HL_PACER_MARGIN_MS},
	    {2.5, 2, 800 + HL_PACER_MARGIN_MS},	  {0, 10, 1000 + HL_PACER_MARGIN_MS},
	    {-3, 10, 1000 + HL_PACER_MARGIN_MS},  {1e12, 10, 1000 + HL_PACER_MARGIN_MS},
	    {3000, 1000, 334 + HL_PACER_MARGIN_MS},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hl_pacer p;
		is_int(hl_pacer_init(&p, t[i].tps), HL_ERR_OK, "pacer %g/s", t[i].tps);
		is_int(p.k, t[i].k, "  %zu slots", t[i].k);
		is_int(p.window_ms, t[i].w, "  window %lld ms", (long long)t[i].w);
		hl_pacer_destroy(&p);
	}
	struct hl_pacer z = {0};
	hl_pacer_destroy(&z);
	hl_pacer_destroy(NULL);
	ok(true, "destroying a zeroed pacer or NULL is fine");
}

static void test_slots(void)
{
	struct hl_pacer p;
	hl_pacer_init(&p, 10);
	int64_t t0 = 1000000, free_at = 0;
	int slots[10];
	bool distinct = true;
	for (int i = 0; i < 10; i++) {
		slots[i] = hl_pacer_try(&p, t0, &free_at);
		for (int j = 0; j < i; j++)
			distinct = distinct && slots[j] != slots[i];
	}
	ok(slots[9] >= 0 && distinct, "a burst of 10 starts at once on 10 slots");
	is_int(hl_pacer_try(&p, t0, &free_at), -1, "the 11th waits");
	ok(free_at == HL_PACER_IN_FLIGHT, "  for a call to end first");
	hl_pacer_done(&p, slots[0], t0 + 3, true);
	is_int(hl_pacer_try(&p, t0 + 10, &free_at), -1, "a slot just given back is not free");
	is_int(free_at, t0 + 3 + W10, "  it frees a window after that call's end");
	ok(hl_pacer_try(&p, t0 + 3 + W10, &free_at) == slots[0], "  and is taken then");
	hl_pacer_done(&p, slots[1], t0 + 20, false);
	ok(hl_pacer_try(&p, t0 + 21, &free_at) == slots[1],
	   "a call that sent nothing leaves its slot free at once");
	hl_pacer_done(&p, 99, t0, true);
	hl_pacer_done(&p, -1, t0, true);
	ok(true, "done() ignores a slot that is not one");
	hl_pacer_destroy(&p);
}

/* Arrivals a_i in [start_i, end_i]: no window of 1000 ms holds more than k. */
static bool arrivals_ok(int64_t *a, size_t n, size_t k)
{
	for (size_t i = 1; i < n; i++) /* insertion sort: small n */
		for (size_t j = i; j > 0 && a[j] < a[j - 1]; j--) {
			int64_t x = a[j];
			a[j] = a[j - 1];
			a[j - 1] = x;
		}
	for (size_t i = k; i < n; i++)
		if (a[i] - a[i - k] < 1000)
			return false;
	return true;
}

/* 300 calls asked for at pseudo-random times by many callers, each taking
 * 1-300 ms and reaching the server at any point of that: simulated ms by
 * ms with the pure core. */
static void test_promise(void)
{
	enum { N = 300 };
	struct hl_pacer p;
	hl_pacer_init(&p, 10);
	int64_t ask[N], start[N], end[N], arrive[N];
	int slot[N];
	unsigned seed = 4242;
	int64_t t = 0;
	for (size_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		t += (seed >> 16) % 60;
		ask[i] = t;
		start[i] = end[i] = -1;
	}
	size_t next = 0, done = 0;
	bool early = false;
	for (int64_t now = 0; done < N && now < 10000000; now++) {
		for (size_t i = 0; i < N; i++)
			if (start[i] >= 0 && end[i] == now) {
				hl_pacer_done(&p, slot[i], now, true);
				done++;
			}
		while (next < N && ask[next] <= now) {
			int64_t f;
			int s = hl_pacer_try(&p, now, &f);
			if (s < 0)
				break;
			slot[next] = s;
			start[next] = now;
			seed = seed * 1103515245u + 12345u;
			end[next] = now + 1 + (seed >> 16) % 300;
			seed = seed * 1103515245u + 12345u;
			arrive[next] = start[next] + (int64_t)((seed >> 16) % (unsigned)(end[next] - now + 1));
			early = early || start[next] < ask[next];
			next++;
		}
	}
	is_int(done, N, "every call ran");
	ok(!early, "no call starts before it is asked for");
	ok(arrivals_ok(arrive, N, 10), "no second at the server holds more than 10 arrivals");
	hl_pacer_destroy(&p);

	/* Under the rate nobody waits: 1 call every 101 ms, each taking 3 ms. */
	hl_pacer_init(&p, 10);
	bool waited = false;
	for (int64_t i = 0; i < 200; i++) {
		int64_t f;
		int s = hl_pacer_try(&p, i * 101, &f);
		if (s < 0) {
			waited = true;
			break;
		}
		hl_pacer_done(&p, s, i * 101 + 3, true);
	}
	ok(!waited, "a caller under max_tps is never delayed");
	hl_pacer_destroy(&p);
}

struct ender {
	struct hl_pacer *p;
	int slot;
};

static void *end_later(void *arg)
{
	struct ender *e = arg;
	hl_sleep_until_ms(hl_now_ms() + 100);
	hl_pacer_done(e->p, e->slot, hl_now_ms(), true);
	return NULL;
}

static void test_acquire(void)
{
	struct hl_pacer p;
	hl_pacer_init(&p, 20); /* 20 slots, a window of 1 s */
	int s[20];
	int64_t t0 = hl_now_ms();
	for (int i = 0; i < 20; i++)
		s[i] = hl_pacer_acquire(&p, 0);
	ok(s[19] >= 0 && hl_now_ms() - t0 < 100, "a burst of 20 does not wait");
	t0 = hl_now_ms();
	is_int(hl_pacer_acquire(&p, t0 + 500), -1, "all in flight, deadline before a window");
	ok(hl_now_ms() - t0 < 100, "  refused without waiting for the deadline");
	for (int i = 1; i < 20; i++)
		hl_pacer_done(&p, s[i], hl_now_ms(), false);
	struct ender e = {&p, s[0]};
	pthread_t th;
	pthread_create(&th, NULL, end_later, &e);
	t0 = hl_now_ms();
	int got = hl_pacer_acquire(&p, t0 + 5000);
	ok(got >= 0 && got != s[0], "a slot that sent nothing is taken at once");
	pthread_join(th, NULL);
	hl_pacer_destroy(&p);

	hl_pacer_init(&p, 1); /* one slot, a window of 1 s */
	int one = hl_pacer_acquire(&p, 0);
	e = (struct ender){&p, one};
	pthread_create(&th, NULL, end_later, &e);
	t0 = hl_now_ms();
	int again = hl_pacer_acquire(&p, t0 + 5000);
	int64_t took = hl_now_ms() - t0;
	pthread_join(th, NULL);
	ok(again == one && took >= 100 + 1000 && took < 100 + 1000 + 500,
	   "the next waits for the end, then a window (%lld ms)", (long long)took);
	hl_pacer_done(&p, again, hl_now_ms(), true);
	t0 = hl_now_ms();
	is_int(hl_pacer_acquire(&p, t0 + 300), -1, "a window away, deadline sooner: refused");
	ok(hl_now_ms() - t0 < 100, "  at once");
	hl_pacer_destroy(&p);
}

int main(void)
{
	test_init();
	test_slots();
	test_promise();
	test_acquire();
	return done_testing();
}
