/* Reading a model's feature columns from streamed rows, found by name,
 * with the missing-value policy applied. */
#ifndef FIN_FEATURE_READER_H
#define FIN_FEATURE_READER_H

#include <stddef.h>

#include "core/err.h"
#include "features/encoding.h"
#include "features/window.h"
#include "io/csv_reader.h"
#include "io/numio.h"

typedef struct fin_features {
	size_t n;          /* input columns read */
	size_t width;      /* features they make */
	size_t *col;       /* input column of each */
	const fin_category **cat; /* [n]: its category, NULL for a number */
	double *last;      /* last value seen, for ffill */
	long *last_slot;   /* the same for a text column: its feature, -1 for none */
	char *const *names;/* the input's header */
	enum fin_na na;
	int unseen_error;  /* --unseen error: a level not seen in training is a
			    * data error, not (other) */
	size_t filled, skipped;
	size_t *unseen;    /* [n] values of levels not seen in training */
} fin_features;

/* Finds the input columns of a model or detector among the header names:
 * those of enc when it has text columns, else want[0..n), one feature
 * each. A missing one is a data error naming it and owner (the model or
 * detector file). */
int fin_features_bind(fin_features *f, char *const *want, size_t n, const fin_encoding *enc,
		      char *const *names, size_t nnames, enum fin_na na, int unseen_error,
		      const char *input, const char *owner, fin_err *err);
void fin_features_free(fin_features *f);

/* Parses column col of row (named name, in file) as a feature value:
 * FIN_NUM_OK with *v set, FIN_NUM_NA, or FIN_NUM_BAD with err filled for
 * a value that is not a number or lies beyond the float32 range. */
enum fin_num fin_feature_parse(const fin_row *row, size_t col, const char *name,
			       const char *file, double *v, fin_err *err);

/* Reads the features of row into out[0..width). Returns FIN_OK, -1 when
 * the row is to be left out (a missing value under skip, or under ffill
 * with nothing before it), or FIN_EDATA. */
int fin_features_read(fin_features *f, const fin_row *row, const char *file, float *out,
		      fin_err *err);

/* Notes for after the rows: the input columns that are neither features
 * nor passed through (pass[0..npass)), the model's target (when not NULL)
 * named as such, and the values of each text column whose level training
 * never saw. A new list of *n strings in *notes; -1 when out of memory. */
int fin_features_notes(const fin_features *f, size_t nnames, const size_t *pass, size_t npass,
		       const char *target, const char *input, char ***notes, size_t *n);

#endif
