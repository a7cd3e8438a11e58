#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/encoding.h"
#include "io/json_file.h"

size_t fin_category_width(const fin_category *c)
{
	return c ? c->nlevels - (size_t)c->reference + (size_t)c->other + (size_t)c->missing : 1;
}

/* Byte order, a shorter text before a longer one it begins. */
static int compare_text(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

enum fin_level fin_category_slot(const fin_category *c, const char *s, size_t len, int missing,
				 long *slot)
{
	size_t lo = 0, hi = c->nlevels, known = c->nlevels - (size_t)c->reference;

	if (missing) {
		*slot = c->missing ? (long)(known + (size_t)c->other) : -1;
		return FIN_LEVEL_MISSING;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = compare_text(s, len, c->levels[mid], strlen(c->levels[mid]));
		if (cmp == 0) {
			*slot = (long)mid - c->reference;
			return FIN_LEVEL_KNOWN;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*slot = c->other ? (long)known : -1;
	return FIN_LEVEL_UNSEEN;
}

struct counted {
	const char *text;
	size_t len, count;
};

/* Most frequent first; among equals, byte order, so that the cut is the
 * same on every run. */
static int by_count(const void *pa, const void *pb)
{
	const struct counted *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return compare_text(a->text, a->len, b->text, b->len);
}

static int by_text(const void *pa, const void *pb)
{
	const struct counted *a = pa, *b = pb;
	return compare_text(a->text, a->len, b->text, b->len);
}

fin_category *fin_category_learn(const fin_dict *dict, const size_t *count, size_t nmissing,
				 const fin_encoding_opts *o, size_t *pooled)
{
	fin_category *c = calloc(1, sizeof *c);
	struct counted *v = malloc((dict->n ? dict->n : 1) * sizeof *v);
	size_t i, seen = 0, kept = 0;

	if (!c || !v)
		goto fail;
	for (i = 0; i < dict->n; i++)
		if (count[i] > 0)
			v[seen++] = (struct counted){ dict->text[i], dict->len[i], count[i] };
	qsort(v, seen, sizeof *v, by_count);
	while (kept < seen && kept < o->max_levels && v[kept].count >= o->min_count)
		kept++;
	qsort(v, kept, sizeof *v, by_text);
	if (!(c->levels = calloc(kept ? kept : 1, sizeof *c->levels)))
		goto fail;
	for (i = 0; i < kept; i++) {
		if (!(c->levels[i] = strdup(v[i].text)))
			goto fail;
		c->nlevels++;
	}
	*pooled = seen - kept;
	c->other = kept < seen;
	c->missing = o->na_level && nmissing > 0;
	c->reference = o->reference && kept > 0;
	free(v);
	return c;
fail:
	free(v);
	fin_category_free(c);
	return NULL;
}

void fin_category_free(fin_category *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nlevels; i++)
		free(c->levels[i]);
	free(c->levels);
	free(c);
}

int fin_encoding_has_text(const fin_encoding *e)
{
	size_t i;

	for (i = 0; i < e->ncols; i++)
		if (e->cat[i])
			return 1;
	return 0;
}

static char *joined(const char *col, const char *level)
{
	size_t n = strlen(col) + strlen(level) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s=%s", col, level);
	return s;
}

int fin_encoding_feature_names(const fin_encoding *e, char ***names, fin_err *err)
{
	char **v = calloc(e->nfeat ? e->nfeat : 1, sizeof *v);
	size_t i, j, at = 0;

	if (!v)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < e->ncols; i++) {
		const fin_category *c = e->cat[i];
		if (!c) {
			if (!(v[at++] = strdup(e->cols[i])))
				goto oom;
			continue;
		}
		for (j = (size_t)c->reference; j < c->nlevels; j++)
			if (!(v[at++] = joined(e->cols[i], c->levels[j])))
				goto oom;
		if (c->other && !(v[at++] = joined(e->cols[i], "(other)")))
			goto oom;
		if (c->missing && !(v[at++] = joined(e->cols[i], "(missing)")))
			goto oom;
	}
	*names = v;
	return FIN_OK;
oom:
	for (i = 0; i < at; i++)
		free(v[i]);
	free(v);
	return fin_fail(err, FIN_EDATA, "out of memory");
}

void fin_encoding_free(fin_encoding *e)
{
	size_t i;

	for (i = 0; i < e->ncols; i++) {
		free(e->cols[i]);
		if (e->cat)
			fin_category_free(e->cat[i]);
	}
	free(e->cols);
	free(e->cat);
	memset(e, 0, sizeof *e);
}

cJSON *fin_encoding_to_json(const fin_encoding *e)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < e->ncols; i++) {
		const fin_category *c = e->cat[i];
		cJSON *o = cJSON_CreateObject();
		int ok;

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			break;
		}
		ok = cJSON_AddStringToObject(o, "column", e->cols[i]) != NULL;
		if (ok && c)
			ok = cJSON_AddItemToObject(o, "levels", fin_json_strings(c->levels, c->nlevels)) &&
			     cJSON_AddBoolToObject(o, "other", c->other) &&
			     cJSON_AddBoolToObject(o, "missing", c->missing) &&
			     cJSON_AddBoolToObject(o, "reference", c->reference);
		if (!ok)
			break;
	}
	if (a && i < e->ncols) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

