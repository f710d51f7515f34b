/* The command-line face of healthlakefs that needs no mount: `wait`,
 * --help, --version, and mount(8)/fstab compatibility (options meant for
 * mount(8) or systemd that must not reach libfuse). */
#ifndef HLFS_CLI_H
#define HLFS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <fuse_opt.h>

/* Handles what ends before mounting: `healthlakefs wait ...` (argv shifted
 * so that wait sees "wait" as argv[0]), -h/--help and -V/--version anywhere
 * before "--" (values of -o are not options). Returns the exit status, or -1
 * when the caller should go on and mount. Prints to stdout/stderr. */
int hlfs_cli_early(int argc, char **argv);

/* Grouped options with their defaults, as in healthlakefs(1). */
void hlfs_cli_help(FILE *out, const char *prog);

/* healthlakefs's version and those of libfuse, libcurl, OpenSSL and cJSON
 * it runs with, one per line. */
void hlfs_cli_version(FILE *out);

/* True for a single -o option that only mount(8), fstab or systemd use
 * (_netdev, noauto, nofail, user, x-systemd.automount, comment=...), which
 * libfuse would reject as unknown. Pure. */
bool hlfs_cli_mount_only_opt(const char *opt);

/* Removes every mount-only option (above) from the -o options of args.
 * Returns 0, or -1 when out of memory. */
int hlfs_cli_drop_mount_opts(struct fuse_args *args);

#endif
