/* Every layer's and every loss's gradient against central differences, with
 * fixed weights and a guard against an all-zero gradient; and the builder's
 * answer to architectures that do not fit their input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/loss.h"
#include "nn/net.h"

/* A layer check's steps. The weights and inputs are of order 1, so an
 * absolute step is a relative one. The loss is a float32 forward pass read
 * in double: its round-off, some 1e-7 of the outputs a step reaches, is
 * divided by 2h. Where L is linear in the value stepped, or linear but for
 * relu kinks and max-pool switches, that is the only error, so the step is
 * large. Where tanh, sigmoid or softmax bend L, the truncation error
 * h^2 |L'''| / 6 reaches 3e-5 at h = 1e-2 and round-off 5e-5 at 3e-3;
 * at 5e-3 neither passes 2.5e-5. */
#define LINEAR_STEP 1e-2
#define SMOOTH_STEP 5e-3

/* A layer check's tolerance: |a - n| <= 1e-3 max(|a|, |n|) + 1e-4. The
 * largest error seen over all cases is 0.15 of it. The floor covers the
 * round-off on gradients that are exactly zero (inactive units, max-pool
 * losers, values no window reaches). Gradients here are of order 0.1 to 1,
 * so a sign error, a lost factor of 2 or a swapped index is off by far
 * more. */
#define LAYER_RTOL 1e-3
#define LAYER_ATOL 1e-4

/* A loss is computed in double from float outputs, so its differences
 * have no float round-off: what is left is the truncation error and
 * dout's rounding to float, together 2e-7 of the gradient at most at
 * h = 1e-3, a fiftieth of the tolerance. */
#define LOSS_STEP 1e-3
#define LOSS_RTOL 1e-5
#define LOSS_ATOL 1e-9

/* A gradient counts as all zero when its largest magnitude is below
 * this; those checked here reach 0.1 or more. */
#define NONZERO 1e-3

/* Mismatches shown per check; the rest are only counted. */
#define MAX_SHOWN 5

/* Seeds tried in turn until a pass stays clear of every kink. */
#define MAX_SEEDS 1000

/* The generator dropout draws its mask from is reset to this before every
 * training pass, so each pass drops the same values. */
#define MASK_SEED 12345

static const float *forward(fin_net *net, const float *x, size_t n, int training)
{
	if (training)
		gsl_rng_set(net->rng, MASK_SEED);
	return fin_net_forward(net, x, n, training);
}

/* L = sum r_i y_i, in double. */
static double weighted_sum(const float *y, const float *r, size_t len)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (double)r[i] * y[i];
	return sum;
}

/* Values of magnitude 0.1 to 1 with random signs: never near zero, so
 * that an input is visibly scaled or dropped. */
static void fill(gsl_rng *rng, float *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		v[i] = (float)((0.1 + 0.9 * gsl_rng_uniform(rng)) *
			       (gsl_rng_uniform(rng) < 0.5 ? -1 : 1));
}

/* The checks below count their failures in *bad and free what they hold
 * before failing, so that a wrong gradient shows as such and not also as
 * a leak. */
static void expect_nonzero(const float *g, size_t len, const char *arch, const char *what,
			   size_t *bad)
{
	double max = 0;
	size_t i;

	for (i = 0; i < len; i++)
		max = fmax(max, fabs((double)g[i]));
	if (!(max > NONZERO)) {
		print_error("%s: %s: all gradients zero (largest %g)\n", arch, what, max);
		(*bad)++;
	}
}

static void expect_match(double analytic, double numeric, double rtol, double atol,
			 const char *arch, const char *what, size_t i, size_t *bad)
{
	if (fabs(analytic - numeric) <= rtol * fmax(fabs(analytic), fabs(numeric)) + atol)
		return;
	if ((*bad)++ < MAX_SHOWN)
		print_error("%s: %s[%zu]: analytic %.9g, central difference %.9g\n", arch, what, i,
			    analytic, numeric);
}

/* The distance of a pass from the nearest kink: the least |pre-activation|
 * of a relu or leaky_relu (in ff, of its hidden values), and the least gap between the largest value of a
 * max-pool window and the runner-up. pre has room for any layer's output. */
