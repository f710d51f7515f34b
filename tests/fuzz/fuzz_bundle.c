/* libFuzzer target: api/bundle.h on arbitrary bytes. On success every
 * entry's resource span must lie inside the body and be a valid JSON object
 * on its own (what fs/ will serve), and the readers of fhirjson must accept
 * it. Any crash, leak, sanitizer report or broken promise is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct hl_bundle b;
	struct hl_error err;

	if (hl_bundle_parse(s, size, &b, &err) != HL_ERR_OK) {
		if (b.entries || b.type || b.next_url || err.code == HL_ERR_OK ||
		    !memchr(err.message, '\0', sizeof err.message))
			abort();
		return 0;
	}
	for (size_t i = 0; i < b.n_entries; i++) {
		struct hl_span r = b.entries[i].resource;
		struct hl_fhir_meta m;

		if (!r.len)
			continue;
		if (r.off > size || r.len > size - r.off || s[r.off] != '{' ||
		    s[r.off + r.len - 1] != '}')
			abort();
		if (hl_json_validate(s + r.off, r.len, &err) != HL_ERR_OK)
			abort();
		if (hl_fhir_meta(s + r.off, r.len, &m, &err) == HL_ERR_OK)
			hl_fhir_meta_clear(&m);
		else if (err.code != HL_ERR_INVALID)
			abort();
	}
	hl_bundle_clear(&b);
	return 0;
}
