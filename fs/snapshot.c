/* The snapshot an open of a read-only file takes: its bytes, fixed for the
 * life of the open, and the stat that goes with them. */
#include <errno.h>

#include "render.h"
#include "tree_i.h"

/* The content of a read-only file, fetched as its open requires. */
int hlfs_snapshot(struct hlfs_fs *fs, const struct hlfs_treenode *n, int64_t deadline,
		  struct hlfs_fh *fh)
{
	char why[600], dk[96];
	struct hlfs_cval *v = NULL;
	double mtime = -1;
	int rc = 0;
	switch (n->p.node) {
	case HLFS_N_STATS:
		if (hlfs_fs_render_stats(fs, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	case HLFS_N_ERROR:
		hlfs_node_dir_key(n, dk, sizeof(dk));
		if (hlfs_note_text(fs, dk, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	case HLFS_N_FIELD: {
		rc = hlfs_get_datastore(fs, n, deadline, &v, why, sizeof(why));
		if (rc) {
			hlfs_dir_key(HLFS_D_STORE, n->ds->id, dk, sizeof(dk));
			hlfs_note(fs, dk, "read %s/%s: %s", n->p.store, hlfs_field_name(n->p.field),
				  why);
			if (rc == -ENOENT) /* gone: the listing that named it is out of date */
				hlfs_forget_listing(fs);
			break;
		}
		const struct hl_datastore *d = v->data;
		if (hlfs_render_field(n->p.field, d, &fh->data) != HL_ERR_OK)
			rc = -ENOMEM;
		if (d->has_created_at)
			mtime = d->created_at;
		break;
	}
	case HLFS_N_JOB: {
		rc = hlfs_job_for_open(fs, n, deadline, &v);
		if (rc)
			break;
		struct hlfs_jobdoc *j = v->data;
		if (j->terminal)
			fh->served = &j->served; /* lives as long as fh->hold */
		/* The bytes are the cached job's own: no copy, no rendering. */
		fh->hold = hlfs_cval_ref(v);
		fh->bytes = j->text;
		fh->len = j->len;
		if (j->has_submit_time)
			mtime = j->submit_time;
		break;
	}
	case HLFS_N_TAG: {
		/* Being created: once closed its value comes at release, just after
		 * the close returned; while a writer still has a new one open it is
		 * empty, as stat says. */
		bool pending = hlfs_pending_settle(fs, n->ds->id, n->p.leaf, deadline);
		rc = hlfs_get_tags(fs, n, deadline, &v);
		if (rc)
			break;
		const struct hl_tag *t = hlfs_tags_find(v->data, n->p.leaf);
		if (!t) {
			rc = pending ? 0 : -ENOENT;
			break;
		}
		if (hl_buf_appends(&fh->data, t->value ? t->value : "") != HL_ERR_OK ||
		    hl_buf_appendc(&fh->data, '\n') != HL_ERR_OK)
			rc = -ENOMEM;
		break;
	}
	default:
		rc = -EISDIR;
	}
	hlfs_cval_unref(v);
	if (rc == 0) {
		if (!fh->hold) {
			fh->bytes = fh->data.data ? fh->data.data : "";
			fh->len = fh->data.len;
		}
		hlfs_fill_stat(fs, &fh->st, S_IFREG | (n->p.node == HLFS_N_TAG ? 0600 : 0400),
			       (off_t)fh->len);
		if (mtime >= 0)
			hlfs_stat_times(&fh->st, mtime);
	}
	return rc;
}
