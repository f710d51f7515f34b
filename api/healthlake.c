/* The 13 HealthLake operations: validate the input, build the body, call,
 * turn the answer into typed results. */
#include "healthlake.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client_i.h"
#include "json.h"
#include "rand.h"

/* max_items 0 for the *_all helpers means this many. */
#define HL_DEFAULT_MAX_ITEMS 100000

/* ---- Frees ---- */

void hl_datastore_free(struct hl_datastore *d)
{
	if (!d)
		return;
	hl_datastore_clear(d);
	free(d);
}

void hl_job_free(struct hl_job *j)
{
	if (!j)
		return;
	hl_job_clear(j);
	free(j);
}

void hl_datastore_list_free(struct hl_datastore_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		hl_datastore_clear(&l->items[i]);
	free(l->items);
	free(l->next_token);
	free(l);
}

void hl_job_list_free(struct hl_job_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		hl_job_clear(&l->items[i]);
	free(l->items);
	free(l->next_token);
	free(l);
}

void hl_tag_list_free(struct hl_tag_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	free(l);
}

bool hl_job_status_terminal(const char *status)
{
	static const char *const terminal[] = {
	    "COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_COMPLETED", "CANCEL_FAILED",
	};
	if (!status)
		return false;
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
		if (strcmp(status, terminal[i]) == 0)
			return true;
	return false;
}

/* A call refused before anything was sent makes no on_call report: nothing
 * happened on the wire (DESIGN.md counts calls, not refusals). */
static enum hl_err refuse(struct hl_error *err, enum hl_err rc)
{
	if (err)
		err->code = rc;
	return rc;
}

/* Runs op with body (which it frees); NULL body means out of memory. */
static enum hl_err call(struct hl_client *c, const char *op, char *body, int64_t deadline_ms,
			cJSON **ret, struct hl_error *err)
{
	if (!body)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	enum hl_err rc = hl_client_call(c, op, body, deadline_ms, ret, err);
	free(body);
	return rc;
}

/* Detaches member name of root as an object (required). */
static enum hl_err detach_object(cJSON *root, const char *name, cJSON **ret, struct hl_error *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!cJSON_IsObject(v))
		return hl_error_set(err, HL_ERR_PROTOCOL, "response: %s missing or not an object",
				    name);
	*ret = cJSON_DetachItemViaPointer(root, v);
	return HL_ERR_OK;
}

static enum hl_err next_token_of(const cJSON *root, char **ret, struct hl_error *err)
{
	char *t = NULL;
	enum hl_err rc = hl_json_opt_string(root, "NextToken", &t, err);
	if (rc)
		return rc;
	if (t && !t[0]) {
		/* An empty token ends the listing, as in the SDKs. */
		free(t);
		t = NULL;
	}
	*ret = t;
	return HL_ERR_OK;
}

/* ---- Data stores ---- */

static enum hl_err datastore_result(cJSON *root, enum hl_shape shape, struct hl_datastore **ret,
				    struct hl_error *err)
{
	struct hl_datastore *d = calloc(1, sizeof(*d));
	enum hl_err rc;
	if (!d) {
		cJSON_Delete(root);
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	}
	if ((rc = hl_json_take_datastore(root, shape, d, err))) {
		free(d);
		return rc;
	}
	*ret = d;
	return HL_ERR_OK;
}

enum hl_err hl_create_datastore(struct hl_client *c, const struct hl_create_datastore_input *in,
				int64_t deadline_ms, struct hl_datastore **ret,
				struct hl_error *err)
{
	char token[37];
	cJSON *root = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if (!in)
		return refuse(err, hl_error_set(err, HL_ERR_INVALID, "no input"));
	if ((rc = hl_check("DatastoreName", in->name, hl_validate_datastore_name, false, err)) ||
	    (rc =
		 hl_check("DatastoreTypeVersion", in->type_version, hl_check_type_version, false, err)) ||
	    (rc = hl_check("KmsKeyId", in->kms_key_id, hl_validate_kms_key_id, false, err)) ||
	    (rc = hl_check("ClientToken", in->client_token, hl_validate_client_token, false, err)) ||
	    (rc = hl_check_tags(in->tags, in->n_tags, err)))
		return refuse(err, rc);
	if (!in->client_token && (rc = hl_uuid4(token)))
		return hl_error_set(err, rc, "no randomness for the client token");
	rc = call(c, "CreateFHIRDatastore",
		  hl_body_create_datastore(in, in->client_token ? in->client_token : token),
		  deadline_ms, &root, err);
	if (rc)
		return rc;
	return datastore_result(root, HL_SHAPE_START, ret, err);
}

