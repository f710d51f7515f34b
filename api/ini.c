#include "ini.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Python's str.strip() whitespace, restricted to ASCII. */
static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void entries_free(struct hl_ini_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		wipe_free(e[i].key);
		wipe_free(e[i].value);
		entries_free(e[i].sub, e[i].nsub);
	}
	free(e);
}

static void section_free(struct hl_ini_section *s)
{
	wipe_free(s->name);
	entries_free(s->entries, s->n);
}

void hl_ini_free(struct hl_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++)
		section_free(&ini->sections[i]);
	free(ini->sections);
	free(ini);
}

const struct hl_ini_section *hl_ini_find(const struct hl_ini *ini, const char *name)
{
	if (!ini)
		return NULL;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

const struct hl_ini_entry *hl_ini_entry(const struct hl_ini_section *s, const char *key)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

const char *hl_ini_get(const struct hl_ini_section *s, const char *key)
{
	const struct hl_ini_entry *e = hl_ini_entry(s, key);
	return e ? e->value : NULL;
}

const char *hl_ini_sub_get(const struct hl_ini_entry *e, const char *key)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->nsub; i++)
		if (strcmp(e->sub[i].key, key) == 0)
			return e->sub[i].value;
	return NULL;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Parser state. The value being built belongs to the last entry of the
 * current section; only that one can still grow. */
struct parser {
	struct hl_ini *ini;
	long cur;	   /* index of the current section, -1 before the first */
	bool have_opt;	   /* the current section's last entry takes continuations */
	size_t indent;	   /* indentation of the last header or key line */
	struct hl_buf val; /* value of the entry named by have_opt */
	int line;
	struct hl_error *err;
};

/* botocore's _parse_nested(): each non-blank line is `k = v`, split at the
 * first '=' only; keys keep their case; a later key replaces an earlier one. */
static enum hl_err parse_nested(struct hl_ini_entry *e, struct hl_error *err)
{
	const char *p = e->value;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *ls = p;
		size_t ln = n;
		p = nl ? nl + 1 : p + n;
		trim(&ls, &ln);
		if (!ln)
			continue;
		const char *eq = memchr(ls, '=', ln);
		if (!eq)
			return hl_error_set(err, HL_ERR_CONFIG,
					    "line %d: nested value of '%s' has a line without '='",
					    e->line, e->key);
		const char *k = ls, *v = eq + 1;
		size_t kn = (size_t)(eq - ls), vn = ln - kn - 1;
		trim(&k, &kn);
		trim(&v, &vn);
		struct hl_ini_entry *slot = NULL;
		for (size_t i = 0; i < e->nsub; i++)
			if (strlen(e->sub[i].key) == kn && memcmp(e->sub[i].key, k, kn) == 0)
				slot = &e->sub[i];
		char *nv = dup_n(v, vn);
		if (!nv)
			return HL_ERR_NOMEM;
		if (slot) {
			wipe_free(slot->value);
			slot->value = nv;
			continue;
		}
		struct hl_ini_entry *ns = realloc(e->sub, (e->nsub + 1) * sizeof(*ns));
		if (!ns) {
			wipe_free(nv);
			return HL_ERR_NOMEM;
		}
		e->sub = ns;
		slot = &e->sub[e->nsub];
		memset(slot, 0, sizeof(*slot));
		slot->value = nv;
		slot->line = e->line;
		slot->key = dup_n(k, kn);
		if (!slot->key) {
			wipe_free(nv);
			return HL_ERR_NOMEM;
		}
		e->nsub++;
	}
	return HL_ERR_OK;
}

/* Hands the value being built to its entry: right-trimmed as configparser's
 * join does, then split into nested keys when it began with a newline. */