static double kink_margin(fin_net *net, const float *x, size_t n, int training, float *pre)
{
	double margin = HUGE_VAL;
	size_t i, j, row, t;

	forward(net, x, n, training);
	for (i = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		const float *in = net->act[i];

		if (l->act == FIN_ACT_RELU || l->act == FIN_ACT_LEAKY_RELU) {
			fin_layer linear = *l;
			linear.act = FIN_ACT_LINEAR;
			fin_layer_forward(&linear, net->params, in, pre, n, 0, NULL);
			/* ff's activation is inside it, on its hidden values,
			 * which the linear copy left in the work space */
			if (l->kind == FIN_L_FF)
				for (j = 0; j < n * l->in_t * l->units; j++)
					margin = fmin(margin, fabs((double)l->ctx[j]));
			else
				for (j = 0; j < n * l->out_c * l->out_t; j++)
					margin = fmin(margin, fabs((double)pre[j]));
		}
		if (l->kind != FIN_L_MAXPOOL)
			continue;
		for (row = 0; row < n * l->in_c; row++)
			for (t = 0; t < l->out_t; t++) {
				const float *win = in + row * l->in_t + t * l->kernel;
				float best = -INFINITY, second = -INFINITY;
				for (j = 0; j < l->kernel; j++) {
					if (win[j] > best) {
						second = best;
						best = win[j];
					} else if (win[j] > second) {
						second = win[j];
					}
				}
				margin = fmin(margin, (double)best - second);
			}
	}
	return margin;
}

/* The weights from fin_net_init, biases, input and the loss's weights r
 * from seed. fin_net_init zeroes the biases; they are drawn here so that
 * the passes checked are not those of a freshly initialised network only. */
static void set_up(fin_net *net, gsl_rng *rng, unsigned long seed, float *x, size_t nx, float *r,
		   size_t ny)
{
	size_t i, j;

	assert_int_equal(fin_net_init(net, seed), 0);
	gsl_rng_set(rng, seed);
	for (i = 0; i < net->nlayers; i++) {
		for (j = 0; j < net->layers[i].nbiases; j++)
			net->params[net->layers[i].b + j] = (float)(gsl_rng_uniform(rng) - 0.5);
		/* A layer norm's gamma starts at 1, which would hide its use; so
		 * does the pre-norm's inside attention and ff (their first
		 * weights). */
		if (net->layers[i].kind == FIN_L_LAYERNORM)
			for (j = 0; j < net->layers[i].nweights; j++)
				net->params[net->layers[i].w + j] = (float)(0.5 + gsl_rng_uniform(rng));
		if (net->layers[i].norm)
			for (j = 0; j < net->layers[i].in_c; j++)
				net->params[net->layers[i].w + j] = (float)(0.5 + gsl_rng_uniform(rng));
	}
	fill(rng, x, nx);
	fill(rng, r, ny);
}

/* dL/dv by central differences, v one float of the parameters or the
 * input; divided by the step float actually made. */
static double central(fin_net *net, float *v, const float *x, const float *r, size_t n,
		      int training, double h)
{
	float saved = *v, up = (float)(saved + h), down = (float)(saved - h);
	size_t len = n * net->out_size;
	double lup, ldown;

	*v = up;
	lup = weighted_sum(forward(net, x, n, training), r, len);
	*v = down;
	ldown = weighted_sum(forward(net, x, n, training), r, len);
	*v = saved;
	return (lup - ldown) / ((double)up - down);
}

/* Checks dL/dparams and dL/dx of arch on n samples of shape [c][t], for
 * L = sum r_i y_i with fixed random r. */
