#include <errno.h>
#include <pthread.h>

#include "scratch.h"
#include "tap.h"

#define D "store1/Patient"

static struct hlfs_scratch *mk(size_t files, size_t total, size_t file)
{
	struct hlfs_scratch_limits lim = {files, total, file};
	return hlfs_scratch_new(&lim);
}

/* The whole content of dir/name as a string (test sizes are small). */
static char *content(struct hlfs_scratch *s, const char *dir, const char *name)
{
	char *d = NULL;
	size_t n;
	if (hlfs_scratch_copy(s, dir, name, &d, &n))
		return NULL;
	return d;
}

static void test_basic(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	struct hlfs_scratch_file *f = NULL, *g = NULL;
	struct hlfs_scratch_stat st;
	char buf[64];

	ok(s != NULL, "new with defaults");
	is_int(hlfs_scratch_open(s, D, "4913", false, false, false, 10, &f), -ENOENT,
	       "open of an absent file without create");
	is_int(hlfs_scratch_stat(s, NULL, D, "4913", &st), -ENOENT, "stat absent");
	is_int(hlfs_scratch_open(s, D, "4913", true, true, false, 10, &f), 0, "create");
	is_int(hlfs_scratch_stat(s, f, NULL, NULL, &st), 0, "stat by handle");
	is_int(st.size, 0, "  empty");
	is_int(st.mtime, 10, "  mtime is the creation time");
	is_int(hlfs_scratch_open(s, D, "4913", true, true, false, 11, &g), -EEXIST, "O_EXCL");
	is_int(hlfs_scratch_write(s, f, "hello", 5, 0, 12), 5, "write");
	is_int(hlfs_scratch_write(s, f, " world", 6, 5, 13), 6, "append");
	is_int(hlfs_scratch_read(s, f, buf, sizeof(buf), 0), 11, "read all");
	ok(!memcmp(buf, "hello world", 11), "  bytes");
	is_int(hlfs_scratch_read(s, f, buf, 3, 6), 3, "read middle");
	ok(!memcmp(buf, "wor", 3), "  wor");
	is_int(hlfs_scratch_read(s, f, buf, 10, 11), 0, "read at EOF");
	is_int(hlfs_scratch_read(s, f, buf, 10, 1000), 0, "read past EOF");
	is_int(hlfs_scratch_read(s, f, buf, 10, -1), -EINVAL, "negative offset read");
	is_int(hlfs_scratch_write(s, f, "x", 1, -1, 14), -EINVAL, "negative offset write");
	is_int(hlfs_scratch_write(s, f, "H", 1, 0, 14), 1, "overwrite in place");
	is_int(hlfs_scratch_stat(s, NULL, D, "4913", &st), 0, "stat by name");
	is_int(st.size, 11, "  size unchanged by an overwrite");
	is_int(st.mtime, 14, "  mtime of the last write");
	is_int(hlfs_scratch_write(s, f, "", 0, 100, 99), 0, "empty write changes nothing");
	hlfs_scratch_stat(s, f, NULL, NULL, &st);
	is_int(st.size, 11, "  not even the size");

	char *c = content(s, D, "4913");
	is_str(c, "Hello world", "copy");
	free(c);

	/* the same name in another directory is another file */
	is_int(hlfs_scratch_open(s, "store1/Observation", "4913", false, false, false, 1, &g),
	       -ENOENT, "directories are separate");
	is_int(hlfs_scratch_open(s, "store2/Patient", "4913", true, true, false, 1, &g), 0,
	       "same name elsewhere");
	hlfs_scratch_close(s, g);

	/* reopen with O_TRUNC */
	is_int(hlfs_scratch_open(s, D, "4913", true, false, true, 20, &g), 0, "open O_TRUNC");
	hlfs_scratch_stat(s, f, NULL, NULL, &st);
	is_int(st.size, 0, "  truncated, seen through the other handle too");
	is_int(st.mtime, 20, "  mtime");
	hlfs_scratch_close(s, g);
	hlfs_scratch_close(s, f);
	is_int(hlfs_scratch_stat(s, NULL, D, "4913", &st), 0, "closing keeps a linked file");
	hlfs_scratch_free(s);
	hlfs_scratch_free(NULL);
	ok(1, "free(NULL)");
}

