/* Generative adversarial networks: a generator that maps latent vectors to
 * samples shaped like the data, a discriminator that scores samples as real
 * or generated, and their alternating training (Goodfellow et al. 2014,
 * with the non-saturating generator loss). */
#ifndef FIN_GAN_H
#define FIN_GAN_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "core/err.h"
#include "nn/net.h"
#include "nn/optim.h"

typedef struct fin_gan {
	fin_net g;            /* generator: a latent vector [latent][1] -> a sample */
	fin_net d;            /* discriminator: a sample [c][t] -> one logit */
	size_t latent;
	size_t sample;        /* values per sample, c * t */

	/* Training state from fin_gan_begin, kept across steps. */
	fin_optim opt_g, opt_d; /* each network's own Adam moments */
	gsl_rng *rng;           /* latent draws and shuffling */
	float smooth;
	size_t cap;             /* largest batch a step takes */
	float *z;               /* [cap][latent] */
	float *pair;            /* [2 cap][sample]: real rows, then generated ones */
	float *target;          /* [2 cap] labels of pair */
	float *dlogit;          /* [2 cap] dLoss/dlogit */
	float *dfake;           /* [cap][sample] dLoss/dG(z) */
	double last_loss_d, last_loss_g; /* of the last epoch fin_gan_train ran */
} fin_gan;

typedef struct fin_gan_opts {
	size_t epochs, batch;
	size_t d_steps;       /* discriminator batches per generator batch, at least 1 */
	float lr_g, lr_d;     /* Adam learning rates of each network */
	float smooth;         /* one-sided label smoothing: real rows are labelled 1 - smooth */
	unsigned long seed;   /* latent draws, shuffling and dropout */
} fin_gan_opts;

typedef struct fin_gan_epoch {
	size_t epoch, epochs;
	double loss_d, loss_g; /* mean losses of the epoch's steps */
	double seconds;        /* since training began */
} fin_gan_epoch;

typedef void (*fin_gan_epoch_fn)(void *ctx, const fin_gan_epoch *e);

/* The "gan" preset for samples of c channels of t steps, into the
 * architectures of the generator (g) and the discriminator (d); -1 when a
 * buffer is too small. */
int fin_gan_preset(size_t c, size_t t, char *g, size_t glen, char *d, size_t dlen);

/* The discriminator's mean probability of "real", sigmoid(D(x)), over n
 * rows x ([n][c*t], standardised), in inference mode; NaN without memory. */
double fin_gan_mean_real(fin_gan *gan, const float *x, size_t n);

/* Builds the generator from arch_g for latent vectors [latent][1] and the
 * discriminator from arch_d for samples [c][t], and initialises them as
 * fin_net_init does, the generator from seed and the discriminator from
 * seed + 1. The generator's outputs are read as a sample [c][t], so it
 * must give c * t of them (a final dense(c*t) does); the discriminator
 * must give one. FIN_EUSAGE naming the network otherwise, or when an
 * architecture is bad; gan is then left empty. */
int fin_gan_build(fin_gan *gan, const char *arch_g, const char *arch_d, size_t latent, size_t c,
		  size_t t, unsigned long seed, fin_err *err);

/* Prepares training with o (epochs aside): Adam for each network with
 * betas 0.5 and 0.999, as DCGAN (Radford et al. 2016) found to keep the
 * two networks' alternation stable, and room for batches of up to
 * o->batch. Latent vectors are drawn N(0, I) by MT19937 seeded with
 * o->seed, the networks' dropout masks from o->seed + 1 and + 2. Any
 * previous training state, Adam moments included, is dropped.
 * FIN_EUSAGE for an option out of range, FIN_EDATA without memory. */
int fin_gan_begin(fin_gan *gan, const fin_gan_opts *o, fin_err *err);

/* The discriminator's loss on n real rows ([n][c*t]) and the generator's
 * samples of the n latent vectors z ([n][latent]), with the real rows
 * labelled 1 - smooth and the generated ones 0: the sum of the two
 * halves' mean BCE on logits. Sets d.grads to its gradient and leaves
 * g.grads alone; updates nothing. n is at most the batch of
 * fin_gan_begin. */
double fin_gan_grad_d(fin_gan *gan, const float *real, const float *z, size_t n, float smooth);

/* The generator's non-saturating loss, the mean of -log sigmoid(D(G(z)))
 * over the n latent vectors z: sets g.grads to its gradient, which flows
 * through the discriminator to its input and on into the generator.
 * d.grads are left holding the discriminator's share, which nothing
 * applies (fin_gan_grad_d clears them); updates nothing. */
double fin_gan_grad_g(fin_gan *gan, const float *z, size_t n);

/* One discriminator update on n real rows and as many samples from fresh
 * latent draws, labels smoothed as fin_gan_begin was told; the generator
 * does not change. Returns the loss before the update. */
double fin_gan_step_d(fin_gan *gan, const float *real, size_t n);

/* One generator update on n fresh latent draws; the discriminator does not
 * change. Returns the loss before the update. */
double fin_gan_step_g(fin_gan *gan, size_t n);

/* Trains on the n rows of x ([n][c*t], already standardised) for
 * o->epochs: each epoch visits the rows in a new shuffled order, in
 * batches of o->batch, and after every o->d_steps discriminator batches
 * (and after the epoch's last, if fewer are left) takes one generator
 * step of min(o->batch, n) latent draws. Calls progress, if not NULL,
 * after every epoch. The same seed gives bit-identical networks when
 * fin_gemm runs on one thread. FIN_ENOROWS without rows, FIN_EDATA when
 * the losses stop being finite, and as fin_gan_begin. */
int fin_gan_train(fin_gan *gan, const float *x, size_t n, const fin_gan_opts *o,
		  fin_gan_epoch_fn progress, void *ctx, fin_err *err);

/* n samples into out ([n][c*t]) from the generator in inference mode, the
 * i-th from the i-th latent vector N(0, I) drawn from rng. Draws continue
 * the stream: n1 samples and then n2 come from the latent vectors of one
 * call for n1 + n2, so a caller can sample in pieces (equal up to the last
 * bits, as fin_gemm's blocking follows the batch). FIN_EDATA without memory. */
int fin_gan_sample(fin_gan *gan, size_t n, gsl_rng *rng, float *out, fin_err *err);

/* Frees everything and leaves gan empty; an empty gan may be freed again. */
void fin_gan_free(fin_gan *gan);

#endif
