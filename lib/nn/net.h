/* A feed-forward network: a chain of layers built from an architecture
 * string, with all parameters and gradients each in one contiguous buffer. */
#ifndef FIN_NET_H
#define FIN_NET_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "core/err.h"
#include "nn/layers.h"

typedef struct fin_net {
	fin_layer *layers;
	size_t nlayers;
	size_t in_c, in_t;     /* per-sample input shape */
	size_t out_size;       /* outputs per sample */
	size_t nparams;
	float *params, *grads;

	size_t cap;            /* batch capacity of the work buffers */
	const float **act;     /* act[0] the input, act[i + 1] the output of layer i */
	float **out;           /* out[i] the buffer of layer i's output; a flatten
				* layer has none, its output is its input */
	float *dbuf[2];        /* gradients flowing back, [cap][widest layer] */
	gsl_rng *rng;          /* for dropout */
	int borrowed;          /* params belong to another network (a replica) */
} fin_net;

/* The largest network fin builds: its parameters, and the values one of
 * its layers holds for one sample (its output, a conv1d's input columns, a
 * recurrent layer's gates over every step). */
#define FIN_NET_MAX_PARAMS ((size_t)1 << 24)
#define FIN_NET_MAX_WIDTH ((size_t)1 << 22)

/* Builds the network an architecture string describes, for samples of
 * shape [in_c][in_t], checking every layer's shape. Layers are separated by
 * blanks: dense(units[,act][,step]), conv1d(filters,kernel[,act][,same|valid]),
 * lstm(units[,seq]), gru(units[,seq]), maxpool(k), avgpool(k), flatten,
 * layernorm, dropout(p), attention(heads[,causal][,residual][,norm]),
 * ff(units[,act][,residual][,norm]), encoder(heads,ff[,act][,norm_first]
 * [,causal]) (expanded into the layers it stands for), posenc(sin|learned),
 * patch(len[,stride]), pool(last|mean), and the activations relu,
 * leaky_relu, tanh, sigmoid, linear, softmax. Parameters start at zero.
 * A bad architecture, or one beyond the limits above (checked before
 * anything is allocated), is FIN_EUSAGE, naming the layer. */
int fin_net_build(fin_net *net, const char *arch, size_t in_c, size_t in_t, fin_err *err);
void fin_net_free(fin_net *net);

/* Undoes fin_net_build's reading of an attention layer at its newest step
 * alone (before a pool(last)): every attention layer computes the query of
 * every step, and the layers up to the pool work on every step, as the
 * architecture reads; the outputs stay the same. Before fin_net_reserve. */
void fin_net_read_every_step(fin_net *net);

/* The architecture of a named preset (cnn, mlp, lstm, gru, transformer,
 * patchtst, linear,
 * logistic, softmax, autoencoder with a bottleneck of that width) ending
 * in outputs units, in buf; NULL for an unknown name. */
const char *fin_net_preset(const char *name, size_t outputs, size_t bottleneck, char *buf,
			   size_t len);

/* Copies arch into buf with dropout(p) after every layer with weights
 * (dense, conv1d, lstm, gru) but the last; -1 when buf is too small. */
int fin_net_with_dropout(const char *arch, float p, char *buf, size_t len);

/* Writes the canonical architecture string (as fin_net_build reads it). */
int fin_net_arch(const fin_net *net, char *buf, size_t len);

/* He initialisation (normal) before relu-like activations, Glorot
 * (uniform) elsewhere, biases zero; lstm and gru as PyTorch, all from
 * U(-1/sqrt(units), 1/sqrt(units)). Drawn from GSL's MT19937 with seed,
 * which also drives dropout. */
int fin_net_init(fin_net *net, unsigned long seed);

/* Makes rep a replica of net for another thread: the same layers and
 * parameters (net's, read while rep computes), its own gradients, work
 * space and dropout generator, seeded with seed. Freed by fin_net_free,
 * which leaves net's parameters alone. 0, or -1 without memory. */
int fin_net_replica(fin_net *rep, const fin_net *net, unsigned long seed);

/* Makes room for batches of up to cap samples: 0, or -1 without memory. */
int fin_net_reserve(fin_net *net, size_t cap);

/* Runs n samples x ([n][in_c][in_t], kept until backward) through the
 * network; returns the outputs, [n][out_size], valid until the next call. */
const float *fin_net_forward(fin_net *net, const float *x, size_t n, int training);

/* Back-propagates dout = dLoss/doutput of the last forward pass, adding
 * into net->grads; writes dLoss/dx into dx unless it is NULL. */
void fin_net_backward(fin_net *net, const float *dout, float *dx, size_t n);

/* Per-row gradients, for differentially private training: back-propagates
 * dout as fin_net_backward does, but into grads (nparams floats, added
 * into) instead of net->grads, and adds to sq[s] the squared L2 norm of
 * sample s's own gradient of every parameter; work holds
 * fin_net_row_work(net) floats. The forward pass's values stay as they
 * were, so that fin_net_backward may follow on the same pass. */
void fin_net_backward_rows(fin_net *net, const float *dout, size_t n, float *grads, float *work,
			   double *sq);
size_t fin_net_row_work(const fin_net *net);

#endif
