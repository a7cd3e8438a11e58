/* Detectors fitted in passes over a file against the same detectors fitted
 * on the rows held in memory (fin_table_read, fin_detector_fit), on the
 * German credit data and on a table with text columns, a column that turns
 * to text late and missing values: the same columns, levels and features,
 * the same z-score medians and scales and the same forest bit for bit, the
 * same Mahalanobis mean and covariance to rounding, and the same threshold
 * where the detector is the same. Then the passes themselves: a named file
 * read again, standard input spooled, and a file that changed refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detector_stream.h"
#include "features/feature_pass.h"
#include "features/table.h"
#include "io/input.h"

static char mixed[] = "/tmp/fin-detector-stream-XXXXXX";

static int make_mixed(void **state)
{
	static const char *const venues[] = { "A", "B", "C", "D", "rare" };
	FILE *f;
	int fd = mkstemp(mixed), i;
	uint64_t r = 88172645463325252ULL;

	(void)state;
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fprintf(f, "price,qty,venue,late,flag\n");
	for (i = 0; i < 3000; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		/* qty missing now and then; 'late' holds numbers, then words */
		fprintf(f, "%.3f,%s,%s,%s,%d\n", 1e5 + (double)(r % 1000) / 1000,
			r % 37 == 0 ? "" : (char[]){ (char)('1' + r % 9), 0 },
			venues[r % 97 == 0 ? 4 : (r >> 8) % 4],
			i < 2000 ? "1" : (r >> 16) % 2 ? "x" : "y", (int)((r >> 20) % 2));
	}
	return fclose(f);
}

static int remove_mixed(void **state)
{
	(void)state;
	return unlink(mixed);
}

struct fit {
	fin_table t;
	fin_detector d;
};

static void fit_both(const char *path, const char *target, enum fin_na na, enum fin_method m,
		     struct fit *held, struct fit *passed)
{
	char *paths[] = { (char *)path };
	fin_table_spec spec = { .target = target, .na = na,
				.encode = { .min_count = 10, .max_levels = 100 } };
	fin_detector_opts o = { .method = m, .contamination = 0.05, .threshold = NAN,
				.shrinkage = NAN, .trees = 50, .sample = 128, .seed = 3 };
	fin_err err = { 0 };
	fin_input *in = fin_input_open(paths, 1, NULL, &err);
	fin_feature_pass p;
	struct fit *f[2] = { held, passed };
	int k;

	assert_non_null(in);
	for (k = 0; k < 2; k++) {
		fin_detector *d = &f[k]->d;
		fin_table *t = &f[k]->t;
		size_t j;
		if (k)
			assert_int_equal(fin_input_rewind(in, &err), FIN_OK);
		spec.scan = k;
		assert_int_equal(fin_table_read(t, in, &spec, &err), FIN_OK);
		assert_int_equal(fin_table_encode(t, t->rows, &err), FIN_OK);
		memset(d, 0, sizeof *d);
		d->nfeat = t->nfeat;
		d->feat = calloc(t->nfeat, sizeof *d->feat);
		for (j = 0; j < t->nfeat; j++)
			d->feat[j] = strdup(t->feat[j]);
		if (!k) {
			assert_int_equal(fin_detector_fit(d, t->x, t->rows, &o, &err), FIN_OK);
			continue;
		}
		assert_null(t->x);
		assert_int_equal(fin_feature_pass_init(&p, in, t->feat, t->nfeat, &t->enc, t->rows,
						       na, 256, &err), FIN_OK);
		if (fin_detector_fit_passes(d, &p, &o, &err) != FIN_OK)
			fail_msg("%s", err.msg);
		assert_true(p.passes >= 2);
		fin_feature_pass_free(&p);
	}
	fin_input_close(in);
}

static void free_fit(struct fit *f)
{
	fin_detector_free(&f->d);
	fin_table_free(&f->t);
}

static void same_table(const fin_table *a, const fin_table *b)
{
	size_t i;

	assert_int_equal(a->rows, b->rows);
	assert_int_equal(a->skipped, b->skipped);
	assert_int_equal(a->nfeat, b->nfeat);
	for (i = 0; i < a->nfeat; i++)
		assert_string_equal(a->feat[i], b->feat[i]);
	assert_int_equal(a->nnotes, b->nnotes);
	for (i = 0; i < a->nnotes; i++)
		assert_string_equal(a->notes[i], b->notes[i]);
}

