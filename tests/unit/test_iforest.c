/* Isolation forest: c(n) against its formula and hand-computed values,
 * trees whose structure the data forces (so their scores are known
 * exactly), a planted outlier, reproducibility, and the detector file's
 * round trip and refusals, and memory that follows the nodes a file holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounded_memory.h"
#include "detect/iforest.h"

#define EULER 0.57721566490153286060651209008240243

/* Hand computations with bc -l (scale=30), from c(n) = 2 (ln(n-1) + g)
 * - 2 (n-1)/n and g = 0.577215664901532860606512090082:
 *   c(3)    = 2 (ln 2 + g) - 4/3          = 1.207392357589623006714
 *   c(256)  = 2 (ln 255 + g) - 510/256    = 10.244770920119918013704
 *   c(1000) = 2 (ln 999 + g) - 1998/1000  = 12.969940887100172758320
 *   2^(-1/c(3)) = e^(-ln 2 / c(3))        = 0.563219354799455756921
 *   2^(-2/c(3))                           = 0.317216041620715226568 */
#define C3_BC 1.207392357589623006714
#define C256_BC 10.244770920119918013704
#define C1000_BC 12.969940887100172758320
#define S1_C3_BC 0.563219354799455756921
#define S2_C3_BC 0.317216041620715226568

/* The formula written another way: 2 (n-1)/n = 2 - 2/n. */
static double c_formula(double n)
{
	return 2 * log(n - 1) + 2 * EULER - 2 + 2 / n;
}

static void assert_close(double got, double want, double rtol)
{
	if (!(fabs(got - want) <= rtol * fabs(want))) {
		print_error("got %.17g, want %.17g (rtol %g)\n", got, want, rtol);
		fail();
	}
}

static void test_c(void **state)
{
	static const double n[] = { 3, 4, 5, 10, 100, 256, 1000, 4096, 1e6 };
	double h = 0;
	size_t i;
	(void)state;

	assert_true(fin_iforest_c(0) == 0);
	assert_true(fin_iforest_c(1) == 0);
	assert_true(fin_iforest_c(2) == 1);
	for (i = 0; i < sizeof n / sizeof *n; i++)
		assert_close(fin_iforest_c(n[i]), c_formula(n[i]), 1e-14);
	assert_close(fin_iforest_c(3), C3_BC, 1e-15);
	assert_close(fin_iforest_c(256), C256_BC, 1e-15);
	assert_close(fin_iforest_c(1000), C1000_BC, 1e-15);
	/* ln(i) + g stands for the harmonic number H(i), whose error is about
	 * 1/(2i): c(1e6) is within 1/(1e6 - 1) of 2 H(n-1) - 2 (n-1)/n summed
	 * exactly (smallest terms first). */
	for (i = 999999; i >= 1; i--)
		h += 1.0 / (double)i;
	assert_true(fabs(fin_iforest_c(1e6) - (2 * h - 2 * 999999.0 / 1e6)) < 1 / 999999.0);
	assert_true(fabs(fin_iforest_c(1e6) - (2 * h - 2 * 999999.0 / 1e6)) > 1 / 1e7);
}

/* Fits a forest on x [n][d], failing the test on error. */
static void fit(fin_iforest *f, const float *x, size_t n, size_t d, size_t ntrees, size_t sample,
		unsigned long seed)
{
	fin_err err = { 0 };

	if (fin_iforest_fit(f, x, n, d, ntrees, sample, seed, &err) != FIN_OK) {
		print_error("fit: %s\n", err.msg);
		fail();
	}
}

/* Two points, one tree: the root splits between them and both children
 * are external nodes of one row, so every x has h = 1 + c(1) = 1 and
 * scores 2^(-1/c(2)) = 0.5, whatever split was drawn. */