static void test_holes_and_truncate(void)
{
	struct hlfs_scratch *s = mk(0, 0, 100);
	struct hlfs_scratch_file *f;
	struct hlfs_scratch_stat st;
	char buf[100];

	hlfs_scratch_open(s, D, "sedAbC123", true, false, false, 1, &f);
	is_int(hlfs_scratch_write(s, f, "end", 3, 10, 2), 3, "write past the end");
	is_int(hlfs_scratch_read(s, f, buf, sizeof(buf), 0), 13, "size 13");
	ok(!memcmp(buf, "\0\0\0\0\0\0\0\0\0\0end", 13), "the hole reads as zeros");
	is_int(hlfs_scratch_truncate(s, f, NULL, NULL, 5, 3), 0, "ftruncate down");
	is_int(hlfs_scratch_truncate(s, NULL, D, "sedAbC123", 8, 4), 0, "truncate up by name");
	is_int(hlfs_scratch_read(s, f, buf, sizeof(buf), 0), 8, "size 8");
	ok(!memcmp(buf, "\0\0\0\0\0\0\0\0", 8), "grown part is zeros, not old bytes");
	hlfs_scratch_stat(s, f, NULL, NULL, &st);
	is_int(st.mtime, 4, "truncate sets mtime");
	is_int(hlfs_scratch_truncate(s, f, NULL, NULL, -1, 5), -EINVAL, "negative size");
	is_int(hlfs_scratch_truncate(s, f, NULL, NULL, 101, 5), -EFBIG, "over max_file");
	is_int(hlfs_scratch_truncate(s, f, NULL, NULL, 100, 5), 0, "exactly max_file");
	is_int(hlfs_scratch_truncate(s, NULL, D, "nope", 1, 5), -ENOENT, "truncate absent");
	is_int(hlfs_scratch_write(s, f, "x", 1, 100, 6), -EFBIG, "a write past max_file");
	is_int(hlfs_scratch_write(s, f, "x", 1, 99, 6), 1, "the last byte");
	is_int(hlfs_scratch_write(s, f, buf, 2, 99, 6), -EFBIG, "straddling max_file");
	hlfs_scratch_stat(s, f, NULL, NULL, &st);
	is_int(st.size, 100, "a refused write leaves the size");
	is_int(hlfs_scratch_write(s, f, buf, 1, (off_t)1 << 62, 7), -EFBIG, "huge offset");
	is_int(hlfs_scratch_write(s, f, buf, SIZE_MAX, 1, 7), -EFBIG, "offset + size overflows");
	is_int(hlfs_scratch_truncate(s, f, NULL, NULL, 0, 8), 0, "truncate to 0");
	size_t files, bytes;
	hlfs_scratch_usage(s, &files, &bytes);
	is_int(bytes, 0, "an empty file holds no memory");
	is_int(files, 1, "one file");
	hlfs_scratch_close(s, f);
	hlfs_scratch_free(s);
}

