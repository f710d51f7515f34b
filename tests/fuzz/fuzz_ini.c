/* libFuzzer target: the shared config/credentials file parser (api/ini.h)
 * and the shell word splitter that credential_process uses. The parser gets
 * the raw bytes (not NUL-terminated, as from a file); lookups then walk the
 * result the way config.c does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_error err;
	struct hl_ini *ini = NULL;
	/* An exact-size copy, so reading past len trips ASan. */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (hl_ini_parse(buf, size, &ini, &err) == HL_ERR_OK) {
		static const char *const names[] = {"default", "profile default", "profile a",
						    "services x", "sso-session s"};
		static const char *const keys[] = {"aws_access_key_id", "aws_secret_access_key",
						   "region", "credential_process", "healthlake",
						   "endpoint_url", "ca_bundle", "max_attempts"};

		for (size_t i = 0; i < ini->n; i++) {
			const struct hl_ini_section *s = &ini->sections[i];

			for (size_t k = 0; k < s->n; k++) {
				const struct hl_ini_entry *e = &s->entries[k];

				if (!e->key || !e->value)
					abort(); /* every entry has both */
				for (size_t j = 0; j < e->nsub; j++)
					(void)hl_ini_sub_get(e, e->sub[j].key);
			}
		}
		for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
			const struct hl_ini_section *s = hl_ini_find(ini, names[i]);

			for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
				const struct hl_ini_entry *e = hl_ini_entry(s, keys[k]);

				(void)hl_ini_get(s, keys[k]);
				if (e)
					(void)hl_ini_sub_get(e, "endpoint_url");
			}
		}
		hl_ini_free(ini);
	}
	if (size <= 4096) {
		/* credential_process command lines: a NUL-terminated string. */
		char *s = malloc(size + 1);
		char **argv = NULL;
		size_t argc = 0;

		if (s) {
			memcpy(s, data, size);
			s[size] = '\0';
			if (hl_shell_split(s, &argv, &argc, &err) == HL_ERR_OK) {
				for (size_t i = 0; i < argc; i++)
					if (!argv[i])
						abort();
				if (argv[argc])
					abort(); /* NULL-terminated */
				hl_shell_split_free(argv);
			}
			free(s);
		}
	}
	free(buf);
	return 0;
}