static void test_two_points(void **state)
{
	static const float data[] = { 0, 1 };
	static const float probe[] = { -5, 0, 0.25f, 0.5f, 0.999f, 1, 7 };
	double score[7];
	unsigned long seed;
	size_t i;
	(void)state;

	for (seed = 1; seed <= 20; seed++) {
		fin_iforest f;
		const struct fin_inode *root;

		fit(&f, data, 2, 1, 1, 2, seed);
		assert_int_equal(f.sample, 2);
		assert_int_equal(f.nnodes, 3);
		root = &f.nodes[f.root[0]];
		assert_true(root->feature == 0 && root->split > 0 && root->split <= 1);
		assert_int_equal(f.nodes[root->left].size, 1);
		assert_int_equal(f.nodes[root->left + 1].size, 1);
		fin_iforest_score(&f, probe, 7, score);
		for (i = 0; i < 7; i++)
			assert_true(score[i] == 0.5);
		fin_iforest_free(&f);
	}
}

/* {0, 0, 10} with psi = 3, so the height limit is ceil(log2 3) = 2: every
 * split in (0, 10] sends both zeros left, where they are equal and so an
 * external node of size 2 at depth 1. x = 10 (or anything at or above the
 * split) has h = 1 + c(1) = 1, x = 0 has h = 1 + c(2) = 2, in every tree. */
static void test_forced_tree(void **state)
{
	static const float data[] = { 0, 0, 10 };
	static const float probe[] = { 10, 0, 25, -3 };
	double score[4], s1, s2;
	size_t ntrees;
	(void)state;

	s1 = pow(2, -1 / c_formula(3));
	s2 = pow(2, -2 / c_formula(3));
	assert_close(s1, S1_C3_BC, 1e-15);
	assert_close(s2, S2_C3_BC, 1e-15);
	for (ntrees = 1; ntrees <= 7; ntrees += 3) {
		fin_iforest f;

		fit(&f, data, 3, 1, ntrees, 3, 42 + ntrees);
		assert_int_equal(f.nnodes, 3 * ntrees);
		assert_int_equal(f.height, 1);
		fin_iforest_score(&f, probe, 4, score);
		assert_close(score[0], s1, 1e-15);
		assert_close(score[1], s2, 1e-15);
		assert_close(score[2], s1, 1e-15);
		assert_close(score[3], s2, 1e-15);
		fin_iforest_free(&f);
	}
}

/* {0, 0, 0, 10}, psi = 4: the three zeros are one external node of size 3
 * at depth 1, so h(0) = 1 + c(3) and h(10) = 1, against c(4). */
static void test_forced_tree_of_four(void **state)
{
	static const float data[] = { 0, 0, 0, 10 };
	static const float probe[] = { 0, 10 };
	double score[2], c4 = c_formula(4);
	fin_iforest f;
	(void)state;

	fit(&f, data, 4, 1, 10, 4, 7);
	fin_iforest_score(&f, probe, 2, score);
	assert_close(score[0], pow(2, -(1 + c_formula(3)) / c4), 1e-15);
	assert_close(score[1], pow(2, -1 / c4), 1e-15);
	fin_iforest_free(&f);
}

/* Subsamples of 2 of {0, 0, 10} are {0, 0} (a root that cannot split:
 * h = c(2) = 1) or {0, 10} (h = 1 everywhere): every score is 0.5. */
static void test_subsampled(void **state)
{
	static const float data[] = { 0, 0, 10 };
	static const float probe[] = { 0, 10, 5 };
	double score[3];
	fin_iforest f;
	size_t i;
	(void)state;

	fit(&f, data, 3, 1, 50, 2, 3);
	assert_int_equal(f.sample, 2);
	fin_iforest_score(&f, probe, 3, score);
	for (i = 0; i < 3; i++)
		assert_true(score[i] == 0.5);
	fin_iforest_free(&f);
}

/* Rows are drawn without replacement: 3 of 4 distinct values, with the
 * height limit ceil(log2 3) = 2, always isolate each row in an external
 * node of its own; a row drawn twice would leave a node of 2 equal rows. */
