/* DP-SGD's per-row gradients: each row's gradient norm from one pass over
 * the batch against the row's gradient computed alone (a batch of one),
 * for every kind of layer with weights; clipping to at most C; the
 * clipped sum against the sum of the rows' own gradients, each scaled as
 * clipping scales it; with no noise and no clipping the plain batch
 * gradient; and Poisson sampling's batch sizes. */
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

#include "nn/dp_sgd.h"
#include "nn/loss.h"
#include "nn/net.h"

#define ROWS 6

/* Float32 sums over a few hundred terms of order 1: 1e-5 relative is some
 * hundred ulps, and a missed term, a wrong row or a lost factor is far
 * more. */
#define RTOL 1e-4

struct arch {
	const char *text;
	size_t in_c, in_t, out;
	enum fin_loss loss;
};

/* Every layer kind with weights, alone and stacked, after pooling, with
 * dropout (one mask for the pass: the same in both backward passes). */
static const struct arch archs[] = {
	{ "dense(5,tanh) dense(3)", 4, 1, 3, FIN_LOSS_MSE },
	{ "conv1d(4,3,relu) flatten dense(2)", 2, 7, 2, FIN_LOSS_MSE },
	{ "conv1d(3,3,tanh,same) maxpool(2) flatten dropout(0.3) dense(1)", 2, 8, 1,
	  FIN_LOSS_BCE },
	{ "conv1d(3,5,tanh,same) conv1d(2,3) flatten dense(1)", 4, 7, 1, FIN_LOSS_MSE },
	{ "conv1d(3,3,tanh,same) layernorm flatten dense(1)", 2, 6, 1, FIN_LOSS_MSE },
	{ "lstm(4) dense(1)", 3, 5, 1, FIN_LOSS_MSE },
	{ "gru(4) dense(1)", 3, 5, 1, FIN_LOSS_MSE },
	{ "lstm(3,seq) gru(2) dense(3)", 2, 4, 3, FIN_LOSS_SOFTMAX_CE },
	{ "dense(4,step) posenc(learned) encoder(2,6) encoder(2,5,norm_first,causal) pool(last) "
	  "dense(1)", 2, 5, 1, FIN_LOSS_MSE },
	{ "patch(3,2) dense(4,step) posenc(sin) encoder(2,6,tanh,causal) flatten dense(2)", 1, 8, 2,
	  FIN_LOSS_SOFTMAX_CE },
};

static void fill(float *v, size_t n, gsl_rng *r, double scale)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = (float)((gsl_rng_uniform(r) * 2 - 1) * scale);
}

struct case_data {
	fin_net net;
	float *x, *y;
	size_t d, kw;
	const struct arch *a;
};

static void setup_case(struct case_data *c, const struct arch *a, unsigned long seed)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	fin_err err = { 0 };
	size_t i;

	gsl_rng_set(r, seed);
	memset(c, 0, sizeof *c);
	c->a = a;
	if (fin_net_build(&c->net, a->text, a->in_c, a->in_t, &err) != FIN_OK) {
		fprintf(stderr, "%s: %s\n", a->text, err.msg);
		fail();
	}
	assert_int_equal(fin_net_init(&c->net, seed), 0);
	/* Biases too, so that their gradients are not the only ones left. */
	fill(c->net.params, c->net.nparams, r, 0.5);
	assert_int_equal(fin_net_reserve(&c->net, ROWS), 0);
	c->d = a->in_c * a->in_t;
	c->kw = a->loss == FIN_LOSS_SOFTMAX_CE ? 1 : a->out;
	c->x = malloc(ROWS * c->d * sizeof *c->x);
	c->y = malloc(ROWS * c->kw * sizeof *c->y);
	fill(c->x, ROWS * c->d, r, 1);
	for (i = 0; i < ROWS * c->kw; i++)
		c->y[i] = a->loss == FIN_LOSS_SOFTMAX_CE ? (float)(i % a->out)
			  : a->loss == FIN_LOSS_BCE      ? (float)(i % 2)
							 : (float)(gsl_rng_uniform(r) * 2 - 1);
	gsl_rng_free(r);
}

