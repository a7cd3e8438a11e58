#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/json_file.h"
#include "io/numio.h"
#include "nn/glm.h"
#include "privacy/fedavg.h"

/* Rows any double holds exactly, as a file's counts are. */
#define MOST_ROWS ((size_t)1 << 53)

void fin_fedavg_init(fin_fedavg *a, enum fin_fedavg_weighting weighting)
{
	memset(a, 0, sizeof *a);
	a->weighting = weighting;
}

void fin_fedavg_free(fin_fedavg *a)
{
	fin_model_free(&a->model);
	free(a->sum);
	free(a->party);
	memset(a, 0, sizeof *a);
}

/* ---- what must agree ---- */

/* A name for messages: quoted, escaped and cut short; "none" for NULL. */
static const char *shown(char *buf, size_t len, const char *name)
{
	char quoted[64];

	if (!name)
		return "none";
	snprintf(buf, len, "'%s'", fin_quote_field(quoted, sizeof quoted, name, strlen(name)));
	return buf;
}

static int differ(fin_err *err, const char *bn, const char *an, const char *what, const char *b,
		  const char *a)
{
	return fin_fail(err, FIN_EMODEL, "%s: %s %s, but %s in %s", bn, what, b, a, an);
}

static int differ_count(fin_err *err, const char *bn, const char *an, const char *what, size_t b,
			size_t a)
{
	return fin_fail(err, FIN_EMODEL, "%s: %zu %s, but %zu in %s", bn, b, what, a, an);
}

/* Two names lists, item by item; what is their kind ("feature"). */
static int same_names(fin_err *err, const char *bn, const char *an, const char *what,
		      char *const *b, size_t nb, char *const *a, size_t na)
{
	char x[80], y[80], item[256];
	size_t j;

	for (j = 0; j < na && j < nb; j++)
		if (strcmp(a[j], b[j]) != 0) {
			snprintf(item, sizeof item, "%s %zu is", what, j + 1);
			return differ(err, bn, an, item, shown(x, sizeof x, b[j]),
				      shown(y, sizeof y, a[j]));
		}
	if (na != nb) {
		snprintf(item, sizeof item, "%ss", what);
		return differ_count(err, bn, an, item, nb, na);
	}
	return FIN_OK;
}

static const char *first_text(const fin_encoding *e)
{
	size_t i;

	for (i = 0; i < e->ncols; i++)
		if (e->cat[i])
			return e->cols[i];
	return NULL;
}

static const char *yes_no(int v)
{
	return v ? "true" : "false";
}

/* One text column's encoding. */
static int same_category(fin_err *err, const char *bn, const char *an, const char *col,
			 const fin_category *b, const fin_category *a)
{
	char name[80], what[160];
	const char *flag = NULL;
	int fb = 0, fa = 0;

	snprintf(what, sizeof what, "text column %s: level", shown(name, sizeof name, col));
	if (same_names(err, bn, an, what, b->levels, b->nlevels, a->levels, a->nlevels) != FIN_OK)
		return FIN_EMODEL;
	if (a->other != b->other)
		flag = "other", fa = a->other, fb = b->other;
	else if (a->missing != b->missing)
		flag = "missing", fa = a->missing, fb = b->missing;
	else if (a->reference != b->reference)
		flag = "reference", fa = a->reference, fb = b->reference;
	if (!flag)
		return FIN_OK;
	snprintf(what, sizeof what, "text column %s: %s is", name, flag);
	return differ(err, bn, an, what, yes_no(fb), yes_no(fa));
}

