#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/numio.h"
#include "io/shortest.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_blank((*s)[*len - 1]))
		(*len)--;
}

/* The spellings --na-values adds, trimmed. */
static struct spelling {
	char *s;
	size_t len;
} *extra;
static size_t nextra;

int fin_na_add(const char *s, size_t len)
{
	struct spelling *e;
	size_t i;

	trim(&s, &len);
	for (i = 0; i < nextra; i++)
		if (extra[i].len == len && memcmp(extra[i].s, s, len) == 0)
			return 0;
	if (!(e = realloc(extra, (nextra + 1) * sizeof *e)))
		return -1;
	extra = e;
	if (!(e[nextra].s = malloc(len ? len : 1)))
		return -1;
	memcpy(e[nextra].s, s, len);
	e[nextra++].len = len;
	return 0;
}

/* Compares s, known to be as long as the literal, with it. */
#define IS(lit) (memcmp(s, lit, sizeof lit - 1) == 0)

int fin_is_na(const char *s, size_t len)
{
	size_t i;

	trim(&s, &len);
	/* pandas' default missing values (read_csv's na_values), by length:
	 * on the hot path, most fields are rejected by a compare or two. */
	switch (len) {
	case 0:
		return 1;
	case 2:
		if (IS("NA"))
			return 1;
		break;
	case 3:
		if (IS("NaN") || IS("nan") || IS("N/A") || IS("n/a") || IS("#NA"))
			return 1;
		break;
	case 4:
		if (IS("null") || IS("NULL") || IS("#N/A") || IS("<NA>") || IS("-NaN") || IS("-nan"))
			return 1;
		break;
	case 6:
		if (IS("1.#IND"))
			return 1;
		break;
	case 7:
		if (IS("-1.#IND") || IS("1.#QNAN"))
			return 1;
		break;
	case 8:
		if (IS("-1.#QNAN") || IS("#N/A N/A"))
			return 1;
		break;
	}
	for (i = 0; i < nextra; i++)
		if (extra[i].len == len && memcmp(extra[i].s, s, len) == 0)
			return 1;
	return 0;
}

#undef IS

enum fin_num fin_parse_double(const char *s, size_t len, double *out)
{
	const char *p;
	char *end;
	size_t i;

	if (fin_is_na(s, len))
		return FIN_NUM_NA;
	trim(&s, &len);
	/* strtod also takes "inf", "nan(...)" and hex floats: none of them is
	 * a plain decimal number in a CSV field. */
	p = s + (*s == '+' || *s == '-');
	if (!(*p >= '0' && *p <= '9') && *p != '.')
		return FIN_NUM_BAD;
	for (i = 0; i < len; i++)
		if (s[i] == 'x' || s[i] == 'X')
			return FIN_NUM_BAD;
	*out = strtod(s, &end);
	if (end != s + len || !isfinite(*out))
		return FIN_NUM_BAD;
	return FIN_NUM_OK;
}

static size_t format_integer(char *buf, long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

/* "00" to "99": digits are written two at a time. */
static const char two_digits[] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* Writes the n digits of v < 10^8, the last one just before end. */
static void put_digits8(char *end, uint32_t v, int n)
{
	while (n >= 2) {
		end -= 2;
		memcpy(end, two_digits + 2 * (v % 100), 2);
		v /= 100;
		n -= 2;
	}
	if (n)
		end[-1] = (char)('0' + v);
}

/* Writes the n digits of v, the last one just before end, in blocks of 8
 * whose digits are found independently of each other: one long chain of
 * divisions would cost as much as finding the digits. */
static void put_digits(char *end, uint64_t v, int n)
{
	while (n > 8) {
		put_digits8(end, (uint32_t)(v % 100000000), 8);
		v /= 100000000;
		end -= 8;
		n -= 8;
	}
	put_digits8(end, (uint32_t)v, n);
}

/* Writes d as printf's %.{p}g does, p being its number of digits but at
 * least min_p: plain when the power of ten of its first digit, x, is from
 * -4 to p - 1 (123.45, 0.00012345), else one digit before the point and an
 * exponent of at least two digits (1.2345e-05, 1e+15). */
static size_t layout(char *buf, int negative, fin_decimal d, int min_p)
{
	char *p = buf + negative;
	int n = d.ndigits, x = d.exponent + n - 1;

	if (negative)
		buf[0] = '-';
	if (x < -4 || x >= (n > min_p ? n : min_p)) {
		int e = x < 0 ? -x : x;
		put_digits(p + 1 + n, d.digits, n);
		p[0] = p[1];
		if (n > 1) {
			p[1] = '.';
			p += n + 1;
		} else {
			p++;
		}
		*p++ = 'e';
		*p++ = x < 0 ? '-' : '+';
		if (e >= 100) {
			*p++ = (char)('0' + e / 100);
			e %= 100;
		}
		memcpy(p, two_digits + 2 * e, 2);
		p += 2;
	} else if (x < 0) {
		p[0] = '0';
		p[1] = '.';
		memset(p + 2, '0', (size_t)(-x - 1));
		p += 1 - x + n;
		put_digits(p, d.digits, n);
	} else if (n <= x + 1) {
		put_digits(p + n, d.digits, n);
		memset(p + n, '0', (size_t)(x + 1 - n));
		p += x + 1;
	} else {
		put_digits(p + 1 + n, d.digits, n);
		memmove(p, p + 1, (size_t)x + 1);
		p[x + 1] = '.';
		p += n + 1;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

static size_t format_zero(char *buf, int negative)
{
	memcpy(buf, negative ? "-0" : "0", 3 - !negative);
	return 2 - !negative;
}

size_t fin_format_double(char *buf, double v)
{
	if (!isfinite(v)) {
		buf[0] = '\0';
		return 0;
	}
	/* Whole numbers (prices in cents, counts, labels) are common and cheap. */
	if (fabs(v) < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v)))
		return format_integer(buf, (long long)v);
	if (v == 0)
		return format_zero(buf, 1);
	/* At least 15: numbers below 1e15 are written out in full. */
	return layout(buf, signbit(v) != 0, fin_shortest_double(v), 15);
}

size_t fin_format_float(char *buf, float v)
{
	if (!isfinite(v)) {
		buf[0] = '\0';
		return 0;
	}
	if (v == 0)
		return format_zero(buf, signbit(v) != 0);
	/* At least 6, as %g's default: plain below 1e6. */
	return layout(buf, signbit(v) != 0, fin_shortest_float(v), 6);
}
