/* Ranking metrics for scores against 0/1 labels (higher score = more
 * likely positive). */
#ifndef FIN_METRICS_H
#define FIN_METRICS_H

#include <stddef.h>

/* Area under the ROC curve: the probability that a random positive scores
 * above a random negative, ties counting one half. NaN without both
 * classes. */
double fin_roc_auc(const double *score, const unsigned char *label, size_t n);

/* Area under the precision-recall curve as average precision: the sum over
 * distinct score thresholds, from the highest, of precision times the
 * recall gained. NaN without positives. */
double fin_average_precision(const double *score, const unsigned char *label, size_t n);

/* Share of the positives among the k highest scores (ties broken by
 * position). NaN without positives. */
double fin_recall_at(const double *score, const unsigned char *label, size_t n, size_t k);

/* All three at once, ranking the scores once; 0, or -1 without memory. */
int fin_ranking_metrics(const double *score, const unsigned char *label, size_t n, size_t k,
			double *auc, double *ap, double *recall);

/* Share of positives among the k highest scores (ties broken by
 * position); k is capped at n. NaN for k = 0 or n = 0. */
double fin_precision_at(const double *score, const unsigned char *label, size_t n, size_t k);

/* Kolmogorov-Smirnov statistic of the scores of the positives against
 * those of the negatives: the largest |TPR - FPR| over all thresholds,
 * the two-sample KS statistic of the two groups. NaN without both
 * classes, or without memory. */
double fin_ks_statistic(const double *score, const unsigned char *label, size_t n);

/* Indices 0..n-1 ordered by score, highest first (ties by position);
 * NULL without memory. */
size_t *fin_rank_desc(const double *score, size_t n);

#endif
