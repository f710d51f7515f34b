/* A parser for the AWS shared config and credentials files with the
 * semantics of Python's configparser.RawConfigParser as botocore uses it,
 * plus botocore's one-level nested values (`[services x]`). Pure: parses a
 * buffer, touches no file. Also the POSIX-shell word splitter (Python
 * shlex.split) that both section headers and credential_process need. */
#ifndef HL_INI_H
#define HL_INI_H

#include <stddef.h>

#include "err.h"

/* Bounds that keep a hostile file from costing much time or memory. */
#define HL_INI_MAX_SIZE (1u << 20)
#define HL_INI_MAX_SECTIONS 4096
#define HL_INI_MAX_KEYS 4096

struct hl_ini_entry {
	char *key;		  /* trimmed, ASCII-lowercased (nested keys: trimmed only) */
	char *value;		  /* trimmed; continuation lines joined with '\n' */
	struct hl_ini_entry *sub; /* nested `k = v` lines when the value began empty, else NULL */
	size_t nsub;
	int line; /* 1-based line of the key */
};

struct hl_ini_section {
	char *name; /* literal text between '[' and the last ']' */
	struct hl_ini_entry *entries;
	size_t n;
	int line;
};

/* Sections in file order. A [DEFAULT] section is not listed: as in
 * RawConfigParser its keys are copied into every section lacking them. */
struct hl_ini {
	struct hl_ini_section *sections;
	size_t n;
};

/* Parses len bytes of data (need not be NUL-terminated). Caller frees the
 * result with hl_ini_free(). On error returns HL_ERR_CONFIG (or NOMEM,
 * TOO_LARGE) with "line N: reason" in err->message; the message never
 * quotes a value, which could be a secret. */
enum hl_err hl_ini_parse(const char *data, size_t len, struct hl_ini **ret, struct hl_error *err);
/* Wipes every key and value before freeing. NULL is fine. */
void hl_ini_free(struct hl_ini *ini);

/* Borrowed pointers into ini, NULL when absent. */
const struct hl_ini_section *hl_ini_find(const struct hl_ini *ini, const char *name);
const struct hl_ini_entry *hl_ini_entry(const struct hl_ini_section *s, const char *key);
/* The value of key in s, NULL when s is NULL or the key is absent. */
const char *hl_ini_get(const struct hl_ini_section *s, const char *key);
/* The nested value key (exact match) inside e, NULL when absent. */
const char *hl_ini_sub_get(const struct hl_ini_entry *e, const char *key);

/* Splits s into words as Python's shlex.split(s) does (POSIX mode, no
 * comments): whitespace separates, '...' is literal, "..." honours \" and
 * \\, a bare backslash quotes the next character. On success *ret_argv is a
 * NULL-terminated array (free with hl_shell_split_free()) and *ret_argc its
 * length. Unbalanced quotes or a trailing backslash give HL_ERR_INVALID. */
enum hl_err hl_shell_split(const char *s, char ***ret_argv, size_t *ret_argc, struct hl_error *err);
/* Wipes and frees an array from hl_shell_split(). NULL is fine. */
void hl_shell_split_free(char **argv);

#endif
