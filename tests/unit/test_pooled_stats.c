/* Pooled statistics against the statistics of all the rows at once,
 * computed here in long double by the textbook two passes: slices of a
 * table pooled in any grouping give the whole table's means and sums of
 * squared deviations; labels counted and ordered as a model orders them;
 * refusals of what does not pool; the pooled scaler in a model; the file
 * read back exactly, and refused when its counts do not add up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/table.h"
#include "nn/model.h"
#include "privacy/pooled_stats.h"
#include "xorshift.h"

#define ROWS 101
#define NFEAT 3

static char *names[NFEAT] = { "amount", "rate", "age" };
static float x[ROWS * NFEAT];
static double y[ROWS];
static char *labels[ROWS];

/* Features at very different scales and offsets (an amount near 1e5 that
 * varies by units, a rate near 0), where a one-pass sum of squares loses
 * its digits; a regression target; labels of numeric text. */
static int setup(void **state)
{
	static char *const classes[] = { "10", "9", "2" };
	size_t i;

	(void)state;
	for (i = 0; i < ROWS; i++) {
		x[i * NFEAT] = (float)(1e5 + 10 * uniform());
		x[i * NFEAT + 1] = (float)(0.03 + 0.001 * uniform());
		x[i * NFEAT + 2] = (float)(18 + (double)(i % 50));
		y[i] = 250 + uniform();
		labels[i] = classes[(i * 7) % 3];
	}
	return 0;
}

/* A view of rows [from, to) of the data as a table. */
static fin_table view(size_t from, size_t to)
{
	fin_table t;

	memset(&t, 0, sizeof t);
	t.rows = to - from;
	t.nfeat = NFEAT;
	t.feat = names;
	t.in_c = NFEAT;
	t.in_t = 1;
	t.x = x + from * NFEAT;
	t.y = y + from;
	t.ylabel = labels + from;
	t.y_numeric = 1;
	return t;
}

/* The mean and sum of squared deviations of n values, two passes in long
 * double. */
static void direct(const float *xs, const double *ys, size_t stride, size_t n, double *mean,
		   double *m2)
{
	long double sum = 0, sq = 0, mu;
	size_t i;

	for (i = 0; i < n; i++)
		sum += xs ? (long double)xs[i * stride] : (long double)ys[i];
	mu = sum / n;
	for (i = 0; i < n; i++) {
		long double d = (xs ? (long double)xs[i * stride] : (long double)ys[i]) - mu;
		sq += d * d;
	}
	*mean = (double)mu;
	*m2 = (double)sq;
}

static void assert_rel(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want))) {
		print_error("got %.17g, want %.17g\n", got, want);
		fail();
	}
}

static void stats_of(size_t from, size_t to, enum fin_task task, fin_stats *s)
{
	fin_table t = view(from, to);
	fin_err err = { 0 };

	assert_int_equal(fin_stats_from_table(&t, t.rows, task, "y", s, &err), FIN_OK);
}

static void assert_whole_table(const fin_stats *s)
{
	double mean, m2;
	size_t j;

	assert_int_equal(s->rows, ROWS);
	for (j = 0; j < NFEAT; j++) {
		direct(x + j, NULL, NFEAT, ROWS, &mean, &m2);
		assert_rel(s->mean[j], mean, 1e-14);
		assert_rel(s->m2[j], m2, 1e-12);
	}
}

