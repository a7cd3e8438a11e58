#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/clusterer.h"
#include "detect/detector.h"
#include "explain/inspect.h"
#include "io/json_file.h"
#include "nn/glm.h"

/* ---- fields: each returns 0 when out of memory ---- */

static int add_text(cJSON *o, const char *key, const char *v)
{
	return v ? cJSON_AddStringToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static int add_count(cJSON *o, const char *key, size_t v)
{
	return cJSON_AddNumberToObject(o, key, (double)v) != NULL;
}

/* Exact, as the files write them; null when not finite. */
static int add_real(cJSON *o, const char *key, double v)
{
	return fin_json_add_exact(o, key, v);
}

static int add_names(cJSON *o, const char *key, char *const *v, size_t n)
{
	return cJSON_AddItemToObject(o, key, fin_json_strings(v, n));
}

/* A new object under key, or NULL. */
static cJSON *add_object(cJSON *o, const char *key)
{
	cJSON *c = cJSON_CreateObject();

	if (c && !cJSON_AddItemToObject(o, key, c)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* One feature's row of the features table, its name first, then, when
 * some input column is text, the column it comes from and the level it
 * marks (one-hot); what else it goes through on its way in (a scaling) is
 * added beside it. */
static cJSON *add_feature(cJSON *list, const fin_encoding *e, size_t j, const char *name)
{
	cJSON *f = cJSON_CreateObject();
	const char *column, *level;
	int ok;

	if (f && !cJSON_AddItemToArray(list, f)) {
		cJSON_Delete(f);
		return NULL;
	}
	ok = f && add_text(f, "feature", name);
	if (ok && fin_encoding_has_text(e)) {
		fin_encoding_source(e, j, &column, &level);
		ok = add_text(f, "column", column) &&
		     add_text(f, "encoding", level ? "one-hot" : "number") && add_text(f, "level", level);
	}
	return ok ? f : NULL;
}

/* ---- models ---- */

static int describe_facts(cJSON *o, const fin_train_facts *t, int gan)
{
	cJSON *f = add_object(o, "training");
	int ok = f && add_count(f, "seed", t->seed) && add_count(f, "threads", (size_t)t->threads) &&
		 add_text(f, "optimizer", t->optimizer) && fin_json_add_float(f, "lr", t->lr) &&
		 fin_json_add_float(f, "l2", t->l2) && fin_json_add_float(f, "clip", t->clip) &&
		 add_count(f, "batch", t->batch) && add_count(f, "epochs", t->epochs) &&
		 add_count(f, "epochs_run", t->epochs_run) &&
		 add_count(f, "best_epoch", t->best_epoch) && add_count(f, "kept_epoch", t->kept_epoch) &&
		 add_real(f, "train_loss", t->train_loss) &&
		 add_real(f, "last_val_loss", t->last_val_loss) &&
		 add_real(f, "val_loss", t->val_loss) && add_count(f, "rows_train", t->rows_train) &&
		 add_count(f, "rows_val", t->rows_val);

	if (ok && gan)
		ok = fin_json_add_float(f, "lr_d", t->lr_d) && fin_json_add_float(f, "smooth", t->smooth) &&
		     add_count(f, "d_steps", t->d_steps) && add_real(f, "loss_g", t->loss_g) &&
		     add_real(f, "loss_d", t->loss_d);
	/* A private run without noise has no finite epsilon: said in words,
	 * where null would read as a fact left out. */
	if (ok && t->dp_clip > 0)
		ok = add_real(f, "dp_clip", t->dp_clip) && add_real(f, "dp_noise", t->dp_noise) &&
		     add_text(f, "dp_sampling", "poisson") &&
		     (isinf(t->epsilon) ? add_text(f, "epsilon", "infinite")
					: add_real(f, "epsilon", t->epsilon)) &&
		     add_real(f, "delta", t->delta);
	if (ok && t->round)
		ok = add_count(f, "round", t->round);
	return ok;
}

static int describe_fit(cJSON *o, const fin_model *m)
{
	const fin_glm_fit *f = m->fit;
	const char *reference = fin_glm_reference(m);
	cJSON *s = add_object(o, "fit");
	int ok = s && add_text(s, "method", fin_glm_method_name(f->method)) &&
		 fin_json_add_float(s, "l2", f->l2) && add_count(s, "rows", f->rows) &&
		 add_count(s, "iterations", f->iterations) &&
		 cJSON_AddBoolToObject(s, "converged", f->converged) &&
		 add_real(s, "gradient_norm", f->gradient_norm);

	if (ok && f->method == FIN_GLM_LEAST_SQUARES)
		ok = add_real(s, "rss", f->rss) &&
		     (f->rows <= f->nterms || add_count(s, "df_resid", f->rows - f->nterms));
	else if (ok)
		ok = add_real(s, "log_likelihood", f->log_likelihood);
	return ok && (!reference || add_text(s, "reference", reference));
}

/* The coefficients in the features' own units, output by output; odds
 * ratios where each output is the log-odds against a reference label;
 * standard errors and Wald tests, t or z as statsmodels names them, for an
 * unpenalised fit. */
static int describe_coefficients(cJSON *o, const fin_model *m)
{
	const fin_glm_fit *f = m->fit;
	const int odds = fin_glm_reference(m) != NULL;
	const char *stat = f->method == FIN_GLM_LEAST_SQUARES ? "t" : "z";
	cJSON *list = cJSON_CreateArray();
	size_t k, j;
	int ok = list && cJSON_AddItemToObject(o, "coefficients", list);

	if (!ok) {
		cJSON_Delete(list);
		return 0;
	}
	for (k = 0; ok && k < f->nout; k++)
		for (j = 0; ok && j < f->nterms; j++) {
			const size_t at = k * f->nterms + j;
			cJSON *row = cJSON_CreateObject();
			double s, p;

			fin_glm_test(f, k, j, &s, &p);
			if (row && !cJSON_AddItemToArray(list, row)) {
				cJSON_Delete(row);
				row = NULL;
			}
			ok = row && add_text(row, "output", fin_glm_output(m, k)) &&
			     add_text(row, "term", j ? m->feat[j - 1] : FIN_INSPECT_INTERCEPT) &&
			     add_real(row, "coef", f->coef[at]) &&
			     (!odds || add_real(row, "odds_ratio", exp(f->coef[at]))) &&
			     (!f->se || (add_real(row, "se", f->se[at]) && add_real(row, stat, s) &&
					 add_real(row, "p", p)));
		}
	return ok;
}

/* A model's facts, and with tables its features and coefficients. */
static int describe_model(cJSON *o, const fin_model *m, int tables)
{
	const int gan = m->task == FIN_TASK_GAN;
	const fin_net *net = gan ? &m->gan.d : &m->net;
	/* The canonical text of any architecture a file may hold. */
	const size_t arch_len = (size_t)1 << 20;
	char *arch = malloc(arch_len);
	cJSON *shape, *list, *s;
	size_t j;
	int ok = arch && fin_net_arch(net, arch, arch_len) == 0 &&
		 add_text(o, "task", fin_task_name(m->task)) && add_text(o, "loss", fin_loss_name(m->loss)) &&
		 add_text(o, "arch", arch) && (shape = cJSON_CreateArray()) &&
		 cJSON_AddItemToObject(o, "input_shape", shape) &&
		 cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)net->in_c)) &&
		 cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)net->in_t)) &&
		 add_count(o, "parameters", net->nparams + (gan ? m->gan.g.nparams : 0)) &&
		 add_text(o, "target", m->target) && add_names(o, "keys", m->keys, m->nkeys);

	if (ok && (m->task == FIN_TASK_BINARY || m->task == FIN_TASK_MULTICLASS))
		ok = add_names(o, "labels", m->labels, m->nlabels);
	if (ok && m->task == FIN_TASK_REGRESSION)
		ok = (s = add_object(o, "target_scaler")) && add_real(s, "mean", m->y_mean) &&
		     add_real(s, "sd", m->y_sd);
	if (ok && m->task == FIN_TASK_AUTOENCODER)
		ok = add_count(o, "bottleneck", m->bottleneck);
	if (ok && gan)
		ok = add_count(o, "latent", m->gan.latent) && (s = add_object(o, "generator")) &&
		     fin_net_arch(&m->gan.g, arch, arch_len) == 0 && add_text(s, "arch", arch) &&
		     add_count(s, "parameters", m->gan.g.nparams);
	free(arch);
	ok = ok && describe_facts(o, &m->facts, gan) && (!m->fit || describe_fit(o, m));
	if (!ok || !tables)
		return ok;
	ok = (list = cJSON_CreateArray()) && cJSON_AddItemToObject(o, "features", list);
	if (!ok)
		cJSON_Delete(list);
	for (j = 0; ok && j < m->nfeat; j++) {
		cJSON *f = add_feature(list, &m->enc, j, m->feat[j]);
		ok = f && add_real(f, "mean", m->mean[j]) && add_real(f, "sd", m->sd[j]);
	}
	return ok && (!m->fit || describe_coefficients(o, m));
}

