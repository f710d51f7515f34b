#include <errno.h>
#include <string.h>

#include "keys.h"
#include "tap.h"

static void round_trip(struct hlfs_key k, const char *want)
{
	char out[HLFS_KEY_MAX];
	struct hlfs_key p;
	size_t len = 0;
	is_int(hlfs_key_format(&k, out, sizeof(out)), 0, "format %s", want);
	is_str(out, want, "as DESIGN-NOTES.md says");
	is_int(hlfs_key_parse(out, &p, &len), 0, "parse %s", want);
	is_int((int)p.kind, (int)k.kind, "its kind");
	ok(p.exports == k.exports, "its side");
	if (k.ds_id) {
		is_int((int)len, (int)strlen(k.ds_id), "its store id's length");
		ok(!strncmp(p.ds_id, k.ds_id, len), "its store id");
	}
	if (k.job_id)
		is_str(p.job_id, k.job_id, "its job id");
}

int main(void)
{
	const char *id = "0123456789abcdef0123456789abcdef";
	round_trip((struct hlfs_key){.kind = HLFS_K_LISTING}, "L");
	round_trip((struct hlfs_key){.kind = HLFS_K_DATASTORE, .ds_id = id},
		   "D/0123456789abcdef0123456789abcdef");
	round_trip((struct hlfs_key){.kind = HLFS_K_TAGS, .ds_id = "s1"}, "T/s1");
	round_trip((struct hlfs_key){.kind = HLFS_K_KERNEL, .ds_id = "s1"}, "K/s1");
	round_trip((struct hlfs_key){.kind = HLFS_K_JOBLIST, .ds_id = "s1"}, "J/i/s1");
	round_trip((struct hlfs_key){.kind = HLFS_K_JOBLIST, .ds_id = "s1", .exports = true},
		   "J/e/s1");
	round_trip((struct hlfs_key){.kind = HLFS_K_JOB, .ds_id = "s1", .job_id = "job-9"},
		   "j/i/s1/job-9");
	round_trip(
	    (struct hlfs_key){.kind = HLFS_K_JOB, .ds_id = id, .exports = true, .job_id = id},
	    "j/e/0123456789abcdef0123456789abcdef/0123456789abcdef0123456789abcdef");
	round_trip((struct hlfs_key){.kind = HLFS_K_FILES, .ds_id = "s1", .exports = true,
				     .job_id = "job-9"},
		   "F/e/s1/job-9");

	/* The longest key fits HLFS_KEY_MAX; a buffer too small is refused whole. */
	char small[8] = "xxxxxxx";
	struct hlfs_key k = {.kind = HLFS_K_DATASTORE, .ds_id = id};
	is_int(hlfs_key_format(&k, small, sizeof(small)), -ENAMETOOLONG, "too small a buffer");
	is_str(small, "", "leaves an empty key, never a prefix of another");

	static const char *const bad[] = {"",	   "X",	   "D/",    "D",      "Q/x",
					  "J/x/s", "J/i/", "j/i/s", "j/i//j", "j/i/s/",
					  "j/s/x", "LL",   "K/",    "F/i/s"};
	struct hlfs_key p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(hlfs_key_parse(bad[i], &p, NULL), -EINVAL, "\"%s\" is no key", bad[i]);
	return done_testing();
}
