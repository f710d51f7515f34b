#include "names.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct ncase {
	const char *what;
	struct hlfs_store_ref stores[5];
	size_t n;
	bool show_deleted;
	const char *want[5]; /* directory name per store, NULL = hidden */
};

int main(void)
{
	char long255[256], long256[257];
	memset(long255, 'n', 255);
	long255[255] = '\0';
	memset(long256, 'n', 256);
	long256[256] = '\0';

	const struct ncase cases[] = {
	    {"unique names are used",
	     {{"id1", "a", "ACTIVE"}, {"id2", "b", "CREATING"}},
	     2,
	     false,
	     {"a", "b"}},
	    {"unnamed store uses its id",
	     {{"id1", NULL, "ACTIVE"}, {"id2", "b", "ACTIVE"}},
	     2,
	     false,
	     {"id1", "b"}},
	    {"duplicate names both fall back to ids",
	     {{"id1", "a", "ACTIVE"}, {"id2", "a", "ACTIVE"}, {"id3", "c", "ACTIVE"}},
	     3,
	     false,
	     {"id1", "id2", "c"}},
	    {"a DELETED duplicate is hidden and does not count",
	     {{"id1", "a", "ACTIVE"}, {"id2", "a", "DELETED"}},
	     2,
	     false,
	     {"a", NULL}},
	    {"show_deleted lists it and then the name is duplicated",
	     {{"id1", "a", "ACTIVE"}, {"id2", "a", "DELETED"}},
	     2,
	     true,
	     {"id1", "id2"}},
	    {"reserved and unsafe names",
	     {{"i1", ".", "ACTIVE"},
	      {"i2", "..", "ACTIVE"},
	      {"i3", ".stats", "ACTIVE"},
	      {"i4", ".error", "ACTIVE"},
	      {"i5", "a/b", "ACTIVE"}},
	     5,
	     false,
	     {"i1", "i2", "i3", "i4", "i5"}},
	    {"a name equal to another store's id",
	     {{"id1", "id2", "ACTIVE"}, {"id2", NULL, "ACTIVE"}},
	     2,
	     false,
	     {"id1", "id2"}},
	    {"a name equal to its own id is fine", {{"id1", "id1", "ACTIVE"}}, 1, false, {"id1"}},
	    {"a name equal to a hidden store's id is fine",
	     {{"id1", "id2", "ACTIVE"}, {"id2", NULL, "DELETED"}},
	     2,
	     false,
	     {"id2", NULL}},
	    {"255 bytes is fine, 256 is not",
	     {{"id1", long255, "ACTIVE"}, {"id2", long256, "ACTIVE"}},
	     2,
	     false,
	     {long255, "id2"}},
	    {"invalid UTF-8 falls back",
	     {{"id1", "a\xff", "ACTIVE"}, {"id2", "\xc3\xa9", "ACTIVE"}},
	     2,
	     false,
	     {"id1", "\xc3\xa9"}},
	    {"empty name falls back", {{"id1", "", "ACTIVE"}}, 1, false, {"id1"}},
	};
	for (size_t c = 0; c < N(cases); c++) {
		struct hlfs_names nm;
		is_int(hlfs_names_build(cases[c].stores, cases[c].n, cases[c].show_deleted, &nm), 0,
		       "%s: build", cases[c].what);
		for (size_t i = 0; i < cases[c].n; i++)
			is_str(nm.dir[i], cases[c].want[i], "%s: store %zu", cases[c].what, i);
		hlfs_names_free(&nm);
	}

	/* Lookups: by directory name, by id, hidden ones not at all. */
	const struct hlfs_store_ref s[] = {
	    {"id1", "alpha", "ACTIVE"}, {"id2", "dup", "ACTIVE"},  {"id3", "dup", "ACTIVE"},
	    {"id4", "gone", "DELETED"}, {"id5", NULL, "CREATING"},
	};
	struct hlfs_names nm;
	is_int(hlfs_names_build(s, N(s), false, &nm), 0, "build lookup set");
	is_int(nm.n_visible, 4, "four visible");
	is_int(hlfs_names_find(&nm, s, "alpha"), 0, "by name");
	is_int(hlfs_names_find(&nm, s, "id1"), 0, "by id although it has a name");
	is_int(hlfs_names_find(&nm, s, "dup"), -1, "a duplicated name resolves to nothing");
	is_int(hlfs_names_find(&nm, s, "id3"), 2, "duplicate reachable by id");
	is_int(hlfs_names_find(&nm, s, "id4"), -1, "DELETED by id is not found");
	is_int(hlfs_names_find(&nm, s, "gone"), -1, "DELETED by name is not found");
	is_int(hlfs_names_find(&nm, s, "id5"), 4, "unnamed by id");
	is_int(hlfs_names_find(&nm, s, "nope"), -1, "unknown");
	hlfs_names_free(&nm);
	is_int(hlfs_names_build(s, N(s), true, &nm), 0, "build with show_deleted");
	is_int(hlfs_names_find(&nm, s, "id4"), 3, "show_deleted: DELETED by id");
	is_int(hlfs_names_find(&nm, s, "gone"), 3, "show_deleted: DELETED by name");
	hlfs_names_free(&nm);
	is_int(hlfs_names_build(NULL, 0, false, &nm), 0, "empty listing");
	is_int(hlfs_names_find(&nm, NULL, "x"), -1, "nothing in an empty listing");
	hlfs_names_free(&nm);
	ok(!hlfs_name_safe(NULL), "NULL is not safe");
	ok(hlfs_name_safe("clinic a"), "space is fine");
	ok(!hlfs_name_safe("x\xef\xbf\xbdy"), "U+FFFD (a character the api could not keep) is not safe");
	return done_testing();
}
