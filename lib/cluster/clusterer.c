#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/clusterer.h"
#include "core/version.h"
#include "io/json_file.h"

enum { CHUNK = 1024 };

static size_t code_width(const fin_model *ae)
{
	const fin_layer *b = &ae->net.layers[ae->bottleneck];
	return b->out_c * b->out_t;
}

/* Raw rows into the unscaled space: the rows themselves, or the code. */
static int raw_space(fin_clusterer *c, const float *x, size_t n, float *out, fin_err *err)
{
	size_t at;

	if (!c->embedded) {
		memcpy(out, x, n * c->nfeat * sizeof *out);
		return FIN_OK;
	}
	if (c->work_rows < CHUNK) {
		free(c->work);
		c->work = malloc(CHUNK * c->nfeat * sizeof *c->work);
		if (!c->work || fin_net_reserve(&c->ae.net, CHUNK) != 0)
			return fin_fail(err, FIN_EDATA, "out of memory");
		c->work_rows = CHUNK;
	}
	for (at = 0; at < n; at += CHUNK) {
		size_t b = n - at < CHUNK ? n - at : CHUNK;
		fin_model_scale(&c->ae, x + at * c->nfeat, b, c->work);
		fin_net_forward(&c->ae.net, c->work, b, 0);
		memcpy(out + at * c->dim, c->ae.net.act[c->ae.bottleneck + 1], b * c->dim * sizeof *out);
	}
	return FIN_OK;
}

static void standardise(const fin_clusterer *c, float *v, size_t n)
{
	size_t i, j;

	for (i = 0; c->scaled && i < n; i++)
		for (j = 0; j < c->dim; j++)
			v[i * c->dim + j] = (float)((v[i * c->dim + j] - c->mean[j]) / c->sd[j]);
}

int fin_clusterer_space(fin_clusterer *c, fin_err *err)
{
	c->dim = c->embedded ? code_width(&c->ae) : c->nfeat;
	c->scaled = 0;
	free(c->mean);
	free(c->sd);
	c->mean = calloc(c->dim, sizeof *c->mean);
	c->sd = calloc(c->dim, sizeof *c->sd);
	return c->mean && c->sd ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");
}

int fin_clusterer_prepare(fin_clusterer *c, const float *x, size_t n, int scale, float **space,
			  fin_err *err)
{
	size_t i, j;
	int rc;

	if ((rc = fin_clusterer_space(c, err)) != FIN_OK)
		return rc;
	c->scaled = scale;
	if (!(*space = malloc((n ? n : 1) * c->dim * sizeof **space)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = raw_space(c, x, n, *space, err)) != FIN_OK)
		return rc;
	/* Sample mean and sd of each dimension; a constant one keeps a scale
	 * of 1, so that it cannot divide by zero. */
	for (j = 0; scale && j < c->dim; j++) {
		double sum = 0, sq = 0;
		for (i = 0; i < n; i++)
			sum += (*space)[i * c->dim + j];
		c->mean[j] = sum / (double)n;
		for (i = 0; i < n; i++) {
			double e = (*space)[i * c->dim + j] - c->mean[j];
			sq += e * e;
		}
		c->sd[j] = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
		if (!(c->sd[j] > 0))
			c->sd[j] = 1;
	}
	standardise(c, *space, n);
	return FIN_OK;
}

int fin_clusterer_map(fin_clusterer *c, const float *x, size_t n, float *out, fin_err *err)
{
	int rc = raw_space(c, x, n, out, err);

	if (rc == FIN_OK)
		standardise(c, out, n);
	return rc;
}

int fin_clusterer_describe(fin_clusterer *c, const float *x, size_t n, const int *assign,
			   fin_err *err)
{
	size_t k = c->km.k, i, j, *count = calloc(k, sizeof *count);

	c->centroid_raw = calloc(k * c->nfeat, sizeof *c->centroid_raw);
	if (!count || !c->centroid_raw) {
		free(count);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++) {
		count[assign[i]]++;
		for (j = 0; j < c->nfeat; j++)
			c->centroid_raw[(size_t)assign[i] * c->nfeat + j] += x[i * c->nfeat + j];
	}
	for (i = 0; i < k; i++)
		for (j = 0; j < c->nfeat; j++)
			c->centroid_raw[i * c->nfeat + j] /= count[i] ? (double)count[i] : 1;
	free(count);
	return FIN_OK;
}

int fin_cluster_tally_init(fin_cluster_tally *t, const fin_clusterer *c, fin_err *err)
{
	memset(t, 0, sizeof *t);
	t->raw = calloc(c->km.k * c->nfeat, sizeof *t->raw);
	t->count = calloc(c->km.k, sizeof *t->count);
	return t->raw && t->count ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");
}

