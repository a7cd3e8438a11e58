/* The CSV layer: quoting, BOM, line ends, ragged rows, line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/csv_reader.h"

/* A reader over the bytes s[0..n), through a temporary file. */
static fin_csv *reader_over(const char *s, size_t n, int no_header, unsigned char delim)
{
	FILE *f = tmpfile();
	fin_csv_opts o = { .delim = delim, .no_header = no_header };

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, n, f), n);
	fflush(f);
	/* The descriptor outlives the FILE: dup it before closing. */
	int fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fin_csv_open(fd, "t.csv", &o);
}

static fin_csv *reader(const char *s)
{
	return reader_over(s, strlen(s), 0, 0);
}

static void expect_row(fin_csv *r, long line, size_t n, const char *const *fields)
{
	fin_row *row;
	fin_err err = { 0 };
	size_t i;

	assert_int_equal(fin_csv_next(r, &row, &err), 1);
	assert_int_equal(row->line, line);
	assert_int_equal(row->n, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(row->fields[i], fields[i]);
		assert_int_equal(row->lens[i], strlen(fields[i]));
	}
}

static void expect_end(fin_csv *r)
{
	fin_row *row;
	fin_err err = { 0 };
	assert_int_equal(fin_csv_next(r, &row, &err), 0);
}

static void expect_header(fin_csv *r, size_t n, const char *const *want)
{
	char **names;
	size_t got, i;
	fin_err err = { 0 };

	assert_int_equal(fin_csv_header(r, &names, &got, &err), FIN_OK);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
}

static void test_plain(void **state)
{
	(void)state;
	fin_csv *r = reader("a,b\n1,2\n3,4\n");
	expect_header(r, 2, (const char *[]){ "a", "b" });
	expect_row(r, 2, 2, (const char *[]){ "1", "2" });
	expect_row(r, 3, 2, (const char *[]){ "3", "4" });
	expect_end(r);
	fin_csv_close(r);
}

static void test_quoting(void **state)
{
	(void)state;
	/* RFC 4180: quoted delimiters, doubled quotes, line breaks in a field;
	 * the row after a two-line field starts two lines later. */
	fin_csv *r = reader("\"k\",\"v\"\n\"x,y\",\"say \"\"hi\"\"\"\n\"two\nlines\",3\nz,4\n");
	expect_header(r, 2, (const char *[]){ "k", "v" });
	expect_row(r, 2, 2, (const char *[]){ "x,y", "say \"hi\"" });
	expect_row(r, 3, 2, (const char *[]){ "two\nlines", "3" });
	expect_row(r, 5, 2, (const char *[]){ "z", "4" });
	expect_end(r);
	fin_csv_close(r);
}

static void test_blanks_kept(void **state)
{
	(void)state;
	fin_csv *r = reader("k,v\n a , 1\n");
	expect_header(r, 2, (const char *[]){ "k", "v" });
	expect_row(r, 2, 2, (const char *[]){ " a ", " 1" });
	fin_csv_close(r);
}

static void test_bom_crlf(void **state)
{
	(void)state;
	fin_csv *r = reader("\xEF\xBB\xBF" "date,close\r\n2020-01-02,1.5\r\n\r\n2020-01-03,2\r\n");
	expect_header(r, 2, (const char *[]){ "date", "close" });
	expect_row(r, 2, 2, (const char *[]){ "2020-01-02", "1.5" });
	/* the blank line 3 is skipped, but counted */
	expect_row(r, 4, 2, (const char *[]){ "2020-01-03", "2" });
	expect_end(r);
	fin_csv_close(r);
}

static void test_lone_cr(void **state)
{
	(void)state;
	fin_csv *r = reader("a\r1\r2");
	expect_header(r, 1, (const char *[]){ "a" });
	expect_row(r, 2, 1, (const char *[]){ "1" });
	expect_row(r, 3, 1, (const char *[]){ "2" });
	expect_end(r);
	fin_csv_close(r);
}

