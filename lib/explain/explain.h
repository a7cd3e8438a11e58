/* Attributions: how much each input of a row moves what a network
 * predicts for it, away from what it predicts at a baseline input.
 * Integrated gradients (Sundararajan, Taly and Yan 2017) for any network
 * the engine builds, through its backward pass to the inputs, and exact
 * Shapley values for a network of one linear dense layer. Inputs are
 * standardised, as the network reads them; attributions are in the units
 * of the value explained. See fin-explain(1). */
#ifndef FIN_EXPLAIN_H
#define FIN_EXPLAIN_H

#include <stddef.h>

#include "core/err.h"
#include "nn/model.h"
#include "nn/net.h"

/* The number explained for a row, made from the network's output: an
 * output unit scaled and shifted (a regression target in its own units,
 * a logit, its negation for the other class of a binary model), or an
 * autoencoder's reconstruction error. */
enum fin_explained_kind { FIN_EXPLAIN_OUTPUT, FIN_EXPLAIN_RECON };

typedef struct fin_explained {
	enum fin_explained_kind kind;
	size_t output;          /* FIN_EXPLAIN_OUTPUT: the output unit */
	double scale, offset;   /* value = scale * output + offset */
} fin_explained;

/* What a model's prediction is in the units fin-explain reports, for class
 * cls (a label index; ignored for regression and autoencoders): the target
 * for regression, the log-odds of label cls for a binary model (its
 * network gives those of the second label), the logit of label cls for a
 * multiclass model, the reconstruction error for an autoencoder. */
fin_explained fin_explained_of_model(const fin_model *m, size_t cls);

/* Points of the paths integrated gradients runs through the network in one
 * pass, and rows of fin_explain_value's passes: the network is reserved for
 * this many. */
#define FIN_IG_BATCH 512

/* The value explained at n standardised rows z ([n][in]), into value[n].
 * Reserves the network for FIN_IG_BATCH rows; FIN_EDATA when out of
 * memory. */
int fin_explain_value(fin_net *net, const fin_explained *f, const float *z, size_t n,
		      double *value, fin_err *err);

/* Integrated gradients of n rows z ([n][in]) from the baseline row base
 * ([in]), by the midpoint rule of steps points: the gradient of the value
 * at base + (k + 1/2) / steps (z - base), k = 0 .. steps - 1, averaged and
 * times z - base, into attr ([n][in]). They add up to value(z) -
 * value(base) up to the rule's error, which falls with steps. Reserves the
 * network for FIN_IG_BATCH rows; FIN_EDATA when out of memory. */
int fin_explain_ig(fin_net *net, const fin_explained *f, const float *z, size_t n,
		   const float *base, size_t steps, double *attr, fin_err *err);

/* Of n rows, how many have attributions (attr, [n][d]) whose sum misses
 * value - base_value by more than share of it (completeness, which the
 * midpoint rule of integrated gradients meets only approximately); *worst
 * rises to the largest such miss. */
size_t fin_explain_incomplete(const double *value, const double *base_value, const double *attr,
			      size_t n, size_t d, double share, double *worst);

/* True for a network of one dense layer without activation: linear,
 * logistic and softmax regression, whose value is linear in the inputs. */
int fin_explain_is_linear(const fin_net *net);

/* The exact Shapley values of such a network's value at n rows z against
 * the baseline row base: weight times (z - base), times the scale, in
 * double; with value[n] and base_value[n] computed the same way, so that
 * the attributions of a row add up to value - base_value exactly but for
 * the rounding of double sums. */
void fin_explain_linear(const fin_net *net, const fin_explained *f, const float *z, size_t n,
			const float *base, double *value, double *base_value, double *attr);

/* The indices of the k largest of v[0..d) (the first of equals first),
 * largest first, into top; with positive, only values above 0 are taken
 * (reason codes: what pushes a row's value up). Returns how many. */
size_t fin_explain_top(const double *v, size_t d, size_t k, int positive, size_t *top);

#endif
