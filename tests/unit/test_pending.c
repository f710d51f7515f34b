/* The registry of tag files being created: counts, and the wait of a read
 * right after `: > tags/k` for the release that sets the value. */
#include <pthread.h>
#include <time.h>

#include "healthlake.h"
#include "pending.h"
#include "tap.h"

static void *release_later(void *arg)
{
	struct hlfs_pendings *p = arg;
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	hlfs_pending_releasing(p, "s1", "k");
	nanosleep(&ts, NULL);
	hlfs_pending_done(p, "s1", "k");
	return NULL;
}

int main(void)
{
	struct hlfs_pendings *p = hlfs_pendings_new();
	if (!ok(p != NULL, "a registry"))
		return done_testing();
	ok(!hlfs_pending_has(p, "s1", "k"), "empty");
	is_int(hlfs_pending_add(p, "s1", "k"), 0, "one open");
	is_int(hlfs_pending_add(p, "s1", "k"), 0, "two opens");
	ok(hlfs_pending_has(p, "s1", "k"), "pending");
	ok(!hlfs_pending_has(p, "s2", "k") && !hlfs_pending_has(p, "s1", "k2"),
	   "only that key of that store");
	hlfs_pending_del(p, "s1", "k");
	ok(hlfs_pending_has(p, "s1", "k"), "still open once");

	/* Not closed yet: a reader does not wait. */
	int64_t t0 = hl_now_ms();
	ok(hlfs_pending_settle(p, "s1", "k", t0 + 5000), "unset while open: still pending");
	ok(hl_now_ms() - t0 < 100, "without waiting");

	/* Closed with nothing written: the reader waits the grace time for a
	 * release that does not come, then reads it as pending. */
	hlfs_pending_closing(p, "s1", "k", hl_now_ms());
	t0 = hl_now_ms();
	ok(hlfs_pending_settle(p, "s1", "k", t0 + 5000), "no release came: still pending");
	int64_t waited = hl_now_ms() - t0;
	ok(waited >= 150 && waited < 1000, "after the grace time (%lld ms)", (long long)waited);

	/* The release comes and sets the value: the reader wakes at once. */
	hlfs_pending_closing(p, "s1", "k", hl_now_ms());
	pthread_t th;
	pthread_create(&th, NULL, release_later, p);
	t0 = hl_now_ms();
	ok(!hlfs_pending_settle(p, "s1", "k", t0 + 5000), "set by the release: not pending");
	waited = hl_now_ms() - t0;
	ok(waited < 1000, "woken when it was set (%lld ms)", (long long)waited);
	pthread_join(th, NULL);
	ok(!hlfs_pending_has(p, "s1", "k"), "an ordinary tag from now on");

	/* The deadline bounds every wait. */
	hlfs_pending_add(p, "s1", "k");
	hlfs_pending_releasing(p, "s1", "k");
	t0 = hl_now_ms();
	ok(hlfs_pending_settle(p, "s1", "k", t0 + 100), "a release that never ends");
	waited = hl_now_ms() - t0;
	ok(waited >= 90 && waited < 1000, "is waited for until the deadline (%lld ms)",
	   (long long)waited);
	hlfs_pendings_free(p); /* with an entry left: freed too */
	hlfs_pendings_free(NULL);
	return done_testing();
}