static enum hl_err datastore_by_id(struct hl_client *c, const char *op, const char *id,
				   int64_t deadline_ms, struct hl_datastore **ret,
				   struct hl_error *err)
{
	cJSON *root = NULL, *props = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if ((rc = hl_check("DatastoreId", id, hl_validate_datastore_id, true, err)))
		return refuse(err, rc);
	if ((rc = call(c, op, hl_body_datastore_id(id), deadline_ms, &root, err)))
		return rc;
	if (strcmp(op, "DescribeFHIRDatastore") != 0)
		return datastore_result(root, HL_SHAPE_START, ret, err);
	rc = detach_object(root, "DatastoreProperties", &props, err);
	cJSON_Delete(root);
	if (rc)
		return rc;
	return datastore_result(props, HL_SHAPE_PROPERTIES, ret, err);
}

enum hl_err hl_delete_datastore(struct hl_client *c, const char *id, int64_t deadline_ms,
				struct hl_datastore **ret, struct hl_error *err)
{
	return datastore_by_id(c, "DeleteFHIRDatastore", id, deadline_ms, ret, err);
}

enum hl_err hl_describe_datastore(struct hl_client *c, const char *id, int64_t deadline_ms,
				  struct hl_datastore **ret, struct hl_error *err)
{
	return datastore_by_id(c, "DescribeFHIRDatastore", id, deadline_ms, ret, err);
}

static enum hl_err check_list_datastores(const struct hl_list_datastores_input *in,
					 struct hl_error *err)
{
	enum hl_err rc;
	if (!in)
		return HL_ERR_OK;
	if ((rc =
		 hl_check("Filter.DatastoreName", in->name, hl_validate_datastore_name, false, err)) ||
	    (rc =
		 hl_check("Filter.DatastoreStatus", in->status, hl_check_datastore_status, false, err)) ||
	    (rc = hl_check_time("Filter.CreatedBefore", in->created_before, err)) ||
	    (rc = hl_check_time("Filter.CreatedAfter", in->created_after, err)) ||
	    (rc = hl_check_max_results(in->max_results, err)) ||
	    (rc = hl_check("NextToken", in->next_token, hl_check_next_token, false, err)))
		return rc;
	return HL_ERR_OK;
}

/* Finds the list member of one page's root (*ret_arr) and makes room in
 * *items (have held so far, each size bytes) for its *ret_n entries, at most
 * max_items in all. Shared by the datastore and job listings. */
static enum hl_err page_items(cJSON *root, const char *member, size_t have, size_t max_items,
			      size_t size, void **items, cJSON **ret_arr, size_t *ret_n,
			      struct hl_error *err)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, member);
	if (!cJSON_IsArray(arr))
		return hl_error_set(err, HL_ERR_PROTOCOL, "response: %s missing or not a list",
				    member);
	size_t n = (size_t)cJSON_GetArraySize(arr);
	if (have + n > max_items)
		return hl_error_set(err, HL_ERR_PROTOCOL, "listing has more than %zu items",
				    max_items);
	*ret_arr = arr;
	*ret_n = n;
	if (!n)
		return HL_ERR_OK;
	void *p = realloc(*items, (have + n) * size);
	if (!p)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	*items = p;
	return HL_ERR_OK;
}

/* Appends the datastores of one page's list member to l (taking them out
 * of root). */
