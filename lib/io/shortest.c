/* Ryu (Ulf Adams, PLDI 2018). A binary value m * 2^e owns the interval of
 * reals that round to it: halfway to its neighbours on either side. Ryu
 * scales the interval's ends and its centre by a power of ten, 10^-q, with
 * one multiplication each by a precomputed power of 5 (shortest_tables.h),
 * exact in the digits that matter, then drops decimal digits while the
 * ends still differ in what remains: what is left of the centre, rounded,
 * is the shortest decimal inside the interval.
 *
 * Floats go through the same code as doubles. Their mantissas are shorter
 * and their exponents a subset of the doubles', so the tables are more
 * than precise enough; the unit test checks every float. */
#include <string.h>

#include "io/shortest.h"
#include "io/shortest_tables.h"

/* ceil(log2(5^e)), and 1 for e = 0; exact for 0 <= e <= 3528. */
static int pow5_bits(int e)
{
	return (int)(((uint32_t)e * 1217359) >> 19) + 1;
}

/* floor(log10(2^e)), exact for 0 <= e <= 1650. */
static int log10_pow2(int e)
{
	return (int)(((uint32_t)e * 78913) >> 18);
}

/* floor(log10(5^e)), exact for 0 <= e <= 2620. */
static int log10_pow5(int e)
{
	return (int)(((uint32_t)e * 732923) >> 20);
}

static int pow5_factor(uint64_t v)
{
	int n = 0;

	while (v % 5 == 0) {
		v /= 5;
		n++;
	}
	return n;
}

static int multiple_of_pow5(uint64_t v, int p)
{
	return pow5_factor(v) >= p;
}

static int multiple_of_pow2(uint64_t v, int p)
{
	return (v & ((1ULL << p) - 1)) == 0;
}

/* floor(m * mul / 2^j) for a 128-bit mul and j >= 64; m < 2^55, so the
 * sum cannot overflow. */
static uint64_t mul_shift(uint64_t m, const uint64_t mul[2], int j)
{
	unsigned __int128 lo = (unsigned __int128)m * mul[0];
	unsigned __int128 hi = (unsigned __int128)m * mul[1];

	return (uint64_t)(((lo >> 64) + hi) >> (j - 64));
}

/* The number of digits of v < 10^17 (the most a double needs): compares
 * rather than divides, which would be a chain of 17 dependent steps, and
 * from the top, where computed values are. */
static int decimal_length(uint64_t v)
{
	static const uint64_t ten[] = { 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
					1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
					10000000000ULL, 100000000000ULL, 1000000000000ULL,
					10000000000000ULL, 100000000000000ULL,
					1000000000000000ULL, 10000000000000000ULL };
	int n = 17;

	while (n > 1 && v < ten[n - 2])
		n--;
	return n;
}

/* The shortest decimal for m2 * 2^e2 (m2 > 0). Its neighbours are equally
 * far when symmetric; otherwise (a power of two, not the smallest
 * exponent) the lower one is half as far as the upper one. */
