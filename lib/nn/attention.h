/* The transformer's layers: multi-head self-attention, the position-wise
 * feed-forward block, positional encodings, patches and sequence pooling.
 * Called through fin_layer_forward and fin_layer_backward. */
#ifndef FIN_ATTENTION_H
#define FIN_ATTENTION_H

#include "nn/layers.h"

int fin_tf_reserve(fin_layer *l, size_t cap);

void fin_attention_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n);
void fin_attention_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx,
			    size_t n);

void fin_ff_forward(fin_layer *l, const float *p, const float *x, float *y, size_t n);
void fin_ff_backward(fin_layer *l, const float *p, float *g, const float *dy, float *dx,
		     size_t n);

void fin_posenc_forward(const fin_layer *l, const float *p, const float *x, float *y, size_t n);
void fin_posenc_backward(const fin_layer *l, float *g, const float *dy, float *dx, size_t n);

void fin_patch_forward(const fin_layer *l, const float *x, float *y, size_t n);
void fin_patch_backward(const fin_layer *l, const float *dy, float *dx, size_t n);

void fin_seqpool_forward(const fin_layer *l, const float *x, float *y, size_t n);
void fin_seqpool_backward(const fin_layer *l, const float *dy, float *dx, size_t n);

/* Squared norms of each sample's own gradient of the layer's parameters
 * (attention, ff, posenc), added to sq[s], after fin_layer_backward; work
 * holds fin_tf_row_work(l) floats. */
void fin_tf_row_sq_norms(const fin_layer *l, const float *dy, size_t n, float *work, double *sq);
size_t fin_tf_row_work(const fin_layer *l);

/* The sinusoidal encoding of step t, channel c of d channels. */
float fin_posenc_sin(size_t t, size_t c, size_t d);

#endif
