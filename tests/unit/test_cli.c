/* The shared options: the getopt table a tool's bits make, and each
 * shared option's parsing and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"

enum { OPT_OWN = 256 };

static const struct option own[] = {
	{ "own", required_argument, NULL, OPT_OWN },
	{ NULL, 0, NULL, 0 },
};

/* The long names in c's table, in order, joined by spaces. */
static void long_names(const fin_cli *c, char *buf, size_t len)
{
	const struct option *o;
	size_t at = 0;

	buf[0] = '\0';
	for (o = c->options; o->name; o++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "", o->name);
}

static void test_table_of_the_bits(void **state)
{
	fin_cli c;
	fin_err err = { 0 };
	char names[512];
	(void)state;

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", FIN_CLI_OUTPUT, own, &err), FIN_OK);
	assert_string_equal(c.letters, "o:hV");
	long_names(&c, names, sizeof names);
	assert_string_equal(names, "output help version own");

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage",
				      FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_NO_HEADER |
					      FIN_CLI_THREADS | FIN_CLI_NA_LEVEL | FIN_CLI_VERBOSE,
				      NULL, &err),
			 FIN_OK);
	assert_string_equal(c.letters, "c:k:nvhV");
	long_names(&c, names, sizeof names);
	assert_string_equal(names, "columns key no-header threads verbose na help version");
}

static void test_defaults_and_values(void **state)
{
	fin_cli c;
	fin_err err = { 0 };
	char a[] = "a", b[] = "b", tab[] = "tab", seed[] = "4294967295", threads[] = "8";
	/* every shared option, --na with its first policies */
	unsigned all = ~(unsigned)(FIN_CLI_NA_LEVEL | FIN_CLI_NA_NO_FILL);
	(void)state;

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", all, own, &err), FIN_OK);
	assert_true(c.seed == 1 && !c.seed_given && c.threads == 1 && c.na == FIN_NA_ERROR);
	assert_true(c.csv.delim == 0 && !c.csv.no_header && !c.quiet && !c.output);
	assert_int_equal(fin_cli_option(&c, 'c', a, &err), FIN_OK);
	assert_int_equal(fin_cli_option(&c, 'c', b, &err), FIN_OK);
	assert_int_equal(c.ncolumns, 2);
	assert_string_equal(c.columns[1], "b");
	assert_int_equal(fin_cli_option(&c, 'd', tab, &err), FIN_OK);
	assert_int_equal(c.csv.delim, '\t');
	assert_int_equal(fin_cli_option(&c, 's', seed, &err), FIN_OK);
	assert_true(c.seed == 4294967295UL && c.seed_given);
	assert_int_equal(fin_cli_option(&c, FIN_OPT_THREADS, threads, &err), FIN_OK);
	assert_int_equal(c.threads, 8);
	assert_int_equal(fin_cli_option(&c, 'n', NULL, &err), FIN_OK);
	assert_int_equal(fin_cli_option(&c, 'q', NULL, &err), FIN_OK);
	assert_true(c.csv.no_header && c.quiet);
	fin_cli_free(&c);
	assert_null(c.columns);
}

static void test_refusals(void **state)
{
	fin_cli c;
	fin_err err = { 0 };
	char big[] = "4294967296", zero[] = "0", ffill[] = "ffill", level[] = "level";
	(void)state;

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", FIN_CLI_SEED | FIN_CLI_THREADS | FIN_CLI_NA,
				      NULL, &err), FIN_OK);
	assert_int_equal(fin_cli_option(&c, 's', big, &err), FIN_EUSAGE);
	assert_string_equal(err.msg,
			    "--seed: expected a whole number from 0 to 4294967295, not '4294967296'");
	assert_int_equal(fin_cli_option(&c, FIN_OPT_THREADS, zero, &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "--threads: expected a whole number from 1 to 256, not '0'");
	assert_int_equal(fin_cli_option(&c, FIN_OPT_NA, ffill, &err), FIN_OK);
	assert_int_equal(c.na, FIN_NA_FFILL);
	assert_int_equal(fin_cli_option(&c, FIN_OPT_NA, level, &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "--na: unknown value 'level'");

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", FIN_CLI_NA_LEVEL, NULL, &err), FIN_OK);
	assert_int_equal(fin_cli_option(&c, FIN_OPT_NA, level, &err), FIN_OK);
	assert_int_equal(c.na, FIN_NA_LEVEL);

	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", FIN_CLI_NA_NO_FILL, NULL, &err), FIN_OK);
	assert_int_equal(fin_cli_option(&c, FIN_OPT_NA, ffill, &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "--na: expected error or skip, not 'ffill'");
}

static void test_table_too_long(void **state)
{
	static struct option many[FIN_CLI_OPTIONS_MAX + 1];
	fin_cli c;
	fin_err err = { 0 };
	size_t i;
	(void)state;

	for (i = 0; i < FIN_CLI_OPTIONS_MAX; i++)
		many[i] = (struct option){ "own", no_argument, NULL, OPT_OWN + (int)i };
	assert_int_equal(fin_cli_init(&c, "fin-x", "usage", 0, many, &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "fin-x: too many options");
}

/* Options of some modes only: each remembered once, the first that does
 * not go with the mode named, and nothing refused that goes with it. */
static void test_scoped_options(void **state)
{
	static const char a[] = "--a", b[] = "--b";
	fin_cli_scoped s = { 0 };
	fin_err err = { 0 };

	(void)state;
	fin_cli_scoped_add(&s, a, 1u << 0 | 1u << 2);
	fin_cli_scoped_add(&s, b, 1u << 2);
	fin_cli_scoped_add(&s, a, 1u << 1);
	assert_int_equal(s.n, 2);
	assert_int_equal(fin_cli_scoped_check(&s, 2, "", "two", &err), FIN_OK);
	assert_int_equal(fin_cli_scoped_check(&s, 0, "--task ", "zero", &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "--b does not go with --task zero");
	assert_int_equal(fin_cli_scoped_check(&s, 1, "", "one", &err), FIN_EUSAGE);
	assert_string_equal(err.msg, "--a does not go with one");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_of_the_bits),
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_table_too_long),
		cmocka_unit_test(test_scoped_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
