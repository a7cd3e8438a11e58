#include <gsl/gsl_sort.h>

#include "core/ranks.h"

void fin_mid_ranks(const double *x, size_t n, size_t *perm, double *rank)
{
	size_t i, e, k;

	gsl_sort_index(perm, x, 1, n);
	for (i = 0; i < n; i = e) {
		for (e = i + 1; e < n && x[perm[e]] == x[perm[i]]; e++)
			;
		for (k = i; k < e; k++)
			rank[perm[k]] = (double)(i + e + 1) / 2;
	}
}
