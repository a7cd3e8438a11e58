/* Rows on their way through a model in batches: their features, and the
 * text of the columns that pass through to the output. */
#ifndef FIN_ROW_BATCH_H
#define FIN_ROW_BATCH_H

#include <stddef.h>

#include "core/err.h"
#include "features/feature_reader.h"
#include "io/csv_reader.h"
#include "io/out.h"

typedef struct fin_row_batch {
	size_t cap, n;        /* rows held at most, and now */
	size_t width;         /* features per row */
	float *x;             /* [cap][width] */
	const size_t *pass;   /* input columns passed through */
	size_t npass;
	char *text;           /* their fields, each NUL-ended */
	size_t text_len, text_cap;
	size_t *text_at;      /* [cap] where each row's fields start */
} fin_row_batch;

int fin_row_batch_init(fin_row_batch *b, size_t cap, size_t width, const size_t *pass,
		       size_t npass, fin_err *err);
void fin_row_batch_free(fin_row_batch *b);

/* Reads the features of row into the next slot and keeps its pass-through
 * fields. Returns FIN_OK, -1 when the row is left out (a missing value
 * under skip), or an error. */
int fin_row_batch_add(fin_row_batch *b, fin_features *f, const fin_row *row, const char *file,
		      fin_err *err);

/* Writes the pass-through fields of row i, each followed by a comma. */
void fin_row_batch_write_pass(const fin_row_batch *b, size_t i, fin_out *out);

/* Empties the batch for the next rows. */
void fin_row_batch_clear(fin_row_batch *b);

#endif