static enum hl_err take_datastores(cJSON *root, struct hl_datastore_list *l, size_t max_items,
				   struct hl_error *err)
{
	void *items = l->items;
	cJSON *arr = NULL;
	size_t n = 0;
	enum hl_err rc = page_items(root, "DatastorePropertiesList", l->n, max_items,
				    sizeof(*l->items), &items, &arr, &n, err);
	l->items = items;
	for (size_t i = 0; !rc && i < n; i++) {
		cJSON *item = cJSON_DetachItemFromArray(arr, 0);
		rc = hl_json_take_datastore(item, HL_SHAPE_PROPERTIES, &l->items[l->n], err);
		l->n += !rc;
	}
	return rc;
}

/* The NextTokens a paged listing has handed out, to stop a service that
 * loops (a hostile or broken answer) instead of paging forever. */
struct tokens {
	char **items;
	size_t n;
};

static enum hl_err tokens_remember(struct tokens *t, const char *token, struct hl_error *err)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->items[i], token) == 0)
			return hl_error_set(err, HL_ERR_PROTOCOL,
					    "listing repeated a NextToken (paging loop)");
	char **s = realloc(t->items, (t->n + 1) * sizeof(*s));
	if (!s)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	t->items = s;
	if (!(s[t->n] = strdup(token)))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	t->n++;
	return HL_ERR_OK;
}

static void tokens_free(struct tokens *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i]);
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

/* One listing operation seen as pages: body() builds a page's request from
 * the NextToken, take() appends the page's items (at most max in all). */
struct pager {
	const char *op;
	char *(*body)(const void *ctx, const char *token);
	enum hl_err (*take)(const void *ctx, cJSON *root, size_t max, struct hl_error *err);
	const void *ctx;
};

/* Fetches one page from first_token (all == false) or every page, guarding
 * against a looping NextToken. On success *ret_token is the next page's token
 * of a one-page listing (caller frees), else NULL. */
static enum hl_err run_pages(struct hl_client *c, const struct pager *p, const char *first_token,
			     bool all, size_t max_items, int64_t deadline_ms, char **ret_token,
			     struct hl_error *err)
{
	struct tokens seen = {NULL, 0};
	char *token = NULL;
	cJSON *root = NULL;
	enum hl_err rc;
	if (!all && first_token && !(token = strdup(first_token)))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	for (;;) {
		if ((rc = call(c, p->op, p->body(p->ctx, token), deadline_ms, &root, err)))
			goto out;
		if ((rc = p->take(p->ctx, root, all ? max_items : SIZE_MAX, err)))
			goto out;
		free(token);
		token = NULL;
		if ((rc = next_token_of(root, &token, err)))
			goto out;
		cJSON_Delete(root);
		root = NULL;
		if (!all || !token)
			break;
		if ((rc = tokens_remember(&seen, token, err)))
			goto out;
	}
	*ret_token = all ? NULL : token;
	if (!all)
		token = NULL;
	rc = HL_ERR_OK;
out:
	tokens_free(&seen);
	free(token);
	cJSON_Delete(root);
	return rc;
}

struct datastore_pages {
	const struct hl_list_datastores_input *in;
	struct hl_datastore_list *l;
};

static char *datastore_page_body(const void *ctx, const char *token)
{
	return hl_body_list_datastores(((const struct datastore_pages *)ctx)->in, token);
}

static enum hl_err datastore_page_take(const void *ctx, cJSON *root, size_t max,
				       struct hl_error *err)
{
	return take_datastores(root, ((const struct datastore_pages *)ctx)->l, max, err);
}

/* Shared by the one-page and all-pages listings. */
static enum hl_err list_datastores(struct hl_client *c, const struct hl_list_datastores_input *in,
				   bool all, size_t max_items, int64_t deadline_ms,
				   struct hl_datastore_list **ret, struct hl_error *err)
{
	struct hl_datastore_list *l = calloc(1, sizeof(*l));
	enum hl_err rc;
	hl_error_clear(err);
	if (!l)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	if ((rc = check_list_datastores(in, err))) {
		refuse(err, rc);
		goto out;
	}
	struct datastore_pages ctx = {in, l};
	struct pager p = {"ListFHIRDatastores", datastore_page_body, datastore_page_take, &ctx};
	if ((rc = run_pages(c, &p, in ? in->next_token : NULL, all, max_items, deadline_ms,
			    &l->next_token, err)))
		goto out;
	*ret = l;
	l = NULL;
out:
	hl_datastore_list_free(l);
	return rc;
}

