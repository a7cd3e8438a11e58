/* Features taken together: each alone, or for windows (features named
 * <base>_<lag>, as fin-window writes them) every channel of one time step,
 * or every step of one channel. Permutation importance shuffles a group's
 * columns as one; attributions of a group are the sum of its features'. */
#ifndef FIN_FEATURE_GROUPS_H
#define FIN_FEATURE_GROUPS_H

#include <stddef.h>

#include "core/err.h"

enum fin_group_by { FIN_BY_FEATURE, FIN_BY_STEP, FIN_BY_CHANNEL };

/* -1 when s is none of feature, step and channel. */
int fin_group_by_parse(const char *s);

typedef struct fin_feature_groups {
	enum fin_group_by by;
	const char *header;  /* what a group is: feature, lag or channel */
	size_t n;            /* groups */
	char **names;        /* [n]: the feature; the lag, 0 the latest step; the base */
	size_t nfeat;
	size_t *of;          /* [nfeat]: the group of each feature */
} fin_feature_groups;

/* The groups of the features feat[0..nfeat): by lag (lag 0 first) or by
 * base (in the order the bases first appear) when every name is
 * <base>_<lag> with the lags 0..T-1 of every base, T at least 2; else
 * FIN_EUSAGE, naming the option. */
int fin_feature_groups_make(fin_feature_groups *g, enum fin_group_by by, char *const *feat,
			    size_t nfeat, fin_err *err);
void fin_feature_groups_free(fin_feature_groups *g);

/* Sums the values of n rows of nfeat features ([n][nfeat]) by group, into
 * out ([n][g->n]). */
void fin_feature_groups_sum(const fin_feature_groups *g, const double *v, size_t n, double *out);

#endif
