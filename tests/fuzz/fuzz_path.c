/* libFuzzer target: the path parser and tag-name codec (fs/path.h). Checks
 * the invariants the FUSE glue relies on: bounded, NUL-terminated
 * components, and tag names that decode back to the key they encode. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	struct hlfs_path p;
	int rc;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	memset(&p, 0x55, sizeof p);
	rc = hlfs_path_parse(path, &p);
	if (rc == 0) {
		if (!memchr(p.store, '\0', sizeof p.store) || !memchr(p.leaf, '\0', sizeof p.leaf))
			abort();
		if (p.node == HLFS_N_JOB && !hl_job_id_ok(p.leaf, strlen(p.leaf)))
			abort(); /* a job node must carry a valid job id */
		if (p.node == HLFS_N_FIELD && !hlfs_field_name(p.field))
			abort();
		if (p.node == HLFS_N_TAG) {
			char enc[3 * (HLFS_NAME_MAX + 1)];
			char dec[HLFS_NAME_MAX + 1];

			if (hlfs_tag_encode(p.leaf, enc, sizeof enc) != 0)
				abort();
			if (hlfs_tag_decode(enc, strlen(enc), dec, sizeof dec) != 0 ||
			    strcmp(dec, p.leaf) != 0)
				abort(); /* encode/decode must round-trip */
		}
	} else if (rc != -ENOENT && rc != -ENAMETOOLONG) {
		abort();
	}
	/* The codec on arbitrary bytes as a key (NUL-terminated) and as a name. */
	{
		char enc[64];
		char dec[64];

		if (hlfs_tag_encode(path, enc, sizeof enc) == 0 &&
		    (hlfs_tag_decode(enc, strlen(enc), dec, sizeof dec) != 0 || strcmp(dec, path) != 0))
			abort();
		(void)hlfs_tag_decode((const char *)data, size, dec, sizeof dec);
		(void)hl_job_id_ok((const char *)data, size);
	}
	free(path);
	return 0;
}
