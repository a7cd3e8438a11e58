/* Stylized facts: moments and autocorrelations of tiny series computed by
 * hand, lag 1 against GSL's own lag-1 autocorrelation, the leverage
 * correlation of series built to have it, the names of the report's rows,
 * and NaN wherever a fact is undefined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/facts.h"

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("got %.17g, want %.17g (tol %g)\n", got, want, tol);
		fail();
	}
}

static void assert_nan(double got)
{
	if (!isnan(got)) {
		print_error("got %.17g, want NaN\n", got);
		fail();
	}
}

static fin_facts facts_of(const double *r, size_t n)
{
	fin_facts f;
	fin_err err = { 0 };

	memset(&f, 0xff, sizeof f);
	if (fin_facts_compute(r, n, &f, &err) != FIN_OK) {
		print_error("fin_facts_compute: %s\n", err.msg);
		fail();
	}
	return f;
}

/* 1, 2, 3, 4, 5: mean 3, deviations -2 -1 0 1 2, sum of squares 10.
 *   sd   = sqrt(10 / 4) = sqrt(2.5)
 *   skew = 0 (the deviations are symmetric)
 *   kurtosis: sum d^4 = 16 + 1 + 0 + 1 + 16 = 34, sd^4 = 6.25,
 *        34 / 5 / 6.25 - 3 = 1.088 - 3 = -1.912
 *   acf_1 = (-2*-1 + -1*0 + 0*1 + 1*2) / 10 =  4 / 10 =  0.4
 *   acf_2 = (-2*0 + -1*1 + 0*2) / 10         = -1 / 10 = -0.1
 *   acf_3 = (-2*1 + -1*2) / 10               = -4 / 10 = -0.4
 *   acf_4 = (-2*2) / 10                      = -4 / 10 = -0.4
 *   acf_5: no pair of values 5 apart: NaN
 * |r| = r, so acf_abs_1..4 are the same and acf_abs_5..20 NaN.
 * Leverage, corr(r_t, r_{t+k}^2):
 *   k = 1: x 1 2 3 4 (deviations -1.5 -0.5 0.5 1.5, sum of squares 5),
 *          y 4 9 16 25 (mean 13.5, deviations -9.5 -4.5 2.5 11.5, sum of
 *          squares 249), sum of products 14.25 + 2.25 + 1.25 + 17.25 = 35:
 *          35 / sqrt(5 * 249)
 *   k = 2: x 1 2 3 (deviations -1 0 1, sum of squares 2), y 9 16 25 (mean
 *          50/3, deviations -23/3 -2/3 25/3, sum of squares 1158/9 = 386/3),
 *          sum of products 23/3 + 25/3 = 16: 16 / sqrt(2 * 386 / 3)
 *   k = 3: x 1 2, y 16 25: two points on a rising line, 1
 *   k = 4, 5: fewer than two pairs, NaN
 * acf_band = 1.96 / sqrt(5). */
static void one_to_five(void **state)
{
	static const double r[] = { 1, 2, 3, 4, 5 };
	fin_facts f = facts_of(r, 5);
	size_t k;

	(void)state;
	assert_int_equal(f.n, 5);
	assert_close(f.mean, 3, 1e-15);
	assert_close(f.sd, sqrt(2.5), 1e-15);
	assert_close(f.skew, 0, 1e-15);
	assert_close(f.kurtosis, -1.912, 1e-14);
	assert_close(f.acf[0], 0.4, 1e-15);
	assert_close(f.acf[1], -0.1, 1e-15);
	assert_close(f.acf[2], -0.4, 1e-15);
	assert_close(f.acf[3], -0.4, 1e-15);
	assert_nan(f.acf[4]);
	for (k = 0; k < 4; k++)
		assert_close(f.acf_abs[k], f.acf[k], 1e-15);
	for (k = 4; k < FIN_FACTS_ACF_ABS; k++)
		assert_nan(f.acf_abs[k]);
	assert_close(f.leverage[0], 35 / sqrt(5.0 * 249), 1e-14);
	assert_close(f.leverage[1], 16 / sqrt(2.0 * 386 / 3), 1e-14);
	assert_close(f.leverage[2], 1, 1e-14);
	assert_nan(f.leverage[3]);
	assert_nan(f.leverage[4]);
	assert_close(f.acf_band, 1.96 / sqrt(5.0), 1e-15);
}

