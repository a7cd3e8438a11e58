#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plot/loss_plot.h"

/* Field names in messages: they come from the file. */
static const char *shown(char *buf, size_t cap, const char *s)
{
	return fin_quote_field(buf, cap, s, strlen(s));
}

/* The fields of the first line: every one but epoch and seconds. */
static int first_fields(fin_loss *l, const cJSON *o, const char *file, long line, fin_err *err)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, o)
	{
		char **names;
		if (strcmp(f->string, "epoch") == 0 || strcmp(f->string, "seconds") == 0)
			continue;
		if (l->nnames == FIN_PLOT_COLOURS)
			return fin_fail(err, FIN_EDATA, "%s:%ld: more than %d losses", file, line,
					FIN_PLOT_COLOURS);
		if (!(names = realloc(l->names, (l->nnames + 1) * sizeof *names)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		l->names = names;
		if (!(names[l->nnames] = strdup(f->string)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		l->nnames++;
	}
	if (l->nnames == 0)
		return fin_fail(err, FIN_EDATA, "%s:%ld: no loss: the line holds nothing but epoch "
				"and seconds", file, line);
	return FIN_OK;
}

static long find(const fin_loss *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nnames; i++)
		if (strcmp(l->names[i], name) == 0)
			return (long)i;
	return -1;
}

static int grow(fin_loss *l, fin_err *err)
{
	size_t cap = l->cap ? 2 * l->cap : 256;
	double *e = realloc(l->epoch, cap * sizeof *e), *v;

	if (e)
		l->epoch = e;
	v = e ? realloc(l->v, cap * l->nnames * sizeof *v) : NULL;
	if (!v)
		return fin_fail(err, FIN_EDATA, "out of memory");
	l->v = v;
	l->cap = cap;
	return FIN_OK;
}

/* One line of the log into row l->rows. */
static int take(fin_loss *l, const cJSON *o, const char *file, long line, fin_err *err)
{
	const cJSON *f, *epoch = cJSON_GetObjectItemCaseSensitive(o, "epoch");
	double *v = l->v + l->rows * l->nnames;
	unsigned char seen[FIN_PLOT_COLOURS] = { 0 };
	char name[200];
	size_t i;

	if (!cJSON_IsNumber(epoch) || !(epoch->valuedouble >= 1 && epoch->valuedouble <= 1e15) ||
	    epoch->valuedouble != floor(epoch->valuedouble))
		return fin_fail(err, FIN_EDATA, "%s:%ld: no epoch: expected \"epoch\" with a whole "
				"number from 1", file, line);
	if (l->rows && !(epoch->valuedouble > l->epoch[l->rows - 1]))
		return fin_fail(err, FIN_EDATA, "%s:%ld: epoch %.0f does not come after epoch %.0f",
				file, line, epoch->valuedouble, l->epoch[l->rows - 1]);
	l->epoch[l->rows] = epoch->valuedouble;
	for (i = 0; i < l->nnames; i++)
		v[i] = NAN;
	cJSON_ArrayForEach(f, o)
	{
		long j;
		if (f == epoch || strcmp(f->string, "seconds") == 0)
			continue;
		if ((j = find(l, f->string)) < 0)
			return fin_fail(err, FIN_EDATA, "%s:%ld: field '%s' is not in the first line",
					file, line, shown(name, sizeof name, f->string));
		if (seen[j]++)
			return fin_fail(err, FIN_EDATA, "%s:%ld: field '%s' given twice", file, line,
					shown(name, sizeof name, f->string));
		if (cJSON_IsNull(f))
			continue;
		if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble))
			return fin_fail(err, FIN_EDATA, "%s:%ld: field '%s': not a number", file, line,
					shown(name, sizeof name, f->string));
		if (l->log_scale && !(f->valuedouble > 0))
			return fin_fail(err, FIN_EDATA, "%s:%ld: field '%s': %g is not above 0, as a "
					"log scale needs", file, line, shown(name, sizeof name, f->string),
					f->valuedouble);
		v[j] = f->valuedouble;
	}
	l->rows++;
	return FIN_OK;
}

