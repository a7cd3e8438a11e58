#include <gsl/gsl_cblas.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/facts.h"

/* True when x[0..n) holds one value only: checked exactly, as a mean
 * computed in floating point need not cancel a constant to zero. */
static int constant(const double *x, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (x[i] != x[0])
			return 0;
	return 1;
}

/* Sample ACF of x[0..n) at lags 1..nlag into out, c being scratch for n
 * values. Lag 1 is what gsl_stats_lag1_autocorrelation gives; GSL has no
 * other lag, so the sums are dot products of the centred series with
 * itself shifted. A lag with no pair (k >= n) or a constant series is NaN. */
static void acf(const double *x, size_t n, size_t nlag, double *c, double *out)
{
	double m, tss;
	size_t i, k;

	for (k = 0; k < nlag; k++)
		out[k] = NAN;
	if (n < 2 || constant(x, n))
		return;
	m = gsl_stats_mean(x, 1, n);
	for (i = 0; i < n; i++)
		c[i] = x[i] - m;
	tss = cblas_ddot((int)n, c, 1, c, 1);
	for (k = 1; k <= nlag && k < n; k++)
		out[k - 1] = cblas_ddot((int)(n - k), c, 1, c + k, 1) / tss;
}

int fin_facts_compute(const double *r, size_t n, fin_facts *f, fin_err *err)
{
	double *abs_r = malloc((n ? n : 1) * sizeof *abs_r);
	double *sq = malloc((n ? n : 1) * sizeof *sq);
	double *scratch = malloc((n ? n : 1) * sizeof *scratch);
	int flat = constant(r, n);
	size_t i, k;

	if (!abs_r || !sq || !scratch) {
		free(abs_r);
		free(sq);
		free(scratch);
		return fin_fail(err, FIN_EDATA, "out of memory for %zu returns", n);
	}
	f->n = n;
	f->mean = n ? gsl_stats_mean(r, 1, n) : NAN;
	f->sd = n >= 2 ? gsl_stats_sd(r, 1, n) : NAN;
	/* GSL divides by the standard deviation: a flat series has no shape. */
	f->skew = n >= 2 && !flat ? gsl_stats_skew(r, 1, n) : NAN;
	f->kurtosis = n >= 2 && !flat ? gsl_stats_kurtosis(r, 1, n) : NAN;
	f->acf_band = n ? 1.96 / sqrt((double)n) : NAN;

	for (i = 0; i < n; i++) {
		abs_r[i] = fabs(r[i]);
		sq[i] = r[i] * r[i];
	}
	acf(r, n, FIN_FACTS_ACF, scratch, f->acf);
	acf(abs_r, n, FIN_FACTS_ACF_ABS, scratch, f->acf_abs);

	/* Leverage: does a return move the size of later returns? A
	 * correlation needs two pairs and variation on both sides. */
	for (k = 1; k <= FIN_FACTS_LEVERAGE; k++) {
		double v = NAN;
		if (n >= k + 2 && !constant(r, n - k) && !constant(sq + k, n - k))
			v = gsl_stats_correlation(r, 1, sq + k, 1, n - k);
		f->leverage[k - 1] = v;
	}
	free(abs_r);
	free(sq);
	free(scratch);
	return FIN_OK;
}

/* Where each list starts among the named rows. */
enum { AT_ACF = 5, AT_ABS = AT_ACF + FIN_FACTS_ACF, AT_LEV = AT_ABS + FIN_FACTS_ACF_ABS,
       AT_BAND = AT_LEV + FIN_FACTS_LEVERAGE };

const char *fin_facts_name(size_t i, char *buf, size_t len)
{
	static const char *const moments[AT_ACF] = { "n", "mean", "sd", "skew", "excess_kurtosis" };

	if (i < AT_ACF)
		snprintf(buf, len, "%s", moments[i]);
	else if (i < AT_ABS)
		snprintf(buf, len, "acf_%zu", i - AT_ACF + 1);
	else if (i < AT_LEV)
		snprintf(buf, len, "acf_abs_%zu", i - AT_ABS + 1);
	else if (i < AT_BAND)
		snprintf(buf, len, "leverage_%zu", i - AT_LEV + 1);
	else
		snprintf(buf, len, "acf_band");
	return buf;
}

double fin_facts_value(const fin_facts *f, size_t i)
{
	const double moments[AT_ACF] = { (double)f->n, f->mean, f->sd, f->skew, f->kurtosis };

	if (i < AT_ACF)
		return moments[i];
	if (i < AT_ABS)
		return f->acf[i - AT_ACF];
	if (i < AT_LEV)
		return f->acf_abs[i - AT_ABS];
	if (i < AT_BAND)
		return f->leverage[i - AT_LEV];
	return f->acf_band;
}
