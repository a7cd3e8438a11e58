#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/ranks.h"
#include "features/dict.h"
#include "features/key_order.h"
#include "features/window.h"
#include "io/numio.h"

int fin_transform_parse(const char *s)
{
	static const char *const w[] = { "level", "diff", "ret", "logret" };
	return fin_word_index(s, w, 4);
}

int fin_norm_parse(const char *s)
{
	static const char *const w[] = { "none", "zscore", "minmax", "last" };
	return fin_word_index(s, w, 4);
}

int fin_target_parse(const char *s)
{
	static const char *const w[] = { "next", "sum", "direction", "none" };
	return fin_word_index(s, w, 4);
}

int fin_na_parse(const char *s)
{
	static const char *const w[] = { "error", "skip", "ffill" };
	return fin_word_index(s, w, 3);
}

int fin_na_parse_text(const char *s)
{
	static const char *const w[] = { "error", "skip", "ffill", "level" };
	return fin_word_index(s, w, 4);
}


int fin_cross_parse(const char *s)
{
	static const char *const w[] = { "none", "rank", "zscore" };
	return fin_word_index(s, w, 3);
}

int fin_transform_apply(enum fin_transform t, double prev, double cur, double *out)
{
	switch (t) {
	case FIN_TF_LEVEL:
		*out = cur;
		break;
	case FIN_TF_DIFF:
		*out = cur - prev;
		break;
	case FIN_TF_RET:
		if (prev == 0)
			return FIN_EDATA;
		*out = cur / prev - 1;
		break;
	case FIN_TF_LOGRET:
		if (prev <= 0 || cur <= 0)
			return FIN_EDATA;
		*out = log(cur / prev);
		break;
	}
	return FIN_OK;
}

int fin_normalize(enum fin_norm norm, double *x, size_t n)
{
	double a, b;
	size_t i;

	switch (norm) {
	case FIN_NORM_NONE:
		break;
	case FIN_NORM_ZSCORE:
		a = gsl_stats_mean(x, 1, n);
		b = n > 1 ? gsl_stats_sd_m(x, 1, n, a) : 0;
		for (i = 0; i < n; i++)
			x[i] = b > 0 ? (x[i] - a) / b : 0;
		break;
	case FIN_NORM_MINMAX:
		gsl_stats_minmax(&a, &b, x, 1, n);
		for (i = 0; i < n; i++)
			x[i] = b > a ? (x[i] - a) / (b - a) : 0;
		break;
	case FIN_NORM_LAST:
		a = x[n - 1];
		if (a == 0)
			return FIN_EDATA;
		for (i = 0; i < n; i++)
			x[i] /= a;
		break;
	}
	return FIN_OK;
}

int fin_window_check(const fin_window_opts *o, size_t nchan, fin_err *err)
{
	if (nchan == 0)
		return fin_fail(err, FIN_EUSAGE, "no columns to window");
	if (o->size < 1 || o->size > 100000)
		return fin_fail(err, FIN_EUSAGE, "--size must be between 1 and 100000");
	if (o->stride < 1)
		return fin_fail(err, FIN_EUSAGE, "--stride must be at least 1");
	if (o->target != FIN_TARGET_NONE && (o->horizon < 1 || o->horizon > 100000))
		return fin_fail(err, FIN_EUSAGE, "--horizon must be between 1 and 100000");
	if (o->target_channel >= nchan)
		return fin_fail(err, FIN_EUSAGE, "the target column is not one of the windowed columns");
	if (o->size < 2 && (o->norm == FIN_NORM_ZSCORE || o->norm == FIN_NORM_MINMAX))
		return fin_fail(err, FIN_EUSAGE, "--norm zscore and minmax need --size 2 or more");
	return FIN_OK;
}

/* What fin_window_run keeps between rows. Rings are indexed by row number
 * modulo their length: values for the rows a window and its target span,
 * keys for the rows whose target has not arrived yet. */
