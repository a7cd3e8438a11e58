/* The time order of key columns: ISO dates read as points in time (the
 * expected seconds are Python's datetime(...).timestamp()), and the first
 * key that goes back, or repeats in a series, refused with its place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "features/key_order.h"

static void expect_time(const char *s, long long sec, long nsec)
{
	fin_key_time t = { -1, -1 };

	if (fin_key_parse_time(s, strlen(s), &t) != 0)
		fail_msg("'%s' is not read as a date", s);
	if (t.sec != sec || t.nsec != nsec)
		fail_msg("'%s': %lld s %ld ns, not %lld s %ld ns", s, t.sec, t.nsec, sec, nsec);
}

static void test_dates_and_date_times(void **state)
{
	(void)state;
	expect_time("1970-01-01", 0, 0);
	expect_time("2020-01-03", 1578009600, 0);
	expect_time(" 2020-01-03\t", 1578009600, 0);
	expect_time("2020-01", 1577836800, 0);
	expect_time("2000-02-29", 951782400, 0);
	expect_time("1969-12-31", -86400, 0);
	expect_time("1600-03-01", -11670912000LL, 0);
	expect_time("9999-12-31T23:59:59", 253402300799LL, 0);
	expect_time("2020-01-03T09:30", 1578009600 + 34200, 0);
	expect_time("2020-01-03 09:30:15", 1578009600 + 34215, 0);
	expect_time("2020-01-03t09:30:15z", 1578009600 + 34215, 0);
	expect_time("2020-01-03T09:30:15.25", 1578009600 + 34215, 250000000);
	expect_time("2020-01-03T09:30:15,000000001", 1578009600 + 34215, 1);
	expect_time("2020-01-03T09:30:00Z", 1578009600 + 34200, 0);
	expect_time("2020-01-03T09:30:00+01:00", 1578040200, 0);
	expect_time("2020-01-03T09:30+0100", 1578040200, 0);
	expect_time("2020-01-03T09:30:00+01", 1578040200, 0);
	expect_time("2020-01-03T09:30:00-05:30", 1578063600, 0);
}

static void test_not_dates(void **state)
{
	static const char *const bad[] = {
		"",			  "2020",		   "2020-1-3",
		"2020-01-3",		  "2020/01/03",		   "03/01/2020",
		"2020-00-10",		  "2020-13-01",		   "2020-01-00",
		"2020-01-32",		  "2021-02-29",		   "1900-02-29",
		"2020-04-31",		  "2020-01-03X",	   "2020-01-03T",
		"2020-01-03T9:30",	  "2020-01-03T09",	   "2020-01-03T24:00",
		"2020-01-03T09:60",	  "2020-01-03T09:30:60",   "2020-01-03T09:30:00.",
		"2020-01-03T09:30:00.1234567890", "2020-01-03T09:30+1",	"2020-01-03T09:30+01:60",
		"2020-01-03+01:00",	  "2020-01T09:30",	   "Jan 3, 2020",
	};
	fin_key_time t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		if (fin_key_parse_time(bad[i], strlen(bad[i]), &t) == 0)
			fail_msg("'%s' is read as a date", bad[i]);
}

/* Feeds keys, one a line from line 2 of file, until one is refused:
 * returns its index (n when all are taken), the message in err. */
static size_t feed(fin_key_order *k, const char *file, const char *const *keys, size_t n,
		   fin_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fin_key_order_next(k, file, (long)i + 2, keys[i], strlen(keys[i]), err) != FIN_OK) {
			assert_int_equal(err->code, FIN_EDATA);
			return i;
		}
	return n;
}

static void test_increasing_keys_pass(void **state)
{
	static const char *const numbers[] = { "-3", "0", "1991.4961", "1991.5", "1e4", "20200103" };
	static const char *const dates[] = { "2019-12", "2019-12-31", "2020-01-03T09:30",
					     "2020-01-03T09:30:00.5", "2020-01-03T09:30:00.5-01:00",
					     "2020-01-04" };
	fin_err err = { 0 };
	fin_key_order k;
	int strict;

	(void)state;
	for (strict = 0; strict < 2; strict++) {
		fin_key_order_init(&k, "t", strict);
		assert_int_equal(feed(&k, "a.csv", numbers, 6, &err), 6);
		fin_key_order_init(&k, "date", strict);
		assert_int_equal(feed(&k, "a.csv", dates, 6, &err), 6);
	}
}

