#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "path.h"
#include "tap.h"

/* Copies s so that its NUL is the last readable byte before a PROT_NONE
 * page: any read past the terminator faults at once. */
static char *guarded;
static size_t page;

static const char *place(const char *s)
{
	size_t n = strlen(s) + 1;
	char *dst = guarded + page - n;
	memcpy(dst, s, n);
	return dst;
}

static int parse(const char *s, struct hlfs_path *r)
{
	return hlfs_path_parse(place(s), r);
}

struct pcase {
	const char *path;
	int rc;
	enum hlfs_node node;
	enum hlfs_dir dir;
	const char *store;
	const char *leaf;
	int field;   /* -1: not checked */
	int exports; /* -1: not checked */
};

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	guarded = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guarded == MAP_FAILED || mprotect(guarded + page, page, PROT_NONE) != 0) {
		diag("mmap failed");
		return 1;
	}

	static const struct pcase cases[] = {
	    {"/", 0, HLFS_N_ROOT, HLFS_D_ROOT, "", "", -1, -1},
	    {"/.stats", 0, HLFS_N_STATS, HLFS_D_ROOT, "", "", -1, -1},
	    {"/.error", 0, HLFS_N_ERROR, HLFS_D_ROOT, "", "", -1, -1},
	    {"/.stats/x", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/clinic-a", 0, HLFS_N_STORE, HLFS_D_ROOT, "clinic-a", "", -1, -1},
	    {"/clinic-a/status", 0, HLFS_N_FIELD, HLFS_D_STORE, "clinic-a", "", HLFS_F_STATUS, -1},
	    {"/clinic-a/datastore.json", 0, HLFS_N_FIELD, HLFS_D_STORE, "clinic-a", "", HLFS_F_JSON,
	     -1},
	    {"/s/created_at", 0, HLFS_N_FIELD, HLFS_D_STORE, "s", "", HLFS_F_CREATED_AT, -1},
	    {"/s/type_version", 0, HLFS_N_FIELD, HLFS_D_STORE, "s", "", HLFS_F_TYPE_VERSION, -1},
	    {"/s/name", 0, HLFS_N_FIELD, HLFS_D_STORE, "s", "", HLFS_F_NAME, -1},
	    {"/s/.error", 0, HLFS_N_ERROR, HLFS_D_STORE, "s", "", -1, -1},
	    {"/s/status/x", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/statu", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/statuss", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/tags", 0, HLFS_N_TAGS, HLFS_D_STORE, "s", "", -1, -1},
	    {"/s/tags/owner", 0, HLFS_N_TAG, HLFS_D_TAGS, "s", "owner", -1, -1},
	    {"/s/tags/a%2Fb%25c", 0, HLFS_N_TAG, HLFS_D_TAGS, "s", "a/b%c", -1, -1},
	    {"/s/tags/a%2fb", 0, HLFS_N_TAG, HLFS_D_TAGS, "s", "a/b", -1, -1},
	    {"/s/tags/a%41", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/tags/a%2", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/tags/%", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/tags/.error", 0, HLFS_N_ERROR, HLFS_D_TAGS, "s", "", -1, -1},
	    {"/s/tags/k/x", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/imports", 0, HLFS_N_JOBS, HLFS_D_STORE, "s", "", -1, 0},
	    {"/s/exports", 0, HLFS_N_JOBS, HLFS_D_STORE, "s", "", -1, 1},
	    {"/s/imports/new", 0, HLFS_N_NEW, HLFS_D_IMPORTS, "s", "", -1, 0},
	    {"/s/exports/new", 0, HLFS_N_NEW, HLFS_D_EXPORTS, "s", "", -1, 1},
	    {"/s/imports/latest", 0, HLFS_N_LATEST, HLFS_D_IMPORTS, "s", "", -1, 0},
	    {"/s/imports/.error", 0, HLFS_N_ERROR, HLFS_D_IMPORTS, "s", "", -1, 0},
	    {"/s/imports/0123456789abcdef0123456789abcdef", 0, HLFS_N_JOB, HLFS_D_IMPORTS, "s",
	     "0123456789abcdef0123456789abcdef", -1, 0},
	    {"/s/exports/a", 0, HLFS_N_JOB, HLFS_D_EXPORTS, "s", "a", -1, 1},
	    {"/s/imports/0123456789abcdef0123456789abcdef0", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/imports/bad*id", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/imports/.hidden", 0, HLFS_N_JOB, HLFS_D_IMPORTS, "s", ".hidden", -1, 0},
	    {"/s/imports/\xc3\xa9t\xc3\xa9", 0, HLFS_N_JOB, HLFS_D_IMPORTS, "s",
	     "\xc3\xa9t\xc3\xa9", -1, 0},
	    {"/s/imports/\xc3", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/imports/\xff", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/imports/j/x", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"/s/other", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"relative", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	    {"", -ENOENT, 0, 0, NULL, NULL, -1, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct hlfs_path r;
		int rc = parse(c->path, &r);
		is_int(rc, c->rc, "parse \"%s\" rc", c->path);
		if (rc != 0 || c->rc != 0)
			continue;
		is_int(r.node, c->node, "\"%s\" node", c->path);
		is_int(r.dir, c->dir, "\"%s\" dir", c->path);
		is_str(r.store, c->store, "\"%s\" store", c->path);
		is_str(r.leaf, c->leaf, "\"%s\" leaf", c->path);
		if (c->field >= 0)
			is_int(r.field, c->field, "\"%s\" field", c->path);
		if (c->exports >= 0)
			is_int(r.exports, c->exports, "\"%s\" exports", c->path);
	}

	/* Length limits: 255-byte components are fine, 256 is too long. */
	char longname[300];
	longname[0] = '/';
	memset(longname + 1, 'x', 255);
	longname[256] = '\0';
	struct hlfs_path r;
	is_int(parse(longname, &r), 0, "255-byte store component");
	is_int((int)strlen(r.store), 255, "store keeps all 255 bytes");
	longname[256] = 'x';
	longname[257] = '\0';
	is_int(parse(longname, &r), -ENAMETOOLONG, "256-byte component");

	/* Tag encoding round trip and bounds. */
	char enc[32], dec[32];
	is_int(hlfs_tag_encode("a/b%c", enc, sizeof(enc)), 0, "encode");
	is_str(enc, "a%2Fb%25c", "encoded name");
	is_int(hlfs_tag_decode(enc, strlen(enc), dec, sizeof(dec)), 0, "decode");
	is_str(dec, "a/b%c", "round trip");
	is_int(hlfs_tag_encode("abc", enc, 3), -ENAMETOOLONG, "encode needs room for NUL");
	is_int(hlfs_tag_encode("%", enc, 4), 0, "exact fit");
	is_int(hlfs_tag_encode("%", enc, 3), -ENAMETOOLONG, "one short");
	is_str(hlfs_field_name(HLFS_F_JSON), "datastore.json", "field name");

	/* <job-id>.files: a job's output directory, and paths below it. */
	is_int(parse("/s/exports/j1.files", &r), 0, "a .files directory");
	is_int(r.node, HLFS_N_FILES, ".files node");
	is_int(r.dir, HLFS_D_EXPORTS, ".files reports to exports/");
	is_str(r.leaf, "j1", "its job");
	is_str(r.sub, "", "the directory itself");
	ok(r.files_alt, "j1.files is also a job id (the name rule decides)");
	is_int(parse("/s/imports/j1.files/FAILURE/FAILURE.ndjson", &r), 0, "deeper path");
	is_int(r.node, HLFS_N_FILES, "deeper node");
	is_str(r.sub, "FAILURE/FAILURE.ndjson", "the path below");
	ok(!r.files_alt && !r.exports, "below it: never a job file");
	is_int(parse("/s/imports/.files", &r), 0, "\".files\" alone");
	is_int(r.node, HLFS_N_JOB, "is a job id like any other");
	is_int(parse("/s/imports/0123456789abcdef0123456789abcdef.files", &r), 0, "32+6 bytes");
	ok(r.node == HLFS_N_FILES && !r.files_alt, "a .files only: 38 characters are no job id");
	is_int(parse("/s/imports/j1/x", &r), -ENOENT, "below a job file: nothing");
	is_int(parse("/s/tags/j1.files/x", &r), -ENOENT, "below a tag: nothing");
	char deep[HLFS_SUB_MAX + 64] = "/s/imports/j.files/";
	size_t dl = strlen(deep);
	memset(deep + dl, 'a', HLFS_SUB_MAX + 1);
	deep[dl + HLFS_SUB_MAX + 1] = '\0';
	for (size_t i = dl + 200; i < dl + HLFS_SUB_MAX; i += 200)
		deep[i] = '/';
	is_int(parse(deep, &r), -ENAMETOOLONG, "longer than an S3 key");
	deep[dl + HLFS_SUB_MAX] = '\0';
	is_int(parse(deep, &r), 0, "an S3 key's length");
	return done_testing();
}
