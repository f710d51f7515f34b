#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hlfs_res_init(struct hlfs_res *r)
{
	r->err = 0;
	r->dir[0] = '\0';
	r->why[0] = '\0';
	r->log[0] = '\0';
}

int hlfs_res_errno(struct hlfs_res *r, int err)
{
	hlfs_res_init(r);
	r->err = err < 0 ? -err : err;
	return -r->err;
}

int hlfs_res_fail(struct hlfs_res *r, int err, const char *dir, const char *fmt, ...)
{
	hlfs_res_errno(r, err);
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	for (char *p = r->why; *p; p++) /* one line, whatever the service said */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return -r->err;
}

int hlfs_res_rc(const struct hlfs_res *r)
{
	return -r->err;
}
