/* fin-plot series: columns as lines over a key, numbers or ISO dates
 * (dates on the axis), or over the row number without a key. */
#ifndef FIN_SERIES_PLOT_H
#define FIN_SERIES_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "plot/plot.h"

typedef struct fin_series {
	char *const *names;      /* the input's header (borrowed) */
	long key;                /* the key column, or -1: the row number */
	size_t *cols, ncols;     /* the columns drawn */
	enum fin_plot_scale xscale; /* FIN_PLOT_TIME for dates, else linear */
	double *x;               /* [rows]: the key as a number, or seconds */
	double *y;               /* [rows][ncols]; NaN where a value is missing */
	size_t rows, cap;
	size_t missing;          /* values missing */
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

/* Draws the axes, a line for each column and their legend. */
int fin_series_draw(const fin_series *s, fin_plot *p, fin_err *err);

void fin_series_free(fin_series *s);

#endif
