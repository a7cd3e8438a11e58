#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/pca.h"

/* The rows centred and scaled, into z [n][dim]. */
static void centre(const fin_pca *pca, const double *x, size_t n, gsl_matrix *z)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < pca->dim; j++)
			gsl_matrix_set(z, i, j, (x[i * pca->dim + j] - pca->mean[j]) / pca->scale[j]);
}

/* Each column's mean and, when standardise is set, its sample sd. */
static void fit_scale(fin_pca *pca, const double *x, size_t n, int standardise)
{
	size_t i, j;

	for (j = 0; j < pca->dim; j++) {
		double sum = 0, sq = 0;
		for (i = 0; i < n && x[i * pca->dim + j] == x[j]; i++)
			;
		pca->scale[j] = 1;
		/* a constant column is centred exactly, whatever rounding its
		 * mean would suffer, and keeps a scale of 1: it adds no variance */
		if (i == n) {
			pca->mean[j] = x[j];
			continue;
		}
		for (i = 0; i < n; i++)
			sum += x[i * pca->dim + j];
		pca->mean[j] = sum / (double)n;
		if (!standardise)
			continue;
		for (i = 0; i < n; i++) {
			double e = x[i * pca->dim + j] - pca->mean[j];
			sq += e * e;
		}
		/* differences that underflow when squared */
		if (sq > 0)
			pca->scale[j] = sqrt(sq / (double)(n - 1));
	}
}

/* Component k's sign: its first loading of largest magnitude positive. */
static void fix_sign(double *axis, size_t dim)
{
	double largest = 0;
	size_t j;

	for (j = 0; j < dim; j++)
		largest = fmax(largest, fabs(axis[j]));
	for (j = 0; j < dim && fabs(axis[j]) < (1 - 1e-9) * largest; j++)
		;
	if (j < dim && axis[j] < 0)
		for (j = 0; j < dim; j++)
			axis[j] = -axis[j];
}

int fin_pca_fit(fin_pca *pca, const double *x, size_t n, size_t dim, int standardise,
		fin_err *err)
{
	gsl_matrix *z = NULL, *cov = NULL, *vec = NULL;
	gsl_vector *val = NULL;
	gsl_eigen_symmv_workspace *w = NULL;
	size_t j, k;
	int rc = FIN_OK;

	memset(pca, 0, sizeof *pca);
	/* GSL's allocations and solver report failures, not abort */
	gsl_set_error_handler_off();
	if (dim == 0)
		return fin_fail(err, FIN_EDATA, "principal components of no columns");
	if (n < 2)
		return fin_fail(err, FIN_EDATA, "principal components need two or more rows, not %zu",
				n);
	pca->dim = dim;
	pca->mean = malloc(dim * sizeof *pca->mean);
	pca->scale = malloc(dim * sizeof *pca->scale);
	pca->variance = malloc(dim * sizeof *pca->variance);
	pca->axes = malloc(dim * dim * sizeof *pca->axes);
	z = gsl_matrix_alloc(n, dim);
	cov = gsl_matrix_calloc(dim, dim);
	vec = gsl_matrix_alloc(dim, dim);
	val = gsl_vector_alloc(dim);
	w = gsl_eigen_symmv_alloc(dim);
	if (!pca->mean || !pca->scale || !pca->variance || !pca->axes || !z || !cov || !vec ||
	    !val || !w) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	fit_scale(pca, x, n, standardise);
	centre(pca, x, n, z);
	gsl_blas_dsyrk(CblasLower, CblasTrans, 1 / (double)(n - 1), z, 0, cov);
	for (j = 0; j < dim; j++)
		pca->total += gsl_matrix_get(cov, j, j);
	if (!(pca->total > 0) || !isfinite(pca->total)) {
		rc = fin_fail(err, FIN_EDATA, "principal components: %s",
			      pca->total > 0 ? "the variance is too large to compute"
					     : "the columns do not vary");
		goto done;
	}
	if (gsl_eigen_symmv(cov, val, vec, w) != GSL_SUCCESS) {
		rc = fin_fail(err, FIN_EDATA, "principal components: the eigensolver failed");
		goto done;
	}
	gsl_eigen_symmv_sort(val, vec, GSL_EIGEN_SORT_VAL_DESC);
	for (k = 0; k < dim; k++) {
		/* rounding can leave a zero variance slightly negative */
		pca->variance[k] = fmax(gsl_vector_get(val, k), 0);
		for (j = 0; j < dim; j++)
			pca->axes[k * dim + j] = gsl_matrix_get(vec, j, k);
		fix_sign(pca->axes + k * dim, dim);
	}
done:
	gsl_eigen_symmv_free(w);
	gsl_vector_free(val);
	gsl_matrix_free(vec);
	gsl_matrix_free(cov);
	gsl_matrix_free(z);
	if (rc != FIN_OK)
		fin_pca_free(pca);
	return rc;
}

/* out[n][k] = z[n][dim] times the first k rows of axes, transposed. */
static void scores(const gsl_matrix *z, const double *axes, size_t k, double *out)
{
	gsl_matrix_const_view a = gsl_matrix_const_view_array(axes, k, z->size2);
	gsl_matrix_view s = gsl_matrix_view_array(out, z->size1, k);

	gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1, z, &a.matrix, 0, &s.matrix);
}

int fin_pca_project(const fin_pca *pca, const double *x, size_t n, size_t k, double *out,
		    fin_err *err)
{
	gsl_matrix *z;

	if (n == 0 || k == 0)
		return FIN_OK;
	if (k > pca->dim)
		return fin_fail(err, FIN_EDATA, "%zu principal components of %zu columns", k,
				pca->dim);
	gsl_set_error_handler_off();
	if (!(z = gsl_matrix_alloc(n, pca->dim)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	centre(pca, x, n, z);
	scores(z, pca->axes, k, out);
	gsl_matrix_free(z);
	return FIN_OK;
}

void fin_pca_free(fin_pca *pca)
{
	free(pca->mean);
	free(pca->scale);
	free(pca->variance);
	free(pca->axes);
	memset(pca, 0, sizeof *pca);
}
