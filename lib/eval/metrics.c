#include <math.h>
#include <stdlib.h>

#include "eval/metrics.h"

static int by_score_desc(const void *a, const void *b, void *scores)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x = ((const double *)scores)[i], y = ((const double *)scores)[j];

	if (x != y)
		return x > y ? -1 : 1;
	return (i > j) - (i < j);
}

size_t *fin_rank_desc(const double *score, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof *order), i;

	if (!order)
		return NULL;
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, by_score_desc, (void *)score);
	return order;
}

static double roc_auc(const double *score, const unsigned char *label, size_t n,
		      const size_t *order)
{
	size_t i = 0, pos = 0, neg = 0;
	double above = 0;

	/* Walk groups of equal scores from the top: each positive in a group
	 * beats the negatives below it and ties half of those beside it. */
	while (i < n) {
		size_t j = i, gpos = 0, gneg = 0;
		while (j < n && score[order[j]] == score[order[i]]) {
			gpos += label[order[j]] != 0;
			gneg += label[order[j]] == 0;
			j++;
		}
		above += (double)gneg * (double)pos + 0.5 * (double)gneg * (double)gpos;
		pos += gpos;
		neg += gneg;
		i = j;
	}
	if (pos == 0 || neg == 0)
		return NAN;
	return above / ((double)pos * (double)neg);
}

static double average_precision(const double *score, const unsigned char *label, size_t n,
				const size_t *order)
{
	size_t i = 0, tp = 0, seen = 0, total = 0;
	double ap = 0;

	for (i = 0; i < n; i++)
		total += label[i] != 0;
	i = 0;
	while (total && i < n) {
		size_t j = i, gpos = 0;
		while (j < n && score[order[j]] == score[order[i]]) {
			gpos += label[order[j]] != 0;
			j++;
		}
		tp += gpos;
		seen = j;
		ap += (double)gpos / (double)total * ((double)tp / (double)seen);
		i = j;
	}
	return total ? ap : NAN;
}

static double recall_at(const unsigned char *label, size_t n, size_t k, const size_t *order)
{
	size_t i, hit = 0, total = 0;

	for (i = 0; i < n; i++) {
		total += label[i] != 0;
		if (i < k)
			hit += label[order[i]] != 0;
	}
	return total ? (double)hit / (double)total : NAN;
}

int fin_ranking_metrics(const double *score, const unsigned char *label, size_t n, size_t k,
			double *auc, double *ap, double *recall)
{
	size_t *order = fin_rank_desc(score, n);

	if (!order)
		return -1;
	*auc = roc_auc(score, label, n, order);
	*ap = average_precision(score, label, n, order);
	*recall = recall_at(label, n, k, order);
	free(order);
	return 0;
}

/* Each metric on its own: the ranking is the costly part either way. */
double fin_roc_auc(const double *score, const unsigned char *label, size_t n)
{
	double auc, ap, recall;
	return fin_ranking_metrics(score, label, n, 0, &auc, &ap, &recall) ? NAN : auc;
}

double fin_average_precision(const double *score, const unsigned char *label, size_t n)
{
	double auc, ap, recall;
	return fin_ranking_metrics(score, label, n, 0, &auc, &ap, &recall) ? NAN : ap;
}

double fin_recall_at(const double *score, const unsigned char *label, size_t n, size_t k)
{
	double auc, ap, recall;
	return fin_ranking_metrics(score, label, n, k, &auc, &ap, &recall) ? NAN : recall;
}

double fin_precision_at(const double *score, const unsigned char *label, size_t n, size_t k)
{
	size_t *order, hit = 0, i;

	if (k > n)
		k = n;
	if (k == 0 || !(order = fin_rank_desc(score, n)))
		return NAN;
	for (i = 0; i < k; i++)
		hit += label[order[i]] != 0;
	free(order);
	return (double)hit / (double)k;
}

double fin_ks_statistic(const double *score, const unsigned char *label, size_t n)
{
	size_t *order, pos = 0, neg, tp = 0, fp = 0, i;
	double ks = 0;

	for (i = 0; i < n; i++)
		pos += label[i] != 0;
	neg = n - pos;
	if (pos == 0 || neg == 0 || !(order = fin_rank_desc(score, n)))
		return NAN;
	/* A threshold between groups of equal scores, from the top: the
	 * empirical distributions of the two classes differ most at one. */
	i = 0;
	while (i < n) {
		size_t j = i;
		double gap;
		while (j < n && score[order[j]] == score[order[i]]) {
			tp += label[order[j]] != 0;
			fp += label[order[j]] == 0;
			j++;
		}
		gap = fabs((double)tp / (double)pos - (double)fp / (double)neg);
		if (gap > ks)
			ks = gap;
		i = j;
	}
	free(order);
	return ks;
}