static enum hl_err finish_value(struct parser *ps)
{
	if (!ps->have_opt)
		return HL_ERR_OK;
	ps->have_opt = false;
	struct hl_ini_section *s = &ps->ini->sections[ps->cur];
	struct hl_ini_entry *e = &s->entries[s->n - 1];
	while (ps->val.len && is_space((unsigned char)ps->val.data[ps->val.len - 1]))
		ps->val.data[--ps->val.len] = '\0';
	e->value = hl_buf_steal(&ps->val);
	if (!e->value)
		return HL_ERR_NOMEM;
	if (e->value[0] == '\n')
		return parse_nested(e, ps->err);
	return HL_ERR_OK;
}

static enum hl_err open_section(struct parser *ps, const char *name, size_t n)
{
	struct hl_ini *ini = ps->ini;
	for (size_t i = 0; i < ini->n; i++) {
		if (strlen(ini->sections[i].name) == n &&
		    memcmp(ini->sections[i].name, name, n) == 0) {
			/* RawConfigParser lets only DEFAULT be reopened */
			if (strcmp(ini->sections[i].name, "DEFAULT") != 0)
				return hl_error_set(
				    ps->err, HL_ERR_CONFIG,
				    "line %d: duplicate section [%s] (first at line %d)", ps->line,
				    ini->sections[i].name, ini->sections[i].line);
			ps->cur = (long)i;
			return HL_ERR_OK;
		}
	}
	if (ini->n >= HL_INI_MAX_SECTIONS)
		return hl_error_set(ps->err, HL_ERR_TOO_LARGE, "line %d: more than %d sections",
				    ps->line, HL_INI_MAX_SECTIONS);
	struct hl_ini_section *ns = realloc(ini->sections, (ini->n + 1) * sizeof(*ns));
	if (!ns)
		return HL_ERR_NOMEM;
	ini->sections = ns;
	struct hl_ini_section *s = &ini->sections[ini->n];
	memset(s, 0, sizeof(*s));
	s->line = ps->line;
	s->name = dup_n(name, n);
	if (!s->name)
		return HL_ERR_NOMEM;
	ps->cur = (long)ini->n++;
	return HL_ERR_OK;
}

