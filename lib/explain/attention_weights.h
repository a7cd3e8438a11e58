/* Attention weights: for each row, each attention layer of a network and
 * each of its heads, the softmax weights of a query step over the key
 * steps, as the layer computes them in an inference pass. The steps are
 * those of the layer's input: the window's, or patches after a patch
 * layer. See fin-explain(1). */
#ifndef FIN_ATTENTION_WEIGHTS_H
#define FIN_ATTENTION_WEIGHTS_H

#include <stddef.h>

#include "core/err.h"
#include "nn/net.h"

/* Which queries: the newest step's (what pool(last) reads), the mean over
 * every step's, or every step's. */
enum fin_query { FIN_QUERY_LAST, FIN_QUERY_MEAN, FIN_QUERY_ALL };

/* -1 when s is none of last, mean and all. */
int fin_query_parse(const char *s);

/* The attention layers of a network. */
size_t fin_attention_layers(const fin_net *net);

typedef struct fin_attention_weights {
	enum fin_query query;
	size_t nattn;       /* attention layers */
	size_t *at;         /* [nattn] their places in the network */
	size_t steps;       /* key steps written: the most of any attention layer */
	char **names;       /* [steps] the key steps' names, the newest first: the
			     * lag ("0", "1", ...) when every attention layer reads
			     * the window's steps, patch_<k> when every one reads the
			     * same patches, step_<k> otherwise */
	size_t rows;        /* weight rows of a sample */
	size_t *layer;      /* [rows] the attention layer, 1 the first */
	size_t *head;       /* [rows] the head, 1 the first */
	size_t *qstep;      /* [rows] FIN_QUERY_ALL: the query step, 0 the newest */
	int newest_read;    /* the network reads its last attention layer at the
			     * newest step alone (through pool(last), or of one
			     * step) */
} fin_attention_weights;

/* What the weights of net's attention layers are written as, for query.
 * The mean and every step's queries are computed by every layer, also by
 * one that a pool(last) reads at its newest step alone
 * (fin_net_read_every_step): before the network is reserved. FIN_EDATA
 * when out of memory. */
int fin_attention_weights_make(fin_attention_weights *a, fin_net *net, enum fin_query query,
			       fin_err *err);
void fin_attention_weights_free(fin_attention_weights *a);

/* The weights at n standardised rows z ([n][in]), into w
 * ([n][a->rows][a->steps], the newest key step first; NaN at the steps a
 * layer of fewer steps lacks). Each row of weights sums to 1. FIN_EDATA
 * when out of memory. */
int fin_attention_weights_compute(const fin_attention_weights *a, fin_net *net, const float *z,
				  size_t n, float *w, fin_err *err);

#endif
