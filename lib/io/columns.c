#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/columns.h"

int fin_column_one(const char *opt, const char *spec, char *const *names, size_t n,
		   const char *file, size_t *col, fin_err *err)
{
	char *specs[1] = { (char *)spec };
	size_t *idx = NULL, count = 0;
	int rc = fin_columns_select(specs, 1, names, n, &idx, &count, err);

	if (rc != FIN_OK) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return fin_fail(err, rc, "%s:1: %s: %s", file, opt, why);
	}
	*col = count ? idx[0] : 0;
	free(idx);
	if (count != 1)
		return fin_fail(err, FIN_EUSAGE, "%s: '%s' names %zu columns: give one", opt, spec,
				count);
	return FIN_OK;
}

long fin_column_find(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (long)i;
	return -1;
}

static int by_name_then_position(const void *pa, const void *pb, void *names)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(((char *const *)names)[a], ((char *const *)names)[b]);

	return c ? c : (a > b) - (a < b);
}

int fin_column_index_build(fin_column_index *ix, char *const *names, size_t n, fin_err *err)
{
	size_t i;

	ix->names = names;
	ix->n = n;
	ix->sorted = malloc((n ? n : 1) * sizeof *ix->sorted);
	if (!ix->sorted)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < n; i++)
		ix->sorted[i] = i;
	qsort_r(ix->sorted, n, sizeof *ix->sorted, by_name_then_position, (void *)names);
	return FIN_OK;
}

void fin_column_index_free(fin_column_index *ix)
{
	free(ix->sorted);
	ix->sorted = NULL;
}

long fin_column_index_find(const fin_column_index *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;

	/* The first of equal names: the lowest position. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->names[ix->sorted[mid]], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && strcmp(ix->names[ix->sorted[lo]], name) == 0 ? (long)ix->sorted[lo]
									     : -1;
}

int fin_columns_find_each(char *const *want, size_t n, char *const *names, size_t nnames,
			  const char *file, const char *owner, size_t *cols, fin_err *err)
{
	fin_column_index ix;
	unsigned char *used = calloc(nnames ? nnames : 1, 1);
	size_t j;
	int rc = used ? fin_column_index_build(&ix, names, nnames, err)
		      : fin_fail(err, FIN_EDATA, "out of memory");

	if (rc != FIN_OK) {
		free(used);
		return rc;
	}
	for (j = 0; j < n && rc == FIN_OK; j++) {
		long c = fin_column_index_find(&ix, want[j]);
		if (c < 0)
			rc = fin_fail(err, FIN_EDATA, "%s:1: no column '%s', a feature of %s", file,
				      want[j], owner);
		else if (used[c]++)
			/* Each feature is one input: a list that names a column
			 * twice would read one value into two inputs. */
			rc = fin_fail(err, FIN_EMODEL, "%s: feature '%s' is listed twice", owner,
				      want[j]);
		else
			cols[j] = (size_t)c;
	}
	fin_column_index_free(&ix);
	free(used);
	return rc;
}

int fin_columns_check_unique(char *const *names, size_t n, const char *file, fin_err *err)
{
	fin_column_index ix;
	size_t i, first = 0, second = 0;
	int rc = fin_column_index_build(&ix, names, n, err);

	if (rc != FIN_OK)
		return rc;
	/* Of all repeats, the one whose second column comes first. */
	for (i = 1; i < n; i++) {
		size_t a = ix.sorted[i - 1], b = ix.sorted[i];
		if (strcmp(names[a], names[b]) == 0 && (!second || b < second)) {
			first = a;
			second = b;
		}
	}
	fin_column_index_free(&ix);
	if (second) {
		char shown[200];
		return fin_fail(err, FIN_EDATA, "%s:1: column '%s' appears twice, as columns %zu and %zu",
				file, fin_quote_field(shown, sizeof shown, names[first], strlen(names[first])),
				first + 1, second + 1);
	}
	return FIN_OK;
}

/* Parses a positive decimal integer filling exactly s[0..len). */
static int parse_index(const char *s, size_t len, size_t *out)
{
	size_t v = 0, i;

	if (len == 0 || len > 9)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return v > 0;
}

/* Marks the columns that item[0..len) names: chosen (appended to order)
 * when value is 1, excluded when it is 0. */
