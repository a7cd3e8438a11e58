#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "core/cli.h"
#include "features/key_order.h"
#include "io/columns.h"
#include "io/numio.h"
#include "privacy/mask_ops.h"

static const char *const option_names[FIN_MASK_NOPS] = {
	"--pseudonymize", "--mask", "--date", "--drop", "--noise",
	"--bottom-code", "--top-code", "--round", "--bucket",
};

#define BIT(op) (1u << (op))
#define TEXT_OPS (BIT(FIN_MASK_PSEUDONYMIZE) | BIT(FIN_MASK_MASK) | BIT(FIN_MASK_DATE) | \
		  BIT(FIN_MASK_DROP))

/* Room for the text of a numeric result: %.15f of the largest double
 * (326 bytes), or a bucket's two bounds, each below 2^53 units. */
enum { NUMBER_TEXT = 400 };

/* A bucket's bounds are whole multiples of its width below 2^52, so that
 * both are exact in a double. */
#define BUCKET_LIMIT 4503599627370496.0

/* Digits of a bucket width after its point, and of round. */
enum { MAX_DECIMALS = 15 };

static const double pow10_table[MAX_DECIMALS + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

const char *fin_mask_op_option(enum fin_mask_op op)
{
	return option_names[op];
}

static int add_op(fin_mask_plan *p, size_t c, enum fin_mask_op op, fin_err *err)
{
	fin_mask_column *col = &p->col[c];
	unsigned other = col->ops;

	if (other & BIT(op))
		return fin_fail(err, FIN_EUSAGE, "%s: column '%s' is given twice", option_names[op],
				p->names[c]);
	if (other && ((other | BIT(op)) & TEXT_OPS)) {
		int first = 0;
		while (!(other & BIT(first)))
			first++;
		return fin_fail(err, FIN_EUSAGE,
				"%s and %s on column '%s': pseudonymize, mask, date and drop each "
				"stand alone on their column", option_names[first], option_names[op],
				p->names[c]);
	}
	col->ops |= BIT(op);
	return FIN_OK;
}

/* The column of COL:ARG, and ARG (NULL when there is none: with
 * optional_arg, a whole spec that names a column is that column). */
static int column_arg(fin_mask_plan *p, enum fin_mask_op op, const char *spec, const char *file,
		      int optional_arg, size_t *col, const char **arg, fin_err *err)
{
	const char *opt = option_names[op], *colon = strrchr(spec, ':');
	char *colspec;
	int rc;

	*arg = NULL;
	if (optional_arg && (fin_column_find(p->names, p->n, spec) >= 0 || !colon))
		return fin_column_one(opt, spec, p->names, p->n, file, col, err);
	if (!colon || colon == spec || !colon[1])
		return fin_fail(err, FIN_EUSAGE, "%s: expected COLUMN:%s, not '%s'", opt,
				op == FIN_MASK_DATE ? "UNIT" : "VALUE", spec);
	colspec = strndup(spec, (size_t)(colon - spec));
	if (!colspec)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	rc = fin_column_one(opt, colspec, p->names, p->n, file, col, err);
	free(colspec);
	*arg = colon + 1;
	return rc;
}

/* A bucket width: a positive plain decimal, as units of 10^-decimals. */
static int parse_width(const char *arg, long long *units, int *decimals, fin_err *err)
{
	const char *s = arg;
	long long u = 0;
	int d = -1, digits = 0;

	for (; *s; s++) {
		if (*s == '.' && d < 0) {
			d = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			break;
		if (u > (long long)(BUCKET_LIMIT / 10))
			break;
		u = u * 10 + (*s - '0');
		digits++;
		if (d >= 0)
			d++;
	}
	if (*s || !digits || u == 0 || d > MAX_DECIMALS)
		return fin_fail(err, FIN_EUSAGE,
				"--bucket: the width must be a positive decimal number such as 10 "
				"or 0.25 with at most %d decimals, not '%s'", MAX_DECIMALS, arg);
	*units = u;
	*decimals = d < 0 ? 0 : d;
	return FIN_OK;
}

static int parse_digits(const char *arg, int *digits, fin_err *err)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < -MAX_DECIMALS || v > MAX_DECIMALS)
		return fin_fail(err, FIN_EUSAGE,
				"--round: expected a whole number of digits from %d to %d, not '%s'",
				-MAX_DECIMALS, MAX_DECIMALS, arg);
	*digits = (int)v;
	return FIN_OK;
}

