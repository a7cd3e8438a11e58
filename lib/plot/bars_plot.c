#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/columns.h"
#include "io/numio.h"
#include "plot/bars_plot.h"

int fin_bars_columns(fin_bars *b, fin_input *in, char *const *cols, size_t ncols,
		     const char *error, fin_err *err)
{
	const char *file = fin_input_name(in);
	char **names;
	size_t n, *idx = NULL, count = 0, col;
	int rc;

	memset(b, 0, sizeof *b);
	b->error = -1;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	b->names = names;
	if (ncols) {
		if ((rc = fin_columns_select(cols, ncols, names, n, &idx, &count, err)) != FIN_OK) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			return fin_fail(err, rc, "%s:1: -c: %s", file, why);
		}
		if (count == 2) {
			b->name = idx[0];
			b->value = idx[1];
		}
		free(idx);
		if (count != 2)
			return fin_fail(err, FIN_EUSAGE, "-c: expected two columns, the names and the "
					"values, not %zu", count);
	} else if ((rc = fin_column_one("-c", FIN_BARS_NAME_COLUMN, names, n, file, &b->name,
					err)) != FIN_OK ||
		   (rc = fin_column_one("-c", FIN_BARS_VALUE_COLUMN, names, n, file, &b->value,
					err)) != FIN_OK) {
		return rc;
	}
	if (error) {
		if ((rc = fin_column_one("--error", error, names, n, file, &col, err)) != FIN_OK)
			return rc;
		b->error = (long)col;
	} else if (!ncols) {
		b->error = fin_column_find(names, n, FIN_BARS_ERROR_COLUMN);
	}
	if (b->error == (long)b->value || b->error == (long)b->name)
		return fin_fail(err, FIN_EUSAGE, "--error: column '%s' holds the %s",
				names[b->error], b->error == (long)b->value ? "values" : "names");
	return FIN_OK;
}

static int grow(fin_bars *b, fin_err *err)
{
	size_t cap = b->cap ? 2 * b->cap : 256;
	char **label = realloc(b->label, cap * sizeof *label);
	double *v, *e;

	if (label)
		b->label = label;
	v = label ? realloc(b->v, cap * sizeof *v) : NULL;
	if (v)
		b->v = v;
	e = v ? realloc(b->e, cap * sizeof *e) : NULL;
	if (!e)
		return fin_fail(err, FIN_EDATA, "out of memory");
	b->e = e;
	b->cap = cap;
	return FIN_OK;
}

/* A number of column c: FIN_NUM_OK or FIN_NUM_NA, a data error else. */
static int number(const fin_bars *b, const fin_row *row, size_t c, const char *file,
		  double *v, enum fin_num *kind, fin_err *err)
{
	char shown[200];

	*kind = fin_parse_double(row->fields[c], row->lens[c], v);
	if (*kind == FIN_NUM_BAD)
		return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'", file,
				row->line, b->names[c],
				fin_quote_field(shown, sizeof shown, row->fields[c], row->lens[c]));
	return FIN_OK;
}

/* The bars in order of value, largest first, equal ones in input order. */
struct bar {
	char *label;
	double v, e;
	size_t at;
};

static int by_value(const void *pa, const void *pb)
{
	const struct bar *a = pa, *b = pb;

	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return (a->at > b->at) - (a->at < b->at);
}

static int sort_bars(fin_bars *b, fin_err *err)
{
	struct bar *s = malloc((b->rows ? b->rows : 1) * sizeof *s);
	size_t i;

	if (!s)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < b->rows; i++)
		s[i] = (struct bar){ b->label[i], b->v[i], b->e[i], i };
	qsort(s, b->rows, sizeof *s, by_value);
	for (i = 0; i < b->rows; i++) {
		b->label[i] = s[i].label;
		b->v[i] = s[i].v;
		b->e[i] = s[i].e;
	}
	free(s);
	return FIN_OK;
}

