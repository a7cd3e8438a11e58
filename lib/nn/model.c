#include <gsl/gsl_statistics_float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/table.h"
#include "io/json_file.h"
#include "nn/model.h"

/* Numbers compare as numbers, so that class 10 follows class 9; equal
 * numbers as text, so that "1" and "1.0" each end up next to their copies
 * and every label is kept once. */
int fin_label_cmp(const char *a, const char *b, int numeric)
{
	double x, y;

	if (!numeric)
		return strcmp(a, b);
	x = strtod(a, NULL);
	y = strtod(b, NULL);
	return x != y ? (x > y) - (x < y) : strcmp(a, b);
}

static int by_text(const void *a, const void *b)
{
	return fin_label_cmp(*(char *const *)a, *(char *const *)b, 0);
}

static int by_number(const void *a, const void *b)
{
	return fin_label_cmp(*(char *const *)a, *(char *const *)b, 1);
}

static char **copy_names(char *const *v, size_t n)
{
	char **c = calloc(n ? n : 1, sizeof *c);
	size_t i;

	for (i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			while (i--)
				free(c[i]);
			free(c);
			return NULL;
		}
	return c;
}

static int build_labels(fin_model *m, const fin_table *t, size_t ntrain, fin_err *err)
{
	char **seen = malloc((ntrain ? ntrain : 1) * sizeof *seen);
	size_t n = 0, i;

	if (!seen)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < ntrain; i++)
		seen[n++] = t->ylabel[i];
	qsort(seen, n, sizeof *seen, t->y_numeric ? by_number : by_text);
	for (i = 0; i < n; i++)
		if (m->nlabels == 0 || strcmp(seen[m->nlabels - 1], seen[i]) != 0)
			seen[m->nlabels++] = seen[i];
	m->labels = copy_names(seen, m->nlabels);
	free(seen);
	if (!m->labels)
		return fin_fail(err, FIN_EDATA, "out of memory");
	return FIN_OK;
}

/* A standardisation a model file can hold (see fin-model(5)): fin never
 * writes a model that it refuses to read. */
int fin_model_check_scale(const char *name, double mean, double sd, fin_err *err)
{
	char shown[200];

	if (fabs(mean) <= FIN_CENTRE_MAX && sd >= FIN_SPREAD_MIN && sd <= FIN_SPREAD_MAX)
		return FIN_OK;
	return fin_fail(err, FIN_EDATA,
			"column '%s': mean %g and standard deviation %g are beyond what a model "
			"holds (a mean within 1e30 of 0, a deviation from 1e-30 to 1e30)",
			fin_quote_field(shown, sizeof shown, name, strlen(name)), mean, sd);
}

int fin_model_setup(fin_model *m, const fin_table *t, size_t ntrain, enum fin_task task,
		    char *const *keys, size_t nkeys, const char *target, fin_err *err)
{
	size_t j;
	int rc;

	m->task = task;
	m->nfeat = t->nfeat;
	m->feat = copy_names(t->feat, t->nfeat);
	m->nkeys = nkeys;
	m->keys = copy_names(keys, nkeys);
	m->target = target ? strdup(target) : NULL;
	m->mean = malloc(t->nfeat * sizeof *m->mean);
	m->sd = malloc(t->nfeat * sizeof *m->sd);
	if (!m->feat || !m->keys || (target && !m->target) || !m->mean || !m->sd)
		return fin_fail(err, FIN_EDATA, "out of memory");
	/* Statistics of the training rows only: the validation tail must not
	 * leak into the scaling. A constant feature keeps a scale of 1. */
	for (j = 0; j < t->nfeat; j++) {
		m->mean[j] = gsl_stats_float_mean(t->x + j, t->nfeat, ntrain);
		m->sd[j] = ntrain > 1 ? gsl_stats_float_sd_m(t->x + j, t->nfeat, ntrain, m->mean[j]) : 0;
		if (!(m->sd[j] > 0) || !isfinite(m->sd[j]))
			m->sd[j] = 1;
		if ((rc = fin_model_check_scale(t->feat[j], m->mean[j], m->sd[j], err)) != FIN_OK)
			return rc;
	}
	if (task == FIN_TASK_AUTOENCODER || task == FIN_TASK_GAN)
		return FIN_OK;
	if (task == FIN_TASK_REGRESSION) {
		double sum = 0, sq = 0;
		size_t i;
		for (i = 0; i < ntrain; i++)
			sum += t->y[i];
		m->y_mean = sum / (double)ntrain;
		for (i = 0; i < ntrain; i++)
			sq += (t->y[i] - m->y_mean) * (t->y[i] - m->y_mean);
		m->y_sd = ntrain > 1 ? sqrt(sq / (double)(ntrain - 1)) : 0;
		if (!(m->y_sd > 0))
			m->y_sd = 1;
		return fin_model_check_scale(target ? target : "the target", m->y_mean, m->y_sd, err);
	}
	if ((rc = build_labels(m, t, ntrain, err)) != FIN_OK)
		return rc;
	if (task == FIN_TASK_BINARY && m->nlabels != 2)
		return fin_fail(err, FIN_EDATA, "--task binary needs 2 labels in the training rows, found %zu",
				m->nlabels);
	if (task == FIN_TASK_MULTICLASS && m->nlabels < 2)
		return fin_fail(err, FIN_EDATA, "classification needs at least 2 labels in the training rows");
	return FIN_OK;
}

