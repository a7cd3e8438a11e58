/* A training table held in memory: the feature matrix as float32, in the
 * order the network reads it, and the target column. */
#ifndef FIN_TABLE_H
#define FIN_TABLE_H

#include <stddef.h>

#include "core/err.h"
#include "features/encoding.h"
#include "features/window.h"
#include "io/input.h"

typedef struct fin_table {
	size_t rows, nfeat;
	char **feat;         /* feature names, in network order */
	size_t in_c, in_t;   /* sample shape: channels by time steps, or [nfeat][1] */
	float *x;            /* [rows][nfeat] */
	double *y;           /* [rows] numeric target (NaN when not a number) */
	char **ylabel;       /* [rows] target text, kept when it is not numeric */
	int y_numeric;       /* every target value is a number */
	size_t y_numbers;    /* target values that are numbers */
	char *y_text_file;   /* where the first target value that is not a number */
	long y_text_line;    /* is (NULL and 0 when none) */
	char y_text[64];     /* that value, quoted for messages */
	char **key_names;    /* the kept columns' names, [nkeys] */
	char *keys;          /* with keep_keys (keep_all): every row's key fields (all
			      * fields), each NUL-ended */
	size_t *key_at;      /* [rows] where each row's keys start in keys */
	size_t nkeys, keys_len, keys_cap, key_at_cap;
	unsigned char *tied; /* [rows] with key_order (not scanning): 1 where a
			      * row's time is the row's before (a panel's rows
			      * of one date), so that a split by time never
			      * parts them */
	size_t files;        /* input files read, and the rows kept before each */
	size_t *file_rows;   /* of them, [files + 1] (the last: rows) */
	size_t skipped;      /* rows left out for a missing value (--na skip) */
	size_t filled;       /* values filled forward (--na ffill) */
	fin_encoding enc;    /* how the features came from text columns, when
			      * learned here (fin_table_encode); empty when
			      * every feature is a number column */
	char **notes;        /* what the reading found worth a note: columns not
			      * used, levels pooled or unseen */
	size_t nnotes;
	struct fin_table_text *text; /* rows read, until fin_table_encode */
} fin_table;

typedef struct fin_table_spec {
	char *const *columns; /* -c lists, or none for every numeric column */
	size_t ncolumns;
	char *const *keys;    /* -k lists: never features */
	size_t nkeys;
	int exact;            /* columns are a model's features: each one column by
			       * its exact name, never a key or the target, in
			       * the order given */
	const char *owner;    /* with exact: the file naming the columns, for messages */
	const char *target;   /* target column name, or NULL for none */
	int keep_keys;        /* keep the key fields of every row */
	int keep_all;         /* keep every field of every row instead */
	int key_order;        /* the first key is the time: it must never decrease
			       * (see features/key_order.h) */
	enum fin_na na;
	const fin_encoding *encoding; /* with exact: the model's encoding, whose
				       * input columns are read instead of columns */
	char *const *categorical;     /* --categorical: text columns whatever they hold */
	size_t ncategorical;
	fin_encoding_opts encode;     /* how levels are learned */
	int unseen_error;             /* --unseen error */
	int scan;                     /* keep no row: learn the columns, their
				       * levels and the number of rows only, as
				       * reading them all would (t->x, t->y and
				       * t->ylabel stay NULL); the features are then
				       * read in passes, see features/feature_pass.h */
} fin_table_spec;

/* Reads every row of in. Features are the chosen columns (or every column
 * but keys and the target). A column holding a value that is not a number
 * (or named in categorical) is text, one-hot encoded over levels learned
 * from the training rows by fin_table_encode (or, with an encoding, the
 * model's levels); a text column of more than 65536 distinct values is
 * not used. With number columns only, columns named <base>_<lag> with lags
 * 0..T-1 for each of C bases are ordered as C channels of T steps, oldest
 * first (but for exact columns, kept in their order). A feature value
 * beyond the float32 range is a data error. */
int fin_table_read(fin_table *t, fin_input *in, const fin_table_spec *spec, fin_err *err);

/* Learns the levels of the text columns from the first ntrain rows and
 * builds the features (t->x, t->feat, t->enc); nothing to do for a table
 * without text columns, or one read with an encoding. Must be called
 * before the features are used. */
int fin_table_encode(fin_table *t, size_t ntrain, fin_err *err);
void fin_table_free(fin_table *t);

/* Orders names as channels and steps when they all have the form
 * <base>_<lag> with the same lags 0..T-1 for every base: writes in *order
 * the permutation (order[i] = index in names of the i-th network input)
 * and returns 1 with *c and *t set; returns 0 (identity order) otherwise. */
int fin_sequence_layout(char *const *names, size_t n, size_t *order, size_t *c, size_t *t);

/* The length of the base of a name <base>_<lag> (a lag of at most 6
 * digits), with the lag in *lag; 0 when the name has no such form. */
size_t fin_split_lag(const char *name, size_t *lag);

#endif
