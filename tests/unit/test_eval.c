/* fin-eval's metrics on tiny inputs, every expected value worked out by
 * hand in the comments: forecast errors, each naive forecast, the auto
 * rule, the Diebold-Mariano test at horizons 1 and 2, binary and anomaly
 * metrics with their baselines, the Davies-Bouldin index and the
 * silhouette, ROC and precision-recall curves, reading columns with
 * missing values, and NaN wherever a metric is undefined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_eval.h"
#include "eval/binary_eval.h"
#include "eval/curves.h"
#include "eval/eval_input.h"
#include "eval/forecast_eval.h"
#include "eval/metrics.h"

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

/* Each value of got[0..n) against want[], NaN where want is NaN. */
static void assert_series(const double *got, const double *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(want[i]))
			assert_nan(got[i]);
		else
			assert_close(got[i], want[i], 1e-12);
	}
}

static fin_forecast_eval forecast(const double *a, const double *p, const double *last,
				  size_t rows, enum fin_naive naive, size_t h, enum fin_dm_loss loss)
{
	fin_forecast_opts o = { .naive = naive, .horizon = h, .loss = loss };
	fin_forecast_eval ev;
	fin_err err = { 0 };

	if (fin_forecast_evaluate(a, p, last, rows, &o, &ev, &err) != FIN_OK) {
		print_error("fin_forecast_evaluate: %s\n", err.msg);
		fail();
	}
	return ev;
}

/* ---- forecasts ---- */

/* a = 1 2 3 4, p = 2 2 1 5: errors p - a = 1 0 -2 1.
 *   rmse  = sqrt((1 + 0 + 4 + 1) / 4) = sqrt(1.5), mae = 4 / 4 = 1
 *   mape  = 100/4 (1/1 + 0/2 + 2/3 + 1/4) = 100/4 * 23/12 = 2300/48
 *   smape = 200/4 (1/3 + 0/4 + 2/4 + 1/9) = 50 * 17/18 = 850/18
 *   r2    = 1 - 6 / 5 = -0.2 (mean 2.5, SST 2.25 + 0.25 + 0.25 + 2.25)
 * Naive last, h = 1: 1 2 3 on rows 1..3, where
 *   a - p = 0 2 -1, a - naive = 1 1 1:
 *   mae on those rows 1, mae_naive 1: mase 1
 *   rmse sqrt(5/3), rmse_naive 1: theil_u sqrt(5/3)
 *   direction against the last actual: up/up, down/up, up/up: 2 of 3
 * DM, squared: d = 0-1, 4-1, 1-1 = -1 3 0, mean 2/3; deviations -5/3 7/3
 *   -2/3, gamma_0 = (25 + 49 + 4)/9/3 = 26/9, V = 26/27; correction
 *   (3 + 1 - 2)/3 = 2/3: DM = (2/3) sqrt(27/26 * 2/3) = 2/sqrt(13).
 *   Student t with 2 degrees of freedom: P(|T| > x) = 1 - x/sqrt(2 + x^2)
 *   = 1 - 2/sqrt(30).
 * DM, absolute: d = 0-1, 2-1, 1-1 = -1 1 0, mean 0: DM 0, p-value 1. */
static void test_forecast_worked_example(void **state)
{
	static const double a[] = { 1, 2, 3, 4 }, p[] = { 2, 2, 1, 5 };
	fin_forecast_eval ev = forecast(a, p, NULL, 4, FIN_NAIVE_LAST, 1, FIN_DM_SQUARED);

	(void)state;
	assert_int_equal(ev.n, 4);
	assert_close(ev.rmse, sqrt(1.5), 1e-15);
	assert_close(ev.mae, 1, 1e-15);
	assert_int_equal(ev.n_mape, 4);
	assert_close(ev.mape, 2300.0 / 48, 1e-12);
	assert_close(ev.smape, 850.0 / 18, 1e-12);
	assert_close(ev.r2, -0.2, 1e-15);
	assert_int_equal(ev.naive, FIN_NAIVE_LAST);
	assert_false(ev.naive_auto);
	assert_int_equal(ev.n_naive, 3);
	assert_close(ev.mae_naive, 1, 1e-15);
	assert_close(ev.rmse_naive, 1, 1e-15);
	assert_close(ev.mase, 1, 1e-15);
	assert_close(ev.theil_u, sqrt(5.0 / 3), 1e-15);
	assert_int_equal(ev.n_directional, 3);
	assert_close(ev.directional_accuracy, 2.0 / 3, 1e-15);
	assert_close(ev.dm.statistic, 2 / sqrt(13), 1e-14);
	assert_close(ev.dm.p_value, 1 - 2 / sqrt(30), 1e-12);
	assert_int_equal(ev.dm.horizon, 1);

	ev = forecast(a, p, NULL, 4, FIN_NAIVE_LAST, 1, FIN_DM_ABSOLUTE);
	assert_close(ev.dm.statistic, 0, 1e-15);
	assert_close(ev.dm.p_value, 1, 1e-15);
}

/* Zero naive on the same rows: naive 0 everywhere, a - naive = a.
 *   mae_naive = (1 + 2 + 3 + 4)/4 = 2.5, rmse_naive = sqrt(30/4)
 *   mase = 1 / 2.5 = 0.4, theil_u = sqrt(1.5 / 7.5) = sqrt(0.2)
 *   direction against 0: p and a are all positive: 4 of 4 */
