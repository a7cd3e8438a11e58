#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/gan.h"
#include "nn/loss.h"
#include "par/dist.h"

/* Adam's betas for both networks: a short memory of the gradient's mean
 * lets each network follow the other as it moves. */
#define GAN_BETA1 0.5f
#define GAN_BETA2 0.999f

/* Latent vectors fin_gan_sample runs through the generator at a time. */
#define SAMPLE_CHUNK 256

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int build_net(fin_net *net, const char *which, const char *arch, size_t c, size_t t,
		     fin_err *err)
{
	fin_err why = { 0 };
	int rc = fin_net_build(net, arch, c, t, &why);

	if (rc != FIN_OK)
		return fin_fail(err, rc, "%s: %.1000s", which, why.msg);
	return FIN_OK;
}

int fin_gan_preset(size_t c, size_t t, char *g, size_t glen, char *d, size_t dlen)
{
	int ng = snprintf(g, glen, "dense(64,leaky_relu) dense(64,leaky_relu) dense(%zu)", c * t);
	int nd = snprintf(d, dlen, "dense(64,leaky_relu) dense(64,leaky_relu) dense(1)");

	return ng < 0 || (size_t)ng >= glen || nd < 0 || (size_t)nd >= dlen ? -1 : 0;
}

double fin_gan_mean_real(fin_gan *gan, const float *x, size_t n)
{
	double sum = 0;
	size_t at, i;

	if (fin_net_reserve(&gan->d, SAMPLE_CHUNK) != 0)
		return NAN;
	for (at = 0; at < n; at += SAMPLE_CHUNK) {
		size_t b = n - at < SAMPLE_CHUNK ? n - at : SAMPLE_CHUNK;
		const float *logit = fin_net_forward(&gan->d, x + at * gan->sample, b, 0);
		for (i = 0; i < b; i++)
			sum += 1 / (1 + exp(-(double)logit[i]));
	}
	return n ? sum / (double)n : NAN;
}

int fin_gan_build(fin_gan *gan, const char *arch_g, const char *arch_d, size_t latent, size_t c,
		  size_t t, unsigned long seed, fin_err *err)
{
	int rc;

	memset(gan, 0, sizeof *gan);
	if (latent == 0 || c == 0 || t == 0)
		return fin_fail(err, FIN_EUSAGE, "a GAN needs a latent size and a sample shape of "
				"at least 1, and it gets %zu and [%zu][%zu]", latent, c, t);
	gan->latent = latent;
	gan->sample = c * t;
	if ((rc = build_net(&gan->g, "generator", arch_g, latent, 1, err)) != FIN_OK ||
	    (rc = build_net(&gan->d, "discriminator", arch_d, c, t, err)) != FIN_OK)
		goto fail;
	if (gan->g.out_size != gan->sample) {
		rc = fin_fail(err, FIN_EUSAGE,
			      "generator: it gives %zu values per sample, and the data have %zu "
			      "(%zu channels of %zu steps)",
			      gan->g.out_size, gan->sample, c, t);
		goto fail;
	}
	if (gan->d.out_size != 1) {
		rc = fin_fail(err, FIN_EUSAGE,
			      "discriminator: it gives %zu values per sample, and needs to give one "
			      "logit",
			      gan->d.out_size);
		goto fail;
	}
	fin_net_init(&gan->g, seed);
	fin_net_init(&gan->d, seed + 1);
	return FIN_OK;
fail:
	fin_gan_free(gan);
	return rc;
}

/* Drops the training state, keeping the networks. */
static void end_training(fin_gan *gan)
{
	fin_optim_free(&gan->opt_g);
	fin_optim_free(&gan->opt_d);
	if (gan->rng)
		gsl_rng_free(gan->rng);
	free(gan->z);
	free(gan->pair);
	free(gan->target);
	free(gan->dlogit);
	free(gan->dfake);
	gan->rng = NULL;
	gan->z = gan->pair = gan->target = gan->dlogit = gan->dfake = NULL;
	gan->cap = 0;
}

