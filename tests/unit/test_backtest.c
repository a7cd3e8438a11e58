/* Walk-forward folds against folds listed by hand, and the rows a fold
 * writes for the tools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/command.h"
#include "eval/backtest.h"

/* Each fold as { train_from, train_to, test_from, test_to }. */
static void expect_folds(size_t train, size_t test, size_t step, size_t gap, int rolling,
			 size_t rows, const fin_fold *want, size_t nwant)
{
	fin_fold_spec s = { .train_size = train, .test_size = test, .step = step, .gap = gap,
			    .rolling = rolling };
	fin_fold *f;
	fin_err err = { 0 };
	size_t n, k;

	assert_int_equal(fin_folds_plan(&s, rows, &f, &n, &err), FIN_OK);
	assert_int_equal(n, nwant);
	for (k = 0; k < n; k++) {
		assert_int_equal(f[k].train_from, want[k].train_from);
		assert_int_equal(f[k].train_to, want[k].train_to);
		assert_int_equal(f[k].test_from, want[k].test_from);
		assert_int_equal(f[k].test_to, want[k].test_to);
	}
	free(f);
}

#define EXPECT_GAP(train, test, step, gap, rolling, rows, ...)                              \
	do {                                                                                 \
		static const fin_fold w_[] = { __VA_ARGS__ };                                \
		expect_folds(train, test, step, gap, rolling, rows, w_, sizeof w_ / sizeof *w_); \
	} while (0)
#define EXPECT(train, test, step, rolling, rows, ...) \
	EXPECT_GAP(train, test, step, 0, rolling, rows, __VA_ARGS__)

static void test_expanding(void **state)
{
	(void)state;
	/* 10 rows, train 4, test 2: test blocks tile rows 4..9. */
	EXPECT(4, 2, 2, 0, 10, { 0, 4, 4, 6 }, { 0, 6, 6, 8 }, { 0, 8, 8, 10 });
	/* The last block takes what is left. */
	EXPECT(4, 3, 3, 0, 10, { 0, 4, 4, 7 }, { 0, 7, 7, 10 });
	EXPECT(4, 4, 4, 0, 10, { 0, 4, 4, 8 }, { 0, 8, 8, 10 });
	/* One row left to test is still a fold. */
	EXPECT(4, 5, 5, 0, 10, { 0, 4, 4, 9 }, { 0, 9, 9, 10 });
	EXPECT(9, 5, 5, 0, 10, { 0, 9, 9, 10 });
	EXPECT(1, 1, 1, 0, 3, { 0, 1, 1, 2 }, { 0, 2, 2, 3 });
}

static void test_rolling(void **state)
{
	(void)state;
	EXPECT(4, 2, 2, 1, 10, { 0, 4, 4, 6 }, { 2, 6, 6, 8 }, { 4, 8, 8, 10 });
	EXPECT(4, 3, 3, 1, 10, { 0, 4, 4, 7 }, { 3, 7, 7, 10 });
	EXPECT(3, 4, 4, 1, 12, { 0, 3, 3, 7 }, { 4, 7, 7, 11 }, { 8, 11, 11, 12 });
}

static void test_step(void **state)
{
	(void)state;
	/* A step longer than the block leaves rows untested. */
	EXPECT(4, 2, 3, 0, 10, { 0, 4, 4, 6 }, { 0, 7, 7, 9 });
	EXPECT(4, 2, 3, 0, 11, { 0, 4, 4, 6 }, { 0, 7, 7, 9 }, { 0, 10, 10, 11 });
	/* A shorter one makes blocks overlap: the model is refitted more often. */
	EXPECT(4, 3, 2, 1, 9, { 0, 4, 4, 7 }, { 2, 6, 6, 9 }, { 4, 8, 8, 9 });
}

static void test_gap(void **state)
{
	(void)state;
	/* 12 rows, train 4, gap 2, test 3: tests on 6-8 and 9-11; training
	 * ends 2 rows before each block (rows 4-5 and 7-8 sit out). */
	EXPECT_GAP(4, 3, 3, 2, 0, 12, { 0, 4, 6, 9 }, { 0, 7, 9, 12 });
	EXPECT_GAP(4, 3, 3, 2, 1, 12, { 0, 4, 6, 9 }, { 3, 7, 9, 12 });
	/* The gap takes rows from the test side: 7 rows leave one to test. */
	EXPECT_GAP(4, 3, 3, 2, 0, 7, { 0, 4, 6, 7 });
}

