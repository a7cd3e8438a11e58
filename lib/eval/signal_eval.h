/* A cross-sectional signal judged as alphalens and Qlib judge one: per
 * date, how the predictions of the assets rank their realised returns. */
#ifndef FIN_SIGNAL_EVAL_H
#define FIN_SIGNAL_EVAL_H

#include <stddef.h>

#include "core/err.h"

/* A coefficient computed on each date, summed up over the dates. */
typedef struct fin_ic_summary {
	size_t dates;     /* dates it was computed on */
	double mean, sd;  /* over those dates (sd: sample) */
	double ir;        /* mean / sd */
	double t;         /* mean / (sd / sqrt(dates)) */
	double positive;  /* share of the dates above 0 */
} fin_ic_summary;

typedef struct fin_signal_eval {
	size_t rows, dates;
	size_t skipped;        /* dates with no coefficient: fewer than 2 assets, or
				* predictions or returns all alike */
	fin_ic_summary ic;     /* Pearson's correlation of prediction and return */
	fin_ic_summary rank_ic; /* Spearman's (average ranks for ties) */
	size_t quantiles;
	double *q_mean;        /* [quantiles] the mean over dates of the mean return of
				* the quantile's assets (1: the lowest predictions) */
	size_t *q_dates;       /* [quantiles] dates the quantile held assets */
	fin_ic_summary spread; /* the top quantile's mean return minus the bottom's,
				* on the dates both hold assets */
	double market;         /* the mean over dates of every asset's mean return */
} fin_signal_eval;

/* n rows: date[i] the date of row i, numbered 0..dates-1 in any order;
 * pred[i] the signal, ret[i] the return it is judged against. Each date's
 * assets fall into quantiles by the rank of their signal as a share of
 * their number (average ranks for ties: quantile ceil(share x quantiles)).
 * FIN_OK, or FIN_EDATA out of memory. */
int fin_signal_evaluate(const size_t *date, size_t dates, const double *pred, const double *ret,
			size_t n, size_t quantiles, fin_signal_eval *ev, fin_err *err);
void fin_signal_eval_free(fin_signal_eval *ev);

#endif
