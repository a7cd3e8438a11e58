/* A trained model: the network, what its inputs and outputs mean, and how
 * it was trained. Stored as JSON, see fin-model(5). */
#ifndef FIN_MODEL_H
#define FIN_MODEL_H

#include <stddef.h>

#include "core/err.h"
#include "features/encoding.h"
#include "io/out_file.h"
#include "nn/gan.h"
#include "nn/loss.h"
#include "nn/net.h"

#define FIN_MODEL_FORMAT "fin-model"
#define FIN_MODEL_SCHEMA 1

enum fin_task { FIN_TASK_REGRESSION, FIN_TASK_BINARY, FIN_TASK_MULTICLASS, FIN_TASK_AUTOENCODER,
		FIN_TASK_GAN };

typedef struct fin_train_facts {
	unsigned long seed;
	size_t epochs, epochs_run, best_epoch, batch, rows_train, rows_val;
	size_t kept_epoch;      /* whose weights were saved (0 in files older than it) */
	double train_loss, val_loss, lr, l2, clip;
	double last_val_loss;   /* the last epoch's, NaN without validation */
	int overfits;           /* of this run only, not kept in the file: see fin_train */
	char optimizer[16];
	int threads;
	/* GAN: lr is the generator's rate; the losses are the last epoch's. */
	double lr_d, smooth, loss_g, loss_d;
	size_t d_steps;
	/* Differentially private training (DP-SGD): each row's gradient
	 * clipped to dp_clip, Gaussian noise of dp_noise * dp_clip, and the
	 * (epsilon, delta) the accountant gives; dp_clip is 0 without it. */
	double dp_clip, dp_noise, epsilon, delta;
	size_t dp_steps;    /* of this run only, not kept in the file: the noisy steps taken */
	double dp_clipped;  /* of this run only: the share of row gradients clipped */
	/* Federated averaging: the round of the global model this one comes
	 * from or is (0 outside federated training). */
	size_t round;
} fin_train_facts;

typedef struct fin_model {
	enum fin_task task;
	enum fin_loss loss;
	fin_net net;          /* empty for a GAN, whose networks are in gan */
	fin_gan gan;          /* GAN: generator and discriminator */
	char **feat;          /* features, in network order */
	size_t nfeat;
	fin_encoding enc;     /* the input columns that make them, when some are
			       * text (empty: each feature is a number column) */
	char *target;
	char **keys;          /* key columns given at training */
	size_t nkeys;
	double *mean, *sd;    /* feature standardisation, fitted on training rows */
	double y_mean, y_sd;  /* regression target standardisation */
	char **labels;        /* class labels, for classification */
	size_t nlabels;
	size_t bottleneck;    /* autoencoder: the layer whose output is the embedding */
	fin_train_facts facts;
	struct fin_glm_fit *fit; /* an exact fit's facts and coefficients (nn/glm.h), or NULL */
} fin_model;

const char *fin_task_name(enum fin_task t);
int fin_task_parse(const char *s); /* -1 when unknown */

/* The order of a model's class labels: as numbers when every label is one
 * (numeric), else as bytes. */
int fin_label_cmp(const char *a, const char *b, int numeric);

/* FIN_EDATA naming the column when a standardisation is beyond what a
 * model file holds (see fin-model(5)): a mean within 1e30 of 0, an sd
 * from 1e-30 to 1e30. */
int fin_model_check_scale(const char *name, double mean, double sd, fin_err *err);

void fin_model_free(fin_model *m);

/* Takes the feature names of a table (whose first ntrain rows are the
 * training rows), its key and target names, and for classification the
 * sorted label vocabulary of those rows; fits the standardisation of every
 * feature (and of a regression target) on the training rows only. */
struct fin_table;
int fin_model_setup(fin_model *m, const struct fin_table *t, size_t ntrain, enum fin_task task,
		    char *const *keys, size_t nkeys, const char *target, fin_err *err);

/* Drops the standardisation fin_model_setup fitted: features (and a
 * regression target) are then taken as they are, mean 0 and scale 1. */
void fin_model_unscaled(fin_model *m);

/* Standardises n rows of raw features into out ([n][nfeat]). */
void fin_model_scale(const fin_model *m, const float *raw, size_t n, float *out);

/* The reverse: n rows of standardised values back in the features' own
 * units. */
void fin_model_unscale(const fin_model *m, const float *scaled, size_t n, double *out);

/* The training target of table row i: the standardised value for
 * regression, the class index otherwise (-1 for an unknown label). */
float fin_model_target(const fin_model *m, const struct fin_table *t, size_t i);

/* Standardised inputs (*x) and encoded targets (*y) of rows [from, to) of
 * a table, in new buffers (*y is NULL for an autoencoder, whose targets are
 * its inputs, and for a GAN); a class label unknown to the model is FIN_EDATA. */
int fin_model_encode(const fin_model *m, const struct fin_table *t, size_t from, size_t to,
		     float **x, float **y, fin_err *err);

/* How a model does on rows [from, to) of t (standardised inputs x), next
 * to naive forecasts: predicting 0 and the training mean for regression,
 * the majority class of the training rows (train[0..ntrain)) for
 * classification, the training mean of every feature for an autoencoder
 * (reconstruction errors in standardised units). */
typedef struct fin_score {
	size_t n;
	double rmse, rmse_zero, rmse_mean;
	double recon, recon_mean;
	double accuracy, accuracy_majority;
	size_t majority;
} fin_score;
int fin_model_score(fin_model *m, const struct fin_table *t, size_t from, size_t to,
		    const float *x, const struct fin_table *train, size_t ntrain, fin_score *sc);

/* The layer an autoencoder's embedding comes from: the narrowest output
 * before the last layer (the first of equals). */
size_t fin_model_find_bottleneck(const fin_net *net);

/* Per-row mean squared difference between n rows of outputs and of the
 * standardised inputs x, both [n][nfeat]. */
void fin_model_recon_error(const fin_model *m, const float *x, const float *out, size_t n,
			   double *err);

/* Turns network outputs for n rows into predictions: the target in its own
 * units (regression, [n]), or class probabilities ([n][nlabels]). */
void fin_model_decode(const fin_model *m, const float *out, size_t n, double *pred);

/* Writes the model as JSON to f (fin_out_file_commit makes it final). */
int fin_model_save(const fin_model *m, fin_out_file *f, fin_err *err);

/* Reads and checks a model file; anything unusable is FIN_EMODEL. */
int fin_model_load(fin_model *m, const char *path, fin_err *err);

/* The model as a JSON object, and back (as part of another file). */
struct cJSON;
struct fin_json_reader;
struct cJSON *fin_model_to_json(const fin_model *m);
int fin_model_from_json(fin_model *m, const struct cJSON *o, const struct fin_json_reader *r);

#endif
