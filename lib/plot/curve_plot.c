#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/columns.h"
#include "plot/curve_plot.h"

int fin_curves_columns(fin_curves *c, fin_input *in, enum fin_curve_kind kind, const char *actual,
		       char *const *scores, size_t nscores, const char *positive, fin_err *err)
{
	const char *file = fin_input_name(in);
	char **names, fallback[512], *fallbacks[1] = { fallback };
	size_t n, *idx = NULL, count = 0, i, j;
	int rc;

	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->positive = positive;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	c->names = names;
	if ((rc = fin_column_one("--actual", actual, names, n, file, &c->actual, err)) != FIN_OK)
		return rc;
	if (!nscores) {
		snprintf(fallback, sizeof fallback, "p_%s", positive);
		scores = fallbacks;
		nscores = 1;
	}
	if ((rc = fin_columns_select(scores, nscores, names, n, &idx, &count, err)) != FIN_OK) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return fin_fail(err, rc, "%s:1: --score: %s", file, why);
	}
	if (count > FIN_PLOT_COLOURS) {
		free(idx);
		return fin_fail(err, FIN_EUSAGE, "--score: %zu columns: at most %d", count,
				FIN_PLOT_COLOURS);
	}
	for (i = 0; i < count; i++) {
		for (j = 0; j < i; j++)
			if (idx[j] == idx[i])
				rc = fin_fail(err, FIN_EUSAGE, "--score: column '%s' given twice",
					      names[idx[i]]);
		if (idx[i] == c->actual)
			rc = fin_fail(err, FIN_EUSAGE, "--score: column '%s' holds the actual labels",
				      names[idx[i]]);
		c->scores[i] = idx[i];
	}
	c->nscores = count;
	free(idx);
	return rc;
}

int fin_curves_read(fin_curves *c, fin_input *in, fin_err *err)
{
	fin_eval_spec spec = { .num = c->scores, .nnum = c->nscores, .text = (long)c->actual,
			       .na = FIN_NA_SKIP, .keep_gaps = 1 };
	const fin_eval_input *d = &c->d;
	const char **labels = NULL;
	unsigned char *y = NULL, *label = NULL;
	double *score = NULL;
	int *id = NULL, rc;
	size_t i, j;

	if ((rc = fin_eval_read(&c->d, in, &spec, err)) != FIN_OK)
		return rc;
	if (d->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "no row has an actual label ('%s')",
				c->names[c->actual]);
	y = malloc(d->rows);
	label = malloc(d->rows);
	score = malloc(d->rows * sizeof *score);
	id = malloc(d->rows * sizeof *id);
	if (!y || !label || !score || !id) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_eval_labels(d, &labels, &c->labels, id, err)) != FIN_OK)
		goto done;
	for (i = 0; i < d->rows; i++)
		c->positives += y[i] = (unsigned char)fin_label_is(fin_eval_text(d, i), c->positive);
	c->prevalence = (double)c->positives / (double)d->rows;
	for (j = 0; j < c->nscores; j++) {
		size_t n = 0, pos = 0;
		for (i = 0; i < d->rows; i++) {
			double v = d->x[i * d->nnum + j];
			if (isnan(v))
				continue;
			score[n] = v;
			pos += label[n] = y[i];
			n++;
		}
		c->scored[j] = n;
		if (pos == 0 || (c->kind == FIN_CURVE_ROC && pos == n)) {
			rc = fin_fail(err, FIN_EDATA, "%s: no curve of '%s': %s of its %zu rows has %s "
				      "'%s' (see --positive)", fin_input_name(in),
				      c->names[c->scores[j]], pos ? "every one" : "none",
				      n, c->names[c->actual], c->positive);
			goto done;
		}
		rc = c->kind == FIN_CURVE_ROC ? fin_roc_curve(score, label, n, &c->curve[j], err)
					      : fin_pr_curve(score, label, n, &c->curve[j], err);
		if (rc != FIN_OK)
			goto done;
	}
done:
	free(labels);
	free(y);
	free(label);
	free(score);
	free(id);
	return rc;
}

int fin_curves_draw(const fin_curves *c, fin_plot *p, fin_err *err)
{
	int roc = c->kind == FIN_CURVE_ROC;
	fin_plot_axis x = { .label = roc ? "false positive rate" : "recall", .min = 0, .max = 1 };
	fin_plot_axis y = { .label = roc ? "true positive rate" : "precision", .min = 0, .max = 1 };
	fin_plot_pen chance = { FIN_PLOT_GREY, 1, 0 };
	fin_plot_key keys[FIN_PLOT_COLOURS + 1];
	char text[FIN_PLOT_COLOURS + 1][256];
	double cx[2] = { 0, 1 }, cy[2] = { roc ? 0 : c->prevalence, roc ? 1 : c->prevalence };
	size_t j;
	int rc;

	fin_plot_pad(&x.min, &x.max, 0.02, FIN_PLOT_LINEAR);
	fin_plot_pad(&y.min, &y.max, 0.02, FIN_PLOT_LINEAR);
	rc = fin_plot_axes(p, &x, &y, err);
	if (rc == FIN_OK)
		rc = fin_plot_line(p, cx, cy, 2, &chance, err);
	for (j = 0; rc == FIN_OK && j < c->nscores; j++) {
		snprintf(text[j], sizeof text[j], "%s (%s %.3f)", c->names[c->scores[j]],
			 roc ? "AUC" : "AP", c->curve[j].area);
		keys[j] = (fin_plot_key){ text[j], FIN_PLOT_KEY_LINE, { (int)j, 0, 0 } };
		rc = fin_plot_line(p, c->curve[j].x, c->curve[j].y, c->curve[j].n, &keys[j].pen,
				   err);
	}
	snprintf(text[j], sizeof text[j], "chance (%s %.3f)", roc ? "AUC" : "AP",
		 roc ? 0.5 : c->prevalence);
	keys[j] = (fin_plot_key){ text[j], FIN_PLOT_KEY_LINE, chance };
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, c->nscores + 1,
				     roc ? FIN_PLOT_BOTTOM_RIGHT : FIN_PLOT_TOP_RIGHT, err);
	return rc;
}

void fin_curves_free(fin_curves *c)
{
	size_t j;

	for (j = 0; j < c->nscores; j++)
		fin_curve_free(&c->curve[j]);
	fin_eval_input_free(&c->d);
	memset(c, 0, sizeof *c);
}
