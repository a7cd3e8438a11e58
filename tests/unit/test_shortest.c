/* The shortest decimals of doubles and floats (lib/io/shortest.c): its
 * tables recomputed exactly, the test values of Ryu's own tests, and random
 * bit patterns checked against strtod, strtof and printf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/shortest.h"
#include "io/shortest_tables.h"

/* ---- the tables, with exact integers of 32-bit limbs, lowest first ---- */

enum { LIMBS = 48 };

typedef struct big {
	uint32_t w[LIMBS];
} big;

static void big_set_pow2(big *b, int k)
{
	memset(b, 0, sizeof *b);
	b->w[k / 32] = 1U << (k % 32);
}

static void big_mul_small(big *b, uint32_t m)
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < LIMBS; i++) {
		uint64_t t = (uint64_t)b->w[i] * m + carry;
		b->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	assert_true(carry == 0);
}

static void big_div_small(big *b, uint32_t d)
{
	uint64_t rest = 0;
	int i;

	for (i = LIMBS - 1; i >= 0; i--) {
		uint64_t t = rest << 32 | b->w[i];
		b->w[i] = (uint32_t)(t / d);
		rest = t % d;
	}
}

static int big_bits(const big *b)
{
	int i, n;

	for (i = LIMBS - 1; i >= 0; i--)
		if (b->w[i])
			for (n = 31; n >= 0; n--)
				if (b->w[i] >> n & 1)
					return i * 32 + n + 1;
	return 0;
}

/* b shifted right by s bits (left when s < 0), floored. */
static void big_shift(big *b, int s)
{
	big r = { { 0 } };
	int i;

	for (i = 0; i < LIMBS * 32; i++) {
		int from = i + s;
		if (from >= 0 && from < LIMBS * 32 && (b->w[from / 32] >> (from % 32) & 1))
			r.w[i / 32] |= 1U << (i % 32);
	}
	*b = r;
}

/* Whether b equals the 128-bit table entry e. */
static int big_equals(const big *b, const uint64_t e[2])
{
	int i;

	for (i = 4; i < LIMBS; i++)
		if (b->w[i])
			return 0;
	return ((uint64_t)b->w[1] << 32 | b->w[0]) == e[0] && ((uint64_t)b->w[3] << 32 | b->w[2]) == e[1];
}

static void test_tables(void **state)
{
	big p5, t;
	int q;
	(void)state;
	/* pow5[i]: 5^i, cut or padded to POW5_BITS bits. */
	big_set_pow2(&p5, 0);
	for (q = 0; q < (int)(sizeof pow5 / sizeof *pow5); q++) {
		t = p5;
		big_shift(&t, big_bits(&p5) - POW5_BITS);
		assert_true(big_bits(&t) == POW5_BITS);
		if (!big_equals(&t, pow5[q]))
			fail_msg("pow5[%d] is not 5^%d to %d bits", q, q, POW5_BITS);
		big_mul_small(&p5, 5);
	}
	/* pow5_inv[q]: floor(2^(bits(5^q) - 1 + POW5_INV_BITS) / 5^q) + 1,
	 * dividing by 5 q times (floors of floors are the floor). */
	big_set_pow2(&p5, 0);
	for (q = 0; q < (int)(sizeof pow5_inv / sizeof *pow5_inv); q++) {
		int i;
		big_set_pow2(&t, big_bits(&p5) - 1 + POW5_INV_BITS);
		for (i = 0; i < q; i++)
			big_div_small(&t, 5);
		for (i = 0; i < LIMBS && ++t.w[i] == 0; i++)
			;
		if (!big_equals(&t, pow5_inv[q]))
			fail_msg("pow5_inv[%d] is not 2^k / 5^%d rounded up", q, q);
		big_mul_small(&p5, 5);
	}
}

/* ---- known values ---- */

