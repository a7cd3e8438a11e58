/* Principal components of the columns of a table: the eigenvectors of
 * their covariance matrix, largest variance first, and the rows projected
 * onto them. */
#ifndef FIN_PCA_H
#define FIN_PCA_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_pca {
	size_t dim;        /* columns */
	double *mean;      /* [dim] subtracted from each column */
	double *scale;     /* [dim] then divided into it: the sample sd when
			    * standardised (1 for a constant column), else 1 */
	double *variance;  /* [dim] of each component, largest first */
	double *axes;      /* [dim][dim] row k: the unit loadings of component k */
	double total;      /* the sum of the variances: the share of component k
			    * is variance[k] / total */
} fin_pca;

/* Fits the components of the n rows x[n][dim] (n >= 2, every value
 * finite): each column centred on its mean and, when standardise is set,
 * divided by its sample standard deviation (divisor n - 1, as
 * fin-cluster standardises); the covariance (divisor n - 1) decomposed by
 * gsl_eigen_symmv. Each component's sign is fixed so that its loading of
 * largest magnitude is positive (the first such, magnitudes within a
 * relative 1e-9 counting as equal). FIN_EDATA for fewer than two rows,
 * for columns that do not vary, or without memory. */
int fin_pca_fit(fin_pca *pca, const double *x, size_t n, size_t dim, int standardise,
		fin_err *err);

/* The first k (<= dim) components' scores of the n rows x[n][dim]:
 * out[n][k], the centred and scaled rows times the loadings.
 * FIN_EDATA without memory. */
int fin_pca_project(const fin_pca *pca, const double *x, size_t n, size_t k, double *out,
		    fin_err *err);

void fin_pca_free(fin_pca *pca);

#endif
