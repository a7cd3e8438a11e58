#include <csv.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv_reader.h"
#include "io/decompress.h"

enum { READ_SIZE = 1 << 16 };

struct queued_row {
	size_t first, n;
	long line;
};

struct fin_csv {
	fin_decompress *src;
	char *name;
	struct csv_parser parser;
	int no_header;

	char buf[READ_SIZE];
	int eof, finished, started;
	char lead[3];   /* the first bytes, held until they are known not to be
			 * a byte order mark, which a pipe may deliver in pieces */
	size_t nlead;
	long line;      /* physical line of the next byte fed to the parser */
	long row_start; /* physical line where the row being parsed began */
	int prev_cr;    /* the last byte fed was a CR */

	/* Fields parsed but not yet handed out: text in arena, NUL-separated. */
	char *arena;
	size_t arena_len, arena_cap;
	size_t *off, *len;
	size_t nfields, fields_cap;
	size_t row_first; /* first field of the row being parsed */
	struct queued_row *rows;
	size_t nrows, rows_cap, head;
	int oom;
	fin_err pending; /* an error met after rows that are still queued */

	fin_row row;
	size_t row_cap;
	char **names;
	size_t nnames;
	int have_header;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem, int *oom)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = realloc(p, c * elem);
	if (!q) {
		*oom = 1;
		return NULL;
	}
	*cap = c;
	return q;
}

static void on_field(void *s, size_t n, void *data)
{
	fin_csv *r = data;
	char *a;
	size_t *o, *l;

	if (r->oom)
		return;
	a = grow(r->arena, &r->arena_cap, r->arena_len + n + 1, 1, &r->oom);
	if (!a)
		return;
	r->arena = a;
	if (r->nfields + 1 > r->fields_cap) {
		size_t cap = r->fields_cap;
		o = grow(r->off, &cap, r->nfields + 1, sizeof *o, &r->oom);
		if (!o)
			return;
		r->off = o;
		l = grow(r->len, &r->fields_cap, r->nfields + 1, sizeof *l, &r->oom);
		if (!l)
			return;
		r->len = l;
	}
	if (n)
		memcpy(r->arena + r->arena_len, s, n);
	r->arena[r->arena_len + n] = '\0';
	r->off[r->nfields] = r->arena_len;
	r->len[r->nfields] = n;
	r->nfields++;
	r->arena_len += n + 1;
}

static void on_row(int c, void *data)
{
	fin_csv *r = data;
	struct queued_row *q;

	(void)c;
	if (r->oom)
		return;
	q = grow(r->rows, &r->rows_cap, r->nrows + 1, sizeof *q, &r->oom);
	if (!q)
		return;
	r->rows = q;
	q[r->nrows].first = r->row_first;
	q[r->nrows].n = r->nfields - r->row_first;
	q[r->nrows].line = r->row_start;
	r->nrows++;
	r->row_first = r->nfields;
}

/* libcsv grows its field buffer a fixed step at a time, which makes long
 * fields quadratic; answering each step with at least double the space
 * makes them linear. */
static void *grow_geometrically(void *p, size_t n)
{
	size_t have = p ? malloc_usable_size(p) : 0;

	if (n <= have)
		return p;
	return realloc(p, n < 2 * have ? 2 * have : n);
}

static int no_blanks(unsigned char c)
{
	(void)c;
	return 0;
}

fin_csv *fin_csv_open(int fd, const char *name, const fin_csv_opts *opts)
{
	fin_csv *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->name = strdup(strcmp(name, "-") == 0 ? "<stdin>" : name);
	if (!r->name || !(r->src = fin_decompress_open(fd, r->name)) ||
	    csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fin_decompress_close(r->src);
		free(r->name);
		free(r);
		return NULL;
	}
	/* Blanks are data: key columns pass through untouched. */
	csv_set_space_func(&r->parser, no_blanks);
	csv_set_delim(&r->parser, opts && opts->delim ? opts->delim : ',');
	csv_set_realloc_func(&r->parser, grow_geometrically);
	r->no_header = opts ? opts->no_header : 0;
	r->line = 1;
	r->row_start = 1;
	return r;
}