static void test_forecast_zero_naive(void **state)
{
	static const double a[] = { 1, 2, 3, 4 }, p[] = { 2, 2, 1, 5 };
	fin_forecast_eval ev = forecast(a, p, NULL, 4, FIN_NAIVE_ZERO, 1, FIN_DM_SQUARED);

	(void)state;
	assert_int_equal(ev.n_naive, 4);
	assert_close(ev.mae_naive, 2.5, 1e-15);
	assert_close(ev.rmse_naive, sqrt(7.5), 1e-15);
	assert_close(ev.mase, 0.4, 1e-15);
	assert_close(ev.theil_u, sqrt(0.2), 1e-15);
	assert_int_equal(ev.n_directional, 4);
	assert_close(ev.directional_accuracy, 1, 1e-15);
}

/* Actuals of 0 are left out of the MAPE; a = p = 0 adds 0 to the sMAPE.
 * a = 0 2, p = 0 1: mape = 100 * 1/2 over 1 row = 50; smape = 200/2 *
 * (0 + 1/3) = 100/3; r2: mean 1, SST 2, SSE 1: 0.5.
 * Direction against 0 with a tie: sign(0) = sign(0) counts as a hit. */
static void test_forecast_zeros(void **state)
{
	static const double a[] = { 0, 2 }, p[] = { 0, 1 };
	fin_forecast_eval ev = forecast(a, p, NULL, 2, FIN_NAIVE_ZERO, 1, FIN_DM_SQUARED);

	(void)state;
	assert_int_equal(ev.n_mape, 1);
	assert_close(ev.mape, 50, 1e-13);
	assert_close(ev.smape, 100.0 / 3, 1e-13);
	assert_close(ev.r2, 0.5, 1e-15);
	assert_close(ev.directional_accuracy, 1, 1e-15);
}

/* Undefined metrics: constant actuals have no r2, only zero actuals no
 * MAPE, a naive forecast that is never wrong no mase or theil_u, and
 * losses that differ by a constant no DM test. */
static void test_forecast_undefined(void **state)
{
	static const double flat[] = { 3, 3, 3 }, p[] = { 1, 2, 3 }, zeros[] = { 0, 0, 0 };
	fin_forecast_eval ev = forecast(flat, p, NULL, 3, FIN_NAIVE_LAST, 1, FIN_DM_SQUARED);

	(void)state;
	assert_nan(ev.r2);
	assert_close(ev.mae_naive, 0, 0);
	assert_nan(ev.mase);
	assert_nan(ev.theil_u);
	ev = forecast(zeros, p, NULL, 3, FIN_NAIVE_ZERO, 1, FIN_DM_SQUARED);
	assert_int_equal(ev.n_mape, 0);
	assert_nan(ev.mape);
	assert_nan(ev.r2);
	/* p = 1 2 3 against a naive of 0 on actuals of 0: d_t = p^2 - 0, not
	 * constant; on one row there is no test at all */
	assert_false(isnan(ev.dm.statistic));
	ev = forecast(zeros, p, NULL, 1, FIN_NAIVE_ZERO, 1, FIN_DM_SQUARED);
	assert_nan(ev.dm.statistic);
	assert_nan(ev.dm.p_value);
}

/* A missing actual leaves its row out; its position still counts.
 * a = 1 2 NA 4, p = 2 2 1 5: rows 0 1 3, errors 1 0 1: rmse sqrt(2/3),
 * mae 2/3. Naive last: 1 on row 1, a[2] missing on row 3: n_naive 1,
 * a - p = 0 against a - naive = 1: mase 0; DM needs 2 rows. Direction on
 * row 1 only: up/up. */
static void test_forecast_missing(void **state)
{
	const double a[] = { 1, 2, NAN, 4 }, p[] = { 2, 2, 1, 5 };
	fin_forecast_eval ev = forecast(a, p, NULL, 4, FIN_NAIVE_LAST, 1, FIN_DM_SQUARED);

	(void)state;
	assert_int_equal(ev.n, 3);
	assert_close(ev.rmse, sqrt(2.0 / 3), 1e-15);
	assert_close(ev.mae, 2.0 / 3, 1e-15);
	assert_int_equal(ev.n_naive, 1);
	assert_close(ev.mase, 0, 0);
	assert_nan(ev.dm.statistic);
	assert_int_equal(ev.n_directional, 1);
	assert_close(ev.directional_accuracy, 1, 0);
}

/* a = 10 12 11 15 14 at h = 1 (s = t - 1):
 *   last   -  10 12 11 15
 *   mean   -  10 11 11 12            (10; 22/2; 33/3; 48/4)
 *   drift  -  -  14 11.5 50/3        (12 + 2/1; 11 + 1/2; 15 + 5/3)
 * and at h = 2 (s = t - 2):
 *   last   -  -  10 12 11
 *   mean   -  -  10 11 11
 *   drift  -  -  -  16 12            (12 + 2 * 2/1; 11 + 2 * 1/2) */
