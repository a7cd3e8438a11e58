/* Scores against 0/1 labels: a binary classifier's probabilities (ranking,
 * calibration and the confusion at a threshold), and an anomaly
 * detector's alerts; each next to what a forecast without skill gets. */
#ifndef FIN_BINARY_EVAL_H
#define FIN_BINARY_EVAL_H

#include <stddef.h>

#include "core/err.h"

/* Probabilities are clipped to [eps, 1 - eps] for the log loss. */
#define FIN_LOG_LOSS_EPS 1e-15

typedef struct fin_binary_eval {
	size_t n, positives;
	double prevalence;     /* positives / n */
	double roc_auc, pr_auc, ks;
	int probabilities;     /* every score lies in [0, 1] */
	double log_loss, brier; /* NaN unless probabilities */
	double threshold;      /* a row is predicted positive when its score >= threshold */
	size_t tp, fp, tn, fn;
	double accuracy;
	double precision;      /* tp / (tp + fp), NaN without predicted positives */
	double recall;         /* tp / (tp + fn), NaN without positives */
	double f1;             /* 2 tp / (2 tp + fp + fn), NaN when that is 0 / 0 */
	/* A constant forecast of the prevalence q: roc_auc 1/2, pr_auc q, ks 0,
	 * log_loss -(q ln q + (1 - q) ln(1 - q)), brier q (1 - q), and the
	 * accuracy of the better constant label, max(q, 1 - q); NaN where the
	 * metric itself is undefined for want of a class. */
	struct {
		double roc_auc, pr_auc, ks, log_loss, brier, accuracy;
	} baseline;
} fin_binary_eval;

/* Evaluates score[0..n) against label[0..n) (nonzero = positive). Metrics
 * without the rows they need are NaN. FIN_EDATA without memory. */
int fin_binary_evaluate(const double *score, const unsigned char *label, size_t n,
			double threshold, fin_binary_eval *ev, fin_err *err);

typedef struct fin_anomaly_eval {
	size_t n, positives;
	double prevalence;
	double roc_auc, pr_auc;
	size_t k;              /* the k asked for, capped at n */
	double precision_at_k; /* share of positives among the k highest scores */
	double alert_rate;
	size_t alerts;         /* ceil(alert_rate n) highest scores */
	double recall_at_rate; /* share of all positives among the alerts */
	/* Scores in random order, on average: roc_auc 1/2, precision_at_k q,
	 * recall_at_rate alerts / n; pr_auc q, a constant score's; NaN where
	 * the metric itself is undefined. */
	struct {
		double roc_auc, pr_auc, precision_at_k, recall_at_rate;
	} baseline;
} fin_anomaly_eval;

/* Evaluates anomaly scores (higher = more anomalous) against labels, with
 * ties among the highest scores broken by position. FIN_EDATA without
 * memory. */
int fin_anomaly_evaluate(const double *score, const unsigned char *label, size_t n, size_t k,
			 double alert_rate, fin_anomaly_eval *ev, fin_err *err);

#endif
