/* The mean and co-moments of rows of p features, and the sum of the
 * fourth powers of their distances to the mean (what Ledoit-Wolf shrinkage
 * needs), accumulated batch by batch without holding the rows. Each batch
 * is centred at its own mean and merged into the running sums, shifted to
 * the new mean (Chan, Golub and LeVeque 1979; the fourth-power sum and the
 * third-moment vector it needs shift the same way), so that data far from
 * the origin (prices near 1e6 that move by cents) keeps its variance, which
 * sums of x and x^2 would lose to rounding; values are taken relative to
 * the first row besides, so that the means merged are small. Everything is
 * in double: co-moments come out within a few units of rounding of the
 * spread, times the offset from the first row over the spread. */
#ifndef FIN_MOMENTS_H
#define FIN_MOMENTS_H

#include <stddef.h>

typedef struct fin_moments {
	size_t p, n, cap;
	double *shift; /* [p] the first row: sums are of x - shift */
	double *mean;  /* [p] the mean of x - shift (fin_moments_mean: of x) */
	double *c;     /* [p][p] sum over rows of (x - mean)(x - mean)^T */
	double *v;     /* [p] sum of |x - mean|^2 (x - mean) */
	double s4;     /* sum of |x - mean|^4 */
	double *y;     /* [cap][p] scratch: a batch, centred */
	double *bmean, *bc, *bv; /* scratch: the batch's own sums */
	double *t, *da, *db;     /* scratch [p] */
} fin_moments;

/* Room for p features and batches of up to cap rows; -1 when out of memory. */
int fin_moments_init(fin_moments *m, size_t p, size_t cap);

/* Adds n rows of x [n][p], n at most cap. */
void fin_moments_add(fin_moments *m, const float *x, size_t n);

/* The mean of the rows added, into mean [p]. */
void fin_moments_mean(const fin_moments *m, double *mean);

void fin_moments_free(fin_moments *m);

/* The sums of m as fin_moments_doubles(p) doubles, for another process
 * (the ranks of an MPI job each add their own rows): fin_moments_merge
 * adds the rows whose sums from holds to m, as if they came after m's own
 * (Chan's update again, the parts' means taken relative to m's first row). */
size_t fin_moments_doubles(size_t p);
void fin_moments_save(const fin_moments *m, double *to);
void fin_moments_merge(fin_moments *m, const double *from);

#endif
