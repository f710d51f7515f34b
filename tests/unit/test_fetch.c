/* fetch's cache policy through the seam: which ttl each key follows, what a
 * drop or a local patch does, and where each failure's reason goes. */
#include <errno.h>
#include <string.h>

#include "fetch.h"
#include "resolve.h"
#include "seam.h"

#define LIST "{\"DatastorePropertiesList\":[" PROPS "]}"
#define DESCRIBE "{\"DatastoreProperties\":" PROPS "}"

static const struct fake_resp ok_list = {FAKE_ANSWER, 200, "OK", NULL, LIST, 0};

static int node(struct world *w, const char *path, struct hlfs_treenode *n)
{
	struct hlfs_res r;
	int rc = hlfs_resolve(&w->fs, path, hlfs_deadline(&w->fs), n, &r);
	is_int(rc, 0, "resolve %s", path);
	return rc;
}

/* list_ttl=3600, attr_ttl=0: descriptions and tags are asked for every
 * time, listings once. */
static void test_ttls(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_treenode n;
	struct hlfs_cval *v = NULL;
	struct hlfs_res r;
	char why[HLFS_WHY_MAX], op[80];
	if (!ok(world_up(&w, srv, false), "a mount with attr_ttl=0"))
		return;
	w.fs.attr_ttl_ms = 0;
	const struct fake_resp script[] = {
	    ok_list,
	    {FAKE_ANSWER, 200, "OK", NULL, DESCRIBE, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, DESCRIBE, 0},
	    {FAKE_ANSWER, 200, "OK", NULL, "{\"ImportJobPropertiesList\":[]}", 0},
	    ok_list};
	fake_script(srv, script, 5);
	int base = fake_requests(srv);
	if (node(&w, "/clinic/status", &n))
		return;
	is_int(hlfs_get_datastore(&w.fs, &n, hlfs_deadline(&w.fs), &v, why), 0, "describe");
	hlfs_cval_unref(v);
	is_int(hlfs_get_datastore(&w.fs, &n, hlfs_deadline(&w.fs), &v, why), 0, "describe again");
	hlfs_cval_unref(v);
	is_int(fake_requests(srv), base + 3, "attr_ttl=0: a Describe each time, the List once");
	is_str(op_of(&w, base + 2, op, sizeof(op)), "DescribeFHIRDatastore", "the second Describe");

	struct hlfs_treenode jn = n;
	jn.p.node = HLFS_N_JOBS;
	jn.p.dir = HLFS_D_STORE;
	is_int(hlfs_get_joblist(&w.fs, &jn, hlfs_deadline(&w.fs), &v, &r), 0, "list jobs");
	hlfs_cval_unref(v);
	is_int(hlfs_get_joblist(&w.fs, &jn, hlfs_deadline(&w.fs), &v, &r), 0, "list jobs again");
	hlfs_cval_unref(v);
	is_int(fake_requests(srv), base + 4, "a job listing follows list_ttl: one List");

	/* A drop makes the next use ask. */
	hlfs_drop_listing(&w.fs);
	hlfs_node_fini(&n);
	ok(node(&w, "/clinic/status", &n) == 0, "resolve after the listing was dropped");
	is_int(fake_requests(srv), base + 5, "lists again");
	hlfs_node_fini(&n);
	world_down(&w);
}

/* A store made here shows at once, from the patched listing, without a call. */
static void test_patch(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_treenode n;
	struct hlfs_res r;
	if (!ok(world_up(&w, srv, false), "a mount"))
		return;
	fake_script(srv, &ok_list, 1);
	if (node(&w, "/clinic", &n))
		return;
	hlfs_node_fini(&n);
	int base = fake_requests(srv);
	struct hl_datastore *d = calloc(1, sizeof(*d));
	d->id = strdup("ffffffffffffffffffffffffffffffff");
	d->arn = strdup("arn:aws:healthlake:us-east-1:1:datastore/fhir/ffff");
	d->name = strdup("fresh");
	d->status = strdup("CREATING");
	hlfs_listing_patch(&w.fs, d);
	is_int(hlfs_resolve(&w.fs, "/fresh/status", hlfs_deadline(&w.fs), &n, &r), 0,
	       "the new store resolves");
	ok(n.ds && !strcmp(n.ds->status, "CREATING"), "as CREATING");
	hlfs_node_fini(&n);
	is_int(hlfs_resolve(&w.fs, "/clinic/status", hlfs_deadline(&w.fs), &n, &r), 0,
	       "the old one still does");
	hlfs_node_fini(&n);
	is_int(fake_requests(srv), base, "no request");
	world_down(&w);
}

