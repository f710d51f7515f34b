/* A store's FHIR data through the cache and the FHIR client (api/fhir.h):
 * the CapabilityStatement, resources, versions, and the pages of type
 * listings, searches, histories and $everything, each with its cache
 * policy; the writes (PUT, DELETE) and what they drop. The data plane's
 * only caller of the service. A failure's reason has two lines: one for the
 * directory's .error, which may quote the service, and one for the log,
 * which never holds a value, an id or a query (fhirerr.h). */
#ifndef HLFS_FHIRDATA_H
#define HLFS_FHIRDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "fhirerr.h"
#include "fhirname.h"
#include "fhirpage.h"
#include "fhirquery.h"
#include "healthlake.h"
#include "resolve.h"
#include "result.h"

struct hlfs_fs;
struct hlfs_opts;
struct hl_fhir;

/* Per mount: one FHIR client per store (made at first use), one pacer for
 * them all (fhir_tps is a mount's budget). Its own lock. */
struct hlfs_fhirs;
struct hlfs_fhirs *hlfs_fhirs_new(const struct hlfs_opts *o); /* NULL on ENOMEM */
void hlfs_fhirs_free(struct hlfs_fhirs *f);			 /* NULL-safe */

/* Page size asked of the service (DESIGN.md: `_count=100`). */
#define HLFS_FHIR_PAGE 100

/* One operation's view of the fhir/ subtree of one store. */
struct hlfs_fctx {
	struct hlfs_fs *fs;
	char ds_id[64];
	struct hl_fhir *api;
	struct hlfs_fhirpath fp;
	char name[HLFS_FHIR_NAME_MAX + 1]; /* the last component ("" at fhir/) */
	struct hlfs_fhirquery q; /* fp's search query, parsed (HLFS_FQ_USER) */
	bool has_q;
	char fhir_dk[HLFS_DIRKEY_MAX]; /* fhir/.error's record key */
	char type_dk[HLFS_DIRKEY_MAX]; /* <Type>/.error's ("" at fhir/ itself) */
	int64_t deadline;
};

/* Parses n's path below fhir/ for n's store (which must be ACTIVE as last
 * seen, else ENOENT without a call) and finds its client. create as
 * hlfs_fhirpath_parse. A bad search query is EINVAL with its reason in the
 * type's .error. Release x with hlfs_fctx_fini(), also on failure. */
int hlfs_fctx_init(struct hlfs_fctx *x, struct hlfs_fs *fs, const struct hlfs_treenode *n,
		   bool create, int64_t deadline, struct hlfs_res *res);
void hlfs_fctx_fini(struct hlfs_fctx *x);

/* The getters hand out one reference in *ret; a failure fills res. */

/* The CapabilityStatement (struct hlfs_fcap), kept for the life of the mount. */
int hlfs_fhir_cap(struct hlfs_fctx *x, struct hlfs_cval **ret, struct hlfs_res *res);
/* type's directory exists: an R4 type the CapabilityStatement lists. 0,
 * -ENOENT, or the CapabilityStatement's failure. */
int hlfs_fhir_type_ok(struct hlfs_fctx *x, const char *type, struct hlfs_res *res);
/* A resource (struct hlfs_fres), read when older than attr_ttl. 404 and 410
 * are a plain ENOENT (a lookup), nothing recorded. */
int hlfs_fhir_resource(struct hlfs_fctx *x, const char *type, const char *id,
		       struct hlfs_cval **ret, struct hlfs_res *res);
/* A version of a resource (struct hlfs_fres), for the life of the mount. */
int hlfs_fhir_version(struct hlfs_fctx *x, const char *type, const char *id, const char *vid,
		      struct hlfs_cval **ret, struct hlfs_res *res);

/* The sequences of pages. */
enum hlfs_fsrc {
	HLFS_FS_TYPE,	    /* GET <Type>?_count=100: a type directory */
	HLFS_FS_SEARCH,	    /* GET <Type>?<query>&_count=100: a search directory */
	HLFS_FS_HISTORY,    /* GET <Type>/<id>/_history: a history directory */
	HLFS_FS_EVERYTHING, /* GET Patient/<id>/$everything */
};
/* The most pages one sequence may have: a next-link loop ends here (EIO). */
#define HLFS_FHIR_MAX_PAGES 100000
/* Page k (struct hlfs_fpage) of src for x's path, following next links
 * from page 0; pages are kept for list_ttl. A type listing's resources fill
 * the cache as they arrive. -ENOENT past the last page. */
int hlfs_fhir_page(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k, struct hlfs_cval **ret,
		   struct hlfs_res *res);
/* The same for a caller that holds page k-1 (prev; NULL: none): its next
 * link is followed even when the cache has dropped that page, so a stream
 * whose reader paused past list_ttl costs one page, not every page before
 * it again. */
int hlfs_fhir_page_after(struct hlfs_fctx *x, enum hlfs_fsrc src, size_t k,
			 struct hlfs_cval *prev, struct hlfs_cval **ret, struct hlfs_res *res);

/* PUT of body (sent as is) as type/id, with If-Match W/"<if_match>" when
 * that is not NULL; on success the answer becomes the cached copy and the
 * type's listings and searches are dropped. A conflict is ESTALE naming
 * the current version. name is the file named in the reason. */
int hlfs_fhir_put(struct hlfs_fctx *x, const char *type, const char *id, const char *body,
		  size_t len, const char *if_match, const char *name, struct hlfs_res *res);
/* DELETE of type/id; drops it and the type's listings. */
int hlfs_fhir_delete(struct hlfs_fctx *x, const char *type, const char *id, const char *name,
		     struct hlfs_res *res);

/* A failure found by the mount itself (no call): errno and both lines, in
 * the .error of directory dk, naming the file name. */
int hlfs_fhir_refuse(struct hlfs_res *res, const char *dk, const char *name,
		     enum hlfs_fhir_op op, enum hlfs_fhir_cond cond, const char *detail,
		     unsigned long long limit);

#endif
