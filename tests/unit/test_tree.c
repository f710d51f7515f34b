/* The glue through its seam (the hlfs_glue library): hlfs_do_* against a
 * scripted loopback server, with what each costs in requests, the one
 * result value each gives, and where .error records it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "errfile.h"
#include "open.h"
#include "seam.h"
#include "tree.h"
#include "writes.h"

static void test_stat_and_read(struct world *w)
{
	struct hlfs_res r;
	struct stat st;
	char buf[4096], op[80];
	int before = fake_requests(w->srv);
	is_int(hlfs_do_getattr(&w->fs, "/", &st, NULL, &r), 0, "stat /");
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "a directory, owner-only");
	is_int(fake_requests(w->srv), before, "stat / costs no request");

	static const struct fake_resp list[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastorePropertiesList\":[" PROPS "]}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastoreProperties\":" PROPS "}", 0},
	};
	fake_script(w->srv, list, 2);
	is_int(hlfs_do_getattr(&w->fs, "/clinic/status", &st, NULL, &r), 0, "stat clinic/status");
	is_int(r.err, 0, "a success is a result without errno");
	is_int((int)st.st_size, 7, "its size is that of ACTIVE\\n");
	is_int(fake_requests(w->srv), before + 1, "one request: the listing");
	is_str(op_of(w, before, op, sizeof(op)), "ListFHIRDatastores", "which is a List");

	is_int(cat(w, "/clinic/status", buf, sizeof(buf), &r), 0, "read clinic/status");
	is_str(buf, "ACTIVE\n", "its bytes");
	is_int(fake_requests(w->srv), before + 2, "a read describes the store once");
	is_str(op_of(w, before + 1, op, sizeof(op)), "DescribeFHIRDatastore", "a Describe");
	is_int(cat(w, "/clinic/status", buf, sizeof(buf), &r), 0, "read it again");
	is_int(fake_requests(w->srv), before + 2, "within attr_ttl it costs nothing");

	is_int(hlfs_do_getattr(&w->fs, "/clinic/nothing", &st, NULL, &r), -ENOENT, "no such file");
	is_int(r.err, ENOENT, "ENOENT");
	is_str(r.dir, "", "a lookup that finds nothing is not recorded");
}

static void test_job_read_failure(struct world *w)
{
	struct hlfs_res r;
	char buf[4096];
	static const struct fake_resp denied[] = {
	    {FAKE_ANSWER, 400, "Bad Request", NULL, DENIED, 0},
	    {FAKE_ANSWER, 400, "Bad Request", NULL, DENIED, 0},
	};
	fake_script(w->srv, denied, 2);
	is_int(cat(w, "/clinic/imports/" JOB_ID, buf, sizeof(buf), &r), -EACCES,
	       "a job denied to list and to describe is EACCES");
	is_str(r.dir, DS_ID "/imports", "its reason belongs to imports/.error");
	ok(strstr(r.why, "read " JOB_ID ": AccessDeniedException: not allowed") != NULL,
	   "what, which entry and why: %s", r.why);
	is_int(cat(w, "/clinic/imports/.error", buf, sizeof(buf), &r), 0, "read imports/.error");
	ok(strstr(buf, "AccessDeniedException") && buf[strlen(buf) - 1] == '\n' &&
	       !strchr(buf, '\n')[1],
	   "one line with the reason: %s", buf);
	is_int(cat(w, "/clinic/.error", buf, sizeof(buf), &r), 0, "read the store's .error");
	is_str(buf, "", "the store's .error stays empty");
}

static void test_long_reason(struct world *w)
{
	struct hlfs_res r;
	static char body[1024], msg[401], buf[4096];
	memset(msg, 'x', 400); /* past the 255 bytes reasons were cut at, within the api's 512 */
	msg[400] = '\0';
	snprintf(body, sizeof(body), "{\"__type\":\"ValidationException\",\"message\":\"%s\"}",
		 msg);
	const struct fake_resp bad[] = {{FAKE_ANSWER, 400, "Bad Request", NULL, body, 0}};
	fake_script(w->srv, bad, 1);
	is_int(cat(w, "/clinic/tags/k", buf, sizeof(buf), &r), -EINVAL,
	       "a tag list refused is EINVAL");
	is_str(r.dir, DS_ID "/tags", "recorded in tags/.error");
	ok(strstr(r.why, msg) != NULL, "the 400-byte message is whole in the result");
	is_int(cat(w, "/clinic/tags/.error", buf, sizeof(buf), &r), 0, "read tags/.error");
	ok(strstr(buf, msg) != NULL, "and whole in .error (%zu bytes)", strlen(buf));
}