static void test_too_few_rows(void **state)
{
	fin_fold_spec s = { .train_size = 10, .test_size = 5, .step = 5 };
	fin_fold dummy, *f = &dummy;
	fin_err err = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(fin_folds_plan(&s, 10, &f, &n, &err), FIN_ENOROWS);
	assert_string_equal(err.msg,
			    "10 rows: --train-size 10 leaves no row to test (at least 11 needed)");
	assert_null(f);
	assert_int_equal(n, 0);
	assert_int_equal(fin_folds_plan(&s, 0, &f, &n, &err), FIN_ENOROWS);
	s.gap = 2;
	assert_int_equal(fin_folds_plan(&s, 12, &f, &n, &err), FIN_ENOROWS);
	assert_string_equal(err.msg, "12 rows: --train-size 10 and --gap 2 leave no row to test "
			    "(at least 13 needed)");
	s.gap = 0;
	s.test_size = 0;
	assert_int_equal(fin_folds_plan(&s, 100, &f, &n, &err), FIN_EUSAGE);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(s);
	assert_true(fread(s, 1, 4095, f) < 4095);
	fclose(f);
	return s;
}

static fin_input *open_text(const char *path, const char *text, const fin_csv_opts *opts)
{
	FILE *f = fopen(path, "wb");
	char *paths[] = { (char *)path };
	fin_err err = { 0 };
	fin_input *in;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	in = fin_input_open(paths, 1, opts, &err);
	assert_non_null(in);
	return in;
}

/* Fields come back quoted where CSV needs it, whatever the input's
 * delimiter was; the header is written even for an empty range. */
static void test_rowset_write(void **state)
{
	char dir[4096], in_path[4200], out_path[4200], *got;
	fin_csv_opts opts = { .delim = ';' };
	fin_rowset r = { 0 };
	fin_err err = { 0 };
	fin_input *in;

	(void)state;
	assert_int_equal(fin_tempdir_make(dir, sizeof dir, "test-backtest", &err), FIN_OK);
	snprintf(in_path, sizeof in_path, "%s/in.csv", dir);
	snprintf(out_path, sizeof out_path, "%s/out.csv", dir);
	in = open_text(in_path, "day;\"a,b\";y\n1;\"x \"\"q\"\"\";0.5\n2,5;\"two\nlines\";-1\n3;z;2\n", &opts);
	assert_int_equal(fin_rowset_read(&r, in, &err), FIN_OK);
	fin_input_close(in);
	assert_int_equal(r.rows, 3);
	assert_string_equal(fin_rowset_field(&r, 1, 0), "2,5");
	assert_string_equal(fin_rowset_field(&r, 1, 1), "two\nlines");
	assert_string_equal(fin_rowset_field(&r, 2, 2), "2");

	assert_int_equal(fin_rowset_write(&r, 0, 2, out_path, &err), FIN_OK);
	got = slurp(out_path);
	assert_string_equal(got, "day,\"a,b\",y\n1,\"x \"\"q\"\"\",0.5\n\"2,5\",\"two\nlines\",-1\n");
	free(got);
	assert_int_equal(fin_rowset_write(&r, 2, 2, out_path, &err), FIN_OK);
	got = slurp(out_path);
	assert_string_equal(got, "day,\"a,b\",y\n");
	free(got);
	fin_rowset_free(&r);
	fin_tempdir_remove(dir);
	assert_int_equal(access(dir, F_OK), -1);
}

