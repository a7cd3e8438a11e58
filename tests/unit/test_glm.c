/* The exact fits of the linear, logistic and softmax presets against
 * answers worked out by hand: least squares with its standard errors,
 * ridge in closed form, logistic and softmax regression on one binary
 * feature (whose optimum are the groups' log-odds), a zero gradient at a
 * logistic optimum; refusals of what has no unique optimum; the fit in a
 * model file, read back and refused when malformed. */
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

#include "features/table.h"
#include "io/json_file.h"
#include "nn/glm.h"
#include "nn/model.h"

/* A table of n rows of d features, with a numeric target y or text labels. */
struct data {
	fin_table t;
	char *names[4];
	char *labels[64];
};

static void make_table(struct data *s, size_t n, size_t d, const float *x, const double *y,
		       const char *const *labels)
{
	static char *const names[] = { "x1", "x2", "x3", "x4" };
	size_t i;

	memset(s, 0, sizeof *s);
	assert_true(n <= 64 && d <= 4);
	memcpy(s->names, names, sizeof names);
	s->t.rows = n;
	s->t.nfeat = d;
	s->t.feat = s->names;
	s->t.in_c = d;
	s->t.in_t = 1;
	s->t.x = (float *)x;
	s->t.y = (double *)y;
	s->t.y_numeric = labels == NULL;
	for (i = 0; labels && i < n; i++)
		s->labels[i] = (char *)labels[i];
	s->t.ylabel = labels ? s->labels : NULL;
}

/* Sets m up for t as fin-train does for the preset, and fits it. */
static int fit(fin_model *m, const struct data *s, enum fin_task task, double l2, fin_err *err)
{
	char arch[32];
	size_t outputs;

	memset(m, 0, sizeof *m);
	assert_int_equal(fin_model_setup(m, &s->t, s->t.rows, task, NULL, 0, "y", err), FIN_OK);
	outputs = task == FIN_TASK_MULTICLASS ? m->nlabels : 1;
	snprintf(arch, sizeof arch, "dense(%zu)", outputs);
	assert_int_equal(fin_net_build(&m->net, arch, s->t.nfeat, 1, err), FIN_OK);
	return fin_glm_train(m, &s->t, s->t.rows, l2, err);
}

static void assert_close(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want))) {
		print_error("got %.17g, want %.17g\n", got, want);
		fail();
	}
}

/* y = 1.1 + 1.1 x with residuals -0.1, 0.8, -1.3, 0.6 on x = 0..3:
 * Sxx = 5, RSS = 2.7, sigma^2 = 2.7 / 2, se(slope) = sqrt(sigma^2 / Sxx),
 * se(intercept) = sqrt(sigma^2 (1/n + mean^2 / Sxx)). */
static void test_least_squares(void **state)
{
	static const float x[] = { 0, 1, 2, 3 };
	static const double y[] = { 1, 3, 2, 5 };
	struct data s;
	fin_model m;
	fin_err err = { 0 };
	const fin_glm_fit *f;
	double t, p, sd_x = sqrt(5.0 / 3), sd_y;

	(void)state;
	make_table(&s, 4, 1, x, y, NULL);
	assert_int_equal(fit(&m, &s, FIN_TASK_REGRESSION, 0, &err), FIN_OK);
	f = m.fit;
	assert_int_equal(f->method, FIN_GLM_LEAST_SQUARES);
	assert_true(f->converged);
	assert_int_equal(f->nout, 1);
	assert_int_equal(f->nterms, 2);
	assert_close(f->coef[0], 1.1, 1e-13);
	assert_close(f->coef[1], 1.1, 1e-13);
	assert_close(f->rss, 2.7, 1e-13);
	assert_non_null(f->se);
	assert_close(f->se[1], sqrt(1.35 / 5), 1e-13);
	assert_close(f->se[0], sqrt(1.35 * (0.25 + 2.25 / 5)), 1e-13);
	/* t with n - 2 = 2 degrees of freedom: P(|T| > t) = 1 - t / sqrt(t^2 + 2) */
	fin_glm_test(f, 0, 1, &t, &p);
	assert_close(t, 1.1 / sqrt(0.27), 1e-13);
	assert_close(p, 1 - t / sqrt(t * t + 2), 1e-10);
	/* In the dense layer, standardised: the slope times sd_x / sd_y. */
	sd_y = sqrt((1.75 * 1.75 + 0.25 * 0.25 + 0.75 * 0.75 + 2.25 * 2.25) / 3);
	assert_close(m.net.params[0], 1.1 * sd_x / sd_y, 1e-6);
	assert_true(fabsf(m.net.params[1]) < 1e-6f);
	fin_model_free(&m);
}

