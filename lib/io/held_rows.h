/* Rows held in memory until the whole input is read (fin-mask's
 * k-anonymity needs every class counted before a row may go out), then
 * given back in the order they came. Each field costs its bytes and four
 * more, each row four more for its tag. */
#ifndef FIN_HELD_ROWS_H
#define FIN_HELD_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fin_held_block fin_held_block;

typedef struct fin_held_rows {
	fin_held_block *first, *last;
	size_t rows;
	size_t bytes; /* held, blocks' unused ends included */
} fin_held_rows;

typedef struct fin_held_cursor {
	const fin_held_block *block;
	size_t at;
} fin_held_cursor;

void fin_held_rows_init(fin_held_rows *h);
void fin_held_rows_free(fin_held_rows *h);

/* Holds the fields field[0..n) of a row whose keep[c] is set, and tag.
 * -1 when out of memory or a field is 4 GiB or more. */
int fin_held_rows_add(fin_held_rows *h, const char *const *field, const size_t *len,
		      const unsigned char *keep, size_t n, uint32_t tag);

/* The rows again, in order: a cursor starts zeroed, and each call fills
 * field[0..nkept) and len with the kept fields of the next row (valid
 * while h is), and *tag. 0 at the end, 1 otherwise. */
int fin_held_rows_next(const fin_held_rows *h, fin_held_cursor *c, const char **field,
		       size_t *len, size_t nkept, uint32_t *tag);

#endif
