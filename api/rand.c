#include "rand.h"

#include <stdio.h>

#include <openssl/rand.h>

bool hl_rand_u64(uint64_t *ret)
{
	uint64_t v;
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return false;
	*ret = v;
	return true;
}

double hl_rand_unit(void)
{
	uint64_t v;
	if (!hl_rand_u64(&v))
		return 0;
	return (double)(v >> 11) * (1.0 / 9007199254740992.0); /* 53 bits / 2^53 */
}

unsigned hl_rand_between(unsigned lo, unsigned hi)
{
	uint64_t v;
	if (hi <= lo || !hl_rand_u64(&v))
		return lo;
	/* 64 random bits over a 32-bit range: the modulo bias is below 2^-32. */
	return lo + (unsigned)(v % ((uint64_t)hi - lo + 1));
}

enum hl_err hl_uuid4(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		return HL_ERR_NOMEM;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return HL_ERR_OK;
}