struct window_state {
	const fin_window_opts *o;
	char *const *names;
	const size_t *chan, *key;
	size_t nchan, nkeys;
	size_t ahead;      /* rows after the window end needed by the target */
	size_t span;       /* size + ahead: rows held in the value ring */
	size_t first_end;  /* row index of the first possible window end */
	double *z;         /* [span][nchan] transformed values, NaN if missing */
	char *txt;         /* [span][nchan][FIN_NUM_MAX] formatted z (norm none) */
	unsigned char *txtlen; /* [span][nchan] their lengths */
	double *level;     /* [nchan] previous level, NaN if missing */
	double *filled;    /* [nchan] last value seen, for ffill */
	double *win;       /* [nchan][size] scratch for normalising */
	char **keys;       /* [ahead + 1] key fields of a row, each NUL-ended */
	size_t *keys_cap;
	long *lines;       /* [ahead + 1] line of each held row */
	size_t run;        /* consecutive rows with every value present */
	size_t rows;       /* rows taken */
	fin_key_order order; /* of the first key */
	char *group;       /* a panel's group (--by, --assets), for messages */
	const char *label; /* --assets: the asset's name, written after the keys */
	struct cross *cs;  /* --cross-section: where its windows go */
	size_t *cand;      /* [ahead + 1] with cs: the date of each held row
			    * that may end a window, SIZE_MAX for the others */
};

/* --cross-section: the windows ending on each date, held until every
 * window that may end on it has come or cannot (its series' target row
 * arrived, or the input ended), then put on a common scale across the
 * assets and written. Dates are numbered as they come; q[i] is date
 * first + i. */
struct cs_date {
	size_t pending;  /* windows that may still come */
	size_t n, cap;   /* windows held */
	double *v;       /* [cap][width] their values and target */
	char **keys;     /* [cap] their key fields, each NUL-ended, */
	const char **label; /* and the asset of --assets */
};

struct cross {
	enum fin_cross how;
	size_t width;        /* values and target of a window */
	size_t nkeys;
	struct cs_date *q;
	size_t head, n, cap; /* q[head..n) are held */
	size_t first;        /* the number of q[0] */
	size_t seq;          /* the number of the current date */
	char *last;          /* the current date's key */
	size_t last_len, last_cap;
	int started;
	fin_key_order order; /* the time over every row: never back */
	double *col, *rank;  /* [n] scratch */
	size_t *perm, col_cap;
};

static void state_free(struct window_state *s)
{
	size_t i;

	free(s->group);
	free(s->cand);
	if (s->keys)
		for (i = 0; i <= s->ahead; i++)
			free(s->keys[i]);
	free(s->keys);
	free(s->keys_cap);
	free(s->lines);
	free(s->z);
	free(s->txt);
	free(s->txtlen);
	free(s->level);
	free(s->filled);
	free(s->win);
}

