#include <gsl/gsl_randist.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/table.h"
#include "nn/dp_sgd.h"
#include "nn/gemm.h"
#include "nn/team.h"
#include "nn/train.h"
#include "par/dist.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Target width per row: class indices take one value. */
static size_t target_width(enum fin_loss loss, const fin_dataset *d)
{
	return loss == FIN_LOSS_SOFTMAX_CE ? 1 : d->k;
}

double fin_evaluate(fin_net *net, enum fin_loss loss, const fin_dataset *data, size_t batch)
{
	size_t at, kw = target_width(loss, data);
	double total = 0;

	if (data->n == 0)
		return NAN;
	for (at = 0; at < data->n; at += batch) {
		size_t n = data->n - at < batch ? data->n - at : batch;
		const float *out = fin_net_forward(net, data->x + at * data->d, n, 0);
		total += fin_loss(loss, out, data->y + at * kw, n, net->out_size, NULL) * (double)n;
	}
	return total / (double)data->n;
}

/* The same, with the rows shared out among a team's threads, or among
 * the ranks of a job (each evaluates its part; the sums are added). */
static double team_evaluate(fin_net *net, fin_team *team, enum fin_loss loss,
			    const fin_dataset *data, size_t batch)
{
	if (fin_dist_active()) {
		size_t from, to, kw = target_width(loss, data);
		double total = 0;
		fin_dist_part(data->n, &from, &to);
		if (to > from) {
			fin_dataset part = { data->x + from * data->d, data->y + from * kw, to - from,
					     data->d, data->k };
			total = fin_evaluate(net, loss, &part, batch) * (double)(to - from);
		}
		fin_dist_sum_doubles(&total, 1);
		return data->n ? total / (double)data->n : NAN;
	}
	if (!team)
		return fin_evaluate(net, loss, data, batch);
	return data->n ? fin_team_loss(team, loss, data->x, data->y, data->n) / (double)data->n
		       : NAN;
}

/* Copies rows idx[0..n) of data into x and y. */
static void gather(const fin_dataset *data, size_t kw, const size_t *idx, size_t n, float *x,
		   float *y)
{
	size_t r;

	for (r = 0; r < n; r++) {
		memcpy(x + r * data->d, data->x + idx[r] * data->d, data->d * sizeof *x);
		memcpy(y + r * kw, data->y + idx[r] * kw, kw * sizeof *y);
	}
}

/* What a job's ranks keep between their steps. A dense layer whose
 * weight gradient is larger than the rows it is formed from (batch x
 * (inputs + units) values against units x inputs) is not summed over the
 * ranks: each rank's rows of its inputs and output gradients go round
 * instead, and every rank forms its part of the gradient from all of
 * them, as one process forms it from the batch. The seed CNN's first
 * dense layer sends a quarter of the values it would otherwise. */
typedef struct {
	float *work;      /* twice a rank's part of the gradient */
	size_t nshared;   /* such dense layers */
	size_t *shared;   /* their places in the network */
	float **x, **dy;  /* theirs: [batch][inputs], [batch][units] */
	size_t *skip;     /* [2 * 2 * nshared] their parameters' ranges, sorted */
} rank_job;

static void rank_job_free(rank_job *j)
{
	size_t k;

	for (k = 0; j->x && k < j->nshared; k++) {
		free(j->x[k]);
		free(j->dy[k]);
	}
	free(j->x);
	free(j->dy);
	free(j->shared);
	free(j->skip);
	free(j->work);
}

