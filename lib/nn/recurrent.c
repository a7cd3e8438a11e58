#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/recurrent.h"

/* Parameters, as PyTorch orders them: weight_ih [G*H][C], weight_hh
 * [G*H][H], then bias_ih [G*H] and bias_hh [G*H]. */
struct rnn_params {
	size_t C, H, G, T, GH;
	size_t w_ih, w_hh, b_ih, b_hh;
};

static struct rnn_params shape_of(const fin_layer *l)
{
	struct rnn_params p;

	p.C = l->in_c;
	p.T = l->in_t;
	p.H = l->units;
	p.G = fin_layer_gates(l);
	p.GH = p.G * p.H;
	p.w_ih = l->w;
	p.w_hh = l->w + p.GH * p.C;
	p.b_ih = l->b;
	p.b_hh = l->b + p.GH;
	return p;
}

int fin_rnn_reserve(fin_layer *l, size_t cap)
{
	struct rnn_params p = shape_of(l);
	size_t steps = p.T * cap;

	l->xt = malloc(steps * p.C * sizeof *l->xt);
	l->gates = malloc(steps * p.GH * sizeof *l->gates);
	l->h = malloc((steps + cap) * p.H * sizeof *l->h);
	l->c = malloc((steps + cap) * p.H * sizeof *l->c);
	l->dgx = malloc(steps * p.GH * sizeof *l->dgx);
	l->dgh = l->kind == FIN_L_GRU ? malloc(steps * p.GH * sizeof *l->dgh) : NULL;
	l->tmp = malloc(2 * cap * p.H * sizeof *l->tmp);
	l->dxw = malloc(steps * p.C * sizeof *l->dxw);
	return l->xt && l->gates && l->h && l->c && l->dgx && l->tmp && l->dxw &&
			       (l->kind == FIN_L_LSTM || l->dgh)
		       ? 0
		       : -1;
}

static float sigmoid(float v)
{
	return 1 / (1 + expf(-v));
}

/* tanh through expf, which is several times faster than tanhf here: the
 * absolute error stays below 2e-7, a little above an ulp of 1. */
static float tanh_fast(float v)
{
	return 2 / (1 + expf(-2 * v)) - 1;
}

/* rows [n][width] += bias */
static void add_rows(float *rows, const float *bias, size_t n, size_t width)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < width; j++)
			rows[i * width + j] += bias[j];
}

/* sums[width] += column sums of rows [n][width] */
static void sum_rows(float *sums, const float *rows, size_t n, size_t width)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < width; j++)
			sums[j] += rows[i * width + j];
}

static void lstm_step(const struct rnn_params *p, float *g, const float *c_prev, float *c,
		      float *h, size_t n)
{
	size_t s, j, H = p->H;

	for (s = 0; s < n; s++) {
		float *gi = g + s * p->GH, *gf = gi + H, *gg = gf + H, *go = gg + H;
		for (j = 0; j < H; j++) {
			gi[j] = sigmoid(gi[j]);
			gf[j] = sigmoid(gf[j]);
			gg[j] = tanh_fast(gg[j]);
			go[j] = sigmoid(go[j]);
			c[s * H + j] = gf[j] * c_prev[s * H + j] + gi[j] * gg[j];
			h[s * H + j] = go[j] * tanh_fast(c[s * H + j]);
		}
	}
}

/* hh holds W_hh h + b_hh for this step; its n part is kept for backward. */
static void gru_step(const struct rnn_params *p, float *g, const float *hh, float *hn_keep,
		     const float *h_prev, float *h, size_t n)
{
	size_t s, j, H = p->H;

	for (s = 0; s < n; s++) {
		float *gr = g + s * p->GH, *gz = gr + H, *gn = gz + H;
		const float *hr = hh + s * p->GH, *hz = hr + H, *hnn = hz + H;
		for (j = 0; j < H; j++) {
			gr[j] = sigmoid(gr[j] + hr[j]);
			gz[j] = sigmoid(gz[j] + hz[j]);
			gn[j] = tanh_fast(gn[j] + gr[j] * hnn[j]);
			hn_keep[s * H + j] = hnn[j];
			h[s * H + j] = (1 - gz[j]) * gn[j] + gz[j] * h_prev[s * H + j];
		}
	}
}

