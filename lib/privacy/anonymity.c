#include <stdlib.h>
#include <string.h>

#include "io/numio.h"
#include "privacy/anonymity.h"

void fin_anonymity_init(fin_anonymity *a, const size_t *quasi, size_t nquasi, long sensitive)
{
	memset(a, 0, sizeof *a);
	a->quasi = quasi;
	a->nquasi = nquasi;
	a->sensitive = sensitive;
}

void fin_anonymity_free(fin_anonymity *a)
{
	fin_dict_free(&a->classes);
	fin_dict_free(&a->pairs);
	free(a->size);
	free(a->distinct);
	free(a->key);
	memset(a, 0, sizeof *a);
}

static int key_room(fin_anonymity *a, size_t need)
{
	char *grown;

	if (need <= a->key_size)
		return 0;
	grown = realloc(a->key, need);
	if (!grown)
		return -1;
	a->key = grown;
	a->key_size = need;
	return 0;
}

/* A missing value, however it is spelled, is the empty value. */
static size_t value_len(const char *s, size_t len)
{
	return fin_is_na(s, len) ? 0 : len;
}

/* The row's quasi-identifiers, each value after its length so that no two
 * rows' values run together into one key: the key's length, or -1 when
 * out of memory. */
static long class_key(fin_anonymity *a, const char *const *field, const size_t *len)
{
	size_t need = 0, at = 0, i;

	for (i = 0; i < a->nquasi; i++)
		need += sizeof(size_t) + len[a->quasi[i]];
	if (key_room(a, need) != 0)
		return -1;
	for (i = 0; i < a->nquasi; i++) {
		size_t c = a->quasi[i], n = value_len(field[c], len[c]);
		memcpy(a->key + at, &n, sizeof n);
		at += sizeof n;
		memcpy(a->key + at, field[c], n);
		at += n;
	}
	return (long)at;
}

long fin_anonymity_find(fin_anonymity *a, const char *const *field, const size_t *len)
{
	long n = class_key(a, field, len);

	return n < 0 ? -1 : fin_dict_find(&a->classes, a->key, (size_t)n);
}

int fin_anonymity_add(fin_anonymity *a, const char *const *field, const size_t *len,
		      uint32_t *cls)
{
	long at = class_key(a, field, len), code;
	size_t before;

	if (at < 0)
		return -1;
	before = a->classes.n;
	code = fin_dict_code(&a->classes, a->key, (size_t)at);
	if (code < 0)
		return -1;
	if (a->classes.n > before) {
		if ((size_t)code >= a->cap) {
			size_t cap = a->cap ? 2 * a->cap : 256, *grown;
			if (!(grown = realloc(a->size, cap * sizeof *grown)))
				return -1;
			a->size = grown;
			if (!(grown = realloc(a->distinct, cap * sizeof *grown)))
				return -1;
			a->distinct = grown;
			a->cap = cap;
		}
		a->size[code] = 0;
		a->distinct[code] = 0;
	}
	a->size[code]++;
	if (a->sensitive >= 0) {
		size_t c = (size_t)a->sensitive, n = value_len(field[c], len[c]);
		uint32_t k = (uint32_t)code;
		if (key_room(a, sizeof k + n) != 0)
			return -1;
		memcpy(a->key, &k, sizeof k);
		memcpy(a->key + sizeof k, field[c], n);
		before = a->pairs.n;
		if (fin_dict_code(&a->pairs, a->key, sizeof k + n) < 0)
			return -1;
		a->distinct[code] += a->pairs.n > before;
	}
	*cls = (uint32_t)code;
	return 0;
}

static int by_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return (a > b) - (a < b);
}

int fin_anonymity_summarise(const fin_anonymity *a, size_t k, size_t l,
			    fin_anonymity_summary *s)
{
	size_t n = a->classes.n, i, *sorted;

	memset(s, 0, sizeof *s);
	s->classes = n;
	for (i = 0; i < n; i++) {
		size_t values = a->sensitive >= 0 ? a->distinct[i] : 0;
		if (i == 0 || a->size[i] < s->k_all)
			s->k_all = a->size[i];
		if (i == 0 || values < s->l_all)
			s->l_all = values;
		if (!fin_anonymity_kept(a, (uint32_t)i, k, l)) {
			s->classes_suppressed++;
			s->rows_suppressed += a->size[i];
			continue;
		}
		if (!s->k_kept || a->size[i] < s->k_kept)
			s->k_kept = a->size[i];
		if (!s->l_kept || values < s->l_kept)
			s->l_kept = values;
	}
	if (!n)
		return 0;
	sorted = malloc(n * sizeof *sorted);
	s->sizes = malloc(n * sizeof *s->sizes);
	s->count = malloc(n * sizeof *s->count);
	if (!sorted || !s->sizes || !s->count) {
		free(sorted);
		fin_anonymity_summary_free(s);
		return -1;
	}
	memcpy(sorted, a->size, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_size);
	for (i = 0; i < n; i++) {
		if (s->nsizes && s->sizes[s->nsizes - 1] == sorted[i]) {
			s->count[s->nsizes - 1]++;
			continue;
		}
		s->sizes[s->nsizes] = sorted[i];
		s->count[s->nsizes++] = 1;
	}
	free(sorted);
	return 0;
}

void fin_anonymity_summary_free(fin_anonymity_summary *s)
{
	free(s->sizes);
	free(s->count);
	memset(s, 0, sizeof *s);
}
