/* A fitted segmentation: k-means in a space made from the input columns
 * (standardised, or an autoencoder's code), with what is needed to place
 * new rows. Stored as JSON in the fin-model family, see fin-cluster(1). */
#ifndef FIN_CLUSTERER_H
#define FIN_CLUSTERER_H

#include <stddef.h>

#include "cluster/kmeans.h"
#include "core/err.h"
#include "nn/model.h"

#define FIN_CLUSTERER_FORMAT "fin-cluster"
#define FIN_CLUSTERER_SCHEMA 1

typedef struct fin_clusterer {
	char **feat;          /* features, in order */
	size_t nfeat;
	fin_encoding enc;     /* the input columns that make them, when some are
			       * text (empty: each feature is a number column) */
	char **keys;
	size_t nkeys;
	int embedded;         /* the space is ae's code */
	fin_model ae;
	size_t dim;           /* width of the clustered space */
	int scaled;           /* the space is standardised */
	double *mean, *sd;    /* [dim] that standardisation, fitted on the fitted rows */
	fin_kmeans km;        /* centroids in the clustered space */
	double *centroid_raw; /* [k][nfeat] mean input values of each cluster's rows */
	fin_kmeans_opts opts; /* how it was fitted */
	double silhouette;    /* of the fitted rows, NaN when not computed */
	float *work;          /* scratch */
	size_t work_rows;
} fin_clusterer;

/* Sets the width of the clustered space (dim) and makes room for its
 * standardisation, unscaled for now: fin_clusterer_map then gives the
 * rows, or their code, as they are. */
int fin_clusterer_space(fin_clusterer *c, fin_err *err);

/* Sets up the space for n raw rows x [n][nfeat] (c->feat, embedded and ae
 * set): fits the standardisation when scale is set, and writes the rows in
 * that space to *space ([n][dim], a new buffer). */
int fin_clusterer_prepare(fin_clusterer *c, const float *x, size_t n, int scale, float **space,
			  fin_err *err);

/* Maps n raw rows into the clustered space, out [n][dim]. */
int fin_clusterer_map(fin_clusterer *c, const float *x, size_t n, float *out, fin_err *err);

/* After fitting, the mean raw input of each cluster's rows. */
int fin_clusterer_describe(fin_clusterer *c, const float *x, size_t n, const int *assign,
			   fin_err *err);

/* The description fin_clusterer_describe makes, from rows that come in
 * batches with their clusters and distances (fitting in passes): the mean
 * raw input, size and inertia of each cluster. */
typedef struct fin_cluster_tally {
	double *raw;   /* [k][nfeat] sums */
	size_t *count; /* [k] */
	double inertia;
} fin_cluster_tally;

int fin_cluster_tally_init(fin_cluster_tally *t, const fin_clusterer *c, fin_err *err);
void fin_cluster_tally_add(fin_cluster_tally *t, const fin_clusterer *c, const float *x, size_t n,
			   const int *cluster, const double *distance);
/* Sets c's centroid_raw, km.sizes and km.inertia, and frees t. */
void fin_cluster_tally_finish(fin_cluster_tally *t, fin_clusterer *c);
void fin_cluster_tally_free(fin_cluster_tally *t);

void fin_clusterer_free(fin_clusterer *c);

/* Writes the clusters as JSON to f (fin_out_file_commit makes it final). */
int fin_clusterer_save(const fin_clusterer *c, fin_out_file *f, fin_err *err);
int fin_clusterer_load(fin_clusterer *c, const char *path, fin_err *err);

#endif
