#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "json_file.h"
#include "version.h"

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

int fin_detector_save(const fin_detector *d, const char *path, fin_err *err)
{
	cJSON *o = detector_json(d);
	int rc = o ? fin_json_save(o, path, err) : fin_fail(err, FIN_EDATA, "out of memory");

	cJSON_Delete(o);
	return rc;
}

static int read_positive(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			 double **out)
{
	size_t i;
	int rc = fin_json_read_doubles(r, a, what, n, out);

	for (i = 0; rc == FIN_OK && i < n; i++)
		if (!((*out)[i] > 0))
			rc = fin_json_bad(r, what, " holds a value that is not above 0");
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

static int detector_from_json(fin_detector *d, const cJSON *o, const fin_json_reader *r)
{
	const cJSON *v;
	size_t p, i, j;
	int kind, rc;
	fin_err why = { 0 };

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
	v = fin_json_field(o, "threshold");
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return fin_json_bad(r, "threshold", " is missing or not finite");
	d->threshold = v->valuedouble;
	d->contamination = fin_json_number_or(o, "contamination", NAN);
	d->rows_fit = (size_t)fin_json_number_or(o, "rows_fit", 0);
	switch (d->method) {
	case FIN_DET_ZSCORE:
		if ((rc = fin_json_read_doubles(r, fin_json_field(o, "median"), "median", p,
						&d->center)) != FIN_OK ||
		    (rc = read_positive(r, fin_json_field(o, "scale"), "scale", p, &d->scale)) != FIN_OK)
			return rc;
		break;
	case FIN_DET_MAHALANOBIS:
		if ((rc = fin_json_read_doubles(r, fin_json_field(o, "mean"), "mean", p, &d->center)) !=
			    FIN_OK ||
		    (rc = fin_json_read_doubles(r, fin_json_field(o, "covariance"), "covariance", p * p,
						&d->cov)) != FIN_OK)
			return rc;
		for (i = 0; i < p; i++)
			for (j = 0; j < i; j++)
				if (d->cov[i * p + j] != d->cov[j * p + i])
					return fin_json_bad(r, "covariance", " is not symmetric");
		d->shrinkage = fin_json_number_or(o, "shrinkage", NAN);
		/* Cholesky fails unless the matrix is positive definite. */
		if (fin_detector_whiten(d) != 0)
			return fin_json_bad(r, "covariance", " is not positive definite");
		break;
	case FIN_DET_IFOREST:
		d->trees = (size_t)fin_json_number_or(o, "trees", 0);
		d->sample = (size_t)fin_json_number_or(o, "sample", 0);
		d->seed = (unsigned long)fin_json_number_or(o, "seed", 0);
		if (fin_iforest_from_json(&d->forest, fin_json_field(o, "forest"), p, &why) != FIN_OK)
			return fin_json_bad(r, "", why.msg);
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
	rc = detector_from_json(d, o, &r);
	cJSON_Delete(o);
	if (rc != FIN_OK) {
		if (err)
			err->code = FIN_EMODEL;
		fin_detector_free(d);
		return FIN_EMODEL;
	}
	return FIN_OK;
}