static void test_limits(void)
{
	struct hlfs_scratch *s = mk(3, 1000, 600);
	struct hlfs_scratch_file *a, *b, *c, *d;
	char big[700];
	size_t files, bytes;
	memset(big, 'b', sizeof(big));

	is_int(hlfs_scratch_open(s, D, "a", true, true, false, 1, &a), 0, "a");
	is_int(hlfs_scratch_open(s, D, "b", true, true, false, 1, &b), 0, "b");
	is_int(hlfs_scratch_open(s, D, "c", true, true, false, 1, &c), 0, "c");
	is_int(hlfs_scratch_open(s, D, "d", true, true, false, 1, &d), -ENOSPC,
	       "a fourth file is ENOSPC");
	is_int(hlfs_scratch_put(s, D, "d", "x", 1, 1), -ENOSPC, "put of a fourth too");
	is_int(hlfs_scratch_write(s, a, big, 601, 0, 2), -EFBIG, "one file over max_file");
	is_int(hlfs_scratch_write(s, a, big, 600, 0, 2), 600, "one file at max_file");
	is_int(hlfs_scratch_write(s, b, big, 400, 0, 2), 400, "second file fills the total");
	hlfs_scratch_usage(s, &files, &bytes);
	is_int(bytes, 1000, "1000 bytes held");
	ok(bytes <= 1000, "never more than max_total");
	is_int(hlfs_scratch_write(s, c, "x", 1, 0, 3), -ENOSPC, "the total is reached: ENOSPC");
	is_int(hlfs_scratch_read(s, c, big, 10, 0), 0, "  and nothing was written");
	is_int(hlfs_scratch_put(s, D, "c", "xy", 2, 3), -ENOSPC,
	       "put over the total (c is open, so both would be held)");
	/* Nothing is evicted to make room: another file's bytes stay. */
	char *x = content(s, D, "a");
	ok(x && strlen(x) == 600, "nothing was evicted");
	free(x);
	is_int(hlfs_scratch_unlink(s, D, "b"), 0, "unlink b (still open)");
	is_int(hlfs_scratch_write(s, c, "x", 1, 0, 4), -ENOSPC,
	       "an open unlinked file still counts");
	hlfs_scratch_close(s, b);
	is_int(hlfs_scratch_write(s, c, "x", 1, 0, 4), 1, "its last close frees the room");
	is_int(hlfs_scratch_open(s, D, "d", true, true, false, 1, &d), 0,
	       "and its name: a new file fits");
	hlfs_scratch_close(s, d);
	hlfs_scratch_close(s, a);
	hlfs_scratch_close(s, c);
	hlfs_scratch_usage(s, &files, &bytes);
	is_int(files, 3, "a, c, d");
	hlfs_scratch_free(s);

	/* growth headroom never pushes past the total */
	s = mk(0, 100, 100);
	hlfs_scratch_open(s, D, "g", true, false, false, 1, &a);
	int good = 1;
	for (int i = 0; i < 100; i++)
		if (hlfs_scratch_write(s, a, "z", 1, i, 1) != 1)
			good = 0;
	ok(good, "100 one-byte appends fit a total of 100");
	hlfs_scratch_usage(s, &files, &bytes);
	is_int(bytes, 100, "  exactly 100 held");
	is_int(hlfs_scratch_write(s, a, "z", 1, 100, 1), -EFBIG, "101st byte");
	hlfs_scratch_close(s, a);
	hlfs_scratch_free(s);
}

/* vim's :w with backupcopy=no: write 4913 (probe), delete it, rename the
 * original to a backup, write the new file, delete the backup. Scratch side. */
static void test_vim_flow(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	struct hlfs_scratch_file *f;
	const char *res = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n";

	is_int(hlfs_scratch_open(s, D, ".p1.json.swp", true, true, false, 1, &f), 0, "swap file");
	is_int(hlfs_scratch_write(s, f, "b0VIM 9.0", 9, 0, 1), 9, "swap written");
	struct hlfs_scratch_file *probe;
	is_int(hlfs_scratch_open(s, D, "4913", true, true, false, 2, &probe), 0, "4913 probe");
	hlfs_scratch_close(s, probe);
	is_int(hlfs_scratch_unlink(s, D, "4913"), 0, "4913 removed");
	/* the glue renames p1.json to p1.json~: the scratch becomes a copy */
	is_int(hlfs_scratch_put(s, D, "p1.json~", res, strlen(res), 3), 0, "backup = copy");
	char *c = content(s, D, "p1.json~");
	is_str(c, res, "  backup holds the resource");
	free(c);
	is_int(hlfs_scratch_unlink(s, D, "p1.json~"), 0, "backup removed");
	hlfs_scratch_close(s, f);
	is_int(hlfs_scratch_unlink(s, D, ".p1.json.swp"), 0, "swap removed at exit");
	size_t files, bytes;
	hlfs_scratch_usage(s, &files, &bytes);
	ok(files == 0 && bytes == 0, "nothing left");
	hlfs_scratch_free(s);
}