static int add_spec(fin_mask_plan *p, const fin_mask_spec *s, const char *file, fin_err *err)
{
	static const char *const units[] = { "day", "month", "year" };
	const char *opt = option_names[s->op], *arg;
	fin_mask_column *col;
	size_t c, *idx = NULL, count = 0, i;
	int rc, word;

	if (s->op == FIN_MASK_PSEUDONYMIZE || s->op == FIN_MASK_DROP) {
		rc = fin_columns_select(&s->arg, 1, p->names, p->n, &idx, &count, err);
		if (rc != FIN_OK) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			return fin_fail(err, rc, "%s: %s", opt, why);
		}
		for (i = 0; i < count && rc == FIN_OK; i++)
			rc = add_op(p, idx[i], s->op, err);
		free(idx);
		return rc;
	}
	rc = column_arg(p, s->op, s->arg, file, s->op == FIN_MASK_MASK, &c, &arg, err);
	if (rc == FIN_OK)
		rc = add_op(p, c, s->op, err);
	if (rc != FIN_OK)
		return rc;
	col = &p->col[c];
	switch (s->op) {
	case FIN_MASK_MASK:
		col->keep = 4;
		return arg ? fin_cli_size(opt, arg, 0, 1 << 20, &col->keep, err) : FIN_OK;
	case FIN_MASK_DATE:
		rc = fin_cli_word(opt, arg, fin_word_index(arg, units, 3), &word, err);
		col->unit = (enum fin_date_unit)word;
		return rc;
	case FIN_MASK_NOISE:
		rc = fin_cli_number(opt, arg, 0, INFINITY, &col->noise_scale, err);
		if (rc == FIN_OK && !(col->noise_scale > 0))
			rc = fin_fail(err, FIN_EUSAGE, "%s: the scale must be above 0", opt);
		return rc;
	case FIN_MASK_BOTTOM_CODE:
		return fin_cli_number(opt, arg, -INFINITY, INFINITY, &col->bottom, err);
	case FIN_MASK_TOP_CODE:
		return fin_cli_number(opt, arg, -INFINITY, INFINITY, &col->top, err);
	case FIN_MASK_ROUND:
		return parse_digits(arg, &col->digits, err);
	case FIN_MASK_BUCKET:
		return parse_width(arg, &col->width, &col->decimals, err);
	default:
		return FIN_OK;
	}
}

int fin_mask_plan_build(fin_mask_plan *p, const fin_mask_spec *specs, size_t nspecs,
			const char *file, char *const *names, size_t n,
			const fin_pseudonym_key *key, size_t length, unsigned long seed,
			fin_err *err)
{
	size_t i;
	int rc = FIN_OK, noise = 0;

	memset(p, 0, sizeof *p);
	p->n = n;
	p->names = names;
	p->key = key;
	p->length = length;
	p->seed = seed;
	p->col = calloc(n ? n : 1, sizeof *p->col);
	if (!p->col)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	for (i = 0; i < nspecs && rc == FIN_OK; i++) {
		rc = add_spec(p, &specs[i], file, err);
		noise |= specs[i].op == FIN_MASK_NOISE;
	}
	if (rc == FIN_OK) {
		fin_mask_column *c;
		for (c = p->col; c < p->col + n; c++)
			if ((c->ops & BIT(FIN_MASK_BOTTOM_CODE)) && (c->ops & BIT(FIN_MASK_TOP_CODE)) &&
			    c->bottom > c->top)
				rc = fin_fail(err, FIN_EUSAGE,
					      "--bottom-code is above --top-code on column '%s'",
					      names[c - p->col]);
	}
	if (rc == FIN_OK && noise) {
		p->rng = gsl_rng_alloc(gsl_rng_mt19937);
		if (!p->rng)
			rc = fin_fail(err, FIN_EUSAGE, "out of memory");
		else
			gsl_rng_set(p->rng, seed);
	}
	if (rc != FIN_OK)
		fin_mask_plan_free(p);
	return rc;
}

