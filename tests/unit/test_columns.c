/* Column selection: names, indices, ranges, negation, exact names first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "columns.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_indices),
		cmocka_unit_test(test_ranges_and_negation),
		cmocka_unit_test(test_exact_name_wins),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
