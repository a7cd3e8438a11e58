#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/numio.h"
#include "io/out.h"
#include "io/rowset.h"

static int copy_header(fin_rowset *r, char *const *names, size_t n, fin_err *err)
{
	size_t j;

	if (!(r->names = calloc(n ? n : 1, sizeof *r->names)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (j = 0; j < n; j++) {
		if (!(r->names[j] = strdup(names[j])))
			return fin_fail(err, FIN_EDATA, "out of memory");
		r->ncols++;
	}
	return FIN_OK;
}

/* The first difference between the rowset's header and names, in err. */
static int check_header(const fin_rowset *r, char *const *names, size_t n, fin_err *err)
{
	size_t j;

	if (n != r->ncols)
		return fin_fail(err, FIN_EDATA, "%zu columns where the earlier rows have %zu", n,
				r->ncols);
	for (j = 0; j < n; j++)
		if (strcmp(names[j], r->names[j]) != 0)
			return fin_fail(err, FIN_EDATA,
					"column %zu is '%s' where the earlier rows have '%s'", j + 1,
					names[j], r->names[j]);
	return FIN_OK;
}

/* Notes that the rows from now on come from the input named name. */
static int add_source(fin_rowset *r, const char *name, fin_err *err)
{
	fin_rowset_source *src;

	if (r->nsrc && strcmp(r->src[r->nsrc - 1].name, name) == 0)
		return FIN_OK;
	if (!(src = realloc(r->src, (r->nsrc + 1) * sizeof *src)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	r->src = src;
	if (!(src[r->nsrc].name = strdup(name)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	src[r->nsrc++].from = r->rows;
	return FIN_OK;
}

static int append_row(fin_rowset *r, const fin_row *row, fin_err *err)
{
	size_t need = 0, j;

	for (j = 0; j < row->n; j++)
		need += row->lens[j] + 1;
	if (r->len + need > r->cap) {
		size_t cap = 2 * (r->len + need) + 4096;
		char *t = realloc(r->text, cap);
		if (!t)
			return fin_fail(err, FIN_EDATA, "out of memory: the input is held in memory");
		r->text = t;
		r->cap = cap;
	}
	if (r->rows == r->at_cap) {
		size_t cap = 2 * r->at_cap + 1024;
		size_t *at = realloc(r->at, cap * sizeof *at);
		long *line = at ? realloc(r->line, cap * sizeof *line) : NULL;
		if (at)
			r->at = at;
		if (!line)
			return fin_fail(err, FIN_EDATA, "out of memory: the input is held in memory");
		r->line = line;
		r->at_cap = cap;
	}
	r->line[r->rows] = row->line;
	r->at[r->rows++] = r->len;
	for (j = 0; j < row->n; j++) {
		memcpy(r->text + r->len, row->fields[j], row->lens[j]);
		r->text[r->len + row->lens[j]] = '\0';
		r->len += row->lens[j] + 1;
	}
	return FIN_OK;
}

int fin_rowset_read(fin_rowset *r, fin_input *in, fin_err *err)
{
	char **names;
	size_t n;
	fin_row *row;
	int rc, got;

	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	if (!r->names && (rc = copy_header(r, names, n, err)) != FIN_OK)
		return rc;
	if ((rc = check_header(r, names, n, err)) != FIN_OK)
		return rc;
	while ((got = fin_input_next(in, &row, err)) > 0)
		if ((rc = add_source(r, fin_input_name(in), err)) != FIN_OK ||
		    (rc = append_row(r, row, err)) != FIN_OK)
			return rc;
	return got < 0 ? -got : FIN_OK;
}

void fin_rowset_free(fin_rowset *r)
{
	size_t j;

	for (j = 0; j < r->ncols; j++)
		free(r->names[j]);
	for (j = 0; j < r->nsrc; j++)
		free(r->src[j].name);
	free(r->names);
	free(r->text);
	free(r->at);
	free(r->line);
	free(r->src);
	memset(r, 0, sizeof *r);
}

const char *fin_rowset_source_of(const fin_rowset *r, size_t i, long *line)
{
	size_t lo = 0, hi = r->nsrc;

	/* The last input whose first row is at or before row i. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->src[mid].from <= i)
			lo = mid;
		else
			hi = mid;
	}
	*line = r->line[i];
	return r->src[lo].name;
}

long fin_rowset_row_lines(const fin_rowset *r, size_t i)
{
	const char *s = r->text + r->at[i];
	long lines = 1;
	size_t j;

	for (j = 0; j < r->ncols; j++, s++)
		for (; *s; s++)
			lines += *s == '\r' || (*s == '\n' && (s == r->text + r->at[i] || s[-1] != '\r'));
	return lines;
}

const char *fin_rowset_field(const fin_rowset *r, size_t i, size_t col)
{
	const char *s = r->text + r->at[i];

	while (col--)
		s += strlen(s) + 1;
	return s;
}

int fin_rowset_write(const fin_rowset *r, size_t from, size_t to, const char *path,
		     fin_err *err)
{
	fin_out *out = malloc(sizeof *out);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;
	size_t i, j;

	if (!out || fd < 0) {
		rc = out ? fin_fail(err, FIN_EDATA, "%s: cannot write: %s", path, strerror(errno))
			 : fin_fail(err, FIN_EDATA, "out of memory");
		free(out);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	fin_out_init(out, fd);
	for (j = 0; j < r->ncols; j++) {
		fin_out_field(out, r->names[j], strlen(r->names[j]));
		fin_out_char(out, j + 1 < r->ncols ? ',' : '\n');
	}
	for (i = from; i < to && r->ncols; i++) {
		const char *last = fin_rowset_field(r, i, r->ncols - 1);
		fin_out_fields(out, r->text + r->at[i], r->ncols - 1);
		fin_out_field(out, last, strlen(last));
		fin_out_char(out, '\n');
	}
	rc = fin_out_finish(out, path, err);
	if (close(fd) != 0 && rc == FIN_OK)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", path, strerror(errno));
	free(out);
	return rc;
}

int fin_rowset_sd(const fin_rowset *r, size_t col, size_t from, size_t to, double *sd,
		  fin_err *err)
{
	double mean = 0, m2 = 0, v;
	size_t n = 0, i;

	/* Welford's update: one pass, no cancellation on large levels. */
	for (i = from; i < to; i++) {
		const char *s = fin_rowset_field(r, i, col);
		enum fin_num k = fin_parse_double(s, strlen(s), &v);
		double d;
		if (k == FIN_NUM_NA)
			continue;
		if (k == FIN_NUM_BAD) {
			char shown[200];
			long line;
			const char *file = fin_rowset_source_of(r, i, &line);
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'", file,
					line, r->names[col],
					fin_quote_field(shown, sizeof shown, s, strlen(s)));
		}
		d = v - mean;
		mean += d / (double)++n;
		m2 += d * (v - mean);
	}
	*sd = n < 2 ? NAN : sqrt(m2 / (double)(n - 1));
	return FIN_OK;
}