static void free_case(struct case_data *c)
{
	fin_net_free(&c->net);
	free(c->x);
	free(c->y);
}

/* Row s's gradient of its own loss, from a forward and backward pass of
 * that row alone, into g; dropout draws the mask the batch pass drew for
 * that row only when there is no dropout, so architectures with dropout
 * are checked in evaluation mode here. */
static void row_gradient(struct case_data *c, size_t s, int training, float *g)
{
	float dout[16];
	const float *out = fin_net_forward(&c->net, c->x + s * c->d, 1, training);

	fin_loss(c->a->loss, out, c->y + s * c->kw, 1, c->net.out_size, dout);
	memset(c->net.grads, 0, c->net.nparams * sizeof *c->net.grads);
	fin_net_backward(&c->net, dout, NULL, 1);
	memcpy(g, c->net.grads, c->net.nparams * sizeof *g);
}

static double norm(const float *g, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)g[i] * g[i];
	return sqrt(s);
}

/* The batch's per-row gradients of their own losses (the mean loss's
 * gradient times n), as fin_dp_gradient forms them. */
static void per_row_dout(struct case_data *c, const float *out, float *dout)
{
	size_t j;

	fin_loss(c->a->loss, out, c->y, ROWS, c->net.out_size, dout);
	for (j = 0; j < ROWS * c->net.out_size; j++)
		dout[j] *= ROWS;
}

static void test_row_norms(void **state)
{
	size_t a, s;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		struct case_data c;
		float *dout, *grads, *work, *g;
		double sq[ROWS] = { 0 };
		const float *out;

		setup_case(&c, &archs[a], 11 + a);
		dout = malloc(ROWS * c.net.out_size * sizeof *dout);
		grads = calloc(c.net.nparams, sizeof *grads);
		work = malloc(fin_net_row_work(&c.net) * sizeof *work);
		g = malloc(c.net.nparams * sizeof *g);
		/* Evaluation mode: a row alone then passes as it did in the batch. */
		out = fin_net_forward(&c.net, c.x, ROWS, 0);
		per_row_dout(&c, out, dout);
		fin_net_backward_rows(&c.net, dout, ROWS, grads, work, sq);
		for (s = 0; s < ROWS; s++) {
			double want;
			row_gradient(&c, s, 0, g);
			want = norm(g, c.net.nparams);
			assert_true(want > 1e-3);
			if (fabs(sqrt(sq[s]) - want) > RTOL * want) {
				fprintf(stderr, "%s: row %zu: norm %.9g, alone %.9g\n", archs[a].text,
					s, sqrt(sq[s]), want);
				fail();
			}
		}
		free(dout);
		free(grads);
		free(work);
		free(g);
		free_case(&c);
	}
}

/* The gradients fin_net_backward_rows adds up are fin_net_backward's,
 * and a second backward pass on the same forward pass gives them again:
 * backward leaves the forward values as they were. */
static void test_backward_repeats(void **state)
{
	size_t a, p;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		struct case_data c;
		float *dout, *grads, *work, *first;
		double sq[ROWS] = { 0 };
		const float *out;

		setup_case(&c, &archs[a], 31 + a);
		dout = malloc(ROWS * c.net.out_size * sizeof *dout);
		grads = calloc(c.net.nparams, sizeof *grads);
		work = malloc(fin_net_row_work(&c.net) * sizeof *work);
		first = malloc(c.net.nparams * sizeof *first);
		out = fin_net_forward(&c.net, c.x, ROWS, 1);
		per_row_dout(&c, out, dout);
		memset(c.net.grads, 0, c.net.nparams * sizeof *c.net.grads);
		fin_net_backward(&c.net, dout, NULL, ROWS);
		memcpy(first, c.net.grads, c.net.nparams * sizeof *first);
		fin_net_backward_rows(&c.net, dout, ROWS, grads, work, sq);
		memset(c.net.grads, 0, c.net.nparams * sizeof *c.net.grads);
		fin_net_backward(&c.net, dout, NULL, ROWS);
		for (p = 0; p < c.net.nparams; p++) {
			assert_float_equal(grads[p], first[p], 0);
			assert_float_equal(c.net.grads[p], first[p], 0);
		}
		free(dout);
		free(grads);
		free(work);
		free(first);
		free_case(&c);
	}
}

