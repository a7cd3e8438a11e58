#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/order_stats.h"
#include "detect/detector.h"
#include "nn/gemm.h"

static const char *const method_names[] = { "zscore", "mahalanobis", "iforest", "autoencoder",
					     "gan" };

const char *fin_method_name(enum fin_method m)
{
	return method_names[m];
}

int fin_method_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof method_names / sizeof *method_names; i++)
		if (strcmp(s, method_names[i]) == 0)
			return (int)i;
	return -1;
}

/* 1 / Phi^-1(3/4): makes the median absolute deviation estimate the
 * standard deviation of normal data. */
#define MAD_TO_SD 1.482602218505602
/* sqrt(pi / 2): the same for the mean absolute deviation. */
#define MEANAD_TO_SD 1.2533141373155003

double fin_zscore_scale(double mad, double deviations, size_t n)
{
	return mad > 0 ? MAD_TO_SD * mad : deviations > 0 ? MEANAD_TO_SD * deviations / (double)n : 1;
}

/* Median and robust scale of every column. Where more than half the
 * values are equal (indicator columns) the MAD is 0: the mean absolute
 * deviation from the median takes its place, and a constant column keeps a
 * scale of 1. */
static int fit_zscore(fin_detector *d, const float *x, size_t n)
{
	double *col = malloc(n * sizeof *col);
	size_t i, j;

	if (!col)
		return -1;
	for (j = 0; j < d->nfeat; j++) {
		double med, mad, meanad = 0;
		for (i = 0; i < n; i++)
			col[i] = x[i * d->nfeat + j];
		gsl_sort(col, 1, n);
		med = gsl_stats_median_from_sorted_data(col, 1, n);
		for (i = 0; i < n; i++) {
			col[i] = fabs(col[i] - med);
			meanad += col[i];
		}
		gsl_sort(col, 1, n);
		mad = gsl_stats_median_from_sorted_data(col, 1, n);
		d->center[j] = med;
		d->scale[j] = fin_zscore_scale(mad, meanad, n);
	}
	free(col);
	return 0;
}

/* Ledoit and Wolf's (2004) shrinkage towards mu I for the covariance emp
 * [p][p] of n rows, as scikit-learn computes it; s4 is the sum over the
 * rows of |x - mean|^4. */
static double ledoit_wolf(const double *emp, size_t p, size_t n, double s4)
{
	double mu = 0, beta, delta = 0, sq = 0;
	size_t i, j;

	for (j = 0; j < p; j++)
		mu += emp[j * p + j];
	mu /= (double)p;
	for (i = 0; i < p; i++)
		for (j = 0; j < p; j++) {
			double e = emp[i * p + j] - (i == j ? mu : 0);
			delta += e * e;
			sq += emp[i * p + j] * emp[i * p + j];
		}
	delta /= (double)p;
	/* beta: the spread of the rows' outer products around emp */
	beta = (s4 / (double)n - sq) / ((double)p * (double)n);
	if (beta > delta)
		beta = delta;
	return delta > 0 ? beta / delta : 0;
}

/* A factorisation can succeed on a singular matrix, rounding leaving a
 * pivot of 1e-16: such a pivot, against the largest variance, marks the
 * matrix as singular too. */
static int well_conditioned(const double *cov, const gsl_matrix *l, size_t p)
{
	double largest = 0;
	size_t i;

	for (i = 0; i < p; i++)
		largest = cov[i * p + i] > largest ? cov[i * p + i] : largest;
	for (i = 0; i < p; i++) {
		double pivot = gsl_matrix_get(l, i, i);
		if (!(pivot * pivot > 1e-12 * largest))
			return 0;
	}
	return 1;
}

int fin_detector_whiten(fin_detector *d)
{
	size_t p = d->nfeat, i, j;
	gsl_matrix *l = gsl_matrix_alloc(p, p);
	int rc = -1;

	if (!l)
		return -1;
	for (i = 0; i < p; i++)
		for (j = 0; j < p; j++)
			gsl_matrix_set(l, i, j, d->cov[i * p + j]);
	gsl_set_error_handler_off();
	if (gsl_linalg_cholesky_decomp1(l) == GSL_SUCCESS && well_conditioned(d->cov, l, p) &&
	    gsl_linalg_tri_invert(CblasLower, CblasNonUnit, l) == GSL_SUCCESS &&
	    (d->whiten = malloc(p * p * sizeof *d->whiten))) {
		for (i = 0; i < p; i++)
			for (j = 0; j < p; j++)
				d->whiten[i * p + j] = j <= i ? (float)gsl_matrix_get(l, i, j) : 0;
		rc = 0;
	}
	gsl_matrix_free(l);
	return rc;
}

