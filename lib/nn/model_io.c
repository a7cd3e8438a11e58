#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/version.h"
#include "io/json_file.h"
#include "io/numio.h"
#include "nn/glm.h"
#include "nn/model.h"

static const char *const task_names[] = { "regression", "binary", "multiclass", "autoencoder",
					   "gan" };

const char *fin_task_name(enum fin_task t)
{
	return task_names[t];
}

int fin_task_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof task_names / sizeof *task_names; i++)
		if (strcmp(s, task_names[i]) == 0)
			return (int)i;
	return -1;
}

static void free_names(char **v, size_t n)
{
	size_t i;

	if (v)
		for (i = 0; i < n; i++)
			free(v[i]);
	free(v);
}

void fin_model_free(fin_model *m)
{
	fin_net_free(&m->net);
	fin_gan_free(&m->gan);
	free_names(m->feat, m->nfeat);
	free_names(m->keys, m->nkeys);
	free_names(m->labels, m->nlabels);
	free(m->target);
	free(m->mean);
	free(m->sd);
	fin_encoding_free(&m->enc);
	fin_glm_fit_free(m->fit);
	memset(m, 0, sizeof *m);
}

/* ---- writing ---- */

/* The GAN's generator: its architecture and weights. */
static cJSON *generator_to_json(const fin_gan *gan)
{
	cJSON *g = cJSON_CreateObject();
	char arch[4096];

	if (!g || fin_net_arch(&gan->g, arch, sizeof arch) != 0 ||
	    !cJSON_AddStringToObject(g, "arch", arch) ||
	    !cJSON_AddItemToObject(g, "weights", fin_json_floats(gan->g.params, gan->g.nparams))) {
		cJSON_Delete(g);
		return NULL;
	}
	return g;
}

cJSON *fin_model_to_json(const fin_model *m)
{
	cJSON *o = cJSON_CreateObject(), *s, *f, *shape;
	char arch[4096];
	const fin_train_facts *t = &m->facts;
	int gan = m->task == FIN_TASK_GAN;
	/* A GAN's top-level network is its discriminator, which reads the
	 * features as every other model's network does. */
	const fin_net *net = gan ? &m->gan.d : &m->net;
	int ok;

	if (!o || fin_net_arch(net, arch, sizeof arch) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	ok = cJSON_AddStringToObject(o, "format", FIN_MODEL_FORMAT) &&
	     cJSON_AddNumberToObject(o, "schema_version", FIN_MODEL_SCHEMA) &&
	     cJSON_AddStringToObject(o, "tool_version", FIN_VERSION) &&
	     cJSON_AddStringToObject(o, "task", fin_task_name(m->task)) &&
	     cJSON_AddStringToObject(o, "loss", fin_loss_name(m->loss)) &&
	     cJSON_AddStringToObject(o, "arch", arch);
	shape = cJSON_CreateArray();
	ok = ok && shape && cJSON_AddItemToObject(o, "input_shape", shape) &&
	     cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)net->in_c)) &&
	     cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)net->in_t));
	ok = ok && cJSON_AddItemToObject(o, "features", fin_json_strings(m->feat, m->nfeat)) &&
	     fin_encoding_add(o, &m->enc);
	ok = ok && (m->target ? cJSON_AddStringToObject(o, "target", m->target) != NULL
			      : cJSON_AddNullToObject(o, "target") != NULL);
	ok = ok && cJSON_AddItemToObject(o, "keys", fin_json_strings(m->keys, m->nkeys));
	s = cJSON_CreateObject();
	ok = ok && s && cJSON_AddItemToObject(o, "scaler", s) &&
	     cJSON_AddItemToObject(s, "mean", fin_json_doubles(m->mean, m->nfeat)) &&
	     cJSON_AddItemToObject(s, "sd", fin_json_doubles(m->sd, m->nfeat));
	if (ok && m->task == FIN_TASK_REGRESSION) {
		s = cJSON_CreateObject();
		ok = s && cJSON_AddItemToObject(o, "target_scaler", s) &&
		     fin_json_add_exact(s, "mean", m->y_mean) && fin_json_add_exact(s, "sd", m->y_sd);
	}
	if (ok && (m->task == FIN_TASK_BINARY || m->task == FIN_TASK_MULTICLASS))
		ok = cJSON_AddItemToObject(o, "labels", fin_json_strings(m->labels, m->nlabels));
	if (ok && m->task == FIN_TASK_AUTOENCODER)
		ok = cJSON_AddNumberToObject(o, "bottleneck", (double)m->bottleneck) != NULL;
	if (ok && gan)
		ok = cJSON_AddNumberToObject(o, "latent", (double)m->gan.latent) &&
		     cJSON_AddItemToObject(o, "generator", generator_to_json(&m->gan));
	f = cJSON_CreateObject();
	ok = ok && f && cJSON_AddItemToObject(o, "training", f) &&
	     cJSON_AddNumberToObject(f, "seed", (double)t->seed) &&
	     cJSON_AddNumberToObject(f, "threads", t->threads) &&
	     cJSON_AddStringToObject(f, "optimizer", t->optimizer) &&
	     fin_json_add_float(f, "lr", t->lr) && fin_json_add_float(f, "l2", t->l2) && fin_json_add_float(f, "clip", t->clip) &&
	     cJSON_AddNumberToObject(f, "batch", (double)t->batch) &&
	     cJSON_AddNumberToObject(f, "epochs", (double)t->epochs) &&
	     cJSON_AddNumberToObject(f, "epochs_run", (double)t->epochs_run) &&
	     cJSON_AddNumberToObject(f, "best_epoch", (double)t->best_epoch) &&
	     cJSON_AddNumberToObject(f, "kept_epoch", (double)t->kept_epoch) &&
	     fin_json_add_exact(f, "train_loss", t->train_loss) && fin_json_add_exact(f, "val_loss", t->val_loss) &&
	     fin_json_add_exact(f, "last_val_loss", t->last_val_loss) &&
	     cJSON_AddNumberToObject(f, "rows_train", (double)t->rows_train) &&
	     cJSON_AddNumberToObject(f, "rows_val", (double)t->rows_val);
	if (ok && gan)
		ok = fin_json_add_float(f, "lr_d", t->lr_d) && fin_json_add_float(f, "smooth", t->smooth) &&
		     cJSON_AddNumberToObject(f, "d_steps", (double)t->d_steps) &&
		     fin_json_add_exact(f, "loss_g", t->loss_g) && fin_json_add_exact(f, "loss_d", t->loss_d);
	if (ok && t->dp_clip > 0)
		ok = fin_json_add_exact(f, "dp_clip", t->dp_clip) &&
		     fin_json_add_exact(f, "dp_noise", t->dp_noise) &&
		     cJSON_AddStringToObject(f, "dp_sampling", "poisson") &&
		     fin_json_add_exact(f, "epsilon", t->epsilon) &&
		     fin_json_add_exact(f, "delta", t->delta);
	if (ok && t->round)
		ok = cJSON_AddNumberToObject(f, "round", (double)t->round) != NULL;
	if (ok && m->fit)
		ok = cJSON_AddItemToObject(o, "fit", fin_glm_fit_to_json(m->fit));
	ok = ok && cJSON_AddItemToObject(o, "weights", fin_json_floats(net->params, net->nparams));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_model_save(const fin_model *m, fin_out_file *f, fin_err *err)
{
	cJSON *o = fin_model_to_json(m);
	int rc = fin_json_save(o, f, err);

	cJSON_Delete(o);
	return rc;
}

