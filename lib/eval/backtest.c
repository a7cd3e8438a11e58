#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/command.h"
#include "eval/backtest.h"
#include "features/key_order.h"

/* ---- folds ---- */

int fin_folds_plan(const fin_fold_spec *s, size_t rows, fin_fold **folds, size_t *nfolds,
		   fin_err *err)
{
	size_t n, k;
	fin_fold *f;

	*folds = NULL;
	*nfolds = 0;
	if (s->train_size == 0 || s->test_size == 0 || s->step == 0)
		return fin_fail(err, FIN_EUSAGE, "fold sizes must be at least 1");
	if (rows <= s->train_size + s->gap && s->gap == 0)
		return fin_fail(err, FIN_ENOROWS,
				"%zu rows: --train-size %zu leaves no row to test (at least %zu needed)",
				rows, s->train_size, s->train_size + 1);
	if (rows <= s->train_size + s->gap)
		return fin_fail(err, FIN_ENOROWS,
				"%zu rows: --train-size %zu and --gap %zu leave no row to test (at least "
				"%zu needed)",
				rows, s->train_size, s->gap, s->train_size + s->gap + 1);
	n = (rows - s->train_size - s->gap - 1) / s->step + 1;
	if (!(f = malloc(n * sizeof *f)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (k = 0; k < n; k++) {
		f[k].test_from = s->train_size + s->gap + k * s->step;
		f[k].test_to = rows - f[k].test_from > s->test_size ? f[k].test_from + s->test_size
								     : rows;
		f[k].train_to = f[k].test_from - s->gap;
		f[k].train_from = s->rolling ? f[k].train_to - s->train_size : 0;
	}
	*folds = f;
	*nfolds = n;
	return FIN_OK;
}

/* ---- a fold ---- */

/* A command line under construction. */
struct args {
	char **v;
	size_t n, cap;
};

static int push(struct args *a, char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = 2 * a->cap + 16;
		char **v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

/* A fold, for the lines its commands write. */
struct fold_lines {
	const fin_backtest *bt;
	const fin_fold *f;
};

static void pass_line(void *ctx, const char *line, size_t len)
{
	const struct fold_lines *c = ctx;
	char out[10000];
	size_t n = fin_backtest_rewrite(c->bt, c->f, line, len, out, sizeof out);

	fwrite(out, 1, n, c->bt->messages);
	fputc('\n', c->bt->messages);
}

static int run(const fin_backtest *bt, const fin_fold *f, char *const *argv, fin_err *err)
{
	struct fold_lines c = { bt, f };
	fin_command_lines lines = { pass_line, &c };

	return fin_command_run(argv, bt->messages ? &lines : NULL, err);
}

static int train(const fin_backtest *bt, const fin_fold *f, const char *model, const char *rows,
		 fin_err *err)
{
	struct args a = { 0 };
	size_t j;
	int ok = 1, rc, fin_train = strcmp(fin_command_name(bt->train_cmd[0]), "fin-train") == 0;

	for (j = 0; j < bt->ntrain_cmd; j++)
		ok = ok && push(&a, bt->train_cmd[j]) == 0;
	if (bt->quiet && fin_train)
		ok = ok && push(&a, "-q") == 0;
	if (bt->unsorted && fin_train)
		ok = ok && push(&a, "--unsorted") == 0;
	for (j = 0; j < bt->nna_values && fin_train; j++)
		ok = ok && push(&a, "--na-values") == 0 && push(&a, bt->na_values[j]) == 0;
	ok = ok && push(&a, "-o") == 0 && push(&a, (char *)model) == 0 &&
	     push(&a, (char *)rows) == 0;
	rc = ok ? run(bt, f, a.v, err) : fin_fail(err, FIN_EDATA, "out of memory");
	free(a.v);
	return rc;
}

static int predict(const fin_backtest *bt, const fin_fold *f, const fin_model *m,
		   const char *model, const char *rows, const char *output, fin_err *err)
{
	struct args a = { 0 };
	char *const *keys = bt->nkeys ? bt->keys : m->keys;
	size_t nkeys = bt->nkeys ? bt->nkeys : m->nkeys, j;
	int ok, rc, target_is_key = 0;

	ok = push(&a, (char *)bt->predict) == 0 && push(&a, "-m") == 0 &&
	     push(&a, (char *)model) == 0;
	/* One -k per column: a name holding a comma stays one name. */
	for (j = 0; j < nkeys; j++) {
		ok = ok && push(&a, "-k") == 0 && push(&a, keys[j]) == 0;
		target_is_key |= m->target && strcmp(keys[j], m->target) == 0;
	}
	if (m->target && !target_is_key)
		ok = ok && push(&a, "-k") == 0 && push(&a, m->target) == 0;
	for (j = 0; j < bt->nna_values; j++)
		ok = ok && push(&a, "--na-values") == 0 && push(&a, bt->na_values[j]) == 0;
	if (bt->quiet)
		ok = ok && push(&a, "-q") == 0;
	ok = ok && push(&a, "-o") == 0 && push(&a, (char *)output) == 0 &&
	     push(&a, (char *)rows) == 0;
	rc = ok ? run(bt, f, a.v, err) : fin_fail(err, FIN_EDATA, "out of memory");
	free(a.v);
	return rc;
}

/* The fold files by name, and what a message says of one named without a
 * line. */
static const char *const fold_file[] = { "train.csv", "test.csv", "model.json",
					 "predictions.csv" };
static const char *const fold_file_said[] = { "the fold's training rows", "the fold's test rows",
					      "the model the training command wrote",
					      "fin-predict's output" };
enum { TRAIN_FILE, TEST_FILE, NFOLD_FILES = 4 };

/* The input and line that line n of fold file k (TRAIN_FILE or TEST_FILE)
 * came from; NULL when n is past its rows. Line 1 is the header. */
static const char *source_line(const fin_backtest *bt, const fin_fold *f, int k, long n,
			       long *line)
{
	size_t from = k == TRAIN_FILE ? f->train_from : f->test_from;
	size_t to = k == TRAIN_FILE ? f->train_to : f->test_to, i;
	long at = 2;

	if (from == to)
		return NULL;
	if (n == 1) {
		const char *name = fin_rowset_source_of(bt->rows, from, line);
		*line = 1;
		return name;
	}
	for (i = from; i < to && n >= at; i++) {
		long span = fin_rowset_row_lines(bt->rows, i);
		if (n < at + span) {
			const char *name = fin_rowset_source_of(bt->rows, i, line);
			*line += n - at;
			return name;
		}
		at += span;
	}
	return NULL;
}

/* Reads ":N" (or, with colon 0, "N") at s[0..len); returns the bytes read,
 * 0 when there is no such number. */
static size_t line_number(const char *s, size_t len, int colon, long *n)
{
	size_t i = (size_t)(colon != 0), start = i;

	if (colon && (len == 0 || s[0] != ':'))
		return 0;
	*n = 0;
	for (; i < len && i - start < 15 && s[i] >= '0' && s[i] <= '9'; i++)
		*n = 10 * *n + (s[i] - '0');
	return i > start ? i : 0;
}

static void put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (n > outlen - 1 - *o)
		n = outlen - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
}

size_t fin_backtest_rewrite(const fin_backtest *bt, const fin_fold *f, const char *msg, size_t len,
			    char *out, size_t outlen)
{
	static const char on_line[] = " on line ";
	size_t dirlen = strlen(bt->dir), o = 0, i = 0, used;
	const char *mapped = NULL; /* the input of the last line turned */
	int mapped_file = -1;      /* and the fold file it was on */
	char num[400];
	long n, line;

	while (i < len && o + 1 < outlen) {
		size_t rest = i + dirlen + 1; /* where a file name would start */
		const char *src;
		int k = NFOLD_FILES;

		if (len - i > dirlen && memcmp(msg + i, bt->dir, dirlen) == 0 && msg[i + dirlen] == '/')
			for (k = 0; k < NFOLD_FILES; k++)
				if (len - rest >= strlen(fold_file[k]) &&
				    memcmp(msg + rest, fold_file[k], strlen(fold_file[k])) == 0)
					break;
		if (k < NFOLD_FILES) {
			size_t end = rest + strlen(fold_file[k]);
			if (k <= TEST_FILE && (used = line_number(msg + end, len - end, 1, &n)) &&
			    (src = source_line(bt, f, k, n, &line))) {
				put(out, outlen, &o, num,
				    (size_t)snprintf(num, sizeof num, "%.300s:%ld", src, line));
				mapped = src;
				mapped_file = k;
				i = end + used;
			} else if ((used = line_number(msg + end, len - end, 1, &n))) {
				put(out, outlen, &o, num,
				    (size_t)snprintf(num, sizeof num, "%s, line %ld", fold_file_said[k],
						     n));
				i = end + used;
			} else {
				put(out, outlen, &o, fold_file_said[k], strlen(fold_file_said[k]));
				i = end;
			}
			continue;
		}
		/* The line of an earlier row of the same fold file, as a
		 * message about time order gives it. */
		if (mapped && len - i > sizeof on_line - 1 &&
		    memcmp(msg + i, on_line, sizeof on_line - 1) == 0 &&
		    (used = line_number(msg + i + sizeof on_line - 1, len - i - sizeof on_line + 1, 0,
					&n)) &&
		    (src = source_line(bt, f, mapped_file, n, &line))) {
			if (strcmp(src, mapped) == 0)
				snprintf(num, sizeof num, " on line %ld", line);
			else
				snprintf(num, sizeof num, " on %.300s:%ld", src, line);
			put(out, outlen, &o, num, strlen(num));
			i += sizeof on_line - 1 + used;
			continue;
		}
		out[o++] = msg[i++];
	}
	out[o] = '\0';
	return o;
}

/* err's message, rewritten into buf (of sizeof err->msg). */
static const char *rewritten(const fin_backtest *bt, const fin_fold *f, const fin_err *err,
			     char *buf)
{
	fin_backtest_rewrite(bt, f, err->msg, strlen(err->msg), buf, sizeof err->msg);
	return buf;
}

int fin_backtest_check_order(const fin_rowset *rows, size_t key, fin_err *err)
{
	fin_key_order order;
	size_t i;
	int rc;

	fin_key_order_init(&order, rows->names[key], 0);
	for (i = 0; i < rows->rows; i++) {
		const char *s = fin_rowset_field(rows, i, key), *file;
		long line;
		file = fin_rowset_source_of(rows, i, &line);
		if ((rc = fin_key_order_next(&order, file, line, s, strlen(s), err)) != FIN_OK)
			return rc;
	}
	return FIN_OK;
}

/* DIR/name in a new string. */
static char *file_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);

	if (path)
		snprintf(path, n, "%s/%s", dir, name);
	return path;
}

