/* An injected environment for hl_config_options.getenv_fn: a small table
 * of borrowed name/value pairs, so tests never touch the process's own.
 * Header-only; for tests/unit/. */
#ifndef HL_FAKE_ENV_H
#define HL_FAKE_ENV_H

#include <stdlib.h>
#include <string.h>

#define MAX_ENV 24

struct env {
	const char *kv[MAX_ENV][2]; /* ends at the first NULL name */
};

static __attribute__((unused)) const char *env_get(void *arg, const char *name)
{
	struct env *e = arg;
	for (int i = 0; i < MAX_ENV && e->kv[i][0]; i++)
		if (strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

/* Sets or replaces k; aborts when the table is full. */
static __attribute__((unused)) void env_add(struct env *e, const char *k, const char *v)
{
	for (int i = 0; i < MAX_ENV - 1; i++) {
		if (!e->kv[i][0] || strcmp(e->kv[i][0], k) == 0) {
			e->kv[i][0] = k;
			e->kv[i][1] = v;
			return;
		}
	}
	abort();
}

#endif