void fin_csv_close(fin_csv *r)
{
	size_t i;

	if (!r)
		return;
	csv_free(&r->parser);
	fin_decompress_close(r->src);
	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->arena);
	free(r->off);
	free(r->len);
	free(r->rows);
	free(r->row.fields);
	free(r->name);
	free(r);
}

const char *fin_csv_name(const fin_csv *r)
{
	return r->name;
}

/* Drops the rows already handed out, keeping the fields of a row that is
 * still being parsed. */
static void compact(fin_csv *r)
{
	size_t keep = r->nfields - r->row_first, base, i;

	if (keep) {
		base = r->off[r->row_first];
		memmove(r->arena, r->arena + base, r->arena_len - base);
		r->arena_len -= base;
		for (i = 0; i < keep; i++) {
			r->off[i] = r->off[r->row_first + i] - base;
			r->len[i] = r->len[r->row_first + i];
		}
	} else {
		r->arena_len = 0;
	}
	r->nfields = keep;
	r->row_first = 0;
	r->nrows = 0;
	r->head = 0;
}

static int parse_error(fin_csv *r, long line, fin_err *err)
{
	if (r->oom || csv_error(&r->parser) == CSV_ENOMEM)
		return fin_fail(err, FIN_EDATA, "%s:%ld: out of memory", r->name, line);
	return fin_fail(err, FIN_EDATA, "%s:%ld: malformed quoted field", r->name, line);
}

/* Feeds buf[0..n) to the parser one physical line at a time, so that each
 * row can be given the line it starts on. */
static int feed(fin_csv *r, const char *buf, size_t n, fin_err *err)
{
	size_t pos = 0;

	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t stop = nl ? (size_t)(nl - buf) : n;
		const char *cr = memchr(buf + pos, '\r', stop - pos);
		size_t end;
		int newline = 1;

		if (cr && (size_t)(cr - buf) + 1 < stop)
			end = (size_t)(cr - buf) + 1;      /* lone CR ends a line */
		else if (nl)
			end = stop + 1;                    /* LF or CRLF */
		else if (cr)
			end = n;                           /* CR at the end of the buffer */
		else {
			end = n;                           /* line continues in the next read */
			newline = 0;
		}
		/* The LF of a CRLF split across two reads was counted with the CR. */
		if (r->prev_cr && buf[pos] == '\n' && end == pos + 1)
			newline = 0;
		if (r->parser.pstate == 0)
			r->row_start = r->line;
		if (csv_parse(&r->parser, buf + pos, end - pos, on_field, on_row, r) != end - pos || r->oom)
			return parse_error(r, r->line, err);
		r->prev_cr = buf[end - 1] == '\r';
		r->line += newline;
		pos = end;
	}
	return FIN_OK;
}

static const char BOM[3] = { '\xEF', '\xBB', '\xBF' };

/* Feeds the bytes held back at the start, unless they are a byte order
 * mark; an error is kept as pending and ends the input. */
static int feed_lead(fin_csv *r)
{
	if (r->nlead == sizeof r->lead && memcmp(r->lead, BOM, sizeof BOM) == 0)
		return FIN_OK;
	if (feed(r, r->lead, r->nlead, &r->pending) != FIN_OK) {
		r->finished = 1;
		return r->pending.code;
	}
	return FIN_OK;
}

/* Parses more input into the queue; returns FIN_OK (possibly with nothing
 * queued at end of input) or an error. */
