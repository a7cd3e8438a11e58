#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nn/team.h"

enum job { JOB_STEP, JOB_LOSS, JOB_QUIT };

/* A barrier for the few threads of a team, met three times a batch: a
 * thread that arrives early spins a while, as the others are usually a
 * few microseconds behind, then sleeps on a futex. (A pthread barrier
 * always sleeps, and waking costs tens of microseconds on some systems,
 * as much as a small batch's share of work.) */
struct barrier {
	atomic_uint arrived;  /* threads at the barrier in this round */
	atomic_uint round;    /* rounds completed; the futex word */
	atomic_uint sleeping; /* threads asleep on round */
	unsigned n;
};

enum { SPINS = 4000 };

/* Tells the core that this is a spin loop (x86's pause), where there is one. */
static void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static long futex(atomic_uint *word, int op, unsigned val)
{
	return syscall(SYS_futex, (unsigned *)word, op, val, NULL, NULL, 0);
}

static void barrier_wait(struct barrier *b)
{
	unsigned round = atomic_load(&b->round);
	int i;

	if (atomic_fetch_add(&b->arrived, 1) + 1 == b->n) {
		atomic_store(&b->arrived, 0);
		atomic_fetch_add(&b->round, 1);
		if (atomic_load(&b->sleeping))
			futex(&b->round, FUTEX_WAKE_PRIVATE, INT_MAX);
		return;
	}
	for (i = 0; i < SPINS; i++) {
		if (atomic_load_explicit(&b->round, memory_order_acquire) != round)
			return;
		spin_pause();
	}
	atomic_fetch_add(&b->sleeping, 1);
	/* Returns at once when the round has moved on since it was read. */
	while (atomic_load(&b->round) == round)
		futex(&b->round, FUTEX_WAIT_PRIVATE, round);
	atomic_fetch_sub(&b->sleeping, 1);
}

struct member {
	struct fin_team *team;
	size_t index;
	fin_net own;      /* the replica (member 0 uses the caller's network) */
	fin_net *net;
	float *dout;      /* [cap][out_size] */
	double total;     /* the losses of its rows */
	pthread_t thread;
};

struct fin_team {
	fin_net *net;
	size_t threads, cap, kw;
	struct member *m;
	struct barrier start, mid, done;
	/* Threads wait here until every one of them has been created, or
	 * leave when one could not be. */
	pthread_mutex_t gate;
	pthread_cond_t opened;
	int open, abandoned;
	/* The job in hand, set by the caller before the start barrier. */
	enum job job;
	enum fin_loss loss;
	const float *x, *y;
	size_t n;
	fin_optim *opt;
};

/* Part k of [0, n) in equal parts, their ends rounded to a multiple of
 * align (the last part takes the rest). */
static void share(size_t n, size_t parts, size_t k, size_t align, size_t *from, size_t *to)
{
	size_t a = n / parts * k, b = n / parts * (k + 1);

	*from = k ? a / align * align : 0;
	*to = k + 1 == parts ? n : b / align * align;
	if (*to < *from)
		*to = *from;
}

/* Forward and backward over the member's share of the batch, its gradient
 * of the batch's mean loss left in its network's grads. */
static void member_gradient(struct member *me)
{
	fin_team *t = me->team;
	fin_net *net = me->net;
	size_t from, to, n, d = net->in_c * net->in_t, i;
	const float *out;
	float scale;

	share(t->n, t->threads, me->index, 1, &from, &to);
	memset(net->grads, 0, net->nparams * sizeof *net->grads);
	me->total = 0;
	if (!(n = to - from))
		return;
	out = fin_net_forward(net, t->x + from * d, n, 1);
	me->total = fin_loss(t->loss, out, t->y + from * t->kw, n, net->out_size, me->dout) *
		    (double)n;
	/* fin_loss's gradient is of the mean over these n rows; the batch's
	 * mean weighs them by n of all its rows. */
	scale = (float)n / (float)t->n;
	for (i = 0; i < n * net->out_size; i++)
		me->dout[i] *= scale;
	fin_net_backward(net, me->dout, NULL, n);
}

/* Sums the members' gradients of the member's share of the parameters into
 * the first member's, and updates that share unless clipping must see the
 * whole gradient first. */
static void member_update(struct member *me)
{
	fin_team *t = me->team;
	float *g = t->net->grads;
	size_t from, to, k, j;

	share(t->net->nparams, t->threads, me->index, 16, &from, &to);
	for (k = 1; k < t->threads; k++) {
		const float *gk = t->m[k].net->grads;
		for (j = from; j < to; j++)
			g[j] += gk[j];
	}
	if (!(t->opt->clip > 0))
		fin_optim_update(t->opt, t->net->params, g, from, to);
}