/* With clip C below every row's norm and no noise, the private gradient
 * is sum_s (C / |g_s|) g_s / denom, and one row's has norm C. */
static void test_clipping(void **state)
{
	size_t a, s, p;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		struct case_data c;
		fin_dp_sgd dp;
		gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
		float *g;
		double *want, smallest = INFINITY, loss = 0, clip;

		setup_case(&c, &archs[a], 51 + a);
		g = malloc(c.net.nparams * sizeof *g);
		want = calloc(c.net.nparams, sizeof *want);
		for (s = 0; s < ROWS; s++) {
			row_gradient(&c, s, 0, g);
			smallest = fmin(smallest, norm(g, c.net.nparams));
		}
		clip = smallest / 3;
		for (s = 0; s < ROWS; s++) {
			double f;
			row_gradient(&c, s, 0, g);
			f = clip / norm(g, c.net.nparams);
			for (p = 0; p < c.net.nparams; p++)
				want[p] += f * g[p] / ROWS;
		}
		assert_int_equal(fin_dp_sgd_init(&dp, &c.net, clip, 0, ROWS, ROWS), 0);
		assert_true(fabs(dp.denom - ROWS) < 1e-12);
		/* Dropout off: fin_dp_gradient trains, so the architectures with
		 * dropout are compared in their rows' evaluation-mode form only
		 * through the norm bound below. */
		if (!strstr(archs[a].text, "dropout")) {
			assert_int_equal(fin_dp_gradient(&dp, &c.net, archs[a].loss, c.x, c.y, ROWS, r,
							 &loss),
					 0);
			for (p = 0; p < c.net.nparams; p++)
				assert_true(fabs(c.net.grads[p] - want[p]) <=
					    RTOL * clip + 1e-4 * fabs(want[p]));
			assert_int_equal(dp.clipped, ROWS);
		}
		/* One row: its clipped gradient has norm C at most, and C. */
		dp.denom = 1;
		for (s = 0; s < ROWS; s++) {
			double n1;
			assert_int_equal(fin_dp_gradient(&dp, &c.net, archs[a].loss, c.x + s * c.d,
							 c.y + s * c.kw, 1, r, &loss),
					 0);
			n1 = norm(c.net.grads, c.net.nparams);
			assert_true(n1 <= clip * (1 + 1e-5));
			assert_true(n1 >= clip * (1 - 1e-4));
		}
		fin_dp_sgd_free(&dp);
		free(g);
		free(want);
		gsl_rng_free(r);
		free_case(&c);
	}
}

/* No clipping (C above every norm) and no noise: the plain gradient of
 * the batch's mean loss when the expected batch is the batch. */
static void test_plain_sgd(void **state)
{
	size_t a, p;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		struct case_data c;
		fin_dp_sgd dp;
		gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
		float *dout, *plain;
		double loss = 0;
		const float *out;

		setup_case(&c, &archs[a], 71 + a);
		dout = malloc(ROWS * c.net.out_size * sizeof *dout);
		plain = malloc(c.net.nparams * sizeof *plain);
		gsl_rng_set(c.net.rng, 5);
		out = fin_net_forward(&c.net, c.x, ROWS, 1);
		fin_loss(archs[a].loss, out, c.y, ROWS, c.net.out_size, dout);
		memset(c.net.grads, 0, c.net.nparams * sizeof *c.net.grads);
		fin_net_backward(&c.net, dout, NULL, ROWS);
		memcpy(plain, c.net.grads, c.net.nparams * sizeof *plain);
		assert_int_equal(fin_dp_sgd_init(&dp, &c.net, 1e30, 0, ROWS, ROWS), 0);
		/* The same dropout mask as the plain pass. */
		gsl_rng_set(c.net.rng, 5);
		assert_int_equal(fin_dp_gradient(&dp, &c.net, archs[a].loss, c.x, c.y, ROWS, r, &loss),
				 0);
		assert_int_equal(dp.clipped, 0);
		for (p = 0; p < c.net.nparams; p++)
			assert_true(fabs(c.net.grads[p] - plain[p]) <= RTOL * (fabs(plain[p]) + 1e-2));
		fin_dp_sgd_free(&dp);
		free(dout);
		free(plain);
		gsl_rng_free(r);
		free_case(&c);
	}
}

