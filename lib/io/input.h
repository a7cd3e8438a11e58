/* The rows of one or more CSV inputs as one stream: positional files in
 * order, or standard input ("-" or no file at all). Every file must have
 * the header of the first. */
#ifndef FIN_INPUT_H
#define FIN_INPUT_H

#include <stddef.h>
#include <sys/stat.h>

#include "core/err.h"
#include "io/csv_reader.h"

typedef struct fin_input fin_input;

/* Opens every path now, so that a missing file is reported before any
 * work (FIN_EUSAGE). NULL on failure, with err filled. */
fin_input *fin_input_open(char *const *paths, size_t npaths, const fin_csv_opts *opts,
			  fin_err *err);
/* As fin_input_open, but where copies[i] >= 0 paths[i] is not opened:
 * copies[i] is a copy of it (fin_input_temp, at its start), which the
 * input owns from then on (closed with it, even on failure) and reads as
 * fin_input_spool's, under the name paths[i]. */
fin_input *fin_input_open_copies(char *const *paths, size_t npaths, const int *copies,
				 const fin_csv_opts *opts, fin_err *err);
void fin_input_close(fin_input *in);
/* A new empty file in $TMPDIR (/tmp when unset), already unlinked, so that
 * it goes away with the process: its descriptor, or -1 with err filled. */
int fin_input_temp(fin_err *err);
/* Writes len bytes of buf to fd, a copy of name (fin_input_temp). */
int fin_input_temp_write(int fd, const void *buf, size_t len, const char *name, fin_err *err);

/* True when st is one of the regular files in reads (by device and inode:
 * the same file by any name), so that no output replaces it. */
int fin_input_has_file(const fin_input *in, const struct stat *st);

/* True when every input is a file named on the command line (not standard
 * input), so that it can be opened and read again. */
int fin_input_rereadable(const fin_input *in);

/* True when b reads the files a reads, unchanged since a opened them: the
 * same device and inode, size and modification time, in the same order. */
int fin_input_same_files(const fin_input *a, const fin_input *b);

/* Makes every input that is not a regular file (standard input, a pipe)
 * readable more than once, as sort(1) does: what is left of it is copied
 * to an unlinked temporary file in $TMPDIR (/tmp when unset), which goes
 * away with the process. Call before reading any row. FIN_OK, or FIN_EDATA
 * when the copy fails (no space left, say). */
int fin_input_spool(fin_input *in, fin_err *err);

/* Starts in over from its first data row, for another pass: a named file
 * is opened again and must be the file it was, unchanged (see
 * fin_input_same_files), and a spooled one is read from its start; the
 * header must be the one read before. FIN_EDATA "the input changed since
 * the first pass over it" otherwise, FIN_EUSAGE for an input that was
 * neither (standard input not spooled). The names fin_input_header gave
 * stay valid. */
int fin_input_rewind(fin_input *in, fin_err *err);

/* After fin_input_rewind and fin_input_header: moves on to the start of
 * input file `file` (an index into the paths opened), leaving the files
 * before it unread and unchecked, and checks its header against the
 * first's. */
int fin_input_skip_to(fin_input *in, size_t file, fin_err *err);
/* The number of input files, and the index of the one the last row came
 * from (or the next comes from). */
size_t fin_input_files(const fin_input *in);
size_t fin_input_file(const fin_input *in);
/* True when input comes from a terminal on standard input. */
int fin_input_is_tty(const fin_input *in);

/* The header of the first input; see fin_csv_header. Read once: a later
 * call gives the same names again. */
int fin_input_header(fin_input *in, char ***names, size_t *n, fin_err *err);

/* The header read by fin_input_header (n is 0 before). */
void fin_input_columns(const fin_input *in, char ***names, size_t *n);

/* Next data row across all inputs: 1, 0 at the end, negative on error. */
int fin_input_next(fin_input *in, fin_row **row, fin_err *err);

/* The row fin_input_next will give next, as it will give it (an error or
 * the end of input included), without taking it: a look at the first row
 * before the columns are chosen. *row is valid until fin_input_next. */
int fin_input_peek(fin_input *in, fin_row **row, fin_err *err);

/* Name of the input the last row came from, for messages. */
const char *fin_input_name(const fin_input *in);

#endif
