/* What the fits that hold no rows are made of, against the same figures
 * computed here from every value at once: moments merged batch by batch,
 * and moments of parts merged, against the textbook two passes in long
 * double, on data far from the origin with little spread; two neighbouring
 * order statistics from a heap and exact selection by radix passes against
 * a sorted copy; a forest grown from gathered subsamples against the one
 * grown from the rows in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/order_stats.h"
#include "core/radix_select.h"
#include "detect/iforest.h"
#include "features/moments.h"
#include "xorshift.h"

static double normal(void)
{
	double u = uniform(), v = uniform();
	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static void assert_near(double got, double want, double rtol, double atol)
{
	if (!(fabs(got - want) <= rtol * fabs(want) + atol)) {
		print_error("got %.17g, want %.17g\n", got, want);
		fail();
	}
}

#define ROWS 5000
#define P 4

/* Prices near 1e5 with cents of spread, a price drifting by 1e4 over the
 * rows, a 0/1 indicator and a column centred at 0: in float32, as fits
 * read them. */
static void make_rows(float *x)
{
	size_t i;

	for (i = 0; i < ROWS; i++) {
		x[i * P + 0] = (float)(1e5 + 0.01 * normal());
		x[i * P + 1] = (float)(1e5 + 1e4 * (double)i / ROWS + normal());
		x[i * P + 2] = uniform() < 0.3f ? 1.0f : 0.0f;
		x[i * P + 3] = (float)normal();
	}
}

/* The textbook two passes over every row, in long double. */
struct exact {
	long double mean[P], c[P][P], s4;
};

static void two_passes(const float *x, struct exact *e)
{
	size_t i, j, k;

	memset(e, 0, sizeof *e);
	for (i = 0; i < ROWS; i++)
		for (j = 0; j < P; j++)
			e->mean[j] += x[i * P + j];
	for (j = 0; j < P; j++)
		e->mean[j] /= ROWS;
	for (i = 0; i < ROWS; i++) {
		long double r2 = 0;
		for (j = 0; j < P; j++) {
			long double dj = x[i * P + j] - e->mean[j];
			r2 += dj * dj;
			for (k = 0; k < P; k++)
				e->c[j][k] += dj * (x[i * P + k] - e->mean[k]);
		}
		e->s4 += r2 * r2;
	}
}

static void assert_moments(const fin_moments *m, const struct exact *e)
{
	double got[P];
	size_t j, k;

	assert_int_equal(m->n, ROWS);
	fin_moments_mean(m, got);
	for (j = 0; j < P; j++) {
		assert_near(got[j], (double)e->mean[j], 1e-14, 0);
		for (k = 0; k < P; k++)
			/* about 1e-11 of the variances, whatever the offset */
			assert_near(m->c[j * P + k], (double)e->c[j][k], 1e-9,
				    1e-11 * sqrtl(e->c[j][j] * e->c[k][k]));
	}
	assert_near(m->s4, (double)e->s4, 1e-9, 0);
}

/* Rows [from, to) of x added to m in batches of every size, the last one
 * partial. */
static void add_in_batches(fin_moments *m, const float *x, size_t from, size_t to)
{
	static const size_t batches[] = { 1, 7, 4096, 100, 1, 3 };
	size_t at, k, b = 0;

	for (at = from; at < to; at += k) {
		k = batches[b++ % (sizeof batches / sizeof *batches)];
		k = k < to - at ? k : to - at;
		fin_moments_add(m, x + at * P, k);
	}
}

static void test_moments_two_pass(void **state)
{
	static float x[ROWS * P];
	struct exact e;
	fin_moments m;

	(void)state;
	make_rows(x);
	two_passes(x, &e);
	assert_int_equal(fin_moments_init(&m, P, 4096), 0);
	add_in_batches(&m, x, 0, ROWS);
	assert_moments(&m, &e);
	fin_moments_free(&m);
}

/* The moments of parts of the rows, each from its own first row (as the
 * ranks of an MPI job find them), saved and merged in order: the moments
 * of all the rows, an empty part leaving them as they were. */
static void test_moments_merged_parts(void **state)
{
	static const size_t ends[] = { 0, 1, 1700, 1700, 4999, ROWS };
	static float x[ROWS * P];
	size_t size = fin_moments_doubles(P), r;
	double *saved = malloc(size * sizeof *saved);
	struct exact e;
	fin_moments all, part;

	(void)state;
	assert_non_null(saved);
	make_rows(x);
	two_passes(x, &e);
	assert_int_equal(fin_moments_init(&all, P, 1), 0);
	for (r = 0; r + 1 < sizeof ends / sizeof *ends; r++) {
		assert_int_equal(fin_moments_init(&part, P, 4096), 0);
		add_in_batches(&part, x, ends[r], ends[r + 1]);
		fin_moments_save(&part, saved);
		fin_moments_merge(&all, saved);
		fin_moments_free(&part);
	}
	assert_moments(&all, &e);
	fin_moments_free(&all);
	free(saved);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_order_stats(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 10, 1001 };
	size_t s, n, r, i;

	(void)state;
	for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		double *v, *sorted;
		n = sizes[s];
		v = malloc(n * sizeof *v);
		sorted = malloc(n * sizeof *sorted);
		for (i = 0; i < n; i++)
			/* ties too */
			v[i] = sorted[i] = floor(uniform() * (double)n / 2);
		qsort(sorted, n, sizeof *sorted, by_value);
		for (r = 0; r < n; r++) {
			fin_order_stats os;
			double a, b;
			assert_int_equal(fin_order_stats_init(&os, n, r), 0);
			for (i = 0; i < n; i++)
				fin_order_stats_add(&os, v[i]);
			fin_order_stats_get(&os, &a, &b);
			assert_true(a == sorted[r]);
			assert_true(b == sorted[r + 1 < n ? r + 1 : r]);
			fin_order_stats_free(&os);
		}
		free(v);
		free(sorted);
	}
}