void fin_cluster_tally_add(fin_cluster_tally *t, const fin_clusterer *c, const float *x, size_t n,
			   const int *cluster, const double *distance)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		t->count[cluster[i]]++;
		t->inertia += distance[i] * distance[i];
		for (j = 0; j < c->nfeat; j++)
			t->raw[(size_t)cluster[i] * c->nfeat + j] += x[i * c->nfeat + j];
	}
}

void fin_cluster_tally_finish(fin_cluster_tally *t, fin_clusterer *c)
{
	size_t i, j;

	for (i = 0; i < c->km.k; i++) {
		for (j = 0; j < c->nfeat; j++)
			t->raw[i * c->nfeat + j] /= t->count[i] ? (double)t->count[i] : 1;
		c->km.sizes[i] = t->count[i];
	}
	free(c->centroid_raw);
	c->centroid_raw = t->raw;
	c->km.inertia = t->inertia;
	t->raw = NULL;
	fin_cluster_tally_free(t);
}

void fin_cluster_tally_free(fin_cluster_tally *t)
{
	free(t->raw);
	free(t->count);
	memset(t, 0, sizeof *t);
}

void fin_clusterer_free(fin_clusterer *c)
{
	size_t i;

	for (i = 0; c->feat && i < c->nfeat; i++)
		free(c->feat[i]);
	for (i = 0; c->keys && i < c->nkeys; i++)
		free(c->keys[i]);
	free(c->feat);
	free(c->keys);
	free(c->mean);
	free(c->sd);
	free(c->centroid_raw);
	free(c->work);
	fin_kmeans_free(&c->km);
	fin_model_free(&c->ae);
	fin_encoding_free(&c->enc);
	memset(c, 0, sizeof *c);
}

/* ---- the file ---- */

