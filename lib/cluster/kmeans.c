#include <float.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/kmeans.h"
#include "nn/gemm.h"
#include "par/dist.h"

/* Rows go through fin_gemm in blocks of at most BLOCK_ROWS whose products
 * fit in BLOCK_FLOATS, on the stack, with centroids GROUP at a time and
 * shifted copies of rows and centroids in SHIFT_FLOATS each: memory stays
 * bounded whatever n, k and d are. OpenBLAS ran the skinny products here
 * fastest with 256 rows (against 64 to 4096, at 1 to 6 columns). */
enum { BLOCK_FLOATS = 4096, BLOCK_ROWS = 256, GROUP = 64, SHIFT_FLOATS = 4096 };

/* k-means++ sums its potential by blocks of POT_ROWS rows, so that a draw
 * finds its block from the sums and only scans the rows of one. */
enum { POT_ROWS = 1024 };

/* k-means++ candidates: 2 + floor(ln k) with k at most INT_MAX. */
enum { MAX_TRIALS = 24 };

/* Silhouette tiles: SIL_ROWS rows against SIL_COLS columns at a time. */
enum { SIL_ROWS = 64, SIL_COLS = 1024 };

enum { MAX_FEATURES = 1 << 24 };

/* A centred row's squared norm at most this keeps every squared distance
 * between rows, |a|^2 + |b|^2 + 2 |a| |b| <= 4 MAX_SQ, finite in float32,
 * with room for rounding. */
#define MAX_SQ (FLT_MAX / 16)