/* d as Ryu's tests write it: 1.2345e-7, 5e-324. */
static void scientific(char *buf, size_t len, fin_decimal d)
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)d.digits);

	assert_int_equal(n, d.ndigits);
	assert_true(d.digits % 10 != 0);
	if (n > 1)
		snprintf(buf, len, "%c.%se%d", digits[0], digits + 1, d.exponent + n - 1);
	else
		snprintf(buf, len, "%ce%d", digits[0], d.exponent);
}

static void expect_double(double v, const char *want)
{
	char got[48];
	scientific(got, sizeof got, fin_shortest_double(v));
	if (strcmp(got, want) != 0)
		fail_msg("%.17g: %s, not %s", v, got, want);
}

static void expect_float(float v, const char *want)
{
	char got[48];
	scientific(got, sizeof got, fin_shortest_float(v));
	if (strcmp(got, want) != 0)
		fail_msg("%.9g: %s, not %s", (double)v, got, want);
}

static double double_bits(uint64_t bits)
{
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

static float float_bits(uint32_t bits)
{
	float v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

static void test_double_values(void **state)
{
	static const double ten[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
				      1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e22, 1e23 };
	char want[32];
	int i;
	(void)state;
	expect_double(1, "1e0");
	expect_double(-1, "1e0");
	expect_double(0.1, "1e-1");
	expect_double(0.3, "3e-1");
	expect_double(0.1 + 0.2, "3.0000000000000004e-1");
	expect_double(1.2345678e-7, "1.2345678e-7");
	/* the extremes, and where subnormals begin */
	expect_double(DBL_MAX, "1.7976931348623157e308");
	expect_double(double_bits(1), "5e-324");
	expect_double(DBL_MIN, "2.2250738585072014e-308");
	expect_double(2.98023223876953125e-8, "2.9802322387695312e-8");
	/* values Ryu's own tests list */
	expect_double(-2.109808898695963e16, "2.109808898695963e16");
	expect_double(4.940656e-318, "4.940656e-318");
	expect_double(1.18575755e-316, "1.18575755e-316");
	expect_double(2.989102097996e-312, "2.989102097996e-312");
	expect_double(9.0608011534336e15, "9.0608011534336e15");
	expect_double(4.708356024711512e18, "4.708356024711512e18");
	expect_double(9.409340012568248e18, "9.409340012568248e18");
	expect_double(1.2345678, "1.2345678e0");
	expect_double(1.234567895, "1.234567895e0");
	expect_double(1.2345678901234567, "1.2345678901234567e0");
	expect_double(4.294967294, "4.294967294e0");
	expect_double(4.294967295, "4.294967295e0");
	expect_double(4.294967296, "4.294967296e0");
	expect_double(4.294967297, "4.294967297e0");
	/* mantissas a multiple of a large power of 5: q = 22 */
	expect_double(double_bits(0x4830F0CF064DD592), "5.764607523034235e39");
	expect_double(double_bits(0x4840F0CF064DD592), "1.152921504606847e40");
	expect_double(double_bits(0x4850F0CF064DD592), "2.305843009213694e40");
	/* the largest and smallest shifts */
	expect_double(double_bits(4ULL << 52), "1.7800590868057611e-307");
	expect_double(double_bits(7ULL << 52 | ((1ULL << 52) - 1)), "2.8480945388892175e-306");
	expect_double(double_bits(41ULL << 52), "2.446494580089078e-296");
	expect_double(double_bits(41ULL << 52 | ((1ULL << 52) - 1)), "4.8929891601781557e-296");
	expect_double(double_bits(1077ULL << 52), "1.8014398509481984e16");
	expect_double(double_bits(1077ULL << 52 | ((1ULL << 52) - 1)), "3.6028797018963964e16");
	expect_double(double_bits(307ULL << 52), "2.900835519859558e-216");
	expect_double(double_bits(307ULL << 52 | ((1ULL << 52) - 1)), "5.801671039719115e-216");
	expect_double(double_bits(934ULL << 52 | 0x000FA7161A4D6E0CULL), "3.196104012172126e-27");
	expect_double(9007199254740991.0, "9.007199254740991e15");
	expect_double(9007199254740992.0, "9.007199254740992e15");
	expect_double(1e15 + 1, "1.000000000000001e15");
	expect_double(1e15 + 1e7, "1.00000001e15");
	/* powers of ten, and 2^k */
	for (i = 0; i < (int)(sizeof ten / sizeof *ten); i++) {
		snprintf(want, sizeof want, "1e%d", (int)lround(log10(ten[i])));
		expect_double(ten[i], want);
	}
	expect_double(1e-300, "1e-300");
	expect_double(1e300, "1e300");
	expect_double(8.0, "8e0");
	expect_double(65536.0, "6.5536e4");
	expect_double(9007199254740992.0 * 1000, "9.007199254740992e18");
	expect_double(ldexp(1, -1074), "5e-324");
	expect_double(ldexp(1, -1022), "2.2250738585072014e-308");
	expect_double(ldexp(1, 1023), "8.98846567431158e307");
	expect_double(ldexp(1, 100), "1.2676506002282294e30");
	expect_double(ldexp(1, -100), "7.888609052210118e-31");
}

static void test_float_values(void **state)
{
	(void)state;
	expect_float(1, "1e0");
	expect_float(0.1f, "1e-1");
	expect_float(1.2345678e-7f, "1.2345679e-7"); /* closer than ...78 */
	expect_float(FLT_MAX, "3.4028235e38");
	expect_float(float_bits(1), "1e-45");
	expect_float(FLT_MIN, "1.1754944e-38");
	expect_float(1.0f / 3, "3.3333334e-1");
	/* an even mantissa owns the ends of its interval, an odd one does not */
	expect_float(3.355445e7f, "3.355445e7");
	expect_float(8.999999e9f, "9e9");
	expect_float(3.4366717e10f, "3.436672e10");
	/* exactly halfway between two shortest candidates: to even */
	expect_float(3.0540412e5f, "3.0540412e5");
	expect_float(8.0990312e3f, "8.0990312e3");
	/* many trailing zeros in the exact value */
	expect_float(2.4414062e-4f, "2.4414062e-4");
	expect_float(2.4414062e-3f, "2.4414062e-3");
	expect_float(4.3945312e-3f, "4.3945312e-3");
	expect_float(6.3476562e-3f, "6.3476562e-3");
	/* values Ryu's own tests list */
	expect_float(4.7223665e21f, "4.7223665e21");
	expect_float(8388608.0f, "8.388608e6");
	expect_float(1.6777216e7f, "1.6777216e7");
	expect_float(3.3554436e7f, "3.3554436e7");
	expect_float(6.7131496e7f, "6.7131496e7");
	expect_float(1.9310392e-38f, "1.9310392e-38");
	expect_float(-2.47e-43f, "2.47e-43");
	expect_float(1.993244e-38f, "1.993244e-38");
	expect_float(4103.9003f, "4.1039004e3");
	expect_float(5.3399997e9f, "5.3399997e9");
	expect_float(6.0898e-39f, "6.0898e-39");
	expect_float(0.0010310042f, "1.0310042e-3");
	expect_float(2.8823261e17f, "2.882326e17");
	expect_float(7.038531e-26f, "7.038531e-26");
	expect_float(9.2234038e17f, "9.223404e17");
	expect_float(6.7108872e7f, "6.710887e7");
	expect_float(1.0e-44f, "1e-44");
	expect_float(2.816025e14f, "2.816025e14");
	expect_float(9.223372e18f, "9.223372e18");
	expect_float(1.5846085e29f, "1.5846086e29");
	expect_float(1.1811161e19f, "1.1811161e19");
	expect_float(5.368709e18f, "5.368709e18");
	expect_float(4.6143165e18f, "4.6143166e18");
	expect_float(0.007812537f, "7.812537e-3");
	expect_float(1.4e-45f, "1e-45");
	expect_float(1.18697724e20f, "1.18697725e20");
	expect_float(1.00014165e-36f, "1.00014165e-36");
	expect_float(200.0f, "2e2");
	expect_float(3.3554432e7f, "3.3554432e7");
	expect_float(1.2345678f, "1.2345678e0");
	expect_float(1.23456735e-36f, "1.23456735e-36");
	/* where float's interval is one-sided: the powers of two */
	expect_float(ldexpf(1, 24), "1.6777216e7");
	expect_float(ldexpf(1, -126), "1.1754944e-38");
	expect_float(ldexpf(1, 127), "1.7014118e38");
}

/* ---- random bit patterns against the C library ---- */

static uint64_t next(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/* Writes digits * 10^exponent as strtod takes it, 12345e-8, without
 * printf: the random tests make millions. */
static void plain(char *buf, uint64_t digits, int exponent)
{
	char tmp[24];
	int n = 0, e = exponent < 0 ? -exponent : exponent;

	do {
		tmp[n++] = (char)('0' + digits % 10);
		digits /= 10;
	} while (digits);
	while (n)
		*buf++ = tmp[--n];
	*buf++ = 'e';
	if (exponent < 0)
		*buf++ = '-';
	do {
		tmp[n++] = (char)('0' + e % 10);
		e /= 10;
	} while (e);
	while (n)
		*buf++ = tmp[--n];
	*buf = '\0';
}

/* What printf says, p = 1 and up: the fewest significant digits of %.{p}e
 * that read back. Each %.{p}e is the closest decimal of p digits, so when
 * d has the same count it must be that one. */
static void check_against_printf(double v, int is_float, fin_decimal d)
{
	char buf[64], want[64];
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, v);
		if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	/* A shorter one than printf's is possible where the interval is
	 * one-sided (a power of two): printf's rounds to the near side. */
	if (d.ndigits > p)
		fail_msg("%.17g: %d digits, printf needs %d", v, d.ndigits, p);
	if (d.ndigits == p) {
		char *e = strchr(buf, 'e'), *s = buf;
		size_t k = 0;
		for (; s < e; s++)
			if (*s != '.')
				want[k++] = *s;
		while (k > 1 && want[k - 1] == '0')
			k--;
		want[k] = '\0';
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)d.digits);
		if (strcmp(buf, want) != 0)
			fail_msg("%.17g: digits %s, printf's closest %s", v, buf, want);
	}
}