int fin_gan_begin(fin_gan *gan, const fin_gan_opts *o, fin_err *err)
{
	size_t b = o->batch;

	if (b == 0 || b > ((size_t)1 << 24))
		return fin_fail(err, FIN_EUSAGE, "the batch size must be 1 to %zu, and it is %zu",
				(size_t)1 << 24, b);
	if (o->d_steps == 0)
		return fin_fail(err, FIN_EUSAGE, "discriminator steps must be at least 1");
	if (!(o->lr_g > 0 && isfinite(o->lr_g)) || !(o->lr_d > 0 && isfinite(o->lr_d)))
		return fin_fail(err, FIN_EUSAGE, "learning rates must be positive, and they are "
				"%g (generator) and %g (discriminator)", (double)o->lr_g,
				(double)o->lr_d);
	if (!(o->smooth >= 0 && o->smooth < 1))
		return fin_fail(err, FIN_EUSAGE, "label smoothing must be in [0, 1), and it is %g",
				(double)o->smooth);
	end_training(gan);
	gan->smooth = o->smooth;
	gan->cap = b;
	gan->rng = gsl_rng_alloc(gsl_rng_mt19937);
	gan->z = malloc(b * gan->latent * sizeof *gan->z);
	gan->pair = malloc(2 * b * gan->sample * sizeof *gan->pair);
	gan->target = malloc(2 * b * sizeof *gan->target);
	gan->dlogit = malloc(2 * b * sizeof *gan->dlogit);
	gan->dfake = malloc(b * gan->sample * sizeof *gan->dfake);
	if (!gan->rng || !gan->z || !gan->pair || !gan->target || !gan->dlogit || !gan->dfake ||
	    fin_net_reserve(&gan->g, b) != 0 || fin_net_reserve(&gan->d, 2 * b) != 0 ||
	    fin_optim_init(&gan->opt_g, FIN_OPT_ADAM, o->lr_g, gan->g.nparams) != 0 ||
	    fin_optim_init(&gan->opt_d, FIN_OPT_ADAM, o->lr_d, gan->d.nparams) != 0) {
		end_training(gan);
		return fin_fail(err, FIN_EDATA, "out of memory for training");
	}
	gan->opt_g.beta1 = gan->opt_d.beta1 = GAN_BETA1;
	gan->opt_g.beta2 = gan->opt_d.beta2 = GAN_BETA2;
	/* Three streams from one seed, offset so that the dropout masks do
	 * not repeat the latent draws. */
	gsl_rng_set(gan->rng, o->seed);
	gsl_rng_set(gan->g.rng, o->seed + 1);
	gsl_rng_set(gan->d.rng, o->seed + 2);
	if (fin_dist_rank() > 0) {
		/* Each rank of a job drops out with masks of its own; the latent
		 * draws and the order of the rows (gan->rng) are every rank's. */
		gsl_rng_set(gan->g.rng, o->seed + 1 + 7919 * (unsigned long)fin_dist_rank());
		gsl_rng_set(gan->d.rng, o->seed + 2 + 7919 * (unsigned long)fin_dist_rank());
	}
	return FIN_OK;
}

static void draw_latent(gsl_rng *rng, float *z, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		z[i] = (float)gsl_ran_gaussian(rng, 1);
}

/* The discriminator's gradient on n real rows and n latent draws, dlogit
 * scaled by scale (a rank's part of a batch: its rows over the batch's). */
