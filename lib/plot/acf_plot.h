/* fin-plot acf: the autocorrelations of returns and of absolute returns by
 * lag, from the stylized facts fin-gen --facts --format csv writes (a row
 * per fact, a column per series), each series against the first, with
 * the band white noise stays in. */
#ifndef FIN_ACF_PLOT_H
#define FIN_ACF_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "plot/plot.h"

/* Lags read at most. */
enum { FIN_ACF_MAX_LAG = 1000 };

typedef struct fin_acf {
	char *const *names;     /* the input's header (borrowed) */
	size_t *cols, ncols;    /* the series drawn; the first gives the band */
	double *acf, *acf_abs;  /* [FIN_ACF_MAX_LAG][ncols]: acf_k and acf_abs_k at
				 * [k - 1]; NaN when missing or not given */
	size_t lags, abs_lags;  /* the largest lag of each given */
	unsigned char *seen;    /* [2][FIN_ACF_MAX_LAG] the rows read, against repeats */
	int seen_n;             /* the row n was read */
	double n;               /* the first series' n: NaN without the row n */
	double band;            /* 1.96 / sqrt(n); NaN without n */
} fin_acf;

/* Checks the header of in (read): the facts' names in the first column,
 * headed "fact", and the series in cols[0..ncols)
 * (-c, each entry a list), or without them every other column. At most
 * FIN_PLOT_COLOURS series. FIN_EDATA for a header that is not the facts',
 * FIN_EUSAGE for an unknown column or a bad choice. */
int fin_acf_columns(fin_acf *a, fin_input *in, char *const *cols, size_t ncols, fin_err *err);

/* Reads the rows acf_K and acf_abs_K (K from 1 to FIN_ACF_MAX_LAG) and n,
 * and passes over the other facts. A value that is not a number, a fact
 * given twice or an n below 1 is a data error; a missing value is a gap
 * in its line. FIN_ENOROWS without rows, without an acf row, or when
 * every value of those rows is missing. */
int fin_acf_read(fin_acf *a, fin_input *in, fin_err *err);

/* Draws the axes, for each series the autocorrelations of returns (solid)
 * and of absolute returns (dashed), a dot at each lag, the zero line, the
 * band at +-1.96/sqrt(n) (dashed grey) and the legend. */
int fin_acf_draw(const fin_acf *a, fin_plot *p, fin_err *err);

void fin_acf_free(fin_acf *a);

#endif
