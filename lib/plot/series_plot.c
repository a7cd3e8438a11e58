#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/key_order.h"
#include "io/columns.h"
#include "io/numio.h"
#include "plot/series_plot.h"

int fin_series_columns(fin_series *s, fin_input *in, const char *key, char *const *cols,
		       size_t ncols, fin_err *err)
{
	char **names;
	size_t n, i, j, k;
	fin_row *first;
	int rc;

	memset(s, 0, sizeof *s);
	s->key = -1;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	s->names = names;
	if (key) {
		size_t col;
		if ((rc = fin_column_one("-k", key, names, n, fin_input_name(in), &col, err)) != FIN_OK)
			return rc;
		s->key = (long)col;
	}
	if (ncols) {
		if ((rc = fin_columns_select(cols, ncols, names, n, &s->cols, &s->ncols, err)) != FIN_OK) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			return fin_fail(err, rc, "%s:1: -c: %s", fin_input_name(in), why);
		}
		for (i = 0; i < s->ncols; i++)
			if ((long)s->cols[i] == s->key)
				return fin_fail(err, FIN_EUSAGE, "-c: column '%s' is the key (-k)",
						names[s->key]);
	} else {
		/* every numeric column of the first row but the key */
		if (!(s->cols = malloc((n ? n : 1) * sizeof *s->cols)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		rc = fin_input_peek(in, &first, err);
		if (rc < 0)
			return -rc;
		for (j = 0; rc > 0 && j < n; j++) {
			double v;
			if ((long)j != s->key &&
			    fin_parse_double(first->fields[j], first->lens[j], &v) != FIN_NUM_BAD)
				s->cols[s->ncols++] = j;
		}
		if (rc > 0 && s->ncols == 0)
			return fin_fail(err, FIN_EUSAGE, "no column but the key holds numbers (see -c)");
	}
	if (s->ncols > FIN_PLOT_COLOURS)
		return fin_fail(err, FIN_EUSAGE, "%zu columns to draw: at most %d (see -c)", s->ncols,
				FIN_PLOT_COLOURS);
	for (i = 0; i < s->ncols; i++)
		for (k = 0; k < i; k++)
			if (s->cols[k] == s->cols[i])
				return fin_fail(err, FIN_EUSAGE, "-c: column '%s' given twice",
						names[s->cols[i]]);
	return FIN_OK;
}

static int grow(fin_series *s, fin_err *err)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	double *x = realloc(s->x, cap * sizeof *x), *y;

	if (x)
		s->x = x;
	y = x ? realloc(s->y, cap * (s->ncols ? s->ncols : 1) * sizeof *y) : NULL;
	if (!y)
		return fin_fail(err, FIN_EDATA, "out of memory");
	s->y = y;
	s->cap = cap;
	return FIN_OK;
}

int fin_series_read(fin_series *s, fin_input *in, fin_err *err)
{
	fin_key_order order;
	fin_row *row;
	char shown[200];
	size_t j, drawn = 0;
	int got, rc;

	fin_key_order_init(&order, s->key >= 0 ? s->names[s->key] : "", 0);
	while ((got = fin_input_next(in, &row, err)) > 0) {
		const char *file = fin_input_name(in);
		double *y;
		if (s->rows == s->cap && (rc = grow(s, err)) != FIN_OK)
			return rc;
		if (s->key >= 0) {
			if ((rc = fin_key_order_next(&order, file, row->line, row->fields[s->key],
						     row->lens[s->key], err)) != FIN_OK)
				return rc;
			s->xscale = order.kind == FIN_KEY_TIME ? FIN_PLOT_TIME : FIN_PLOT_LINEAR;
			s->x[s->rows] = order.kind == FIN_KEY_TIME
						? (double)order.time.sec + 1e-9 * (double)order.time.nsec
						: order.num;
		} else {
			s->x[s->rows] = (double)(s->rows + 1);
		}
		y = s->y + s->rows * s->ncols;
		for (j = 0; j < s->ncols; j++) {
			size_t c = s->cols[j];
			switch (fin_parse_double(row->fields[c], row->lens[c], &y[j])) {
			case FIN_NUM_OK:
				drawn++;
				break;
			case FIN_NUM_NA:
				y[j] = NAN;
				s->missing++;
				break;
			case FIN_NUM_BAD:
				return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
						file, row->line, s->names[c],
						fin_quote_field(shown, sizeof shown, row->fields[c],
								row->lens[c]));
			}
		}
		s->rows++;
	}
	if (got < 0)
		return -got;
	if (s->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (drawn == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: every value of the columns drawn is missing",
				fin_input_name(in));
	return FIN_OK;
}

void fin_series_cumulate(fin_series *s, enum fin_series_total how)
{
	size_t i, j;

	for (j = 0; how != FIN_SERIES_AS_IS && j < s->ncols; j++) {
		double total = how == FIN_SERIES_SUM ? 0.0 : 1.0;
		for (i = 0; i < s->rows; i++) {
			double *v = &s->y[i * s->ncols + j];
			if (isnan(*v))
				continue;
			total = how == FIN_SERIES_SUM ? total + *v : total * (1.0 + *v);
			*v = total;
		}
	}
	s->total = how;
}

/* The y axis's label: the name of the columns drawn when they share one,
 * and what was cumulated. */
