/* Attributions against independent computations: integrated gradients of
 * the PyTorch fixture networks (tests/fixtures/torch_ig.json, made by
 * tests/fixtures/make_torch_fixtures.py with the same midpoint rule and
 * PyTorch's autograd), and the exact Shapley values of a linear network
 * against their definition, a weighted sum over every coalition. */
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
#include "explain/explain.h"
#include "nn/net.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

/* How close to PyTorch: both sides take the same gradients in float32,
 * which agree within about 1e-6 (tests/unit/test_torch.c), and average
 * them over the same points; 1e-4 leaves room for the float32 rounding of
 * the points themselves, which the two sides compute differently. */
#define IG_TOL 1e-4

static cJSON *load(const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	return fixture_load(path);
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_non_null(v);
	return v;
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

/* Parameters listed in model order, weights then biases: the order of the
 * flat buffer. */
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

static void expect_near(double got, double want, double tol, const char *what, size_t i,
			double *worst)
{
	double diff = fabs(got - want);

	*worst = fmax(*worst, diff);
	if (!(diff <= tol)) {
		print_error("%s[%zu]: got %.9g, want %.9g\n", what, i, got, want);
		fail();
	}
}

/* One case of torch_ig.json: its network (from the model fixture it names,
 * or its own), every output's values and attributions. */
static double check_ig_case(const cJSON *c, size_t steps)
{
	const cJSON *fixture = get(c, "fixture");
	cJSON *doc = cJSON_IsString(fixture) ? load(fixture->valuestring) : NULL;
	const cJSON *src = doc ? doc : c, *shape = get(src, "input_shape");
	int recon = !doc;
	fin_net net = { 0 };
	fin_err err = { 0 };
	size_t n = (size_t)get(src, "n")->valueint, d, nb, k, i;
	float *x = floats(get(src, "x"), &d), *base = floats(get(c, "baseline"), &nb);
	double worst = 0, *attr, *value;

	assert_int_equal(fin_net_build(&net, get(src, "arch")->valuestring,
				       (size_t)cJSON_GetArrayItem(shape, 0)->valueint,
				       (size_t)cJSON_GetArrayItem(shape, 1)->valueint, &err),
			 FIN_OK);
	copy_params(get(src, "params"), net.params, net.nparams);
	d /= n;
	assert_int_equal(nb, d);
	attr = malloc(n * d * sizeof *attr);
	value = malloc((n > 1 ? n : 1) * sizeof *value);
	for (k = 0; k < (recon ? 1 : net.out_size); k++) {
		fin_explained f = { recon ? FIN_EXPLAIN_RECON : FIN_EXPLAIN_OUTPUT, k, 1, 0 };
		float *want = floats(cJSON_GetArrayItem(get(c, "ig"), (int)k), NULL);
		float *want_value = floats(cJSON_GetArrayItem(get(c, "values"), (int)k), NULL);
		double want_base = cJSON_GetArrayItem(get(c, "baseline_values"), (int)k)->valuedouble;

		assert_int_equal(fin_explain_ig(&net, &f, x, n, base, steps, attr, &err), FIN_OK);
		for (i = 0; i < n * d; i++)
			expect_near(attr[i], want[i], IG_TOL, "ig", i, &worst);
		assert_int_equal(fin_explain_value(&net, &f, x, n, value, &err), FIN_OK);
		for (i = 0; i < n; i++)
			expect_near(value[i], want_value[i], IG_TOL, "value", i, &worst);
		assert_int_equal(fin_explain_value(&net, &f, base, 1, value, &err), FIN_OK);
		expect_near(value[0], want_base, IG_TOL, "baseline value", 0, &worst);
		free(want);
		free(want_value);
	}
	free(attr);
	free(value);
	free(x);
	free(base);
	fin_net_free(&net);
	cJSON_Delete(doc);
	return worst;
}

static void test_ig_against_pytorch(void **state)
{
	cJSON *doc = load("torch_ig.json");
	const cJSON *c;
	size_t steps = (size_t)get(doc, "steps")->valueint, cases = 0;
	double worst = 0;

	(void)state;
	cJSON_ArrayForEach(c, get(doc, "cases"))
	{
		worst = fmax(worst, check_ig_case(c, steps));
		cases++;
	}
	assert_int_equal(cases, 14);
	print_message("integrated gradients of %zu cases: largest difference from PyTorch %.3g\n",
		      cases, worst);
	cJSON_Delete(doc);
}

/* A linear network's value for the row whose features in the coalition
 * (a bit mask) come from z, the others from base. */
static double coalition_value(const fin_net *net, size_t out, const float *z, const float *base,
			      size_t d, unsigned mask)
{
	const fin_layer *l = &net->layers[0];
	double v = net->params[l->b + out];
	size_t j;

	for (j = 0; j < d; j++)
		v += (double)net->params[l->w + out * d + j] * ((mask >> j) & 1 ? z[j] : base[j]);
	return v;
}

/* Shapley values by their definition: phi_j = sum over coalitions S not
 * holding j of |S|! (d - |S| - 1)! / d! (v(S + j) - v(S)). */
static void shapley_by_definition(const fin_net *net, size_t out, const float *z,
				  const float *base, size_t d, double *phi)
{
	unsigned mask;
	size_t j;

	for (j = 0; j < d; j++) {
		phi[j] = 0;
		for (mask = 0; mask < 1u << d; mask++) {
			size_t size = (size_t)__builtin_popcount(mask);
			double w;
			if ((mask >> j) & 1)
				continue;
			w = tgamma((double)size + 1) * tgamma((double)(d - size)) / tgamma((double)d + 1);
			phi[j] += w * (coalition_value(net, out, z, base, d, mask | 1u << j) -
				       coalition_value(net, out, z, base, d, mask));
		}
	}
}

static void test_linear_shapley_by_definition(void **state)
{
	enum { D = 5, N = 3, K = 3 };
	fin_net net = { 0 };
	fin_err err = { 0 };
	float z[N * D], base[D];
	double value[N], base_value[N], attr[N * D], ig[N * D], phi[D];
	size_t i, j, k;

	(void)state;
	assert_int_equal(fin_net_build(&net, "dense(3)", D, 1, &err), FIN_OK);
	assert_true(fin_explain_is_linear(&net));
	for (i = 0; i < net.nparams; i++)
		net.params[i] = (float)sin(1.7 * (double)i + 0.3);
	for (i = 0; i < N * D; i++)
		z[i] = (float)cos(0.9 * (double)i);
	for (j = 0; j < D; j++)
		base[j] = (float)(0.25 * (double)j - 0.5);
	for (k = 0; k < K; k++) {
		fin_explained f = { FIN_EXPLAIN_OUTPUT, k, -2.5, 7 };
		fin_explain_linear(&net, &f, z, N, base, value, base_value, attr);
		assert_int_equal(fin_explain_ig(&net, &f, z, N, base, 4, ig, &err), FIN_OK);
		for (i = 0; i < N; i++) {
			double sum = 0;
			shapley_by_definition(&net, k, z + i * D, base, D, phi);
			for (j = 0; j < D; j++) {
				assert_true(fabs(attr[i * D + j] - f.scale * phi[j]) <= 1e-12);
				/* a linear value's gradient is its weight at every
				 * point: any rule is exact, to float32 rounding */
				assert_true(fabs(ig[i * D + j] - attr[i * D + j]) <= 1e-5);
				sum += attr[i * D + j];
			}
			assert_true(fabs(value[i] - (f.scale * coalition_value(&net, k, z + i * D, base, D,
									   (1u << D) - 1) + f.offset)) <= 1e-12);
			assert_true(fabs(sum - (value[i] - base_value[i])) <= 1e-12);
		}
	}
	fin_net_free(&net);
	assert_int_equal(fin_net_build(&net, "dense(4,relu) dense(1)", D, 1, &err), FIN_OK);
	assert_false(fin_explain_is_linear(&net));
	fin_net_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ig_against_pytorch),
		cmocka_unit_test(test_linear_shapley_by_definition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