static void test_without_replacement(void **state)
{
	static const float data[] = { 0, 1, 2, 3 };
	fin_iforest f;
	size_t i;
	(void)state;

	fit(&f, data, 4, 1, 500, 3, 17);
	assert_int_equal(f.nnodes, 500 * 5);
	for (i = 0; i < f.nnodes; i++)
		if (f.nodes[i].left == i)
			assert_int_equal(f.nodes[i].size, 1);
	fin_iforest_free(&f);
}

/* Every row is equally likely to be drawn. Row i of n is the i-th unit
 * vector, so a subsample of 2 rows has exactly 2 non-constant features,
 * their own, and the root splits on one of them at random: the root
 * feature is i with probability (2/n) (1/2) = 1/n. Over 20000 trees each
 * count is 2000 with a standard deviation of sqrt(20000 (1/10) (9/10)) =
 * 42; the test allows 5 of them. */
static void test_rows_uniform(void **state)
{
	enum { N = 10, TREES = 20000 };
	float x[N * N] = { 0 };
	size_t count[N] = { 0 }, i;
	fin_iforest f;
	(void)state;

	for (i = 0; i < N; i++)
		x[i * N + i] = 1;
	fit(&f, x, N, N, TREES, 2, 23);
	for (i = 0; i < TREES; i++)
		count[f.nodes[f.root[i]].feature]++;
	for (i = 0; i < N; i++)
		if (count[i] < 2000 - 5 * 42 || count[i] > 2000 + 5 * 42) {
			print_error("row %zu drawn %zu times in %d trees\n", i, count[i], TREES);
			fail();
		}
	fin_iforest_free(&f);
}

/* A feature that is constant over the data is never split on. */
static void test_constant_feature_skipped(void **state)
{
	static const float data[] = { 5, 0, -1, 5, 1, -1 };
	unsigned long seed;
	(void)state;

	for (seed = 1; seed <= 30; seed++) {
		fin_iforest f;

		fit(&f, data, 2, 3, 1, 2, seed);
		assert_int_equal(f.nodes[f.root[0]].feature, 1);
		fin_iforest_free(&f);
	}
}

/* Every tree of a forest on continuous data: within the height limit, at
 * most 2 psi - 1 nodes, children after their parent and inside the tree,
 * finite splits on real features, external sizes adding up to psi. */