int fin_backtest_fold(const fin_backtest *bt, const fin_fold *f, fin_model *m, fin_rowset *pred,
		      fin_err *err)
{
	char *train_csv = file_in(bt->dir, "train.csv"), *test_csv = file_in(bt->dir, "test.csv");
	char *model = file_in(bt->dir, "model.json"), *output = file_in(bt->dir, "predictions.csv");
	char why[sizeof err->msg];
	fin_csv_opts csv = { 0 };
	fin_input *in = NULL;
	int rc;

	fin_model_free(m);
	if (!train_csv || !test_csv || !model || !output) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_rowset_write(bt->rows, f->train_from, f->train_to, train_csv, err)) != FIN_OK ||
	    (rc = train(bt, f, model, train_csv, err)) != FIN_OK)
		goto done;
	if ((rc = fin_model_load(m, model, err)) != FIN_OK) {
		rc = fin_fail(err, rc, "%s", rewritten(bt, f, err, why));
		goto done;
	}
	if ((rc = fin_rowset_write(bt->rows, f->test_from, f->test_to, test_csv, err)) != FIN_OK ||
	    (rc = predict(bt, f, m, model, test_csv, output, err)) != FIN_OK)
		goto done;
	if (!(in = fin_input_open(&output, 1, &csv, err))) {
		rc = err->code;
		goto done;
	}
	/* A message naming the file says "fin-predict's output" once rewritten. */
	if ((rc = fin_rowset_read(pred, in, err)) != FIN_OK)
		rc = fin_fail(err, rc, "%s%s (a classifier whose training rows held other classes?)",
			      strncmp(err->msg, output, strlen(output)) == 0 ? ""
									 : "fin-predict's output: ",
			      rewritten(bt, f, err, why));
done:
	fin_input_close(in);
	free(train_csv);
	free(test_csv);
	free(model);
	free(output);
	return rc;
}
