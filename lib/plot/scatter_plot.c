#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/pca.h"
#include "io/columns.h"
#include "io/numio.h"
#include "plot/scatter_plot.h"

int fin_scatter_columns(fin_scatter *s, fin_input *in, char *const *cols, size_t ncols,
			const char *colour, int pca, int standardise, fin_err *err)
{
	char **names;
	size_t n, i, k;
	int rc;

	memset(s, 0, sizeof *s);
	s->colour = -1;
	s->pca = pca;
	s->standardise = standardise;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	s->names = names;
	if (ncols == 0)
		return fin_fail(err, FIN_EUSAGE, "scatter: which columns? give -c X,Y%s",
				pca ? ", or the features of --pca" : "");
	if ((rc = fin_columns_select(cols, ncols, names, n, &s->cols, &s->ncols, err)) != FIN_OK) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return fin_fail(err, rc, "%s:1: -c: %s", fin_input_name(in), why);
	}
	for (i = 0; i < s->ncols; i++)
		for (k = 0; k < i; k++)
			if (s->cols[k] == s->cols[i])
				return fin_fail(err, FIN_EUSAGE, "-c: column '%s' given twice",
						names[s->cols[i]]);
	if (pca && s->ncols < 2)
		return fin_fail(err, FIN_EUSAGE, "--pca: %zu column to project: give two or more "
				"(-c)", s->ncols);
	if (!pca && s->ncols != 2)
		return fin_fail(err, FIN_EUSAGE, "scatter: %zu columns: give two, x and y (-c), or "
				"more with --pca", s->ncols);
	if (colour) {
		size_t col;
		if ((rc = fin_column_one("--color", colour, names, n, fin_input_name(in), &col,
					 err)) != FIN_OK)
			return rc;
		s->colour = (long)col;
	}
	return FIN_OK;
}

static int grow(fin_scatter *s, fin_err *err)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	double *v = realloc(s->v, cap * s->ncols * sizeof *v);
	size_t *code;

	if (v)
		s->v = v;
	code = v ? realloc(s->code, cap * sizeof *code) : NULL;
	if (!code)
		return fin_fail(err, FIN_EDATA, "out of memory");
	s->code = code;
	s->cap = cap;
	return FIN_OK;
}

/* The row's colour value: its code, -1 when it is missing, -2 on an error. */
static long colour_code(fin_scatter *s, const fin_input *in, const fin_row *row, fin_err *err)
{
	const char *field = row->fields[s->colour];
	size_t len = row->lens[s->colour];
	char shown[200];
	long code;

	if (fin_is_na(field, len))
		return -1;
	if ((code = fin_dict_find(&s->values, field, len)) >= 0)
		return code;
	if (s->values.n == FIN_SCATTER_VALUES) {
		fin_fail(err, FIN_EDATA, "%s:%ld: --color column '%s': value '%s' is one more than "
			 "the %d distinct values a scatter colours", fin_input_name(in), row->line,
			 s->names[s->colour], fin_quote_field(shown, sizeof shown, field, len),
			 FIN_SCATTER_VALUES);
		return -2;
	}
	if ((code = fin_dict_code(&s->values, field, len)) < 0) {
		fin_fail(err, FIN_EDATA, "out of memory");
		return -2;
	}
	return code;
}

/* Reads one row into row s->rows, or leaves it out. */
static int read_row(fin_scatter *s, const fin_input *in, const fin_row *row, fin_err *err)
{
	double *v = s->v + s->rows * s->ncols;
	char shown[200];
	long code = 0;
	size_t j;
	int missing = 0;

	for (j = 0; j < s->ncols; j++) {
		size_t c = s->cols[j];
		switch (fin_parse_double(row->fields[c], row->lens[c], &v[j])) {
		case FIN_NUM_OK:
			break;
		case FIN_NUM_NA:
			missing = 1;
			break;
		case FIN_NUM_BAD:
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
					fin_input_name(in), row->line, s->names[c],
					fin_quote_field(shown, sizeof shown, row->fields[c],
							row->lens[c]));
		}
	}
	if (s->colour >= 0 && (code = colour_code(s, in, row, err)) == -2)
		return err->code;
	if (missing || code < 0) {
		s->left_out++;
		return FIN_OK;
	}
	s->code[s->rows++] = (size_t)code;
	return FIN_OK;
}

struct value {
	const char *text;
	size_t len, code;
	double num;
};

static int by_number(const void *a, const void *b)
{
	const struct value *u = a, *v = b;

	if (u->num != v->num)
		return u->num < v->num ? -1 : 1;
	return u->code < v->code ? -1 : 1;
}

static int by_text(const void *a, const void *b)
{
	const struct value *u = a, *v = b;
	int c = memcmp(u->text, v->text, u->len < v->len ? u->len : v->len);

	return c ? c : u->len < v->len ? -1 : 1;
}

/* The legend's order of the colour values: by number when every value is
 * one (ties, such as 1 and 1.0, in order of appearance), else by their
 * bytes. */
static int rank_values(fin_scatter *s, fin_err *err)
{
	size_t n = s->values.n, i;
	struct value *v = malloc((n ? n : 1) * sizeof *v);
	int numbers = 1;

	s->rank = malloc((n ? n : 1) * sizeof *s->rank);
	if (!v || !s->rank) {
		free(v);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++) {
		v[i] = (struct value){ s->values.text[i], s->values.len[i], i, 0 };
		if (fin_parse_double(v[i].text, v[i].len, &v[i].num) != FIN_NUM_OK)
			numbers = 0;
	}
	qsort(v, n, sizeof *v, numbers ? by_number : by_text);
	for (i = 0; i < n; i++)
		s->rank[v[i].code] = i;
	free(v);
	return FIN_OK;
}

