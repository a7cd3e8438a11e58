#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "nn/attention.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/lanes.h"
#include "nn/recurrent.h"

static const char *const act_names[] = { "linear", "relu", "leaky_relu", "tanh", "sigmoid",
					 "softmax" };

const char *fin_act_name(enum fin_act a)
{
	return act_names[a];
}

int fin_act_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof act_names / sizeof *act_names; i++)
		if (strcmp(s, act_names[i]) == 0)
			return (int)i;
	return -1;
}

FIN_CLONES
void fin_act_forward(enum fin_act a, float *y, size_t n, size_t d)
{
	size_t i, j, len = n * d;

	switch (a) {
	case FIN_ACT_LINEAR:
		break;
	case FIN_ACT_RELU:
		for (i = 0; i < len; i++)
			y[i] = y[i] > 0 ? y[i] : 0;
		break;
	case FIN_ACT_LEAKY_RELU:
		for (i = 0; i < len; i++)
			y[i] = y[i] > 0 ? y[i] : FIN_LEAKY_SLOPE * y[i];
		break;
	case FIN_ACT_TANH:
		for (i = 0; i < len; i++)
			y[i] = tanhf(y[i]);
		break;
	case FIN_ACT_SIGMOID:
		for (i = 0; i < len; i++)
			y[i] = 1 / (1 + expf(-y[i]));
		break;
	case FIN_ACT_SOFTMAX:
		for (i = 0; i < n; i++) {
			float *r = y + i * d, max = -FLT_MAX, sum = 0;
			for (j = 0; j < d; j++)
				max = r[j] > max ? r[j] : max;
			for (j = 0; j < d; j++)
				sum += r[j] = expf(r[j] - max);
			for (j = 0; j < d; j++)
				r[j] /= sum;
		}
		break;
	}
}

FIN_CLONES
void fin_act_backward(enum fin_act a, const float *y, float *dy, size_t n, size_t d)
{
	size_t i, j, len = n * d;

	switch (a) {
	case FIN_ACT_LINEAR:
		break;
	case FIN_ACT_RELU:
		for (i = 0; i < len; i++)
			dy[i] = y[i] > 0 ? dy[i] : 0;
		break;
	case FIN_ACT_LEAKY_RELU:
		for (i = 0; i < len; i++)
			dy[i] = y[i] > 0 ? dy[i] : FIN_LEAKY_SLOPE * dy[i];
		break;
	case FIN_ACT_TANH:
		for (i = 0; i < len; i++)
			dy[i] *= 1 - y[i] * y[i];
		break;
	case FIN_ACT_SIGMOID:
		for (i = 0; i < len; i++)
			dy[i] *= y[i] * (1 - y[i]);
		break;
	case FIN_ACT_SOFTMAX:
		for (i = 0; i < n; i++) {
			const float *r = y + i * d;
			float *g = dy + i * d, dot = 0;
			for (j = 0; j < d; j++)
				dot += g[j] * r[j];
			for (j = 0; j < d; j++)
				g[j] = r[j] * (g[j] - dot);
		}
		break;
	}
}

size_t fin_layer_gates(const fin_layer *l)
{
	return l->kind == FIN_L_LSTM ? 4 : l->kind == FIN_L_GRU ? 3 : 0;
}

int fin_layer_reserve(fin_layer *l, size_t cap)
{
	fin_layer_release(l);
	switch (l->kind) {
	case FIN_L_LSTM:
	case FIN_L_GRU:
		return fin_rnn_reserve(l, cap);
	case FIN_L_CONV1D:
		l->cols = malloc(cap * l->out_t * l->in_c * l->kernel * sizeof *l->cols);
		l->dxw = malloc(cap * l->out_t * l->in_c * l->kernel * sizeof *l->dxw);
		return l->cols && l->dxw ? 0 : -1;
	case FIN_L_MAXPOOL:
		l->arg = malloc(cap * l->out_c * l->out_t * sizeof *l->arg);
		return l->arg ? 0 : -1;
	case FIN_L_DROPOUT:
		l->mask = malloc(cap * l->in_c * l->in_t * sizeof *l->mask);
		return l->mask ? 0 : -1;
	case FIN_L_LAYERNORM:
		l->xhat = malloc(cap * l->in_c * l->in_t * sizeof *l->xhat);
		l->rstd = malloc(cap * l->in_t * sizeof *l->rstd);
		return l->xhat && l->rstd ? 0 : -1;
	case FIN_L_ATTENTION:
	case FIN_L_FF:
	case FIN_L_POSENC:
		return fin_tf_reserve(l, cap);
	default:
		return 0;
	}
}

