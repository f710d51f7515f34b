/* libFuzzer target: control-file input (fs/input.h). The bytes are cut into
 * writes at points the input chooses, each checked the way the write handler
 * does; a complete (or, at close, any) buffer is parsed for both kinds. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

static void parse_both(const char *buf, size_t len)
{
	static const struct hlfs_input_defaults def = {
		.role_arn = "arn:aws:iam::123456789012:role/HealthLakeImport",
		.import_output = "s3://bucket/out/",
		.kms_key = "arn:aws:kms:us-east-1:123456789012:key/k1",
	};
	static const struct hlfs_input_defaults none = {0};

	for (int k = 0; k < 4; k++) {
		struct hlfs_job_request r;
		char why[256];
		int rc;

		memset(&r, 0, sizeof r);
		memset(why, 'x', sizeof why);
		rc = hlfs_input_parse(k & 1, buf, len, (k & 2) ? &none : &def,
				      "0123456789abcdef0123456789abcdef", &r, why, sizeof why);
		if (rc == 0)
			hlfs_job_request_free(&r);
		else if (rc == -EINVAL && !memchr(why, '\0', sizeof why))
			abort(); /* the reason must be a string */
		else if (rc != -EINVAL && rc != -ENOMEM)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > HLFS_INPUT_MAX + 64)
		return 0;
	/* data[0] is the chunk length step (1..256); the rest is the input. */
	size_t step = (size_t)data[0] + 1;
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1); /* exact size: over-reads trip ASan */
	size_t have = 0;

	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	while (have < len) {
		size_t n = len - have < step ? len - have : step;
		const char *why = NULL;
		enum hlfs_input_state st = hlfs_input_check(buf, have + n, have, &why);

		have += n;
		if (st == HLFS_IN_INVALID) {
			if (!why)
				abort();
			goto out;
		}
		if (st == HLFS_IN_COMPLETE) {
			parse_both(buf, have);
			goto out;
		}
	}
	/* close(2) with input still buffered: acted on as it is. */
	parse_both(buf, len);
out:
	free(buf);
	return 0;
}
