#include "scratch.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hlfs_scratch_file {
	char *dir;  /* NULL once unlinked */
	char *name; /* NULL once unlinked */
	char *data;
	size_t len;
	size_t cap; /* what is charged to the registry */
	time_t mtime;
	unsigned refs;			       /* open handles */
	struct hlfs_scratch_file *prev, *next; /* every file the registry holds */
};

struct hlfs_scratch {
	pthread_mutex_t lock;
	struct hlfs_scratch_limits lim;
	/* All below protected by lock. */
	struct hlfs_scratch_file **v; /* linked files, in creation order */
	size_t n, vcap;
	struct hlfs_scratch_file *all; /* linked and unlinked-but-open files */
	size_t files;		       /* linked + unlinked-but-open */
	size_t bytes;		       /* sum of cap over those files */
};

struct hlfs_scratch *hlfs_scratch_new(const struct hlfs_scratch_limits *lim)
{
	struct hlfs_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	if (lim)
		s->lim = *lim;
	if (!s->lim.max_files)
		s->lim.max_files = 1024;
	if (!s->lim.max_total)
		s->lim.max_total = 16u << 20;
	if (!s->lim.max_file)
		s->lim.max_file = 8u << 20;
	return s;
}

static void file_free(struct hlfs_scratch_file *f)
{
	free(f->dir);
	free(f->name);
	free(f->data);
	free(f);
}

/* The file's bytes and count leave the registry. */
static void discharge(struct hlfs_scratch *s, struct hlfs_scratch_file *f)
{
	s->bytes -= f->cap;
	s->files--;
	if (f->prev)
		f->prev->next = f->next;
	else
		s->all = f->next;
	if (f->next)
		f->next->prev = f->prev;
	file_free(f);
}

void hlfs_scratch_free(struct hlfs_scratch *s)
{
	if (!s)
		return;
	/* Open handles die with the registry (at unmount nothing uses them). */
	for (struct hlfs_scratch_file *f = s->all, *next; f; f = next) {
		next = f->next;
		file_free(f);
	}
	free(s->v);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static long find(const struct hlfs_scratch *s, const char *dir, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->name, name) && !strcmp(s->v[i]->dir, dir))
			return (long)i;
	return -1;
}

/* Takes v[i] out of the names; frees it when no handle holds it. */
static void unlink_at(struct hlfs_scratch *s, size_t i)
{
	struct hlfs_scratch_file *f = s->v[i];
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	free(f->dir);
	free(f->name);
	f->dir = f->name = NULL;
	if (!f->refs)
		discharge(s, f);
}

/* A new, empty, linked file (not yet counted: the caller checked room). */
static struct hlfs_scratch_file *link_new(struct hlfs_scratch *s, const char *dir, const char *name,
					  time_t now)
{
	if (s->n == s->vcap) {
		size_t nc = s->vcap ? s->vcap * 2 : 16;
		struct hlfs_scratch_file **nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv;
		s->vcap = nc;
	}
	struct hlfs_scratch_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->dir = strdup(dir);
	f->name = strdup(name);
	if (!f->dir || !f->name) {
		file_free(f);
		return NULL;
	}
	f->mtime = now;
	s->v[s->n++] = f;
	s->files++;
	f->next = s->all;
	if (s->all)
		s->all->prev = f;
	s->all = f;
	return f;
}

/* Makes room for need bytes in f, charging the registry. Nothing changes on
 * error. */
static int reserve(struct hlfs_scratch *s, struct hlfs_scratch_file *f, size_t need)
{
	if (need > s->lim.max_file)
		return -EFBIG;
	if (need <= f->cap)
		return 0;
	size_t want = f->cap * 2 > need ? f->cap * 2 : need;
	if (want > s->lim.max_file)
		want = s->lim.max_file;
	if (s->bytes - f->cap + want > s->lim.max_total)
		want = need; /* no headroom rather than a refusal */
	if (s->bytes - f->cap + want > s->lim.max_total)
		return -ENOSPC;
	char *nd = realloc(f->data, want);
	if (!nd)
		return -ENOMEM;
	s->bytes = s->bytes - f->cap + want;
	f->data = nd;
	f->cap = want;
	return 0;
}