static enum hl_err add_option(struct parser *ps, const char *line, size_t n)
{
	/* OPTCRE: key is everything before the first '=' or ':' */
	size_t d = 0;
	while (d < n && line[d] != '=' && line[d] != ':')
		d++;
	if (d == n)
		return hl_error_set(ps->err, HL_ERR_CONFIG,
				    "line %d: expected 'key = value' or a [section]", ps->line);
	const char *k = line, *v = line + d + 1;
	size_t kn = d, vn = n - d - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (!kn)
		return hl_error_set(ps->err, HL_ERR_CONFIG, "line %d: empty key before '%c'",
				    ps->line, line[d]);
	struct hl_ini_section *s = &ps->ini->sections[ps->cur];
	for (size_t i = 0; i < s->n; i++) {
		const char *ek = s->entries[i].key;
		bool same = strlen(ek) == kn;
		for (size_t j = 0; same && j < kn; j++)
			same = ek[j] == (char)((k[j] >= 'A' && k[j] <= 'Z') ? k[j] + 32 : k[j]);
		if (same)
			return hl_error_set(
			    ps->err, HL_ERR_CONFIG,
			    "line %d: duplicate key '%s' in section [%s] (first at line %d)",
			    ps->line, ek, s->name, s->entries[i].line);
	}
	if (s->n >= HL_INI_MAX_KEYS)
		return hl_error_set(ps->err, HL_ERR_TOO_LARGE, "line %d: more than %d keys in [%s]",
				    ps->line, HL_INI_MAX_KEYS, s->name);
	struct hl_ini_entry *ne = realloc(s->entries, (s->n + 1) * sizeof(*ne));
	if (!ne)
		return HL_ERR_NOMEM;
	s->entries = ne;
	struct hl_ini_entry *e = &s->entries[s->n];
	memset(e, 0, sizeof(*e));
	e->line = ps->line;
	e->key = dup_n(k, kn);
	if (!e->key)
		return HL_ERR_NOMEM;
	for (char *p = e->key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	s->n++;
	hl_buf_reset(&ps->val);
	ps->have_opt = true;
	return hl_buf_append(&ps->val, v, vn);
}

/* One physical line (without its terminator). */
static enum hl_err parse_line(struct parser *ps, const char *line, size_t n)
{
	const char *t = line;
	size_t tn = n;
	trim(&t, &tn);
	if (tn == 0) {
		/* empty_lines_in_values: a blank line belongs to the open value */
		if (ps->have_opt)
			return hl_buf_appendc(&ps->val, '\n');
		return HL_ERR_OK;
	}
	if (t[0] == '#' || t[0] == ';')
		return HL_ERR_OK; /* comment lines neither end nor extend a value */
	size_t indent = (size_t)(t - line);
	if (ps->have_opt && indent > ps->indent) {
		enum hl_err e = hl_buf_appendc(&ps->val, '\n');
		return e ? e : hl_buf_append(&ps->val, t, tn);
	}
	ps->indent = indent;
	enum hl_err e = finish_value(ps);
	if (e)
		return e;
	if (t[0] == '[') {
		/* SECTCRE `\[(.+)\]`: up to the last ']', which must not be the first char */
		size_t close = tn;
		while (close > 1 && t[close - 1] != ']')
			close--;
		if (close > 2 && t[close - 1] == ']')
			return open_section(ps, t + 1, close - 2);
	}
	if (ps->cur < 0)
		return hl_error_set(ps->err, HL_ERR_CONFIG,
				    "line %d: text before the first [section] header", ps->line);
	return add_option(ps, t, tn);
}

static enum hl_err copy_entry(struct hl_ini_entry *dst, const struct hl_ini_entry *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->line = src->line;
	dst->key = strdup(src->key);
	dst->value = strdup(src->value);
	if (!dst->key || !dst->value)
		return HL_ERR_NOMEM;
	if (src->nsub) {
		dst->sub = calloc(src->nsub, sizeof(*dst->sub));
		if (!dst->sub)
			return HL_ERR_NOMEM;
		for (size_t i = 0; i < src->nsub; i++) {
			dst->nsub = i + 1;
			if (copy_entry(&dst->sub[i], &src->sub[i]))
				return HL_ERR_NOMEM;
		}
	}
	return HL_ERR_OK;
}

/* RawConfigParser's DEFAULT section supplies keys to every other section. */
static enum hl_err apply_defaults(struct hl_ini *ini)
{
	size_t di = ini->n;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->sections[i].name, "DEFAULT") == 0)
			di = i;
	if (di == ini->n)
		return HL_ERR_OK;
	struct hl_ini_section def = ini->sections[di];
	memmove(&ini->sections[di], &ini->sections[di + 1],
		(ini->n - di - 1) * sizeof(*ini->sections));
	ini->n--;
	enum hl_err rc = HL_ERR_OK;
	for (size_t i = 0; i < ini->n && !rc; i++) {
		struct hl_ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < def.n && !rc; j++) {
			if (hl_ini_entry(s, def.entries[j].key))
				continue;
			struct hl_ini_entry *ne = realloc(s->entries, (s->n + 1) * sizeof(*ne));
			if (!ne) {
				rc = HL_ERR_NOMEM;
				break;
			}
			s->entries = ne;
			s->n++;
			rc = copy_entry(&s->entries[s->n - 1], &def.entries[j]);
		}
	}
	section_free(&def);
	return rc;
}

