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

/* Writes the shortest decimal that strtod reads back as exactly v (of
 * those, the closest to v), as printf's %.{p}g writes it with p its number
 * of digits but at least 15: whole numbers below 1e15 in full, others plain
 * from 1e-4 up to 10^p, and with an exponent (1e-05, 1.5e+300) beyond.
 * -0 is "-0"; a non-finite v is the empty field (missing). Returns the
 * length, at most FIN_NUM_MAX - 1. */
size_t fin_format_double(char *buf, double v);

/* The same for a float32 value and strtof, p at least 6: 0.1, not
 * 0.100000001; 1234567, 1e+06. */
size_t fin_format_float(char *buf, float v);

#endif
