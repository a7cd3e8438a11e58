/* k-means and the silhouette: blobs recovered with their means and
 * inertia computed here in double, reproducibility, nearest centroids
 * checked by brute force, empty clusters built by hand, silhouettes
 * computed by hand and from the definition, and refusals; then the
 * cluster file's refusals, in memory that follows what the file holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounded_memory.h"
#include "cluster/clusterer.h"
#include "cluster/kmeans.h"

static void assert_close(double got, double want, double rtol, double atol)
{
	if (!(fabs(got - want) <= rtol * fabs(want) + atol)) {
		print_error("got %.17g, want %.17g (rtol %g, atol %g)\n", got, want, rtol, atol);
		fail();
	}
}

static fin_kmeans_opts opts(size_t k, size_t restarts, unsigned long seed)
{
	fin_kmeans_opts o = { .k = k, .restarts = restarts, .max_iter = 300, .tol = 1e-4,
			      .seed = seed };
	return o;
}

/* Fits, failing the test on error. */
static void fit(fin_kmeans *km, const float *x, size_t n, size_t d, const fin_kmeans_opts *o,
		int *assign)
{
	fin_err err = { 0 };

	if (fin_kmeans_fit(km, x, n, d, o, assign, &err) != FIN_OK) {
		print_error("fit: %s\n", err.msg);
		fail();
	}
}

/* ---- blobs ---- */

enum { BLOBS = 3, PER_BLOB = 100, BLOB_N = BLOBS * PER_BLOB };

/* BLOBS blobs of `per` points each, blob b in rows [b per, (b + 1) per),
 * 2-D normal with standard deviation sd around centre[b]. */
static float *blobs(const double centre[][2], size_t per, double sd, unsigned long seed)
{
	float *x = malloc(BLOBS * per * 2 * sizeof *x);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t i, b;

	gsl_rng_set(rng, seed);
	for (b = 0; b < BLOBS; b++)
		for (i = b * per; i < (b + 1) * per; i++) {
			x[2 * i] = (float)(centre[b][0] + gsl_ran_gaussian(rng, sd));
			x[2 * i + 1] = (float)(centre[b][1] + gsl_ran_gaussian(rng, sd));
		}
	gsl_rng_free(rng);
	return x;
}

static const double far_apart[BLOBS][2] = { { 0, 0 }, { 40, 0 }, { 0, 40 } };

/* Checks that km recovered the blobs of x exactly: each blob is one
 * cluster of its own, whose centroid is the blob's mean, and the inertia
 * is the sum of squared distances to those means. Means and inertia are
 * computed here in double from the float32 data. */
static void expect_blobs(const fin_kmeans *km, const float *x, size_t per, const int *assign,
			 double centroid_atol, double inertia_rtol)
{
	double mean[BLOBS][2] = { { 0 } }, inertia = 0;
	int cluster[BLOBS];
	size_t b, i, c;

	assert_int_equal(km->k, BLOBS);
	assert_int_equal(km->d, 2);
	for (b = 0; b < BLOBS; b++) {
		cluster[b] = assign[b * per];
		for (c = 0; c < b; c++)
			assert_int_not_equal(cluster[b], cluster[c]);
		for (i = b * per; i < (b + 1) * per; i++) {
			assert_int_equal(assign[i], cluster[b]);
			mean[b][0] += x[2 * i];
			mean[b][1] += x[2 * i + 1];
		}
		mean[b][0] /= (double)per;
		mean[b][1] /= (double)per;
		for (i = b * per; i < (b + 1) * per; i++)
			inertia += (x[2 * i] - mean[b][0]) * (x[2 * i] - mean[b][0]) +
				   (x[2 * i + 1] - mean[b][1]) * (x[2 * i + 1] - mean[b][1]);
		assert_int_equal(km->sizes[cluster[b]], per);
		assert_close(km->centroids[2 * cluster[b]], mean[b][0], 0, centroid_atol);
		assert_close(km->centroids[2 * cluster[b] + 1], mean[b][1], 0, centroid_atol);
	}
	assert_close(km->inertia, inertia, inertia_rtol, 0);
}

