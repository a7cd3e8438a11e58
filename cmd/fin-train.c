/* fin-train: train a network on CSV rows and write it as a model file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "features/table.h"
#include "features/time_key.h"
#include "io/input.h"
#include "io/numio.h"
#include "io/out_file.h"
#include "nn/gan.h"
#include "nn/gemm.h"
#include "nn/glm.h"
#include "nn/model.h"
#include "nn/dp_sgd.h"
#include "nn/train.h"
#include "par/dist.h"
#include "privacy/dp_accountant.h"
#include "privacy/pooled_stats.h"

static const char usage[] =
	"Usage: fin-train [OPTION]... [FILE]...\n"
	"Train a network on CSV rows; write the model as JSON.\n"
	"\n"
	"  -y, --target COL       column to predict (default y)\n"
	"  -c, --columns LIST     feature columns (default: every numeric column\n"
	"                         but the target and the keys)\n"
	"  -k, --key LIST         key columns: never features, remembered for fin-predict;\n"
	"                         the first is the time (a number or an ISO date), which\n"
	"                         must never decrease, as the validation tail is the latest\n"
	"                         (default: the first column, neither the target nor chosen by\n"
	"                         -c, holding an ISO date in the first row)\n"
	"      --unsorted         take the rows as they come: no check of the time order\n"
	"      --model NAME       cnn|mlp|lstm|gru|transformer|patchtst|linear|logistic|softmax|autoencoder|gan\n"
	"                         (default mlp); linear, logistic and softmax are fitted\n"
	"                         exactly, by least squares and Newton's method\n"
	"      --bottleneck N     width of the autoencoder preset's code (default 8)\n"
	"      --arch SPEC        any network, e.g. 'conv1d(64,3,relu) maxpool(2) flatten\n"
	"                         dense(64,relu) dense(1)'\n"
	"      --task TASK        regression|binary|multiclass|autoencoder|gan (default: from\n"
	"                         the target; an autoencoder and a GAN have none)\n"
	"      --epochs N         passes over the training rows (default 100); 0 writes the\n"
	"                         model untrained, as initialised\n"
	"      --batch N          rows per update (default 32)\n"
	"      --lr RATE          learning rate (default 0.001)\n"
	"      --optimizer NAME   adam|adamw|sgd|rmsprop (default adam)\n"
	"      --l2 W             L2 penalty (decoupled weight decay for adamw; the ridge\n"
	"                         penalty of an exact fit; default 0)\n"
	"      --dropout P        dropout after every hidden layer (default 0)\n"
	"      --clip NORM        clip the gradient's global norm (default: no clipping)\n"
	"      --val F            validation: the last F of the rows, in time order (default 0.2)\n"
	"      --val-file FILE    validation rows from FILE instead\n"
	"      --patience N       stop after N epochs without a better validation loss\n"
	"                         (default 0: never); the best epoch's weights are kept\n"
	"                         either way\n"
	"      --init MODEL       continue training a saved model, with its architecture,\n"
	"                         scaling and encoding (a federated round: see fin-avg(1))\n"
	"      --scale HOW        fit|none: standardise the features with the training rows'\n"
	"                         means and deviations, or take them as they are (default fit)\n"
	"      --stats-only       write the training rows' statistics (a party's share of a\n"
	"                         pooled scaler; see fin-avg(1)) instead of a model\n"
	"      --stats FILE       scaling and labels from pooled statistics (fin-avg --stats)\n"
	"Differentially private training (DP-SGD):\n"
	"      --dp-clip C        clip each row's gradient to L2 norm C\n"
	"      --dp-noise SIGMA   Gaussian noise of SIGMA * C on each batch's gradient sum\n"
	"      --dp-epsilon E     the noise that spends epsilon E over the epochs, instead\n"
	"      --dp-delta D       delta of the guarantee (default: 1 / (10 * training rows))\n"
	"      --log FILE         one JSON line per epoch\n"
	"GAN (--task gan, or --model gan):\n"
	"      --latent N         latent values the generator starts from (default 16)\n"
	"      --arch-g SPEC      the generator, from [N][1] to one row (default: the preset)\n"
	"      --arch-d SPEC      the discriminator, from one row to one logit (default: the\n"
	"                         preset)\n"
	"      --d-steps N        discriminator batches per generator batch (default 1)\n"
	"      --smooth S         label real rows 1 - S for the discriminator (default 0.1)\n"
	"      --lr-g RATE        generator learning rate (default: --lr)\n"
	"      --lr-d RATE        discriminator learning rate (default: --lr)\n"
	"  -s, --seed N           seed for weights, shuffling and dropout (default 1)\n"
	"      --threads N        threads sharing each batch (default 1; exact fits,\n"
	"                         DP-SGD and GANs: BLAS threads)\n"
	FIN_HELP_SHARD
	FIN_HELP_NA_LEVEL
	FIN_HELP_NA_VALUES
	FIN_TEXT_HELP
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	"  -o, --output FILE      write the model to FILE (default: standard output)\n"
	"  -q, --quiet            no progress or notes\n"
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable --init model,\n"
	"4 no input rows. See fin-train(1) and fin-model(5).\n";

enum { OPT_MODEL = 256, OPT_ARCH, OPT_TASK, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_OPTIMIZER, OPT_L2,
       OPT_DROPOUT, OPT_CLIP, OPT_VAL, OPT_VAL_FILE, OPT_PATIENCE, OPT_INIT, OPT_LOG,
       OPT_BOTTLENECK, OPT_LATENT, OPT_ARCH_G, OPT_ARCH_D, OPT_D_STEPS, OPT_SMOOTH,
       OPT_LR_G, OPT_LR_D, OPT_UNSORTED, OPT_DP_CLIP, OPT_DP_NOISE, OPT_DP_EPSILON, OPT_DP_DELTA,
       OPT_SCALE, OPT_STATS_ONLY, OPT_STATS };

static const struct option long_options[] = {
	{ "unsorted", no_argument, NULL, OPT_UNSORTED },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "bottleneck", required_argument, NULL, OPT_BOTTLENECK },
	{ "task", required_argument, NULL, OPT_TASK },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "optimizer", required_argument, NULL, OPT_OPTIMIZER },
	{ "l2", required_argument, NULL, OPT_L2 },
	{ "dropout", required_argument, NULL, OPT_DROPOUT },
	{ "clip", required_argument, NULL, OPT_CLIP },
	{ "val", required_argument, NULL, OPT_VAL },
	{ "val-file", required_argument, NULL, OPT_VAL_FILE },
	{ "patience", required_argument, NULL, OPT_PATIENCE },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "dp-clip", required_argument, NULL, OPT_DP_CLIP },
	{ "dp-noise", required_argument, NULL, OPT_DP_NOISE },
	{ "dp-epsilon", required_argument, NULL, OPT_DP_EPSILON },
	{ "dp-delta", required_argument, NULL, OPT_DP_DELTA },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "stats-only", no_argument, NULL, OPT_STATS_ONLY },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "latent", required_argument, NULL, OPT_LATENT },
	{ "arch-g", required_argument, NULL, OPT_ARCH_G },
	{ "arch-d", required_argument, NULL, OPT_ARCH_D },
	{ "d-steps", required_argument, NULL, OPT_D_STEPS },
	{ "smooth", required_argument, NULL, OPT_SMOOTH },
	{ "lr-g", required_argument, NULL, OPT_LR_G },
	{ "lr-d", required_argument, NULL, OPT_LR_D },
	{ NULL, 0, NULL, 0 },
};

/* Progress: a live line on a terminal, one plain line per epoch otherwise. */
struct progress {
	int quiet, live;
	fin_out_file *log;
};

