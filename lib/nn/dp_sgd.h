/* Differentially private SGD (Abadi et al. 2016): each row's gradient is
 * clipped to an L2 norm of at most clip, the clipped gradients of a batch
 * are summed, Gaussian noise of standard deviation noise * clip is added
 * to every coordinate, and the sum is divided by the expected batch size.
 * Batches are drawn by Poisson sampling: every training row joins a batch
 * independently with probability rate = batch / rows, as the privacy
 * accounting (privacy/dp_accountant.h) assumes; a batch may be empty, and
 * then holds noise alone.
 *
 * A row's gradient norm comes from one backward pass over the batch that
 * forms no row's gradient for dense layers (nn/net.h,
 * fin_net_backward_rows); a second pass over the same forward values, its
 * output gradients scaled row by row, gives the sum of the clipped
 * gradients. */
#ifndef FIN_DP_SGD_H
#define FIN_DP_SGD_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "nn/loss.h"
#include "nn/net.h"

typedef struct fin_dp_sgd {
	double clip;   /* C */
	double noise;  /* sigma: the noise's standard deviation is sigma * C */
	double rate;   /* q, the chance of each row to be in a batch */
	double denom;  /* the expected batch size, q * rows */
	size_t cap;    /* rows the buffers below hold */
	float *dout, *grads, *work;
	double *sq;
	size_t clipped, rows_seen; /* rows whose gradient was clipped, of those seen */
} fin_dp_sgd;

/* The chance of each of rows rows to join a batch of expected size batch:
 * batch / rows (1 when the batch holds every row). */
double fin_dp_rate(size_t rows, size_t batch);

/* Steps in an epoch of Poisson batches of expected size batch: rows /
 * batch, rounded up, so that an epoch sees every row once on average. */
size_t fin_dp_steps_per_epoch(size_t rows, size_t batch);

/* For net, training on rows rows in expected batches of batch. 0, or -1
 * when out of memory. */
int fin_dp_sgd_init(fin_dp_sgd *d, const fin_net *net, double clip, double noise, size_t rows,
		    size_t batch);
void fin_dp_sgd_free(fin_dp_sgd *d);

/* A Poisson batch: writes to idx (room for rows) the rows that join it,
 * each with probability d->rate, in increasing order; returns how many. */
size_t fin_dp_sample(const fin_dp_sgd *d, gsl_rng *rng, size_t rows, size_t *idx);

/* The two halves of fin_dp_gradient, for ranks that each take part of a
 * batch: net->grads = the sum of the n rows' clipped gradients (the
 * rows' loss added into *loss_sum; 0, or -1 when out of memory); then,
 * on the sum of every part, grads = (grads + noise) / the expected batch
 * size, the noise from rng. */
int fin_dp_clipped_sum(fin_dp_sgd *d, fin_net *net, enum fin_loss loss, const float *x,
		       const float *y, size_t n, double *loss_sum);
void fin_dp_noise(const fin_dp_sgd *d, fin_net *net, gsl_rng *rng);

/* Leaves in net->grads the private gradient of the n rows x ([n][d]) with
 * targets y: the sum of their clipped gradients plus noise, over the
 * expected batch size; adds the rows' loss into *loss_sum. Noise comes
 * from rng. 0, or -1 when out of memory. */
int fin_dp_gradient(fin_dp_sgd *d, fin_net *net, enum fin_loss loss, const float *x,
		    const float *y, size_t n, gsl_rng *rng, double *loss_sum);

#endif