static int state_init(struct window_state *s, fin_err *err)
{
	const fin_window_opts *o = s->o;
	size_t i;

	s->ahead = o->target == FIN_TARGET_NONE ? 0 : o->horizon;
	s->span = o->size + s->ahead;
	s->first_end = o->size - 1 + (o->transform != FIN_TF_LEVEL);
	s->z = malloc(s->span * s->nchan * sizeof *s->z);
	if (o->norm == FIN_NORM_NONE) {
		s->txt = malloc(s->span * s->nchan * FIN_NUM_MAX);
		s->txtlen = malloc(s->span * s->nchan);
	}
	s->level = malloc(s->nchan * sizeof *s->level);
	s->filled = malloc(s->nchan * sizeof *s->filled);
	s->win = malloc(o->size * s->nchan * sizeof *s->win);
	s->keys = calloc(s->ahead + 1, sizeof *s->keys);
	s->keys_cap = calloc(s->ahead + 1, sizeof *s->keys_cap);
	s->lines = calloc(s->ahead + 1, sizeof *s->lines);
	if (s->cs && !(s->cand = malloc((s->ahead + 1) * sizeof *s->cand)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (!s->z || (o->norm == FIN_NORM_NONE && (!s->txt || !s->txtlen)) || !s->level || !s->filled || !s->win ||
	    !s->keys || !s->keys_cap || !s->lines)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < s->nchan; i++)
		s->level[i] = s->filled[i] = NAN;
	return FIN_OK;
}

static int write_header(struct window_state *s, fin_out *out, fin_err *err)
{
	size_t i, c, lag;
	char *name = NULL;
	size_t cap = 0;

	for (i = 0; i < s->nkeys; i++) {
		const char *k = s->names[s->key[i]];
		fin_out_field(out, k, strlen(k));
		fin_out_char(out, ',');
	}
	if (s->label) {
		fin_out_field(out, FIN_WINDOW_ASSET, strlen(FIN_WINDOW_ASSET));
		fin_out_char(out, ',');
	}
	for (c = 0; c < s->nchan; c++) {
		const char *base = s->label ? FIN_WINDOW_VALUE : s->names[s->chan[c]];
		size_t need = strlen(base) + 24;
		if (need > cap) {
			char *p = realloc(name, need);
			if (!p) {
				free(name);
				return fin_fail(err, FIN_EDATA, "out of memory");
			}
			name = p;
			cap = need;
		}
		for (lag = s->o->size; lag-- > 0;) {
			int n = snprintf(name, cap, "%s_%zu", base, lag);
			fin_out_field(out, name, (size_t)n);
			if (lag || c + 1 < s->nchan || s->o->target != FIN_TARGET_NONE)
				fin_out_char(out, ',');
		}
	}
	free(name);
	if (s->o->target != FIN_TARGET_NONE)
		fin_out_char(out, 'y');
	fin_out_char(out, '\n');
	return FIN_OK;
}

/* Keeps the key fields of row number r until its window is written. */
static int hold_keys(struct window_state *s, size_t r, const fin_row *row, fin_err *err)
{
	size_t slot = r % (s->ahead + 1), need = 0, i, at = 0;

	for (i = 0; i < s->nkeys; i++)
		need += row->lens[s->key[i]] + 1;
	if (need > s->keys_cap[slot]) {
		char *p = realloc(s->keys[slot], need);
		if (!p)
			return fin_fail(err, FIN_EDATA, "out of memory");
		s->keys[slot] = p;
		s->keys_cap[slot] = need;
	}
	for (i = 0; i < s->nkeys; i++) {
		size_t n = row->lens[s->key[i]];
		memcpy(s->keys[slot] + at, row->fields[s->key[i]], n);
		s->keys[slot][at + n] = '\0';
		at += n + 1;
	}
	s->lines[slot] = row->line;
	return FIN_OK;
}

/* Reads the channel values of a row into v[], missing as NaN. */
static int read_values(struct window_state *s, const char *file, const fin_row *row, double *v,
		       fin_window_stats *st, fin_err *err)
{
	int gap = 0;
	size_t c;

	for (c = 0; c < s->nchan; c++) {
		size_t col = s->chan[c];
		char shown[200];

		switch (fin_parse_double(row->fields[col], row->lens[col], &v[c])) {
		case FIN_NUM_OK:
			s->filled[c] = v[c];
			break;
		case FIN_NUM_BAD:
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'", file,
					row->line, s->names[col],
					fin_quote_field(shown, sizeof shown, row->fields[col], row->lens[col]));
		case FIN_NUM_NA:
			if (s->o->na == FIN_NA_ERROR)
				return fin_fail(err, FIN_EDATA,
						"%s:%ld: column '%s': missing value (see --na)", file,
						row->line, s->names[col]);
			v[c] = s->o->na == FIN_NA_FFILL ? s->filled[c] : NAN;
			if (isnan(v[c]))
				gap = 1;
			else
				st->filled++;
			break;
		}
		if (s->o->transform == FIN_TF_LOGRET && v[c] <= 0)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: column '%s': logret needs values above 0: '%.17g'", file,
					row->line, s->names[col], v[c]);
	}
	st->na_rows += gap;
	return FIN_OK;
}