void fin_rnn_forward(fin_layer *l, const float *params, const float *x, float *y, size_t n)
{
	struct rnn_params p = shape_of(l);
	size_t t, s, j, N = n, H = p.H;
	float *hh = l->dgx; /* free until backward: holds W_hh h for a step */

	/* Time-major input, then every step's input projection in one GEMM. */
	for (s = 0; s < N; s++)
		for (j = 0; j < p.C; j++)
			for (t = 0; t < p.T; t++)
				l->xt[(t * N + s) * p.C + j] = x[(s * p.C + j) * p.T + t];
	fin_gemm(0, 1, p.T * N, p.GH, p.C, 1, l->xt, p.C, params + p.w_ih, p.C, 0, l->gates, p.GH);
	add_rows(l->gates, params + p.b_ih, p.T * N, p.GH);
	memset(l->h, 0, N * H * sizeof *l->h);
	if (l->kind == FIN_L_LSTM)
		memset(l->c, 0, N * H * sizeof *l->c);
	for (t = 0; t < p.T; t++) {
		float *g = l->gates + t * N * p.GH, *h_prev = l->h + t * N * H, *h = h_prev + N * H;
		if (l->kind == FIN_L_LSTM) {
			fin_gemm(0, 1, N, p.GH, H, 1, h_prev, H, params + p.w_hh, H, 1, g, p.GH);
			add_rows(g, params + p.b_hh, N, p.GH);
			lstm_step(&p, g, l->c + t * N * H, l->c + (t + 1) * N * H, h, N);
		} else {
			fin_gemm(0, 1, N, p.GH, H, 1, h_prev, H, params + p.w_hh, H, 0, hh, p.GH);
			add_rows(hh, params + p.b_hh, N, p.GH);
			gru_step(&p, g, hh, l->c + t * N * H, h_prev, h, N);
		}
	}
	/* Output as [n][H][T] (every step) or [n][H] (the last). */
	for (s = 0; s < N; s++)
		for (j = 0; j < H; j++) {
			if (!l->seq) {
				y[s * H + j] = l->h[(p.T * N + s) * H + j];
				continue;
			}
			for (t = 0; t < p.T; t++)
				y[(s * H + j) * p.T + t] = l->h[((t + 1) * N + s) * H + j];
		}
}

