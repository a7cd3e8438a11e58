/* Stylized facts of one return series (Cont 2001): moments, the
 * autocorrelation of returns and of their absolute values, and the
 * leverage effect. Used to compare real returns with generated ones. */
#ifndef FIN_FACTS_H
#define FIN_FACTS_H

#include <stddef.h>

#include "core/err.h"

enum {
	FIN_FACTS_ACF = 5,        /* lags of the returns' autocorrelation */
	FIN_FACTS_ACF_ABS = 20,   /* lags of the absolute returns' autocorrelation */
	FIN_FACTS_LEVERAGE = 5,   /* lags of the leverage correlation */
	/* n, mean, sd, skew, excess kurtosis, the three lists, the band */
	FIN_FACTS_COUNT = 5 + FIN_FACTS_ACF + FIN_FACTS_ACF_ABS + FIN_FACTS_LEVERAGE + 1,
};

/* Every value that is undefined for the series (too few values, zero
 * variance) is NaN. */
typedef struct fin_facts {
	size_t n;
	double mean;                          /* gsl_stats_mean */
	double sd;                            /* gsl_stats_sd, divisor n - 1 */
	double skew;                          /* gsl_stats_skew */
	double kurtosis;                      /* gsl_stats_kurtosis: excess, 0 for a normal */
	double acf[FIN_FACTS_ACF];            /* sample ACF of r at lags 1.. */
	double acf_abs[FIN_FACTS_ACF_ABS];    /* sample ACF of |r| at lags 1.. */
	double leverage[FIN_FACTS_LEVERAGE];  /* corr(r_t, r_{t+k}^2) at lags k = 1.. */
	double acf_band;                      /* 1.96 / sqrt(n) */
} fin_facts;

/* Computes the facts of r[0..n), oldest first. The sample ACF at lag k is
 * R's: sum_{t=1}^{n-k} (x_t - m)(x_{t+k} - m) / sum_{t=1}^{n} (x_t - m)^2
 * with m the mean of all n values. FIN_EDATA without memory. */
int fin_facts_compute(const double *r, size_t n, fin_facts *f, fin_err *err);

/* The facts as FIN_FACTS_COUNT named rows, in the order of fin-gen(1)'s
 * report: n, mean, sd, skew, excess_kurtosis, acf_1.., acf_abs_1..,
 * leverage_1.., acf_band. The name of row i goes into buf (at least 16
 * bytes), which is returned. */
const char *fin_facts_name(size_t i, char *buf, size_t len);
double fin_facts_value(const fin_facts *f, size_t i);

#endif