static void test_blobs(void **state)
{
	float *x = blobs(far_apart, PER_BLOB, 1, 7);
	fin_kmeans_opts o = opts(BLOBS, 3, 1);
	int assign[BLOB_N], again[BLOB_N];
	fin_kmeans km;
	(void)state;

	fit(&km, x, BLOB_N, 2, &o, assign);
	/* A float32 centroid is within half an ulp (2e-6 near 40) of the
	 * mean, plus the rounding of the centred copy. Off the mean by delta,
	 * the inertia grows by rows * |delta|^2 only: 1e-9 of ~600 is far
	 * above that. */
	expect_blobs(&km, x, PER_BLOB, assign, 1e-5, 1e-9);
	assert_true(km.iterations >= 1 && km.iterations <= o.max_iter);
	/* The labels are those of the final centroids. */
	fin_kmeans_assign(&km, x, BLOB_N, again, NULL);
	assert_memory_equal(assign, again, sizeof assign);
	fin_kmeans_free(&km);
	/* assign may be NULL */
	fit(&km, x, BLOB_N, 2, &o, NULL);
	assert_int_equal(km.sizes[0] + km.sizes[1] + km.sizes[2], BLOB_N);
	fin_kmeans_free(&km);
	fin_kmeans_free(&km);
	free(x);
}

/* Prices far from the origin moving by small amounts: around 4000 with
 * blobs 0.2 apart and a spread of 0.01, where |x|^2 is 3.2e7 and float32
 * rounds it by 2, far more than the distances between blobs. */
static void test_far_from_origin(void **state)
{
	static const double near[BLOBS][2] = { { 4000, 4000 }, { 4000.2, 4000 }, { 4000, 4000.2 } };
	float *x = blobs(near, PER_BLOB, 0.01, 8);
	fin_kmeans_opts o = opts(BLOBS, 2, 3);
	int assign[BLOB_N], again[BLOB_N];
	fin_kmeans km;
	(void)state;

	fit(&km, x, BLOB_N, 2, &o, assign);
	/* Near 4000 a float32 is within half an ulp, 1.2e-4, of the mean;
	 * that adds up to 300 * 2 * 1.2e-4^2 = 9e-6 to an inertia of about
	 * 300 * 2 * 0.01^2 = 0.06. */
	expect_blobs(&km, x, PER_BLOB, assign, 2.5e-4, 3e-4);
	fin_kmeans_assign(&km, x, BLOB_N, again, NULL);
	assert_memory_equal(assign, again, sizeof assign);
	fin_kmeans_free(&km);
	free(x);
}

static void test_seeds(void **state)
{
	float *x = blobs(far_apart, PER_BLOB, 1, 9), *u = malloc(500 * 3 * sizeof *u);
	fin_kmeans_opts o = opts(BLOBS, 2, 42);
	int a[BLOB_N], b[BLOB_N];
	fin_kmeans k1, k2;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	unsigned long seed;
	size_t i;
	(void)state;

	fit(&k1, x, BLOB_N, 2, &o, a);
	fit(&k2, x, BLOB_N, 2, &o, b);
	assert_memory_equal(a, b, sizeof a);
	assert_memory_equal(k1.centroids, k2.centroids, BLOBS * 2 * sizeof *k1.centroids);
	assert_memory_equal(&k1.inertia, &k2.inertia, sizeof k1.inertia);
	assert_int_equal(k1.iterations, k2.iterations);
	fin_kmeans_free(&k1);
	fin_kmeans_free(&k2);
	for (seed = 43; seed < 53; seed++) {
		o.seed = seed;
		fit(&k1, x, BLOB_N, 2, &o, a);
		expect_blobs(&k1, x, PER_BLOB, a, 1e-5, 1e-9);
		fin_kmeans_free(&k1);
	}

	/* On structureless data the seed shows: 500 uniform points in the
	 * unit cube, k = 5, one start each. */
	gsl_rng_set(rng, 10);
	for (i = 0; i < 500 * 3; i++)
		u[i] = (float)gsl_rng_uniform(rng);
	o = opts(5, 1, 1);
	fit(&k1, u, 500, 3, &o, NULL);
	o.seed = 2;
	fit(&k2, u, 500, 3, &o, NULL);
	assert_true(memcmp(k1.centroids, k2.centroids, 5 * 3 * sizeof *k1.centroids) != 0);
	fin_kmeans_free(&k2);
	/* Ten starts from seed 1 begin with the one start above, and keep
	 * the lowest inertia. */
	o = opts(5, 10, 1);
	fit(&k2, u, 500, 3, &o, NULL);
	assert_true(k2.inertia <= k1.inertia);
	fin_kmeans_free(&k1);
	fin_kmeans_free(&k2);
	gsl_rng_free(rng);
	free(u);
	free(x);
}

/* ---- nearest centroids of new points ---- */

/* Checks cluster and distance of the m points p [m][d] against a brute
 * force over km's centroids in double. The search is in float32: a point
 * whose two nearest squared distances are within 1e-6 of each other is
 * not held to either side. */
