/* Where the service is: the region rule, the endpoint a region and its
 * partition give (partitions.json), and the check of a configured endpoint
 * URL (https, or plain http to loopback: url.c's rule). Pure. */
#ifndef HL_ENDPOINT_H
#define HL_ENDPOINT_H

#include <stdbool.h>

#include "err.h"

/* A host label that is not all digits: us-east-1, eusc-de-east-1, ... */
bool hl_endpoint_region_ok(const char *region);

/* https://SERVICE[-fips].REGION.DNS-SUFFIX of region's partition (the
 * dual-stack suffix when asked); S3's own form for "s3":
 * https://s3[-fips][.dualstack].REGION.DNS. Caller frees *ret. HL_ERR_NOMEM
 * only. */
enum hl_err hl_endpoint_default(const char *service, const char *region, bool fips, bool dualstack,
				char **ret);

/* A configured endpoint URL: HL_ERR_CONFIG with a message naming it and
 * from (where it came from) unless it is https://host[:port][/path] or
 * the same over plain http to a loopback host. */
enum hl_err hl_endpoint_check(const char *url, const char *from, struct hl_error *err);

#endif
