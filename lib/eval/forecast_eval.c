#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "eval/forecast_eval.h"

static const char *const naive_names[] = { "last", "zero", "mean", "drift", "auto" };
static const char *const loss_names[] = { "squared", "absolute" };

int fin_naive_parse(const char *s)
{
	return fin_word_index(s, naive_names, 5);
}

const char *fin_naive_name(enum fin_naive kind)
{
	return naive_names[kind];
}

int fin_dm_loss_parse(const char *s)
{
	return fin_word_index(s, loss_names, 2);
}

const char *fin_dm_loss_name(enum fin_dm_loss loss)
{
	return loss_names[loss];
}

enum fin_naive fin_naive_choose(const double *a, size_t n, double *acf1, double *nonpositive)
{
	size_t i;

	*nonpositive = NAN;
	for (i = 0; i < n; i++)
		if (!(a[i] > 0)) {
			*nonpositive = a[i];
			break;
		}
	/* GSL divides by the sum of squares: a constant series gives 0/0. */
	*acf1 = n >= 2 ? gsl_stats_lag1_autocorrelation(a, 1, n) : NAN;
	return isnan(*nonpositive) && *acf1 > FIN_NAIVE_LEVEL_ACF ? FIN_NAIVE_LAST : FIN_NAIVE_ZERO;
}

void fin_naive_forecast(enum fin_naive kind, const double *a, const double *last, size_t rows,
			size_t h, double *naive, double *ref)
{
	double mean = 0;
	size_t count = 0, first = 0, t;

	for (t = 0; t < rows; t++) {
		/* s = t - h: the newest row whose actual was known at forecast time */
		int have_s = t >= h;
		size_t s = have_s ? t - h : 0;
		double anchor = last ? last[t] : have_s ? a[s] : NAN;

		if (have_s && !isnan(a[s])) {
			if (count == 0)
				first = s;
			/* running mean: exact for a constant series */
			mean += (a[s] - mean) / (double)++count;
		}
		naive[t] = ref[t] = NAN;
		switch (kind) {
		case FIN_NAIVE_LAST:
			naive[t] = ref[t] = anchor;
			break;
		case FIN_NAIVE_ZERO:
			naive[t] = ref[t] = 0;
			break;
		case FIN_NAIVE_MEAN:
			naive[t] = count ? mean : NAN;
			ref[t] = 0;
			break;
		case FIN_NAIVE_DRIFT:
			ref[t] = anchor;
			if (count && s > first && !isnan(a[s]))
				naive[t] = anchor + (double)h * (a[s] - a[first]) / (double)(s - first);
			break;
		case FIN_NAIVE_AUTO:
			break;
		}
	}
}

static double loss_of(double e, enum fin_dm_loss loss)
{
	return loss == FIN_DM_SQUARED ? e * e : fabs(e);
}

fin_dm fin_dm_test(const double *e1, const double *e2, size_t n, size_t h,
		   enum fin_dm_loss loss)
{
	fin_dm r = { NAN, NAN, h };
	double dbar = 0, v, correction, nd = (double)n, hd = (double)h;
	size_t t, k;

	if (n < 2)
		return r;
	for (t = 0; t < n; t++)
		dbar += loss_of(e1[t], loss) - loss_of(e2[t], loss);
	dbar /= nd;
	v = 0;
	for (k = 0; k < h && k < n; k++) {
		double gamma = 0;
		for (t = k; t < n; t++)
			gamma += (loss_of(e1[t], loss) - loss_of(e2[t], loss) - dbar) *
				 (loss_of(e1[t - k], loss) - loss_of(e2[t - k], loss) - dbar);
		v += (k ? 2 : 1) * gamma / nd;
	}
	v /= nd;
	if (!(v > 0))
		return h > 1 ? fin_dm_test(e1, e2, n, 1, loss) : r;
	correction = (nd + 1 - 2 * hd + hd * (hd - 1) / nd) / nd;
	if (!(correction >= 0))
		return r;
	r.statistic = dbar / sqrt(v) * sqrt(correction);
	r.p_value = 2 * gsl_cdf_tdist_P(-fabs(r.statistic), nd - 1);
	return r;
}

