/* libFuzzer target: FHIR names and search queries (fs/fhirname.h,
 * fs/fhirquery.h). Checks the invariants the FUSE glue relies on: ids and
 * types it is handed obey their rules, a parsed query's wire form is strictly
 * encoded and parses back to the same parameters and key, and names built
 * back from a parse parse again to the same thing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhirname.h"
#include "fhirquery.h"

static bool strict(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool unres = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
		if (!unres && c != '%' && c != '=' && c != '&')
			return false;
	}
	return true;
}

static void check_query(const char *q, size_t n, enum hlfs_fq_mode mode)
{
	struct hlfs_fhirquery a, b;
	const char *why = NULL;
	int chk = hlfs_fhirquery_check(q, n, mode, &why);
	int rc = hlfs_fhirquery_parse(q, n, mode, &a, &why);

	if (rc == -ENOMEM)
		return;
	if ((rc == 0) != (chk == 0))
		abort(); /* check and parse must agree */
	if (rc < 0) {
		if (rc != -EINVAL || !why)
			abort();
		return;
	}
	if (!strict(a.wire) || !strict(a.key) || strlen(a.wire) != strlen(a.key))
		abort();
	for (size_t i = 0; i < a.n; i++)
		if (!a.p[i].key[0] ||
		    (mode == HLFS_FQ_USER && hlfs_fhirquery_owned(a.p[i].key, strlen(a.p[i].key))))
			abort();
	/* The wire form is a fixed point: it parses to the same pairs and key. */
	if (hlfs_fhirquery_parse(a.wire, strlen(a.wire), mode, &b, &why) == 0) {
		if (b.n != a.n || strcmp(a.wire, b.wire) || strcmp(a.key, b.key))
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (strcmp(a.p[i].key, b.p[i].key) || strcmp(a.p[i].value, b.p[i].value))
				abort();
		hlfs_fhirquery_free(&b);
	} else if (a.n) {
		abort();
	}
	hlfs_fhirquery_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct hlfs_fhirpath p;
	const char *why = NULL;
	int rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = hlfs_fhirpath_parse(s, size & 1, &p, &why);
	if (rc == 0) {
		struct hlfs_fhirname *l = &p.leaf;
		char name[HLFS_FHIR_NAME_MAX + 1];

		if (!memchr(l->id, '\0', sizeof l->id) || !memchr(p.type, '\0', sizeof p.type))
			abort();
		if (l->kind != HLFS_FK_FHIR && l->kind != HLFS_FK_METADATA &&
		    l->kind != HLFS_FK_ERROR && !hlfs_fhir_type_r4(p.type, strlen(p.type)))
			abort();
		switch (l->kind) {
		case HLFS_FK_RESOURCE:
		case HLFS_FK_VERSION:
		case HLFS_FK_HISTORY:
		case HLFS_FK_EVERYTHING: {
			struct hlfs_fhirname back;
			int (*fmt)(const char *, char *, size_t) =
			    l->kind == HLFS_FK_HISTORY	    ? hlfs_fhirname_history
			    : l->kind == HLFS_FK_EVERYTHING ? hlfs_fhirname_everything
							    : hlfs_fhirname_resource;
			if (!hlfs_fhir_id_ok(l->id, strlen(l->id)) || fmt(l->id, name, sizeof name))
				abort();
			if (hlfs_fhirname_parse(p.parent, p.type, name, false, &back, &why) ||
			    back.kind != l->kind || strcmp(back.id, l->id))
				abort(); /* formatted names parse back */
			break;
		}
		case HLFS_FK_SEARCH:
			check_query(p.query, p.query_len, HLFS_FQ_USER);
			break;
		default:
			break;
		}
		if (l->kind == HLFS_FK_VERSION && !hlfs_fhir_id_ok(p.owner_id, strlen(p.owner_id)))
			abort();
	} else if ((rc != -ENOENT && rc != -EINVAL && rc != -ENAMETOOLONG && rc != -ENOTDIR) ||
		   !why) {
		abort();
	}
	/* The raw bytes as a query of either kind (NUL included: must stop at no byte). */
	check_query((const char *)data, size, HLFS_FQ_LINK);
	check_query((const char *)data, size, HLFS_FQ_USER);
	free(s);
	return 0;
}
