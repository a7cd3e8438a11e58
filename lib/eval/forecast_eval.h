/* Forecast accuracy, always next to a naive forecast: point metrics of
 * forecasts against actuals in time order, the naive forecasts (random
 * walk, zero, expanding mean, drift), their scaled comparisons and the
 * Diebold-Mariano test of equal accuracy. */
#ifndef FIN_FORECAST_EVAL_H
#define FIN_FORECAST_EVAL_H

#include <stddef.h>

#include "core/err.h"

enum fin_naive { FIN_NAIVE_LAST, FIN_NAIVE_ZERO, FIN_NAIVE_MEAN, FIN_NAIVE_DRIFT, FIN_NAIVE_AUTO };
enum fin_dm_loss { FIN_DM_SQUARED, FIN_DM_ABSOLUTE };

/* Index of s among "last", "zero", "mean", "drift", "auto", or -1. */
int fin_naive_parse(const char *s);
const char *fin_naive_name(enum fin_naive kind);
/* Index of s among "squared", "absolute", or -1. */
int fin_dm_loss_parse(const char *s);
const char *fin_dm_loss_name(enum fin_dm_loss loss);

/* Above this lag-1 autocorrelation, positive actuals are taken for levels. */
#define FIN_NAIVE_LEVEL_ACF 0.9

/* The auto rule on the actuals a[0..n), none missing: last (a random
 * walk) when every actual is above 0 and their lag-1 autocorrelation
 * (gsl_stats_lag1_autocorrelation) is above FIN_NAIVE_LEVEL_ACF, as for
 * prices and other levels; zero otherwise, as for returns. The
 * autocorrelation goes into *acf1 (NaN for fewer than 2 values or a
 * constant series), and the first actual at or below 0, if any, into
 * *nonpositive (NaN otherwise). */
enum fin_naive fin_naive_choose(const double *a, size_t n, double *acf1, double *nonpositive);

/* The naive forecast of each row t of rows consecutive forecasts h >= 1
 * steps ahead, from the actuals a[] (NaN where missing) of earlier rows
 * only; s = t - h is the row whose actual was the last one observed:
 *   last   a[s], or last[t] when last is not NULL
 *   zero   0
 *   mean   the mean of a[0..s]
 *   drift  anchor + h (a[s] - a[f]) / (s - f), with anchor a[s] (or
 *          last[t]) and f the first row with an actual; defined for s > f
 * into naive[t], NaN where undefined (s < 0, or a value it needs is
 * missing). ref[t] is the value the direction of row t is judged
 * against: the anchor for last and drift, 0 for zero and mean. */
void fin_naive_forecast(enum fin_naive kind, const double *a, const double *last, size_t rows,
			size_t h, double *naive, double *ref);

typedef struct fin_dm {
	double statistic; /* with the Harvey-Leybourne-Newbold correction */
	double p_value;   /* two-sided, Student t with n - 1 degrees of freedom */
	size_t horizon;   /* the h used: 1 when h > 1 gave no positive variance */
} fin_dm;

/* The Diebold-Mariano test of equal accuracy of forecasts with errors
 * e1[0..n) and e2[0..n), in time order, as R's forecast::dm.test with
 * varestimator "acf": d_t = L(e1_t) - L(e2_t), V = (gamma_0 + 2
 * sum_{k=1}^{h-1} gamma_k) / n with autocovariances of divisor n, DM =
 * mean(d) / sqrt(V) times sqrt((n + 1 - 2h + h(h - 1)/n) / n). Negative
 * when e1 is the smaller loss. When V is not positive, h > 1 falls back
 * to h = 1 as dm.test does, and h = 1 gives NaN; so do n < 2 and a
 * negative correction term. */
fin_dm fin_dm_test(const double *e1, const double *e2, size_t n, size_t h,
		   enum fin_dm_loss loss);

typedef struct fin_forecast_opts {
	enum fin_naive naive; /* FIN_NAIVE_AUTO to choose by fin_naive_choose */
	size_t horizon;       /* steps ahead, at least 1 */
	enum fin_dm_loss loss;
} fin_forecast_opts;

typedef struct fin_forecast_eval {
	size_t n;                /* rows with an actual and a forecast */
	double rmse, mae;
	size_t n_mape;           /* of them, rows whose actual is not 0 */
	double mape, smape;      /* percent */
	double r2;               /* NaN when the actuals are constant */
	size_t n_directional;    /* rows with a reference for the direction */
	double directional_accuracy;
	enum fin_naive naive;    /* the naive forecast compared with, never auto */
	int naive_auto;          /* chosen by the auto rule */
	double acf1, nonpositive; /* what the auto rule saw (fin_naive_choose) */
	size_t n_naive;          /* rows where the naive forecast is defined too */
	double rmse_naive, mae_naive;
	double mase;             /* MAE / MAE of the naive, both on the n_naive rows */
	double theil_u;          /* RMSE / RMSE of the naive, both on the n_naive rows */
	fin_dm dm;
} fin_forecast_eval;

/* Evaluates forecasts p[] of the actuals a[] over rows rows in time
 * order; either may be NaN (missing: the row is left out, its position
 * still counts for the naive forecast). last[] is the --last column or
 * NULL. Every metric without rows to stand on is NaN. FIN_EDATA when
 * memory runs out. */
int fin_forecast_evaluate(const double *a, const double *p, const double *last, size_t rows,
			  const fin_forecast_opts *o, fin_forecast_eval *ev, fin_err *err);

#endif
