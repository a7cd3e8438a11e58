#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/feature_reader.h"
#include "io/columns.h"
#include "io/numio.h"

int fin_features_bind(fin_features *f, char *const *want, size_t n, const fin_encoding *enc,
		      char *const *names, size_t nnames, enum fin_na na, int unseen_error,
		      const char *input, const char *owner, fin_err *err)
{
	int text = enc && fin_encoding_has_text(enc);
	size_t j;

	memset(f, 0, sizeof *f);
	if (text) {
		want = enc->cols;
		n = enc->ncols;
	}
	f->n = n;
	f->width = text ? enc->nfeat : n;
	f->names = names;
	f->na = na;
	f->unseen_error = unseen_error;
	f->col = malloc((n ? n : 1) * sizeof *f->col);
	f->cat = calloc(n ? n : 1, sizeof *f->cat);
	f->last = malloc((n ? n : 1) * sizeof *f->last);
	f->last_slot = malloc((n ? n : 1) * sizeof *f->last_slot);
	f->unseen = calloc(n ? n : 1, sizeof *f->unseen);
	if (!f->col || !f->cat || !f->last || !f->last_slot || !f->unseen)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (j = 0; j < n; j++) {
		f->last[j] = NAN;
		f->last_slot[j] = -2;
		f->cat[j] = text ? enc->cat[j] : NULL;
	}
	return fin_columns_find_each(want, n, names, nnames, input, owner, f->col, err);
}

void fin_features_free(fin_features *f)
{
	free(f->col);
	free(f->cat);
	free(f->last);
	free(f->last_slot);
	free(f->unseen);
	memset(f, 0, sizeof *f);
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

/* A text column's value: the feature it sets (-1 for none) in *slot, or
 * -1 when the row is to be left out, or FIN_EDATA. */
static int read_level(fin_features *f, size_t j, const fin_row *row, const char *file,
		      long *slot, fin_err *err)
{
	size_t c = f->col[j];
	const char *s = row->fields[c];
	size_t len = row->lens[c];
	int missing = fin_is_na(s, len);
	char shown[200];

	switch (fin_category_slot(f->cat[j], s, len, missing, slot)) {
	case FIN_LEVEL_KNOWN:
		break;
	case FIN_LEVEL_UNSEEN:
		if (f->unseen_error)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: column '%s': level '%s' was not seen in training "
					"(see --unseen)", file, row->line, f->names[c],
					fin_quote_field(shown, sizeof shown, s, len));
		f->unseen[j]++;
		break;
	case FIN_LEVEL_MISSING:
		if (f->cat[j]->missing)
			break;
		if (f->na == FIN_NA_ERROR)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: column '%s': missing value (see --na)", file,
					row->line, f->names[c]);
		if (f->na == FIN_NA_SKIP || f->last_slot[j] == -2)
			return -1;
		*slot = f->last_slot[j];
		f->filled++;
		return FIN_OK;
	}
	f->last_slot[j] = *slot;
	return FIN_OK;
}

int fin_features_read(fin_features *f, const fin_row *row, const char *file, float *out,
		      fin_err *err)
{
	int gap = 0, rc;
	size_t j, at = 0;

	for (j = 0; j < f->n; j++) {
		size_t c = f->col[j];
		double v = NAN;

		if (f->cat[j]) {
			size_t w = fin_category_width(f->cat[j]);
			long slot = -1;
			if ((rc = read_level(f, j, row, file, &slot, err)) > 0)
				return rc;
			gap |= rc < 0;
			memset(out + at, 0, w * sizeof *out);
			if (slot >= 0)
				out[at + (size_t)slot] = 1;
			at += w;
			continue;
		}
		switch (fin_feature_parse(row, c, f->names[c], file, &v, err)) {
		case FIN_NUM_OK:
			f->last[j] = v;
			break;
		case FIN_NUM_BAD:
			return FIN_EDATA;
		case FIN_NUM_NA:
			if (f->na == FIN_NA_ERROR || f->na == FIN_NA_LEVEL)
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
		out[at++] = (float)v;
	}
	f->skipped += gap;
	return gap ? -1 : FIN_OK;
}

/* The note naming the input columns that are neither features nor passed
 * through, in *note (NULL when every one is used). */
static int unused_note(const fin_features *f, size_t nnames, const size_t *pass, size_t npass,
		       const char *target, const char *input, char **note)
{
	unsigned char *used = calloc(nnames ? nnames : 1, 1);
	size_t i, len = 0, n = 0;
	FILE *s;

	*note = NULL;
	if (!used || !(s = open_memstream(note, &len))) {
		free(used);
		return -1;
	}
	for (i = 0; i < f->n; i++)
		used[f->col[i]] = 1;
	for (i = 0; i < npass; i++)
		used[pass[i]] = 1;
	fprintf(s, "%s: not used: ", input);
	for (i = 0; i < nnames; i++)
		if (!used[i] && n++ < FIN_NOTE_NAMES)
			fprintf(s, "%s%s (%s)", n > 1 ? ", " : "", f->names[i],
				target && strcmp(f->names[i], target) == 0 ? "the model's target"
									   : "not a feature of the model");
	if (n > FIN_NOTE_NAMES)
		fprintf(s, " and %zu more", n - FIN_NOTE_NAMES);
	free(used);
	if (fclose(s) != 0)
		return -1;
	if (!n) {
		free(*note);
		*note = NULL;
	}
	return 0;
}

int fin_features_notes(const fin_features *f, size_t nnames, const size_t *pass, size_t npass,
		       const char *target, const char *input, char ***notes, size_t *n)
{
	char **v = calloc(f->n + 1, sizeof *v);
	size_t j;

	*notes = v;
	*n = 0;
	if (!v || unused_note(f, nnames, pass, npass, target, input, &v[0]) != 0)
		return -1;
	*n = v[0] != NULL;
	for (j = 0; j < f->n; j++) {
		if (!f->unseen[j])
			continue;
		if (asprintf(&v[*n], "%s: column '%s': %zu value%s of levels not seen in training, "
			     "encoded as %s", input, f->names[f->col[j]], f->unseen[j],
			     f->unseen[j] == 1 ? "" : "s",
			     f->cat[j]->other ? "(other)" : "no level (all zeros)") < 0)
			return -1;
		++*n;
	}
	return 0;
}
