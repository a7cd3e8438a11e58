/* fin-plot hist: the histogram of a score column (fin-anomaly's), with the
 * threshold that flags rows, split by a label column when given. */
#ifndef FIN_HIST_PLOT_H
#define FIN_HIST_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "plot/plot.h"

/* The column of fin-anomaly's flags, which the threshold is read from. */
#define FIN_HIST_FLAG_COLUMN "anomaly"

typedef struct fin_hist {
	char *const *names;   /* the input's header (borrowed) */
	size_t score;         /* the score column */
	long label;           /* the label column, or -1 */
	long flag;            /* FIN_HIST_FLAG_COLUMN's column, or -1 */
	size_t bins;
	double threshold;     /* NaN when there is none */
	int threshold_given;
	/* the rows: scores, and each row's group (its label's place in labels) */
	double *x;
	size_t *group;
	size_t rows, cap;
	char **labels;        /* the distinct labels, in the order met */
	size_t nlabels;
	size_t left_out;      /* rows missing their score or label */
	/* highest score not flagged, lowest flagged (NaN when none) */
	double calm_max, flagged_min;
	/* the histogram: bins of equal width from lo to hi, their edges
	 * [bins + 1] and their counts [nlabels or 1][bins] */
	double lo, hi;
	double *edges, *counts;
} fin_hist;

/* Chooses the columns in the header of in: the scores (score), the labels
 * (label; NULL for none) and the flags when the header has them and no
 * threshold is given (threshold NaN). FIN_EUSAGE for an unknown column. */
int fin_hist_columns(fin_hist *h, fin_input *in, const char *score, const char *label,
		     double threshold, size_t bins, fin_err *err);

/* Reads the rows and counts them into bins of equal width from the lowest
 * score to the highest (the highest in the last bin), for each label. A
 * score that is not a number, or a flag that is neither 0 nor 1, is a data
 * error naming its line; a row missing its score or label is left out.
 * The threshold, unless given, lies midway between the highest score not
 * flagged and the lowest flagged: fin-anomaly flags the scores above its
 * threshold, so it lies between them; flags that no threshold can give
 * are a data error, and without both kinds of rows there is no threshold.
 * At most FIN_PLOT_COLOURS labels. FIN_ENOROWS without a row kept. */
int fin_hist_read(fin_hist *h, fin_input *in, fin_err *err);

/* Draws the axes, the bars of each label (translucent when there are
 * several), the threshold and the legend. */
int fin_hist_draw(const fin_hist *h, fin_plot *p, fin_err *err);

void fin_hist_free(fin_hist *h);

#endif