static void check_grads(const char *arch, size_t c, size_t t, size_t n, int training, double h)
{
	size_t nx = n * c * t, ny, widest, bad = 0, i;
	fin_err err = { 0 };
	unsigned long seed;
	float *x, *r, *dx, *pre;
	gsl_rng *rng;
	fin_net net;

	if (fin_net_build(&net, arch, c, t, &err) != FIN_OK) {
		print_error("%s: %s\n", arch, err.msg);
		fail();
	}
	assert_int_equal(fin_net_reserve(&net, n), 0);
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	ny = n * net.out_size;
	widest = 0;
	for (i = 0; i < net.nlayers; i++)
		if (net.layers[i].out_c * net.layers[i].out_t > widest)
			widest = net.layers[i].out_c * net.layers[i].out_t;
	x = malloc(nx * sizeof *x);
	r = malloc(ny * sizeof *r);
	dx = malloc(nx * sizeof *dx);
	pre = malloc(n * widest * sizeof *pre);
	assert_true(rng && x && r && dx && pre);

	for (seed = 1;; seed++) {
		assert_true(seed <= MAX_SEEDS);
		set_up(&net, rng, seed, x, nx, r, ny);
		if (kink_margin(&net, x, n, training, pre) > 10 * h)
			break;
	}

	/* Again: kink_margin's copies of the layers wrote in their work space. */
	memset(net.grads, 0, net.nparams * sizeof *net.grads);
	forward(&net, x, n, training);
	fin_net_backward(&net, r, dx, n);

	for (i = 0; i < net.nlayers; i++) {
		const fin_layer *l = &net.layers[i];
		char what[64];
		if (!l->nweights)
			continue;
		snprintf(what, sizeof what, "layer %zu weights", i + 1);
		expect_nonzero(net.grads + l->w, l->nweights, arch, what, &bad);
		snprintf(what, sizeof what, "layer %zu biases", i + 1);
		if (l->nbiases)
			expect_nonzero(net.grads + l->b, l->nbiases, arch, what, &bad);
	}
	expect_nonzero(dx, nx, arch, "dx", &bad);
	for (i = 0; i < net.nparams; i++)
		expect_match(net.grads[i], central(&net, &net.params[i], x, r, n, training, h),
			     LAYER_RTOL, LAYER_ATOL, arch, "dparams", i, &bad);
	for (i = 0; i < nx; i++)
		expect_match(dx[i], central(&net, &x[i], x, r, n, training, h), LAYER_RTOL,
			     LAYER_ATOL, arch, "dx", i, &bad);

	fin_net_free(&net);
	gsl_rng_free(rng);
	free(x);
	free(r);
	free(dx);
	free(pre);
	assert_int_equal(bad, 0);
}

/* Three samples of shape [2][3]: the dense layer reads each as a flat
 * vector of 6, and the batch sums the gradients. */
static void test_dense(void **state)
{
	(void)state;
	check_grads("dense(4)", 2, 3, 3, 0, LINEAR_STEP);
	check_grads("dense(4,linear)", 2, 3, 3, 0, LINEAR_STEP);
	check_grads("dense(4,relu)", 2, 3, 3, 0, LINEAR_STEP);
	check_grads("dense(4,leaky_relu)", 2, 3, 3, 0, LINEAR_STEP);
	check_grads("dense(4,tanh)", 2, 3, 3, 0, SMOOTH_STEP);
	check_grads("dense(4,sigmoid)", 2, 3, 3, 0, SMOOTH_STEP);
	check_grads("dense(4,softmax)", 2, 3, 3, 0, SMOOTH_STEP);
	check_grads("dense(1)", 5, 1, 2, 0, LINEAR_STEP);
}

static void test_conv1d(void **state)
{
	(void)state;
	check_grads("conv1d(3,3)", 2, 7, 2, 0, LINEAR_STEP);
	check_grads("conv1d(3,3,tanh,valid)", 2, 7, 2, 0, SMOOTH_STEP);
	check_grads("conv1d(3,3,tanh,same)", 2, 7, 2, 0, SMOOTH_STEP);
	check_grads("conv1d(4,1,relu)", 3, 5, 2, 0, LINEAR_STEP);
	check_grads("conv1d(2,1,sigmoid,same)", 3, 5, 2, 0, SMOOTH_STEP);
	check_grads("conv1d(2,5,leaky_relu,same)", 3, 6, 2, 0, LINEAR_STEP);
	/* A kernel wider than the input: every window reaches the padding. */
	check_grads("conv1d(2,5,same)", 2, 3, 2, 0, LINEAR_STEP);
	check_grads("conv1d(3,4)", 1, 9, 2, 0, LINEAR_STEP);
	/* Many channels under each output, a kernel wider than the input,
	 * and one conv1d on another. */
	check_grads("conv1d(3,5,tanh,same)", 4, 7, 2, 0, SMOOTH_STEP);
	check_grads("conv1d(2,3)", 6, 5, 2, 0, LINEAR_STEP);
	check_grads("conv1d(2,17,same)", 1, 4, 2, 0, LINEAR_STEP);
	check_grads("conv1d(8,3,tanh) conv1d(3,3,same) flatten dense(2)", 2, 8, 3, 0,
		    SMOOTH_STEP);
}