static int read_flag(const fin_json_reader *r, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = fin_json_field(o, key);

	if (!cJSON_IsBool(v))
		return fin_json_bad(r, "inputs", " hold a text column without true or false flags");
	*out = cJSON_IsTrue(v);
	return FIN_OK;
}

static int read_category(const fin_json_reader *r, const cJSON *o, fin_category **out)
{
	fin_category *c = calloc(1, sizeof *c);
	size_t i;
	int rc;

	if (!c)
		return fin_fail(r->err, FIN_EMODEL, "out of memory");
	*out = c;
	if ((rc = fin_json_names(r, fin_json_field(o, "levels"), "levels", &c->levels,
				 &c->nlevels)) != FIN_OK)
		return rc;
	if (c->nlevels > FIN_LEVELS_MAX)
		return fin_json_bad(r, "levels", " are too many");
	/* The order levels are looked up in. */
	for (i = 1; i < c->nlevels; i++)
		if (strcmp(c->levels[i - 1], c->levels[i]) >= 0)
			return fin_json_bad(r, "levels", " are not in byte order");
	if ((rc = read_flag(r, o, "other", &c->other)) != FIN_OK ||
	    (rc = read_flag(r, o, "missing", &c->missing)) != FIN_OK ||
	    (rc = read_flag(r, o, "reference", &c->reference)) != FIN_OK)
		return rc;
	if (c->reference && c->nlevels == 0)
		return fin_json_bad(r, "inputs", " hold a reference level that is not there");
	if (fin_category_width(c) == 0)
		return fin_json_bad(r, "inputs", " hold a text column that makes no feature");
	return FIN_OK;
}