static int fill(fin_csv *r, fin_err *err)
{
	compact(r);
	if (r->pending.code) {
		if (err)
			*err = r->pending;
		return r->pending.code;
	}
	while (r->nrows == 0 && !r->finished) {
		size_t got;
		const char *p = r->buf;
		int rc;

		if (r->eof && !r->started) {
			r->started = 1;
			if (feed_lead(r) != FIN_OK)
				continue;
		}
		if (r->eof) {
			r->finished = 1;
			if (csv_fini(&r->parser, on_field, on_row, r) != 0 || r->oom) {
				if (r->oom)
					return parse_error(r, r->row_start, err);
				return fin_fail(err, FIN_EDATA, "%s:%ld: unterminated quoted field",
						r->name, r->row_start);
			}
			break;
		}
		if ((rc = fin_decompress_read(r->src, r->buf, sizeof r->buf, &got, err)) != FIN_OK)
			return rc;
		if (got == 0) {
			r->eof = 1;
			continue;
		}
		if (!r->started) {
			size_t k = sizeof r->lead - r->nlead < got ? sizeof r->lead - r->nlead : got;
			memcpy(r->lead + r->nlead, p, k);
			r->nlead += k;
			p += k;
			got -= k;
			if (r->nlead < sizeof r->lead && memcmp(r->lead, BOM, r->nlead) == 0)
				continue;
			r->started = 1;
			if (feed_lead(r) != FIN_OK)
				continue;
		}
		/* Rows parsed before a malformed one are still handed out. */
		if (got > 0 && feed(r, p, got, &r->pending) != FIN_OK)
			r->finished = 1;
	}
	if (r->pending.code && r->nrows == 0) {
		if (err)
			*err = r->pending;
		return r->pending.code;
	}
	return FIN_OK;
}

/* Points r->row at the next queued row, or returns 0 at end of input. */
static int take(fin_csv *r, fin_err *err)
{
	struct queued_row *q;
	size_t i;

	if (r->head == r->nrows) {
		int rc = fill(r, err);
		if (rc != FIN_OK)
			return -rc;
		if (r->nrows == 0)
			return 0;
	}
	q = &r->rows[r->head];
	if (q->n + 1 > r->row_cap) {
		char **f = realloc(r->row.fields, (q->n + 1) * sizeof *f);
		if (!f)
			return -fin_fail(err, FIN_EDATA, "%s:%ld: out of memory", r->name, q->line);
		r->row.fields = f;
		r->row_cap = q->n + 1;
	}
	for (i = 0; i < q->n; i++)
		r->row.fields[i] = r->arena + r->off[q->first + i];
	r->row.lens = r->len + q->first;
	r->row.n = q->n;
	r->row.line = q->line;
	return 1;
}

int fin_csv_header(fin_csv *r, char ***names, size_t *n, fin_err *err)
{
	size_t i;
	int got = take(r, err);

	if (got < 0)
		return -got;
	if (got == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no input", r->name);
	r->names = calloc(r->row.n, sizeof *r->names);
	if (!r->names)
		return fin_fail(err, FIN_EDATA, "%s: out of memory", r->name);
	for (i = 0; i < r->row.n; i++) {
		char num[24];
		if (r->no_header)
			snprintf(num, sizeof num, "%zu", i + 1);
		r->names[i] = strdup(r->no_header ? num : r->row.fields[i]);
		if (!r->names[i])
			return fin_fail(err, FIN_EDATA, "%s: out of memory", r->name);
		r->nnames++;
	}
	if (!r->no_header)
		r->head++;
	r->have_header = 1;
	*names = r->names;
	*n = r->nnames;
	return FIN_OK;
}

int fin_csv_next(fin_csv *r, fin_row **row, fin_err *err)
{
	int got = take(r, err);

	if (got <= 0)
		return got;
	r->head++;
	if (r->row.n != r->nnames)
		return -fin_fail(err, FIN_EDATA, "%s:%ld: expected %zu fields, found %zu",
				 r->name, r->row.line, r->nnames, r->row.n);
	*row = &r->row;
	return 1;
}