void fin_layer_release(fin_layer *l)
{
	free(l->cols);
	free(l->tmp);
	free(l->arg);
	free(l->mask);
	free(l->xt);
	free(l->gates);
	free(l->h);
	free(l->c);
	free(l->dgx);
	free(l->dgh);
	free(l->dxw);
	free(l->w_hh_t);
	free(l->xhat);
	free(l->rstd);
	free(l->tok);
	free(l->q);
	free(l->dq);
	free(l->kv);
	free(l->dkv);
	free(l->probs);
	free(l->ctx);
	free(l->dtok);
	free(l->dmid);
	free(l->dctx);
	free(l->normed);
	free(l->dnormed);
	free(l->pe);
	l->xhat = l->rstd = NULL;
	l->tok = l->q = l->dq = l->kv = l->dkv = l->probs = l->ctx = l->dtok = l->dmid = l->dctx = NULL;
	l->normed = l->dnormed = l->pe = NULL;
	l->cols = l->tmp = l->mask = l->xt = l->gates = l->h = l->c = l->dgx = l->dgh = NULL;
	l->dxw = l->w_hh_t = NULL;
	l->arg = NULL;
}

fin_layer fin_layer_shape(const fin_layer *l)
{
	fin_layer s = { .kind = l->kind, .act = l->act, .in_c = l->in_c, .in_t = l->in_t,
			.out_c = l->out_c, .out_t = l->out_t, .units = l->units, .seq = l->seq,
			.kernel = l->kernel, .same = l->same, .rate = l->rate, .w = l->w, .b = l->b,
			.nweights = l->nweights, .nbiases = l->nbiases, .stride = l->stride,
			.step = l->step, .heads = l->heads, .causal = l->causal, .last = l->last,
			.residual = l->residual, .norm = l->norm, .learned = l->learned,
			.mean = l->mean };
	return s;
}

static size_t conv_pad(const fin_layer *l)
{
	return l->same ? (l->kernel - 1) / 2 : 0;
}

/* The time steps [lo, hi) at which row j of a conv1d's columns reads the
 * input, t + j - pad in [0, in_t); the other steps read the padding. */
static void conv_span(const fin_layer *l, size_t j, size_t *lo, size_t *hi)
{
	size_t pad = conv_pad(l);

	*lo = j < pad ? pad - j : 0;
	*hi = l->in_t + pad > j ? l->in_t + pad - j : 0;
	*lo = *lo < l->out_t ? *lo : l->out_t;
	*hi = *hi < l->out_t ? *hi : l->out_t;
	*hi = *hi > *lo ? *hi : *lo;
}

/* cols[s][c * kernel + j][t] = x[s][c][t + j - pad], 0 outside: each
 * sample's columns as rows that are shifted copies of its input rows, so
 * that the GEMMs take and give [c][t] samples as they are. */
static void im2col(const fin_layer *l, const float *restrict x, float *restrict cols, size_t n)
{
	size_t ck = l->in_c * l->kernel, pad = conv_pad(l), s, c, j, lo, hi;

	for (j = 0; j < l->kernel; j++) {
		conv_span(l, j, &lo, &hi);
		for (s = 0; s < n; s++)
			for (c = 0; c < l->in_c; c++) {
				const float *xc = x + (s * l->in_c + c) * l->in_t;
				float *row = cols + (s * ck + c * l->kernel + j) * l->out_t;
				memset(row, 0, lo * sizeof *row);
				if (hi > lo)
					memcpy(row + lo, xc + lo + j - pad, (hi - lo) * sizeof *row);
				memset(row + hi, 0, (l->out_t - hi) * sizeof *row);
			}
	}
}

/* The adjoint of im2col: dx[s][c][t + j - pad] += cols[s][c * kernel + j][t]. */
static void col2im(const fin_layer *l, const float *restrict cols, float *restrict dx, size_t n)
{
	size_t ck = l->in_c * l->kernel, pad = conv_pad(l), s, c, j, t, lo, hi;

	memset(dx, 0, n * l->in_c * l->in_t * sizeof *dx);
	for (j = 0; j < l->kernel; j++) {
		conv_span(l, j, &lo, &hi);
		for (s = 0; s < n; s++)
			for (c = 0; c < l->in_c; c++) {
				float *xc = dx + (s * l->in_c + c) * l->in_t + j - pad;
				const float *row = cols + (s * ck + c * l->kernel + j) * l->out_t;
				for (t = lo; t < hi; t++)
					xc[t] += row[t];
			}
	}
}