void fin_model_unscaled(fin_model *m)
{
	size_t j;

	for (j = 0; j < m->nfeat; j++) {
		m->mean[j] = 0;
		m->sd[j] = 1;
	}
	m->y_mean = 0;
	m->y_sd = 1;
}

void fin_model_scale(const fin_model *m, const float *raw, size_t n, float *out)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < m->nfeat; j++)
			out[i * m->nfeat + j] =
				(float)(((double)raw[i * m->nfeat + j] - m->mean[j]) / m->sd[j]);
}

void fin_model_unscale(const fin_model *m, const float *scaled, size_t n, double *out)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < m->nfeat; j++)
			out[i * m->nfeat + j] = (double)scaled[i * m->nfeat + j] * m->sd[j] + m->mean[j];
}

float fin_model_target(const fin_model *m, const fin_table *t, size_t i)
{
	size_t k;

	if (m->task == FIN_TASK_REGRESSION)
		return (float)((t->y[i] - m->y_mean) / m->y_sd);
	for (k = 0; k < m->nlabels; k++)
		if (strcmp(m->labels[k], t->ylabel[i]) == 0)
			return (float)k;
	return -1;
}

void fin_model_decode(const fin_model *m, const float *out, size_t n, double *pred)
{
	size_t i, k, K = m->nlabels;

	for (i = 0; i < n; i++) {
		if (m->task == FIN_TASK_REGRESSION) {
			pred[i] = out[i] * m->y_sd + m->y_mean;
		} else if (m->task == FIN_TASK_BINARY) {
			double p = 1 / (1 + exp(-(double)out[i]));
			pred[i * 2] = 1 - p;
			pred[i * 2 + 1] = p;
		} else {
			const float *z = out + i * K;
			double max = z[0], sum = 0;
			for (k = 1; k < K; k++)
				max = z[k] > max ? z[k] : max;
			for (k = 0; k < K; k++)
				sum += pred[i * K + k] = exp(z[k] - max);
			for (k = 0; k < K; k++)
				pred[i * K + k] /= sum;
		}
	}
}

int fin_model_encode(const fin_model *m, const fin_table *t, size_t from, size_t to, float **x,
		     float **y, fin_err *err)
{
	size_t n = to - from, i;
	int targets = m->task != FIN_TASK_AUTOENCODER && m->task != FIN_TASK_GAN;

	*x = malloc((n ? n : 1) * m->nfeat * sizeof **x);
	*y = targets ? malloc((n ? n : 1) * sizeof **y) : NULL;
	if (!*x || (!*y && targets))
		return fin_fail(err, FIN_EDATA, "out of memory");
	fin_model_scale(m, t->x + from * m->nfeat, n, *x);
	if (!targets)
		return FIN_OK;
	for (i = 0; i < n; i++) {
		(*y)[i] = fin_model_target(m, t, from + i);
		if ((*y)[i] < 0 && m->task != FIN_TASK_REGRESSION)
			return fin_fail(err, FIN_EDATA, "label '%s' never occurs in the training rows",
					t->ylabel[from + i]);
	}
	return FIN_OK;
}