/* sed -i: create sedXXXXXX, write, (fchmod/fchown: glue), rename onto the
 * resource: the glue copies it out, PUTs, and unlinks it only on success. */
static void test_sed_flow(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	struct hlfs_scratch_file *f;
	const char *body = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":120.50}\n";

	is_int(hlfs_scratch_open(s, D, "sedAbC123", true, true, false, 1, &f), 0, "sed temp");
	is_int(hlfs_scratch_write(s, f, body, strlen(body), 0, 1), (long long)strlen(body),
	       "written");
	hlfs_scratch_close(s, f);
	char *d = NULL;
	size_t n = 0;
	is_int(hlfs_scratch_copy(s, D, "sedAbC123", &d, &n), 0, "copy for the PUT");
	is_int(n, strlen(body), "  length");
	ok(d && !memcmp(d, body, n) && d[n] == '\0', "  bytes as written, NUL-terminated");
	free(d);
	struct hlfs_scratch_stat st;
	is_int(hlfs_scratch_stat(s, NULL, D, "sedAbC123", &st), 0,
	       "a copy leaves the file (a failed PUT keeps the user's edit)");
	is_int(hlfs_scratch_unlink(s, D, "sedAbC123"), 0, "unlinked after the PUT");
	is_int(hlfs_scratch_copy(s, D, "sedAbC123", &d, &n), -ENOENT, "gone");
	is_int(hlfs_scratch_unlink(s, D, "sedAbC123"), -ENOENT, "unlink twice");
	hlfs_scratch_free(s);
}

static void test_rename(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	struct hlfs_scratch_file *a, *b;
	char buf[16];

	hlfs_scratch_put(s, D, "f.json.tmp", "new", 3, 1);
	hlfs_scratch_put(s, D, "other", "old", 3, 1);
	is_int(hlfs_scratch_rename(s, D, "nope", D, "x", 2), -ENOENT, "rename of an absent file");
	is_int(hlfs_scratch_rename(s, D, "f.json.tmp", D, "f.json.tmp", 2), 0, "onto itself");
	char *c = content(s, D, "f.json.tmp");
	is_str(c, "new", "  unchanged");
	free(c);
	is_int(hlfs_scratch_rename(s, D, "f.json.tmp", D, "moved", 2), 0, "rename");
	is_int(hlfs_scratch_copy(s, D, "f.json.tmp", &c, &(size_t){0}), -ENOENT, "old name gone");
	c = content(s, D, "moved");
	is_str(c, "new", "new name has the bytes");
	free(c);

	/* onto an existing name: replaced, but a handle open on it keeps its bytes */
	is_int(hlfs_scratch_open(s, D, "other", false, false, false, 3, &b), 0, "open target");
	is_int(hlfs_scratch_rename(s, D, "moved", D, "other", 4), 0, "rename over it");
	c = content(s, D, "other");
	is_str(c, "new", "the name now has the source's bytes");
	free(c);
	is_int(hlfs_scratch_read(s, b, buf, sizeof(buf), 0), 3, "old handle still reads");
	ok(!memcmp(buf, "old", 3), "  the replaced bytes");
	is_int(hlfs_scratch_write(s, b, "OLD", 3, 0, 5), 3, "and may write them");
	c = content(s, D, "other");
	is_str(c, "new", "  without touching the new file");
	free(c);
	hlfs_scratch_close(s, b);

	/* across directories */
	is_int(hlfs_scratch_rename(s, D, "other", "store1/Observation", "o", 6), 0,
	       "rename to another directory");
	char **names;
	long n = hlfs_scratch_list(s, D, &names);
	is_int(n, 0, "source directory empty");
	hlfs_scratch_names_free(names, (size_t)n);
	n = hlfs_scratch_list(s, "store1/Observation", &names);
	is_int(n, 1, "target directory has it");
	if (n == 1)
		is_str(names[0], "o", "  named o");
	hlfs_scratch_names_free(names, (size_t)n);

	/* a handle follows its file through a rename */
	is_int(hlfs_scratch_open(s, "store1/Observation", "o", false, false, false, 7, &a), 0,
	       "open o");
	is_int(hlfs_scratch_rename(s, "store1/Observation", "o", D, "back", 7), 0, "rename o");
	is_int(hlfs_scratch_write(s, a, "NEW", 3, 0, 8), 3, "write through the handle");
	c = content(s, D, "back");
	is_str(c, "NEW", "the renamed file changed");
	free(c);
	hlfs_scratch_close(s, a);
	size_t files, bytes;
	hlfs_scratch_usage(s, &files, &bytes);
	is_int(files, 1, "one file left after all that");
	hlfs_scratch_free(s);
}