int fin_detector_set_covariance(fin_detector *d, const double *comoment, size_t n, double s4,
				double shrinkage)
{
	size_t p = d->nfeat, i, j;
	double mu = 0;

	free(d->cov);
	if (!(d->cov = malloc(p * p * sizeof *d->cov)))
		return -1;
	/* emp = comoment / n, the maximum-likelihood covariance LW shrinks */
	for (i = 0; i < p * p; i++)
		d->cov[i] = comoment[i] / (double)n;
	d->shrinkage = isnan(shrinkage) ? ledoit_wolf(d->cov, p, n, s4) : shrinkage;
	for (j = 0; j < p; j++)
		mu += d->cov[j * p + j];
	mu /= (double)p;
	for (i = 0; i < p; i++)
		for (j = 0; j < p; j++)
			d->cov[i * p + j] = (1 - d->shrinkage) * d->cov[i * p + j] +
					    (i == j ? d->shrinkage * mu : 0);
	return fin_detector_whiten(d);
}

static int fit_mahalanobis(fin_detector *d, const float *x, size_t n, double shrinkage)
{
	size_t p = d->nfeat, i, j;
	gsl_matrix *xc = gsl_matrix_alloc(n, p), *c = gsl_matrix_alloc(p, p);
	double s4 = 0;
	int rc = -1;

	if (!xc || !c)
		goto done;
	for (j = 0; j < p; j++) {
		double mean = 0;
		for (i = 0; i < n; i++)
			mean += x[i * p + j];
		d->center[j] = mean / (double)n;
		for (i = 0; i < n; i++)
			gsl_matrix_set(xc, i, j, x[i * p + j] - d->center[j]);
	}
	gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, xc, 0, c);
	for (i = 0; i < p; i++)
		for (j = i + 1; j < p; j++)
			gsl_matrix_set(c, i, j, gsl_matrix_get(c, j, i));
	for (i = 0; i < n; i++) {
		double r2 = 0;
		for (j = 0; j < p; j++)
			r2 += gsl_matrix_get(xc, i, j) * gsl_matrix_get(xc, i, j);
		s4 += r2 * r2;
	}
	rc = fin_detector_set_covariance(d, c->data, n, s4, shrinkage);
done:
	gsl_matrix_free(xc);
	gsl_matrix_free(c);
	return rc;
}

enum { CHUNK = 1024 };

/* Scratch for CHUNK rows: centred or scaled features, and their image. */
static int reserve_work(fin_detector *d)
{
	if (d->work)
		return 0;
	d->work = malloc(2 * CHUNK * d->nfeat * sizeof *d->work);
	if (!d->work)
		return -1;
	if (d->method == FIN_DET_AUTOENCODER)
		return fin_net_reserve(&d->ae.net, CHUNK);
	if (d->method == FIN_DET_GAN)
		return fin_net_reserve(&d->gan.gan.d, CHUNK);
	return 0;
}

/* 1 - sigmoid(logit) = sigmoid(-logit), with exp taken of a value at most 0
 * so that no logit overflows it. */
static double one_minus_sigmoid(double logit)
{
	double e = exp(-fabs(logit));

	return logit > 0 ? e / (1 + e) : 1 / (1 + e);
}

/* Scores up to CHUNK rows. */
static void score_chunk(fin_detector *d, const float *x, size_t n, double *score)
{
	size_t p = d->nfeat, i, j;
	float *a = d->work, *b = d->work + CHUNK * p;

	switch (d->method) {
	case FIN_DET_ZSCORE:
		for (i = 0; i < n; i++) {
			double worst = 0;
			for (j = 0; j < p; j++) {
				double z = fabs((x[i * p + j] - d->center[j]) / d->scale[j]);
				worst = z > worst ? z : worst;
			}
			score[i] = worst;
		}
		break;
	case FIN_DET_MAHALANOBIS:
		/* sqrt((x - m)^T cov^-1 (x - m)) = |L^-1 (x - m)|: one matrix
		 * product for the chunk */
		for (i = 0; i < n; i++)
			for (j = 0; j < p; j++)
				a[i * p + j] = (float)(x[i * p + j] - d->center[j]);
		fin_gemm(0, 1, n, p, p, 1, a, p, d->whiten, p, 0, b, p);
		for (i = 0; i < n; i++) {
			double sum = 0;
			for (j = 0; j < p; j++)
				sum += (double)b[i * p + j] * b[i * p + j];
			score[i] = sqrt(sum);
		}
		break;
	case FIN_DET_IFOREST:
		fin_iforest_score(&d->forest, x, n, score);
		break;
	case FIN_DET_AUTOENCODER:
		fin_model_scale(&d->ae, x, n, a);
		fin_model_recon_error(&d->ae, a, fin_net_forward(&d->ae.net, a, n, 0), n, score);
		break;
	case FIN_DET_GAN: {
		const float *logit;
		fin_model_scale(&d->gan, x, n, a);
		logit = fin_net_forward(&d->gan.gan.d, a, n, 0);
		for (i = 0; i < n; i++)
			score[i] = one_minus_sigmoid(logit[i]);
		break;
	}
	}
}

