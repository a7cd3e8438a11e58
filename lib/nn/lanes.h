/* Element-wise helpers for loops the compiler vectorises. */
#ifndef FIN_LANES_H
#define FIN_LANES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* e^v within 1 ulp, in operations a vector lane has (libm's expf is a call
 * per value): v = n ln2 + r with n whole and |r| <= ln2 / 2, e^r from
 * Cephes' polynomial, 2^n put straight into a float's exponent bits. v is
 * first held within [-87, 88], where 2^n is a normal float: e^v then stays
 * finite and above 0, which the sigmoid and tanh below round to their
 * limits. A NaN stays NaN. */
static inline float fin_exp_lane(float v)
{
	const float round = 0x1.8p23f; /* adding it rounds to a whole number */
	float x = v < -87.0f ? -87.0f : v, k, n, r, p;
	uint32_t bits;

	x = x > 88.0f ? 88.0f : x;
	k = x * 0x1.715476p0f + round; /* log2(e) */
	n = k - round;
	r = x - n * 0x1.63p-1f;     /* ln2 in two parts; n times the first is exact */
	r = r - n * -0x1.bd0106p-13f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1;
	/* k's low mantissa bits hold n: 127 + n in [1, 254] is 2^n's exponent. */
	memcpy(&bits, &k, sizeof bits);
	bits = ((bits + 127) & 0xff) << 23;
	memcpy(&k, &bits, sizeof k);
	return p * k;
}

/* The squared L2 norm of v[0..n), summed in double. */
double fin_sum_sq(const float *v, size_t n);

/* sums[width] += column sums of rows [n][width] */
void fin_sum_rows(float *restrict sums, const float *restrict rows, size_t n, size_t width);

#endif
