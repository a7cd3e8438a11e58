/* Reading and writing numbers in CSV fields. */
#ifndef FIN_NUMIO_H
#define FIN_NUMIO_H

#include <stddef.h>

enum fin_num { FIN_NUM_OK, FIN_NUM_NA, FIN_NUM_BAD };

/* Longest text fin_format_double() writes, with its NUL. */
#define FIN_NUM_MAX 32

/* True for the spellings of a missing value, blanks around them ignored:
 * empty and those pandas' read_csv takes as missing by default (NA, NaN,
 * nan, null, NULL, N/A, n/a, #N/A, <NA>, ...), plus those fin_na_add was
 * given. */
int fin_is_na(const char *s, size_t len);

/* Makes s[0..len), blanks around it trimmed, a spelling of a missing value
 * too, for the rest of the process (--na-values). Returns 0, or -1 when
 * out of memory. */
int fin_na_add(const char *s, size_t len);

/* Parses a NUL-terminated field of length len. Surrounding blanks are
 * allowed; infinities, NaN payloads and hexadecimal are not numbers. */
enum fin_num fin_parse_double(const char *s, size_t len, double *out);

/* Writes the shortest decimal that reads back as exactly v (for subnormal
 * values, one that reads back); a non-finite v is written as the empty
 * field (missing). Returns the length. */
size_t fin_format_double(char *buf, double v);

/* The same for a float32 value: the shortest text that reads back (as a
 * float) to exactly v. */
size_t fin_format_float(char *buf, float v);

#endif
