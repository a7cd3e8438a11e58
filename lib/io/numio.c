#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/numio.h"

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

size_t fin_format_double(char *buf, double v)
{
	char shorter[FIN_NUM_MAX];
	int n, m;

	if (!isfinite(v)) {
		buf[0] = '\0';
		return 0;
	}
	/* Whole numbers (prices in cents, counts, labels) are common and cheap. */
	if (fabs(v) < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v)))
		return format_integer(buf, (long long)v);
	/* 17 significant digits always read back; most computed values need
	 * 16 or 17, so try 16 first, then 15 for short ones like 0.1. If p
	 * digits suffice, %.{p}g yields the shortest form. Fixed formats keep
	 * printf off its slower positional path. */
	n = snprintf(buf, FIN_NUM_MAX, "%.16g", v);
	if (strtod(buf, NULL) != v)
		return (size_t)snprintf(buf, FIN_NUM_MAX, "%.17g", v);
	m = snprintf(shorter, sizeof shorter, "%.15g", v);
	if (strtod(shorter, NULL) == v) {
		memcpy(buf, shorter, (size_t)m + 1);
		return (size_t)m;
	}
	return (size_t)n;
}

/* Length of v written with format fmt, if that reads back as v; else 0. */
static size_t float_if_exact(char *buf, const char *fmt, float v)
{
	int n = snprintf(buf, FIN_NUM_MAX, fmt, (double)v);
	return strtof(buf, NULL) == v ? (size_t)n : 0;
}

size_t fin_format_float(char *buf, float v)
{
	size_t n;

	if (!isfinite(v)) {
		buf[0] = '\0';
		return 0;
	}
	/* As for doubles: if p digits suffice, %.{p}g is the shortest form. */
	if ((n = float_if_exact(buf, "%.6g", v)) || (n = float_if_exact(buf, "%.7g", v)) ||
	    (n = float_if_exact(buf, "%.8g", v)))
		return n;
	return (size_t)snprintf(buf, FIN_NUM_MAX, "%.9g", (double)v);
}
