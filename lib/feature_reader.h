/* Reading a model's feature columns from streamed rows, found by name,
 * with the missing-value policy applied. */
#ifndef FIN_FEATURE_READER_H
#define FIN_FEATURE_READER_H

#include <stddef.h>

#include "csv_reader.h"
#include "err.h"
#include "numio.h"
#include "window.h"

typedef struct fin_features {
	size_t n;
	size_t *col;       /* input column of each feature */
	double *last;      /* last value seen, for ffill */
	char *const *names;/* the input's header */
	enum fin_na na;
	size_t filled, skipped;
} fin_features;

/* Finds each of want[0..n) among the header names; a missing one is a
 * data error naming it and owner (the model or detector file). */
int fin_features_bind(fin_features *f, char *const *want, size_t n, char *const *names,
		      size_t nnames, enum fin_na na, const char *input, const char *owner,
		      fin_err *err);
void fin_features_free(fin_features *f);

/* Parses column col of row (named name, in file) as a feature value:
 * FIN_NUM_OK with *v set, FIN_NUM_NA, or FIN_NUM_BAD with err filled for
 * a value that is not a number or lies beyond the float32 range. */
enum fin_num fin_feature_parse(const fin_row *row, size_t col, const char *name,
			       const char *file, double *v, fin_err *err);

/* Reads the features of row into out[0..n). Returns FIN_OK, -1 when the
 * row is to be left out (a missing value under skip, or under ffill with
 * nothing before it), or FIN_EDATA. */
int fin_features_read(fin_features *f, const fin_row *row, const char *file, float *out,
		      fin_err *err);

#endif
