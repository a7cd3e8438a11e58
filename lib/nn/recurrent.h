/* LSTM and GRU layers, as PyTorch's nn.LSTM and nn.GRU define them (gate
 * order i, f, g, o and r, z, n; two bias vectors), with backpropagation
 * through time. The input projections of many steps are one GEMM, each
 * step's recurrent product is one GEMM over the batch, and its gate
 * activations and state update one vectorised pass; backward, each step
 * is one pass and one GEMM, and the weight gradients of all steps one
 * GEMM each. */
#ifndef FIN_RECURRENT_H
#define FIN_RECURRENT_H

#include <stddef.h>

#include "nn/layers.h"

int fin_rnn_reserve(fin_layer *l, size_t cap);
void fin_rnn_forward(fin_layer *l, const float *params, const float *x, float *y, size_t n);
void fin_rnn_backward(fin_layer *l, const float *params, float *grads, const float *dy,
		      float *dx, size_t n);

/* See fin_layer_row_sq_norms and fin_layer_row_work. */
void fin_rnn_row_sq_norms(const fin_layer *l, size_t n, float *work, double *sq);
size_t fin_rnn_row_work(const fin_layer *l);

#endif