static void member_loss(struct member *me)
{
	fin_team *t = me->team;
	fin_net *net = me->net;
	size_t from, to, at, d = net->in_c * net->in_t;

	share(t->n, t->threads, me->index, 1, &from, &to);
	me->total = 0;
	for (at = from; at < to; at += t->cap) {
		size_t n = to - at < t->cap ? to - at : t->cap;
		const float *out = fin_net_forward(net, t->x + at * d, n, 0);
		me->total += fin_loss(t->loss, out, t->y + at * t->kw, n, net->out_size, NULL) *
			     (double)n;
	}
}

/* The member's part of the job in hand; 0 when it is to quit. */
static int member_work(struct member *me)
{
	fin_team *t = me->team;

	switch (t->job) {
	case JOB_STEP:
		member_gradient(me);
		barrier_wait(&t->mid);
		member_update(me);
		break;
	case JOB_LOSS:
		member_loss(me);
		break;
	case JOB_QUIT:
		return 0;
	}
	barrier_wait(&t->done);
	return 1;
}

static void *member_main(void *arg)
{
	struct member *me = arg;
	fin_team *t = me->team;
	int abandoned;

	pthread_mutex_lock(&t->gate);
	while (!t->open)
		pthread_cond_wait(&t->opened, &t->gate);
	abandoned = t->abandoned;
	pthread_mutex_unlock(&t->gate);
	if (abandoned)
		return NULL;
	do
		barrier_wait(&me->team->start);
	while (member_work(me));
	return NULL;
}

/* Lets the threads created so far go: to work, or to leave. */
static void open_gate(fin_team *t, int abandoned)
{
	pthread_mutex_lock(&t->gate);
	t->open = 1;
	t->abandoned = abandoned;
	pthread_cond_broadcast(&t->opened);
	pthread_mutex_unlock(&t->gate);
}

static void free_members(fin_team *t)
{
	size_t k;

	for (k = 0; t->m && k < t->threads; k++) {
		free(t->m[k].dout);
		if (k)
			fin_net_free(&t->m[k].own);
	}
	free(t->m);
}

fin_team *fin_team_start(fin_net *net, size_t threads, size_t cap, size_t kw,
			 unsigned long seed)
{
	fin_team *t = calloc(1, sizeof *t);
	size_t k, created = 0;

	if (!t)
		return NULL;
	t->net = net;
	t->threads = threads;
	t->cap = cap;
	t->kw = kw;
	t->m = calloc(threads, sizeof *t->m);
	if (!t->m || fin_net_reserve(net, cap) != 0)
		goto fail;
	for (k = 0; k < threads; k++) {
		struct member *me = &t->m[k];
		me->team = t;
		me->index = k;
		me->net = k ? &me->own : net;
		/* Each replica's dropout has a stream of its own. */
		if ((k && fin_net_replica(&me->own, net, seed ^ (0x9e3779b97f4a7c15UL * k))) ||
		    fin_net_reserve(me->net, cap) != 0 ||
		    !(me->dout = malloc(cap * net->out_size * sizeof *me->dout)))
			goto fail;
	}
	if (pthread_mutex_init(&t->gate, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&t->opened, NULL) != 0)
		goto fail_mutex;
	t->start.n = t->mid.n = t->done.n = (unsigned)threads;
	for (created = 1; created < threads; created++)
		if (pthread_create(&t->m[created].thread, NULL, member_main, &t->m[created]) != 0)
			break;
	open_gate(t, created < threads);
	if (created == threads)
		return t;
	for (k = 1; k < created; k++)
		pthread_join(t->m[k].thread, NULL);
	pthread_cond_destroy(&t->opened);
fail_mutex:
	pthread_mutex_destroy(&t->gate);
fail:
	free_members(t);
	free(t);
	return NULL;
}

void fin_team_stop(fin_team *t)
{
	size_t k;

	if (!t)
		return;
	t->job = JOB_QUIT;
	barrier_wait(&t->start);
	for (k = 1; k < t->threads; k++)
		pthread_join(t->m[k].thread, NULL);
	pthread_cond_destroy(&t->opened);
	pthread_mutex_destroy(&t->gate);
	free_members(t);
	free(t);
}

static double sum_totals(const fin_team *t)
{
	double total = 0;
	size_t k;

	for (k = 0; k < t->threads; k++)
		total += t->m[k].total;
	return total;
}

double fin_team_step(fin_team *t, enum fin_loss loss, const float *x, const float *y, size_t n,
		     fin_optim *opt)
{
	t->job = JOB_STEP;
	t->loss = loss;
	t->x = x;
	t->y = y;
	t->n = n;
	t->opt = opt;
	fin_optim_count(opt);
	barrier_wait(&t->start);
	member_work(&t->m[0]);
	if (opt->clip > 0) {
		fin_optim_clip(opt, t->net->grads);
		fin_optim_update(opt, t->net->params, t->net->grads, 0, t->net->nparams);
	}
	return sum_totals(t);
}

double fin_team_loss(fin_team *t, enum fin_loss loss, const float *x, const float *y, size_t n)
{
	t->job = JOB_LOSS;
	t->loss = loss;
	t->x = x;
	t->y = y;
	t->n = n;
	barrier_wait(&t->start);
	member_work(&t->m[0]);
	return sum_totals(t);
}
