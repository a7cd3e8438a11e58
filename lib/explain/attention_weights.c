#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/attention_weights.h"
#include "explain/explain.h"

static const char *const query_names[] = { "last", "mean", "all" };

int fin_query_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof query_names / sizeof *query_names; i++)
		if (strcmp(s, query_names[i]) == 0)
			return (int)i;
	return -1;
}

size_t fin_attention_layers(const fin_net *net)
{
	size_t i, n = 0;

	for (i = 0; i < net->nlayers; i++)
		n += net->layers[i].kind == FIN_L_ATTENTION;
	return n;
}

/* What the steps a layer reads are: the window's (no layer before it
 * changes the steps), patches (a patch layer alone does), or other steps. */
enum step_kind { WINDOW_STEPS, PATCHES, OTHER_STEPS };

static enum step_kind steps_read_by(const fin_net *net, size_t at)
{
	enum step_kind kind = WINDOW_STEPS;
	size_t i;

	for (i = 0; i < at; i++) {
		const fin_layer *l = &net->layers[i];
		/* An attention layer read at its newest step alone keeps the
		 * steps up to its pool, which changes them. */
		if (l->kind != FIN_L_SEQPOOL && (l->in_t == l->out_t || l->last))
			continue;
		kind = l->kind == FIN_L_PATCH && kind == WINDOW_STEPS ? PATCHES : OTHER_STEPS;
	}
	return kind;
}

/* The key steps' names, the newest first: as the window's lags, as
 * patches, or when the layers read steps of other kinds or numbers, as
 * steps. */
static int name_steps(fin_attention_weights *a, const fin_net *net)
{
	static const char *const prefix[] = { "", "patch_", "step_" };
	enum step_kind kind = steps_read_by(net, a->at[0]);
	size_t k;

	for (k = 0; k < a->nattn; k++)
		if (steps_read_by(net, a->at[k]) != kind || net->layers[a->at[k]].in_t != a->steps)
			kind = OTHER_STEPS;
	if (!(a->names = calloc(a->steps, sizeof *a->names)))
		return -1;
	for (k = 0; k < a->steps; k++) {
		char name[32];
		snprintf(name, sizeof name, "%s%zu", prefix[kind], k);
		if (!(a->names[k] = strdup(name)))
			return -1;
	}
	return 0;
}

int fin_attention_weights_make(fin_attention_weights *a, fin_net *net, enum fin_query query,
			       fin_err *err)
{
	size_t i, k, h, q, r = 0;

	memset(a, 0, sizeof *a);
	a->query = query;
	for (i = net->nlayers; i-- > 0;)
		if (net->layers[i].kind == FIN_L_ATTENTION) {
			a->newest_read = net->layers[i].last || net->layers[i].in_t == 1;
			break;
		}
	if (query != FIN_QUERY_LAST)
		fin_net_read_every_step(net);
	a->nattn = fin_attention_layers(net);
	if (!(a->at = malloc((a->nattn ? a->nattn : 1) * sizeof *a->at)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0, k = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		if (l->kind != FIN_L_ATTENTION)
			continue;
		a->at[k++] = i;
		a->steps = l->in_t > a->steps ? l->in_t : a->steps;
		a->rows += l->heads * (query == FIN_QUERY_ALL ? l->in_t : 1);
	}
	if (a->nattn == 0)
		return FIN_OK;
	a->layer = malloc(a->rows * sizeof *a->layer);
	a->head = malloc(a->rows * sizeof *a->head);
	a->qstep = malloc(a->rows * sizeof *a->qstep);
	if (!a->layer || !a->head || !a->qstep || name_steps(a, net) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (k = 0; k < a->nattn; k++) {
		const fin_layer *l = &net->layers[a->at[k]];
		for (h = 0; h < l->heads; h++)
			for (q = 0; q < (query == FIN_QUERY_ALL ? l->in_t : 1); q++, r++) {
				a->layer[r] = k + 1;
				a->head[r] = h + 1;
				a->qstep[r] = q;
			}
	}
	return FIN_OK;
}

void fin_attention_weights_free(fin_attention_weights *a)
{
	size_t k;

	for (k = 0; a->names && k < a->steps; k++)
		free(a->names[k]);
	free(a->names);
	free(a->at);
	free(a->layer);
	free(a->head);
	free(a->qstep);
	memset(a, 0, sizeof *a);
}

/* One row of weights out of a layer's [tq][T] block p (query step T - tq
 * + i in row i, key step j in column j, both from the oldest): query row
 * i, or with i == tq the mean of the rows, into out ([steps], the newest
 * key first). */
static void weight_row(const float *p, size_t tq, size_t T, size_t i, size_t steps, float *out)
{
	size_t j, r;

	for (j = 0; j < T; j++) {
		double sum = 0;
		if (i < tq) {
			out[j] = p[i * T + T - 1 - j];
			continue;
		}
		for (r = 0; r < tq; r++)
			sum += p[r * T + T - 1 - j];
		out[j] = (float)(sum / (double)tq);
	}
	for (; j < steps; j++)
		out[j] = NAN;
}

/* The weight rows of sample s of the last forward pass, into out
 * ([a->rows][a->steps]). */
static void sample_weights(const fin_attention_weights *a, const fin_net *net, size_t s,
			   float *out)
{
	size_t k, h, q;

	for (k = 0; k < a->nattn; k++) {
		const fin_layer *l = &net->layers[a->at[k]];
		size_t T = l->in_t, tq = l->last ? 1 : T;
		for (h = 0; h < l->heads; h++) {
			const float *p = l->probs + (s * l->heads + h) * tq * T;
			if (a->query != FIN_QUERY_ALL) {
				weight_row(p, tq, T, a->query == FIN_QUERY_LAST ? tq - 1 : tq, a->steps,
					   out);
				out += a->steps;
				continue;
			}
			/* the query step q back from the newest is row tq - 1 - q */
			for (q = 0; q < tq; q++, out += a->steps)
				weight_row(p, tq, T, tq - 1 - q, a->steps, out);
		}
	}
}

int fin_attention_weights_compute(const fin_attention_weights *a, fin_net *net, const float *z,
				  size_t n, float *w, fin_err *err)
{
	size_t d = net->in_c * net->in_t, cap = n < FIN_IG_BATCH ? n : FIN_IG_BATCH, at, s;

	if (fin_net_reserve(net, cap) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (at = 0; at < n; at += cap) {
		size_t m = n - at < cap ? n - at : cap;
		fin_net_forward(net, z + at * d, m, 0);
		for (s = 0; s < m; s++)
			sample_weights(a, net, s, w + (at + s) * a->rows * a->steps);
	}
	return FIN_OK;
}