static double grad_d(fin_gan *gan, const float *real, const float *z, size_t n, float smooth,
		     float scale)
{
	size_t len = n * gan->sample, i;
	const float *logit;
	double loss;

	/* Both halves in one pass through the discriminator, so that one
	 * backward pass gives the gradient of their sum. */
	memcpy(gan->pair, real, len * sizeof *gan->pair);
	memcpy(gan->pair + len, fin_net_forward(&gan->g, z, n, 1), len * sizeof *gan->pair);
	for (i = 0; i < n; i++) {
		gan->target[i] = 1 - smooth;
		gan->target[n + i] = 0;
	}
	memset(gan->d.grads, 0, gan->d.nparams * sizeof *gan->d.grads);
	logit = fin_net_forward(&gan->d, gan->pair, 2 * n, 1);
	/* fin_loss averages over all 2n logits; the loss is the sum of the
	 * two halves' means, twice that (an exact scaling in float). */
	loss = 2 * fin_loss(FIN_LOSS_BCE, logit, gan->target, 2 * n, 1, gan->dlogit);
	for (i = 0; i < 2 * n; i++)
		gan->dlogit[i] *= 2 * scale;
	fin_net_backward(&gan->d, gan->dlogit, NULL, 2 * n);
	return loss;
}

double fin_gan_grad_d(fin_gan *gan, const float *real, const float *z, size_t n, float smooth)
{
	return grad_d(gan, real, z, n, smooth, 1);
}

/* The generator's gradient on n latent draws, dlogit scaled by scale. */
static double grad_g(fin_gan *gan, const float *z, size_t n, float scale)
{
	const float *fake, *logit;
	double loss;
	size_t i;

	for (i = 0; i < n; i++)
		gan->target[i] = 1;
	memset(gan->g.grads, 0, gan->g.nparams * sizeof *gan->g.grads);
	fake = fin_net_forward(&gan->g, z, n, 1);
	logit = fin_net_forward(&gan->d, fake, n, 1);
	loss = fin_loss(FIN_LOSS_BCE, logit, gan->target, n, 1, gan->dlogit);
	if (scale != 1)
		for (i = 0; i < n; i++)
			gan->dlogit[i] *= scale;
	fin_net_backward(&gan->d, gan->dlogit, gan->dfake, n);
	fin_net_backward(&gan->g, gan->dfake, NULL, n);
	return loss;
}

double fin_gan_grad_g(fin_gan *gan, const float *z, size_t n)
{
	return grad_g(gan, z, n, 1);
}

/* The losses a step returns are, in a job, this rank's part's share of
 * the batch's mean (summed over the ranks, the mean). */
double fin_gan_step_d(fin_gan *gan, const float *real, size_t n)
{
	size_t from = 0, to = n;
	double loss = 0;

	draw_latent(gan->rng, gan->z, n * gan->latent);
	if (fin_dist_active())
		fin_dist_part(n, &from, &to);
	if (to > from) {
		float share = (float)(to - from) / (float)n;
		loss = grad_d(gan, real + from * gan->sample, gan->z + from * gan->latent, to - from,
			      gan->smooth, share) * share;
	} else {
		memset(gan->d.grads, 0, gan->d.nparams * sizeof *gan->d.grads);
	}
	fin_dist_sum_floats(gan->d.grads, gan->d.nparams);
	fin_optim_step(&gan->opt_d, gan->d.params, gan->d.grads);
	return loss;
}

double fin_gan_step_g(fin_gan *gan, size_t n)
{
	size_t from = 0, to = n;
	double loss = 0;

	draw_latent(gan->rng, gan->z, n * gan->latent);
	if (fin_dist_active())
		fin_dist_part(n, &from, &to);
	if (to > from) {
		float share = (float)(to - from) / (float)n;
		loss = grad_g(gan, gan->z + from * gan->latent, to - from, share) * share;
	} else {
		memset(gan->g.grads, 0, gan->g.nparams * sizeof *gan->g.grads);
	}
	fin_dist_sum_floats(gan->g.grads, gan->g.nparams);
	/* Only the generator's optimizer runs: the discriminator's gradients
	 * from this pass stay unapplied, so it is frozen for this step. */
	fin_optim_step(&gan->opt_g, gan->g.params, gan->g.grads);
	return loss;
}

