#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void hlfs_log_init(struct hlfs_log *l, bool foreground, bool debug)
{
	l->use_syslog = !foreground;
	l->debug = debug;
	if (l->use_syslog)
		openlog("healthlakefs", LOG_PID, LOG_DAEMON);
}

void hlfs_log_close(struct hlfs_log *l)
{
	if (l && l->use_syslog)
		closelog();
}

void hlfs_logf(struct hlfs_log *l, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (prio == LOG_DEBUG && !l->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (l->use_syslog)
		syslog(prio, "%s", line);
	else
		fprintf(stderr, "healthlakefs: %s\n",
			line); /* one fprintf: lines do not interleave */
}

void hlfs_log_call(struct hlfs_log *l, const struct hl_call_info *info)
{
	if (!l->debug)
		return;
	hlfs_logf(l, LOG_DEBUG, "call %s status=%ld code=%s%s%s attempts=%d ms=%.1f request_id=%s",
		  info->operation ? info->operation : "?", info->http_status,
		  hl_err_name(info->code), info->aws_code && *info->aws_code ? "/" : "",
		  info->aws_code ? info->aws_code : "", info->attempts, info->ms,
		  info->request_id && *info->request_id ? info->request_id : "-");
}
