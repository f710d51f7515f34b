/* Places test input right before an unreadable page, so a parser that reads
 * one byte past the length it was given crashes at once (picohttpparser's
 * tests do the same). Header-only; for tests/unit/. */
#ifndef HL_TEST_GUARD_H
#define HL_TEST_GUARD_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded {
	char *map;
	size_t maplen;
	char *p; /* the copy; its last byte is the last readable one */
};

/* Copies the n bytes at s (no NUL added). Aborts when it cannot map. */
static __attribute__((unused)) struct guarded guard(const char *s, size_t n)
{
	struct guarded g = {0};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (n + page - 1) / page + 1;
	g.maplen = (pages + 1) * page;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED || mprotect(g.map + pages * page, page, PROT_NONE) != 0)
		abort();
	g.p = g.map + pages * page - n;
	memcpy(g.p, s, n);
	return g;
}

static __attribute__((unused)) void unguard(struct guarded *g)
{
	if (g->map)
		munmap(g->map, g->maplen);
	memset(g, 0, sizeof(*g));
}

#endif
