#include <stdlib.h>
#include <string.h>

#include "io/held_rows.h"

/* Blocks of 4 MiB, or one row's size when it is larger. */
enum { BLOCK = 4 << 20 };

struct fin_held_block {
	fin_held_block *next;
	size_t used, size;
	char data[];
};

void fin_held_rows_init(fin_held_rows *h)
{
	memset(h, 0, sizeof *h);
}

void fin_held_rows_free(fin_held_rows *h)
{
	fin_held_block *b = h->first;

	while (b) {
		fin_held_block *next = b->next;
		free(b);
		b = next;
	}
	memset(h, 0, sizeof *h);
}

int fin_held_rows_add(fin_held_rows *h, const char *const *field, const size_t *len,
		      const unsigned char *keep, size_t n, uint32_t tag)
{
	size_t need = sizeof tag, c;
	fin_held_block *b = h->last;
	char *at;

	for (c = 0; c < n; c++) {
		if (!keep[c])
			continue;
		if (len[c] > UINT32_MAX)
			return -1;
		need += sizeof(uint32_t) + len[c];
	}
	if (!b || b->size - b->used < need) {
		size_t size = need > BLOCK ? need : BLOCK;
		if (!(b = malloc(sizeof *b + size)))
			return -1;
		b->next = NULL;
		b->used = 0;
		b->size = size;
		if (h->last)
			h->last->next = b;
		else
			h->first = b;
		h->last = b;
		h->bytes += size;
	}
	at = b->data + b->used;
	memcpy(at, &tag, sizeof tag);
	at += sizeof tag;
	for (c = 0; c < n; c++) {
		uint32_t k = (uint32_t)len[c];
		if (!keep[c])
			continue;
		memcpy(at, &k, sizeof k);
		memcpy(at + sizeof k, field[c], k);
		at += sizeof k + k;
	}
	b->used += need;
	h->rows++;
	return 0;
}

int fin_held_rows_next(const fin_held_rows *h, fin_held_cursor *c, const char **field,
		       size_t *len, size_t nkept, uint32_t *tag)
{
	const char *at;
	size_t i;

	if (!c->block) {
		if (c->at)
			return 0;
		c->block = h->first;
	}
	if (c->block && c->at == c->block->used) {
		c->block = c->block->next;
		c->at = 0;
	}
	if (!c->block) {
		c->at = 1; /* finished: a NULL block with at 0 means not started */
		return 0;
	}
	at = c->block->data + c->at;
	memcpy(tag, at, sizeof *tag);
	at += sizeof *tag;
	for (i = 0; i < nkept; i++) {
		uint32_t k;
		memcpy(&k, at, sizeof k);
		field[i] = at + sizeof k;
		len[i] = k;
		at += sizeof k + k;
	}
	c->at = (size_t)(at - c->block->data);
	return 1;
}