static void check(const char *path, const char *target, enum fin_na na)
{
	struct fit a, b;
	size_t p, i;

	fit_both(path, target, na, FIN_DET_ZSCORE, &a, &b);
	same_table(&a.t, &b.t);
	p = a.d.nfeat;
	for (i = 0; i < p; i++) {
		assert_true(a.d.center[i] == b.d.center[i]);
		/* the sum of deviations adds in another order */
		assert_true(fabs(a.d.scale[i] - b.d.scale[i]) <= 1e-13 * a.d.scale[i]);
	}
	assert_true(fabs(a.d.threshold - b.d.threshold) <= 1e-12 * a.d.threshold);
	free_fit(&a);
	free_fit(&b);

	fit_both(path, target, na, FIN_DET_IFOREST, &a, &b);
	assert_int_equal(a.d.forest.nnodes, b.d.forest.nnodes);
	assert_memory_equal(a.d.forest.nodes, b.d.forest.nodes,
			    a.d.forest.nnodes * sizeof *a.d.forest.nodes);
	assert_true(a.d.threshold == b.d.threshold);
	free_fit(&a);
	free_fit(&b);

	fit_both(path, target, na, FIN_DET_MAHALANOBIS, &a, &b);
	for (i = 0; i < p; i++)
		assert_true(fabs(a.d.center[i] - b.d.center[i]) <= 1e-12 * (fabs(a.d.center[i]) + 1));
	for (i = 0; i < p * p; i++) {
		double scale = sqrt(a.d.cov[(i / p) * (p + 1)] * a.d.cov[(i % p) * (p + 1)]);
		assert_true(fabs(a.d.cov[i] - b.d.cov[i]) <= 1e-10 * scale);
	}
	assert_true(fabs(a.d.shrinkage - b.d.shrinkage) <= 1e-9 * a.d.shrinkage + 1e-15);
	/* The distances go through the inverse of a covariance that German
	 * credit's one-hot groups leave nearly singular: the sums' rounding
	 * differences (1e-10 above) grow to about 1e-7 of a distance on some
	 * BLAS kernels (Haswell's on two threads), a few float32 ulps. */
	assert_true(fabs(a.d.threshold - b.d.threshold) <= 1e-6 * a.d.threshold);
	free_fit(&a);
	free_fit(&b);
}

static void test_german_credit(void **state)
{
	(void)state;
	check("data/german_credit.csv", "Class", FIN_NA_ERROR);
}

static void test_text_and_gaps(void **state)
{
	(void)state;
	check(mixed, NULL, FIN_NA_SKIP);
	check(mixed, NULL, FIN_NA_FFILL);
}

static size_t count_rows(fin_input *in)
{
	fin_row *row;
	fin_err err = { 0 };
	size_t n = 0;

	while (fin_input_next(in, &row, &err) > 0)
		n++;
	return n;
}

static void test_rewind(void **state)
{
	char *paths[] = { mixed }, *std[] = { "-" };
	fin_err err = { 0 };
	fin_input *in = fin_input_open(paths, 1, NULL, &err);
	char **names;
	size_t n;
	int fd, saved;
	FILE *f;

	(void)state;
	assert_int_equal(fin_input_header(in, &names, &n, &err), FIN_OK);
	assert_int_equal(count_rows(in), 3000);
	assert_int_equal(fin_input_rewind(in, &err), FIN_OK);
	assert_int_equal(count_rows(in), 3000);
	assert_string_equal(names[2], "venue"); /* still valid */
	/* a row more: the file is not the one the first pass read */
	f = fopen(mixed, "a");
	fputs("1,2,A,x,0\n", f);
	fclose(f);
	assert_int_equal(fin_input_rewind(in, &err), FIN_EDATA);
	assert_non_null(strstr(err.msg, "changed since the first pass"));
	fin_input_close(in);

	/* standard input, spooled, read twice */
	saved = dup(STDIN_FILENO);
	fd = open(mixed, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	in = fin_input_open(std, 1, NULL, &err);
	assert_int_equal(fin_input_rewind(in, &err), FIN_EUSAGE);
	assert_int_equal(fin_input_spool(in, &err), FIN_OK);
	assert_int_equal(fin_input_header(in, &names, &n, &err), FIN_OK);
	assert_int_equal(count_rows(in), 3001);
	assert_int_equal(fin_input_rewind(in, &err), FIN_OK);
	assert_int_equal(count_rows(in), 3001);
	fin_input_close(in);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_german_credit),
		cmocka_unit_test(test_text_and_gaps),
		cmocka_unit_test(test_rewind),
	};
	return cmocka_run_group_tests(tests, make_mixed, remove_mixed);
}