/* A line of the --log file, written out at once, so that a reader of a
 * FIFO sees each epoch as it ends. */
static void log_line(fin_out_file *log, const char *line, int n)
{
	fin_out *out = fin_out_file_writer(log);

	fin_out_bytes(out, line, n < 0 ? 0 : (size_t)n);
	fin_out_drain(out);
}

/* A loss in the log: its shortest digits that read back exactly, or null
 * when there is none (no validation rows). */
static const char *log_number(char buf[FIN_NUM_MAX], double v)
{
	if (!isfinite(v))
		return "null";
	fin_format_double(buf, v);
	return buf;
}

static void on_epoch(void *ctx, const fin_epoch *e)
{
	struct progress *p = ctx;
	double eta = e->seconds / (double)e->epoch * (double)(e->epochs - e->epoch);

	if (p->log) {
		char line[256], train[FIN_NUM_MAX], val[FIN_NUM_MAX];
		log_line(p->log, line,
			 snprintf(line, sizeof line,
				  "{\"epoch\":%zu,\"train_loss\":%s,\"val_loss\":%s,"
				  "\"seconds\":%.3f}\n",
				  e->epoch, log_number(train, e->train_loss),
				  log_number(val, e->val_loss), e->seconds));
	}
	if (p->quiet)
		return;
	if (p->live) {
		enum { WIDTH = 24 };
		size_t done = e->epoch * WIDTH / e->epochs, i;
		fprintf(stderr, "\r[");
		for (i = 0; i < WIDTH; i++)
			fputc(i < done ? '=' : ' ', stderr);
		fprintf(stderr, "] epoch %zu/%zu loss %.5g", e->epoch, e->epochs, e->train_loss);
		if (!isnan(e->val_loss))
			fprintf(stderr, " val %.5g", e->val_loss);
		fprintf(stderr, " eta %.0fs \033[K", eta);
		if (e->epoch == e->epochs)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "fin-train: epoch %zu/%zu loss %.6g", e->epoch, e->epochs, e->train_loss);
		if (!isnan(e->val_loss))
			fprintf(stderr, " val_loss %.6g", e->val_loss);
		fprintf(stderr, "%s (%.1fs)\n", e->best ? " *" : "", e->seconds);
	}
}

static void on_gan_epoch(void *ctx, const fin_gan_epoch *e)
{
	struct progress *p = ctx;

	if (p->log) {
		char line[256], d[FIN_NUM_MAX], g[FIN_NUM_MAX];
		log_line(p->log, line,
			 snprintf(line, sizeof line,
				  "{\"epoch\":%zu,\"loss_d\":%s,\"loss_g\":%s,\"seconds\":%.3f}\n",
				  e->epoch, log_number(d, e->loss_d), log_number(g, e->loss_g),
				  e->seconds));
	}
	if (p->quiet)
		return;
	if (p->live)
		fprintf(stderr, "\rfin-train: epoch %zu/%zu loss_d %.5g loss_g %.5g \033[K%s", e->epoch,
			e->epochs, e->loss_d, e->loss_g, e->epoch == e->epochs ? "\n" : "");
	else
		fprintf(stderr, "fin-train: epoch %zu/%zu loss_d %.6g loss_g %.6g (%.1fs)\n", e->epoch,
			e->epochs, e->loss_d, e->loss_g, e->seconds);
}

/* What a GAN run takes beside the table. */
struct gan_run {
	fin_gan_opts o;
	size_t latent;
	const char *arch_g, *arch_d;
	double val;
	int threads, quiet;
};

/* How well the trained discriminator tells rows apart: its mean
 * probability of "real" on the training rows, on the held-out tail and on
 * as many generated rows. */
/* The training rows of t: all but the last val of them, in time order; a
 * panel's rows of one date go to one side, validation starting at the
 * first row of the date the split falls in. */
static size_t train_rows(const fin_table *t, double val)
{
	size_t nval = (size_t)floor((double)t->rows * val), ntrain = t->rows - nval;

	while (nval && t->tied && ntrain > 0 && t->tied[ntrain])
		ntrain--;
	return ntrain;
}

static int report_gan(fin_model *m, const float *xtr, size_t ntrain, const float *xva, size_t nval,
		      unsigned long seed, fin_err *err)
{
	size_t n = ntrain < 10000 ? ntrain : 10000;
	float *fake = malloc(n * m->nfeat * sizeof *fake);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	int rc = FIN_OK;

	if (!fake || !rng) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	gsl_rng_set(rng, seed);
	if ((rc = fin_gan_sample(&m->gan, n, rng, fake, err)) != FIN_OK)
		goto done;
	fprintf(stderr, "fin-train: discriminator's mean P(real): %.4f on the training rows", 
		fin_gan_mean_real(&m->gan, xtr, ntrain));
	if (nval)
		fprintf(stderr, ", %.4f on the validation rows", fin_gan_mean_real(&m->gan, xva, nval));
	fprintf(stderr, ", %.4f on %zu generated rows (equal when it cannot tell them apart)\n",
		fin_gan_mean_real(&m->gan, fake, n), n);
done:
	free(fake);
	if (rng)
		gsl_rng_free(rng);
	return rc;
}