static void expect_nearest(const fin_kmeans *km, const float *p, size_t m)
{
	int *cluster = malloc(m * sizeof *cluster);
	double *distance = malloc(m * sizeof *distance);
	size_t i, c, j, d = km->d;

	fin_kmeans_assign(km, p, m, cluster, distance);
	for (i = 0; i < m; i++) {
		double best = INFINITY, second = INFINITY;
		size_t near = 0;
		for (c = 0; c < km->k; c++) {
			double s = 0;
			for (j = 0; j < d; j++) {
				double v = (double)p[i * d + j] - km->centroids[c * d + j];
				s += v * v;
			}
			if (s < best) {
				second = best;
				best = s;
				near = c;
			} else if (s < second) {
				second = s;
			}
		}
		if (second - best > 1e-6 * second)
			assert_int_equal(cluster[i], near);
		/* Both in double, directly: far closer than the 1e-5 asked. */
		assert_close(distance[i], sqrt(best), 1e-12, 0);
	}
	/* Either output may be left out. */
	fin_kmeans_assign(km, p, m, NULL, distance);
	fin_kmeans_assign(km, p, m, cluster, NULL);
	free(cluster);
	free(distance);
}

/* k-means++ draws each candidate centre with probability proportional to
 * its squared distance to the nearest centre so far. One big blob of 1000
 * rows and two small ones of 10, each in a unit square, the squares 99 or
 * more apart, k = 3 and one start of one iteration: the centroids are the
 * blobs' means, and the inertia theirs, exactly when the three seeds fall
 * in three blobs (otherwise a blob's rows join a centroid of another, whose
 * cluster then spans 99 or more). A row of a blob already holding a centre
 * is within 2 of it squared, a row of another blob 99^2 = 9801 or more: a
 * candidate falls in a covered blob with probability at most
 * 1010 * 2 / (10 * 9801) < 0.021, and as one in an uncovered blob lowers
 * the potential by 10 * (9801 - 2), more than all covered rows together
 * hold, a step misses only if its 2 + floor(ln 3) = 3 candidates all do: a
 * seeding misses a blob with probability at most 2 * 0.021^3 < 2e-5.
 * Candidates drawn uniformly would have to land two of the seven draws (the
 * first centre and the candidates of two steps) in the small blobs, with
 * probability at most C(7, 2) (20 / 1020)^2 < 0.0081. Of 20 seeds at least
 * 15 must find the blobs: k-means++ fails that with probability below
 * C(20, 6) (2e-5)^6 < 1e-23, uniform candidates pass it with probability
 * below C(20, 15) 0.0081^15 < 1e-27. */
static void test_plusplus_seeding(void **state)
{
	enum { BIG = 1000, SMALL = 10, N = BIG + 2 * SMALL, SEEDS = 20 };
	static const size_t from[] = { 0, BIG, BIG + SMALL, N };
	float x[2 * N];
	double blobs_inertia = 0;
	size_t i, b, j, found = 0;
	unsigned long seed;
	fin_kmeans_opts o = opts(3, 1, 0);
	fin_kmeans km;
	(void)state;

	for (i = 0; i < BIG; i++) {
		x[2 * i] = (float)(i % 40) / 40;
		x[2 * i + 1] = (float)(i / 40) / 25;
	}
	for (i = 0; i < SMALL; i++) {
		x[2 * (BIG + i)] = 100 + (float)i / 10;
		x[2 * (BIG + i) + 1] = 0.5f;
		x[2 * (BIG + SMALL + i)] = 0.5f;
		x[2 * (BIG + SMALL + i) + 1] = 100 + (float)i / 10;
	}
	for (b = 0; b < 3; b++)
		for (j = 0; j < 2; j++) {
			double mean = 0;
			for (i = from[b]; i < from[b + 1]; i++)
				mean += x[2 * i + j];
			mean /= (double)(from[b + 1] - from[b]);
			for (i = from[b]; i < from[b + 1]; i++)
				blobs_inertia += (x[2 * i + j] - mean) * (x[2 * i + j] - mean);
		}
	o.max_iter = 1;
	for (seed = 1; seed <= SEEDS; seed++) {
		o.seed = seed;
		fit(&km, x, N, 2, &o, NULL);
		/* float32 centroids off the means by an ulp add 1e-9 of this; a
		 * missed blob's 10 rows share their centroid with one row or more
		 * 99 away, so sit 99 / 11 = 9 or more from it, adding 810. */
		found += km.inertia <= blobs_inertia * (1 + 1e-6);
		fin_kmeans_free(&km);
	}
	if (found < 15) {
		print_error("%zu of %d seeds found the blobs\n", found, SEEDS);
		fail();
	}
}

