/* The distinct values of a text column: each string stored once, with a
 * small integer code and a count, found again by hashing. */
#ifndef FIN_DICT_H
#define FIN_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fin_dict {
	char **text;      /* [n] the values, NUL-ended */
	size_t *len;      /* [n] their lengths */
	size_t n;
	uint32_t *slot;   /* open addressing: code + 1, 0 for empty */
	size_t nslots;    /* a power of two */
} fin_dict;

/* The code of s[0..len) (a new one when it is new, the next after the
 * last): 0 or more, or -1 when out of memory. */
long fin_dict_code(fin_dict *d, const char *s, size_t len);

/* The code of s, or -1 when it is not in d. */
long fin_dict_find(const fin_dict *d, const char *s, size_t len);

void fin_dict_free(fin_dict *d);

#endif
