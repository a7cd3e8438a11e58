/* Federated averaging (McMahan et al. 2017), the coordinator's step: the
 * weights of the models the parties trained from the same global model
 * (fin-train --init) on rows that never leave them, averaged into the next
 * global model. Only model files travel. See fin-avg(1).
 *
 * The models must agree on everything but their weights and training
 * facts: task and loss, target, input columns and their text encodings,
 * features, architecture and parameter count, labels, scalers, and the
 * round they come from. */
#ifndef FIN_FEDAVG_H
#define FIN_FEDAVG_H

#include <stddef.h>

#include "core/err.h"
#include "nn/model.h"

/* How the parties' weights count: by the training rows each file records
 * (FedAvg's n_k / n), or equally. */
enum fin_fedavg_weighting { FIN_FEDAVG_ROWS, FIN_FEDAVG_EQUAL };

typedef struct fin_fedavg_party {
	const char *file;   /* the path as given (not copied) */
	size_t rows;        /* its training rows */
	double epsilon;     /* of its differentially private training: INFINITY
			     * without noise, NaN when it was not private */
} fin_fedavg_party;

typedef struct fin_fedavg {
	enum fin_fedavg_weighting weighting;
	fin_model model;         /* the first file's model: the average once finished */
	double *sum;             /* [nparams] the weighted sum of the weights so far */
	double total;            /* of the parties' weights */
	fin_fedavg_party *party; /* [nparties], in the order added */
	size_t nparties;
	size_t rows;             /* the parties' training rows */
	int fit_dropped;         /* an input held an exact fit, left out (see fin_fedavg_add) */
	/* Differential privacy: the parties trained with it, their largest
	 * dp_clip, smallest dp_noise, largest epsilon and delta, and the first
	 * party trained without it (once finished, only when another was). */
	size_t nprivate;
	double dp_clip, dp_noise, epsilon, delta;
	const char *not_private;
} fin_fedavg;

/* An empty average. */
void fin_fedavg_init(fin_fedavg *a, enum fin_fedavg_weighting weighting);
void fin_fedavg_free(fin_fedavg *a);

/* FIN_OK when model b (file bn) may be averaged with model a (file an):
 * else FIN_EMODEL naming the first difference, in the order of the list
 * above (the round aside: see fin_fedavg_add). */
int fin_fedavg_match(const fin_model *a, const char *an, const fin_model *b, const char *bn,
		     fin_err *err);

/* Loads the model file path (kept as given, not copied: it must outlive
 * a) and adds its weights to the average. FIN_EMODEL when it is unusable,
 * a GAN, differs from the first file (fin_fedavg_match), comes from
 * another round, or records no training rows while they weigh it
 * (FIN_FEDAVG_ROWS). An exact fit's "fit" section (its coefficients and
 * standard errors) cannot be averaged: it is left out, and fit_dropped
 * set, as fin-train --init leaves it out of the model it trains. */
int fin_fedavg_add(fin_fedavg *a, const char *path, fin_err *err);

/* Makes a->model the average: each weight the weighted mean of the
 * parties', taken in double and stored as float32; the training facts
 * those of the first file (seed, threads, optimizer, lr, l2, clip, batch,
 * epochs: the settings of the round), with what describes one run reset
 * (epochs_run, best_epoch and kept_epoch 0, the losses NaN, rows_val 0),
 * rows_train the parties' sum and round the inputs' plus 1. When some
 * party trained with differential privacy: dp_clip the largest and
 * dp_noise the smallest of those parties' (the weakest setting), epsilon
 * and delta the largest, and epsilon infinite when another party trained
 * without it (not_private names it). FIN_EUSAGE when nothing was added. */
int fin_fedavg_finish(fin_fedavg *a, fin_err *err);

/* The averaged model as the JSON object of its file, with "parties" in
 * its training facts: one {"file", "rows", "epsilon"} for each input
 * ("epsilon" only for a private one; null when infinite). NULL when out
 * of memory. */
struct cJSON;
struct cJSON *fin_fedavg_to_json(const fin_fedavg *a);

/* FIN_EUSAGE when two of the paths name the same file (by device and
 * inode): a party given twice would count twice. Paths that cannot be
 * examined are left to their loader. */
int fin_fedavg_distinct(char *const *paths, size_t n, fin_err *err);

#endif
