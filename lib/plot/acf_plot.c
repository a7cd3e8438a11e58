#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/columns.h"
#include "io/numio.h"
#include "plot/acf_plot.h"

#define FACTS_HINT "fin-plot acf reads the CSV of fin-gen --facts --format csv"

int fin_acf_columns(fin_acf *a, fin_input *in, char *const *cols, size_t ncols, fin_err *err)
{
	char **names, shown[200];
	size_t n, i, k;
	int rc;

	memset(a, 0, sizeof *a);
	a->n = a->band = NAN;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	a->names = names;
	if (n > 0 && strcmp(names[0], "fact") != 0)
		return fin_fail(err, FIN_EDATA, "%s:1: the first column is '%s', not 'fact': "
				FACTS_HINT, fin_input_name(in),
				fin_quote_field(shown, sizeof shown, names[0], strlen(names[0])));
	if (ncols) {
		if ((rc = fin_columns_select(cols, ncols, names, n, &a->cols, &a->ncols, err)) !=
		    FIN_OK) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			return fin_fail(err, rc, "%s:1: -c: %s", fin_input_name(in), why);
		}
		for (i = 0; i < a->ncols; i++)
			if (a->cols[i] == 0)
				return fin_fail(err, FIN_EUSAGE, "-c: column '%s' holds the facts' names",
						names[0]);
	} else {
		if (!(a->cols = malloc((n ? n : 1) * sizeof *a->cols)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		for (i = 1; i < n; i++)
			a->cols[a->ncols++] = i;
	}
	if (a->ncols == 0)
		return fin_fail(err, FIN_EDATA, "%s:1: no column of values beside the facts' names: "
				FACTS_HINT, fin_input_name(in));
	if (a->ncols > FIN_PLOT_COLOURS)
		return fin_fail(err, FIN_EUSAGE, "%zu series to draw: at most %d (see -c)", a->ncols,
				FIN_PLOT_COLOURS);
	for (i = 0; i < a->ncols; i++)
		for (k = 0; k < i; k++)
			if (a->cols[k] == a->cols[i])
				return fin_fail(err, FIN_EUSAGE, "-c: column '%s' given twice",
						names[a->cols[i]]);
	a->acf = malloc(FIN_ACF_MAX_LAG * a->ncols * sizeof *a->acf);
	a->acf_abs = malloc(FIN_ACF_MAX_LAG * a->ncols * sizeof *a->acf_abs);
	a->seen = calloc(2, FIN_ACF_MAX_LAG);
	if (!a->acf || !a->acf_abs || !a->seen)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < FIN_ACF_MAX_LAG * a->ncols; i++)
		a->acf[i] = a->acf_abs[i] = NAN;
	return FIN_OK;
}

/* The lag K of a name "<prefix>K" (K a whole number without leading
 * zeros): K, 0 when the name is not one, or -1 when K is too large. */
static long lag_of(const char *name, size_t len, const char *prefix)
{
	size_t p = strlen(prefix), i;
	long k = 0;

	if (len <= p || memcmp(name, prefix, p) != 0 || name[p] == '0')
		return 0;
	for (i = p; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		if (k <= FIN_ACF_MAX_LAG)
			k = 10 * k + (name[i] - '0');
	}
	return k > FIN_ACF_MAX_LAG ? -1 : k;
}

/* Reads the values of a row into v[0..ncols). */
static int row_values(const fin_acf *a, const fin_input *in, const fin_row *row, double *v,
		      size_t *present, fin_err *err)
{
	char shown[200];
	size_t j;

	for (j = 0; j < a->ncols; j++) {
		size_t c = a->cols[j];
		switch (fin_parse_double(row->fields[c], row->lens[c], &v[j])) {
		case FIN_NUM_OK:
			++*present;
			break;
		case FIN_NUM_NA:
			v[j] = NAN;
			break;
		case FIN_NUM_BAD:
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
					fin_input_name(in), row->line, a->names[c],
					fin_quote_field(shown, sizeof shown, row->fields[c],
							row->lens[c]));
		}
	}
	return FIN_OK;
}

static int read_row(fin_acf *a, const fin_input *in, const fin_row *row, size_t *present,
		    size_t *facts, fin_err *err)
{
	const char *name = row->fields[0];
	size_t len = row->lens[0];
	long abs_lag = lag_of(name, len, "acf_abs_"), lag = abs_lag ? 0 : lag_of(name, len, "acf_");
	long k = abs_lag ? abs_lag : lag;
	unsigned char *seen;
	char shown[200];
	double *v;
	int rc;

	if (len == 1 && name[0] == 'n') {
		double n[FIN_PLOT_COLOURS];
		size_t given = 0;
		if (a->seen_n)
			return fin_fail(err, FIN_EDATA, "%s:%ld: fact 'n' given twice",
					fin_input_name(in), row->line);
		a->seen_n = 1;
		if ((rc = row_values(a, in, row, n, &given, err)) != FIN_OK)
			return rc;
		if (n[0] < 1)
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': n is %g: a series of "
					"no values", fin_input_name(in), row->line,
					a->names[a->cols[0]], n[0]);
		a->n = n[0];
		return FIN_OK;
	}
	if (k == 0)
		return FIN_OK;
	if (k < 0)
		return fin_fail(err, FIN_EDATA, "%s:%ld: fact '%s': lags up to %d are drawn",
				fin_input_name(in), row->line,
				fin_quote_field(shown, sizeof shown, name, len), FIN_ACF_MAX_LAG);
	seen = a->seen + (abs_lag ? FIN_ACF_MAX_LAG : 0) + (k - 1);
	if (*seen)
		return fin_fail(err, FIN_EDATA, "%s:%ld: fact '%s' given twice", fin_input_name(in),
				row->line, fin_quote_field(shown, sizeof shown, name, len));
	*seen = 1;
	v = (abs_lag ? a->acf_abs : a->acf) + (size_t)(k - 1) * a->ncols;
	if (abs_lag && (size_t)k > a->abs_lags)
		a->abs_lags = (size_t)k;
	if (lag && (size_t)k > a->lags)
		a->lags = (size_t)k;
	++*facts;
	return row_values(a, in, row, v, present, err);
}

