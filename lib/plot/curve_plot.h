/* fin-plot roc and pr: the ROC and precision-recall curves of one or more
 * score columns against a column of actual labels, the area under each in
 * the legend, and the curve of scores without skill. */
#ifndef FIN_CURVE_PLOT_H
#define FIN_CURVE_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "eval/curves.h"
#include "eval/eval_input.h"
#include "io/input.h"
#include "plot/plot.h"

enum fin_curve_kind { FIN_CURVE_ROC, FIN_CURVE_PR };

typedef struct fin_curves {
	enum fin_curve_kind kind;
	char *const *names;     /* the input's header (borrowed) */
	const char *positive;   /* the actual label of a positive */
	size_t actual;
	size_t scores[FIN_PLOT_COLOURS], nscores;
	fin_eval_input d;       /* the scores and the actual labels */
	size_t labels;          /* distinct actual labels */
	size_t positives;       /* rows whose actual label is positive */
	double prevalence;      /* positives / rows with an actual label */
	fin_curve curve[FIN_PLOT_COLOURS];
	size_t scored[FIN_PLOT_COLOURS]; /* rows each curve is drawn from */
} fin_curves;

/* Chooses the columns in the header of in: the actual labels (actual),
 * and the scores, the columns of scores[0..nscores) (each entry a list;
 * at most FIN_PLOT_COLOURS), or p_POSITIVE without them. FIN_EUSAGE for
 * an unknown column. */
int fin_curves_columns(fin_curves *c, fin_input *in, enum fin_curve_kind kind, const char *actual,
		       char *const *scores, size_t nscores, const char *positive, fin_err *err);

/* Reads the rows and computes the curve of each score column from the
 * rows that have an actual label and that score (the others are left
 * out). A score that is not a number is a data error naming its line; so
 * is a curve without the classes it needs: a positive, and for ROC a
 * negative. FIN_ENOROWS without a row that has an actual label. */
int fin_curves_read(fin_curves *c, fin_input *in, fin_err *err);

/* Draws the axes, the line of no skill (ROC: the diagonal; PR: the
 * prevalence), the curves and the legend with their areas. */
int fin_curves_draw(const fin_curves *c, fin_plot *p, fin_err *err);

void fin_curves_free(fin_curves *c);

#endif
