/* The engine against PyTorch: outputs, gradients, losses and the first ten
 * optimizer steps on fixtures made by tests/fixtures/make_torch_fixtures.py. */
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

#include "loss.h"
#include "net.h"
#include "optim.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static cJSON *load(const char *name)
{
	char path[256];
	FILE *f;
	long len;
	char *text;
	cJSON *doc;

	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	return doc;
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

/* |got - want| <= 1e-4 |want| + 1e-6: relative, with a floor for the
 * exact zeros of inactive units. */
static void expect_close(const float *got, const float *want, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(fabs((double)got[i] - want[i]) <= 1e-4 * fabs((double)want[i]) + 1e-6)) {
			print_error("%s[%zu]: got %.9g, want %.9g\n", what, i, (double)got[i],
				    (double)want[i]);
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

static void expect_params(const cJSON *list, const float *got, size_t total, const char *what)
{
	float *want = malloc(total * sizeof *want);
	copy_params(list, want, total);
	expect_close(got, want, total, what);
	free(want);
}

struct model_case {
	cJSON *doc;
	fin_net net;
	float *x, *y, *init;
	size_t n, k;
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
	expect_close(out, want_out, c.n * c.k, "output");

	want_dx = floats(get(c.doc, "input_grad"), &nx);
	dx = malloc(nx * sizeof *dx);
	loss = step_grads(&c, dx);
	assert_true(fabs(loss - get(c.doc, "loss_value")->valuedouble) <=
		    1e-4 * fabs(get(c.doc, "loss_value")->valuedouble));
	expect_params(get(c.doc, "grads"), c.net.grads, c.net.nparams, "grad");
	expect_close(dx, want_dx, nx, "input_grad");
	free(want_out);
	free(want_dx);
	free(dx);
	close_case(&c);
}

static void check_steps(const char *file)
{
	static const struct {
		const char *name;
		enum fin_optim_kind kind;
		float lr, l2, clip;
	} runs[] = {
		{ "adam", FIN_OPT_ADAM, 1e-3f, 0, 0 },
		{ "adamw", FIN_OPT_ADAMW, 1e-3f, 0.01f, 0 },
		{ "sgd", FIN_OPT_SGD, 0.01f, 0, 0 },
		{ "rmsprop", FIN_OPT_RMSPROP, 1e-3f, 0, 0 },
		{ "adam_l2", FIN_OPT_ADAM, 1e-3f, 1e-3f, 0 },
		{ "adam_clip", FIN_OPT_ADAM, 1e-3f, 0, 0.5f },
	};
	struct model_case c;
	size_t r, s;

	open_case(&c, file);
	for (r = 0; r < sizeof runs / sizeof *runs; r++) {
		fin_optim o;
		float *want = floats(get(get(c.doc, "steps"), runs[r].name), NULL);
		float got[10];

		memcpy(c.net.params, c.init, c.net.nparams * sizeof *c.init);
		assert_int_equal(fin_optim_init(&o, runs[r].kind, runs[r].lr, c.net.nparams), 0);
		o.l2 = runs[r].l2;
		o.clip = runs[r].clip;
		for (s = 0; s < 10; s++) {
			got[s] = (float)step_grads(&c, NULL);
			fin_optim_step(&o, c.net.params, c.net.grads);
		}
		expect_close(got, want, 10, runs[r].name);
		if (r == 0)
			expect_params(get(c.doc, "final_params_adam"), c.net.params, c.net.nparams,
				      "final_params_adam");
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
}

static void test_mlp(void **state)
{
	(void)state;
	check_forward_backward("torch_mlp.json");
	check_steps("torch_mlp.json");
}

static void test_small_cnn_softmax(void **state)
{
	(void)state;
	check_forward_backward("torch_cnn_small.json");
	check_steps("torch_cnn_small.json");
}

/* The lstm and gru presets: the last hidden state into a dense layer. */
static void test_lstm_preset(void **state)
{
	(void)state;
	check_forward_backward("torch_lstm.json");
	check_steps("torch_lstm.json");
}

static void test_gru_preset(void **state)
{
	(void)state;
	check_forward_backward("torch_gru.json");
	check_steps("torch_gru.json");
}

/* Sequence outputs: a gru's [H][T] feeding an lstm, whose [H][T] is
 * flattened into a dense layer. */
static void test_rnn_stack_seq(void **state)
{
	(void)state;
	check_forward_backward("torch_rnn_stack.json");
	check_steps("torch_rnn_stack.json");
}

static void check_loss(const cJSON *doc, enum fin_loss l, const char *key, const char *in,
		       const char *target, size_t k)
{
	const cJSON *ref = get(doc, key);
	size_t n;
	float *p = floats(get(doc, in), &n), *t = floats(get(doc, target), NULL);
	float *want = floats(get(ref, "grad"), NULL), *grad = malloc(n * sizeof *grad);
	double v = fin_loss(l, p, t, n / k, k, grad);

	assert_true(fabs(v - get(ref, "value")->valuedouble) <=
		    1e-4 * fabs(get(ref, "value")->valuedouble) + 1e-6);
	expect_close(grad, want, n, key);
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
	expect_close(fin_net_forward(&net, x, n, 0), y, n * net.out_size, key);
	fin_net_backward(&net, dy, got, n);
	expect_close(got, dx, len, key);
	fin_net_free(&net);
	free(x);
	free(y);
	free(dy);
	free(dx);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