static void test_naive_kinds(void **state)
{
	static const double a[] = { 10, 12, 11, 15, 14 };
	const double last1[] = { NAN, 10, 12, 11, 15 }, mean1[] = { NAN, 10, 11, 11, 12 };
	const double drift1[] = { NAN, NAN, 14, 11.5, 50.0 / 3 }, zero[] = { 0, 0, 0, 0, 0 };
	const double last2[] = { NAN, NAN, 10, 12, 11 }, mean2[] = { NAN, NAN, 10, 11, 11 };
	const double drift2[] = { NAN, NAN, NAN, 16, 12 };
	double naive[5], ref[5];

	(void)state;
	fin_naive_forecast(FIN_NAIVE_LAST, a, NULL, 5, 1, naive, ref);
	assert_series(naive, last1, 5);
	assert_series(ref, last1, 5);
	fin_naive_forecast(FIN_NAIVE_ZERO, a, NULL, 5, 1, naive, ref);
	assert_series(naive, zero, 5);
	assert_series(ref, zero, 5);
	fin_naive_forecast(FIN_NAIVE_MEAN, a, NULL, 5, 1, naive, ref);
	assert_series(naive, mean1, 5);
	assert_series(ref, zero, 5);
	fin_naive_forecast(FIN_NAIVE_DRIFT, a, NULL, 5, 1, naive, ref);
	assert_series(naive, drift1, 5);
	assert_series(ref, last1, 5);
	fin_naive_forecast(FIN_NAIVE_LAST, a, NULL, 5, 2, naive, ref);
	assert_series(naive, last2, 5);
	fin_naive_forecast(FIN_NAIVE_MEAN, a, NULL, 5, 2, naive, ref);
	assert_series(naive, mean2, 5);
	fin_naive_forecast(FIN_NAIVE_DRIFT, a, NULL, 5, 2, naive, ref);
	assert_series(naive, drift2, 5);
	assert_series(ref, last2, 5);
}

/* Missing actuals: a = 10 NA 11 15 14, h = 1.
 *   last   -  10 -  11 15
 *   mean   -  10 10 10.5 12          (the missing 12 is not averaged)
 *   drift  -  -  11.5 50/3           (row 2 needs a[1]; 11 + 1/2; 15 + 5/3)
 * The first actual missing: a = NA 12 11 15 14, drift from a[1]:
 *   drift  -  -  -  10 16.5          (row 2: s = 1 is the first; 11 - 1/1;
 *                                     15 + 3/2) */
static void test_naive_missing(void **state)
{
	const double a[] = { 10, NAN, 11, 15, 14 }, b[] = { NAN, 12, 11, 15, 14 };
	const double last[] = { NAN, 10, NAN, 11, 15 }, mean[] = { NAN, 10, 10, 10.5, 12 };
	const double drift[] = { NAN, NAN, NAN, 11.5, 50.0 / 3 };
	const double drift_b[] = { NAN, NAN, NAN, 10, 16.5 };
	double naive[5], ref[5];

	(void)state;
	fin_naive_forecast(FIN_NAIVE_LAST, a, NULL, 5, 1, naive, ref);
	assert_series(naive, last, 5);
	fin_naive_forecast(FIN_NAIVE_MEAN, a, NULL, 5, 1, naive, ref);
	assert_series(naive, mean, 5);
	fin_naive_forecast(FIN_NAIVE_DRIFT, a, NULL, 5, 1, naive, ref);
	assert_series(naive, drift, 5);
	fin_naive_forecast(FIN_NAIVE_DRIFT, b, NULL, 5, 1, naive, ref);
	assert_series(naive, drift_b, 5);
}

/* --last: the anchor comes from the column, on every row that has it.
 * last = 9 10.5 12 11.5 NA with a = 10 12 11 15 14, h = 1:
 *   last   9 10.5 12 11.5 -
 *   drift  -  -  14 12 -             (12 + 2/1; 11.5 + (11 - 10)/2)
 *   ref of drift: the column itself */
static void test_naive_last_column(void **state)
{
	static const double a[] = { 10, 12, 11, 15, 14 };
	const double col[] = { 9, 10.5, 12, 11.5, NAN };
	const double drift[] = { NAN, NAN, 14, 12, NAN };
	double naive[5], ref[5];

	(void)state;
	fin_naive_forecast(FIN_NAIVE_LAST, a, col, 5, 1, naive, ref);
	assert_series(naive, col, 5);
	assert_series(ref, col, 5);
	fin_naive_forecast(FIN_NAIVE_DRIFT, a, col, 5, 1, naive, ref);
	assert_series(naive, drift, 5);
	assert_series(ref, col, 5);
}

/* The auto rule. For x = 1..n, with m = (n + 1)/2, the sum of squares is
 * n (n^2 - 1)/12 and the lag-1 sum of products is that minus (m - 1)^2
 * and (m - 1):
 *   n = 40: (5330 - 380.25 - 19.5) / 5330 = 4930.25/5330 = 0.925: last
 *   n = 20: (665 - 90.25 - 9.5) / 665 = 565.25/665 = 0.85: zero
 * The n = 40 series with its first value -1 is not a positive level
 * series: zero. A constant series has no autocorrelation: zero. */
static void test_naive_auto(void **state)
{
	double x[40], acf1, nonpositive;
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++)
		x[i] = (double)(i + 1);
	assert_int_equal(fin_naive_choose(x, 40, &acf1, &nonpositive), FIN_NAIVE_LAST);
	assert_close(acf1, 4930.25 / 5330, 1e-14);
	assert_nan(nonpositive);
	assert_int_equal(fin_naive_choose(x, 20, &acf1, &nonpositive), FIN_NAIVE_ZERO);
	assert_close(acf1, 565.25 / 665, 1e-14);
	x[0] = -1;
	assert_int_equal(fin_naive_choose(x, 40, &acf1, &nonpositive), FIN_NAIVE_ZERO);
	assert_close(nonpositive, -1, 0);
	assert_true(acf1 > 0.9);
	for (i = 0; i < 40; i++)
		x[i] = 5;
	assert_int_equal(fin_naive_choose(x, 40, &acf1, &nonpositive), FIN_NAIVE_ZERO);
	assert_nan(acf1);
	assert_int_equal(fin_naive_choose(x, 1, &acf1, &nonpositive), FIN_NAIVE_ZERO);
	assert_nan(acf1);
}

