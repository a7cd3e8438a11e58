#include <math.h>
#include <string.h>

#include "eval/binary_eval.h"
#include "eval/metrics.h"

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : NAN;
}

static int both_classes(size_t positives, size_t n)
{
	return positives > 0 && positives < n;
}

/* -(q ln q + (1 - q) ln(1 - q)), with 0 ln 0 = 0. */
static double entropy(double q)
{
	return -((q > 0 ? q * log(q) : 0) + (q < 1 ? (1 - q) * log1p(-q) : 0));
}

int fin_binary_evaluate(const double *score, const unsigned char *label, size_t n,
			double threshold, fin_binary_eval *ev, fin_err *err)
{
	double log_loss = 0, brier = 0, recall_unused, q;
	size_t i;

	memset(ev, 0, sizeof *ev);
	ev->n = n;
	ev->threshold = threshold;
	ev->probabilities = 1;
	for (i = 0; i < n; i++) {
		int y = label[i] != 0, predicted = score[i] >= threshold;
		double p = score[i];

		ev->positives += y;
		ev->tp += y && predicted;
		ev->fp += !y && predicted;
		ev->tn += !y && !predicted;
		ev->fn += y && !predicted;
		if (!(p >= 0 && p <= 1)) {
			ev->probabilities = 0;
			continue;
		}
		brier += (p - y) * (p - y);
		p = p < FIN_LOG_LOSS_EPS ? FIN_LOG_LOSS_EPS
		    : p > 1 - FIN_LOG_LOSS_EPS ? 1 - FIN_LOG_LOSS_EPS : p;
		log_loss -= y ? log(p) : log1p(-p);
	}
	if (fin_ranking_metrics(score, label, n, 0, &ev->roc_auc, &ev->pr_auc, &recall_unused) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	ev->ks = both_classes(ev->positives, n) ? fin_ks_statistic(score, label, n) : NAN;
	if (isnan(ev->ks) && both_classes(ev->positives, n))
		return fin_fail(err, FIN_EDATA, "out of memory");
	q = ev->prevalence = ratio(ev->positives, n);
	ev->log_loss = ev->probabilities && n ? log_loss / (double)n : NAN;
	ev->brier = ev->probabilities && n ? brier / (double)n : NAN;
	ev->accuracy = ratio(ev->tp + ev->tn, n);
	ev->precision = ratio(ev->tp, ev->tp + ev->fp);
	ev->recall = ratio(ev->tp, ev->positives);
	ev->f1 = ratio(2 * ev->tp, 2 * ev->tp + ev->fp + ev->fn);
	ev->baseline.roc_auc = both_classes(ev->positives, n) ? 0.5 : NAN;
	ev->baseline.pr_auc = ev->positives ? q : NAN;
	ev->baseline.ks = both_classes(ev->positives, n) ? 0 : NAN;
	ev->baseline.log_loss = n ? entropy(q) : NAN;
	ev->baseline.brier = q * (1 - q);
	ev->baseline.accuracy = q > 1 - q ? q : 1 - q;
	return FIN_OK;
}

int fin_anomaly_evaluate(const double *score, const unsigned char *label, size_t n, size_t k,
			 double alert_rate, fin_anomaly_eval *ev, fin_err *err)
{
	size_t i;

	memset(ev, 0, sizeof *ev);
	ev->n = n;
	for (i = 0; i < n; i++)
		ev->positives += label[i] != 0;
	ev->prevalence = ratio(ev->positives, n);
	ev->k = k < n ? k : n;
	ev->alert_rate = alert_rate;
	/* 12 digits: 0.07 of 100 rows is 7 alerts, not the 8 that the
	 * product's last bit would give */
	ev->alerts = (size_t)ceil(alert_rate * (double)n * (1 - 1e-12));
	if (ev->alerts > n)
		ev->alerts = n;
	if (fin_ranking_metrics(score, label, n, ev->alerts, &ev->roc_auc, &ev->pr_auc,
				&ev->recall_at_rate) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	ev->precision_at_k = fin_precision_at(score, label, n, ev->k);
	if (isnan(ev->precision_at_k) && ev->k)
		return fin_fail(err, FIN_EDATA, "out of memory");
	ev->baseline.roc_auc = both_classes(ev->positives, n) ? 0.5 : NAN;
	ev->baseline.pr_auc = ev->positives ? ev->prevalence : NAN;
	ev->baseline.precision_at_k = ev->k ? ev->prevalence : NAN;
	ev->baseline.recall_at_rate = ev->positives ? ratio(ev->alerts, n) : NAN;
	return FIN_OK;
}