static int mark_item(const char *item, size_t len, char *const *names, size_t n,
		     size_t *order, size_t *norder, unsigned char *mark, unsigned char value,
		     fin_err *err)
{
	char *name = strndup(item, len);
	long found;
	size_t lo, hi, i;
	const char *dash;

	if (!name)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	found = fin_column_find(names, n, name);
	free(name);
	if (found >= 0) {
		lo = hi = (size_t)found + 1;
	} else if (parse_index(item, len, &lo)) {
		hi = lo;
	} else if ((dash = memchr(item, '-', len)) &&
		   parse_index(item, (size_t)(dash - item), &lo) &&
		   parse_index(dash + 1, len - (size_t)(dash - item) - 1, &hi)) {
		if (lo > hi)
			return fin_fail(err, FIN_EUSAGE, "column range '%.*s' runs backwards",
					(int)len, item);
	} else {
		return fin_fail(err, FIN_EUSAGE, "no column '%.*s' in the input", (int)len, item);
	}
	if (hi > n)
		return fin_fail(err, FIN_EUSAGE, "column %zu out of range (the input has %zu columns)",
				hi, n);
	for (i = lo - 1; i < hi; i++) {
		if (!value)
			mark[i] = 2;
		else if (!mark[i]) {
			mark[i] = 1;
			order[(*norder)++] = i;
		}
	}
	return FIN_OK;
}

int fin_columns_select(char *const *specs, size_t nspecs, char *const *names, size_t n,
		       size_t **idx, size_t *count, fin_err *err)
{
	/* mark: 0 untouched, 1 chosen, 2 excluded */
	unsigned char *mark = calloc(n ? n : 1, 1);
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	size_t norder = 0, s, i, k;
	int positive = 0, rc = FIN_OK;
	unsigned char pass;

	if (!mark || !order) {
		free(mark);
		free(order);
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	}
	/* Exclusions are applied after every inclusion is known. */
	for (pass = 1; pass <= 2 && rc == FIN_OK; pass++) {
		for (s = 0; s < nspecs && rc == FIN_OK; s++) {
			const char *p = specs[s];
			if (fin_column_find(names, n, p) >= 0) {
				if (pass == 1)
					rc = mark_item(p, strlen(p), names, n, order, &norder, mark, 1, err);
				positive |= pass == 1;
				continue;
			}
			while (rc == FIN_OK) {
				const char *comma = strchr(p, ',');
				size_t len = comma ? (size_t)(comma - p) : strlen(p);
				char *whole = strndup(p, len);
				int is_name = whole && fin_column_find(names, n, whole) >= 0;

				free(whole);
				if (len == 0)
					rc = fin_fail(err, FIN_EUSAGE, "empty item in column list '%s'", specs[s]);
				else if (!is_name && p[0] == '!') {
					if (pass == 2)
						rc = mark_item(p + 1, len - 1, names, n, order, &norder, mark, 0, err);
				} else if (pass == 1) {
					positive = 1;
					rc = mark_item(p, len, names, n, order, &norder, mark, 1, err);
				}
				if (!comma)
					break;
				p = comma + 1;
			}
		}
	}
	if (rc == FIN_OK && !positive)
		for (i = 0; i < n; i++)
			if (mark[i] == 0)
				order[norder++] = i;
	for (i = k = 0; rc == FIN_OK && i < norder; i++)
		if (mark[order[i]] != 2)
			order[k++] = order[i];
	free(mark);
	if (rc != FIN_OK) {
		free(order);
		return rc;
	}
	*idx = order;
	*count = k;
	return FIN_OK;
}

int fin_columns_unused_note(char *const *names, size_t n, const size_t *a, size_t na,
			    const size_t *b, size_t nb, const char *why, const char *input,
			    char **note)
{
	unsigned char *used = calloc(n ? n : 1, 1);
	size_t i, len = 0, listed = 0;
	FILE *s;

	*note = NULL;
	if (!used || !(s = open_memstream(note, &len))) {
		free(used);
		return -1;
	}
	for (i = 0; i < na; i++)
		used[a[i]] = 1;
	for (i = 0; i < nb; i++)
		used[b[i]] = 1;
	fprintf(s, "%s: not used: ", input);
	for (i = 0; i < n; i++)
		if (!used[i] && listed++ < FIN_NOTE_NAMES)
			fprintf(s, "%s%s (%s)", listed > 1 ? ", " : "", names[i], why);
	if (listed > FIN_NOTE_NAMES)
		fprintf(s, " and %zu more", listed - FIN_NOTE_NAMES);
	free(used);
	if (fclose(s) != 0)
		return -1;
	if (!listed) {
		free(*note);
		*note = NULL;
	}
	return 0;
}
