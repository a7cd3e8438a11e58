/* fin-plot scatter: a dot for each row at two columns, or at the first two
 * principal components of more (--pca), coloured by the values of a
 * column (a cluster, a label). */
#ifndef FIN_SCATTER_PLOT_H
#define FIN_SCATTER_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "features/dict.h"
#include "io/input.h"
#include "plot/plot.h"

/* Distinct values of the colour column at most: the data colours, then
 * the same again pale (translucent). */
enum { FIN_SCATTER_VALUES = 2 * FIN_PLOT_COLOURS };

typedef struct fin_scatter {
	char *const *names;  /* the input's header (borrowed) */
	size_t *cols, ncols; /* x and y, or the features of --pca */
	long colour;         /* the colour column, or -1 */
	int pca, standardise;
	double *v;           /* [rows][ncols] the values of the rows drawn */
	size_t *code;        /* [rows] each row's colour value, as a code of values */
	size_t rows, cap;
	size_t left_out;     /* rows not drawn: a value missing */
	fin_dict values;     /* the colour column's values, coded in order of appearance */
	size_t *rank;        /* [values.n] each code's place in the legend, values sorted */
	double *x, *y;       /* [rows] where the dots go */
	double share[2];     /* --pca: the share of the variance of PC1 and PC2 */
} fin_scatter;

/* Chooses the columns in the header of in (read): those of cols[0..ncols)
 * (-c, each entry a list): two, x then y, or with pca set two or more
 * features; and the colour column named by colour (NULL for none).
 * FIN_EUSAGE for an unknown column or a bad choice. */
int fin_scatter_columns(fin_scatter *s, fin_input *in, char *const *cols, size_t ncols,
			const char *colour, int pca, int standardise, fin_err *err);

/* Reads the rows: a value that is not a number is a data error; a row
 * with a value missing (a colour value too) is left out. More than
 * FIN_SCATTER_VALUES distinct colour values is a data error at the row
 * that brings one more. FIN_ENOROWS without rows, or when every row is
 * left out. Then, with pca, the components (lib/features/pca.h): a data
 * error for fewer than two rows or features that do not vary. */
int fin_scatter_read(fin_scatter *s, fin_input *in, fin_err *err);

/* Draws the axes, the dots, a colour for each value, and their legend
 * (none without a colour column) in the corner where it hides fewest
 * dots. */
int fin_scatter_draw(const fin_scatter *s, fin_plot *p, fin_err *err);

void fin_scatter_free(fin_scatter *s);

#endif