/* 0, 0, 0, 1: mean 1/4, deviations -1/4 -1/4 -1/4 3/4, sum of squares 3/4,
 * sd = sqrt(3/4 / 3) = 1/2, standardised -1/2 -1/2 -1/2 3/2.
 *   skew     = (3 * -1/8 + 27/8) / 4 = 3 / 4
 *   kurtosis = (3 * 1/16 + 81/16) / 4 - 3 = 84/64 - 3 = -1.6875
 *   acf_1 = (1/16 + 1/16 - 3/16) / (3/4) = -1/12
 *   acf_2 = (1/16 - 3/16) / (3/4)        = -1/6
 *   acf_3 = (-3/16) / (3/4)              = -1/4 */
static void skewed(void **state)
{
	static const double r[] = { 0, 0, 0, 1 };
	fin_facts f = facts_of(r, 4);

	(void)state;
	assert_close(f.mean, 0.25, 1e-15);
	assert_close(f.sd, 0.5, 1e-15);
	assert_close(f.skew, 0.75, 1e-14);
	assert_close(f.kurtosis, -1.6875, 1e-14);
	assert_close(f.acf[0], -1.0 / 12, 1e-15);
	assert_close(f.acf[1], -1.0 / 6, 1e-15);
	assert_close(f.acf[2], -0.25, 1e-15);
	assert_nan(f.acf[3]);
	/* r_{t+k}^2 = r_{t+k} here; for k = 1 the pairs are (0,0) (0,0) (0,1):
	 * x 0 0 0 is flat, so no correlation */
	assert_nan(f.leverage[0]);
}

/* Lag 1 is GSL's lag-1 autocorrelation, on a longer series. */
static void lag1_is_gsl(void **state)
{
	enum { N = 1000 };
	double *r = malloc(N * sizeof *r);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_facts f;
	size_t i;

	(void)state;
	gsl_rng_set(rng, 3);
	for (i = 0; i < N; i++)
		r[i] = 0.01 * gsl_ran_tdist(rng, 4) + (i ? 0.3 * r[i - 1] : 0);
	f = facts_of(r, N);
	assert_close(f.acf[0], gsl_stats_lag1_autocorrelation(r, 1, N), 1e-12);
	assert_true(f.acf[0] > 0.2);
	assert_close(f.acf_band, 1.96 / sqrt((double)N), 1e-15);
	gsl_rng_free(rng);
	free(r);
}

/* Pearson's correlation by its definition, for the tests below. */
static double pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		mx += x[i] / (double)n;
		my += y[i] / (double)n;
	}
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

/* 0, 1, 0, 1, ...: r_{t+1}^2 = 1 - r_t exactly, so leverage_1 = -1, and
 * r_{t+2}^2 = r_t, so leverage_2 = +1. A series where a fall is followed
 * by a large move (size 2) and a rise by a small one (size 1/2), with the
 * signs in a fixed pseudo-random order: leverage_1 is negative, and is
 * Pearson's correlation of r_t and r_{t+1}^2 computed here. */
static void leverage(void **state)
{
	enum { N = 400 };
	double alt[10], *r = malloc(N * sizeof *r), *x = malloc(N * sizeof *x),
	       *y = malloc(N * sizeof *y);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_facts f;
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		alt[i] = (double)(i % 2);
	f = facts_of(alt, 10);
	assert_close(f.leverage[0], -1, 1e-14);
	assert_close(f.leverage[1], 1, 1e-14);

	gsl_rng_set(rng, 11);
	for (i = 0; i < N; i++) {
		double sign = gsl_rng_uniform(rng) < 0.5 ? -1 : 1;
		double size = i && r[i - 1] < 0 ? 2 : 0.5;
		r[i] = sign * size;
	}
	for (i = 0; i + 1 < N; i++) {
		x[i] = r[i];
		y[i] = r[i + 1] * r[i + 1];
	}
	f = facts_of(r, N);
	assert_true(f.leverage[0] < -0.5);
	assert_close(f.leverage[0], pearson(x, y, N - 1), 1e-12);
	gsl_rng_free(rng);
	free(r);
	free(x);
	free(y);
}