/* A second input must have the first one's columns. */
static void test_rowset_append(void **state)
{
	char dir[4096], path[4200];
	fin_csv_opts opts = { 0 };
	fin_rowset r = { 0 };
	fin_err err = { 0 };
	fin_input *in;

	(void)state;
	assert_int_equal(fin_tempdir_make(dir, sizeof dir, "test-backtest", &err), FIN_OK);
	snprintf(path, sizeof path, "%s/a.csv", dir);
	in = open_text(path, "t,y\n1,2\n", &opts);
	assert_int_equal(fin_rowset_read(&r, in, &err), FIN_OK);
	fin_input_close(in);
	in = open_text(path, "t,y\n3,4\n5,6\n", &opts);
	assert_int_equal(fin_rowset_read(&r, in, &err), FIN_OK);
	fin_input_close(in);
	assert_int_equal(r.rows, 3);
	assert_string_equal(fin_rowset_field(&r, 2, 1), "6");
	in = open_text(path, "t,x\n7,8\n", &opts);
	assert_int_equal(fin_rowset_read(&r, in, &err), FIN_EDATA);
	assert_string_equal(err.msg, "column 2 is 'x' where the earlier rows have 'y'");
	fin_input_close(in);
	fin_rowset_free(&r);
	fin_tempdir_remove(dir);
}

