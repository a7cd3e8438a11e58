/* Permutation importance (Breiman 2001; Fisher, Rudin and Dominici 2019):
 * how much a model's loss rises when the values of a feature, or of a
 * group of features, are shuffled across the rows, which breaks their link
 * to the target and to the other features while keeping their
 * distribution. Model-agnostic: the loss is a callback. */
#ifndef FIN_PERMUTATION_H
#define FIN_PERMUTATION_H

#include <stddef.h>

#include "core/err.h"
#include "explain/feature_groups.h"

/* The loss of the n rows x ([n][d], raw features) into *loss; FIN_OK or
 * an error. */
typedef int (*fin_perm_loss)(void *ctx, const float *x, size_t n, double *loss, fin_err *err);

/* For each group of g, repeats times: the group's columns of x ([n][d])
 * shuffled together (one permutation of the rows, from GSL's MT19937
 * seeded with seed, drawn group by group, repeat by repeat), the loss
 * taken, and the columns put back. *base is the loss of x as it is;
 * importance[k] the mean over the repeats of the loss minus *base, sd[k]
 * their standard deviation (over the repeats, as scikit-learn's
 * permutation_importance reports it: 0 for one repeat). x is as it was on
 * return. */
int fin_permutation_importance(float *x, size_t n, size_t d, const fin_feature_groups *g,
			       size_t repeats, unsigned long seed, fin_perm_loss loss, void *ctx,
			       double *base, double *importance, double *sd, fin_err *err);

#endif
