/* Each feature's share of an anomaly score: exact decompositions that add
 * up to the score of the row, for the detectors whose score allows one
 * (see fin-explain(1), DETECTORS). */
#ifndef FIN_DETECTOR_SHARES_H
#define FIN_DETECTOR_SHARES_H

#include <stddef.h>

#include "core/err.h"
#include "detect/detector.h"

/* True for the detectors decomposed here: zscore, mahalanobis and
 * autoencoder. */
int fin_detector_has_shares(const fin_detector *d);

/* The scores of n rows of raw features x ([n][nfeat]) into score[n], and
 * each feature's share of them into share ([n][nfeat]):
 *   zscore: the Shapley values of the largest |z| against the median
 *     (where every z is 0): with the |z| of a row sorted, a_(1) <= ... <=
 *     a_(p) and a_(0) = 0, the feature of rank i gets the sum over k <= i
 *     of (a_(k) - a_(k-1)) / (p - k + 1);
 *   mahalanobis: the score split in proportion to each feature's term of
 *     the squared distance, (x - m)_j (S^-1 (x - m))_j, which may be
 *     negative where features are correlated;
 *   autoencoder: each feature's squared reconstruction error over the
 *     number of features, whose sum is the score.
 * FIN_EDATA when out of memory. */
int fin_detector_shares(fin_detector *d, const float *x, size_t n, double *score, double *share,
			fin_err *err);

#endif
