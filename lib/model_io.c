#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_file.h"
#include "model.h"
#include "numio.h"
#include "version.h"

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
	ok = ok && cJSON_AddItemToObject(o, "features", fin_json_strings(m->feat, m->nfeat));
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
	     fin_json_add_exact(f, "train_loss", t->train_loss) && fin_json_add_exact(f, "val_loss", t->val_loss) &&
	     cJSON_AddNumberToObject(f, "rows_train", (double)t->rows_train) &&
	     cJSON_AddNumberToObject(f, "rows_val", (double)t->rows_val);
	if (ok && gan)
		ok = fin_json_add_float(f, "lr_d", t->lr_d) && fin_json_add_float(f, "smooth", t->smooth) &&
		     cJSON_AddNumberToObject(f, "d_steps", (double)t->d_steps) &&
		     fin_json_add_exact(f, "loss_g", t->loss_g) && fin_json_add_exact(f, "loss_d", t->loss_d);
	ok = ok && cJSON_AddItemToObject(o, "weights", fin_json_floats(net->params, net->nparams));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_model_check_writable(const char *path, fin_err *err)
{
	return fin_json_check_writable(path, err);
}

int fin_model_save(const fin_model *m, const char *path, fin_err *err)
{
	cJSON *o = fin_model_to_json(m);
	int rc = o ? fin_json_save(o, path, err) : fin_fail(err, FIN_EDATA, "out of memory");

	cJSON_Delete(o);
	return rc;
}

/* ---- reading: the file is untrusted, every size is checked first ---- */

/* Fills a network's parameters from an array of exactly as many finite
 * float32 values. */
static int read_weights(const fin_json_reader *r, const cJSON *w, const char *what, fin_net *net)
{
	const cJSON *e;
	size_t i = 0;

	if (!cJSON_IsArray(w) || (size_t)cJSON_GetArraySize(w) != net->nparams)
		return fin_json_bad(r, what, " are missing or do not match the architecture");
	cJSON_ArrayForEach(e, w)
	{
		float f = cJSON_IsNumber(e) ? (float)e->valuedouble : NAN;
		if (!isfinite(f))
			return fin_json_bad(r, what, " hold a value that is not a finite float");
		net->params[i++] = f;
	}
	return FIN_OK;
}

/* A GAN's networks: the discriminator from the top-level arch, the
 * generator from its own object, each with its weights. */
static int gan_from_json(fin_model *m, const cJSON *o, const char *arch_d, size_t c, size_t t,
			 const fin_json_reader *r)
{
	const cJSON *g = fin_json_field(o, "generator"), *arch_g = fin_json_field(g, "arch");
	fin_err why = { 0 };
	char detail[sizeof why.msg];
	size_t latent;
	int rc;

	if ((rc = fin_json_count(r, fin_json_field(o, "latent"), "latent", 1 << 16, &latent)) != FIN_OK)
		return rc;
	if (latent == 0)
		return fin_json_bad(r, "latent", " is 0");
	if (!cJSON_IsString(arch_g))
		return fin_json_bad(r, "generator", " is missing its arch");
	if (fin_gan_build(&m->gan, arch_g->valuestring, arch_d, latent, c, t, 0, &why) != FIN_OK) {
		snprintf(detail, sizeof detail, ": %.900s", why.msg);
		return fin_json_bad(r, "arch", detail);
	}
	return read_weights(r, fin_json_field(g, "weights"), "generator weights", &m->gan.g);
}