static void test_put_and_list(void)
{
	struct hlfs_scratch *s = mk(0, 0, 10);
	struct hlfs_scratch_file *f;
	char buf[16];
	char **names;

	is_int(hlfs_scratch_put(s, D, "p1.json~", "0123456789", 10, 1), 0, "put 10 bytes");
	is_int(hlfs_scratch_put(s, D, "p1.json~", "01234567890", 11, 1), -EFBIG, "put 11");
	is_int(hlfs_scratch_put(s, D, "empty", "", 0, 1), 0, "put empty");
	is_int(hlfs_scratch_open(s, D, "p1.json~", false, false, false, 2, &f), 0, "open it");
	is_int(hlfs_scratch_put(s, D, "p1.json~", "abc", 3, 3), 0, "put replaces");
	is_int(hlfs_scratch_read(s, f, buf, sizeof(buf), 0), 10, "the open handle keeps the old");
	hlfs_scratch_close(s, f);
	char *c = content(s, D, "p1.json~");
	is_str(c, "abc", "the name has the new");
	free(c);
	hlfs_scratch_put(s, "x/Patient", "elsewhere", "e", 1, 1);

	long n = hlfs_scratch_list(s, D, &names);
	is_int(n, 2, "two names in D");
	int seen = 0;
	for (long i = 0; i < n; i++)
		seen |= !strcmp(names[i], "p1.json~") ? 1 : !strcmp(names[i], "empty") ? 2 : 4;
	is_int(seen, 3, "  exactly p1.json~ and empty");
	hlfs_scratch_names_free(names, (size_t)n);
	n = hlfs_scratch_list(s, "nowhere", &names);
	is_int(n, 0, "an unknown directory lists nothing");
	hlfs_scratch_names_free(names, (size_t)n);
	hlfs_scratch_names_free(NULL, 0);

	/* hostile names are just bytes */
	const char *odd[] = {"a\nb", "\xff\xfe", "%2F", "..json", "sed\x01", "\xc3\xa9"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		is_int(hlfs_scratch_put(s, D, odd[i], "v", 1, 1), 0, "odd name %zu", i);
		c = content(s, D, odd[i]);
		is_str(c, "v", "  read back");
		free(c);
	}
	/* a directory key and name are compared whole, not as a joined string */
	hlfs_scratch_put(s, "a/b", "c", "1", 1, 1);
	is_int(hlfs_scratch_copy(s, "a", "b/c", &c, &(size_t){0}), -ENOENT,
	       "dir a/b + c is not dir a + b/c");
	hlfs_scratch_free(s);
}

/* Handles left open at unmount are freed with the registry (valgrind/ASan
 * check this test for leaks). */
