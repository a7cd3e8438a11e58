/* Loss functions: mean over the batch, with their gradient. */
#ifndef FIN_LOSS_H
#define FIN_LOSS_H

#include <stddef.h>

enum fin_loss {
	FIN_LOSS_MSE,
	FIN_LOSS_MAE,
	FIN_LOSS_HUBER,      /* delta 1 */
	FIN_LOSS_BCE,        /* binary cross-entropy on logits */
	FIN_LOSS_SOFTMAX_CE, /* softmax cross-entropy on logits, class index targets */
};

const char *fin_loss_name(enum fin_loss l);
int fin_loss_parse(const char *s); /* -1 when unknown */

/* Loss of outputs out[n][k] against targets: target[n][k] for the
 * regression and binary losses (averaged over n * k values), target[n]
 * holding class indices for softmax_ce (averaged over n). Writes
 * dLoss/dout into dout unless it is NULL. */
double fin_loss(enum fin_loss l, const float *out, const float *target, size_t n, size_t k,
		float *dout);

#endif
