/* Ranks with ties: what rank correlations and cross-sectional ranks share. */
#ifndef FIN_RANKS_H
#define FIN_RANKS_H

#include <stddef.h>

/* The ranks of x[0..n) (no NaN), 1 for the lowest to n, each tie given the
 * mean of the ranks it spans (whole or half numbers, exact), into rank
 * (not x); perm[n] is work space. */
void fin_mid_ranks(const double *x, size_t n, size_t *perm, double *rank);

#endif
