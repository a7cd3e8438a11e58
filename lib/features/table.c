#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/dict.h"
#include "features/encoding.h"
#include "features/feature_reader.h"
#include "features/key_order.h"
#include "features/table.h"
#include "io/columns.h"
#include "io/numio.h"

size_t fin_split_lag(const char *name, size_t *lag)
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
		v[i].base_len = fin_split_lag(names[i], &v[i].lag);
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

/* How a candidate column is read. */
enum col_state {
	COL_NUMBER,  /* numbers: their values only */
	COL_TRACKED, /* numbers so far, with few distinct values: their text is
		      * kept as well, in case a word later makes it a text column */
	COL_TEXT,    /* text: the code of each row's value */
	COL_WIDE,    /* text with too many distinct values to encode */
};

/* Distinct values of a number column still watched, and of a text column
 * held. A number column with more distinct values is a number column for
 * good: a word in it is a bad value, not a level. */
#define TRACK_MAX 1024
#define TEXT_MAX 65536
#define CODE_MISSING UINT32_MAX

struct column {
	size_t col;               /* input column */
	enum col_state state;
	const fin_category *cat;  /* the model's, when the table follows one */
	fin_dict dict;
	uint32_t *code;           /* [rows] */
	size_t *count;            /* scanning: rows of each code, [count_cap] */
	size_t count_cap, nmissing; /* and rows with a missing value */
	uint32_t last;            /* the last code, for ffill */
	long na_line;             /* the first missing value seen, and where */
	char *na_file;
	size_t unseen_at;         /* dictionary codes already checked against cat */
	/* With a model's category: what each code becomes, looked up once as
	 * the value first appears, [slot_cap] */
	long *slot;
	unsigned char *unseen;
	size_t slot_cap;
};

/* The rows read, until the text columns are encoded. */
struct fin_table_text {
	size_t ncand, rows, cap;
	char **names;             /* [ncand] column names */
	struct column *col;       /* [ncand] */
	double *v;                /* [rows][ncand] number values */
	char *input;              /* input name, for notes */
	fin_encoding_opts o;
	int unseen_error;
	int exact;                /* the columns are a model's: no layout */
	int scan;                 /* rows are counted, not kept */
	int na_error;             /* --na error: a missing value in a column used
				   * stops the run (named once the column is
				   * known to be used) */
};

static void text_free(struct fin_table_text *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ncand; i++) {
		free(p->names[i]);
		fin_dict_free(&p->col[i].dict);
		free(p->col[i].code);
		free(p->col[i].count);
		free(p->col[i].na_file);
		free(p->col[i].slot);
		free(p->col[i].unseen);
	}
	free(p->names);
	free(p->col);
	free(p->v);
	free(p->input);
	free(p);
}