static size_t label_index(const fin_model *m, const char *label)
{
	size_t c;

	for (c = 0; c < m->nlabels && strcmp(m->labels[c], label) != 0; c++)
		;
	return c;
}

int fin_model_score(fin_model *m, const fin_table *t, size_t from, size_t to, const float *x,
		    const fin_table *train, size_t ntrain, fin_score *sc)
{
	enum { BATCH = 256 };
	size_t n = to - from, i, at, c;
	size_t k = m->task == FIN_TASK_REGRESSION ? 1
		   : m->task == FIN_TASK_AUTOENCODER ? 1
						      : m->nlabels;
	double *pred = malloc((n ? n : 1) * k * sizeof *pred);
	size_t *count = calloc(k, sizeof *count);

	memset(sc, 0, sizeof *sc);
	sc->n = n;
	if (!pred || !count || n == 0 || fin_net_reserve(&m->net, BATCH) != 0) {
		free(pred);
		free(count);
		return FIN_EDATA;
	}
	for (at = 0; at < n; at += BATCH) {
		size_t b = n - at < BATCH ? n - at : BATCH;
		const float *out = fin_net_forward(&m->net, x + at * m->nfeat, b, 0);
		if (m->task == FIN_TASK_AUTOENCODER)
			fin_model_recon_error(m, x + at * m->nfeat, out, b, pred + at);
		else
			fin_model_decode(m, out, b, pred + at * k);
	}
	if (m->task == FIN_TASK_AUTOENCODER) {
		/* Predicting the training mean is 0 in standardised units. */
		for (i = 0; i < n; i++) {
			sc->recon += pred[i];
			for (c = 0; c < m->nfeat; c++)
				sc->recon_mean += (double)x[i * m->nfeat + c] * x[i * m->nfeat + c];
		}
		sc->recon /= (double)n;
		sc->recon_mean /= (double)n * (double)m->nfeat;
	} else if (m->task == FIN_TASK_REGRESSION) {
		for (i = 0; i < n; i++) {
			double y = t->y[from + i];
			sc->rmse += (pred[i] - y) * (pred[i] - y);
			sc->rmse_zero += y * y;
			sc->rmse_mean += (m->y_mean - y) * (m->y_mean - y);
		}
		sc->rmse = sqrt(sc->rmse / (double)n);
		sc->rmse_zero = sqrt(sc->rmse_zero / (double)n);
		sc->rmse_mean = sqrt(sc->rmse_mean / (double)n);
	} else {
		for (i = 0; i < ntrain; i++)
			if ((c = label_index(m, train->ylabel[i])) < k)
				count[c]++;
		for (c = 1; c < k; c++)
			if (count[c] > count[sc->majority])
				sc->majority = c;
		for (i = 0; i < n; i++) {
			size_t best = 0, truth = label_index(m, t->ylabel[from + i]);
			for (c = 1; c < k; c++)
				if (pred[i * k + c] > pred[i * k + best])
					best = c;
			sc->accuracy += best == truth;
			sc->accuracy_majority += sc->majority == truth;
		}
		sc->accuracy /= (double)n;
		sc->accuracy_majority /= (double)n;
	}
	free(pred);
	free(count);
	return FIN_OK;
}

size_t fin_model_find_bottleneck(const fin_net *net)
{
	size_t i, best = 0;

	for (i = 1; i + 1 < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i], *b = &net->layers[best];
		if (l->out_c * l->out_t < b->out_c * b->out_t)
			best = i;
	}
	return best;
}

void fin_model_recon_error(const fin_model *m, const float *x, const float *out, size_t n,
			   double *err)
{
	size_t i, j, d = m->nfeat;

	for (i = 0; i < n; i++) {
		double sum = 0;
		for (j = 0; j < d; j++) {
			double e = (double)out[i * d + j] - x[i * d + j];
			sum += e * e;
		}
		err[i] = sum / (double)d;
	}
}
