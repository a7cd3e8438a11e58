/* Reading numbers and missing values; writing numbers that read back. */
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

#include "io/numio.h"
#include "io/shortest.h"

static enum fin_num parse(const char *s, double *v)
{
	return fin_parse_double(s, strlen(s), v);
}

static void test_parse_numbers(void **state)
{
	double v;
	(void)state;
	assert_int_equal(parse("1.5", &v), FIN_NUM_OK);
	assert_true(v == 1.5);
	assert_int_equal(parse(" 2 ", &v), FIN_NUM_OK);
	assert_true(v == 2);
	assert_int_equal(parse("-.25", &v), FIN_NUM_OK);
	assert_true(v == -0.25);
	assert_int_equal(parse("+3e2", &v), FIN_NUM_OK);
	assert_true(v == 300);
	assert_int_equal(parse("1e-320", &v), FIN_NUM_OK); /* subnormal, still finite */
	assert_true(v > 0);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = { "abc", "1.5x", "1,5", "inf", "-inf", "Nan", "nan(0x1)",
					   "0x10", "1e999", "--1", "+", ".", "1 2" };
	double v;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse(bad[i], &v), FIN_NUM_BAD);
}

/* pandas 1.5's read_csv default na_values (pandas._libs.parsers.STR_NA_VALUES). */
static const char *const pandas_na[] = {
	"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
	"1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
};

static void test_missing(void **state)
{
	/* Near misses: other cases, a character more or less, inner blanks. */
	static const char *const not_na[] = {
		"N", "Na", "nA", "NAN", "Nan", "NUll", "None", "none", "NONE", "#N/a", "<na>",
		"-NA", "N A", "1.#INDX", "1.#IN", "-999", "0", "#N/A  N/A", "-1.#QNAn",
	};
	char padded[32];
	double v;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof pandas_na / sizeof *pandas_na; i++) {
		assert_true(fin_is_na(pandas_na[i], strlen(pandas_na[i])));
		assert_int_equal(parse(pandas_na[i], &v), FIN_NUM_NA);
		/* blanks around a spelling are ignored, as for numbers */
		snprintf(padded, sizeof padded, " \t%s ", pandas_na[i]);
		assert_int_equal(parse(padded, &v), FIN_NUM_NA);
	}
	for (i = 0; i < sizeof not_na / sizeof *not_na; i++)
		assert_false(fin_is_na(not_na[i], strlen(not_na[i])));
	/* the length decides, not a NUL: "NA" followed by more bytes */
	assert_false(fin_is_na("NA\0x", 4));
}

/* Last: the spellings added stay for the rest of the process. */
static void test_added_spellings(void **state)
{
	double v;
	(void)state;
	assert_int_equal(parse("-999", &v), FIN_NUM_OK);
	assert_int_equal(fin_na_add(" -999\t", 6), 0);
	assert_int_equal(fin_na_add("missing", 7), 0);
	assert_int_equal(fin_na_add("-999", 4), 0); /* a repeat is accepted */
	assert_int_equal(parse("-999", &v), FIN_NUM_NA);
	assert_int_equal(parse("  -999 ", &v), FIN_NUM_NA);
	assert_int_equal(parse("missing", &v), FIN_NUM_NA);
	/* exact text: neither the same number written otherwise nor a part */
	assert_int_equal(parse("-999.0", &v), FIN_NUM_OK);
	assert_true(v == -999);
	assert_int_equal(parse("-99", &v), FIN_NUM_OK);
	assert_false(fin_is_na("Missing", 7));
	assert_false(fin_is_na("missing!", 8));
	assert_true(fin_is_na("NA", 2));
}

