#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/permutation.h"

int fin_permutation_importance(float *x, size_t n, size_t d, const fin_feature_groups *g,
			       size_t repeats, unsigned long seed, fin_perm_loss loss, void *ctx,
			       double *base, double *importance, double *sd, fin_err *err)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t *perm = malloc((n ? n : 1) * sizeof *perm), *cols = malloc(d * sizeof *cols);
	float *saved = malloc((n ? n : 1) * d * sizeof *saved);
	double *drop = malloc(repeats * sizeof *drop);
	size_t k, r, i, j, ncols;
	int rc;

	if (!rng || !perm || !cols || !saved || !drop) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	gsl_rng_set(rng, seed);
	if ((rc = loss(ctx, x, n, base, err)) != FIN_OK)
		goto done;
	for (k = 0; k < g->n; k++) {
		double mean = 0, sq = 0;

		for (ncols = j = 0; j < d; j++)
			if (g->of[j] == k)
				cols[ncols++] = j;
		for (i = 0; i < n; i++)
			for (j = 0; j < ncols; j++)
				saved[i * ncols + j] = x[i * d + cols[j]];
		for (r = 0; r < repeats; r++) {
			for (i = 0; i < n; i++)
				perm[i] = i;
			gsl_ran_shuffle(rng, perm, n, sizeof *perm);
			/* Row i takes the group's values of row perm[i]. */
			for (i = 0; i < n; i++)
				for (j = 0; j < ncols; j++)
					x[i * d + cols[j]] = saved[perm[i] * ncols + j];
			if ((rc = loss(ctx, x, n, &drop[r], err)) != FIN_OK)
				break;
			drop[r] -= *base;
			mean += drop[r];
		}
		for (i = 0; i < n; i++)
			for (j = 0; j < ncols; j++)
				x[i * d + cols[j]] = saved[i * ncols + j];
		if (rc != FIN_OK)
			goto done;
		mean /= (double)repeats;
		for (r = 0; r < repeats; r++)
			sq += (drop[r] - mean) * (drop[r] - mean);
		importance[k] = mean;
		sd[k] = sqrt(sq / (double)repeats);
	}
done:
	gsl_rng_free(rng);
	free(perm);
	free(cols);
	free(saved);
	free(drop);
	return rc;
}
