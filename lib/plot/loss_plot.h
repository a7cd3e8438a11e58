/* fin-plot loss: the losses of each epoch from fin-train's --log, the
 * epoch whose weights fin-train kept marked. */
#ifndef FIN_LOSS_PLOT_H
#define FIN_LOSS_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/json_lines.h"
#include "plot/plot.h"

typedef struct fin_loss {
	char **names;        /* the losses drawn: the first line's fields */
	size_t nnames;
	double *epoch;       /* [rows] */
	double *v;           /* [rows][nnames], NaN where null or absent */
	size_t rows, cap;
	long kept;           /* the row of the kept epoch, or -1 */
	int log_scale;
} fin_loss;

/* Reads a log: one object a line, with a whole "epoch" above the one
 * before; the losses are the other fields of the first line but
 * "seconds", numbers or null (at most FIN_PLOT_COLOURS of them), and a
 * later line has no other field. The kept epoch is the first with the
 * lowest val_loss, which is the epoch fin-train keeps when it validates;
 * without val_loss none is marked. With log_scale every loss must be above
 * 0. Data errors name the file and line; FIN_ENOROWS without a line. */
int fin_loss_read(fin_loss *l, fin_json_lines *r, int log_scale, fin_err *err);

/* Draws the axes, a line for each loss, the kept epoch and the legend. */
int fin_loss_draw(const fin_loss *l, fin_plot *p, fin_err *err);

void fin_loss_free(fin_loss *l);

#endif
