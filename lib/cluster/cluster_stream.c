#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_stream.h"
#include "features/moments.h"
#include "par/dist.h"

/* Under mpirun (o->km.ranks), every rank's status before they work
 * together again: the first failed rank's, with its message alone. */
static int agree(const fin_cluster_fit_opts *o, int rc, fin_err *err)
{
	return o->km.ranks ? fin_dist_agree_msg(rc, err ? err->msg : NULL) : rc;
}

/* The k of o, each fitted on n rows of space, the silhouette of each
 * (nk > 1 or a report) on the rows; the fits are kept in trial[nk], the
 * best (highest silhouette, the first of equals) in *best. assign [n]
 * is scratch. */
static int fit_each_k(fin_clusterer *c, const float *space, size_t n,
		      const fin_cluster_fit_opts *o, fin_kmeans *trial, fin_k_result *res,
		      size_t *best, int *assign, fin_err *err)
{
	size_t nk = o->k_hi - o->k_lo + 1, i;
	int rc;

	*best = 0;
	for (i = 0; i < nk; i++) {
		fin_kmeans_opts ko = o->km;
		ko.k = o->k_lo + i;
		if ((rc = fin_kmeans_fit(&trial[i], space, n, c->dim, &ko, assign, err)) != FIN_OK)
			return rc;
		res[i].k = ko.k;
		res[i].inertia = trial[i].inertia;
		/* On a seeded sample for large inputs: the full silhouette is
		 * quadratic in the rows. */
		res[i].silhouette = !(nk > 1 || o->report) ? NAN
				    : o->km.ranks ? fin_silhouette_ranks(space, n, c->dim, assign, ko.k,
									 o->silhouette, o->km.seed)
						  : fin_silhouette(space, n, c->dim, assign, ko.k,
								   o->silhouette, o->km.seed);
		if (i > 0 && res[i].silhouette > res[*best].silhouette)
			*best = i;
	}
	c->opts = o->km;
	c->opts.k = res[*best].k;
	c->silhouette = res[*best].silhouette;
	return FIN_OK;
}

/* Reads every row of p into x [p->expected][nfeat] and sets up the space
 * of them, *space (fin_clusterer_prepare). */
static int read_held(fin_clusterer *c, fin_feature_pass *p, int scale, float *x, float **space,
		     fin_err *err)
{
	size_t at = 0;
	int rc, got;

	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		return rc;
	while ((got = fin_feature_pass_next(p, err)) > 0) {
		memcpy(x + at * c->nfeat, p->x, p->n * c->nfeat * sizeof *x);
		at += p->n;
	}
	if (got < 0)
		return -got;
	return fin_clusterer_prepare(c, x, p->expected, scale, space, err);
}

/* Every row fits in memory: the fit of the rows held. */
static int fit_held(fin_clusterer *c, fin_feature_pass *p, const fin_cluster_fit_opts *o,
		    fin_kmeans *trial, fin_k_result *res, size_t *best, fin_err *err)
{
	size_t n = p->expected;
	float *x = malloc(n * c->nfeat * sizeof *x), *space = NULL;
	int *assign = malloc(n * sizeof *assign), rc;

	rc = !x || !assign ? fin_fail(err, FIN_EDATA, "out of memory")
			   : read_held(c, p, o->scale, x, &space, err);
	/* Under mpirun the ranks fit together from here: all or none. */
	if ((rc = agree(o, rc, err)) != FIN_OK ||
	    (rc = fit_each_k(c, space, n, o, trial, res, best, assign, err)) != FIN_OK)
		goto done;
	c->km = trial[*best];
	memset(&trial[*best], 0, sizeof trial[*best]);
	fin_kmeans_assign(&c->km, space, n, assign, NULL);
	rc = fin_clusterer_describe(c, x, n, assign, err);
done:
	free(x);
	free(space);
	free(assign);
	return rc;
}

/* One pass: a uniform sample of m of the n rows into sample [m][nfeat],
 * and the moments of the unscaled space. */