int fin_loss_read(fin_loss *l, fin_json_lines *r, int log_scale, fin_err *err)
{
	const char *file = fin_json_lines_name(r);
	cJSON *o;
	long val;
	int got, rc = FIN_OK;
	size_t i;

	memset(l, 0, sizeof *l);
	l->kept = -1;
	l->log_scale = log_scale;
	while (rc == FIN_OK && (got = fin_json_lines_next(r, &o, err)) > 0) {
		long line = fin_json_lines_line(r);
		if (!cJSON_IsObject(o))
			rc = fin_fail(err, FIN_EDATA, "%s:%ld: not a JSON object", file, line);
		else if (l->rows == 0 && (rc = first_fields(l, o, file, line, err)) != FIN_OK)
			;
		else if (l->rows == l->cap && (rc = grow(l, err)) != FIN_OK)
			;
		else
			rc = take(l, o, file, line, err);
		cJSON_Delete(o);
	}
	if (rc != FIN_OK)
		return rc;
	if (got < 0)
		return -got;
	if (l->rows == 0)
		return fin_fail(err, FIN_ENOROWS, "%s: no epochs", file);
	if ((val = find(l, "val_loss")) >= 0) {
		double best = INFINITY;
		for (i = 0; i < l->rows; i++) {
			double v = l->v[i * l->nnames + (size_t)val];
			if (v < best) {
				best = v;
				l->kept = (long)i;
			}
		}
	}
	return FIN_OK;
}

int fin_loss_draw(const fin_loss *l, fin_plot *p, fin_err *err)
{
	enum fin_plot_scale scale = l->log_scale ? FIN_PLOT_LOG : FIN_PLOT_LINEAR;
	fin_plot_axis x = { .label = "epoch" };
	fin_plot_axis y = { .label = l->nnames == 1 ? l->names[0] : "loss", .scale = scale };
	fin_plot_key keys[FIN_PLOT_COLOURS + 1];
	double *v = malloc(l->rows * sizeof *v);
	char kept[64];
	size_t i, j, nkeys = 0;
	int rc;

	if (!v)
		return fin_fail(err, FIN_EDATA, "out of memory");
	fin_plot_span(l->epoch, l->rows, FIN_PLOT_LINEAR, &x.min, &x.max);
	fin_plot_pad(&x.min, &x.max, 0.02, FIN_PLOT_LINEAR);
	if (!fin_plot_span(l->v, l->rows * l->nnames, scale, &y.min, &y.max)) {
		free(v);
		return fin_fail(err, FIN_ENOROWS, "every loss is null");
	}
	fin_plot_pad(&y.min, &y.max, 0.04, scale);
	rc = fin_plot_axes(p, &x, &y, err);
	if (rc == FIN_OK && l->kept >= 0) {
		fin_plot_pen rule = { FIN_PLOT_GREY, 1, 0 };
		snprintf(kept, sizeof kept, "kept: epoch %.0f", l->epoch[l->kept]);
		rc = fin_plot_rule(p, l->epoch[l->kept], 1, &rule, err);
	}
	for (j = 0; rc == FIN_OK && j < l->nnames; j++) {
		keys[nkeys] = (fin_plot_key){ l->names[j], FIN_PLOT_KEY_LINE, { (int)j, 0, 0 } };
		for (i = 0; i < l->rows; i++)
			v[i] = l->v[i * l->nnames + j];
		rc = fin_plot_line(p, l->epoch, v, l->rows, &keys[nkeys].pen, err);
		/* the kept epoch's validation loss, as a dot on its line */
		if (rc == FIN_OK && l->kept >= 0 && strcmp(l->names[j], "val_loss") == 0)
			rc = fin_plot_points(p, l->epoch + l->kept, v + l->kept, 1, &keys[nkeys].pen,
					     err);
		nkeys++;
	}
	if (rc == FIN_OK && l->kept >= 0)
		keys[nkeys++] = (fin_plot_key){ kept, FIN_PLOT_KEY_LINE, { FIN_PLOT_GREY, 1, 0 } };
	if (rc == FIN_OK)
		rc = fin_plot_legend(p, keys, nkeys, FIN_PLOT_TOP_RIGHT, err);
	free(v);
	return rc;
}

void fin_loss_free(fin_loss *l)
{
	size_t i;

	for (i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	free(l->epoch);
	free(l->v);
	memset(l, 0, sizeof *l);
}