/* The input columns and their text encodings. */
static int same_encoding(fin_err *err, const char *bn, const char *an, const fin_encoding *b,
			 const fin_encoding *a)
{
	const char *ta = first_text(a), *tb = first_text(b);
	char x[80], what[160];
	size_t i;
	int rc;

	if (!ta && !tb)
		return FIN_OK;
	if (!ta)
		return fin_fail(err, FIN_EMODEL, "%s: column %s is text, but %s has no text column",
				bn, shown(x, sizeof x, tb), an);
	if (!tb)
		return fin_fail(err, FIN_EMODEL, "%s: no text column, but column %s is text in %s",
				bn, shown(x, sizeof x, ta), an);
	if ((rc = same_names(err, bn, an, "input column", b->cols, b->ncols, a->cols, a->ncols)) !=
	    FIN_OK)
		return rc;
	for (i = 0; i < a->ncols; i++) {
		if (!a->cat[i] != !b->cat[i]) {
			snprintf(what, sizeof what, "column %s is", shown(x, sizeof x, a->cols[i]));
			return differ(err, bn, an, what, b->cat[i] ? "text" : "a number column",
				      a->cat[i] ? "text" : "a number column");
		}
		if (a->cat[i] &&
		    (rc = same_category(err, bn, an, a->cols[i], b->cat[i], a->cat[i])) != FIN_OK)
			return rc;
	}
	return FIN_OK;
}

/* The layer (from 1) where two architecture strings part, and where in
 * each it starts. */
static size_t parting_layer(const char *a, const char *b, size_t *at)
{
	size_t i = 0, layer = 1;

	*at = 0;
	for (; a[i] && a[i] == b[i]; i++)
		if (a[i] == ' ') {
			layer++;
			*at = i + 1;
		}
	return layer;
}

static int same_network(fin_err *err, const char *bn, const char *an, const fin_model *b,
			const fin_model *a)
{
	char arch_a[4096], arch_b[4096], x[80], y[80], what[64];
	size_t at, layer;

	if (fin_net_arch(&a->net, arch_a, sizeof arch_a) != 0 ||
	    fin_net_arch(&b->net, arch_b, sizeof arch_b) != 0)
		return fin_fail(err, FIN_EMODEL, "%s: architecture too long to compare", bn);
	if (strcmp(arch_a, arch_b) != 0) {
		layer = parting_layer(arch_a, arch_b, &at);
		snprintf(what, sizeof what, "architecture from layer %zu is", layer);
		return differ(err, bn, an, what, shown(x, sizeof x, arch_b + at),
			      shown(y, sizeof y, arch_a + at));
	}
	if (a->net.in_c != b->net.in_c || a->net.in_t != b->net.in_t) {
		snprintf(x, sizeof x, "[%zu, %zu]", b->net.in_c, b->net.in_t);
		snprintf(y, sizeof y, "[%zu, %zu]", a->net.in_c, a->net.in_t);
		return differ(err, bn, an, "input_shape", x, y);
	}
	if (a->net.nparams != b->net.nparams)
		return differ_count(err, bn, an, "parameters", b->net.nparams, a->net.nparams);
	if (a->task == FIN_TASK_AUTOENCODER && a->bottleneck != b->bottleneck)
		return fin_fail(err, FIN_EMODEL, "%s: bottleneck layer %zu, but %zu in %s", bn,
				b->bottleneck, a->bottleneck, an);
	return FIN_OK;
}

/* A standardisation, value by value: bit for bit, as the same global model
 * gives it to every party. */
static int same_value(fin_err *err, const char *bn, const char *an, const char *what, double b,
		      double a)
{
	char x[FIN_NUM_MAX], y[FIN_NUM_MAX];

	if (a == b)
		return FIN_OK;
	fin_format_double(x, b);
	fin_format_double(y, a);
	return differ(err, bn, an, what, x, y);
}

static int same_scalers(fin_err *err, const char *bn, const char *an, const fin_model *b,
			const fin_model *a)
{
	char name[80], what[160];
	size_t j;
	int rc;

	for (j = 0; j < a->nfeat; j++) {
		shown(name, sizeof name, a->feat[j]);
		snprintf(what, sizeof what, "scaler mean of feature %s is", name);
		if ((rc = same_value(err, bn, an, what, b->mean[j], a->mean[j])) != FIN_OK)
			return rc;
		snprintf(what, sizeof what, "scaler sd of feature %s is", name);
		if ((rc = same_value(err, bn, an, what, b->sd[j], a->sd[j])) != FIN_OK)
			return rc;
	}
	if (a->task != FIN_TASK_REGRESSION)
		return FIN_OK;
	if ((rc = same_value(err, bn, an, "target_scaler mean is", b->y_mean, a->y_mean)) != FIN_OK)
		return rc;
	return same_value(err, bn, an, "target_scaler sd is", b->y_sd, a->y_sd);
}