/* Ridge on one feature: the standardised slope minimising
 * mean((ys - b0 - w zs)^2) + l2 / 2 w^2 is r (n-1)/n / ((n-1)/n + l2 / 2),
 * with r the correlation; no penalty on the intercept, so b0 = 0. */
static void test_ridge(void **state)
{
	static const float x[] = { 0, 1, 2, 3 };
	static const double y[] = { 1, 3, 2, 5 };
	const double l2 = 0.5, r = 5.5 / sqrt(5 * 8.75), k = 3.0 / 4;
	const double w = r * k / (k + l2 / 2), sd_x = sqrt(5.0 / 3), sd_y = sqrt(8.75 / 3);
	struct data s;
	fin_model m;
	fin_err err = { 0 };

	(void)state;
	make_table(&s, 4, 1, x, y, NULL);
	assert_int_equal(fit(&m, &s, FIN_TASK_REGRESSION, l2, &err), FIN_OK);
	assert_null(m.fit->se);
	assert_close(m.fit->coef[1], w * sd_y / sd_x, 1e-13);
	assert_close(m.fit->coef[0], 2.75 - w * sd_y / sd_x * 1.5, 1e-13);
	fin_model_free(&m);
}

/* One binary feature: the optimum is each group's log-odds, intercept
 * ln(3/1) from x = 0 (3 of 4 up), slope ln(1/3) - ln(3) from x = 1 (1 of
 * 4), standard errors the roots of 1/3 + 1 and 1/3 + 1 + 1 + 1/3 (the
 * cells of the 2x2 table). */
static void test_logistic_groups(void **state)
{
	static const float x[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	static const char *const y[] = { "up", "up", "up", "down", "up", "down", "down", "down" };
	struct data s;
	fin_model m;
	fin_err err = { 0 };
	const fin_glm_fit *f;
	double z, p;

	(void)state;
	make_table(&s, 8, 1, x, NULL, y);
	assert_int_equal(fit(&m, &s, FIN_TASK_BINARY, 0, &err), FIN_OK);
	f = m.fit;
	assert_int_equal(f->method, FIN_GLM_NEWTON);
	assert_true(f->converged);
	assert_true(f->iterations >= 2 && f->iterations < 20);
	assert_string_equal(fin_glm_output(&m, 0), "up");
	assert_string_equal(fin_glm_reference(&m), "down");
	assert_close(f->coef[0], log(3), 1e-12);
	assert_close(f->coef[1], -2 * log(3), 1e-12);
	assert_close(f->se[0], sqrt(4.0 / 3), 1e-10);
	assert_close(f->se[1], sqrt(8.0 / 3), 1e-10);
	assert_close(f->log_likelihood, 2 * (3 * log(0.75) + log(0.25)), 1e-12);
	assert_true(f->gradient_norm < 1e-12);
	fin_glm_test(f, 0, 1, &z, &p);
	assert_close(z, -2 * log(3) / sqrt(8.0 / 3), 1e-10);
	assert_close(p, erfc(fabs(z) / sqrt(2)), 1e-10);
	fin_model_free(&m);
}

/* Three classes on one binary feature: the unpenalised fit measures b and
 * c against a, its optimum the groups' log-ratios, and the standard errors
 * those of log-ratios of counts: sqrt(1/n_0a + 1/n_0k) for an intercept,
 * sqrt(1/n_0a + 1/n_0k + 1/n_1a + 1/n_1k) for a slope. */
static void test_softmax_groups(void **state)
{
	/* x = 0: a 2, b 3, c 5; x = 1: a 4, b 4, c 2 */
	static const char *const y[] = { "a", "a", "b", "b", "b", "c", "c", "c", "c", "c",
					 "a", "a", "a", "a", "b", "b", "b", "b", "c", "c" };
	float x[20];
	struct data s;
	fin_model m;
	fin_err err = { 0 };
	const fin_glm_fit *f;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++)
		x[i] = (float)(i >= 10);
	make_table(&s, 20, 1, x, NULL, y);
	assert_int_equal(fit(&m, &s, FIN_TASK_MULTICLASS, 0, &err), FIN_OK);
	f = m.fit;
	assert_int_equal(f->nout, 2);
	assert_string_equal(fin_glm_output(&m, 0), "b");
	assert_string_equal(fin_glm_output(&m, 1), "c");
	assert_string_equal(fin_glm_reference(&m), "a");
	assert_close(f->coef[0], log(3.0 / 2), 1e-12);
	assert_close(f->coef[1], log(4.0 / 4) - log(3.0 / 2), 1e-12);
	assert_close(f->coef[2], log(5.0 / 2), 1e-12);
	assert_close(f->coef[3], log(2.0 / 4) - log(5.0 / 2), 1e-12);
	assert_close(f->se[0], sqrt(1.0 / 2 + 1.0 / 3), 1e-10);
	assert_close(f->se[1], sqrt(1.0 / 2 + 1.0 / 3 + 1.0 / 4 + 1.0 / 4), 1e-10);
	assert_close(f->se[2], sqrt(1.0 / 2 + 1.0 / 5), 1e-10);
	assert_close(f->se[3], sqrt(1.0 / 2 + 1.0 / 5 + 1.0 / 4 + 1.0 / 2), 1e-10);
	/* class a's unit of the dense layer is all zeros */
	assert_true(m.net.params[0] == 0 && m.net.params[3] == 0);
	fin_model_free(&m);
}

