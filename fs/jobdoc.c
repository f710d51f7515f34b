#include "jobdoc.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "footprint.h"
#include "path.h"
#include "render.h"
#include "validate.h"

/* The S3Uri of the job's output: OutputDataConfig for an export,
 * JobOutputDataConfig for an import; "" when absent. */
static const char *output_uri(const cJSON *raw)
{
	static const char *const configs[] = {"OutputDataConfig", "JobOutputDataConfig"};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(raw, configs[i]);
		c = cJSON_GetObjectItemCaseSensitive(c, "S3Configuration");
		c = cJSON_GetObjectItemCaseSensitive(c, "S3Uri");
		if (cJSON_IsString(c) && c->valuestring)
			return c->valuestring;
	}
	return "";
}

enum hl_err hlfs_jobdoc_make(const struct hl_job *j, struct hlfs_jobdoc *ret)
{
	struct hl_buf b;
	memset(ret, 0, sizeof(*ret));
	if (!j->id || !j->status)
		return HL_ERR_INVALID;
	/* One allocation: "<id>\0<status>\0<output uri>\0<text>". */
	const char *uri = output_uri(j->raw);
	hl_buf_init(&b, 0);
	enum hl_err e = hl_buf_append(&b, j->id, strlen(j->id) + 1);
	if (e == HL_ERR_OK)
		e = hl_buf_append(&b, j->status, strlen(j->status) + 1);
	size_t uri_at = b.len;
	if (e == HL_ERR_OK)
		e = hl_buf_append(&b, uri, strlen(uri) + 1);
	size_t text_at = b.len;
	if (e == HL_ERR_OK)
		e = hlfs_render_json(j->raw, &b);
	if (e != HL_ERR_OK) {
		hl_buf_free(&b);
		return e;
	}
	size_t len = b.len - text_at;
	char *p = hl_buf_steal(&b);
	/* Give back what doubling the buffer left over. */
	char *shrunk = realloc(p, text_at + len + 1);
	if (shrunk)
		p = shrunk;
	ret->id = p;
	ret->status = p + strlen(p) + 1;
	ret->output_uri = p + uri_at;
	ret->text = p + text_at;
	ret->len = len;
	ret->submit_time = j->submit_time;
	ret->has_submit_time = j->has_submit_time;
	ret->terminal = hl_job_status_terminal(j->status);
	return HL_ERR_OK;
}

void hlfs_jobdoc_fini(struct hlfs_jobdoc *d)
{
	if (!d)
		return;
	free((char *)d->id);
	memset(d, 0, sizeof(*d));
}

enum hl_err hlfs_jobdoc_dup(const struct hlfs_jobdoc *src, struct hlfs_jobdoc *ret)
{
	size_t n = (size_t)(src->text - src->id) + src->len + 1;
	char *p = malloc(n);
	if (!p)
		return HL_ERR_NOMEM;
	memcpy(p, src->id, n);
	*ret = *src;
	atomic_init(&ret->served, false); /* a new value: no open served it yet */
	ret->id = p;
	ret->status = p + (src->status - src->id);
	ret->output_uri = p + (src->output_uri - src->id);
	ret->text = p + (src->text - src->id);
	return HL_ERR_OK;
}

size_t hlfs_jobdoc_cost(const struct hlfs_jobdoc *d)
{
	if (!d->id)
		return 0;
	return hlfs_alloc_cost((size_t)(d->text - d->id) + d->len + 1);
}

void hlfs_joblist_free(struct hlfs_joblist *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		hlfs_jobdoc_fini(&j->items[i]);
	free(j->items);
	free(j->by_id);
	free(j);
}

/* qsort has no context argument: sort pointers to the items instead. */
static int cmp_doc_id(const void *a, const void *b)
{
	const struct hlfs_jobdoc *x = *(const struct hlfs_jobdoc *const *)a;
	const struct hlfs_jobdoc *y = *(const struct hlfs_jobdoc *const *)b;
	return strcmp(x->id, y->id);
}

static bool newer(const struct hlfs_jobdoc *x, const struct hlfs_jobdoc *than)
{
	double tx = x->has_submit_time ? x->submit_time : 0;
	double tt = than->has_submit_time ? than->submit_time : 0;
	return tx > tt || (tx == tt && strcmp(x->id, than->id) > 0);
}

enum hl_err hlfs_joblist_make(const struct hl_job_list *l, int64_t fetched_ms,
			      struct hlfs_joblist **ret)
{
	const struct hlfs_jobdoc **order = NULL;
	struct hlfs_joblist *j = calloc(1, sizeof(*j));
	enum hl_err e = HL_ERR_NOMEM;
	if (!j)
		goto out;
	j->newest = -1;
	j->fetched_ms = fetched_ms;
	size_t cap = l->n ? l->n : 1;
	j->items = calloc(cap, sizeof(*j->items));
	j->by_id = calloc(cap, sizeof(*j->by_id));
	order = calloc(cap, sizeof(*order));
	if (!j->items || !j->by_id || !order)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		const struct hl_job *x = &l->items[i];
		if (!x->id || !hl_job_id_ok(x->id, strlen(x->id)))
			continue;
		e = hlfs_jobdoc_make(x, &j->items[j->n]);
		if (e == HL_ERR_INVALID)
			continue;
		if (e != HL_ERR_OK)
			goto out;
		if (j->newest < 0 || newer(&j->items[j->n], &j->items[j->newest]))
			j->newest = (long)j->n;
		order[j->n] = &j->items[j->n];
		j->n++;
	}
	qsort(order, j->n, sizeof(*order), cmp_doc_id);
	j->cost = hlfs_alloc_cost(sizeof(*j)) + hlfs_alloc_cost(cap * sizeof(*j->items)) +
		  hlfs_alloc_cost(cap * sizeof(*j->by_id));
	for (size_t i = 0; i < j->n; i++) {
		j->by_id[i] = (size_t)(order[i] - j->items);
		j->cost += hlfs_jobdoc_cost(&j->items[i]);
	}
	*ret = j;
	j = NULL;
	e = HL_ERR_OK;
out:
	free(order);
	hlfs_joblist_free(j);
	return e;
}

const struct hlfs_jobdoc *hlfs_joblist_find(const struct hlfs_joblist *j, const char *id)
{
	size_t lo = 0, hi = j->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hlfs_jobdoc *d = &j->items[j->by_id[mid]];
		int c = strcmp(d->id, id);
		if (c == 0)
			return d;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
