/* libFuzzer target: the JSON response side of api/json.h, as the client
 * meets it: error answers, success bodies, and the typed readers applied to
 * every list item. The first byte picks the path and shape; the rest is the
 * body. Any crash, leak or sanitizer report is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "iso8601.h"
#include "json.h"

static void take_list(const cJSON *root, const char *member, int kind)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, member);
	const cJSON *it;

	if (!cJSON_IsArray(arr))
		return;
	cJSON_ArrayForEach(it, arr) {
		/* take_* owns its argument, so hand it a copy of the item. */
		cJSON *dup = cJSON_Duplicate(it, 1);
		struct hl_error err;

		if (!dup)
			return;
		if (kind < 0) {
			struct hl_datastore d;

			memset(&d, 0, sizeof d);
			if (hl_json_take_datastore(dup, HL_SHAPE_PROPERTIES, &d, &err) == HL_ERR_OK)
				hl_datastore_clear(&d);
		} else {
			struct hl_job j;

			memset(&j, 0, sizeof j);
			if (hl_json_take_job(dup, (enum hl_job_kind)kind, HL_SHAPE_PROPERTIES, &j,
					     &err) == HL_ERR_OK)
				hl_job_clear(&j);
		}
	}
}

static void success_body(uint8_t sel, const char *body, size_t len)
{
	struct hl_error err;
	cJSON *root = NULL;
	char *token = NULL;

	if (hl_json_parse_object(body, len, &root, &err) != HL_ERR_OK)
		return;
	switch (sel % 6) {
	case 0: /* Describe/Create/Delete datastore */
	case 1: {
		const char *m = sel % 6 == 0 ? "DatastoreProperties" : NULL;
		cJSON *obj = m ? cJSON_DetachItemFromObjectCaseSensitive(root, m)
			       : cJSON_Duplicate(root, 1);
		struct hl_datastore d;

		memset(&d, 0, sizeof d);
		if (obj && hl_json_take_datastore(obj, sel % 6 == 0 ? HL_SHAPE_PROPERTIES
								    : HL_SHAPE_START,
						  &d, &err) == HL_ERR_OK)
			hl_datastore_clear(&d);
		break;
	}
	case 2: /* Describe/Start import or export job */
	case 3: {
		enum hl_job_kind kind = (sel & 0x10) ? HL_JOB_EXPORT : HL_JOB_IMPORT;
		const char *m = kind == HL_JOB_EXPORT ? "ExportJobProperties" : "ImportJobProperties";
		cJSON *obj = sel % 6 == 2 ? cJSON_DetachItemFromObjectCaseSensitive(root, m)
					  : cJSON_Duplicate(root, 1);
		struct hl_job j;

		memset(&j, 0, sizeof j);
		if (obj && hl_json_take_job(obj, kind, sel % 6 == 2 ? HL_SHAPE_PROPERTIES
								    : HL_SHAPE_START,
					    &j, &err) == HL_ERR_OK)
			hl_job_clear(&j);
		break;
	}
	case 4: /* List pages */
		take_list(root, "DatastorePropertiesList", -1);
		take_list(root, "ImportJobPropertiesList", HL_JOB_IMPORT);
		take_list(root, "ExportJobPropertiesList", HL_JOB_EXPORT);
		if (hl_json_opt_string(root, "NextToken", &token, &err) == HL_ERR_OK)
			free(token);
		break;
	default: { /* ListTagsForResource and timestamps */
		struct hl_tag_list tags;
		const cJSON *it;
		double t;

		memset(&tags, 0, sizeof tags);
		if (hl_json_tags(root, &tags, &err) == HL_ERR_OK) {
			/* The list is embedded here, so free its members only. */
			for (size_t i = 0; i < tags.n; i++) {
				free(tags.items[i].key);
				free(tags.items[i].value);
			}
			free(tags.items);
		}
		cJSON_ArrayForEach(it, root) {
			(void)hl_json_timestamp(it, &t);
		}
		break;
	}
	}
	cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	if (sel & 0x80) {
		/* An error answer; the status and the X-Amzn-ErrorType header come
		 * from the body's first line when there is one. */
		struct hl_error err;
		char hdr[96] = "";
		const char *nl = memchr(body, '\n', len < sizeof hdr - 1 ? len : sizeof hdr - 1);
		long status = 300 + (long)(sel & 0x7f) * 2;

		hl_error_clear(&err);
		if (nl) {
			memcpy(hdr, body, (size_t)(nl - body));
			hdr[nl - body] = '\0';
			len -= (size_t)(nl - body) + 1;
			body = nl + 1;
		}
		(void)hl_json_error_decode(status, "Reason", nl ? hdr : NULL, body, len, &err);
		/* The decoded fields must be NUL-terminated within their arrays. */
		if (!memchr(err.aws_code, '\0', sizeof err.aws_code) ||
		    !memchr(err.message, '\0', sizeof err.message))
			abort();
		return 0;
	}
	if ((sel & 0x60) == 0x60) {
		/* A timestamp string. */
		char *s = malloc(len + 1);
		double t;

		if (!s)
			return 0;
		memcpy(s, body, len);
		s[len] = '\0';
		(void)hl_iso8601_parse(s, &t);
		free(s);
		return 0;
	}
	success_body(sel, body, len);
	return 0;
}
