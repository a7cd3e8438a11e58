/* The engine against PyTorch: outputs, gradients, losses and the first ten
 * optimizer steps on fixtures made by tests/fixtures/make_torch_fixtures.py,
 * and two steps of each optimizer from the fixtures' gradients against
 * torch.optim's formulas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static cJSON *load(const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	return fixture_load(path);
}

/* The floats of a JSON array, in a new buffer; its length in *n. */
static float *floats(const cJSON *arr, size_t *n)
{
	size_t len = (size_t)cJSON_GetArraySize(arr), i = 0;
	float *v = malloc((len ? len : 1) * sizeof *v);
	const cJSON *e;

	assert_true(cJSON_IsArray(arr));
	cJSON_ArrayForEach(e, arr) v[i++] = (float)e->valuedouble;
	if (n)
		*n = len;
	return v;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_non_null(v);
	return v;
}

/* How close the engine must come to PyTorch, on any x86-64 CPU, OpenBLAS
 * kernel and thread count.
 *
 * Both sides evaluate the same formulas in float32 and differ only in how
 * they round: OpenBLAS's kernels (Prescott, Sandybridge, Haswell, Zen,
 * SkylakeX, ...) and its threads split and order the GEMMs' sums each their
 * own way, and torch's order is another. A sum of K float32 terms, in any
 * order, is off by at most K u sum|terms| (u = 2^-24); its rounding errors
 * being independent and of mean zero, it is off by more than
 * LAMBDA sqrt(K) u sum|terms| with probability at most 2 exp(-LAMBDA^2 / 2)
 * (Higham and Mary, SIAM J. Sci. Comput. 41(5), 2019). A forward and
 * backward pass chains such sums, and to first order their errors add: K is
 * the count of terms summed along the chain, accumulation_length() below.
 * The terms making up a value of a tensor are taken to be no larger than the
 * tensor's largest magnitude S, so every value of a tensor is compared to
 * LAMBDA sqrt(K) u S: a floor that follows the tensor's own scale. The lstm
 * preset's recurrent weight gradients (S = 5.3e-3, K = 4461), for one, are
 * compared to 1.7e-7, so that 470 of the 570 of them below 1e-6, which a
 * fixed floor of 1e-6 left unchecked, are now checked. LAMBDA = 8 puts the
 * chance of a false alarm at 2.5e-14 a value. Over the kernels and thread
 * counts tried, from Prescott to SkylakeX on 1, 2 and 4 threads, the
 * largest error seen is an eighth of the tolerance. */
#define UNIT_ROUNDOFF 0x1p-24
#define LAMBDA 8.0

/* The optimizer runs: NSTEPS steps each; the first run is adam's. */
#define NSTEPS 10
#define ADAM_LR 1e-3
#define ADAM_EPS 1e-8

/* The float32 terms the layers of net sum along the chain from the input
 * to the output and back to the input's gradient. Per layer: forward, a
 * value's fan-in; backward, an input gradient's fan-out and a weight
 * gradient's sum over the batch (times the positions of a convolution, the
 * steps of a recurrent layer, which also sums C + H terms forward and G H
 * back at each of its T steps); and 4 for the element-wise functions (tanh
 * through expf is within 4 u) at each position or step. */
