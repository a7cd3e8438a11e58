/* Attention and the transformer's other layers. Samples arrive as
 * [c][t] like every layer's; attention and ff turn them into tokens,
 * [t][c], so that a projection of a whole batch is one GEMM of n * t rows,
 * and turn their outputs back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "nn/attention.h"
#include "nn/gemm.h"
#include "nn/lanes.h"

/* Where an attention or ff layer's parameters lie. The first projection
 * maps C channels to M values a step (attention: queries, keys and values,
 * M = 3C; ff: the hidden layer, M = units), the second maps I values a step
 * back to C (attention: the heads' outputs, I = C; ff: I = units). With
 * norm, the normalisation's gamma comes first among the weights and its
 * beta first among the biases. */
struct places {
	size_t C, T, M, I;
	size_t gamma, beta, w1, w2, b1, b2;
};

static struct places places_of(const fin_layer *l)
{
	struct places q;
	size_t pre = l->norm ? l->in_c : 0;

	q.C = l->in_c;
	q.T = l->in_t;
	q.M = l->kind == FIN_L_ATTENTION ? 3 * q.C : l->units;
	q.I = l->kind == FIN_L_ATTENTION ? q.C : l->units;
	q.gamma = l->w;
	q.beta = l->b;
	q.w1 = l->w + pre;
	q.w2 = q.w1 + q.M * q.C;
	q.b1 = l->b + pre;
	q.b2 = q.b1 + q.M;
	return q;
}

/* Query steps of an attention layer: all, or with last only the newest. */
static size_t query_steps(const fin_layer *l)
{
	return l->last ? 1 : l->in_t;
}

int fin_tf_reserve(fin_layer *l, size_t cap)
{
	size_t C = l->in_c, T = l->in_t, nt = cap * T;

	if (l->kind == FIN_L_POSENC) {
		size_t t, c;
		if (l->learned)
			return 0;
		if (!(l->pe = malloc(T * C * sizeof *l->pe)))
			return -1;
		for (t = 0; t < T; t++)
			for (c = 0; c < C; c++)
				l->pe[t * C + c] = fin_posenc_sin(t, c, C);
		return 0;
	}
	if (l->kind == FIN_L_ATTENTION) {
		size_t nq = cap * query_steps(l);
		l->tok = malloc(nt * C * sizeof *l->tok);
		l->q = malloc(nq * C * sizeof *l->q);
		l->kv = malloc(nt * 2 * C * sizeof *l->kv);
		l->probs = malloc(nq * l->heads * T * sizeof *l->probs);
		l->ctx = malloc(nq * C * sizeof *l->ctx);
		l->dtok = malloc(nq * C * sizeof *l->dtok);
		l->dq = malloc(nq * C * sizeof *l->dq);
		l->dkv = malloc(nt * 2 * C * sizeof *l->dkv);
		l->dctx = malloc(nt * C * sizeof *l->dctx);
		l->tmp = malloc(T * T * sizeof *l->tmp);
		if (!l->tok || !l->q || !l->kv || !l->probs || !l->ctx || !l->dtok || !l->dq ||
		    !l->dkv || !l->dctx || !l->tmp)
			return -1;
	} else if (l->kind == FIN_L_FF) {
		l->tok = malloc(nt * C * sizeof *l->tok);
		l->ctx = malloc(nt * l->units * sizeof *l->ctx);
		l->dtok = malloc(nt * C * sizeof *l->dtok);
		l->dmid = malloc(nt * l->units * sizeof *l->dmid);
		l->dctx = malloc(nt * C * sizeof *l->dctx);
		if (!l->tok || !l->ctx || !l->dtok || !l->dmid || !l->dctx)
			return -1;
	} else {
		return 0;
	}
	if (l->norm) {
		l->normed = malloc(cap * C * T * sizeof *l->normed);
		l->dnormed = malloc(cap * C * T * sizeof *l->dnormed);
		l->xhat = malloc(cap * C * T * sizeof *l->xhat);
		l->rstd = malloc(cap * T * sizeof *l->rstd);
		if (!l->normed || !l->dnormed || !l->xhat || !l->rstd)
			return -1;
	}
	return 0;
}

/* [n][c][t] to [n][t][c] */
static void to_tokens(const float *restrict x, float *restrict tok, size_t n, size_t C, size_t T)
{
	size_t s, c, t;

	for (s = 0; s < n; s++)
		for (t = 0; t < T; t++)
			for (c = 0; c < C; c++)
				tok[(s * T + t) * C + c] = x[(s * C + c) * T + t];
}