static void test_structure(void **state)
{
	enum { N = 1000, D = 3 };
	float *x = malloc(N * D * sizeof *x);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_iforest f;
	size_t i, t, total;
	(void)state;

	gsl_rng_set(rng, 11);
	for (i = 0; i < N * D; i++)
		x[i] = (float)gsl_ran_gaussian(rng, 1);
	fit(&f, x, N, D, 25, 100, 5);
	assert_int_equal(f.sample, 100);
	/* ceil(log2 100) = 7, reached: unlimited trees on 100 points go far deeper */
	assert_int_equal(f.height, 7);
	for (t = 0; t < f.ntrees; t++) {
		size_t end = t + 1 < f.ntrees ? f.root[t + 1] : f.nnodes;
		assert_true(end - f.root[t] <= 2 * 100 - 1);
		for (total = 0, i = f.root[t]; i < end; i++) {
			const struct fin_inode *nd = &f.nodes[i];
			if (nd->left == i) {
				assert_true(nd->size >= 1 && isnan(nd->split));
				total += nd->size;
			} else {
				assert_true(nd->left > i && nd->left + 1 < end && nd->feature < D);
				assert_true(isfinite(nd->split));
			}
		}
		assert_int_equal(total, 100);
	}
	fin_iforest_free(&f);
	gsl_rng_free(rng);
	free(x);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

enum { PLANT_N = 501, PLANT_D = 4 };

/* 500 rows of N(0, 1)^4 and, last, one at (8, 8, 8, 8). */
static float *planted(void)
{
	float *x = malloc(PLANT_N * PLANT_D * sizeof *x);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t i;

	gsl_rng_set(rng, 2024);
	for (i = 0; i < (PLANT_N - 1) * PLANT_D; i++)
		x[i] = (float)gsl_ran_gaussian(rng, 1);
	for (; i < PLANT_N * PLANT_D; i++)
		x[i] = 8;
	gsl_rng_free(rng);
	return x;
}

static void test_planted_outlier(void **state)
{
	float *x = planted();
	double score[PLANT_N], sorted[PLANT_N - 1];
	fin_iforest f;
	size_t i, j;
	(void)state;

	fit(&f, x, PLANT_N, PLANT_D, 100, 256, 1);
	fin_iforest_score(&f, x, PLANT_N, score);
	for (i = 0; i < PLANT_N - 1; i++)
		assert_true(score[i] < score[PLANT_N - 1]);
	assert_true(score[PLANT_N - 1] > 0.6);
	/* Typical rows: the median, and every row within 1.5 of the centre
	 * in each coordinate. */
	memcpy(sorted, score, sizeof sorted);
	qsort(sorted, PLANT_N - 1, sizeof *sorted, cmp_double);
	assert_true(sorted[(PLANT_N - 1) / 2] < 0.5);
	for (i = 0; i < PLANT_N - 1; i++) {
		int central = 1;
		for (j = 0; j < PLANT_D; j++)
			central &= fabsf(x[i * PLANT_D + j]) < 1.5f;
		if (central)
			assert_true(score[i] < 0.55);
	}
	for (i = 0; i < PLANT_N; i++)
		assert_true(score[i] > 0 && score[i] <= 1);
	fin_iforest_free(&f);
	free(x);
}

static void test_seeds(void **state)
{
	float *x = planted();
	double a[PLANT_N], b[PLANT_N], c[PLANT_N], one;
	fin_iforest f;
	size_t i, differ = 0;
	(void)state;

	fit(&f, x, PLANT_N, PLANT_D, 50, 64, 99);
	fin_iforest_score(&f, x, PLANT_N, a);
	/* A row's score does not depend on the rows scored with it. */
	fin_iforest_score(&f, x + 300 * PLANT_D, 1, &one);
	assert_memory_equal(&one, &a[300], sizeof one);
	fin_iforest_free(&f);
	fit(&f, x, PLANT_N, PLANT_D, 50, 64, 99);
	fin_iforest_score(&f, x, PLANT_N, b);
	fin_iforest_free(&f);
	fit(&f, x, PLANT_N, PLANT_D, 50, 64, 100);
	fin_iforest_score(&f, x, PLANT_N, c);
	fin_iforest_free(&f);
	assert_memory_equal(a, b, sizeof a);
	for (i = 0; i < PLANT_N; i++)
		differ += a[i] != c[i];
	assert_true(differ > PLANT_N / 2);
	free(x);
}

static void test_fit_refused(void **state)
{
	static const float ok[] = { 0, 1, 2, 3 };
	const float bad[] = { 0, 1, NAN, 3 };
	fin_iforest f;
	fin_err err = { 0 };
	(void)state;

	assert_int_equal(fin_iforest_fit(&f, ok, 0, 1, 10, 256, 1, &err), FIN_ENOROWS);
	assert_int_equal(fin_iforest_fit(&f, ok, 1, 1, 10, 256, 1, &err), FIN_EDATA);
	assert_int_equal(fin_iforest_fit(&f, ok, 4, 0, 10, 256, 1, &err), FIN_EUSAGE);
	assert_int_equal(fin_iforest_fit(&f, ok, 4, 1, 0, 256, 1, &err), FIN_EUSAGE);
	assert_int_equal(fin_iforest_fit(&f, ok, 4, 1, 10, 1, 1, &err), FIN_EUSAGE);
	assert_int_equal(fin_iforest_fit(&f, bad, 4, 1, 10, 256, 1, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "row 3"));
	assert_null(f.nodes);
	fin_iforest_free(&f);
}

/* ---- the detector file ---- */

/* The text of a forest, parsed again: splits are raw text until then. */
static cJSON *reparsed(const fin_iforest *f)
{
	cJSON *o = fin_iforest_to_json(f);
	char *text;

	assert_non_null(o);
	text = cJSON_PrintUnformatted(o);
	assert_non_null(text);
	cJSON_Delete(o);
	o = cJSON_Parse(text);
	free(text);
	assert_non_null(o);
	return o;
}

static void test_round_trip(void **state)
{
	float *x = planted();
	double a[PLANT_N], b[PLANT_N];
	fin_iforest f, g;
	fin_err err = { 0 };
	cJSON *o;
	(void)state;

	fit(&f, x, PLANT_N, PLANT_D, 100, 256, 8);
	o = reparsed(&f);
	assert_int_equal(fin_iforest_from_json(&g, o, PLANT_D, &err), FIN_OK);
	cJSON_Delete(o);
	assert_int_equal(g.ntrees, f.ntrees);
	assert_int_equal(g.sample, f.sample);
	assert_int_equal(g.nnodes, f.nnodes);
	assert_int_equal(g.height, f.height);
	assert_memory_equal(g.root, f.root, f.ntrees * sizeof *f.root);
	assert_memory_equal(g.nodes, f.nodes, f.nnodes * sizeof *f.nodes);
	fin_iforest_score(&f, x, PLANT_N, a);
	fin_iforest_score(&g, x, PLANT_N, b);
	assert_memory_equal(a, b, sizeof a);
	fin_iforest_free(&f);
	fin_iforest_free(&g);
	free(x);
}

/* A forest written by hand: one tree splitting feature 1 at 0.5, with
 * external nodes of 1 and 2 rows among psi = 3; so h = 1 below the split
 * and 1 + c(2) = 2 at or above it. */
static void test_hand_written(void **state)
{
	static const char text[] = "{\"ntrees\":1,\"sample\":3,\"features\":2,"
				   "\"trees\":[[[1,0.5,1],[1],[2]]]}";
	static const float probe[] = { 9, 0.25f, 9, 0.5f };
	cJSON *o = cJSON_Parse(text);
	fin_iforest f;
	fin_err err = { 0 };
	double score[2];
	(void)state;

	assert_int_equal(fin_iforest_from_json(&f, o, 2, &err), FIN_OK);
	fin_iforest_score(&f, probe, 2, score);
	assert_close(score[0], S1_C3_BC, 1e-15);
	assert_close(score[1], S2_C3_BC, 1e-15);
	fin_iforest_free(&f);
	cJSON_Delete(o);
}

/* Expects o, for d features, to be refused with a message holding part. */
static void expect_refused(const cJSON *o, size_t d, const char *part)
{
	fin_iforest f;
	fin_err err = { 0 };

	assert_int_equal(fin_iforest_from_json(&f, o, d, &err), FIN_EMODEL);
	assert_int_equal(err.code, FIN_EMODEL);
	/* An empty text is in every message: it would check nothing. */
	assert_true(part[0] != '\0');
	if (!strstr(err.msg, part)) {
		print_error("message '%s' lacks '%s'\n", err.msg, part);
		fail();
	}
	assert_null(f.nodes);
	assert_null(f.root);
}

static void expect_text_refused(const char *text, size_t d, const char *part)
{
	cJSON *o = cJSON_Parse(text);

	assert_non_null(o);
	expect_refused(o, d, part);
	cJSON_Delete(o);
}

/* Tree t's node i of a parsed forest. */
static cJSON *node_at(cJSON *o, int t, int i)
{
	return cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "trees"), t), i);
}

