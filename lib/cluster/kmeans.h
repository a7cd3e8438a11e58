/* k-means clustering (Lloyd's algorithm from greedy k-means++ starts) and
 * the silhouette coefficient: the engine behind fin-cluster. */
#ifndef FIN_KMEANS_H
#define FIN_KMEANS_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_kmeans_opts {
	size_t k;        /* clusters, 1 to n */
	size_t restarts; /* independent starts, the lowest inertia kept; at least 1 */
	size_t max_iter; /* Lloyd iterations per start, at least 1 */
	/* Relative, as scikit-learn's: a start has converged when the
	 * centroids' total squared shift in one iteration is at most tol times
	 * the mean of the features' variances. At least 0. */
	double tol;
	unsigned long seed; /* GSL's MT19937; 0 is GSL's default seed */
	/* [k][d] starting centroids in place of k-means++, or NULL; with
	 * them there is one start, so restarts must be 1. */
	const float *init;
	/* Set: the ranks of the MPI job (par/dist.h) fit together, each
	 * rank calling with the same rows and options; no effect without a
	 * job. See fin_kmeans_fit. */
	int ranks;
} fin_kmeans_opts;

typedef struct fin_kmeans {
	size_t k, d;
	float *centroids;  /* [k][d] */
	double inertia;    /* sum of squared distances of the fitted rows to their centroid */
	size_t *sizes;     /* [k] rows per cluster */
	size_t iterations; /* of the best start, counted as scikit-learn's n_iter_ */
} fin_kmeans;

/* Clusters the n rows of x [n][d] (float32, row-major, finite) into o->k
 * clusters. Each start draws its centres by greedy k-means++ and runs
 * Lloyd's iterations until the labels stop changing, the centroids move by
 * at most the tolerance, or max_iter; the start with the lowest inertia is
 * kept (the first of equals). Starts draw consecutively from one generator
 * seeded with o->seed, so a seed gives a bit-identical result. A cluster
 * left empty by an assignment is given the row farthest from its centroid
 * among the clusters of two rows or more, and the iterations go on: no
 * cluster ends empty while there are at least k distinct rows, unless
 * max_iter ends them right after an assignment emptied one. The labels, into assign [n] unless
 * it is NULL, are those of the final centroids: each row's nearest, the
 * lowest index among equals. Besides km, the fit holds a centred copy of
 * x and 6 + ln k more 4-byte values a row.
 *
 * With o->ranks under mpirun, every rank holds the rows and works on its
 * part of them, runs of 1024 rows in rank order: the distances of
 * k-means++ and of Lloyd's assignments, and the sums they make. k-means++
 * gathers the potential of each block of rows and each candidate's, which
 * every rank then adds in one process's order, so that the starts are one
 * process's to the bit; Lloyd's sums of the clusters' rows and sizes, the
 * labels changed, the relocations' farthest rows and the inertia are
 * summed over the ranks in rank order (par/dist.h), so that every rank
 * holds the same centroids and takes the same decisions. The centroids
 * and the inertia are then one process's but for the rounding of those
 * sums in another order. The labels of every row are gathered on every
 * rank, which takes 1 + 1 / P more 4-byte values a row with P ranks. A
 * failure (memory, a value refused) on any rank stops every rank with the
 * first failed rank's status; its message is that rank's alone.
 *
 * Returns FIN_OK, FIN_ENOROWS (n = 0), FIN_EUSAGE (an option or size out
 * of range, k more than n) or FIN_EDATA (a value not finite or too large
 * for float32 squared distances, out of memory); km is then left empty. */
int fin_kmeans_fit(fin_kmeans *km, const float *x, size_t n, size_t d,
		   const fin_kmeans_opts *o, int *assign, fin_err *err);

/* Nearest of the k >= 1 centroids of km to each of the n rows of x
 * [n][km->d] into cluster[n], and the Euclidean distance to it into
 * distance[n]; either may be NULL. The search goes through fin_gemm in
 * blocks of rows, as |x|^2 - 2 x.c + |c|^2 with x and c taken relative to
 * the first centroid, so that data far from the origin does not lose the
 * differences between centroids to rounding; the distance to the chosen
 * centroid is then computed directly, in double. Ties go to the lowest
 * index; a row holding a NaN gets cluster 0 and a NaN distance. Needs no
 * memory beyond the stack. */
void fin_kmeans_assign(const fin_kmeans *km, const float *x, size_t n, int *cluster,
		       double *distance);

/* Silhouette coefficient of the labels assign [n] (each in [0, k)) of the
 * rows of x [n][d]: the mean over rows of (b - a) / max(a, b), where a is
 * the row's mean Euclidean distance to the other rows of its cluster and b
 * the lowest mean distance to the rows of another cluster; a row alone in
 * its cluster counts 0, as in scikit-learn, and so does one with a = b = 0.
 * When n is more than sample, the rows are a sample of `sample` of them
 * drawn without replacement from MT19937 seeded with seed. Distances come
 * from fin_gemm in tiles, on the sample centred at its mean. NaN when k < 2,
 * when a single cluster holds every sampled row, when a label is out of
 * range or when memory runs out. */
double fin_silhouette(const float *x, size_t n, size_t d, const int *assign, size_t k,
		      size_t sample, unsigned long seed);

/* fin_silhouette computed by the ranks of the MPI job together, each on
 * its part of the sampled rows (runs of 64) against all of them: every
 * rank calls it with the same arguments and gets fin_silhouette's value,
 * to the bit, as the rows' silhouettes are gathered and added in one
 * process's order. NaN on every rank when memory runs out on one.
 * fin_silhouette itself without a job. */
double fin_silhouette_ranks(const float *x, size_t n, size_t d, const int *assign, size_t k,
			    size_t sample, unsigned long seed);

/* Frees what km holds and leaves it empty; an empty km may be freed again. */
void fin_kmeans_free(fin_kmeans *km);

#endif
