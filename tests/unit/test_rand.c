/* api/rand.c: the range and shape of what the one randomness source gives. */
#include <ctype.h>
#include <string.h>

#include "rand.h"
#include "tap.h"

static void test_unit(void)
{
	double lo = 1, hi = 0;
	for (int i = 0; i < 2000; i++) {
		double r = hl_rand_unit();
		if (r < lo)
			lo = r;
		if (r > hi)
			hi = r;
	}
	ok(lo >= 0 && lo < 0.01, "rand_unit reaches near 0 (min %.4f)", lo);
	ok(hi < 1 && hi > 0.99, "rand_unit reaches near 1 but stays below (max %.4f)", hi);
}

static void test_between(void)
{
	bool seen[5] = {false};
	bool inside = true;
	for (int i = 0; i < 500; i++) {
		unsigned v = hl_rand_between(120, 124);
		if (v < 120 || v > 124)
			inside = false;
		else
			seen[v - 120] = true;
	}
	ok(inside, "between(120, 124) stays within both ends");
	ok(seen[0] && seen[4], "both ends are reached");
	is_int(hl_rand_between(7, 7), 7, "a one-value range");
	is_int(hl_rand_between(9, 3), 9, "hi below lo gives lo");
	unsigned top = 0;
	for (int i = 0; i < 64; i++) {
		unsigned v = hl_rand_between(0, 0xffffffffu);
		if (v > top)
			top = v;
	}
	ok(top > 0x80000000u, "the whole 32-bit range is reachable (max %u)", top);
	uint64_t a = 0, b = 0;
	ok(hl_rand_u64(&a) && hl_rand_u64(&b) && a != b, "two 64-bit draws differ");
}

static void test_uuid(void)
{
	char a[37], b[37];
	is_int(hl_uuid4(a), HL_ERR_OK, "uuid4");
	is_int(hl_uuid4(b), HL_ERR_OK, "uuid4 again");
	is_int(strlen(a), 36, "36 characters");
	ok(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-', "hyphens in place");
	ok(a[14] == '4', "version 4");
	ok(strchr("89ab", a[19]) != NULL, "RFC 4122 variant");
	bool lower = true;
	for (int i = 0; i < 36; i++)
		if (a[i] != '-' && !(isdigit((unsigned char)a[i]) || (a[i] >= 'a' && a[i] <= 'f')))
			lower = false;
	ok(lower, "lowercase hex");
	char shape[37];
	for (int i = 0; i < 37; i++)
		shape[i] = (i == 36 || a[i] == '-' || i == 14) ? a[i] : 'x';
	is_str(shape, "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx", "8-4-4-4-12 layout");
	ok(strcmp(a, b) != 0, "two UUIDs differ");
}

int main(void)
{
	test_unit();
	test_between();
	test_uuid();
	return done_testing();
}