/* The decimals of one digit fewer next to d, on either side, must not read
 * back: then none of fewer digits does. */
static void check_none_shorter(double v, int is_float, fin_decimal d)
{
	char buf[64];
	uint64_t below = d.digits / 10;
	int i;

	if (d.ndigits == 1)
		return;
	for (i = 0; i < 2; i++) {
		plain(buf, below + (uint64_t)i, d.exponent + 1);
		if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			fail_msg("%.17g: %s is shorter and reads back", v, buf);
	}
}

/* Whether v's decimal reads back as |v|, and, when shortest is set,
 * whether it is the shortest. */
static void check_double(double v, int shortest)
{
	char buf[64];
	fin_decimal d = fin_shortest_double(v);

	plain(buf, d.digits, d.exponent);
	if (strtod(buf, NULL) != fabs(v))
		fail_msg("%.17g: %s does not read back", v, buf);
	if (shortest)
		check_none_shorter(fabs(v), 0, d);
}

static void check_float(float v, int shortest)
{
	char buf[64];
	fin_decimal d = fin_shortest_float(v);

	plain(buf, d.digits, d.exponent);
	if (strtof(buf, NULL) != fabsf(v))
		fail_msg("%.9g: %s does not read back", (double)v, buf);
	if (shortest)
		check_none_shorter(fabsf(v), 1, d);
}