static fin_decimal shortest(uint64_t m2, int e2, int symmetric)
{
	/* Round-half-even reading: an even mantissa owns the ends of its
	 * interval, an odd one does not. */
	int accept_ends = (m2 & 1) == 0;
	/* The centre and the ends of the interval, times 4, so all are whole:
	 * mv * 2^e2, mp * 2^e2 and mm * 2^e2. */
	uint64_t mv = 4 * m2, mp = mv + 2, mm = mv - 1 - (uint64_t)symmetric;
	uint64_t vr, vp, vm, out;
	int e10, q, removed = 0, vr_zeros = 0, vm_zeros = 0, last = 0;
	fin_decimal d;

	e2 -= 2;
	if (e2 >= 0) {
		/* vr = floor(mv * 2^e2 / 10^q). One digit fewer than could be
		 * dropped (e2 > 3), so that the digit after the cut is known. */
		int k, i;
		q = log10_pow2(e2) - (e2 > 3);
		e10 = q;
		k = POW5_INV_BITS + pow5_bits(q) - 1;
		i = -e2 + q + k;
		vr = mul_shift(mv, pow5_inv[q], i);
		vp = mul_shift(mp, pow5_inv[q], i);
		vm = mul_shift(mm, pow5_inv[q], i);
		/* Whether the digits cut off are all zeros: only when 5^q
		 * divides the end or the centre (one of them at most). 5^23
		 * exceeds every mantissa; q = 22 is left out as in Ryu's own
		 * code, where it does not change the digits (the unit test
		 * has values that reach it). */
		if (q <= 21) {
			if (mv % 5 == 0)
				vr_zeros = multiple_of_pow5(mv, q);
			else if (accept_ends)
				vm_zeros = multiple_of_pow5(mm, q);
			else
				vp -= (uint64_t)multiple_of_pow5(mp, q);
		}
	} else {
		/* vr = floor(mv * 2^e2 / 10^e10), e10 < 0: times 5^-e10 and
		 * a shift. */
		int i, k, j;
		q = log10_pow5(-e2) - (-e2 > 1);
		e10 = q + e2;
		i = -e2 - q;
		k = pow5_bits(i) - POW5_BITS;
		j = q - k;
		vr = mul_shift(mv, pow5[i], j);
		vp = mul_shift(mp, pow5[i], j);
		vm = mul_shift(mm, pow5[i], j);
		if (q <= 1) {
			/* mv has at least 2 trailing zero bits, so at most one
			 * decimal digit was cut: a zero. mm has 1 when
			 * symmetric, none otherwise. */
			vr_zeros = 1;
			if (accept_ends)
				vm_zeros = symmetric;
			else
				vp--;
		} else if (q < 63) {
			/* The cut-off part is 0 when 2^q divides mv. */
			vr_zeros = multiple_of_pow2(mv, q);
		}
	}

	if (vm_zeros || vr_zeros) {
		/* Rare: an exact end or centre, where the ends' own digits and
		 * a tie in rounding matter. */
		while (vp / 10 > vm / 10) {
			vm_zeros &= vm % 10 == 0;
			vr_zeros &= last == 0;
			last = (int)(vr % 10);
			vr /= 10;
			vp /= 10;
			vm /= 10;
			removed++;
		}
		if (vm_zeros) {
			/* The lower end is exact and ours: drop its zeros too. */
			while (vm % 10 == 0) {
				vr_zeros &= last == 0;
				last = (int)(vr % 10);
				vr /= 10;
				vp /= 10;
				vm /= 10;
				removed++;
			}
		}
		if (vr_zeros && last == 5 && vr % 2 == 0)
			last = 4; /* an exact tie: round to even */
		out = vr + ((vr == vm && (!accept_ends || !vm_zeros)) || last >= 5);
	} else {
		/* Common: no tie is possible, and the lower end is never exact. */
		int round_up = 0;
		if (vp / 100 > vm / 100) {
			round_up = vr % 100 >= 50;
			vr /= 100;
			vp /= 100;
			vm /= 100;
			removed += 2;
		}
		while (vp / 10 > vm / 10) {
			round_up = vr % 10 >= 5;
			vr /= 10;
			vp /= 10;
			vm /= 10;
			removed++;
		}
		out = vr + (vr == vm || round_up);
	}
	d.exponent = e10 + removed;
	while (out % 10 == 0) {
		out /= 10;
		d.exponent++;
	}
	d.digits = out;
	d.ndigits = decimal_length(out);
	return d;
}

/* An IEEE binary number of mbits stored mantissa bits and ebits exponent
 * bits, its sign left out, taken apart for shortest(). */
static fin_decimal decode(uint64_t bits, int mbits, int ebits)
{
	uint64_t mantissa = bits & ((1ULL << mbits) - 1);
	int exponent = (int)(bits >> mbits & ((1U << ebits) - 1));
	int bias = (1 << (ebits - 1)) - 1;

	if ((exponent == 0 && mantissa == 0) || exponent == (1 << ebits) - 1)
		return (fin_decimal){ .digits = 0, .exponent = 0, .ndigits = 1 };
	if (exponent == 0) /* subnormal */
		return shortest(mantissa, 1 - bias - mbits, 1);
	return shortest(mantissa | 1ULL << mbits, exponent - bias - mbits,
			mantissa != 0 || exponent == 1);
}

fin_decimal fin_shortest_double(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	return decode(bits, 52, 11);
}

fin_decimal fin_shortest_float(float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof bits);
	return decode(bits, 23, 8);
}