static int sign_of(double x)
{
	return (x > 0) - (x < 0);
}

int fin_forecast_evaluate(const double *a, const double *p, const double *last, size_t rows,
			  const fin_forecast_opts *o, fin_forecast_eval *ev, fin_err *err)
{
	size_t cells = rows ? rows : 1, m = 0, hits = 0, t;
	double *naive = malloc(cells * sizeof *naive), *ref = malloc(cells * sizeof *ref);
	double *e = malloc(cells * sizeof *e), *en = malloc(cells * sizeof *en);
	double sse = 0, sae = 0, sape = 0, ssmape = 0, mean = 0, sst = 0;
	double sse_f = 0, sae_f = 0, sse_n = 0, sae_n = 0;
	int rc = FIN_OK;

	memset(ev, 0, sizeof *ev);
	if (!naive || !ref || !e || !en) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	ev->acf1 = ev->nonpositive = NAN;
	ev->naive = o->naive;
	if (o->naive == FIN_NAIVE_AUTO) {
		/* every actual observed, forecast or not: e holds them for now */
		for (t = 0; t < rows; t++)
			if (!isnan(a[t]))
				e[m++] = a[t];
		ev->naive = fin_naive_choose(e, m, &ev->acf1, &ev->nonpositive);
		ev->naive_auto = 1;
	}
	fin_naive_forecast(ev->naive, a, last, rows, o->horizon, naive, ref);
	for (t = 0; t < rows; t++) {
		double err_t, denom;

		if (isnan(a[t]) || isnan(p[t]))
			continue;
		err_t = p[t] - a[t];
		ev->n++;
		mean += (a[t] - mean) / (double)ev->n;
		sse += err_t * err_t;
		sae += fabs(err_t);
		if (a[t] != 0) {
			ev->n_mape++;
			sape += fabs(err_t / a[t]);
		}
		/* a = p = 0 is a perfect forecast: its term counts 0 */
		denom = fabs(a[t]) + fabs(p[t]);
		if (denom > 0)
			ssmape += fabs(err_t) / denom;
		if (!isnan(ref[t])) {
			ev->n_directional++;
			hits += sign_of(p[t] - ref[t]) == sign_of(a[t] - ref[t]);
		}
		if (!isnan(naive[t])) {
			e[ev->n_naive] = a[t] - p[t];
			en[ev->n_naive] = a[t] - naive[t];
			sse_f += e[ev->n_naive] * e[ev->n_naive];
			sae_f += fabs(e[ev->n_naive]);
			sse_n += en[ev->n_naive] * en[ev->n_naive];
			sae_n += fabs(en[ev->n_naive]);
			ev->n_naive++;
		}
	}
	for (t = 0; t < rows; t++)
		if (!isnan(a[t]) && !isnan(p[t]))
			sst += (a[t] - mean) * (a[t] - mean);
	ev->rmse = ev->n ? sqrt(sse / (double)ev->n) : NAN;
	ev->mae = ev->n ? sae / (double)ev->n : NAN;
	ev->mape = ev->n_mape ? 100 * sape / (double)ev->n_mape : NAN;
	ev->smape = ev->n ? 200 * ssmape / (double)ev->n : NAN;
	ev->r2 = sst > 0 ? 1 - sse / sst : NAN;
	ev->directional_accuracy = ev->n_directional ? (double)hits / (double)ev->n_directional : NAN;
	ev->rmse_naive = ev->n_naive ? sqrt(sse_n / (double)ev->n_naive) : NAN;
	ev->mae_naive = ev->n_naive ? sae_n / (double)ev->n_naive : NAN;
	ev->mase = sae_n > 0 ? sae_f / sae_n : NAN;
	ev->theil_u = sse_n > 0 ? sqrt(sse_f / sse_n) : NAN;
	ev->dm = fin_dm_test(e, en, ev->n_naive, o->horizon, o->loss);
done:
	free(naive);
	free(ref);
	free(e);
	free(en);
	return rc;
}