int fin_fedavg_match(const fin_model *a, const char *an, const fin_model *b, const char *bn,
		     fin_err *err)
{
	char x[80], y[80];
	int rc;

	if (a->task != b->task)
		return differ(err, bn, an, "task", fin_task_name(b->task), fin_task_name(a->task));
	if (a->loss != b->loss)
		return differ(err, bn, an, "loss", fin_loss_name(b->loss), fin_loss_name(a->loss));
	if ((a->target == NULL) != (b->target == NULL) || (a->target && strcmp(a->target, b->target)))
		return differ(err, bn, an, "target", shown(x, sizeof x, b->target),
			      shown(y, sizeof y, a->target));
	if ((rc = same_encoding(err, bn, an, &b->enc, &a->enc)) != FIN_OK ||
	    (rc = same_names(err, bn, an, "feature", b->feat, b->nfeat, a->feat, a->nfeat)) != FIN_OK ||
	    (rc = same_network(err, bn, an, b, a)) != FIN_OK ||
	    (rc = same_names(err, bn, an, "label", b->labels, b->nlabels, a->labels, a->nlabels)) !=
		    FIN_OK)
		return rc;
	return same_scalers(err, bn, an, b, a);
}

/* ---- the average ---- */

/* What differential privacy the party of facts f had: see fin_fedavg. */
static void add_privacy(fin_fedavg *a, const fin_train_facts *f, const char *path)
{
	if (f->dp_clip <= 0) {
		if (!a->not_private)
			a->not_private = path;
		return;
	}
	if (a->nprivate++ == 0) {
		a->dp_clip = f->dp_clip;
		a->dp_noise = f->dp_noise;
		a->epsilon = f->epsilon;
		a->delta = f->delta;
		return;
	}
	a->dp_clip = fmax(a->dp_clip, f->dp_clip);
	a->dp_noise = fmin(a->dp_noise, f->dp_noise);
	a->epsilon = fmax(a->epsilon, f->epsilon);
	a->delta = fmax(a->delta, f->delta); /* a NaN (not recorded) is passed over */
}

