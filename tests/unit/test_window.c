/* Windows by hand: transforms, normalisation, targets, stride, gaps. */
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

#include "features/window.h"

static void test_transforms(void **state)
{
	double z;
	(void)state;
	assert_int_equal(fin_transform_apply(FIN_TF_LEVEL, 100, 110, &z), FIN_OK);
	assert_true(z == 110);
	assert_int_equal(fin_transform_apply(FIN_TF_DIFF, 100, 110, &z), FIN_OK);
	assert_true(z == 10);
	assert_int_equal(fin_transform_apply(FIN_TF_RET, 100, 125, &z), FIN_OK);
	assert_true(z == 0.25);
	assert_int_equal(fin_transform_apply(FIN_TF_LOGRET, 100, 100 * M_E, &z), FIN_OK);
	assert_true(fabs(z - 1) < 1e-15);
	assert_int_equal(fin_transform_apply(FIN_TF_RET, 0, 1, &z), FIN_EDATA);
	assert_int_equal(fin_transform_apply(FIN_TF_LOGRET, 1, 0, &z), FIN_EDATA);
	assert_int_equal(fin_transform_apply(FIN_TF_LOGRET, -1, 2, &z), FIN_EDATA);
}

static void expect_values(const double *x, const double *want, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		assert_true(fabs(x[i] - want[i]) <= 1e-15);
}

