/* Walk-forward backtests: the folds over rows in time order, and each fold
 * run through the real tools (a training command, then fin-predict) as
 * child processes in a private directory. */
#ifndef FIN_BACKTEST_H
#define FIN_BACKTEST_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "io/rowset.h"
#include "nn/model.h"

/* ---- folds ---- */

typedef struct fin_fold {
	size_t train_from, train_to; /* training rows [train_from, train_to) */
	size_t test_from, test_to;   /* test rows [test_from, test_to), train_to == test_from */
} fin_fold;

typedef struct fin_fold_spec {
	size_t train_size; /* rows before the first test block */
	size_t test_size;  /* rows per test block */
	size_t step;       /* rows from one test block's start to the next's */
	size_t gap;        /* rows left out between training rows and test block */
	int rolling;       /* train on the train_size rows before the gap, not on all */
} fin_fold_spec;

/* Plans the folds over rows [0, rows): the first trains on [0,
 * train_size) and tests on [train_size + gap, train_size + gap +
 * test_size), each next one starts its test block step rows later, and the
 * last takes what is left (at least one row). Training rows always end gap
 * rows before the test block. *folds is a new array (free it). FIN_EUSAGE for a
 * size of 0, FIN_ENOROWS when rows leave no test row. */
int fin_folds_plan(const fin_fold_spec *s, size_t rows, fin_fold **folds, size_t *nfolds,
		   fin_err *err);

/* ---- a fold ---- */

typedef struct fin_backtest {
	const fin_rowset *rows;    /* every input row, in time order */
	char *const *train_cmd;    /* the training command, its first word a path or a name */
	size_t ntrain_cmd;
	const char *predict;       /* fin-predict, a path or a name */
	const char *dir;           /* private directory for the fold's files */
	char *const *keys;         /* the key columns' names, one each, for fin-predict to
				    * pass through (none: the model's keys) */
	size_t nkeys;
	int quiet;                 /* add -q to fin-predict, and to a training command that
				    * is fin-train */
	int unsorted;              /* add --unsorted to a training command that is fin-train */
	char *const *na_values;    /* --na-values lists, for fin-predict and a training
				    * command that is fin-train */
	size_t nna_values;
	FILE *messages;            /* where the lines the commands write go, rewritten (see
				    * fin_backtest_fold); NULL: they write to standard
				    * error themselves */
} fin_backtest;

/* Runs fold f: its training rows go to DIR/train.csv, and the training
 * command is run as CMD... [-q] [--unsorted] [--na-values LIST]... -o
 * DIR/model.json DIR/train.csv; the model is loaded into *m (freed first);
 * the test rows go to DIR/test.csv and fin-predict -m DIR/model.json -k
 * KEY... -k TARGET [--na-values LIST]... DIR/test.csv writes the keys, the actual target and the predictions,
 * whose rows are appended to pred. What the commands write goes on to
 * standard error with the fold files' lines (FILE:LINE) turned into the
 * input's, so that a message names the user's file and line. A failing
 * command is FIN_EDATA naming it. */
int fin_backtest_fold(const fin_backtest *bt, const fin_fold *f, fin_model *m, fin_rowset *pred,
		      fin_err *err);

/* Rewrites msg[0..len), a line about the fold files of bt for fold f, into
 * out (of size outlen, NUL-ended): DIR/train.csv:N and DIR/test.csv:N
 * become the input and line the fold file's line N came from, as does a
 * later "on line N" of the same file; the fold files named without a line
 * are described. Returns the length written. */
size_t fin_backtest_rewrite(const fin_backtest *bt, const fin_fold *f, const char *msg, size_t len,
			    char *out, size_t outlen);

/* The time order of the rows: the column named key (a number or an ISO
 * date, see features/key_order.h) must never decrease. FIN_EDATA naming
 * the input and line of the first row that goes back. */
int fin_backtest_check_order(const fin_rowset *rows, size_t key, fin_err *err);

#endif