static void test_assign(void **state)
{
	static const double near[BLOBS][2] = { { 4000, 4000 }, { 4000.2, 4000 }, { 4000, 4000.2 } };
	float *x = blobs(far_apart, PER_BLOB, 1, 11), p[400 * 2];
	fin_kmeans_opts o = opts(BLOBS, 2, 5);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_kmeans km;
	size_t i;
	(void)state;

	gsl_rng_set(rng, 12);
	fit(&km, x, BLOB_N, 2, &o, NULL);
	/* points anywhere around the blobs, and between them */
	for (i = 0; i < 400 * 2; i++)
		p[i] = (float)(-20 + 80 * gsl_rng_uniform(rng));
	expect_nearest(&km, p, 400);
	/* a centroid itself: distance 0 */
	expect_nearest(&km, km.centroids, BLOBS);
	fin_kmeans_free(&km);
	free(x);

	x = blobs(near, PER_BLOB, 0.01, 13);
	fit(&km, x, BLOB_N, 2, &o, NULL);
	for (i = 0; i < 400 * 2; i++)
		p[i] = (float)(3999.9 + 0.4 * gsl_rng_uniform(rng));
	expect_nearest(&km, p, 400);
	fin_kmeans_free(&km);
	free(x);
	gsl_rng_free(rng);
}

/* More centroids than one fin_gemm group (64) and more features than one
 * chunk of the shifted copies (64 with blocks of 64 rows): the search
 * splits both. */
static void test_assign_large(void **state)
{
	enum { K = 150, D = 100, N = 1000 };
	float *x = malloc(N * D * sizeof *x);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_kmeans_opts o = opts(K, 1, 6);
	fin_kmeans km;
	size_t i;
	(void)state;

	gsl_rng_set(rng, 14);
	for (i = 0; i < N * D; i++)
		x[i] = (float)gsl_ran_gaussian(rng, 1);
	o.max_iter = 5;
	fit(&km, x, N, D, &o, NULL);
	expect_nearest(&km, x, N);
	fin_kmeans_free(&km);
	gsl_rng_free(rng);
	free(x);
}

/* ---- known answers ---- */

/* k = 1: the centroid is the mean and the inertia the total sum of
 * squares; k = n distinct rows: every row its own cluster, inertia 0. */
static void test_extremes(void **state)
{
	static const float x[] = { 1, 2, 3, 5, 8, 13 };
	fin_kmeans_opts o = opts(1, 1, 1);
	int assign[3];
	fin_kmeans km;
	(void)state;

	fit(&km, x, 3, 2, &o, assign);
	assert_close(km.centroids[0], 4, 0, 1e-6);
	assert_close(km.centroids[1], 20.0 / 3, 1e-7, 0);
	/* (1-4)^2 + (3-4)^2 + (8-4)^2 = 26; (2-20/3)^2 + (5-20/3)^2 +
	 * (13-20/3)^2 = (196 + 25 + 361) / 9 = 582 / 9 */
	assert_close(km.inertia, 26 + 582.0 / 9, 1e-6, 0);
	assert_int_equal(km.sizes[0], 3);
	fin_kmeans_free(&km);

	o.k = 3;
	fit(&km, x, 3, 2, &o, assign);
	assert_int_not_equal(assign[0], assign[1]);
	assert_int_not_equal(assign[0], assign[2]);
	assert_int_not_equal(assign[1], assign[2]);
	/* A row comes back from the centred copy within an ulp or so. */
	assert_close(km.centroids[2 * assign[1]], 3, 1e-6, 0);
	assert_close(km.centroids[2 * assign[1] + 1], 5, 1e-6, 0);
	assert_close(km.inertia, 0, 0, 1e-10);
	fin_kmeans_free(&km);
}

/* Empty clusters, from starting centroids chosen to leave them empty.
 *
 * {0, 3, 10, 11, 12, 16} from {1, 100, 200, 11}: the first assignment
 * gives {0, 3} to 1 and {10, 11, 12, 16} to 11, leaving 100 and 200
 * empty. Cluster 1 (at 100) takes the row farthest from its centroid,
 * 16 (5 from 11); cluster 2 then the farthest left, 3 (2 from 1). The
 * means are then {0}, {16}, {3}, {10, 11, 12}, and the next assignment
 * changes nothing: centroids {0, 16, 3, 11}, inertia 1 + 0 + 1 = 2. */
static void test_empty_clusters(void **state)
{
	static const float x[] = { 0, 3, 10, 11, 12, 16 };
	static const float init[] = { 1, 100, 200, 11 };
	static const float want[] = { 0, 16, 3, 11 };
	static const int labels[] = { 0, 2, 3, 3, 3, 1 };
	static const size_t sizes[] = { 1, 1, 1, 3 };
	fin_kmeans_opts o = opts(4, 1, 1);
	int assign[6];
	fin_kmeans km;
	size_t c;
	(void)state;

	o.init = init;
	fit(&km, x, 6, 1, &o, assign);
	for (c = 0; c < 4; c++)
		assert_close(km.centroids[c], want[c], 0, 1e-6);
	assert_memory_equal(assign, labels, sizeof labels);
	assert_memory_equal(km.sizes, sizes, sizeof sizes);
	/* float32 centroids within an ulp: 1e-6 of the inertia */
	assert_close(km.inertia, 2, 1e-6, 0);
	fin_kmeans_free(&km);
}

