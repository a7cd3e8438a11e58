/* Column selection: names, indices, ranges, negation, exact names first;
 * finding names through a sorted index; repeated names refused; the
 * channels-and-steps layout of <base>_<lag> names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/table.h"
#include "io/columns.h"

static char *const names[] = { "date", "close", "2-5", "!x", "vol", "a,b" };
enum { NNAMES = 6 };

static void expect(char *const *specs, size_t nspecs, size_t n, const size_t *want)
{
	size_t *idx, count, i;
	fin_err err = { 0 };

	assert_int_equal(fin_columns_select(specs, nspecs, names, NNAMES, &idx, &count, &err), FIN_OK);
	assert_int_equal(count, n);
	for (i = 0; i < n; i++)
		assert_int_equal(idx[i], want[i]);
	free(idx);
}

#define EXPECT(specs, ...)                                                              \
	do {                                                                            \
		static char *const s_[] = specs;                                        \
		static const size_t w_[] = { __VA_ARGS__ };                              \
		expect(s_, sizeof s_ / sizeof *s_, sizeof w_ / sizeof *w_, w_);          \
	} while (0)
#define L(...) { __VA_ARGS__ }

static void test_names_and_indices(void **state)
{
	(void)state;
	EXPECT(L("close"), 1);
	EXPECT(L("2"), 1);
	EXPECT(L("1,5"), 0, 4);
	EXPECT(L("vol,date"), 4, 0);
	EXPECT(L("close", "date"), 1, 0);
	EXPECT(L("close,2"), 1); /* each column once */
}

static void test_ranges_and_negation(void **state)
{
	(void)state;
	EXPECT(L("4-5"), 3, 4);
	EXPECT(L("!close"), 0, 2, 3, 4, 5);
	EXPECT(L("!1-2"), 2, 3, 4, 5);
	EXPECT(L("!1", "!6"), 1, 2, 3, 4);
	EXPECT(L("1-3,!2"), 0, 2);
	EXPECT(L("close,vol,!vol"), 1);
}

static void test_exact_name_wins(void **state)
{
	(void)state;
	EXPECT(L("2-5"), 2);    /* a header, not the range 2..5 */
	EXPECT(L("!x"), 3);     /* a header, not a negation */
	EXPECT(L("a,b"), 5);    /* a header holding a comma */
	EXPECT(L("close,!x"), 1, 3);
}

static void expect_error(const char *spec, const char *msg)
{
	char *specs[] = { (char *)spec };
	size_t *idx = NULL, count;
	fin_err err = { 0 };

	assert_int_equal(fin_columns_select(specs, 1, names, NNAMES, &idx, &count, &err), FIN_EUSAGE);
	assert_string_equal(err.msg, msg);
	assert_null(idx);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("price", "no column 'price' in the input");
	expect_error("9", "column 9 out of range (the input has 6 columns)");
	expect_error("0", "no column '0' in the input");
	expect_error("3-2", "column range '3-2' runs backwards");
	expect_error("close,", "empty item in column list 'close,'");
	expect_error("!nope", "no column 'nope' in the input");
}

static void test_find(void **state)
{
	(void)state;
	assert_int_equal(fin_column_find(names, NNAMES, "vol"), 4);
	assert_int_equal(fin_column_find(names, NNAMES, "Vol"), -1);
}

static void test_index(void **state)
{
	static char *const dup[] = { "b", "a", "c", "a", "b" };
	fin_column_index ix;
	fin_err err = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(fin_column_index_build(&ix, names, NNAMES, &err), FIN_OK);
	for (i = 0; i < NNAMES; i++)
		assert_int_equal(fin_column_index_find(&ix, names[i]), (long)i);
	assert_int_equal(fin_column_index_find(&ix, "Vol"), -1);
	assert_int_equal(fin_column_index_find(&ix, ""), -1);
	assert_int_equal(fin_column_index_find(&ix, "zzz"), -1);
	fin_column_index_free(&ix);
	/* the first of repeated names */
	assert_int_equal(fin_column_index_build(&ix, dup, 5, &err), FIN_OK);
	assert_int_equal(fin_column_index_find(&ix, "a"), 1);
	assert_int_equal(fin_column_index_find(&ix, "b"), 0);
	fin_column_index_free(&ix);
}