static size_t layer_sums(const fin_net *net, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		size_t gh = fin_layer_gates(l) * l->units;
		/* a pre-norm's normalisation, as the layernorm layer's below */
		size_t norm = l->norm ? 4 * l->in_c + n * l->in_t + 4 : 0;

		switch (l->kind) {
		case FIN_L_DENSE:
			k += l->in_c * l->in_t + n + l->units + 4;
			break;
		case FIN_L_CONV1D:
			/* dense(U,ACT,step) too, a kernel of 1: C terms at each
			 * step forward, U back, and the weights' sum over n T */
			k += l->in_c * l->kernel + n * l->out_t + l->units * l->kernel + 4;
			break;
		case FIN_L_ATTENTION: {
			/* Forward, along the longest chain: a query, key or value
			 * sums C inputs, a score dh products, the softmax's
			 * normaliser T exponentials (4 for expf), a head's output
			 * T weighted values, the output projection C. Back: C
			 * through the output projection, dh for an attention
			 * weight's gradient (a head's output gradient times a
			 * value), T for the softmax's (the sum of P dP over the
			 * keys), T for a query's, key's or value's (over the keys
			 * or the queries), and 3C into the input from the three
			 * projections. The projections' weight gradients sum over
			 * the n T tokens; 2 for the residual's add, both ways. */
			size_t dh = l->in_c / l->heads;
			k += 2 * l->in_c + dh + 2 * l->in_t + 4 + 4 * l->in_c + dh + 2 * l->in_t +
			     n * l->in_t + 2 + norm;
			break;
		}
		case FIN_L_FF:
			/* C then U forward, C then U back (the two products
			 * transposed), the weights' sum over the n T tokens, 4 for
			 * the activation and 1 for the residual's add */
			k += 2 * l->in_c + 2 * l->units + n * l->in_t + 4 + 1 + norm;
			break;
		case FIN_L_POSENC:
			/* one add (the sine table is rounded once from double);
			 * a learned table's gradient sums over the batch */
			k += 1 + (l->learned ? n : 0);
			break;
		case FIN_L_PATCH:
			/* copies forward; back, a step's gradient gathers the
			 * patches overlapping it, ceil(LEN / STRIDE) of them */
			k += (l->kernel + l->stride - 1) / l->stride;
			break;
		case FIN_L_SEQPOOL:
			/* the last step is a copy; the mean sums T steps and
			 * divides, and its gradient is divided back */
			k += l->mean ? l->in_t + 2 : 0;
			break;
		case FIN_L_LSTM:
		case FIN_L_GRU:
			k += l->in_t * (l->in_c + l->units + gh + n + 4) + gh;
			break;
		case FIN_L_MAXPOOL:
		case FIN_L_AVGPOOL:
			k += l->kernel;
			break;
		case FIN_L_ACT:
			k += l->act == FIN_ACT_SOFTMAX ? l->out_c * l->out_t + 4 : 4;
			break;
		case FIN_L_LAYERNORM:
			/* the mean and the variance over the channels forward,
			 * two means back, and gamma's sum over samples and steps */
			k += 4 * l->in_c + n * l->in_t + 4;
			break;
		default:
			break;
		}
	}
	return k;
}

/* K of a training pass: the layers', and the loss's mean over the batch. */
static size_t accumulation_length(const fin_net *net, size_t n)
{
	return layer_sums(net, n) + n * net->out_size;
}

static double largest(const float *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = fmax(s, fabs((double)v[i]));
	return s;
}

/* LAMBDA sqrt(k) u scale: the rounding of a chain of k terms of up to scale. */
static double rounding(size_t k, double scale)
{
	return LAMBDA * sqrt((double)k) * UNIT_ROUNDOFF * scale;
}

/* One tensor: |got - want| <= rounding(k, max |want|) for every value. */
static void expect_close(const float *got, const float *want, size_t n, size_t k, const char *what)
{
	double tol = rounding(k, largest(want, n));
	size_t i;

	for (i = 0; i < n; i++)
		if (!(fabs((double)got[i] - want[i]) <= tol)) {
			print_error("%s[%zu]: got %.9g, want %.9g (tolerance %.3g)\n", what, i,
				    (double)got[i], (double)want[i], tol);
			fail();
		}
}

static void expect_scalar(double got, double want, size_t k, const char *what)
{
	if (!(fabs(got - want) <= rounding(k, fabs(want)))) {
		print_error("%s: got %.9g, want %.9g (tolerance %.3g)\n", what, got, want,
			    rounding(k, fabs(want)));
		fail();
	}
}

/* Parameters listed in model order, weights then biases: the same order
 * as the flat buffer. */
