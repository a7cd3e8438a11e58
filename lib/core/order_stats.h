/* Two neighbouring order statistics of a stream of values whose count is
 * known in advance, for a quantile without holding the stream: the values
 * of ranks r and r + 1 (0-based, ascending) among n, from a heap of the
 * n - r largest values or of the r + 2 smallest, whichever is fewer. */
#ifndef FIN_ORDER_STATS_H
#define FIN_ORDER_STATS_H

#include <stddef.h>

typedef struct fin_order_stats {
	size_t n, r;      /* values to come, and the rank wanted */
	size_t cap, size; /* the heap's size when full, and now */
	int top;          /* a min-heap of the largest values (else a max-heap
			   * of the smallest) */
	double *heap;
} fin_order_stats;

/* For ranks r and r + 1 of n values (r < n); -1 when out of memory. */
int fin_order_stats_init(fin_order_stats *s, size_t n, size_t r);

/* One more value (NaN is not one). */
void fin_order_stats_add(fin_order_stats *s, double v);

/* After the n values: the value of rank r, and of rank r + 1 (that of r
 * again when r = n - 1). */
void fin_order_stats_get(const fin_order_stats *s, double *at_r, double *next);

/* The quantile f of the n values (gsl_stats_quantile_from_sorted_data's
 * interpolation): rank r = floor(f (n - 1)) for fin_order_stats_init, then
 * this from the two values. */
size_t fin_quantile_rank(double f, size_t n);
double fin_quantile_value(double f, size_t n, double at_r, double next);

void fin_order_stats_free(fin_order_stats *s);

#endif