static int sample_and_moments(fin_clusterer *c, fin_feature_pass *p, size_t m, unsigned long seed,
			      float *sample, fin_moments *mo, fin_err *err)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	float *space = malloc(p->cap * c->dim * sizeof *space);
	size_t n = p->expected, seen = 0, taken = 0, i;
	int rc, got;

	if (!rng || !space || fin_moments_init(mo, c->dim, p->cap) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	gsl_rng_set(rng, seed);
	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		goto done;
	while ((got = fin_feature_pass_next(p, err)) > 0) {
		/* Knuth's algorithm S: row i is taken with probability
		 * (m - taken) / (n - i), which gives every subset of m rows the
		 * same chance, in one pass and in row order. */
		for (i = 0; i < p->n; i++, seen++)
			if ((double)(n - seen) * gsl_rng_uniform(rng) < (double)(m - taken))
				memcpy(sample + taken++ * c->nfeat, p->x + i * c->nfeat,
				       c->nfeat * sizeof *sample);
		if ((rc = fin_clusterer_map(c, p->x, p->n, space, err)) != FIN_OK)
			goto done;
		fin_moments_add(mo, space, p->n);
	}
	if (got < 0)
		rc = -got;
	else if (taken != m)
		rc = fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
			      fin_input_name(p->in));
done:
	if (rng)
		gsl_rng_free(rng);
	free(space);
	return rc;
}

/* Lloyd's iterations over every row, a pass each, from the centroids of
 * start, into c->km; the first pass also sums the squared distances of
 * every row to the centroids of each trial into res. Under mpirun each
 * rank works on its part of the rows, whole batches as one process reads
 * them (so that each row's distances are one process's), and stops
 * reading at the end of its part, the last rank reading on to the end of
 * the input to check it; with --shard its part is the rows of its own
 * files, which it reads alone (fin_feature_pass_part). The clusters' sums and counts and the
 * inertias are summed over the ranks, so that every rank moves the
 * centroids alike and stops at the same pass. */
static int lloyd_passes(fin_clusterer *c, fin_feature_pass *p, const fin_cluster_fit_opts *o,
			double tol, const fin_kmeans *start, fin_kmeans *trial, fin_k_result *res,
			fin_err *err)
{
	size_t nk = o->k_hi - o->k_lo + 1, k = start->k, d = c->dim;
	size_t len = k * d + k + nk, i, j, t, it, lo, hi;
	/* Without a job, every row. */
	fin_pass_part part = fin_feature_pass_part(p, fin_dist_rank(), p->cap);
	float *space = malloc(p->cap * d * sizeof *space);
	int *cluster = malloc(p->cap * sizeof *cluster);
	/* sum: [k][d] the sums of each cluster's rows, then [k] their counts
	 * and [nk] each trial's inertia */
	double *dist = malloc(p->cap * sizeof *dist), *sum = malloc(len * sizeof *sum);
	double *count = sum + k * d, *inertia = count + k;
	int rc = FIN_OK, got;

	c->km.k = k;
	c->km.d = d;
	c->km.centroids = malloc(k * d * sizeof *c->km.centroids);
	c->km.sizes = calloc(k, sizeof *c->km.sizes);
	if (!space || !cluster || !dist || !sum || !c->km.centroids || !c->km.sizes)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = agree(o, rc, err)) != FIN_OK)
		goto done;
	memcpy(c->km.centroids, start->centroids, k * d * sizeof *c->km.centroids);
	for (it = 0; it < o->km.max_iter; it++) {
		double shift = 0;
		memset(sum, 0, len * sizeof *sum);
		got = 0;
		if (part.from < part.to && (rc = fin_feature_pass_start_part(p, &part, err)) == FIN_OK)
			while ((got = fin_feature_pass_next(p, err)) > 0) {
				size_t m;
				fin_feature_pass_part_rows(p, &part, &lo, &hi);
				if ((m = hi - lo) == 0)
					continue;
				if ((rc = fin_clusterer_map(c, p->x + lo * p->width, m, space, err)) !=
				    FIN_OK)
					break;
				fin_kmeans_assign(&c->km, space, m, cluster, dist);
				for (i = 0; i < m; i++) {
					count[cluster[i]]++;
					for (j = 0; j < d; j++)
						sum[(size_t)cluster[i] * d + j] += space[i * d + j];
				}
				for (t = 0; it == 0 && t < nk; t++) {
					fin_kmeans_assign(&trial[t], space, m, NULL, dist);
					for (i = 0; i < m; i++)
						inertia[t] += dist[i] * dist[i];
				}
			}
		if (rc == FIN_OK && got < 0)
			rc = -got;
		if ((rc = agree(o, rc, err)) != FIN_OK)
			goto done;
		if (o->km.ranks)
			fin_dist_sum_doubles(sum, it == 0 ? len : k * d + k);
		for (t = 0; it == 0 && t < nk; t++)
			res[t].inertia = inertia[t];
		/* The means of the clusters; an empty one keeps its centroid. */
		for (i = 0; i < k; i++)
			for (j = 0; count[i] > 0 && j < d; j++) {
				float v = (float)(sum[i * d + j] / count[i]);
				double e = (double)v - c->km.centroids[i * d + j];
				shift += e * e;
				c->km.centroids[i * d + j] = v;
			}
		c->km.iterations = it + 1;
		if (shift <= tol)
			break;
	}