static void copy_params(const cJSON *list, float *dst, size_t total)
{
	const cJSON *p;
	size_t at = 0;

	cJSON_ArrayForEach(p, list)
	{
		size_t n;
		float *v = floats(get(p, "data"), &n);
		assert_true(at + n <= total);
		memcpy(dst + at, v, n * sizeof *v);
		at += n;
		free(v);
	}
	assert_int_equal(at, total);
}

/* Each tensor of a parameter list on its own scale. */
static void expect_params(const cJSON *list, const float *got, size_t k, const char *what)
{
	const cJSON *p;
	size_t at = 0;

	cJSON_ArrayForEach(p, list)
	{
		size_t n;
		float *want = floats(get(p, "data"), &n);
		char name[128];
		snprintf(name, sizeof name, "%s %s", what, get(p, "name")->valuestring);
		expect_close(got + at, want, n, k, name);
		at += n;
		free(want);
	}
}

struct model_case {
	cJSON *doc;
	fin_net net;
	float *x, *y, *init;
	size_t n, k;
	size_t chain; /* accumulation_length() of the network on the batch */
	enum fin_loss loss;
};

static void open_case(struct model_case *c, const char *file)
{
	const cJSON *shape;
	fin_err err = { 0 };

	memset(c, 0, sizeof *c);
	c->doc = load(file);
	shape = get(c->doc, "input_shape");
	assert_int_equal(fin_net_build(&c->net, get(c->doc, "arch")->valuestring,
				       (size_t)cJSON_GetArrayItem(shape, 0)->valueint,
				       (size_t)cJSON_GetArrayItem(shape, 1)->valueint, &err),
			 FIN_OK);
	c->n = (size_t)get(c->doc, "n")->valueint;
	c->k = c->net.out_size;
	c->loss = (enum fin_loss)fin_loss_parse(get(c->doc, "loss")->valuestring);
	c->x = floats(get(c->doc, "x"), NULL);
	c->y = floats(get(c->doc, "y"), NULL);
	c->init = malloc(c->net.nparams * sizeof *c->init);
	copy_params(get(c->doc, "params"), c->init, c->net.nparams);
	assert_int_equal(fin_net_reserve(&c->net, c->n), 0);
	c->chain = accumulation_length(&c->net, c->n);
}

static void close_case(struct model_case *c)
{
	fin_net_free(&c->net);
	free(c->x);
	free(c->y);
	free(c->init);
	cJSON_Delete(c->doc);
}

/* One forward and backward pass; returns the loss. */
static double step_grads(struct model_case *c, float *dx)
{
	float *dout = malloc(c->n * c->k * sizeof *dout);
	const float *out;
	double loss;

	memset(c->net.grads, 0, c->net.nparams * sizeof *c->net.grads);
	out = fin_net_forward(&c->net, c->x, c->n, 1);
	loss = fin_loss(c->loss, out, c->y, c->n, c->k, dout);
	fin_net_backward(&c->net, dout, dx, c->n);
	free(dout);
	return loss;
}

static void check_forward_backward(const char *file)
{
	struct model_case c;
	size_t nx = 0;
	float *want_out, *dx, *want_dx;
	const float *out;
	double loss;

	open_case(&c, file);
	memcpy(c.net.params, c.init, c.net.nparams * sizeof *c.init);
	want_out = floats(get(c.doc, "output"), NULL);
	out = fin_net_forward(&c.net, c.x, c.n, 0);
	expect_close(out, want_out, c.n * c.k, c.chain, "output");

	want_dx = floats(get(c.doc, "input_grad"), &nx);
	dx = malloc(nx * sizeof *dx);
	loss = step_grads(&c, dx);
	expect_scalar(loss, get(c.doc, "loss_value")->valuedouble, c.chain, "loss");
	expect_params(get(c.doc, "grads"), c.net.grads, c.chain, "grad");
	expect_close(dx, want_dx, nx, c.chain, "input_grad");
	free(want_out);
	free(want_dx);
	free(dx);
	close_case(&c);
}

