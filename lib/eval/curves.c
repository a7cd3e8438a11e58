#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/curves.h"
#include "eval/metrics.h"

/* Room for at most cap points, the ranking, and the class counts. */
static int start(const double *score, const unsigned char *label, size_t n, size_t cap,
		 fin_curve *c, size_t **order, size_t *pos, fin_err *err)
{
	size_t i;

	memset(c, 0, sizeof *c);
	c->area = NAN;
	*pos = 0;
	for (i = 0; i < n; i++)
		*pos += label[i] != 0;
	c->x = malloc(cap * sizeof *c->x);
	c->y = malloc(cap * sizeof *c->y);
	*order = fin_rank_desc(score, n);
	if (!c->x || !c->y || !*order) {
		free(*order);
		fin_curve_free(c);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	return FIN_OK;
}

static void add(fin_curve *c, double x, double y)
{
	c->x[c->n] = x;
	c->y[c->n] = y;
	c->n++;
}

int fin_roc_curve(const double *score, const unsigned char *label, size_t n, fin_curve *c,
		  fin_err *err)
{
	size_t *order, pos, neg, tp = 0, fp = 0, i = 0;
	int rc = start(score, label, n, n + 1, c, &order, &pos, err);

	if (rc != FIN_OK)
		return rc;
	neg = n - pos;
	if (pos && neg) {
		add(c, 0, 0);
		while (i < n) {
			size_t j = i;
			while (j < n && score[order[j]] == score[order[i]]) {
				tp += label[order[j]] != 0;
				fp += label[order[j]] == 0;
				j++;
			}
			add(c, (double)fp / (double)neg, (double)tp / (double)pos);
			i = j;
		}
		c->area = fin_roc_auc(score, label, n);
	}
	free(order);
	return FIN_OK;
}

int fin_pr_curve(const double *score, const unsigned char *label, size_t n, fin_curve *c,
		 fin_err *err)
{
	size_t *order, pos, tp = 0, before = 0, i = 0;
	int rc = start(score, label, n, 2 * n + 1, c, &order, &pos, err);

	if (rc != FIN_OK)
		return rc;
	while (pos && i < n) {
		size_t j = i;
		double precision;
		while (j < n && score[order[j]] == score[order[i]]) {
			tp += label[order[j]] != 0;
			j++;
		}
		precision = (double)tp / (double)j;
		add(c, (double)before / (double)pos, precision);
		if (tp != before)
			add(c, (double)tp / (double)pos, precision);
		before = tp;
		i = j;
	}
	if (pos)
		c->area = fin_average_precision(score, label, n);
	free(order);
	return FIN_OK;
}

void fin_curve_free(fin_curve *c)
{
	free(c->x);
	free(c->y);
	memset(c, 0, sizeof *c);
}
