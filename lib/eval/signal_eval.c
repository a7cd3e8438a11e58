#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ranks.h"
#include "eval/signal_eval.h"

/* Sums a coefficient over the dates it was computed on. */
static void summarise(const double *v, size_t n, fin_ic_summary *s)
{
	size_t i, up = 0;

	memset(s, 0, sizeof *s);
	s->dates = n;
	s->mean = s->sd = s->ir = s->t = s->positive = NAN;
	if (!n)
		return;
	s->mean = gsl_stats_mean(v, 1, n);
	for (i = 0; i < n; i++)
		up += v[i] > 0;
	s->positive = (double)up / (double)n;
	if (n < 2)
		return;
	s->sd = gsl_stats_sd_m(v, 1, n, s->mean);
	if (s->sd > 0) {
		s->ir = s->mean / s->sd;
		s->t = s->ir * sqrt((double)n);
	}
}

/* Spearman's coefficient: Pearson's of the ranks, whose mean is (n + 1) / 2
 * and whose deviations and their products are exact, so that a coefficient
 * of 0 comes out 0. */
static double spearman(const double *a, const double *b, size_t n, size_t *perm, double *ra,
		       double *rb)
{
	double mid = (double)(n + 1) / 2, ab = 0, aa = 0, bb = 0;
	size_t i;

	fin_mid_ranks(a, n, perm, ra);
	fin_mid_ranks(b, n, perm, rb);
	for (i = 0; i < n; i++) {
		ab += (ra[i] - mid) * (rb[i] - mid);
		aa += (ra[i] - mid) * (ra[i] - mid);
		bb += (rb[i] - mid) * (rb[i] - mid);
	}
	return ab / sqrt(aa * bb);
}

static int varies(const double *x, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (x[i] != x[0])
			return 1;
	return 0;
}

int fin_signal_evaluate(const size_t *date, size_t dates, const double *pred, const double *ret,
			size_t n, size_t quantiles, fin_signal_eval *ev, fin_err *err)
{
	size_t *start = calloc(dates + 1, sizeof *start), *at = malloc((n ? n : 1) * sizeof *at);
	size_t *perm = malloc((n ? n : 1) * sizeof *perm), *qn = calloc(quantiles, sizeof *qn);
	double *p = malloc((n ? n : 1) * sizeof *p), *r = malloc((n ? n : 1) * sizeof *r);
	double *share = malloc((n ? n : 1) * sizeof *share), *work = malloc(2 * (n ? n : 1) * sizeof *work);
	double *ic = malloc((dates ? dates : 1) * sizeof *ic);
	double *ric = malloc((dates ? dates : 1) * sizeof *ric);
	double *spread = malloc((dates ? dates : 1) * sizeof *spread);
	double *qsum = calloc(quantiles, sizeof *qsum), *qret = calloc(quantiles, sizeof *qret);
	double market = 0;
	size_t nic = 0, nric = 0, nspread = 0, nmarket = 0, d, i, q;
	int rc = FIN_OK;

	memset(ev, 0, sizeof *ev);
	ev->q_mean = calloc(quantiles, sizeof *ev->q_mean);
	ev->q_dates = calloc(quantiles, sizeof *ev->q_dates);
	if (!start || !at || !perm || !qn || !p || !r || !share || !work || !ic || !ric ||
	    !spread || !qsum || !qret || !ev->q_mean || !ev->q_dates) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	ev->rows = n;
	ev->dates = dates;
	ev->quantiles = quantiles;
	/* The rows of each date together, in their order. */
	for (i = 0; i < n; i++)
		start[date[i] + 1]++;
	for (d = 0; d < dates; d++)
		start[d + 1] += start[d];
	for (i = 0; i < n; i++)
		at[start[date[i]]++] = i;
	for (d = dates; d > 0; d--)
		start[d] = start[d - 1];
	start[0] = 0;
	for (d = 0; d < dates; d++) {
		size_t m = start[d + 1] - start[d];
		for (i = 0; i < m; i++) {
			p[i] = pred[at[start[d] + i]];
			r[i] = ret[at[start[d] + i]];
		}
		if (!m)
			continue;
		market += gsl_stats_mean(r, 1, m);
		nmarket++;
		if (m >= 2 && varies(p, m) && varies(r, m)) {
			ic[nic++] = gsl_stats_correlation(p, 1, r, 1, m);
			ric[nric++] = spearman(p, r, m, perm, share, work);
		} else {
			ev->skipped++;
		}
		/* Quantiles by the rank of the prediction as a share of m. */
		fin_mid_ranks(p, m, perm, share);
		for (i = 0; i < m; i++)
			share[i] /= (double)m;
		memset(qn, 0, quantiles * sizeof *qn);
		memset(qret, 0, quantiles * sizeof *qret);
		for (i = 0; i < m; i++) {
			q = (size_t)ceil(share[i] * (double)quantiles);
			q = q < 1 ? 0 : q > quantiles ? quantiles - 1 : q - 1;
			qret[q] += r[i];
			qn[q]++;
		}
		for (q = 0; q < quantiles; q++)
			if (qn[q]) {
				qsum[q] += qret[q] / (double)qn[q];
				ev->q_dates[q]++;
			}
		if (quantiles > 1 && qn[0] && qn[quantiles - 1])
			spread[nspread++] = qret[quantiles - 1] / (double)qn[quantiles - 1] -
					    qret[0] / (double)qn[0];
	}
	for (q = 0; q < quantiles; q++)
		ev->q_mean[q] = ev->q_dates[q] ? qsum[q] / (double)ev->q_dates[q] : NAN;
	summarise(ic, nic, &ev->ic);
	summarise(ric, nric, &ev->rank_ic);
	summarise(spread, nspread, &ev->spread);
	ev->market = nmarket ? market / (double)nmarket : NAN;
done:
	free(start);
	free(at);
	free(perm);
	free(qn);
	free(p);
	free(r);
	free(share);
	free(work);
	free(ic);
	free(ric);
	free(spread);
	free(qsum);
	free(qret);
	if (rc != FIN_OK)
		fin_signal_eval_free(ev);
	return rc;
}

void fin_signal_eval_free(fin_signal_eval *ev)
{
	free(ev->q_mean);
	free(ev->q_dates);
	memset(ev, 0, sizeof *ev);
}