void fin_kmeans_free(fin_kmeans *km)
{
	free(km->centroids);
	free(km->sizes);
	memset(km, 0, sizeof *km);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Rows per block when each row meets `cols` centroids. */
static size_t block_rows(size_t cols)
{
	return min_size(BLOCK_ROWS, BLOCK_FLOATS / min_size(cols, GROUP));
}

/* |a - b|^2 in double, directly: where the distance itself is reported
 * or compared, free of the cancellation in |a|^2 + |b|^2 - 2 a.b. */
static double sq_dist(const float *a, const float *b, size_t d)
{
	double s = 0;
	size_t j;

	for (j = 0; j < d; j++) {
		double v = (double)a[j] - b[j];
		s += v * v;
	}
	return s;
}

/* Squared distances out [t][m] between the rows of b [t][d] and a [m][d],
 * of squared norms bn and an, as |a|^2 + |b|^2 - 2 a.b through fin_gemm.
 * Rounding can take that slightly below 0 for near rows: clamped. */
static void sqdist(const float *a, const float *an, size_t m, const float *b, const float *bn,
		   size_t t, size_t d, float *out)
{
	size_t i, j;

	fin_gemm(0, 1, t, m, d, -2, b, d, a, d, 0, out, m);
	for (j = 0; j < t; j++)
		for (i = 0; i < m; i++) {
			float v = an[i] + bn[j] + out[j * m + i];
			out[j * m + i] = v > 0 ? v : 0;
		}
}

/* The sum of a [m] in double, as four interleaved partial sums: the order
 * is fixed, so results repeat, and the compiler can still vectorize it. */
static double sum_floats(const float *a, size_t m)
{
	double s[4] = { 0, 0, 0, 0 };
	size_t i, l;

	for (i = 0; i + 4 <= m; i += 4)
		for (l = 0; l < 4; l++)
			s[l] += a[i + l];
	for (; i < m; i++)
		s[0] += a[i];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The nearest of the centroids c [k][d] to each of the m rows of x [m][d],
 * m at most block_rows(k), into label; ties go to the lowest index. As
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2 and |x|^2 is the same for every
 * centroid, the nearest has the lowest |c|^2 - 2 x.c. In float32 that
 * rounds in proportion to |x| |c|, so both are first taken relative to
 * origin (unless it is NULL, for rows centred already): data far from the
 * origin (prices in thousands moving by cents) then keeps the differences
 * between its centroids. Centroids are taken GROUP at a time, and with an
 * origin the features in chunks that fit the shifted copies on the stack,
 * summed by fin_gemm's beta. */
static void nearest(const float *c, size_t k, size_t d, const float *origin, const float *x,
		    size_t m, int *label)
{
	float out[BLOCK_FLOATS], cs[SHIFT_FLOATS], xs[SHIFT_FLOATS], best[BLOCK_ROWS];
	double konst[GROUP];
	size_t g = min_size(k, GROUP), j0, w, f0, fc, i, j, f;
	size_t fw = origin ? min_size(d, SHIFT_FLOATS / (g > m ? g : m)) : d;

	for (i = 0; i < m; i++) {
		best[i] = INFINITY;
		label[i] = 0;
	}
	for (j0 = 0; j0 < k; j0 += w) {
		w = min_size(g, k - j0);
		for (j = 0; j < w; j++)
			konst[j] = 0;
		for (f0 = 0; f0 < d; f0 += fc) {
			const float *a = x + f0, *b = c + j0 * d + f0;
			size_t lda = d, ldb = d;

			fc = min_size(fw, d - f0);
			if (origin) {
				for (j = 0; j < w; j++)
					for (f = 0; f < fc; f++)
						cs[j * fc + f] = (float)((double)b[j * d + f] -
									 origin[f0 + f]);
				for (i = 0; i < m; i++)
					for (f = 0; f < fc; f++)
						xs[i * fc + f] = (float)((double)a[i * d + f] -
									 origin[f0 + f]);
				a = xs;
				b = cs;
				lda = ldb = fc;
			}
			for (j = 0; j < w; j++)
				for (f = 0; f < fc; f++)
					konst[j] += (double)b[j * ldb + f] * b[j * ldb + f];
			fin_gemm(0, 1, w, m, fc, -2, b, ldb, a, lda, f0 ? 1 : 0, out, m);
		}
		for (j = 0; j < w; j++) {
			const float *o = out + j * m, kj = (float)konst[j];
			int lj = (int)(j0 + j);
			/* The label through a mask, so that the loop vectorizes. */
			for (i = 0; i < m; i++) {
				float v = kj + o[i];
				int lower = -(v < best[i]);
				best[i] = v < best[i] ? v : best[i];
				label[i] = (label[i] & ~lower) | (lj & lower);
			}
		}
	}
}

void fin_kmeans_assign(const fin_kmeans *km, const float *x, size_t n, int *cluster,
		       double *distance)
{
	size_t block = block_rows(km->k), r, m, i;
	int label[BLOCK_ROWS];

	for (r = 0; r < n; r += m) {
		m = min_size(block, n - r);
		nearest(km->centroids, km->k, km->d, km->centroids, x + r * km->d, m, label);
		for (i = 0; i < m; i++) {
			if (cluster)
				cluster[r + i] = label[i];
			if (distance)
				distance[r + i] = sqrt(sq_dist(x + (r + i) * km->d,
							       km->centroids + (size_t)label[i] * km->d,
							       km->d));
		}
	}
}

/* ---- fitting ---- */

struct fit {
	const float *x; /* [n][d] as given: the inertia is measured on it */
	size_t n, d, k;
	double *mean;   /* [d] column means */
	float *xc;      /* [n][d] x less its column means, for accurate distances */
	float *xn;      /* [n] squared norms of the rows of xc */
	double tol;     /* absolute: tol times the mean feature variance */
	size_t max_iter;
	double *cd;     /* [k][d] centroids, centred, in double */
	float *cf;      /* [k][d] the same in float32, for fin_gemm */
	/* [k][d] sums of the rows of each cluster; under mpirun then [k]
	 * the counts and 1 the labels changed, summed over the ranks with them */
	double *sums;
	size_t *counts; /* [k] */
	/* [n] k-means++: squared distance to the nearest centre so far;
	 * relocation: squared distance to the own centroid. */
	float *dist;
	double *pot;    /* [n / POT_ROWS rounded up] sums of dist by blocks of rows */
	size_t trials;  /* k-means++ candidates per centre */
	float *cand;    /* [trials][d] */
	float *cdist;   /* [trials][n] dist were each candidate a centre */
	double *csum;   /* [n / block_rows(trials) rounded up][trials] sums of cdist by blocks */
	gsl_rng *rng;
	/* The rows this process works on, [lo, hi): every row in one process;
	 * under mpirun (shared), the rank's part, whole runs of POT_ROWS. */
	size_t lo, hi;
	int shared;
	double *far;    /* [ranks][3] mpirun: each rank's farthest row, for relocation */
	int *slots;     /* [ranks + 1][slot] mpirun: labels gathered, the last this rank's */
	size_t slot;
};

static int check_opts(size_t n, size_t d, const fin_kmeans_opts *o, fin_err *err)
{
	if (n == 0)
		return fin_fail(err, FIN_ENOROWS, "no rows to cluster");
	if (d == 0 || d > MAX_FEATURES)
		return fin_fail(err, FIN_EUSAGE, "k-means needs 1 to %d features, not %zu",
				MAX_FEATURES, d);
	if (o->k == 0)
		return fin_fail(err, FIN_EUSAGE, "k must be at least 1");
	if (o->k > n)
		return fin_fail(err, FIN_EUSAGE, "k = %zu is more than the %zu rows", o->k, n);
	if (o->k > INT_MAX)
		return fin_fail(err, FIN_EUSAGE, "k = %zu is too many clusters", o->k);
	if (o->restarts == 0)
		return fin_fail(err, FIN_EUSAGE, "the number of restarts must be at least 1");
	if (o->init && o->restarts != 1)
		return fin_fail(err, FIN_EUSAGE, "starting centroids are given: restarts must be "
						 "1, not %zu", o->restarts);
	if (o->max_iter == 0)
		return fin_fail(err, FIN_EUSAGE, "the iteration limit must be at least 1");
	if (!(o->tol >= 0) || !isfinite(o->tol))
		return fin_fail(err, FIN_EUSAGE, "the tolerance must be a finite number from 0, "
						 "not %g", o->tol);
	return FIN_OK;
}

/* Checks every value and copies x less its column means into xc, with
 * the rows' squared norms; sets the absolute tolerance. Centring keeps
 * |x|^2 + |c|^2 - 2 x.c from cancelling away the distances of data far
 * from the origin, as scikit-learn centres its copy. */
static int centre_rows(struct fit *f, double tol, fin_err *err)
{
	const float *x = f->x;
	size_t n = f->n, d = f->d, i, j, far = 0;
	double total = 0, worst = 0;

	for (j = 0; j < d; j++)
		f->mean[j] = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < d; j++) {
			if (!isfinite(x[i * d + j]))
				return fin_fail(err, FIN_EDATA, "row %zu, feature %zu: not a finite "
								"number", i + 1, j + 1);
			f->mean[j] += x[i * d + j];
		}
	for (j = 0; j < d; j++)
		f->mean[j] /= (double)n;
	for (i = 0; i < n; i++) {
		double sq = 0;
		for (j = 0; j < d; j++) {
			double v = x[i * d + j] - f->mean[j];
			sq += v * v;
		}
		if (sq > worst) {
			worst = sq;
			far = i;
		}
		if (sq > MAX_SQ)
			continue;
		total += sq;
		/* The norm of the row as fin_gemm sees it, rounded. */
		sq = 0;
		for (j = 0; j < d; j++) {
			float v = (float)(x[i * d + j] - f->mean[j]);
			f->xc[i * d + j] = v;
			sq += (double)v * v;
		}
		f->xn[i] = (float)sq;
	}
	/* The row farthest from the mean is the one to name. */
	if (worst > MAX_SQ)
		return fin_fail(err, FIN_EDATA, "row %zu: too far from the other rows for float32 "
						"squared distances", far + 1);
	/* The mean of the features' variances is the mean squared centred
	 * value. */
	f->tol = tol * total / ((double)n * (double)d);
	return FIN_OK;
}

/* Starting centroids given by the caller, centred as the rows are. */
static int set_init(struct fit *f, const float *init, fin_err *err)
{
	size_t c, j;

	for (c = 0; c < f->k; c++) {
		double sq = 0;
		for (j = 0; j < f->d; j++) {
			double v = init[c * f->d + j];
			if (!isfinite(v))
				return fin_fail(err, FIN_EUSAGE, "starting centroid %zu, feature %zu: "
								 "not a finite number", c + 1, j + 1);
			f->cd[c * f->d + j] = v - f->mean[j];
			f->cf[c * f->d + j] = (float)(v - f->mean[j]);
			sq += (v - f->mean[j]) * (v - f->mean[j]);
		}
		if (sq > MAX_SQ)
			return fin_fail(err, FIN_EUSAGE, "starting centroid %zu: too far from the rows "
							 "for float32 squared distances", c + 1);
	}
	return FIN_OK;
}

/* ---- k-means++ ----
 * Greedy k-means++ as scikit-learn's _kmeans_plusplus does it: the first
 * centre is a row drawn uniformly; each next one is the best of `trials`
 * = 2 + floor(ln k) candidate rows, each drawn with probability
 * proportional to its squared distance to the nearest centre so far,
 * best meaning the lowest potential (the sum of those distances) once it
 * is a centre. Sampling the candidates favours rows far from the centres;
 * keeping the best of several avoids the odd unlucky draw. */

static void set_centre(struct fit *f, size_t c, size_t row)
{
	size_t j;

	for (j = 0; j < f->d; j++) {
		f->cd[c * f->d + j] = f->xc[row * f->d + j];
		f->cf[c * f->d + j] = f->xc[row * f->d + j];
	}
}

/* Sums dist by blocks of POT_ROWS rows into pot; returns the
 * potential. Under mpirun each rank sums its blocks, 0 stands for the
 * others', and the sum over the ranks gives every rank every block. */
static double block_sums(struct fit *f)
{
	size_t blocks = (f->n + POT_ROWS - 1) / POT_ROWS, r, m;
	double total = 0;

	if (f->shared)
		memset(f->pot, 0, blocks * sizeof *f->pot);
	for (r = f->lo; r < f->hi; r += m) {
		m = min_size(POT_ROWS, f->hi - r);
		f->pot[r / POT_ROWS] = sum_floats(f->dist + r, m);
	}
	if (f->shared)
		fin_dist_sum_doubles(f->pot, blocks);
	for (r = 0; r < blocks; r++)
		total += f->pot[r];
	return total;
}

/* dist for the first centre, at `row`. */
static double first_centre(struct fit *f, size_t row)
{
	size_t r, m;

	for (r = f->lo; r < f->hi; r += m) {
		m = min_size(BLOCK_ROWS, f->hi - r);
		sqdist(f->xc + r * f->d, f->xn + r, m, f->xc + row * f->d, f->xn + row, 1, f->d,
		       f->dist + r);
	}
	f->dist[row] = 0;
	return block_sums(f);
}

/* The row at which the cumulative sum of dist passes target, from 0 up
 * to the potential: first the block, from the block sums, then the row
 * within it. A block's rows add up in another order than its sum did, so
 * rounding may leave the target past its last row: the last row of
 * positive weight in the block then takes it. Under mpirun, only the rank
 * whose rows hold the block knows their dist: the others return n. */
static size_t pick_row(const struct fit *f, double target)
{
	size_t nblocks = (f->n + POT_ROWS - 1) / POT_ROWS, b = 0, i, end, last;
	double cum = 0;

	while (b + 1 < nblocks && cum + f->pot[b] <= target)
		cum += f->pot[b++];
	i = last = b * POT_ROWS;
	if (i < f->lo || i >= f->hi)
		return f->n;
	for (end = min_size(f->n, i + POT_ROWS); i < end; i++) {
		if (f->dist[i] > 0)
			last = i;
		cum += f->dist[i];
		if (cum > target)
			return i;
	}
	return last;
}

/* Draws the candidate rows, row i with probability dist[i] / total. */
static void draw_candidates(struct fit *f, double total, size_t *rows)
{
	double found[MAX_TRIALS];
	size_t j;

	for (j = 0; j < f->trials; j++) {
		double u = gsl_rng_uniform(f->rng);
		/* Every row is at a centre already when the potential is 0
		 * (fewer distinct rows than k): any row will do. */
		rows[j] = total > 0 ? pick_row(f, u * total) : (size_t)(u * (double)f->n);
		found[j] = rows[j] < f->n ? (double)rows[j] : 0;
	}
	/* Each row was found by one rank, the others adding 0. */
	if (f->shared && total > 0) {
		fin_dist_sum_doubles(found, f->trials);
		for (j = 0; j < f->trials; j++)
			rows[j] = (size_t)found[j];
	}
}

/* The candidate whose addition leaves the lowest potential (the first of
 * equals), which becomes the next centre: its distances, kept for every
 * candidate in cdist, become dist. */
static size_t best_candidate(struct fit *f, const size_t *rows)
{
	float out[BLOCK_FLOATS], cn[MAX_TRIALS];
	double total[MAX_TRIALS];
	size_t t = f->trials, n = f->n, block = block_rows(t), blocks = (n + block - 1) / block;
	size_t r, m, i, j, best = 0;

	for (j = 0; j < t; j++) {
		memcpy(f->cand + j * f->d, f->xc + rows[j] * f->d, f->d * sizeof *f->cand);
		cn[j] = f->xn[rows[j]];
		total[j] = 0;
	}
	if (f->shared)
		memset(f->csum, 0, blocks * t * sizeof *f->csum);
	for (r = f->lo; r < f->hi; r += m) {
		const float *dist = f->dist + r;
		m = min_size(block, f->hi - r);
		sqdist(f->xc + r * f->d, f->xn + r, m, f->cand, cn, t, f->d, out);
		for (j = 0; j < t; j++) {
			const float *o = out + j * m;
			float *c = f->cdist + j * n + r;
			for (i = 0; i < m; i++)
				c[i] = o[i] < dist[i] ? o[i] : dist[i];
			f->csum[r / block * t + j] = sum_floats(c, m);
		}
	}
	/* Each rank's blocks, as for the potential; added in one order. */
	if (f->shared)
		fin_dist_sum_doubles(f->csum, blocks * t);
	for (r = 0; r < blocks; r++)
		for (j = 0; j < t; j++)
			total[j] += f->csum[r * t + j];
	for (j = 1; j < t; j++)
		if (total[j] < total[best])
			best = j;
	memcpy(f->dist + f->lo, f->cdist + best * n + f->lo, (f->hi - f->lo) * sizeof *f->dist);
	f->dist[rows[best]] = 0;
	return rows[best];
}

static void kmeanspp(struct fit *f)
{
	size_t rows[MAX_TRIALS], row, c;
	double total;

	row = (size_t)(gsl_rng_uniform(f->rng) * (double)f->n);
	set_centre(f, 0, row);
	total = first_centre(f, row);
	for (c = 1; c < f->k; c++) {
		draw_candidates(f, total, rows);
		set_centre(f, c, best_candidate(f, rows));
		if (c + 1 < f->k)
			total = block_sums(f);
	}
}

/* ---- Lloyd's iterations ---- */

/* Assigns every row to its nearest centroid and sums the clusters' rows
 * (in double) and sizes; returns how many labels changed. Under mpirun,
 * each rank assigns its rows, and the sums, sizes and changes are summed
 * over the ranks. */
static size_t assign_rows(struct fit *f, int *labels)
{
	size_t block = block_rows(f->k), d = f->d, k = f->k, r, m, i, j, changed = 0;
	double *more = f->sums + k * d;
	int label[BLOCK_ROWS];

	memset(f->sums, 0, k * d * sizeof *f->sums);
	memset(f->counts, 0, k * sizeof *f->counts);
	for (r = f->lo; r < f->hi; r += m) {
		m = min_size(block, f->hi - r);
		nearest(f->cf, f->k, d, NULL, f->xc + r * d, m, label);
		for (i = 0; i < m; i++) {
			const float *xi = f->xc + (r + i) * d;
			double *sum = f->sums + (size_t)label[i] * d;
			changed += labels[r + i] != label[i];
			labels[r + i] = label[i];
			f->counts[label[i]]++;
			for (j = 0; j < d; j++)
				sum[j] += xi[j];
		}
	}
	if (f->shared) {
		for (j = 0; j < k; j++)
			more[j] = (double)f->counts[j];
		more[k] = (double)changed;
		fin_dist_sum_doubles(f->sums, k * d + k + 1);
		for (j = 0; j < k; j++)
			f->counts[j] = (size_t)more[j];
		changed = (size_t)more[k];
	}
	return changed;
}

/* Under mpirun, the farthest of the rows each rank found (farthest -1:
 * none): the first rank's of the largest distance, so the lowest row of
 * equals, as in one process; its row, and its cluster into *old. */
static size_t farthest_of_ranks(struct fit *f, float farthest, size_t far, size_t *old)
{
	double mine[3] = { farthest, (double)far, (double)*old };
	int ranks = fin_dist_size(), r, best = 0;

	fin_dist_gather_all(mine, f->far, sizeof mine);
	for (r = 1; r < ranks; r++)
		if (f->far[3 * r] > f->far[3 * best])
			best = r;
	*old = (size_t)f->far[3 * best + 2];
	return (size_t)f->far[3 * best + 1];
}

/* Gives each empty cluster, in index order, the row farthest from its
 * centroid among the clusters that keep another row, and moves that row
 * out of its old cluster. scikit-learn takes the farthest rows whatever
 * their cluster, which can empty a cluster of one row and leave its
 * centroid at the origin; here a cluster never gives its last row. With
 * n >= k rows there is always a cluster of two or more while one is
 * empty. Ties go to the lowest row. */
static void relocate(struct fit *f, int *labels)
{
	size_t d = f->d, c, i, j, far, old;
	float farthest;

	for (i = f->lo; i < f->hi; i++)
		f->dist[i] = (float)sq_dist(f->xc + i * d, f->cf + (size_t)labels[i] * d, d);
	for (c = 0; c < f->k; c++) {
		if (f->counts[c])
			continue;
		far = 0;
		farthest = -1;
		for (i = f->lo; i < f->hi; i++)
			if (f->counts[labels[i]] > 1 && f->dist[i] > farthest) {
				farthest = f->dist[i];
				far = i;
			}
		old = farthest >= 0 ? (size_t)labels[far] : 0;
		if (f->shared)
			far = farthest_of_ranks(f, farthest, far, &old);
		for (j = 0; j < d; j++) {
			f->sums[old * d + j] -= f->xc[far * d + j];
			f->sums[c * d + j] = f->xc[far * d + j];
		}
		f->counts[old]--;
		f->counts[c] = 1;
		labels[far] = (int)c;
	}
}

/* Moves the centroids to their clusters' means; returns the total squared
 * shift. */
static double update(struct fit *f)
{
	size_t c, j, d = f->d;
	double shift = 0;

	for (c = 0; c < f->k; c++)
		for (j = 0; j < d; j++) {
			double v = f->sums[c * d + j] / (double)f->counts[c];
			shift += (v - f->cd[c * d + j]) * (v - f->cd[c * d + j]);
			f->cd[c * d + j] = v;
			f->cf[c * d + j] = (float)v;
		}
	return shift;
}

/* Lloyd's iterations from the centroids in cd and cf; leaves in labels
 * the nearest centroid of every row under the final centroids, as
 * scikit-learn relabels after its last update. Stops when an assignment
 * changes no label (the centroids would stay where they are), when the
 * last update moved the centroids by at most the tolerance and the
 * assignment left no cluster empty, when it did not move them at all
 * (which with an empty cluster means fewer distinct rows than k: the same
 * rows would be moved again and again), or after max_iter updates.
 * Returns the iterations counted as scikit-learn's n_iter_: the updates,
 * and the assignment that found the labels unchanged. */
static size_t lloyd(struct fit *f, int *labels)
{
	size_t it = 0, c, empty, i;
	double shift = INFINITY;

	for (i = 0; i < f->n; i++)
		labels[i] = -1;
	for (;;) {
		size_t changed = assign_rows(f, labels);
		if (changed == 0)
			return it < f->max_iter ? it + 1 : it;
		for (empty = c = 0; c < f->k; c++)
			empty += f->counts[c] == 0;
		if (shift == 0 || (shift <= f->tol && empty == 0) || it == f->max_iter)
			return it;
		if (empty)
			relocate(f, labels);
		shift = update(f);
		it++;
	}
}

/* The start's centroids in the data's coordinates into centroids, and its
 * inertia measured on the rows as given. */
static double finish(const struct fit *f, const int *labels, float *centroids)
{
	size_t c, j, i, d = f->d;
	double inertia = 0;

	for (c = 0; c < f->k; c++)
		for (j = 0; j < d; j++)
			centroids[c * d + j] = (float)(f->cd[c * d + j] + f->mean[j]);
	for (i = f->lo; i < f->hi; i++)
		inertia += sq_dist(f->x + i * d, centroids + (size_t)labels[i] * d, d);
	if (f->shared)
		fin_dist_sum_doubles(&inertia, 1);
	return inertia;
}

/* Under mpirun, every rank's labels of its rows into labels [n] on every
 * rank. */
static void gather_labels(struct fit *f, int *labels)
{
	int ranks = fin_dist_size(), r;
	int *own = f->slots + (size_t)ranks * f->slot;
	size_t lo, hi;

	memcpy(own, labels + f->lo, (f->hi - f->lo) * sizeof *own);
	fin_dist_gather_all(own, f->slots, f->slot * sizeof *own);
	for (r = 0; r < ranks; r++) {
		fin_dist_runs(f->n, POT_ROWS, r, &lo, &hi);
		memcpy(labels + lo, f->slots + (size_t)r * f->slot, (hi - lo) * sizeof *labels);
	}
}

static void free_fit(struct fit *f)
{
	free(f->mean);
	free(f->xc);
	free(f->xn);
	free(f->cd);
	free(f->cf);
	free(f->sums);
	free(f->counts);
	free(f->dist);
	free(f->pot);
	free(f->cand);
	free(f->cdist);
	free(f->csum);
	free(f->far);
	free(f->slots);
	if (f->rng)
		gsl_rng_free(f->rng);
}

int fin_kmeans_fit(fin_kmeans *km, const float *x, size_t n, size_t d,
		   const fin_kmeans_opts *o, int *assign, fin_err *err)
{
	struct fit f = { 0 };
	int *labels = NULL, *best = NULL, *t;
	float *trial = NULL;
	size_t k = o->k, r, i;
	int rc;

	memset(km, 0, sizeof *km);
	if ((rc = check_opts(n, d, o, err)) != FIN_OK)
		return rc;
	f.x = x;
	f.n = n;
	f.d = d;
	f.k = k;
	f.max_iter = o->max_iter;
	f.trials = 2 + (size_t)log((double)k);
	f.mean = malloc(d * sizeof *f.mean);
	f.xc = malloc(n * d * sizeof *f.xc);
	f.xn = malloc(n * sizeof *f.xn);
	f.cd = malloc(k * d * sizeof *f.cd);
	f.cf = malloc(k * d * sizeof *f.cf);
	f.sums = malloc((k * d + k + 1) * sizeof *f.sums);
	f.counts = malloc(k * sizeof *f.counts);
	f.dist = malloc(n * sizeof *f.dist);
	f.pot = malloc((n + POT_ROWS - 1) / POT_ROWS * sizeof *f.pot);
	f.cand = malloc(f.trials * d * sizeof *f.cand);
	f.cdist = malloc(f.trials * n * sizeof *f.cdist);
	f.csum = malloc((n + block_rows(f.trials) - 1) / block_rows(f.trials) * f.trials *
			sizeof *f.csum);
	f.rng = gsl_rng_alloc(gsl_rng_mt19937);
	labels = malloc(n * sizeof *labels);
	best = malloc(n * sizeof *best);
	trial = malloc(k * d * sizeof *trial);
	km->centroids = malloc(k * d * sizeof *km->centroids);
	km->sizes = calloc(k, sizeof *km->sizes);
	f.hi = n;
	f.shared = o->ranks && fin_dist_active();
	if (f.shared) {
		size_t first;
		/* Rank 0's part is the longest: a slot holds any rank's labels. */
		fin_dist_runs(n, POT_ROWS, 0, &first, &f.slot);
		fin_dist_runs(n, POT_ROWS, fin_dist_rank(), &f.lo, &f.hi);
		f.far = malloc((size_t)fin_dist_size() * 3 * sizeof *f.far);
		f.slots = malloc(((size_t)fin_dist_size() + 1) * f.slot * sizeof *f.slots);
	}
	if (!f.mean || !f.xc || !f.xn || !f.cd || !f.cf || !f.sums || !f.counts || !f.dist || !f.pot ||
	    !f.cand || !f.cdist || !f.csum || !f.rng || !labels || !best || !trial || !km->centroids ||
	    !km->sizes || (f.shared && (!f.far || !f.slots)))
		rc = fin_fail(err, FIN_EDATA, "out of memory fitting k-means");
	else if ((rc = centre_rows(&f, o->tol, err)) == FIN_OK && o->init)
		rc = set_init(&f, o->init, err);
	/* Under mpirun, every rank goes on or none does. */
	if (f.shared)
		rc = fin_dist_agree_msg(rc, err ? err->msg : NULL);
	if (rc != FIN_OK)
		goto done;
	gsl_rng_set(f.rng, o->seed);
	km->k = k;
	km->d = d;
	for (r = 0; r < o->restarts; r++) {
		size_t iterations;
		double inertia;

		if (!o->init)
			kmeanspp(&f);
		iterations = lloyd(&f, labels);
		inertia = finish(&f, labels, trial);
		if (r == 0 || inertia < km->inertia) {
			t = best;
			best = labels;
			labels = t;
			memcpy(km->centroids, trial, k * d * sizeof *trial);
			km->inertia = inertia;
			km->iterations = iterations;
		}
	}
	if (f.shared)
		gather_labels(&f, best);
	for (i = 0; i < n; i++)
		km->sizes[best[i]]++;
	if (assign)
		memcpy(assign, best, n * sizeof *assign);
done:
	free_fit(&f);
	free(labels);
	free(best);
	free(trial);
	if (rc != FIN_OK)
		fin_kmeans_free(km);
	return rc;
}

/* ---- silhouette ---- */

/* s of one row from acc, its summed distances to the rows of each
 * cluster. */
static double row_silhouette(const double *acc, const size_t *count, size_t own, size_t k)
{
	double a, b = INFINITY, most;
	size_t c;

	if (count[own] == 1)
		return 0;
	a = acc[own] / (double)(count[own] - 1);
	for (c = 0; c < k; c++)
		if (c != own && count[c] > 0 && acc[c] / (double)count[c] < b)
			b = acc[c] / (double)count[c];
	most = a > b ? a : b;
	return most > 0 ? (b - a) / most : 0;
}

/* Knuth's selection sampling (algorithm S): row i is taken with
 * probability (m - taken) / (n - i), which gives every set of m rows the
 * same chance, in one pass and without an index of all n rows. */
static void sample_rows(size_t n, size_t m, unsigned long seed, gsl_rng *rng, size_t *rows)
{
	size_t i, taken = 0;

	gsl_rng_set(rng, seed);
	for (i = 0; taken < m; i++)
		if ((double)(n - i) * gsl_rng_uniform(rng) < (double)(m - taken))
			rows[taken++] = i;
}

/* Sums, for each of the rows [r0, r0 + rm) of the sample xs [m][d], its
 * distances to the rows of each cluster into acc [rm][k], the row itself
 * left out. The sample is grouped by cluster, cluster c in rows [start[c],
 * start[c + 1]), so that each cluster's part of a tile is a run of columns
 * summed at once. */
static void tile_sums(const float *xs, const float *xn, const int *lab, const size_t *start,
		      size_t m, size_t d, size_t k, size_t r0, size_t rm, float *out, double *acc)
{
	size_t c0, cm, i, j, c;

	memset(acc, 0, rm * k * sizeof *acc);
	for (c0 = 0; c0 < m; c0 += cm) {
		cm = min_size(SIL_COLS, m - c0);
		sqdist(xs + c0 * d, xn + c0, cm, xs + r0 * d, xn + r0, rm, d, out);
		for (j = 0; j < rm * cm; j++)
			out[j] = sqrtf(out[j]);
		/* A row's distance to itself is 0, whatever rounding made it. */
		for (i = 0; i < rm; i++)
			if (r0 + i >= c0 && r0 + i < c0 + cm)
				out[i * cm + r0 + i - c0] = 0;
		for (i = 0; i < rm; i++)
			for (c = (size_t)lab[c0]; c <= (size_t)lab[c0 + cm - 1]; c++) {
				size_t lo = start[c] > c0 ? start[c] : c0;
				size_t hi = min_size(start[c + 1], c0 + cm);
				if (lo < hi)
					acc[i * k + c] += sum_floats(out + i * cm + lo - c0, hi - lo);
			}
	}
}

/* fin_silhouette, the sampled rows shared among the ranks of the MPI job
 * when shared is set. */
static double silhouette(const float *x, size_t n, size_t d, const int *assign, size_t k,
			 size_t sample, unsigned long seed, int shared)
{
	size_t m = min_size(n, sample), i, j, c, clusters = 0, lo = 0, hi;
	size_t *rows = NULL, *count = NULL, *start = NULL, *pos = NULL;
	double *mean = NULL, *acc = NULL, *s = NULL, total = 0, result = NAN;
	float *xs = NULL, *xn = NULL, *out = NULL;
	int *lab = NULL, failed;
	gsl_rng *rng = NULL;

	if (k < 2 || d == 0 || m < 2)
		return NAN;
	for (i = 0; i < n; i++)
		if (assign[i] < 0 || (size_t)assign[i] >= k)
			return NAN;
	rows = malloc(m * sizeof *rows);
	count = calloc(k, sizeof *count);
	start = malloc((k + 1) * sizeof *start);
	pos = malloc(k * sizeof *pos);
	mean = calloc(d, sizeof *mean);
	acc = malloc(SIL_ROWS * k * sizeof *acc);
	xs = malloc(m * d * sizeof *xs);
	xn = malloc(m * sizeof *xn);
	out = malloc(SIL_ROWS * SIL_COLS * sizeof *out);
	lab = malloc(m * sizeof *lab);
	s = malloc(m * sizeof *s);
	rng = m < n ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
	failed = !rows || !count || !start || !pos || !mean || !acc || !xs || !xn || !out || !lab ||
		 !s || (m < n && !rng);
	/* Under mpirun, every rank goes on or none does. */
	if (shared)
		failed = fin_dist_agree_msg(failed ? FIN_EDATA : FIN_OK, NULL) != FIN_OK;
	if (failed)
		goto done;
	if (m < n) {
		sample_rows(n, m, seed, rng, rows);
	} else {
		for (i = 0; i < n; i++)
			rows[i] = i;
	}
	for (i = 0; i < m; i++) {
		clusters += count[assign[rows[i]]]++ == 0;
		for (j = 0; j < d; j++)
			mean[j] += x[rows[i] * d + j];
	}
	if (clusters < 2)
		goto done;
	/* Grouped by cluster: cluster c goes to rows [start[c], start[c + 1]). */
	for (start[0] = 0, c = 0; c < k; c++) {
		pos[c] = start[c];
		start[c + 1] = start[c] + count[c];
	}
	/* Centred, as for k-means: the distances are small next to |x|. */
	for (j = 0; j < d; j++)
		mean[j] /= (double)m;
	for (i = 0; i < m; i++) {
		size_t p = pos[assign[rows[i]]]++;
		double sq = 0;
		lab[p] = assign[rows[i]];
		for (j = 0; j < d; j++) {
			float v = (float)(x[rows[i] * d + j] - mean[j]);
			xs[p * d + j] = v;
			sq += (double)v * v;
		}
		xn[p] = (float)sq;
	}
	/* Each rank's rows, whole tiles, with 0 for the others' rows: summed
	 * over the ranks, every rank holds every row's silhouette. */
	hi = m;
	if (shared) {
		fin_dist_runs(m, SIL_ROWS, fin_dist_rank(), &lo, &hi);
		memset(s, 0, m * sizeof *s);
	}
	for (i = lo; i < hi; i += SIL_ROWS) {
		size_t rm = min_size(SIL_ROWS, hi - i), r;
		tile_sums(xs, xn, lab, start, m, d, k, i, rm, out, acc);
		for (r = 0; r < rm; r++)
			s[i + r] = row_silhouette(acc + r * k, count, (size_t)lab[i + r], k);
	}
	if (shared)
		fin_dist_sum_doubles(s, m);
	for (i = 0; i < m; i++)
		total += s[i];
	result = total / (double)m;
done:
	free(rows);
	free(count);
	free(start);
	free(pos);
	free(mean);
	free(acc);
	free(xs);
	free(xn);
	free(out);
	free(lab);
	free(s);
	if (rng)
		gsl_rng_free(rng);
	return result;
}

double fin_silhouette(const float *x, size_t n, size_t d, const int *assign, size_t k,
		      size_t sample, unsigned long seed)
{
	return silhouette(x, n, d, assign, k, sample, seed, 0);
}

double fin_silhouette_ranks(const float *x, size_t n, size_t d, const int *assign, size_t k,
			    size_t sample, unsigned long seed)
{
	return silhouette(x, n, d, assign, k, sample, seed, fin_dist_active());
}