/* {0, 10, 11, 12.5} from {5, 100, 11}: 0 alone goes to 5, the rest to 11,
 * and 100 is empty. The row farthest from its centroid is 0 (5 away),
 * but it is the last row of its cluster: taking it would only empty
 * another. The farthest of the rest is 12.5 (1.5 from 11), so the
 * centroids become {0, 12.5, 10.5}, a fixed point: inertia 0.25 + 0.25. */
static void test_last_row_kept(void **state)
{
	static const float x[] = { 0, 10, 11, 12.5f };
	static const float init[] = { 5, 100, 11 };
	static const int labels[] = { 0, 2, 2, 1 };
	fin_kmeans_opts o = opts(3, 1, 1);
	int assign[4];
	fin_kmeans km;
	(void)state;

	o.init = init;
	fit(&km, x, 4, 1, &o, assign);
	assert_close(km.centroids[0], 0, 0, 1e-6);
	assert_close(km.centroids[1], 12.5, 0, 1e-6);
	assert_close(km.centroids[2], 10.5, 0, 1e-6);
	assert_memory_equal(assign, labels, sizeof labels);
	assert_close(km.inertia, 0.5, 1e-6, 0);
	fin_kmeans_free(&km);
}

/* Checks a fit on rows with duplicates: finite centroids, labels that are
 * each row's nearest centroid, sizes that count them, the inertia their
 * sum of squared distances, and no cluster empty when there are at least
 * k distinct rows. */
static void expect_sound(const fin_kmeans *km, const float *x, size_t n, const int *assign,
			 size_t distinct)
{
	size_t i, c, j, d = km->d, *count = calloc(km->k, sizeof *count);
	double inertia = 0;

	for (i = 0; i < km->k * d; i++)
		assert_true(isfinite(km->centroids[i]));
	for (i = 0; i < n; i++) {
		double own = 0;
		assert_true(assign[i] >= 0 && (size_t)assign[i] < km->k);
		count[assign[i]]++;
		for (j = 0; j < d; j++)
			own += pow((double)x[i * d + j] - km->centroids[assign[i] * d + j], 2);
		inertia += own;
		for (c = 0; c < km->k; c++) {
			double s = 0;
			for (j = 0; j < d; j++)
				s += pow((double)x[i * d + j] - km->centroids[c * d + j], 2);
			assert_true(own <= s + 1e-9);
		}
	}
	assert_memory_equal(count, km->sizes, km->k * sizeof *count);
	assert_close(km->inertia, inertia, 1e-12, 1e-12);
	if (distinct >= km->k)
		for (c = 0; c < km->k; c++)
			assert_true(count[c] > 0);
	free(count);
}

/* Duplicate rows. With fewer distinct rows than k (ten copies each of
 * two points, k = 3), k-means++ runs out of rows away from its centres
 * and has to start a cluster on a copy; the clusters cannot all be kept
 * filled, and the fit stops at once rather than at max_iter, with finite
 * centroids. With exactly k distinct rows (one more point), every cluster
 * holds one point. Then many small sets on a 3 x 3 grid, so with many
 * copies, for every k up to their distinct rows. */
static void test_duplicates(void **state)
{
	float x[21 * 2], g[12 * 2];
	int assign[21];
	fin_kmeans_opts o = opts(3, 1, 1);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_kmeans km;
	unsigned long seed;
	size_t i, k;
	(void)state;

	for (i = 0; i < 20; i++) {
		x[2 * i] = i < 10 ? 1 : 5;
		x[2 * i + 1] = i < 10 ? 1 : 5;
	}
	x[40] = 9;
	x[41] = 1;
	for (seed = 1; seed <= 20; seed++) {
		o.seed = seed;
		fit(&km, x, 20, 2, &o, assign);
		expect_sound(&km, x, 20, assign, 2);
		assert_close(km.inertia, 0, 0, 1e-10);
		assert_true(km.iterations < 10);
		fin_kmeans_free(&km);
		fit(&km, x, 21, 2, &o, assign);
		expect_sound(&km, x, 21, assign, 3);
		assert_close(km.inertia, 0, 0, 1e-10);
		fin_kmeans_free(&km);
	}
	gsl_rng_set(rng, 15);
	for (seed = 1; seed <= 100; seed++) {
		int seen[9] = { 0 };
		size_t distinct = 0;
		for (i = 0; i < 12; i++) {
			size_t cell = gsl_rng_uniform_int(rng, 9);
			g[2 * i] = (float)(cell % 3);
			g[2 * i + 1] = (float)(cell / 3);
			distinct += !seen[cell]++;
		}
		for (k = 1; k <= distinct; k++) {
			o = opts(k, 1 + seed % 3, seed);
			fit(&km, g, 12, 2, &o, assign);
			expect_sound(&km, g, 12, assign, distinct);
			fin_kmeans_free(&km);
		}
	}
	gsl_rng_free(rng);
}