/* At a penalised logistic optimum the gradient of the objective is zero.
 * In the features' own units, with g_j = sum((p - y) x_j) / n (x_0 = 1):
 * the intercept's is g_0, and as w_j = coef_j sd_j is the standardised
 * weight of feature j, its own is (g_j - mean_j g_0) / sd_j + l2 w_j, zero
 * when g_0 is and g_j + l2 coef_j sd_j^2 is. */
static void test_logistic_gradient_zero(void **state)
{
	enum { N = 40, D = 3 };
	static const char *const names[] = { "no", "yes" };
	const char *y[N];
	float x[N * D];
	const double l2 = 0.05;
	struct data s;
	fin_model m;
	fin_err err = { 0 };
	uint32_t r = 2463534242u;
	double g[D + 1] = { 0 }, sum;
	size_t i, j;

	(void)state;
	for (i = 0; i < N * D; i++) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		x[i] = (float)(r % 1000) / 100.0f - 5.0f;
	}
	for (i = 0; i < N; i++)
		y[i] = names[(x[i * D] + 0.5 * x[i * D + 1] + (double)(i % 5) - 2 > 0)];
	make_table(&s, N, D, x, NULL, y);
	assert_int_equal(fit(&m, &s, FIN_TASK_BINARY, l2, &err), FIN_OK);
	for (i = 0; i < N; i++) {
		double eta = m.fit->coef[0], p;
		for (j = 0; j < D; j++)
			eta += m.fit->coef[j + 1] * x[i * D + j];
		p = 1 / (1 + exp(-eta)) - (strcmp(y[i], "yes") == 0);
		g[0] += p / N;
		for (j = 0; j < D; j++)
			g[j + 1] += p * x[i * D + j] / N;
	}
	for (j = 0, sum = fabs(g[0]); j < D; j++)
		sum += fabs(g[j + 1] + l2 * m.fit->coef[j + 1] * m.sd[j] * m.sd[j]);
	assert_true(sum < 1e-12);
	assert_true(m.fit->coef[1] > 0 && m.fit->coef[2] > 0);
	fin_model_free(&m);
}

