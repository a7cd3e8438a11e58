/* Batches shared out among threads: one step of a team of 2, 3 and 4
 * threads against the same step on one thread (the summed gradient, the
 * update, the losses), for every kind of layer with weights, with batches
 * smaller than the team, uneven splits and gradient clipping; the team's
 * loss over many rows against one thread's; and the same bits on every run
 * of a team of a given size, dropout included. */
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

#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/team.h"

#define CAP 33

/* The sums differ only in their order: float32 sums of some hundred terms
 * of order 1 agree to about 1e-6 relative, and a lost share of the batch,
 * a row counted twice or a wrong weight of a share is off by far more. */
#define RTOL 1e-4

struct arch {
	const char *text;
	size_t in_c, in_t, out;
	enum fin_loss loss;
};

static const struct arch archs[] = {
	{ "dense(5,tanh) dense(3)", 4, 1, 3, FIN_LOSS_MSE },
	{ "conv1d(4,3,relu) maxpool(2) flatten dense(8,relu) dense(1)", 2, 9, 1, FIN_LOSS_MSE },
	{ "conv1d(3,3,tanh,same) layernorm flatten dense(1)", 2, 8, 1, FIN_LOSS_BCE },
	{ "lstm(4) dense(1)", 3, 5, 1, FIN_LOSS_HUBER },
	{ "gru(4) dense(2)", 3, 5, 2, FIN_LOSS_MAE },
	{ "lstm(3,seq) gru(2) dense(3)", 2, 4, 3, FIN_LOSS_SOFTMAX_CE },
	{ "dense(4,step) posenc(learned) encoder(2,6) encoder(2,5,norm_first,causal) pool(last) "
	  "dense(1)", 2, 5, 1, FIN_LOSS_MSE },
	{ "patch(3,2) dense(4,step) posenc(sin) encoder(2,6,tanh,causal) flatten dense(2)", 1, 8, 2,
	  FIN_LOSS_SOFTMAX_CE },
};

struct data {
	float *x, *y;
	size_t d, kw;
};

static void make_data(struct data *dt, const struct arch *a, size_t rows, unsigned long seed)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t i;

	gsl_rng_set(r, seed);
	dt->d = a->in_c * a->in_t;
	dt->kw = a->loss == FIN_LOSS_SOFTMAX_CE ? 1 : a->out;
	dt->x = malloc(rows * dt->d * sizeof *dt->x);
	dt->y = malloc(rows * dt->kw * sizeof *dt->y);
	assert_non_null(dt->x);
	assert_non_null(dt->y);
	for (i = 0; i < rows * dt->d; i++)
		dt->x[i] = (float)(gsl_rng_uniform(r) * 2 - 1);
	for (i = 0; i < rows * dt->kw; i++)
		dt->y[i] = a->loss == FIN_LOSS_SOFTMAX_CE ? (float)(i % a->out)
			   : a->loss == FIN_LOSS_BCE      ? (float)(i % 2)
							  : (float)(gsl_rng_uniform(r) * 4 - 2);
	gsl_rng_free(r);
}

static void free_data(struct data *dt)
{
	free(dt->x);
	free(dt->y);
}

static void make_net(fin_net *net, const struct arch *a)
{
	fin_err err = { 0 };

	if (fin_net_build(net, a->text, a->in_c, a->in_t, &err) != FIN_OK) {
		fprintf(stderr, "%s: %s\n", a->text, err.msg);
		fail();
	}
	assert_int_equal(fin_net_init(net, 7), 0);
	assert_int_equal(fin_net_reserve(net, CAP), 0);
}

static double max_abs(const float *v, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m = fabs(v[i]) > m ? fabs(v[i]) : m;
	return m;
}

/* One SGD step (its first: no momentum yet, so the update is lr times
 * the gradient) on one thread and on a team; the updates must agree. */
