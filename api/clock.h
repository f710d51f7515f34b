/* The two clocks of libhealthlake in one place: monotonic milliseconds for
 * deadlines, pacing and timed waits; wall-clock seconds for signing and
 * credential expiry. Everything else takes times as parameters. */
#ifndef HL_CLOCK_H
#define HL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds; deadlines are absolute values of this clock. */
int64_t hl_now_ms(void);
/* The CLOCK_MONOTONIC instant ms milliseconds from now (for a timed wait on
 * a condition variable set to that clock, or a deadline for poll()). */
void hl_mono_after(int64_t ms, struct timespec *ret);
/* Milliseconds from now until the CLOCK_MONOTONIC instant at (negative once
 * it has passed). */
int64_t hl_mono_left_ms(const struct timespec *at);
/* Sleeps until hl_now_ms() >= t, resuming after signals. */
void hl_sleep_until_ms(int64_t t);
/* Wall-clock seconds since the epoch. */
time_t hl_real_now(void);
/* Wall-clock milliseconds since the epoch (times shown to users). */
int64_t hl_real_ms(void);

#endif
