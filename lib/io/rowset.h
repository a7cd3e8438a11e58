/* CSV rows held in memory as text, with their header: read from an input,
 * written back out (quoted where needed) in ranges. */
#ifndef FIN_ROWSET_H
#define FIN_ROWSET_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"

/* An input the rows came from: its name in messages, and its first row. */
typedef struct fin_rowset_source {
	char *name;
	size_t from;
} fin_rowset_source;

typedef struct fin_rowset {
	char **names;     /* the header */
	size_t ncols;
	char *text;       /* every row's fields, each NUL-ended, row after row */
	size_t len, cap;
	size_t *at;       /* [rows] where each row starts in text */
	long *line;       /* [rows] the physical line each row starts on in its input */
	size_t rows, at_cap;
	fin_rowset_source *src; /* the inputs, in the order of their rows */
	size_t nsrc;
} fin_rowset;

/* Appends every row of in. The first read takes in's header; later reads
 * must have the same one (FIN_EDATA otherwise). */
int fin_rowset_read(fin_rowset *r, fin_input *in, fin_err *err);
void fin_rowset_free(fin_rowset *r);

/* Field col of row i. */
const char *fin_rowset_field(const fin_rowset *r, size_t i, size_t col);

/* The name of the input row i came from; *line is the line it starts on. */
const char *fin_rowset_source_of(const fin_rowset *r, size_t i, long *line);

/* The physical lines row i takes in a CSV file, as the reader counts them:
 * one, and one more for every line end (LF, CRLF or CR) inside a field. */
long fin_rowset_row_lines(const fin_rowset *r, size_t i);

/* Writes the header and rows [from, to) to path as CSV (comma-separated,
 * quoted where a field needs it). */
int fin_rowset_write(const fin_rowset *r, size_t from, size_t to, const char *path,
		     fin_err *err);

/* The sample standard deviation of column col over rows [from, to),
 * missing values left out; NaN with fewer than two values. FIN_EDATA for
 * a field that is not a number, naming its input and line. */
int fin_rowset_sd(const fin_rowset *r, size_t col, size_t from, size_t to, double *sd,
		  fin_err *err);

#endif
