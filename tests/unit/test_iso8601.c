/* api/iso8601.c: the one timestamp rule (calendar checked) and its
 * formatter, inputs ending right before an unreadable page. */
#include <math.h>

#include "guard.h"
#include "iso8601.h"
#include "tap.h"

static void test_parse(void)
{
	static const struct {
		const char *s;
		bool ok;
		double want;
	} t[] = {
	    {"1970-01-01T00:00:00Z", true, 0},
	    {"2024-01-15T12:34:56Z", true, 1705322096},
	    {"2024-01-15t12:34:56.250z", true, 1705322096.25},
	    {"2024-01-15 12:34:56,5Z", true, 1705322096.5},
	    {"2024-01-15T13:34:56+01:00", true, 1705322096},
	    {"2024-01-15T11:34:56-0100", true, 1705322096},
	    {"2024-01-15T12:34:56", true, 1705322096},
	    {"2024-02-29T00:00:00Z", true, 1709164800},
	    {"2000-02-29T00:00:00Z", true, 951782400},
	    {"1969-12-31T23:59:59Z", true, -1},
	    {"0001-01-01T00:00:00Z", true, -62135596800.0},
	    {"9999-12-31T23:59:59Z", true, 253402300799.0},
	    {"2016-12-31T23:59:60Z", true, 1483228800},
	    {"2024-02-30T00:00:00Z", false, 0},
	    {"2023-02-29T00:00:00Z", false, 0},
	    {"1900-02-29T00:00:00Z", false, 0},
	    {"2024-04-31T00:00:00Z", false, 0},
	    {"2024-00-10T00:00:00Z", false, 0},
	    {"2024-01-00T00:00:00Z", false, 0},
	    {"2024-13-15T12:34:56Z", false, 0},
	    {"2024-01-15T24:00:00Z", false, 0},
	    {"2024-01-15T12:60:00Z", false, 0},
	    {"2024-01-15T12:00:61Z", false, 0},
	    {"2024-01-15T12:00:00+24:00", false, 0},
	    {"2024-01-15T12:00:00+1", false, 0},
	    {"2024-01-15", false, 0},
	    {"2024-01-15T12:34", false, 0},
	    {"2024-01-15T12:34:56Zjunk", false, 0},
	    {"2024-01-15T12:34:56.Z", false, 0},
	    {"2024-01-15X12:34:56Z", false, 0},
	    {"1700000000", false, 0},
	    {"yesterday", false, 0},
	    {"", false, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* with its NUL as the last readable byte: no read beyond it */
		struct guarded g = guard(t[i].s, strlen(t[i].s) + 1);
		double v = -1;
		bool r = hl_iso8601_parse(g.p, &v);
		is_int(r, t[i].ok, "\"%s\" accepted=%d", t[i].s, t[i].ok);
		if (t[i].ok)
			ok(fabs(v - t[i].want) < 1e-6, "  ... = %.3f (got %.3f)", t[i].want, v);
		time_t secs = 0;
		is_int(hl_iso8601_parse_secs(g.p, &secs), t[i].ok, "  whole seconds agree on it");
		if (t[i].ok)
			is_int(secs, (time_t)floor(t[i].want), "  ... = %lld", (long long)secs);
		unguard(&g);
	}
	double v;
	time_t s;
	ok(!hl_iso8601_parse(NULL, &v) && !hl_iso8601_parse_secs(NULL, &s), "NULL is refused");
	ok(hl_iso8601_parse_secs("2024-01-15T12:34:56.999Z", &s) && s == 1705322096,
	   "whole seconds drop a fraction");
}

static void test_format(void)
{
	static const struct {
		double t;
		const char *want;
	} t[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {1705322096, "2024-01-15T12:34:56Z"},
	    {1705322096.25, "2024-01-15T12:34:56.250Z"},
	    {1705322096.9996, "2024-01-15T12:34:57.000Z"},
	    {1709164800, "2024-02-29T00:00:00Z"},
	    {-1, "1969-12-31T23:59:59Z"},
	    {-0.5, "1969-12-31T23:59:59.500Z"},
	    {-62135596800.0, "0001-01-01T00:00:00Z"},
	    {253402300799.0, "9999-12-31T23:59:59Z"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[HL_ISO8601_MAX];
		ok(hl_iso8601_format(t[i].t, out, sizeof(out)), "format %.4f", t[i].t);
		is_str(out, t[i].want, "  ... text");
		double back;
		ok(hl_iso8601_parse(out, &back) && fabs(back - t[i].t) < 0.001,
		   "  ... parses back to the same instant");
	}
	char out[HL_ISO8601_MAX];
	ok(!hl_iso8601_format(253402300800.0, out, sizeof(out)), "year 10000 is refused");
	ok(!hl_iso8601_format(-62135596801.0, out, sizeof(out)), "year 0 is refused");
	ok(!hl_iso8601_format(NAN, out, sizeof(out)) && !hl_iso8601_format(INFINITY, out, 25),
	   "not finite is refused");
	ok(!hl_iso8601_format(0, out, 20), "a buffer one byte short is refused");
	ok(hl_iso8601_format(0, out, 21), "an exact buffer is enough");
}

int main(void)
{
	test_parse();
	test_format();
	return done_testing();
}
