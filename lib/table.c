#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "numio.h"
#include "table.h"

/* Splits "<base>_<lag>"; returns the base length, or 0 if name is not so. */
static size_t split_lag(const char *name, size_t *lag)
{
	const char *u = strrchr(name, '_');
	char *end;

	if (!u || u == name || u[1] < '0' || u[1] > '9' || strlen(u + 1) > 6)
		return 0;
	*lag = strtoul(u + 1, &end, 10);
	return *end ? 0 : (size_t)(u - name);
}

int fin_sequence_layout(char *const *names, size_t n, size_t *order, size_t *c, size_t *t)
{
	size_t *base = malloc((n ? n : 1) * sizeof *base); /* index of the first name of each base */
	size_t *count = calloc(n ? n : 1, sizeof *count), nb = 0, i, j, steps;
	int ok = n > 0 && base && count;

	for (i = 0; ok && i < n; i++) {
		size_t lag, len = split_lag(names[i], &lag);
		if (!len) {
			ok = 0;
			break;
		}
		for (j = 0; j < nb; j++)
			if (strncmp(names[base[j]], names[i], len + 1) == 0)
				break;
		if (j == nb)
			base[nb++] = i;
		count[j]++;
	}
	steps = ok ? n / nb : 0;
	for (j = 0; ok && j < nb; j++)
		ok = count[j] == steps;
	ok = ok && steps >= 2 && nb * steps == n;
	/* every base must have each lag 0..steps-1 exactly once */
	for (i = 0; ok && i < n; i++) {
		size_t lag = 0, len = split_lag(names[i], &lag), at;
		for (j = 0; strncmp(names[base[j]], names[i], len + 1) != 0; j++)
			;
		if (lag >= steps) {
			ok = 0;
			break;
		}
		at = j * steps + (steps - 1 - lag);
		order[at] = i;
	}
	if (ok) {
		/* a repeated lag leaves another slot unfilled: check by marking */
		for (i = 0; i < n; i++)
			count[i] = 0;
		for (i = 0; i < n; i++)
			count[order[i]]++;
		for (i = 0; ok && i < n; i++)
			ok = count[i] == 1;
	}
	if (!ok)
		for (i = 0; i < n; i++)
			order[i] = i;
	*c = ok ? nb : n;
	*t = ok ? steps : 1;
	free(base);
	free(count);
	return ok;
}

/* A growing buffer of rows being read. */
struct rows_buf {
	double *v;        /* [rows][ncand] */
	double *y;        /* [rows] target */
	char **label;     /* [rows] target text */
	size_t rows, cap;
};

static int push_row(struct rows_buf *b, size_t width, fin_err *err)
{
	if (b->rows == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		double *v = realloc(b->v, cap * (width ? width : 1) * sizeof *v), *y;
		char **l;
		if (v)
			b->v = v;
		y = v ? realloc(b->y, cap * sizeof *y) : NULL;
		if (y)
			b->y = y;
		l = y ? realloc(b->label, cap * sizeof *l) : NULL;
		if (!l)
			return fin_fail(err, FIN_EDATA, "out of memory");
		b->label = l;
		b->cap = cap;
	}
	b->label[b->rows] = NULL;
	return FIN_OK;
}

/* Appends the key fields of row number r to t->keys. */
static int keep_row_keys(fin_table *t, size_t r, const fin_row *row, const size_t *key,
			 size_t nkey, fin_err *err)
{
	size_t need = 0, i;

	for (i = 0; i < nkey; i++)
		need += row->lens[key[i]] + 1;
	if (t->keys_len + need > t->keys_cap) {
		size_t cap = 2 * (t->keys_len + need) + 1024;
		char *k = realloc(t->keys, cap);
		if (!k)
			return fin_fail(err, FIN_EDATA, "out of memory");
		t->keys = k;
		t->keys_cap = cap;
	}
	if (r + 1 > t->key_at_cap) {
		size_t cap = 2 * (r + 1) + 1024;
		size_t *at = realloc(t->key_at, cap * sizeof *at);
		if (!at)
			return fin_fail(err, FIN_EDATA, "out of memory");
		t->key_at = at;
		t->key_at_cap = cap;
	}
	t->key_at[r] = t->keys_len;
	for (i = 0; i < nkey; i++) {
		size_t n = row->lens[key[i]];
		memcpy(t->keys + t->keys_len, row->fields[key[i]], n);
		t->keys[t->keys_len + n] = '\0';
		t->keys_len += n + 1;
	}
	return FIN_OK;
}

