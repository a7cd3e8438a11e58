#include <stdlib.h>
#include <string.h>

#include "core/radix_select.h"

int fin_radix_select_init(fin_radix_select *s, unsigned bits, unsigned width, size_t rank)
{
	memset(s, 0, sizeof *s);
	s->bits = bits;
	s->width = width;
	s->rank = rank;
	s->count = calloc((size_t)1 << width, sizeof *s->count);
	return s->count ? 0 : -1;
}

void fin_radix_select_free(fin_radix_select *s)
{
	free(s->count);
	memset(s, 0, sizeof *s);
}

int fin_radix_select_next(fin_radix_select *s)
{
	unsigned left = s->bits - s->done, w = left < s->width ? left : s->width;
	size_t digits = (size_t)1 << w, d, below = 0;

	for (d = 0; d + 1 < digits && below + s->count[d] <= s->rank; d++)
		below += s->count[d];
	s->rank -= below;
	s->prefix = s->prefix << w | d;
	s->done += w;
	memset(s->count, 0, digits * sizeof *s->count);
	return s->done == s->bits;
}

uint32_t fin_float_key(float f)
{
	uint32_t u;

	if (f == 0)
		f = 0; /* -0 is 0 */
	memcpy(&u, &f, sizeof u);
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

float fin_float_of_key(uint32_t k)
{
	uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

uint64_t fin_double_key(double v)
{
	uint64_t u;

	if (v == 0)
		v = 0;
	memcpy(&u, &v, sizeof u);
	return u & 0x8000000000000000u ? ~u : u | 0x8000000000000000u;
}

double fin_double_of_key(uint64_t k)
{
	uint64_t u = k & 0x8000000000000000u ? k & 0x7fffffffffffffffu : ~k;
	double v;

	memcpy(&v, &u, sizeof v);
	return v;
}
