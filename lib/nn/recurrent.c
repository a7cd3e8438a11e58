#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "nn/gemm.h"
#include "nn/lanes.h"
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
	l->tmp = malloc((2 * cap * p.H + 2 * p.GH) * sizeof *l->tmp);
	l->dxw = malloc(steps * p.C * sizeof *l->dxw);
	l->w_hh_t = malloc(p.H * p.GH * sizeof *l->w_hh_t);
	return l->xt && l->gates && l->h && l->c && l->dgx && l->tmp && l->dxw && l->w_hh_t &&
			       (l->kind == FIN_L_LSTM || l->dgh)
		       ? 0
		       : -1;
}

/* The element-wise work of a step runs over all its samples and units in
 * one pass the compiler vectorises, with AVX2 and AVX-512 versions chosen
 * when the program starts (core/clones.h). */
static inline float sigmoid(float v)
{
	return 1 / (1 + fin_exp_lane(-v));
}

/* tanh through e^v: the absolute error stays below 2e-7, a little above an
 * ulp of 1, as with libm's expf. */
static inline float tanh_lane(float v)
{
	return 2 / (1 + fin_exp_lane(-2 * v)) - 1;
}

/* One step of n samples: g holds x W_ih^T + b_ih + h W_hh^T, and b_hh is
 * added here. g becomes the gates' values, then c and h the new states. */
FIN_CLONES
static void lstm_step(size_t n, size_t H, const float *restrict b_hh, float *g,
		      const float *restrict c_prev, float *restrict c, float *restrict h)
{
	size_t s, j;

	for (s = 0; s < n; s++) {
		float *restrict gi = g + s * 4 * H, *restrict gf = gi + H, *restrict gg = gf + H,
				*restrict go = gg + H;
		const float *restrict cp = c_prev + s * H;
		float *restrict cs = c + s * H, *restrict hs = h + s * H;
		for (j = 0; j < H; j++) {
			float i = sigmoid(gi[j] + b_hh[j]), f = sigmoid(gf[j] + b_hh[H + j]);
			float v = tanh_lane(gg[j] + b_hh[2 * H + j]);
			float o = sigmoid(go[j] + b_hh[3 * H + j]);
			float cn = f * cp[j] + i * v;
			gi[j] = i;
			gf[j] = f;
			gg[j] = v;
			go[j] = o;
			cs[j] = cn;
			hs[j] = o * tanh_lane(cn);
		}
	}
}

/* hh holds h W_hh^T for this step; with b_hh added, its n part is kept in
 * hn for backward. */
FIN_CLONES
static void gru_step(size_t n, size_t H, const float *restrict b_hh, float *g,
		     const float *restrict hh, float *restrict hn, const float *restrict h_prev,
		     float *restrict h)
{
	size_t s, j;

	for (s = 0; s < n; s++) {
		float *restrict gr = g + s * 3 * H, *restrict gz = gr + H, *restrict gn = gz + H;
		const float *restrict hr = hh + s * 3 * H, *restrict hz = hr + H,
				      *restrict hnn = hz + H;
		const float *restrict hp = h_prev + s * H;
		float *restrict hns = hn + s * H, *restrict hs = h + s * H;
		for (j = 0; j < H; j++) {
			float nh = hnn[j] + b_hh[2 * H + j];
			float r = sigmoid(gr[j] + (hr[j] + b_hh[j]));
			float z = sigmoid(gz[j] + (hz[j] + b_hh[H + j]));
			float v = tanh_lane(gn[j] + r * nh);
			gr[j] = r;
			gz[j] = z;
			gn[j] = v;
			hns[j] = nh;
			hs[j] = (1 - z) * v + z * hp[j];
		}
	}
}

/* The steps whose input projections the forward pass makes together: as
 * many as have 256 KiB of gates for n samples, at least one. */
static size_t span_steps(const struct rnn_params *p, size_t n)
{
	size_t step = n * p->GH, span = step ? ((size_t)1 << 16) / step : 1;

	return span ? span : 1;
}

