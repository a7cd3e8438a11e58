/* Choosing columns by header name, 1-based index, range and negation. */
#ifndef FIN_COLUMNS_H
#define FIN_COLUMNS_H

#include <stddef.h>

#include "core/err.h"

/* Resolves the column lists in specs[0..nspecs) (each as given to one -c or
 * -k option: "close,volume", "2-5", "!date") against the header names.
 * Items are separated by commas; an item that is exactly a header name is
 * that column, even when it looks like an index, a range or a negation.
 * With only negations, the selection is every column except those.
 * Columns come out in the order named (header order for negation-only
 * lists), each at most once. On success *idx holds *count 0-based
 * indices (free it); an unknown name or an index out of range is
 * FIN_EUSAGE. */
int fin_columns_select(char *const *specs, size_t nspecs, char *const *names, size_t n,
		       size_t **idx, size_t *count, fin_err *err);

/* The one column spec names (by exact name, then 1-based index, as
 * fin_columns_select reads it) for option opt, in the header of file; a
 * spec that names none is an error placed on the header line, one that
 * names several is FIN_EUSAGE. */
int fin_column_one(const char *opt, const char *spec, char *const *names, size_t n,
		   const char *file, size_t *col, fin_err *err);

/* Index of the column named exactly name, or -1. */
long fin_column_find(char *const *names, size_t n, const char *name);

/* The header's names sorted once, for finding many names among many
 * columns in O(log n) each. */
typedef struct fin_column_index {
	char *const *names;
	size_t n;
	size_t *sorted; /* column numbers, by name, then by position */
} fin_column_index;

int fin_column_index_build(fin_column_index *ix, char *const *names, size_t n, fin_err *err);
void fin_column_index_free(fin_column_index *ix);
/* Index of the first column named exactly name, or -1. */
long fin_column_index_find(const fin_column_index *ix, const char *name);

/* Finds each of want[0..n) by its exact name among the header names,
 * each in a column of its own: cols[j] is want[j]'s column. A name the
 * header lacks is FIN_EDATA, placed on the header line of file; a name
 * listed twice is FIN_EMODEL. owner names the file the list comes from
 * (a model, a detector), for messages. */
int fin_columns_find_each(char *const *want, size_t n, char *const *names, size_t nnames,
			  const char *file, const char *owner, size_t *cols, fin_err *err);

/* Refuses a header that holds a name twice (FIN_EDATA), naming both
 * columns of the first repeat: a column chosen by name must be one
 * column. */
int fin_columns_check_unique(char *const *names, size_t n, const char *file, fin_err *err);

/* Columns a note names before it says "and N more". */
#define FIN_NOTE_NAMES 32

/* "INPUT: not used: x (WHY), ..." naming the columns of names[0..n) in
 * neither list a nor list b (indices), the first FIN_NOTE_NAMES of them,
 * in *note (NULL when there is none); -1 when out of memory. */
int fin_columns_unused_note(char *const *names, size_t n, const size_t *a, size_t na,
			    const size_t *b, size_t nb, const char *why, const char *input,
			    char **note);

#endif