/* Through fin_forecast_evaluate: the auto rule on 1..40 forecast by
 * p = a + 1 chooses last; the naive's error is 1 on each of rows 1..39
 * too, so mase = theil_u = 1. */
static void test_forecast_auto(void **state)
{
	double a[40], p[40];
	fin_forecast_eval ev;
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++) {
		a[i] = (double)(i + 1);
		p[i] = a[i] + 1;
	}
	ev = forecast(a, p, NULL, 40, FIN_NAIVE_AUTO, 1, FIN_DM_SQUARED);
	assert_true(ev.naive_auto);
	assert_int_equal(ev.naive, FIN_NAIVE_LAST);
	assert_close(ev.acf1, 4930.25 / 5330, 1e-14);
	assert_int_equal(ev.n_naive, 39);
	assert_close(ev.mase, 1, 1e-15);
	assert_close(ev.theil_u, 1, 1e-15);
	/* equal losses on every row: no variance, no test */
	assert_nan(ev.dm.statistic);
}

/* DM at h = 2, errors e1 = 1 2 0 1 2 against e2 = 0, squared:
 *   d = 1 4 0 1 4, mean 2, deviations -1 2 -2 -1 2
 *   gamma_0 = (1 + 4 + 4 + 1 + 4)/5 = 14/5
 *   gamma_1 = (2*-1 + -2*2 + -1*-2 + 2*-1)/5 = -6/5
 *   V = (14/5 - 12/5)/5 = 2/25, DM = 2 / sqrt(2/25) = 5 sqrt(2)
 *   correction (5 + 1 - 4 + 2*1/5)/5 = 0.48: statistic 5 sqrt(0.96) =
 *   sqrt(24); Student t with 4 degrees of freedom,
 *   P(|T| > x) = 1 - (3/4)(x/sqrt(1 + x^2/4))(1 - x^2/(12 (1 + x^2/4)))
 *   = 1 - (3/4) sqrt(24/7) (5/7) = 1 - (15/28) sqrt(24/7). */
static void test_dm_horizon_2(void **state)
{
	static const double e1[] = { 1, 2, 0, 1, 2 }, e2[] = { 0, 0, 0, 0, 0 };
	fin_dm dm = fin_dm_test(e1, e2, 5, 2, FIN_DM_SQUARED);

	(void)state;
	assert_int_equal(dm.horizon, 2);
	assert_close(dm.statistic, sqrt(24), 1e-13);
	assert_close(dm.p_value, 1 - 15.0 / 28 * sqrt(24.0 / 7), 1e-12);
	/* the same errors the other way round: the sign flips */
	dm = fin_dm_test(e2, e1, 5, 2, FIN_DM_SQUARED);
	assert_close(dm.statistic, -sqrt(24), 1e-13);
}

/* When h > 1 gives no positive variance, dm.test falls back to h = 1.
 * e1 = 3 0 3 0, absolute, against 0: d = 3 0 3 0, mean 1.5, deviations
 * +-1.5: gamma_0 = 2.25, gamma_1 = 3 * -2.25/4 = -1.6875,
 *   V(h = 2) = (2.25 - 3.375)/4 < 0; V(h = 1) = 2.25/4, DM = 1.5/0.75 = 2,
 *   correction (4 + 1 - 2)/4 = 3/4: statistic sqrt(3). Student t with 3
 *   degrees of freedom: P(|T| > sqrt(3)) = 1/2 - 1/pi. */
static void test_dm_fallback(void **state)
{
	static const double e1[] = { 3, 0, 3, 0 }, e2[] = { 0, 0, 0, 0 };
	fin_dm dm = fin_dm_test(e1, e2, 4, 2, FIN_DM_ABSOLUTE);

	(void)state;
	assert_int_equal(dm.horizon, 1);
	assert_close(dm.statistic, sqrt(3), 1e-14);
	assert_close(dm.p_value, 0.5 - 1 / M_PI, 1e-12);
	/* a constant loss difference at h = 1: no test */
	dm = fin_dm_test((const double[]){ 1, 1, 1 }, e2, 3, 1, FIN_DM_SQUARED);
	assert_nan(dm.statistic);
	assert_nan(dm.p_value);
}

/* ---- binary ---- */

static fin_binary_eval binary(const double *s, const unsigned char *y, size_t n, double t)
{
	fin_binary_eval ev;
	fin_err err = { 0 };

	assert_int_equal(fin_binary_evaluate(s, y, n, t, &ev, &err), FIN_OK);
	return ev;
}

/* Scores 0.9 0.8 0.7 0.6 0.2 0.1 with labels 1 0 1 1 0 0:
 *   prevalence 1/2
 *   roc_auc: 0.9 beats 3 negatives, 0.7 and 0.6 beat 2 each: 7/9
 *   pr_auc: precision at each positive 1/1, 2/3, 3/4: (1 + 2/3 + 3/4)/3
 *           = 29/36
 *   ks: TPR - FPR after each score 1/3, 0, 1/3, 2/3, 1/3, 0: 2/3
 *   log_loss = -(ln 0.9 + ln 0.2 + ln 0.7 + ln 0.6 + ln 0.8 + ln 0.9)/6
 *   brier = (0.01 + 0.64 + 0.09 + 0.16 + 0.04 + 0.01)/6 = 0.95/6
 * At 0.5: tp 3, fp 1, tn 2, fn 0: accuracy 5/6, precision 3/4, recall 1,
 *   f1 = 6/(6 + 1) = 6/7.
 * At 0.7 (>= counts): tp 2, fp 1, tn 2, fn 1: 4/6, 2/3, 2/3, 4/6.
 * At 0.95: nothing predicted positive: precision NaN, recall 0, f1 0.
 * Baseline q = 1/2: log_loss ln 2, brier 1/4, accuracy 1/2, pr_auc 1/2. */
