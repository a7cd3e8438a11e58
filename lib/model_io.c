#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "numio.h"
#include "version.h"

enum { MAX_MODEL_BYTES = 1 << 30, MAX_NAMES = 1 << 20 };

static const char *const task_names[] = { "regression", "binary", "multiclass", "autoencoder" };

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
	free_names(m->feat, m->nfeat);
	free_names(m->keys, m->nkeys);
	free_names(m->labels, m->nlabels);
	free(m->target);
	free(m->mean);
	free(m->sd);
	memset(m, 0, sizeof *m);
}

/* ---- writing ---- */

static cJSON *string_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* cJSON prints doubles with 15 digits when they are merely close: exact
 * shortest text instead, so that scalers read back bit for bit. */
static cJSON *exact_number(double v)
{
	char buf[FIN_NUM_MAX];

	if (!isfinite(v))
		return cJSON_CreateNull();
	fin_format_double(buf, v);
	return cJSON_CreateRaw(buf);
}

static int add_exact(cJSON *o, const char *key, double v)
{
	return cJSON_AddItemToObject(o, key, exact_number(v));
}

/* Options given as float32 read best in their float32 form: 0.001, not
 * 0.0010000000474974513. */
static int add_float(cJSON *o, const char *key, double v)
{
	char buf[FIN_NUM_MAX];

	fin_format_float(buf, (float)v);
	return cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

static cJSON *double_array(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, exact_number(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* float32 values in their shortest text, checked to read back exactly
 * through a double as every JSON reader parses them. */
static cJSON *weight_array(const float *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	char buf[FIN_NUM_MAX];
	size_t i;

	for (i = 0; a && i < n; i++) {
		fin_format_float(buf, v[i]);
		if ((float)strtod(buf, NULL) != v[i])
			snprintf(buf, sizeof buf, "%.17g", (double)v[i]);
		if (!cJSON_AddItemToArray(a, cJSON_CreateRaw(buf))) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *model_json(const fin_model *m)
{
	cJSON *o = cJSON_CreateObject(), *s, *f, *shape;
	char arch[4096];
	const fin_train_facts *t = &m->facts;
	int ok;

	if (!o || fin_net_arch(&m->net, arch, sizeof arch) != 0) {
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
	     cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)m->net.in_c)) &&
	     cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)m->net.in_t));
	ok = ok && cJSON_AddItemToObject(o, "features", string_array(m->feat, m->nfeat));
	ok = ok && (m->target ? cJSON_AddStringToObject(o, "target", m->target) != NULL
			      : cJSON_AddNullToObject(o, "target") != NULL);
	ok = ok && cJSON_AddItemToObject(o, "keys", string_array(m->keys, m->nkeys));
	s = cJSON_CreateObject();
	ok = ok && s && cJSON_AddItemToObject(o, "scaler", s) &&
	     cJSON_AddItemToObject(s, "mean", double_array(m->mean, m->nfeat)) &&
	     cJSON_AddItemToObject(s, "sd", double_array(m->sd, m->nfeat));
	if (ok && m->task == FIN_TASK_REGRESSION) {
		s = cJSON_CreateObject();
		ok = s && cJSON_AddItemToObject(o, "target_scaler", s) &&
		     add_exact(s, "mean", m->y_mean) && add_exact(s, "sd", m->y_sd);
	}
	if (ok && (m->task == FIN_TASK_BINARY || m->task == FIN_TASK_MULTICLASS))
		ok = cJSON_AddItemToObject(o, "labels", string_array(m->labels, m->nlabels));
	if (ok && m->task == FIN_TASK_AUTOENCODER)
		ok = cJSON_AddNumberToObject(o, "bottleneck", (double)m->bottleneck) != NULL;
	f = cJSON_CreateObject();
	ok = ok && f && cJSON_AddItemToObject(o, "training", f) &&
	     cJSON_AddNumberToObject(f, "seed", (double)t->seed) &&
	     cJSON_AddNumberToObject(f, "threads", t->threads) &&
	     cJSON_AddStringToObject(f, "optimizer", t->optimizer) &&
	     add_float(f, "lr", t->lr) && add_float(f, "l2", t->l2) && add_float(f, "clip", t->clip) &&
	     cJSON_AddNumberToObject(f, "batch", (double)t->batch) &&
	     cJSON_AddNumberToObject(f, "epochs", (double)t->epochs) &&
	     cJSON_AddNumberToObject(f, "epochs_run", (double)t->epochs_run) &&
	     cJSON_AddNumberToObject(f, "best_epoch", (double)t->best_epoch) &&
	     add_exact(f, "train_loss", t->train_loss) && add_exact(f, "val_loss", t->val_loss) &&
	     cJSON_AddNumberToObject(f, "rows_train", (double)t->rows_train) &&
	     cJSON_AddNumberToObject(f, "rows_val", (double)t->rows_val);
	ok = ok && cJSON_AddItemToObject(o, "weights", weight_array(m->net.params, m->net.nparams));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int fin_model_check_writable(const char *path, fin_err *err)
{
	char *tmp = NULL;
	int fd;

	if (strcmp(path, "-") == 0)
		return FIN_OK;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	fd = mkstemp(tmp);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	if (fd < 0)
		return fin_fail(err, FIN_EUSAGE, "%s: cannot write: %s", path, strerror(errno));
	return FIN_OK;
}

int fin_model_save(const fin_model *m, const char *path, fin_err *err)
{
	cJSON *o = model_json(m);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL, *tmp = NULL;
	size_t len;
	int fd = -1, rc = FIN_OK;

	cJSON_Delete(o);
	if (!text)
		return fin_fail(err, FIN_EDATA, "out of memory writing the model");
	len = strlen(text);
	text[len] = '\n';
	if (!path || strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, text, len + 1) != 0)
			rc = fin_fail(err, FIN_EDATA, "<stdout>: write error: %s", strerror(errno));
		free(text);
		return rc;
	}
	/* A temporary name in the same directory, renamed over the target
	 * only once complete: a failed run never leaves a broken model. */
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		free(text);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		rc = fin_fail(err, FIN_EUSAGE, "%s: cannot write: %s", path, strerror(errno));
	else if (fchmod(fd, 0644) != 0 || write_all(fd, text, len + 1) != 0 || fsync(fd) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == FIN_OK)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", path, strerror(errno));
	if (rc == FIN_OK && rename(tmp, path) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: cannot write: %s", path, strerror(errno));
	if (rc != FIN_OK && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(text);
	return rc;
}

/* ---- reading: the file is untrusted, every size is checked first ---- */

struct reader {
	const char *path;
	fin_err *err;
};

static int bad(struct reader *r, const char *what, const char *detail)
{
	return fin_fail(r->err, FIN_EMODEL, "%s: unusable model file: %s%s", r->path, what, detail);
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int read_count(struct reader *r, const cJSON *v, const char *what, size_t max, size_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > (double)max ||
	    v->valuedouble != floor(v->valuedouble))
		return bad(r, what, " is missing or not a whole number in range");
	*out = (size_t)v->valuedouble;
	return FIN_OK;
}

static int read_names(struct reader *r, const cJSON *a, const char *what, char ***out, size_t *n)
{
	const cJSON *e;
	size_t len, i = 0;

	if (!cJSON_IsArray(a))
		return bad(r, what, " is missing or not a list");
	len = (size_t)cJSON_GetArraySize(a);
	if (len > MAX_NAMES)
		return bad(r, what, " is too long");
	*out = calloc(len ? len : 1, sizeof **out);
	if (!*out)
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return bad(r, what, " holds something other than text");
		if (!((*out)[i++] = strdup(e->valuestring)))
			return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
		*n = i;
	}
	return FIN_OK;
}

