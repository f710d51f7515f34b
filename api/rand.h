/* The one source of randomness of libhealthlake (OpenSSL's CSPRNG): retry
 * jitter, IMDS expiry jitter, invocation ids and client tokens. */
#ifndef HL_RAND_H
#define HL_RAND_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Fills *ret with random bits; false when the generator failed. */
bool hl_rand_u64(uint64_t *ret);
/* A uniform double in [0,1) (0 if the generator failed). */
double hl_rand_unit(void);
/* A uniform integer in [lo, hi] (lo if the generator failed; lo when hi < lo). */
unsigned hl_rand_between(unsigned lo, unsigned hi);
/* Writes a lowercase hyphenated UUID4 (36 chars + NUL). HL_ERR_NOMEM when
 * the generator failed (out is then unchanged). */
enum hl_err hl_uuid4(char out[37]);

#endif