/* Undefined facts are NaN: no values, one value, a flat series, and a
 * series whose absolute values are flat (+1, -1, ...). */
static void undefined(void **state)
{
	static const double flat[] = { 3, 3, 3, 3, 3, 3 };
	static const double one[] = { 0.5 };
	/* +1 -1 +1 -1: mean 0, sum of squares 4; acf_1 = -3/4, acf_2 = 2/4,
	 * acf_3 = -1/4; |r| and r^2 are flat */
	static const double sign[] = { 1, -1, 1, -1 };
	fin_facts f;
	size_t k;

	(void)state;
	f = facts_of(NULL, 0);
	assert_int_equal(f.n, 0);
	for (k = 0; k < FIN_FACTS_COUNT; k++)
		if (k != 0)
			assert_nan(fin_facts_value(&f, k));

	f = facts_of(one, 1);
	assert_int_equal(f.n, 1);
	assert_close(f.mean, 0.5, 0);
	assert_close(f.acf_band, 1.96, 1e-15);
	for (k = 2; k + 1 < FIN_FACTS_COUNT; k++)
		assert_nan(fin_facts_value(&f, k));

	f = facts_of(flat, 6);
	assert_close(f.mean, 3, 0);
	assert_close(f.sd, 0, 0);
	for (k = 3; k + 1 < FIN_FACTS_COUNT; k++)
		assert_nan(fin_facts_value(&f, k));

	f = facts_of(sign, 4);
	assert_close(f.mean, 0, 0);
	assert_close(f.acf[0], -0.75, 1e-15);
	assert_close(f.acf[1], 0.5, 1e-15);
	assert_close(f.acf[2], -0.25, 1e-15);
	assert_nan(f.acf[3]);
	for (k = 0; k < FIN_FACTS_ACF_ABS; k++)
		assert_nan(f.acf_abs[k]);
	for (k = 0; k < FIN_FACTS_LEVERAGE; k++)
		assert_nan(f.leverage[k]);
}

/* The report's rows: names in order, each value the field it names. */
static void rows(void **state)
{
	static const double r[] = { 1, 2, 3, 4, 5, 7, 6 };
	fin_facts f = facts_of(r, 7);
	char name[32];

	(void)state;
	assert_int_equal(FIN_FACTS_COUNT, 36);
	assert_string_equal(fin_facts_name(0, name, sizeof name), "n");
	assert_string_equal(fin_facts_name(4, name, sizeof name), "excess_kurtosis");
	assert_string_equal(fin_facts_name(5, name, sizeof name), "acf_1");
	assert_string_equal(fin_facts_name(9, name, sizeof name), "acf_5");
	assert_string_equal(fin_facts_name(10, name, sizeof name), "acf_abs_1");
	assert_string_equal(fin_facts_name(29, name, sizeof name), "acf_abs_20");
	assert_string_equal(fin_facts_name(30, name, sizeof name), "leverage_1");
	assert_string_equal(fin_facts_name(34, name, sizeof name), "leverage_5");
	assert_string_equal(fin_facts_name(35, name, sizeof name), "acf_band");
	assert_true(fin_facts_value(&f, 0) == 7);
	assert_true(fin_facts_value(&f, 1) == f.mean);
	assert_true(fin_facts_value(&f, 2) == f.sd);
	assert_true(fin_facts_value(&f, 3) == f.skew);
	assert_true(fin_facts_value(&f, 4) == f.kurtosis);
	assert_true(fin_facts_value(&f, 6) == f.acf[1]);
	assert_true(fin_facts_value(&f, 11) == f.acf_abs[1]);
	assert_true(fin_facts_value(&f, 31) == f.leverage[1]);
	assert_true(fin_facts_value(&f, 35) == f.acf_band);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_to_five),
		cmocka_unit_test(skewed),
		cmocka_unit_test(lag1_is_gsl),
		cmocka_unit_test(leverage),
		cmocka_unit_test(undefined),
		cmocka_unit_test(rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
