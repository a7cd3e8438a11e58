/* Optimizers over one flat parameter buffer, as PyTorch defines them. */
#ifndef FIN_OPTIM_H
#define FIN_OPTIM_H

#include <stddef.h>

enum fin_optim_kind { FIN_OPT_SGD, FIN_OPT_ADAM, FIN_OPT_ADAMW, FIN_OPT_RMSPROP };

typedef struct fin_optim {
	enum fin_optim_kind kind;
	float lr;
	float momentum;      /* sgd */
	float beta1, beta2;  /* adam, adamw */
	float alpha;         /* rmsprop smoothing */
	float eps;
	float l2;            /* L2 penalty added to the gradient; for adamw, decoupled decay */
	float clip;          /* largest global gradient norm, 0 for none */
	size_t n;
	long step;
	float *m, *v;        /* moments (sgd: momentum buffer in m) */
} fin_optim;

const char *fin_optim_name(enum fin_optim_kind k);
int fin_optim_parse(const char *s); /* -1 when unknown */

/* Sets PyTorch's defaults for kind (betas 0.9/0.999, alpha 0.99, eps 1e-8,
 * momentum 0.9 for sgd) and allocates moments for n parameters; 0 or -1. */
int fin_optim_init(fin_optim *o, enum fin_optim_kind kind, float lr, size_t n);
void fin_optim_free(fin_optim *o);

/* One update of params from grads (grads may be scaled by clipping). */
void fin_optim_step(fin_optim *o, float *restrict params, float *restrict grads);

/* The same in parts, for threads that share the parameters: the gradient
 * clipped to its global norm (when clip is set), the step counted once,
 * then the update of params[from, to) from grads[from, to), each part by
 * any thread. The parts of a step give the same bits as the whole. */
void fin_optim_clip(const fin_optim *o, float *grads);
void fin_optim_count(fin_optim *o);
void fin_optim_update(const fin_optim *o, float *params, float *grads, size_t from, size_t to);

#endif