static void test_tag_write(struct world *w)
{
	struct hlfs_res r;
	struct hlfs_fh *fh = NULL;
	struct stat st;
	char op[80];
	static const struct fake_resp tagged[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"Tags\":[]}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{}", 0},
	};
	fake_script(w->srv, tagged, 2);
	int before = fake_requests(w->srv);
	is_int(hlfs_do_open(&w->fs, "/clinic/tags/env", O_WRONLY | O_CREAT, true, &fh, &r), 0,
	       "create tags/env");
	is_int(hlfs_do_getattr(&w->fs, "/clinic/tags/env", &st, NULL, &r), 0, "stat it");
	ok(st.st_size == 0 && (st.st_mode & 0777) == 0600, "new and unset: empty, 0600");
	is_int(fake_requests(w->srv), before, "no request yet");
	is_int(hlfs_do_write(&w->fs, fh, "prod\n", 5, 0, &r), 5, "write a line");
	is_int(fake_requests(w->srv), before + 1, "the newline sets it: one request");
	is_str(op_of(w, before, op, sizeof(op)), "TagResource", "TagResource");
	const char *b = fake_body(w->srv, before);
	ok(b && strstr(b, "\"prod\"") != NULL, "the value without its newline");
	hlfs_do_release(&w->fs, fh, &r);
	is_int(r.err, 0, "release has nothing left to do");
	is_int(fake_requests(w->srv), before + 1, "and makes no request");
}

static void test_ro_refusals(struct world *ro)
{
	struct hlfs_res r;
	char buf[4096];
	int before = fake_requests(ro->srv);
	is_int(hlfs_do_mkdir(&ro->fs, "/newstore", &r), -EROFS, "mkdir on ro");
	is_str(r.dir, "/", "recorded in /.error");
	is_str(r.why, "mkdir newstore: read-only mount", "with why");
	hlfs_record(&ro->fs, &r);
	is_int(hlfs_do_refuse(&ro->fs, "/", "rename", &r), -EROFS, "rename on ro");
	is_str(r.why, "rename /: read-only mount", "with why");
	hlfs_record(&ro->fs, &r);
	is_int(hlfs_do_truncate(&ro->fs, "/.stats", NULL, 0, &r), -EROFS, "truncate on ro");
	is_str(r.dir, "", "the kernel's own refusal: not recorded");
	is_int(fake_requests(ro->srv), before, "no refusal costs a request");
	is_int(cat(ro, "/.error", buf, sizeof(buf), &r), 0, "read /.error");
	is_str(buf, "rename /: read-only mount\n", "the last refusal");
}

int main(void)
{
	seam_env();

	static struct fake_srv srv;
	struct world w, ro;
	if (!ok(fake_start(&srv), "fake server up") || !ok(world_up(&w, &srv, false), "a mount"))
		return done_testing();
	test_stat_and_read(&w);
	test_job_read_failure(&w);
	test_long_reason(&w);
	test_tag_write(&w);
	world_down(&w);
	if (ok(world_up(&ro, &srv, true), "an ro mount")) {
		test_ro_refusals(&ro);
		world_down(&ro);
	}
	fake_stop(&srv);
	return done_testing();
}
