/* Pooled statistics of the training rows of several parties, so that the
 * first model of federated averaging scales its features with every
 * party's rows and none of them leaves its party: each party computes
 * counts, means and sums of squared deviations of its own rows, the
 * coordinator pools them exactly (Chan, Golub and LeVeque), and the pooled
 * standardisation goes into the initial model. Kept in JSON as the
 * statistics file (format "fin-stats", see fin-avg(1)).
 *
 * The route covers number columns only: a text column's levels are learned
 * from one table's rows, and one party's levels would leak through the
 * model; such tables are refused. */
#ifndef FIN_POOLED_STATS_H
#define FIN_POOLED_STATS_H

#include <stddef.h>

#include "core/err.h"
#include "io/out_file.h"
#include "nn/model.h"

#define FIN_STATS_FORMAT "fin-stats"
#define FIN_STATS_SCHEMA 1

typedef struct fin_stats {
	enum fin_task task;  /* regression, binary, multiclass or autoencoder */
	char *target;        /* NULL when there is none (an autoencoder) */
	char **feat;         /* feature names, in network order */
	size_t nfeat;
	size_t rows;         /* at least 1 */
	double *mean;        /* [nfeat] each feature's mean */
	double *m2;          /* [nfeat] its sum of squared deviations from the mean */
	double y_mean, y_m2; /* regression: the same of the target */
	char **labels;       /* classification: the labels seen, sorted as a
			      * model's labels (fin_label_cmp) */
	size_t *count;       /* [nlabels] rows of each */
	size_t nlabels;
	size_t parties;      /* statistics pooled into these: 1 for one table */
} fin_stats;

void fin_stats_free(fin_stats *s);

/* The statistics of the first ntrain rows of t (the training rows, as
 * fin_model_setup takes them) for a model of the given task and target
 * (NULL for an autoencoder). The task is the caller's: every party must
 * give the same one, so a classification that has more than 2 labels at
 * any party is multiclass at every party. FIN_EUSAGE for a GAN and for a
 * table with text columns (read, or encoded: t->text, t->enc), naming the
 * first; FIN_ENOROWS without rows; FIN_EDATA for a regression target that
 * is not a number. s is filled anew (freed by the caller). */
struct fin_table;
int fin_stats_from_table(const struct fin_table *t, size_t ntrain, enum fin_task task,
			 const char *target, fin_stats *s, fin_err *err);

/* Pools s into acc, exactly: rows added, means and sums of squared
 * deviations combined as Chan, Golub and LeVeque do, label counts summed,
 * parties added. FIN_EMODEL naming the first difference of task, target or
 * features (names, in order), with acc_name and s_name (the files) in the
 * message; acc is unchanged on failure. */
int fin_stats_combine(fin_stats *acc, const char *acc_name, const fin_stats *s,
		      const char *s_name, fin_err *err);

/* Puts the pooled standardisation into m, a model fin_model_setup made
 * for the same task, target and features (names, in order; FIN_EMODEL
 * naming the first difference otherwise), before its network is built
 * (the labels decide the outputs): each feature's mean, and sd
 * sqrt(m2 / (rows - 1)), 1 where that is 0 or not finite (as
 * fin_model_setup does); for regression the target's; for classification
 * the pooled labels, replacing m's (FIN_EDATA when a binary task pools
 * other than 2 labels, or a multiclass one fewer than 2). A scale beyond
 * what a model holds is FIN_EDATA, as in fin_model_setup. m is unchanged
 * on failure. */
int fin_stats_apply(const fin_stats *s, fin_model *m, fin_err *err);

/* The statistics as a JSON object, and written to f
 * (fin_out_file_commit makes the file final). */
struct cJSON;
struct cJSON *fin_stats_to_json(const fin_stats *s);
int fin_stats_save(const fin_stats *s, fin_out_file *f, fin_err *err);

/* Reads and checks a statistics file, as untrusted as a model file (see
 * READING A FILE in fin-model(5)); anything unusable is FIN_EMODEL. */
int fin_stats_load(fin_stats *s, const char *path, fin_err *err);

#endif
