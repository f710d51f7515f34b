#include "clock.h"

#define NS_PER_S 1000000000L
#define NS_PER_MS 1000000L

int64_t hl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / NS_PER_MS;
}

void hl_mono_after(int64_t ms, struct timespec *ret)
{
	clock_gettime(CLOCK_MONOTONIC, ret);
	ret->tv_sec += (time_t)(ms / 1000);
	ret->tv_nsec += (long)(ms % 1000) * NS_PER_MS;
	if (ret->tv_nsec >= NS_PER_S) {
		ret->tv_sec++;
		ret->tv_nsec -= NS_PER_S;
	} else if (ret->tv_nsec < 0) { /* a negative ms */
		ret->tv_sec--;
		ret->tv_nsec += NS_PER_S;
	}
}

int64_t hl_mono_left_ms(const struct timespec *at)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(at->tv_sec - now.tv_sec) * 1000 + (at->tv_nsec - now.tv_nsec) / NS_PER_MS;
}

void hl_sleep_until_ms(int64_t t)
{
	for (;;) {
		int64_t left = t - hl_now_ms();
		if (left <= 0)
			return;
		struct timespec ts = {.tv_sec = (time_t)(left / 1000),
				      .tv_nsec = (long)(left % 1000) * NS_PER_MS};
		nanosleep(&ts, NULL); /* EINTR: loop and recompute */
	}
}

time_t hl_real_now(void)
{
	return time(NULL);
}

int64_t hl_real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
