#include "endpoint.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "url.h"

/* ^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$, non-empty. */
bool hl_endpoint_region_ok(const char *r)
{
	size_t n = strlen(r);
	if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
		return false;
	bool all_digits = true;
	for (size_t i = 0; i < n; i++) {
		char c = r[i];
		bool digit = c >= '0' && c <= '9';
		if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-')
			return false;
		all_digits = all_digits && digit;
	}
	return !all_digits;
}

struct partition {
	const char *prefix; /* region regex ^prefix\w+-\d+$ */
	const char *global; /* the one listed region the regex misses */
	const char *dns;
	const char *dualstack;
};

/* partitions.json, in its order; aws is also the fallback. */
static const struct partition partitions[] = {
    {NULL, "aws-global", "amazonaws.com", "api.aws"},
    {"cn-", "aws-cn-global", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
    {"eusc-de-", NULL, "amazonaws.eu", "api.amazonwebservices.eu"},
    {"us-iso-", "aws-iso-global", "c2s.ic.gov", "api.aws.ic.gov"},
    {"us-isob-", "aws-iso-b-global", "sc2s.sgov.gov", "api.aws.scloud"},
    {"eu-isoe-", "aws-iso-e-global", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"},
    {"us-isof-", "aws-iso-f-global", "csp.hci.ic.gov", "api.aws.hci.ic.gov"},
    {"us-gov-", "aws-us-gov-global", "amazonaws.com", "api.aws"},
};

/* Matches \w+-\d+$ at s. */
static bool word_dash_digits(const char *s)
{
	/* \w excludes '-', so the only '-' must separate the two parts */
	const char *dash = strrchr(s, '-');
	if (!dash || dash == s)
		return false;
	for (const char *q = s; q < dash; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_'))
			return false;
	if (!dash[1])
		return false;
	for (const char *q = dash + 1; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	return true;
}

static const struct partition *partition_of(const char *region)
{
	size_t np = sizeof(partitions) / sizeof(partitions[0]);
	for (size_t i = 0; i < np; i++)
		if (partitions[i].global && strcmp(region, partitions[i].global) == 0)
			return &partitions[i];
	static const char *const aws_prefixes[] = {"us-", "eu-", "ap-", "sa-", "ca-",
						   "me-", "af-", "il-", "mx-"};
	for (size_t i = 0; i < sizeof(aws_prefixes) / sizeof(aws_prefixes[0]); i++)
		if (strncmp(region, aws_prefixes[i], 3) == 0 && word_dash_digits(region + 3))
			return &partitions[0];
	for (size_t i = 1; i < np; i++) {
		size_t pl = strlen(partitions[i].prefix);
		if (strncmp(region, partitions[i].prefix, pl) == 0 && word_dash_digits(region + pl))
			return &partitions[i];
	}
	return &partitions[0];
}

enum hl_err hl_endpoint_check(const char *url, const char *from, struct hl_error *err)
{
	struct hl_url u;
	if (hl_url_parse(url, &u) != HL_ERR_OK)
		return hl_error_set(err, HL_ERR_CONFIG,
				    "invalid endpoint '%.200s' from %s: expected "
				    "https://host[:port][/path]",
				    url, from);
	if (strpbrk(url, "?#") || strpbrk(url, " \t\r\n"))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "invalid endpoint '%.200s' from %s: no query, fragment or spaces", url, from);
	if (strcmp(u.scheme, "https") == 0)
		return HL_ERR_OK;
	if (strcmp(u.scheme, "http") == 0) {
		if (hl_url_host_is_loopback(u.host))
			return HL_ERR_OK;
		return hl_error_set(err, HL_ERR_CONFIG,
				    "endpoint '%.200s' from %s: plain http:// is allowed only to a "
				    "loopback host (127.0.0.0/8, ::1, localhost); use https://",
				    url, from);
	}
	return hl_error_set(err, HL_ERR_CONFIG,
			    "invalid endpoint '%.200s' from %s: scheme must be https (or http to "
			    "loopback)",
			    url, from);
}

enum hl_err hl_endpoint_default(const char *service, const char *region, bool fips, bool dualstack,
				char **ret)
{
	const struct partition *pt = partition_of(region);
	struct hl_buf b;
	enum hl_err rc;
	hl_buf_init(&b, 1024);
	/* S3 keeps its own dual-stack form: s3.dualstack.<region>.<dns>. */
	if (strcmp(service, "s3") == 0)
		rc = hl_buf_appendf(&b, "https://s3%s%s.%s.%s", fips ? "-fips" : "",
				    dualstack ? ".dualstack" : "", region, pt->dns);
	else
		rc = hl_buf_appendf(&b, "https://%s%s.%s.%s", service, fips ? "-fips" : "", region,
				    dualstack ? pt->dualstack : pt->dns);
	if (rc) {
		hl_buf_free(&b);
		return HL_ERR_NOMEM;
	}
	char *url = hl_buf_steal(&b);
	if (!url)
		return HL_ERR_NOMEM;
	*ret = url;
	return HL_ERR_OK;
}