static void write_keys(struct window_state *s, size_t slot, fin_out *out)
{
	const char *k = s->keys[slot];
	size_t i;

	for (i = 0; i < s->nkeys; i++) {
		size_t n = strlen(k);
		fin_out_field(out, k, n);
		fin_out_char(out, ',');
		k += n + 1;
	}
	if (s->label) {
		fin_out_field(out, s->label, strlen(s->label));
		fin_out_char(out, ',');
	}
}

/* Normalises each channel of the window ending at row t into s->win (with
 * --norm), before anything is written, so that an error never leaves half
 * a row behind. */
static int window_norm(struct window_state *s, size_t t, const char *file, fin_err *err)
{
	const fin_window_opts *o = s->o;
	size_t c, k;

	for (c = 0; o->norm != FIN_NORM_NONE && c < s->nchan; c++) {
		double *w = s->win + c * o->size;
		for (k = 0; k < o->size; k++)
			w[k] = s->z[((t + 1 - o->size + k) % s->span) * s->nchan + c];
		if (fin_normalize(o->norm, w, o->size) != FIN_OK)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: --norm last: the newest value of '%s' in this window is 0",
					file, s->lines[t % (s->ahead + 1)], s->names[s->chan[c]]);
	}
	return FIN_OK;
}

/* The target of the window ending at row t (next or sum). */
static double target_value(const struct window_state *s, size_t t)
{
	const fin_window_opts *o = s->o;
	size_t tc = o->target_channel, i;
	double y = 0;

	if (o->target == FIN_TARGET_NEXT)
		return s->z[((t + o->horizon) % s->span) * s->nchan + tc];
	for (i = 1; i <= o->horizon; i++)
		y += s->z[((t + i) % s->span) * s->nchan + tc];
	return y;
}

/* Writes the window ending at row t, whose target rows have all arrived. */
static int emit(struct window_state *s, size_t t, const char *file, fin_out *out, fin_err *err)
{
	const fin_window_opts *o = s->o;
	size_t c, k, i, n = o->size * s->nchan;
	int last_field = o->target == FIN_TARGET_NONE, rc;

	if ((rc = window_norm(s, t, file, err)) != FIN_OK)
		return rc;
	write_keys(s, t % (s->ahead + 1), out);
	for (i = 0; i < n; i++) {
		c = i / o->size;
		k = i % o->size;
		if (o->norm == FIN_NORM_NONE) {
			size_t slot = ((t + 1 - o->size + k) % s->span) * s->nchan + c;
			fin_out_bytes(out, s->txt + slot * FIN_NUM_MAX, s->txtlen[slot]);
		} else {
			fin_out_double(out, s->win[i]);
		}
		if (i + 1 < n || !last_field)
			fin_out_char(out, ',');
	}
	if (o->target != FIN_TARGET_NONE) {
		size_t slot = ((t + o->horizon) % s->span) * s->nchan + o->target_channel;
		double y = target_value(s, t);
		if (o->target == FIN_TARGET_NEXT && s->txt)
			fin_out_bytes(out, s->txt + slot * FIN_NUM_MAX, s->txtlen[slot]);
		else if (o->target == FIN_TARGET_DIRECTION)
			fin_out_char(out, y > 0 ? '1' : '0');
		else
			fin_out_double(out, y);
	}
	fin_out_char(out, '\n');
	return FIN_OK;
}

/* --cross-section: keeps the window ending at row t with the others of its
 * date, date number d, until the date is written. */
