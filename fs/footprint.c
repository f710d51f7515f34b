#include "footprint.h"

#include <string.h>

size_t hlfs_alloc_cost(size_t n)
{
	if (n == 0)
		return 0;
	size_t c = (n + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

size_t hlfs_str_cost(const char *s)
{
	return s ? hlfs_alloc_cost(strlen(s) + 1) : 0;
}

size_t hlfs_json_cost(const cJSON *j)
{
	size_t total = 0;
	/* Siblings by iteration, children by recursion: the depth is bounded by
	 * the parser's nesting limit. */
	for (; j; j = j->next) {
		total += hlfs_alloc_cost(sizeof(*j));
		if (!(j->type & cJSON_StringIsConst))
			total += hlfs_str_cost(j->string);
		if (!(j->type & cJSON_IsReference))
			total += hlfs_str_cost(j->valuestring) + hlfs_json_cost(j->child);
	}
	return total;
}

size_t hlfs_datastore_cost(const struct hl_datastore *d)
{
	if (!d)
		return 0;
	return hlfs_str_cost(d->id) + hlfs_str_cost(d->arn) + hlfs_str_cost(d->name) +
	       hlfs_str_cost(d->status) + hlfs_str_cost(d->type_version) +
	       hlfs_str_cost(d->endpoint) + hlfs_json_cost(d->raw);
}

size_t hlfs_job_cost(const struct hl_job *j)
{
	if (!j)
		return 0;
	return hlfs_str_cost(j->id) + hlfs_str_cost(j->name) + hlfs_str_cost(j->status) +
	       hlfs_str_cost(j->datastore_id) + hlfs_str_cost(j->message) + hlfs_json_cost(j->raw);
}

size_t hlfs_datastore_list_cost(const struct hl_datastore_list *l)
{
	if (!l)
		return 0;
	size_t total = hlfs_alloc_cost(sizeof(*l)) + hlfs_alloc_cost(l->n * sizeof(*l->items)) +
		       hlfs_str_cost(l->next_token);
	for (size_t i = 0; i < l->n; i++)
		total += hlfs_datastore_cost(&l->items[i]);
	return total;
}

size_t hlfs_tag_list_cost(const struct hl_tag_list *t)
{
	if (!t)
		return 0;
	size_t total = hlfs_alloc_cost(sizeof(*t)) + hlfs_alloc_cost(t->n * sizeof(*t->items));
	for (size_t i = 0; i < t->n; i++)
		total += hlfs_str_cost(t->items[i].key) + hlfs_str_cost(t->items[i].value);
	return total;
}