/* The first internal node after the root of tree 0. */
static int inner_node(cJSON *o)
{
	int i;

	for (i = 1; cJSON_GetArraySize(node_at(o, 0, i)) != 3; i++)
		assert_true(i < cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "trees"), 0)));
	return i;
}

static void set_item(cJSON *node, int k, cJSON *v)
{
	assert_true(cJSON_ReplaceItemInArray(node, k, v));
}

static void test_refused(void **state)
{
	float *x = planted();
	fin_iforest f;
	cJSON *o, *tree;
	int i, m;
	(void)state;

	fit(&f, x, PLANT_N, PLANT_D, 3, 16, 4);
	free(x);

	o = reparsed(&f);
	expect_refused(o, PLANT_D + 1, "made for 4 features, not 5");
	m = cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "trees"), 0));
	set_item(node_at(o, 0, 0), 2, cJSON_CreateNumber(m - 1)); /* right child at m */
	expect_refused(o, PLANT_D, "children are not later nodes");
	set_item(node_at(o, 0, 0), 2, cJSON_CreateNumber(1e9));
	expect_refused(o, PLANT_D, "children are not later nodes");
	set_item(node_at(o, 0, 0), 2, cJSON_CreateNumber(-1));
	expect_refused(o, PLANT_D, "children are not later nodes");
	set_item(node_at(o, 0, 0), 2, cJSON_CreateNumber(1.5));
	expect_refused(o, PLANT_D, "children are not later nodes");
	cJSON_Delete(o);

	/* back to an ancestor, to itself, or to a node that has a parent */
	o = reparsed(&f);
	i = inner_node(o);
	set_item(node_at(o, 0, i), 2, cJSON_CreateNumber(0));
	expect_refused(o, PLANT_D, "children are not later nodes");
	set_item(node_at(o, 0, i), 2, cJSON_CreateNumber(i));
	expect_refused(o, PLANT_D, "children are not later nodes");
	cJSON_Delete(o);
	o = reparsed(&f);
	set_item(node_at(o, 0, 0), 2, cJSON_CreateNumber(
		cJSON_GetArrayItem(node_at(o, 0, inner_node(o)), 2)->valuedouble));
	expect_refused(o, PLANT_D, "no node has it as a child");
	cJSON_Delete(o);

	o = reparsed(&f);
	set_item(node_at(o, 1, 0), 0, cJSON_CreateNumber(PLANT_D));
	expect_refused(o, PLANT_D, "tree 2, node 0: split feature");
	set_item(node_at(o, 1, 0), 0, cJSON_CreateString("0"));
	expect_refused(o, PLANT_D, "split feature");
	set_item(node_at(o, 1, 0), 0, cJSON_CreateNumber(0));
	set_item(node_at(o, 1, 0), 1, cJSON_CreateNumber(INFINITY));
	expect_refused(o, PLANT_D, "split is not a finite float");
	set_item(node_at(o, 1, 0), 1, cJSON_CreateNumber(NAN));
	expect_refused(o, PLANT_D, "split is not a finite float");
	set_item(node_at(o, 1, 0), 1, cJSON_CreateNumber(1e300)); /* finite, not as a float */
	expect_refused(o, PLANT_D, "split is not a finite float");
	set_item(node_at(o, 1, 0), 1, cJSON_CreateNull());
	expect_refused(o, PLANT_D, "split is not a finite float");
	cJSON_Delete(o);

	/* external node sizes */
	o = reparsed(&f);
	tree = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "trees"), 2);
	m = cJSON_GetArraySize(tree);
	set_item(cJSON_GetArrayItem(tree, m - 1), 0, cJSON_CreateNumber(0));
	expect_refused(o, PLANT_D, "tree 3, node");
	set_item(cJSON_GetArrayItem(tree, m - 1), 0, cJSON_CreateNumber(17));
	expect_refused(o, PLANT_D, "size is not a count");
	set_item(cJSON_GetArrayItem(tree, m - 1), 0, cJSON_CreateNumber(16));
	expect_refused(o, PLANT_D, "add up to");
	cJSON_DeleteItemFromArray(cJSON_GetArrayItem(tree, m - 1), 0);
	expect_refused(o, PLANT_D, "neither [size] nor");
	cJSON_Delete(o);

	/* missing fields and counts that do not match */
	o = reparsed(&f);
	cJSON_DeleteItemFromObject(o, "sample");
	expect_refused(o, PLANT_D, "sample");
	cJSON_Delete(o);
	o = reparsed(&f);
	cJSON_DeleteItemFromObject(o, "trees");
	expect_refused(o, PLANT_D, "trees");
	cJSON_Delete(o);
	o = reparsed(&f);
	cJSON_DeleteItemFromObject(o, "features");
	expect_refused(o, PLANT_D, "features");
	cJSON_Delete(o);
	o = reparsed(&f);
	cJSON_ReplaceItemInObject(o, "ntrees", cJSON_CreateNumber(4));
	expect_refused(o, PLANT_D, "does not hold ntrees = 4 trees");
	cJSON_ReplaceItemInObject(o, "ntrees", cJSON_CreateNumber(2));
	expect_refused(o, PLANT_D, "does not hold ntrees = 2 trees");
	cJSON_ReplaceItemInObject(o, "ntrees", cJSON_CreateNumber(0));
	expect_refused(o, PLANT_D, "ntrees");
	cJSON_DeleteItemFromObject(o, "ntrees");
	expect_refused(o, PLANT_D, "ntrees");
	cJSON_Delete(o);
	o = reparsed(&f);
	cJSON_ReplaceItemInObject(o, "sample", cJSON_CreateNumber(17));
	expect_refused(o, PLANT_D, "add up to");
	cJSON_ReplaceItemInObject(o, "sample", cJSON_CreateNumber(1));
	expect_refused(o, PLANT_D, "sample");
	cJSON_Delete(o);
	fin_iforest_free(&f);

	expect_text_refused("{}", 1, "ntrees");
	expect_text_refused("{\"ntrees\":1,\"sample\":2,\"features\":1,\"trees\":[[]]}", 1,
			    "tree 1 is not a list");
	expect_text_refused("{\"ntrees\":1,\"sample\":2,\"features\":1,\"trees\":[{}]}", 1,
			    "tree 1 is not a list");
	/* more nodes than 2 psi - 1 */
	expect_text_refused("{\"ntrees\":1,\"sample\":2,\"features\":1,"
			    "\"trees\":[[[0,1,1],[1],[1],[1]]]}", 1, "nodes");
	/* two parents of one pair */
	expect_text_refused("{\"ntrees\":1,\"sample\":3,\"features\":1,"
			    "\"trees\":[[[0,1,1],[0,2,3],[0,3,3],[1],[2]]]}", 1,
			    "another parent");
	/* deeper than ceil(log2 4) = 2, though otherwise a tree */
	expect_text_refused("{\"ntrees\":1,\"sample\":4,\"features\":1,"
			    "\"trees\":[[[0,1,1],[1],[0,2,3],[1],[0,3,5],[1],[1]]]}", 1,
			    "tree 1, node 5: deeper than the height limit 2");
	expect_text_refused("[1]", 1, "not an object");
	expect_text_refused("{\"ntrees\":1,\"sample\":2,\"features\":1,"
			    "\"trees\":[[[0,1,1],[1],[1.5]]]}", 1, "size is not a count");
}