int fin_bars_read(fin_bars *b, fin_input *in, size_t top, fin_err *err)
{
	fin_row *row;
	int got, rc;

	while ((got = fin_input_next(in, &row, err)) > 0) {
		const char *file = fin_input_name(in);
		enum fin_num vk, ek = FIN_NUM_NA;
		double v, e = NAN;
		if ((rc = number(b, row, b->value, file, &v, &vk, err)) != FIN_OK ||
		    (b->error >= 0 &&
		     (rc = number(b, row, (size_t)b->error, file, &e, &ek, err)) != FIN_OK))
			return rc;
		if (ek == FIN_NUM_OK && e < 0)
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': %g is below 0, and an "
					"error is a spread", file, row->line, b->names[b->error], e);
		if (vk == FIN_NUM_NA || fin_is_na(row->fields[b->name], row->lens[b->name])) {
			b->left_out++;
			continue;
		}
		if (b->rows == b->cap && (rc = grow(b, err)) != FIN_OK)
			return rc;
		if (!(b->label[b->rows] = strndup(row->fields[b->name], row->lens[b->name])))
			return fin_fail(err, FIN_EDATA, "out of memory");
		b->v[b->rows] = v;
		b->e[b->rows] = ek == FIN_NUM_OK ? e : NAN;
		b->rows++;
	}
	if (got < 0)
		return -got;
	if (b->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no row with a name and a value",
				fin_input_name(in));
	b->shown = top && top < b->rows ? top : b->rows;
	return sort_bars(b, err);
}

int fin_bars_draw(const fin_bars *b, fin_plot *p, fin_err *err)
{
	size_t n = b->shown, i;
	fin_plot_axis x = { .label = b->names[b->value], .min = 0, .max = 0 };
	fin_plot_axis y = { .min = 0.4, .max = (double)n + 0.6 };
	fin_plot_pen bar = { 0, 0, 0 }, ink = { FIN_PLOT_INK, 0, 0 }, zero = { FIN_PLOT_GREY, 0, 0 };
	fin_plot_key keys[2] = { { b->names[b->value], FIN_PLOT_KEY_BOX, bar } };
	char spread[256];
	/* bar i (the i-th largest) lies at n - i, so the largest is on top */
	char **names = malloc(n * sizeof *names);
	double *at = malloc(4 * n * sizeof *at), *lo = at + n, *hi = lo + n, *from = hi + n;
	int rc, errors = 0;

	if (!names || !at) {
		free(names);
		free(at);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++) {
		double e = isnan(b->e[i]) ? 0 : b->e[i];
		names[n - 1 - i] = b->label[i];
		at[i] = (double)(n - i);
		lo[i] = at[i] - 0.35;
		hi[i] = at[i] + 0.35;
		from[i] = b->v[i] - e;
		x.min = fmin(x.min, b->v[i] - e);
		x.max = fmax(x.max, b->v[i] + e);
		errors |= !isnan(b->e[i]);
	}
	y.categories = names;
	y.ncategories = n;
	fin_plot_pad(&x.min, &x.max, 0.04, FIN_PLOT_LINEAR);
	rc = fin_plot_axes(p, &x, &y, err);
	if (rc == FIN_OK && x.min < 0)
		rc = fin_plot_rule(p, 0, 1, &zero, err);
	if (rc == FIN_OK)
		rc = fin_plot_bars(p, lo, hi, b->v, n, 1, &bar, err);
	if (rc == FIN_OK && errors) {
		/* from value - error to value + error */
		for (i = 0; i < n; i++)
			hi[i] = b->v[i] + b->e[i];
		rc = fin_plot_error_bars(p, at, from, hi, n, 1, &ink, err);
		snprintf(spread, sizeof spread, "\xc2\xb1 %s", b->names[b->error]);
		keys[1] = (fin_plot_key){ spread, FIN_PLOT_KEY_LINE, ink };
	}
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, errors ? 2 : 1, FIN_PLOT_BOTTOM_RIGHT, err);
	free(names);
	free(at);
	return rc;
}

void fin_bars_free(fin_bars *b)
{
	size_t i;

	for (i = 0; i < b->rows; i++)
		free(b->label[i]);
	free(b->label);
	free(b->v);
	free(b->e);
	memset(b, 0, sizeof *b);
}
