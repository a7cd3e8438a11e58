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
	size_t limit;          /* the pass ends at this row (expected: the end) */
	/* Under mpirun with --shard (by_files): the rows the scan kept before
	 * each input file, [files + 1], for the ranks' parts (see
	 * fin_feature_pass_part). */
	int by_files;
	size_t files, *file_rows;
} fin_feature_pass;

/* A rank's part of the rows of every pass under mpirun: [from, to), and
 * with by_file the first of the rank's own input files, where its passes
 * start (the files before it left unread). */
typedef struct fin_pass_part {
	size_t from, to, file;
	int by_file;
} fin_pass_part;

/* Sets up passes over in for a scanned table: its features feat[0..nfeat),
 * made from the input columns by enc (NULL, or one without text columns,
 * when each feature is a number column of that name), of which the scan
 * kept rows; batches of cap rows. The scan itself was the first pass. */
int fin_feature_pass_init(fin_feature_pass *p, fin_input *in, char **feat, size_t nfeat,
			  const fin_encoding *enc, size_t rows, enum fin_na na, size_t cap,
			  fin_err *err);

/* --shard under mpirun: each rank's part of the passes is the rows of its
 * own share of the input files (as par/dist.h shares them out), which it
 * reads alone; file_rows[files + 1] the rows the scan kept before each
 * (fin_table's). Not with --na ffill, whose values carry over from the
 * rows before a file: the parts stay runs of rows. */
int fin_feature_pass_by_files(fin_feature_pass *p, const size_t *file_rows, size_t files,
			      fin_err *err);

/* Rank r's part of the rows: by its files (fin_feature_pass_by_files), or
 * the runs of unit rows par/dist.h's fin_dist_runs gives it. */
fin_pass_part fin_feature_pass_part(const fin_feature_pass *p, int r, size_t unit);

/* Starts a pass for this rank's part q, ending at row q->to: at the first
 * row of its first file, or from the input's first row. */
int fin_feature_pass_start_part(fin_feature_pass *p, const fin_pass_part *q, fin_err *err);

/* The rows of part q in the batch just read: p->x's rows [*lo, *hi) (none
 * in the batches before the part, when it is read from the first row). */
void fin_feature_pass_part_rows(const fin_feature_pass *p, const fin_pass_part *q, size_t *lo,
				size_t *hi);

/* Starts a pass from the input's first row. */
int fin_feature_pass_start(fin_feature_pass *p, fin_err *err);



/* Reads the next batch into p->x, p->n rows: 1 when there is one, 0 at the
 * end of the pass, or an error code (negated). A pass that does not give
 * the rows the scan kept is a data error: the input changed. */
int fin_feature_pass_next(fin_feature_pass *p, fin_err *err);

void fin_feature_pass_free(fin_feature_pass *p);

#endif
