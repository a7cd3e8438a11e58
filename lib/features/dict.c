#include <stdlib.h>
#include <string.h>

#include "features/dict.h"

/* FNV-1a: short field values hash fast and spread well enough here. */
static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t probe(const fin_dict *d, const char *s, size_t len, int *found)
{
	size_t mask = d->nslots - 1, at = (size_t)hash(s, len) & mask;

	for (;;) {
		uint32_t v = d->slot[at];
		if (v == 0) {
			*found = 0;
			return at;
		}
		if (d->len[v - 1] == len && memcmp(d->text[v - 1], s, len) == 0) {
			*found = 1;
			return at;
		}
		at = (at + 1) & mask;
	}
}

static int grow(fin_dict *d)
{
	size_t nslots = d->nslots ? 2 * d->nslots : 64, i;
	uint32_t *slot = calloc(nslots, sizeof *slot);
	fin_dict bigger = *d;

	if (!slot)
		return -1;
	bigger.slot = slot;
	bigger.nslots = nslots;
	for (i = 0; i < d->n; i++) {
		int found;
		slot[probe(&bigger, d->text[i], d->len[i], &found)] = (uint32_t)(i + 1);
	}
	free(d->slot);
	d->slot = slot;
	d->nslots = nslots;
	return 0;
}

long fin_dict_find(const fin_dict *d, const char *s, size_t len)
{
	int found;
	size_t at;

	if (!d->nslots)
		return -1;
	at = probe(d, s, len, &found);
	return found ? (long)d->slot[at] - 1 : -1;
}

long fin_dict_code(fin_dict *d, const char *s, size_t len)
{
	int found;
	size_t at;
	char *copy;

	/* At most half full, so that probes stay short. */
	if (2 * (d->n + 1) > d->nslots && grow(d) != 0)
		return -1;
	at = probe(d, s, len, &found);
	if (found)
		return (long)d->slot[at] - 1;
	if (d->n >= UINT32_MAX - 1)
		return -1;
	if ((d->n & (d->n - 1)) == 0) {
		size_t cap = d->n ? 2 * d->n : 1;
		char **text = realloc(d->text, cap * sizeof *text);
		size_t *lens;
		if (!text)
			return -1;
		d->text = text;
		if (!(lens = realloc(d->len, cap * sizeof *lens)))
			return -1;
		d->len = lens;
	}
	if (!(copy = malloc(len + 1)))
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	d->text[d->n] = copy;
	d->len[d->n] = len;
	d->slot[at] = (uint32_t)(d->n + 1);
	return (long)d->n++;
}

void fin_dict_free(fin_dict *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->text[i]);
	free(d->text);
	free(d->len);
	free(d->slot);
	memset(d, 0, sizeof *d);
}
