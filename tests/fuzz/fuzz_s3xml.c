/* libFuzzer target: api/s3xml.h, as the S3 client meets it. The first byte
 * picks a ListObjectsV2 page (high bit clear) or an error answer with a
 * status made from that byte; the rest is the body. On success a page must
 * keep its promises (every object has a key and a time, a truncated page a
 * token); a decoded error must leave its strings terminated. Any crash,
 * leak, sanitizer report or broken promise is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct hl_error err;

	if (sel & 0x80) {
		long status = 300 + (long)(sel & 0x7f) * 2;
		hl_error_clear(&err);
		enum hl_err rc = hl_s3_error_decode(status, body, len, &err);
		if (rc == HL_ERR_OK || rc != err.code || err.http_status != status ||
		    !memchr(err.aws_code, '\0', sizeof err.aws_code) || !err.aws_code[0] ||
		    !memchr(err.message, '\0', sizeof err.message) ||
		    !memchr(err.request_id, '\0', sizeof err.request_id))
			abort();
		return 0;
	}

	struct hl_s3_list l;
	if (hl_s3_list_parse(body, len, &l, &err) != HL_ERR_OK) {
		if (l.objects || l.prefixes || l.next_token || err.code == HL_ERR_OK)
			abort();
		return 0;
	}
	if (l.is_truncated && !l.next_token)
		abort();
	for (size_t i = 0; i < l.n_objects; i++)
		if (!l.objects[i].key || !l.objects[i].last_modified)
			abort();
	for (size_t i = 0; i < l.n_prefixes; i++)
		if (!l.prefixes[i])
			abort();
	hl_s3_list_clear(&l);
	return 0;
}