static void test_the_first_step_back_is_named(void **state)
{
	static const char *const newest_first[] = { "2020-01-07", "2020-01-06", "2020-01-03" };
	static const char *const numbers[] = { "1", "2", "10", "9.5" };
	static const char *const instants[] = { "2020-01-03T10:00:00+01:00", "2020-01-03T09:30Z",
						"2020-01-03T09:00:00Z" };
	fin_err err = { 0 };
	fin_key_order k;

	(void)state;
	fin_key_order_init(&k, "date", 1);
	assert_int_equal(feed(&k, "prices.csv", newest_first, 3, &err), 1);
	assert_string_equal(err.msg,
			    "prices.csv:3: column 'date': '2020-01-06' comes before '2020-01-07' on "
			    "line 2: the key must increase (newest-first? sort it, or give --unsorted)");
	fin_key_order_init(&k, "t", 0);
	assert_int_equal(feed(&k, "x.csv", numbers, 4, &err), 3);
	assert_string_equal(err.msg, "x.csv:5: column 't': '9.5' comes before '10' on line 4: the key "
				     "must increase (newest-first? sort it, or give --unsorted)");
	/* 10:00+01:00 is 09:00Z: 09:30Z comes after it, 09:00Z is the same time */
	fin_key_order_init(&k, "t", 1);
	assert_int_equal(feed(&k, "x.csv", instants, 3, &err), 2);
	assert_non_null(strstr(err.msg, "x.csv:4: column 't': '2020-01-03T09:00:00Z' comes before "
					"'2020-01-03T09:30Z' on line 3"));
}

static void test_equal_keys_refused_only_when_strict(void **state)
{
	static const char *const keys[] = { "2020-01-02", "2020-01-03", "2020-01-03T00:00:00",
					    "2020-01-06" };
	fin_err err = { 0 };
	fin_key_order k;

	(void)state;
	fin_key_order_init(&k, "date", 0);
	assert_int_equal(feed(&k, "p.csv", keys, 4, &err), 4);
	fin_key_order_init(&k, "date", 1);
	assert_int_equal(feed(&k, "p.csv", keys, 4, &err), 2);
	assert_string_equal(err.msg, "p.csv:4: column 'date': '2020-01-03T00:00:00' is the time of "
				     "'2020-01-03' on line 3: the key must increase, one row per time "
				     "(a repeated row, or two series in one file? or give --unsorted)");
}

static void test_keys_without_an_order(void **state)
{
	static const char *const text[] = { "01/03/2020", "01/06/2020" };
	static const char *const missing[] = { "1", "NA" };
	static const char *const mixed[] = { "2020-01-03", "20200106" };
	fin_err err = { 0 };
	fin_key_order k;

	(void)state;
	fin_key_order_init(&k, "date", 0);
	assert_int_equal(feed(&k, "p.csv", text, 2, &err), 0);
	assert_string_equal(err.msg, "p.csv:2: column 'date': '01/03/2020' is neither a number nor an "
				     "ISO date such as 2020-01-03 or 2020-01-03T09:30:00: the time "
				     "order cannot be checked (give --unsorted to take the rows as "
				     "they come)");
	fin_key_order_init(&k, "t", 0);
	assert_int_equal(feed(&k, "p.csv", missing, 2, &err), 1);
	assert_string_equal(err.msg, "p.csv:3: column 't': missing key: the time order cannot be "
				     "checked (give --unsorted to take the rows as they come)");
	fin_key_order_init(&k, "date", 0);
	assert_int_equal(feed(&k, "p.csv", mixed, 2, &err), 1);
	assert_string_equal(err.msg, "p.csv:3: column 'date': '20200106' is a number, but "
				     "'2020-01-03' on line 2 is a date: the time order of keys of two "
				     "kinds cannot be checked (or give --unsorted)");
}

static void test_the_order_runs_on_across_files(void **state)
{
	fin_err err = { 0 };
	fin_key_order k;

	(void)state;
	fin_key_order_init(&k, "t", 1);
	assert_int_equal(fin_key_order_next(&k, "a.csv", 7, "5", 1, &err), FIN_OK);
	assert_int_equal(fin_key_order_next(&k, "b.csv", 2, "4", 1, &err), FIN_EDATA);
	assert_string_equal(err.msg, "b.csv:2: column 't': '4' comes before '5' on a.csv:7: the key "
				     "must increase (newest-first? sort it, or give --unsorted)");
}

static void test_long_keys_are_cut_in_messages(void **state)
{
	char a[100], b[100];
	fin_err err = { 0 };
	fin_key_order k;

	(void)state;
	memset(a, '9', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[0] = '1';
	fin_key_order_init(&k, "t", 0);
	assert_int_equal(fin_key_order_next(&k, "a.csv", 2, a, strlen(a), &err), FIN_OK);
	assert_int_equal(fin_key_order_next(&k, "a.csv", 3, b, strlen(b), &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "'1999999999999999999999999999999999999999...' comes before "
					"'9999999999999999999999999999999999999999...' on line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates_and_date_times),
		cmocka_unit_test(test_not_dates),
		cmocka_unit_test(test_increasing_keys_pass),
		cmocka_unit_test(test_the_first_step_back_is_named),
		cmocka_unit_test(test_equal_keys_refused_only_when_strict),
		cmocka_unit_test(test_keys_without_an_order),
		cmocka_unit_test(test_the_order_runs_on_across_files),
		cmocka_unit_test(test_long_keys_are_cut_in_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