enum hl_err hl_list_datastores(struct hl_client *c, const struct hl_list_datastores_input *in,
			       int64_t deadline_ms, struct hl_datastore_list **ret,
			       struct hl_error *err)
{
	return list_datastores(c, in, false, 0, deadline_ms, ret, err);
}

enum hl_err hl_list_datastores_all(struct hl_client *c, const struct hl_list_datastores_input *in,
				   size_t max_items, int64_t deadline_ms,
				   struct hl_datastore_list **ret, struct hl_error *err)
{
	return list_datastores(c, in, true, max_items ? max_items : HL_DEFAULT_MAX_ITEMS,
			       deadline_ms, ret, err);
}

/* ---- Jobs ---- */

static enum hl_err job_result(cJSON *obj, enum hl_job_kind kind, enum hl_shape shape,
			      struct hl_job **ret, struct hl_error *err)
{
	struct hl_job *j = calloc(1, sizeof(*j));
	enum hl_err rc;
	if (!j) {
		cJSON_Delete(obj);
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	}
	if ((rc = hl_json_take_job(obj, kind, shape, j, err))) {
		free(j);
		return rc;
	}
	*ret = j;
	return HL_ERR_OK;
}

enum hl_err hl_start_import_job(struct hl_client *c, const struct hl_start_import_input *in,
				int64_t deadline_ms, struct hl_job **ret, struct hl_error *err)
{
	char token[37];
	cJSON *root = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if (!in)
		return refuse(err, hl_error_set(err, HL_ERR_INVALID, "no input"));
	if ((rc = hl_check("DatastoreId", in->datastore_id, hl_validate_datastore_id, true, err)) ||
	    (rc = hl_check("JobName", in->job_name, hl_validate_job_name, false, err)) ||
	    (rc =
		 hl_check("InputDataConfig.S3Uri", in->input_s3_uri, hl_validate_s3_uri, true, err)) ||
	    (rc = hl_check("JobOutputDataConfig.S3Configuration.S3Uri", in->output_s3_uri,
			hl_validate_s3_uri, true, err)) ||
	    (rc = hl_check("JobOutputDataConfig.S3Configuration.KmsKeyId", in->kms_key_id,
			hl_validate_kms_key_id, true, err)) ||
	    (rc = hl_check("DataAccessRoleArn", in->role_arn, hl_validate_role_arn, true, err)) ||
	    (rc = hl_check("ClientToken", in->client_token, hl_validate_client_token, false, err)) ||
	    (rc = hl_check("ValidationLevel", in->validation_level, hl_check_validation_level, false,
			err)))
		return refuse(err, rc);
	if (!in->client_token && (rc = hl_uuid4(token)))
		return hl_error_set(err, rc, "no randomness for the client token");
	rc = call(c, "StartFHIRImportJob",
		  hl_body_start_import(in, in->client_token ? in->client_token : token),
		  deadline_ms, &root, err);
	if (rc)
		return rc;
	return job_result(root, HL_JOB_IMPORT, HL_SHAPE_START, ret, err);
}