static void test_no_header_and_delimiter(void **state)
{
	(void)state;
	const char *s = "1;2;3\n4;5;6\n";
	fin_csv *r = reader_over(s, strlen(s), 1, ';');
	expect_header(r, 3, (const char *[]){ "1", "2", "3" });
	expect_row(r, 1, 3, (const char *[]){ "1", "2", "3" });
	expect_row(r, 2, 3, (const char *[]){ "4", "5", "6" });
	expect_end(r);
	fin_csv_close(r);
}

static void expect_error(const char *input, int code, const char *msg)
{
	fin_csv *r = reader(input);
	char **names;
	size_t n;
	fin_row *row;
	fin_err err = { 0 };
	int got;

	assert_int_equal(fin_csv_header(r, &names, &n, &err), FIN_OK);
	while ((got = fin_csv_next(r, &row, &err)) > 0)
		;
	assert_int_equal(-got, code);
	assert_string_equal(err.msg, msg);
	fin_csv_close(r);
}

static void test_ragged(void **state)
{
	(void)state;
	expect_error("a,b\n1,2\n3\n", FIN_EDATA, "t.csv:3: expected 2 fields, found 1");
	expect_error("a,b\n1,2,3\n", FIN_EDATA, "t.csv:2: expected 2 fields, found 3");
}

static void test_bad_quotes(void **state)
{
	(void)state;
	expect_error("a,b\n1,\"2\n", FIN_EDATA, "t.csv:2: unterminated quoted field");
	expect_error("a,b\n1,2\n3,a\"b\n", FIN_EDATA, "t.csv:3: malformed quoted field");
	expect_error("a,b\n1,\"2\"x\n", FIN_EDATA, "t.csv:2: malformed quoted field");
}

static void test_empty_input(void **state)
{
	(void)state;
	fin_csv *r = reader("");
	char **names;
	size_t n;
	fin_err err = { 0 };

	assert_int_equal(fin_csv_header(r, &names, &n, &err), FIN_ENOROWS);
	fin_csv_close(r);
}

static void test_header_only(void **state)
{
	(void)state;
	fin_csv *r = reader("a,b\r\n");
	expect_header(r, 2, (const char *[]){ "a", "b" });
	expect_end(r);
	fin_csv_close(r);
}

/* Rows far longer than one read buffer, and many rows across buffers. */
static void test_long_input(void **state)
{
	(void)state;
	enum { FIELD = 200000, ROWS = 20000 };
	size_t cap = FIELD + 64 + ROWS * 16, n = 0, i;
	char *s = malloc(cap), *big = malloc(FIELD + 1);
	fin_csv *r;
	fin_row *row;
	fin_err err = { 0 };

	assert_non_null(s);
	assert_non_null(big);
	memset(big, 'x', FIELD);
	big[FIELD] = '\0';
	n += (size_t)sprintf(s + n, "k,v\n%s,1\n", big);
	for (i = 0; i < ROWS; i++)
		n += (size_t)sprintf(s + n, "%zu,%zu\r\n", i, i * 2);
	r = reader_over(s, n, 0, 0);
	expect_header(r, 2, (const char *[]){ "k", "v" });
	expect_row(r, 2, 2, (const char *[]){ big, "1" });
	for (i = 0; i < ROWS; i++) {
		char a[24], b[24];
		assert_int_equal(fin_csv_next(r, &row, &err), 1);
		snprintf(a, sizeof a, "%zu", i);
		snprintf(b, sizeof b, "%zu", i * 2);
		assert_string_equal(row->fields[0], a);
		assert_string_equal(row->fields[1], b);
		assert_int_equal(row->line, (long)i + 3);
	}
	expect_end(r);
	fin_csv_close(r);
	free(s);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_blanks_kept),
		cmocka_unit_test(test_bom_crlf),
		cmocka_unit_test(test_lone_cr),
		cmocka_unit_test(test_no_header_and_delimiter),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_bad_quotes),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_long_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