/* The sum of v[0..n) in eight running sums, which the compiler keeps in
 * vector registers. */
static float sum_floats(const float *restrict v, size_t n)
{
	float lane[8] = { 0 }, sum = 0;
	size_t i, j;

	for (i = 0; i + 8 <= n; i += 8)
		for (j = 0; j < 8; j++)
			lane[j] += v[i + j];
	for (; i < n; i++)
		sum += v[i];
	for (j = 0; j < 8; j++)
		sum += lane[j];
	return sum;
}

static void dense_forward(const fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	size_t in = l->in_c * l->in_t, s;

	for (s = 0; s < n; s++)
		memcpy(y + s * l->units, p + l->b, l->units * sizeof *y);
	fin_gemm(0, 1, n, l->units, in, 1, x, in, p + l->w, in, 1, y, l->units);
}

static void dense_backward(const fin_layer *l, const float *p, float *restrict g, const float *x,
			   const float *restrict dy, float *dx, size_t n)
{
	size_t in = l->in_c * l->in_t, s, u;

	if (l->share_x) {
		memcpy(l->share_x, x, n * in * sizeof *x);
		memcpy(l->share_dy, dy, n * l->units * sizeof *dy);
	} else {
		fin_gemm(1, 0, l->units, in, n, 1, dy, l->units, x, in, 1, g + l->w, in);
		for (s = 0; s < n; s++)
			for (u = 0; u < l->units; u++)
				g[l->b + u] += dy[s * l->units + u];
	}
	if (dx)
		fin_gemm(0, 0, n, in, l->units, 1, dy, l->units, p + l->w, in, 0, dx, in);
}

/* One GEMM per sample writes its [units][out_t] output in place; bias and
 * activation follow while it is still in cache, relu in the same pass. */
static void conv_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	size_t ck = l->in_c * l->kernel, len = l->units * l->out_t, s, f, t;

	im2col(l, x, l->cols, n);
	for (s = 0; s < n; s++) {
		float *ys = y + s * len;
		fin_gemm(0, 0, l->units, l->out_t, ck, 1, p + l->w, ck, l->cols + s * ck * l->out_t,
			 l->out_t, 0, ys, l->out_t);
		for (f = 0; f < l->units; f++) {
			float *restrict yr = ys + f * l->out_t;
			const float bias = p[l->b + f];
			if (l->act == FIN_ACT_RELU)
				for (t = 0; t < l->out_t; t++) {
					float v = yr[t] + bias;
					yr[t] = v > 0 ? v : 0;
				}
			else
				for (t = 0; t < l->out_t; t++)
					yr[t] += bias;
		}
		if (l->act != FIN_ACT_RELU)
			fin_act_forward(l->act, ys, 1, len);
	}
}

static void conv_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx,
			  size_t n)
{
	size_t ck = l->in_c * l->kernel, len = l->units * l->out_t, s, f;

	for (s = 0; s < n; s++) {
		const float *ds = dy + s * len, *cs = l->cols + s * ck * l->out_t;
		for (f = 0; f < l->units; f++)
			g[l->b + f] += sum_floats(ds + f * l->out_t, l->out_t);
		fin_gemm(0, 1, l->units, ck, l->out_t, 1, ds, l->out_t, cs, l->out_t, 1, g + l->w,
			 ck);
		if (dx)
			fin_gemm(1, 0, ck, l->out_t, l->units, 1, p + l->w, ck, ds, l->out_t, 0,
				 l->dxw + s * ck * l->out_t, l->out_t);
	}
	if (dx)
		col2im(l, l->dxw, dx, n);
}

/* Max pooling keeps, for each output, which of its window's inputs won
 * (the first of equal ones, as PyTorch); a width of 2 has a loop of its
 * own that the compiler vectorises. */
