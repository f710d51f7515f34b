#include <stdio.h>

#include "ksize.h"
#include "tap.h"

int main(void)
{
	struct hlfs_ksize *k = hlfs_ksize_new(4, 1000);
	ok(k != NULL, "a table of 4 slots");
	ok(!hlfs_ksize_only(k, "/s/status", 7, 0), "a path never given to the kernel is unknown");

	hlfs_ksize_note(k, "/s/status", 7, 0);
	ok(hlfs_ksize_only(k, "/s/status", 7, 1), "one size given: the kernel holds that one");
	ok(!hlfs_ksize_only(k, "/s/status", 9, 1), "a longer snapshot differs from it");
	ok(!hlfs_ksize_only(k, "/s/statu", 7, 1), "another path is unknown");

	/* The size changed: for hold_ms the kernel may still have the old one. */
	hlfs_ksize_note(k, "/s/status", 9, 100);
	ok(!hlfs_ksize_only(k, "/s/status", 9, 100), "just changed: either size may be held");
	ok(!hlfs_ksize_only(k, "/s/status", 9, 1099), "still within the hold time");
	ok(hlfs_ksize_only(k, "/s/status", 9, 1100), "after the hold time only the new one");
	hlfs_ksize_note(k, "/s/status", 9, 2000);
	ok(hlfs_ksize_only(k, "/s/status", 9, 2000), "the same size again changes nothing");

	/* Fill and overflow the table: a path that loses its slot is unknown,
	 * and so is every path new to the table for the hold time. */
	char p[32];
	for (int i = 0; i < 16; i++) {
		snprintf(p, sizeof(p), "/s/imports/job%d", i);
		hlfs_ksize_note(k, p, 100 + i, 3000);
	}
	int known = 0;
	for (int i = 0; i < 16; i++) {
		snprintf(p, sizeof(p), "/s/imports/job%d", i);
		known += hlfs_ksize_only(k, p, 100 + i, 3001);
	}
	is_int(known, 0, "while slots are being lost, nothing new is trusted");
	known = 0;
	for (int i = 0; i < 16; i++) {
		snprintf(p, sizeof(p), "/s/imports/job%d", i);
		known += hlfs_ksize_only(k, p, 100 + i, 5000);
	}
	ok(known >= 1 && known <= 4, "after the hold time the paths still in a slot are (%d)",
	   known);
	hlfs_ksize_free(k);
	hlfs_ksize_free(NULL);
	return done_testing();
}