/* A sound forest of one tree of three nodes whose sample is 2^30: the
 * scratch for reading it follows its three nodes, not the 2^31 - 1 the
 * sample would allow. */
static int load_large_sample(void)
{
	static const char text[] = "{\"ntrees\":1,\"sample\":1073741824,\"features\":1,"
				   "\"trees\":[[[0,0.5,1],[536870912],[536870912]]]}";
	cJSON *o = cJSON_Parse(text);
	fin_iforest f;
	fin_err err = { 0 };
	int rc = fin_iforest_from_json(&f, o, 1, &err);

	if (rc != FIN_OK)
		fprintf(stderr, "%s\n", err.msg);
	else if (f.nnodes != 3 || f.sample != 1073741824)
		rc = 99;
	fin_iforest_free(&f);
	cJSON_Delete(o);
	return rc;
}

static void test_memory_follows_nodes(void **state)
{
	(void)state;
	assert_int_equal(in_bounded_memory(load_large_sample), FIN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c),
		cmocka_unit_test(test_two_points),
		cmocka_unit_test(test_forced_tree),
		cmocka_unit_test(test_forced_tree_of_four),
		cmocka_unit_test(test_subsampled),
		cmocka_unit_test(test_without_replacement),
		cmocka_unit_test(test_rows_uniform),
		cmocka_unit_test(test_constant_feature_skipped),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_planted_outlier),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_fit_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hand_written),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_memory_follows_nodes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
