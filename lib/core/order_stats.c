#include <stdlib.h>
#include <string.h>

#include "core/order_stats.h"

int fin_order_stats_init(fin_order_stats *s, size_t n, size_t r)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	s->r = r;
	s->top = n - r <= r + 2;
	s->cap = s->top ? n - r : r + 2;
	s->heap = malloc((s->cap ? s->cap : 1) * sizeof *s->heap);
	return s->heap ? 0 : -1;
}

void fin_order_stats_free(fin_order_stats *s)
{
	free(s->heap);
	memset(s, 0, sizeof *s);
}

/* a comes before b at the root: the smaller for the top values' heap. */
static int before(const fin_order_stats *s, double a, double b)
{
	return s->top ? a < b : a > b;
}

static void sift_down(fin_order_stats *s, size_t i)
{
	double *h = s->heap, v = h[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->size)
			break;
		if (c + 1 < s->size && before(s, h[c + 1], h[c]))
			c++;
		if (!before(s, h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

void fin_order_stats_add(fin_order_stats *s, double v)
{
	double *h = s->heap;

	if (s->size < s->cap) {
		size_t i = s->size++;
		while (i > 0 && before(s, v, h[(i - 1) / 2])) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = v;
	} else if (s->cap && before(s, h[0], v)) {
		h[0] = v;
		sift_down(s, 0);
	}
}

void fin_order_stats_get(const fin_order_stats *s, double *at_r, double *next)
{
	const double *h = s->heap;
	/* the root's neighbour in rank: the nearer of its children */
	double child = s->size > 2 && before(s, h[2], h[1]) ? h[2] : s->size > 1 ? h[1] : h[0];

	if (s->top) {
		*at_r = h[0];
		*next = child;
	} else {
		*at_r = child;
		*next = h[0];
	}
}

size_t fin_quantile_rank(double f, size_t n)
{
	return (size_t)(f * (double)(n - 1));
}

double fin_quantile_value(double f, size_t n, double at_r, double next)
{
	double index = f * (double)(n - 1);
	size_t lhs = (size_t)index;
	double delta = index - (double)lhs;

	return lhs == n - 1 ? at_r : (1 - delta) * at_r + delta * next;
}
