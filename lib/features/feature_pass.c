#include <stdlib.h>
#include <string.h>

#include "features/feature_pass.h"

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
	if (!(p->x = malloc(cap * nfeat * sizeof *p->x)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	return FIN_OK;
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
	return FIN_OK;
}

int fin_feature_pass_next(fin_feature_pass *p, fin_err *err)
{
	fin_row *row;
	int got = 1;

	p->n = 0;
	while (p->n < p->cap) {
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
	memset(p, 0, sizeof *p);
}