void fin_mask_plan_free(fin_mask_plan *p)
{
	if (p->rng)
		gsl_rng_free(p->rng);
	free(p->col);
	free(p->scratch);
	memset(p, 0, sizeof *p);
}

/* ---- one value ---- */

static int is_lead(unsigned char b)
{
	return (b & 0xC0) != 0x80;
}

/* Keeps the last keep characters (UTF-8 code points) and writes '*' for
 * each other one; a value of keep characters or fewer is masked whole,
 * as keeping all of it would hide nothing. */
static size_t mask_text(const char *s, size_t n, size_t keep, char *dst)
{
	size_t chars = 0, skip, seen = 0, i;

	for (i = 0; i < n; i++)
		chars += is_lead((unsigned char)s[i]);
	if (chars <= keep) {
		memset(dst, '*', chars);
		return chars;
	}
	skip = chars - keep;
	for (i = 0; i < n; i++)
		if (is_lead((unsigned char)s[i]) && seen++ == skip)
			break;
	memset(dst, '*', skip);
	memcpy(dst + skip, s + i, n - i);
	return skip + n - i;
}

/* The first 10, 7 or 4 characters of an ISO date or date-time; -1 when s
 * is none, or has no day to keep. */
static long date_text(const char *s, size_t n, enum fin_date_unit unit, char *dst)
{
	static const size_t keep[] = { 10, 7, 4 };
	fin_key_time t;

	if (fin_key_parse_time(s, n, &t) != 0)
		return -1;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n < keep[unit])
		return -1;
	memcpy(dst, s, keep[unit]);
	return (long)keep[unit];
}

/* Drops the sign of a rounded zero: "-0.00" is "0.00". */
static size_t unsigned_zero(char *s, size_t n)
{
	size_t i;

	if (n && s[0] == '-') {
		for (i = 1; i < n && (s[i] == '0' || s[i] == '.'); i++)
			;
		if (i == n) {
			memmove(s, s + 1, n);
			n--;
		}
	}
	return n;
}

static size_t round_text(double v, int digits, char *dst)
{
	int k;

	if (digits >= 0) {
		k = snprintf(dst, NUMBER_TEXT, "%.*f", digits, v);
	} else {
		double unit = pow10_table[-digits];
		k = snprintf(dst, NUMBER_TEXT, "%.0f", nearbyint(v / unit) * unit);
	}
	return unsigned_zero(dst, (size_t)k);
}

/* x / 10^d with exactly d decimals. */
static size_t decimal_text(long long x, int d, char *dst)
{
	unsigned long long a = x < 0 ? 0 - (unsigned long long)x : (unsigned long long)x;
	unsigned long long unit = (unsigned long long)pow10_table[d];
	char *q = dst;

	if (x < 0)
		*q++ = '-';
	q += sprintf(q, "%llu", a / unit);
	if (d > 0) {
		unsigned long long frac = a % unit;
		int i;
		*q++ = '.';
		for (i = d - 1; i >= 0; i--, frac /= 10)
			q[i] = (char)('0' + frac % 10);
		q += d;
	}
	return (size_t)(q - dst);
}

/* "[a,b)": a and b whole multiples of the width, a <= v < b, where a and
 * b are the doubles their decimals read as (so that 0.3 with a width of
 * 0.1 is in [0.3,0.4), though 0.3 / 0.1 < 3). -1 when the bounds would
 * not be exact. */
static long bucket_text(double v, long long width, int decimals, char *dst)
{
	double scale = pow10_table[decimals], q = floor(v * scale / (double)width);
	long long k;
	size_t n;

	if (!(fabs(q) + 2 < BUCKET_LIMIT / (double)width))
		return -1;
	k = (long long)q;
	while ((double)((k + 1) * width) / scale <= v)
		k++;
	while ((double)(k * width) / scale > v)
		k--;
	dst[0] = '[';
	n = 1 + decimal_text(k * width, decimals, dst + 1);
	dst[n++] = ',';
	n += decimal_text((k + 1) * width, decimals, dst + n);
	dst[n++] = ')';
	return (long)n;
}

