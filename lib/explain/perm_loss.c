#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "explain/perm_loss.h"

static const char *const metric_names[] = { "mse", "rmse", "mae", "logloss", "auc", "error",
					     "recon", "score" };

int fin_perm_metric_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
		if (strcmp(s, metric_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *fin_perm_metric_name(enum fin_perm_metric metric)
{
	return metric_names[metric];
}

enum fin_perm_metric fin_perm_metric_default(const fin_model *m)
{
	if (!m)
		return FIN_METRIC_SCORE;
	return m->task == FIN_TASK_REGRESSION	? FIN_METRIC_MSE
	       : m->task == FIN_TASK_AUTOENCODER ? FIN_METRIC_RECON
						 : FIN_METRIC_LOGLOSS;
}

int fin_perm_metric_check(enum fin_perm_metric metric, const fin_model *m, fin_err *err)
{
	const char *fits;
	int ok;

	if (!m) {
		ok = metric == FIN_METRIC_SCORE || metric == FIN_METRIC_AUC;
		fits = "score, or auc with -y (a detector)";
	} else if (m->task == FIN_TASK_REGRESSION) {
		ok = metric <= FIN_METRIC_MAE;
		fits = "mse, rmse or mae (regression)";
	} else if (m->task == FIN_TASK_BINARY) {
		ok = metric >= FIN_METRIC_LOGLOSS && metric <= FIN_METRIC_ERROR;
		fits = "logloss, auc or error (a binary model)";
	} else if (m->task == FIN_TASK_MULTICLASS) {
		ok = metric == FIN_METRIC_LOGLOSS || metric == FIN_METRIC_ERROR;
		fits = "logloss or error (a multiclass model)";
	} else {
		ok = metric == FIN_METRIC_RECON;
		fits = "recon (an autoencoder)";
	}
	return ok ? FIN_OK
		  : fin_fail(err, FIN_EUSAGE, "--metric %s: this takes %s", metric_names[metric],
			     fits);
}

int fin_perm_metric_needs_target(enum fin_perm_metric metric)
{
	return metric != FIN_METRIC_RECON && metric != FIN_METRIC_SCORE;
}

enum { CHUNK = 256 };

int fin_perm_scorer_init(fin_perm_scorer *s, const float *x, size_t n, fin_err *err)
{
	size_t d = s->m ? s->m->nfeat : s->d->nfeat;

	s->score = malloc((n ? n : 1) * sizeof *s->score);
	s->base = malloc((n ? n : 1) * sizeof *s->base);
	s->z = malloc(CHUNK * d * sizeof *s->z);
	if (!s->score || !s->base || !s->z || (s->m && fin_net_reserve(&s->m->net, CHUNK) != 0))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (s->metric == FIN_METRIC_SCORE)
		return fin_detector_score(s->d, x, n, s->base, err);
	return FIN_OK;
}

void fin_perm_scorer_free(fin_perm_scorer *s)
{
	free(s->score);
	free(s->base);
	free(s->z);
}

/* log(1 + e^v), without overflow */
static double softplus(double v)
{
	return (v > 0 ? v : 0) + log1p(exp(-fabs(v)));
}

/* A row's contribution to the sum the metric is the mean of: out is its
 * network output, z its standardised features. */
static double row_loss(const fin_perm_scorer *s, const float *out, const float *z, size_t i)
{
	const fin_model *m = s->m;
	size_t k, best = 0;
	double e, max, sum = 0;

	switch (s->metric) {
	case FIN_METRIC_MSE:
	case FIN_METRIC_RMSE:
	case FIN_METRIC_MAE:
		e = out[0] * m->y_sd + m->y_mean - s->y[i];
		return s->metric == FIN_METRIC_MAE ? fabs(e) : e * e;
	case FIN_METRIC_LOGLOSS:
		if (m->task == FIN_TASK_BINARY)
			return softplus(out[0]) - (s->cls[i] == 1 ? out[0] : 0);
		max = out[0];
		for (k = 1; k < m->nlabels; k++)
			max = out[k] > max ? out[k] : max;
		for (k = 0; k < m->nlabels; k++)
			sum += exp(out[k] - max);
		return max + log(sum) - out[s->cls[i]];
	case FIN_METRIC_ERROR:
		if (m->task == FIN_TASK_BINARY)
			return (out[0] > 0) != (s->cls[i] == 1);
		for (k = 1; k < m->nlabels; k++)
			best = out[k] > out[best] ? k : best;
		return best != s->cls[i];
	case FIN_METRIC_RECON:
		for (k = 0; k < m->nfeat; k++)
			sum += ((double)out[k] - z[k]) * ((double)out[k] - z[k]);
		return sum / (double)m->nfeat;
	default: /* auc and score rank or compare whole runs */
		return 0;
	}
}

static void model_loss(fin_perm_scorer *s, const float *x, size_t n, double *loss)
{
	fin_model *m = s->m;
	size_t at, i, d = m->nfeat;
	double sum = 0;

	for (at = 0; at < n; at += CHUNK) {
		size_t b = n - at < CHUNK ? n - at : CHUNK;
		const float *out;
		fin_model_scale(m, x + at * d, b, s->z);
		out = fin_net_forward(&m->net, s->z, b, 0);
		for (i = 0; i < b; i++) {
			if (s->metric == FIN_METRIC_AUC)
				s->score[at + i] = s->flip ? -out[i * m->net.out_size] : out[i * m->net.out_size];
			else
				sum += row_loss(s, out + i * m->net.out_size, s->z + i * d, at + i);
		}
	}
	*loss = sum / (double)n;
	if (s->metric == FIN_METRIC_RMSE)
		*loss = sqrt(*loss);
}

int fin_perm_scorer_loss(void *scorer, const float *x, size_t n, double *loss, fin_err *err)
{
	fin_perm_scorer *s = scorer;
	size_t i;
	int rc = FIN_OK;

	if (s->m)
		model_loss(s, x, n, loss);
	else if ((rc = fin_detector_score(s->d, x, n, s->score, err)) != FIN_OK)
		return rc;
	if (s->metric == FIN_METRIC_AUC) {
		*loss = 1 - fin_roc_auc(s->score, s->positive, n);
	} else if (s->metric == FIN_METRIC_SCORE) {
		double sum = 0;
		for (i = 0; i < n; i++)
			sum += fabs(s->score[i] - s->base[i]);
		*loss = sum / (double)n;
	}
	return rc;
}
