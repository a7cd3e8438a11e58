#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/layers.h"
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
		l->tmp = malloc(cap * l->out_t * l->units * sizeof *l->tmp);
		return l->cols && l->dxw && l->tmp ? 0 : -1;
	case FIN_L_MAXPOOL:
		l->arg = malloc(cap * l->out_c * l->out_t * sizeof *l->arg);
		return l->arg ? 0 : -1;
	case FIN_L_DROPOUT:
		l->mask = malloc(cap * l->in_c * l->in_t * sizeof *l->mask);
		return l->mask ? 0 : -1;
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
	l->cols = l->tmp = l->mask = l->xt = l->gates = l->h = l->c = l->dgx = l->dgh = NULL;
	l->dxw = NULL;
	l->arg = NULL;
}

static size_t conv_pad(const fin_layer *l)
{
	return l->same ? (l->kernel - 1) / 2 : 0;
}

/* cols[s * out_t + t][c * kernel + j] = x[s][c][t + j - pad], 0 outside. */
static void im2col(const fin_layer *l, const float *x, float *cols, size_t n)
{
	size_t ck = l->in_c * l->kernel, pad = conv_pad(l), s, t, c, j;

	for (s = 0; s < n; s++)
		for (t = 0; t < l->out_t; t++) {
			float *row = cols + (s * l->out_t + t) * ck;
			for (c = 0; c < l->in_c; c++) {
				const float *xc = x + (s * l->in_c + c) * l->in_t;
				for (j = 0; j < l->kernel; j++) {
					size_t at = t + j;
					row[c * l->kernel + j] =
						at >= pad && at - pad < l->in_t ? xc[at - pad] : 0;
				}
			}
		}
}

/* The adjoint of im2col: dx[s][c][t + j - pad] += cols[...]. */
static void col2im(const fin_layer *l, const float *cols, float *dx, size_t n)
{
	size_t ck = l->in_c * l->kernel, pad = conv_pad(l), s, t, c, j;

	memset(dx, 0, n * l->in_c * l->in_t * sizeof *dx);
	for (s = 0; s < n; s++)
		for (t = 0; t < l->out_t; t++) {
			const float *row = cols + (s * l->out_t + t) * ck;
			for (c = 0; c < l->in_c; c++) {
				float *xc = dx + (s * l->in_c + c) * l->in_t;
				for (j = 0; j < l->kernel; j++) {
					size_t at = t + j;
					if (at >= pad && at - pad < l->in_t)
						xc[at - pad] += row[c * l->kernel + j];
				}
			}
		}
}

static void dense_forward(const fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	size_t in = l->in_c * l->in_t, s;

	for (s = 0; s < n; s++)
		memcpy(y + s * l->units, p + l->b, l->units * sizeof *y);
	fin_gemm(0, 1, n, l->units, in, 1, x, in, p + l->w, in, 1, y, l->units);
}

static void dense_backward(const fin_layer *l, const float *p, float *g, const float *x,
			   const float *dy, float *dx, size_t n)
{
	size_t in = l->in_c * l->in_t, s, u;

	fin_gemm(1, 0, l->units, in, n, 1, dy, l->units, x, in, 1, g + l->w, in);
	for (s = 0; s < n; s++)
		for (u = 0; u < l->units; u++)
			g[l->b + u] += dy[s * l->units + u];
	if (dx)
		fin_gemm(0, 0, n, in, l->units, 1, dy, l->units, p + l->w, in, 0, dx, in);
}

static void conv_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	size_t ck = l->in_c * l->kernel, rows = n * l->out_t, s, f, t;

	im2col(l, x, l->cols, n);
	fin_gemm(0, 1, rows, l->units, ck, 1, l->cols, ck, p + l->w, ck, 0, l->tmp, l->units);
	for (s = 0; s < n; s++)
		for (f = 0; f < l->units; f++) {
			float *yr = y + (s * l->units + f) * l->out_t, bias = p[l->b + f];
			const float *src = l->tmp + s * l->out_t * l->units + f;
			for (t = 0; t < l->out_t; t++)
				yr[t] = src[t * l->units] + bias;
		}
}