/* Sets f's length; a grown part reads as zeros. */
static int set_len(struct hlfs_scratch *s, struct hlfs_scratch_file *f, size_t len)
{
	if (len == 0) { /* give the memory back: editors truncate then rewrite */
		s->bytes -= f->cap;
		free(f->data);
		f->data = NULL;
		f->cap = f->len = 0;
		return 0;
	}
	int rc = reserve(s, f, len);
	if (rc)
		return rc;
	if (len > f->len)
		memset(f->data + f->len, 0, len - f->len);
	f->len = len;
	return 0;
}

int hlfs_scratch_open(struct hlfs_scratch *s, const char *dir, const char *name, bool create,
		      bool excl, bool trunc, time_t now, struct hlfs_scratch_file **ret)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	long i = find(s, dir, name);
	struct hlfs_scratch_file *f = i >= 0 ? s->v[i] : NULL;
	if (f && create && excl) {
		rc = -EEXIST;
	} else if (!f && !create) {
		rc = -ENOENT;
	} else if (!f) {
		if (s->files >= s->lim.max_files)
			rc = -ENOSPC;
		else if (!(f = link_new(s, dir, name, now)))
			rc = -ENOMEM;
	} else if (trunc && f->len) {
		set_len(s, f, 0);
		f->mtime = now;
	}
	if (!rc) {
		f->refs++;
		*ret = f;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void hlfs_scratch_close(struct hlfs_scratch *s, struct hlfs_scratch_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&s->lock);
	if (--f->refs == 0 && !f->name)
		discharge(s, f);
	pthread_mutex_unlock(&s->lock);
}

