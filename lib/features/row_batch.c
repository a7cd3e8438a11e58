#include <stdlib.h>
#include <string.h>

#include "features/row_batch.h"

int fin_row_batch_init(fin_row_batch *b, size_t cap, size_t width, const size_t *pass,
		       size_t npass, fin_err *err)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
	b->width = width;
	b->pass = pass;
	b->npass = npass;
	b->x = malloc(cap * (width ? width : 1) * sizeof *b->x);
	b->text_at = malloc(cap * sizeof *b->text_at);
	if (!b->x || !b->text_at)
		return fin_fail(err, FIN_EDATA, "out of memory");
	return FIN_OK;
}

void fin_row_batch_free(fin_row_batch *b)
{
	free(b->x);
	free(b->text);
	free(b->text_at);
	memset(b, 0, sizeof *b);
}

int fin_row_batch_add(fin_row_batch *b, fin_features *f, const fin_row *row, const char *file,
		      fin_err *err)
{
	size_t j, need = 0;
	int rc = fin_features_read(f, row, file, b->x + b->n * b->width, err);

	if (rc != FIN_OK)
		return rc;
	for (j = 0; j < b->npass; j++)
		need += row->lens[b->pass[j]] + 1;
	if (b->text_len + need > b->text_cap) {
		size_t cap = 2 * (b->text_len + need);
		char *t = realloc(b->text, cap);
		if (!t)
			return fin_fail(err, FIN_EDATA, "out of memory");
		b->text = t;
		b->text_cap = cap;
	}
	b->text_at[b->n] = b->text_len;
	for (j = 0; j < b->npass; j++) {
		size_t len = row->lens[b->pass[j]];
		memcpy(b->text + b->text_len, row->fields[b->pass[j]], len);
		b->text[b->text_len + len] = '\0';
		b->text_len += len + 1;
	}
	b->n++;
	return FIN_OK;
}

void fin_row_batch_write_pass(const fin_row_batch *b, size_t i, fin_out *out)
{
	if (b->npass)
		fin_out_fields(out, b->text + b->text_at[i], b->npass);
}

void fin_row_batch_clear(fin_row_batch *b)
{
	b->n = 0;
	b->text_len = 0;
}