static void test_normalize(void **state)
{
	double a[] = { 1, 2, 3 }, b[] = { 2, 4, 6 }, c[] = { 2, 4, 8 }, d[] = { 5, 5, 5 },
	       e[] = { 1, 0 }, f[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	(void)state;
	assert_int_equal(fin_normalize(FIN_NORM_ZSCORE, a, 3), FIN_OK);
	expect_values(a, (double[]){ -1, 0, 1 }, 3);
	/* mean 5, sample sd sqrt(32/7) */
	assert_int_equal(fin_normalize(FIN_NORM_ZSCORE, f, 8), FIN_OK);
	assert_true(fabs(f[0] - (2 - 5) / sqrt(32.0 / 7)) < 1e-15);
	assert_int_equal(fin_normalize(FIN_NORM_MINMAX, b, 3), FIN_OK);
	expect_values(b, (double[]){ 0, 0.5, 1 }, 3);
	assert_int_equal(fin_normalize(FIN_NORM_LAST, c, 3), FIN_OK);
	expect_values(c, (double[]){ 0.25, 0.5, 1 }, 3);
	assert_int_equal(fin_normalize(FIN_NORM_ZSCORE, d, 3), FIN_OK);
	expect_values(d, (double[]){ 0, 0, 0 }, 3);
	d[0] = d[1] = d[2] = 5;
	assert_int_equal(fin_normalize(FIN_NORM_MINMAX, d, 3), FIN_OK);
	expect_values(d, (double[]){ 0, 0, 0 }, 3);
	assert_int_equal(fin_normalize(FIN_NORM_LAST, e, 2), FIN_EDATA);
}

static void test_words(void **state)
{
	(void)state;
	assert_int_equal(fin_transform_parse("logret"), FIN_TF_LOGRET);
	assert_int_equal(fin_norm_parse("last"), FIN_NORM_LAST);
	assert_int_equal(fin_target_parse("direction"), FIN_TARGET_DIRECTION);
	assert_int_equal(fin_na_parse("ffill"), FIN_NA_FFILL);
	assert_int_equal(fin_transform_parse("log"), -1);
}

/* Runs the window engine over a CSV text with columns t,x (key t, channel
 * x) and compares what it writes with want. */
static void expect_windows(const char *csv, fin_window_opts o, int rc_want, const char *want)
{
	char path[] = "/tmp/fin-test-XXXXXX", *got;
	int fd = mkstemp(path), rc;
	FILE *out = tmpfile();
	char *paths[] = { path }, **names;
	size_t nnames, chan[] = { 1 }, key[] = { 0 }, len;
	fin_err err = { 0 };
	fin_window_stats st;
	fin_input *in;
	fin_out *o_ = malloc(sizeof *o_);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
	close(fd);
	in = fin_input_open(paths, 1, NULL, &err);
	assert_non_null(in);
	assert_int_equal(fin_input_header(in, &names, &nnames, &err), FIN_OK);
	fin_out_init(o_, fileno(out));
	rc = fin_window_run(in, names, chan, 1, key, 1, NULL, &o, o_, &st, &err);
	assert_int_equal(fin_out_finish(o_, "out", &err), FIN_OK);
	assert_int_equal(rc, rc_want);
	len = (size_t)ftell(out);
	got = calloc(len + 1, 1);
	rewind(out);
	assert_int_equal(fread(got, 1, len, out), len);
	assert_string_equal(got, want);
	free(got);
	free(o_);
	fclose(out);
	fin_input_close(in);
	unlink(path);
}

static const char series[] = "t,x\n1,10\n2,11\n3,13\n4,16\n";

static void test_level_next(void **state)
{
	(void)state;
	expect_windows(series, (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1 }, FIN_OK,
		       "t,x_1,x_0,y\n2,10,11,13\n3,11,13,16\n");
}

static void test_diff_and_target_none(void **state)
{
	(void)state;
	/* diffs: -, 1, 2, 3 */
	expect_windows(series,
		       (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1, .transform = FIN_TF_DIFF },
		       FIN_OK, "t,x_1,x_0,y\n3,1,2,3\n");
	expect_windows(series,
		       (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1, .transform = FIN_TF_DIFF,
					  .target = FIN_TARGET_NONE },
		       FIN_OK, "t,x_1,x_0\n3,1,2\n4,2,3\n");
}

static void test_sum_direction_stride(void **state)
{
	(void)state;
	expect_windows(series,
		       (fin_window_opts){ .size = 1, .horizon = 2, .stride = 1, .target = FIN_TARGET_SUM },
		       FIN_OK, "t,x_0,y\n1,10,24\n2,11,29\n");
	expect_windows("t,x\n1,10\n2,9\n3,9\n4,12\n",
		       (fin_window_opts){ .size = 1, .horizon = 1, .stride = 1, .transform = FIN_TF_DIFF,
					  .target = FIN_TARGET_DIRECTION },
		       FIN_OK, "t,x_0,y\n2,-1,0\n3,0,1\n");
	expect_windows(series, (fin_window_opts){ .size = 1, .horizon = 1, .stride = 2 }, FIN_OK,
		       "t,x_0,y\n1,10,11\n3,13,16\n");
}

static void test_gaps(void **state)
{
	const char *gappy = "t,x\n1,10\n2,11\n3,\n4,16\n5,17\n6,19\n";
	(void)state;
	/* skip: windows touching row 3 are left out */
	expect_windows(gappy,
		       (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1, .na = FIN_NA_SKIP },
		       FIN_OK, "t,x_1,x_0,y\n5,16,17,19\n");
	/* ffill: row 3 is 11 */
	expect_windows(gappy,
		       (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1, .na = FIN_NA_FFILL },
		       FIN_OK, "t,x_1,x_0,y\n2,10,11,11\n3,11,11,16\n4,11,16,17\n5,16,17,19\n");
	/* diff after a gap needs two present rows */
	expect_windows(gappy,
		       (fin_window_opts){ .size = 1, .horizon = 1, .stride = 1, .na = FIN_NA_SKIP,
					  .transform = FIN_TF_DIFF },
		       FIN_OK, "t,x_0,y\n5,1,2\n");
	/* error: stops at row 3, after the header and before any window */
	expect_windows(gappy, (fin_window_opts){ .size = 2, .horizon = 1, .stride = 1 }, FIN_EDATA,
		       "t,x_1,x_0,y\n");
}

static void test_too_few_rows(void **state)
{
	(void)state;
	expect_windows(series, (fin_window_opts){ .size = 4, .horizon = 1, .stride = 1 }, FIN_ENOROWS,
		       "t,x_3,x_2,x_1,x_0,y\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transforms),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_level_next),
		cmocka_unit_test(test_diff_and_target_none),
		cmocka_unit_test(test_sum_direction_stride),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_too_few_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