/* The optimizer runs of the fixtures, as make_torch_fixtures.py sets them
 * up; the first is adam's. */
static const struct optim_run {
	const char *name;
	enum fin_optim_kind kind;
	float lr, l2, clip;
} runs[] = {
	{ "adam", FIN_OPT_ADAM, (float)ADAM_LR, 0, 0 },
	{ "adamw", FIN_OPT_ADAMW, 1e-3f, 0.01f, 0 },
	{ "sgd", FIN_OPT_SGD, 0.01f, 0, 0 },
	{ "rmsprop", FIN_OPT_RMSPROP, 1e-3f, 0, 0 },
	{ "adam_l2", FIN_OPT_ADAM, 1e-3f, 1e-3f, 0 },
	{ "adam_clip", FIN_OPT_ADAM, 1e-3f, 0, 0.5f },
};
#define NRUNS (sizeof runs / sizeof *runs)

/* Two steps of run r from p with the same gradient g each time, in double,
 * as torch.optim documents them (and clip_grad_norm_ before each step).
 * Into tol, how far float32 may take each parameter from them: u |p| for
 * each of the three roundings of the parameter a step makes (AdamW's decay
 * factor, its product, the update), and 16 u of the
 * step for its dozen operations. Adam's bias corrections 1 - b^t are taken
 * in float32 by fin (in double by torch) from b^t rounded, off by u: that
 * is u / (1 - b1^t) and, under the root, u / (2 (1 - b2^t)) of the step,
 * 500 u at the second step. The gradient a step uses, d = g + wd p (or the
 * clipped g), is rounded too, by up to 2 u (|g| + |wd p|), which can be
 * much of d where the two cancel; a step moves by at most
 * 2.1 sqrt(t) lr / (|d| / 10 + eps) per unit of d (expect_adam_params()
 * for Adam; RMSprop's sqrt(v) is at least |d| / 10). */
static void optim_reference(const struct optim_run *r, const float *g, size_t n, double *p,
			    double *tol)
{
	double *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v), norm = 0, scale = 1;
	const double lr = r->lr, wd = r->l2, b1 = 0.9, b2 = 0.999, alpha = 0.99, mu = 0.9;
	size_t i, t;

	assert_true(m && v);
	for (i = 0; i < n; i++)
		norm += (double)g[i] * g[i];
	if (r->clip > 0 && r->clip / (sqrt(norm) + 1e-6) < 1)
		scale = r->clip / (sqrt(norm) + 1e-6);
	for (i = 0; i < n; i++)
		tol[i] = 0;
	for (t = 1; t <= 2; t++)
		for (i = 0; i < n; i++) {
			const double coupled = r->kind == FIN_OPT_ADAMW ? 0 : wd * p[i];
			const double d = g[i] * scale + coupled, before = p[i];
			const double rounded = 2 * UNIT_ROUNDOFF * (fabs(g[i] * scale) + fabs(coupled));
			double step_error = 16;

			switch (r->kind) {
			case FIN_OPT_SGD:
				m[i] = t == 1 ? d : mu * m[i] + d;
				p[i] -= lr * m[i];
				break;
			case FIN_OPT_RMSPROP:
				v[i] = alpha * v[i] + (1 - alpha) * d * d;
				p[i] -= lr * d / (sqrt(v[i]) + ADAM_EPS);
				break;
			default:
				if (r->kind == FIN_OPT_ADAMW)
					p[i] *= 1 - lr * wd;
				m[i] = b1 * m[i] + (1 - b1) * d;
				v[i] = b2 * v[i] + (1 - b2) * d * d;
				p[i] -= lr / (1 - pow(b1, (double)t)) * m[i] /
					(sqrt(v[i]) / sqrt(1 - pow(b2, (double)t)) + ADAM_EPS);
				step_error += 1 / (1 - pow(b1, (double)t)) +
					      1 / (2 * (1 - pow(b2, (double)t)));
				break;
			}
			tol[i] += UNIT_ROUNDOFF * (3 * fabs(p[i]) + step_error * fabs(p[i] - before)) +
				  2.1 * sqrt((double)t) * lr * rounded / (fabs(d) / 10 + ADAM_EPS);
		}
	free(m);
	free(v);
}