/* [n][t][c] to [n][c][t], adding the last t steps of add ([n][c][ta])
 * unless it is NULL */
static void from_tokens(const float *restrict tok, float *restrict y, const float *restrict add,
			size_t ta, size_t n, size_t C, size_t T)
{
	size_t s, c, t;

	for (s = 0; s < n; s++)
		for (c = 0; c < C; c++) {
			float *restrict yr = y + (s * C + c) * T;
			const float *restrict tr = tok + s * T * C + c;
			if (add) {
				const float *restrict ar = add + (s * C + c) * ta + ta - T;
				for (t = 0; t < T; t++)
					yr[t] = tr[t * C] + ar[t];
			} else {
				for (t = 0; t < T; t++)
					yr[t] = tr[t * C];
			}
		}
}

/* y [m][out] = a [m][in] W^T + b, W [out][in] */
static void project(size_t m, size_t out, size_t in, const float *a, const float *w, const float *b,
		    float *y)
{
	size_t i;

	for (i = 0; i < m; i++)
		memcpy(y + i * out, b, out * sizeof *y);
	fin_gemm(0, 1, m, out, in, 1, a, in, w, in, 1, y, out);
}

/* The branch's input in tokens: x, or x normalised with norm. */
static void branch_input(fin_layer *l, const float *p, const struct places *q, const float *x,
			 size_t n)
{
	if (l->norm) {
		fin_layernorm_forward(q->C, q->T, p + q->gamma, p + q->beta, l->xhat, l->rstd, x,
				      l->normed, n);
		x = l->normed;
	}
	to_tokens(x, l->tok, n, q->C, q->T);
}

/* From dctx, the gradient at the branch's input tokens [n][t][c]: dx
 * through the normalisation and with the residual path's dy ([n][c][tq],
 * the last tq steps of the input's t). */
static void finish_dx(fin_layer *l, const float *p, float *g, const struct places *q,
		      const float *dy, size_t tq, float *dx, size_t n)
{
	size_t C = q->C, T = q->T, s, c;

	if (l->norm) {
		from_tokens(l->dctx, l->dnormed, NULL, 0, n, C, T);
		fin_layernorm_backward(C, T, p + q->gamma, g + q->gamma, g + q->beta, l->xhat,
				       l->rstd, l->dnormed, dx, n);
	} else if (dx) {
		from_tokens(l->dctx, dx, NULL, 0, n, C, T);
	}
	if (dx && l->residual)
		for (s = 0; s < n; s++)
			for (c = 0; c < C; c++) {
				float *restrict xr = dx + (s * C + c) * T + T - tq;
				const float *restrict yr = dy + (s * C + c) * tq;
				size_t t;
				for (t = 0; t < tq; t++)
					xr[t] += yr[t];
			}
}

/* Each row i of scores [tq][T] (query step off + i) becomes its softmax;
 * a causal row keeps keys 0..off + i and the rest become 0. */
FIN_CLONES
static void softmax_rows(float *restrict sc, size_t tq, size_t T, size_t off, int causal)
{
	size_t i, j;

	for (i = 0; i < tq; i++) {
		float *restrict r = sc + i * T, m = r[0], sum = 0, inv;
		size_t len = causal ? off + i + 1 : T;
		for (j = 1; j < len; j++)
			m = r[j] > m ? r[j] : m;
		for (j = 0; j < len; j++)
			r[j] = fin_exp_lane(r[j] - m);
		for (j = 0; j < len; j++)
			sum += r[j];
		inv = 1 / sum;
		for (j = 0; j < len; j++)
			r[j] *= inv;
		for (; j < T; j++)
			r[j] = 0;
	}
}

/* dS = P * (dP - rowsum(dP * P)), in place of dP, rows [tq][T]. */
FIN_CLONES
static void softmax_backward(const float *restrict pr, float *restrict d, size_t tq, size_t T)
{
	size_t i, j;

	for (i = 0; i < tq; i++) {
		const float *restrict pi = pr + i * T;
		float *restrict di = d + i * T, dot = 0;
		for (j = 0; j < T; j++)
			dot += di[j] * pi[j];
		for (j = 0; j < T; j++)
			di[j] = pi[j] * (di[j] - dot);
	}
}

/* Queries come from the query steps' tokens: all of them, or with last
 * the newest of each sample, every T-th token. */
