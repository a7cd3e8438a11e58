/* How well rows are clustered, given their labels: sizes, the silhouette
 * and the Davies-Bouldin index, on the features as given. */
#ifndef FIN_CLUSTER_EVAL_H
#define FIN_CLUSTER_EVAL_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_cluster_eval {
	size_t n, k;
	size_t *sizes;          /* [k] rows with each label */
	double silhouette;      /* fin_silhouette (float32, as fin-cluster) */
	size_t silhouette_rows; /* the rows it was computed on: n, or a sample */
	double davies_bouldin;
} fin_cluster_eval;

/* Davies-Bouldin index of the labels assign[0..n) (each in [0, k)) of the
 * rows of x [n][d], as scikit-learn defines it: the mean over clusters i
 * of max_{j != i} (s_i + s_j) / |c_i - c_j|, with c_i the mean of
 * cluster i's rows and s_i their mean Euclidean distance to it. A pair of
 * clusters with the same centroid adds 0, and the index is 0 when every
 * s_i or every distance between centroids is 0. NaN for k < 2 or an
 * empty cluster. Lower is better. FIN_EDATA without memory. */
int fin_davies_bouldin(const double *x, size_t n, size_t d, const int *assign, size_t k,
		       double *out, fin_err *err);

/* Sizes, the silhouette of a sample of at most `sample` rows drawn with
 * seed (all rows when n <= sample) and the Davies-Bouldin index of every
 * row. FIN_EDATA without memory. */
int fin_cluster_evaluate(const double *x, size_t n, size_t d, const int *assign, size_t k,
			 size_t sample, unsigned long seed, fin_cluster_eval *ev, fin_err *err);
void fin_cluster_eval_free(fin_cluster_eval *ev);

#endif
