#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "feature_reader.h"
#include "key_order.h"
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

struct lagged_name {
	const char *name;
	size_t base_len, lag, index;
};

/* By base, then lag: each base's names become one sorted run. */
static int by_base_and_lag(const void *pa, const void *pb)
{
	const struct lagged_name *a = pa, *b = pb;
	size_t n = a->base_len < b->base_len ? a->base_len : b->base_len;
	int c = memcmp(a->name, b->name, n);

	if (c)
		return c;
	if (a->base_len != b->base_len)
		return a->base_len < b->base_len ? -1 : 1;
	if (a->lag != b->lag)
		return a->lag < b->lag ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* A base's run of names in the sorted list, and the first column it has. */
struct base_run {
	size_t first, at;
};

static int by_first(const void *pa, const void *pb)
{
	const struct base_run *a = pa, *b = pb;
	return (a->first > b->first) - (a->first < b->first);
}

static int same_base(const struct lagged_name *a, const struct lagged_name *b)
{
	return a->base_len == b->base_len && memcmp(a->name, b->name, a->base_len) == 0;
}

int fin_sequence_layout(char *const *names, size_t n, size_t *order, size_t *c, size_t *t)
{
	/* Sorting makes the check O(n log n) however many bases there are,
	 * and a repeated or missing lag shows as a run out of step. */
	struct lagged_name *v = malloc((n ? n : 1) * sizeof *v);
	struct base_run *run = malloc((n ? n : 1) * sizeof *run);
	size_t i, steps = 0, nb = 0;
	int ok = n > 0 && v && run;

	for (i = 0; ok && i < n; i++) {
		v[i].name = names[i];
		v[i].index = i;
		v[i].base_len = split_lag(names[i], &v[i].lag);
		ok = v[i].base_len > 0;
	}
	if (ok) {
		qsort(v, n, sizeof *v, by_base_and_lag);
		for (steps = 0; steps < n && same_base(&v[0], &v[steps]); steps++)
			;
		ok = steps >= 2 && n % steps == 0;
	}
	/* Each run of steps names is one base with lags 0..steps-1. */
	for (i = 0; ok && i < n; i++)
		ok = v[i].lag == i % steps && same_base(&v[i], &v[i - i % steps]) &&
		     (i % steps || i == 0 || !same_base(&v[i], &v[i - 1]));
	if (ok) {
		/* Channels in the order their bases first appear in names. */
		nb = n / steps;
		for (i = 0; i < nb; i++) {
			size_t k;
			run[i].first = v[i * steps].index;
			run[i].at = i * steps;
			for (k = 1; k < steps; k++)
				if (v[i * steps + k].index < run[i].first)
					run[i].first = v[i * steps + k].index;
		}
		qsort(run, nb, sizeof *run, by_first);
		for (i = 0; i < nb; i++) {
			size_t k;
			for (k = 0; k < steps; k++) {
				const struct lagged_name *e = &v[run[i].at + k];
				order[i * steps + (steps - 1 - e->lag)] = e->index;
			}
		}
	} else {
		for (i = 0; i < n; i++)
			order[i] = i;
	}
	*c = ok ? nb : n;
	*t = ok ? steps : 1;
	free(v);
	free(run);
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

/* The columns of a model's features, each found by its exact name once,
 * none of them a key or the target. */
static int select_exact(const fin_table_spec *spec, char *const *names, size_t nnames,
			const char *file, const size_t *key, size_t nkey, long target,
			size_t **cand, size_t *ncand, fin_err *err)
{
	size_t i;
	int rc;

	*cand = malloc((spec->ncolumns ? spec->ncolumns : 1) * sizeof **cand);
	if (!*cand)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = fin_columns_find_each(spec->columns, spec->ncolumns, names, nnames, file,
					spec->owner, *cand, err)) != FIN_OK)
		return rc;
	for (i = 0; i < spec->ncolumns; i++)
		if ((long)(*cand)[i] == target || is_in((*cand)[i], key, nkey))
			return fin_fail(err, FIN_EUSAGE, "'%s' is a feature of %s: not a key or target",
					spec->columns[i], spec->owner);
	*ncand = spec->ncolumns;
	return FIN_OK;
}

int fin_table_read(fin_table *t, fin_input *in, const fin_table_spec *spec, fin_err *err)
{
	char **names;
	size_t nnames, *key = NULL, nkey = 0, *cand = NULL, ncand = 0, *order = NULL, i, j;
	size_t *pass = NULL, npass;
	long target = -1;
	double *last = NULL;
	struct rows_buf b = { 0 };
	fin_key_order key_order;
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
	if (spec->exact)
		rc = select_exact(spec, names, nnames, fin_input_name(in), key, nkey, target, &cand,
				  &ncand, err);
	else
		rc = fin_columns_select(spec->columns, spec->ncolumns, names, nnames, &cand, &ncand,
					err);
	if (rc != FIN_OK)
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
	/* Rows of one time may come together (a panel), but never go back. */
	if (spec->key_order && nkey)
		fin_key_order_init(&key_order, names[key[0]], 0);
	/* Without -c, the numeric columns of the first row are the features. */
	decided = spec->ncolumns > 0;
	while ((got = fin_input_next(in, &row, err)) > 0) {
		double *v;
		int gap = 0;

		if (spec->key_order && nkey &&
		    (rc = fin_key_order_next(&key_order, fin_input_name(in), row->line,
					     row->fields[key[0]], row->lens[key[0]], err)) != FIN_OK)
			goto done;

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
			kind = is_target ? fin_parse_double(row->fields[col], row->lens[col], &d)
					 : fin_feature_parse(row, col, names[col], fin_input_name(in),
							     &d, err);
			if (is_target && kind != FIN_NUM_NA) {
				/* kept as text too, for class labels */
				b.label[b.rows] = strdup(row->fields[col]);
				if (!b.label[b.rows]) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
				if (kind == FIN_NUM_BAD && t->y_numeric) {
					t->y_numeric = 0;
					t->y_text_line = row->line;
					t->y_text_file = strdup(fin_input_name(in));
					if (!t->y_text_file) {
						rc = fin_fail(err, FIN_EDATA, "out of memory");
						goto done;
					}
					fin_quote_field(t->y_text, sizeof t->y_text, row->fields[col],
							row->lens[col]);
				}
				t->y_numbers += kind == FIN_NUM_OK;
				b.y[b.rows] = kind == FIN_NUM_OK ? d : NAN;
				continue;
			}
			if (kind == FIN_NUM_BAD) {
				rc = FIN_EDATA;
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
		if (spec->exact) {
			for (i = 0; i < ncand; i++)
				order[i] = i;
			t->in_c = ncand;
			t->in_t = 1;
		} else {
			fin_sequence_layout(cand_names, ncand, order, &t->in_c, &t->in_t);
		}
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
	free(t->y_text_file);
	memset(t, 0, sizeof *t);
}
