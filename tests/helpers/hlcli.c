/* hlcli: one libhealthlake call from the command line, for the pytest suite.
 *
 *   hlcli [options] OPERATION [key=value ...]
 *
 * Options: --endpoint URL --region R --profile P --ca-file F --max-attempts N
 *          --max-tps X --timeout-ms N (per call deadline; default none)
 *          --repeat N (make the call N times, sequentially per thread)
 *          --threads N (run the repeats on N threads at once) --stats
 * Settings not given come from the environment and AWS config like the SDKs.
 * Prints the raw result JSON of the last call on stdout, or
 * {"error": {...}} and exits 1. --stats prints one JSON line per API call
 * (struct hl_call_info) on stderr. Exit 2: usage error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthlake.h"

#define MAX_KV 256

struct args {
	const char *op;
	const char *keys[MAX_KV];
	const char *vals[MAX_KV];
	int n;
	bool *used;
};

struct run {
	struct hl_client *c;
	struct args *a;
	int64_t timeout_ms;
	int repeat;
	enum hl_err rc;
	struct hl_error err;
	char *out; /* JSON text of the last result */
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_call(void *arg, const struct hl_call_info *i)
{
	(void)arg;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "operation", i->operation);
	cJSON_AddStringToObject(o, "code", hl_err_name(i->code));
	cJSON_AddStringToObject(o, "aws_code", i->aws_code);
	cJSON_AddNumberToObject(o, "http_status", (double)i->http_status);
	cJSON_AddNumberToObject(o, "attempts", i->attempts);
	cJSON_AddNumberToObject(o, "throttled", i->throttled);
	cJSON_AddNumberToObject(o, "ms", i->ms);
	cJSON_AddNumberToObject(o, "bytes_in", (double)i->bytes_in);
	cJSON_AddNumberToObject(o, "bytes_out", (double)i->bytes_out);
	cJSON_AddStringToObject(o, "request_id", i->request_id);
	char *s = cJSON_PrintUnformatted(o);
	pthread_mutex_lock(&stats_lock);
	fprintf(stderr, "%s\n", s);
	fflush(stderr);
	pthread_mutex_unlock(&stats_lock);
	free(s);
	cJSON_Delete(o);
}

static const char *get(struct args *a, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->keys[i], key) == 0) {
			a->used[i] = true;
			v = a->vals[i];
		}
	return v;
}

static long long get_int(struct args *a, const char *key)
{
	const char *v = get(a, key);
	return v ? strtoll(v, NULL, 10) : 0;
}

static bool get_bool(struct args *a, const char *key)
{
	const char *v = get(a, key);
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

/* All values of a repeated key, in order; "K=V" values are split for tags. */
static size_t get_all(struct args *a, const char *key, const char **out, size_t max)
{
	size_t n = 0;
	for (int i = 0; i < a->n && n < max; i++)
		if (strcmp(a->keys[i], key) == 0) {
			a->used[i] = true;
			out[n++] = a->vals[i];
		}
	return n;
}

static size_t get_tags(struct args *a, struct hl_tag *tags, char **store, size_t max)
{
	const char *raw[MAX_KV];
	size_t n = get_all(a, "tag", raw, max);
	for (size_t i = 0; i < n; i++) {
		store[i] = strdup(raw[i]);
		char *eq = strchr(store[i], '=');
		if (eq)
			*eq++ = '\0';
		tags[i].key = store[i];
		tags[i].value = eq ? eq : "";
	}
	return n;
}

static char *print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	return s;
}

static char *datastore_out(struct hl_datastore *d)
{
	char *s = print(d->raw);
	hl_datastore_free(d);
	return s;
}

static char *job_out(struct hl_job *j)
{
	char *s = print(j->raw);
	hl_job_free(j);
	return s;
}

static char *ds_list_out(struct hl_datastore_list *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "DatastorePropertiesList");
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(l->items[i].raw, true));
	if (l->next_token)
		cJSON_AddStringToObject(o, "NextToken", l->next_token);
	char *s = print(o);
	cJSON_Delete(o);
	hl_datastore_list_free(l);
	return s;
}

static char *job_list_out(struct hl_job_list *l, enum hl_job_kind kind)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, kind == HL_JOB_IMPORT ? "ImportJobPropertiesList"
								     : "ExportJobPropertiesList");
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(l->items[i].raw, true));
	if (l->next_token)
		cJSON_AddStringToObject(o, "NextToken", l->next_token);
	char *s = print(o);
	cJSON_Delete(o);
	hl_job_list_free(l);
	return s;
}

static char *tags_out(struct hl_tag_list *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "Tags");
	for (size_t i = 0; i < l->n; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "Key", l->items[i].key);
		cJSON_AddStringToObject(t, "Value", l->items[i].value);
		cJSON_AddItemToArray(arr, t);
	}
	char *s = print(o);
	cJSON_Delete(o);
	hl_tag_list_free(l);
	return s;
}

