/* File handles: open, read, release, and the two registries open files
 * keep (open snapshots by path, tag files being created). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "tree_i.h"

/* A tag file created or truncated and not yet set: stat shows it, empty. */
struct hlfs_pending {
	char *ds_id;
	char *key;
	int opens;
	int64_t closed_ms; /* a close was seen with nothing written (hl_now_ms), or 0 */
	bool releasing;	   /* the last close's release is setting the value now */
	struct hlfs_pending *next;
};

/* How long after such a close a reader waits for the release to begin: the
 * kernel sends it right after the last close returns. A close that was not
 * the last (a shell's `exec 3> k` closes a duplicate) costs a reader this. */
#define RELEASE_GRACE_MS 200

/* An open snapshot: stat of its path gives the snapshot's size while it is open. */
struct hlfs_openfile {
	char *path;
	struct stat st;
	int opens;
	struct hlfs_openfile *next;
};

/* The entry of ds_id's key (*result NULL when none); fs->lock held. */
static struct hlfs_pending **pending_find(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	struct hlfs_pending **pp = &fs->pending;
	while (*pp && (strcmp((*pp)->ds_id, ds_id) || strcmp((*pp)->key, key)))
		pp = &(*pp)->next;
	return pp;
}

/* Unlinks and frees *pp, waking readers that wait on it; fs->lock held. */
static void pending_drop(struct hlfs_fs *fs, struct hlfs_pending **pp)
{
	struct hlfs_pending *p = *pp;
	*pp = p->next;
	free(p->ds_id);
	free(p->key);
	free(p);
	pthread_cond_broadcast(&fs->settled);
}

bool hlfs_pending_has(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	bool found = *pending_find(fs, ds_id, key) != NULL;
	pthread_mutex_unlock(&fs->lock);
	return found;
}

static int pending_add(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	int rc = 0;
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending *p = *pending_find(fs, ds_id, key);
	if (p) {
		p->opens++;
	} else if ((p = calloc(1, sizeof(*p))) && (p->ds_id = strdup(ds_id)) &&
		   (p->key = strdup(key))) {
		p->opens = 1;
		p->next = fs->pending;
		fs->pending = p;
	} else {
		if (p) {
			free(p->ds_id);
			free(p);
		}
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static void pending_del(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending **pp = pending_find(fs, ds_id, key);
	if (*pp && --(*pp)->opens == 0)
		pending_drop(fs, pp);
	pthread_mutex_unlock(&fs->lock);
}

void hlfs_pending_closing(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending *p = *pending_find(fs, ds_id, key);
	if (p)
		p->closed_ms = hl_now_ms();
	pthread_mutex_unlock(&fs->lock);
}

static void pending_releasing(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending *p = *pending_find(fs, ds_id, key);
	if (p && p->opens == 1) {
		p->releasing = true;
		pthread_cond_broadcast(&fs->settled);
	}
	pthread_mutex_unlock(&fs->lock);
}

void hlfs_pending_done(struct hlfs_fs *fs, const char *ds_id, const char *key)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_pending **pp = pending_find(fs, ds_id, key);
	if (*pp)
		pending_drop(fs, pp);
	pthread_mutex_unlock(&fs->lock);
}

bool hlfs_pending_settle(struct hlfs_fs *fs, const char *ds_id, const char *key, int64_t deadline)
{
	struct hlfs_pending *p;
	pthread_mutex_lock(&fs->lock);
	while ((p = *pending_find(fs, ds_id, key)) && (p->releasing || p->closed_ms)) {
		int64_t until = p->releasing ? deadline : p->closed_ms + RELEASE_GRACE_MS;
		int64_t left = (until < deadline ? until : deadline) - hl_now_ms();
		if (left <= 0)
			break;
		struct timespec ts;
		hl_mono_after(left, &ts);
		pthread_cond_timedwait(&fs->settled, &fs->lock, &ts);
	}
	bool still = p != NULL;
	pthread_mutex_unlock(&fs->lock);
	return still;
}

/* Registers (or updates) the newest open snapshot of path. */
static void open_add(struct hlfs_fs *fs, const char *path, const struct stat *st)
{
	pthread_mutex_lock(&fs->lock);
	struct hlfs_openfile *o = fs->open;
	while (o && strcmp(o->path, path))
		o = o->next;
	if (!o && (o = calloc(1, sizeof(*o))) && !(o->path = strdup(path))) {
		free(o);
		o = NULL;
	} else if (o && !o->opens) {
		o->next = fs->open;
		fs->open = o;
	}
	if (o) {
		o->st = *st;
		o->opens++;
	}
	pthread_mutex_unlock(&fs->lock);
}

static void open_del(struct hlfs_fs *fs, const char *path)
{
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_openfile **pp = &fs->open; *pp; pp = &(*pp)->next) {
		struct hlfs_openfile *o = *pp;
		if (strcmp(o->path, path))
			continue;
		if (--o->opens == 0) {
			*pp = o->next;
			free(o->path);
			free(o);
		}
		break;
	}
	pthread_mutex_unlock(&fs->lock);
}