/* ---- reading: the file is untrusted, every size is checked first ---- */

/* A network's parameters: exactly as many float32 values as it has. */
static int read_weights(const fin_json_reader *r, const cJSON *w, const char *what, fin_net *net)
{
	char detail[96];

	if (!cJSON_IsArray(w) || (size_t)cJSON_GetArraySize(w) != net->nparams) {
		snprintf(detail, sizeof detail,
			 " are missing or do not match the architecture, which has %zu",
			 net->nparams);
		return fin_json_bad(r, what, detail);
	}
	return fin_json_read_floats(r, w, what, net->nparams, net->params);
}

/* What building a network from the file's arch gave (rc, and why it
 * failed), as a reader's status: the arch's text reaches the message only
 * escaped and cut short, as fin_net_build quotes it. */
static int arch_built(const fin_json_reader *r, int rc, const fin_err *why)
{
	char detail[sizeof why->msg];

	if (rc == FIN_OK)
		return FIN_OK;
	snprintf(detail, sizeof detail, ": %.900s", why->msg);
	return fin_json_bad(r, "arch", detail);
}

/* A GAN's networks: the discriminator from the top-level arch, the
 * generator from its own object, each with its weights. */
static int gan_from_json(fin_model *m, const cJSON *o, const char *arch_d, size_t c, size_t t,
			 const fin_json_reader *r)
{
	const cJSON *g = fin_json_field(o, "generator"), *arch_g = fin_json_field(g, "arch");
	fin_err why = { 0 };
	size_t latent;
	int rc;

	if ((rc = fin_json_count(r, fin_json_field(o, "latent"), "latent", 1 << 16, &latent)) != FIN_OK)
		return rc;
	if (latent == 0)
		return fin_json_bad(r, "latent", " is 0");
	if (!cJSON_IsString(arch_g))
		return fin_json_bad(r, "generator", " is missing its arch");
	rc = fin_gan_build(&m->gan, arch_g->valuestring, arch_d, latent, c, t, 0, &why);
	if ((rc = arch_built(r, rc, &why)) != FIN_OK)
		return rc;
	return read_weights(r, fin_json_field(g, "weights"), "generator weights", &m->gan.g);
}

