/* The key of a given rank among unsigned integer keys that come in passes
 * (the same keys, in any order, each pass), exact and in memory that does
 * not grow with them: each pass counts the keys that share the digits
 * found so far by their next digit, and the count says which digit the
 * wanted rank has. Keys of `bits` bits in digits of `width` bits take
 * ceil(bits / width) passes. Floats and doubles become keys in their
 * order with fin_float_key and fin_double_key (core/radix_select.c). */
#ifndef FIN_RADIX_SELECT_H
#define FIN_RADIX_SELECT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fin_radix_select {
	unsigned bits, width; /* key and digit widths */
	unsigned done;        /* leading bits of the answer found */
	uint64_t prefix;      /* their value */
	size_t rank;          /* the rank wanted among the keys with that prefix */
	size_t *count;        /* [1 << width] this pass's keys by next digit */
} fin_radix_select;

/* For the key of rank (0-based, ascending) among keys of bits (at most 64)
 * bits, read width (1 to 24) bits a pass; -1 when out of memory. */
int fin_radix_select_init(fin_radix_select *s, unsigned bits, unsigned width, size_t rank);

/* One key of this pass. */
static inline void fin_radix_select_add(fin_radix_select *s, uint64_t key)
{
	unsigned left = s->bits - s->done, w = left < s->width ? left : s->width;

	if (s->done && key >> left != s->prefix)
		return;
	s->count[(key >> (left - w)) & (((uint64_t)1 << w) - 1)]++;
}

/* Ends a pass; 1 when the key is found (then it is s->prefix), 0 when
 * another pass is needed. A pass with fewer keys than rank + 1 leaves the
 * answer at all ones. */
int fin_radix_select_next(fin_radix_select *s);

void fin_radix_select_free(fin_radix_select *s);

/* Order-preserving keys: a < b exactly when key(a) < key(b), and -0 takes
 * the key of 0 (NaN is not a value here). */
uint32_t fin_float_key(float f);
float fin_float_of_key(uint32_t k);
uint64_t fin_double_key(double v);
double fin_double_of_key(uint64_t k);

#endif