static int is_in(size_t v, const size_t *set, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

int fin_table_read(fin_table *t, fin_input *in, const fin_table_spec *spec, fin_err *err)
{
	char **names, shown[200];
	size_t nnames, *key = NULL, nkey = 0, *cand = NULL, ncand = 0, *order = NULL, i, j;
	size_t *pass = NULL, npass;
	long target = -1;
	double *last = NULL;
	struct rows_buf b = { 0 };
	fin_row *row;
	int rc, got, decided;

	memset(t, 0, sizeof *t);
	t->y_numeric = 1;
	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK)
		return rc;
	if (spec->nkeys && (rc = fin_columns_select(spec->keys, spec->nkeys, names, nnames, &key,
						    &nkey, err)) != FIN_OK)
		return rc;
	/* The columns kept as text: the keys, or with keep_all every one. */
	npass = spec->keep_all ? nnames : nkey;
	pass = malloc((npass ? npass : 1) * sizeof *pass);
	t->key_names = calloc(npass ? npass : 1, sizeof *t->key_names);
	if (!pass || !t->key_names) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < npass; i++) {
		pass[i] = spec->keep_all ? i : key[i];
		if (!(t->key_names[i] = strdup(names[pass[i]]))) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
		t->nkeys++;
	}
	if (spec->target && (target = fin_column_find(names, nnames, spec->target)) < 0) {
		rc = fin_fail(err, FIN_EUSAGE, "-y: no column '%s' in the input", spec->target);
		goto done;
	}
	if ((rc = fin_columns_select(spec->columns, spec->ncolumns, names, nnames, &cand, &ncand,
				     err)) != FIN_OK)
		goto done;
	for (i = j = 0; i < ncand; i++) {
		if (spec->ncolumns && (long)cand[i] == target) {
			rc = fin_fail(err, FIN_EUSAGE, "the target '%s' is also a feature column",
				      spec->target);
			goto done;
		}
		if ((long)cand[i] != target && !is_in(cand[i], key, nkey))
			cand[j++] = cand[i];
	}
	ncand = j;
	last = malloc((ncand + 1) * sizeof *last);
	if (!last) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i <= ncand; i++)
		last[i] = NAN;
	/* Without -c, the numeric columns of the first row are the features. */
	decided = spec->ncolumns > 0;
	while ((got = fin_input_next(in, &row, err)) > 0) {
		double *v;
		int gap = 0;

		if (!decided) {
			for (i = j = 0; i < ncand; i++) {
				double d;
				if (fin_parse_double(row->fields[cand[i]], row->lens[cand[i]], &d) != FIN_NUM_BAD)
					cand[j++] = cand[i];
			}
			ncand = j;
			decided = 1;
		}
		if ((rc = push_row(&b, ncand, err)) != FIN_OK)
			goto done;
		v = b.v + b.rows * ncand;
		b.y[b.rows] = NAN;
		for (i = 0; i <= ncand; i++) {
			int is_target = i == ncand;
			size_t col = is_target ? (size_t)target : cand[i];
			double d = NAN;
			enum fin_num kind;

			if (is_target && target < 0)
				break;
			kind = fin_parse_double(row->fields[col], row->lens[col], &d);
			if (is_target && kind != FIN_NUM_NA) {
				/* kept as text too, for class labels */
				b.label[b.rows] = strdup(row->fields[col]);
				if (!b.label[b.rows]) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
				if (kind == FIN_NUM_BAD)
					t->y_numeric = 0;
				b.y[b.rows] = kind == FIN_NUM_OK ? d : NAN;
				continue;
			}
			if (kind == FIN_NUM_BAD) {
				rc = fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
					      fin_input_name(in), row->line, names[col],
					      fin_quote_field(shown, sizeof shown, row->fields[col],
							      row->lens[col]));
				goto done;
			}
			if (kind == FIN_NUM_NA) {
				if (spec->na == FIN_NA_ERROR) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': missing value (see --na)",
						      fin_input_name(in), row->line, names[col]);
					goto done;
				}
				/* A missing target is never filled: that would make up
				 * an answer. */
				if (spec->na == FIN_NA_FFILL && !is_target && !isnan(last[i])) {
					d = last[i];
					t->filled++;
				} else {
					gap = 1;
				}
			} else {
				last[i] = d;
			}
			if (!is_target)
				v[i] = d;
		}
		if (gap) {
			free(b.label[b.rows]);
			t->skipped++;
			continue;
		}
		if ((spec->keep_keys || spec->keep_all) &&
		    (rc = keep_row_keys(t, b.rows, row, pass, npass, err)) != FIN_OK)
			goto done;
		b.rows++;
	}
	if (got < 0) {
		rc = -got;
		goto done;
	}
	if (b.rows == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
		goto done;
	}
	if (ncand == 0) {
		rc = fin_fail(err, FIN_EUSAGE, "no numeric feature columns");
		goto done;
	}
	/* Network order: channels of time steps when the names allow it. */
	t->feat = malloc(ncand * sizeof *t->feat);
	order = malloc(ncand * sizeof *order);
	t->x = malloc(b.rows * ncand * sizeof *t->x);
	t->y = malloc(b.rows * sizeof *t->y);
	if (!t->feat || !order || !t->x || !t->y) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	{
		char **cand_names = malloc(ncand * sizeof *cand_names);
		if (!cand_names) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
		for (i = 0; i < ncand; i++)
			cand_names[i] = names[cand[i]];
		fin_sequence_layout(cand_names, ncand, order, &t->in_c, &t->in_t);
		for (i = 0; i < ncand; i++) {
			t->feat[i] = strdup(cand_names[order[i]]);
			if (!t->feat[i]) {
				free(cand_names);
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
			t->nfeat++;
		}
		free(cand_names);
	}
	for (i = 0; i < b.rows; i++) {
		for (j = 0; j < ncand; j++)
			t->x[i * ncand + j] = (float)b.v[i * ncand + order[j]];
		t->y[i] = b.y[i];
	}
	t->rows = b.rows;
	t->ylabel = b.label;
	b.label = NULL;
	rc = FIN_OK;
done:
	if (b.label)
		for (i = 0; i < b.rows; i++)
			free(b.label[i]);
	free(b.label);
	free(b.v);
	free(b.y);
	free(last);
	free(order);
	free(cand);
	free(key);
	free(pass);
	if (rc != FIN_OK)
		fin_table_free(t);
	return rc;
}

void fin_table_free(fin_table *t)
{
	size_t i;

	for (i = 0; i < t->nfeat; i++)
		free(t->feat[i]);
	if (t->ylabel)
		for (i = 0; i < t->rows; i++)
			free(t->ylabel[i]);
	free(t->feat);
	free(t->x);
	free(t->y);
	free(t->ylabel);
	for (i = 0; t->key_names && i < t->nkeys; i++)
		free(t->key_names[i]);
	free(t->key_names);
	free(t->keys);
	free(t->key_at);
	memset(t, 0, sizeof *t);
}