/* Sample sd (divisor n - 1), missing values left out. */
static void test_rowset_sd(void **state)
{
	char dir[4096], path[4200], want[4300];
	fin_csv_opts opts = { 0 };
	fin_rowset r = { 0 };
	fin_err err = { 0 };
	fin_input *in;
	double sd;

	(void)state;
	assert_int_equal(fin_tempdir_make(dir, sizeof dir, "test-backtest", &err), FIN_OK);
	snprintf(path, sizeof path, "%s/a.csv", dir);
	in = open_text(path, "y\n1\nNA\n2\n4\nnull\nabc\n", &opts);
	assert_int_equal(fin_rowset_read(&r, in, &err), FIN_OK);
	fin_input_close(in);
	/* 1, 2, 4: mean 7/3, squares 16/9 + 1/9 + 25/9 = 42/9, over 2. */
	assert_int_equal(fin_rowset_sd(&r, 0, 0, 5, &sd, &err), FIN_OK);
	assert_true(fabs(sd - sqrt(7.0 / 3.0)) < 1e-15);
	assert_int_equal(fin_rowset_sd(&r, 0, 0, 2, &sd, &err), FIN_OK);
	assert_true(isnan(sd));
	assert_int_equal(fin_rowset_sd(&r, 0, 0, 6, &sd, &err), FIN_EDATA);
	snprintf(want, sizeof want, "%s:7: column 'y': not a number: 'abc'", path);
	assert_string_equal(err.msg, want);
	fin_rowset_free(&r);
	fin_tempdir_remove(dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The rows of a.csv (a quoted field over two lines, with CRLF, then a lone
 * CR) and b.csv, read as one input. */
static void read_two_files(const char *dir, char *a, char *b, size_t size, fin_rowset *r)
{
	char *paths[2] = { a, b };
	fin_csv_opts opts = { 0 };
	fin_err err = { 0 };
	fin_input *in;

	snprintf(a, size, "%s/a.csv", dir);
	snprintf(b, size, "%s/b.csv", dir);
	write_text(a, "t,x\n1,\"two\r\nlines\"\n2,b\n3,\"c\rd\"\n");
	write_text(b, "t,x\n4,e\n5,f\n");
	in = fin_input_open(paths, 2, &opts, &err);
	assert_non_null(in);
	assert_int_equal(fin_rowset_read(r, in, &err), FIN_OK);
	fin_input_close(in);
	assert_int_equal(r->rows, 5);
}

/* Every row knows its input and line, and how many lines it takes. */
static void test_rowset_sources(void **state)
{
	static const long lines[] = { 2, 4, 5, 2, 3 }, spans[] = { 2, 1, 2, 1, 1 };
	char dir[4096], a[4200], b[4200];
	fin_rowset r = { 0 };
	fin_err err = { 0 };
	size_t i;
	long line;

	(void)state;
	assert_int_equal(fin_tempdir_make(dir, sizeof dir, "test-backtest", &err), FIN_OK);
	read_two_files(dir, a, b, sizeof a, &r);
	for (i = 0; i < 5; i++) {
		assert_string_equal(fin_rowset_source_of(&r, i, &line), i < 3 ? a : b);
		assert_int_equal(line, lines[i]);
		assert_int_equal(fin_rowset_row_lines(&r, i), spans[i]);
	}
	fin_rowset_free(&r);
	fin_tempdir_remove(dir);
}

static void expect_rewrite(const fin_backtest *bt, const fin_fold *f, const char *msg,
			   const char *want)
{
	char out[2000];
	size_t n = fin_backtest_rewrite(bt, f, msg, strlen(msg), out, sizeof out);

	assert_int_equal(n, strlen(out));
	assert_string_equal(out, want);
}

/* A fold file's lines become the input's: the fold trains on rows 1-4
 * (train.csv: header, then lines 2-3, 4, 5-6 from a.csv, 7 from b.csv)
 * and tests on row 5 (test.csv line 2, b.csv line 3). */
static void test_rewrite_fold_lines(void **state)
{
	char dir[4096], a[4200], b[4200], msg[9000], want[9000];
	fin_backtest bt = { .dir = "/tmp/fin-backtest.AbC123" };
	fin_fold f = { .train_from = 0, .train_to = 4, .test_from = 4, .test_to = 5 };
	fin_rowset r = { 0 };
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_tempdir_make(dir, sizeof dir, "test-backtest", &err), FIN_OK);
	read_two_files(dir, a, b, sizeof a, &r);
	bt.rows = &r;

	expect_rewrite(&bt, &f, "fin-train: /tmp/fin-backtest.AbC123/train.csv:7: column 'x': bad",
		       (snprintf(want, sizeof want, "fin-train: %s:2: column 'x': bad", b), want));
	/* the second line of a row, in either file */
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/train.csv:3: x",
		       (snprintf(want, sizeof want, "%s:3: x", a), want));
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/train.csv:6:",
		       (snprintf(want, sizeof want, "%s:6:", a), want));
	expect_rewrite(&bt, &f, "fin-predict: /tmp/fin-backtest.AbC123/test.csv:2: column",
		       (snprintf(want, sizeof want, "fin-predict: %s:3: column", b), want));
	/* the header */
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/test.csv:1: x",
		       (snprintf(want, sizeof want, "%s:1: x", b), want));
	/* an earlier line of the same file, in the same input or another */
	expect_rewrite(&bt, &f,
		       "/tmp/fin-backtest.AbC123/train.csv:5: '0' comes before '1' on line 4: sort",
		       (snprintf(want, sizeof want, "%s:5: '0' comes before '1' on line 4: sort", a),
			want));
	expect_rewrite(&bt, &f,
		       "/tmp/fin-backtest.AbC123/train.csv:7: '0' comes before '1' on line 2: sort",
		       (snprintf(want, sizeof want, "%s:2: '0' comes before '1' on %s:2: sort", b, a),
			want));
	/* "on line" only after a line that was turned */
	expect_rewrite(&bt, &f, "nothing on line 2", "nothing on line 2");
	/* the other files, and lines past the rows */
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/model.json: unusable model file",
		       "the model the training command wrote: unusable model file");
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/predictions.csv:3: 2 fields",
		       "fin-predict's output, line 3: 2 fields");
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/train.csv:8: x",
		       "the fold's training rows, line 8: x");
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/test.csv: no input rows",
		       "the fold's test rows: no input rows");
	/* another directory, and a file of the directory fin does not write */
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC12/train.csv:2: x",
		       "/tmp/fin-backtest.AbC12/train.csv:2: x");
	expect_rewrite(&bt, &f, "/tmp/fin-backtest.AbC123/other.csv:2: x",
		       "/tmp/fin-backtest.AbC123/other.csv:2: x");
	/* a long line is cut, never overrun */
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	{
		char out[100];
		assert_int_equal(fin_backtest_rewrite(&bt, &f, msg, strlen(msg), out, sizeof out), 99);
		assert_int_equal(strlen(out), 99);
	}
	fin_rowset_free(&r);
	fin_tempdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expanding),
		cmocka_unit_test(test_rolling),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_too_few_rows),
		cmocka_unit_test(test_rowset_write),
		cmocka_unit_test(test_rowset_append),
		cmocka_unit_test(test_rowset_sd),
		cmocka_unit_test(test_rowset_sources),
		cmocka_unit_test(test_rewrite_fold_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
