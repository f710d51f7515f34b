/* Job output listings: where a job's objects are, one cached listing each. */
#include "joboutput.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfile.h"
#include "fetch.h"
#include "footprint.h"
#include "keys.h"
#include "mount.h"
#include "path.h"
#include "remote.h"

static void files_free_v(void *data)
{
	struct hlfs_files *f = data;
	if (!f)
		return;
	free(f->bucket);
	free(f->folder);
	hl_s3_list_clear(&f->list);
	free(f);
}

static size_t str_cost(const char *s)
{
	return s ? hlfs_alloc_cost(strlen(s) + 1) : 0;
}

/* What f holds on the heap, and the libfuse node each entry can cost. */
static size_t files_cost(const struct hlfs_files *f)
{
	size_t c = hlfs_alloc_cost(sizeof(*f)) + str_cost(f->bucket) + str_cost(f->folder) +
		   hlfs_alloc_cost(f->list.n_objects * sizeof(*f->list.objects));
	for (size_t i = 0; i < f->list.n_objects; i++) {
		const struct hl_s3_object *o = &f->list.objects[i];
		c += str_cost(o->key) + str_cost(o->etag) + str_cost(o->last_modified) +
		     str_cost(o->storage_class) + HLFS_NODE_BYTES;
	}
	return c;
}

static int by_key(const void *a, const void *b)
{
	const struct hl_s3_object *x = a, *y = b;
	return strcmp(x->key, y->key); /* bytewise, as S3 orders keys */
}

/* "s3://bucket/key/prefix" -> bucket and the job's folder below it. */
static int folder_of(const char *uri, const char *ds_id, bool exports, const char *job_id,
		     char **bucket, char **folder)
{
	if (strncmp(uri, "s3://", 5) != 0)
		return -ENOENT;
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	const char *k = slash ? slash + 1 : "";
	size_t kl = strlen(k);
	while (kl && k[kl - 1] == '/')
		kl--;
	if (bl == 0)
		return -ENOENT;
	*bucket = strndup(b, bl);
	size_t n = kl + strlen(ds_id) + strlen(job_id) + 32;
	*folder = malloc(n);
	if (!*bucket || !*folder)
		return -ENOMEM;
	snprintf(*folder, n, "%.*s%s%s-FHIR_%s-%s/", (int)kl, k, kl ? "/" : "", ds_id,
		 exports ? "EXPORT" : "IMPORT", job_id);
	return 0;
}

struct list_ctx {
	struct hlfs_fs *fs;
	int64_t deadline;
	struct hlfs_files *f; /* moved into the value on success */
};

static int fetch_files(void *arg, struct hlfs_cval **ret, char *why, size_t wl)
{
	(void)wl;
	struct list_ctx *lc = arg;
	struct hlfs_files *f = lc->f;
	int rc = hlfs_remote_s3_list(lc->fs, f->bucket, f->folder, lc->deadline, &f->list, why);
	if (rc)
		return rc;
	if (f->list.n_objects > 1)
		qsort(f->list.objects, f->list.n_objects, sizeof(*f->list.objects), by_key);
	lc->f = NULL;
	struct hlfs_cval *v = hlfs_cval_new(f, files_cost(f), files_free_v);
	if (!v)
		return -ENOMEM;
	v->immutable = true; /* a terminal job's output does not change */
	*ret = v;
	return 0;
}