/* Every optimizer's first two steps from the reference parameters and
 * gradients, the same bits on both sides: no sum of the network's is
 * involved, only the update's own float32 operations (optim_reference()).
 * This checks the optimizers where the ten steps above cannot: on
 * parameters whose gradient is at the rounding level, such as those whose
 * Adam steps eps decides. */
static void check_optimizers(const char *file)
{
	struct model_case c;
	size_t r, i, s, n;
	float *g, *work;
	double *want, *tol;

	open_case(&c, file);
	n = c.net.nparams;
	g = malloc(n * sizeof *g);
	work = malloc(n * sizeof *work);
	want = malloc(n * sizeof *want);
	tol = malloc(n * sizeof *tol);
	assert_true(g && work && want && tol);
	copy_params(get(c.doc, "grads"), g, n);
	for (r = 0; r < NRUNS; r++) {
		fin_optim o;

		memcpy(c.net.params, c.init, n * sizeof *c.init);
		assert_int_equal(fin_optim_init(&o, runs[r].kind, runs[r].lr, n), 0);
		o.l2 = runs[r].l2;
		o.clip = runs[r].clip;
		for (s = 0; s < 2; s++) {
			memcpy(work, g, n * sizeof *g);
			fin_optim_step(&o, c.net.params, work);
		}
		for (i = 0; i < n; i++)
			want[i] = c.init[i];
		optim_reference(&runs[r], g, n, want, tol);
		for (i = 0; i < n; i++) {
			if (!(fabs(c.net.params[i] - want[i]) <= tol[i])) {
				print_error("%s, two steps: parameter %zu: got %.9g, want %.9g "
					    "(gradient %.3g, tolerance %.3g)\n",
					    runs[r].name, i, (double)c.net.params[i], want[i],
					    (double)g[i], tol[i]);
				fail();
			}
		}
		fin_optim_free(&o);
	}
	free(g);
	free(work);
	free(want);
	free(tol);
	close_case(&c);
}

/* The parameters after NSTEPS adam steps, each against a tolerance of its
 * own. With every gradient off by at most delta, the bias-corrected moments
 * m and v, a weighted mean of the gradients and of their squares, have m and
 * sqrt(v) off by at most delta, and the step lr m / (sqrt(v) + eps) by at
 * most lr delta (1 + |m| / sqrt(v)) / (sqrt(v) + eps). Over the first ten
 * steps at betas 0.9 and 0.999, |m| / sqrt(v) <= 1.05 (Cauchy-Schwarz), so
 * no step is longer than 1.05 lr and none is off by more than 2.1 lr; and v,
 * which only grows from the first gradient's square, keeps
 * sqrt(v) >= 0.997 |g1| / sqrt(t) at step t. delta is the gradient tensor's
 * tolerance and g1 the reference gradient less delta; the parameter is
 * rounded at every step too, u (|p| + 4 lr). The later gradients are taken
 * at parameters already off by these amounts, a second-order effect: the
 * largest error seen is a seventh of the tolerance. A parameter whose
 * gradient is within the rounding (a unit barely active on the batch) takes
 * the steps that rounding decides, and is held only to their reach. */