/* Over the channels at each step: alone, after a dense layer (one step)
 * and between convolutions (many steps). */
static void test_layernorm(void **state)
{
	(void)state;
	check_grads("layernorm", 4, 3, 2, 0, SMOOTH_STEP);
	check_grads("dense(5,tanh) layernorm dense(2)", 3, 1, 3, 0, SMOOTH_STEP);
	check_grads("conv1d(4,3,tanh,same) layernorm conv1d(2,3) flatten dense(1)", 2, 7, 2, 0,
		    SMOOTH_STEP);
	/* more than the 64 steps the backward pass takes at a time */
	check_grads("layernorm", 8, 70, 1, 0, SMOOTH_STEP);
}

/* Self-attention over the steps: several heads, one head, one channel a
 * head; a causal mask; the residual path; the pre-norm inside. */
static void test_attention(void **state)
{
	(void)state;
	check_grads("attention(2)", 4, 5, 2, 0, SMOOTH_STEP);
	check_grads("attention(2,causal)", 4, 5, 2, 0, SMOOTH_STEP);
	check_grads("attention(1,residual)", 3, 4, 2, 0, SMOOTH_STEP);
	check_grads("attention(4,causal,residual)", 4, 6, 2, 0, SMOOTH_STEP);
	check_grads("attention(2,residual,norm)", 4, 5, 2, 0, SMOOTH_STEP);
	check_grads("attention(2,causal,residual,norm)", 4, 5, 3, 0, SMOOTH_STEP);
	/* one step: attention to itself only */
	check_grads("attention(2,causal) flatten dense(2)", 4, 1, 2, 0, SMOOTH_STEP);
	/* read at the newest step only (check_last_step) */
	check_grads("attention(2,causal,residual,norm) layernorm pool(last)", 4, 5, 2, 0,
		    SMOOTH_STEP);
	check_grads("attention(2) pool(last)", 4, 5, 2, 0, SMOOTH_STEP);
}

/* A network that reads only the newest step of its last attention layer
 * (through per-step layers to pool(last)) computes that step alone: its
 * outputs and gradients are those of the full computation, here the same
 * layers flattened, read at the newest step. Made to read every step
 * (fin_net_read_every_step), the same network gives the same outputs, and
 * its last attention layer's newest query the same weights. */