int fin_detector_score(fin_detector *d, const float *x, size_t n, double *score, fin_err *err)
{
	size_t at;

	if (reserve_work(d) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (at = 0; at < n; at += CHUNK)
		score_chunk(d, x + at * d->nfeat, n - at < CHUNK ? n - at : CHUNK, score + at);
	return FIN_OK;
}

int fin_detector_fit(fin_detector *d, const float *x, size_t n, const fin_detector_opts *o,
		     fin_err *err)
{
	double *scores;
	int rc = FIN_OK;

	d->method = o->method;
	d->rows_fit = n;
	if (n < 2)
		return fin_fail(err, FIN_ENOROWS, "a detector needs at least 2 rows to fit");
	d->center = calloc(d->nfeat, sizeof *d->center);
	d->scale = calloc(d->nfeat, sizeof *d->scale);
	if (!d->center || !d->scale)
		return fin_fail(err, FIN_EDATA, "out of memory");
	switch (o->method) {
	case FIN_DET_ZSCORE:
		if (fit_zscore(d, x, n) != 0)
			rc = fin_fail(err, FIN_EDATA, "out of memory");
		break;
	case FIN_DET_MAHALANOBIS:
		if (fit_mahalanobis(d, x, n, o->shrinkage) != 0)
			rc = fin_fail(err, FIN_EDATA,
				      "the covariance is singular: give --shrinkage above 0");
		break;
	case FIN_DET_IFOREST:
		d->trees = o->trees;
		d->sample = o->sample;
		d->seed = o->seed;
		rc = fin_iforest_fit(&d->forest, x, n, d->nfeat, o->trees, o->sample, o->seed, err);
		break;
	case FIN_DET_AUTOENCODER:
	case FIN_DET_GAN:
		break;
	}
	if (rc != FIN_OK)
		return rc;
	scores = malloc(n * sizeof *scores);
	d->fit_scores = malloc(n * sizeof *d->fit_scores);
	if (!scores || !d->fit_scores) {
		free(scores);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	if ((rc = fin_detector_score(d, x, n, d->fit_scores, err)) == FIN_OK) {
		size_t r = fin_quantile_rank(1 - o->contamination, n);
		memcpy(scores, d->fit_scores, n * sizeof *scores);
		gsl_sort(scores, 1, n);
		fin_detector_set_threshold(d, scores[r], scores[r + 1 < n ? r + 1 : r], n, o);
	}
	free(scores);
	return rc;
}

void fin_detector_set_threshold(fin_detector *d, double at_r, double next, size_t n,
				const fin_detector_opts *o)
{
	/* The (1 - contamination) quantile of the fitted rows' scores. */
	d->contamination = isnan(o->threshold) ? o->contamination : NAN;
	d->threshold = isnan(o->threshold)
			       ? fin_quantile_value(1 - o->contamination, n, at_r, next)
			       : o->threshold;
}

void fin_detector_free(fin_detector *d)
{
	size_t i;

	for (i = 0; d->feat && i < d->nfeat; i++)
		free(d->feat[i]);
	for (i = 0; d->keys && i < d->nkeys; i++)
		free(d->keys[i]);
	free(d->feat);
	free(d->keys);
	free(d->center);
	free(d->scale);
	free(d->cov);
	free(d->whiten);
	free(d->work);
	free(d->fit_scores);
	fin_iforest_free(&d->forest);
	fin_model_free(&d->ae);
	fin_model_free(&d->gan);
	fin_encoding_free(&d->enc);
	memset(d, 0, sizeof *d);
}
