/* fin-mask's report: what was done to each column, the rows read,
 * suppressed and written, and the k-anonymity and l-diversity reached
 * (see fin-mask(1), REPORT). It never holds a value of the table, nor the
 * key. */
#ifndef FIN_MASK_REPORT_H
#define FIN_MASK_REPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "privacy/anonymity.h"
#include "privacy/mask_ops.h"

typedef struct fin_mask_outcome {
	int check;              /* --check: nothing written, k and l of the table as read */
	size_t rows_read, rows_suppressed, rows_written;
	const fin_anonymity *anon;            /* NULL without --quasi */
	const fin_anonymity_summary *summary; /* with anon */
	size_t k_target, l_target;            /* 0 when not asked for */
} fin_mask_outcome;

/* The report as a JSON object, NULL when out of memory. */
cJSON *fin_mask_report(const fin_mask_plan *p, const fin_mask_outcome *o);

#endif