enum hl_err hl_start_export_job(struct hl_client *c, const struct hl_start_export_input *in,
				int64_t deadline_ms, struct hl_job **ret, struct hl_error *err)
{
	char token[37];
	cJSON *root = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if (!in)
		return refuse(err, hl_error_set(err, HL_ERR_INVALID, "no input"));
	if ((rc = hl_check("DatastoreId", in->datastore_id, hl_validate_datastore_id, true, err)) ||
	    (rc = hl_check("JobName", in->job_name, hl_validate_job_name, false, err)) ||
	    (rc = hl_check("OutputDataConfig.S3Configuration.S3Uri", in->output_s3_uri,
			hl_validate_s3_uri, true, err)) ||
	    (rc = hl_check("OutputDataConfig.S3Configuration.KmsKeyId", in->kms_key_id,
			hl_validate_kms_key_id, true, err)) ||
	    (rc = hl_check("DataAccessRoleArn", in->role_arn, hl_validate_role_arn, true, err)) ||
	    (rc = hl_check("ClientToken", in->client_token, hl_validate_client_token, false, err)))
		return refuse(err, rc);
	if (!in->client_token && (rc = hl_uuid4(token)))
		return hl_error_set(err, rc, "no randomness for the client token");
	rc = call(c, "StartFHIRExportJob",
		  hl_body_start_export(in, in->client_token ? in->client_token : token),
		  deadline_ms, &root, err);
	if (rc)
		return rc;
	return job_result(root, HL_JOB_EXPORT, HL_SHAPE_START, ret, err);
}

enum hl_err hl_describe_job(struct hl_client *c, enum hl_job_kind kind, const char *datastore_id,
			    const char *job_id, int64_t deadline_ms, struct hl_job **ret,
			    struct hl_error *err)
{
	bool imp = kind == HL_JOB_IMPORT;
	cJSON *root = NULL, *props = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if ((rc = hl_check("DatastoreId", datastore_id, hl_validate_datastore_id, true, err)) ||
	    (rc = hl_check("JobId", job_id, hl_validate_job_id, true, err)))
		return refuse(err, rc);
	if ((rc = call(c, imp ? "DescribeFHIRImportJob" : "DescribeFHIRExportJob",
		       hl_body_describe_job(datastore_id, job_id), deadline_ms, &root, err)))
		return rc;
	rc = detach_object(root, imp ? "ImportJobProperties" : "ExportJobProperties", &props, err);
	cJSON_Delete(root);
	if (rc)
		return rc;
	return job_result(props, kind, HL_SHAPE_PROPERTIES, ret, err);
}

static enum hl_err take_jobs(cJSON *root, enum hl_job_kind kind, struct hl_job_list *l,
			     size_t max_items, struct hl_error *err)
{
	const char *member =
	    kind == HL_JOB_IMPORT ? "ImportJobPropertiesList" : "ExportJobPropertiesList";
	void *items = l->items;
	cJSON *arr = NULL;
	size_t n = 0;
	enum hl_err rc =
	    page_items(root, member, l->n, max_items, sizeof(*l->items), &items, &arr, &n, err);
	l->items = items;
	for (size_t i = 0; !rc && i < n; i++) {
		cJSON *item = cJSON_DetachItemFromArray(arr, 0);
		rc = hl_json_take_job(item, kind, HL_SHAPE_PROPERTIES, &l->items[l->n], err);
		l->n += !rc;
	}
	return rc;
}

struct job_pages {
	const struct hl_list_jobs_input *in;
	enum hl_job_kind kind;
	struct hl_job_list *l;
};

static char *job_page_body(const void *ctx, const char *token)
{
	return hl_body_list_jobs(((const struct job_pages *)ctx)->in, token);
}

static enum hl_err job_page_take(const void *ctx, cJSON *root, size_t max, struct hl_error *err)
{
	const struct job_pages *j = ctx;
	return take_jobs(root, j->kind, j->l, max, err);
}