/* The training facts: for people and for files that embed the model, read
 * back whole, with harmless defaults where one is missing; a fact that is
 * there is checked like any other field. */
static int facts_from_json(fin_train_facts *f, const cJSON *s, const fin_json_reader *r)
{
	/* Counts of rows, epochs and the like: any a double holds exactly. */
	const size_t most = (size_t)1 << 53;
	const cJSON *v = fin_json_field(s, "optimizer");
	size_t seed, threads;
	int rc;

	if (!cJSON_IsObject(s))
		return fin_json_bad(r, "training", " is missing");
	if (v && (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof f->optimizer))
		return fin_json_bad(r, "optimizer", " is not the name of an optimizer");
	snprintf(f->optimizer, sizeof f->optimizer, "%s", v ? v->valuestring : "");
	if ((rc = fin_json_count_or(r, s, "seed", ULONG_MAX, 0, &seed)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "threads", 1 << 16, 1, &threads)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "lr", 0, FLT_MAX, 0, &f->lr)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "l2", 0, FLT_MAX, 0, &f->l2)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "clip", 0, FLT_MAX, 0, &f->clip)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "batch", most, 0, &f->batch)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "epochs", most, 0, &f->epochs)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "epochs_run", most, 0, &f->epochs_run)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "best_epoch", most, 0, &f->best_epoch)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "kept_epoch", most, 0, &f->kept_epoch)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "train_loss", -DBL_MAX, DBL_MAX, NAN, &f->train_loss)) !=
		    FIN_OK ||
	    (rc = fin_json_real_or(r, s, "val_loss", -DBL_MAX, DBL_MAX, NAN, &f->val_loss)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "last_val_loss", -DBL_MAX, DBL_MAX, NAN,
				   &f->last_val_loss)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "rows_train", most, 0, &f->rows_train)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "rows_val", most, 0, &f->rows_val)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "lr_d", 0, FLT_MAX, 0, &f->lr_d)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "smooth", 0, 1, 0, &f->smooth)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "d_steps", most, 0, &f->d_steps)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "loss_g", -DBL_MAX, DBL_MAX, NAN, &f->loss_g)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "loss_d", -DBL_MAX, DBL_MAX, NAN, &f->loss_d)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "dp_clip", 0, DBL_MAX, 0, &f->dp_clip)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "dp_noise", 0, DBL_MAX, 0, &f->dp_noise)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "epsilon", 0, DBL_MAX, NAN, &f->epsilon)) != FIN_OK ||
	    (rc = fin_json_real_or(r, s, "delta", 0, 1, NAN, &f->delta)) != FIN_OK ||
	    (rc = fin_json_count_or(r, s, "round", most, 0, &f->round)) != FIN_OK)
		return rc;
	f->seed = (unsigned long)seed;
	f->threads = (int)threads;
	/* Private training without noise has no finite epsilon: null. */
	if (f->dp_clip > 0 && isnan(f->epsilon))
		f->epsilon = INFINITY;
	return FIN_OK;
}

