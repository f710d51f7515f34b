#include "render.h"

#include "iso8601.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum hl_err put_string(struct hl_buf *b, const char *s)
{
	enum hl_err e = hl_buf_appendc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; e == HL_ERR_OK && *p; p++) {
		switch (*p) {
		case '"':
			e = hl_buf_appends(b, "\\\"");
			break;
		case '\\':
			e = hl_buf_appends(b, "\\\\");
			break;
		case '\n':
			e = hl_buf_appends(b, "\\n");
			break;
		case '\r':
			e = hl_buf_appends(b, "\\r");
			break;
		case '\t':
			e = hl_buf_appends(b, "\\t");
			break;
		case '\b':
			e = hl_buf_appends(b, "\\b");
			break;
		case '\f':
			e = hl_buf_appends(b, "\\f");
			break;
		default:
			if (*p < 0x20)
				e = hl_buf_appendf(b, "\\u%04x", *p);
			else
				e = hl_buf_appendc(b, (char)*p);
		}
	}
	if (e == HL_ERR_OK)
		e = hl_buf_appendc(b, '"');
	return e;
}

static enum hl_err put_number(struct hl_buf *b, double d)
{
	if (!isfinite(d))
		return hl_buf_appends(b, "null");
	if (d == floor(d) && fabs(d) < 1e15)
		return hl_buf_appendf(b, "%.0f", d);
	/* Shortest of 15 or 17 significant digits that reads back the same. */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof(tmp), "%.17g", d);
	return hl_buf_appends(b, tmp);
}

static bool is_timestamp_key(const char *k)
{
	return k && (!strcmp(k, "CreatedAt") || !strcmp(k, "SubmitTime") || !strcmp(k, "EndTime"));
}

static enum hl_err indent(struct hl_buf *b, int level)
{
	enum hl_err e = HL_ERR_OK;
	for (int i = 0; i < level && e == HL_ERR_OK; i++)
		e = hl_buf_appends(b, "  ");
	return e;
}

static enum hl_err put_value(struct hl_buf *b, const cJSON *v, int level, bool ts)
{
	if (cJSON_IsString(v))
		return put_string(b, v->valuestring ? v->valuestring : "");
	if (cJSON_IsNumber(v)) {
		char t[40];
		if (ts && hl_iso8601_format(v->valuedouble, t, sizeof(t)))
			return put_string(b, t);
		return put_number(b, v->valuedouble);
	}
	if (cJSON_IsTrue(v))
		return hl_buf_appends(b, "true");
	if (cJSON_IsFalse(v))
		return hl_buf_appends(b, "false");
	if (cJSON_IsRaw(v))
		return hl_buf_appends(b, v->valuestring ? v->valuestring : "null");
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		const cJSON *c = v->child;
		if (!c)
			return hl_buf_appends(b, obj ? "{}" : "[]");
		enum hl_err e = hl_buf_appends(b, obj ? "{\n" : "[\n");
		for (; c && e == HL_ERR_OK; c = c->next) {
			e = indent(b, level + 1);
			if (e == HL_ERR_OK && obj) {
				e = put_string(b, c->string ? c->string : "");
				if (e == HL_ERR_OK)
					e = hl_buf_appends(b, ": ");
			}
			if (e == HL_ERR_OK)
				e = put_value(b, c, level + 1, obj && is_timestamp_key(c->string));
			if (e == HL_ERR_OK)
				e = hl_buf_appends(b, c->next ? ",\n" : "\n");
		}
		if (e == HL_ERR_OK)
			e = indent(b, level);
		if (e == HL_ERR_OK)
			e = hl_buf_appendc(b, obj ? '}' : ']');
		return e;
	}
	return hl_buf_appends(b, "null");
}

enum hl_err hlfs_render_json(const cJSON *raw, struct hl_buf *out)
{
	enum hl_err e = raw ? put_value(out, raw, 0, false) : hl_buf_appends(out, "{}");
	if (e == HL_ERR_OK)
		e = hl_buf_appendc(out, '\n');
	return e;
}

static enum hl_err put_line(struct hl_buf *out, const char *s)
{
	enum hl_err e = hl_buf_appends(out, s ? s : "");
	if (e == HL_ERR_OK)
		e = hl_buf_appendc(out, '\n');
	return e;
}

enum hl_err hlfs_render_field(enum hlfs_field f, const struct hl_datastore *d, struct hl_buf *out)
{
	char t[40] = "";
	switch (f) {
	case HLFS_F_STATUS:
		return put_line(out, d->status);
	case HLFS_F_JSON:
		return hlfs_render_json(d->raw, out);
	case HLFS_F_ID:
		return put_line(out, d->id);
	case HLFS_F_ARN:
		return put_line(out, d->arn);
	case HLFS_F_ENDPOINT:
		return put_line(out, d->endpoint);
	case HLFS_F_NAME:
		return put_line(out, d->name);
	case HLFS_F_TYPE_VERSION:
		return put_line(out, d->type_version);
	case HLFS_F_CREATED_AT:
		if (d->has_created_at && !hl_iso8601_format(d->created_at, t, sizeof(t)))
			t[0] = '\0';
		return put_line(out, t);
	case HLFS_F__COUNT:
		break;
	}
	return HL_ERR_INVALID;
}
