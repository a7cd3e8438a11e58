#include <gsl/gsl_histogram.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/columns.h"
#include "io/numio.h"
#include "plot/hist_plot.h"

int fin_hist_columns(fin_hist *h, fin_input *in, const char *score, const char *label,
		     double threshold, size_t bins, fin_err *err)
{
	const char *file = fin_input_name(in);
	char **names;
	size_t n, col;
	int rc;

	memset(h, 0, sizeof *h);
	h->label = h->flag = -1;
	h->bins = bins;
	h->threshold = threshold;
	h->threshold_given = !isnan(threshold);
	h->calm_max = h->flagged_min = NAN;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	h->names = names;
	if ((rc = fin_column_one("--score", score, names, n, file, &h->score, err)) != FIN_OK)
		return rc;
	if (label) {
		if ((rc = fin_column_one("--label", label, names, n, file, &col, err)) != FIN_OK)
			return rc;
		if (col == h->score)
			return fin_fail(err, FIN_EUSAGE, "--label: column '%s' holds the scores",
					names[col]);
		h->label = (long)col;
	}
	if (!h->threshold_given) {
		h->flag = fin_column_find(names, n, FIN_HIST_FLAG_COLUMN);
		if (h->flag == (long)h->score || h->flag == h->label)
			h->flag = -1;
	}
	return FIN_OK;
}

static int grow(fin_hist *h, fin_err *err)
{
	size_t cap = h->cap ? 2 * h->cap : 1024;
	double *x = realloc(h->x, cap * sizeof *x);
	size_t *g;

	if (x)
		h->x = x;
	g = x ? realloc(h->group, cap * sizeof *g) : NULL;
	if (!g)
		return fin_fail(err, FIN_EDATA, "out of memory");
	h->group = g;
	h->cap = cap;
	return FIN_OK;
}

/* The place of a row's label among those met, added when new. */
static int group_of(fin_hist *h, const fin_row *row, const char *file, size_t *g, fin_err *err)
{
	const char *s = row->fields[h->label];
	size_t len = row->lens[h->label], i;
	char **labels;

	for (i = 0; i < h->nlabels; i++)
		if (strlen(h->labels[i]) == len && memcmp(h->labels[i], s, len) == 0) {
			*g = i;
			return FIN_OK;
		}
	if (h->nlabels == FIN_PLOT_COLOURS)
		return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s' holds more than %d labels: "
				"--label splits the scores by a few", file, row->line,
				h->names[h->label], FIN_PLOT_COLOURS);
	if (!(labels = realloc(h->labels, (h->nlabels + 1) * sizeof *labels)) ||
	    !(labels[h->nlabels] = strndup(s, len))) {
		if (labels)
			h->labels = labels;
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	h->labels = labels;
	*g = h->nlabels++;
	return FIN_OK;
}

/* A flag: 0 or 1. */
static int take_flag(fin_hist *h, const fin_row *row, const char *file, double score,
		     fin_err *err)
{
	char shown[200];
	double v;
	enum fin_num kind = fin_parse_double(row->fields[h->flag], row->lens[h->flag], &v);

	if (kind == FIN_NUM_NA)
		return FIN_OK;
	if (kind != FIN_NUM_OK || (v != 0 && v != 1))
		return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a flag (0 or 1): '%s'",
				file, row->line, h->names[h->flag],
				fin_quote_field(shown, sizeof shown, row->fields[h->flag],
						row->lens[h->flag]));
	if (v == 1 && !(score >= h->flagged_min))
		h->flagged_min = score;
	if (v == 0 && !(score <= h->calm_max))
		h->calm_max = score;
	return FIN_OK;
}

static int by_label(const void *a, const void *b, void *numeric)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	if (*(int *)numeric) {
		double u = strtod(x, NULL), v = strtod(y, NULL);
		if (u != v)
			return u < v ? -1 : 1;
	}
	return strcmp(x, y);
}

/* The labels in numeric order when every one is a number, in byte order
 * otherwise; the groups follow. */