static void y_label(const fin_series *s, size_t n, char *label, size_t size)
{
	static const char *const of_one[] = { "", ", summed", ", compounded" };
	static const char *const of_many[] = { "", "running sum", "growth of 1" };
	const char *name = s[0].names[s[0].cols[0]];
	size_t f, j;

	for (f = 0; f < n; f++)
		for (j = 0; j < s[f].ncols; j++)
			if (strcmp(s[f].names[s[f].cols[j]], name) != 0)
				name = NULL;
	if (name)
		snprintf(label, size, "%s%s", name, of_one[s[0].total]);
	else
		snprintf(label, size, "%s", of_many[s[0].total]);
}

static int all_distinct(char *const *texts, size_t n)
{
	size_t j, k;

	for (j = 0; j < n; j++)
		for (k = 0; k < j; k++)
			if (strcmp(texts[j], texts[k]) == 0)
				return 0;
	return 1;
}

/* The legend's texts, in the order drawn: "FILE: COLUMN" with files,
 * each file by its base name when that keeps them distinct; the column's
 * name alone without files. texts starts with NULL entries. */
static int legend_texts(const fin_series *s, char *const *files, size_t n, char **texts,
			fin_err *err)
{
	size_t f, j, m, full;

	for (full = 0; full < 2; full++) {
		for (f = 0, m = 0; f < n; f++) {
			const char *file = files ? files[f] : NULL, *base;
			if (file && !full && (base = strrchr(file, '/')) && base[1])
				file = base + 1;
			for (j = 0; j < s[f].ncols; j++, m++) {
				const char *name = s[f].names[s[f].cols[j]];
				size_t len = (file ? strlen(file) + 2 : 0) + strlen(name) + 1;
				free(texts[m]);
				if (!(texts[m] = malloc(len)))
					return fin_fail(err, FIN_EDATA, "out of memory");
				snprintf(texts[m], len, "%s%s%s", file ? file : "", file ? ": " : "",
					 name);
			}
		}
		if (!files || all_distinct(texts, m))
			break;
	}
	return FIN_OK;
}

int fin_series_draw(const fin_series *s, fin_plot *p, fin_err *err)
{
	return fin_series_draw_files(s, NULL, 1, p, err);
}

int fin_series_draw_files(const fin_series *s, char *const *files, size_t n, fin_plot *p,
			  fin_err *err)
{
	char label[512], *texts[FIN_PLOT_COLOURS] = { 0 };
	fin_plot_axis x = { .label = s[0].key >= 0 ? s[0].names[s[0].key] : "row",
			    .scale = s[0].xscale };
	fin_plot_axis y = { .label = NULL };
	fin_plot_key keys[FIN_PLOT_COLOURS];
	double *v = NULL, lo, hi;
	size_t i, j, f, m, lines = 0, rows = 0;
	int rc = FIN_OK, xany = 0, any = 0;

	for (f = 0; f < n; f++) {
		if (s[f].xscale != x.scale)
			return fin_fail(err, FIN_EDATA, "%s: the key holds %s, where %s's holds %s: "
					"one axis shows one kind", files[f],
					s[f].xscale == FIN_PLOT_TIME ? "dates" : "numbers", files[0],
					x.scale == FIN_PLOT_TIME ? "dates" : "numbers");
		lines += s[f].ncols;
		rows = s[f].rows > rows ? s[f].rows : rows;
	}
	if (lines > FIN_PLOT_COLOURS)
		return fin_fail(err, FIN_EUSAGE, "%zu columns to draw: at most %d (see -c)", lines,
				FIN_PLOT_COLOURS);
	if (!(v = malloc(rows * sizeof *v)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (s[0].ncols == 1 && n == 1 && s[0].total == FIN_SERIES_AS_IS)
		y.label = s[0].names[s[0].cols[0]];
	else if (n > 1 || s[0].total != FIN_SERIES_AS_IS) {
		y_label(s, n, label, sizeof label);
		y.label = label;
	}
	for (f = 0; f < n; f++) {
		if (!fin_plot_span(s[f].x, s[f].rows, x.scale, &lo, &hi))
			continue;
		x.min = xany && x.min < lo ? x.min : lo;
		x.max = xany && x.max > hi ? x.max : hi;
		xany = 1;
	}
	fin_plot_pad(&x.min, &x.max, 0.02, x.scale);
	for (f = 0; f < n; f++)
		for (j = 0; j < s[f].ncols; j++) {
			for (i = 0; i < s[f].rows; i++)
				v[i] = s[f].y[i * s[f].ncols + j];
			if (!fin_plot_span(v, s[f].rows, FIN_PLOT_LINEAR, &lo, &hi))
				continue;
			y.min = any && y.min < lo ? y.min : lo;
			y.max = any && y.max > hi ? y.max : hi;
			any = 1;
		}
	fin_plot_pad(&y.min, &y.max, 0.04, FIN_PLOT_LINEAR);
	if ((rc = legend_texts(s, files, n, texts, err)) == FIN_OK)
		rc = fin_plot_axes(p, &x, &y, err);
	for (f = 0, m = 0; rc == FIN_OK && f < n; f++)
		for (j = 0; rc == FIN_OK && j < s[f].ncols; j++, m++) {
			keys[m] = (fin_plot_key){ texts[m], FIN_PLOT_KEY_LINE, { (int)m, 0, 0 } };
			for (i = 0; i < s[f].rows; i++)
				v[i] = s[f].y[i * s[f].ncols + j];
			rc = fin_plot_line(p, s[f].x, v, s[f].rows, &keys[m].pen, err);
		}
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, lines, FIN_PLOT_TOP_LEFT, err);
	for (m = 0; m < lines; m++)
		free(texts[m]);
	free(v);
	return rc;
}

void fin_series_free(fin_series *s)
{
	free(s->cols);
	free(s->x);
	free(s->y);
	memset(s, 0, sizeof *s);
}
