#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "columns.h"
#include "feature_reader.h"
#include "numio.h"

int fin_features_bind(fin_features *f, char *const *want, size_t n, char *const *names,
		      size_t nnames, enum fin_na na, const char *input, const char *owner,
		      fin_err *err)
{
	fin_column_index ix;
	unsigned char *used = calloc(nnames ? nnames : 1, 1);
	size_t j;
	int rc;

	f->n = n;
	f->names = names;
	f->na = na;
	f->filled = f->skipped = 0;
	f->col = malloc((n ? n : 1) * sizeof *f->col);
	f->last = malloc((n ? n : 1) * sizeof *f->last);
	if (!f->col || !f->last || !used) {
		free(used);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	if ((rc = fin_column_index_build(&ix, names, nnames, err)) != FIN_OK) {
		free(used);
		return rc;
	}
	for (j = 0; j < n && rc == FIN_OK; j++) {
		long c = fin_column_index_find(&ix, want[j]);
		if (c < 0)
			rc = fin_fail(err, FIN_EDATA, "%s:1: no column '%s', a feature of %s", input,
				      want[j], owner);
		else if (used[c]++)
			/* Each feature is one input: a model that names a column
			 * twice would read one value into two inputs. */
			rc = fin_fail(err, FIN_EMODEL, "%s: feature '%s' is listed twice", owner,
				      want[j]);
		else
			f->col[j] = (size_t)c;
		f->last[j] = NAN;
	}
	fin_column_index_free(&ix);
	free(used);
	return rc;
}

void fin_features_free(fin_features *f)
{
	free(f->col);
	free(f->last);
	f->col = NULL;
	f->last = NULL;
}

int fin_features_read(fin_features *f, const fin_row *row, const char *file, float *out,
		      fin_err *err)
{
	char shown[200];
	int gap = 0;
	size_t j;

	for (j = 0; j < f->n; j++) {
		size_t c = f->col[j];
		double v = NAN;

		switch (fin_parse_double(row->fields[c], row->lens[c], &v)) {
		case FIN_NUM_OK:
			if (fabs(v) > FLT_MAX)
				return fin_fail(err, FIN_EDATA,
						"%s:%ld: column '%s': beyond the float32 range: '%s'",
						file, row->line, f->names[c],
						fin_quote_field(shown, sizeof shown, row->fields[c],
								row->lens[c]));
			f->last[j] = v;
			break;
		case FIN_NUM_BAD:
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'", file,
					row->line, f->names[c],
					fin_quote_field(shown, sizeof shown, row->fields[c], row->lens[c]));
		case FIN_NUM_NA:
			if (f->na == FIN_NA_ERROR)
				return fin_fail(err, FIN_EDATA,
						"%s:%ld: column '%s': missing value (see --na)", file,
						row->line, f->names[c]);
			v = f->last[j];
			if (f->na == FIN_NA_SKIP || isnan(v))
				gap = 1;
			else
				f->filled++;
			break;
		}
		out[j] = (float)v;
	}
	f->skipped += gap;
	return gap ? -1 : FIN_OK;
}
