/* The .error records and hlfs_record(), the one place a result is recorded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errfile.h"
#include "mount.h"
#include "tap.h"

static void text(struct hlfs_fs *fs, const char *key, char *out, size_t n)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	ok(hlfs_errfile_text(fs->errors, key, &b) == HL_ERR_OK, "text of %s", key);
	snprintf(out, n, "%.*s", (int)b.len, b.data ? b.data : "");
	hl_buf_free(&b);
}

int main(void)
{
	struct hlfs_log log;
	struct hlfs_fs fs;
	struct hlfs_res r;
	char buf[2048], key[HLFS_DIRKEY_MAX];
	memset(&fs, 0, sizeof(fs));
	hlfs_log_init(&log, true, false);
	fs.log = &log;
	fs.errors = hlfs_errfile_new();
	if (!ok(fs.errors != NULL, "records"))
		return done_testing();

	hlfs_dir_key(HLFS_D_ROOT, "s1", key);
	is_str(key, "/", "the root's key");
	hlfs_dir_key(HLFS_D_STORE, "s1", key);
	is_str(key, "s1", "a store's");
	hlfs_dir_key(HLFS_D_EXPORTS, "s1", key);
	is_str(key, "s1/exports", "exports/'s");

	hlfs_res_init(&r);
	is_int(hlfs_record(&fs, &r), 0, "a success records nothing and is 0");
	is_int(hlfs_res_errno(&r, -ENOENT), -ENOENT, "a plain ENOENT");
	is_int(hlfs_record(&fs, &r), -ENOENT, "is -ENOENT");
	text(&fs, "/", buf, sizeof(buf));
	is_str(buf, "", "and recorded nowhere");

	is_int(hlfs_res_fail(&r, EACCES, "s1/imports", "read %s: %s", "j1", "Denied:\ta\nb"),
	       -EACCES, "a failure with a reason");
	is_int(hlfs_record(&fs, &r), -EACCES, "is recorded and returned");
	text(&fs, "s1/imports", buf, sizeof(buf));
	is_str(buf, "read j1: Denied: a b\n", "one line, control characters made spaces");
	text(&fs, "s1", buf, sizeof(buf));
	is_str(buf, "", "only in its own directory");
	hlfs_res_fail(&r, EIO, "s1/imports", "read j2: later");
	hlfs_record(&fs, &r);
	text(&fs, "s1/imports", buf, sizeof(buf));
	is_str(buf, "read j2: later\n", "the last failure replaces the one before");

	/* The bound: the oldest records go first. */
	for (int i = 0; i < 4096; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		hlfs_res_fail(&r, EIO, key, "n%d", i);
		hlfs_record(&fs, &r);
	}
	text(&fs, "s1/imports", buf, sizeof(buf));
	is_str(buf, "", "4096 newer records pushed the oldest out");
	text(&fs, "k0", buf, sizeof(buf));
	is_str(buf, "n0\n", "the oldest of those is kept");
	text(&fs, "k4095", buf, sizeof(buf));
	is_str(buf, "n4095\n", "and the newest");
	hlfs_errfile_free(fs.errors);
	hlfs_errfile_free(NULL);
	return done_testing();
}
