/* Logging of the daemon: stderr in the foreground, syslog when daemonised.
 * The api library never logs; fs/ decides here. */
#ifndef HLFS_LOG_H
#define HLFS_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "healthlake.h"

struct hlfs_log {
	bool use_syslog; /* set once before any thread starts */
	bool debug;	 /* one line per API call */
};

/* Switches to syslog (openlog) when !foreground. */
void hlfs_log_init(struct hlfs_log *l, bool foreground, bool debug);
void hlfs_log_close(struct hlfs_log *l);
/* One line; prio is a syslog priority. Never pass secrets. */
void hlfs_logf(struct hlfs_log *l, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The -d line for one API call: operation, status, attempts, milliseconds. */
void hlfs_log_call(struct hlfs_log *l, const struct hl_call_info *info);

#endif
