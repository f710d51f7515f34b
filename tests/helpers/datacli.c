/* datacli: one data-plane call of libhealthlake from the command line, for
 * the pytest suite (like hlcli for the control plane).
 *
 *   datacli [--endpoint URL] [--region R] [--max-attempts N] [--tps X]
 *           [--s3-endpoint URL] [--ds ENDPOINT] COMMAND ARGS...
 *
 * FHIR (--ds: the store's DatastoreEndpoint):
 *   capabilities | read T ID | vread T ID V | delete T ID | history T ID
 *   search T QUERY [MAXPAGES]    follows next links, up to MAXPAGES (default 1)
 *   everything ID QUERY [MAXPAGES]
 *   update T ID FILE [VERSION]   FILE "-" is stdin; VERSION sends If-Match
 *   create T FILE [KEY]
 *   next-link T QUERY LINK       the first page of the search, then LINK as its next
 * S3:
 *   s3-list BUCKET PREFIX | s3-head BUCKET KEY | s3-get BUCKET KEY OFF LEN [ETAG]
 *
 * Prints one JSON object on stdout: the answer (status, etag, version,
 * replayed, attempts, body as received, entries as the spans cut out of each
 * page, next links), or {"error": {...}} and exit 1. Exit 2: usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fhir.h"
#include "healthlake.h"
#include "s3.h"

static int usage(void)
{
	fprintf(stderr, "usage: datacli [options] COMMAND ARGS... (see the source)\n");
	return 2;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct hl_buf b;
	char chunk[65536];
	size_t n;
	if (!f)
		return NULL;
	hl_buf_init(&b, 64u << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hl_buf_append(&b, chunk, n))
			break;
	if (f != stdin)
		fclose(f);
	*len = b.len;
	return hl_buf_steal(&b);
}

static const char *arg(int argc, char **argv, int i)
{
	return argc > i ? argv[i] : NULL;
}

static int pages_arg(int argc, char **argv)
{
	return argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1;
}

static cJSON *error_json(enum hl_err rc, const struct hl_error *e)
{
	cJSON *o = cJSON_CreateObject(), *er = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(er, "code", hl_err_name(rc));
	cJSON_AddNumberToObject(er, "http_status", (double)e->http_status);
	cJSON_AddStringToObject(er, "aws_code", e->aws_code);
	cJSON_AddStringToObject(er, "message", e->message);
	return o;
}

/* A string of n bytes that may hold NULs: cJSON strings cannot, so such a
 * body is reported as null (none of the tests send one). */
static cJSON *bytes_json(const char *p, size_t n)
{
	if (!p || memchr(p, '\0', n))
		return cJSON_CreateNull();
	char *s = strndup(p, n);
	cJSON *j = cJSON_CreateString(s ? s : "");
	free(s);
	return j;
}

static void add_page(cJSON *pages, const struct hl_fhir_result *r)
{
	cJSON *p = cJSON_CreateObject(), *ents = cJSON_AddArrayToObject(p, "entries");
	for (size_t i = 0; i < r->bundle.n_entries; i++) {
		struct hl_span sp = r->bundle.entries[i].resource;
		cJSON_AddItemToArray(ents, bytes_json(r->body.data + sp.off, sp.len));
	}
	if (r->bundle.next_url)
		cJSON_AddStringToObject(p, "next", r->bundle.next_url);
	else
		cJSON_AddNullToObject(p, "next");
	cJSON_AddItemToArray(pages, p);
}

static cJSON *result_json(const struct hl_fhir_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "status", (double)r->status);
	cJSON_AddStringToObject(o, "etag", r->etag);
	cJSON_AddStringToObject(o, "version", r->version_id);
	cJSON_AddStringToObject(o, "last_modified", r->last_modified);
	cJSON_AddStringToObject(o, "location", r->location);
	cJSON_AddBoolToObject(o, "replayed", r->replayed);
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	cJSON_AddItemToObject(o, "body", bytes_json(r->body.data, r->body.len));
	return o;
}