static void test_pooled_equals_whole(void **state)
{
	static const size_t cuts[][3] = { { 1, 2, 100 }, { 30, 70, 100 }, { 50, 51, 52 } };
	fin_stats acc, s;
	fin_err err = { 0 };
	double mean, m2;
	size_t c, k;

	(void)state;
	for (c = 0; c < sizeof cuts / sizeof *cuts; c++) {
		size_t from[] = { 0, cuts[c][0], cuts[c][1], cuts[c][2] };
		size_t to[] = { cuts[c][0], cuts[c][1], cuts[c][2], ROWS };
		stats_of(from[0], to[0], FIN_TASK_REGRESSION, &acc);
		for (k = 1; k < 4; k++) {
			stats_of(from[k], to[k], FIN_TASK_REGRESSION, &s);
			assert_int_equal(fin_stats_combine(&acc, "a", &s, "b", &err), FIN_OK);
			fin_stats_free(&s);
		}
		assert_whole_table(&acc);
		assert_int_equal(acc.parties, 4);
		direct(NULL, y, 1, ROWS, &mean, &m2);
		assert_rel(acc.y_mean, mean, 1e-14);
		assert_rel(acc.y_m2, m2, 1e-12);
		fin_stats_free(&acc);
	}
	/* One table at once gives the same, to rounding. */
	stats_of(0, ROWS, FIN_TASK_REGRESSION, &acc);
	assert_whole_table(&acc);
	assert_int_equal(acc.parties, 1);
	fin_stats_free(&acc);
}

static void test_labels(void **state)
{
	static char *text[] = { "Good", "Bad", "Good", "Good" };
	static char *other[] = { "1", "x" };
	fin_stats acc, s;
	fin_table t;
	fin_err err = { 0 };
	size_t k, count[3] = { 0 };

	(void)state;
	/* Numbers in numeric order, as fin_model_setup orders labels. */
	stats_of(0, 40, FIN_TASK_MULTICLASS, &acc);
	stats_of(40, ROWS, FIN_TASK_MULTICLASS, &s);
	assert_int_equal(fin_stats_combine(&acc, "a", &s, "b", &err), FIN_OK);
	fin_stats_free(&s);
	for (k = 0; k < ROWS; k++)
		count[strcmp(labels[k], "2") == 0 ? 0 : strcmp(labels[k], "9") == 0 ? 1 : 2]++;
	assert_int_equal(acc.nlabels, 3);
	assert_string_equal(acc.labels[0], "2");
	assert_string_equal(acc.labels[1], "9");
	assert_string_equal(acc.labels[2], "10");
	for (k = 0; k < 3; k++)
		assert_int_equal(acc.count[k], count[k]);
	/* A label that is no number makes the order bytes: "1" < "10" < "2" < "9" < "x". */
	t = view(0, 2);
	t.ylabel = other;
	t.y_numeric = 0;
	assert_int_equal(fin_stats_from_table(&t, 2, FIN_TASK_MULTICLASS, "y", &s, &err), FIN_OK);
	assert_int_equal(fin_stats_combine(&acc, "a", &s, "b", &err), FIN_OK);
	fin_stats_free(&s);
	assert_int_equal(acc.nlabels, 5);
	assert_string_equal(acc.labels[0], "1");
	assert_string_equal(acc.labels[1], "10");
	assert_string_equal(acc.labels[2], "2");
	assert_string_equal(acc.labels[3], "9");
	assert_string_equal(acc.labels[4], "x");
	assert_int_equal(acc.count[0], 1);
	assert_int_equal(acc.count[1], count[2]);
	fin_stats_free(&acc);
	/* Text. */
	t = view(0, 4);
	t.ylabel = text;
	t.y_numeric = 0;
	assert_int_equal(fin_stats_from_table(&t, 4, FIN_TASK_BINARY, "Class", &s, &err), FIN_OK);
	assert_int_equal(s.nlabels, 2);
	assert_string_equal(s.labels[0], "Bad");
	assert_int_equal(s.count[0], 1);
	assert_string_equal(s.labels[1], "Good");
	assert_int_equal(s.count[1], 3);
	fin_stats_free(&s);
}

