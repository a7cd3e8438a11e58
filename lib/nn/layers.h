/* Network layers, each with its forward and backward pass over a batch.
 * A sample is a [c][t] array of floats (channels by time steps, oldest step
 * first), a batch is [n][c][t]; a flat vector is [d][1]. */
#ifndef FIN_LAYERS_H
#define FIN_LAYERS_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

enum fin_layer_kind {
	FIN_L_DENSE,
	FIN_L_CONV1D,
	FIN_L_MAXPOOL,
	FIN_L_AVGPOOL,
	FIN_L_FLATTEN,
	FIN_L_DROPOUT,
	FIN_L_ACT,
	FIN_L_LSTM,
	FIN_L_GRU,
	FIN_L_LAYERNORM,
	FIN_L_ATTENTION,
	FIN_L_FF,
	FIN_L_POSENC,
	FIN_L_PATCH,
	FIN_L_SEQPOOL,
};

enum fin_act {
	FIN_ACT_LINEAR,
	FIN_ACT_RELU,
	FIN_ACT_LEAKY_RELU,
	FIN_ACT_TANH,
	FIN_ACT_SIGMOID,
	FIN_ACT_SOFTMAX,
};

/* Slope of leaky_relu below zero, as PyTorch's default. */
#define FIN_LEAKY_SLOPE 0.01f

typedef struct fin_layer {
	enum fin_layer_kind kind;
	enum fin_act act;        /* applied to the output (dense, conv1d, act) */
	size_t in_c, in_t;       /* per-sample input shape */
	size_t out_c, out_t;     /* per-sample output shape */
	size_t units;            /* dense outputs, conv1d filters, recurrent hidden size,
				  * ff hidden width */
	int seq;                 /* lstm, gru: output every step, not just the last */
	size_t kernel;           /* conv1d kernel width, pool width, patch length */
	size_t stride;           /* patch: steps between patches */
	int step;                /* dense applied at each step (a conv1d of kernel 1) */
	size_t heads;            /* attention heads */
	int causal;              /* attention: a step sees no later step */
	int last;                /* attention: only the newest step's output is read
				  * (a pool(last) follows through per-step layers),
				  * so only its query is computed: output [c][1] */
	int residual;            /* attention, ff: the input added to the output */
	int norm;                /* attention, ff: layer normalisation of the input
				  * before the branch (pre-norm) */
	int learned;             /* posenc: learned, not sinusoidal */
	int mean;                /* pool: the mean of the steps, not the last */
	int same;                /* conv1d: pad to keep the length */
	float rate;              /* dropout probability */
	size_t w, b;             /* offsets of weights and biases in the parameters */
	/* dense, in a job of ranks: backward copies its rows' inputs and
	 * output gradients here and leaves the weights' gradient to the job,
	 * which forms it from every rank's rows (nn/train.c) */
	float *share_x, *share_dy;
	size_t nweights, nbiases;

	/* Work space for a batch of up to the network's capacity. */
	float *cols;             /* conv1d: [n][in_c * kernel][out_t] */
	float *tmp;              /* lstm, gru: the gradients reaching h and c, and the biases' */
	uint16_t *arg;           /* maxpool: the winner's place in each output's window */
	float *mask;             /* dropout: kept / (1 - rate), or 0 */
	int masked;              /* dropout: the last forward pass used mask */
	/* lstm, gru, time-major: G gates (4 or 3), T steps, n samples */
	float *xt;               /* [T][n][in_c] the input */
	float *gates;            /* [T][n][G*units] gate values after activation */
	float *h;                /* [T+1][n][units] hidden states, h[0] = 0 */
	float *c;                /* lstm: [T+1][n][units] cell states; gru: [T][n][units] W_hn h + b_hn */
	float *dgx, *dgh;        /* [T][n][G*units] gradients at the gates' inputs */
	float *xhat;             /* layernorm, norm: [n][c][t] the input normalised at each step */
	float *rstd;             /* layernorm, norm: [n][t] 1 / sd over the channels at each step */
	/* attention, ff: token-major [n][t][c] copies for the GEMMs */
	float *tok;              /* [n][t][in_c] the input (normalised with norm) */
	/* attention: tq query steps, t or with last 1 */
	float *q, *dq;           /* attention: [n][tq][c] queries, their gradient */
	float *kv, *dkv;         /* attention: [n][t][2c] keys and values, their gradient */
	float *probs;            /* attention: [n][heads][tq][t] attention weights */
	float *ctx;              /* attention: [n][tq][c] the heads' outputs;
				  * ff: [n][t][units] the hidden values */
	float *dtok;             /* [n][tq][c] the gradient at the output */
	float *dmid;             /* ff: the gradient at the hidden values */
	float *dctx;             /* [n][t][c] the gradient at ctx (attention), then at
				  * tok; in forward the output's tokens */
	float *normed, *dnormed; /* norm: [n][c][t] the normalised input, its gradient */
	float *pe;               /* posenc(sin): [t][c] the encodings */
	float *w_hh_t;           /* [units][G*units] W_hh transposed, for the forward GEMMs */
	float *dxw;              /* conv1d, lstm, gru: dLoss/dx before it is laid out, so
				  * that backward leaves the forward pass's values as they
				  * were and may run again (per-row clipping runs it twice) */
} fin_layer;