static void conv_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx,
			  size_t n)
{
	size_t ck = l->in_c * l->kernel, rows = n * l->out_t, s, f, t;

	for (s = 0; s < n; s++)
		for (f = 0; f < l->units; f++) {
			const float *dr = dy + (s * l->units + f) * l->out_t;
			float *dst = l->tmp + s * l->out_t * l->units + f, sum = 0;
			for (t = 0; t < l->out_t; t++) {
				dst[t * l->units] = dr[t];
				sum += dr[t];
			}
			g[l->b + f] += sum;
		}
	fin_gemm(1, 0, l->units, ck, rows, 1, l->tmp, l->units, l->cols, ck, 1, g + l->w, ck);
	if (dx) {
		fin_gemm(0, 0, rows, ck, l->units, 1, l->tmp, l->units, p + l->w, ck, 0, l->dxw, ck);
		col2im(l, l->dxw, dx, n);
	}
}

static void pool_forward(fin_layer *l, const float *x, float *y, size_t n)
{
	size_t rows = n * l->in_c, r, t, j;

	for (r = 0; r < rows; r++) {
		const float *xr = x + r * l->in_t;
		float *yr = y + r * l->out_t;
		for (t = 0; t < l->out_t; t++) {
			const float *win = xr + t * l->kernel;
			if (l->kind == FIN_L_MAXPOOL) {
				size_t best = 0;
				for (j = 1; j < l->kernel; j++)
					if (win[j] > win[best])
						best = j;
				yr[t] = win[best];
				l->arg[r * l->out_t + t] = r * l->in_t + t * l->kernel + best;
			} else {
				float sum = 0;
				for (j = 0; j < l->kernel; j++)
					sum += win[j];
				yr[t] = sum / (float)l->kernel;
			}
		}
	}
}

static void pool_backward(const fin_layer *l, const float *dy, float *dx, size_t n)
{
	size_t rows = n * l->in_c, r, t, j;

	memset(dx, 0, rows * l->in_t * sizeof *dx);
	for (r = 0; r < rows; r++)
		for (t = 0; t < l->out_t; t++) {
			float d = dy[r * l->out_t + t];
			if (l->kind == FIN_L_MAXPOOL)
				dx[l->arg[r * l->out_t + t]] += d;
			else
				for (j = 0; j < l->kernel; j++)
					dx[r * l->in_t + t * l->kernel + j] += d / (float)l->kernel;
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
	fin_act_forward(l->act, y, n, l->out_c * l->out_t);
}

void fin_layer_backward(fin_layer *l, const float *params, float *grads, const float *x,
			const float *y, float *dy, float *dx, size_t n)
{
	size_t d = l->in_c * l->in_t, i;

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

static double sum_sq(const float *v, size_t n)
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
	return 0;
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
			sq[s] += (sum_sq(x + s * in, in) + 1) * sum_sq(dy + s * l->units, l->units);
		break;
	case FIN_L_CONV1D:
		/* backward left the output gradients in tmp, [n * out_t][units],
		 * next to the input columns of the forward pass in cols. */
		for (s = 0; s < n; s++) {
			const float *ds = l->tmp + s * l->out_t * l->units;
			double bias = 0;
			fin_gemm(1, 0, l->units, ck, l->out_t, 1, ds, l->units,
				 l->cols + s * l->out_t * ck, ck, 0, work, ck);
			for (f = 0; f < l->units; f++) {
				double b = 0;
				for (t = 0; t < l->out_t; t++)
					b += ds[t * l->units + f];
				bias += b * b;
			}
			sq[s] += sum_sq(work, l->units * ck) + bias;
		}
		break;
	case FIN_L_LSTM:
	case FIN_L_GRU:
		fin_rnn_row_sq_norms(l, n, work, sq);
		break;
	default:
		break;
	}
}
