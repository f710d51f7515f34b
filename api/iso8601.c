#include "iso8601.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define FIRST_SEC -62135596800.0 /* 0001-01-01T00:00:00Z */
#define LAST_SEC 253402300799.0	 /* 9999-12-31T23:59:59Z */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's algorithms): pure, unlike timegm()/gmtime_r(). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static unsigned days_in_month(int y, int m)
{
	static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static bool digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false; /* also stops at the NUL: never reads past it */
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

/* The shared grammar: whole seconds in *secs, the fraction in *frac. */
static bool parse(const char *s, int64_t *secs, double *frac)
{
	int y, mo, d, h, mi, sec;
	const char *p = s;
	*frac = 0;
	if (!s)
		return false;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	if (*p == '.' || *p == ',') {
		p++;
		double scale = 0.1;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*frac += (*p - '0') * scale;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int oh, om;
		p++;
		if (!digits(&p, 2, &oh))
			return false;
		if (*p == ':')
			p++;
		if (!digits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
		offset = sign * (oh * 3600L + om * 60L);
	}
	if (*p)
		return false;
	*secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL + mi * 60LL +
		sec - offset;
	return true;
}

bool hl_iso8601_parse(const char *s, double *ret)
{
	int64_t secs;
	double frac;
	if (!parse(s, &secs, &frac))
		return false;
	*ret = (double)secs + frac;
	return true;
}

bool hl_iso8601_parse_secs(const char *s, time_t *ret)
{
	int64_t secs;
	double frac;
	if (!parse(s, &secs, &frac))
		return false;
	*ret = (time_t)secs;
	return true;
}

bool hl_iso8601_format(double t, char *out, size_t n)
{
	if (!isfinite(t) || t < FIRST_SEC || t > LAST_SEC)
		return false;
	/* floor() and llround() by hand: the library needs no libm */
	double whole = (double)(int64_t)t;
	if (whole > t)
		whole -= 1;
	long long ms = (long long)((t - whole) * 1000.0 + 0.5);
	bool frac = t != whole;
	if (ms >= 1000) { /* 0.9996 rounds up to the next second */
		whole += 1;
		ms -= 1000;
	}
	int64_t secs = (int64_t)whole;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t rem = secs - days * 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
	int w;
	if (frac)
		w = snprintf(out, n, "%04d-%02u-%02uT%02d:%02d:%02d.%03lldZ", y, m, d, h, mi, s, ms);
	else
		w = snprintf(out, n, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, h, mi, s);
	return w >= 0 && (size_t)w < n;
}
