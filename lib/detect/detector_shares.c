#include <math.h>
#include <stdlib.h>

#include "detect/detector_shares.h"

int fin_detector_has_shares(const fin_detector *d)
{
	return d->method == FIN_DET_ZSCORE || d->method == FIN_DET_MAHALANOBIS ||
	       d->method == FIN_DET_AUTOENCODER;
}

struct ranked {
	double a;
	size_t j;
};

static int by_value(const void *p, const void *q)
{
	const struct ranked *a = p, *b = q;

	return (a->a > b->a) - (a->a < b->a);
}

/* The Shapley values of max_j a_j (every a_j >= 0) against all zeros: the
 * max is the sum of the steps a_(k) - a_(k-1), and step k is the value of
 * the game "some feature of rank k or above is present", which its
 * p - k + 1 such features share equally. */
static void zscore_shares(const fin_detector *d, const float *x, double *share, struct ranked *r)
{
	size_t p = d->nfeat, k;
	double phi = 0, prev = 0;

	for (k = 0; k < p; k++) {
		r[k].a = fabs((x[k] - d->center[k]) / d->scale[k]);
		r[k].j = k;
	}
	qsort(r, p, sizeof *r, by_value);
	for (k = 0; k < p; k++) {
		phi += (r[k].a - prev) / (double)(p - k);
		prev = r[k].a;
		share[r[k].j] = phi;
	}
}

/* With W = L^-1 of the covariance S = L L^T, as the detector scores:
 * S^-1 c = W^T (W c), and the terms c_j (S^-1 c)_j add up to |W c|^2, the
 * squared score. */
static void mahalanobis_shares(const fin_detector *d, const float *x, double score,
			       double *share, double *c, double *u)
{
	size_t p = d->nfeat, i, j;
	double total = 0;

	for (j = 0; j < p; j++)
		c[j] = x[j] - d->center[j];
	for (i = 0; i < p; i++) {
		u[i] = 0;
		for (j = 0; j <= i; j++)
			u[i] += (double)d->whiten[i * p + j] * c[j];
	}
	for (j = 0; j < p; j++) {
		double v = 0;
		for (i = j; i < p; i++)
			v += (double)d->whiten[i * p + j] * u[i];
		share[j] = c[j] * v;
		total += share[j];
	}
	for (j = 0; j < p; j++)
		share[j] = total > 0 ? score * share[j] / total : 0;
}

/* Each feature's squared error over p, and the score as
 * fin_model_recon_error sums them. */
static int autoencoder_shares(fin_detector *d, const float *x, size_t n, double *score,
			      double *share, fin_err *err)
{
	enum { CHUNK = 256 };
	size_t p = d->nfeat, i, j, at;
	float *z = malloc(CHUNK * p * sizeof *z);

	if (!z || fin_net_reserve(&d->ae.net, CHUNK) != 0) {
		free(z);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (at = 0; at < n; at += CHUNK) {
		size_t m = n - at < CHUNK ? n - at : CHUNK;
		const float *out;
		fin_model_scale(&d->ae, x + at * p, m, z);
		out = fin_net_forward(&d->ae.net, z, m, 0);
		for (i = 0; i < m; i++) {
			double sum = 0, *s = share + (at + i) * p;
			for (j = 0; j < p; j++) {
				double e = (double)out[i * p + j] - z[i * p + j];
				sum += e * e;
				s[j] = e * e / (double)p;
			}
			score[at + i] = sum / (double)p;
		}
	}
	free(z);
	return FIN_OK;
}

int fin_detector_shares(fin_detector *d, const float *x, size_t n, double *score, double *share,
			fin_err *err)
{
	size_t p = d->nfeat, i;
	double *work;
	struct ranked *r;
	int rc;

	if (d->method == FIN_DET_AUTOENCODER)
		return autoencoder_shares(d, x, n, score, share, err);
	if ((rc = fin_detector_score(d, x, n, score, err)) != FIN_OK)
		return rc;
	work = malloc(2 * p * sizeof *work);
	r = malloc(p * sizeof *r);
	if (!work || !r)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; rc == FIN_OK && i < n; i++) {
		if (d->method == FIN_DET_ZSCORE)
			zscore_shares(d, x + i * p, share + i * p, r);
		else
			mahalanobis_shares(d, x + i * p, score[i], share + i * p, work, work + p);
	}
	free(work);
	free(r);
	return rc;
}
