/* Threads that share each batch of a network's training. Every thread
 * runs the forward and backward passes of its share of the batch's rows
 * on a replica of the network (the same parameters, its own work space
 * and gradients); the gradients are summed and the optimizer's update is
 * shared out by parameters. The rows of a batch go to the threads in
 * order, in equal parts, and the gradients are summed in the order of
 * the threads, so a given number of threads gives the same bits on every
 * run; another number sums in another order. */
#ifndef FIN_TEAM_H
#define FIN_TEAM_H

#include <stddef.h>

#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"

typedef struct fin_team fin_team;

/* Starts threads - 1 threads beside the caller's for net, for batches of
 * up to cap rows with targets of kw values per row; replica k's dropout
 * draws from a generator seeded from seed and k. NULL without memory or
 * threads. */
fin_team *fin_team_start(fin_net *net, size_t threads, size_t cap, size_t kw,
			 unsigned long seed);
void fin_team_stop(fin_team *t);

/* One training step on the n rows x ([n][d]) with targets y ([n][kw]):
 * the gradient of the batch's mean loss, then opt's update of the
 * parameters (clipping the whole gradient first when opt->clip is set).
 * Returns the sum of the rows' losses. */
double fin_team_step(fin_team *t, enum fin_loss loss, const float *x, const float *y, size_t n,
		     fin_optim *opt);

/* The sum of the losses of the n rows, in inference mode, in batches of
 * up to the team's cap rows per thread. */
double fin_team_loss(fin_team *t, enum fin_loss loss, const float *x, const float *y, size_t n);

#endif