ssize_t hlfs_scratch_read(struct hlfs_scratch *s, struct hlfs_scratch_file *f, char *buf,
			  size_t size, off_t off)
{
	ssize_t n = 0;
	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if ((uint64_t)off < f->len) {
		size_t avail = f->len - (size_t)off;
		n = (ssize_t)(size < avail ? size : avail);
		memcpy(buf, f->data + off, (size_t)n);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

ssize_t hlfs_scratch_write(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *buf,
			   size_t size, off_t off, time_t now)
{
	if (off < 0)
		return -EINVAL;
	if (size > SSIZE_MAX || (uint64_t)off > SIZE_MAX - size)
		return -EFBIG;
	if (size == 0)
		return 0;
	size_t end = (size_t)off + size;
	ssize_t rc = (ssize_t)size;
	pthread_mutex_lock(&s->lock);
	if (end > f->len) {
		size_t old = f->len;
		int r = reserve(s, f, end);
		if (r) {
			rc = r;
			goto out;
		}
		if ((size_t)off > old) /* a hole reads as zeros */
			memset(f->data + old, 0, (size_t)off - old);
		f->len = end;
	}
	memcpy(f->data + off, buf, size);
	f->mtime = now;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The file an operation names: f itself, or dir/name's. Under the lock. */
static struct hlfs_scratch_file *target(struct hlfs_scratch *s, struct hlfs_scratch_file *f,
					const char *dir, const char *name)
{
	if (f)
		return f;
	long i = find(s, dir, name);
	return i >= 0 ? s->v[i] : NULL;
}

int hlfs_scratch_truncate(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *dir,
			  const char *name, off_t size, time_t now)
{
	int rc;
	if (size < 0)
		return -EINVAL;
	if ((uint64_t)size > s->lim.max_file)
		return -EFBIG;
	pthread_mutex_lock(&s->lock);
	struct hlfs_scratch_file *t = target(s, f, dir, name);
	rc = t ? set_len(s, t, (size_t)size) : -ENOENT;
	if (!rc)
		t->mtime = now;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlfs_scratch_stat(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *dir,
		      const char *name, struct hlfs_scratch_stat *ret)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&s->lock);
	struct hlfs_scratch_file *t = target(s, f, dir, name);
	if (t) {
		ret->size = t->len;
		ret->mtime = t->mtime;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlfs_scratch_put(struct hlfs_scratch *s, const char *dir, const char *name, const char *data,
		     size_t len, time_t now)
{
	int rc = 0;
	if (len > s->lim.max_file)
		return -EFBIG;
	pthread_mutex_lock(&s->lock);
	long old = find(s, dir, name);
	/* The new file replaces the old one as rename(2) would: a handle open on
	 * the old one keeps its bytes. Room is checked with both present. */
	if (s->files >= s->lim.max_files && (old < 0 || s->v[old]->refs)) {
		rc = -ENOSPC;
		goto out;
	}
	if (s->bytes + len > s->lim.max_total &&
	    (old < 0 || s->v[old]->refs || s->bytes - s->v[old]->cap + len > s->lim.max_total)) {
		rc = -ENOSPC;
		goto out;
	}
	char *copy = NULL;
	if (len && !(copy = malloc(len))) {
		rc = -ENOMEM;
		goto out;
	}
	/* Linked first (at the end, so old keeps its index): on ENOMEM the old
	 * file is still there. */
	struct hlfs_scratch_file *f = link_new(s, dir, name, now);
	if (!f) {
		free(copy);
		rc = -ENOMEM;
		goto out;
	}
	if (old >= 0)
		unlink_at(s, (size_t)old);
	if (len)
		memcpy(copy, data, len);
	f->data = copy;
	f->len = f->cap = len;
	s->bytes += len;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlfs_scratch_copy(struct hlfs_scratch *s, const char *dir, const char *name, char **ret_data,
		      size_t *ret_len)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&s->lock);
	long i = find(s, dir, name);
	if (i >= 0) {
		struct hlfs_scratch_file *f = s->v[i];
		char *d = malloc(f->len + 1);
		if (!d) {
			rc = -ENOMEM;
		} else {
			if (f->len)
				memcpy(d, f->data, f->len);
			d[f->len] = '\0';
			*ret_data = d;
			*ret_len = f->len;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlfs_scratch_unlink(struct hlfs_scratch *s, const char *dir, const char *name)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&s->lock);
	long i = find(s, dir, name);
	if (i >= 0) {
		unlink_at(s, (size_t)i);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlfs_scratch_rename(struct hlfs_scratch *s, const char *dir, const char *from,
			const char *to_dir, const char *to, time_t now)
{
	int rc = 0;
	char *nd = NULL, *nn = NULL;
	(void)now; /* rename changes ctime, which scratch files do not keep */
	pthread_mutex_lock(&s->lock);
	long i = find(s, dir, from);
	if (i < 0) {
		rc = -ENOENT;
		goto out;
	}
	long j = find(s, to_dir, to);
	if (j == i)
		goto out;
	if (!(nd = strdup(to_dir)) || !(nn = strdup(to))) {
		rc = -ENOMEM;
		goto out;
	}
	struct hlfs_scratch_file *f = s->v[i];
	if (j >= 0)
		unlink_at(s, (size_t)j); /* may move f down one slot; f is kept by pointer */
	free(f->dir);
	free(f->name);
	f->dir = nd;
	f->name = nn;
	nd = nn = NULL;
out:
	pthread_mutex_unlock(&s->lock);
	free(nd);
	free(nn);
	return rc;
}

void hlfs_scratch_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

long hlfs_scratch_list(struct hlfs_scratch *s, const char *dir, char ***ret_names)
{
	long rc = 0;
	size_t k = 0;
	pthread_mutex_lock(&s->lock);
	char **names = calloc(s->n ? s->n : 1, sizeof(*names));
	if (!names) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i]->dir, dir))
			continue;
		if (!(names[k] = strdup(s->v[i]->name))) {
			hlfs_scratch_names_free(names, k);
			rc = -ENOMEM;
			goto out;
		}
		k++;
	}
	*ret_names = names;
	rc = (long)k;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void hlfs_scratch_usage(struct hlfs_scratch *s, size_t *ret_files, size_t *ret_bytes)
{
	pthread_mutex_lock(&s->lock);
	*ret_files = s->files;
	*ret_bytes = s->bytes;
	pthread_mutex_unlock(&s->lock);
}
