#include <math.h>
#include <string.h>

#include "nn/loss.h"

static const char *const names[] = { "mse", "mae", "huber", "bce", "softmax_ce" };

const char *fin_loss_name(enum fin_loss l)
{
	return names[l];
}

int fin_loss_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static double softmax_ce(const float *out, const float *target, size_t n, size_t k, float *dout)
{
	double total = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const float *z = out + i * k;
		size_t label = (size_t)target[i];
		double max = z[0], sum = 0, lse;
		for (j = 1; j < k; j++)
			max = z[j] > max ? z[j] : max;
		for (j = 0; j < k; j++)
			sum += exp(z[j] - max);
		lse = max + log(sum);
		total += lse - z[label];
		if (dout)
			for (j = 0; j < k; j++)
				dout[i * k + j] =
					(float)((exp(z[j] - lse) - (j == label)) / (double)n);
	}
	return total / (double)n;
}

double fin_loss(enum fin_loss l, const float *out, const float *target, size_t n, size_t k,
		float *dout)
{
	size_t m = n * k, i;
	double total = 0;

	if (l == FIN_LOSS_SOFTMAX_CE)
		return softmax_ce(out, target, n, k, dout);
	for (i = 0; i < m; i++) {
		double d = (double)out[i] - target[i], v, g;
		switch (l) {
		case FIN_LOSS_MSE:
			v = d * d;
			g = 2 * d;
			break;
		case FIN_LOSS_MAE:
			v = fabs(d);
			g = (d > 0) - (d < 0);
			break;
		case FIN_LOSS_HUBER:
			v = fabs(d) <= 1 ? 0.5 * d * d : fabs(d) - 0.5;
			g = fabs(d) <= 1 ? d : (d > 0) - (d < 0);
			break;
		default: {
			/* log(1 + e^z) - t z, written to stay finite for large |z| */
			double z = out[i], t = target[i];
			v = fmax(z, 0) - z * t + log1p(exp(-fabs(z)));
			g = 1 / (1 + exp(-z)) - t;
			break;
		}
		}
		total += v;
		if (dout)
			dout[i] = (float)(g / (double)m);
	}
	return total / (double)m;
}
