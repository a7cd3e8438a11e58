#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "features/table.h"
#include "io/json_file.h"
#include "io/numio.h"
#include "privacy/pooled_stats.h"

/* Row counts any double holds exactly, as a file's counts are. */
#define MOST_ROWS ((size_t)1 << 53)

static void free_names(char **v, size_t n)
{
	size_t i;

	if (v)
		for (i = 0; i < n; i++)
			free(v[i]);
	free(v);
}

void fin_stats_free(fin_stats *s)
{
	free(s->target);
	free_names(s->feat, s->nfeat);
	free(s->mean);
	free(s->m2);
	free_names(s->labels, s->nlabels);
	free(s->count);
	memset(s, 0, sizeof *s);
}

static int is_classification(enum fin_task t)
{
	return t == FIN_TASK_BINARY || t == FIN_TASK_MULTICLASS;
}

/* A name for messages: quoted, escaped and cut short; "none" for NULL. */
static const char *shown(char *buf, size_t len, const char *name)
{
	char quoted[64];

	if (!name)
		return "none";
	snprintf(buf, len, "'%s'", fin_quote_field(quoted, sizeof quoted, name, strlen(name)));
	return buf;
}

/* ---- labels ---- */

struct label {
	char *name;
	size_t count;
};

static int by_label(const void *a, const void *b, void *numeric)
{
	return fin_label_cmp(((const struct label *)a)->name, ((const struct label *)b)->name,
			     *(int *)numeric);
}

/* As a model orders labels: as numbers when every one is a number, as
 * fin_table_read tells numbers apart (and so fin_model_setup). */
static void sort_labels(struct label *l, size_t n)
{
	size_t i;
	double d;
	int numeric = 1;

	for (i = 0; i < n && numeric; i++)
		numeric = fin_parse_double(l[i].name, strlen(l[i].name), &d) == FIN_NUM_OK;
	qsort_r(l, n, sizeof *l, by_label, &numeric);
}

/* Sorts l and merges equal names (their counts summed) into s's labels,
 * whose names are copied. */
static int take_labels(fin_stats *s, struct label *l, size_t n)
{
	size_t i, k = 0;

	sort_labels(l, n);
	s->labels = calloc(n ? n : 1, sizeof *s->labels);
	s->count = calloc(n ? n : 1, sizeof *s->count);
	if (!s->labels || !s->count)
		return -1;
	for (i = 0; i < n; i++) {
		if (k > 0 && strcmp(s->labels[k - 1], l[i].name) == 0) {
			s->count[k - 1] += l[i].count;
			continue;
		}
		if (!(s->labels[k] = strdup(l[i].name)))
			return -1;
		s->count[k++] = l[i].count;
		s->nlabels = k;
	}
	return 0;
}

/* ---- from a table ---- */

/* Mean and sum of squared deviations of n values x[0], x[stride], ...,
 * by two passes, the second correcting the mean by the rounding of the
 * first (Chan, Golub and LeVeque's corrected two-pass algorithm). */
static void moments_double(const double *x, size_t stride, size_t n, double *mean, double *m2)
{
	double sum = 0, dev = 0, sq = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += x[i * stride];
	*mean = sum / (double)n;
	for (i = 0; i < n; i++) {
		double d = x[i * stride] - *mean;
		dev += d;
		sq += d * d;
	}
	*m2 = sq - dev * dev / (double)n;
	*mean += dev / (double)n;
}

/* The same over the float32 features, all at once, row by row. -1 when
 * out of memory. */
static int moments_features(const float *x, size_t nfeat, size_t n, double *mean, double *m2)
{
	double *dev = calloc(nfeat, sizeof *dev);
	size_t i, j;

	if (!dev)
		return -1;
	for (j = 0; j < nfeat; j++)
		mean[j] = m2[j] = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < nfeat; j++)
			mean[j] += x[i * nfeat + j];
	for (j = 0; j < nfeat; j++)
		mean[j] /= (double)n;
	for (i = 0; i < n; i++)
		for (j = 0; j < nfeat; j++) {
			double d = x[i * nfeat + j] - mean[j];
			dev[j] += d;
			m2[j] += d * d;
		}
	for (j = 0; j < nfeat; j++) {
		m2[j] -= dev[j] * dev[j] / (double)n;
		mean[j] += dev[j] / (double)n;
	}
	free(dev);
	return 0;
}