static void test_unique(void **state)
{
	static char *const dup[] = { "a", "b", "c", "b", "a" };
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_columns_check_unique(names, NNAMES, "f.csv", &err), FIN_OK);
	assert_int_equal(fin_columns_check_unique(names, 0, "f.csv", &err), FIN_OK);
	/* b repeats (at 4) before a does (at 5) */
	assert_int_equal(fin_columns_check_unique(dup, 5, "f.csv", &err), FIN_EDATA);
	assert_string_equal(err.msg, "f.csv:1: column 'b' appears twice, as columns 2 and 4");
}

/* fin_sequence_layout on names, against the order worked out by hand
 * (want NULL: not a sequence, the identity order). */
static void layout(char *const *v, size_t n, size_t c, size_t t, const size_t *want)
{
	size_t *order = malloc(n * sizeof *order), gc = 0, gt = 0, i;

	assert_non_null(order);
	assert_int_equal(fin_sequence_layout(v, n, order, &gc, &gt), want != NULL);
	assert_int_equal(gc, want ? c : n);
	assert_int_equal(gt, want ? t : 1);
	for (i = 0; i < n; i++)
		assert_int_equal(order[i], want ? want[i] : i);
	free(order);
}

static void test_sequence_layout(void **state)
{
	static char *const window[] = { "DAX_2", "DAX_1", "DAX_0" };
	static const size_t window_order[] = { 0, 1, 2 };
	/* b's first column comes before a's: b is channel 0 */
	static char *const mixed[] = { "b_0", "a_1", "b_1", "a_0" };
	static const size_t mixed_order[] = { 2, 0, 1, 3 };
	/* a repeated lag leaves a step without a column */
	static char *const repeated[] = { "DAX_7", "DAX_6", "DAX_5", "DAX_5",
					  "DAX_3", "DAX_2", "DAX_1", "DAX_0" };
	static char *const gap[] = { "x_0", "x_2" };
	static char *const uneven[] = { "a_0", "a_1", "b_0" };
	static char *const lone[] = { "x_0" };
	static char *const plain[] = { "x_1", "x" };
	static char *const prefix[] = { "ab_0", "a_1", "a_0", "ab_1" };
	static const size_t prefix_order[] = { 3, 0, 1, 2 };

	(void)state;
	layout(window, 3, 1, 3, window_order);
	layout(mixed, 4, 2, 2, mixed_order);
	layout(repeated, 8, 0, 0, NULL);
	layout(gap, 2, 0, 0, NULL);
	layout(uneven, 3, 0, 0, NULL);
	layout(lone, 1, 0, 0, NULL);
	layout(plain, 2, 0, 0, NULL);
	layout(prefix, 4, 2, 2, prefix_order);
}

static void test_sequence_layout_many_bases(void **state)
{
	/* 20,000 bases of 2 steps, named in reverse: base k's lag 1 is
	 * column 2 (N - 1 - k), its lag 0 the next one. */
	enum { N = 20000 };
	char **v = malloc(2 * N * sizeof *v);
	size_t *want = malloc(2 * N * sizeof *want), k;

	(void)state;
	assert_non_null(v);
	assert_non_null(want);
	for (k = 0; k < N; k++) {
		size_t col = 2 * (N - 1 - k);
		assert_true(asprintf(&v[col], "s%zu_1", k) > 0);
		assert_true(asprintf(&v[col + 1], "s%zu_0", k) > 0);
	}
	/* channels in order of their first column */
	for (k = 0; k < 2 * N; k++)
		want[k] = k;
	layout(v, 2 * N, N, 2, want);
	for (k = 0; k < 2 * N; k++)
		free(v[k]);
	free(v);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_indices),
		cmocka_unit_test(test_ranges_and_negation),
		cmocka_unit_test(test_exact_name_wins),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_sequence_layout),
		cmocka_unit_test(test_sequence_layout_many_bases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