/* Runs the operation once; 2 = unknown operation. */
static int run_once(struct run *r)
{
	struct args *a = r->a;
	struct hl_client *c = r->c;
	int64_t dl = r->timeout_ms ? hl_now_ms() + r->timeout_ms : 0;
	struct hl_error *e = &r->err;
	const char *op = a->op;
	char *out = NULL;
	enum hl_err rc;

	if (strcmp(op, "CreateFHIRDatastore") == 0) {
		struct hl_tag tags[MAX_KV];
		char *store[MAX_KV];
		size_t nt = get_tags(a, tags, store, MAX_KV);
		struct hl_create_datastore_input in = {
		    .name = get(a, "name"),
		    .type_version = get(a, "type_version"),
		    .kms_key_id = get(a, "kms_key_id"),
		    .preload_synthea = get_bool(a, "preload_synthea"),
		    .client_token = get(a, "client_token"),
		    .tags = tags,
		    .n_tags = nt,
		};
		struct hl_datastore *d = NULL;
		if (!(rc = hl_create_datastore(c, &in, dl, &d, e)))
			out = datastore_out(d);
		for (size_t i = 0; i < nt; i++)
			free(store[i]);
	} else if (strcmp(op, "DeleteFHIRDatastore") == 0 ||
		   strcmp(op, "DescribeFHIRDatastore") == 0) {
		struct hl_datastore *d = NULL;
		rc = strcmp(op, "DeleteFHIRDatastore") == 0
			 ? hl_delete_datastore(c, get(a, "id"), dl, &d, e)
			 : hl_describe_datastore(c, get(a, "id"), dl, &d, e);
		if (!rc)
			out = datastore_out(d);
	} else if (strcmp(op, "ListFHIRDatastores") == 0) {
		struct hl_list_datastores_input in = {
		    .name = get(a, "name"),
		    .status = get(a, "status"),
		    .created_before = get_int(a, "created_before"),
		    .created_after = get_int(a, "created_after"),
		    .max_results = (int)get_int(a, "max_results"),
		    .next_token = get(a, "next_token"),
		};
		struct hl_datastore_list *l = NULL;
		if (get_bool(a, "all"))
			rc = hl_list_datastores_all(c, &in, (size_t)get_int(a, "max_items"), dl, &l,
						    e);
		else
			rc = hl_list_datastores(c, &in, dl, &l, e);
		if (!rc)
			out = ds_list_out(l);
	} else if (strcmp(op, "StartFHIRImportJob") == 0) {
		struct hl_start_import_input in = {
		    .datastore_id = get(a, "datastore_id"),
		    .job_name = get(a, "job_name"),
		    .input_s3_uri = get(a, "input_s3_uri"),
		    .output_s3_uri = get(a, "output_s3_uri"),
		    .kms_key_id = get(a, "kms_key_id"),
		    .role_arn = get(a, "role_arn"),
		    .client_token = get(a, "client_token"),
		};
		struct hl_job *j = NULL;
		if (!(rc = hl_start_import_job(c, &in, dl, &j, e)))
			out = job_out(j);
	} else if (strcmp(op, "StartFHIRExportJob") == 0) {
		struct hl_start_export_input in = {
		    .datastore_id = get(a, "datastore_id"),
		    .job_name = get(a, "job_name"),
		    .output_s3_uri = get(a, "output_s3_uri"),
		    .kms_key_id = get(a, "kms_key_id"),
		    .role_arn = get(a, "role_arn"),
		    .client_token = get(a, "client_token"),
		};
		struct hl_job *j = NULL;
		if (!(rc = hl_start_export_job(c, &in, dl, &j, e)))
			out = job_out(j);
	} else if (strcmp(op, "DescribeFHIRImportJob") == 0 ||
		   strcmp(op, "DescribeFHIRExportJob") == 0) {
		enum hl_job_kind k = strstr(op, "Import") ? HL_JOB_IMPORT : HL_JOB_EXPORT;
		struct hl_job *j = NULL;
		if (!(rc = hl_describe_job(c, k, get(a, "datastore_id"), get(a, "job_id"), dl, &j,
					   e)))
			out = job_out(j);
	} else if (strcmp(op, "ListFHIRImportJobs") == 0 || strcmp(op, "ListFHIRExportJobs") == 0) {
		enum hl_job_kind k = strstr(op, "Import") ? HL_JOB_IMPORT : HL_JOB_EXPORT;
		struct hl_list_jobs_input in = {
		    .datastore_id = get(a, "datastore_id"),
		    .job_name = get(a, "job_name"),
		    .job_status = get(a, "job_status"),
		    .submitted_before = get_int(a, "submitted_before"),
		    .submitted_after = get_int(a, "submitted_after"),
		    .max_results = (int)get_int(a, "max_results"),
		    .next_token = get(a, "next_token"),
		};
		struct hl_job_list *l = NULL;
		if (get_bool(a, "all"))
			rc =
			    hl_list_jobs_all(c, k, &in, (size_t)get_int(a, "max_items"), dl, &l, e);
		else
			rc = hl_list_jobs(c, k, &in, dl, &l, e);
		if (!rc)
			out = job_list_out(l, k);
	} else if (strcmp(op, "TagResource") == 0) {
		struct hl_tag tags[MAX_KV];
		char *store[MAX_KV];
		size_t nt = get_tags(a, tags, store, MAX_KV);
		if (!(rc = hl_tag_resource(c, get(a, "arn"), tags, nt, dl, e)))
			out = strdup("{}");
		for (size_t i = 0; i < nt; i++)
			free(store[i]);
	} else if (strcmp(op, "UntagResource") == 0) {
		const char *keys[MAX_KV];
		size_t nk = get_all(a, "key", keys, MAX_KV);
		if (!(rc = hl_untag_resource(c, get(a, "arn"), keys, nk, dl, e)))
			out = strdup("{}");
	} else if (strcmp(op, "ListTagsForResource") == 0) {
		struct hl_tag_list *l = NULL;
		if (!(rc = hl_list_tags(c, get(a, "arn"), dl, &l, e)))
			out = tags_out(l);
	} else {
		return 2;
	}
	free(r->out);
	r->out = out;
	r->rc = rc;
	return 0;
}