static void check_last_step(const char *layers, size_t c, size_t t, size_t n)
{
	char last[256], full[256];
	fin_net a, b, every;
	fin_err err = { 0 };
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t nx = n * c * t, i, s, k, out;
	float *x = malloc(nx * sizeof *x), *da = malloc(nx * sizeof *da), *db = malloc(nx * sizeof *db);
	float *ra, *rb;
	const float *ya, *yb, *ye;
	size_t attn;

	snprintf(last, sizeof last, "%s pool(last)", layers);
	snprintf(full, sizeof full, "%s flatten", layers);
	assert_int_equal(fin_net_build(&a, last, c, t, &err), FIN_OK);
	assert_int_equal(fin_net_build(&b, full, c, t, &err), FIN_OK);
	for (i = a.nlayers; i-- > 0;)
		if (a.layers[i].kind == FIN_L_ATTENTION)
			break;
	assert_true(i < a.nlayers && a.layers[i].last);
	attn = i;
	while (i-- > 0)
		assert_false(a.layers[i].last);
	assert_int_equal(a.nparams, b.nparams);
	assert_int_equal(fin_net_build(&every, last, c, t, &err), FIN_OK);
	fin_net_read_every_step(&every);
	for (i = 0; i < every.nlayers; i++) {
		assert_false(every.layers[i].last);
		assert_int_equal(every.layers[i].in_t, b.layers[i].in_t);
		assert_int_equal(every.layers[i].out_t,
				 every.layers[i].kind == FIN_L_SEQPOOL ? 1 : b.layers[i].out_t);
	}
	assert_int_equal(fin_net_reserve(&a, n), 0);
	assert_int_equal(fin_net_reserve(&b, n), 0);
	assert_int_equal(fin_net_reserve(&every, n), 0);
	out = a.out_size;
	ra = calloc(n * out, sizeof *ra);
	rb = calloc(n * b.out_size, sizeof *rb);
	set_up(&a, rng, 7, x, nx, ra, n * out);
	memcpy(b.params, a.params, a.nparams * sizeof *a.params);
	/* b's loss weights: a's at the newest step, 0 elsewhere */
	for (s = 0; s < n; s++)
		for (k = 0; k < out; k++)
			rb[s * b.out_size + k * t + t - 1] = ra[s * out + k];
	ya = fin_net_forward(&a, x, n, 0);
	yb = fin_net_forward(&b, x, n, 0);
	for (s = 0; s < n; s++)
		for (k = 0; k < out; k++)
			assert_float_equal(ya[s * out + k], yb[s * b.out_size + k * t + t - 1],
					   1e-5 * (1 + fabs((double)ya[s * out + k])));
	memcpy(every.params, a.params, a.nparams * sizeof *a.params);
	ye = fin_net_forward(&every, x, n, 0);
	for (k = 0; k < n * out; k++)
		assert_float_equal(ye[k], ya[k], 1e-5 * (1 + fabs((double)ya[k])));
	{
		const fin_layer *la = &a.layers[attn], *le = &every.layers[attn];
		size_t T = le->in_t, j;
		for (s = 0; s < n * le->heads; s++)
			for (j = 0; j < T; j++)
				assert_float_equal(le->probs[(s * T + T - 1) * T + j],
						   la->probs[s * T + j], 1e-6);
	}
	memset(a.grads, 0, a.nparams * sizeof *a.grads);
	memset(b.grads, 0, b.nparams * sizeof *b.grads);
	fin_net_backward(&a, ra, da, n);
	fin_net_backward(&b, rb, db, n);
	for (i = 0; i < a.nparams; i++)
		assert_float_equal(a.grads[i], b.grads[i], 1e-5 * (1 + fabs((double)b.grads[i])));
	for (i = 0; i < nx; i++)
		assert_float_equal(da[i], db[i], 1e-5 * (1 + fabs((double)db[i])));
	fin_net_free(&a);
	fin_net_free(&b);
	fin_net_free(&every);
	gsl_rng_free(rng);
	free(x);
	free(da);
	free(db);
	free(ra);
	free(rb);
}

static void test_last_step(void **state)
{
	(void)state;
	check_last_step("attention(2)", 4, 5, 3);
	check_last_step("attention(2,causal,residual,norm)", 4, 6, 2);
	check_last_step("dense(4,step) encoder(2,6,tanh) encoder(2,5,causal)", 2, 7, 3);
	check_last_step("encoder(1,3,norm_first) relu dropout(0.5) dense(3,tanh,step)", 2, 4, 2);
}

/* The position-wise feed-forward block, with and without its residual
 * path and pre-norm. */
static void test_ff(void **state)
{
	(void)state;
	check_grads("ff(3)", 3, 2, 2, 0, LINEAR_STEP);
	check_grads("ff(5,tanh,residual)", 3, 4, 2, 0, SMOOTH_STEP);
	check_grads("ff(5,tanh,residual,norm)", 4, 3, 2, 0, SMOOTH_STEP);
	check_grads("ff(2,sigmoid,norm)", 4, 2, 2, 0, SMOOTH_STEP);
}

/* A dense layer at each step, positional encodings, patches and pooling
 * of the steps. */
static void test_sequence_layers(void **state)
{
	(void)state;
	check_grads("dense(3,step)", 2, 4, 2, 0, LINEAR_STEP);
	check_grads("dense(3,tanh,step) dense(2)", 2, 4, 2, 0, SMOOTH_STEP);
	check_grads("posenc(sin) dense(2,tanh)", 3, 4, 2, 0, SMOOTH_STEP);
	check_grads("posenc(learned) dense(2,tanh)", 3, 4, 2, 0, SMOOTH_STEP);
	/* 8 steps into patches of 3 every 2: 3 patches, the oldest step left out */
	check_grads("patch(3,2)", 2, 8, 2, 0, LINEAR_STEP);
	check_grads("patch(2)", 2, 5, 2, 0, LINEAR_STEP);
	check_grads("patch(3,1) dense(2,tanh,step)", 1, 6, 2, 0, SMOOTH_STEP);
	check_grads("pool(last)", 3, 4, 2, 0, LINEAR_STEP);
	check_grads("pool(mean)", 3, 4, 2, 0, LINEAR_STEP);
}