/* Where each failure goes: the listing's to /, tags' to tags/, a job
 * listing's to the directory of the node asked for. */
static void test_failures(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_treenode n;
	struct hlfs_cval *v = NULL;
	struct hlfs_res r;
	if (!ok(world_up(&w, srv, false), "a mount"))
		return;
	const struct fake_resp denied = {FAKE_ANSWER, 400, "Bad Request", NULL, DENIED, 0};
	fake_script(srv, &denied, 1);
	is_int(hlfs_resolve(&w.fs, "/clinic/status", hlfs_deadline(&w.fs), &n, &r), -EACCES,
	       "a listing denied");
	is_str(r.dir, "/", "goes to /.error");
	is_str(r.why, "lookup clinic: AccessDeniedException: not allowed", "saying what and why");
	hlfs_node_fini(&n);

	const struct fake_resp script[] = {ok_list, denied, denied, denied};
	fake_script(srv, script, 4);
	if (node(&w, "/clinic/tags/k", &n))
		return;
	is_int(hlfs_get_tags(&w.fs, &n, hlfs_deadline(&w.fs), &v, &r), -EACCES, "tags denied");
	is_str(r.dir, DS_ID "/tags", "tags/.error");
	hlfs_node_fini(&n);

	if (node(&w, "/clinic/imports", &n))
		return;
	is_int(hlfs_get_joblist(&w.fs, &n, hlfs_deadline(&w.fs), &v, &r), -EACCES,
	       "listing imports/ denied");
	is_str(r.dir, DS_ID, "an operation on an entry of the store: its .error");
	hlfs_node_fini(&n);
	if (node(&w, "/clinic/imports/latest", &n))
		return;
	is_int(hlfs_get_joblist(&w.fs, &n, hlfs_deadline(&w.fs), &v, &r), -EACCES,
	       "latest's listing denied");
	is_str(r.dir, DS_ID "/imports", "an operation on an entry of imports/: its .error");
	ok(strstr(r.why, "list imports of clinic: AccessDenied") == r.why, "%s", r.why);
	hlfs_node_fini(&n);
	world_down(&w);
}

static int64_t pinned(void *arg)
{
	return *(int64_t *)arg;
}

/* With the clock pinned, a value is fresh for exactly its ttl. */
static void test_pinned_clock(struct fake_srv *srv)
{
	struct world w;
	struct hlfs_treenode n;
	struct hlfs_cval *v = NULL;
	char why[HLFS_WHY_MAX];
	int64_t now = hl_now_ms(); /* near the api's clock: deadlines follow that one */
	if (!ok(world_up(&w, srv, false), "a mount with a pinned clock"))
		return;
	w.fs.now_ms = pinned;
	w.fs.now_arg = &now;
	w.fs.attr_ttl_ms = 2000;
	const struct fake_resp script[] = {ok_list,
					   {FAKE_ANSWER, 200, "OK", NULL, DESCRIBE, 0},
					   {FAKE_ANSWER, 200, "OK", NULL, DESCRIBE, 0}};
	fake_script(srv, script, 3);
	if (node(&w, "/clinic/status", &n))
		return;
	int base = fake_requests(srv);
	is_int(hlfs_get_datastore(&w.fs, &n, hlfs_deadline(&w.fs), &v, why), 0, "describe");
	hlfs_cval_unref(v);
	now += 1999;
	is_int(hlfs_get_datastore(&w.fs, &n, hlfs_deadline(&w.fs), &v, why), 0, "1999 ms later");
	hlfs_cval_unref(v);
	is_int(fake_requests(srv), base + 1, "still fresh: no request");
	now += 1;
	is_int(hlfs_get_datastore(&w.fs, &n, hlfs_deadline(&w.fs), &v, why), 0, "at attr_ttl");
	hlfs_cval_unref(v);
	is_int(fake_requests(srv), base + 2, "stale: described again");
	hlfs_node_fini(&n);
	world_down(&w);
}

int main(void)
{
	static struct fake_srv srv;
	seam_env();
	if (!ok(fake_start(&srv), "fake server up"))
		return done_testing();
	test_ttls(&srv);
	test_patch(&srv);
	test_failures(&srv);
	test_pinned_clock(&srv);
	fake_stop(&srv);
	return done_testing();
}
