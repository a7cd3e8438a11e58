#include <stdlib.h>
#include <string.h>

#include "features/feature_pass.h"
#include "par/dist.h"

int fin_feature_pass_init(fin_feature_pass *p, fin_input *in, char **feat, size_t nfeat,
			  const fin_encoding *enc, size_t rows, enum fin_na na, size_t cap,
			  fin_err *err)
{
	memset(p, 0, sizeof *p);
	p->in = in;
	p->feat = feat;
	p->nfeat = nfeat;
	p->enc = enc;
	p->na = na;
	p->width = nfeat;
	p->cap = cap;
	p->expected = rows;
	p->limit = rows;
	if (!(p->x = malloc(cap * nfeat * sizeof *p->x)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	return FIN_OK;
}

int fin_feature_pass_by_files(fin_feature_pass *p, const size_t *file_rows, size_t files,
			      fin_err *err)
{
	if (p->na == FIN_NA_FFILL || files != fin_input_files(p->in))
		return FIN_OK;
	if (!(p->file_rows = malloc((files + 1) * sizeof *p->file_rows)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	memcpy(p->file_rows, file_rows, (files + 1) * sizeof *p->file_rows);
	p->files = files;
	p->by_files = 1;
	return FIN_OK;
}

fin_pass_part fin_feature_pass_part(const fin_feature_pass *p, int r, size_t unit)
{
	fin_pass_part q = { 0 };

	if (p->by_files && fin_dist_active()) {
		size_t first, last;
		fin_dist_runs(p->files, 1, r, &first, &last);
		q.from = p->file_rows[first];
		q.to = p->file_rows[last];
		q.file = first;
		q.by_file = first < last;
	} else {
		fin_dist_runs(p->expected, unit, r, &q.from, &q.to);
	}
	return q;
}

int fin_feature_pass_start_part(fin_feature_pass *p, const fin_pass_part *q, fin_err *err)
{
	int rc;

	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		return rc;
	/* A rank reads no further than its part; the last one on to the end,
	 * where it sees whether the input changed. */
	p->limit = q->to;
	if (!q->by_file)
		return FIN_OK;
	if ((rc = fin_input_skip_to(p->in, q->file, err)) != FIN_OK)
		return rc;
	p->rows = p->file_rows[q->file];
	return FIN_OK;
}

void fin_feature_pass_part_rows(const fin_feature_pass *p, const fin_pass_part *q, size_t *lo,
				size_t *hi)
{
	size_t at = p->rows - p->n;

	*lo = q->from > at ? q->from - at : 0;
	*hi = q->to > at ? q->to - at : 0;
	*lo = *lo < p->n ? *lo : p->n;
	*hi = *hi < p->n ? *hi : p->n;
}

int fin_feature_pass_start(fin_feature_pass *p, fin_err *err)
{
	char **names;
	size_t nnames;
	int rc;

	fin_features_free(&p->f);
	if ((rc = fin_input_rewind(p->in, err)) != FIN_OK ||
	    (rc = fin_input_header(p->in, &names, &nnames, err)) != FIN_OK)
		return rc;
	/* Bound again each pass: the header's names are new, and a pass
	 * fills forward from its own rows only. */
	if ((rc = fin_features_bind(&p->f, p->feat, p->nfeat, p->enc, names, nnames, p->na, 0,
				    fin_input_name(p->in), "the fit", err)) != FIN_OK)
		return rc;
	if (p->f.width != p->width)
		return fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
				fin_input_name(p->in));
	p->rows = 0;
	p->n = 0;
	p->passes++;
	p->limit = p->expected;
	return FIN_OK;
}

int fin_feature_pass_next(fin_feature_pass *p, fin_err *err)
{
	fin_row *row;
	int got = 1;

	p->n = 0;
	/* A pass that reads on to the end checks that the input ends there. */
	while (p->n < p->cap && (p->limit >= p->expected || p->rows + p->n < p->limit)) {
		int rc;
		if ((got = fin_input_next(p->in, &row, err)) <= 0)
			break;
		rc = fin_features_read(&p->f, row, fin_input_name(p->in), p->x + p->n * p->width,
				       err);
		if (rc == -1)
			continue;
		if (rc != FIN_OK)
			return -rc;
		p->n++;
	}
	if (got < 0)
		return got;
	p->rows += p->n;
	if (p->rows > p->expected || (got == 0 && p->rows != p->expected))
		return -fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
				 fin_input_name(p->in));
	return p->n > 0;
}

void fin_feature_pass_free(fin_feature_pass *p)
{
	fin_features_free(&p->f);
	free(p->x);
	free(p->file_rows);
	memset(p, 0, sizeof *p);
}