static void expect_adam_params(const cJSON *final, const cJSON *grads, const float *got, size_t k)
{
	const cJSON *p, *g = grads->child;
	size_t at = 0, i, t;

	cJSON_ArrayForEach(p, final)
	{
		size_t n;
		float *want = floats(get(p, "data"), &n), *grad = floats(get(g, "data"), NULL);
		double delta = rounding(k, largest(grad, n));

		for (i = 0; i < n; i++) {
			double g1 = fmax(fabs((double)grad[i]) - delta, 0);
			double tol = NSTEPS * UNIT_ROUNDOFF * (fabs((double)want[i]) + 4 * ADAM_LR);
			for (t = 1; t <= NSTEPS; t++)
				tol += ADAM_LR * fmin(2.1, 2.05 * delta * sqrt((double)t) /
								(0.997 * g1 + ADAM_EPS));
			if (!(fabs((double)got[at + i] - want[i]) <= tol)) {
				print_error("final_params_adam %s[%zu]: got %.9g, want %.9g "
					    "(gradient %.3g, tolerance %.3g)\n",
					    get(p, "name")->valuestring, i, (double)got[at + i],
					    (double)want[i], (double)grad[i], tol);
				fail();
			}
		}
		at += n;
		g = g->next;
		free(want);
		free(grad);
	}
}

/* The losses of NSTEPS steps of each optimizer from the same start: the
 * loss at step s carries the rounding of s passes, s K terms. */
static void check_steps(const char *file)
{
	struct model_case c;
	size_t r, s;

	open_case(&c, file);
	for (r = 0; r < NRUNS; r++) {
		fin_optim o;
		float *want = floats(get(get(c.doc, "steps"), runs[r].name), NULL);

		memcpy(c.net.params, c.init, c.net.nparams * sizeof *c.init);
		assert_int_equal(fin_optim_init(&o, runs[r].kind, runs[r].lr, c.net.nparams), 0);
		o.l2 = runs[r].l2;
		o.clip = runs[r].clip;
		for (s = 0; s < NSTEPS; s++) {
			char what[64];
			snprintf(what, sizeof what, "%s loss at step %zu", runs[r].name, s + 1);
			expect_scalar((float)step_grads(&c, NULL), want[s], (s + 1) * c.chain, what);
			fin_optim_step(&o, c.net.params, c.net.grads);
		}
		if (r == 0)
			expect_adam_params(get(c.doc, "final_params_adam"), get(c.doc, "grads"),
					   c.net.params, c.chain);
		fin_optim_free(&o);
		free(want);
	}
	close_case(&c);
}

static void test_cnn_preset(void **state)
{
	(void)state;
	check_forward_backward("torch_cnn.json");
	check_steps("torch_cnn.json");
	check_optimizers("torch_cnn.json");
}

static void test_mlp(void **state)
{
	(void)state;
	check_forward_backward("torch_mlp.json");
	check_steps("torch_mlp.json");
	check_optimizers("torch_mlp.json");
}

static void test_small_cnn_softmax(void **state)
{
	(void)state;
	check_forward_backward("torch_cnn_small.json");
	check_steps("torch_cnn_small.json");
	check_optimizers("torch_cnn_small.json");
}

/* The lstm and gru presets: the last hidden state into a dense layer. */
static void test_lstm_preset(void **state)
{
	(void)state;
	check_forward_backward("torch_lstm.json");
	check_steps("torch_lstm.json");
	check_optimizers("torch_lstm.json");
}

static void test_gru_preset(void **state)
{
	(void)state;
	check_forward_backward("torch_gru.json");
	check_steps("torch_gru.json");
	check_optimizers("torch_gru.json");
}

/* Sequence outputs: a gru's [H][T] feeding an lstm, whose [H][T] is
 * flattened into a dense layer. */
static void test_rnn_stack_seq(void **state)
{
	(void)state;
	check_forward_backward("torch_rnn_stack.json");
	check_steps("torch_rnn_stack.json");
	check_optimizers("torch_rnn_stack.json");
}

/* The transformer layers are to agree with PyTorch within 1e-4: every
 * tolerance the checks above derive for the output, the loss of each of the
 * ten steps of every optimizer, each gradient tensor and the input's
 * gradient is within bar. (The parameters after ten Adam steps are held to
 * what each one's gradient decides, expect_adam_params().) */