const char *fin_act_name(enum fin_act a);
/* -1 when s names no activation. */
int fin_act_parse(const char *s);

/* Allocates the work space for batches of up to cap samples; 0 or -1. */
int fin_layer_reserve(fin_layer *l, size_t cap);
void fin_layer_release(fin_layer *l);

/* The layer as its architecture describes it (shapes, activation, places
 * of its parameters), without work space. */
fin_layer fin_layer_shape(const fin_layer *l);

/* y = layer(x) for n samples. Dropout is active only when training. */
void fin_layer_forward(fin_layer *l, const float *params, const float *x, float *y, size_t n,
		       int training, gsl_rng *rng);

/* Given dy = dLoss/dy (overwritten), adds dLoss/dparams into grads and
 * writes dLoss/dx into dx unless dx is NULL. x and y are the forward pass's. */
void fin_layer_backward(fin_layer *l, const float *params, float *grads, const float *x,
			const float *y, float *dy, float *dx, size_t n);

/* After fin_layer_backward of n samples, with dy as that call left it,
 * adds to sq[s] the squared L2 norm of sample s's own gradient of the
 * layer's parameters (its share of what backward added into grads): for
 * dense layers from the layer's inputs and output gradients, (|x_s|^2 + 1)
 * |dy_s|^2, without forming the gradient; for conv1d, lstm and gru layers
 * by forming each sample's gradient in work, fin_layer_row_work(l)
 * floats. */
void fin_layer_row_sq_norms(const fin_layer *l, const float *x, const float *dy, size_t n,
			    float *work, double *sq);
size_t fin_layer_row_work(const fin_layer *l);

/* Gates per unit of a recurrent layer: 4 for lstm, 3 for gru. */
size_t fin_layer_gates(const fin_layer *l);

/* Layer normalisation over the channels of [n][c][t] at each step, with
 * gamma and beta per channel; xhat [n][c][t] and rstd [n][t] kept for the
 * backward pass, which adds into ggamma and gbeta and writes dx unless
 * it is NULL. */
void fin_layernorm_forward(size_t c, size_t t, const float *gamma, const float *beta,
			   float *xhat, float *rstd, const float *x, float *y, size_t n);
void fin_layernorm_backward(size_t c, size_t t, const float *gamma, float *ggamma, float *gbeta,
			    const float *xhat, const float *rstd, const float *dy, float *dx,
			    size_t n);

/* Applies an activation in place to n rows of width d, and its backward:
 * dy *= act'(.) given the activation's output y. */
void fin_act_forward(enum fin_act a, float *y, size_t n, size_t d);
void fin_act_backward(enum fin_act a, const float *y, float *dy, size_t n, size_t d);

#endif