/* Noise alone (an empty batch): each coordinate N(0, (sigma C)^2) over the
 * expected batch size; mean and variance over many coordinates and
 * steps within 5 standard errors. */
static void test_noise(void **state)
{
	struct case_data c;
	fin_dp_sgd dp;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	double sum = 0, sumsq = 0, loss = 0, sd, n = 0, var;
	size_t step, p;

	(void)state;
	setup_case(&c, &archs[0], 91);
	assert_int_equal(fin_dp_sgd_init(&dp, &c.net, 0.5, 1.3, 1000, 50), 0);
	sd = 1.3 * 0.5 / dp.denom;
	for (step = 0; step < 200; step++) {
		assert_int_equal(fin_dp_gradient(&dp, &c.net, archs[0].loss, c.x, c.y, 0, r, &loss), 0);
		for (p = 0; p < c.net.nparams; p++) {
			sum += c.net.grads[p];
			sumsq += (double)c.net.grads[p] * c.net.grads[p];
			n++;
		}
	}
	var = sumsq / n;
	assert_true(fabs(sum / n) < 5 * sd / sqrt(n));
	/* The variance of a sample variance of normals: 2 sd^4 / n. */
	assert_true(fabs(var - sd * sd) < 5 * sd * sd * sqrt(2 / n));
	fin_dp_sgd_free(&dp);
	gsl_rng_free(r);
	free_case(&c);
}

/* Poisson sampling: batch sizes Binomial(rows, q), every row as likely. */
static void test_poisson_batches(void **state)
{
	struct case_data c;
	fin_dp_sgd dp;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	enum { N = 400, BATCH = 20, DRAWS = 20000 };
	size_t idx[N], count[N] = { 0 }, d, i;
	double q, sum = 0, sumsq = 0, mean, var;

	(void)state;
	setup_case(&c, &archs[0], 93);
	gsl_rng_set(r, 3);
	assert_int_equal(fin_dp_sgd_init(&dp, &c.net, 1, 1, N, BATCH), 0);
	q = (double)BATCH / N;
	assert_true(fabs(dp.rate - q) < 1e-15);
	assert_int_equal(fin_dp_steps_per_epoch(N, BATCH), N / BATCH);
	assert_int_equal(fin_dp_steps_per_epoch(N + 1, BATCH), N / BATCH + 1);
	for (d = 0; d < DRAWS; d++) {
		size_t n = fin_dp_sample(&dp, r, N, idx);
		sum += (double)n;
		sumsq += (double)n * n;
		for (i = 0; i < n; i++) {
			assert_true(idx[i] < N);
			if (i)
				assert_true(idx[i] > idx[i - 1]);
			count[idx[i]]++;
		}
	}
	mean = sum / DRAWS;
	var = sumsq / DRAWS - mean * mean;
	assert_true(fabs(mean - N * q) < 5 * sqrt(N * q * (1 - q) / DRAWS));
	assert_true(fabs(var / (N * q * (1 - q)) - 1) < 0.05);
	/* Each row: Binomial(DRAWS, q), mean 1000, sd 30.8; all 400 within 5 sd. */
	for (i = 0; i < N; i++)
		assert_true(fabs((double)count[i] - DRAWS * q) < 5 * sqrt(DRAWS * q * (1 - q)));
	fin_dp_sgd_free(&dp);
	gsl_rng_free(r);
	free_case(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_norms),
		cmocka_unit_test(test_backward_repeats),
		cmocka_unit_test(test_clipping),
		cmocka_unit_test(test_plain_sgd),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_poisson_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