/* Whole encoder blocks, as the presets stack them. */
static void test_encoder(void **state)
{
	(void)state;
	check_grads("dense(4,linear,step) posenc(sin) encoder(2,6) pool(last) dense(1)", 2, 5, 2, 0,
		    SMOOTH_STEP);
	check_grads("encoder(2,6,tanh,norm_first,causal) pool(mean) dense(2)", 4, 5, 3, 0,
		    SMOOTH_STEP);
	check_grads("patch(2,1) dense(4,step) posenc(learned) encoder(2,5,causal) encoder(1,3) "
		    "flatten dense(1)",
		    1, 6, 2, 0, SMOOTH_STEP);
}

/* Odd lengths: the last values reach no window and get no gradient. */
static void test_pools(void **state)
{
	(void)state;
	check_grads("maxpool(2)", 2, 7, 2, 0, LINEAR_STEP);
	check_grads("maxpool(3)", 2, 11, 2, 0, LINEAR_STEP);
	check_grads("maxpool", 3, 5, 1, 0, LINEAR_STEP);
	check_grads("avgpool(2)", 2, 7, 2, 0, LINEAR_STEP);
	check_grads("avgpool(3)", 2, 8, 2, 0, LINEAR_STEP);
}

static void test_flatten(void **state)
{
	(void)state;
	check_grads("flatten", 3, 4, 2, 0, LINEAR_STEP);
	check_grads("flatten dense(3,tanh)", 3, 4, 2, 0, SMOOTH_STEP);
}

/* Out of training, dropout passes its input through, and so its gradient. */
static void test_dropout_eval(void **state)
{
	(void)state;
	check_grads("dropout(0.3)", 3, 4, 2, 0, LINEAR_STEP);
	check_grads("dense(6,tanh) dropout(0.5) dense(3)", 2, 3, 2, 0, SMOOTH_STEP);
}