int fin_fedavg_add(fin_fedavg *a, const char *path, fin_err *err)
{
	fin_model m;
	fin_fedavg_party *grown;
	const fin_model *first = &a->model;
	double w;
	size_t j;
	int rc;

	if ((rc = fin_model_load(&m, path, err)) != FIN_OK)
		return rc;
	if (m.task == FIN_TASK_GAN) {
		rc = fin_fail(err, FIN_EMODEL, "%s: a GAN is not averaged: federated averaging "
			      "takes regression, classification and autoencoder models", path);
		goto done;
	}
	if (a->nparties > 0 &&
	    ((rc = fin_fedavg_match(first, a->party[0].file, &m, path, err)) != FIN_OK))
		goto done;
	if (a->nparties > 0 && m.facts.round != first->facts.round) {
		rc = fin_fail(err, FIN_EMODEL, "%s: round %zu, but %zu in %s: the inputs come from "
			      "different rounds", path, m.facts.round, first->facts.round,
			      a->party[0].file);
		goto done;
	}
	if (a->weighting == FIN_FEDAVG_ROWS && m.facts.rows_train == 0) {
		rc = fin_fail(err, FIN_EMODEL, "%s: no training rows recorded (rows_train 0) to "
			      "weigh it by: see --weights equal", path);
		goto done;
	}
	if (m.facts.rows_train > MOST_ROWS - a->rows) {
		rc = fin_fail(err, FIN_EMODEL, "%s: the parties' training rows sum beyond 2^53", path);
		goto done;
	}
	if (!(grown = realloc(a->party, (a->nparties + 1) * sizeof *a->party)) ||
	    (a->party = grown, a->nparties == 0 &&
	     !(a->sum = calloc(m.net.nparams ? m.net.nparams : 1, sizeof *a->sum)))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	a->party[a->nparties++] = (fin_fedavg_party){
		path, m.facts.rows_train, m.facts.dp_clip > 0 ? m.facts.epsilon : NAN
	};
	a->rows += m.facts.rows_train;
	add_privacy(a, &m.facts, path);
	w = a->weighting == FIN_FEDAVG_ROWS ? (double)m.facts.rows_train : 1;
	a->total += w;
	for (j = 0; j < m.net.nparams; j++)
		a->sum[j] += w * (double)m.net.params[j];
	/* An exact fit's coefficients and standard errors are those of its
	 * own weights, not of an average. */
	if (m.fit) {
		fin_glm_fit_free(m.fit);
		m.fit = NULL;
		a->fit_dropped = 1;
	}
	if (a->nparties == 1) {
		a->model = m;
		return FIN_OK;
	}
done:
	fin_model_free(&m);
	return rc;
}

int fin_fedavg_finish(fin_fedavg *a, fin_err *err)
{
	fin_train_facts *f = &a->model.facts;
	size_t j;

	if (a->nparties == 0)
		return fin_fail(err, FIN_EUSAGE, "no model to average");
	for (j = 0; j < a->model.net.nparams; j++)
		a->model.net.params[j] = (float)(a->sum[j] / a->total);
	/* The settings of the round stay; what described one party's run
	 * does not describe the average. */
	f->epochs_run = f->best_epoch = f->kept_epoch = 0;
	f->train_loss = f->val_loss = f->last_val_loss = NAN;
	f->rows_val = 0;
	f->rows_train = a->rows;
	f->round++;
	f->dp_clip = f->dp_noise = 0;
	f->epsilon = f->delta = NAN;
	if (a->nprivate == 0) {
		a->not_private = NULL;
		return FIN_OK;
	}
	f->dp_clip = a->dp_clip;
	f->dp_noise = a->dp_noise;
	f->delta = a->delta;
	/* The rows of a party trained without privacy are not protected. */
	f->epsilon = a->not_private ? INFINITY : a->epsilon;
	return FIN_OK;
}

cJSON *fin_fedavg_to_json(const fin_fedavg *a)
{
	cJSON *o = fin_model_to_json(&a->model), *list = cJSON_CreateArray(), *p;
	cJSON *training = cJSON_GetObjectItemCaseSensitive(o, "training");
	size_t k;
	int ok = o && list && training && cJSON_AddItemToObject(training, "parties", list);

	if (!ok)
		cJSON_Delete(list);
	for (k = 0; ok && k < a->nparties; k++) {
		const fin_fedavg_party *q = &a->party[k];
		if (!(p = cJSON_CreateObject()) || !cJSON_AddItemToArray(list, p)) {
			cJSON_Delete(p);
			ok = 0;
			break;
		}
		ok = cJSON_AddStringToObject(p, "file", q->file) &&
		     cJSON_AddNumberToObject(p, "rows", (double)q->rows) &&
		     (isnan(q->epsilon) || fin_json_add_exact(p, "epsilon", q->epsilon));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_fedavg_distinct(char *const *paths, size_t n, fin_err *err)
{
	struct stat *st = calloc(n ? n : 1, sizeof *st);
	int *seen = calloc(n ? n : 1, sizeof *seen);
	size_t i, j;
	int rc = FIN_OK;

	if (!st || !seen)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; rc == FIN_OK && i < n; i++) {
		if (stat(paths[i], &st[i]) != 0)
			continue;
		seen[i] = 1;
		for (j = 0; j < i; j++)
			if (seen[j] && st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino) {
				rc = fin_fail(err, FIN_EUSAGE, "%s: given twice (also as %s): each party "
					      "counts once", paths[i], paths[j]);
				break;
			}
	}
	free(st);
	free(seen);
	return rc;
}