bool hlfs_open_find(struct hlfs_fs *fs, const char *path, struct stat *st)
{
	bool found = false;
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_openfile *o = fs->open; o && !found; o = o->next) {
		if (!strcmp(o->path, path)) {
			*st = o->st;
			found = true;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return found;
}

static void fh_free(struct hlfs_fh *fh);

void hlfs_open_registries_free(struct hlfs_fs *fs)
{
	while (fs->fhs) {
		struct hlfs_fh *fh = fs->fhs;
		fs->fhs = fh->next;
		fh_free(fh);
	}
	while (fs->open) {
		struct hlfs_openfile *o = fs->open;
		fs->open = o->next;
		free(o->path);
		free(o);
	}
	while (fs->pending) {
		struct hlfs_pending *p = fs->pending;
		fs->pending = p->next;
		free(p->ds_id);
		free(p->key);
		free(p);
	}
}

/* ---- open, read, release ---- */

static struct hlfs_fh *fh_new(enum hlfs_fh_kind kind)
{
	struct hlfs_fh *fh = calloc(1, sizeof(*fh));
	if (!fh)
		return NULL;
	fh->kind = kind;
	pthread_mutex_init(&fh->lock, NULL);
	hl_buf_init(&fh->data, kind == HLFS_FH_SNAPSHOT ? 0 : HLFS_INPUT_MAX + 1);
	return fh;
}

/* Files still open when the loop stops are freed with the fs. */
static void fh_register(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	pthread_mutex_lock(&fs->lock);
	fh->prev = NULL;
	fh->next = fs->fhs;
	if (fs->fhs)
		fs->fhs->prev = fh;
	fs->fhs = fh;
	pthread_mutex_unlock(&fs->lock);
}

static void fh_unregister(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	pthread_mutex_lock(&fs->lock);
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		fs->fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	fh->prev = fh->next = NULL;
	pthread_mutex_unlock(&fs->lock);
}

static void fh_free(struct hlfs_fh *fh)
{
	if (!fh)
		return;
	hl_buf_free(&fh->data);
	hlfs_cval_unref(fh->hold);
	free(fh->ds_id);
	free(fh->ds_arn);
	free(fh->key);
	free(fh->path);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}

/* Only tag files can be made; the refusal lands in key's .error. */
static int refuse_create(struct hlfs_fs *fs, const char *key, const char *path)
{
	hlfs_note(fs, key, "create %s: %s", path,
		  fs->opts->ro ? "read-only mount" : "files cannot be created here");
	return fs->opts->ro ? -EROFS : -EPERM;
}

int hlfs_do_open(struct hlfs_fs *fs, const char *path, int flags, bool create,
		 struct hlfs_fh **ret_fh)
{
	struct hlfs_treenode n;
	struct hlfs_fh *fh = NULL;
	char dk[96];
	int64_t deadline = hlfs_deadline(fs);
	int acc = flags & O_ACCMODE;
	if (create) { /* only a tag file can be made; nothing else is worth a lookup */
		struct hlfs_path p;
		if (hlfs_path_parse(path, &p) != 0 || p.node != HLFS_N_TAG) {
			return refuse_create(fs, "/", path);
		}
	}
	int rc = hlfs_resolve(fs, path, deadline, &n);
	if (rc)
		return rc;
	hlfs_node_dir_key(&n, dk, sizeof(dk));

	if (n.p.node == HLFS_N_NEW || (n.p.node == HLFS_N_TAG && acc != O_RDONLY)) {
		if (fs->opts->ro) {
			rc = -EROFS;
			goto out;
		}
		if (n.p.node == HLFS_N_NEW && acc != O_WRONLY) {
			rc = -EACCES; /* write-only, even for root */
			goto out;
		}
		fh = fh_new(n.p.node == HLFS_N_NEW ? HLFS_FH_CONTROL : HLFS_FH_TAG);
		if (!fh || !(fh->ds_id = strdup(n.ds->id)) || !(fh->ds_arn = strdup(n.ds->arn)) ||
		    !(fh->key = strdup(n.p.leaf))) {
			rc = -ENOMEM;
			goto out;
		}
		fh->exports = n.p.exports;
		fh->touched = create || (flags & O_TRUNC);
		if (fh->kind == HLFS_FH_TAG) {
			rc = pending_add(fs, fh->ds_id, fh->key);
			if (rc)
				goto out;
		}
		fh_register(fs, fh);
		*ret_fh = fh;
		fh = NULL;
		goto out;
	}
	if (create) {
		rc = refuse_create(fs, dk, path);
		goto out;
	}
	if (acc != O_RDONLY) {
		rc = fs->opts->ro ? -EROFS : -EACCES; /* read-only file, even for root */
		goto out;
	}
	fh = fh_new(HLFS_FH_SNAPSHOT);
	if (!fh) {
		rc = -ENOMEM;
		goto out;
	}
	rc = hlfs_snapshot(fs, &n, deadline, fh);
	if (rc)
		goto out;
	if (!(fh->path = strdup(path))) {
		rc = -ENOMEM;
		goto out;
	}
	open_add(fs, path, &fh->st);
	fh_register(fs, fh);
	*ret_fh = fh;
	fh = NULL;
out:
	fh_free(fh);
	hlfs_node_fini(&n);
	return rc;
}

int hlfs_do_read(struct hlfs_fh *fh, char *buf, size_t size, off_t off)
{
	if (fh->kind == HLFS_FH_CONTROL)
		return -EBADF;
	pthread_mutex_lock(&fh->lock);
	/* A snapshot never changes after open; a tag file reads its input. */
	const char *src = fh->kind == HLFS_FH_SNAPSHOT ? fh->bytes : fh->data.data;
	size_t len = fh->kind == HLFS_FH_SNAPSHOT ? fh->len : fh->data.len;
	size_t n = 0;
	if (off >= 0 && (size_t)off < len) {
		n = len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, src + off, n);
	}
	pthread_mutex_unlock(&fh->lock);
	return (int)n;
}

void hlfs_do_release(struct hlfs_fs *fs, struct hlfs_fh *fh)
{
	if (!fh)
		return;
	fh_unregister(fs, fh);
	if (fh->kind == HLFS_FH_TAG)
		pending_releasing(fs, fh->ds_id, fh->key);
	if (fh->kind != HLFS_FH_SNAPSHOT) {
		pthread_mutex_lock(&fh->lock);
		if (fh->data.len > 0 || (fh->kind == HLFS_FH_TAG && fh->touched && !fh->sent))
			(void)hlfs_fh_act(fs, fh);
		pthread_mutex_unlock(&fh->lock);
		if (fh->kind == HLFS_FH_TAG)
			pending_del(fs, fh->ds_id, fh->key);
	} else if (fh->path) {
		open_del(fs, fh->path);
	}
	fh_free(fh);
}