static void test_binary_worked_example(void **state)
{
	static const double s[] = { 0.9, 0.8, 0.7, 0.6, 0.2, 0.1 };
	static const unsigned char y[] = { 1, 0, 1, 1, 0, 0 };
	fin_binary_eval ev = binary(s, y, 6, 0.5);

	(void)state;
	assert_int_equal(ev.n, 6);
	assert_int_equal(ev.positives, 3);
	assert_close(ev.prevalence, 0.5, 0);
	assert_close(ev.roc_auc, 7.0 / 9, 1e-15);
	assert_close(ev.pr_auc, 29.0 / 36, 1e-15);
	assert_close(ev.ks, 2.0 / 3, 1e-15);
	assert_true(ev.probabilities);
	assert_close(ev.log_loss,
		     -(2 * log(0.9) + log(0.2) + log(0.7) + log(0.6) + log(0.8)) / 6, 1e-15);
	assert_close(ev.brier, 0.95 / 6, 1e-15);
	assert_int_equal(ev.tp, 3);
	assert_int_equal(ev.fp, 1);
	assert_int_equal(ev.tn, 2);
	assert_int_equal(ev.fn, 0);
	assert_close(ev.accuracy, 5.0 / 6, 1e-15);
	assert_close(ev.precision, 0.75, 1e-15);
	assert_close(ev.recall, 1, 0);
	assert_close(ev.f1, 6.0 / 7, 1e-15);
	assert_close(ev.baseline.roc_auc, 0.5, 0);
	assert_close(ev.baseline.pr_auc, 0.5, 0);
	assert_close(ev.baseline.ks, 0, 0);
	assert_close(ev.baseline.log_loss, log(2), 1e-15);
	assert_close(ev.baseline.brier, 0.25, 0);
	assert_close(ev.baseline.accuracy, 0.5, 0);

	ev = binary(s, y, 6, 0.7);
	assert_int_equal(ev.tp, 2);
	assert_int_equal(ev.fp, 1);
	assert_int_equal(ev.tn, 2);
	assert_int_equal(ev.fn, 1);
	assert_close(ev.accuracy, 4.0 / 6, 1e-15);
	assert_close(ev.precision, 2.0 / 3, 1e-15);
	assert_close(ev.recall, 2.0 / 3, 1e-15);
	assert_close(ev.f1, 4.0 / 6, 1e-15);

	ev = binary(s, y, 6, 0.95);
	assert_int_equal(ev.tp + ev.fp, 0);
	assert_nan(ev.precision);
	assert_close(ev.recall, 0, 0);
	assert_close(ev.f1, 0, 0);
}

/* Probabilities are clipped to [1e-15, 1 - 1e-15] for the log loss, and
 * the upper bound is held as the double nearest it, 1 - 9 * 2^-53:
 * p = 0 on a positive costs -ln(1e-15), p = 1 on a negative -ln(9 * 2^-53),
 * p = 1 on a positive -ln(1 - 9 * 2^-53), about 1e-15. Prevalence 1/4 gives the
 * baseline log_loss -(1/4 ln 1/4 + 3/4 ln 3/4), brier 3/16, accuracy 3/4. */
static void test_binary_clipping(void **state)
{
	static const double s[] = { 0, 1, 0.5, 0.5 };
	static const unsigned char y[] = { 1, 0, 0, 0 };
	static const double s2[] = { 1, 0.5 };
	static const unsigned char y2[] = { 1, 0 };
	fin_binary_eval ev = binary(s, y, 4, 0.5);

	(void)state;
	assert_close(ev.log_loss, (-log(1e-15) - log(9 * 0x1p-53) + 2 * log(2)) / 4, 1e-14);
	assert_close(ev.brier, (1 + 1 + 0.25 + 0.25) / 4, 1e-15);
	assert_close(ev.baseline.log_loss, -(0.25 * log(0.25) + 0.75 * log(0.75)), 1e-15);
	assert_close(ev.baseline.brier, 3.0 / 16, 0);
	assert_close(ev.baseline.accuracy, 0.75, 0);
	ev = binary(s2, y2, 2, 0.5);
	assert_close(ev.log_loss, (1e-15 + log(2)) / 2, 1e-15);
}

/* A score outside [0, 1]: no log loss or Brier score; the ranking metrics
 * stand. Tied scores: one group, roc_auc 1/2, pr_auc the prevalence, ks 0.
 * One class only: no roc_auc or ks (nor their baselines); no positives:
 * no pr_auc or recall either. */
