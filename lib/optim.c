#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"

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

void fin_optim_step(fin_optim *o, float *p, float *g)
{
	size_t i;

	if (o->clip > 0)
		clip_norm(g, o->n, o->clip);
	o->step++;
	switch (o->kind) {
	case FIN_OPT_SGD:
		for (i = 0; i < o->n; i++) {
			float d = g[i] + o->l2 * p[i];
			o->m[i] = o->step == 1 ? d : o->momentum * o->m[i] + d;
			p[i] -= o->lr * o->m[i];
		}
		break;
	case FIN_OPT_ADAM:
	case FIN_OPT_ADAMW: {
		float bc1 = 1 - powf(o->beta1, (float)o->step);
		float bc2_sqrt = sqrtf(1 - powf(o->beta2, (float)o->step));
		float step = o->lr / bc1, l2 = o->kind == FIN_OPT_ADAM ? o->l2 : 0;
		float decay = o->kind == FIN_OPT_ADAMW ? 1 - o->lr * o->l2 : 1;
		for (i = 0; i < o->n; i++) {
			float d = g[i] + l2 * p[i];
			p[i] *= decay;
			o->m[i] = o->beta1 * o->m[i] + (1 - o->beta1) * d;
			o->v[i] = o->beta2 * o->v[i] + (1 - o->beta2) * d * d;
			p[i] -= step * o->m[i] / (sqrtf(o->v[i]) / bc2_sqrt + o->eps);
		}
		break;
	}
	case FIN_OPT_RMSPROP:
		for (i = 0; i < o->n; i++) {
			float d = g[i] + o->l2 * p[i];
			o->v[i] = o->alpha * o->v[i] + (1 - o->alpha) * d * d;
			p[i] -= o->lr * d / (sqrtf(o->v[i]) + o->eps);
		}
		break;
	}
}