static void test_refusals(void **state)
{
	static char *renamed[NFEAT] = { "amount", "rates", "age" };
	static char *band[] = { "band" };
	fin_category cat = { 0 };
	fin_category *cats[] = { &cat };
	fin_stats acc, s;
	fin_table t;
	fin_err err = { 0 };

	(void)state;
	stats_of(0, 50, FIN_TASK_REGRESSION, &acc);
	t = view(50, ROWS);
	t.feat = renamed;
	assert_int_equal(fin_stats_from_table(&t, t.rows, FIN_TASK_REGRESSION, "y", &s, &err), FIN_OK);
	assert_int_equal(fin_stats_combine(&acc, "a.json", &s, "b.json", &err), FIN_EMODEL);
	assert_string_equal(err.msg, "b.json: feature 2 is 'rates', but 'rate' in a.json");
	fin_stats_free(&s);
	/* acc is as it was */
	assert_int_equal(acc.rows, 50);
	assert_int_equal(acc.parties, 1);

	stats_of(50, ROWS, FIN_TASK_AUTOENCODER, &s);
	assert_int_equal(fin_stats_combine(&acc, "a.json", &s, "b.json", &err), FIN_EMODEL);
	assert_string_equal(err.msg, "b.json: task autoencoder, but regression in a.json");
	fin_stats_free(&s);

	t = view(50, ROWS);
	assert_int_equal(fin_stats_from_table(&t, t.rows, FIN_TASK_REGRESSION, "z", &s, &err), FIN_OK);
	assert_int_equal(fin_stats_combine(&acc, "a.json", &s, "b.json", &err), FIN_EMODEL);
	assert_string_equal(err.msg, "b.json: target 'z', but 'y' in a.json");
	fin_stats_free(&s);
	fin_stats_free(&acc);

	/* Text columns: their levels would be one party's. */
	t = view(0, ROWS);
	t.enc.ncols = 1;
	t.enc.cols = band;
	t.enc.cat = cats;
	assert_int_equal(fin_stats_from_table(&t, t.rows, FIN_TASK_REGRESSION, "y", &s, &err),
			 FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "column 'band' is text"));
	t = view(0, ROWS);
	assert_int_equal(fin_stats_from_table(&t, 0, FIN_TASK_REGRESSION, "y", &s, &err), FIN_ENOROWS);
	assert_int_equal(fin_stats_from_table(&t, ROWS, FIN_TASK_GAN, NULL, &s, &err), FIN_EUSAGE);
}

/* The pooled scaler in a model set up on the first slice: the whole
 * table's, as fin_model_setup would fit it on every row. */