int fin_encoding_from_json(fin_encoding *e, const cJSON *a, size_t nfeat,
			   const fin_json_reader *r)
{
	const cJSON *o;
	char **names = NULL;
	size_t n, i = 0, width = 0, nnames = 0;
	int rc;

	memset(e, 0, sizeof *e);
	if (!cJSON_IsArray(a))
		return fin_json_bad(r, "inputs", " are not a list");
	n = (size_t)cJSON_GetArraySize(a);
	if (n == 0 || n > nfeat)
		return fin_json_bad(r, "inputs", " are empty or more than the features");
	e->cols = calloc(n, sizeof *e->cols);
	e->cat = calloc(n, sizeof *e->cat);
	if (!e->cols || !e->cat)
		return fin_fail(r->err, FIN_EMODEL, "out of memory");
	cJSON_ArrayForEach(o, a)
	{
		const cJSON *col = fin_json_field(o, "column");
		if (!cJSON_IsObject(o) || !cJSON_IsString(col))
			return fin_json_bad(r, "inputs", " hold an entry without a column name");
		if (!(e->cols[i] = strdup(col->valuestring)))
			return fin_fail(r->err, FIN_EMODEL, "out of memory");
		e->ncols = ++i;
		if (fin_json_field(o, "levels") &&
		    (rc = read_category(r, o, &e->cat[i - 1])) != FIN_OK)
			return rc;
		width += fin_category_width(e->cat[i - 1]);
		if (width > nfeat)
			return fin_json_bad(r, "inputs", " make more features than the file names");
	}
	if (width != nfeat)
		return fin_json_bad(r, "inputs", " make fewer features than the file names");
	e->nfeat = width;
	/* Each input is found in a column by its name, once. */
	{
		cJSON *list = fin_json_strings(e->cols, e->ncols);
		rc = list ? fin_json_names(r, list, "input columns", &names, &nnames)
			  : fin_fail(r->err, FIN_EMODEL, "out of memory");
		cJSON_Delete(list);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return rc;
}

int fin_encoding_add(struct cJSON *o, const fin_encoding *e)
{
	return !fin_encoding_has_text(e) ||
	       cJSON_AddItemToObject(o, "inputs", fin_encoding_to_json(e));
}

int fin_encoding_read(fin_encoding *e, const struct cJSON *o, char *const *feat, size_t nfeat,
		      const struct fin_json_reader *r)
{
	const cJSON *a = fin_json_field(o, "inputs");
	fin_err why = { 0 };
	char **names;
	size_t i;
	int rc, same = 1;

	memset(e, 0, sizeof *e);
	if (!a)
		return FIN_OK;
	if ((rc = fin_encoding_from_json(e, a, nfeat, r)) != FIN_OK)
		return rc;
	if (!fin_encoding_has_text(e))
		return fin_json_bad(r, "inputs", " hold no text column");
	/* The features are what the inputs make, in order. */
	if (fin_encoding_feature_names(e, &names, &why) != FIN_OK)
		return fin_fail(r->err, FIN_EMODEL, "out of memory");
	for (i = 0; i < nfeat; i++) {
		same = same && strcmp(names[i], feat[i]) == 0;
		free(names[i]);
	}
	free(names);
	return same ? FIN_OK : fin_json_bad(r, "inputs", " do not make the features");
}

int fin_encoding_copy(fin_encoding *dst, const fin_encoding *src)
{
	size_t i, j;

	memset(dst, 0, sizeof *dst);
	if (!src->ncols)
		return 0;
	dst->cols = calloc(src->ncols, sizeof *dst->cols);
	dst->cat = calloc(src->ncols, sizeof *dst->cat);
	if (!dst->cols || !dst->cat)
		goto fail;
	dst->nfeat = src->nfeat;
	for (i = 0; i < src->ncols; i++) {
		const fin_category *c = src->cat[i];
		fin_category *d;
		dst->ncols = i + 1;
		if (!(dst->cols[i] = strdup(src->cols[i])))
			goto fail;
		if (!c)
			continue;
		if (!(d = dst->cat[i] = calloc(1, sizeof *d)) ||
		    !(d->levels = calloc(c->nlevels ? c->nlevels : 1, sizeof *d->levels)))
			goto fail;
		*d = (fin_category){ d->levels, 0, c->other, c->missing, c->reference };
		for (j = 0; j < c->nlevels; j++) {
			if (!(d->levels[j] = strdup(c->levels[j])))
				goto fail;
			d->nlevels++;
		}
	}
	return 0;
fail:
	fin_encoding_free(dst);
	return -1;
}

void fin_encoding_source(const fin_encoding *e, size_t j, const char **column, const char **level)
{
	size_t i;

	*column = *level = NULL;
	for (i = 0; i < e->ncols; i++) {
		const fin_category *c = e->cat[i];
		size_t w = fin_category_width(c), known;
		if (j >= w) {
			j -= w;
			continue;
		}
		*column = e->cols[i];
		if (!c)
			return;
		known = c->nlevels - (size_t)c->reference;
		*level = j < known		       ? c->levels[j + (size_t)c->reference]
			 : j == known && c->other ? "(other)"
						    : "(missing)";
		return;
	}
}