FIN_CLONES
static void pool_forward(fin_layer *l, const float *restrict x, float *restrict y, size_t n)
{
	size_t rows = n * l->in_c, k = l->kernel, r, t, j;

	for (r = 0; r < rows; r++) {
		const float *xr = x + r * l->in_t;
		float *yr = y + r * l->out_t;
		uint16_t *restrict ar = l->arg + r * l->out_t;
		if (l->kind == FIN_L_AVGPOOL) {
			for (t = 0; t < l->out_t; t++) {
				float sum = 0;
				for (j = 0; j < k; j++)
					sum += xr[t * k + j];
				yr[t] = sum / (float)k;
			}
		} else if (k == 2) {
			for (t = 0; t < l->out_t; t++) {
				float a = xr[2 * t], b = xr[2 * t + 1];
				int second = b > a;
				yr[t] = second ? b : a;
				ar[t] = (uint16_t)second;
			}
		} else {
			for (t = 0; t < l->out_t; t++) {
				const float *win = xr + t * k;
				size_t best = 0;
				for (j = 1; j < k; j++)
					if (win[j] > win[best])
						best = j;
				yr[t] = win[best];
				ar[t] = (uint16_t)best;
			}
		}
	}
}

/* Writes every input's gradient, the steps past the last window's 0. */
FIN_CLONES
static void pool_backward(const fin_layer *l, const float *restrict dy, float *restrict dx,
			  size_t n)
{
	size_t rows = n * l->in_c, k = l->kernel, r, t, j;

	for (r = 0; r < rows; r++) {
		const float *dyr = dy + r * l->out_t;
		const uint16_t *restrict ar = l->arg + r * l->out_t;
		float *dxr = dx + r * l->in_t;
		if (l->kind == FIN_L_AVGPOOL) {
			for (t = 0; t < l->out_t; t++)
				for (j = 0; j < k; j++)
					dxr[t * k + j] = dyr[t] / (float)k;
		} else if (k == 2) {
			for (t = 0; t < l->out_t; t++) {
				float d = dyr[t];
				int second = ar[t];
				dxr[2 * t] = second ? 0 : d;
				dxr[2 * t + 1] = second ? d : 0;
			}
		} else {
			for (t = 0; t < l->out_t; t++)
				for (j = 0; j < k; j++)
					dxr[t * k + j] = j == ar[t] ? dyr[t] : 0;
		}
		for (t = l->out_t * k; t < l->in_t; t++)
			dxr[t] = 0;
	}
}

/* Layer normalisation over the channels at each time step, as PyTorch's
 * LayerNorm(channels) over a sequence of [t][c] tokens: y = gamma *
 * (x - mean) / sqrt(var + eps) + beta, var the biased variance. Sums run
 * over the channels with the steps in the inner loop, so they vectorise. */
#define LAYERNORM_EPS 1e-5f

FIN_CLONES
void fin_layernorm_forward(size_t C, size_t T, const float *gamma, const float *beta,
			   float *xhat, float *rstd, const float *restrict x, float *restrict y,
			   size_t n)
{
	size_t s, c, t, t0;
	/* Means and variances summed in double, 64 steps at a time: a window
	 * of prices near 1000 that move by cents keeps its digits. */
	double mean[64], var[64];

	for (s = 0; s < n; s++) {
		const float *xs = x + s * C * T;
		float *restrict xh = xhat + s * C * T, *restrict rs = rstd + s * T;
		for (t0 = 0; t0 < T; t0 += 64) {
			size_t tn = T - t0 < 64 ? T - t0 : 64;
			for (t = 0; t < tn; t++)
				mean[t] = var[t] = 0;
			for (c = 0; c < C; c++)
				for (t = 0; t < tn; t++)
					mean[t] += xs[c * T + t0 + t];
			for (t = 0; t < tn; t++)
				mean[t] /= (double)C;
			for (c = 0; c < C; c++)
				for (t = 0; t < tn; t++) {
					double d = xs[c * T + t0 + t] - mean[t];
					var[t] += d * d;
				}
			for (t = 0; t < tn; t++)
				rs[t0 + t] = (float)(1 / sqrt(var[t] / (double)C + LAYERNORM_EPS));
			for (c = 0; c < C; c++) {
				float *restrict ys = y + s * C * T + c * T + t0;
				float *restrict xc = xh + c * T + t0;
				for (t = 0; t < tn; t++) {
					xc[t] = (float)((xs[c * T + t0 + t] - mean[t]) * rs[t0 + t]);
					ys[t] = gamma[c] * xc[t] + beta[c];
				}
			}
		}
	}
}

/* dx = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)) with g = gamma * dy,
 * per step; gamma's gradient is the sum of dy * xhat, beta's of dy. */
