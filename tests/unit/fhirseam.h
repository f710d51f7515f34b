/* The FHIR data plane's side of the scripted server (seam.h), for the seam
 * tests of the fhir/ tree: the answers a store gives below
 * <endpoint>/datastore/<id>/r4/ (a CapabilityStatement, resources, Bundle
 * pages whose next links lead back to the same server) and a readdir
 * collector. Header-only. */
#ifndef HLFS_TEST_FHIRSEAM_H
#define HLFS_TEST_FHIRSEAM_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "open.h"
#include "seam.h"
#include "tree.h"

/* Where the store's FHIR requests go (PROPS's DatastoreEndpoint's path). */
#define FHIR_BASE "/datastore/" DS_ID "/r4/"

/* The store listing that resolves /clinic. */
#define ANSWER_STORES                                                                        \
	{                                                                                    \
		FAKE_ANSWER, 200, "OK", NULL, "{\"DatastorePropertiesList\":[" PROPS "]}", 0 \
	}

/* Three R4 types for the server, one that is no R4 type, and one only a
 * client rest names. */
#define CAPS                                                                                     \
	"{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"kind\":\"instance\"," \
	"\"fhirVersion\":\"4.0.1\",\"format\":[\"json\"],\"rest\":["                             \
	"{\"mode\":\"client\",\"resource\":[{\"type\":\"Account\"}]},"                           \
	"{\"mode\":\"server\",\"resource\":[{\"type\":\"Patient\"},{\"type\":\"Zzzfoo\"},"       \
	"{\"type\":\"Observation\"},{\"type\":\"Encounter\"}]}]}"
#define ANSWER_CAPS                                   \
	{                                             \
		FAKE_ANSWER, 200, "OK", NULL, CAPS, 0 \
	}

#define OUTCOME(code, text)                                                          \
	"{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\"," \
	"\"code\":\"" code "\",\"diagnostics\":\"" text "\"}]}"
#define ANSWER_404                                                                               \
	{                                                                                        \
		FAKE_ANSWER, 404, "Not Found", NULL, OUTCOME("not-found", "no such resource"), 0 \
	}

/* meta.lastUpdated of every resource made here: 2024-01-15T08:00:00Z. */
#define FHIR_T 1705305600
#define FHIR_T_TEXT "2024-01-15T08:00:00Z"

/* One resource of type, id prefix+i, versionId vid, a decimal that must
 * keep its digits. */
static __attribute__((unused)) void fhir_resource(struct hl_buf *b, const char *type,
						  const char *prefix, size_t i, const char *vid)
{
	if (hl_buf_appendf(
		b,
		"{\"resourceType\":\"%s\",\"id\":\"%s%zu\",\"meta\":{\"versionId\":\"%s\","
		"\"lastUpdated\":\"" FHIR_T_TEXT "\"},\"valueQuantity\":{\"value\":120.50}}",
		type, prefix, i, vid) != HL_ERR_OK)
		abort();
}

/* A searchset page: matches prefix<from> .. prefix<from+count-1> of type,
 * then the extra entries (each `{...},` or ""), and a next link to page
 * next_page of the same search on the scripted server (0: none). query is
 * the first page's query. Caller frees. */
static __attribute__((unused)) char *fhir_page(struct world *w, const char *type, const char *query,
					       const char *prefix, size_t from, size_t count,
					       const char *extra, int next_page)
{
	struct hl_buf b;
	hl_buf_init(&b, 0);
	if (hl_buf_appends(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[") !=
	    HL_ERR_OK)
		abort();
	if (next_page &&
	    hl_buf_appendf(&b,
			   "{\"relation\":\"next\",\"url\":\"http://127.0.0.1:%d" FHIR_BASE
			   "%s?%s&page=%d\"}",
			   w->srv->port, type, query, next_page) != HL_ERR_OK)
		abort();
	if (hl_buf_appends(&b, "],\"entry\":[") != HL_ERR_OK)
		abort();
	for (size_t i = 0; i < count; i++) {
		if (hl_buf_appends(&b, "{\"resource\":") != HL_ERR_OK)
			abort();
		fhir_resource(&b, type, prefix, from + i, "1");
		if (hl_buf_appends(&b, ",\"search\":{\"mode\":\"match\"}},") != HL_ERR_OK)
			abort();
	}
	if (hl_buf_appends(&b, extra) != HL_ERR_OK)
		abort();
	if (b.data[b.len - 1] == ',')
		b.len--;
	if (hl_buf_appends(&b, "]}") != HL_ERR_OK)
		abort();
	return hl_buf_steal(&b);
}

/* The scripted server and a mount over it, for a test's main. */
static __attribute__((unused)) bool fhir_world_up(struct fake_srv *srv, struct world *w)
{
	seam_env();
	return ok(fake_start(srv), "fake server up") && ok(world_up(w, srv, false), "a mount");
}

/* What a readdir gave: names and offsets, until the buffer is "full". */
#define LIST_MAX 256
struct listing {
	size_t n, room;
	char name[LIST_MAX][64];
	off_t off[LIST_MAX];
	mode_t type[LIST_MAX];
	mode_t perm[LIST_MAX]; /* the permission bits given with the entry */
};

static __attribute__((unused)) int collect(void *ctx, const char *name, const struct stat *st,
					   off_t off)
{
	struct listing *l = ctx;
	if (l->n >= l->room || l->n >= LIST_MAX)
		return 1;
	snprintf(l->name[l->n], sizeof(l->name[l->n]), "%s", name);
	l->off[l->n] = off;
	l->type[l->n] = st ? st->st_mode & S_IFMT : 0;
	l->perm[l->n] = st ? st->st_mode & 07777 : 0;
	l->n++;
	return 0;
}

/* Lists path from off into l, with room for room entries. */
static __attribute__((unused)) int list_at(struct world *w, const char *path, off_t off,
					   size_t room, struct listing *l, struct hlfs_res *r)
{
	bool overflowed = false; /* as a new open of the directory */
	memset(l, 0, sizeof(*l));
	l->room = room;
	int rc = hlfs_do_readdir_at(&w->fs, path, off, &overflowed, l, collect, r);
	is_int(rc, -r->err, "readdir %s from %lld: the result says what the call returns", path,
	       (long long)off);
	return rc;
}

/* The offset a paged listing gives entry i of page k (fhirtree.c). */
static __attribute__((unused)) off_t page_off(size_t k, size_t i)
{
	return (off_t)(((k + 1) << 20) + i + 1);
}

#endif
