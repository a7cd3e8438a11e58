/* Principal components: a 2-D case worked out by hand, numpy's components
 * of the fixture tests/fixtures/pca_fixture.json (made by
 * make_pca_fixture.py), the sign of each component unchanged when the
 * data change sign, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/pca.h"
#include "fixture.h"

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("got %.17g, want %.17g (tol %g)\n", got, want, tol);
		fail();
	}
}

static void fit(fin_pca *pca, const double *x, size_t n, size_t dim, int standardise)
{
	fin_err err = { 0 };

	if (fin_pca_fit(pca, x, n, dim, standardise, &err) != FIN_OK) {
		print_error("fin_pca_fit: %s\n", err.msg);
		fail();
	}
}

/* Rows (1,1) (2,3) (3,2) (4,4): both columns hold 1..4, mean 2.5,
 * deviations -1.5 -0.5 0.5 1.5 and -1.5 0.5 -0.5 1.5, sums of squares 5,
 * cross products 2.25 - 0.25 - 0.25 + 2.25 = 4.
 *   centred: covariance [[5/3, 4/3], [4/3, 5/3]], eigenvalues 3 and 1/3
 *   standardised: sd sqrt(5/3), correlation 0.8, eigenvalues 1.8 and 0.2
 * Either way the axes are (1, 1)/sqrt2 and (1, -1)/sqrt2 (loadings of
 * equal magnitude: the first is positive), and the scores are the
 * deviations' sum and difference over sqrt2 (over sd sqrt2 standardised):
 * PC1 -3, 0, 0, 3 and PC2 0, -1, 1, 0. */
static void two_columns_by_hand(void **state)
{
	const double x[] = { 1, 1, 2, 3, 3, 2, 4, 4 };
	const double pc1[] = { -3, 0, 0, 3 }, pc2[] = { 0, -1, 1, 0 };
	const double r = sqrt(0.5), sd = sqrt(5.0 / 3);
	double scores[8];
	fin_err err = { 0 };
	fin_pca pca;
	size_t i;
	int standardise;

	(void)state;
	for (standardise = 0; standardise <= 1; standardise++) {
		double unit = standardise ? sd : 1;
		fit(&pca, x, 4, 2, standardise);
		assert_close(pca.mean[0], 2.5, 0);
		assert_close(pca.mean[1], 2.5, 0);
		assert_close(pca.scale[0], unit, 1e-15);
		assert_close(pca.scale[1], unit, 1e-15);
		assert_close(pca.variance[0], standardise ? 1.8 : 3, 1e-14);
		assert_close(pca.variance[1], standardise ? 0.2 : 1.0 / 3, 1e-14);
		assert_close(pca.total, standardise ? 2 : 10.0 / 3, 1e-14);
		assert_close(pca.axes[0], r, 1e-15);
		assert_close(pca.axes[1], r, 1e-15);
		assert_close(pca.axes[2], r, 1e-15);
		assert_close(pca.axes[3], -r, 1e-15);
		assert_int_equal(fin_pca_project(&pca, x, 4, 2, scores, &err), FIN_OK);
		for (i = 0; i < 4; i++) {
			assert_close(scores[2 * i], pc1[i] * r / unit, 1e-14);
			assert_close(scores[2 * i + 1], pc2[i] * r / unit, 1e-14);
		}
		fin_pca_free(&pca);
	}
}

static double *numbers(const cJSON *o, const char *name, size_t want)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *v;
	double *out = malloc((want ? want : 1) * sizeof *out);
	size_t i = 0;

	assert_non_null(out);
	assert_int_equal((size_t)cJSON_GetArraySize(a), want);
	cJSON_ArrayForEach(v, a)
		out[i++] = v->valuedouble;
	return out;
}

static double largest(const double *v, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m = fmax(m, fabs(v[i]));
	return m;
}

/* numpy's components to 1e-10 of each quantity's scale: GSL's solver and
 * LAPACK's agree to a few roundings of the largest variance over the gap
 * between variances, below 1e-13 here. */