static int read_doubles(struct reader *r, const cJSON *a, const char *what, size_t n, double **out)
{
	const cJSON *e;
	size_t i = 0;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return bad(r, what, " is missing or has the wrong length");
	*out = malloc((n ? n : 1) * sizeof **out);
	if (!*out)
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
			return bad(r, what, " holds a value that is not a finite number");
		(*out)[i++] = e->valuedouble;
	}
	return FIN_OK;
}

static double number_or(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = field(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

static int model_from_json(fin_model *m, const cJSON *o, struct reader *r)
{
	const cJSON *v, *shape, *s, *w, *e;
	size_t c = 0, t = 0, i;
	int kind, rc;

	v = field(o, "format");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, FIN_MODEL_FORMAT) != 0)
		return bad(r, "not a fin-model file", "");
	v = field(o, "schema_version");
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1)
		return bad(r, "schema_version", " is missing");
	if (v->valuedouble > FIN_MODEL_SCHEMA)
		return fin_fail(r->err, FIN_EMODEL,
				"%s: schema version %.0f is newer than this fin understands (%d): "
				"use a newer fin",
				r->path, v->valuedouble, FIN_MODEL_SCHEMA);
	v = field(o, "task");
	if (!cJSON_IsString(v) || (kind = fin_task_parse(v->valuestring)) < 0)
		return bad(r, "task", " is missing or unknown");
	m->task = (enum fin_task)kind;
	v = field(o, "loss");
	if (!cJSON_IsString(v) || (kind = fin_loss_parse(v->valuestring)) < 0)
		return bad(r, "loss", " is missing or unknown");
	m->loss = (enum fin_loss)kind;
	shape = field(o, "input_shape");
	if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2 ||
	    read_count(r, cJSON_GetArrayItem(shape, 0), "input_shape", 1 << 20, &c) ||
	    read_count(r, cJSON_GetArrayItem(shape, 1), "input_shape", 1 << 20, &t) || c * t == 0 ||
	    c * t > (1 << 24))
		return bad(r, "input_shape", " is missing or out of range");
	v = field(o, "arch");
	if (!cJSON_IsString(v))
		return bad(r, "arch", " is missing");
	{
		fin_err why = { 0 };
		char detail[sizeof why.msg];
		if (fin_net_build(&m->net, v->valuestring, c, t, &why) != FIN_OK) {
			snprintf(detail, sizeof detail, ": %.900s", why.msg);
			return bad(r, "arch", detail);
		}
	}
	if ((rc = read_names(r, field(o, "features"), "features", &m->feat, &m->nfeat)) != FIN_OK)
		return rc;
	if (m->nfeat != c * t)
		return bad(r, "features", " do not match input_shape");
	v = field(o, "target");
	if (cJSON_IsString(v) && !(m->target = strdup(v->valuestring)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if (!cJSON_IsString(v) && !cJSON_IsNull(v))
		return bad(r, "target", " is missing");
	if ((rc = read_names(r, field(o, "keys"), "keys", &m->keys, &m->nkeys)) != FIN_OK)
		return rc;
	s = field(o, "scaler");
	if ((rc = read_doubles(r, field(s, "mean"), "scaler mean", m->nfeat, &m->mean)) != FIN_OK ||
	    (rc = read_doubles(r, field(s, "sd"), "scaler sd", m->nfeat, &m->sd)) != FIN_OK)
		return rc;
	for (i = 0; i < m->nfeat; i++)
		if (!(m->sd[i] > 0))
			return bad(r, "scaler sd", " holds a value that is not above 0");
	if (m->task == FIN_TASK_REGRESSION) {
		s = field(o, "target_scaler");
		v = field(s, "mean");
		w = field(s, "sd");
		if (!cJSON_IsNumber(v) || !cJSON_IsNumber(w) || !isfinite(v->valuedouble) ||
		    !(w->valuedouble > 0) || !isfinite(w->valuedouble))
			return bad(r, "target_scaler", " is missing or not finite");
		m->y_mean = v->valuedouble;
		m->y_sd = w->valuedouble;
		if (m->net.out_size != 1)
			return bad(r, "arch", " gives more than one output for regression");
	} else if (m->task == FIN_TASK_AUTOENCODER) {
		if (m->net.out_size != m->nfeat)
			return bad(r, "arch", " does not reconstruct every feature");
		if ((rc = read_count(r, field(o, "bottleneck"), "bottleneck", m->net.nlayers, &i)) !=
		    FIN_OK)
			return rc;
		if (i + 1 >= m->net.nlayers)
			return bad(r, "bottleneck", " is not a layer before the last");
		m->bottleneck = i;
	} else {
		size_t want = m->task == FIN_TASK_BINARY ? 2 : m->net.out_size;
		if ((rc = read_names(r, field(o, "labels"), "labels", &m->labels, &m->nlabels)) != FIN_OK)
			return rc;
		if (m->nlabels != want || want < 2 ||
		    (m->task == FIN_TASK_BINARY && m->net.out_size != 1))
			return bad(r, "labels", " do not match the task and the outputs");
	}
	s = field(o, "training");
	if (!cJSON_IsObject(s))
		return bad(r, "training", " is missing");
	m->facts.seed = (unsigned long)number_or(s, "seed", 0);
	m->facts.epochs_run = (size_t)number_or(s, "epochs_run", 0);
	m->facts.train_loss = number_or(s, "train_loss", NAN);
	m->facts.val_loss = number_or(s, "val_loss", NAN);
	w = field(o, "weights");
	if (!cJSON_IsArray(w) || (size_t)cJSON_GetArraySize(w) != m->net.nparams)
		return bad(r, "weights", " are missing or do not match the architecture");
	i = 0;
	cJSON_ArrayForEach(e, w)
	{
		float f = cJSON_IsNumber(e) ? (float)e->valuedouble : NAN;
		if (!isfinite(f))
			return bad(r, "weights", " hold a value that is not a finite float");
		m->net.params[i++] = f;
	}
	return FIN_OK;
}

int fin_model_load(fin_model *m, const char *path, fin_err *err)
{
	struct reader r = { path, err };
	struct stat st;
	char *text = NULL;
	cJSON *o;
	int fd, rc;
	size_t got = 0;

	memset(m, 0, sizeof *m);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return fin_fail(err, FIN_EMODEL, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_MODEL_BYTES) {
		close(fd);
		return bad(&r, "not a regular file of a sensible size", "");
	}
	text = malloc((size_t)st.st_size + 1);
	while (text && got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!text || got != (size_t)st.st_size) {
		free(text);
		return fin_fail(err, FIN_EMODEL, "%s: cannot read", path);
	}
	text[got] = '\0';
	o = cJSON_ParseWithLength(text, got);
	if (!o) {
		const char *at = cJSON_GetErrorPtr();
		long off = at && at >= text && at <= text + got ? (long)(at - text) : -1;
		free(text);
		return fin_fail(err, FIN_EMODEL, "%s: unusable model file: not JSON (near byte %ld)",
				path, off);
	}
	free(text);
	rc = model_from_json(m, o, &r);
	cJSON_Delete(o);
	if (rc != FIN_OK) {
		if (err)
			err->code = FIN_EMODEL;
		fin_model_free(m);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