static void test_free_with_open(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	struct hlfs_scratch_file *a, *b;
	hlfs_scratch_open(s, D, "a", true, false, false, 1, &a);
	hlfs_scratch_write(s, a, "aaaa", 4, 0, 1);
	hlfs_scratch_open(s, D, "b", true, false, false, 1, &b);
	hlfs_scratch_write(s, b, "bbbb", 4, 0, 1);
	hlfs_scratch_unlink(s, D, "b");
	hlfs_scratch_free(s);
	ok(1, "freed with a linked and an unlinked file open");
}

struct worker {
	struct hlfs_scratch *s;
	int id;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char name[32], buf[64];
	for (int i = 0; i < 300; i++) {
		struct hlfs_scratch_file *f;
		snprintf(name, sizeof(name), "t%d-%d", w->id, i % 5);
		if (hlfs_scratch_open(w->s, D, name, true, false, true, i, &f)) {
			w->errors++;
			continue;
		}
		int len = snprintf(buf, sizeof(buf), "%d:%d", w->id, i);
		if (hlfs_scratch_write(w->s, f, buf, (size_t)len, 0, i) != len)
			w->errors++;
		char back[64];
		if (hlfs_scratch_read(w->s, f, back, sizeof(back), 0) != len ||
		    memcmp(back, buf, (size_t)len))
			w->errors++;
		/* a shared name all threads fight over */
		hlfs_scratch_put(w->s, D, "shared", buf, (size_t)len, i);
		hlfs_scratch_rename(w->s, D, name, D, "shared", i);
		hlfs_scratch_close(w->s, f);
		hlfs_scratch_unlink(w->s, D, "shared");
		char **names;
		long n = hlfs_scratch_list(w->s, D, &names);
		if (n < 0)
			w->errors++;
		else
			hlfs_scratch_names_free(names, (size_t)n);
	}
	return NULL;
}

static void test_threads(void)
{
	struct hlfs_scratch *s = mk(0, 0, 0);
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){s, i, 0};
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	int errors = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
	}
	is_int(errors, 0, "8 threads x 300 rounds: every read sees its own write");
	size_t files, bytes;
	hlfs_scratch_usage(s, &files, &bytes);
	char **names;
	long n = hlfs_scratch_list(s, D, &names);
	is_int((long long)files, n, "files counted = files listed (no handle left open)");
	hlfs_scratch_names_free(names, (size_t)n);
	ok(bytes <= files * 64, "bytes bounded by what is held");
	hlfs_scratch_free(s);
}

/* Random operations against a model of files, names and handles (fixed seed):
 * contents, sizes and names must always agree. */
#define MF 8192 /* model files at most */
struct mfile {
	char data[256];
	size_t len;
};

static unsigned rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 16) & 0x7fff;
}