/* The numeric chain on one value: the length written to dst, 0 with
 * *same set when the value passes unchanged, -1 when it is not a number,
 * -2 when it is too large for its bucket width. */
static long number_text(fin_mask_plan *p, const fin_mask_column *col, const char *s, size_t n,
			char *dst, int *same)
{
	double v;
	int changed = 0;

	*same = 0;
	if (fin_parse_double(s, n, &v) != FIN_NUM_OK)
		return -1;
	if (col->ops & BIT(FIN_MASK_NOISE)) {
		v += gsl_ran_laplace(p->rng, col->noise_scale);
		changed = 1;
	}
	if ((col->ops & BIT(FIN_MASK_BOTTOM_CODE)) && v < col->bottom) {
		v = col->bottom;
		changed = 1;
	}
	if ((col->ops & BIT(FIN_MASK_TOP_CODE)) && v > col->top) {
		v = col->top;
		changed = 1;
	}
	if (col->ops & BIT(FIN_MASK_ROUND)) {
		size_t k = round_text(v, col->digits, dst);
		if (!(col->ops & BIT(FIN_MASK_BUCKET)))
			return (long)k;
		v = strtod(dst, NULL);
	}
	if (col->ops & BIT(FIN_MASK_BUCKET)) {
		long k = bucket_text(v, col->width, col->decimals, dst);
		return k < 0 ? -2 : k;
	}
	if (!changed) {
		*same = 1;
		return 0;
	}
	return (long)fin_format_double(dst, v);
}

static int value_error(const fin_mask_plan *p, size_t c, const char *file, long line, long why,
		       fin_err *err)
{
	const fin_mask_column *col = &p->col[c];
	int op = FIN_MASK_NOPS - 1;

	if (col->ops & BIT(FIN_MASK_DATE))
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: column '%s': not an ISO date%s (the value is not shown)",
				file, line, p->names[c],
				col->unit == FIN_DATE_DAY ? " with a day" : "");
	if (why == -2)
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: column '%s': a number too large for the --bucket width "
				"(the value is not shown)", file, line, p->names[c]);
	while (!(col->ops & BIT(op)))
		op--;
	return fin_fail(err, FIN_EDATA,
			"%s:%ld: column '%s': not a number, as %s needs (the value is not shown)",
			file, line, p->names[c], option_names[op]);
}

int fin_mask_row(fin_mask_plan *p, const fin_row *row, const char *file, const char **out,
		 size_t *len, fin_err *err)
{
	size_t need = 0, used = 0, c;

	for (c = 0; c < p->n; c++)
		if (p->col[c].ops)
			need += row->lens[c] + NUMBER_TEXT + 1;
	if (need > p->scratch_size) {
		char *grown = realloc(p->scratch, need);
		if (!grown)
			return fin_fail(err, FIN_EDATA, "out of memory");
		p->scratch = grown;
		p->scratch_size = need;
	}
	for (c = 0; c < p->n; c++) {
		const fin_mask_column *col = &p->col[c];
		const char *s = row->fields[c];
		size_t n = row->lens[c];
		char *dst = p->scratch + used;
		long k = 0;
		int same = 0;

		out[c] = s;
		len[c] = n;
		if (!col->ops)
			continue;
		if (col->ops & BIT(FIN_MASK_DROP)) {
			out[c] = NULL;
			len[c] = 0;
			continue;
		}
		if (fin_is_na(s, n))
			k = 0;
		else if (col->ops & BIT(FIN_MASK_PSEUDONYMIZE)) {
			fin_pseudonym(p->key, s, n, p->length, dst);
			k = (long)p->length;
		} else if (col->ops & BIT(FIN_MASK_MASK))
			k = (long)mask_text(s, n, col->keep, dst);
		else if (col->ops & BIT(FIN_MASK_DATE))
			k = date_text(s, n, col->unit, dst);
		else
			k = number_text(p, col, s, n, dst, &same);
		if (k < 0)
			return value_error(p, c, file, row->line, k, err);
		if (same)
			continue;
		dst[k] = '\0';
		out[c] = dst;
		len[c] = (size_t)k;
		used += (size_t)k + 1;
	}
	return FIN_OK;
}
