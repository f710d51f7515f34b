#include "xattr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "user.healthlake."

/* Names per kind, in the order listxattr gives them. */
static const char *const store_names[] = {PREFIX "id", PREFIX "arn", PREFIX "status",
					  PREFIX "endpoint", NULL};
static const char *const job_names[] = {PREFIX "status", PREFIX "submit_time", NULL};

static const char *const *names_of(enum hlfs_xattr_kind kind)
{
	static const char *const none[] = {NULL};
	switch (kind) {
	case HLFS_XATTR_STORE:
		return store_names;
	case HLFS_XATTR_JOB:
		return job_names;
	case HLFS_XATTR_NONE:
		break;
	}
	return none;
}

/* The size query / copy / ERANGE rule shared by both calls. */
static int answer(const char *data, size_t len, char *buf, size_t size)
{
	if (len > (size_t)INT32_MAX)
		return -E2BIG;
	if (size == 0)
		return (int)len;
	if (size < len)
		return -ERANGE;
	if (len)
		memcpy(buf, data, len);
	return (int)len;
}

int hlfs_xattr_list(enum hlfs_xattr_kind kind, char *buf, size_t size)
{
	char all[256];
	size_t len = 0;
	for (const char *const *n = names_of(kind); *n; n++) {
		size_t l = strlen(*n) + 1;
		memcpy(all + len, *n, l); /* the tables above fit easily */
		len += l;
	}
	return answer(all, len, buf, size);
}

bool hlfs_xattr_known(enum hlfs_xattr_kind kind, const char *name)
{
	for (const char *const *n = names_of(kind); *n; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

int hlfs_xattr_get(enum hlfs_xattr_kind kind, const struct hlfs_xattr_facts *f, const char *name,
		   char *buf, size_t size)
{
	if (!hlfs_xattr_known(kind, name))
		return -ENODATA;
	const char *leaf = name + strlen(PREFIX), *v = NULL;
	if (strcmp(leaf, "id") == 0)
		v = f->id;
	else if (strcmp(leaf, "arn") == 0)
		v = f->arn;
	else if (strcmp(leaf, "status") == 0)
		v = f->status;
	else if (strcmp(leaf, "endpoint") == 0)
		v = f->endpoint;
	else if (strcmp(leaf, "submit_time") == 0)
		v = f->submit_time;
	if (!v)
		v = "";
	return answer(v, strlen(v), buf, size);
}

/* Copies a string member into *dst; absent or not a string leaves NULL. */
static int take(const cJSON *obj, const char *member, char **dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);
	if (!cJSON_IsString(v) || !v->valuestring)
		return 0;
	*dst = strdup(v->valuestring);
	return *dst ? 0 : -ENOMEM;
}

int hlfs_xattr_facts_parse(enum hlfs_xattr_kind kind, const char *json, size_t len,
			   struct hlfs_xattr_facts *ret)
{
	const char *end = NULL;
	cJSON *root = NULL;
	int rc = -EIO;
	memset(ret, 0, sizeof(*ret));
	root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!cJSON_IsObject(root))
		goto out;
	if (kind == HLFS_XATTR_STORE) {
		if ((rc = take(root, "DatastoreId", &ret->id)) ||
		    (rc = take(root, "DatastoreArn", &ret->arn)) ||
		    (rc = take(root, "DatastoreStatus", &ret->status)) ||
		    (rc = take(root, "DatastoreEndpoint", &ret->endpoint)))
			goto out;
	} else if (kind == HLFS_XATTR_JOB) {
		if ((rc = take(root, "JobStatus", &ret->status)) ||
		    (rc = take(root, "SubmitTime", &ret->submit_time)))
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

void hlfs_xattr_facts_free(struct hlfs_xattr_facts *f)
{
	if (!f)
		return;
	free(f->id);
	free(f->arn);
	free(f->status);
	free(f->endpoint);
	free(f->submit_time);
	memset(f, 0, sizeof(*f));
}
