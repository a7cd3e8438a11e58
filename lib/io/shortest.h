/* The shortest decimal that reads back as exactly a given double or float:
 * Ryu, by Ulf Adams ("Ryu: fast float-to-string conversion", PLDI 2018). */
#ifndef FIN_SHORTEST_H
#define FIN_SHORTEST_H

#include <stdint.h>

/* digits * 10^exponent; digits has ndigits digits, the last of them not 0. */
typedef struct fin_decimal {
	uint64_t digits;
	int exponent;
	int ndigits;
} fin_decimal;

/* For a finite v other than 0, its sign ignored: of the decimals that
 * strtod reads back as |v|, one with the fewest digits, and of those the
 * closest to |v| (a tie to the even one). For 0, an infinity or a NaN,
 * which have no such digits: the single digit 0. */
fin_decimal fin_shortest_double(double v);

/* The same for a float and strtof. */
fin_decimal fin_shortest_float(float v);

#endif