/* ---- detectors and clusters ---- */

static int describe_detector(cJSON *o, const fin_detector *d)
{
	cJSON *list, *model;
	size_t j, p = d->nfeat;
	int ok = add_text(o, "method", fin_method_name(d->method)) &&
		 add_names(o, "keys", d->keys, d->nkeys) && add_real(o, "threshold", d->threshold) &&
		 add_real(o, "contamination", d->contamination) && add_count(o, "rows_fit", d->rows_fit);
	const fin_model *m = d->method == FIN_DET_AUTOENCODER ? &d->ae
			     : d->method == FIN_DET_GAN       ? &d->gan
							      : NULL;

	if (ok && d->method == FIN_DET_MAHALANOBIS)
		ok = add_real(o, "shrinkage", d->shrinkage);
	if (ok && d->method == FIN_DET_IFOREST)
		ok = add_count(o, "trees", d->trees) && add_count(o, "sample", d->sample) &&
		     add_count(o, "seed", d->seed);
	if (ok && m)
		ok = (model = add_object(o, "model")) && describe_model(model, m, 0);
	ok = ok && (list = cJSON_CreateArray()) && cJSON_AddItemToObject(o, "features", list);
	for (j = 0; ok && j < p; j++) {
		cJSON *f = add_feature(list, &d->enc, j, d->feat[j]);
		ok = f != NULL;
		if (ok && d->method == FIN_DET_ZSCORE)
			ok = add_real(f, "median", d->center[j]) && add_real(f, "scale", d->scale[j]);
		else if (ok && d->method == FIN_DET_MAHALANOBIS)
			ok = add_real(f, "mean", d->center[j]) &&
			     add_real(f, "shrunk_sd", sqrt(d->cov[j * p + j]));
		else if (ok && m)
			ok = add_real(f, "mean", m->mean[j]) && add_real(f, "sd", m->sd[j]);
	}
	return ok;
}