static void test_binary_undefined(void **state)
{
	static const double scores[] = { 2, -1, 0.5, 0.3 }, tied[] = { 0.5, 0.5, 0.5, 0.5 };
	static const unsigned char y[] = { 1, 0, 1, 0 }, none[] = { 0, 0, 0, 0 };
	static const unsigned char all[] = { 1, 1, 1, 1 };
	fin_binary_eval ev = binary(scores, y, 4, 0.5);

	(void)state;
	assert_false(ev.probabilities);
	assert_nan(ev.log_loss);
	assert_nan(ev.brier);
	assert_close(ev.roc_auc, 1, 0);
	ev = binary(tied, y, 4, 0.5);
	assert_close(ev.roc_auc, 0.5, 0);
	assert_close(ev.pr_auc, 0.5, 0);
	assert_close(ev.ks, 0, 0);
	ev = binary(tied, none, 4, 0.5);
	assert_nan(ev.roc_auc);
	assert_nan(ev.pr_auc);
	assert_nan(ev.ks);
	assert_nan(ev.recall);
	assert_nan(ev.baseline.roc_auc);
	assert_nan(ev.baseline.pr_auc);
	assert_close(ev.baseline.log_loss, 0, 0);
	assert_close(ev.baseline.accuracy, 1, 0);
	ev = binary(tied, all, 4, 0.5);
	assert_nan(ev.roc_auc);
	assert_close(ev.pr_auc, 1, 0);
	assert_nan(ev.ks);
}

/* KS is the largest |TPR - FPR|: scores that rank the positives lowest
 * give 1, as the two-sample statistic does. */
static void test_ks_reversed(void **state)
{
	static const double s[] = { 0.1, 0.2, 0.8, 0.9 };
	static const unsigned char y[] = { 1, 1, 0, 0 };

	(void)state;
	assert_close(fin_ks_statistic(s, y, 4), 1, 0);
	assert_close(fin_roc_auc(s, y, 4), 0, 0);
}

/* ---- anomaly ---- */

/* Scores 5 4 4 3 1 0, labels 0 1 0 1 0 0 (ties by position):
 *   roc_auc: the 4 beats 1 and 0 and ties a 4 (2.5), the 3 beats 1 and 0
 *            (2): 4.5/8
 *   pr_auc: the group of 4s holds 1 positive in the first 3 rows, then
 *           the 3 makes 2 of 4: 1/2 * 1/3 + 1/2 * 2/4 = 5/12
 *   k = 2: rows 0 and 1: 1/2; k = 3: 1/3; k = 100 capped at 6: 2/6
 *   alert rate 0.5: ceil(3) = 3 alerts, rows 0 1 2: 1 of 2 positives;
 *   0.01: ceil(0.06) = 1 alert, row 0: 0
 *   baseline: prevalence 1/3, recall at 3 alerts of 6: 1/2 */
static void test_anomaly_worked_example(void **state)
{
	static const double s[] = { 5, 4, 4, 3, 1, 0 };
	static const unsigned char y[] = { 0, 1, 0, 1, 0, 0 };
	fin_anomaly_eval ev;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_anomaly_evaluate(s, y, 6, 2, 0.5, &ev, &err), FIN_OK);
	assert_int_equal(ev.n, 6);
	assert_int_equal(ev.positives, 2);
	assert_close(ev.roc_auc, 4.5 / 8, 1e-15);
	assert_close(ev.pr_auc, 5.0 / 12, 1e-15);
	assert_int_equal(ev.k, 2);
	assert_close(ev.precision_at_k, 0.5, 0);
	assert_int_equal(ev.alerts, 3);
	assert_close(ev.recall_at_rate, 0.5, 0);
	assert_close(ev.baseline.roc_auc, 0.5, 0);
	assert_close(ev.baseline.pr_auc, 1.0 / 3, 1e-15);
	assert_close(ev.baseline.precision_at_k, 1.0 / 3, 1e-15);
	assert_close(ev.baseline.recall_at_rate, 0.5, 0);
	assert_int_equal(fin_anomaly_evaluate(s, y, 6, 3, 0.01, &ev, &err), FIN_OK);
	assert_close(ev.precision_at_k, 1.0 / 3, 1e-15);
	assert_int_equal(ev.alerts, 1);
	assert_close(ev.recall_at_rate, 0, 0);
	assert_int_equal(fin_anomaly_evaluate(s, y, 6, 100, 1, &ev, &err), FIN_OK);
	assert_int_equal(ev.k, 6);
	assert_close(ev.precision_at_k, 2.0 / 6, 1e-15);
	assert_int_equal(ev.alerts, 6);
	assert_close(ev.recall_at_rate, 1, 0);
	assert_nan(fin_precision_at(s, y, 6, 0));
}

/* ---- clusters ---- */

/* 1-D, A = {0, 2} (centroid 1, spread 1) and B = {10, 14} (12, 2):
 *   Davies-Bouldin: (1 + 2)/11 for each cluster: 3/11
 *   silhouette: 0: a 2, b (10 + 14)/2 = 12: 10/12; 2: a 2, b 10: 8/10;
 *   10: a 4, b (10 + 8)/2 = 9: 5/9; 14: a 4, b 13: 9/13; their mean. */
static void test_cluster_two(void **state)
{
	static const double x[] = { 0, 2, 10, 14 };
	static const int id[] = { 0, 0, 1, 1 };
	fin_cluster_eval ev;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_cluster_evaluate(x, 4, 1, id, 2, 100, 1, &ev, &err), FIN_OK);
	assert_int_equal(ev.k, 2);
	assert_int_equal(ev.sizes[0], 2);
	assert_int_equal(ev.sizes[1], 2);
	assert_close(ev.davies_bouldin, 3.0 / 11, 1e-15);
	assert_close(ev.silhouette, (10.0 / 12 + 0.8 + 5.0 / 9 + 9.0 / 13) / 4, 1e-6);
	assert_int_equal(ev.silhouette_rows, 4);
	fin_cluster_eval_free(&ev);
}