FIN_CLONES
void fin_layernorm_backward(size_t C, size_t T, const float *gamma, float *restrict ggamma,
			    float *restrict gbeta, const float *xhat, const float *rstd,
			    const float *restrict dy, float *restrict dx, size_t n)
{
	size_t s, c, t;

	for (s = 0; s < n; s++) {
		const float *ds = dy + s * C * T, *xh = xhat + s * C * T, *rs = rstd + s * T;
		for (c = 0; c < C; c++) {
			float gw = 0, gb = 0;
			for (t = 0; t < T; t++) {
				gw += ds[c * T + t] * xh[c * T + t];
				gb += ds[c * T + t];
			}
			ggamma[c] += gw;
			gbeta[c] += gb;
		}
		if (!dx)
			continue;
		{
			/* The two means over the channels, 64 steps at a time. */
			float *restrict dxs = dx + s * C * T;
			float mean_g[64], mean_gx[64];
			size_t t0;
			for (t0 = 0; t0 < T; t0 += 64) {
				size_t tn = T - t0 < 64 ? T - t0 : 64;
				for (t = 0; t < tn; t++)
					mean_g[t] = mean_gx[t] = 0;
				for (c = 0; c < C; c++)
					for (t = 0; t < tn; t++) {
						float g = gamma[c] * ds[c * T + t0 + t];
						mean_g[t] += g;
						mean_gx[t] += g * xh[c * T + t0 + t];
					}
				for (t = 0; t < tn; t++) {
					mean_g[t] /= (float)C;
					mean_gx[t] /= (float)C;
				}
				for (c = 0; c < C; c++)
					for (t = 0; t < tn; t++) {
						size_t i = c * T + t0 + t;
						dxs[i] = rs[t0 + t] * (gamma[c] * ds[i] - mean_g[t] -
								       xh[i] * mean_gx[t]);
					}
			}
		}
	}
}

void fin_layer_forward(fin_layer *l, const float *params, const float *x, float *y, size_t n,
		       int training, gsl_rng *rng)
{
	size_t d = l->in_c * l->in_t, i;

	switch (l->kind) {
	case FIN_L_DENSE:
		dense_forward(l, params, x, y, n);
		break;
	case FIN_L_CONV1D:
		conv_forward(l, params, x, y, n);
		break;
	case FIN_L_LSTM:
	case FIN_L_GRU:
		fin_rnn_forward(l, params, x, y, n);
		break;
	case FIN_L_MAXPOOL:
	case FIN_L_AVGPOOL:
		pool_forward(l, x, y, n);
		break;
	case FIN_L_LAYERNORM:
		fin_layernorm_forward(l->in_c, l->in_t, params + l->w, params + l->b, l->xhat,
				      l->rstd, x, y, n);
		break;
	case FIN_L_ATTENTION:
		fin_attention_forward(l, params, x, y, n);
		break;
	case FIN_L_FF:
		fin_ff_forward(l, params, x, y, n);
		return; /* its activation is inside */
	case FIN_L_POSENC:
		fin_posenc_forward(l, params, x, y, n);
		break;
	case FIN_L_PATCH:
		fin_patch_forward(l, x, y, n);
		break;
	case FIN_L_SEQPOOL:
		fin_seqpool_forward(l, x, y, n);
		break;
	case FIN_L_FLATTEN:
	case FIN_L_ACT:
		memcpy(y, x, n * d * sizeof *y);
		break;
	case FIN_L_DROPOUT:
		l->masked = training;
		if (!training) {
			memcpy(y, x, n * d * sizeof *y);
			break;
		}
		/* Inverted dropout: kept values are scaled up in training, so
		 * prediction needs no change. */
		for (i = 0; i < n * d; i++) {
			l->mask[i] = gsl_rng_uniform(rng) < l->rate ? 0 : 1 / (1 - l->rate);
			y[i] = x[i] * l->mask[i];
		}
		break;
	}
	if (l->kind != FIN_L_CONV1D) /* conv_forward applied it sample by sample */
		fin_act_forward(l->act, y, n, l->out_c * l->out_t);
}