/* Trains a GAN on the rows of t (the last g->val of them held out) and
 * writes it to output. */
static int train_gan(const struct gan_run *g, const fin_table *t, char *const *keys, size_t nkeys,
		     fin_out_file *output, struct progress *prog, fin_err *err)
{
	fin_model m = { 0 };
	size_t ntrain = train_rows(t, g->val), nval = t->rows - ntrain;
	char gbuf[4096], dbuf[4096];
	const char *arch_g = g->arch_g, *arch_d = g->arch_d;
	float *xtr = NULL, *xva = NULL, *unused = NULL;
	fin_train_facts *f = &m.facts;
	int rc;

	if (ntrain == 0)
		return fin_fail(err, FIN_ENOROWS, "no training rows left after --val");
	if ((rc = fin_model_setup(&m, t, ntrain, FIN_TASK_GAN, keys, nkeys, NULL, err)) != FIN_OK)
		goto done;
	m.loss = FIN_LOSS_BCE;
	if (fin_gan_preset(t->in_c, t->in_t, gbuf, sizeof gbuf, dbuf, sizeof dbuf) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_gan_build(&m.gan, arch_g ? arch_g : gbuf, arch_d ? arch_d : dbuf, g->latent,
				t->in_c, t->in_t, g->o.seed, err)) != FIN_OK ||
	    (rc = fin_model_encode(&m, t, 0, ntrain, &xtr, &unused, err)) != FIN_OK ||
	    (rc = fin_model_encode(&m, t, ntrain, t->rows, &xva, &unused, err)) != FIN_OK) {
		/* In a job, the other ranks would wait for this one in training. */
		if (fin_dist_active()) {
			fin_report("fin-train", err->msg);
			fin_dist_abort(rc);
		}
		goto done;
	}
	if ((rc = fin_gan_train(&m.gan, xtr, ntrain, &g->o, on_gan_epoch, prog, err)) != FIN_OK)
		goto done;
	if (!g->quiet && (rc = report_gan(&m, xtr, ntrain, xva, nval, g->o.seed, err)) != FIN_OK)
		goto done;
	f->seed = g->o.seed;
	f->threads = g->threads;
	snprintf(f->optimizer, sizeof f->optimizer, "adam");
	f->lr = g->o.lr_g;
	f->lr_d = g->o.lr_d;
	f->smooth = g->o.smooth;
	f->d_steps = g->o.d_steps;
	f->batch = g->o.batch;
	f->epochs = f->epochs_run = f->kept_epoch = g->o.epochs;
	f->train_loss = f->val_loss = f->last_val_loss = NAN;
	f->loss_g = m.gan.last_loss_g;
	f->loss_d = m.gan.last_loss_d;
	f->rows_train = ntrain;
	f->rows_val = nval;
	if (fin_dist_rank() == 0)
		rc = fin_model_save(&m, output, err);
done:
	free(xtr);
	free(xva);
	fin_model_free(&m);
	return rc;
}

/* Which epoch's weights the model keeps, and whether the run overfitted. */
static void report_kept(const fin_train_facts *f, const fin_train_opts *o, int validating)
{
	char stopped[96] = "";

	if (!validating && !o->patience)
		return;
	if (f->epochs_run < f->epochs)
		snprintf(stopped, sizeof stopped, "; --patience %zu stopped training", o->patience);
	if (validating)
		fprintf(stderr, "fin-train: kept the weights of epoch %zu of %zu (best validation loss "
			"%.6g)%s\n", f->kept_epoch, f->epochs_run, f->val_loss, stopped);
	else
		fprintf(stderr, "fin-train: kept the weights of epoch %zu of %zu (best training loss; "
			"no validation rows)%s\n", f->kept_epoch, f->epochs_run, stopped);
	if (f->overfits)
		fprintf(stderr, "fin-train: the model overfits: its validation loss rose from %.6g "
			"(epoch %zu) to %.6g (epoch %zu), above %g times the best in each of the last "
			"%d epochs; against overfitting: --patience N, --l2 W, --dropout P, or a "
			"smaller model\n", f->val_loss, f->kept_epoch, f->last_val_loss, f->epochs_run,
			FIN_OVERFIT_RATIO, FIN_OVERFIT_EPOCHS);
}

/* Names the options of gradient training given to a preset that is
 * fitted exactly, which has no use for them. */
static void note_unused(const char *given, const char *model)
{
	static const struct {
		int opt;
		const char *name;
	} gradient[] = { { OPT_EPOCHS, "--epochs" },   { OPT_BATCH, "--batch" },
			 { OPT_LR, "--lr" },           { OPT_OPTIMIZER, "--optimizer" },
			 { OPT_PATIENCE, "--patience" }, { OPT_CLIP, "--clip" },
			 { OPT_DROPOUT, "--dropout" },   { OPT_LOG, "--log" } };
	char list[128] = "";
	size_t i, n = 0, at = 0;

	for (i = 0; i < sizeof gradient / sizeof *gradient; i++)
		if (given[gradient[i].opt])
			at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", n++ ? ", " : "",
					       gradient[i].name);
	if (n)
		fin_note("fin-train", "%s %s not apply to --model %s, which is fitted exactly: ignored",
			 list, n == 1 ? "does" : "do", model);
}

/* Fits a linear, logistic or softmax preset exactly (see nn/glm.h), and says
 * how the solver went. */