static enum hl_err list_jobs(struct hl_client *c, enum hl_job_kind kind,
			     const struct hl_list_jobs_input *in, bool all, size_t max_items,
			     int64_t deadline_ms, struct hl_job_list **ret, struct hl_error *err)
{
	const char *op = kind == HL_JOB_IMPORT ? "ListFHIRImportJobs" : "ListFHIRExportJobs";
	struct hl_job_list *l = calloc(1, sizeof(*l));
	enum hl_err rc;
	hl_error_clear(err);
	if (!l)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	if (!in) {
		rc = refuse(err, hl_error_set(err, HL_ERR_INVALID, "DatastoreId is required"));
		goto out;
	}
	if ((rc = hl_check("DatastoreId", in->datastore_id, hl_validate_datastore_id, true, err)) ||
	    (rc = hl_check("JobName", in->job_name, hl_validate_job_name, false, err)) ||
	    (rc = hl_check("JobStatus", in->job_status, hl_check_job_status, false, err)) ||
	    (rc = hl_check_time("SubmittedBefore", in->submitted_before, err)) ||
	    (rc = hl_check_time("SubmittedAfter", in->submitted_after, err)) ||
	    (rc = hl_check_max_results(in->max_results, err)) ||
	    (rc = hl_check("NextToken", in->next_token, hl_check_next_token, false, err))) {
		refuse(err, rc);
		goto out;
	}
	struct job_pages ctx = {in, kind, l};
	struct pager p = {op, job_page_body, job_page_take, &ctx};
	if ((rc = run_pages(c, &p, in->next_token, all, max_items, deadline_ms, &l->next_token,
			    err)))
		goto out;
	*ret = l;
	l = NULL;
out:
	hl_job_list_free(l);
	return rc;
}

enum hl_err hl_list_jobs(struct hl_client *c, enum hl_job_kind kind,
			 const struct hl_list_jobs_input *in, int64_t deadline_ms,
			 struct hl_job_list **ret, struct hl_error *err)
{
	return list_jobs(c, kind, in, false, 0, deadline_ms, ret, err);
}

enum hl_err hl_list_jobs_all(struct hl_client *c, enum hl_job_kind kind,
			     const struct hl_list_jobs_input *in, size_t max_items,
			     int64_t deadline_ms, struct hl_job_list **ret, struct hl_error *err)
{
	return list_jobs(c, kind, in, true, max_items ? max_items : HL_DEFAULT_MAX_ITEMS,
			 deadline_ms, ret, err);
}

/* ---- Tags ---- */

enum hl_err hl_tag_resource(struct hl_client *c, const char *arn, const struct hl_tag *tags,
			    size_t n, int64_t deadline_ms, struct hl_error *err)
{
	cJSON *root = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if ((rc = hl_check("ResourceARN", arn, hl_check_arn, true, err)) ||
	    (rc = hl_check_tags(tags, n, err)))
		return refuse(err, rc);
	rc = call(c, "TagResource", hl_body_tag_resource(arn, tags, n), deadline_ms, &root, err);
	cJSON_Delete(root);
	return rc;
}

enum hl_err hl_untag_resource(struct hl_client *c, const char *arn, const char *const *keys,
			      size_t n, int64_t deadline_ms, struct hl_error *err)
{
	cJSON *root = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if ((rc = hl_check("ResourceARN", arn, hl_check_arn, true, err)))
		return refuse(err, rc);
	if (n > HL_MAX_TAGS)
		return refuse(
		    err, hl_error_set(err, HL_ERR_INVALID, "TagKeys: at most %d", HL_MAX_TAGS));
	if (n && !keys)
		return refuse(err, hl_error_set(err, HL_ERR_INVALID, "TagKeys: missing"));
	for (size_t i = 0; i < n; i++)
		if ((rc = hl_check("TagKeys", keys[i], hl_validate_tag_key, true, err)))
			return refuse(err, rc);
	rc =
	    call(c, "UntagResource", hl_body_untag_resource(arn, keys, n), deadline_ms, &root, err);
	cJSON_Delete(root);
	return rc;
}

enum hl_err hl_list_tags(struct hl_client *c, const char *arn, int64_t deadline_ms,
			 struct hl_tag_list **ret, struct hl_error *err)
{
	cJSON *root = NULL;
	struct hl_tag_list *l = NULL;
	enum hl_err rc;
	hl_error_clear(err);
	if ((rc = hl_check("ResourceARN", arn, hl_check_arn, true, err)))
		return refuse(err, rc);
	if ((rc = call(c, "ListTagsForResource", hl_body_list_tags(arn), deadline_ms, &root, err)))
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = hl_json_tags(root, l, err)))
		goto out;
	*ret = l;
	l = NULL;
	rc = HL_ERR_OK;
out:
	free(l);
	cJSON_Delete(root);
	return rc;
}