static void test_quantile_formula(void **state)
{
	/* gsl_stats_quantile_from_sorted_data of 1, 2, 3, 4 at 0.9: index 2.7 */
	(void)state;
	assert_int_equal(fin_quantile_rank(0.9, 4), 2);
	assert_near(fin_quantile_value(0.9, 4, 3, 4), 3.7, 1e-15, 0);
	assert_int_equal(fin_quantile_rank(1, 4), 3);
	assert_near(fin_quantile_value(1, 4, 4, 4), 4, 0, 0);
}

static void test_radix_select_floats(void **state)
{
	static const unsigned widths[] = { 8, 11, 16 };
	enum { N = 3001 };
	static float v[N];
	static double sorted[N];
	size_t i, w, r;

	(void)state;
	for (i = 0; i < N; i++) {
		double u = uniform();
		/* negatives, zeros of both signs, repeats, large and tiny */
		v[i] = u < 0.1 ? -0.0f : u < 0.2 ? 0.0f : u < 0.3 ? 1.5f
		       : (float)(normal() * pow(10, floor(uniform() * 12) - 6));
		sorted[i] = v[i];
	}
	qsort(sorted, N, sizeof *sorted, by_value);
	for (w = 0; w < sizeof widths / sizeof *widths; w++)
		for (r = 0; r < N; r += 97) {
			fin_radix_select s;
			int passes = 0, found = 0;
			assert_int_equal(fin_radix_select_init(&s, 32, widths[w], r), 0);
			while (!found) {
				for (i = 0; i < N; i++)
					fin_radix_select_add(&s, fin_float_key(v[i]));
				found = fin_radix_select_next(&s);
				passes++;
			}
			assert_int_equal(passes, (32 + widths[w] - 1) / widths[w]);
			assert_true(fin_float_of_key((uint32_t)s.prefix) == (float)sorted[r]);
			fin_radix_select_free(&s);
		}
}

static void test_radix_select_doubles(void **state)
{
	enum { N = 999 };
	static double v[N], sorted[N];
	size_t i, r;

	(void)state;
	for (i = 0; i < N; i++)
		sorted[i] = v[i] = fabs(normal()) * (i % 3 ? 1 : 1e-9);
	qsort(sorted, N, sizeof *sorted, by_value);
	for (r = 0; r < N; r += 31) {
		fin_radix_select s;
		int found = 0;
		assert_int_equal(fin_radix_select_init(&s, 64, 16, r), 0);
		while (!found) {
			for (i = 0; i < N; i++)
				fin_radix_select_add(&s, fin_double_key(v[i]));
			found = fin_radix_select_next(&s);
		}
		assert_true(fin_double_of_key(s.prefix) == sorted[r]);
		fin_radix_select_free(&s);
	}
	assert_true(fin_double_key(-1.0) < fin_double_key(-0.5));
	assert_true(fin_double_key(-0.0) == fin_double_key(0.0));
	assert_true(fin_double_key(0.0) < fin_double_key(1e-300));
}

/* The distinct rows the trees draw, copied out and the plan renumbered to
 * index them, grow the forest fin_iforest_fit grows from all rows. */
static void test_forest_from_gathered_rows(void **state)
{
	static float x[ROWS * P];
	static long at[ROWS];
	fin_iforest_plan plan;
	fin_iforest a, b;
	fin_err err = { 0 };
	float *g;
	size_t i, distinct = 0;

	(void)state;
	make_rows(x);
	assert_int_equal(fin_iforest_fit(&a, x, ROWS, P, 20, 64, 7, &err), FIN_OK);
	assert_int_equal(fin_iforest_plan_draw(&plan, ROWS, P, 20, 64, 7, &err), FIN_OK);
	g = malloc(20 * 64 * P * sizeof *g);
	for (i = 0; i < ROWS; i++)
		at[i] = -1;
	for (i = 0; i < 20 * 64; i++) {
		uint32_t r = plan.rows[i];
		if (at[r] < 0) {
			at[r] = (long)distinct;
			memcpy(g + distinct++ * P, x + (size_t)r * P, P * sizeof *g);
		}
		plan.rows[i] = (uint32_t)at[r];
	}
	assert_true(distinct < 20 * 64); /* some rows drawn twice */
	plan.n = distinct;
	assert_int_equal(fin_iforest_grow(&b, &plan, g, &err), FIN_OK);
	assert_int_equal(a.nnodes, b.nnodes);
	assert_memory_equal(a.root, b.root, a.ntrees * sizeof *a.root);
	assert_memory_equal(a.nodes, b.nodes, a.nnodes * sizeof *a.nodes);
	assert_memory_equal(a.path, b.path, a.nnodes * sizeof *a.path);
	fin_iforest_plan_free(&plan);
	fin_iforest_free(&a);
	fin_iforest_free(&b);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moments_two_pass),
		cmocka_unit_test(test_moments_merged_parts),
		cmocka_unit_test(test_order_stats),
		cmocka_unit_test(test_quantile_formula),
		cmocka_unit_test(test_radix_select_floats),
		cmocka_unit_test(test_radix_select_doubles),
		cmocka_unit_test(test_forest_from_gathered_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
