/* The one ISO 8601 / RFC 3339 timestamp parser and formatter of
 * libhealthlake, used for the service's JSON and for credential expiries
 * alike. Pure: no clock, no locale, no TZ. */
#ifndef HL_ISO8601_H
#define HL_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* "2026-11-29T07:21:46.646Z", "2026-11-29 07:21:46+01:00", "...-0130",
 * no offset (UTC) -> epoch seconds with the fraction. The date must exist
 * in the proleptic Gregorian calendar (2024-02-30 does not); second 60
 * (a leap second) is accepted. Returns false for anything else, NULL too. */
bool hl_iso8601_parse(const char *s, double *ret);
/* The same rule, whole seconds (a fraction is dropped, never rounded up). */
bool hl_iso8601_parse_secs(const char *s, time_t *ret);

#define HL_ISO8601_MAX 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL */

/* Formats epoch seconds t in UTC as "YYYY-MM-DDTHH:MM:SSZ", with ".mmm"
 * before the Z when t has a fraction. Years 1 to 9999 only. Returns false
 * when t is out of range or not finite, or n is too small. */
bool hl_iso8601_format(double t, char *out, size_t n);

#endif
