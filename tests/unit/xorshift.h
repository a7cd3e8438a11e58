/* A small generator for test data that needs no seeding: Marsaglia's
 * xorshift64, the same sequence on every machine. */
#ifndef FIN_TEST_XORSHIFT_H
#define FIN_TEST_XORSHIFT_H

#include <stdint.h>

static uint64_t rng_state = 88172645463325252ULL;

/* Uniform on [0, 1), from the generator's top 53 bits. */
static inline double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

#endif