/* RANDOM_COUNT random bit patterns of each type (a fixed seed): every
 * finite one other than 0 must read back; every SHORTEST_EVERY-th must
 * have no decimal of one digit fewer on either side that reads back, so
 * that it is the shortest; every PRINTF_EVERY-th is compared with the slow
 * reference, printf at 1, 2, ... digits. (strtod and printf take 0.1 to
 * 5 microseconds a number at the far exponents random bits have: this
 * keeps the test near a second. Every float is checked by hand, with
 * --all-floats.) */
enum { RANDOM_COUNT = 2000000, SHORTEST_EVERY = 4, PRINTF_EVERY = 64 };

/* Values without shortest digits come back as the digit 0, at once. */
static void test_no_digits(void **state)
{
	const double doubles[] = { 0.0, -0.0, INFINITY, -INFINITY, NAN };
	const float floats[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof doubles / sizeof *doubles; i++) {
		fin_decimal d = fin_shortest_double(doubles[i]);
		fin_decimal f = fin_shortest_float(floats[i]);
		assert_true(d.digits == 0 && d.exponent == 0 && d.ndigits == 1);
		assert_true(f.digits == 0 && f.exponent == 0 && f.ndigits == 1);
	}
}

static void test_random_doubles(void **state)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	long i, checked = 0;
	(void)state;
	for (i = 0; i < RANDOM_COUNT; i++) {
		double v = double_bits(next(&x));
		if (!isfinite(v) || v == 0)
			continue;
		check_double(v, i % SHORTEST_EVERY == 0);
		if (i % PRINTF_EVERY == 0)
			check_against_printf(fabs(v), 0, fin_shortest_double(v));
		checked++;
	}
	assert_true(checked > RANDOM_COUNT * 99 / 100);
}

