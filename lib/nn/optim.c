#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "nn/optim.h"

static const char *const names[] = { "sgd", "adam", "adamw", "rmsprop" };

const char *fin_optim_name(enum fin_optim_kind k)
{
	return names[k];
}

int fin_optim_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int fin_optim_init(fin_optim *o, enum fin_optim_kind kind, float lr, size_t n)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->lr = lr;
	o->momentum = 0.9f;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->alpha = 0.99f;
	o->eps = 1e-8f;
	o->n = n;
	o->m = calloc(n ? n : 1, sizeof *o->m);
	o->v = calloc(n ? n : 1, sizeof *o->v);
	return o->m && o->v ? 0 : -1;
}

void fin_optim_free(fin_optim *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

/* Scales grads so that their global L2 norm is at most clip, as
 * torch.nn.utils.clip_grad_norm_ does. */
static void clip_norm(float *g, size_t n, float clip)
{
	double sum = 0;
	float norm, scale;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)g[i] * g[i];
	norm = (float)sqrt(sum);
	scale = clip / (norm + 1e-6f);
	if (scale < 1)
		for (i = 0; i < n; i++)
			g[i] *= scale;
}

void fin_optim_clip(const fin_optim *o, float *g)
{
	if (o->clip > 0)
		clip_norm(g, o->n, o->clip);
}

void fin_optim_step(fin_optim *o, float *restrict p, float *restrict g)
{
	fin_optim_clip(o, g);
	fin_optim_count(o);
	fin_optim_update(o, p, g, 0, o->n);
}

void fin_optim_count(fin_optim *o)
{
	o->step++;
}

/* The update runs over every parameter at every step, and divisions and
 * square roots bound it (see core/clones.h). */
FIN_CLONES
void fin_optim_update(const fin_optim *o, float *params, float *grads, size_t from, size_t to)
{
	/* Local restrict pointers and constants let the loops vectorise. */
	float *restrict p = params + from, *restrict g = grads + from;
	float *restrict m = o->m + from, *restrict v = o->v + from;
	const float lr = o->lr, l2 = o->l2, eps = o->eps, b1 = o->beta1, b2 = o->beta2;
	size_t i, n = to - from;

	switch (o->kind) {
	case FIN_OPT_SGD: {
		const float mu = o->step == 1 ? 0 : o->momentum;
		for (i = 0; i < n; i++) {
			m[i] = mu * m[i] + g[i] + l2 * p[i];
			p[i] -= lr * m[i];
		}
		break;
	}
	case FIN_OPT_ADAM:
	case FIN_OPT_ADAMW: {
		const float bc1 = 1 - powf(b1, (float)o->step);
		const float bc2_sqrt = sqrtf(1 - powf(b2, (float)o->step));
		const float step = lr / bc1, coupled = o->kind == FIN_OPT_ADAM ? l2 : 0;
		const float decay = o->kind == FIN_OPT_ADAMW ? 1 - lr * l2 : 1;
		for (i = 0; i < n; i++) {
			float d = g[i] + coupled * p[i];
			p[i] *= decay;
			m[i] = b1 * m[i] + (1 - b1) * d;
			v[i] = b2 * v[i] + (1 - b2) * d * d;
			p[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
		}
		break;
	}
	case FIN_OPT_RMSPROP: {
		const float alpha = o->alpha;
		for (i = 0; i < n; i++) {
			float d = g[i] + l2 * p[i];
			v[i] = alpha * v[i] + (1 - alpha) * d * d;
			p[i] -= lr * d / (sqrtf(v[i]) + eps);
		}
		break;
	}
	}
}