/* 2-D: A = (0,0) (0,2), B = (4,0) (4,2), C = (0,10) (2,10), each with
 * spread 1, centroids (0,1) (4,1) (1,10): |AB| = 4, |AC| = sqrt(82),
 * |BC| = sqrt(90). R_A = max(2/4, 2/sqrt(82)) = 1/2, R_B = 1/2,
 * R_C = 2/sqrt(82): DB = (1 + 2/sqrt(82))/3. */
static void test_davies_bouldin_three(void **state)
{
	static const double x[] = { 0, 0, 0, 2, 4, 0, 4, 2, 0, 10, 2, 10 };
	static const int id[] = { 0, 0, 1, 1, 2, 2 };
	fin_err err = { 0 };
	double db;

	(void)state;
	assert_int_equal(fin_davies_bouldin(x, 6, 2, id, 3, &db, &err), FIN_OK);
	assert_close(db, (1 + 2 / sqrt(82)) / 3, 1e-15);
}

/* Clusters sharing a centroid: A = {-1, 1} (0, spread 1), B = {0, 0}
 * (0, spread 0), C = {10, 12} (11, spread 1). The pair A-B adds 0:
 * R_A = 2/11, R_B = 1/11, R_C = max(2/11, 1/11): DB = 5/33. With only
 * A and B, every centroid distance is 0: DB 0. One cluster: NaN. */
static void test_davies_bouldin_degenerate(void **state)
{
	static const double x[] = { -1, 1, 0, 0, 10, 12 };
	static const int id[] = { 0, 0, 1, 1, 2, 2 }, one[] = { 0, 0, 0, 0, 0, 0 };
	fin_err err = { 0 };
	double db;

	(void)state;
	assert_int_equal(fin_davies_bouldin(x, 6, 1, id, 3, &db, &err), FIN_OK);
	assert_close(db, 5.0 / 33, 1e-15);
	assert_int_equal(fin_davies_bouldin(x, 4, 1, id, 2, &db, &err), FIN_OK);
	assert_close(db, 0, 0);
	assert_int_equal(fin_davies_bouldin(x, 6, 1, one, 1, &db, &err), FIN_OK);
	assert_nan(db);
}

/* ---- reading ---- */

/* A CSV file with the given text, opened as fin-eval opens its input. */
static fin_input *open_text(const char *text, char *path)
{
	fin_csv_opts opts = { 0 };
	fin_err err = { 0 };
	char *paths[1] = { path };
	int fd;
	fin_input *in;
	char **names;
	size_t n;

	strcpy(path, "/tmp/test_eval_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	in = fin_input_open(paths, 1, &opts, &err);
	assert_non_null(in);
	assert_int_equal(fin_input_header(in, &names, &n, &err), FIN_OK);
	return in;
}

/* Numbers and labels, missing values kept in place or left out. */
static void test_read(void **state)
{
	static const char text[] = "id,label,a,b,note\n"
				   "1,10,1.5,2,x\n"
				   "2,9,NA,3,y\n"
				   "3,,4,5,z\n"
				   "4,10,6,,w\n";
	static const size_t num[] = { 2, 3, 4 };
	char path[64], want[128];
	fin_input *in = open_text(text, path);
	fin_eval_spec spec = { .num = num, .nnum = 3, .text = 1, .numeric_first_row = 1,
			       .na = FIN_NA_SKIP };
	fin_eval_input d;
	fin_err err = { 0 };
	const char **labels;
	size_t nlabels;
	int id[4];

	(void)state;
	/* note is text in the first row: not a feature; rows 2 and 4 miss a
	 * number, row 3 its label */
	assert_int_equal(fin_eval_read(&d, in, &spec, &err), FIN_OK);
	assert_int_equal(d.nnum, 2);
	assert_int_equal(d.read, 4);
	assert_int_equal(d.gaps, 3);
	assert_int_equal(d.rows, 1);
	assert_close(d.x[0], 1.5, 0);
	assert_string_equal(fin_eval_text(&d, 0), "10");
	fin_eval_input_free(&d);
	fin_input_close(in);
	unlink(path);

	/* kept in place: rows 2 and 4 with NaN; row 3 has no label, out */
	in = open_text(text, path);
	spec.keep_gaps = 1;
	assert_int_equal(fin_eval_read(&d, in, &spec, &err), FIN_OK);
	assert_int_equal(d.rows, 3);
	assert_nan(d.x[2]);
	assert_close(d.x[3], 3, 0);
	assert_nan(d.x[5]);
	/* numbers sort as numbers: 9 before 10 */
	assert_int_equal(fin_eval_labels(&d, &labels, &nlabels, id, &err), FIN_OK);
	assert_int_equal(nlabels, 2);
	assert_string_equal(labels[0], "9");
	assert_string_equal(labels[1], "10");
	assert_int_equal(id[0], 1);
	assert_int_equal(id[1], 0);
	assert_int_equal(id[2], 1);
	free(labels);
	fin_eval_input_free(&d);
	fin_input_close(in);
	unlink(path);

	/* under error, the first missing value stops the reading */
	in = open_text(text, path);
	spec.na = FIN_NA_ERROR;
	assert_int_equal(fin_eval_read(&d, in, &spec, &err), FIN_EDATA);
	snprintf(want, sizeof want, "%s:3: column 'a': missing value (see --na)", path);
	assert_string_equal(err.msg, want);
	fin_eval_input_free(&d);
	fin_input_close(in);
	unlink(path);
}

/* Text labels sort as bytes; "1.0" is the positive "1". */
static void test_labels(void **state)
{
	static const char text[] = "c,v\nb,1\na,2\nb,3\nB,4\n";
	static const size_t num[] = { 1 };
	char path[64];
	fin_input *in = open_text(text, path);
	fin_eval_spec spec = { .num = num, .nnum = 1, .text = 0, .na = FIN_NA_ERROR };
	fin_eval_input d;
	fin_err err = { 0 };
	const char **labels;
	size_t nlabels;
	int id[4];

	(void)state;
	assert_int_equal(fin_eval_read(&d, in, &spec, &err), FIN_OK);
	assert_int_equal(fin_eval_labels(&d, &labels, &nlabels, id, &err), FIN_OK);
	assert_int_equal(nlabels, 3);
	assert_string_equal(labels[0], "B");
	assert_string_equal(labels[1], "a");
	assert_string_equal(labels[2], "b");
	assert_int_equal(id[0], 2);
	assert_int_equal(id[3], 0);
	free(labels);
	fin_eval_input_free(&d);
	fin_input_close(in);
	unlink(path);
	assert_true(fin_label_is("1.0", "1"));
	assert_true(fin_label_is("Bad", "Bad"));
	assert_false(fin_label_is("bad", "Bad"));
	assert_false(fin_label_is("0", "1"));
}

/* Scores 0.9, 0.8, 0.8, 0.1 of a positive, a negative, a positive and a
 * negative: groups {0.9: 1 positive}, {0.8: 1 positive, 1 negative},
 * {0.1: 1 negative}. ROC: (0, 0), then (FPR, TPR) = (0, 1/2), (1/2, 1),
 * (1, 1); area: of the four positive-negative pairs 0.9 beats both, 0.8
 * beats 0.1 and ties 0.8, (1 + 1 + 1 + 1/2) / 4 = 7/8. */
static void test_roc_curve(void **state)
{
	const double score[] = { 0.9, 0.8, 0.8, 0.1 }, x[] = { 0, 0, 0.5, 1 },
		     y[] = { 0, 0.5, 1, 1 };
	const unsigned char label[] = { 1, 0, 1, 0 };
	fin_curve c;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_roc_curve(score, label, 4, &c, &err), FIN_OK);
	assert_int_equal(c.n, 4);
	assert_series(c.x, x, 4);
	assert_series(c.y, y, 4);
	assert_close(c.area, 0.875, 1e-15);
	fin_curve_free(&c);
	/* one class: no curve */
	assert_int_equal(fin_roc_curve(score, (const unsigned char[]){ 1, 1, 1, 1 }, 4, &c, &err),
			 FIN_OK);
	assert_int_equal(c.n, 0);
	assert_nan(c.area);
	fin_curve_free(&c);
}

