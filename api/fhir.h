/* The FHIR R4 REST data plane of one HealthLake data store
 * (AWS-CONVENTIONS.md §7): read, vread, search and its next pages, update,
 * create, delete, history, $everything and capabilities, signed like the
 * control plane (service healthlake), retried by the same loop, paced by
 * its own budget. Bodies are handed back exactly as received: values that
 * are data stay bytes. Knows nothing of FUSE. Thread-safe. */
#ifndef HL_FHIR_H
#define HL_FHIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bundle.h"
#include "err.h"
#include "healthlake.h"
#include "http.h"
#include "pacer.h"

struct hl_fhir_options {
	/* The store's DatastoreEndpoint; only its path is used: requests go to
	 * the client's configured endpoint (scheme, host, port). */
	const char *datastore_endpoint;
	double fhir_tps;	   /* own pacer (pacer.h), arrivals/s; 0: 100 */
	/* A pacer shared with other stores' clients (one budget per mount),
	 * borrowed: it must outlive the result. NULL: an own one, fhir_tps. */
	struct hl_pacer *pacer;
	size_t max_response_bytes; /* one answer, buffered; 0: 64 MiB */
	/* Called after each interaction (operation = "read", "search", ...). */
	void (*on_call)(void *arg, const struct hl_call_info *info);
	void *on_call_arg;
};

struct hl_fhir;

/* Borrows c, which must outlive the result (its configuration, credentials
 * and transport are shared). Caller frees with hl_fhir_free(). */
enum hl_err hl_fhir_new(struct hl_client *c, const struct hl_fhir_options *opt,
			struct hl_fhir **ret, struct hl_error *err);
void hl_fhir_free(struct hl_fhir *f);
/* The base URL requests go to ("http://127.0.0.1:8080/datastore/<id>/r4/"). */
const char *hl_fhir_base_url(const struct hl_fhir *f);

struct hl_fhir_result {
	/* Set by the caller before the call, optional: a 2xx body then goes to
	 * sink as it arrives instead of into body (bounded memory), and
	 * bundle is not read. A streamed answer that fails midway is not
	 * retried. */
	hl_http_sink sink;
	void *sink_arg;

	long status;
	char etag[256];	       /* W/"3" */
	char version_id[64];   /* 3, from the ETag; "" when none */
	char last_modified[64];
	char location[2048];   /* Location or Content-Location */
	struct hl_buf body;    /* exactly as received */
	char *url;	       /* the URL this answer came from */
	/* search, history, $everything: the Bundle read from body, each entry's
	 * resource a span of body (hl_bundle.h), bundle.next_url the next page */
	struct hl_bundle bundle;
	bool replayed;	       /* update: our own earlier attempt had applied the write (a 412
				* on the replay was told apart from a real conflict) */
	int attempts;
};

/* Zeroes *r (sink unset). */
void hl_fhir_result_init(struct hl_fhir_result *r);
/* Frees what r holds and zeroes it; keeps sink and sink_arg. NULL is fine. */
void hl_fhir_result_free(struct hl_fhir_result *r);

/* Every call: type is a FHIR resource type ([A-Za-z]+), id and vid FHIR ids
 * (hl_fhir_id_valid), else HL_ERR_INVALID and nothing is sent. raw_query
 * (may be NULL) is re-encoded strictly (hl_query_encode). deadline_ms is an
 * absolute hl_now_ms() value, 0 for none. On success *res holds the answer
 * (2xx); on failure the error is in *err (as hl_fhir_error_decode() reads
 * it: the OperationOutcome's message, the HTTP status, the class DESIGN.md's
 * errno table maps) and *res holds the last answer, if any. */
enum hl_err hl_fhir_capabilities(struct hl_fhir *f, int64_t deadline_ms,
				 struct hl_fhir_result *res, struct hl_error *err);
enum hl_err hl_fhir_read(struct hl_fhir *f, const char *type, const char *id,
			 int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);
enum hl_err hl_fhir_vread(struct hl_fhir *f, const char *type, const char *id, const char *vid,
			  int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);
/* GET [base]/<type>?<raw_query>. */
enum hl_err hl_fhir_search(struct hl_fhir *f, const char *type, const char *raw_query,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);
/* GET [base]/<type>/<id>/_history?<raw_query>. */
enum hl_err hl_fhir_history(struct hl_fhir *f, const char *type, const char *id,
			    const char *raw_query, int64_t deadline_ms,
			    struct hl_fhir_result *res, struct hl_error *err);
/* GET [base]/Patient/<id>/$everything?<raw_query>. */
enum hl_err hl_fhir_everything(struct hl_fhir *f, const char *id, const char *raw_query,
			       int64_t deadline_ms, struct hl_fhir_result *res,
			       struct hl_error *err);
/* The page after prev (a search, history or $everything answer): GET of
 * prev->bundle.next_url when its scheme, host and port are those prev was sent to
 * (query re-encoded strictly); else HL_ERR_PROTOCOL and no request.
 * HL_ERR_INVALID when prev has no next link. */
enum hl_err hl_fhir_next(struct hl_fhir *f, const struct hl_fhir_result *prev,
			 int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);
/* PUT [base]/<type>/<id> with body (sent byte for byte), If-Match:
 * W/"<if_match_version>" when that is not NULL. Retried like a GET: when a
 * replay after a lost answer gets 412, the current resource is read and,
 * if it is one version past if_match_version and equal to body apart from
 * meta, the call succeeds with that resource (res->replayed). */
enum hl_err hl_fhir_update(struct hl_fhir *f, const char *type, const char *id,
			   const char *body, size_t len, const char *if_match_version,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);
/* POST [base]/<type> with x-amz-fhir-idempotency-key: key, or a UUID4 made
 * once for this call when key is NULL; the same key on every attempt. */
enum hl_err hl_fhir_create(struct hl_fhir *f, const char *type, const char *body, size_t len,
			   const char *key, int64_t deadline_ms, struct hl_fhir_result *res,
			   struct hl_error *err);
enum hl_err hl_fhir_delete(struct hl_fhir *f, const char *type, const char *id,
			   int64_t deadline_ms, struct hl_fhir_result *res, struct hl_error *err);

/* ---- Pure pieces, exposed for the unit tests ---- */

/* The version in an ETag: W/"3" -> 3, "3" -> 3; false when there is none. */
bool hl_fhir_etag_version(const char *etag, char *out, size_t outsz);

#endif