static void test_random_floats(void **state)
{
	uint64_t x = 0x2545F4914F6CDD1DULL;
	long i, checked = 0;
	(void)state;
	for (i = 0; i < RANDOM_COUNT; i++) {
		float v = float_bits((uint32_t)(next(&x) >> 32));
		if (!isfinite(v) || v == 0)
			continue;
		check_float(v, i % SHORTEST_EVERY == 0);
		if (i % PRINTF_EVERY == 0)
			check_against_printf(fabsf(v), 1, fin_shortest_float(v));
		checked++;
	}
	assert_true(checked > RANDOM_COUNT * 99 / 100);
}

/* Every power of two, and its neighbours: the one-sided intervals. */
static void test_powers_of_two(void **state)
{
	int e;
	(void)state;
	for (e = -1074; e <= 1023; e++) {
		double v = ldexp(1, e);
		check_double(v, 1);
		if (e > -1074)
			check_double(nextafter(v, 0), 1);
		check_double(nextafter(v, INFINITY), 1);
		check_against_printf(v, 0, fin_shortest_double(v));
	}
	for (e = -149; e <= 127; e++) {
		float v = ldexpf(1, e);
		check_float(v, 1);
		if (e > -149)
			check_float(nextafterf(v, 0), 1);
		check_float(nextafterf(v, INFINITY), 1);
		check_against_printf(v, 1, fin_shortest_float(v));
	}
}

/* Every float's bit pattern from..to (hexadecimal), by hand: too slow for
 * make check (build/tests/test_shortest --all-floats 0 ffffffff). */
static int all_floats(uint32_t from, uint32_t to)
{
	uint64_t b, checked = 0;

	for (b = from; b <= to; b++) {
		float v = float_bits((uint32_t)b);
		if (isfinite(v) && v != 0) {
			check_float(v, 1);
			checked++;
		}
	}
	printf("%llu finite floats other than 0 from %08x to %08x: shortest, and read back\n",
	       (unsigned long long)checked, from, to);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_double_values),
		cmocka_unit_test(test_float_values),
		cmocka_unit_test(test_powers_of_two),
		cmocka_unit_test(test_no_digits),
		cmocka_unit_test(test_random_doubles),
		cmocka_unit_test(test_random_floats),
	};
	if (argc == 4 && strcmp(argv[1], "--all-floats") == 0)
		return all_floats((uint32_t)strtoul(argv[2], NULL, 16), (uint32_t)strtoul(argv[3], NULL, 16));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