/* A search-like call, then its next pages up to max_pages in all. */
static enum hl_err paged(struct hl_fhir *f, enum hl_err rc, struct hl_fhir_result *r,
			 int max_pages, cJSON **out, struct hl_error *e)
{
	if (rc)
		return rc;
	*out = result_json(r);
	cJSON *pages = cJSON_AddArrayToObject(*out, "pages");
	add_page(pages, r);
	for (int i = 1; i < max_pages && r->bundle.next_url; i++) {
		struct hl_fhir_result next;
		hl_fhir_result_init(&next);
		if ((rc = hl_fhir_next(f, r, 0, &next, e))) {
			hl_fhir_result_free(&next);
			return rc;
		}
		hl_fhir_result_free(r);
		*r = next;
		add_page(pages, r);
	}
	return HL_ERR_OK;
}

static enum hl_err run_fhir(struct hl_client *c, const char *ds, double tps, int argc,
			    char **argv, cJSON **out, struct hl_error *e)
{
	struct hl_fhir *f = NULL;
	struct hl_fhir_result r;
	struct hl_fhir_options fo = {.datastore_endpoint = ds, .fhir_tps = tps};
	const char *cmd = argv[0];
	char *body = NULL;
	size_t len = 0;
	enum hl_err rc;
	hl_fhir_result_init(&r);
	if ((rc = hl_fhir_new(c, &fo, &f, e)))
		return rc;
	if (!strcmp(cmd, "capabilities")) {
		rc = hl_fhir_capabilities(f, 0, &r, e);
	} else if (!strcmp(cmd, "read")) {
		rc = hl_fhir_read(f, arg(argc, argv, 1), arg(argc, argv, 2), 0, &r, e);
	} else if (!strcmp(cmd, "vread")) {
		rc = hl_fhir_vread(f, arg(argc, argv, 1), arg(argc, argv, 2), arg(argc, argv, 3), 0, &r, e);
	} else if (!strcmp(cmd, "delete")) {
		rc = hl_fhir_delete(f, arg(argc, argv, 1), arg(argc, argv, 2), 0, &r, e);
	} else if (!strcmp(cmd, "history")) {
		rc = paged(f, hl_fhir_history(f, arg(argc, argv, 1), arg(argc, argv, 2), NULL, 0, &r, e), &r, 1, out, e);
	} else if (!strcmp(cmd, "search")) {
		rc = paged(f, hl_fhir_search(f, arg(argc, argv, 1), arg(argc, argv, 2), 0, &r, e), &r,
			   pages_arg(argc, argv), out, e);
	} else if (!strcmp(cmd, "everything")) {
		rc = paged(f, hl_fhir_everything(f, arg(argc, argv, 1), arg(argc, argv, 2), 0, &r, e), &r,
			   pages_arg(argc, argv), out, e);
	} else if (!strcmp(cmd, "next-link") && argc >= 4) {
		struct hl_fhir_result next;
		hl_fhir_result_init(&next);
		rc = hl_fhir_search(f, arg(argc, argv, 1), arg(argc, argv, 2), 0, &r, e);
		if (!rc) {
			free(r.bundle.next_url);
			r.bundle.next_url = strdup(argv[3]);
			rc = hl_fhir_next(f, &r, 0, &next, e);
		}
		hl_fhir_result_free(&next);
	} else if ((!strcmp(cmd, "update") && argc >= 4) || (!strcmp(cmd, "create") && argc >= 3)) {
		bool upd = !strcmp(cmd, "update");
		body = read_file(upd ? arg(argc, argv, 3) : arg(argc, argv, 2), &len);
		if (!body)
			rc = hl_error_set(e, HL_ERR_INVALID, "cannot read the body");
		else if (upd)
			rc = hl_fhir_update(f, arg(argc, argv, 1), arg(argc, argv, 2), body, len, arg(argc, argv, 4), 0, &r, e);
		else
			rc = hl_fhir_create(f, arg(argc, argv, 1), body, len, arg(argc, argv, 3), 0, &r, e);
	} else {
		rc = hl_error_set(e, HL_ERR_INVALID, "unknown command %s", cmd);
	}
	if (!rc && !*out)
		*out = result_json(&r);
	free(body);
	hl_fhir_result_free(&r);
	hl_fhir_free(f);
	return rc;
}