static int table_note(fin_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int table_note(fin_table *t, const char *fmt, ...)
{
	char **notes = realloc(t->notes, (t->nnotes + 1) * sizeof *notes);
	va_list ap;
	int n;

	if (!notes)
		return -1;
	t->notes = notes;
	va_start(ap, fmt);
	n = vasprintf(&notes[t->nnotes], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	t->nnotes++;
	return 0;
}

/* A growing text: the list of columns not used. */
struct listing {
	char *s;
	size_t len, cap;
	size_t n, more;  /* names listed, and those only counted */
};

static int list_add(struct listing *l, const char *name, const char *why)
{
	size_t need = strlen(name) + strlen(why) + 8;

	if (l->n >= FIN_NOTE_NAMES) {
		l->more++;
		return 0;
	}

	if (l->len + need > l->cap) {
		size_t cap = 2 * (l->len + need);
		char *s = realloc(l->s, cap);
		if (!s)
			return -1;
		l->s = s;
		l->cap = cap;
	}
	l->len += (size_t)sprintf(l->s + l->len, "%s%s (%s)", l->n ? ", " : "", name, why);
	l->n++;
	return 0;
}

/* " and N more" in buf when the listing left names out. */
enum { MORE_TEXT_MAX = 48 };

static const char *more_text(const struct listing *l, char buf[MORE_TEXT_MAX])
{
	if (!l->more)
		return "";
	snprintf(buf, MORE_TEXT_MAX, " and %zu more", l->more);
	return buf;
}

static int grow_rows(struct fin_table_text *p, double **y, char ***label, fin_err *err)
{
	size_t cap = p->cap ? 2 * p->cap : 1024, i;
	double *v = realloc(p->v, cap * (p->ncand ? p->ncand : 1) * sizeof *v), *ny;
	char **l;

	if (v)
		p->v = v;
	ny = v ? realloc(*y, cap * sizeof *ny) : NULL;
	if (ny)
		*y = ny;
	l = ny ? realloc(*label, cap * sizeof *l) : NULL;
	if (!l)
		return fin_fail(err, FIN_EDATA, "out of memory");
	*label = l;
	for (i = 0; i < p->ncand; i++) {
		struct column *c = &p->col[i];
		uint32_t *code;
		if (c->state != COL_TRACKED && c->state != COL_TEXT)
			continue;
		if (!(code = realloc(c->code, cap * sizeof *code)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		c->code = code;
	}
	p->cap = cap;
	return FIN_OK;
}

/* What the newest value of c's dictionary, field, becomes in its model's
 * category: recorded once, for reading and for encoding. 0, or -1
 * without memory. */
static int look_up(struct column *c, const char *field, size_t len)
{
	size_t d = c->dict.n - 1;

	if (c->dict.n > c->slot_cap) {
		size_t cap = 2 * c->dict.n + 16;
		long *slot = realloc(c->slot, cap * sizeof *slot);
		unsigned char *unseen = slot ? realloc(c->unseen, cap) : NULL;
		if (slot)
			c->slot = slot;
		if (!unseen)
			return -1;
		c->unseen = unseen;
		c->slot_cap = cap;
	}
	c->unseen[d] = fin_category_slot(c->cat, field, len, 0, &c->slot[d]) == FIN_LEVEL_UNSEEN;
	c->unseen_at = c->dict.n;
	return 0;
}

static void stop_tracking(struct column *c, enum col_state state)
{
	fin_dict_free(&c->dict);
	free(c->code);
	free(c->count);
	c->code = NULL;
	c->count = NULL;
	c->count_cap = c->nmissing = 0;
	c->state = state;
}

/* Scanning: one more kept row holds code in column c. */
static int count_code(struct column *c, uint32_t code)
{
	if (code == CODE_MISSING) {
		c->nmissing++;
		return 0;
	}
	if (code >= c->count_cap) {
		size_t cap = 2 * (size_t)code + 64;
		size_t *count = realloc(c->count, cap * sizeof *count);
		if (!count)
			return -1;
		memset(count + c->count_cap, 0, (cap - c->count_cap) * sizeof *count);
		c->count = count;
		c->count_cap = cap;
	}
	c->count[code]++;
	return 0;
}

/* One field of a text (or still tracked) column: its code in *code, or
 * CODE_MISSING. */
static int text_code(struct column *c, const char *field, size_t len, uint32_t *code,
		     fin_err *err)
{
	long k;

	if (memchr(field, '\0', len))
		return fin_fail(err, FIN_EDATA, "a NUL byte in text");
	if ((k = fin_dict_code(&c->dict, field, len)) < 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	*code = (uint32_t)k;
	return FIN_OK;
}

/* Appends the key fields of row number r to t->keys. */
/* The time of the last row kept, for fin_table's tied. */
struct last_time {
	char *s;
	size_t len, cap, rows_cap;
};

/* Row r, of time s[0..len), is tied to the row before when their times
 * are the same text. */
static int note_tie(fin_table *t, size_t r, const char *s, size_t len, struct last_time *l,
		    fin_err *err)
{
	if (r + 1 > l->rows_cap) {
		size_t cap = 2 * (r + 1) + 1024;
		unsigned char *p = realloc(t->tied, cap);
		if (!p)
			return fin_fail(err, FIN_EDATA, "out of memory");
		t->tied = p;
		l->rows_cap = cap;
	}
	t->tied[r] = r > 0 && len == l->len && memcmp(s, l->s, len) == 0;
	if (len + 1 > l->cap) {
		char *p = realloc(l->s, len + 1);
		if (!p)
			return fin_fail(err, FIN_EDATA, "out of memory");
		l->s = p;
		l->cap = len + 1;
	}
	memcpy(l->s, s, len);
	l->len = len;
	return FIN_OK;
}

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


static int has_text(const struct fin_table_text *p)
{
	size_t i;

	for (i = 0; i < p->ncand; i++)
		if (p->col[i].state == COL_TEXT)
			return 1;
	return 0;
}

/* Number columns only: features in network order, channels of time steps
 * when the names allow it. */
static int numbers_only(fin_table *t, struct fin_table_text *p, fin_err *err)
{
	size_t n = p->ncand, i, j, *order;

	if (n == 0)
		return fin_fail(err, FIN_EUSAGE, "no numeric feature columns");
	order = malloc(n * sizeof *order);
	t->feat = calloc(n ? n : 1, sizeof *t->feat);
	t->x = p->scan ? NULL : malloc(t->rows * n * sizeof *t->x);
	if (!order || !t->feat || (!p->scan && !t->x)) {
		free(order);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	if (p->exact) {
		for (i = 0; i < n; i++)
			order[i] = i;
		t->in_c = n;
		t->in_t = 1;
	} else {
		fin_sequence_layout(p->names, n, order, &t->in_c, &t->in_t);
	}
	for (i = 0; i < n; i++) {
		t->feat[i] = p->names[order[i]];
		p->names[order[i]] = NULL;
	}
	t->nfeat = n;
	for (i = 0; !p->scan && i < t->rows; i++)
		for (j = 0; j < n; j++)
			t->x[i * n + j] = (float)p->v[i * n + order[j]];
	free(order);
	return FIN_OK;
}

/* What each distinct value of a text column becomes: its feature within
 * the column (-1 for none) and whether training never saw it. */
struct value_slots {
	long *slot;
	unsigned char *unseen;
};

/* With trained (the training rows' count of each value, when the levels
 * were learned here), a value pooled into (other) at training is not
 * unseen: only one no training row holds. */
static int value_slots(struct column *c, const fin_category *cat, const size_t *trained,
		       struct value_slots *vs)
{
	size_t d;

	/* Looked up while the rows were read (a model's category): taken over. */
	if (cat == c->cat && c->slot && c->unseen_at == c->dict.n) {
		vs->slot = c->slot;
		vs->unseen = c->unseen;
		c->slot = NULL;
		c->unseen = NULL;
		return 0;
	}
	vs->slot = malloc((c->dict.n ? c->dict.n : 1) * sizeof *vs->slot);
	vs->unseen = malloc(c->dict.n ? c->dict.n : 1);
	if (!vs->slot || !vs->unseen)
		return -1;
	for (d = 0; d < c->dict.n; d++)
		vs->unseen[d] = fin_category_slot(cat, c->dict.text[d], c->dict.len[d], 0,
						  &vs->slot[d]) == FIN_LEVEL_UNSEEN &&
				(!trained || trained[d] == 0);
	return 0;
}

/* Learns the category of text column c from rows [0, ntrain), counting
 * the training rows of each value into count[c->dict.n]; NULL with *why
 * set when it would make a constant feature. */
static fin_category *learn(const struct fin_table_text *p, const struct column *c, size_t ntrain,
			   size_t *count, size_t *pooled, const char **why, fin_err *err)
{
	size_t r, nmissing = 0;
	fin_category *cat;

	if (p->scan) {
		/* every row read is a training row */
		if (c->count)
			memcpy(count, c->count,
			       (c->count_cap < c->dict.n ? c->count_cap : c->dict.n) * sizeof *count);
		nmissing = c->nmissing;
		ntrain = 0;
	}
	for (r = 0; r < ntrain; r++) {
		if (c->code[r] == CODE_MISSING)
			nmissing++;
		else
			count[c->code[r]]++;
	}
	cat = fin_category_learn(&c->dict, count, nmissing, &p->o, pooled);
	if (!cat) {
		fin_fail(err, FIN_EDATA, "out of memory");
		return NULL;
	}
	/* Values the training rows tell apart: fewer than two, no feature. */
	if (cat->nlevels + (size_t)cat->other + (size_t)cat->missing < 2) {
		*why = cat->nlevels ? "text with one level in the training rows"
				    : "text with no level in enough training rows (see --min-count)";
		fin_category_free(cat);
		return NULL;
	}
	return cat;
}

/* Builds the features from the rows read: number columns as they are,
 * text columns one-hot over the levels of given, or learned from rows
 * [0, ntrain) when given is NULL. */
static int encode(fin_table *t, size_t ntrain, const fin_encoding *given, fin_err *err)
{
	struct fin_table_text *p = t->text;
	const fin_category **cats = NULL;
	struct value_slots *vs = NULL;
	size_t *width = NULL, *unseen = NULL, *trained = NULL, i, r, nfeat = 0, k = 0;
	fin_encoding e = { 0 };
	struct listing dropped = { 0 };
	char more[MORE_TEXT_MAX];
	int rc = FIN_OK;

	if (!has_text(p)) {
		rc = numbers_only(t, p, err);
		goto done;
	}
	cats = calloc(p->ncand, sizeof *cats);
	vs = calloc(p->ncand, sizeof *vs);
	width = calloc(p->ncand, sizeof *width);
	unseen = calloc(p->ncand, sizeof *unseen);
	e.cols = calloc(p->ncand, sizeof *e.cols);
	e.cat = calloc(p->ncand, sizeof *e.cat);
	if (!cats || !vs || !width || !unseen || !e.cols || !e.cat) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < p->ncand; i++) {
		struct column *c = &p->col[i];
		const char *why = NULL;
		size_t pooled = 0;

		if (c->state == COL_WIDE)
			continue;
		if (c->state == COL_TEXT) {
			if (given) {
				cats[i] = given->cat[i];
			} else {
				fin_category *cat;
				if (!(trained = calloc(c->dict.n ? c->dict.n : 1, sizeof *trained))) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
				cat = learn(p, c, ntrain, trained, &pooled, &why, err);
				if (!cat && !why) {
					rc = err->code;
					goto done;
				}
				if (!cat) {
					free(trained);
					trained = NULL;
					if (list_add(&dropped, p->names[i], why) != 0) {
						rc = fin_fail(err, FIN_EDATA, "out of memory");
						goto done;
					}
					continue;
				}
				if (p->na_error && c->na_line && !cat->missing) {
					fin_category_free(cat);
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': missing value (see --na)",
						      c->na_file, c->na_line, p->names[i]);
					goto done;
				}
				e.cat[k] = cat;
				cats[i] = cat;
				if (pooled &&
				    table_note(t, "%s: column '%s': %zu level%s pooled into '%s=(other)' "
					       "(fewer than %zu training rows, or beyond the %zu most "
					       "frequent)", p->input, p->names[i], pooled,
					       pooled == 1 ? "" : "s", p->names[i], p->o.min_count,
					       p->o.max_levels) != 0) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
			}
			rc = value_slots(c, cats[i], trained, &vs[i]) != 0
				     ? fin_fail(err, FIN_EDATA, "out of memory") : FIN_OK;
			free(trained);
			trained = NULL;
			if (rc != FIN_OK)
				goto done;
		}
		if (!given) {
			e.cols[k] = strdup(p->names[i]);
			e.ncols = ++k;
			if (!e.cols[k - 1]) {
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
		}
		width[i] = fin_category_width(cats[i]);
		nfeat += width[i];
	}
	if (dropped.n && table_note(t, "%s: not used: %s%s", p->input, dropped.s,
				    more_text(&dropped, more)) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (nfeat == 0) {
		rc = fin_fail(err, FIN_EUSAGE, "no feature columns left");
		goto done;
	}
	e.nfeat = nfeat;
	t->x = p->scan ? NULL : calloc(t->rows * nfeat, sizeof *t->x);
	if (!p->scan && !t->x) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	/* Scanned, every value is a training row's: none is unseen. */
	for (r = 0; !p->scan && r < t->rows; r++) {
		float *x = t->x + r * nfeat;
		size_t at = 0;
		for (i = 0; i < p->ncand; i++) {
			const struct column *c = &p->col[i];
			long slot = -1;
			if (!width[i])
				continue;
			if (!cats[i]) {
				x[at++] = (float)p->v[r * p->ncand + i];
				continue;
			}
			if (c->code[r] == CODE_MISSING) {
				fin_category_slot(cats[i], "", 0, 1, &slot);
			} else {
				slot = vs[i].slot[c->code[r]];
				unseen[i] += vs[i].unseen[c->code[r]];
			}
			if (slot >= 0)
				x[at + (size_t)slot] = 1;
			at += width[i];
		}
	}
	for (i = 0; i < p->ncand; i++)
		if (unseen[i] && table_note(t, "%s: column '%s': %zu value%s of levels %s, encoded as %s",
					    p->input, p->names[i], unseen[i], unseen[i] == 1 ? "" : "s",
					    given ? "not seen in training" : "not in the training rows",
					    cats[i]->other ? "(other)" : "no level (all zeros)") != 0) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
	if ((rc = fin_encoding_feature_names(given ? given : &e, &t->feat, err)) != FIN_OK)
		goto done;
	t->nfeat = nfeat;
	t->in_c = nfeat;
	t->in_t = 1;
	if (!given) {
		t->enc = e;
		memset(&e, 0, sizeof e);
	}
done:
	for (i = 0; vs && i < p->ncand; i++) {
		free(vs[i].slot);
		free(vs[i].unseen);
	}
	free(vs);
	free(cats);
	free(trained);
	free(width);
	free(unseen);
	free(dropped.s);
	fin_encoding_free(&e);
	text_free(t->text);
	t->text = NULL;
	return rc;
}

int fin_table_encode(fin_table *t, size_t ntrain, fin_err *err)
{
	return t->text ? encode(t, ntrain, NULL, err) : FIN_OK;
}

int fin_table_read(fin_table *t, fin_input *in, const fin_table_spec *spec, fin_err *err)
{
	char **names;
	char *const *want = spec->columns;
	size_t nwant = spec->ncolumns;
	size_t nnames, *key = NULL, nkey = 0, *cand = NULL, ncand = 0, i, j, seen = 0;
	size_t *pass = NULL, npass, *catcols = NULL, ncatcols = 0;
	long target = -1;
	double *last = NULL, *y = NULL;
	char **label = NULL;
	uint32_t *rowcode = NULL;
	struct fin_table_text *p = NULL;
	struct listing unused = { 0 };
	char more[MORE_TEXT_MAX];
	unsigned char *used = NULL;
	fin_key_order key_order;
	struct last_time tie = { 0 };
	fin_row *row;
	const char *file;
	char shown[200];
	int rc, got;
	const fin_encoding *enc = spec->encoding && fin_encoding_has_text(spec->encoding)
					  ? spec->encoding : NULL;

	memset(t, 0, sizeof *t);
	t->y_numeric = 1;
	if (enc) {
		want = enc->cols;
		nwant = enc->ncols;
	}
	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK)
		return rc;
	if (spec->nkeys && (rc = fin_columns_select(spec->keys, spec->nkeys, names, nnames, &key,
						    &nkey, err)) != FIN_OK)
		return rc;
	/* The columns kept as text: the keys, or with keep_all every one. */
	npass = spec->keep_all ? nnames : nkey;
	pass = malloc((npass ? npass : 1) * sizeof *pass);
	t->key_names = calloc(npass ? npass : 1, sizeof *t->key_names);
	p = calloc(1, sizeof *p);
	used = calloc(nnames ? nnames : 1, 1);
	if (!pass || !t->key_names || !p || !used) {
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
	if (spec->exact) {
		fin_table_spec exact = *spec;
		exact.columns = want;
		exact.ncolumns = nwant;
		rc = select_exact(&exact, names, nnames, fin_input_name(in), key, nkey, target,
				  &cand, &ncand, err);
	} else {
		rc = fin_columns_select(want, nwant, names, nnames, &cand, &ncand, err);
	}
	if (rc != FIN_OK)
		goto done;
	for (i = j = 0; i < ncand; i++) {
		if (nwant && (long)cand[i] == target) {
			rc = fin_fail(err, FIN_EUSAGE, "the target '%s' is also a feature column",
				      spec->target);
			goto done;
		}
		if ((long)cand[i] != target && !is_in(cand[i], key, nkey))
			cand[j++] = cand[i];
	}
	ncand = j;
	p->ncand = ncand;
	p->names = calloc(ncand ? ncand : 1, sizeof *p->names);
	p->col = calloc(ncand ? ncand : 1, sizeof *p->col);
	last = malloc((ncand + 1) * sizeof *last);
	rowcode = malloc((ncand ? ncand : 1) * sizeof *rowcode);
	t->files = fin_input_files(in);
	if (!p->names || !p->col || !last || !rowcode || !(p->input = strdup(fin_input_name(in))) ||
	    !(t->file_rows = calloc(t->files + 1, sizeof *t->file_rows))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	p->o = spec->encode;
	p->o.na_level = spec->na == FIN_NA_LEVEL;
	p->unseen_error = spec->unseen_error;
	p->exact = spec->exact;
	p->scan = spec->scan;
	p->na_error = spec->na == FIN_NA_ERROR;
	for (i = 0; i < ncand; i++) {
		struct column *c = &p->col[i];
		c->col = cand[i];
		used[cand[i]] = 1;
		if (!(p->names[i] = strdup(names[cand[i]]))) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
		c->last = CODE_MISSING;
		if (enc) {
			c->cat = enc->cat[i];
			c->state = c->cat ? COL_TEXT : COL_NUMBER;
		} else if (spec->exact) {
			c->state = COL_NUMBER;
		} else {
			c->state = COL_TRACKED;
		}
	}
	if (spec->ncategorical && !spec->exact) {
		if ((rc = fin_columns_select(spec->categorical, spec->ncategorical, names, nnames,
					     &catcols, &ncatcols, err)) != FIN_OK)
			goto done;
		for (j = 0; j < ncatcols; j++) {
			for (i = 0; i < ncand && p->col[i].col != catcols[j]; i++)
				;
			if (i == ncand) {
				rc = fin_fail(err, FIN_EUSAGE,
					      "--categorical: '%s' is not a feature column",
					      names[catcols[j]]);
				goto done;
			}
			p->col[i].state = COL_TEXT;
		}
	}
	for (i = 0; i <= ncand; i++)
		last[i] = NAN;
	/* Rows of one time may come together (a panel), but never go back. */
	if (spec->key_order && nkey)
		fin_key_order_init(&key_order, names[key[0]], 0);
	while ((got = fin_input_next(in, &row, err)) > 0) {
		double *v;
		int gap = 0;
		/* scanning, each row takes the place of the one before */
		size_t at = spec->scan ? 0 : p->rows;

		while (seen < fin_input_file(in))
			t->file_rows[++seen] = p->rows;
		file = fin_input_name(in);
		if (spec->key_order && nkey &&
		    (rc = fin_key_order_next(&key_order, file, row->line, row->fields[key[0]],
					     row->lens[key[0]], err)) != FIN_OK)
			goto done;
		if (at == p->cap && (rc = grow_rows(p, &y, &label, err)) != FIN_OK)
			goto done;
		label[at] = NULL;
		v = p->v + at * ncand;
		y[at] = NAN;
		for (i = 0; i < ncand + (target >= 0); i++) {
			int is_target = i == ncand;
			struct column *c = is_target ? NULL : &p->col[i];
			size_t col = is_target ? (size_t)target : c->col;
			const char *field = row->fields[col];
			size_t len = row->lens[col];
			double d = NAN;
			enum fin_num kind;

			if (is_target) {
				kind = fin_parse_double(field, len, &d);
				/* A missing target is never filled: that would make up
				 * an answer. */
				if (kind == FIN_NUM_NA && spec->na == FIN_NA_ERROR) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': missing value (see --na)",
						      file, row->line, names[col]);
					goto done;
				}
				if (kind == FIN_NUM_NA) {
					gap = 1;
					continue;
				}
				/* kept as text too, for class labels */
				if (!(label[at] = strdup(field))) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
				if (kind == FIN_NUM_BAD && t->y_numeric) {
					t->y_numeric = 0;
					t->y_text_line = row->line;
					if (!(t->y_text_file = strdup(file))) {
						rc = fin_fail(err, FIN_EDATA, "out of memory");
						goto done;
					}
					fin_quote_field(t->y_text, sizeof t->y_text, field, len);
				}
				t->y_numbers += kind == FIN_NUM_OK;
				y[at] = kind == FIN_NUM_OK ? d : NAN;
				continue;
			}
			rowcode[i] = CODE_MISSING;
			if (c->state == COL_WIDE)
				continue;
			if (fin_is_na(field, len)) {
				int level = c->cat ? c->cat->missing : spec->na == FIN_NA_LEVEL;
				if (spec->na == FIN_NA_ERROR && !level && spec->exact) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': missing value (see --na)",
						      file, row->line, names[col]);
					goto done;
				}
				if (!c->na_line) {
					c->na_line = row->line;
					if (!(c->na_file = strdup(file))) {
						rc = fin_fail(err, FIN_EDATA, "out of memory");
						goto done;
					}
				}
				if (level || spec->na == FIN_NA_ERROR)
					continue;
				if (spec->na == FIN_NA_FFILL && !isnan(last[i])) {
					v[i] = last[i];
					rowcode[i] = c->last;
					t->filled++;
				} else if (spec->na == FIN_NA_FFILL && c->state == COL_TEXT &&
					   c->last != CODE_MISSING) {
					rowcode[i] = c->last;
					t->filled++;
				} else {
					gap = 1;
				}
				continue;
			}
			if (c->state != COL_TEXT) {
				kind = fin_parse_double(field, len, &d);
				if (kind == FIN_NUM_OK && fabs(d) > FLT_MAX) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': beyond the float32 range: '%s'",
						      file, row->line, names[col],
						      fin_quote_field(shown, sizeof shown, field, len));
					goto done;
				}
				if (kind == FIN_NUM_BAD && c->state == COL_NUMBER) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': not a number: '%s'%s", file,
						      row->line, names[col],
						      fin_quote_field(shown, sizeof shown, field, len),
						      spec->exact ? "" : " (a column of more than 1024 "
						      "distinct numbers is not read as text; name it in "
						      "--categorical)");
					goto done;
				}
				if (kind == FIN_NUM_BAD)
					c->state = COL_TEXT;
				else
					v[i] = last[i] = d;
			}
			if (c->state == COL_NUMBER)
				continue;
			if ((rc = text_code(c, field, len, &rowcode[i], err)) != FIN_OK) {
				rc = fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': %s", file, row->line,
					      names[col], err->msg);
				goto done;
			}
			c->last = rowcode[i];
			if (c->cat && c->dict.n > c->unseen_at) {
				if (look_up(c, field, len) != 0) {
					rc = fin_fail(err, FIN_EDATA, "out of memory");
					goto done;
				}
				if (p->unseen_error && c->unseen[c->dict.n - 1]) {
					rc = fin_fail(err, FIN_EDATA,
						      "%s:%ld: column '%s': level '%s' was not seen in "
						      "training (see --unseen)", file, row->line,
						      names[col], fin_quote_field(shown, sizeof shown,
										  field, len));
					goto done;
				}
			}
			if (c->state == COL_TRACKED && c->dict.n > TRACK_MAX)
				stop_tracking(c, COL_NUMBER);
			else if (c->state == COL_TEXT && !c->cat && c->dict.n > TEXT_MAX)
				stop_tracking(c, COL_WIDE);
		}
		if (gap || spec->scan) {
			free(label[at]);
			label[at] = NULL;
		}
		if (gap) {
			t->skipped++;
			continue;
		}
		for (i = 0; i < ncand; i++) {
			struct column *c = &p->col[i];
			if (spec->scan && (c->state == COL_TRACKED || c->state == COL_TEXT) &&
			    count_code(c, rowcode[i]) != 0) {
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
			if (c->code && !spec->scan)
				c->code[p->rows] = rowcode[i];
		}
		if ((spec->keep_keys || spec->keep_all) &&
		    (rc = keep_row_keys(t, p->rows, row, pass, npass, err)) != FIN_OK)
			goto done;
		if (spec->key_order && nkey && !spec->scan &&
		    (rc = note_tie(t, p->rows, row->fields[key[0]], row->lens[key[0]], &tie,
				   err)) != FIN_OK)
			goto done;
		p->rows++;
	}
	if (got < 0) {
		rc = -got;
		goto done;
	}
	if (p->rows == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
		goto done;
	}
	for (i = 0; i < ncand; i++) {
		struct column *c = &p->col[i];
		if (c->state == COL_TRACKED)
			stop_tracking(c, COL_NUMBER);
		if (c->state == COL_NUMBER && spec->na == FIN_NA_LEVEL && c->na_line) {
			rc = fin_fail(err, FIN_EDATA,
				      "%s:%ld: column '%s': missing value (--na level applies to text "
				      "columns only)", c->na_file, c->na_line, p->names[i]);
			goto done;
		}
		if (c->state == COL_NUMBER && spec->na == FIN_NA_ERROR && c->na_line) {
			rc = fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': missing value (see --na)",
				      c->na_file, c->na_line, p->names[i]);
			goto done;
		}
		if (c->state == COL_WIDE) {
			used[c->col] = 2; /* listed here */
			if (list_add(&unused, p->names[i], "text with more than 65536 distinct values") != 0) {
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
		}
	}
	/* The columns the table does not use, each with its reason. */
	for (i = 0; i < nnames; i++) {
		const char *why = is_in(i, key, nkey) ? "key"
				  : (long)i == target ? "target"
				  : used[i]	      ? NULL
						      : "not selected";
		if (why && list_add(&unused, names[i], why) != 0) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
	}
	t->rows = p->rows;
	while (seen < t->files)
		t->file_rows[++seen] = p->rows;
	if (!spec->scan) {
		t->y = y;
		t->ylabel = label;
		y = NULL;
		label = NULL;
	}
	t->text = p;
	p = NULL;
	rc = FIN_OK;
	if (unused.n)
		rc = table_note(t, "%s: not used: %s%s", fin_input_name(in), unused.s,
				more_text(&unused, more)) == 0
			     ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");
	/* A table with no text column, or one that follows a model's
	 * encoding, is ready now; the others wait for fin_table_encode to
	 * learn their levels from the training rows. */
	if (rc == FIN_OK && (enc || !has_text(t->text)))
		rc = encode(t, t->rows, enc, err);
done:
	if (label)
		for (i = 0; i < (p ? (spec->scan ? (p->cap > 0) : p->rows) : 0); i++)
			free(label[i]);
	free(label);
	free(y);
	free(last);
	free(tie.s);
	free(rowcode);
	free(cand);
	free(catcols);
	free(key);
	free(pass);
	free(used);
	free(unused.s);
	text_free(p);
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
	free(t->tied);
	free(t->file_rows);
	free(t->y_text_file);
	text_free(t->text);
	fin_encoding_free(&t->enc);
	for (i = 0; i < t->nnotes; i++)
		free(t->notes[i]);
	free(t->notes);
	memset(t, 0, sizeof *t);
}