/* The cluster file's "fit" facts, which its loader leaves alone (placing
 * rows needs none of them): each checked as it is read. */
static int describe_kmeans(cJSON *o, const cJSON *file, const fin_json_reader *r)
{
	const cJSON *s = fin_json_field(file, "fit");
	const size_t most = (size_t)1 << 53;
	size_t seed, restarts, max_iter, iterations;
	double tol;
	cJSON *f;
	int rc;

	if (!cJSON_IsObject(s))
		return FIN_OK;
	if ((rc = fin_json_count_or(r, s, "seed", most, 0, &seed)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "restarts", most, 0, &restarts)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "max_iter", most, 0, &max_iter)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "tol", 0, 1e300, NAN, &tol)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "iterations", most, 0, &iterations)) != FIN_OK)
		return rc;
	if (!(f = add_object(o, "fit")) || !add_count(f, "seed", seed) ||
	    !add_count(f, "restarts", restarts) || !add_count(f, "max_iter", max_iter) ||
	    !add_real(f, "tol", tol) || !add_count(f, "iterations", iterations))
		return fin_fail(r->err, FIN_EMODEL, "out of memory");
	return FIN_OK;
}

static int describe_clusterer(cJSON *o, const fin_clusterer *c)
{
	const size_t k = c->km.k;
	cJSON *list, *sizes, *model;
	size_t i, j;
	int ok = add_names(o, "keys", c->keys, c->nkeys) && add_count(o, "k", k) &&
		 add_count(o, "dim", c->dim) && cJSON_AddBoolToObject(o, "scaled", c->scaled) &&
		 cJSON_AddBoolToObject(o, "embedded", c->embedded) &&
		 (sizes = cJSON_CreateArray()) && cJSON_AddItemToObject(o, "sizes", sizes) &&
		 add_real(o, "inertia", c->km.inertia) && add_real(o, "silhouette", c->silhouette);

	for (i = 0; ok && i < k; i++)
		ok = cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)c->km.sizes[i]));
	if (ok && c->embedded)
		ok = (model = add_object(o, "embed")) && describe_model(model, &c->ae, 0);
	ok = ok && (list = cJSON_CreateArray()) && cJSON_AddItemToObject(o, "features", list);
	/* Each feature's scaling, when the clustered space is the features
	 * standardised, and its mean in every cluster, in its own units. */
	for (j = 0; ok && j < c->nfeat; j++) {
		cJSON *f = add_feature(list, &c->enc, j, c->feat[j]);
		ok = f && (!c->scaled || c->embedded ||
			   (add_real(f, "mean", c->mean[j]) && add_real(f, "sd", c->sd[j])));
		for (i = 0; ok && i < k; i++) {
			char key[32];
			snprintf(key, sizeof key, "centroid_%zu", i);
			ok = add_real(f, key, c->centroid_raw[i * c->nfeat + j]);
		}
	}
	return ok;
}

