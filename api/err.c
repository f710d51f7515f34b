#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hl_err_name(enum hl_err code)
{
	switch (code) {
#define HL_ERR_NAME(name, text)                                               \
	case HL_ERR_##name:                                                   \
		return #name;
		HL_ERR_MAP(HL_ERR_NAME)
#undef HL_ERR_NAME
	case HL_ERR__COUNT:
		break;
	}
	return "UNKNOWN";
}

const char *hl_strerror(enum hl_err code)
{
	switch (code) {
#define HL_ERR_TEXT(name, text)                                               \
	case HL_ERR_##name:                                                   \
		return text;
		HL_ERR_MAP(HL_ERR_TEXT)
#undef HL_ERR_TEXT
	case HL_ERR__COUNT:
		break;
	}
	return "unknown error";
}

void hl_error_clear(struct hl_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

enum hl_err hl_error_set(struct hl_error *err, enum hl_err code, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}
