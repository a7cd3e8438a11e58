#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "command.h"
#include "key_order.h"

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

static int train(const fin_backtest *bt, const char *model, const char *rows, fin_err *err)
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
	ok = ok && push(&a, "-o") == 0 && push(&a, (char *)model) == 0 &&
	     push(&a, (char *)rows) == 0;
	rc = ok ? fin_command_run(a.v, err) : fin_fail(err, FIN_EDATA, "out of memory");
	free(a.v);
	return rc;
}

static int predict(const fin_backtest *bt, const fin_model *m, const char *model,
		   const char *rows, const char *output, fin_err *err)
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
	if (bt->quiet)
		ok = ok && push(&a, "-q") == 0;
	ok = ok && push(&a, "-o") == 0 && push(&a, (char *)output) == 0 &&
	     push(&a, (char *)rows) == 0;
	rc = ok ? fin_command_run(a.v, err) : fin_fail(err, FIN_EDATA, "out of memory");
	free(a.v);
	return rc;
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
	fin_csv_opts csv = { 0 };
	fin_input *in = NULL;
	int rc;

	fin_model_free(m);
	if (!train_csv || !test_csv || !model || !output) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_rowset_write(bt->rows, f->train_from, f->train_to, train_csv, err)) != FIN_OK ||
	    (rc = train(bt, model, train_csv, err)) != FIN_OK)
		goto done;
	if ((rc = fin_model_load(m, model, err)) != FIN_OK) {
		fin_err why = *err;
		rc = fin_fail(err, rc, "the model the training command wrote: %s", why.msg);
		goto done;
	}
	if ((rc = fin_rowset_write(bt->rows, f->test_from, f->test_to, test_csv, err)) != FIN_OK ||
	    (rc = predict(bt, m, model, test_csv, output, err)) != FIN_OK)
		goto done;
	if (!(in = fin_input_open(&output, 1, &csv, err))) {
		rc = err->code;
		goto done;
	}
	if ((rc = fin_rowset_read(pred, in, err)) != FIN_OK) {
		fin_err why = *err;
		rc = fin_fail(err, rc,
			      "fin-predict's output: %s (a classifier whose training rows held other "
			      "classes?)",
			      why.msg);
	}
done:
	fin_input_close(in);
	free(train_csv);
	free(test_csv);
	free(model);
	free(output);
	return rc;
}