static void expect_tolerances_within(const char *file, double bar)
{
	struct model_case c;
	const cJSON *p;
	size_t r, s, n;
	float *v;

	open_case(&c, file);
	v = floats(get(c.doc, "output"), &n);
	assert_true(rounding(c.chain, largest(v, n)) <= bar);
	free(v);
	v = floats(get(c.doc, "input_grad"), &n);
	assert_true(rounding(c.chain, largest(v, n)) <= bar);
	free(v);
	cJSON_ArrayForEach(p, get(c.doc, "grads"))
	{
		v = floats(get(p, "data"), &n);
		assert_true(rounding(c.chain, largest(v, n)) <= bar);
		free(v);
	}
	for (r = 0; r < NRUNS; r++) {
		v = floats(get(get(c.doc, "steps"), runs[r].name), &n);
		for (s = 0; s < n; s++)
			assert_true(rounding((s + 1) * c.chain, fabs((double)v[s])) <= bar);
		free(v);
	}
	close_case(&c);
}

/* The transformer preset's shape, small: a dense layer at each step, the
 * sinusoidal encoding, two post-norm encoders (attention, layernorm, ff,
 * layernorm each) and the last step into a dense layer, so that the second
 * encoder's attention computes the newest step's query alone. */
static void test_transformer(void **state)
{
	(void)state;
	check_forward_backward("torch_transformer.json");
	check_steps("torch_transformer.json");
	check_optimizers("torch_transformer.json");
	expect_tolerances_within("torch_transformer.json", 1e-4);
}

/* Patches aligned to the newest step (the oldest step left out, its
 * gradient 0), a learned encoding, two pre-norm causal encoders and the
 * mean over the patches into three classes. */
static void test_transformer_pre(void **state)
{
	(void)state;
	check_forward_backward("torch_transformer_pre.json");
	check_steps("torch_transformer_pre.json");
	check_optimizers("torch_transformer_pre.json");
	expect_tolerances_within("torch_transformer_pre.json", 1e-4);
}

static void check_loss(const cJSON *doc, enum fin_loss l, const char *key, const char *in,
		       const char *target, size_t k)
{
	const cJSON *ref = get(doc, key);
	size_t n;
	float *p = floats(get(doc, in), &n), *t = floats(get(doc, target), NULL);
	float *want = floats(get(ref, "grad"), NULL), *grad = malloc(n * sizeof *grad);
	double v = fin_loss(l, p, t, n / k, k, grad);

	/* torch's float32 mean over the n values (and softmax's sum over a
	 * row), and 4 for exp and log: fin computes the loss in double. */
	expect_scalar(v, get(ref, "value")->valuedouble, n + k + 4, key);
	expect_close(grad, want, n, n + k + 4, key);
	free(p);
	free(t);
	free(want);
	free(grad);
}

static void test_losses(void **state)
{
	cJSON *doc = load("torch_losses.json");
	(void)state;
	check_loss(doc, FIN_LOSS_MSE, "mse", "p", "t", 1);
	check_loss(doc, FIN_LOSS_MAE, "mae", "p", "t", 1);
	check_loss(doc, FIN_LOSS_HUBER, "huber", "p", "t", 1);
	check_loss(doc, FIN_LOSS_BCE, "bce_logits", "z", "labels", 1);
	check_loss(doc, FIN_LOSS_SOFTMAX_CE, "softmax_ce", "logits", "classes",
		   (size_t)get(doc, "k")->valueint);
	cJSON_Delete(doc);
}