/* ---- silhouette ---- */

/* {0, 1} and {10, 11} on a line. Row 0: a = 1, b = (10 + 11) / 2 = 10.5,
 * s = 9.5 / 10.5 = 19/21; row 1: a = 1, b = (9 + 10) / 2 = 9.5, s = 8.5 /
 * 9.5 = 17/19; rows 2 and 3 mirror them. Mean (19/21 + 17/19) / 2.
 * {0, 1} and {10}: row 0: a = 1, b = 10, s = 9/10; row 1: a = 1, b = 9,
 * s = 8/9; row 2 is alone: 0. Mean (9/10 + 8/9) / 3. */
static void test_silhouette_by_hand(void **state)
{
	static const float x[] = { 0, 1, 10, 11 };
	static const int two[] = { 0, 0, 1, 1 }, one[] = { 1, 1, 1, 1 }, bad[] = { 0, 0, 1, 2 };
	static const int lone[] = { 1, 1, 0 };
	(void)state;

	assert_close(fin_silhouette(x, 4, 1, two, 2, 100, 1), (19.0 / 21 + 17.0 / 19) / 2,
		     1e-15, 0);
	/* labels need not be in order, and k may exceed the clusters used */
	assert_close(fin_silhouette(x, 4, 1, (const int[]){ 3, 3, 0, 0 }, 5, 4, 1),
		     (19.0 / 21 + 17.0 / 19) / 2, 1e-15, 0);
	assert_close(fin_silhouette(x, 3, 1, lone, 2, 100, 1), (9.0 / 10 + 8.0 / 9) / 3, 1e-15,
		     0);
	assert_true(isnan(fin_silhouette(x, 4, 1, two, 1, 100, 1)));
	assert_true(isnan(fin_silhouette(x, 4, 1, one, 2, 100, 1)));
	assert_true(isnan(fin_silhouette(x, 4, 1, bad, 2, 100, 1)));
	assert_true(isnan(fin_silhouette(x, 4, 1, two, 2, 1, 1)));
}

/* The silhouette from its definition, in double, over all rows. */
static double silhouette_brute(const float *x, size_t n, size_t d, const int *assign, size_t k)
{
	double *sum = malloc(k * sizeof *sum), total = 0;
	size_t *count = calloc(k, sizeof *count), i, j, f, c;

	for (i = 0; i < n; i++)
		count[assign[i]]++;
	for (i = 0; i < n; i++) {
		double a, b = INFINITY;
		for (c = 0; c < k; c++)
			sum[c] = 0;
		for (j = 0; j < n; j++) {
			double s = 0;
			for (f = 0; f < d; f++)
				s += pow((double)x[i * d + f] - x[j * d + f], 2);
			sum[assign[j]] += sqrt(s);
		}
		if (count[assign[i]] == 1)
			continue;
		a = sum[assign[i]] / (double)(count[assign[i]] - 1);
		for (c = 0; c < k; c++)
			if (c != (size_t)assign[i] && count[c] && sum[c] / (double)count[c] < b)
				b = sum[c] / (double)count[c];
		total += (b - a) / (a > b ? a : b);
	}
	free(sum);
	free(count);
	return total / (double)n;
}

/* Overlapping blobs (6 apart, spread 1.5), so that rows differ and a
 * sample has something to miss: 1000 rows each, labelled by k-means. */