/* ---- the file ---- */

int fin_inspect(const char *path, cJSON **out, fin_err *err)
{
	fin_json_reader r = { path, "model", err };
	cJSON *file = fin_json_load(&r), *o = cJSON_CreateObject();
	const cJSON *format = fin_json_field(file, "format"), *v;
	fin_model m = { 0 };
	fin_detector d = { 0 };
	fin_clusterer c = { 0 };
	size_t version;
	int rc = FIN_OK, ok = 1;

	*out = NULL;
	if (!file) {
		rc = FIN_EMODEL;
		goto done;
	}
	if (!o) {
		rc = fin_fail(err, FIN_EMODEL, "out of memory");
		goto done;
	}
	if (!cJSON_IsString(format)) {
		rc = fin_fail(err, FIN_EMODEL, "%s: unusable file: no format", path);
		goto done;
	}
	/* Each kind read by its own loader, which checks the header too. */
	if (strcmp(format->valuestring, FIN_MODEL_FORMAT) == 0) {
		rc = fin_model_from_json(&m, file, &r);
	} else if (strcmp(format->valuestring, FIN_DETECTOR_FORMAT) == 0) {
		rc = fin_detector_load(&d, path, err);
	} else if (strcmp(format->valuestring, FIN_CLUSTERER_FORMAT) == 0) {
		r.kind = "cluster";
		rc = fin_clusterer_load(&c, path, err);
	} else {
		rc = fin_fail(err, FIN_EMODEL,
			      "%s: unusable file: its format is none of " FIN_MODEL_FORMAT ", "
			      FIN_DETECTOR_FORMAT " and " FIN_CLUSTERER_FORMAT, path);
	}
	if (rc != FIN_OK)
		goto done;
	/* Read again here: the detector and cluster loaders read the file
	 * themselves. */
	if ((rc = fin_json_count(&r, fin_json_field(file, "schema_version"), "schema_version",
				 (size_t)1 << 53, &version)) != FIN_OK)
		goto done;
	v = fin_json_field(file, "tool_version");
	ok = add_text(o, "format", format->valuestring) && add_count(o, "schema_version", version) &&
	     (!cJSON_IsString(v) || add_text(o, "tool_version", v->valuestring));
	if (ok && strcmp(format->valuestring, FIN_MODEL_FORMAT) == 0)
		ok = describe_model(o, &m, 1);
	else if (ok && strcmp(format->valuestring, FIN_DETECTOR_FORMAT) == 0)
		ok = describe_detector(o, &d);
	else if (ok)
		ok = describe_clusterer(o, &c) && (rc = describe_kmeans(o, file, &r)) == FIN_OK;
	if (rc == FIN_OK && !ok)
		rc = fin_fail(err, FIN_EMODEL, "out of memory");
	if (rc == FIN_OK) {
		*out = o;
		o = NULL;
	}
done:
	cJSON_Delete(file);
	cJSON_Delete(o);
	fin_model_free(&m);
	fin_detector_free(&d);
	fin_clusterer_free(&c);
	return rc;
}