static cJSON *sizes_json(const fin_kmeans *km)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < km->k; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber((double)km->sizes[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

int fin_clusterer_save(const fin_clusterer *c, fin_out_file *file, fin_err *err)
{
	cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject();
	int ok, rc;

	ok = o && f && cJSON_AddStringToObject(o, "format", FIN_CLUSTERER_FORMAT) &&
	     cJSON_AddNumberToObject(o, "schema_version", FIN_CLUSTERER_SCHEMA) &&
	     cJSON_AddStringToObject(o, "tool_version", FIN_VERSION) &&
	     cJSON_AddItemToObject(o, "features", fin_json_strings(c->feat, c->nfeat)) &&
	     fin_encoding_add(o, &c->enc) &&
	     cJSON_AddItemToObject(o, "keys", fin_json_strings(c->keys, c->nkeys)) &&
	     cJSON_AddNumberToObject(o, "k", (double)c->km.k) &&
	     cJSON_AddNumberToObject(o, "dim", (double)c->dim) &&
	     cJSON_AddBoolToObject(o, "scaled", c->scaled) &&
	     (!c->scaled || (cJSON_AddItemToObject(o, "mean", fin_json_doubles(c->mean, c->dim)) &&
			     cJSON_AddItemToObject(o, "sd", fin_json_doubles(c->sd, c->dim)))) &&
	     cJSON_AddItemToObject(o, "centroids", fin_json_floats(c->km.centroids, c->km.k * c->dim)) &&
	     cJSON_AddItemToObject(o, "centroids_raw",
				   fin_json_doubles(c->centroid_raw, c->km.k * c->nfeat)) &&
	     cJSON_AddItemToObject(o, "sizes", sizes_json(&c->km)) &&
	     fin_json_add_exact(o, "inertia", c->km.inertia) &&
	     fin_json_add_exact(o, "silhouette", c->silhouette) &&
	     cJSON_AddItemToObject(o, "fit", f) &&
	     cJSON_AddNumberToObject(f, "seed", (double)c->opts.seed) &&
	     cJSON_AddNumberToObject(f, "restarts", (double)c->opts.restarts) &&
	     cJSON_AddNumberToObject(f, "max_iter", (double)c->opts.max_iter) &&
	     fin_json_add_exact(f, "tol", c->opts.tol) &&
	     cJSON_AddNumberToObject(f, "iterations", (double)c->km.iterations);
	if (ok && c->embedded)
		ok = cJSON_AddItemToObject(o, "embed", fin_model_to_json(&c->ae)) != 0;
	if (!ok) {
		if (!o)
			cJSON_Delete(f);
		cJSON_Delete(o);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	rc = fin_json_save(o, file, err);
	cJSON_Delete(o);
	return rc;
}

/* The clusters' sizes: k counts of rows. */
static int read_sizes(fin_clusterer *c, const cJSON *a, const fin_json_reader *r)
{
	const cJSON *e;
	size_t i = 0;
	int rc;

	if ((rc = fin_json_list(r, a, "sizes", c->km.k)) != FIN_OK)
		return rc;
	cJSON_ArrayForEach(e, a)
		if ((rc = fin_json_count(r, e, "sizes", (size_t)1 << 48, &c->km.sizes[i++])) != FIN_OK)
			return rc;
	return FIN_OK;
}

static int clusterer_from_json(fin_clusterer *c, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v, *centroids = fin_json_field(o, "centroids");
	size_t k, i;
	int rc;

	if ((rc = fin_json_header(r, o, FIN_CLUSTERER_FORMAT, FIN_CLUSTERER_SCHEMA)) != FIN_OK ||
	    (rc = fin_json_names(r, fin_json_field(o, "features"), "features", &c->feat,
				 &c->nfeat)) != FIN_OK ||
	    (rc = fin_json_names(r, fin_json_field(o, "keys"), "keys", &c->keys, &c->nkeys)) != FIN_OK ||
	    (rc = fin_json_count(r, fin_json_field(o, "k"), "k", 1 << 16, &k)) != FIN_OK ||
	    (rc = fin_json_count(r, fin_json_field(o, "dim"), "dim", 1 << 16, &c->dim)) != FIN_OK)
		return rc;
	if (k == 0 || c->dim == 0 || c->nfeat == 0 || c->nfeat > (1 << 16))
		return fin_json_bad(r, "k, dim or features", " are out of range");
	if ((rc = fin_encoding_read(&c->enc, o, c->feat, c->nfeat, r)) != FIN_OK)
		return rc;
	v = fin_json_field(o, "embed");
	c->embedded = v && !cJSON_IsNull(v);
	if (c->embedded) {
		if ((rc = fin_model_from_json(&c->ae, v, r)) != FIN_OK)
			return rc;
		if (c->ae.task != FIN_TASK_AUTOENCODER || c->ae.nfeat != c->nfeat ||
		    code_width(&c->ae) != c->dim)
			return fin_json_bad(r, "embed", " does not match the features and dim");
		for (i = 0; i < c->nfeat; i++)
			if (strcmp(c->ae.feat[i], c->feat[i]) != 0)
				return fin_json_bad(r, "embed", " does not match the features and dim");
	} else if (c->dim != c->nfeat) {
		return fin_json_bad(r, "dim", " differs from the number of features");
	}
	v = fin_json_field(o, "scaled");
	if (!cJSON_IsBool(v))
		return fin_json_bad(r, "scaled", " is missing");
	c->scaled = cJSON_IsTrue(v);
	if (c->scaled &&
	    ((rc = fin_json_read_doubles(r, fin_json_field(o, "mean"), "mean", c->dim,
					 -FIN_CENTRE_MAX, FIN_CENTRE_MAX, &c->mean)) != FIN_OK ||
	     (rc = fin_json_read_doubles(r, fin_json_field(o, "sd"), "sd", c->dim, FIN_SPREAD_MIN,
					 FIN_SPREAD_MAX, &c->sd)) != FIN_OK))
		return rc;
	/* k times dim centroids are allocated only once the file holds them. */
	if ((rc = fin_json_list(r, centroids, "centroids", k * c->dim)) != FIN_OK)
		return rc;
	c->km.k = k;
	c->km.d = c->dim;
	c->km.centroids = malloc(k * c->dim * sizeof *c->km.centroids);
	c->km.sizes = calloc(k, sizeof *c->km.sizes);
	if (!c->km.centroids || !c->km.sizes)
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if ((rc = fin_json_read_floats(r, centroids, "centroids", k * c->dim, c->km.centroids)) !=
		    FIN_OK ||
	    (rc = fin_json_read_doubles(r, fin_json_field(o, "centroids_raw"), "centroids_raw",
					k * c->nfeat, -DBL_MAX, DBL_MAX, &c->centroid_raw)) != FIN_OK ||
	    (rc = read_sizes(c, fin_json_field(o, "sizes"), r)) != FIN_OK ||
	    (rc = fin_json_real_or(r, o, "inertia", 0, DBL_MAX, NAN, &c->km.inertia)) != FIN_OK ||
	    (rc = fin_json_real_or(r, o, "silhouette", -1, 1, NAN, &c->silhouette)) != FIN_OK)
		return rc;
	return FIN_OK;
}

int fin_clusterer_load(fin_clusterer *c, const char *path, fin_err *err)
{
	fin_json_reader r = { path, "cluster", err };
	cJSON *o;
	int rc;

	memset(c, 0, sizeof *c);
	o = fin_json_load(&r);
	if (!o)
		return FIN_EMODEL;
	rc = clusterer_from_json(c, o, &r);
	cJSON_Delete(o);
	if (rc != FIN_OK) {
		if (err)
			err->code = FIN_EMODEL;
		fin_clusterer_free(c);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
