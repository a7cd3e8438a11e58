/* The training loop: mini-batches shuffled inside the training rows only,
 * validation on rows kept apart, early stopping on the validation loss. */
#ifndef FIN_TRAIN_H
#define FIN_TRAIN_H

#include <stddef.h>

#include "core/err.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/net.h"
#include "nn/optim.h"

typedef struct fin_dataset {
	const float *x; /* [n][d], already standardised */
	const float *y; /* [n][k] targets, or [n] class indices for softmax_ce */
	size_t n, d, k;
} fin_dataset;

typedef struct fin_train_opts {
	size_t epochs, batch;
	size_t patience;        /* stop after this many epochs without a better loss
				 * (0: run every epoch) */
	enum fin_optim_kind optimizer;
	float lr, l2, clip;
	unsigned long seed;     /* drives shuffling and dropout */
	size_t threads;         /* > 1: each batch shared out among this many
				 * threads (nn/team.h), the matrix products on
				 * one thread each (BLAS is left on one thread);
				 * not with DP-SGD */
	/* DP-SGD (nn/dp_sgd.h) when dp_clip > 0: Poisson batches of expected
	 * size batch, each row's gradient clipped to dp_clip, Gaussian noise
	 * of dp_noise * dp_clip. */
	double dp_clip, dp_noise;
} fin_train_opts;

typedef struct fin_epoch {
	size_t epoch, epochs;
	double train_loss, val_loss; /* val_loss NaN without validation rows */
	double seconds;              /* since training began */
	int best;                    /* the best so far */
} fin_epoch;

typedef void (*fin_epoch_fn)(void *ctx, const fin_epoch *e);

/* Overfitting, as fin_train judges it: the validation loss of each of the
 * last FIN_OVERFIT_EPOCHS epochs run is above FIN_OVERFIT_RATIO times the
 * best one. A ratio, so that it holds for any loss and any scale of the
 * target; every one of several epochs, so that one noisy epoch is not
 * enough, and a run stopped within that many epochs of its best is never
 * called overfitted. */
enum { FIN_OVERFIT_EPOCHS = 5 };
#define FIN_OVERFIT_RATIO 1.5

/* Trains net on train, watching val (n may be 0); calls progress after
 * every epoch. The weights kept are those of the epoch with the lowest
 * validation loss (the first of equals), as if training had stopped
 * there; without validation rows, the last epoch's, or with patience the
 * epoch of the lowest training loss. Fills facts with what happened:
 * the epochs run, the best and the kept one, the losses of the weights
 * kept, the last epoch's validation loss and whether the run overfits. */
int fin_train(fin_net *net, enum fin_loss loss, const fin_dataset *train, const fin_dataset *val,
	      const fin_train_opts *o, fin_epoch_fn progress, void *ctx, fin_train_facts *facts,
	      fin_err *err);

/* Trains the autoencoder preset (a code of bottleneck values) on every row
 * of t, without validation rows: m gets its features, scalers and network. */
struct fin_table;
int fin_train_autoencoder(fin_model *m, const struct fin_table *t, size_t bottleneck,
			  const fin_train_opts *o, fin_err *err);

/* Mean loss of net over a data set, in inference mode. */
double fin_evaluate(fin_net *net, enum fin_loss loss, const fin_dataset *data, size_t batch);

#endif