static int collect(struct window_state *s, size_t t, size_t d, const char *file, fin_err *err)
{
	const fin_window_opts *o = s->o;
	struct cross *cs = s->cs;
	struct cs_date *q = &cs->q[d - cs->first];
	size_t i, n = o->size * s->nchan, slot = t % (s->ahead + 1), len = 0;
	double *v;
	int rc;

	if ((rc = window_norm(s, t, file, err)) != FIN_OK)
		return rc;
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		double *nv = realloc(q->v, cap * cs->width * sizeof *nv);
		char **nk;
		const char **nl;
		if (nv)
			q->v = nv;
		nk = nv ? realloc(q->keys, cap * sizeof *nk) : NULL;
		if (nk)
			q->keys = nk;
		nl = nk ? realloc(q->label, cap * sizeof *nl) : NULL;
		if (!nl)
			return fin_fail(err, FIN_EDATA, "out of memory");
		q->label = nl;
		q->cap = cap;
	}
	v = q->v + q->n * cs->width;
	for (i = 0; i < n; i++)
		v[i] = o->norm == FIN_NORM_NONE
			       ? s->z[((t + 1 - o->size + i % o->size) % s->span) * s->nchan +
				      i / o->size]
			       : s->win[i];
	if (o->target != FIN_TARGET_NONE)
		v[n] = target_value(s, t);
	for (i = 0; i < s->nkeys; i++)
		len += strlen(s->keys[slot] + len) + 1;
	if (!(q->keys[q->n] = malloc(len ? len : 1)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	memcpy(q->keys[q->n], s->keys[slot], len);
	q->label[q->n] = s->label;
	q->n++;
	return FIN_OK;
}

/* Puts column j of the n windows held for a date on the common scale of
 * cs->how, in place. */
static int cross_scale(struct cross *cs, double *v, size_t n, size_t j, fin_err *err)
{
	size_t i, w = cs->width;

	if (n > cs->col_cap) {
		double *c = realloc(cs->col, n * sizeof *c), *r;
		size_t *p = c ? realloc(cs->perm, n * sizeof *p) : NULL;
		if (c)
			cs->col = c;
		if (p)
			cs->perm = p;
		if (!p || !(r = realloc(cs->rank, n * sizeof *r)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		cs->rank = r;
		cs->col_cap = n;
	}
	for (i = 0; i < n; i++)
		cs->col[i] = v[i * w + j];
	if (cs->how == FIN_CS_ZSCORE) {
		double mean = gsl_stats_mean(cs->col, 1, n);
		double sd = n > 1 ? gsl_stats_sd_m(cs->col, 1, n, mean) : 0;
		for (i = 0; i < n; i++)
			v[i * w + j] = sd > 0 ? (cs->col[i] - mean) / sd : 0;
		return FIN_OK;
	}
	/* The ranks, ties given the mean of theirs, over n. */
	fin_mid_ranks(cs->col, n, cs->perm, cs->rank);
	for (i = 0; i < n; i++)
		v[i * w + j] = cs->rank[i] / (double)n;
	return FIN_OK;
}

/* Writes the dates held before date number `before` (all with before
 * SIZE_MAX) whose windows have all come, in order; with before SIZE_MAX,
 * every date held. */
static int cross_flush(struct cross *cs, size_t before, fin_out *out, fin_err *err)
{
	while (cs->head < cs->n && cs->first + cs->head < before &&
	       (before == SIZE_MAX || cs->q[cs->head].pending == 0)) {
		struct cs_date *q = &cs->q[cs->head];
		size_t i, j, k;
		int rc;
		for (j = 0; j < cs->width; j++)
			if ((rc = cross_scale(cs, q->v, q->n, j, err)) != FIN_OK)
				return rc;
		for (i = 0; i < q->n; i++) {
			const char *key = q->keys[i];
			for (k = 0; k < cs->nkeys; k++) {
				size_t len = strlen(key);
				fin_out_field(out, key, len);
				fin_out_char(out, ',');
				key += len + 1;
			}
			if (q->label[i]) {
				fin_out_field(out, q->label[i], strlen(q->label[i]));
				fin_out_char(out, ',');
			}
			for (j = 0; j < cs->width; j++) {
				fin_out_double(out, q->v[i * cs->width + j]);
				fin_out_char(out, j + 1 < cs->width ? ',' : '\n');
			}
			free(q->keys[i]);
		}
		free(q->v);
		free(q->keys);
		free(q->label);
		memset(q, 0, sizeof *q);
		cs->head++;
	}
	/* The dates written make room at the front. */
	if (cs->head > 64 && cs->head * 2 > cs->n) {
		memmove(cs->q, cs->q + cs->head, (cs->n - cs->head) * sizeof *cs->q);
		cs->first += cs->head;
		cs->n -= cs->head;
		cs->head = 0;
	}
	return FIN_OK;
}

/* --cross-section: the row of time key[0..len) starts a new date when its
 * time differs from the row's before; the time must never go back. */
static int cross_date(struct cross *cs, const char *file, long line, const char *key,
		      size_t len, fin_err *err)
{
	int rc;

	if ((rc = fin_key_order_next(&cs->order, file, line, key, len, err)) != FIN_OK) {
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof err->msg - n,
			 "; --cross-section needs every asset's rows in date order");
		return rc;
	}
	if (cs->started && len == cs->last_len && memcmp(key, cs->last, len) == 0)
		return FIN_OK;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 64;
		struct cs_date *q = realloc(cs->q, cap * sizeof *q);
		if (!q)
			return fin_fail(err, FIN_EDATA, "out of memory");
		cs->q = q;
		cs->cap = cap;
	}
	memset(&cs->q[cs->n++], 0, sizeof *cs->q);
	cs->seq = cs->started ? cs->seq + 1 : 0;
	cs->started = 1;
	if (len + 1 > cs->last_cap) {
		char *p = realloc(cs->last, len + 1);
		if (!p)
			return fin_fail(err, FIN_EDATA, "out of memory");
		cs->last = p;
		cs->last_cap = len + 1;
	}
	memcpy(cs->last, key, len);
	cs->last_len = len;
	return FIN_OK;
}

static void cross_free(struct cross *cs)
{
	size_t i, k;

	for (i = cs->head; i < cs->n; i++) {
		for (k = 0; k < cs->q[i].n; k++)
			free(cs->q[i].keys[k]);
		free(cs->q[i].v);
		free(cs->q[i].keys);
		free(cs->q[i].label);
	}
	free(cs->q);
	free(cs->last);
	free(cs->col);
	free(cs->rank);
	free(cs->perm);
}

/* Names a --by group in err's message about one of its columns (the time
 * or a channel): "column 'date' of group 'AAPL': ...". */
static void name_group(fin_err *err, const struct window_state *s)
{
	char label[300], shown[100], rest[sizeof err->msg];
	char *at = NULL;
	size_t n, c;

	for (c = 0; !at && c <= s->nchan; c++) {
		if (c == s->nchan && !s->nkeys)
			break;
		snprintf(label, sizeof label, "column '%s'",
			 s->names[c < s->nchan ? s->chan[c] : s->key[0]]);
		at = strstr(err->msg, label);
	}
	if (!at)
		return;
	at += strlen(label);
	snprintf(rest, sizeof rest, "%s", at);
	n = (size_t)(at - err->msg);
	snprintf(at, sizeof err->msg - n, " of group '%s'%s",
		 fin_quote_field(shown, sizeof shown, s->group, strlen(s->group)), rest);
}

/* Takes data row number r: transforms its values into the ring and writes
 * the window whose target it completes, if there is one. */
static int take_row(struct window_state *s, size_t r, const char *file, const fin_row *row,
		    double *v, fin_out *out, fin_window_stats *st, fin_err *err)
{
	const fin_window_opts *o = s->o;
	size_t c, base = (r % s->span) * s->nchan;
	int gap = 0, rc;

	/* A series has one row per time: a repeated time is refused too. */
	if (s->nkeys && !o->unsorted &&
	    (rc = fin_key_order_next(&s->order, file, row->line, row->fields[s->key[0]],
				     row->lens[s->key[0]], err)) != FIN_OK)
		return rc;
	if ((rc = read_values(s, file, row, v, st, err)) != FIN_OK)
		return rc;
	for (c = 0; c < s->nchan; c++) {
		double z = NAN;
		if (o->transform == FIN_TF_LEVEL)
			z = v[c];
		else if (!isnan(v[c]) && !isnan(s->level[c]) &&
			 fin_transform_apply(o->transform, s->level[c], v[c], &z) != FIN_OK)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: column '%s': ret after a value of 0 is undefined", file,
					row->line, s->names[s->chan[c]]);
		s->level[c] = v[c];
		s->z[base + c] = z;
		gap |= isnan(z);
		if (s->txt && !isnan(z))
			s->txtlen[base + c] = (unsigned char)fin_format_double(s->txt + (base + c) * FIN_NUM_MAX, z);
	}
	s->run = gap ? 0 : s->run + 1;
	if ((rc = hold_keys(s, r, row, err)) != FIN_OK)
		return rc;
	if (s->cs) {
		/* A row that may end a window makes its date wait for it. */
		int end = r >= s->first_end && (r - s->first_end) % o->stride == 0;
		s->cand[r % (s->ahead + 1)] = end ? s->cs->seq : SIZE_MAX;
		if (end)
			s->cs->q[s->cs->seq - s->cs->first].pending++;
	}
	if (r >= s->ahead && s->cs) {
		size_t t = r - s->ahead, d = s->cand[t % (s->ahead + 1)];
		if (d == SIZE_MAX)
			return FIN_OK;
		s->cs->q[d - s->cs->first].pending--;
		if (s->run < s->span)
			return FIN_OK;
		st->windows++;
		return collect(s, t, d, file, err);
	}
	if (r >= s->ahead) {
		size_t t = r - s->ahead;
		if (t >= s->first_end && (t - s->first_end) % o->stride == 0 && s->run >= s->span) {
			if ((rc = emit(s, t, file, out, err)) != FIN_OK)
				return rc;
			st->windows++;
		}
	}
	return FIN_OK;
}