static void test_silhouette_sampled(void **state)
{
	static const double close_by[BLOBS][2] = { { 0, 0 }, { 6, 0 }, { 0, 6 } };
	enum { PER = 1000, N = BLOBS * PER };
	float *x = blobs(close_by, PER, 1.5, 16);
	int *assign = malloc(N * sizeof *assign);
	fin_kmeans_opts o = opts(BLOBS, 2, 17);
	double full, brute, s1, s2, s3;
	fin_kmeans km;
	(void)state;

	fit(&km, x, N, 2, &o, assign);
	fin_kmeans_free(&km);
	full = fin_silhouette(x, N, 2, assign, BLOBS, N, 1);
	brute = silhouette_brute(x, N, 2, assign, BLOBS);
	/* float32 distances: a few 1e-7 each, averaged */
	assert_close(full, brute, 1e-6, 0);
	assert_true(full > 0.3 && full < 0.8);
	/* a sample as large as the data is all of it, whatever the seed */
	assert_true(fin_silhouette(x, N, 2, assign, BLOBS, N + 1, 99) == full);
	s1 = fin_silhouette(x, N, 2, assign, BLOBS, 300, 5);
	s2 = fin_silhouette(x, N, 2, assign, BLOBS, 300, 5);
	s3 = fin_silhouette(x, N, 2, assign, BLOBS, 300, 6);
	assert_memory_equal(&s1, &s2, sizeof s1);
	assert_true(s1 != s3);
	/* Row silhouettes here spread by about 0.2: a 300-row mean is off by
	 * about 0.012; 0.05 is four of those. */
	assert_close(s1, full, 0, 0.05);
	assert_close(s3, full, 0, 0.05);
	free(assign);
	free(x);
}

/* ---- refusals ---- */

static void expect_refused(const float *x, size_t n, size_t d, const fin_kmeans_opts *o, int code,
			   const char *part)
{
	fin_err err = { 0 };
	fin_kmeans km;

	assert_int_equal(fin_kmeans_fit(&km, x, n, d, o, NULL, &err), code);
	assert_int_equal(err.code, code);
	/* An empty text is in every message: it would check nothing. */
	assert_true(part[0] != '\0');
	if (!strstr(err.msg, part)) {
		print_error("message '%s' lacks '%s'\n", err.msg, part);
		fail();
	}
	assert_null(km.centroids);
	assert_null(km.sizes);
	fin_kmeans_free(&km);
}

static void test_refused(void **state)
{
	static const float x[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	float bad[10];
	fin_kmeans_opts o = opts(7, 1, 1);
	(void)state;

	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "k = 7 is more than the 5 rows");
	o.k = 0;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "k must be at least 1");
	expect_refused(x, 0, 2, &o, FIN_ENOROWS, "no rows");
	o.k = 2;
	expect_refused(x, 0, 2, &o, FIN_ENOROWS, "no rows");
	expect_refused(x, 5, 0, &o, FIN_EUSAGE, "features");
	o.restarts = 0;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "restarts");
	o.restarts = 1;
	o.max_iter = 0;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "iteration limit");
	o.max_iter = 10;
	o.tol = -1;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "tolerance");
	o.tol = NAN;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "tolerance");
	o.tol = 1e-4;
	o.init = x;
	o.restarts = 2;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "restarts must be 1");
	o.restarts = 1;
	memcpy(bad, x, sizeof bad);
	bad[3] = INFINITY;
	o.init = bad;
	expect_refused(x, 5, 2, &o, FIN_EUSAGE, "starting centroid 2, feature 2");
	o.init = NULL;

	expect_refused(bad, 5, 2, &o, FIN_EDATA, "row 2, feature 2: not a finite number");
	bad[3] = 3;
	bad[8] = NAN;
	expect_refused(bad, 5, 2, &o, FIN_EDATA, "row 5, feature 1: not a finite number");
	bad[8] = -INFINITY;
	expect_refused(bad, 5, 2, &o, FIN_EDATA, "row 5, feature 1");
	/* finite, but its squared distances overflow float32 */
	bad[8] = 3e38f;
	expect_refused(bad, 5, 2, &o, FIN_EDATA, "row 5: too far");
}


/* ---- cluster files ---- */

/* Two clusters of two standardised features, as fin-cluster writes them. */
static const char cluster_file[] =
	"{\"format\":\"fin-cluster\",\"schema_version\":1,\"tool_version\":\"0.1.0\","
	"\"features\":[\"a\",\"b\"],\"keys\":[\"id\"],\"k\":2,\"dim\":2,\"scaled\":true,"
	"\"mean\":[1.5,-2],\"sd\":[0.5,3],\"centroids\":[-1,-1,1,1],"
	"\"centroids_raw\":[1,-5,2,1],\"sizes\":[3,4],\"inertia\":1.25,\"silhouette\":0.75,"
	"\"fit\":{\"seed\":1,\"restarts\":10,\"max_iter\":300,\"tol\":0.0001,\"iterations\":3}}";

/* Loads text as a cluster file: FIN_OK, or the message in err. */
static int load_cluster_text(const char *text, fin_err *err)
{
	char path[] = "/tmp/fin-cluster-XXXXXX";
	int fd = mkstemp(path), rc;
	size_t len = strlen(text);
	fin_clusterer c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	rc = fin_clusterer_load(&c, path, err);
	if (rc == FIN_OK)
		fin_clusterer_free(&c);
	unlink(path);
	return rc;
}