done:
	free(space);
	free(cluster);
	free(dist);
	free(sum);
	return rc;
}

/* The sample of m = o->hold rows of p into sample [m][nfeat], the
 * standardisation of every row (mean, and sample sd; a constant dimension
 * keeps a scale of 1), and the sample in that space, *space. *tol: o's
 * tolerance times the mean variance of the space. */
static int sample_space(fin_clusterer *c, fin_feature_pass *p, const fin_cluster_fit_opts *o,
			float *sample, float **space, double *tol, fin_err *err)
{
	size_t m = o->hold, n = p->expected, j;
	fin_moments mo = { 0 };
	int rc;

	if ((rc = fin_clusterer_space(c, err)) != FIN_OK ||
	    (rc = sample_and_moments(c, p, m, o->km.seed, sample, &mo, err)) != FIN_OK)
		goto done;
	if (o->scale)
		fin_moments_mean(&mo, c->mean);
	*tol = 0;
	for (j = 0; j < c->dim; j++) {
		double var = mo.c[j * c->dim + j] / (double)n, sd = 1;
		if (o->scale) {
			sd = sqrt(mo.c[j * c->dim + j] / (double)(n - 1));
			c->sd[j] = sd = sd > 0 ? sd : 1;
		}
		/* the mean variance of the space, the scale of tol */
		*tol += var / (sd * sd);
	}
	*tol = o->km.tol * *tol / (double)c->dim;
	c->scaled = o->scale;
	if (!(*space = malloc(m * c->dim * sizeof **space)))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	else
		rc = fin_clusterer_map(c, sample, m, *space, err);
done:
	fin_moments_free(&mo);
	return rc;
}

static int fit_sampled(fin_clusterer *c, fin_feature_pass *p, const fin_cluster_fit_opts *o,
		       fin_kmeans *trial, fin_k_result *res, size_t *best, fin_err *err)
{
	size_t m = o->hold;
	float *sample = malloc(m * c->nfeat * sizeof *sample), *space = NULL;
	int *assign = malloc(m * sizeof *assign), rc;
	double tol = 0;

	rc = !sample || !assign ? fin_fail(err, FIN_EDATA, "out of memory")
				: sample_space(c, p, o, sample, &space, &tol, err);
	/* Under mpirun the ranks fit together from here: all or none. The
	 * best k's centroids start the iterations over every row. */
	if ((rc = agree(o, rc, err)) == FIN_OK &&
	    (rc = fit_each_k(c, space, m, o, trial, res, best, assign, err)) == FIN_OK)
		rc = lloyd_passes(c, p, o, tol, &trial[*best], trial, res, err);
	free(sample);
	free(space);
	free(assign);
	return rc;
}

int fin_clusterer_fit_passes(fin_clusterer *c, fin_feature_pass *p,
			     const fin_cluster_fit_opts *o, fin_k_result *res, size_t *best,
			     int *described, fin_err *err)
{
	size_t nk = o->k_hi - o->k_lo + 1, i;
	fin_kmeans *trial = calloc(nk, sizeof *trial);
	int rc;

	*described = p->expected <= o->hold;
	if (!trial)
		return agree(o, fin_fail(err, FIN_EDATA, "out of memory"), err);
	rc = *described ? fit_held(c, p, o, trial, res, best, err)
			: fit_sampled(c, p, o, trial, res, best, err);
	for (i = 0; i < nk; i++)
		fin_kmeans_free(&trial[i]);
	free(trial);
	return rc;
}
