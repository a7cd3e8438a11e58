/* Streaming CSV reader on libcsv: RFC 4180 quoting, UTF-8 BOM stripped,
 * LF, CRLF and CR line ends, physical line numbers for messages. gzip and
 * zstd input is read decompressed (see io/decompress.h); line numbers count
 * lines of the text. Memory is bounded by the longest row, not by the
 * length of the input. */
#ifndef FIN_CSV_READER_H
#define FIN_CSV_READER_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_csv_opts {
	unsigned char delim; /* field delimiter, ',' when 0 */
	int no_header;       /* columns are then named 1, 2, ... */
} fin_csv_opts;

typedef struct fin_row {
	char **fields;  /* each NUL-terminated (a field may hold NUL bytes) */
	size_t *lens;
	size_t n;
	long line;      /* physical 1-based line where the row starts */
} fin_row;

typedef struct fin_csv fin_csv;

/* Reads from file descriptor fd; name is used in messages ("-" is shown
 * as "<stdin>"). Returns NULL when out of memory. Truncated or corrupt
 * compressed data is a data error (FIN_EDATA) from fin_csv_header or
 * fin_csv_next. */
fin_csv *fin_csv_open(int fd, const char *name, const fin_csv_opts *opts);
void fin_csv_close(fin_csv *r);

/* The name used in messages. */
const char *fin_csv_name(const fin_csv *r);

/* Reads the header (or, with no_header, names the columns 1..n after the
 * first row, which is then still returned by fin_csv_next). Must be called
 * once before fin_csv_next. Returns FIN_OK, FIN_ENOROWS for empty input,
 * or FIN_EDATA. The names stay valid until fin_csv_close. */
int fin_csv_header(fin_csv *r, char ***names, size_t *n, fin_err *err);

/* Next data row: 1 when *row is set (valid until the next call), 0 at end
 * of input, or a negative value with err filled. Every row has exactly as
 * many fields as the header; a ragged row is a data error. */
int fin_csv_next(fin_csv *r, fin_row **row, fin_err *err);

#endif
