/* Fitting a segmentation in passes over its rows (fin-cluster): rows are
 * held in memory only up to a sample of them, whatever the input's length.
 * The rows come from a scanned table (features/feature_pass.h). */
#ifndef FIN_CLUSTER_STREAM_H
#define FIN_CLUSTER_STREAM_H

#include <stddef.h>

#include "cluster/clusterer.h"
#include "core/err.h"
#include "features/feature_pass.h"

typedef struct fin_cluster_fit_opts {
	size_t k_lo, k_hi;    /* the k tried; the best silhouette wins */
	fin_kmeans_opts km;   /* restarts, max_iter, tol, seed */
	size_t silhouette;    /* rows the silhouette is computed on (--sample) */
	size_t hold;          /* rows held in memory at most (--init-sample) */
	int scale;            /* standardise the space */
	int report;           /* a silhouette even for a single k */
} fin_cluster_fit_opts;

typedef struct fin_k_result {
	size_t k;
	double inertia, silhouette;
} fin_k_result;

/* Fits c (feat, enc, and ae when embedded, set) on the rows of passes p,
 * every k of o, into res[k_hi - k_lo + 1]; the best in *best.
 *
 * When the rows are no more than o->hold, one pass holds them and the fit
 * is the one in memory, start for start (fin_clusterer_prepare,
 * fin_kmeans_fit, fin_silhouette, fin_clusterer_describe): *described is
 * set. Otherwise:
 *   one pass draws a uniform sample of o->hold rows (Knuth's selection
 *     sampling, from MT19937 seeded with the seed) and the moments of the
 *     space, whose standardisation is then that of every row;
 *   each k is fitted on the sample (k-means++ starts, Lloyd to
 *     convergence) and its silhouette computed on o->silhouette of those;
 *   Lloyd's iterations go on for the best k over every row, a pass each,
 *     until the centroids move by at most tol times the mean variance of
 *     the space, or max_iter passes; the first of these passes gives every
 *     k's inertia on all rows (res), from the centroids the sample gave.
 * c->km then holds the final centroids, its iterations the passes over all
 * rows; its sizes, inertia and centroid_raw are left to the pass that
 * assigns the rows (fin_cluster_tally).
 *
 * With o->km.ranks under mpirun, every rank of the job calls this with
 * the same input and options, holds what one process holds, and ends with
 * the same c, each working on its part of the rows: of the rows held or
 * the sample in fin_kmeans_fit and fin_silhouette_ranks, and whole batches
 * of the rows in the passes of Lloyd's iterations, whose sums are summed
 * over the ranks. The sample, the standardisation and the k-means++
 * starts are one process's to the bit, and so are the silhouettes of the
 * same labels; the centroids and the inertias are one process's but for
 * the rounding of sums added in another order. A failure on any rank stops every rank with the first
 * failed rank's status, its message on that rank alone. */
int fin_clusterer_fit_passes(fin_clusterer *c, fin_feature_pass *p,
			     const fin_cluster_fit_opts *o, fin_k_result *res, size_t *best,
			     int *described, fin_err *err);

#endif