static const float *query_tokens(const fin_layer *l, size_t *ld)
{
	*ld = l->last ? l->in_t * l->in_c : l->in_c;
	return l->tok + (l->in_t - query_steps(l)) * l->in_c;
}

void fin_attention_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	struct places q = places_of(l);
	size_t C = q.C, T = q.T, H = l->heads, dh = C / H, C2 = 2 * C, tq = query_steps(l), ld, s,
	       h;
	const float *wq = p + q.w1, *wkv = wq + C * C, *bq = p + q.b1, *bkv = bq + C;
	const float *tokq;
	float scale = (float)(1 / sqrt((double)dh));

	branch_input(l, p, &q, x, n);
	tokq = query_tokens(l, &ld);
	for (s = 0; s < n * tq; s++)
		memcpy(l->q + s * C, bq, C * sizeof *l->q);
	fin_gemm(0, 1, n * tq, C, C, 1, tokq, ld, wq, C, 1, l->q, C);
	project(n * T, C2, C, l->tok, wkv, bkv, l->kv);
	for (s = 0; s < n; s++)
		for (h = 0; h < H; h++) {
			const float *Q = l->q + s * tq * C + h * dh, *K = l->kv + s * T * C2 + h * dh;
			float *pr = l->probs + (s * H + h) * tq * T;
			fin_gemm(0, 1, tq, T, dh, scale, Q, C, K, C2, 0, pr, T);
			softmax_rows(pr, tq, T, T - tq, l->causal);
			fin_gemm(0, 0, tq, dh, T, 1, pr, T, K + C, C2, 0, l->ctx + s * tq * C + h * dh,
				 C);
		}
	/* The output projection's tokens go through dctx, free until backward. */
	project(n * tq, C, C, l->ctx, p + q.w2, p + q.b2, l->dctx);
	from_tokens(l->dctx, y, l->residual ? x : NULL, T, n, C, tq);
}

void fin_attention_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx,
			    size_t n)
{
	struct places q = places_of(l);
	size_t C = q.C, T = q.T, H = l->heads, dh = C / H, C2 = 2 * C, tq = query_steps(l), nq = n * tq,
	       ld, s, h;
	const float *wq = p + q.w1, *wkv = wq + C * C, *tokq = query_tokens(l, &ld);
	float scale = (float)(1 / sqrt((double)dh));

	to_tokens(dy, l->dtok, n, C, tq);
	fin_gemm(1, 0, C, C, nq, 1, l->dtok, C, l->ctx, C, 1, g + q.w2, C);
	fin_sum_rows(g + q.b2, l->dtok, nq, C);
	fin_gemm(0, 0, nq, C, C, 1, l->dtok, C, p + q.w2, C, 0, l->dctx, C);
	for (s = 0; s < n; s++)
		for (h = 0; h < H; h++) {
			const float *Q = l->q + s * tq * C + h * dh, *K = l->kv + s * T * C2 + h * dh;
			const float *pr = l->probs + (s * H + h) * tq * T;
			const float *dO = l->dctx + s * tq * C + h * dh;
			float *dK = l->dkv + s * T * C2 + h * dh;
			fin_gemm(0, 1, tq, T, dh, 1, dO, C, K + C, C2, 0, l->tmp, T);
			fin_gemm(1, 0, T, dh, tq, 1, pr, T, dO, C, 0, dK + C, C2);
			softmax_backward(pr, l->tmp, tq, T);
			fin_gemm(0, 0, tq, dh, T, scale, l->tmp, T, K, C2, 0,
				 l->dq + s * tq * C + h * dh, C);
			fin_gemm(1, 0, T, dh, tq, scale, l->tmp, T, Q, C, 0, dK, C2);
		}
	fin_gemm(1, 0, C, C, nq, 1, l->dq, C, tokq, ld, 1, g + q.w1, C);
	fin_sum_rows(g + q.b1, l->dq, nq, C);
	fin_gemm(1, 0, C2, C, n * T, 1, l->dkv, C2, l->tok, C, 1, g + q.w1 + C * C, C);
	/* The keys' bias adds the same amount to every score of a query,
	 * which its softmax ignores: its gradient is exactly zero, and summing
	 * dK's rounding instead would let an optimizer walk it about. */
	for (s = 0; s < n * T; s++)
		fin_sum_rows(g + q.b1 + C2, l->dkv + s * C2 + C, 1, C);
	if (!dx && !l->norm)
		return;
	fin_gemm(0, 0, n * T, C, C2, 1, l->dkv, C2, wkv, C, 0, l->dctx, C);
	fin_gemm(0, 0, nq, C, C, 1, l->dq, C, wq, C, 1, l->dctx + (T - tq) * C, ld);
	finish_dx(l, p, g, &q, dy, tq, dx, n);
}