void fin_layer_backward(fin_layer *l, const float *params, float *grads, const float *x,
			const float *y, float *dy, float *dx, size_t n)
{
	size_t d = l->in_c * l->in_t, i;

	if (l->kind != FIN_L_FF) /* its activation is inside */
		fin_act_backward(l->act, y, dy, n, l->out_c * l->out_t);
	switch (l->kind) {
	case FIN_L_DENSE:
		dense_backward(l, params, grads, x, dy, dx, n);
		break;
	case FIN_L_CONV1D:
		conv_backward(l, params, grads, dy, dx, n);
		break;
	case FIN_L_LSTM:
	case FIN_L_GRU:
		fin_rnn_backward(l, params, grads, dy, dx, n);
		break;
	case FIN_L_MAXPOOL:
	case FIN_L_AVGPOOL:
		if (dx)
			pool_backward(l, dy, dx, n);
		break;
	case FIN_L_LAYERNORM:
		fin_layernorm_backward(l->in_c, l->in_t, params + l->w, grads + l->w, grads + l->b,
				       l->xhat, l->rstd, dy, dx, n);
		break;
	case FIN_L_ATTENTION:
		fin_attention_backward(l, params, grads, dy, dx, n);
		break;
	case FIN_L_FF:
		fin_ff_backward(l, params, grads, dy, dx, n);
		break;
	case FIN_L_POSENC:
		fin_posenc_backward(l, grads, dy, dx, n);
		break;
	case FIN_L_PATCH:
		if (dx)
			fin_patch_backward(l, dy, dx, n);
		break;
	case FIN_L_SEQPOOL:
		if (dx)
			fin_seqpool_backward(l, dy, dx, n);
		break;
	case FIN_L_FLATTEN:
	case FIN_L_ACT:
		if (dx)
			memcpy(dx, dy, n * d * sizeof *dx);
		break;
	case FIN_L_DROPOUT:
		if (dx)
			for (i = 0; i < n * d; i++)
				dx[i] = l->masked ? dy[i] * l->mask[i] : dy[i];
		break;
	}
}

double fin_sum_sq(const float *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	return s;
}

size_t fin_layer_row_work(const fin_layer *l)
{
	if (l->kind == FIN_L_CONV1D)
		return l->units * l->in_c * l->kernel;
	if (l->kind == FIN_L_LSTM || l->kind == FIN_L_GRU)
		return fin_rnn_row_work(l);
	return fin_tf_row_work(l);
}

void fin_layer_row_sq_norms(const fin_layer *l, const float *x, const float *dy, size_t n,
			    float *work, double *sq)
{
	size_t in = l->in_c * l->in_t, ck = l->in_c * l->kernel, s, f, t;

	switch (l->kind) {
	case FIN_L_DENSE:
		/* The gradient of a dense layer for one sample is dy x^T (and dy
		 * for the biases): its squared norm is |x|^2 |dy|^2 + |dy|^2. */
		for (s = 0; s < n; s++)
			sq[s] += (fin_sum_sq(x + s * in, in) + 1) *
				 fin_sum_sq(dy + s * l->units, l->units);
		break;
	case FIN_L_CONV1D:
		/* Sample s's gradient is dy_s cols_s^T, from its output gradients
		 * [units][out_t] and the forward pass's columns [in_c * kernel][out_t]. */
		for (s = 0; s < n; s++) {
			const float *ds = dy + s * l->units * l->out_t;
			double bias = 0;
			fin_gemm(0, 1, l->units, ck, l->out_t, 1, ds, l->out_t,
				 l->cols + s * ck * l->out_t, l->out_t, 0, work, ck);
			for (f = 0; f < l->units; f++) {
				double b = 0;
				for (t = 0; t < l->out_t; t++)
					b += ds[f * l->out_t + t];
				bias += b * b;
			}
			sq[s] += fin_sum_sq(work, l->units * ck) + bias;
		}
		break;
	case FIN_L_LSTM:
	case FIN_L_GRU:
		fin_rnn_row_sq_norms(l, n, work, sq);
		break;
	case FIN_L_ATTENTION:
	case FIN_L_FF:
	case FIN_L_POSENC:
		fin_tf_row_sq_norms(l, dy, n, work, sq);
		break;
	case FIN_L_LAYERNORM:
		/* Sample s's gradient of gamma[c] is the sum over the steps of
		 * dy * xhat, of beta[c] the sum of dy. */
		for (s = 0; s < n; s++)
			for (f = 0; f < l->in_c; f++) {
				const float *d = dy + (s * l->in_c + f) * l->in_t;
				const float *xh = l->xhat + (s * l->in_c + f) * l->in_t;
				double gw = 0, gb = 0;
				for (t = 0; t < l->in_t; t++) {
					gw += (double)d[t] * xh[t];
					gb += d[t];
				}
				sq[s] += gw * gw + gb * gb;
			}
		break;
	default:
		break;
	}
}

FIN_CLONES
void fin_sum_rows(float *restrict sums, const float *restrict rows, size_t n, size_t width)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < width; j++)
			sums[j] += rows[i * width + j];
}