static int by_start(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Whether a dense layer's gradient goes by rows in batches of batch
 * (rank_job): fewer values, and few enough for one exchange. */
static int by_rows(const fin_layer *l, size_t batch)
{
	size_t in = l->in_c * l->in_t;

	return l->kind == FIN_L_DENSE && batch * (in + l->units) < in * l->units &&
	       batch * (in + l->units) <= INT_MAX;
}

/* 0, or -1 out of memory; share: the dense layers may go by rows (not
 * with --clip, which needs the whole gradient's norm). */
static int rank_job_init(rank_job *j, const fin_net *net, size_t batch, int share)
{
	size_t i, k = 0;

	memset(j, 0, sizeof *j);
	if (!(j->work = malloc(2 * (net->nparams / (size_t)fin_dist_size() + 1) * sizeof *j->work)))
		return -1;
	for (i = 0; share && i < net->nlayers; i++)
		j->nshared += by_rows(&net->layers[i], batch);
	if (!j->nshared)
		return 0;
	if (!(j->shared = malloc(j->nshared * sizeof *j->shared)) ||
	    !(j->skip = malloc(4 * j->nshared * sizeof *j->skip)) ||
	    !(j->x = calloc(j->nshared, sizeof *j->x)) ||
	    !(j->dy = calloc(j->nshared, sizeof *j->dy)))
		return -1;
	for (i = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		size_t in = l->in_c * l->in_t;
		if (!by_rows(l, batch))
			continue;
		j->shared[k] = i;
		j->skip[4 * k] = l->w;
		j->skip[4 * k + 1] = l->w + l->nweights;
		j->skip[4 * k + 2] = l->b;
		j->skip[4 * k + 3] = l->b + l->nbiases;
		if (!(j->x[k] = malloc(batch * in * sizeof *j->x[k])) ||
		    !(j->dy[k] = malloc(batch * l->units * sizeof *j->dy[k])))
			return -1;
		k++;
	}
	qsort(j->skip, 2 * j->nshared, 2 * sizeof *j->skip, by_start);
	return 0;
}

/* Layer l's gradient in the parameters [from, to) from every rank's rows
 * of the batch of n (rank_job): the rows no rank formed in its backward
 * pass go round, then the same product as one process's, limited to the
 * units whose weights fall in the part. */
static void shared_grads(const fin_layer *l, float *g, float *x, float *dy, size_t n, size_t from,
			 size_t to)
{
	size_t in = l->in_c * l->in_t, lo, hi, s, u;

	fin_dist_gather_rows(x, n, in);
	fin_dist_gather_rows(dy, n, l->units);
	lo = from > l->w ? from : l->w;
	hi = to < l->w + l->nweights ? to : l->w + l->nweights;
	if (lo < hi) {
		size_t u0 = (lo - l->w) / in, u1 = (hi - l->w + in - 1) / in;
		fin_gemm(1, 0, u1 - u0, in, n, 1, dy + u0, l->units, x, in, 0, g + l->w + u0 * in,
			 in);
	}
	lo = from > l->b ? from : l->b;
	hi = to < l->b + l->units ? to : l->b + l->units;
	for (u = lo; u < hi; u++) {
		float sum = 0;
		for (s = 0; s < n; s++)
			sum += dy[s * l->units + u - l->b];
		g[u] = sum;
	}
}

/* One step of a job's ranks on the n rows idx of a batch: this rank's
 * part of them, its gradient of the batch's mean loss (its rows' loss
 * gradients over n), the gradients summed over the ranks, and the same
 * update on every rank. Returns the sum of this rank's rows' losses. */
static double rank_step(fin_net *net, enum fin_loss loss, const fin_dataset *train, size_t kw,
			const size_t *idx, size_t n, float *xb, float *yb, float *dout,
			fin_optim *opt, rank_job *job)
{
	size_t from, to, m, i, k;
	double total = 0;

	fin_dist_part(n, &from, &to);
	m = to - from;
	/* The shared layers' gradients are written whole (shared_grads). */
	for (i = k = 0; i < net->nparams; i = job->skip[2 * k + 1], k++) {
		size_t end = k < 2 * job->nshared ? job->skip[2 * k] : net->nparams;
		memset(net->grads + i, 0, (end - i) * sizeof *net->grads);
		if (k == 2 * job->nshared)
			break;
	}
	for (k = 0; k < job->nshared; k++) {
		fin_layer *l = &net->layers[job->shared[k]];
		l->share_x = job->x[k] + from * l->in_c * l->in_t;
		l->share_dy = job->dy[k] + from * l->units;
	}
	if (m) {
		const float *out;
		float scale = (float)m / (float)n;
		gather(train, kw, idx + from, m, xb, yb);
		out = fin_net_forward(net, xb, m, 1);
		total = fin_loss(loss, out, yb, m, net->out_size, dout) * (double)m;
		if (m < n)
			for (i = 0; i < m * net->out_size; i++)
				dout[i] *= scale;
		fin_net_backward(net, dout, NULL, m);
	}
	for (k = 0; k < job->nshared; k++)
		net->layers[job->shared[k]].share_x = net->layers[job->shared[k]].share_dy = NULL;
	if (opt->clip > 0) {
		/* Clipping takes the whole gradient's norm. */
		fin_dist_sum_floats(net->grads, net->nparams);
		fin_optim_step(opt, net->params, net->grads);
		return total;
	}
	/* Each rank updates its part of the parameters from the sums of its
	 * part of the gradient, and the parts go round: the optimizer's work
	 * is divided too, for the traffic of one all-reduce. */
	fin_dist_part(net->nparams, &from, &to);
	for (k = 0; k < job->nshared; k++)
		shared_grads(&net->layers[job->shared[k]], net->grads, job->x[k], job->dy[k], n,
			     from, to);
	fin_dist_sum_part_floats(net->grads, net->nparams, job->work, job->skip,
				 2 * job->nshared);
	fin_optim_count(opt);
	fin_optim_update(opt, net->params, net->grads, from, to);
	fin_dist_share_part_floats(net->params, net->nparams);
	return total;
}

/* One epoch of plain minibatch SGD over a shuffled order: the mean loss. */
static double sgd_epoch(fin_net *net, enum fin_loss loss, const fin_dataset *train, size_t kw,
			const fin_train_opts *o, size_t *order, float *xb, float *yb, float *dout,
			fin_optim *opt, fin_team *team, gsl_rng *shuffle, rank_job *job)
{
	double total = 0;
	size_t at;

	/* Shuffling stays inside the training rows: validation rows are the
	 * chronological tail and are never mixed in. */
	gsl_ran_shuffle(shuffle, order, train->n, sizeof *order);
	for (at = 0; at < train->n; at += o->batch) {
		size_t n = train->n - at < o->batch ? train->n - at : o->batch;
		const float *out;
		if (fin_dist_active()) {
			total += rank_step(net, loss, train, kw, order + at, n, xb, yb, dout, opt,
					   job);
			continue;
		}
		gather(train, kw, order + at, n, xb, yb);
		if (team) {
			total += fin_team_step(team, loss, xb, yb, n, opt);
			continue;
		}
		memset(net->grads, 0, net->nparams * sizeof *net->grads);
		out = fin_net_forward(net, xb, n, 1);
		total += fin_loss(loss, out, yb, n, net->out_size, dout) * (double)n;
		fin_net_backward(net, dout, NULL, n);
		fin_optim_step(opt, net->params, net->grads);
	}
	if (fin_dist_active())
		fin_dist_sum_doubles(&total, 1);
	return total / (double)train->n;
}

/* One epoch of DP-SGD: as many Poisson batches as an epoch has steps;
 * the mean loss of the rows drawn, or -1 when out of memory. Batches are
 * drawn, and noise added, from draw: on every rank of a job alike, where
 * each rank sums the clipped gradients of its part of a batch. */
static double dp_epoch(fin_net *net, enum fin_loss loss, const fin_dataset *train, size_t kw,
		       const fin_train_opts *o, fin_dp_sgd *dp, size_t *idx, float **xb,
		       float **yb, size_t *cap, fin_optim *opt, gsl_rng *draw)
{
	size_t steps = fin_dp_steps_per_epoch(train->n, o->batch), seen = 0, step;
	double total = 0;

	for (step = 0; step < steps; step++) {
		size_t n = fin_dp_sample(dp, draw, train->n, idx), from = 0, to = n;
		if (fin_dist_active())
			fin_dist_part(n, &from, &to);
		if (to - from > *cap) {
			float *x = realloc(*xb, (to - from) * train->d * sizeof *x), *y;
			if (x)
				*xb = x;
			y = x ? realloc(*yb, (to - from) * kw * sizeof *y) : NULL;
			if (!y)
				return -1;
			*yb = y;
			*cap = to - from;
		}
		gather(train, kw, idx + from, to - from, *xb, *yb);
		if (fin_dp_clipped_sum(dp, net, loss, *xb, *yb, to - from, &total) != 0)
			return -1;
		fin_dist_sum_floats(net->grads, net->nparams);
		fin_dp_noise(dp, net, draw);
		fin_optim_step(opt, net->params, net->grads);
		seen += n;
	}
	if (fin_dist_active())
		fin_dist_sum_doubles(&total, 1);
	return seen ? total / (double)seen : 0;
}

int fin_train(fin_net *net, enum fin_loss loss, const fin_dataset *train, const fin_dataset *val,
	      const fin_train_opts *o, fin_epoch_fn progress, void *ctx, fin_train_facts *facts,
	      fin_err *err)
{
	size_t kw = target_width(loss, train), epoch, since_best = 0, i;
	size_t *order = malloc(train->n * sizeof *order);
	float *xb = malloc(o->batch * train->d * sizeof *xb);
	float *yb = malloc(o->batch * kw * sizeof *yb);
	float *dout = malloc(o->batch * net->out_size * sizeof *dout);
	float *best = malloc(net->nparams * sizeof *best);
	double best_loss = INFINITY, start = now();
	double recent[FIN_OVERFIT_EPOCHS]; /* the last epochs' validation losses */
	int validating = val && val->n, keep_best = validating || o->patience;
	fin_optim opt = { 0 };
	fin_dp_sgd dp = { 0 };
	fin_team *team = NULL;
	gsl_rng *shuffle = NULL;
	rank_job job = { 0 };
	size_t cap = o->batch;
	int rc = FIN_OK, private = o->dp_clip > 0;

	if (!order || !xb || !yb || !dout || !best || fin_net_reserve(net, o->batch) != 0 ||
	    fin_optim_init(&opt, o->optimizer, o->lr, net->nparams) != 0 ||
	    (private &&
	     fin_dp_sgd_init(&dp, net, o->dp_clip, o->dp_noise, train->n, o->batch) != 0) ||
	    (fin_dist_active() &&
	     (!(shuffle = gsl_rng_alloc(gsl_rng_mt19937)) ||
	      rank_job_init(&job, net, o->batch, !private && o->clip <= 0) != 0)))
		rc = fin_fail(err, FIN_EDATA, "out of memory for training");
	/* In a job, every rank goes on, or none does. */
	if (fin_dist_active())
		rc = fin_dist_agree_msg(rc, err->msg);
	if (rc != FIN_OK)
		goto done;
	opt.l2 = o->l2;
	opt.clip = o->clip;
	if (o->threads > 1 && !private) {
		/* The threads share each batch; a matrix product of a share is
		 * small, and BLAS threads of their own would only compete. */
		if (!(team = fin_team_start(net, o->threads, o->batch, kw, o->seed))) {
			rc = fin_fail(err, FIN_EDATA, "cannot start %zu threads for training",
				      o->threads);
			goto done;
		}
		fin_gemm_threads(1);
	}
	for (i = 0; i < train->n; i++)
		order[i] = i;
	gsl_rng_set(net->rng, o->seed);
	if (fin_dist_active()) {
		/* Every rank shuffles alike, from a generator of its own that
		 * dropout does not draw from: without dropout, the same order as
		 * one process. Each rank's dropout draws from its own seed. */
		gsl_rng_set(shuffle, o->seed);
		gsl_rng_set(net->rng, o->seed + 7919 * (unsigned long)fin_dist_rank());
	}
	memcpy(best, net->params, net->nparams * sizeof *best);
	facts->epochs = o->epochs;
	facts->overfits = 0;
	facts->last_val_loss = NAN;
	for (epoch = 1; epoch <= o->epochs; epoch++) {
		fin_epoch e = { .epoch = epoch, .epochs = o->epochs };
		double watched;

		if (private) {
			e.train_loss = dp_epoch(net, loss, train, kw, o, &dp, order, &xb, &yb, &cap,
						&opt, shuffle ? shuffle : net->rng);
			if (e.train_loss < 0) {
				rc = fin_fail(err, FIN_EDATA, "out of memory for training");
				/* The other ranks wait for this one's gradient. */
				if (fin_dist_active())
					fin_dist_abort(rc);
				goto done;
			}
		} else {
			e.train_loss =
				sgd_epoch(net, loss, train, kw, o, order, xb, yb, dout, &opt, team,
					  shuffle ? shuffle : net->rng, &job);
		}
		/* Rank 0's weights to every rank, in case a reduction gave the
		 * ranks different last bits (see par/dist.h). */
		fin_dist_broadcast(net->params, net->nparams * sizeof *net->params, 0);
		e.val_loss = val && val->n ? team_evaluate(net, team, loss, val, o->batch) : NAN;
		if (!isfinite(e.train_loss)) {
			rc = fin_fail(err, FIN_EDATA,
				      "epoch %zu: the loss is no longer finite (try a lower --lr or --clip)",
				      epoch);
			goto done;
		}
		watched = isnan(e.val_loss) ? e.train_loss : e.val_loss;
		e.best = watched < best_loss;
		if (e.best) {
			best_loss = watched;
			facts->best_epoch = epoch;
			since_best = 0;
			memcpy(best, net->params, net->nparams * sizeof *best);
		} else {
			since_best++;
		}
		e.seconds = now() - start;
		recent[(epoch - 1) % FIN_OVERFIT_EPOCHS] = e.val_loss;
		facts->epochs_run = epoch;
		facts->train_loss = e.train_loss;
		facts->val_loss = facts->last_val_loss = e.val_loss;
		if (progress)
			progress(ctx, &e);
		if (o->patience && since_best >= o->patience)
			break;
	}
	/* The weights of the best epoch come back, as if training had stopped
	 * there: the epochs after it only fitted the training rows closer. */
	facts->kept_epoch = keep_best ? facts->best_epoch : facts->epochs_run;
	if (keep_best)
		memcpy(net->params, best, net->nparams * sizeof *best);
	if (validating && facts->epochs_run) {
		size_t n = facts->epochs_run < FIN_OVERFIT_EPOCHS ? facts->epochs_run
								  : FIN_OVERFIT_EPOCHS;
		facts->overfits = 1;
		for (i = 0; i < n; i++)
			facts->overfits &= recent[i] > FIN_OVERFIT_RATIO * best_loss;
	}
	/* The losses of the weights kept, not the running mean of an epoch. */
	facts->train_loss = team_evaluate(net, team, loss, train, o->batch);
	facts->val_loss = validating ? team_evaluate(net, team, loss, val, o->batch) : NAN;
	if (private) {
		double counts[2] = { (double)dp.clipped, (double)dp.rows_seen };
		fin_dist_sum_doubles(counts, 2);
		facts->dp_steps = facts->epochs_run * fin_dp_steps_per_epoch(train->n, o->batch);
		facts->dp_clipped = counts[1] > 0 ? counts[0] / counts[1] : 0;
	}
done:
	if (shuffle)
		gsl_rng_free(shuffle);
	rank_job_free(&job);
	fin_team_stop(team);
	fin_dp_sgd_free(&dp);
	fin_optim_free(&opt);
	free(order);
	free(xb);
	free(yb);
	free(dout);
	free(best);
	return rc;
}

int fin_train_autoencoder(fin_model *m, const struct fin_table *t, size_t bottleneck,
			  const fin_train_opts *o, fin_err *err)
{
	char arch[256];
	float *x = NULL, *unused = NULL;
	fin_dataset none = { 0 };
	int rc;

	if ((rc = fin_model_setup(m, t, t->rows, FIN_TASK_AUTOENCODER, NULL, 0, NULL, err)) != FIN_OK)
		return rc;
	m->loss = FIN_LOSS_MSE;
	fin_net_preset("autoencoder", t->nfeat, bottleneck, arch, sizeof arch);
	if ((rc = fin_net_build(&m->net, arch, t->in_c, t->in_t, err)) != FIN_OK)
		return rc;
	fin_net_init(&m->net, o->seed);
	m->bottleneck = fin_model_find_bottleneck(&m->net);
	if ((rc = fin_model_encode(m, t, 0, t->rows, &x, &unused, err)) == FIN_OK) {
		fin_dataset all = { x, x, t->rows, m->nfeat, m->nfeat };
		rc = fin_train(&m->net, m->loss, &all, &none, o, NULL, NULL, &m->facts, err);
		m->facts.seed = o->seed;
		m->facts.batch = o->batch;
		m->facts.lr = o->lr;
		m->facts.rows_train = t->rows;
		snprintf(m->facts.optimizer, sizeof m->facts.optimizer, "%s",
			 fin_optim_name(o->optimizer));
	}
	free(x);
	free(unused);
	return rc;
}
