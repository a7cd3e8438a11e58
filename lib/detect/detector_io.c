#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "detect/detector.h"
#include "io/json_file.h"

static cJSON *detector_json(const fin_detector *d)
{
	cJSON *o = cJSON_CreateObject();
	size_t p = d->nfeat;
	int ok;

	ok = o && cJSON_AddStringToObject(o, "format", FIN_DETECTOR_FORMAT) &&
	     cJSON_AddNumberToObject(o, "schema_version", FIN_DETECTOR_SCHEMA) &&
	     cJSON_AddStringToObject(o, "tool_version", FIN_VERSION) &&
	     cJSON_AddStringToObject(o, "method", fin_method_name(d->method)) &&
	     cJSON_AddItemToObject(o, "features", fin_json_strings(d->feat, p)) &&
	     fin_encoding_add(o, &d->enc) &&
	     cJSON_AddItemToObject(o, "keys", fin_json_strings(d->keys, d->nkeys)) &&
	     fin_json_add_exact(o, "threshold", d->threshold) &&
	     fin_json_add_exact(o, "contamination", d->contamination) &&
	     cJSON_AddNumberToObject(o, "rows_fit", (double)d->rows_fit);
	switch (d->method) {
	case FIN_DET_ZSCORE:
		ok = ok && cJSON_AddItemToObject(o, "median", fin_json_doubles(d->center, p)) &&
		     cJSON_AddItemToObject(o, "scale", fin_json_doubles(d->scale, p));
		break;
	case FIN_DET_MAHALANOBIS:
		ok = ok && cJSON_AddItemToObject(o, "mean", fin_json_doubles(d->center, p)) &&
		     cJSON_AddItemToObject(o, "covariance", fin_json_doubles(d->cov, p * p)) &&
		     fin_json_add_exact(o, "shrinkage", d->shrinkage);
		break;
	case FIN_DET_IFOREST:
		ok = ok && cJSON_AddNumberToObject(o, "trees", (double)d->trees) &&
		     cJSON_AddNumberToObject(o, "sample", (double)d->sample) &&
		     cJSON_AddNumberToObject(o, "seed", (double)d->seed) &&
		     cJSON_AddItemToObject(o, "forest", fin_iforest_to_json(&d->forest));
		break;
	case FIN_DET_AUTOENCODER:
		ok = ok && cJSON_AddItemToObject(o, "model", fin_model_to_json(&d->ae));
		break;
	case FIN_DET_GAN:
		ok = ok && cJSON_AddItemToObject(o, "model", fin_model_to_json(&d->gan));
		break;
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_detector_save(const fin_detector *d, fin_out_file *f, fin_err *err)
{
	cJSON *o = detector_json(d);
	int rc = fin_json_save(o, f, err);

	cJSON_Delete(o);
	return rc;
}

/* True when model m reads exactly the features of d, in order. */
static int same_features(const fin_detector *d, const fin_model *m)
{
	size_t j;

	if (m->nfeat != d->nfeat)
		return 0;
	for (j = 0; j < d->nfeat; j++)
		if (strcmp(m->feat[j], d->feat[j]) != 0)
			return 0;
	return 1;
}

/* The covariance of data within the bounds of a centre and a spread:
 * variances from FIN_SPREAD_MIN^2 to FIN_SPREAD_MAX^2, symmetric. */
static int read_covariance(fin_detector *d, const cJSON *a, const fin_json_reader *r)
{
	const double most = FIN_SPREAD_MAX * FIN_SPREAD_MAX;
	size_t p = d->nfeat, i, j;
	int rc;

	if ((rc = fin_json_read_doubles(r, a, "covariance", p * p, -most, most, &d->cov)) != FIN_OK)
		return rc;
	for (i = 0; i < p; i++) {
		if (!(d->cov[i * p + i] > 0))
			return fin_json_bad(r, "covariance", " is not positive definite");
		if (d->cov[i * p + i] < FIN_SPREAD_MIN * FIN_SPREAD_MIN)
			return fin_json_bad(r, "covariance", " holds a variance below 1e-60");
		for (j = 0; j < i; j++)
			if (d->cov[i * p + j] != d->cov[j * p + i])
				return fin_json_bad(r, "covariance", " is not symmetric");
	}
	/* Cholesky fails unless the matrix is positive definite. */
	if (fin_detector_whiten(d) != 0)
		return fin_json_bad(r, "covariance", " is not positive definite");
	for (i = 0; i < p * p; i++)
		if (!isfinite(d->whiten[i]))
			return fin_json_bad(r, "covariance", " is too close to singular");
	return FIN_OK;
}

/* The isolation forest and what it was asked for: as many trees, and a
 * subsample at least the one each tree was grown on. */
static int forest_from_json(fin_detector *d, const cJSON *o, const fin_json_reader *r)
{
	fin_err why = { 0 };
	size_t seed;
	int rc;

	if ((rc = fin_json_count(r, fin_json_field(o, "trees"), "trees", FIN_IFOREST_MAX_TREES,
				 &d->trees)) != FIN_OK ||
	    (rc = fin_json_count(r, fin_json_field(o, "sample"), "sample", FIN_IFOREST_MAX_SAMPLE,
				 &d->sample)) != FIN_OK ||
	    (rc = fin_json_count(r, fin_json_field(o, "seed"), "seed", ULONG_MAX, &seed)) != FIN_OK)
		return rc;
	d->seed = (unsigned long)seed;
	if (fin_iforest_from_json(&d->forest, fin_json_field(o, "forest"), d->nfeat, &why) != FIN_OK)
		return fin_json_bad(r, "", why.msg);
	if (d->forest.ntrees != d->trees || d->forest.sample > d->sample)
		return fin_json_bad(r, "forest", " does not match trees and sample");
	return FIN_OK;
}

static int detector_from_json(fin_detector *d, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v;
	size_t p;
	int kind, rc;

	if ((rc = fin_json_header(r, o, FIN_DETECTOR_FORMAT, FIN_DETECTOR_SCHEMA)) != FIN_OK)
		return rc;
	v = fin_json_field(o, "method");
	if (!cJSON_IsString(v) || (kind = fin_method_parse(v->valuestring)) < 0)
		return fin_json_bad(r, "method", " is missing or unknown");
	d->method = (enum fin_method)kind;
	if ((rc = fin_json_names(r, fin_json_field(o, "features"), "features", &d->feat,
				 &d->nfeat)) != FIN_OK ||
	    (rc = fin_json_names(r, fin_json_field(o, "keys"), "keys", &d->keys, &d->nkeys)) != FIN_OK)
		return rc;
	p = d->nfeat;
	if (p == 0 || p > 4096)
		return fin_json_bad(r, "features", " are missing or too many");
	if ((rc = fin_encoding_read(&d->enc, o, d->feat, p, r)) != FIN_OK)
		return rc;
	if ((rc = fin_json_real(r, fin_json_field(o, "threshold"), "threshold", -DBL_MAX, DBL_MAX,
				&d->threshold)) != FIN_OK ||
	    (rc = fin_json_real_or(r, o, "contamination", 0, 1, NAN, &d->contamination)) != FIN_OK ||
	    (rc = fin_json_count_or(r, o, "rows_fit", (size_t)1 << 53, 0, &d->rows_fit)) != FIN_OK)
		return rc;
	switch (d->method) {
	case FIN_DET_ZSCORE:
		if ((rc = fin_json_read_doubles(r, fin_json_field(o, "median"), "median", p,
						-FIN_CENTRE_MAX, FIN_CENTRE_MAX, &d->center)) != FIN_OK ||
		    (rc = fin_json_read_doubles(r, fin_json_field(o, "scale"), "scale", p,
						FIN_SPREAD_MIN, FIN_SPREAD_MAX, &d->scale)) != FIN_OK)
			return rc;
		break;
	case FIN_DET_MAHALANOBIS:
		if ((rc = fin_json_read_doubles(r, fin_json_field(o, "mean"), "mean", p,
						-FIN_CENTRE_MAX, FIN_CENTRE_MAX, &d->center)) != FIN_OK ||
		    (rc = fin_json_real_or(r, o, "shrinkage", 0, 1, NAN, &d->shrinkage)) != FIN_OK ||
		    (rc = read_covariance(d, fin_json_field(o, "covariance"), r)) != FIN_OK)
			return rc;
		break;
	case FIN_DET_IFOREST:
		if ((rc = forest_from_json(d, o, r)) != FIN_OK)
			return rc;
		break;
	case FIN_DET_AUTOENCODER:
		if ((rc = fin_model_from_json(&d->ae, fin_json_field(o, "model"), r)) != FIN_OK)
			return rc;
		if (d->ae.task != FIN_TASK_AUTOENCODER || !same_features(d, &d->ae))
			return fin_json_bad(r, "model", " is not an autoencoder of the features");
		break;
	case FIN_DET_GAN:
		if ((rc = fin_model_from_json(&d->gan, fin_json_field(o, "model"), r)) != FIN_OK)
			return rc;
		if (d->gan.task != FIN_TASK_GAN || !same_features(d, &d->gan))
			return fin_json_bad(r, "model", " is not a GAN of the features");
		break;
	}
	return FIN_OK;
}

int fin_detector_load(fin_detector *d, const char *path, fin_err *err)
{
	fin_json_reader r = { path, "detector", err };
	cJSON *o;
	int rc;

	memset(d, 0, sizeof *d);
	o = fin_json_load(&r);
	if (!o)
		return FIN_EMODEL;
	rc = fin_detector_from_json(d, o, &r);
	cJSON_Delete(o);
	return rc;
}

int fin_detector_from_json(fin_detector *d, const cJSON *o, const fin_json_reader *r)
{
	int rc;

	memset(d, 0, sizeof *d);
	rc = detector_from_json(d, o, r);
	if (rc != FIN_OK) {
		if (r->err)
			r->err->code = FIN_EMODEL;
		fin_detector_free(d);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
