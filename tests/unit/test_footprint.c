#include <malloc.h>
#include <stdlib.h>

#include "footprint.h"
#include "tap.h"

/* What glibc really hands out for one malloc(n): usable size plus header. */
static size_t real_cost(size_t n)
{
	void *p = malloc(n);
	size_t c = malloc_usable_size(p) + sizeof(size_t);
	free(p);
	return c;
}

int main(void)
{
	is_int(hlfs_alloc_cost(0), 0, "nothing allocated, nothing charged");
	is_int(hlfs_alloc_cost(1), 32, "the smallest chunk is 32 bytes");
	is_int(hlfs_alloc_cost(24), 32, "24 bytes still fit the smallest chunk");
	is_int(hlfs_alloc_cost(25), 48, "25 bytes need the next one");
	is_int(hlfs_alloc_cost(100), 112, "100 + header, rounded up to 16");
#if !defined(__SANITIZE_ADDRESS__)
	/* Under plain glibc the formula is what malloc does (ASan's allocator differs). */
	for (size_t n = 1; n < 2000; n += 7)
		if (real_cost(n) != hlfs_alloc_cost(n)) {
			ok(0, "malloc(%zu) costs %zu, charged %zu", n, real_cost(n),
			   hlfs_alloc_cost(n));
			break;
		}
	ok(1, "charges match glibc's malloc for 1..2000 bytes");
#else
	(void)real_cost;
	ok(1, "skipped under ASan: its allocator sizes chunks its own way");
#endif
	is_int(hlfs_str_cost(NULL), 0, "no string");
	is_int(hlfs_str_cost("abc"), 32, "a short string");

	/* A tree: each node and each of its strings is one allocation. */
	cJSON *j = cJSON_Parse("{\"DatastoreId\":\"0123456789abcdef0123456789abcdef\",\"n\":1}");
	size_t node = hlfs_alloc_cost(sizeof(cJSON));
	size_t want = node								    /* {} */
		      + node + hlfs_alloc_cost(sizeof("DatastoreId")) + hlfs_alloc_cost(33) /* id */
		      + node + hlfs_alloc_cost(2); /* "n": 1 */
	is_int(hlfs_json_cost(j), want, "a parsed tree: nodes, keys and string values");
	is_int(hlfs_json_cost(NULL), 0, "no tree");

	struct hl_datastore d = {.id = "a", .status = "ACTIVE", .raw = j};
	is_int(hlfs_datastore_cost(&d), 2 * 32 + want, "a datastore: its strings and tree");
	struct hl_datastore items[2] = {d, {.id = "b"}};
	struct hl_datastore_list l = {.items = items, .n = 2};
	is_int(hlfs_datastore_list_cost(&l),
	       hlfs_alloc_cost(sizeof(l)) + hlfs_alloc_cost(sizeof(items)) + 2 * 32 + want + 32,
	       "a listing: struct, array and every item");
	struct hl_tag tags[1] = {{"k", "v"}};
	struct hl_tag_list t = {.items = tags, .n = 1};
	is_int(hlfs_tag_list_cost(&t),
	       hlfs_alloc_cost(sizeof(t)) + hlfs_alloc_cost(sizeof(tags)) + 64, "a tag list");
	struct hl_job job = {.id = "j", .status = "COMPLETED"};
	is_int(hlfs_job_cost(&job), 64, "a job's strings");
	cJSON_Delete(j);
	return done_testing();
}