/* The states of a panel's groups, found by the group's value. */
struct groups {
	fin_dict dict;
	struct window_state **s;
	size_t n, cap;
};

static void groups_free(struct groups *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		state_free(g->s[i]);
		free(g->s[i]);
	}
	free(g->s);
	fin_dict_free(&g->dict);
}

/* The state of the group named name[0..len), a new one (a copy of proto,
 * set up) when it is new; NULL with err filled when out of memory. */
static struct window_state *group_state(struct groups *g, const struct window_state *proto,
					const char *name, size_t len, fin_err *err)
{
	long code = fin_dict_code(&g->dict, name, len);
	struct window_state *s;

	if (code < 0) {
		fin_fail(err, FIN_EDATA, "out of memory");
		return NULL;
	}
	if ((size_t)code < g->n)
		return g->s[code];
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct window_state **p = realloc(g->s, cap * sizeof *p);
		if (!p) {
			fin_fail(err, FIN_EDATA, "out of memory");
			return NULL;
		}
		g->s = p;
		g->cap = cap;
	}
	if (!(s = malloc(sizeof *s))) {
		fin_fail(err, FIN_EDATA, "out of memory");
		return NULL;
	}
	*s = *proto;
	g->s[g->n++] = s;
	if (!(s->group = malloc(len + 1))) {
		fin_fail(err, FIN_EDATA, "out of memory");
		return NULL;
	}
	memcpy(s->group, name, len);
	s->group[len] = '\0';
	if (proto->label)
		s->label = s->group;
	if (s->nkeys)
		fin_key_order_init(&s->order, s->names[s->key[0]], 1);
	return state_init(s, err) == FIN_OK ? s : NULL;
}