static void test_apply(void **state)
{
	fin_stats acc, s;
	fin_table first = view(0, 30), whole = view(0, ROWS);
	fin_model m = { 0 }, want = { 0 };
	fin_err err = { 0 };
	size_t j;

	(void)state;
	stats_of(0, 30, FIN_TASK_REGRESSION, &acc);
	stats_of(30, ROWS, FIN_TASK_REGRESSION, &s);
	assert_int_equal(fin_stats_combine(&acc, "a", &s, "b", &err), FIN_OK);
	fin_stats_free(&s);
	assert_int_equal(fin_model_setup(&m, &first, 30, FIN_TASK_REGRESSION, NULL, 0, "y", &err),
			 FIN_OK);
	assert_int_equal(fin_model_setup(&want, &whole, ROWS, FIN_TASK_REGRESSION, NULL, 0, "y", &err),
			 FIN_OK);
	assert_int_equal(fin_stats_apply(&acc, &m, &err), FIN_OK);
	for (j = 0; j < NFEAT; j++) {
		assert_true(m.sd[j] == sqrt(acc.m2[j] / (ROWS - 1)));
		assert_rel(m.mean[j], want.mean[j], 1e-14);
		assert_rel(m.sd[j], want.sd[j], 1e-10);
	}
	assert_rel(m.y_mean, want.y_mean, 1e-14);
	assert_rel(m.y_sd, want.y_sd, 1e-10);
	fin_model_free(&m);
	fin_model_free(&want);
	fin_stats_free(&acc);

	/* Three labels pooled do not make a binary model. */
	stats_of(0, ROWS, FIN_TASK_BINARY, &acc);
	first = view(0, 2); /* labels "10" and "9" */
	assert_int_equal(fin_model_setup(&m, &first, 2, FIN_TASK_BINARY, NULL, 0, "y", &err), FIN_OK);
	assert_int_equal(fin_stats_apply(&acc, &m, &err), FIN_EDATA);
	assert_int_equal(m.nlabels, 2);
	fin_model_free(&m);
	fin_stats_free(&acc);

	/* Labels replaced, in order. */
	stats_of(0, ROWS, FIN_TASK_MULTICLASS, &acc);
	first = view(0, 3);
	assert_int_equal(fin_model_setup(&m, &first, 3, FIN_TASK_MULTICLASS, NULL, 0, "y", &err),
			 FIN_OK);
	assert_int_equal(fin_stats_apply(&acc, &m, &err), FIN_OK);
	assert_int_equal(m.nlabels, 3);
	assert_string_equal(m.labels[0], "2");
	assert_string_equal(m.labels[2], "10");
	fin_model_free(&m);

	/* Another model's features are refused. */
	first = view(0, ROWS);
	first.nfeat = 2;
	assert_int_equal(fin_model_setup(&m, &first, ROWS, FIN_TASK_MULTICLASS, NULL, 0, "y", &err),
			 FIN_OK);
	assert_int_equal(fin_stats_apply(&acc, &m, &err), FIN_EMODEL);
	assert_string_equal(err.msg, "the model: 2 features, but 3 in the statistics");
	fin_model_free(&m);
	fin_stats_free(&acc);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_file_round_trip(void **state)
{
	char path[] = "/tmp/fin-stats-test-XXXXXX";
	fin_stats s, back;
	fin_err err = { 0 };
	cJSON *o;
	char *text;
	size_t j;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	stats_of(0, ROWS, FIN_TASK_MULTICLASS, &s);
	o = fin_stats_to_json(&s);
	assert_non_null(o);
	text = cJSON_PrintUnformatted(o);
	write_text(path, text);
	free(text);
	cJSON_Delete(o);
	assert_int_equal(fin_stats_load(&back, path, &err), FIN_OK);
	assert_int_equal(back.task, FIN_TASK_MULTICLASS);
	assert_string_equal(back.target, "y");
	assert_int_equal(back.rows, ROWS);
	assert_int_equal(back.parties, 1);
	for (j = 0; j < NFEAT; j++) {
		assert_string_equal(back.feat[j], names[j]);
		assert_true(back.mean[j] == s.mean[j]);
		assert_true(back.m2[j] == s.m2[j]);
	}
	assert_int_equal(back.nlabels, 3);
	for (j = 0; j < 3; j++) {
		assert_string_equal(back.labels[j], s.labels[j]);
		assert_int_equal(back.count[j], s.count[j]);
	}
	fin_stats_free(&back);
	fin_stats_free(&s);

	write_text(path, "{\"format\":\"fin-stats\",\"schema_version\":1,\"task\":\"binary\","
			 "\"target\":\"c\",\"features\":[\"a\"],\"rows\":3,\"mean\":[1],\"m2\":[2],"
			 "\"labels\":{\"x\":1,\"y\":1},\"parties\":1}");
	assert_int_equal(fin_stats_load(&back, path, &err), FIN_EMODEL);
	assert_non_null(strstr(err.msg, "do not sum to rows"));
	write_text(path, "{\"format\":\"fin-stats\",\"schema_version\":1,\"task\":\"regression\","
			 "\"target\":\"c\",\"features\":[\"a\"],\"rows\":3,\"mean\":[1],\"m2\":[-2],"
			 "\"target_mean\":0,\"target_m2\":1,\"parties\":1}");
	assert_int_equal(fin_stats_load(&back, path, &err), FIN_EMODEL);
	assert_non_null(strstr(err.msg, "m2"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pooled_equals_whole),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_file_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