static void test_refusals(void **state)
{
	static const float sep[] = { 1, 2, 3, 4, 5, 6 };
	static const char *const sep_y[] = { "a", "a", "a", "b", "b", "b" };
	/* x3 = x1 + x2 */
	static const float col[] = { 1, 0, 1, 2, 1, 3, 3, 5, 8, 4, 1, 5 };
	static const double col_y[] = { 1, 2, 0, 4 };
	static const float flat[] = { 1, 7, 2, 7, 3, 7 };
	static const double flat_y[] = { 1, 3, 2 };
	struct data s;
	fin_model m;
	fin_err err = { 0 };

	(void)state;
	make_table(&s, 6, 1, sep, NULL, sep_y);
	assert_int_equal(fit(&m, &s, FIN_TASK_BINARY, 0, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "separate the classes of the training rows completely"));
	assert_null(m.fit);
	fin_model_free(&m);
	/* a penalty makes an optimum */
	assert_int_equal(fit(&m, &s, FIN_TASK_BINARY, 0.1, &err), FIN_OK);
	assert_true(m.fit->converged && m.fit->coef[1] > 0);
	fin_model_free(&m);

	make_table(&s, 4, 3, col, col_y, NULL);
	assert_int_equal(fit(&m, &s, FIN_TASK_REGRESSION, 0, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "column 'x3' is a linear function of 'x1', 'x2'"));
	fin_model_free(&m);

	make_table(&s, 3, 2, flat, flat_y, NULL);
	assert_int_equal(fit(&m, &s, FIN_TASK_REGRESSION, 0, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "column 'x2' is constant in the training rows"));
	fin_model_free(&m);
	/* with a penalty the constant column gets a weight of 0 */
	assert_int_equal(fit(&m, &s, FIN_TASK_REGRESSION, 0.01, &err), FIN_OK);
	assert_true(m.fit->coef[2] == 0);
	fin_model_free(&m);
}

/* The fit in the model's JSON, read back as written, and refused when its
 * shapes do not match the model. */
static void test_json(void **state)
{
	static const float x[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	static const char *const y[] = { "up", "up", "up", "down", "up", "down", "down", "down" };
	static const char *const bad[] = {
		"{\"method\":\"least_squares\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,2]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,2,3]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,2],[3,4]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":1,\"coefficients\":[[1,2]]}",
		"{\"method\":\"newton\",\"rows\":-1,\"converged\":true,\"coefficients\":[[1,2]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,\"2\"]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,2]],"
		"\"se\":[[1,-2]]}",
		"{\"method\":\"newton\",\"rows\":8,\"converged\":true,\"coefficients\":[[1,2]],"
		"\"se\":[[1]]}",
		"[]",
	};
	struct data s;
	fin_model m;
	fin_err err = { 0 };
	fin_glm_fit *back;
	fin_json_reader r = { "test.json", "model", &err };
	cJSON *o;
	char *text;
	size_t i;

	(void)state;
	make_table(&s, 8, 1, x, NULL, y);
	assert_int_equal(fit(&m, &s, FIN_TASK_BINARY, 0, &err), FIN_OK);
	/* written as text, exact numbers are raw: parsed back, numbers */
	o = fin_glm_fit_to_json(m.fit);
	assert_non_null(o);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	o = cJSON_Parse(text);
	free(text);
	assert_int_equal(fin_glm_fit_from_json(&back, o, &m, &r), FIN_OK);
	assert_int_equal(back->method, m.fit->method);
	assert_int_equal(back->rows, 8);
	assert_int_equal(back->iterations, m.fit->iterations);
	assert_true(back->converged);
	assert_memory_equal(back->coef, m.fit->coef, 2 * sizeof *back->coef);
	assert_memory_equal(back->se, m.fit->se, 2 * sizeof *back->se);
	assert_true(back->log_likelihood == m.fit->log_likelihood);
	fin_glm_fit_free(back);
	cJSON_Delete(o);
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		o = cJSON_Parse(bad[i]);
		assert_non_null(o);
		err.code = 0;
		assert_int_equal(fin_glm_fit_from_json(&back, o, &m, &r), FIN_EMODEL);
		assert_null(back);
		assert_int_equal(err.code, FIN_EMODEL);
		cJSON_Delete(o);
	}
	assert_int_equal(fin_glm_fit_from_json(&back, NULL, &m, &r), FIN_OK);
	assert_null(back);
	fin_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_least_squares),   cmocka_unit_test(test_ridge),
		cmocka_unit_test(test_logistic_groups), cmocka_unit_test(test_softmax_groups),
		cmocka_unit_test(test_logistic_gradient_zero), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