static void *run_thread(void *arg)
{
	struct run *r = arg;
	for (int i = 0; i < r->repeat; i++)
		if (run_once(r))
			break;
	return NULL;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: hlcli [--endpoint URL] [--region R] [--profile P] [--ca-file F]\n"
		"             [--max-attempts N] [--max-tps X] [--timeout-ms N] [--repeat N]\n"
		"             [--threads N] [--stats] OPERATION [key=value ...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct hl_client_options opt = {0};
	struct args a = {0};
	int64_t timeout_ms = 0;
	int repeat = 1, threads = 1, i = 1;
	bool stats = false;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--stats") == 0) {
			stats = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (strcmp(o, "--endpoint") == 0)
			opt.endpoint = v;
		else if (strcmp(o, "--region") == 0)
			opt.region = v;
		else if (strcmp(o, "--profile") == 0)
			opt.profile = v;
		else if (strcmp(o, "--ca-file") == 0)
			opt.ca_file = v;
		else if (strcmp(o, "--max-attempts") == 0)
			opt.max_attempts = (int)strtol(v, NULL, 10);
		else if (strcmp(o, "--max-tps") == 0)
			opt.max_tps = strtod(v, NULL);
		else if (strcmp(o, "--timeout-ms") == 0)
			timeout_ms = strtoll(v, NULL, 10);
		else if (strcmp(o, "--repeat") == 0)
			repeat = (int)strtol(v, NULL, 10);
		else if (strcmp(o, "--threads") == 0)
			threads = (int)strtol(v, NULL, 10);
		else
			return usage();
	}
	if (i >= argc || repeat < 1 || threads < 1 || threads > 64)
		return usage();
	a.op = argv[i++];
	for (; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || a.n >= MAX_KV)
			return usage();
		*eq = '\0';
		a.keys[a.n] = argv[i];
		a.vals[a.n] = eq + 1;
		a.n++;
	}
	bool used[MAX_KV] = {false};
	a.used = used;
	if (stats)
		opt.on_call = on_call;

	struct hl_client *c = NULL;
	struct hl_error err;
	enum hl_err rc = hl_client_new(&opt, &c, &err);
	struct run runs[64];
	int status = 0;
	if (rc)
		goto report;

	for (int t = 0; t < threads; t++)
		runs[t] = (struct run){.c = c, .a = &a, .timeout_ms = timeout_ms, .repeat = repeat};
	if (threads == 1) {
		if (run_once(&runs[0]) == 2) {
			fprintf(stderr, "hlcli: unknown operation %s\n", a.op);
			hl_client_free(c);
			return 2;
		}
		for (int k = 1; k < repeat; k++)
			run_once(&runs[0]);
	} else {
		pthread_t tid[64];
		for (int t = 0; t < threads; t++)
			pthread_create(&tid[t], NULL, run_thread, &runs[t]);
		for (int t = 0; t < threads; t++)
			pthread_join(tid[t], NULL);
	}
	for (int k = 0; k < a.n; k++)
		if (!used[k]) {
			fprintf(stderr, "hlcli: unknown key %s for %s\n", a.keys[k], a.op);
			status = 2;
		}
	/* The last thread's last call decides the output. */
	struct run *last = &runs[threads - 1];
	for (int t = 0; t < threads; t++)
		if (runs[t].rc && !last->rc)
			last = &runs[t];
	rc = last->rc;
	err = last->err;
	if (!rc && status == 0)
		printf("%s\n", last->out ? last->out : "{}");
	for (int t = 0; t < threads; t++)
		free(runs[t].out);
	hl_client_free(c);
	if (status)
		return status;
report:
	if (rc) {
		cJSON *o = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", hl_err_name(rc));
		cJSON_AddStringToObject(e, "aws_code", err.aws_code);
		cJSON_AddStringToObject(e, "message", err.message);
		cJSON_AddNumberToObject(e, "http_status", (double)err.http_status);
		cJSON_AddStringToObject(e, "request_id", err.request_id);
		char *s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
		return 1;
	}
	return 0;
}
