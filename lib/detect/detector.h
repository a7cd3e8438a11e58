/* Anomaly detectors: fitted once on history, then used to score new rows.
 * Scores grow with how unusual a row is; rows above the threshold are
 * flagged. Stored as JSON in the fin-model family, see fin-anomaly(1). */
#ifndef FIN_DETECTOR_H
#define FIN_DETECTOR_H

#include <stddef.h>

#include "core/err.h"
#include "detect/iforest.h"
#include "nn/model.h"

#define FIN_DETECTOR_FORMAT "fin-detector"
#define FIN_DETECTOR_SCHEMA 1

enum fin_method { FIN_DET_ZSCORE, FIN_DET_MAHALANOBIS, FIN_DET_IFOREST, FIN_DET_AUTOENCODER,
		  FIN_DET_GAN };

typedef struct fin_detector_opts {
	enum fin_method method;
	double contamination;  /* share of fitted rows above the threshold */
	double threshold;      /* used as given unless NaN */
	double shrinkage;      /* mahalanobis: NaN for the Ledoit-Wolf estimate */
	size_t trees, sample;  /* iforest */
	unsigned long seed;
} fin_detector_opts;

typedef struct fin_detector {
	enum fin_method method;
	char **feat;           /* features, in order */
	size_t nfeat;
	fin_encoding enc;      /* the input columns that make them, when some are
				* text (empty: each feature is a number column) */
	char **keys;
	size_t nkeys;
	double threshold, contamination; /* contamination NaN when the threshold was given */
	size_t rows_fit;

	double *center, *scale; /* zscore: median and robust scale; mahalanobis: mean */
	double *cov;           /* mahalanobis: shrunk covariance [d][d] */
	double shrinkage;
	float *whiten;         /* mahalanobis: L^-1 of cov = L L^T, [d][d] */
	fin_iforest forest;
	size_t trees, sample;
	unsigned long seed;
	fin_model ae;          /* autoencoder */
	fin_model gan;         /* gan: a model whose discriminator gives the score */
	float *work;           /* scratch for scoring */
	double *fit_scores;    /* after fit: the fitted rows' scores, in order */
} fin_detector;

const char *fin_method_name(enum fin_method m);
int fin_method_parse(const char *s); /* -1 when unknown */

/* Fits d (whose feat, keys and, for an autoencoder or a GAN, ae or gan
 * are set) on raw features x [n][nfeat], then sets the threshold from the
 * fitted rows' scores, which it keeps in fit_scores. A GAN's score is
 * 1 - D(x), D(x) the discriminator's sigmoid on the standardised row. */
int fin_detector_fit(fin_detector *d, const float *x, size_t n, const fin_detector_opts *o,
		     fin_err *err);

/* Scores n rows of raw features x [n][nfeat]. */
int fin_detector_score(fin_detector *d, const float *x, size_t n, double *score, fin_err *err);

void fin_detector_free(fin_detector *d);

/* Factors the Mahalanobis covariance, cov = L L^T, and keeps L^-1 for
 * scoring; -1 unless cov is positive definite. */
int fin_detector_whiten(fin_detector *d);

/* zscore: a column's robust scale from the median absolute deviation
 * from its median, or when that is 0 from the sum of those deviations over
 * its n rows (more than half the values equal), or 1 (all equal). */
double fin_zscore_scale(double mad, double deviations, size_t n);

/* Mahalanobis: the covariance from the co-moments [nfeat][nfeat] (sums of
 * (x - mean)(x - mean)^T) of n rows, whose |x - mean|^4 sum to s4, shrunk
 * by shrinkage (NaN: the Ledoit-Wolf estimate), then factored; -1 unless
 * it is positive definite (or out of memory). d->center is the caller's. */
int fin_detector_set_covariance(fin_detector *d, const double *comoment, size_t n, double s4,
				double shrinkage);

/* Sets the threshold from the fitted rows' scores: the (1 - contamination)
 * quantile of score[n], unless o gives one. */
void fin_detector_set_threshold(fin_detector *d, double at_r, double next, size_t n,
				const fin_detector_opts *o);

/* Writes the detector as JSON to f (fin_out_file_commit makes it final). */
int fin_detector_save(const fin_detector *d, fin_out_file *f, fin_err *err);
/* Reads and checks a detector file; anything unusable is FIN_EMODEL. */
int fin_detector_load(fin_detector *d, const char *path, fin_err *err);
/* The same from the file's parsed object o, read by r. */
struct cJSON;
struct fin_json_reader;
int fin_detector_from_json(fin_detector *d, const struct cJSON *o, const struct fin_json_reader *r);

#endif