enum hl_err hl_ini_parse(const char *data, size_t len, struct hl_ini **ret, struct hl_error *err)
{
	struct parser ps = {.cur = -1, .err = err};
	hl_buf_init(&ps.val, HL_INI_MAX_SIZE);
	enum hl_err rc;
	if (len > HL_INI_MAX_SIZE) {
		rc = hl_error_set(err, HL_ERR_TOO_LARGE, "file larger than %u bytes",
				  HL_INI_MAX_SIZE);
		goto out;
	}
	ps.ini = calloc(1, sizeof(*ps.ini));
	if (!ps.ini) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t i = 0;
	while (i < len) {
		/* universal newlines: \n, \r\n and a lone \r all end a line */
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		ps.line++;
		if (memchr(data + i, '\0', j - i)) {
			rc = hl_error_set(err, HL_ERR_CONFIG, "line %d: NUL byte", ps.line);
			goto out;
		}
		rc = parse_line(&ps, data + i, j - i);
		if (rc)
			goto fail;
		if (j < len && data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	rc = finish_value(&ps);
	if (rc)
		goto fail;
	rc = apply_defaults(ps.ini);
	if (rc)
		goto fail;
	*ret = ps.ini;
	ps.ini = NULL;
	rc = HL_ERR_OK;
	goto out;
fail:
	if (rc == HL_ERR_NOMEM)
		hl_error_set(err, HL_ERR_NOMEM, "out of memory");
out:
	/* finish_value() may not have run on the open value */
	if (ps.ini && ps.have_opt) {
		struct hl_ini_section *s = &ps.ini->sections[ps.cur];
		s->entries[s->n - 1].value = hl_buf_steal(&ps.val);
	}
	hl_buf_free_secure(&ps.val);
	/* entries whose value was never set hold NULL, which wipe_free accepts */
	hl_ini_free(ps.ini);
	return rc;
}

void hl_shell_split_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		wipe_free(*p);
	free(argv);
}

static enum hl_err push_word(char ***argv, size_t *argc, struct hl_buf *w)
{
	char **na = realloc(*argv, (*argc + 2) * sizeof(*na));
	if (!na)
		return HL_ERR_NOMEM;
	*argv = na;
	na[*argc] = hl_buf_steal(w);
	if (!na[*argc])
		return HL_ERR_NOMEM;
	na[++*argc] = NULL;
	return HL_ERR_OK;
}

enum hl_err hl_shell_split(const char *s, char ***ret_argv, size_t *ret_argc, struct hl_error *err)
{
	char **argv = calloc(1, sizeof(*argv));
	size_t argc = 0;
	struct hl_buf w;
	hl_buf_init(&w, 0);
	bool in_word = false;
	char quote = 0;
	enum hl_err rc = HL_ERR_NOMEM;
	if (!argv)
		goto out;
	for (const char *p = s; *p; p++) {
		char c = *p;
		enum hl_err e = HL_ERR_OK;
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				e = hl_buf_appendc(&w, c);
		} else if (quote == '"') {
			if (c == '"') {
				quote = 0;
			} else if (c == '\\' && (p[1] == '"' || p[1] == '\\')) {
				e = hl_buf_appendc(&w, *++p);
			} else {
				e = hl_buf_appendc(&w, c); /* includes a lone backslash */
			}
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word)
				e = push_word(&argv, &argc, &w);
			in_word = false;
		} else {
			in_word = true;
			if (c == '\'' || c == '"') {
				quote = c;
			} else if (c == '\\') {
				if (!p[1]) {
					rc = hl_error_set(err, HL_ERR_INVALID,
							  "no character after the final backslash");
					goto out;
				}
				e = hl_buf_appendc(&w, *++p);
			} else {
				e = hl_buf_appendc(&w, c);
			}
		}
		if (e) {
			rc = e;
			goto out;
		}
	}
	if (quote) {
		rc = hl_error_set(err, HL_ERR_INVALID, "no closing quotation (%c)", quote);
		goto out;
	}
	if (in_word) {
		rc = push_word(&argv, &argc, &w);
		if (rc)
			goto out;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	argv = NULL;
	rc = HL_ERR_OK;
out:
	if (rc == HL_ERR_NOMEM || rc == HL_ERR_TOO_LARGE)
		hl_error_set(err, rc, "out of memory");
	hl_buf_free_secure(&w);
	hl_shell_split_free(argv);
	return rc;
}