static void expect_text(double v, const char *want)
{
	char buf[FIN_NUM_MAX];
	size_t n = fin_format_double(buf, v);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_format_shortest(void **state)
{
	(void)state;
	expect_text(0.1, "0.1");
	expect_text(100, "100");
	expect_text(-42, "-42");
	expect_text(0, "0");
	expect_text(-0.0, "-0");
	expect_text(1e-7, "1e-07");
	expect_text(0.1 + 0.2, "0.30000000000000004");
	expect_text(1.5e300, "1.5e+300");
	expect_text(123456789012345678.0, "1.2345678901234568e+17");
	expect_text(NAN, "");
	expect_text(INFINITY, "");
	/* the layout: plain from 1e-4 up to 10^max(15, digits) */
	expect_text(0.0001234, "0.0001234");
	expect_text(-0.0001, "-0.0001");
	expect_text(1.5e-5, "1.5e-05");
	expect_text(123.456, "123.456");
	expect_text(-2.5, "-2.5");
	expect_text(1e15, "1e+15");
	expect_text(-1e15, "-1e+15");
	expect_text(1.5e15, "1.5e+15");
	expect_text(1234567890123456.0, "1234567890123456");
	expect_text(12345678901234567.0, "12345678901234568");
	expect_text(999999999999999.9, "999999999999999.9");
	expect_text(0.00012345678901234567, "0.00012345678901234567");
	expect_text(5e-324, "5e-324");
	expect_text(-1.7976931348623157e308, "-1.7976931348623157e+308");
	expect_text(2.2250738585072014e-308, "2.2250738585072014e-308");
	expect_text(1e100, "1e+100");
	expect_text(1e-100, "1e-100");
	expect_text(4.35, "4.35");
}

/* The layout rule against printf: fin_format_double writes what
 * %.{p}g does with p = max(15, its digits), for normal doubles (for
 * subnormals, 15 digits of printf can be more than the shortest). */
static void test_format_like_printf(void **state)
{
	uint64_t x = 0x853C49E6748FEA9BULL;
	char buf[FIN_NUM_MAX], want[64];
	int i;
	(void)state;
	for (i = 0; i < 100000; i++) {
		double v;
		float f;
		int p;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* all exponents, then the everyday ones: around 1e-6 to 1e16 */
		memcpy(&v, &x, sizeof v);
		if (i % 2)
			v = ldexp((double)(x >> 11), (int)(x % 74) - 73);
		if (!isfinite(v) || fabs(v) < DBL_MIN)
			continue;
		fin_format_double(buf, v);
		p = fin_shortest_double(v).ndigits;
		snprintf(want, sizeof want, "%.*g", p > 15 ? p : 15, v);
		if (strcmp(buf, want) != 0 && strtod(want, NULL) == v)
			fail_msg("%s, not %s", buf, want);
		f = (float)v;
		if (!isfinite(f) || fabsf(f) < FLT_MIN)
			continue;
		fin_format_float(buf, f);
		p = fin_shortest_float(f).ndigits;
		snprintf(want, sizeof want, "%.*g", p > 6 ? p : 6, (double)f);
		if (strcmp(buf, want) != 0 && strtof(want, NULL) == f)
			fail_msg("%s, not %s", buf, want);
	}
}

/* A fixed xorshift stream of bit patterns: any finite double must read back. */
static void test_format_round_trip(void **state)
{
	uint64_t x = 88172645463325252ULL;
	char buf[FIN_NUM_MAX];
	int i, checked = 0;
	(void)state;
	for (i = 0; i < 200000; i++) {
		double v;
		float f;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof v);
		if (isfinite(v)) {
			fin_format_double(buf, v);
			assert_true(strtod(buf, NULL) == v);
			checked++;
		}
		f = (float)(int32_t)(x >> 32) * 1e-6f;
		fin_format_float(buf, f);
		assert_true(strtof(buf, NULL) == f);
	}
	assert_true(checked > 190000);
}

static void test_format_float(void **state)
{
	char buf[FIN_NUM_MAX];
	(void)state;
	fin_format_float(buf, 0.1f);
	assert_string_equal(buf, "0.1");
	fin_format_float(buf, 16777216.0f);
	assert_string_equal(buf, "16777216");
	fin_format_float(buf, 1.0f / 3.0f);
	assert_string_equal(buf, "0.33333334");
	fin_format_float(buf, 1e6f);
	assert_string_equal(buf, "1e+06");
	fin_format_float(buf, 123456.0f);
	assert_string_equal(buf, "123456");
	fin_format_float(buf, 1234567.0f);
	assert_string_equal(buf, "1234567");
	fin_format_float(buf, 0.001f);
	assert_string_equal(buf, "0.001");
	fin_format_float(buf, 1e-5f);
	assert_string_equal(buf, "1e-05");
	fin_format_float(buf, -0.0f);
	assert_string_equal(buf, "-0");
	fin_format_float(buf, 0.0f);
	assert_string_equal(buf, "0");
	fin_format_float(buf, FLT_MAX);
	assert_string_equal(buf, "3.4028235e+38");
	fin_format_float(buf, 1e-45f);
	assert_string_equal(buf, "1e-45");
	assert_int_equal(fin_format_float(buf, NAN), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_format_shortest),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_like_printf),
		cmocka_unit_test(test_format_float),
		cmocka_unit_test(test_added_spellings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
