/* k-anonymity and l-diversity: the equivalence classes of a table's
 * quasi-identifiers (the rows that agree on every one of them, a missing
 * value agreeing with a missing value), how many rows each holds and how
 * many distinct values of a sensitive column. Memory grows with the
 * classes and the distinct (class, sensitive value) pairs, not with the
 * rows. */
#ifndef FIN_ANONYMITY_H
#define FIN_ANONYMITY_H

#include <stddef.h>
#include <stdint.h>

#include "features/dict.h"

typedef struct fin_anonymity {
	const size_t *quasi;  /* the quasi-identifier columns */
	size_t nquasi;
	long sensitive;       /* the --l-diverse column, or -1 */
	fin_dict classes;     /* their values, length-prefixed, one after another */
	size_t *size;         /* [classes.n] rows in each class */
	size_t *distinct;     /* [classes.n] distinct sensitive values in each */
	size_t cap;
	fin_dict pairs;       /* (class code, sensitive value) seen */
	char *key;
	size_t key_size;
} fin_anonymity;

void fin_anonymity_init(fin_anonymity *a, const size_t *quasi, size_t nquasi, long sensitive);
void fin_anonymity_free(fin_anonymity *a);

/* Counts a row (its fields after masking, by input column) in its class,
 * whose code goes to *cls. -1 when out of memory. */
int fin_anonymity_add(fin_anonymity *a, const char *const *field, const size_t *len,
		      uint32_t *cls);

/* The code of the class of a row, as fin_anonymity_add gives it, or -1
 * when no row counted was of that class (or out of memory). */
long fin_anonymity_find(fin_anonymity *a, const char *const *field, const size_t *len);

/* True when class cls holds at least k rows and l distinct sensitive
 * values. */
static inline int fin_anonymity_kept(const fin_anonymity *a, uint32_t cls, size_t k, size_t l)
{
	return a->size[cls] >= k && (a->sensitive < 0 || a->distinct[cls] >= l);
}

typedef struct fin_anonymity_summary {
	size_t classes, classes_suppressed, rows_suppressed;
	size_t k_all, l_all;   /* the smallest class, the fewest values: over all classes */
	size_t k_kept, l_kept; /* the same over the classes kept; 0 when none is */
	size_t *sizes;         /* [nsizes] the class sizes that occur, ascending */
	size_t *count;         /* [nsizes] classes of each size */
	size_t nsizes;
} fin_anonymity_summary;

/* What keeping only the classes of at least k rows and l values does.
 * -1 when out of memory. */
int fin_anonymity_summarise(const fin_anonymity *a, size_t k, size_t l,
			    fin_anonymity_summary *s);
void fin_anonymity_summary_free(fin_anonymity_summary *s);

#endif