void fin_rnn_forward(fin_layer *l, const float *params, const float *x, float *y, size_t n)
{
	struct rnn_params p = shape_of(l);
	size_t t, s, j, r, N = n, H = p.H, span = span_steps(&p, N);
	float *hh = l->dgx; /* free until backward: holds h W_hh^T for a step */

	/* The steps' GEMMs read W_hh transposed, [H][GH], laid out once here:
	 * OpenBLAS multiplies by a transposed operand of this size through its
	 * general kernel, which packs W_hh again at every step, and by one as
	 * stored through its kernel for small matrices, which is faster. */
	for (r = 0; r < p.GH; r++)
		for (j = 0; j < H; j++)
			l->w_hh_t[j * p.GH + r] = params[p.w_hh + r * H + j];
	/* The input, time-major. */
	for (s = 0; s < N; s++)
		for (j = 0; j < p.C; j++)
			for (t = 0; t < p.T; t++)
				l->xt[(t * N + s) * p.C + j] = x[(s * p.C + j) * p.T + t];
	memset(l->h, 0, N * H * sizeof *l->h);
	if (l->kind == FIN_L_LSTM)
		memset(l->c, 0, N * H * sizeof *l->c);
	for (t = 0; t < p.T; t++) {
		float *g = l->gates + t * N * p.GH, *h_prev = l->h + t * N * H, *h = h_prev + N * H;
		/* The input projections of the next span steps, added to b_ih, in
		 * one GEMM just before those steps, which then find them in cache. */
		if (t % span == 0) {
			size_t rows = (t + span < p.T ? span : p.T - t) * N;
			for (r = 0; r < rows; r++)
				memcpy(g + r * p.GH, params + p.b_ih, p.GH * sizeof *g);
			fin_gemm(0, 1, rows, p.GH, p.C, 1, l->xt + t * N * p.C, p.C,
				 params + p.w_ih, p.C, 1, g, p.GH);
		}
		/* h[0] = 0: the first step has no recurrent product. */
		if (l->kind == FIN_L_LSTM) {
			if (t > 0)
				fin_gemm(0, 0, N, p.GH, H, 1, h_prev, H, l->w_hh_t, p.GH, 1, g,
					 p.GH);
			lstm_step(N, H, params + p.b_hh, g, l->c + t * N * H, l->c + (t + 1) * N * H,
				  h);
		} else {
			if (t > 0)
				fin_gemm(0, 0, N, p.GH, H, 1, h_prev, H, l->w_hh_t, p.GH, 0, hh,
					 p.GH);
			else
				memset(hh, 0, N * p.GH * sizeof *hh);
			gru_step(N, H, params + p.b_hh, g, hh, l->c + t * N * H, h_prev, h);
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

/* One step back: from dh and dc, the gradients reaching h[t+1] and c[t+1],
 * the gradients at the gates' inputs into dg; dc becomes the gradient
 * reaching c[t]. */
FIN_CLONES
static void lstm_step_back(size_t n, size_t H, const float *restrict g,
			   const float *restrict c_prev, const float *restrict c,
			   const float *restrict dh, float *restrict dc, float *restrict dg)
{
	size_t s, j;

	for (s = 0; s < n; s++) {
		const float *restrict gi = g + s * 4 * H, *restrict gf = gi + H,
				      *restrict gg = gf + H, *restrict go = gg + H;
		float *restrict di = dg + s * 4 * H, *restrict df = di + H, *restrict dv = df + H,
				*restrict dout = dv + H;
		const float *restrict cp = c_prev + s * H, *restrict cs = c + s * H,
				      *restrict dhs = dh + s * H;
		float *restrict dcs = dc + s * H;
		for (j = 0; j < H; j++) {
			float i = gi[j], f = gf[j], v = gg[j], o = go[j], tc = tanh_lane(cs[j]);
			float d = dcs[j] + dhs[j] * o * (1 - tc * tc);
			di[j] = d * v * i * (1 - i);
			df[j] = d * cp[j] * f * (1 - f);
			dv[j] = d * i * (1 - v * v);
			dout[j] = dhs[j] * tc * o * (1 - o);
			dcs[j] = d * f;
		}
	}
}

/* One step back: from dh, the gradient reaching h[t+1], the gradients at
 * the gates' inputs into dgx (for W_ih) and dgh (for W_hh, which differ in
 * the n gate); dh keeps the direct path h[t] -> h[t+1]. */
FIN_CLONES
static void gru_step_back(size_t n, size_t H, const float *restrict g, const float *restrict hn,
			  const float *restrict h_prev, float *restrict dh, float *restrict dgx,
			  float *restrict dgh)
{
	size_t s, j;

	for (s = 0; s < n; s++) {
		const float *restrict gr = g + s * 3 * H, *restrict gz = gr + H,
				      *restrict gn = gz + H;
		float *restrict xr = dgx + s * 3 * H, *restrict xz = xr + H, *restrict xn = xz + H;
		float *restrict hr = dgh + s * 3 * H, *restrict hz = hr + H, *restrict hnd = hz + H;
		const float *restrict hns = hn + s * H, *restrict hp = h_prev + s * H;
		float *restrict dhs = dh + s * H;
		for (j = 0; j < H; j++) {
			float r = gr[j], z = gz[j], v = gn[j];
			float dn = dhs[j] * (1 - z) * (1 - v * v);
			float dz = dhs[j] * (hp[j] - v) * z * (1 - z);
			float dr = dn * hns[j] * r * (1 - r);
			xr[j] = hr[j] = dr;
			xz[j] = hz[j] = dz;
			xn[j] = dn;
			hnd[j] = dn * r;
			dhs[j] *= z;
		}
	}
}

void fin_rnn_backward(fin_layer *l, const float *params, float *grads, const float *dy,
		      float *dx, size_t n)
{
	struct rnn_params p = shape_of(l);
	size_t t, s, j, r, N = n, H = p.H;
	float *dh = l->tmp, *dc = dh + N * H; /* gradients reaching h[t+1] and c[t+1] */
	float *db_ih = dc + N * H, *db_hh = db_ih + p.GH; /* the biases' gradients */
	float *dgh = l->kind == FIN_L_GRU ? l->dgh : l->dgx;

	memset(dh, 0, (2 * N * H + 2 * p.GH) * sizeof *dh);
	for (t = p.T; t-- > 0;) {
		const float *g = l->gates + t * N * p.GH, *h_prev = l->h + t * N * H;
		float *dgxt = l->dgx + t * N * p.GH, *dght = dgh + t * N * p.GH;

		/* the gradient reaching h[t+1] from the output */
		if (l->seq)
			for (s = 0; s < N; s++)
				for (j = 0; j < H; j++)
					dh[s * H + j] += dy[(s * H + j) * p.T + t];
		else if (t + 1 == p.T)
			for (j = 0; j < N * H; j++)
				dh[j] += dy[j];
		if (l->kind == FIN_L_LSTM)
			lstm_step_back(N, H, g, l->c + t * N * H, l->c + (t + 1) * N * H, dh, dc,
				       dgxt);
		else
			gru_step_back(N, H, g, l->c + t * N * H, h_prev, dh, dgxt, dght);
		/* The biases' gradients while the step's are in cache; b_hh's are
		 * b_ih's but in a GRU's n gate. */
		fin_sum_rows(db_ih, dgxt, N, p.GH);
		if (l->kind == FIN_L_GRU)
			fin_sum_rows(db_hh, dght, N, p.GH);
		/* dh[t] = dgh W_hh (+ the direct GRU path already in dh); h[0] is
		 * no parameter. */
		if (t > 0)
			fin_gemm(0, 0, N, H, p.GH, 1, dght, p.GH, params + p.w_hh, H,
				 l->kind == FIN_L_GRU ? 1 : 0, dh, H);
	}
	/* Weight gradients of all steps at once; h[0] = 0 adds nothing to
	 * W_hh's. */
	fin_gemm(1, 0, p.GH, p.C, p.T * N, 1, l->dgx, p.GH, l->xt, p.C, 1, grads + p.w_ih, p.C);
	if (p.T > 1)
		fin_gemm(1, 0, p.GH, H, (p.T - 1) * N, 1, dgh + N * p.GH, p.GH, l->h + N * H, H, 1,
			 grads + p.w_hh, H);
	for (r = 0; r < p.GH; r++) {
		grads[p.b_ih + r] += db_ih[r];
		grads[p.b_hh + r] += l->kind == FIN_L_GRU ? db_hh[r] : db_ih[r];
	}
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
		total = fin_sum_sq(work, p.GH * p.C);
		fin_gemm(1, 0, p.GH, p.H, p.T, 1, dgh + s * p.GH, N * p.GH, l->h + s * p.H, N * p.H,
			 0, work, p.H);
		total += fin_sum_sq(work, p.GH * p.H);
		for (k = 0; k < p.GH; k++)
			bias[k] = 0;
		for (t = 0; t < p.T; t++)
			for (k = 0; k < p.GH; k++)
				bias[k] += l->dgx[(t * N + s) * p.GH + k];
		total += fin_sum_sq(bias, p.GH);
		for (k = 0; k < p.GH; k++)
			bias[k] = 0;
		for (t = 0; t < p.T; t++)
			for (k = 0; k < p.GH; k++)
				bias[k] += dgh[(t * N + s) * p.GH + k];
		sq[s] += total + fin_sum_sq(bias, p.GH);
	}
}