static void check_step(const struct arch *a, size_t n, size_t threads, float clip)
{
	fin_net one, shared;
	fin_optim o1, o2;
	struct data dt;
	float *dout, *before, *u1, *u2;
	double loss1, loss2, scale;
	size_t i, np;
	fin_team *team;
	const float *out;

	make_data(&dt, a, n, 100 + n);
	make_net(&one, a);
	make_net(&shared, a);
	np = one.nparams;
	before = malloc(np * sizeof *before);
	u1 = malloc(np * sizeof *u1);
	u2 = malloc(np * sizeof *u2);
	dout = malloc(n * one.out_size * sizeof *dout);
	assert_non_null(before);
	assert_non_null(u1);
	assert_non_null(u2);
	assert_non_null(dout);
	memcpy(before, one.params, np * sizeof *before);
	assert_int_equal(fin_optim_init(&o1, FIN_OPT_SGD, 0.5f, np), 0);
	assert_int_equal(fin_optim_init(&o2, FIN_OPT_SGD, 0.5f, np), 0);
	o1.clip = o2.clip = clip;

	memset(one.grads, 0, np * sizeof *one.grads);
	out = fin_net_forward(&one, dt.x, n, 1);
	loss1 = fin_loss(a->loss, out, dt.y, n, one.out_size, dout) * (double)n;
	fin_net_backward(&one, dout, NULL, n);
	fin_optim_step(&o1, one.params, one.grads);

	team = fin_team_start(&shared, threads, CAP, dt.kw, 3);
	assert_non_null(team);
	loss2 = fin_team_step(team, a->loss, dt.x, dt.y, n, &o2);
	fin_team_stop(team);

	for (i = 0; i < np; i++) {
		u1[i] = one.params[i] - before[i];
		u2[i] = shared.params[i] - before[i];
	}
	scale = max_abs(u1, np);
	assert_true(scale > 0);
	for (i = 0; i < np; i++)
		if (fabs(u1[i] - u2[i]) > RTOL * scale) {
			fprintf(stderr, "%s, %zu rows, %zu threads, clip %g: parameter %zu moved %g "
				"on one thread and %g on the team\n", a->text, n, threads,
				(double)clip, i, (double)u1[i], (double)u2[i]);
			fail();
		}
	assert_true(fabs(loss1 - loss2) <= RTOL * fabs(loss1) + 1e-12);
	assert_int_equal(o2.step, 1);

	fin_optim_free(&o1);
	fin_optim_free(&o2);
	fin_net_free(&one);
	fin_net_free(&shared);
	free_data(&dt);
	free(before);
	free(u1);
	free(u2);
	free(dout);
}

static void test_step_matches_one_thread(void **state)
{
	static const size_t rows[] = { 1, 2, 5, 32, 33 };
	size_t a, r, t;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++)
		for (r = 0; r < sizeof rows / sizeof *rows; r++)
			for (t = 2; t <= 4; t++)
				check_step(&archs[a], rows[r], t, 0);
}

/* Clipping must see the whole gradient, summed over the team. */
static void test_step_clipped(void **state)
{
	size_t a;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		check_step(&archs[a], 32, 3, 1e-3f);
		check_step(&archs[a], 7, 2, 1e-3f);
	}
}

/* The loss over many rows, each thread taking its rows in batches of the
 * team's capacity. */
static void test_loss(void **state)
{
	size_t a, t, at, rows = 250;

	(void)state;
	for (a = 0; a < sizeof archs / sizeof *archs; a++) {
		struct data dt;
		fin_net net;
		double want = 0;

		make_data(&dt, &archs[a], rows, 9);
		make_net(&net, &archs[a]);
		for (at = 0; at < rows; at += CAP) {
			size_t n = rows - at < CAP ? rows - at : CAP;
			const float *out = fin_net_forward(&net, dt.x + at * dt.d, n, 0);
			want += fin_loss(archs[a].loss, out, dt.y + at * dt.kw, n, net.out_size, NULL) *
				(double)n;
		}
		for (t = 2; t <= 4; t++) {
			fin_team *team = fin_team_start(&net, t, CAP, dt.kw, 3);
			double got;
			assert_non_null(team);
			got = fin_team_loss(team, archs[a].loss, dt.x, dt.y, rows);
			fin_team_stop(team);
			assert_true(fabs(got - want) <= RTOL * fabs(want));
		}
		fin_net_free(&net);
		free_data(&dt);
	}
}

/* Ten Adam steps with dropout on a team of three, twice: the same bits. */
static void run_steps(float *params, size_t np)
{
	static const struct arch a = { "conv1d(4,3,relu) flatten dropout(0.4) dense(6,tanh) "
				       "dropout(0.2) dense(1)", 1, 12, 1, FIN_LOSS_MSE };
	struct data dt;
	fin_net net;
	fin_optim o;
	fin_team *team;
	size_t s;

	make_data(&dt, &a, 10 * 20, 5);
	make_net(&net, &a);
	assert_int_equal(net.nparams, np);
	assert_int_equal(fin_optim_init(&o, FIN_OPT_ADAM, 1e-2f, net.nparams), 0);
	team = fin_team_start(&net, 3, CAP, dt.kw, 11);
	assert_non_null(team);
	for (s = 0; s < 10; s++)
		fin_team_step(team, a.loss, dt.x + s * 20 * dt.d, dt.y + s * 20 * dt.kw, 20, &o);
	fin_team_stop(team);
	memcpy(params, net.params, np * sizeof *params);
	fin_optim_free(&o);
	fin_net_free(&net);
	free_data(&dt);
}

static void test_same_bits_every_run(void **state)
{
	/* conv1d 4*3+4, dense 6*40+6, dense 6+1 */
	enum { NP = 16 + 246 + 7 };
	float p1[NP], p2[NP];

	(void)state;
	run_steps(p1, NP);
	run_steps(p2, NP);
	assert_memory_equal(p1, p2, sizeof p1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_matches_one_thread),
		cmocka_unit_test(test_step_clipped),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_same_bits_every_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
