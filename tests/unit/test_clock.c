/* api/clock.c: monotonic instants, what is left of them, sleeping until one. */
#include "clock.h"
#include "tap.h"

static int64_t mono_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static void test_mono_after(void)
{
	static const int64_t cases[] = {0, 1, 999, 1000, 1500, 86400000, -1, -1500};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec ts;
		int64_t before = hl_now_ms();
		hl_mono_after(cases[i], &ts);
		int64_t at = mono_ms(&ts), after = hl_now_ms();
		ok(at >= before + cases[i] - 1 && at <= after + cases[i] && ts.tv_nsec >= 0 &&
		       ts.tv_nsec < 1000000000,
		   "hl_mono_after(%lld) is that far past now, nanoseconds normalised",
		   (long long)cases[i]);
	}
}

static void test_left(void)
{
	struct timespec ts;
	hl_mono_after(5000, &ts);
	int64_t left = hl_mono_left_ms(&ts);
	ok(left <= 5000 && left > 4000, "5 s ahead: about 5000 ms left (%lld)", (long long)left);
	hl_mono_after(-2000, &ts);
	left = hl_mono_left_ms(&ts);
	ok(left <= -2000 && left > -3000, "2 s ago: negative (%lld)", (long long)left);
}

static void test_sleep(void)
{
	int64_t t0 = hl_now_ms();
	hl_sleep_until_ms(t0 + 30);
	int64_t took = hl_now_ms() - t0;
	ok(took >= 30 && took < 1000, "sleeps until the instant (%lld ms)", (long long)took);
	t0 = hl_now_ms();
	hl_sleep_until_ms(t0 - 1000);
	ok(hl_now_ms() - t0 < 50, "an instant in the past returns at once");
}

static void test_real(void)
{
	time_t a = hl_real_now();
	ok(a > 1700000000, "wall clock is past 2023 (%lld)", (long long)a);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ok(ts.tv_sec - a <= 1 && ts.tv_sec >= a, "and agrees with CLOCK_REALTIME");
}

int main(void)
{
	test_mono_after();
	test_left();
	test_sleep();
	test_real();
	return done_testing();
}