static void against_numpy(void **state)
{
	cJSON *root = fixture_load("tests/fixtures/pca_fixture.json"), *c, *f;
	fin_err err = { 0 };
	int cases = 0;

	(void)state;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
		size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n")->valueint;
		size_t dim = (size_t)cJSON_GetObjectItemCaseSensitive(c, "dim")->valueint, i;
		double *x = numbers(c, "x", n * dim);
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c, "fits")) {
			int standardise = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "standardise"));
			double *mean = numbers(f, "mean", dim), *scale = numbers(f, "scale", dim);
			double *variance = numbers(f, "variance", dim), *axes = numbers(f, "axes", dim * dim);
			double *scores = numbers(f, "scores", n * dim), *got = malloc(n * dim * sizeof *got);
			double total = cJSON_GetObjectItemCaseSensitive(f, "total")->valuedouble;
			double vtol = 1e-10 * variance[0], stol = 1e-10 * largest(scores, n * dim);
			fin_pca pca;
			assert_non_null(got);
			fit(&pca, x, n, dim, standardise);
			for (i = 0; i < dim; i++) {
				assert_close(pca.mean[i], mean[i], 1e-12 * fmax(1, fabs(mean[i])));
				assert_close(pca.scale[i], scale[i], 1e-12 * scale[i]);
				assert_close(pca.variance[i], variance[i], vtol);
			}
			assert_close(pca.total, total, vtol);
			for (i = 0; i < dim * dim; i++)
				assert_close(pca.axes[i], axes[i], 1e-10);
			assert_int_equal(fin_pca_project(&pca, x, n, dim, got, &err), FIN_OK);
			for (i = 0; i < n * dim; i++)
				assert_close(got[i], scores[i], stol);
			fin_pca_free(&pca);
			free(mean);
			free(scale);
			free(variance);
			free(axes);
			free(scores);
			free(got);
			cases++;
		}
		free(x);
	}
	assert_int_equal(cases, 4);
	cJSON_Delete(root);
}

/* -x has the covariance of x: the same axes, signs included, and the
 * scores negated. */
static void sign_fixed_by_loadings(void **state)
{
	double x[3 * 7], neg[3 * 7], a[3 * 7], b[3 * 7];
	fin_err err = { 0 };
	fin_pca p, q;
	size_t i;

	(void)state;
	for (i = 0; i < 21; i++) {
		x[i] = sin(1.7 * (double)i) + 0.3 * (double)(i % 3) * cos((double)i);
		neg[i] = -x[i];
	}
	fit(&p, x, 7, 3, 1);
	fit(&q, neg, 7, 3, 1);
	for (i = 0; i < 9; i++)
		assert_close(q.axes[i], p.axes[i], 1e-12);
	assert_int_equal(fin_pca_project(&p, x, 7, 3, a, &err), FIN_OK);
	assert_int_equal(fin_pca_project(&q, neg, 7, 3, b, &err), FIN_OK);
	for (i = 0; i < 21; i++)
		assert_close(b[i], -a[i], 1e-12);
	fin_pca_free(&p);
	fin_pca_free(&q);
}

static void refusals(void **state)
{
	const double one[] = { 1, 2 }, flat[] = { 3, 0.1, 3, 0.1, 3, 0.1 };
	double out[6];
	fin_err err = { 0 };
	fin_pca pca;

	(void)state;
	assert_int_equal(fin_pca_fit(&pca, one, 1, 2, 1, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "two or more rows"));
	assert_int_equal(fin_pca_fit(&pca, flat, 3, 2, 1, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "do not vary"));
	assert_int_equal(fin_pca_fit(&pca, flat, 3, 2, 0, &err), FIN_EDATA);
	fit(&pca, one, 2, 1, 0);
	assert_int_equal(fin_pca_project(&pca, one, 2, 2, out, &err), FIN_EDATA);
	fin_pca_free(&pca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_columns_by_hand),
		cmocka_unit_test(against_numpy),
		cmocka_unit_test(sign_fixed_by_loadings),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