int fin_acf_read(fin_acf *a, fin_input *in, fin_err *err)
{
	size_t rows = 0, facts = 0, present = 0;
	fin_row *row;
	int got, rc;

	while ((got = fin_input_next(in, &row, err)) > 0) {
		rows++;
		if ((rc = read_row(a, in, row, &present, &facts, err)) != FIN_OK)
			return rc;
	}
	if (got < 0)
		return -got;
	if (rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (facts == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no row acf_K or acf_abs_K: " FACTS_HINT,
				fin_input_name(in));
	if (present == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: every autocorrelation is missing",
				fin_input_name(in));
	if (!isnan(a->n))
		a->band = 1.96 / sqrt(a->n);
	return FIN_OK;
}

/* The lags 1..n and column j of v [lags][ncols]. */
static void column(const fin_acf *a, const double *v, size_t n, size_t j, double *lag,
		   double *out)
{
	size_t k;

	for (k = 0; k < n; k++) {
		lag[k] = (double)(k + 1);
		out[k] = v[k * a->ncols + j];
	}
}

int fin_acf_draw(const fin_acf *a, fin_plot *p, fin_err *err)
{
	enum { KEYS = 2 * FIN_PLOT_COLOURS + 1 };
	size_t longest = a->lags > a->abs_lags ? a->lags : a->abs_lags, npoints = 0, nkeys = 0;
	size_t j, k, half;
	fin_plot_axis x = { .label = "lag", .min = 1, .max = (double)longest };
	fin_plot_axis y = { .label = "autocorrelation" };
	fin_plot_key keys[KEYS];
	char (*text)[256] = malloc(KEYS * sizeof *text);
	double *lag = malloc(longest * sizeof *lag), *v = malloc(longest * sizeof *v);
	double *px = malloc(2 * longest * a->ncols * sizeof *px);
	double *py = malloc(2 * longest * a->ncols * sizeof *py);
	double lo = 0, hi = 0;
	enum fin_plot_corner corner;
	int rc = FIN_OK;

	if (!text || !lag || !v || !px || !py) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	/* every dot, for the range and the legend's corner */
	for (j = 0; j < a->ncols; j++)
		for (half = 0; half < 2; half++) {
			size_t n = half ? a->abs_lags : a->lags;
			column(a, half ? a->acf_abs : a->acf, n, j, lag, v);
			for (k = 0; k < n; k++) {
				px[npoints] = lag[k];
				py[npoints++] = v[k];
				if (!isnan(v[k])) {
					lo = fmin(lo, v[k]);
					hi = fmax(hi, v[k]);
				}
			}
		}
	if (!isnan(a->band)) {
		lo = fmin(lo, -a->band);
		hi = fmax(hi, a->band);
	}
	y.min = lo;
	y.max = hi;
	fin_plot_pad(&x.min, &x.max, 0.04, FIN_PLOT_LINEAR);
	fin_plot_pad(&y.min, &y.max, 0.06, FIN_PLOT_LINEAR);
	rc = fin_plot_axes(p, &x, &y, err);
	if (rc == FIN_OK)
		rc = fin_plot_rule(p, 0, 0, &(fin_plot_pen){ FIN_PLOT_GREY, 0, 0 }, err);
	if (!isnan(a->band)) {
		fin_plot_pen band = { FIN_PLOT_GREY, 1, 0 };
		if (rc == FIN_OK)
			rc = fin_plot_rule(p, a->band, 0, &band, err);
		if (rc == FIN_OK)
			rc = fin_plot_rule(p, -a->band, 0, &band, err);
	}
	for (j = 0; rc == FIN_OK && j < a->ncols; j++)
		for (half = 0; rc == FIN_OK && half < 2; half++) {
			size_t n = half ? a->abs_lags : a->lags;
			fin_plot_pen pen = { (int)j, (int)half, 0 };
			if (n == 0)
				continue;
			column(a, half ? a->acf_abs : a->acf, n, j, lag, v);
			snprintf(text[nkeys], sizeof text[nkeys], "%s: %s", a->names[a->cols[j]],
				 half ? "|r|" : "r");
			keys[nkeys] = (fin_plot_key){ text[nkeys], FIN_PLOT_KEY_LINE, pen };
			nkeys++;
			rc = fin_plot_line(p, lag, v, n, &pen, err);
			if (rc == FIN_OK)
				rc = fin_plot_points(p, lag, v, n, &(fin_plot_pen){ (int)j, 0, 0 }, err);
		}
	if (!isnan(a->band)) {
		snprintf(text[nkeys], sizeof text[nkeys], "\xc2\xb1" "1.96/\xe2\x88\x9an, n = %.17g",
			 a->n);
		keys[nkeys] = (fin_plot_key){ text[nkeys], FIN_PLOT_KEY_LINE, { FIN_PLOT_GREY, 1, 0 } };
		nkeys++;
	}
	if (rc == FIN_OK)
		rc = fin_plot_legend_corner(p, keys, nkeys, px, py, npoints, &corner, err);
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, nkeys, corner, err);
done:
	free(text);
	free(lag);
	free(v);
	free(px);
	free(py);
	return rc;
}

void fin_acf_free(fin_acf *a)
{
	free(a->cols);
	free(a->acf);
	free(a->acf_abs);
	free(a->seen);
	memset(a, 0, sizeof *a);
}