/* The first text column of a table whose levels are learned, or NULL. */
static const char *text_column(const fin_table *t)
{
	size_t i;

	for (i = 0; i < t->enc.ncols; i++)
		if (t->enc.cat[i])
			return t->enc.cols[i];
	return NULL;
}

static int table_labels(fin_stats *s, const fin_table *t, size_t n)
{
	struct label *l = malloc(n * sizeof *l);
	size_t i;
	int rc;

	if (!l)
		return -1;
	for (i = 0; i < n; i++)
		l[i] = (struct label){ t->ylabel[i], 1 };
	rc = take_labels(s, l, n);
	free(l);
	return rc;
}

int fin_stats_from_table(const fin_table *t, size_t ntrain, enum fin_task task, const char *target,
			 fin_stats *s, fin_err *err)
{
	char buf[80];
	const char *text = text_column(t);
	size_t i;

	memset(s, 0, sizeof *s);
	if (task == FIN_TASK_GAN)
		return fin_fail(err, FIN_EUSAGE, "pooled statistics are for regression, classification "
				"and autoencoders, not a GAN");
	if (t->text || text)
		return fin_fail(err, FIN_EUSAGE,
				"pooled statistics cover number columns only, and column %s is text: "
				"give -c with number columns",
				text ? shown(buf, sizeof buf, text) : "(one of the input's)");
	if (ntrain == 0 || ntrain > t->rows)
		return fin_fail(err, FIN_ENOROWS, "no training rows for pooled statistics");
	if (ntrain > MOST_ROWS)
		return fin_fail(err, FIN_EDATA, "more than 2^53 training rows");
	if (task == FIN_TASK_REGRESSION)
		for (i = 0; i < ntrain; i++)
			if (!isfinite(t->y[i]))
				return fin_fail(err, FIN_EDATA, "the target of training row %zu is not a "
						"number", i + 1);
	s->task = task;
	s->rows = ntrain;
	s->parties = 1;
	s->nfeat = t->nfeat;
	s->feat = calloc(t->nfeat ? t->nfeat : 1, sizeof *s->feat);
	s->mean = malloc((t->nfeat ? t->nfeat : 1) * sizeof *s->mean);
	s->m2 = malloc((t->nfeat ? t->nfeat : 1) * sizeof *s->m2);
	if (!s->feat || !s->mean || !s->m2 || (target && !(s->target = strdup(target))))
		goto oom;
	for (i = 0; i < t->nfeat; i++)
		if (!(s->feat[i] = strdup(t->feat[i])))
			goto oom;
	if (moments_features(t->x, t->nfeat, ntrain, s->mean, s->m2) != 0)
		goto oom;
	if (task == FIN_TASK_REGRESSION)
		moments_double(t->y, 1, ntrain, &s->y_mean, &s->y_m2);
	if (is_classification(task) && table_labels(s, t, ntrain) != 0)
		goto oom;
	return FIN_OK;
oom:
	fin_stats_free(s);
	return fin_fail(err, FIN_EDATA, "out of memory");
}

/* ---- pooling ---- */

/* The first difference of task, target or features between a and b
 * (named an and bn in the message), as FIN_EMODEL; FIN_OK when there is
 * none. */