void fin_ff_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	struct places q = places_of(l);
	size_t nt = n * q.T;

	branch_input(l, p, &q, x, n);
	project(nt, q.M, q.C, l->tok, p + q.w1, p + q.b1, l->ctx);
	fin_act_forward(l->act, l->ctx, nt, q.M);
	project(nt, q.C, q.M, l->ctx, p + q.w2, p + q.b2, l->dctx);
	from_tokens(l->dctx, y, l->residual ? x : NULL, q.T, n, q.C, q.T);
}

void fin_ff_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx, size_t n)
{
	struct places q = places_of(l);
	size_t nt = n * q.T;

	to_tokens(dy, l->dtok, n, q.C, q.T);
	fin_gemm(1, 0, q.C, q.M, nt, 1, l->dtok, q.C, l->ctx, q.M, 1, g + q.w2, q.M);
	fin_sum_rows(g + q.b2, l->dtok, nt, q.C);
	fin_gemm(0, 0, nt, q.M, q.C, 1, l->dtok, q.C, p + q.w2, q.M, 0, l->dmid, q.M);
	fin_act_backward(l->act, l->ctx, l->dmid, nt, q.M);
	fin_gemm(1, 0, q.M, q.C, nt, 1, l->dmid, q.M, l->tok, q.C, 1, g + q.w1, q.C);
	fin_sum_rows(g + q.b1, l->dmid, nt, q.M);
	if (!dx && !l->norm)
		return;
	fin_gemm(0, 0, nt, q.C, q.M, 1, l->dmid, q.M, p + q.w1, q.C, 0, l->dctx, q.C);
	finish_dx(l, p, g, &q, dy, q.T, dx, n);
}

float fin_posenc_sin(size_t t, size_t c, size_t d)
{
	double a = (double)t * exp(-log(10000.0) * (double)(c - c % 2) / (double)d);

	return (float)(c % 2 ? cos(a) : sin(a));
}

void fin_posenc_forward(const fin_layer *l, const float *p, const float *x, float *y, size_t n)
{
	size_t C = l->in_c, T = l->in_t, s, c, t;
	const float *pe = l->learned ? p + l->w : l->pe;

	for (s = 0; s < n; s++)
		for (c = 0; c < C; c++) {
			const float *xr = x + (s * C + c) * T;
			float *yr = y + (s * C + c) * T;
			for (t = 0; t < T; t++)
				yr[t] = xr[t] + pe[t * C + c];
		}
}

void fin_posenc_backward(const fin_layer *l, float *g, const float *dy, float *dx, size_t n)
{
	size_t C = l->in_c, T = l->in_t, s, c, t;

	if (l->learned)
		for (s = 0; s < n; s++)
			for (c = 0; c < C; c++)
				for (t = 0; t < T; t++)
					g[l->w + t * C + c] += dy[(s * C + c) * T + t];
	if (dx)
		memcpy(dx, dy, n * C * T * sizeof *dx);
}

/* The oldest steps a patch layer leaves out, so that its last patch ends
 * at the newest step. */
static size_t patch_offset(const fin_layer *l)
{
	return l->in_t - l->kernel - (l->out_t - 1) * l->stride;
}

void fin_patch_forward(const fin_layer *l, const float *x, float *y, size_t n)
{
	size_t C = l->in_c, T = l->in_t, L = l->kernel, P = l->out_t, o = patch_offset(l), s, c, j,
	       k;

	for (s = 0; s < n; s++)
		for (c = 0; c < C; c++)
			for (j = 0; j < L; j++) {
				const float *xr = x + (s * C + c) * T + o + j;
				float *yr = y + (s * C * L + c * L + j) * P;
				for (k = 0; k < P; k++)
					yr[k] = xr[k * l->stride];
			}
}

void fin_patch_backward(const fin_layer *l, const float *dy, float *dx, size_t n)
{
	size_t C = l->in_c, T = l->in_t, L = l->kernel, P = l->out_t, o = patch_offset(l), s, c, j,
	       k;

	memset(dx, 0, n * C * T * sizeof *dx);
	for (s = 0; s < n; s++)
		for (c = 0; c < C; c++)
			for (j = 0; j < L; j++) {
				float *xr = dx + (s * C + c) * T + o + j;
				const float *yr = dy + (s * C * L + c * L + j) * P;
				for (k = 0; k < P; k++)
					xr[k * l->stride] += yr[k];
			}
}