int fin_window_run(fin_input *in, char *const *names, const size_t *chan, size_t nchan,
		   const size_t *key, size_t nkeys, const fin_window_panel *panel,
		   const fin_window_opts *opts, fin_out *out, fin_window_stats *stats, fin_err *err)
{
	struct window_state proto = { .o = opts, .names = names, .chan = chan, .key = key,
				      .nchan = nchan, .nkeys = nkeys };
	struct groups g = { 0 };
	struct cross cs = { 0 };
	size_t nassets = panel && panel->assets ? nchan : 0, span = 0, a;
	double *v = malloc(nchan * sizeof *v);
	fin_row *row;
	int rc = FIN_OK, got;

	memset(stats, 0, sizeof *stats);
	if (nassets) {
		/* Each asset is a series of one channel, written in long form. */
		proto.nchan = 1;
		proto.label = "";
	}
	if (panel && panel->cross != FIN_CS_NONE && nkeys) {
		cs.how = panel->cross;
		cs.width = opts->size * proto.nchan + (opts->target != FIN_TARGET_NONE);
		cs.nkeys = nkeys;
		fin_key_order_init(&cs.order, names[key[0]], 0);
		proto.cs = &cs;
	}
	if (!v)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	/* The groups of a wide table are its columns, known from the start. */
	for (a = 0; rc == FIN_OK && a < nassets; a++) {
		struct window_state *s;
		proto.chan = chan + a;
		if (!(s = group_state(&g, &proto, names[chan[a]], strlen(names[chan[a]]), err)))
			rc = err->code;
	}
	if (rc == FIN_OK && !panel) {
		struct window_state *s = group_state(&g, &proto, "", 0, err);
		if (s) {
			free(s->group);
			s->group = NULL;
		} else {
			rc = err->code;
		}
	}
	if (rc == FIN_OK)
		rc = write_header(nassets ? g.s[0] : &proto, out, err);
	while (rc == FIN_OK && (got = fin_input_next(in, &row, err)) != 0) {
		const char *file = fin_input_name(in);
		struct window_state *s;
		if (got < 0) {
			rc = -got;
			break;
		}
		stats->rows++;
		if (proto.cs &&
		    ((rc = cross_date(&cs, file, row->line, row->fields[key[0]], row->lens[key[0]],
				      err)) != FIN_OK ||
		     (rc = cross_flush(&cs, cs.seq, out, err)) != FIN_OK))
			break;
		if (!panel) {
			s = g.s[0];
			rc = take_row(s, s->rows++, file, row, v, out, stats, err);
			continue;
		}
		if (nassets) {
			for (a = 0; rc == FIN_OK && a < nassets; a++) {
				s = g.s[a];
				rc = take_row(s, s->rows++, file, row, v, out, stats, err);
			}
			continue;
		}
		if (row->lens[panel->by] == 0 ||
		    fin_is_na(row->fields[panel->by], row->lens[panel->by])) {
			rc = fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': missing value (every row "
				      "names its group)", file, row->line, names[panel->by]);
			break;
		}
		if (!(s = group_state(&g, &proto, row->fields[panel->by], row->lens[panel->by], err)))
			rc = err->code;
		else if ((rc = take_row(s, s->rows++, file, row, v, out, stats, err)) == FIN_EDATA)
			name_group(err, s);
	}
	if (rc == FIN_OK && proto.cs)
		rc = cross_flush(&cs, SIZE_MAX, out, err);
	if (g.n)
		span = g.s[0]->first_end + 1 + g.s[0]->ahead;
	cross_free(&cs);
	groups_free(&g);
	free(v);
	if (rc != FIN_OK)
		return rc;
	if (stats->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (stats->windows == 0)
		return fin_fail(err, FIN_ENOROWS,
				"%zu rows give no window: one needs %zu consecutive rows%s without "
				"missing values", stats->rows, span, panel ? " of a group" : "");
	return FIN_OK;
}
