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
	size_t j;

	f->n = n;
	f->names = names;
	f->na = na;
	f->filled = f->skipped = 0;
	f->col = malloc((n ? n : 1) * sizeof *f->col);
	f->last = malloc((n ? n : 1) * sizeof *f->last);
	if (!f->col || !f->last)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (j = 0; j < n; j++)
		f->last[j] = NAN;
	return fin_columns_find_each(want, n, names, nnames, input, owner, f->col, err);
}

void fin_features_free(fin_features *f)
{
	free(f->col);
	free(f->last);
	f->col = NULL;
	f->last = NULL;
}

enum fin_num fin_feature_parse(const fin_row *row, size_t col, const char *name,
			       const char *file, double *v, fin_err *err)
{
	enum fin_num kind = fin_parse_double(row->fields[col], row->lens[col], v);
	char shown[200];

	if (kind == FIN_NUM_BAD || (kind == FIN_NUM_OK && fabs(*v) > FLT_MAX)) {
		fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': %s: '%s'", file, row->line, name,
			 kind == FIN_NUM_BAD ? "not a number" : "beyond the float32 range",
			 fin_quote_field(shown, sizeof shown, row->fields[col], row->lens[col]));
		return FIN_NUM_BAD;
	}
	return kind;
}

int fin_features_read(fin_features *f, const fin_row *row, const char *file, float *out,
		      fin_err *err)
{
	int gap = 0;
	size_t j;

	for (j = 0; j < f->n; j++) {
		size_t c = f->col[j];
		double v = NAN;

		switch (fin_feature_parse(row, c, f->names[c], file, &v, err)) {
		case FIN_NUM_OK:
			f->last[j] = v;
			break;
		case FIN_NUM_BAD:
			return FIN_EDATA;
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