static void test_activations(void **state)
{
	(void)state;
	check_grads("linear", 2, 5, 2, 0, LINEAR_STEP);
	check_grads("relu", 2, 5, 2, 0, LINEAR_STEP);
	check_grads("leaky_relu", 2, 5, 2, 0, LINEAR_STEP);
	check_grads("tanh", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("sigmoid", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("softmax", 5, 1, 3, 0, SMOOTH_STEP);
	check_grads("conv1d(2,3,same) flatten softmax", 2, 4, 2, 0, SMOOTH_STEP);
}

/* The smooth step also lets a seed be found whose pass keeps 10 h clear
 * of every relu and max-pool kink: at 1e-2 none of the first 1000 does,
 * with 24 relu inputs and 48 max-pool windows per pass. */
static void test_stack(void **state)
{
	(void)state;
	check_grads("conv1d(4,3,tanh,same) maxpool(2) conv1d(3,3,relu) flatten dense(5,sigmoid) "
		    "dense(2)",
		    2, 13, 2, 0, SMOOTH_STEP);
}

/* Backpropagation through time: the last step alone, every step (seq),
 * two layers stacked, and a recurrent layer after a convolution. */
static void test_recurrent(void **state)
{
	(void)state;
	check_grads("lstm(3)", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("lstm(3,seq)", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("gru(3)", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("gru(3,seq)", 2, 5, 2, 0, SMOOTH_STEP);
	check_grads("lstm(4,seq) lstm(3)", 2, 6, 2, 0, SMOOTH_STEP);
	check_grads("gru(4,seq) gru(3,seq)", 2, 6, 2, 0, SMOOTH_STEP);
	check_grads("gru(4,seq) lstm(3) dense(2)", 1, 6, 3, 0, SMOOTH_STEP);
	check_grads("conv1d(3,2,tanh) lstm(4) dense(1)", 2, 6, 2, 0, SMOOTH_STEP);
}

/* A training pass drops values with probability p and scales the rest by
 * 1 / (1 - p); the backward pass must apply the mask that pass drew. The
 * mask is read back from the output, not from the layer. */
static void test_dropout_training(void **state)
{
	enum { c = 3, t = 8, n = 2, len = n * c * t };
	const double scale = 1 / (1 - 0.4);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	float x[len], r[len], y[len], dx[len];
	size_t dropped = 0, i;
	fin_err err = { 0 };
	fin_net net;
	(void)state;

	assert_int_equal(fin_net_build(&net, "dropout(0.4)", c, t, &err), FIN_OK);
	assert_int_equal(fin_net_reserve(&net, n), 0);
	assert_int_equal(fin_net_init(&net, 3), 0);
	gsl_rng_set(rng, 3);
	fill(rng, x, len);
	fill(rng, r, len);
	memcpy(y, fin_net_forward(&net, x, n, 1), sizeof y);
	fin_net_backward(&net, r, dx, n);
	for (i = 0; i < len; i++) {
		if (y[i] == 0) {
			dropped++;
			assert_true(dx[i] == 0);
		} else {
			assert_true(fabs(y[i] - x[i] * scale) <= 1e-6 * fabs(y[i]));
			assert_true(fabs(dx[i] - r[i] * scale) <= 1e-6 * fabs(dx[i]));
		}
	}
	assert_true(dropped > 0 && dropped < len);
	fin_net_free(&net);
	gsl_rng_free(rng);

	/* With the same mask drawn on every pass, the layers around it. */
	check_grads("dense(6,tanh) dropout(0.5) dense(3)", 2, 3, 2, 1, SMOOTH_STEP);
	check_grads("conv1d(3,3,same) dropout(0.25) flatten dense(2)", 2, 6, 2, 1, LINEAR_STEP);
}

static void check_loss(enum fin_loss l, const float *out, const float *target, size_t n,
		       size_t k)
{
	size_t m = n * k, bad = 0, i;
	float *p = malloc(m * sizeof *p), *dout = malloc(m * sizeof *dout);

	assert_true(p && dout);
	memcpy(p, out, m * sizeof *p);
	fin_loss(l, p, target, n, k, dout);
	expect_nonzero(dout, m, fin_loss_name(l), "dout", &bad);
	for (i = 0; i < m; i++) {
		float saved = p[i];
		float up = (float)(saved + LOSS_STEP), down = (float)(saved - LOSS_STEP);
		double lup, ldown;
		p[i] = up;
		lup = fin_loss(l, p, target, n, k, NULL);
		p[i] = down;
		ldown = fin_loss(l, p, target, n, k, NULL);
		p[i] = saved;
		expect_match(dout[i], (lup - ldown) / ((double)up - down), LOSS_RTOL, LOSS_ATOL,
			     fin_loss_name(l), "dout", i, &bad);
	}
	free(p);
	free(dout);
	assert_int_equal(bad, 0);
}

/* Two samples of three outputs each. The differences out - target keep
 * clear of the kinks: 0 for mae and huber, and +-1, where huber turns
 * from quadratic to linear. */
static void test_losses(void **state)
{
	static const float out[] = { 0.3f, -1.2f, 2.5f, 0.05f, 1.7f, -0.6f };
	static const float target[] = { 0.1f, 0.4f, -0.5f, -0.35f, 0.2f, -3.1f };
	/* huber: out - target is -3, -1.6, -0.7, 0.3, 1.4, 2.5 */
	static const float huber_out[] = { -2.5f, -0.6f, 0.2f, 0.6f, 1.9f, 2.3f };
	static const float huber_target[] = { 0.5f, 1.0f, 0.9f, 0.3f, 0.5f, -0.2f };
	/* bce on logits: both tails near |z| = 5, soft targets too */
	static const float logits[] = { 5.2f, -4.8f, 4.9f, -5.3f, 0.7f, -1.9f, 2.4f, 0.3f };
	static const float labels[] = { 1, 0, 0, 1, 1, 0, 0.25f, 0.8f };
	/* softmax_ce: three samples of four logits, one far ahead */
	static const float scores[] = { 1.2f, -0.3f, 0.8f, 2.1f, 4.5f, -1.0f, 0.2f, 0.1f,
					-0.7f, 0.4f, -2.2f, 1.6f };
	static const float classes[] = { 2, 0, 1 };
	(void)state;

	check_loss(FIN_LOSS_MSE, out, target, 2, 3);
	check_loss(FIN_LOSS_MAE, out, target, 2, 3);
	check_loss(FIN_LOSS_HUBER, huber_out, huber_target, 2, 3);
	check_loss(FIN_LOSS_BCE, logits, labels, 4, 2);
	check_loss(FIN_LOSS_SOFTMAX_CE, scores, classes, 3, 4);
}

/* A layer that does not fit its input is a usage error naming the layer
 * by number and by what was written. */
static void expect_usage(const char *arch, size_t c, size_t t, const char *number,
			 const char *text)
{
	fin_err err = { 0 };
	fin_net net;

	assert_int_equal(fin_net_build(&net, arch, c, t, &err), FIN_EUSAGE);
	assert_int_equal(err.code, FIN_EUSAGE);
	if (!strstr(err.msg, number) || !strstr(err.msg, text)) {
		print_error("%s: '%s' does not name '%s' and '%s'\n", arch, err.msg, number, text);
		fail();
	}
}

static void test_shape_errors(void **state)
{
	(void)state;
	expect_usage("conv1d(4,30,relu)", 1, 20, "layer 1", "conv1d(4,30,relu)");
	expect_usage("conv1d(4,3) conv1d(4,30,relu)", 1, 20, "layer 2", "conv1d(4,30,relu)");
	expect_usage("maxpool(3)", 2, 2, "layer 1", "maxpool(3)");
	expect_usage("conv1d(2,3,same) maxpool(2) maxpool(3)", 1, 5, "layer 3", "maxpool(3)");
	expect_usage("dense(0)", 3, 4, "layer 1", "dense(0)");
	expect_usage("dense(8,relu) dense(0)", 3, 4, "layer 2", "dense(0)");
	expect_usage("conv1d(4,2,same)", 2, 10, "layer 1", "conv1d(4,2,same)");
	expect_usage("softmax", 3, 4, "layer 1", "softmax");
	expect_usage("conv1d(3,3) softmax", 2, 6, "layer 2", "softmax");
	expect_usage("dropout(1.5)", 3, 4, "layer 1", "dropout(1.5)");
	expect_usage("dropout(-0.1)", 3, 4, "layer 1", "dropout(-0.1)");
	expect_usage("frobnicate", 3, 4, "layer 1", "frobnicate");
	expect_usage("flatten frobnicate(2)", 3, 4, "layer 2", "frobnicate");
	expect_usage("flatten dense(4", 3, 4, "layer 2", "dense");
	expect_usage("dense(4,swish)", 3, 4, "layer 1", "swish");
	expect_usage("conv1d(4)", 3, 4, "layer 1", "conv1d(4)");
	expect_usage("dense(4, relu)", 3, 4, "layer 1", "dense");
	expect_usage("attention(3)", 4, 5, "layer 1", "attention(3)");
	expect_usage("dense(6,step) attention(4,sideways)", 1, 5, "layer 2", "sideways");
	expect_usage("ff(0)", 3, 4, "layer 1", "ff(0)");
	expect_usage("posenc(cos)", 3, 4, "layer 1", "posenc(cos)");
	expect_usage("patch(6,2)", 1, 5, "layer 1", "patch(6,2)");
	expect_usage("pool(max)", 3, 4, "layer 1", "pool(max)");
	expect_usage("encoder(2)", 4, 4, "layer 1", "encoder(2)");
	expect_usage("dense(4,step) encoder(3,8)", 1, 4, "layer 2", "encoder(3,8)");
	expect_usage("dense(4,step) encoder(2,8,gelu)", 1, 4, "layer 2", "gelu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_conv1d),
		cmocka_unit_test(test_layernorm),
		cmocka_unit_test(test_attention),
		cmocka_unit_test(test_last_step),
		cmocka_unit_test(test_ff),
		cmocka_unit_test(test_sequence_layers),
		cmocka_unit_test(test_encoder),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_flatten),
		cmocka_unit_test(test_activations),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_recurrent),
		cmocka_unit_test(test_dropout_eval),
		cmocka_unit_test(test_dropout_training),
		cmocka_unit_test(test_losses),
		cmocka_unit_test(test_shape_errors),
	};

	/* One thread, so that every pass sums in the same order whatever the
	 * machine: the outputs a step does not reach then come out bit for bit
	 * the same and cancel. */
	fin_gemm_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
