/* The per-directory .error records: the last failure in each directory,
 * newest first, bounded. */
#include "errfile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mount.h"

#define MAX_NOTES 4096

struct record {
	char *key; /* "/", "<id>", "<id>/tags", "<id>/imports", "<id>/exports" */
	char *msg; /* one line ending in '\n' */
	struct record *next;
};

struct hlfs_errfile {
	pthread_mutex_t lock;
	struct record *head; /* newest first; protected by lock */
};

struct hlfs_errfile *hlfs_errfile_new(void)
{
	struct hlfs_errfile *ef = calloc(1, sizeof(*ef));
	if (ef)
		pthread_mutex_init(&ef->lock, NULL);
	return ef;
}

static void record_free(struct record *r)
{
	free(r->key);
	free(r->msg);
	free(r);
}

void hlfs_errfile_free(struct hlfs_errfile *ef)
{
	if (!ef)
		return;
	while (ef->head) {
		struct record *r = ef->head;
		ef->head = r->next;
		record_free(r);
	}
	pthread_mutex_destroy(&ef->lock);
	free(ef);
}

/* Makes line (ending in '\n') the newest record of key. */
static void put(struct hlfs_errfile *ef, const char *key, const char *line)
{
	pthread_mutex_lock(&ef->lock);
	struct record **pp = &ef->head, *found = NULL;
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
		msg = NULL;
	}
	if (found) { /* out of memory: it keeps its old message */
		found->next = ef->head;
		ef->head = found;
	}
	free(msg);
	/* Bound the list: drop the oldest records. */
	if (count + 1 > MAX_NOTES) {
		struct record *n = ef->head;
		for (size_t i = 1; n && i < MAX_NOTES; i++)
			n = n->next;
		while (n && n->next) {
			struct record *d = n->next;
			n->next = d->next;
			record_free(d);
		}
	}
	pthread_mutex_unlock(&ef->lock);
}

int hlfs_record(struct hlfs_fs *fs, const struct hlfs_res *r)
{
	if (r->err && r->dir[0] && r->why[0]) {
		char line[HLFS_WHY_MAX + 1];
		hlfs_logf(fs->log, LOG_WARNING, "%s", r->log[0] ? r->log : r->why);
		snprintf(line, sizeof(line), "%s\n", r->why);
		put(fs->errors, r->dir, line);
	}
	return hlfs_res_rc(r);
}

enum hl_err hlfs_errfile_text(struct hlfs_errfile *ef, const char *key, struct hl_buf *out)
{
	enum hl_err e = HL_ERR_OK;
	pthread_mutex_lock(&ef->lock);
	for (struct record *n = ef->head; n; n = n->next) {
		if (!strcmp(n->key, key)) {
			e = hl_buf_appends(out, n->msg);
			break;
		}
	}
	pthread_mutex_unlock(&ef->lock);
	return e;
}

void hlfs_dir_key(enum hlfs_dir d, const char *ds_id, char *out)
{
	static const char *const suffix[] = {"", "", "/tags", "/imports", "/exports"};
	if (d == HLFS_D_ROOT || !ds_id)
		snprintf(out, HLFS_DIRKEY_MAX, "/");
	else
		snprintf(out, HLFS_DIRKEY_MAX, "%s%s", ds_id, suffix[d]);
}

void hlfs_node_dir_key(const struct hlfs_treenode *n, char *out)
{
	hlfs_dir_key(n->p.dir, n->ds ? n->ds->id : NULL, out);
}
