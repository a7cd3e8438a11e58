#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dp_sgd.h"

double fin_dp_rate(size_t rows, size_t batch)
{
	return rows && batch < rows ? (double)batch / (double)rows : 1;
}

size_t fin_dp_steps_per_epoch(size_t rows, size_t batch)
{
	return (rows + batch - 1) / batch;
}

static int room(fin_dp_sgd *d, const fin_net *net, size_t n)
{
	float *dout;
	double *sq;

	if (n <= d->cap)
		return 0;
	dout = realloc(d->dout, n * net->out_size * sizeof *dout);
	if (!dout)
		return -1;
	d->dout = dout;
	sq = realloc(d->sq, n * sizeof *sq);
	if (!sq)
		return -1;
	d->sq = sq;
	d->cap = n;
	return 0;
}

int fin_dp_sgd_init(fin_dp_sgd *d, const fin_net *net, double clip, double noise, size_t rows,
		    size_t batch)
{
	memset(d, 0, sizeof *d);
	d->clip = clip;
	d->noise = noise;
	d->rate = fin_dp_rate(rows, batch);
	d->denom = d->rate * (double)rows;
	d->grads = malloc(net->nparams * sizeof *d->grads);
	d->work = malloc(fin_net_row_work(net) * sizeof *d->work);
	if (!d->grads || !d->work || room(d, net, batch) != 0) {
		fin_dp_sgd_free(d);
		return -1;
	}
	return 0;
}

void fin_dp_sgd_free(fin_dp_sgd *d)
{
	free(d->dout);
	free(d->grads);
	free(d->work);
	free(d->sq);
	memset(d, 0, sizeof *d);
}

size_t fin_dp_sample(const fin_dp_sgd *d, gsl_rng *rng, size_t rows, size_t *idx)
{
	size_t n = 0, at;

	if (d->rate >= 1) {
		for (at = 0; at < rows; at++)
			idx[n++] = at;
		return n;
	}
	/* The gaps between rows taken are geometric: one draw per row taken,
	 * not one per row. */
	at = gsl_ran_geometric(rng, d->rate) - 1;
	while (at < rows) {
		idx[n++] = at;
		at += gsl_ran_geometric(rng, d->rate);
	}
	return n;
}

int fin_dp_clipped_sum(fin_dp_sgd *d, fin_net *net, enum fin_loss loss, const float *x,
		       const float *y, size_t n, double *loss_sum)
{
	size_t k = net->out_size, s, j;

	memset(net->grads, 0, net->nparams * sizeof *net->grads);
	if (n) {
		const float *out;
		if (room(d, net, n) != 0 || fin_net_reserve(net, n) != 0)
			return -1;
		out = fin_net_forward(net, x, n, 1);
		*loss_sum += fin_loss(loss, out, y, n, k, d->dout) * (double)n;
		/* dout is the gradient of the batch's mean loss: times n, each
		 * row's own. */
		for (j = 0; j < n * k; j++)
			d->dout[j] *= (float)n;
		memset(d->grads, 0, net->nparams * sizeof *d->grads);
		memset(d->sq, 0, n * sizeof *d->sq);
		fin_net_backward_rows(net, d->dout, n, d->grads, d->work, d->sq);
		for (s = 0; s < n; s++) {
			double norm = sqrt(d->sq[s]);
			if (norm > d->clip) {
				float f = (float)(d->clip / norm);
				if ((double)f * norm > d->clip)
					f = nextafterf(f, 0);
				for (j = 0; j < k; j++)
					d->dout[s * k + j] *= f;
				d->clipped++;
			}
		}
		d->rows_seen += n;
		fin_net_backward(net, d->dout, NULL, n);
	}
	return 0;
}

void fin_dp_noise(const fin_dp_sgd *d, fin_net *net, gsl_rng *rng)
{
	double sd = d->noise * d->clip;
	size_t p;

	for (p = 0; p < net->nparams; p++) {
		double g = net->grads[p];
		if (sd > 0)
			g += gsl_ran_gaussian_ziggurat(rng, sd);
		net->grads[p] = (float)(g / d->denom);
	}
}

int fin_dp_gradient(fin_dp_sgd *d, fin_net *net, enum fin_loss loss, const float *x,
		    const float *y, size_t n, gsl_rng *rng, double *loss_sum)
{
	if (fin_dp_clipped_sum(d, net, loss, x, y, n, loss_sum) != 0)
		return -1;
	fin_dp_noise(d, net, rng);
	return 0;
}