static enum hl_err run_s3(struct hl_client *c, const char *endpoint, int argc, char **argv,
			  cJSON **out, struct hl_error *e)
{
	struct hl_s3 *s = NULL;
	struct hl_s3_options so = {.endpoint = endpoint};
	const char *cmd = argv[0];
	enum hl_err rc;
	if ((rc = hl_s3_new(c, &so, &s, e)))
		return rc;
	if (!strcmp(cmd, "s3-list") && argc >= 3) {
		struct hl_s3_list l = {0};
		if (!(rc = hl_s3_list_all(s, argv[1], argv[2], 0, &l, e))) {
			*out = cJSON_CreateObject();
			cJSON *objs = cJSON_AddArrayToObject(*out, "objects");
			for (size_t i = 0; i < l.n_objects; i++) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "key", l.objects[i].key);
				cJSON_AddNumberToObject(o, "size", (double)l.objects[i].size);
				cJSON_AddStringToObject(o, "etag",
							l.objects[i].etag ? l.objects[i].etag : "");
				cJSON_AddItemToArray(objs, o);
			}
		}
		hl_s3_list_clear(&l);
	} else if (!strcmp(cmd, "s3-head") && argc >= 3) {
		struct hl_s3_head h;
		if (!(rc = hl_s3_head_object(s, argv[1], argv[2], 0, &h, e))) {
			*out = cJSON_CreateObject();
			cJSON_AddNumberToObject(*out, "size", (double)h.size);
			cJSON_AddStringToObject(*out, "etag", h.etag);
			cJSON_AddStringToObject(*out, "last_modified", h.last_modified);
		}
	} else if (!strcmp(cmd, "s3-get") && argc >= 5) {
		size_t len = (size_t)strtoull(argv[4], NULL, 10), n = 0;
		char *buf = malloc(len ? len : 1);
		if (!buf)
			rc = hl_error_set(e, HL_ERR_NOMEM, "out of memory");
		else if (!(rc = hl_s3_get_range(s, argv[1], argv[2], strtoull(argv[3], NULL, 10),
						 len, argc > 5 ? argv[5] : NULL, buf, &n, 0, e))) {
			*out = cJSON_CreateObject();
			cJSON_AddItemToObject(*out, "data", bytes_json(buf, n));
		}
		free(buf);
	} else {
		rc = hl_error_set(e, HL_ERR_INVALID, "unknown command %s", cmd);
	}
	hl_s3_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	struct hl_client_options co = {0};
	const char *ds = NULL, *s3_endpoint = NULL;
	double tps = 0;
	int i = 1;
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--endpoint"))
			co.endpoint = argv[i + 1];
		else if (!strcmp(argv[i], "--region"))
			co.region = argv[i + 1];
		else if (!strcmp(argv[i], "--max-attempts"))
			co.max_attempts = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--tps"))
			tps = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--ds"))
			ds = argv[i + 1];
		else if (!strcmp(argv[i], "--s3-endpoint"))
			s3_endpoint = argv[i + 1];
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	struct hl_client *c = NULL;
	struct hl_error e;
	cJSON *out = NULL;
	hl_error_clear(&e);
	enum hl_err rc = hl_client_new(&co, &c, &e);
	if (!rc && !strncmp(argv[i], "s3-", 3))
		rc = run_s3(c, s3_endpoint, argc - i, argv + i, &out, &e);
	else if (!rc)
		rc = run_fhir(c, ds, tps, argc - i, argv + i, &out, &e);
	if (rc) {
		cJSON_Delete(out);
		out = error_json(rc, &e);
	}
	char *text = cJSON_PrintUnformatted(out);
	puts(text ? text : "null");
	free(text);
	cJSON_Delete(out);
	hl_client_free(c);
	return rc ? 1 : 0;
}