/* The dots: x and y, or the first two principal components. */
static int place(fin_scatter *s, fin_err *err)
{
	double *pc = NULL;
	fin_pca pca;
	size_t i;
	int rc;

	if (!(s->x = malloc(s->rows * sizeof *s->x)) || !(s->y = malloc(s->rows * sizeof *s->y)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (!s->pca) {
		for (i = 0; i < s->rows; i++) {
			s->x[i] = s->v[2 * i];
			s->y[i] = s->v[2 * i + 1];
		}
		return FIN_OK;
	}
	if (s->rows < 2)
		return fin_fail(err, FIN_EDATA, "--pca: %zu row with every feature: principal "
				"components need two or more", s->rows);
	if ((rc = fin_pca_fit(&pca, s->v, s->rows, s->ncols, s->standardise, err)) != FIN_OK) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return fin_fail(err, rc, "--pca: %s", why);
	}
	if (!(pc = malloc(2 * s->rows * sizeof *pc)))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if (rc == FIN_OK && (rc = fin_pca_project(&pca, s->v, s->rows, 2, pc, err)) == FIN_OK) {
		for (i = 0; i < s->rows; i++) {
			s->x[i] = pc[2 * i];
			s->y[i] = pc[2 * i + 1];
		}
		s->share[0] = pca.variance[0] / pca.total;
		s->share[1] = pca.variance[1] / pca.total;
	}
	free(pc);
	fin_pca_free(&pca);
	return rc;
}

int fin_scatter_read(fin_scatter *s, fin_input *in, fin_err *err)
{
	fin_row *row;
	int got, rc;

	while ((got = fin_input_next(in, &row, err)) > 0) {
		if (s->rows == s->cap && (rc = grow(s, err)) != FIN_OK)
			return rc;
		if ((rc = read_row(s, in, row, err)) != FIN_OK)
			return rc;
	}
	if (got < 0)
		return -got;
	if (s->rows + s->left_out == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (s->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: every row misses a value of the columns "
				"drawn", fin_input_name(in));
	if ((rc = rank_values(s, err)) != FIN_OK)
		return rc;
	return place(s, err);
}

int fin_scatter_draw(const fin_scatter *s, fin_plot *p, fin_err *err)
{
	char xlabel[64], ylabel[64];
	fin_plot_axis x = { .label = s->names[s->cols[0]] }, y = { .label = s->names[s->cols[1]] };
	fin_plot_key keys[FIN_SCATTER_VALUES];
	size_t nvalues = s->colour >= 0 ? s->values.n : 1, *start, *at, i, g;
	double *gx = malloc(s->rows * sizeof *gx), *gy = malloc(s->rows * sizeof *gy);
	char (*text)[256] = malloc(FIN_SCATTER_VALUES * sizeof *text);
	enum fin_plot_corner corner;
	int rc = FIN_OK;

	start = calloc(nvalues + 1, sizeof *start);
	at = calloc(nvalues, sizeof *at);
	if (!gx || !gy || !text || !start || !at) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (s->pca) {
		snprintf(xlabel, sizeof xlabel, "PC1 (%.1f%% of variance)", 100 * s->share[0]);
		snprintf(ylabel, sizeof ylabel, "PC2 (%.1f%% of variance)", 100 * s->share[1]);
		x.label = xlabel;
		y.label = ylabel;
	}
	fin_plot_span(s->x, s->rows, FIN_PLOT_LINEAR, &x.min, &x.max);
	fin_plot_pad(&x.min, &x.max, 0.04, FIN_PLOT_LINEAR);
	fin_plot_span(s->y, s->rows, FIN_PLOT_LINEAR, &y.min, &y.max);
	fin_plot_pad(&y.min, &y.max, 0.04, FIN_PLOT_LINEAR);
	/* the rows grouped by their value's place in the legend, in row order */
	for (i = 0; i < s->rows; i++)
		start[(s->colour >= 0 ? s->rank[s->code[i]] : 0) + 1]++;
	for (g = 0; g < nvalues; g++)
		start[g + 1] += start[g];
	for (i = 0; i < s->rows; i++) {
		size_t k = s->colour >= 0 ? s->rank[s->code[i]] : 0, to = start[k] + at[k]++;
		gx[to] = s->x[i];
		gy[to] = s->y[i];
	}
	rc = fin_plot_axes(p, &x, &y, err);
	for (i = 0; s->colour >= 0 && i < s->values.n; i++) {
		size_t k = s->rank[i];
		snprintf(text[k], sizeof text[k], "%s = %s", s->names[s->colour], s->values.text[i]);
		keys[k] = (fin_plot_key){ text[k], FIN_PLOT_KEY_DOT,
					  { (int)(k % FIN_PLOT_COLOURS), 0, k >= FIN_PLOT_COLOURS } };
	}
	for (g = 0; rc == FIN_OK && g < nvalues; g++) {
		fin_plot_pen pen = { (int)(g % FIN_PLOT_COLOURS), 0, g >= FIN_PLOT_COLOURS };
		rc = fin_plot_points(p, gx + start[g], gy + start[g], start[g + 1] - start[g], &pen,
				     err);
	}
	if (rc == FIN_OK && s->colour >= 0)
		rc = fin_plot_legend_corner(p, keys, nvalues, s->x, s->y, s->rows, &corner, err);
	if (rc == FIN_OK && s->colour >= 0)
		rc = fin_plot_legend(p, keys, nvalues, corner, err);
done:
	free(gx);
	free(gy);
	free(text);
	free(start);
	free(at);
	return rc;
}

void fin_scatter_free(fin_scatter *s)
{
	free(s->cols);
	free(s->v);
	free(s->code);
	free(s->rank);
	free(s->x);
	free(s->y);
	fin_dict_free(&s->values);
	memset(s, 0, sizeof *s);
}