/* Fills m from a parsed model; anything unusable is FIN_EMODEL. */
static int model_from_json(fin_model *m, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v, *shape, *s, *w;
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
	shape = fin_json_field(o, "input_shape");
	if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2 ||
	    fin_json_count(r, cJSON_GetArrayItem(shape, 0), "input_shape", 1 << 20, &c) ||
	    fin_json_count(r, cJSON_GetArrayItem(shape, 1), "input_shape", 1 << 20, &t) || c * t == 0 ||
	    c * t > (1 << 24))
		return fin_json_bad(r, "input_shape", " is missing or out of range");
	v = fin_json_field(o, "arch");
	if (!cJSON_IsString(v))
		return fin_json_bad(r, "arch", " is missing");
	if (m->task == FIN_TASK_GAN) {
		if ((rc = gan_from_json(m, o, v->valuestring, c, t, r)) != FIN_OK)
			return rc;
		net = &m->gan.d;
	} else {
		fin_err why = { 0 };
		char detail[sizeof why.msg];
		if (fin_net_build(&m->net, v->valuestring, c, t, &why) != FIN_OK) {
			snprintf(detail, sizeof detail, ": %.900s", why.msg);
			return fin_json_bad(r, "arch", detail);
		}
	}
	if ((rc = fin_json_names(r, fin_json_field(o, "features"), "features", &m->feat, &m->nfeat)) != FIN_OK)
		return rc;
	if (m->nfeat != c * t)
		return fin_json_bad(r, "features", " do not match input_shape");
	v = fin_json_field(o, "target");
	if (cJSON_IsString(v) && !(m->target = strdup(v->valuestring)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if (!cJSON_IsString(v) && !cJSON_IsNull(v))
		return fin_json_bad(r, "target", " is missing");
	if ((rc = fin_json_names(r, fin_json_field(o, "keys"), "keys", &m->keys, &m->nkeys)) != FIN_OK)
		return rc;
	s = fin_json_field(o, "scaler");
	if ((rc = fin_json_read_doubles(r, fin_json_field(s, "mean"), "scaler mean", m->nfeat, &m->mean)) != FIN_OK ||
	    (rc = fin_json_read_doubles(r, fin_json_field(s, "sd"), "scaler sd", m->nfeat, &m->sd)) != FIN_OK)
		return rc;
	for (i = 0; i < m->nfeat; i++)
		if (!(m->sd[i] > 0))
			return fin_json_bad(r, "scaler sd", " holds a value that is not above 0");
	if (m->task == FIN_TASK_GAN) {
		/* Nothing more: the generator was read with the networks. */
	} else if (m->task == FIN_TASK_REGRESSION) {
		s = fin_json_field(o, "target_scaler");
		v = fin_json_field(s, "mean");
		w = fin_json_field(s, "sd");
		if (!cJSON_IsNumber(v) || !cJSON_IsNumber(w) || !isfinite(v->valuedouble) ||
		    !(w->valuedouble > 0) || !isfinite(w->valuedouble))
			return fin_json_bad(r, "target_scaler", " is missing or not finite");
		m->y_mean = v->valuedouble;
		m->y_sd = w->valuedouble;
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
	s = fin_json_field(o, "training");
	if (!cJSON_IsObject(s))
		return fin_json_bad(r, "training", " is missing");
	/* Facts are for people and for files that embed the model: read
	 * back whole, with harmless defaults where one is missing. */
	v = fin_json_field(s, "optimizer");
	snprintf(m->facts.optimizer, sizeof m->facts.optimizer, "%s",
		 cJSON_IsString(v) ? v->valuestring : "");
	m->facts.seed = (unsigned long)fin_json_number_or(s, "seed", 0);
	m->facts.threads = (int)fin_json_number_or(s, "threads", 1);
	m->facts.lr = fin_json_number_or(s, "lr", 0);
	m->facts.l2 = fin_json_number_or(s, "l2", 0);
	m->facts.clip = fin_json_number_or(s, "clip", 0);
	m->facts.batch = (size_t)fin_json_number_or(s, "batch", 0);
	m->facts.epochs = (size_t)fin_json_number_or(s, "epochs", 0);
	m->facts.epochs_run = (size_t)fin_json_number_or(s, "epochs_run", 0);
	m->facts.best_epoch = (size_t)fin_json_number_or(s, "best_epoch", 0);
	m->facts.train_loss = fin_json_number_or(s, "train_loss", NAN);
	m->facts.val_loss = fin_json_number_or(s, "val_loss", NAN);
	m->facts.rows_train = (size_t)fin_json_number_or(s, "rows_train", 0);
	m->facts.rows_val = (size_t)fin_json_number_or(s, "rows_val", 0);
	m->facts.lr_d = fin_json_number_or(s, "lr_d", 0);
	m->facts.smooth = fin_json_number_or(s, "smooth", 0);
	m->facts.d_steps = (size_t)fin_json_number_or(s, "d_steps", 0);
	m->facts.loss_g = fin_json_number_or(s, "loss_g", NAN);
	m->facts.loss_d = fin_json_number_or(s, "loss_d", NAN);
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