/* The cluster file with one substitution made. */
static char *cluster_with(const char *from, const char *to)
{
	const char *at = strstr(cluster_file, from);
	char *out = malloc(sizeof cluster_file + strlen(to));

	assert_non_null(at);
	memcpy(out, cluster_file, (size_t)(at - cluster_file));
	strcpy(out + (at - cluster_file), to);
	strcat(out, at + strlen(from));
	return out;
}

/* The cluster file with one substitution made is refused, saying why. */
static void cluster_refused(const char *from, const char *to, const char *why)
{
	char *text = cluster_with(from, to);
	fin_err err = { 0 };

	assert_int_equal(load_cluster_text(text, &err), FIN_EMODEL);
	/* An empty text is in every message: it would check nothing. */
	assert_true(why[0] != '\0');
	if (!strstr(err.msg, why)) {
		print_error("message '%s' lacks '%s'\n", err.msg, why);
		fail();
	}
	free(text);
}

static void cluster_loaded(const char *from, const char *to)
{
	char *text = cluster_with(from, to);
	fin_err err = { 0 };

	if (load_cluster_text(text, &err) != FIN_OK) {
		print_error("refused: %s\n", err.msg);
		fail();
	}
	free(text);
}

static void test_cluster_file_refused(void **state)
{
	(void)state;

	cluster_loaded("\"k\"", "\"k\"");
	/* standardisation within the bounds of a model's scaler */
	cluster_refused("\"mean\":[1.5", "\"mean\":[1e308", "mean");
	cluster_refused("\"sd\":[0.5", "\"sd\":[1e-308", "sd");
	cluster_refused("\"sd\":[0.5", "\"sd\":[2e30", "sd");
	cluster_loaded("\"sd\":[0.5", "\"sd\":[1e-30");
	/* names once each, keys once per object */
	cluster_refused("[\"a\",\"b\"]", "[\"a\",\"a\"]", "features hold 'a' twice");
	cluster_refused("\"k\":2,", "\"k\":2,\"k\":2,", "'k' twice");
	/* numbers that do not fit */
	cluster_refused("\"sizes\":[3,4]", "\"sizes\":[3,1e300]", "sizes");
	cluster_refused("\"sizes\":[3,4]", "\"sizes\":[3,-4]", "sizes");
	cluster_refused("\"sizes\":[3,4]", "\"sizes\":[3,4,5]", "sizes");
	cluster_refused("\"k\":2", "\"k\":4611686018427387904", "k");
	cluster_refused("\"dim\":2", "\"dim\":2147483648", "dim");
	cluster_refused("[-1,-1,1,1]", "[-1,-1,1,1e39]", "centroids");
	cluster_refused("[-1,-1,1,1]", "[-1,-1,1]", "centroids");
	cluster_refused("\"inertia\":1.25", "\"inertia\":\"x\"", "inertia");
	cluster_refused("\"silhouette\":0.75", "\"silhouette\":7", "silhouette");
	cluster_loaded("\"silhouette\":0.75", "\"silhouette\":null");
}

/* k = 2^16 clusters of 2^16 features, and no centroids: refused for what
 * it lacks, before 16 GiB of centroids are allocated. */
static int load_huge_k(void)
{
	enum { N = 1 << 16 };
	char *text = malloc((size_t)N * 12 + 256), *at;
	fin_err err = { 0 };
	size_t j;
	int rc;

	at = text + sprintf(text, "{\"format\":\"fin-cluster\",\"schema_version\":1,"
				  "\"features\":[");
	for (j = 0; j < N; j++)
		at += sprintf(at, "%s\"f%zu\"", j ? "," : "", j);
	sprintf(at, "],\"keys\":[],\"k\":%d,\"dim\":%d,\"scaled\":false,\"centroids\":[],"
		    "\"centroids_raw\":[],\"sizes\":[]}", N, N);
	rc = load_cluster_text(text, &err);
	free(text);
	if (rc != FIN_EMODEL || !strstr(err.msg, "centroids holds 0 values")) {
		fprintf(stderr, "%d: %s\n", rc, err.msg);
		return 1;
	}
	return 0;
}

static void test_cluster_file_sizes(void **state)
{
	(void)state;
	assert_int_equal(in_bounded_memory(load_huge_k), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blobs),
		cmocka_unit_test(test_far_from_origin),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_plusplus_seeding),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_assign_large),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_empty_clusters),
		cmocka_unit_test(test_last_row_kept),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_silhouette_by_hand),
		cmocka_unit_test(test_silhouette_sampled),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cluster_file_refused),
		cmocka_unit_test(test_cluster_file_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
