/* Minimal TAP producer for unit tests: asserts print both sides on failure.
 * Header-only; each test binary includes it once. */
#ifndef HL_TAP_H
#define HL_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static void tap_vresult(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		printf("#   Failed at %s:%d\n", file, line);
	fflush(stdout);
}

static bool tap_ok_(bool pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool tap_ok_(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

__attribute__((unused)) static void tap_diag_str(const char *label, const char *s)
{
	if (!s) {
		printf("#   %8s: (null)\n", label);
		return;
	}
	printf("#   %8s: \"", label);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			printf("\\n");
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	printf("\"\n");
}

#define ok(cond, ...) tap_ok_((cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                              \
	do {                                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);                    \
		if (!tap_ok_(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))                    \
			printf("#   %8s: %lld\n#   %8s: %lld\n", "got", g_, "expected", w_); \
	} while (0)

#define is_str(got, want, ...)                                                            \
	do {                                                                              \
		const char *g_ = (got), *w_ = (want);                                     \
		bool p_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
		if (!tap_ok_(p_, __FILE__, __LINE__, __VA_ARGS__)) {                      \
			tap_diag_str("got", g_);                                          \
			tap_diag_str("expected", w_);                                     \
		}                                                                         \
	} while (0)

/* str contains sub. */
#define has(str, sub, ...)                                               \
	do {                                                             \
		const char *s_ = (str);                                  \
		if (!ok(s_ && strstr(s_, (sub)) != NULL, __VA_ARGS__)) { \
			tap_diag_str("got", s_);                         \
			tap_diag_str("contains", (sub));                 \
		}                                                        \
	} while (0)

#define diag(...)                                   \
	do {                                        \
		printf("# ");                       \
		printf(__VA_ARGS__);                \
		printf("\n");                       \
	} while (0)

/* Prints the plan and returns the exit status for main(). */
static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
