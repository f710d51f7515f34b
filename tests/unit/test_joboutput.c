/* The pure part of joboutput: what a path below <job>.files/ is, and what a
 * directory there lists, over a listing made by hand. */
#include <stdlib.h>
#include <string.h>

#include "joboutput.h"
#include "tap.h"

struct seen {
	char names[16][64];
	long objs[16];
	int n;
	int stop_at;
};

static int collect(void *ctx, const char *name, long obj)
{
	struct seen *s = ctx;
	strncpy(s->names[s->n], name, sizeof(s->names[0]) - 1);
	s->objs[s->n] = obj;
	s->n++;
	return s->n == s->stop_at;
}

int main(void)
{
	/* Sorted bytewise, as fetch leaves them. */
	static const char *const keys[] = {
	    "out/j-FHIR_EXPORT-1/FAILURE/FAILURE.ndjson",
	    "out/j-FHIR_EXPORT-1/Observation.ndjson",
	    "out/j-FHIR_EXPORT-1/Patient.ndjson",
	    "out/j-FHIR_EXPORT-1/SUCCESS/SUCCESS.ndjson",
	    "out/j-FHIR_EXPORT-1/SUCCESS/x/deep.ndjson",
	    "out/j-FHIR_EXPORT-1/bad//name",
	    "out/j-FHIR_EXPORT-1/dot/../up",
	    "out/j-FHIR_EXPORT-1/manifest.json",
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	struct hl_s3_object objs[8];
	memset(objs, 0, sizeof(objs));
	for (size_t i = 0; i < n; i++)
		objs[i].key = (char *)keys[i];
	struct hlfs_files f = {.bucket = "b", .folder = "out/j-FHIR_EXPORT-1/", .time = -1};
	f.list.objects = objs;
	f.list.n_objects = n;

	size_t i = 99;
	is_int(hlfs_files_find(&f, "", &i), HLFS_FILES_DIR, "the .files directory");
	is_int(hlfs_files_find(&f, "Patient.ndjson", &i), HLFS_FILES_OBJECT, "an object");
	is_int((int)i, 2, "its index");
	is_int(hlfs_files_find(&f, "SUCCESS", &i), HLFS_FILES_DIR, "a key prefix is a directory");
	is_int(hlfs_files_find(&f, "SUCCESS/x", &i), HLFS_FILES_DIR, "nested");
	is_int(hlfs_files_find(&f, "SUCCESS/x/deep.ndjson", &i), HLFS_FILES_OBJECT, "deep object");
	is_int(hlfs_files_find(&f, "SUCC", &i), HLFS_FILES_NONE, "a part of a name is nothing");
	is_int(hlfs_files_find(&f, "Patient", &i), HLFS_FILES_NONE, "nor is a name's stem");
	is_int(hlfs_files_find(&f, "bad", &i), HLFS_FILES_NONE, "only unreachable keys below");
	is_int(hlfs_files_find(&f, "dot", &i), HLFS_FILES_NONE, "\"..\" is no component");
	is_int(hlfs_files_find(&f, "zzz", &i), HLFS_FILES_NONE, "past the last key");

	struct seen s = {.stop_at = -1};
	hlfs_files_each(&f, "", collect, &s);
	static const char *const top[] = {"FAILURE", "Observation.ndjson", "Patient.ndjson",
					  "SUCCESS", "manifest.json"};
	is_int(s.n, 5, "top level: each directory once, unreachable keys left out");
	for (int k = 0; k < s.n && k < 5; k++)
		is_str(s.names[k], top[k], "entry %d", k);
	ok(s.objs[0] == -1 && s.objs[1] == 1 && s.objs[3] == -1 && s.objs[4] == 7,
	   "directories have no object, objects their index");

	memset(&s, 0, sizeof(s));
	s.stop_at = -1;
	hlfs_files_each(&f, "SUCCESS", collect, &s);
	is_int(s.n, 2, "SUCCESS/: a file and a directory");
	is_str(s.names[0], "SUCCESS.ndjson", "its file");
	is_str(s.names[1], "x", "its directory");

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	hlfs_files_each(&f, "", collect, &s);
	is_int(s.n, 2, "stops when the callback says so");

	struct hlfs_files empty = {.bucket = "b", .folder = "p/", .time = -1};
	memset(&s, 0, sizeof(s));
	s.stop_at = -1;
	hlfs_files_each(&empty, "", collect, &s);
	is_int(s.n, 0, "no objects: an empty directory");
	is_int(hlfs_files_find(&empty, "", &i), HLFS_FILES_DIR, "which exists");
	return done_testing();
}
