/* The key found without -k: a look at the first row that takes nothing
 * from the input, and the first column of ISO dates that the features and
 * the target leave, on files written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/time_key.h"

/* Opens the CSV text as an input with its header read. */
static fin_input *open_text(const char *csv)
{
	char path[] = "/tmp/fin-time-key-XXXXXX", *paths[] = { path }, **names;
	int fd = mkstemp(path);
	size_t n;
	fin_err err = { 0 };
	fin_input *in;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
	close(fd);
	in = fin_input_open(paths, 1, NULL, &err);
	unlink(path);
	assert_non_null(in);
	assert_int_equal(fin_input_header(in, &names, &n, &err), FIN_OK);
	return in;
}

static void test_peek_takes_nothing(void **state)
{
	fin_input *in = open_text("a,b\n1,2\n3,4\n");
	fin_row *row, *again;
	fin_err err = { 0 };
	char **names;
	size_t n;

	(void)state;
	assert_int_equal(fin_input_peek(in, &row, &err), 1);
	assert_string_equal(row->fields[0], "1");
	assert_int_equal(fin_input_peek(in, &again, &err), 1);
	assert_ptr_equal(again, row);
	/* the header again, after a look at the first row */
	assert_int_equal(fin_input_header(in, &names, &n, &err), FIN_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "b");
	assert_int_equal(fin_input_next(in, &row, &err), 1);
	assert_string_equal(row->fields[1], "2");
	assert_int_equal(row->line, 2);
	assert_int_equal(fin_input_next(in, &row, &err), 1);
	assert_string_equal(row->fields[0], "3");
	assert_int_equal(fin_input_peek(in, &row, &err), 0);
	assert_int_equal(fin_input_next(in, &row, &err), 0);
	fin_input_close(in);
}

static void test_peek_gives_the_error_again(void **state)
{
	fin_input *in = open_text("a,b\n1\n");
	fin_row *row;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_input_peek(in, &row, NULL), -FIN_EDATA);
	assert_int_equal(fin_input_next(in, &row, &err), -FIN_EDATA);
	assert_int_equal(err.code, FIN_EDATA);
	assert_non_null(strstr(err.msg, ":2: expected 2 fields, found 1"));
	fin_input_close(in);
}

/* The column fin_time_key_find takes from csv under spec, "" for none. */
static void expect_key(const char *csv, const fin_table_spec *spec, const char *want)
{
	fin_input *in = open_text(csv);
	fin_time_key k;
	fin_err err = { 0 };
	fin_row *row;

	assert_int_equal(fin_time_key_find(in, spec, &k, &err), FIN_OK);
	if (strcmp(k.name ? k.name : "", want) != 0)
		fail_msg("'%s' taken, not '%s', from %s", k.name ? k.name : "", want, csv);
	if (k.name)
		assert_non_null(strstr(k.note, want));
	/* the first row is still there */
	if (fin_input_next(in, &row, &err) == 1)
		assert_int_equal(row->line, 2);
	fin_input_close(in);
}

static void test_the_first_column_of_dates(void **state)
{
	fin_table_spec none = { 0 };

	(void)state;
	expect_key("x,d\n1,2020-01-03\n", &none, "d");
	expect_key("x,t\n1,2020-01-03T09:30:00Z\n", &none, "t");
	expect_key("x,t\n1,2020-01-03 09:30\n", &none, "t");
	expect_key("d,e\n2020-01-03,2020-01-04\n", &none, "d");
	/* a month, a US date, a number, an empty field, or no row: none */
	expect_key("x,m\n1,2020-01\n", &none, "");
	expect_key("x,m\n1,01/03/2020\n", &none, "");
	expect_key("x,m\n1,20200103\n", &none, "");
	expect_key("x,m\n1,\n", &none, "");
	expect_key("x,m\n", &none, "");
}

static void test_chosen_columns_are_never_taken(void **state)
{
	char *d[] = { "d" }, *range[] = { "1-2" }, *not_x[] = { "!x" }, *feat[] = { "d", "x" };
	char *absent[] = { "y" };
	fin_table_spec by_c = { .columns = d, .ncolumns = 1 };
	fin_table_spec by_range = { .columns = range, .ncolumns = 1 };
	fin_table_spec by_negation = { .columns = not_x, .ncolumns = 1 };
	fin_table_spec features = { .columns = feat, .ncolumns = 2, .exact = 1 };
	fin_table_spec target = { .target = "d" };
	fin_table_spec keyed = { .keys = d, .nkeys = 1 };
	fin_table_spec unknown = { .columns = absent, .ncolumns = 1 };
	const char *csv = "d,x,e\n2020-01-03,1,2020-01-04\n";

	(void)state;
	expect_key(csv, &by_c, "e");
	expect_key(csv, &by_range, "e");
	expect_key(csv, &by_negation, "");
	expect_key(csv, &features, "e");
	expect_key(csv, &target, "e");
	expect_key(csv, &keyed, "");
	/* a -c list the header cannot satisfy: the tool says so, later */
	expect_key(csv, &unknown, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek_takes_nothing),
		cmocka_unit_test(test_peek_gives_the_error_again),
		cmocka_unit_test(test_the_first_column_of_dates),
		cmocka_unit_test(test_chosen_columns_are_never_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
