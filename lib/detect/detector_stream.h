/* Fitting a detector in passes over its rows, holding none of them: what
 * fin-anomaly fit does for the methods that allow it. The rows come from a
 * scanned table (features/feature_pass.h); memory depends on the features,
 * the trees and the contamination, not on the rows. */
#ifndef FIN_DETECTOR_STREAM_H
#define FIN_DETECTOR_STREAM_H

#include "core/err.h"
#include "detect/detector.h"
#include "features/feature_pass.h"

/* True when method m fits in passes: zscore, mahalanobis and iforest. The
 * autoencoder and the GAN discriminator train a network on rows held in
 * memory. */
int fin_detector_streams(enum fin_method m);

/* Fits d (feat and keys set) on the rows of passes p, as fin_detector_fit
 * does on the same rows held in memory, but fit_scores stays NULL:
 *   iforest      one pass gathers each tree's subsample, drawn beforehand
 *                from the row count (the forest fin_iforest_fit grows);
 *   mahalanobis  one pass of moments merged batch by batch (features/moments.h);
 *   zscore       passes of exact selection: the median, then the median
 *                absolute deviation, of each column;
 * then, unless o gives a threshold, one pass scores the rows and keeps
 * those above the (1 - contamination) quantile (core/order_stats.h).
 * Under mpirun (par/dist.h), every rank calls it on the same rows, works
 * on its own block of them in each pass, and ends with the same detector
 * (fin-anomaly(1), MPI): the z-score and the forest one process fits, the
 * Mahalanobis one to rounding. Every rank returns the same status, a
 * failure's message held by the first rank that failed alone. */
int fin_detector_fit_passes(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			    fin_err *err);

#endif