static int same_inputs(const char *an, enum fin_task at, const char *atarget, char *const *afeat,
		       size_t anfeat, const char *bn, enum fin_task bt, const char *btarget,
		       char *const *bfeat, size_t bnfeat, fin_err *err)
{
	char x[80], y[80];
	size_t j;

	if (at != bt)
		return fin_fail(err, FIN_EMODEL, "%s: task %s, but %s in %s", bn, fin_task_name(bt),
				fin_task_name(at), an);
	if ((atarget == NULL) != (btarget == NULL) ||
	    (atarget && strcmp(atarget, btarget) != 0))
		return fin_fail(err, FIN_EMODEL, "%s: target %s, but %s in %s", bn,
				shown(x, sizeof x, btarget), shown(y, sizeof y, atarget), an);
	for (j = 0; j < anfeat && j < bnfeat; j++)
		if (strcmp(afeat[j], bfeat[j]) != 0)
			return fin_fail(err, FIN_EMODEL, "%s: feature %zu is %s, but %s in %s", bn, j + 1,
					shown(x, sizeof x, bfeat[j]), shown(y, sizeof y, afeat[j]), an);
	if (anfeat != bnfeat)
		return fin_fail(err, FIN_EMODEL, "%s: %zu features, but %zu in %s", bn, bnfeat, anfeat,
				an);
	return FIN_OK;
}

/* Chan, Golub and LeVeque: a's n, mean and m2 pooled with b's. */
static void pool(size_t na, double *mean_a, double *m2_a, size_t nb, double mean_b, double m2_b)
{
	double n = (double)na + (double)nb, d = mean_b - *mean_a;

	*mean_a += d * ((double)nb / n);
	*m2_a += m2_b + d * d * ((double)na * (double)nb / n);
}

