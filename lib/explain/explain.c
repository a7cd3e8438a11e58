#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain.h"

fin_explained fin_explained_of_model(const fin_model *m, size_t cls)
{
	fin_explained f = { .kind = FIN_EXPLAIN_OUTPUT, .scale = 1 };

	switch (m->task) {
	case FIN_TASK_REGRESSION:
		f.scale = m->y_sd;
		f.offset = m->y_mean;
		break;
	case FIN_TASK_BINARY:
		/* The logit is the log-odds of the second label; the first's are
		 * its negation. */
		f.scale = cls == 0 ? -1 : 1;
		break;
	case FIN_TASK_MULTICLASS:
		f.output = cls;
		break;
	case FIN_TASK_AUTOENCODER:
	case FIN_TASK_GAN:
		f.kind = FIN_EXPLAIN_RECON;
		break;
	}
	return f;
}

/* The value of one row from its output out and, for a reconstruction,
 * its input x; and into dout (unless NULL) the value's gradient with
 * respect to the output. */
static double value_of(const fin_explained *f, const float *out, const float *x, size_t d,
		       float *dout, size_t out_size)
{
	double sum = 0;
	size_t j;

	if (f->kind == FIN_EXPLAIN_OUTPUT) {
		if (dout) {
			memset(dout, 0, out_size * sizeof *dout);
			dout[f->output] = (float)f->scale;
		}
		return f->scale * out[f->output] + f->offset;
	}
	/* (1/d) sum (out - x)^2, as fin_model_recon_error computes it */
	for (j = 0; j < d; j++) {
		double e = (double)out[j] - x[j];
		sum += e * e;
		if (dout)
			dout[j] = (float)(2 * e / (double)d);
	}
	return sum / (double)d;
}

int fin_explain_value(fin_net *net, const fin_explained *f, const float *z, size_t n,
		      double *value, fin_err *err)
{
	size_t d = net->in_c * net->in_t, at, i;

	if (fin_net_reserve(net, FIN_IG_BATCH) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (at = 0; at < n; at += FIN_IG_BATCH) {
		size_t m = n - at < FIN_IG_BATCH ? n - at : FIN_IG_BATCH;
		const float *out = fin_net_forward(net, z + at * d, m, 0);
		for (i = 0; i < m; i++)
			value[at + i] = value_of(f, out + i * net->out_size, z + (at + i) * d, d, NULL,
						 net->out_size);
	}
	return FIN_OK;
}

int fin_explain_ig(fin_net *net, const fin_explained *f, const float *z, size_t n,
		   const float *base, size_t steps, double *attr, fin_err *err)
{
	size_t d = net->in_c * net->in_t, total = n * steps, at, s, j;
	float *x = malloc(FIN_IG_BATCH * d * sizeof *x);
	float *dx = malloc(FIN_IG_BATCH * d * sizeof *dx);
	float *dout = malloc(FIN_IG_BATCH * net->out_size * sizeof *dout);
	int rc = FIN_OK;

	if (!x || !dx || !dout || fin_net_reserve(net, FIN_IG_BATCH) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	memset(attr, 0, n * d * sizeof *attr);
	/* The points of every row's path, FIN_IG_BATCH at a time: point s is
	 * step s % steps of row s / steps. */
	for (at = 0; at < total; at += FIN_IG_BATCH) {
		size_t m = total - at < FIN_IG_BATCH ? total - at : FIN_IG_BATCH;
		const float *out;

		for (s = 0; s < m; s++) {
			const float *row = z + (at + s) / steps * d;
			double alpha = ((double)((at + s) % steps) + 0.5) / (double)steps;
			for (j = 0; j < d; j++)
				x[s * d + j] = (float)(base[j] + alpha * ((double)row[j] - base[j]));
		}
		out = fin_net_forward(net, x, m, 0);
		for (s = 0; s < m; s++)
			value_of(f, out + s * net->out_size, x + s * d, d, dout + s * net->out_size,
				 net->out_size);
		/* The weights' gradients are not wanted: cleared so that they
		 * cannot grow without bound over a long input. */
		memset(net->grads, 0, net->nparams * sizeof *net->grads);
		fin_net_backward(net, dout, dx, m);
		for (s = 0; s < m; s++) {
			double *sum = attr + (at + s) / steps * d;
			for (j = 0; j < d; j++) {
				/* A reconstruction's input is also its target:
				 * d/dx (out - x)^2 has a direct part too. */
				double g = dx[s * d + j];
				if (f->kind == FIN_EXPLAIN_RECON)
					g -= dout[s * d + j];
				sum[j] += g;
			}
		}
	}
	for (s = 0; s < n; s++)
		for (j = 0; j < d; j++)
			attr[s * d + j] *= ((double)z[s * d + j] - base[j]) / (double)steps;
done:
	free(x);
	free(dx);
	free(dout);
	return rc;
}

size_t fin_explain_incomplete(const double *value, const double *base_value, const double *attr,
			      size_t n, size_t d, double share, double *worst)
{
	size_t i, j, off = 0;

	for (i = 0; i < n; i++) {
		double sum = 0, move = value[i] - base_value[i], gap;
		for (j = 0; j < d; j++)
			sum += attr[i * d + j];
		gap = fabs(sum - move);
		if (gap > share * fabs(move)) {
			off++;
			*worst = fmax(*worst, gap);
		}
	}
	return off;
}

int fin_explain_is_linear(const fin_net *net)
{
	return net->nlayers == 1 && net->layers[0].kind == FIN_L_DENSE &&
	       net->layers[0].act == FIN_ACT_LINEAR;
}

void fin_explain_linear(const fin_net *net, const fin_explained *f, const float *z, size_t n,
			const float *base, double *value, double *base_value, double *attr)
{
	const fin_layer *l = &net->layers[0];
	size_t d = l->in_c * l->in_t, i, j;
	const float *w = net->params + l->w + f->output * d;
	double b = net->params[l->b + f->output], at_base = b;

	for (j = 0; j < d; j++)
		at_base += (double)w[j] * base[j];
	for (i = 0; i < n; i++) {
		double v = b;
		for (j = 0; j < d; j++) {
			v += (double)w[j] * z[i * d + j];
			attr[i * d + j] = f->scale * w[j] * ((double)z[i * d + j] - base[j]);
		}
		value[i] = f->scale * v + f->offset;
		base_value[i] = f->scale * at_base + f->offset;
	}
}

/* Whether v[a] comes before v[b]: larger, or equal and earlier. */
static int ranks_before(const double *v, size_t a, size_t b)
{
	return v[a] > v[b] || (v[a] == v[b] && a < b);
}

size_t fin_explain_top(const double *v, size_t d, size_t k, int positive, size_t *top)
{
	size_t n = 0, j;

	/* Each pass takes the first in rank after the one taken before. */
	while (n < k) {
		size_t best = d;
		for (j = 0; j < d; j++)
			if (!isnan(v[j]) && (!positive || v[j] > 0) &&
			    (n == 0 || ranks_before(v, top[n - 1], j)) &&
			    (best == d || ranks_before(v, j, best)))
				best = j;
		if (best == d)
			break;
		top[n++] = best;
	}
	return n;
}
