/* What permutation importance measures a model or a detector by: the loss
 * of a model's predictions against the target, the rise of 1 - ROC-AUC,
 * or how far a detector's scores move. The callback of
 * fin_permutation_importance. */
#ifndef FIN_PERM_LOSS_H
#define FIN_PERM_LOSS_H

#include <stddef.h>

#include "core/err.h"
#include "detect/detector.h"
#include "nn/model.h"

enum fin_perm_metric {
	FIN_METRIC_MSE,     /* regression: mean squared error, target's units squared */
	FIN_METRIC_RMSE,    /* its root */
	FIN_METRIC_MAE,     /* mean absolute error */
	FIN_METRIC_LOGLOSS, /* classification: mean cross-entropy, in nats */
	FIN_METRIC_AUC,     /* binary model or detector: 1 - ROC-AUC */
	FIN_METRIC_ERROR,   /* classification: 1 - accuracy */
	FIN_METRIC_RECON,   /* autoencoder: mean reconstruction error */
	FIN_METRIC_SCORE,   /* detector: mean absolute change of the score */
};

/* -1 when s names no metric. */
int fin_perm_metric_parse(const char *s);
const char *fin_perm_metric_name(enum fin_perm_metric metric);

/* The metric a model (or, with m NULL, a detector) is measured by unless
 * told otherwise: mse, logloss, recon, score. */
enum fin_perm_metric fin_perm_metric_default(const fin_model *m);

/* FIN_EUSAGE, saying which metrics fit, when metric does not fit the
 * model (or, with m NULL, a detector). */
int fin_perm_metric_check(enum fin_perm_metric metric, const fin_model *m, fin_err *err);

/* True when the metric compares with a target column. */
int fin_perm_metric_needs_target(enum fin_perm_metric metric);

typedef struct fin_perm_scorer {
	fin_model *m;                  /* a model's loss, or */
	fin_detector *d;               /* a detector's */
	enum fin_perm_metric metric;
	const double *y;               /* regression: each row's target */
	const size_t *cls;             /* classification: each row's label index */
	const unsigned char *positive; /* auc: each row's class, 1 the positive */
	int flip;                      /* auc of a binary model: the positive class is
					* the first label, whose log-odds fall as the
					* logit rises */
	double *score;                 /* [n]: the values ranked for auc, or the scores */
	double *base;                  /* score: the scores of the rows as they are */
	float *z;                      /* standardised rows, a chunk at a time */
} fin_perm_scorer;

/* Allocates the scorer's work space for n rows of x, whose scores it
 * keeps as the base of the score metric; s's other fields are set. */
int fin_perm_scorer_init(fin_perm_scorer *s, const float *x, size_t n, fin_err *err);
void fin_perm_scorer_free(fin_perm_scorer *s);

/* The fin_perm_loss of a fin_perm_scorer. */
int fin_perm_scorer_loss(void *scorer, const float *x, size_t n, double *loss, fin_err *err);

#endif