int fin_gan_train(fin_gan *gan, const float *x, size_t n, const fin_gan_opts *o,
		  fin_gan_epoch_fn progress, void *ctx, fin_err *err)
{
	size_t g_batch = o->batch < n ? o->batch : n, epoch, i;
	size_t *order;
	float *xb;
	double start = now();
	int rc;

	if (n == 0)
		return fin_fail(err, FIN_ENOROWS, "no rows to train on");
	if ((rc = fin_gan_begin(gan, o, err)) != FIN_OK)
		return rc;
	order = malloc(n * sizeof *order);
	xb = malloc(o->batch * gan->sample * sizeof *xb);
	if (!order || !xb)
		rc = fin_fail(err, FIN_EDATA, "out of memory for training");
	/* In a job, every rank goes on, or none does. */
	if (fin_dist_active())
		rc = fin_dist_agree_msg(rc, err->msg);
	if (rc != FIN_OK)
		goto done;
	for (i = 0; i < n; i++)
		order[i] = i;
	for (epoch = 1; epoch <= o->epochs; epoch++) {
		fin_gan_epoch e = { .epoch = epoch, .epochs = o->epochs };
		size_t at, since_g = 0, g_steps = 0;

		gsl_ran_shuffle(gan->rng, order, n, sizeof *order);
		for (at = 0; at < n; at += o->batch) {
			size_t b = n - at < o->batch ? n - at : o->batch, r;
			for (r = 0; r < b; r++)
				memcpy(xb + r * gan->sample, x + order[at + r] * gan->sample,
				       gan->sample * sizeof *xb);
			e.loss_d += fin_gan_step_d(gan, xb, b) * (double)b;
			if (++since_g == o->d_steps || at + b == n) {
				e.loss_g += fin_gan_step_g(gan, g_batch);
				g_steps++;
				since_g = 0;
			}
		}
		if (fin_dist_active()) {
			double sums[2] = { e.loss_d, e.loss_g };
			/* Rank 0's weights to every rank (see par/dist.h). */
			fin_dist_broadcast(gan->g.params, gan->g.nparams * sizeof *gan->g.params, 0);
			fin_dist_broadcast(gan->d.params, gan->d.nparams * sizeof *gan->d.params, 0);
			fin_dist_sum_doubles(sums, 2);
			e.loss_d = sums[0];
			e.loss_g = sums[1];
		}
		e.loss_d /= (double)n;
		e.loss_g /= (double)g_steps;
		if (!isfinite(e.loss_d) || !isfinite(e.loss_g)) {
			rc = fin_fail(err, FIN_EDATA,
				      "epoch %zu: the losses are no longer finite (try lower learning "
				      "rates)",
				      epoch);
			goto done;
		}
		gan->last_loss_d = e.loss_d;
		gan->last_loss_g = e.loss_g;
		e.seconds = now() - start;
		if (progress)
			progress(ctx, &e);
	}
done:
	free(order);
	free(xb);
	return rc;
}

int fin_gan_sample(fin_gan *gan, size_t n, gsl_rng *rng, float *out, fin_err *err)
{
	float *z = malloc(SAMPLE_CHUNK * gan->latent * sizeof *z);
	size_t at;
	int rc = FIN_OK;

	if (!z || fin_net_reserve(&gan->g, SAMPLE_CHUNK) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory for sampling");
		goto done;
	}
	for (at = 0; at < n; at += SAMPLE_CHUNK) {
		size_t b = n - at < SAMPLE_CHUNK ? n - at : SAMPLE_CHUNK;
		draw_latent(rng, z, b * gan->latent);
		memcpy(out + at * gan->sample, fin_net_forward(&gan->g, z, b, 0),
		       b * gan->sample * sizeof *out);
	}
done:
	free(z);
	return rc;
}

void fin_gan_free(fin_gan *gan)
{
	end_training(gan);
	fin_net_free(&gan->g);
	fin_net_free(&gan->d);
	memset(gan, 0, sizeof *gan);
}
