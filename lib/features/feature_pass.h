/* The features of a scanned table (fin_table_read with scan set) read in
 * passes over its input, in batches: each pass gives the rows the scan
 * kept, in order, with the values reading them all into memory would give.
 * The fits that hold no rows read their data this way (fin-anomaly,
 * fin-cluster); a pass after the first rewinds the input (fin_input_rewind),
 * so standard input must have been spooled (fin_input_spool). */
#ifndef FIN_FEATURE_PASS_H
#define FIN_FEATURE_PASS_H

#include <stddef.h>

#include "core/err.h"
#include "features/feature_reader.h"
#include "features/table.h"
#include "io/input.h"

typedef struct fin_feature_pass {
	fin_input *in;
	char **feat;           /* the table's features, and their encoding (or */
	size_t nfeat;          /* the model's, read with it) */
	const fin_encoding *enc;
	enum fin_na na;
	fin_features f;
	size_t width;          /* features a row */
	size_t cap, n;         /* rows a batch holds, and holds now */
	float *x;              /* [cap][width] */
	size_t rows, expected; /* rows given in this pass, and the rows the scan kept */
	size_t passes;         /* passes started */
} fin_feature_pass;

/* Sets up passes over in for a scanned table: its features feat[0..nfeat),
 * made from the input columns by enc (NULL, or one without text columns,
 * when each feature is a number column of that name), of which the scan
 * kept rows; batches of cap rows. The scan itself was the first pass. */
int fin_feature_pass_init(fin_feature_pass *p, fin_input *in, char **feat, size_t nfeat,
			  const fin_encoding *enc, size_t rows, enum fin_na na, size_t cap,
			  fin_err *err);

/* Starts a pass from the input's first row. */
int fin_feature_pass_start(fin_feature_pass *p, fin_err *err);

/* Reads the next batch into p->x, p->n rows: 1 when there is one, 0 at the
 * end of the pass, or an error code (negated). A pass that does not give
 * the rows the scan kept is a data error: the input changed. */
int fin_feature_pass_next(fin_feature_pass *p, fin_err *err);

void fin_feature_pass_free(fin_feature_pass *p);

#endif