void fin_rnn_backward(fin_layer *l, const float *params, float *grads, const float *dy,
		      float *dx, size_t n)
{
	struct rnn_params p = shape_of(l);
	size_t t, s, j, N = n, H = p.H;
	float *dh = l->tmp, *dc = dh + N * H; /* gradients reaching h[t+1] and c[t+1] */
	float *dgh = l->kind == FIN_L_GRU ? l->dgh : l->dgx;

	memset(dh, 0, 2 * N * H * sizeof *dh);
	for (t = p.T; t-- > 0;) {
		const float *g = l->gates + t * N * p.GH, *h_prev = l->h + t * N * H;
		float *dgxt = l->dgx + t * N * p.GH, *dght = dgh + t * N * p.GH;

		/* the gradient reaching h[t+1] from the output */
		for (s = 0; s < N; s++)
			for (j = 0; j < H; j++) {
				if (l->seq)
					dh[s * H + j] += dy[(s * H + j) * p.T + t];
				else if (t + 1 == p.T)
					dh[s * H + j] += dy[s * H + j];
			}
		for (s = 0; s < N; s++) {
			const float *gs = g + s * p.GH;
			float *dxs = dgxt + s * p.GH, *dhs = dght + s * p.GH;
			for (j = 0; j < H; j++) {
				size_t k = s * H + j;
				if (l->kind == FIN_L_LSTM) {
					float i = gs[j], f = gs[H + j], gg = gs[2 * H + j], o = gs[3 * H + j];
					float c_new = l->c[(t + 1) * N * H + k], tc = tanh_fast(c_new);
					float dcs = dc[k] + dh[k] * o * (1 - tc * tc);
					dxs[j] = dcs * gg * i * (1 - i);
					dxs[H + j] = dcs * l->c[t * N * H + k] * f * (1 - f);
					dxs[2 * H + j] = dcs * i * (1 - gg * gg);
					dxs[3 * H + j] = dh[k] * tc * o * (1 - o);
					dc[k] = dcs * f;
				} else {
					float r = gs[j], z = gs[H + j], nn = gs[2 * H + j];
					float hn = l->c[t * N * H + k], hp = h_prev[k];
					float dn = dh[k] * (1 - z) * (1 - nn * nn);
					float dz = dh[k] * (hp - nn) * z * (1 - z);
					float dr = dn * hn * r * (1 - r);
					dxs[j] = dhs[j] = dr;
					dxs[H + j] = dhs[H + j] = dz;
					dxs[2 * H + j] = dn;
					dhs[2 * H + j] = dn * r;
					dh[k] *= z; /* the direct path h[t] -> h[t+1] */
				}
			}
		}
		/* dh[t] = dgh W_hh (+ the direct GRU path already in dh) */
		fin_gemm(0, 0, N, H, p.GH, 1, dght, p.GH, params + p.w_hh, H,
			 l->kind == FIN_L_GRU ? 1 : 0, dh, H);
	}
	/* Weight gradients of all steps at once. */
	fin_gemm(1, 0, p.GH, p.C, p.T * N, 1, l->dgx, p.GH, l->xt, p.C, 1, grads + p.w_ih, p.C);
	fin_gemm(1, 0, p.GH, H, p.T * N, 1, dgh, p.GH, l->h, H, 1, grads + p.w_hh, H);
	sum_rows(grads + p.b_ih, l->dgx, p.T * N, p.GH);
	sum_rows(grads + p.b_hh, dgh, p.T * N, p.GH);
	if (dx) {
		fin_gemm(0, 0, p.T * N, p.C, p.GH, 1, l->dgx, p.GH, params + p.w_ih, p.C, 0, l->dxw,
			 p.C);
		for (s = 0; s < N; s++)
			for (j = 0; j < p.C; j++)
				for (t = 0; t < p.T; t++)
					dx[(s * p.C + j) * p.T + t] = l->dxw[(t * N + s) * p.C + j];
	}
}

size_t fin_rnn_row_work(const fin_layer *l)
{
	struct rnn_params p = shape_of(l);

	return p.GH * (p.C > p.H ? p.C : p.H) + p.GH;
}

static double sum_sq(const float *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	return s;
}

/* Sample s's gradient is the backward pass's sums over steps and samples
 * taken over its steps alone: its rows of the time-major buffers, N rows
 * apart. */
void fin_rnn_row_sq_norms(const fin_layer *l, size_t n, float *work, double *sq)
{
	struct rnn_params p = shape_of(l);
	const float *dgh = l->kind == FIN_L_GRU ? l->dgh : l->dgx;
	float *bias = work + p.GH * (p.C > p.H ? p.C : p.H);
	size_t N = n, s, t, k;

	for (s = 0; s < N; s++) {
		double total;
		fin_gemm(1, 0, p.GH, p.C, p.T, 1, l->dgx + s * p.GH, N * p.GH, l->xt + s * p.C,
			 N * p.C, 0, work, p.C);
		total = sum_sq(work, p.GH * p.C);
		fin_gemm(1, 0, p.GH, p.H, p.T, 1, dgh + s * p.GH, N * p.GH, l->h + s * p.H, N * p.H,
			 0, work, p.H);
		total += sum_sq(work, p.GH * p.H);
		for (k = 0; k < p.GH; k++)
			bias[k] = 0;
		for (t = 0; t < p.T; t++)
			for (k = 0; k < p.GH; k++)
				bias[k] += l->dgx[(t * N + s) * p.GH + k];
		total += sum_sq(bias, p.GH);
		for (k = 0; k < p.GH; k++)
			bias[k] = 0;
		for (t = 0; t < p.T; t++)
			for (k = 0; k < p.GH; k++)
				bias[k] += dgh[(t * N + s) * p.GH + k];
		sq[s] += total + sum_sq(bias, p.GH);
	}
}
