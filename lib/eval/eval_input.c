#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_input.h"
#include "io/numio.h"

static int grow_rows(fin_eval_input *d, fin_err *err)
{
	size_t cap = d->cap ? 2 * d->cap : 1024;
	double *x = realloc(d->x, cap * (d->nnum ? d->nnum : 1) * sizeof *x);
	size_t *at;

	if (x)
		d->x = x;
	at = x ? realloc(d->text_at, cap * sizeof *at) : NULL;
	if (!at)
		return fin_fail(err, FIN_EDATA, "out of memory");
	d->text_at = at;
	d->cap = cap;
	return FIN_OK;
}

/* Keeps s[0..len) for the row being read; with second set, after the
 * text kept for it already. */
static int keep_text(fin_eval_input *d, const char *s, size_t len, int second, fin_err *err)
{
	if (d->text_len + len + 1 > d->text_cap) {
		size_t cap = 2 * (d->text_len + len + 1) + 4096;
		char *t = realloc(d->text, cap);
		if (!t)
			return fin_fail(err, FIN_EDATA, "out of memory");
		d->text = t;
		d->text_cap = cap;
	}
	if (!second)
		d->text_at[d->rows] = d->text_len;
	memcpy(d->text + d->text_len, s, len);
	d->text[d->text_len + len] = '\0';
	d->text_len += len + 1;
	return FIN_OK;
}

/* Drops the columns whose field in row is text: the first row decides
 * which columns are numeric, as for fin-train's default features. */
static void keep_numeric(fin_eval_input *d, const fin_row *row)
{
	size_t i, j;
	double v;

	for (i = j = 0; i < d->nnum; i++)
		if (fin_parse_double(row->fields[d->num[i]], row->lens[d->num[i]], &v) != FIN_NUM_BAD)
			d->num[j++] = d->num[i];
	d->nnum = j;
}

static int missing(const fin_eval_spec *spec, const char *file, const fin_row *row,
		   const char *column, fin_err *err)
{
	if (spec->na == FIN_NA_ERROR)
		return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': missing value (see --na)", file,
				row->line, column);
	return FIN_OK;
}

int fin_eval_read(fin_eval_input *d, fin_input *in, const fin_eval_spec *spec, fin_err *err)
{
	char shown[200], **names;
	size_t nnames;
	fin_row *row;
	int got, rc = FIN_OK;

	memset(d, 0, sizeof *d);
	fin_input_columns(in, &names, &nnames);
	d->text_col = spec->text;
	d->nnum = spec->nnum;
	d->num = malloc((spec->nnum ? spec->nnum : 1) * sizeof *d->num);
	if (!d->num)
		return fin_fail(err, FIN_EDATA, "out of memory");
	memcpy(d->num, spec->num, spec->nnum * sizeof *d->num);
	while ((got = fin_input_next(in, &row, err)) > 0) {
		const char *file = fin_input_name(in);
		double *v;
		int gap = 0, text_gap = 0;
		size_t j;

		if (d->read++ == 0 && spec->numeric_first_row)
			keep_numeric(d, row);
		if (d->rows == d->cap && (rc = grow_rows(d, err)) != FIN_OK)
			return rc;
		v = d->x + d->rows * d->nnum;
		for (j = 0; j < d->nnum; j++) {
			size_t c = d->num[j];
			switch (fin_parse_double(row->fields[c], row->lens[c], &v[j])) {
			case FIN_NUM_OK:
				break;
			case FIN_NUM_BAD:
				return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
						file, row->line, names[c],
						fin_quote_field(shown, sizeof shown, row->fields[c],
								row->lens[c]));
			case FIN_NUM_NA:
				if ((rc = missing(spec, file, row, names[c], err)) != FIN_OK)
					return rc;
				v[j] = NAN;
				gap = 1;
				break;
			}
		}
		for (j = 0; j < 2; j++) {
			long c = j ? (spec->has_text2 ? (long)spec->text2 : -1) : spec->text;
			if (c >= 0 && fin_is_na(row->fields[c], row->lens[c]) && !text_gap) {
				if ((rc = missing(spec, file, row, names[c], err)) != FIN_OK)
					return rc;
				text_gap = 1;
			}
		}
		d->gaps += gap || text_gap;
		if (text_gap || (gap && !spec->keep_gaps))
			continue;
		if (spec->text >= 0 && (rc = keep_text(d, row->fields[spec->text],
						       row->lens[spec->text], 0, err)) != FIN_OK)
			return rc;
		if (spec->has_text2 && (rc = keep_text(d, row->fields[spec->text2],
							row->lens[spec->text2], 1, err)) != FIN_OK)
			return rc;
		d->rows++;
	}
	if (got < 0)
		return -got;
	if (d->read == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	return FIN_OK;
}

void fin_eval_input_free(fin_eval_input *d)
{
	free(d->num);
	free(d->x);
	free(d->text);
	free(d->text_at);
	memset(d, 0, sizeof *d);
}

/* A row's label, for sorting: its text, and its value when every label
 * is a number. */
struct label_ref {
	const char *text;
	double value;
	size_t row;
};

static int by_label(const void *pa, const void *pb, void *numeric)
{
	const struct label_ref *a = pa, *b = pb;
	int c = *(const int *)numeric ? (a->value > b->value) - (a->value < b->value) : 0;

	/* equal numbers written differently ("1", "1.0") stay apart, so that
	 * each label is one run */
	if (c == 0)
		c = strcmp(a->text, b->text);
	return c ? c : (a->row > b->row) - (a->row < b->row);
}

int fin_eval_labels(const fin_eval_input *d, const char ***labels, size_t *nlabels, int *id,
		    fin_err *err)
{
	struct label_ref *ref = malloc((d->rows ? d->rows : 1) * sizeof *ref);
	const char **out = malloc((d->rows ? d->rows : 1) * sizeof *out);
	size_t n = 0, i;
	int numeric = 1;

	if (!ref || !out) {
		free(ref);
		free(out);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < d->rows; i++) {
		ref[i].text = fin_eval_text(d, i);
		ref[i].row = i;
		if (fin_parse_double(ref[i].text, strlen(ref[i].text), &ref[i].value) != FIN_NUM_OK)
			numeric = 0;
	}
	qsort_r(ref, d->rows, sizeof *ref, by_label, &numeric);
	for (i = 0; i < d->rows; i++) {
		if (n == 0 || strcmp(out[n - 1], ref[i].text) != 0)
			out[n++] = ref[i].text;
		id[ref[i].row] = (int)(n - 1);
	}
	free(ref);
	*labels = out;
	*nlabels = n;
	return FIN_OK;
}

int fin_label_is(const char *label, const char *value)
{
	double a, b;

	if (strcmp(label, value) == 0)
		return 1;
	return fin_parse_double(label, strlen(label), &a) == FIN_NUM_OK &&
	       fin_parse_double(value, strlen(value), &b) == FIN_NUM_OK && a == b;
}
