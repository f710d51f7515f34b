/* The per-directory .error records: the last failure in each directory,
 * newest first, bounded. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_i.h"

#define MAX_NOTES 4096

struct hlfs_errnote {
	char *key; /* "/", "<id>", "<id>/tags", "<id>/imports", "<id>/exports" */
	char *msg; /* one line ending in '\n' */
	struct hlfs_errnote *next;
};

/* Records why an operation on an entry of directory key failed, and logs it. */
void hlfs_note(struct hlfs_fs *fs, const char *key, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++) /* one line, whatever the service said */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	hlfs_logf(fs->log, LOG_WARNING, "%s", line);
	size_t n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';

	pthread_mutex_lock(&fs->lock);
	struct hlfs_errnote **pp = &fs->errors, *found = NULL;
	size_t count = 0;
	for (; *pp; pp = &(*pp)->next, count++) {
		if (!strcmp((*pp)->key, key)) {
			found = *pp;
			*pp = found->next; /* move to the front below */
			break;
		}
	}
	char *msg = strdup(line);
	if (!found && msg) {
		found = calloc(1, sizeof(*found));
		if (found)
			found->key = strdup(key);
		if (found && !found->key) {
			free(found);
			found = NULL;
		}
	}
	if (found && msg) {
		free(found->msg);
		found->msg = msg;
		found->next = fs->errors;
		fs->errors = found;
		msg = NULL;
	} else if (found) { /* out of memory: keep the old message */
		found->next = fs->errors;
		fs->errors = found;
	}
	free(msg);
	/* Bound the list: drop the oldest notes. */
	if (count + 1 > MAX_NOTES) {
		struct hlfs_errnote *n = fs->errors;
		for (size_t i = 1; n && i < MAX_NOTES; i++)
			n = n->next;
		while (n && n->next) {
			struct hlfs_errnote *d = n->next;
			n->next = d->next;
			free(d->key);
			free(d->msg);
			free(d);
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

enum hl_err hlfs_note_text(struct hlfs_fs *fs, const char *key, struct hl_buf *out)
{
	enum hl_err e = HL_ERR_OK;
	pthread_mutex_lock(&fs->lock);
	for (struct hlfs_errnote *n = fs->errors; n; n = n->next) {
		if (!strcmp(n->key, key)) {
			e = hl_buf_appends(out, n->msg);
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return e;
}

void hlfs_dir_key(enum hlfs_dir d, const char *ds_id, char *out, size_t n)
{
	static const char *const suffix[] = {"", "", "/tags", "/imports", "/exports"};
	if (d == HLFS_D_ROOT || !ds_id)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%s%s", ds_id, suffix[d]);
}

void hlfs_notes_free(struct hlfs_fs *fs)
{
	while (fs->errors) {
		struct hlfs_errnote *n = fs->errors;
		fs->errors = n->next;
		free(n->key);
		free(n->msg);
		free(n);
	}
}

void hlfs_node_dir_key(const struct hlfs_treenode *n, char *out, size_t len)
{
	hlfs_dir_key(n->p.dir, n->ds ? n->ds->id : NULL, out, len);
}
