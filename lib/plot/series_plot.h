/* fin-plot series: columns as lines over a key, numbers or ISO dates
 * (dates on the axis), or over the row number without a key; as they are
 * or as running totals; from one table or from several on one frame. */
#ifndef FIN_SERIES_PLOT_H
#define FIN_SERIES_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "plot/plot.h"

/* What a drawn column becomes: its values, their running sum, or the
 * running product of 1 + value (the growth of 1). */
enum fin_series_total { FIN_SERIES_AS_IS, FIN_SERIES_SUM, FIN_SERIES_COMPOUND };

typedef struct fin_series {
	char *const *names;      /* the input's header (borrowed) */
	long key;                /* the key column, or -1: the row number */
	size_t *cols, ncols;     /* the columns drawn */
	enum fin_plot_scale xscale; /* FIN_PLOT_TIME for dates, else linear */
	double *x;               /* [rows]: the key as a number, or seconds */
	double *y;               /* [rows][ncols]; NaN where a value is missing */
	size_t rows, cap;
	size_t missing;          /* values missing */
	enum fin_series_total total; /* what y holds (fin_series_cumulate) */
} fin_series;

/* Chooses the columns in the header of in (read): the key named by key
 * (NULL for none), and the columns of cols[0..ncols) (-c, each entry a
 * list), or without them every column but the key whose field in the
 * first row is a number or missing. At most FIN_PLOT_COLOURS columns.
 * FIN_EUSAGE for an unknown column or a bad choice. */
int fin_series_columns(fin_series *s, fin_input *in, const char *key, char *const *cols,
		       size_t ncols, fin_err *err);

/* Reads the rows: the key must be a number or an ISO date in every row,
 * of one kind, never going back (fin_key_order); a value that is not a
 * number is a data error; a missing value breaks its line. FIN_ENOROWS
 * without rows, or when every value is missing. */
int fin_series_read(fin_series *s, fin_input *in, fin_err *err);

/* Replaces each column read by its running total from the first row, as
 * how says: the sum of the values up to the row, or the product of 1 +
 * value. The total starts at 0 (1 for the product); a missing value
 * leaves it as it was and stays missing, so the line breaks there while
 * the total carries on. */
void fin_series_cumulate(fin_series *s, enum fin_series_total how);

/* Draws the axes, a line for each column and their legend. */
int fin_series_draw(const fin_series *s, fin_plot *p, fin_err *err);

/* Draws the columns of n tables read from files[0..n) on one frame, each
 * over its own key, in one sequence of colours, the legend naming
 * "FILE: COLUMN": each file by its base name when that keeps the entries
 * distinct, else as given. The keys must all be dates or all numbers
 * (FIN_EDATA), and the tables hold FIN_PLOT_COLOURS columns at most. */
int fin_series_draw_files(const fin_series *s, char *const *files, size_t n, fin_plot *p,
			  fin_err *err);

void fin_series_free(fin_series *s);

#endif