static int sort_labels(fin_hist *h, fin_err *err)
{
	char **sorted;
	size_t place[FIN_PLOT_COLOURS], i, j;
	int numeric = 1;

	if (h->nlabels == 0)
		return FIN_OK;
	if (!(sorted = malloc(h->nlabels * sizeof *sorted)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < h->nlabels; i++) {
		double v;
		sorted[i] = h->labels[i];
		numeric &= fin_parse_double(h->labels[i], strlen(h->labels[i]), &v) == FIN_NUM_OK;
	}
	qsort_r(sorted, h->nlabels, sizeof *sorted, by_label, &numeric);
	for (i = 0; i < h->nlabels; i++)
		for (j = 0; j < h->nlabels; j++)
			if (sorted[j] == h->labels[i])
				place[i] = j;
	for (i = 0; i < h->rows; i++)
		h->group[i] = place[h->group[i]];
	free(h->labels);
	h->labels = sorted;
	return FIN_OK;
}

/* Counts the scores of each group into the bins. */
static int count(fin_hist *h, fin_err *err)
{
	size_t groups = h->nlabels ? h->nlabels : 1, i, g;
	gsl_histogram *hist = gsl_histogram_alloc(h->bins);
	int rc = FIN_OK;

	h->counts = calloc(groups * h->bins, sizeof *h->counts);
	h->edges = malloc((h->bins + 1) * sizeof *h->edges);
	if (!hist || !h->counts || !h->edges) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	fin_plot_span(h->x, h->rows, FIN_PLOT_LINEAR, &h->lo, &h->hi);
	if (h->hi == h->lo)
		fin_plot_pad(&h->lo, &h->hi, 0, FIN_PLOT_LINEAR);
	gsl_histogram_set_ranges_uniform(hist, h->lo, h->hi);
	memcpy(h->edges, hist->range, (h->bins + 1) * sizeof *h->edges);
	for (g = 0; g < groups; g++) {
		gsl_histogram_reset(hist);
		for (i = 0; i < h->rows; i++) {
			if (h->group[i] != g)
				continue;
			/* the highest score goes into the last bin, whose
			 * upper edge GSL leaves out */
			gsl_histogram_increment(hist, h->x[i] < h->hi ? h->x[i]
								     : hist->range[h->bins - 1]);
		}
		for (i = 0; i < h->bins; i++)
			h->counts[g * h->bins + i] = gsl_histogram_get(hist, i);
	}
done:
	if (hist)
		gsl_histogram_free(hist);
	return rc;
}

int fin_hist_read(fin_hist *h, fin_input *in, fin_err *err)
{
	char shown[200];
	fin_row *row;
	int got, rc;

	while ((got = fin_input_next(in, &row, err)) > 0) {
		const char *file = fin_input_name(in);
		double score;
		size_t g = 0;
		switch (fin_parse_double(row->fields[h->score], row->lens[h->score], &score)) {
		case FIN_NUM_OK:
			break;
		case FIN_NUM_NA:
			h->left_out++;
			continue;
		case FIN_NUM_BAD:
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
					file, row->line, h->names[h->score],
					fin_quote_field(shown, sizeof shown, row->fields[h->score],
							row->lens[h->score]));
		}
		if (h->label >= 0 && fin_is_na(row->fields[h->label], row->lens[h->label])) {
			h->left_out++;
			continue;
		}
		if ((h->label >= 0 && (rc = group_of(h, row, file, &g, err)) != FIN_OK) ||
		    (h->flag >= 0 && (rc = take_flag(h, row, file, score, err)) != FIN_OK) ||
		    (h->rows == h->cap && (rc = grow(h, err)) != FIN_OK))
			return rc;
		h->x[h->rows] = score;
		h->group[h->rows++] = g;
	}
	if (got < 0)
		return -got;
	if (h->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no row with a score", fin_input_name(in));
	if (!isnan(h->calm_max) && !isnan(h->flagged_min)) {
		if (!(h->calm_max < h->flagged_min))
			return fin_fail(err, FIN_EDATA, "column '%s' flags a score of %g and leaves one "
					"of %g: no threshold flags the scores above it so",
					h->names[h->flag], h->flagged_min, h->calm_max);
		h->threshold = (h->calm_max + h->flagged_min) / 2;
	}
	if ((rc = sort_labels(h, err)) != FIN_OK)
		return rc;
	return count(h, err);
}

int fin_hist_draw(const fin_hist *h, fin_plot *p, fin_err *err)
{
	size_t groups = h->nlabels ? h->nlabels : 1, g;
	fin_plot_axis x = { .label = h->names[h->score], .min = h->lo, .max = h->hi };
	fin_plot_axis y = { .label = "rows" };
	fin_plot_key keys[FIN_PLOT_COLOURS + 1];
	char text[FIN_PLOT_COLOURS + 1][256];
	size_t nkeys = 0;
	int rc;

	if (!isnan(h->threshold)) {
		x.min = fmin(x.min, h->threshold);
		x.max = fmax(x.max, h->threshold);
	}
	fin_plot_pad(&x.min, &x.max, 0.03, FIN_PLOT_LINEAR);
	y.min = 0;
	fin_plot_span(h->counts, groups * h->bins, FIN_PLOT_LINEAR, &y.min, &y.max);
	y.min = 0;
	y.max *= 1.08;
	rc = fin_plot_axes(p, &x, &y, err);
	for (g = 0; rc == FIN_OK && g < groups; g++) {
		fin_plot_pen pen = { (int)g, 0, groups > 1 };
		if (h->nlabels)
			snprintf(text[nkeys], sizeof text[nkeys], "%s = %s", h->names[h->label],
				 h->labels[g]);
		keys[nkeys] = (fin_plot_key){ h->nlabels ? text[nkeys] : h->names[h->score],
					      FIN_PLOT_KEY_BOX, pen };
		nkeys++;
		rc = fin_plot_bars(p, h->edges, h->edges + 1, h->counts + g * h->bins, h->bins, 0,
				   &pen, err);
	}
	if (rc == FIN_OK && !isnan(h->threshold)) {
		fin_plot_pen pen = { FIN_PLOT_INK, 1, 0 };
		snprintf(text[nkeys], sizeof text[nkeys], "threshold %.6g", h->threshold);
		keys[nkeys] = (fin_plot_key){ text[nkeys], FIN_PLOT_KEY_LINE, pen };
		nkeys++;
		rc = fin_plot_rule(p, h->threshold, 1, &pen, err);
	}
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, nkeys, FIN_PLOT_TOP_RIGHT, err);
	return rc;
}

void fin_hist_free(fin_hist *h)
{
	size_t i;

	for (i = 0; i < h->nlabels; i++)
		free(h->labels[i]);
	free(h->labels);
	free(h->x);
	free(h->group);
	free(h->counts);
	free(h->edges);
	memset(h, 0, sizeof *h);
}