/* Single layers: the activation forms, and the pools on an odd length. */
static void check_layer(const cJSON *doc, const char *key, const char *arch)
{
	const cJSON *ref = get(doc, key), *shape = get(ref, "shape");
	size_t dims = (size_t)cJSON_GetArraySize(shape), n, c, t, len;
	float *x = floats(get(ref, "x"), &len), *y = floats(get(ref, "y"), NULL);
	float *dy = floats(get(ref, "dy"), NULL), *dx = floats(get(ref, "dx"), NULL);
	float *got = malloc(len * sizeof *got);
	fin_net net;
	fin_err err = { 0 };

	n = (size_t)cJSON_GetArrayItem(shape, 0)->valueint;
	c = (size_t)cJSON_GetArrayItem(shape, 1)->valueint;
	t = dims == 3 ? (size_t)cJSON_GetArrayItem(shape, 2)->valueint : 1;
	assert_int_equal(fin_net_build(&net, arch, c, t, &err), FIN_OK);
	assert_int_equal(fin_net_reserve(&net, n), 0);
	expect_close(fin_net_forward(&net, x, n, 0), y, n * net.out_size, layer_sums(&net, n), key);
	fin_net_backward(&net, dy, got, n);
	expect_close(got, dx, len, layer_sums(&net, n), key);
	fin_net_free(&net);
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(got);
}

/* nn.LayerNorm over the channels at each step, with its gamma and beta:
 * the output, the input's gradient and the parameters' gradients. */
static void check_layernorm(const cJSON *doc)
{
	const cJSON *ref = get(doc, "layernorm"), *shape = get(ref, "shape");
	size_t n = (size_t)cJSON_GetArrayItem(shape, 0)->valueint;
	size_t c = (size_t)cJSON_GetArrayItem(shape, 1)->valueint;
	size_t t = (size_t)cJSON_GetArrayItem(shape, 2)->valueint, len;
	float *x = floats(get(ref, "x"), &len), *y = floats(get(ref, "y"), NULL);
	float *dy = floats(get(ref, "dy"), NULL), *dx = floats(get(ref, "dx"), NULL);
	float *gamma = floats(get(ref, "gamma"), NULL), *beta = floats(get(ref, "beta"), NULL);
	float *dgamma = floats(get(ref, "dgamma"), NULL), *dbeta = floats(get(ref, "dbeta"), NULL);
	float *got = malloc(len * sizeof *got);
	fin_net net;
	fin_err err = { 0 };

	assert_int_equal(fin_net_build(&net, "layernorm", c, t, &err), FIN_OK);
	assert_int_equal(net.nparams, 2 * c);
	assert_int_equal(fin_net_reserve(&net, n), 0);
	memcpy(net.params + net.layers[0].w, gamma, c * sizeof *gamma);
	memcpy(net.params + net.layers[0].b, beta, c * sizeof *beta);
	expect_close(fin_net_forward(&net, x, n, 0), y, len, layer_sums(&net, n), "layernorm y");
	fin_net_backward(&net, dy, got, n);
	expect_close(got, dx, len, layer_sums(&net, n), "layernorm dx");
	expect_close(net.grads + net.layers[0].w, dgamma, c, layer_sums(&net, n),
		     "layernorm dgamma");
	expect_close(net.grads + net.layers[0].b, dbeta, c, layer_sums(&net, n), "layernorm dbeta");
	fin_net_free(&net);
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(gamma);
	free(beta);
	free(dgamma);
	free(dbeta);
	free(got);
}

static void test_layers(void **state)
{
	cJSON *doc = load("torch_layers.json");
	(void)state;
	check_layer(doc, "relu", "relu");
	check_layer(doc, "leaky_relu", "leaky_relu");
	check_layer(doc, "tanh", "tanh");
	check_layer(doc, "sigmoid", "sigmoid");
	check_layer(doc, "softmax", "softmax");
	check_layer(doc, "maxpool1d", "maxpool(2)");
	check_layer(doc, "avgpool1d", "avgpool(2)");
	check_layernorm(doc);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_losses),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_mlp),
		cmocka_unit_test(test_small_cnn_softmax),
		cmocka_unit_test(test_cnn_preset),
		cmocka_unit_test(test_lstm_preset),
		cmocka_unit_test(test_gru_preset),
		cmocka_unit_test(test_rnn_stack_seq),
		cmocka_unit_test(test_transformer),
		cmocka_unit_test(test_transformer_pre),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