int fin_stats_combine(fin_stats *acc, const char *acc_name, const fin_stats *s, const char *s_name,
		      fin_err *err)
{
	fin_stats merged = { 0 };
	struct label *l = NULL;
	size_t j, n = acc->nlabels + s->nlabels;
	int rc;

	if ((rc = same_inputs(acc_name, acc->task, acc->target, acc->feat, acc->nfeat, s_name,
			      s->task, s->target, s->feat, s->nfeat, err)) != FIN_OK)
		return rc;
	if (s->rows > MOST_ROWS - acc->rows)
		return fin_fail(err, FIN_EDATA, "%s: more than 2^53 rows pooled", s_name);
	if (is_classification(acc->task)) {
		if (!(l = malloc((n ? n : 1) * sizeof *l)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		for (j = 0; j < acc->nlabels; j++)
			l[j] = (struct label){ acc->labels[j], acc->count[j] };
		for (j = 0; j < s->nlabels; j++)
			l[acc->nlabels + j] = (struct label){ s->labels[j], s->count[j] };
		rc = take_labels(&merged, l, n);
		free(l);
		if (rc != 0) {
			fin_stats_free(&merged);
			return fin_fail(err, FIN_EDATA, "out of memory");
		}
		free_names(acc->labels, acc->nlabels);
		free(acc->count);
		acc->labels = merged.labels;
		acc->count = merged.count;
		acc->nlabels = merged.nlabels;
	}
	for (j = 0; j < acc->nfeat; j++)
		pool(acc->rows, &acc->mean[j], &acc->m2[j], s->rows, s->mean[j], s->m2[j]);
	if (acc->task == FIN_TASK_REGRESSION)
		pool(acc->rows, &acc->y_mean, &acc->y_m2, s->rows, s->y_mean, s->y_m2);
	acc->rows += s->rows;
	acc->parties += s->parties;
	return FIN_OK;
}

/* ---- into a model ---- */

static double pooled_sd(double m2, size_t n)
{
	double sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;

	return sd > 0 && isfinite(sd) ? sd : 1;
}

int fin_stats_apply(const fin_stats *s, fin_model *m, fin_err *err)
{
	double *mean = NULL, *sd = NULL, y_sd = 1;
	char **labels = NULL;
	size_t j;
	int rc;

	if ((rc = same_inputs("the statistics", s->task, s->target, s->feat, s->nfeat, "the model",
			      m->task, m->target, m->feat, m->nfeat, err)) != FIN_OK)
		return rc;
	if (s->task == FIN_TASK_BINARY && s->nlabels != 2)
		return fin_fail(err, FIN_EDATA, "--task binary needs 2 labels in the pooled training "
				"rows, found %zu", s->nlabels);
	if (s->task == FIN_TASK_MULTICLASS && s->nlabels < 2)
		return fin_fail(err, FIN_EDATA, "classification needs at least 2 labels in the pooled "
				"training rows");
	mean = malloc(s->nfeat * sizeof *mean);
	sd = malloc(s->nfeat * sizeof *sd);
	if (!mean || !sd) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (j = 0; j < s->nfeat; j++) {
		mean[j] = s->mean[j];
		sd[j] = pooled_sd(s->m2[j], s->rows);
		if ((rc = fin_model_check_scale(s->feat[j], mean[j], sd[j], err)) != FIN_OK)
			goto done;
	}
	if (s->task == FIN_TASK_REGRESSION) {
		y_sd = pooled_sd(s->y_m2, s->rows);
		if ((rc = fin_model_check_scale(s->target ? s->target : "the target", s->y_mean, y_sd,
						err)) != FIN_OK)
			goto done;
	}
	if (is_classification(s->task)) {
		if (!(labels = calloc(s->nlabels, sizeof *labels))) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
		for (j = 0; j < s->nlabels; j++)
			if (!(labels[j] = strdup(s->labels[j]))) {
				free_names(labels, j);
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
		free_names(m->labels, m->nlabels);
		m->labels = labels;
		m->nlabels = s->nlabels;
	}
	if (s->task == FIN_TASK_REGRESSION) {
		m->y_mean = s->y_mean;
		m->y_sd = y_sd;
	}
	memcpy(m->mean, mean, s->nfeat * sizeof *mean);
	memcpy(m->sd, sd, s->nfeat * sizeof *sd);
done:
	free(mean);
	free(sd);
	return rc;
}

/* ---- the file ---- */

static cJSON *labels_to_json(const fin_stats *s)
{
	cJSON *o = cJSON_CreateObject();
	size_t k;

	for (k = 0; o && k < s->nlabels; k++)
		if (!cJSON_AddNumberToObject(o, s->labels[k], (double)s->count[k])) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

cJSON *fin_stats_to_json(const fin_stats *s)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddStringToObject(o, "format", FIN_STATS_FORMAT) &&
		 cJSON_AddNumberToObject(o, "schema_version", FIN_STATS_SCHEMA) &&
		 cJSON_AddStringToObject(o, "tool_version", FIN_VERSION) &&
		 cJSON_AddStringToObject(o, "task", fin_task_name(s->task)) &&
		 (s->target ? cJSON_AddStringToObject(o, "target", s->target) != NULL
			    : cJSON_AddNullToObject(o, "target") != NULL) &&
		 cJSON_AddItemToObject(o, "features", fin_json_strings(s->feat, s->nfeat)) &&
		 cJSON_AddNumberToObject(o, "rows", (double)s->rows) &&
		 cJSON_AddItemToObject(o, "mean", fin_json_doubles(s->mean, s->nfeat)) &&
		 cJSON_AddItemToObject(o, "m2", fin_json_doubles(s->m2, s->nfeat));

	if (ok && s->task == FIN_TASK_REGRESSION)
		ok = fin_json_add_exact(o, "target_mean", s->y_mean) &&
		     fin_json_add_exact(o, "target_m2", s->y_m2);
	if (ok && is_classification(s->task))
		ok = cJSON_AddItemToObject(o, "labels", labels_to_json(s));
	ok = ok && cJSON_AddNumberToObject(o, "parties", (double)s->parties);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_stats_save(const fin_stats *s, fin_out_file *f, fin_err *err)
{
	cJSON *o = fin_stats_to_json(s);
	int rc = fin_json_save(o, f, err);

	cJSON_Delete(o);
	return rc;
}

/* The labels object: distinct names (the loader refused a key twice),
 * each a count of at least 1, the counts summing to the rows. */
static int labels_from_json(fin_stats *s, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v;
	struct label *l;
	size_t n, k = 0, sum = 0;
	int rc = FIN_OK;

	if (!cJSON_IsObject(o))
		return fin_json_bad(r, "labels", " are missing or not an object");
	n = (size_t)cJSON_GetArraySize(o);
	if (!(l = malloc((n ? n : 1) * sizeof *l)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(v, o)
	{
		l[k].name = v->string;
		if ((rc = fin_json_count(r, v, "labels' counts", MOST_ROWS, &l[k].count)) != FIN_OK)
			break;
		if (l[k].count == 0) {
			rc = fin_json_bad(r, "labels' counts", " hold a 0");
			break;
		}
		sum += l[k++].count;
		if (sum > MOST_ROWS) {
			rc = fin_json_bad(r, "labels' counts", " sum beyond 2^53");
			break;
		}
	}
	if (rc == FIN_OK && sum != s->rows)
		rc = fin_json_bad(r, "labels' counts", " do not sum to rows");
	if (rc == FIN_OK && take_labels(s, l, n) != 0)
		rc = fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	free(l);
	return rc;
}

static int stats_from_json(fin_stats *s, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v;
	int kind, rc;

	if ((rc = fin_json_header(r, o, FIN_STATS_FORMAT, FIN_STATS_SCHEMA)) != FIN_OK)
		return rc;
	v = fin_json_field(o, "task");
	if (!cJSON_IsString(v) || (kind = fin_task_parse(v->valuestring)) < 0 ||
	    kind == FIN_TASK_GAN)
		return fin_json_bad(r, "task", " is missing, unknown or a GAN's");
	s->task = (enum fin_task)kind;
	v = fin_json_field(o, "target");
	if (cJSON_IsString(v) && !(s->target = strdup(v->valuestring)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if (!cJSON_IsString(v) && !cJSON_IsNull(v))
		return fin_json_bad(r, "target", " is missing");
	if ((rc = fin_json_names(r, fin_json_field(o, "features"), "features", &s->feat, &s->nfeat)) !=
	    FIN_OK)
		return rc;
	if (s->nfeat == 0)
		return fin_json_bad(r, "features", " are none");
	if ((rc = fin_json_count(r, fin_json_field(o, "rows"), "rows", MOST_ROWS, &s->rows)) != FIN_OK)
		return rc;
	if (s->rows == 0)
		return fin_json_bad(r, "rows", " is 0");
	if ((rc = fin_json_read_doubles(r, fin_json_field(o, "mean"), "mean", s->nfeat,
					-FIN_CENTRE_MAX, FIN_CENTRE_MAX, &s->mean)) != FIN_OK ||
	    (rc = fin_json_read_doubles(r, fin_json_field(o, "m2"), "m2", s->nfeat, 0, DBL_MAX,
					&s->m2)) != FIN_OK)
		return rc;
	if (s->task == FIN_TASK_REGRESSION &&
	    ((rc = fin_json_real(r, fin_json_field(o, "target_mean"), "target_mean", -FIN_CENTRE_MAX,
				 FIN_CENTRE_MAX, &s->y_mean)) != FIN_OK ||
	     (rc = fin_json_real(r, fin_json_field(o, "target_m2"), "target_m2", 0, DBL_MAX,
				 &s->y_m2)) != FIN_OK))
		return rc;
	if (is_classification(s->task) &&
	    (rc = labels_from_json(s, fin_json_field(o, "labels"), r)) != FIN_OK)
		return rc;
	if ((rc = fin_json_count(r, fin_json_field(o, "parties"), "parties", MOST_ROWS,
				 &s->parties)) != FIN_OK)
		return rc;
	if (s->parties == 0)
		return fin_json_bad(r, "parties", " is 0");
	return FIN_OK;
}

int fin_stats_load(fin_stats *s, const char *path, fin_err *err)
{
	fin_json_reader r = { path, "statistics", err };
	cJSON *o;
	int rc;

	memset(s, 0, sizeof *s);
	if (!(o = fin_json_load(&r)))
		return FIN_EMODEL;
	rc = stats_from_json(s, o, &r);
	cJSON_Delete(o);
	if (rc != FIN_OK) {
		fin_stats_free(s);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
