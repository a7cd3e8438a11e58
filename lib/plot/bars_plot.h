/* fin-plot bars: values by name as a sorted bar chart, largest on top,
 * with error bars (fin-explain --method permutation: feature, importance
 * and sd). */
#ifndef FIN_BARS_PLOT_H
#define FIN_BARS_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "plot/plot.h"

/* The columns of fin-explain --method permutation. */
#define FIN_BARS_NAME_COLUMN "feature"
#define FIN_BARS_VALUE_COLUMN "importance"
#define FIN_BARS_ERROR_COLUMN "sd"

typedef struct fin_bars {
	char *const *names;  /* the input's header (borrowed) */
	size_t name, value;  /* the columns of the bars' names and values */
	long error;          /* the column of their errors, or -1 */
	/* the bars, sorted by value, largest first */
	char **label;
	double *v, *e;       /* e NaN where the error is missing */
	size_t rows, cap;
	size_t left_out;     /* rows without a name or a value */
	size_t shown;        /* the bars drawn: all, or the --top largest */
} fin_bars;

/* Chooses the columns in the header of in: cols[0..ncols) (-c, each entry
 * a list) must name two, the names and the values; without them,
 * FIN_BARS_NAME_COLUMN and FIN_BARS_VALUE_COLUMN. The errors are the
 * column error names, or without -c and error FIN_BARS_ERROR_COLUMN when
 * the header has it. FIN_EUSAGE for an unknown column. */
int fin_bars_columns(fin_bars *b, fin_input *in, char *const *cols, size_t ncols,
		     const char *error, fin_err *err);

/* Reads the rows and sorts them by value, largest first (equal values in
 * input order); top (when not 0) keeps the largest. A value or error that
 * is not a number, or an error below 0, is a data error naming its line;
 * a row without a name or a value is left out. FIN_ENOROWS without a
 * row kept. */
int fin_bars_read(fin_bars *b, fin_input *in, size_t top, fin_err *err);

/* Draws the axes, the bars with their names, the error bars (the value
 * plus and minus the error) and the legend. */
int fin_bars_draw(const fin_bars *b, fin_plot *p, fin_err *err);

void fin_bars_free(fin_bars *b);

#endif