static int fit_exactly(fin_model *m, const fin_table *t, size_t ntrain, double l2,
		       const fin_dataset *dtr, const fin_dataset *dva, int quiet,
		       fin_train_facts *facts, fin_err *err)
{
	enum { BATCH = 256 };
	const fin_glm_fit *f;
	int rc = fin_glm_train(m, t, ntrain, l2, err);

	if (rc != FIN_OK)
		return rc;
	if (fin_net_reserve(&m->net, BATCH) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	facts->train_loss = fin_evaluate(&m->net, m->loss, dtr, BATCH);
	facts->val_loss = fin_evaluate(&m->net, m->loss, dva, BATCH);
	f = m->fit;
	if (quiet)
		return FIN_OK;
	if (f->method == FIN_GLM_LEAST_SQUARES)
		fprintf(stderr,
			"fin-train: least squares on %zu rows: residual sum of squares %.6g, "
			"gradient norm %.3g\n",
			f->rows, f->rss, f->gradient_norm);
	else if (f->converged)
		fprintf(stderr,
			"fin-train: Newton's method converged in %zu iterations on %zu rows: "
			"log-likelihood %.6g, gradient norm %.3g\n",
			f->iterations, f->rows, f->log_likelihood, f->gradient_norm);
	else
		fin_note("fin-train",
			 "Newton's method did not converge in %zu iterations (gradient norm %.3g): "
			 "the model holds the last iterate",
			 f->iterations, f->gradient_norm);
	return FIN_OK;
}

/* The training facts of an exact fit: no optimizer, rate, batch or
 * clipping took part. */
static void exact_facts(fin_train_facts *facts, const fin_glm_fit *fit)
{
	facts->batch = 0;
	facts->lr = facts->clip = 0;
	snprintf(facts->optimizer, sizeof facts->optimizer, "%s", fin_glm_method_name(fit->method));
}

/* Prints the error on some rows next to naive forecasts. */
static void report(fin_model *m, const fin_table *t, size_t from, size_t to, const float *x,
		   const char *what, const fin_table *train, size_t ntrain)
{
	fin_score sc;

	if (fin_model_score(m, t, from, to, x, train, ntrain, &sc) != FIN_OK)
		return;
	if (m->task == FIN_TASK_AUTOENCODER)
		fprintf(stderr,
			"fin-train: %s (%zu rows): reconstruction error %.6g; predicting the training "
			"mean: %.6g\n",
			what, sc.n, sc.recon, sc.recon_mean);
	else if (m->task == FIN_TASK_REGRESSION)
		fprintf(stderr,
			"fin-train: %s (%zu rows): rmse %.6g; predicting 0: %.6g; predicting the "
			"training mean: %.6g\n",
			what, sc.n, sc.rmse, sc.rmse_zero, sc.rmse_mean);
	else
		fin_note("fin-train",
			 "%s (%zu rows): accuracy %.4f; always '%s' (the training majority): %.4f",
			 what, sc.n, sc.accuracy, m->labels[sc.majority], sc.accuracy_majority);
}

/* The privacy of a DP-SGD run: the noise that spends --dp-epsilon over
 * every planned step, before it; the epsilon of the steps taken, after. */
struct dp_plan {
	double epsilon, delta, q;
	size_t rows;
	/* What came from the training rows outside DP-SGD, which epsilon does
	 * not cover: the scaling, the levels of text columns, class labels. */
	int fitted_scale, text_levels, labels;
};

static int dp_before(fin_train_opts *o, struct dp_plan *p, size_t ntrain, fin_err *err)
{
	size_t steps = o->epochs * fin_dp_steps_per_epoch(ntrain, o->batch);

	p->q = fin_dp_rate(ntrain, o->batch);
	p->rows = ntrain;
	if (!(p->delta > 0))
		p->delta = 1 / (10.0 * (double)ntrain);
	if (p->epsilon > 0 && steps)
		return fin_dp_noise_for(p->q, steps, p->delta, p->epsilon, &o->dp_noise, err);
	if (p->epsilon > 0)
		o->dp_noise = 0;
	return FIN_OK;
}

static int dp_after(const fin_train_opts *o, const struct dp_plan *p, fin_train_facts *f,
		    int quiet, fin_err *err)
{
	fin_dp_budget b = { .epsilon = 0, .order = 0 };
	int rc = f->dp_steps ? fin_dp_epsilon(p->q, o->dp_noise, f->dp_steps, p->delta, &b, err)
			     : FIN_OK;

	if (rc != FIN_OK)
		return rc;
	f->dp_clip = o->dp_clip;
	f->dp_noise = o->dp_noise;
	f->epsilon = b.epsilon;
	f->delta = p->delta;
	if (quiet)
		return FIN_OK;
	fin_note("fin-train",
		 "differentially private: epsilon %.4g at delta %.3g (Renyi DP of the sampled "
		 "Gaussian mechanism, order %g), %zu steps of rate %.4g, noise %.4g x clip %g; "
		 "%.1f%% of the row gradients were clipped", b.epsilon, p->delta, b.order,
		 f->dp_steps, p->q, o->dp_noise, o->dp_clip, 100 * f->dp_clipped);
	if (p->fitted_scale || p->text_levels || p->labels)
		fin_note("fin-train", "not covered by epsilon, as taken from the training rows: %s%s%s%s%s",
			 p->fitted_scale ? "the scaling (--scale none for values in known ranges, "
					   "or --stats)" : "",
			 p->fitted_scale && (p->text_levels || p->labels) ? ", " : "",
			 p->text_levels ? "the levels of text columns" : "",
			 p->text_levels && p->labels ? ", " : "",
			 p->labels ? "the class labels" : "");
	if (p->delta * (double)p->rows >= 1)
		fin_note("fin-train",
			 "--dp-delta %g is not below 1/%zu, one over the training rows: a guarantee "
			 "that lets one row in 1/delta go unprotected means little", p->delta, p->rows);
	return FIN_OK;
}

static int save_stats(const fin_table *t, size_t ntrain, enum fin_task task, const char *target,
		      fin_out_file *out, fin_err *err)
{
	fin_stats st = { 0 };
	int rc = fin_stats_from_table(t, ntrain, task, target, &st, err);

	if (rc == FIN_OK)
		rc = fin_stats_save(&st, out, err);
	fin_stats_free(&st);
	return rc;
}

static int train_main(int argc, char **argv);

int main(int argc, char **argv)
{
	return fin_dist_main("fin-train", argc, argv, train_main);
}

static int train_main(int argc, char **argv)
{
	fin_train_opts o = { .epochs = 100, .batch = 32, .optimizer = FIN_OPT_ADAM, .lr = 1e-3f };
	fin_table_spec spec = { .target = "y" };
	fin_err err = { 0 };
	fin_model m = { 0 };
	fin_table t = { 0 }, vt = { 0 };
	fin_train_facts facts = { 0 };
	struct progress prog = { 0 };
	fin_time_key tk;
	const char *note;
	char *val_file = NULL, *init = NULL;
	char *log_path = NULL, archbuf[4096], dropbuf[4096];
	const char *model_name = NULL, *arch = NULL;
	double val = 0.2;
	float dropout = 0, lr;
	size_t ntrain, outputs, bottleneck = 8;
	int task = -1, opt, word;
	fin_input *in = NULL, *vin = NULL;
	fin_out_file *out = NULL;
	float *xtr = NULL, *ytr = NULL, *xva = NULL, *yva = NULL;
	const fin_table *vsrc;
	size_t vfrom, vto;
	struct gan_run gan = { .o = { .d_steps = 1, .smooth = 0.1f }, .latent = 16 };
	const char *gan_only = NULL, *not_for_gan = NULL, *lr_g = NULL, *lr_d = NULL;
	int val_given = 0, unsorted = 0, exact, scale_none = 0;
	double dp_noise = -1;
	struct dp_plan dp = { 0 };
	int stats_only = 0, agreed = 0;
	char *stats_file = NULL;
	fin_stats pooled = { 0 };
	char given[512] = { 0 };
	fin_cli cli;
	int rc = fin_cli_init(&cli, "fin-train", usage,
			      FIN_CLI_TARGET | FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_SEED |
				      FIN_CLI_THREADS | FIN_CLI_NA_LEVEL | FIN_CLI_NA_VALUES |
				      FIN_CLI_TEXT | FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER |
				      FIN_CLI_OUTPUT | FIN_CLI_QUIET | FIN_CLI_RANKS,
			      long_options, &err);

	/* Under mpirun, rank 0 alone speaks. */
	if (fin_dist_rank() > 0)
		opterr = 0;
	while (rc == FIN_OK && (opt = fin_cli_next(&cli, argc, argv)) != -1) {
		if (opt >= 0 && (size_t)opt < sizeof given)
			given[opt] = 1;
		switch (opt) {
		case 'y':
			not_for_gan = "-y";
			rc = fin_cli_option(&cli, opt, optarg, &err);
			break;
		case OPT_LATENT:
			gan_only = "--latent";
			rc = fin_cli_size("--latent", optarg, 1, 65536, &gan.latent, &err);
			break;
		case OPT_ARCH_G: gan_only = "--arch-g"; gan.arch_g = optarg; break;
		case OPT_ARCH_D: gan_only = "--arch-d"; gan.arch_d = optarg; break;
		case OPT_D_STEPS:
			gan_only = "--d-steps";
			rc = fin_cli_size("--d-steps", optarg, 1, 1000, &gan.o.d_steps, &err);
			break;
		case OPT_SMOOTH:
			gan_only = "--smooth";
			rc = fin_cli_float("--smooth", optarg, 0, 0.99, &gan.o.smooth, &err);
			break;
		case OPT_LR_G:
			gan_only = lr_g = "--lr-g";
			rc = fin_cli_float("--lr-g", optarg, 1e-12, 100, &gan.o.lr_g, &err);
			break;
		case OPT_LR_D:
			gan_only = lr_d = "--lr-d";
			rc = fin_cli_float("--lr-d", optarg, 1e-12, 100, &gan.o.lr_d, &err);
			break;
		case OPT_BOTTLENECK: not_for_gan = "--bottleneck"; rc = fin_cli_size("--bottleneck", optarg, 1, 65536, &bottleneck, &err); break;
		case OPT_UNSORTED: unsorted = 1; break;
		case OPT_MODEL: model_name = optarg; break;
		case OPT_ARCH: arch = optarg; not_for_gan = "--arch"; break;
		case OPT_TASK: rc = fin_cli_word("--task", optarg, fin_task_parse(optarg), &task, &err); break;
		case OPT_EPOCHS: rc = fin_cli_size("--epochs", optarg, 0, 1000000, &o.epochs, &err); break;
		case OPT_BATCH: rc = fin_cli_size("--batch", optarg, 1, 1 << 20, &o.batch, &err); break;
		case OPT_LR: rc = fin_cli_float("--lr", optarg, 1e-12, 100, &o.lr, &err); break;
		case OPT_OPTIMIZER:
			not_for_gan = "--optimizer";
			rc = fin_cli_word("--optimizer", optarg, fin_optim_parse(optarg), &word, &err);
			o.optimizer = (enum fin_optim_kind)word;
			break;
		case OPT_L2: not_for_gan = "--l2"; rc = fin_cli_float("--l2", optarg, 0, 100, &o.l2, &err); break;
		case OPT_DROPOUT: not_for_gan = "--dropout"; rc = fin_cli_float("--dropout", optarg, 0, 0.99, &dropout, &err); break;
		case OPT_CLIP: not_for_gan = "--clip"; rc = fin_cli_float("--clip", optarg, 0, 1e30, &o.clip, &err); break;
		case OPT_VAL: val_given = 1; rc = fin_cli_number("--val", optarg, 0, 0.99, &val, &err); break;
		case OPT_VAL_FILE: val_file = optarg; not_for_gan = "--val-file"; break;
		case OPT_PATIENCE: not_for_gan = "--patience"; rc = fin_cli_size("--patience", optarg, 1, 1000000, &o.patience, &err); break;
		case OPT_INIT: init = optarg; not_for_gan = "--init"; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_DP_CLIP:
			not_for_gan = "--dp-clip";
			rc = fin_cli_number("--dp-clip", optarg, 1e-12, 1e30, &o.dp_clip, &err);
			break;
		case OPT_DP_NOISE:
			rc = fin_cli_number("--dp-noise", optarg, 0, 1e6, &dp_noise, &err);
			break;
		case OPT_DP_EPSILON:
			rc = fin_cli_number("--dp-epsilon", optarg, 1e-6, 1e6, &dp.epsilon, &err);
			break;
		case OPT_DP_DELTA:
			rc = fin_cli_number("--dp-delta", optarg, 1e-300, 0.5, &dp.delta, &err);
			break;
		case OPT_STATS_ONLY: not_for_gan = "--stats-only"; stats_only = 1; break;
		case OPT_STATS: not_for_gan = "--stats"; stats_file = optarg; break;
		case OPT_SCALE: {
			static const char *const how[] = { "fit", "none" };
			not_for_gan = "--scale";
			rc = fin_cli_word("--scale", optarg, fin_word_index(optarg, how, 2), &scale_none,
					  &err);
			break;
		}
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	if (rc != FIN_OK)
		goto fail;
	/* Under mpirun, rank 0 alone speaks and writes. */
	if (fin_dist_rank() > 0)
		cli.quiet = 1;
	if (cli.target)
		spec.target = cli.target;
	spec.na = cli.na;
	o.seed = cli.seed;
	o.threads = cli.threads;
	if (model_name && strcmp(model_name, "gan") == 0) {
		if (task >= 0 && task != FIN_TASK_GAN) {
			rc = fin_fail(&err, FIN_EUSAGE, "--model gan is the preset of --task gan");
			goto fail;
		}
		task = FIN_TASK_GAN;
		model_name = NULL;
	}
	if (task == FIN_TASK_GAN && not_for_gan)
		rc = fin_fail(&err, FIN_EUSAGE, "%s does not apply to a GAN (see --arch-g, --arch-d)",
			      not_for_gan);
	else if (task == FIN_TASK_GAN && model_name)
		rc = fin_fail(&err, FIN_EUSAGE, "--model %s is not a GAN: give --model gan, or "
			      "--arch-g and --arch-d", model_name);
	else if (task != FIN_TASK_GAN && gan_only)
		rc = fin_fail(&err, FIN_EUSAGE, "%s is for a GAN: add --task gan", gan_only);
	else if (model_name && arch)
		rc = fin_fail(&err, FIN_EUSAGE, "give --model or --arch, not both");
	else if (init && (model_name || arch))
		rc = fin_fail(&err, FIN_EUSAGE, "--init continues a saved model: no --model or --arch");
	else if (model_name && !fin_net_preset(model_name, 1, 1, archbuf, sizeof archbuf))
		rc = fin_fail(&err, FIN_EUSAGE, "--model: unknown model '%s'", model_name);
	else if (!(o.dp_clip > 0) && (dp_noise >= 0 || dp.epsilon > 0 || dp.delta > 0))
		rc = fin_fail(&err, FIN_EUSAGE, "--dp-noise, --dp-epsilon and --dp-delta are for "
			      "private training: give --dp-clip C");
	else if (o.dp_clip > 0 && dp_noise >= 0 && dp.epsilon > 0)
		rc = fin_fail(&err, FIN_EUSAGE, "give --dp-noise or --dp-epsilon, not both");
	else if (o.dp_clip > 0 && dp_noise < 0 && !(dp.epsilon > 0))
		rc = fin_fail(&err, FIN_EUSAGE, "--dp-clip needs the noise: --dp-noise SIGMA, or "
			      "--dp-epsilon E to find it");
	else if (init && (scale_none || stats_file || stats_only))
		rc = fin_fail(&err, FIN_EUSAGE, "--init keeps the saved model's scaling: no %s",
			      scale_none ? "--scale" : stats_file ? "--stats" : "--stats-only");
	else if (stats_only && o.dp_clip > 0)
		rc = fin_fail(&err, FIN_EUSAGE, "--stats-only writes exact statistics, not private "
			      "ones: no --dp-clip");
	else if (stats_file && (scale_none || stats_only))
		rc = fin_fail(&err, FIN_EUSAGE, "--stats scales the features: no %s",
			      scale_none ? "--scale none" : "--stats-only");
	if (rc == FIN_OK && stats_file)
		rc = fin_stats_load(&pooled, stats_file, &err);
	o.dp_noise = dp_noise > 0 ? dp_noise : 0;
	if (rc != FIN_OK)
		goto fail;
	if (model_name && task < 0 && strcmp(model_name, "logistic") == 0)
		task = FIN_TASK_BINARY;
	if (model_name && task < 0 && strcmp(model_name, "softmax") == 0)
		task = FIN_TASK_MULTICLASS;
	if (model_name && task < 0 && strcmp(model_name, "autoencoder") == 0)
		task = FIN_TASK_AUTOENCODER;
	if (task == FIN_TASK_GAN) {
		/* A GAN learns the rows themselves: there is no target, and
		 * every row is a training row unless --val holds out a tail. */
		spec.target = NULL;
		if (!val_given)
			val = 0;
	}
	if (task == FIN_TASK_AUTOENCODER) {
		/* The target of an autoencoder is its own standardised input. */
		if (cli.target) {
			rc = fin_fail(&err, FIN_EUSAGE, "an autoencoder has no target: no -y");
			goto fail;
		}
		spec.target = NULL;
	}

	if (init) {
		if ((rc = fin_model_load(&m, init, &err)) != FIN_OK)
			goto fail;
		if (m.task == FIN_TASK_GAN) {
			rc = fin_fail(&err, FIN_EMODEL, "%s: --init continues regression, classification "
				      "and autoencoder models, not a GAN", init);
			goto fail;
		}
		/* Training moves the weights away from any exact fit's. */
		fin_glm_fit_free(m.fit);
		m.fit = NULL;
		/* The saved model decides features, scaling and labels. */
		spec.columns = m.feat;
		spec.ncolumns = m.nfeat;
		spec.encoding = &m.enc;
		spec.exact = 1;
		spec.owner = init;
		spec.target = m.task == FIN_TASK_AUTOENCODER ? NULL : m.target ? m.target : spec.target;
	} else {
		spec.columns = cli.columns;
		spec.ncolumns = cli.ncolumns;
	}
	spec.keys = cli.keys;
	spec.nkeys = cli.nkeys;
	spec.key_order = !unsorted;
	spec.categorical = cli.text.categorical;
	spec.ncategorical = cli.text.ncategorical;
	spec.encode = cli.text.enc;
	spec.unseen_error = cli.text.unseen_error;
	/* A regression on every level of a text column and an intercept has
	 * no unique solution: its first level is the reference instead. */
	spec.encode.reference = model_name && (strcmp(model_name, "linear") == 0 ||
					       strcmp(model_name, "logistic") == 0 ||
					       strcmp(model_name, "softmax") == 0);
	if ((rc = fin_dist_usage(cli.threads, (size_t)(argc - optind), argv + optind, &err)) !=
	    FIN_OK)
		goto fail;
	in = fin_dist_open(argv + optind, (size_t)(argc - optind), &cli.csv, cli.shard, &err);
	if (in && val_file)
		vin = fin_input_open(&val_file, 1, &cli.csv, &err);
	/* The outputs once every input is open: neither may be one. */
	if (!in || (val_file && !vin) ||
	    (fin_dist_rank() == 0 &&
	     !(out = fin_out_file_open(cli.output, in, (char *[]){ init, val_file, stats_file }, 3,
				       &err))) ||
	    (log_path && fin_dist_rank() == 0 &&
	     !(prog.log = fin_out_file_open(log_path, in, (char *[]){ init, val_file, stats_file }, 3, &err)))) {
		rc = err.code;
		goto fail;
	}
	if (!cli.quiet && fin_input_is_tty(in))
		fputs("fin-train: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if ((rc = fin_time_key_take_cli(in, &spec, &cli, &tk, &note, &err)) != FIN_OK)
		goto fail;
	if (note)
		fin_report(cli.prog, note);
	if ((rc = fin_table_read(&t, in, &spec, &err)) != FIN_OK)
		goto fail;
	if (!cli.quiet && t.skipped)
		fprintf(stderr, "fin-train: %zu rows with missing values left out\n", t.skipped);
	if (!cli.quiet && t.filled)
		fprintf(stderr, "fin-train: %zu missing values filled forward\n", t.filled);
	prog.quiet = cli.quiet;
	prog.live = isatty(STDERR_FILENO);
	if (task == FIN_TASK_GAN && t.text) {
		rc = fin_fail(&err, FIN_EUSAGE, "a GAN learns number columns only: give -c");
		goto fail;
	}
	if (task == FIN_TASK_GAN) {
		gan.o.epochs = o.epochs;
		gan.o.batch = o.batch;
		gan.o.seed = o.seed;
		if (!lr_g)
			gan.o.lr_g = o.lr;
		if (!lr_d)
			gan.o.lr_d = o.lr;
		gan.val = val;
		gan.threads = (int)cli.threads;
		gan.quiet = cli.quiet;
		fin_gemm_threads((int)cli.threads);
		if (fin_dist_active()) {
			/* Every rank has its rows: they train together. */
			agreed = 1;
			if ((rc = fin_dist_agree_msg(FIN_OK, err.msg)) != FIN_OK)
				goto fail;
		}
		rc = train_gan(&gan, &t, cli.keys, cli.nkeys, out, &prog, &err);
		goto fail;
	}
	if (init) {
		size_t j;
		for (j = 0; j < m.nfeat; j++)
			if (j >= t.nfeat || strcmp(m.feat[j], t.feat[j]) != 0) {
				rc = fin_fail(&err, FIN_EDATA, "the input's features differ from the model's");
				goto fail;
			}
		task = (int)m.task;
	}
	/* Text among numbers is far likelier a bad value than a class: a
	 * guessed task never turns it into labels. */
	if (!t.y_numeric && (task == FIN_TASK_REGRESSION || (task < 0 && t.y_numbers > 0))) {
		rc = fin_fail(&err, FIN_EDATA,
			      "%s:%ld: column '%s': not a number: '%s' (for class labels, give "
			      "--task binary or --task multiclass)",
			      t.y_text_file, t.y_text_line, spec.target, t.y_text);
		goto fail;
	}
	if (task < 0)
		task = t.y_numeric ? FIN_TASK_REGRESSION : FIN_TASK_BINARY;
	/* Private training, and a model written untrained, go by gradient. */
	exact = model_name && fin_glm_preset(model_name) && task != FIN_TASK_AUTOENCODER &&
		!(o.dp_clip > 0) && o.epochs > 0;
	if (exact && !cli.quiet)
		note_unused(given, model_name);
	if (fin_dist_active() && exact) {
		rc = fin_fail(&err, FIN_EUSAGE, "an exact fit runs in one process, not under mpirun "
			      "(or give --arch to train it by gradient)");
		goto fail;
	}

	/* Validation is the chronological tail (or another file): the rows a
	 * model is judged on come after the rows it learned from. */
	ntrain = train_rows(&t, val_file ? 0 : val);
	if (ntrain == 0) {
		rc = fin_fail(&err, FIN_ENOROWS, "no training rows left after --val%s",
			      t.tied && t.rows > 1 && t.tied[t.rows - 1]
				      ? " (validation starts at the first row of the date the "
					"split falls in)"
				      : "");
		goto fail;
	}
	/* Levels of text columns from the training rows only. */
	if ((rc = fin_table_encode(&t, ntrain, &err)) != FIN_OK)
		goto fail;
	if (!init) {
		if ((rc = fin_model_setup(&m, &t, ntrain, (enum fin_task)task, cli.keys, cli.nkeys,
					  spec.target, &err)) != FIN_OK)
			goto fail;
		if (task == FIN_TASK_BINARY && m.nlabels > 2) {
			fin_model_free(&m);
			task = FIN_TASK_MULTICLASS;
			if ((rc = fin_model_setup(&m, &t, ntrain, (enum fin_task)task, cli.keys, cli.nkeys,
						  spec.target, &err)) != FIN_OK)
				goto fail;
		}
		/* A party's share of a pooled scaler, instead of a model. */
		if (stats_only) {
			rc = save_stats(&t, ntrain, (enum fin_task)task, spec.target, out, &err);
			goto fail;
		}
		if (stats_file && (rc = fin_stats_apply(&pooled, &m, &err)) != FIN_OK)
			goto fail;
		if (scale_none)
			fin_model_unscaled(&m);
		/* The model reads the input columns as the table did. */
		m.enc = t.enc;
		memset(&t.enc, 0, sizeof t.enc);
		m.loss = task == FIN_TASK_BINARY       ? FIN_LOSS_BCE
			 : task == FIN_TASK_MULTICLASS ? FIN_LOSS_SOFTMAX_CE
						       : FIN_LOSS_MSE;
		outputs = task == FIN_TASK_MULTICLASS    ? m.nlabels
			  : task == FIN_TASK_AUTOENCODER ? m.nfeat
							 : 1;
		if (!arch)
			arch = fin_net_preset(model_name ? model_name
						: task == FIN_TASK_AUTOENCODER ? "autoencoder"
										: "mlp",
					      outputs, bottleneck, archbuf, sizeof archbuf);
		if (dropout > 0) {
			if (fin_net_with_dropout(arch, dropout, dropbuf, sizeof dropbuf) != 0) {
				rc = fin_fail(&err, FIN_EUSAGE, "--arch is too long");
				goto fail;
			}
			arch = dropbuf;
		}
		if ((rc = fin_net_build(&m.net, arch, t.in_c, t.in_t, &err)) != FIN_OK)
			goto fail;
		if (m.net.out_size != outputs) {
			rc = fin_fail(&err, FIN_EUSAGE, "the network gives %zu outputs; the %s task needs %zu",
				      m.net.out_size, fin_task_name((enum fin_task)task), outputs);
			goto fail;
		}
		fin_net_init(&m.net, o.seed);
		m.bottleneck = fin_model_find_bottleneck(&m.net);
	}
	if ((rc = fin_model_encode(&m, &t, 0, ntrain, &xtr, &ytr, &err)) != FIN_OK)
		goto fail;
	vsrc = &t;
	vfrom = ntrain;
	vto = t.rows;
	if (val_file) {
		fin_table_spec vspec = spec;
		vspec.columns = m.feat;
		vspec.ncolumns = m.nfeat;
		vspec.encoding = &m.enc;
		vspec.exact = 1;
		vspec.owner = "the model";
		if ((rc = fin_table_read(&vt, vin, &vspec, &err)) != FIN_OK)
			goto fail;
		vsrc = &vt;
		vfrom = 0;
		vto = vt.rows;
	}
	if ((rc = fin_model_encode(&m, vsrc, vfrom, vto, &xva, &yva, &err)) != FIN_OK)
		goto fail;

	{
		fin_dataset dtr = { xtr, ytr ? ytr : xtr, ntrain, m.nfeat, m.net.out_size };
		fin_dataset dva = { xva, yva ? yva : xva, vto - vfrom, m.nfeat, m.net.out_size };
		lr = o.lr;
		if (o.dp_clip > 0) {
			dp.fitted_scale = !init && !scale_none && !stats_file;
			dp.text_levels = !init && m.enc.ncols > 0;
			dp.labels = !init && !stats_file && m.nlabels > 0;
			if ((rc = dp_before(&o, &dp, ntrain, &err)) != FIN_OK)
				goto fail;
		}
		/* Exact and private fits give --threads to the matrix products;
		 * other training shares each batch out among threads instead. */
		fin_gemm_threads(exact || o.dp_clip > 0 ? (int)cli.threads : 1);
		if (fin_dist_active()) {
			/* Every rank has its data and its network: they train together. */
			agreed = 1;
			if ((rc = fin_dist_agree_msg(FIN_OK, err.msg)) != FIN_OK)
				goto fail;
		}
		if (exact)
			rc = fit_exactly(&m, &t, ntrain, o.l2, &dtr, &dva, cli.quiet, &facts, &err);
		else
			rc = fin_train(&m.net, m.loss, &dtr, &dva, &o, on_epoch, &prog, &facts, &err);
		if (rc == FIN_OK && o.dp_clip > 0)
			rc = dp_after(&o, &dp, &facts, cli.quiet, &err);
		if (rc != FIN_OK)
			goto fail;
		if (!cli.quiet) {
			/* The errors below are those of the weights kept. */
			report_kept(&facts, &o, vto > vfrom);
			report(&m, &t, 0, ntrain, xtr, "training rows", &t, ntrain);
			if (vto > vfrom)
				report(&m, vsrc, vfrom, vto, xva, "validation rows", &t, ntrain);
		}
	}
	facts.seed = o.seed;
	facts.threads = (int)cli.threads;
	facts.batch = o.batch;
	facts.lr = lr;
	facts.l2 = o.l2;
	facts.clip = o.clip;
	facts.rows_train = ntrain;
	facts.rows_val = vto - vfrom;
	snprintf(facts.optimizer, sizeof facts.optimizer, "%s", fin_optim_name(o.optimizer));
	/* A party's model stays in the federated round it was given. */
	if (init)
		facts.round = m.facts.round;
	m.facts = facts;
	if (m.fit)
		exact_facts(&m.facts, m.fit);
	if (fin_dist_rank() == 0)
		rc = fin_model_save(&m, out, &err);
fail:
	/* A rank that stopped before the ranks train together says so to the
	 * others there. */
	if (fin_dist_active() && !agreed)
		rc = fin_dist_agree_msg(rc, err.msg);
	/* The log and the model are made final only by a run that succeeded. */
	if (rc == FIN_OK && prog.log) {
		rc = fin_out_file_commit(prog.log, &err);
		prog.log = NULL;
	}
	if (rc == FIN_OK && out) {
		rc = fin_out_file_commit(out, &err);
		out = NULL;
	}
	/* Notes of the columns, once the run succeeded: a failure is one line. */
	if (rc == FIN_OK && !cli.quiet)
		fin_notes_print("fin-train", t.notes, t.nnotes);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-train", err.msg);
	fin_out_file_discard(prog.log);
	fin_out_file_discard(out);
	fin_input_close(in);
	fin_input_close(vin);
	fin_table_free(&t);
	fin_table_free(&vt);
	fin_model_free(&m);
	free(xtr);
	free(ytr);
	free(xva);
	free(yva);
	fin_cli_free(&cli);
	fin_stats_free(&pooled);
	return rc;
}
