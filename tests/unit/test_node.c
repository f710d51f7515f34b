/* A node's content through the seam: one function for stat and for read,
 * what each costs, and that a read never uses up a job's first-open flag
 * (only a kernel open, in ops.c, does). */
#include <errno.h>
#include <string.h>

#include "node.h"
#include "resolve.h"
#include "seam.h"

#define JOB                                                                                  \
	"{\"JobId\":\"" JOB_ID "\",\"JobStatus\":\"COMPLETED\",\"SubmitTime\":1705322096.5," \
	"\"DatastoreId\":\"" DS_ID "\",\"InputDataConfig\":{\"S3Uri\":\"s3://in/x\"}}"

/* The content of path as asked for; n and c released by the caller. */
static int content(struct world *w, const char *path, enum hlfs_want want, struct hlfs_treenode *n,
		   struct hlfs_content *c, struct hlfs_res *r)
{
	int64_t deadline = hlfs_deadline(&w->fs);
	hlfs_content_init(c);
	int rc = hlfs_resolve(&w->fs, path, deadline, n, r);
	if (rc == 0) {
		hlfs_content_fini(c);
		rc = hlfs_node_content(&w->fs, n, deadline, want, c, r);
	}
	is_int(rc, -r->err, "%s: the result says what the call returns", path);
	return rc;
}

static void done_with(struct hlfs_treenode *n, struct hlfs_content *c)
{
	hlfs_content_fini(c);
	hlfs_node_fini(n);
}

int main(void)
{
	static struct fake_srv srv;
	struct world w;
	struct hlfs_treenode n;
	struct hlfs_content c;
	struct hlfs_res r;
	seam_env();
	if (!ok(fake_start(&srv), "fake server up") || !ok(world_up(&w, &srv, false), "a mount"))
		return done_testing();
	static const struct fake_resp script[] = {
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"DatastorePropertiesList\":[" PROPS "]}", 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"ImportJobPropertiesList\":[" JOB "]}", 0},
	};
	fake_script(&srv, script, 2);

	const char *job = "/clinic/imports/" JOB_ID;
	is_int(content(&w, job, HLFS_FOR_STAT, &n, &c, &r), 0, "stat a job");
	is_int(fake_requests(&srv), 2, "a List of stores and one of jobs");
	ok(S_ISREG(c.st.st_mode) && (c.st.st_mode & 0777) == 0400, "a read-only file");
	ok(c.len > 0 && (size_t)c.st.st_size == c.len, "its size is its bytes' (%zu)", c.len);
	is_int((int)c.st.st_mtim.tv_sec, 1705322096, "its time is SubmitTime");
	size_t stat_len = c.len;
	done_with(&n, &c);

	is_int(content(&w, job, HLFS_FOR_READ, &n, &c, &r), 0, "read it");
	is_int(fake_requests(&srv), 2, "a terminal job from the listing needs no Describe");
	is_int((int)c.len, (int)stat_len, "stat and read agree on the size");
	ok(c.bytes && !memcmp(c.bytes, "{\n", 2), "pretty JSON");
	ok(c.served && !atomic_load(c.served), "terminal: a first-open flag, not used up");
	done_with(&n, &c);
	is_int(content(&w, job, HLFS_FOR_READ, &n, &c, &r), 0, "read it again (an xattr read)");
	ok(c.served && !atomic_load(c.served), "the flag is still unused: only ops.c uses it");
	is_int(fake_requests(&srv), 2, "no request");
	done_with(&n, &c);

	is_int(content(&w, "/clinic/imports/latest", HLFS_FOR_STAT, &n, &c, &r), 0, "latest");
	ok(S_ISLNK(c.st.st_mode), "a symlink");
	ok(c.len == strlen(JOB_ID) && !memcmp(c.bytes, JOB_ID, c.len), "to the job's id");
	done_with(&n, &c);

	is_int(content(&w, "/clinic/imports", HLFS_FOR_READ, &n, &c, &r), -EISDIR,
	       "reading a directory");
	is_str(r.dir, "", "is EISDIR, recorded nowhere");
	done_with(&n, &c);
	is_int(content(&w, "/clinic/imports", HLFS_FOR_STAT, &n, &c, &r), 0, "stat it");
	ok(S_ISDIR(c.st.st_mode) && c.st.st_mtim.tv_sec == 1705322096,
	   "a directory, with the store's CreatedAt");
	done_with(&n, &c);

	is_int(content(&w, "/.stats", HLFS_FOR_READ, &n, &c, &r), 0, "read /.stats");
	ok(c.len > 0 && (size_t)c.st.st_size == c.len, "its size is its bytes'");
	done_with(&n, &c);
	is_int(fake_requests(&srv), 2, "nothing here asked the service again");

	world_down(&w);
	fake_stop(&srv);
	return done_testing();
}
