/* fin-mask's column operations: what is done to each column of a table
 * before it leaves the building, and doing it to one row at a time.
 *
 * Text operations (pseudonymise, mask, date truncation, drop) each stand
 * alone on their column. Numeric operations on one column chain in a fixed
 * order: noise, bottom code, top code, round, bucket. A missing value stays
 * missing (an empty field) under every operation. */
#ifndef FIN_MASK_OPS_H
#define FIN_MASK_OPS_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "core/err.h"
#include "io/csv_reader.h"
#include "privacy/pseudonym.h"

/* The operations, in the order they chain on a number. */
enum fin_mask_op {
	FIN_MASK_PSEUDONYMIZE, FIN_MASK_MASK, FIN_MASK_DATE, FIN_MASK_DROP,
	FIN_MASK_NOISE, FIN_MASK_BOTTOM_CODE, FIN_MASK_TOP_CODE, FIN_MASK_ROUND, FIN_MASK_BUCKET,
	FIN_MASK_NOPS
};

/* The option that asks for op: "--pseudonymize", ... */
const char *fin_mask_op_option(enum fin_mask_op op);

enum fin_date_unit { FIN_DATE_DAY, FIN_DATE_MONTH, FIN_DATE_YEAR };

/* One operation as given on the command line: a column list for
 * pseudonymize and drop, COL:ARG (COL[:KEEP] for mask) for the others. */
typedef struct fin_mask_spec {
	enum fin_mask_op op;
	char *arg;
} fin_mask_spec;

typedef struct fin_mask_column {
	unsigned ops;         /* bit (1 << op) for each operation on the column */
	size_t keep;          /* mask: characters kept at the end */
	enum fin_date_unit unit;
	double noise_scale, bottom, top;
	int digits;           /* round */
	long long width;      /* bucket: the width is width / 10^decimals */
	int decimals;
} fin_mask_column;

typedef struct fin_mask_plan {
	size_t n;                /* columns of the input */
	char *const *names;      /* their header names */
	fin_mask_column *col;    /* [n] */
	const fin_pseudonym_key *key;
	size_t length;           /* hex digits of a pseudonym */
	gsl_rng *rng;            /* noise, when a column has it */
	unsigned long seed;
	char *scratch;           /* the row's changed fields */
	size_t scratch_size;
} fin_mask_plan;

/* Resolves specs[0..nspecs) against the header names[0..n) of file (for
 * messages): FIN_EUSAGE for an unknown column, a bad argument, an
 * operation given twice to a column, or a text operation combined with any
 * other on its column. key and length are for pseudonyms (key may be NULL
 * when no column has one); seed starts the noise. */
int fin_mask_plan_build(fin_mask_plan *p, const fin_mask_spec *specs, size_t nspecs,
			const char *file, char *const *names, size_t n,
			const fin_pseudonym_key *key, size_t length, unsigned long seed,
			fin_err *err);
void fin_mask_plan_free(fin_mask_plan *p);

/* True when column c is left out of the output. */
static inline int fin_mask_dropped(const fin_mask_plan *p, size_t c)
{
	return (p->col[c].ops >> FIN_MASK_DROP) & 1;
}

/* Applies the plan to row (of file, for messages): out[c] and len[c] are
 * the output fields, each pointing into the row when its column is left
 * as it is, else into the plan's scratch, valid until the next call. A
 * value an operation cannot take (not a number, not a date) is FIN_EDATA
 * naming file, line and column but never the value. */
int fin_mask_row(fin_mask_plan *p, const fin_row *row, const char *file, const char **out,
		 size_t *len, fin_err *err);

#endif