/* Fills m from a parsed model; anything unusable is FIN_EMODEL. */
static int model_from_json(fin_model *m, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v, *shape, *s;
	fin_net *net = &m->net;
	size_t c = 0, t = 0, i;
	int kind, rc;

	if ((rc = fin_json_header(r, o, FIN_MODEL_FORMAT, FIN_MODEL_SCHEMA)) != FIN_OK)
		return rc;
	v = fin_json_field(o, "task");
	if (!cJSON_IsString(v) || (kind = fin_task_parse(v->valuestring)) < 0)
		return fin_json_bad(r, "task", " is missing or unknown");
	m->task = (enum fin_task)kind;
	v = fin_json_field(o, "loss");
	if (!cJSON_IsString(v) || (kind = fin_loss_parse(v->valuestring)) < 0)
		return fin_json_bad(r, "loss", " is missing or unknown");
	m->loss = (enum fin_loss)kind;
	/* The features first: the shape must name as many, before any network
	 * is built for it. */
	if ((rc = fin_json_names(r, fin_json_field(o, "features"), "features", &m->feat, &m->nfeat)) != FIN_OK)
		return rc;
	shape = fin_json_field(o, "input_shape");
	if ((rc = fin_json_list(r, shape, "input_shape", 2)) != FIN_OK ||
	    (rc = fin_json_count(r, cJSON_GetArrayItem(shape, 0), "input_shape", m->nfeat, &c)) != FIN_OK ||
	    (rc = fin_json_count(r, cJSON_GetArrayItem(shape, 1), "input_shape", m->nfeat, &t)) != FIN_OK)
		return rc;
	if (c * t == 0 || c * t != m->nfeat)
		return fin_json_bad(r, "features", " do not match input_shape");
	if ((rc = fin_encoding_read(&m->enc, o, m->feat, m->nfeat, r)) != FIN_OK)
		return rc;
	v = fin_json_field(o, "arch");
	if (!cJSON_IsString(v))
		return fin_json_bad(r, "arch", " is missing");
	if (m->task == FIN_TASK_GAN) {
		if ((rc = gan_from_json(m, o, v->valuestring, c, t, r)) != FIN_OK)
			return rc;
		net = &m->gan.d;
	} else {
		fin_err why = { 0 };
		rc = fin_net_build(&m->net, v->valuestring, c, t, &why);
		if ((rc = arch_built(r, rc, &why)) != FIN_OK)
			return rc;
	}
	v = fin_json_field(o, "target");
	if (cJSON_IsString(v) && !(m->target = strdup(v->valuestring)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if (!cJSON_IsString(v) && !cJSON_IsNull(v))
		return fin_json_bad(r, "target", " is missing");
	if ((rc = fin_json_names(r, fin_json_field(o, "keys"), "keys", &m->keys, &m->nkeys)) != FIN_OK)
		return rc;
	s = fin_json_field(o, "scaler");
	if ((rc = fin_json_read_doubles(r, fin_json_field(s, "mean"), "scaler mean", m->nfeat,
					-FIN_CENTRE_MAX, FIN_CENTRE_MAX, &m->mean)) != FIN_OK ||
	    (rc = fin_json_read_doubles(r, fin_json_field(s, "sd"), "scaler sd", m->nfeat,
					FIN_SPREAD_MIN, FIN_SPREAD_MAX, &m->sd)) != FIN_OK)
		return rc;
	if (m->task == FIN_TASK_GAN) {
		/* Nothing more: the generator was read with the networks. */
	} else if (m->task == FIN_TASK_REGRESSION) {
		s = fin_json_field(o, "target_scaler");
		if ((rc = fin_json_real(r, fin_json_field(s, "mean"), "target_scaler mean",
					-FIN_CENTRE_MAX, FIN_CENTRE_MAX, &m->y_mean)) != FIN_OK ||
		    (rc = fin_json_real(r, fin_json_field(s, "sd"), "target_scaler sd", FIN_SPREAD_MIN,
					FIN_SPREAD_MAX, &m->y_sd)) != FIN_OK)
			return rc;
		if (m->net.out_size != 1)
			return fin_json_bad(r, "arch", " gives more than one output for regression");
	} else if (m->task == FIN_TASK_AUTOENCODER) {
		if (m->net.out_size != m->nfeat)
			return fin_json_bad(r, "arch", " does not reconstruct every feature");
		if ((rc = fin_json_count(r, fin_json_field(o, "bottleneck"), "bottleneck", m->net.nlayers, &i)) !=
		    FIN_OK)
			return rc;
		if (i + 1 >= m->net.nlayers)
			return fin_json_bad(r, "bottleneck", " is not a layer before the last");
		m->bottleneck = i;
	} else {
		size_t want = m->task == FIN_TASK_BINARY ? 2 : m->net.out_size;
		if ((rc = fin_json_names(r, fin_json_field(o, "labels"), "labels", &m->labels, &m->nlabels)) != FIN_OK)
			return rc;
		if (m->nlabels != want || want < 2 ||
		    (m->task == FIN_TASK_BINARY && m->net.out_size != 1))
			return fin_json_bad(r, "labels", " do not match the task and the outputs");
	}
	if ((rc = facts_from_json(&m->facts, fin_json_field(o, "training"), r)) != FIN_OK ||
	    (rc = fin_glm_fit_from_json(&m->fit, fin_json_field(o, "fit"), m, r)) != FIN_OK)
		return rc;
	return read_weights(r, fin_json_field(o, "weights"), "weights", net);
}

int fin_model_load(fin_model *m, const char *path, fin_err *err)
{
	fin_json_reader r = { path, "model", err };
	cJSON *o = fin_json_load(&r);
	int rc;

	memset(m, 0, sizeof *m);
	if (!o)
		return FIN_EMODEL;
	rc = fin_model_from_json(m, o, &r);
	cJSON_Delete(o);
	return rc;
}

int fin_model_from_json(fin_model *m, const cJSON *o, const fin_json_reader *r)
{
	int rc;

	memset(m, 0, sizeof *m);
	rc = model_from_json(m, o, r);
	if (rc != FIN_OK) {
		if (r->err)
			r->err->code = FIN_EMODEL;
		fin_model_free(m);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