/* The same scores: after group 1 precision 1/1 and recall 1/2, after group
 * 2 precision 2/3 and recall 1, after group 3 precision 2/4 and recall 1
 * (no positive: one point). Points (R_(k-1), P_k) and (R_k, P_k): (0, 1),
 * (1/2, 1), (1/2, 2/3), (1, 2/3), (1, 1/2); area (average precision)
 * 1/2 * 1 + 1/2 * 2/3 = 5/6. */
static void test_pr_curve(void **state)
{
	const double score[] = { 0.9, 0.8, 0.8, 0.1 }, x[] = { 0, 0.5, 0.5, 1, 1 },
		     y[] = { 1, 1, 2.0 / 3, 2.0 / 3, 0.5 };
	const unsigned char label[] = { 1, 0, 1, 0 };
	fin_curve c;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_pr_curve(score, label, 4, &c, &err), FIN_OK);
	assert_int_equal(c.n, 5);
	assert_series(c.x, x, 5);
	assert_series(c.y, y, 5);
	assert_close(c.area, 5.0 / 6, 1e-15);
	fin_curve_free(&c);
	/* no positive: no curve */
	assert_int_equal(fin_pr_curve(score, (const unsigned char[]){ 0, 0, 0, 0 }, 4, &c, &err),
			 FIN_OK);
	assert_int_equal(c.n, 0);
	assert_nan(c.area);
	fin_curve_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forecast_worked_example),
		cmocka_unit_test(test_forecast_zero_naive),
		cmocka_unit_test(test_forecast_zeros),
		cmocka_unit_test(test_forecast_undefined),
		cmocka_unit_test(test_forecast_missing),
		cmocka_unit_test(test_naive_kinds),
		cmocka_unit_test(test_naive_missing),
		cmocka_unit_test(test_naive_last_column),
		cmocka_unit_test(test_naive_auto),
		cmocka_unit_test(test_forecast_auto),
		cmocka_unit_test(test_dm_horizon_2),
		cmocka_unit_test(test_dm_fallback),
		cmocka_unit_test(test_binary_worked_example),
		cmocka_unit_test(test_binary_clipping),
		cmocka_unit_test(test_binary_undefined),
		cmocka_unit_test(test_ks_reversed),
		cmocka_unit_test(test_roc_curve),
		cmocka_unit_test(test_pr_curve),
		cmocka_unit_test(test_anomaly_worked_example),
		cmocka_unit_test(test_cluster_two),
		cmocka_unit_test(test_davies_bouldin_three),
		cmocka_unit_test(test_davies_bouldin_degenerate),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
