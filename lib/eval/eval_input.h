/* The columns an evaluation reads, held in memory: some as numbers, one
 * as text (the labels), with the missing-value policy applied. */
#ifndef FIN_EVAL_INPUT_H
#define FIN_EVAL_INPUT_H

#include <stddef.h>
#include <string.h>

#include "core/err.h"
#include "features/window.h"
#include "io/input.h"

typedef struct fin_eval_spec {
	const size_t *num;   /* input columns read as numbers */
	size_t nnum;
	long text;           /* the input column read as text, or -1 */
	int has_text2;       /* a second column read as text, kept after it */
	size_t text2;        /* (fin_eval_text2) */
	/* Keep only the num columns whose field in the first row is a number
	 * or missing (the default features: every numeric column). */
	int numeric_first_row;
	enum fin_na na;      /* FIN_NA_ERROR or FIN_NA_SKIP */
	/* Under skip, keep a row with a missing number, NaN in its place, so
	 * that rows keep their positions (a row missing its text is left out
	 * all the same). */
	int keep_gaps;
} fin_eval_spec;

typedef struct fin_eval_input {
	size_t rows;         /* rows kept */
	long text_col;       /* the input column read as text, or -1 */
	size_t nnum;
	size_t *num;         /* the columns read as numbers, [nnum] */
	double *x;           /* [rows][nnum] */
	char *text;          /* each kept row's text field, NUL-ended, one after another */
	size_t *text_at;     /* [rows] where each row's text starts */
	size_t text_len, text_cap, cap;
	size_t read;         /* data rows read */
	size_t gaps;         /* rows with a missing value, left out or (keep_gaps) kept */
} fin_eval_input;

/* Reads every row of in, whose header has been read. A field that is not
 * a number is a data error naming the file, line and column; so is a
 * missing value under FIN_NA_ERROR. No rows at all is FIN_ENOROWS. Free
 * d after a failure too. */
int fin_eval_read(fin_eval_input *d, fin_input *in, const fin_eval_spec *spec, fin_err *err);
void fin_eval_input_free(fin_eval_input *d);

/* The text of row i. */
static inline const char *fin_eval_text(const fin_eval_input *d, size_t i)
{
	return d->text + d->text_at[i];
}

/* The second text of row i (spec->has_text2). */
static inline const char *fin_eval_text2(const fin_eval_input *d, size_t i)
{
	const char *t = fin_eval_text(d, i);
	return t + strlen(t) + 1;
}

/* The distinct texts of the rows as labels, in numeric order when every
 * one is a number, in byte order otherwise: *labels (free it; its strings
 * point into d) holds *nlabels of them, and id[i] is row i's. */
int fin_eval_labels(const fin_eval_input *d, const char ***labels, size_t *nlabels, int *id,
		    fin_err *err);

/* True when a label is the value given: the same text, or the same
 * number ("1.0" is 1). */
int fin_label_is(const char *label, const char *value);

#endif