int hlfs_files_get(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		   struct hlfs_cval **hold, struct hlfs_res *res)
{
	char key[HLFS_KEY_MAX], why[HLFS_WHY_MAX], dk[HLFS_DIRKEY_MAX];
	struct hlfs_cval *jv = NULL;
	hlfs_node_dir_key(n, dk);
	int rc = hlfs_job_for_read(fs, n, deadline, &jv, res);
	if (rc == -ENOENT) {
		hlfs_res_init(res); /* no job of that name: the caller's name rule decides */
		return 1;
	}
	if (rc)
		return rc;
	const struct hlfs_jobdoc *j = jv->data;
	struct list_ctx lc = {.fs = fs, .deadline = deadline};
	if (!j->terminal) {
		rc = hlfs_res_fail(res, -ENOENT, dk, "%s.files: job %s is %s; its output is shown "
						     "once it has ended",
				   n->p.leaf, n->p.leaf, j->status);
		goto out;
	}
	lc.f = calloc(1, sizeof(*lc.f));
	if (!lc.f) {
		rc = hlfs_res_errno(res, -ENOMEM);
		goto out;
	}
	lc.f->time = j->has_submit_time ? j->submit_time : -1;
	rc = folder_of(j->output_uri, n->ds->id, n->p.exports, n->p.leaf, &lc.f->bucket,
		       &lc.f->folder);
	if (rc == -ENOENT) {
		rc = hlfs_res_fail(res, rc, dk, "%s.files: job %s names no s3:// output location",
				   n->p.leaf, n->p.leaf);
		goto out;
	}
	if (rc) {
		rc = hlfs_res_errno(res, rc);
		goto out;
	}
	struct hlfs_key k = {.kind = HLFS_K_FILES,
			     .ds_id = n->ds->id,
			     .exports = n->p.exports,
			     .job_id = n->p.leaf};
	(void)hlfs_key_format(&k, key, sizeof(key)); /* ids are bounded: it fits */
	rc = hlfs_cache_get(fs->cache, key, 0, deadline, fetch_files, &lc, hold, why,
			    sizeof(why));
	if (rc)
		rc = hlfs_res_fail(res, rc, dk, "%s.files: list s3://%s/%s: %s", n->p.leaf,
				   lc.f ? lc.f->bucket : "", lc.f ? lc.f->folder : "", why);
out:
	files_free_v(lc.f);
	hlfs_cval_unref(jv);
	return rc;
}

/* Index of the first key >= s. */
static size_t lower_bound(const struct hlfs_files *f, const char *s)
{
	size_t lo = 0, hi = f->list.n_objects;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(f->list.objects[mid].key, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* True when every component of path (from a key, below the folder) could
 * be a file name. */
static bool reachable(const char *path)
{
	for (const char *p = path;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > HLFS_NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

/* folder + sub (+ "/" when dir) in a new string; NULL when out of memory. */
static char *full_key(const struct hlfs_files *f, const char *sub, bool dir)
{
	size_t n = strlen(f->folder) + strlen(sub) + 2;
	char *k = malloc(n);
	if (k)
		snprintf(k, n, "%s%s%s", f->folder, sub, dir && sub[0] ? "/" : "");
	return k;
}

enum hlfs_files_kind hlfs_files_find(const struct hlfs_files *f, const char *sub, size_t *obj)
{
	if (!sub[0])
		return HLFS_FILES_DIR;
	enum hlfs_files_kind kind = HLFS_FILES_NONE;
	size_t fl = strlen(f->folder);
	char *k = full_key(f, sub, false);
	if (!k || !reachable(sub))
		goto out;
	size_t i = lower_bound(f, k);
	if (i < f->list.n_objects && !strcmp(f->list.objects[i].key, k)) {
		*obj = i;
		kind = HLFS_FILES_OBJECT;
		goto out;
	}
	free(k);
	k = full_key(f, sub, true);
	if (!k)
		goto out;
	/* A directory when some reachable key lies below it. */
	size_t kl = strlen(k);
	for (i = lower_bound(f, k); i < f->list.n_objects; i++) {
		const char *key = f->list.objects[i].key;
		if (strncmp(key, k, kl) != 0)
			break;
		if (reachable(key + fl)) {
			kind = HLFS_FILES_DIR;
			break;
		}
	}
out:
	free(k);
	return kind;
}

void hlfs_files_each(const struct hlfs_files *f, const char *sub,
		     int (*fn)(void *ctx, const char *name, long obj), void *ctx)
{
	char name[HLFS_NAME_MAX + 1], last[HLFS_NAME_MAX + 1] = "";
	size_t fl = strlen(f->folder);
	char *k = full_key(f, sub, true);
	if (!k)
		return;
	size_t kl = strlen(k);
	for (size_t i = lower_bound(f, k); i < f->list.n_objects; i++) {
		const char *key = f->list.objects[i].key;
		if (strncmp(key, k, kl) != 0)
			break;
		if (!reachable(key + fl))
			continue;
		const char *rest = key + kl, *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
		memcpy(name, rest, n); /* n <= HLFS_NAME_MAX: reachable */
		name[n] = '\0';
		if (slash) {
			/* Keys below one directory are adjacent in key order. */
			if (!strcmp(name, last))
				continue;
			memcpy(last, name, n + 1);
		}
		if (fn(ctx, name, slash ? -1 : (long)i))
			break;
	}
	free(k);
}
