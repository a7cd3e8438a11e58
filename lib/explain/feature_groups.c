#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/feature_groups.h"
#include "features/table.h"

static const char *const by_names[] = { "feature", "step", "channel" };

int fin_group_by_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof by_names / sizeof *by_names; i++)
		if (strcmp(s, by_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The group of each feature by its lag or its base, and the groups'
 * names; the names have been checked to form a window. */
static int window_groups(fin_feature_groups *g, char *const *feat, size_t nfeat, size_t steps)
{
	size_t j, k, lag, len;

	g->n = g->by == FIN_BY_STEP ? steps : nfeat / steps;
	if (!(g->names = calloc(g->n, sizeof *g->names)))
		return -1;
	if (g->by == FIN_BY_STEP) {
		for (k = 0; k < steps; k++) {
			char name[24];
			snprintf(name, sizeof name, "%zu", k);
			if (!(g->names[k] = strdup(name)))
				return -1;
		}
		for (j = 0; j < nfeat; j++) {
			fin_split_lag(feat[j], &lag);
			g->of[j] = lag;
		}
		return 0;
	}
	g->n = 0;
	for (j = 0; j < nfeat; j++) {
		len = fin_split_lag(feat[j], &lag);
		for (k = 0; k < g->n; k++)
			if (strlen(g->names[k]) == len && memcmp(g->names[k], feat[j], len) == 0)
				break;
		if (k == g->n && !(g->names[g->n++] = strndup(feat[j], len)))
			return -1;
		g->of[j] = k;
	}
	return 0;
}

int fin_feature_groups_make(fin_feature_groups *g, enum fin_group_by by, char *const *feat,
			    size_t nfeat, fin_err *err)
{
	size_t *order = malloc((nfeat ? nfeat : 1) * sizeof *order), channels, steps, j;
	int window, ok;

	memset(g, 0, sizeof *g);
	g->by = by;
	g->header = by == FIN_BY_FEATURE ? "feature" : by == FIN_BY_STEP ? "lag" : "channel";
	g->nfeat = nfeat;
	g->of = malloc((nfeat ? nfeat : 1) * sizeof *g->of);
	if (!order || !g->of) {
		free(order);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	window = fin_sequence_layout(feat, nfeat, order, &channels, &steps);
	free(order);
	if (by != FIN_BY_FEATURE && !window)
		return fin_fail(err, FIN_EUSAGE,
				"--by %s: the features are no window (every name <base>_<lag>, the "
				"lags 0 to T-1 of each base, as fin-window writes them)",
				by_names[by]);
	if (by != FIN_BY_FEATURE) {
		ok = window_groups(g, feat, nfeat, steps) == 0;
	} else {
		g->n = nfeat;
		ok = (g->names = calloc(nfeat ? nfeat : 1, sizeof *g->names)) != NULL;
		for (j = 0; ok && j < nfeat; j++) {
			g->of[j] = j;
			ok = (g->names[j] = strdup(feat[j])) != NULL;
		}
	}
	return ok ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");
}

void fin_feature_groups_free(fin_feature_groups *g)
{
	size_t k;

	for (k = 0; g->names && k < g->n; k++)
		free(g->names[k]);
	free(g->names);
	free(g->of);
	memset(g, 0, sizeof *g);
}

void fin_feature_groups_sum(const fin_feature_groups *g, const double *v, size_t n, double *out)
{
	size_t i, j;

	memset(out, 0, n * g->n * sizeof *out);
	for (i = 0; i < n; i++)
		for (j = 0; j < g->nfeat; j++)
			out[i * g->n + g->of[j]] += v[i * g->nfeat + j];
}