void fin_seqpool_forward(const fin_layer *l, const float *x, float *y, size_t n)
{
	size_t T = l->in_t, r, t;

	for (r = 0; r < n * l->in_c; r++) {
		const float *xr = x + r * T;
		if (l->mean) {
			double sum = 0;
			for (t = 0; t < T; t++)
				sum += xr[t];
			y[r] = (float)(sum / (double)T);
		} else {
			y[r] = xr[T - 1];
		}
	}
}

void fin_seqpool_backward(const fin_layer *l, const float *dy, float *dx, size_t n)
{
	size_t T = l->in_t, r, t;

	for (r = 0; r < n * l->in_c; r++) {
		float *xr = dx + r * T;
		if (l->mean) {
			float v = dy[r] / (float)T;
			for (t = 0; t < T; t++)
				xr[t] = v;
		} else {
			memset(xr, 0, (T - 1) * sizeof *xr);
			xr[T - 1] = dy[r];
		}
	}
}

/* The squared norm of the column sums of rows [T][w]. */
static double col_sums_sq(const float *rows, size_t T, size_t w)
{
	double total = 0;
	size_t j, t;

	for (j = 0; j < w; j++) {
		double b = 0;
		for (t = 0; t < T; t++)
			b += rows[t * w + j];
		total += b * b;
	}
	return total;
}

/* A projection's gradient [m][k] and its output gradient's rows [t][m]. */
size_t fin_tf_row_work(const fin_layer *l)
{
	size_t C = l->in_c, T = l->in_t;

	if (l->kind == FIN_L_ATTENTION)
		return 2 * C * C + T * 2 * C;
	if (l->kind == FIN_L_FF)
		return l->units * C + T * (l->units > C ? l->units : C);
	return 0;
}

/* Sample s's gradient of a projection: d^T a, from its rows d [t][m]
 * (ld m) and a [t][k] (ld lda), into work [m][k]: its squared norm and its
 * bias's, the column sums of d from column b on (the attention keys' bias
 * has no gradient). */
static double projection_sq(const float *d, size_t m, const float *a, size_t k, size_t lda,
			    size_t t, size_t b, float *work)
{
	double bias = 0;
	size_t i;

	fin_gemm(1, 0, m, k, t, 1, d, m, a, lda, 0, work, k);
	for (i = 0; i < t; i++)
		memcpy(work + m * k + i * (m - b), d + i * m + b, (m - b) * sizeof *work);
	bias = col_sums_sq(work + m * k, t, m - b);
	return fin_sum_sq(work, m * k) + bias;
}

void fin_tf_row_sq_norms(const fin_layer *l, const float *dy, size_t n, float *work, double *sq)
{
	size_t C = l->in_c, T = l->in_t, s, c, t;

	if (l->kind == FIN_L_POSENC) {
		if (l->learned)
			for (s = 0; s < n; s++)
				sq[s] += fin_sum_sq(dy + s * C * T, C * T);
		return;
	}
	if (l->kind != FIN_L_ATTENTION && l->kind != FIN_L_FF)
		return;
	for (s = 0; s < n; s++) {
		const float *tok = l->tok + s * T * C;
		if (l->kind == FIN_L_ATTENTION) {
			size_t tq = query_steps(l), ld;
			const float *tokq = query_tokens(l, &ld) + s * T * C;
			sq[s] += projection_sq(l->dtok + s * tq * C, C, l->ctx + s * tq * C, C, C,
					       tq, 0, work);
			sq[s] += projection_sq(l->dq + s * tq * C, C, tokq, C, ld, tq, 0, work);
			sq[s] += projection_sq(l->dkv + s * T * 2 * C, 2 * C, tok, C, C, T, C, work);
		} else {
			sq[s] += projection_sq(l->dtok + s * T * C, C, l->ctx + s * T * l->units,
					       l->units, l->units, T, 0, work);
			sq[s] += projection_sq(l->dmid + s * T * l->units, l->units, tok, C, C, T, 0,
					       work);
		}
		if (l->norm)
			for (c = 0; c < C; c++) {
				const float *d = l->dnormed + (s * C + c) * T;
				const float *xh = l->xhat + (s * C + c) * T;
				double gw = 0, gb = 0;
				for (t = 0; t < T; t++) {
					gw += (double)d[t] * xh[t];
					gb += d[t];
				}
				sq[s] += gw * gw + gb * gb;
			}
	}
}
