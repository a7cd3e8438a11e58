/* The ROC and precision-recall curves of scores against 0/1 labels (higher
 * score = more likely positive): a point after each group of equal
 * scores, from the highest, so that the areas under them are the ones
 * metrics.h gives, and fin-eval reports. */
#ifndef FIN_CURVES_H
#define FIN_CURVES_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_curve {
	double *x, *y; /* [n] */
	size_t n;
	double area;   /* ROC-AUC, or average precision; NaN without the classes it needs */
} fin_curve;

/* The ROC curve: false positive rate against true positive rate, from
 * (0, 0) through the rates after each group of equal scores to (1, 1);
 * straight lines between them (a group of tied scores is a diagonal step),
 * whose area is the ROC-AUC with ties counting one half. Without both
 * classes, no points and a NaN area. FIN_EDATA without memory. */
int fin_roc_curve(const double *score, const unsigned char *label, size_t n, fin_curve *c,
		  fin_err *err);

/* The precision-recall curve as a staircase whose area is the average
 * precision: the precision P_k after group k of equal scores holds over
 * the recall it gains, from R_(k-1) to R_k (R_0 = 0). Points: for each
 * group, (R_(k-1), P_k) and (R_k, P_k), the second left out when the group
 * holds no positive (R_k = R_(k-1)). Without positives, no points and a
 * NaN area. FIN_EDATA without memory. */
int fin_pr_curve(const double *score, const unsigned char *label, size_t n, fin_curve *c,
		 fin_err *err);

void fin_curve_free(fin_curve *c);

#endif