static void test_model(void)
{
	static const char *names[] = {"a", "b", ".c.swp", "4913"};
	struct hlfs_scratch *s = mk(0, 0, 256);
	static struct mfile files[MF];
	int name_of[4] = {-1, -1, -1, -1}; /* model file per name */
	struct {
		struct hlfs_scratch_file *f;
		int mf;
	} h[6] = {{0}};
	int nfiles = 0, bad = 0, step;
	unsigned st = 42;

	for (step = 0; step < 20000 && nfiles < MF - 2 && !bad; step++) {
		int k = (int)(rnd(&st) % 4), hi = (int)(rnd(&st) % 6);
		char buf[256];
		switch (rnd(&st) % 7) {
		case 0: /* open, creating */
			if (h[hi].f)
				break;
			if (hlfs_scratch_open(s, D, names[k], true, false, false, 1, &h[hi].f)) {
				bad = 1;
				break;
			}
			if (name_of[k] < 0) {
				memset(&files[nfiles], 0, sizeof(files[0]));
				name_of[k] = nfiles++;
			}
			h[hi].mf = name_of[k];
			break;
		case 1: /* write through a handle */
			if (h[hi].f) {
				size_t off = rnd(&st) % 200, n = rnd(&st) % 50 + 1;
				for (size_t i = 0; i < n; i++)
					buf[i] = (char)('a' + rnd(&st) % 26);
				struct mfile *m = &files[h[hi].mf];
				if (hlfs_scratch_write(s, h[hi].f, buf, n, (off_t)off, 2) !=
				    (ssize_t)n) {
					bad = 2;
					break;
				}
				if (off > m->len)
					memset(m->data + m->len, 0, off - m->len);
				memcpy(m->data + off, buf, n);
				if (off + n > m->len)
					m->len = off + n;
			}
			break;
		case 2: /* close */
			if (h[hi].f) {
				hlfs_scratch_close(s, h[hi].f);
				h[hi].f = NULL;
			}
			break;
		case 3: /* unlink */
			if (hlfs_scratch_unlink(s, D, names[k]) != (name_of[k] < 0 ? -ENOENT : 0))
				bad = 3;
			name_of[k] = -1;
			break;
		case 4: { /* rename */
			int to = (int)(rnd(&st) % 4);
			int want = name_of[k] < 0 ? -ENOENT : 0;
			if (hlfs_scratch_rename(s, D, names[k], D, names[to], 3) != want)
				bad = 4;
			if (!want && to != k) {
				name_of[to] = name_of[k];
				name_of[k] = -1;
			}
			break;
		}
		case 5: { /* truncate by name */
			size_t n = rnd(&st) % 100;
			int want = name_of[k] < 0 ? -ENOENT : 0;
			if (hlfs_scratch_truncate(s, NULL, D, names[k], (off_t)n, 4) != want)
				bad = 5;
			if (!want) {
				struct mfile *m = &files[name_of[k]];
				if (n > m->len)
					memset(m->data + m->len, 0, n - m->len);
				m->len = n;
			}
			break;
		}
		case 6: { /* put: a new file under the name */
			size_t n = rnd(&st) % 30;
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)('A' + rnd(&st) % 26);
			if (hlfs_scratch_put(s, D, names[k], buf, n, 5)) {
				bad = 6;
				break;
			}
			memcpy(files[nfiles].data, buf, n);
			files[nfiles].len = n;
			name_of[k] = nfiles++;
			break;
		}
		}
		/* every handle and every name shows its model file */
		for (int i = 0; i < 6 && !bad; i++)
			if (h[i].f) {
				struct mfile *m = &files[h[i].mf];
				if (hlfs_scratch_read(s, h[i].f, buf, sizeof(buf), 0) !=
					(ssize_t)m->len ||
				    memcmp(buf, m->data, m->len))
					bad = 10;
			}
		for (int i = 0; i < 4 && !bad; i++) {
			struct hlfs_scratch_stat sst;
			int rc = hlfs_scratch_stat(s, NULL, D, names[i], &sst);
			if (name_of[i] < 0 ? rc != -ENOENT
					   : (rc || sst.size != files[name_of[i]].len))
				bad = 11;
		}
		if (bad)
			diag("step %d: check %d failed", step, bad);
	}
	is_int(bad, 0, "random operations agree with the model");
	is_int(step, 20000, "all 20000 steps ran");
	ok(nfiles > 10, "the model went through many files (%d)", nfiles);
	for (int i = 0; i < 6; i++)
		hlfs_scratch_close(s, h[i].f);
	size_t nf, nb;
	hlfs_scratch_usage(s, &nf, &nb);
	int named = 0;
	for (int i = 0; i < 4; i++)
		named += name_of[i] >= 0;
	is_int(nf, named, "after closing every handle only named files are held");
	hlfs_scratch_free(s);
}

int main(void)
{
	test_basic();
	test_holes_and_truncate();
	test_limits();
	test_vim_flow();
	test_sed_flow();
	test_rename();
	test_put_and_list();
	test_free_with_open();
	test_threads();
	test_model();
	return done_testing();
}
