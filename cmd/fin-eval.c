/* fin-eval: forecast, classification, ranking and clustering metrics, each
 * next to what a forecast without skill gets. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_eval.h"
#include "core/cli.h"
#include "eval/binary_eval.h"
#include "eval/eval_input.h"
#include "eval/forecast_eval.h"
#include "eval/signal_eval.h"
#include "features/dict.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/out_file.h"

static const char usage[] =
	"Usage: fin-eval [--task regression|binary|anomaly|cluster|signal] [OPTION]... [FILE]...\n"
	"Evaluate predictions against actuals in CSV rows and write the metrics as JSON:\n"
	"forecasts next to a naive forecast, classifiers next to a constant one, anomaly\n"
	"scores by their alerts, clusters by silhouette and Davies-Bouldin index, a\n"
	"panel's signal by its information coefficients and quantile returns.\n"
	"\n"
	"      --task T           regression (default), binary, anomaly, cluster or signal\n"
	"      --actual COL       the actual values or labels (default y)\n"
	"      --pred COL         the forecasts, probabilities or scores (default\n"
	"                         prediction; binary: p_<positive>; anomaly: score)\n"
	"  -k, --key LIST         key columns: never evaluated\n"
	"      --format F         json|table (default json)\n"
	FIN_HELP_OUTPUT
	"\n"
	"Regression (rows in time order, one step apart):\n"
	"      --naive N          last|zero|mean|drift|auto (default auto: last for a\n"
	"                         positive level series, zero for returns)\n"
	"      --horizon H        steps ahead of each forecast (default 1)\n"
	"      --last COL         the value last observed when each forecast was made\n"
	"                         (default: the actual H rows earlier)\n"
	"      --dm-loss L        squared|absolute, of the Diebold-Mariano test\n"
	"                         (default squared)\n"
	"\n"
	"Binary and anomaly:\n"
	"      --positive VALUE   the actual label of a positive (default 1)\n"
	"      --threshold T      binary: predicted positive when the score >= T\n"
	"                         (default 0.5)\n"
	"      --top N            anomaly: precision among the N highest scores\n"
	"                         (default 100)\n"
	"      --alert-rate F     anomaly: recall among the top F of the rows\n"
	"                         (default 0.01)\n"
	"\n"
	"Cluster:\n"
	"      --cluster COL      the cluster labels (default cluster); implies\n"
	"                         --task cluster\n"
	"  -c, --columns LIST     features (default: every numeric column but the\n"
	"                         labels and keys)\n"
	"      --sample N         rows the silhouette is computed on (default 10000)\n"
	"  -s, --seed N           seed of that sample (default 1)\n"
	"\n"
	"Signal (a panel: one row per date and asset):\n"
	"      --date COL         the date of each row (default date)\n"
	"      --asset COL        the asset of each row (default asset)\n"
	"      --quantiles N      groups of each date's assets by prediction (default 5)\n"
	"      --momentum COL     the naive signal, the last window's return (default:\n"
	"                         the one column named *_0, if there is one; none: no\n"
	"                         naive signal)\n"
	"\n"
	FIN_HELP_NA_NO_FILL
	FIN_HELP_NA_VALUES
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 4 no input rows.\n"
	"See fin-eval(1).\n";

enum { OPT_TASK = 256, OPT_ACTUAL, OPT_PRED, OPT_LAST, OPT_NAIVE, OPT_HORIZON, OPT_DM_LOSS,
       OPT_POSITIVE, OPT_THRESHOLD, OPT_TOP, OPT_ALERT_RATE, OPT_CLUSTER, OPT_SAMPLE, OPT_FORMAT,
       OPT_DATE, OPT_ASSET, OPT_QUANTILES, OPT_MOMENTUM };

static const struct option long_options[] = {
	{ "task", required_argument, NULL, OPT_TASK },
	{ "actual", required_argument, NULL, OPT_ACTUAL },
	{ "pred", required_argument, NULL, OPT_PRED },
	{ "last", required_argument, NULL, OPT_LAST },
	{ "naive", required_argument, NULL, OPT_NAIVE },
	{ "horizon", required_argument, NULL, OPT_HORIZON },
	{ "dm-loss", required_argument, NULL, OPT_DM_LOSS },
	{ "positive", required_argument, NULL, OPT_POSITIVE },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "alert-rate", required_argument, NULL, OPT_ALERT_RATE },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "date", required_argument, NULL, OPT_DATE },
	{ "asset", required_argument, NULL, OPT_ASSET },
	{ "quantiles", required_argument, NULL, OPT_QUANTILES },
	{ "momentum", required_argument, NULL, OPT_MOMENTUM },
	{ NULL, 0, NULL, 0 },
};

enum task { REGRESSION, BINARY, ANOMALY, CLUSTER, SIGNAL };
static const char *const task_names[] = { "regression", "binary", "anomaly", "cluster",
					  "signal" };

/* The tasks an option belongs to, as bits of 1 << task. */
enum { FOR_REGRESSION = 1 << REGRESSION, FOR_BINARY = 1 << BINARY, FOR_ANOMALY = 1 << ANOMALY,
       FOR_CLUSTER = 1 << CLUSTER, FOR_SIGNAL = 1 << SIGNAL };

enum format { FORMAT_JSON, FORMAT_TABLE };

struct options {
	int task, task_given, format;
	char *actual, *pred, *last, *positive, *cluster, *date, *asset, *momentum;
	size_t k, sample, quantiles;
	double threshold, alert_rate;
	fin_forecast_opts fc;
	fin_cli cli; /* -c, -s, -k, -o, --na, --na-values, -d, -n, -q */
	char pred_default[512];
	/* options of one task only, checked against the task once it is known */
	fin_cli_scoped given;
};

/* The report as it is built: the JSON object, and the notes that also go
 * to standard error. */
struct report {
	cJSON *json, *notes;
	int quiet, ok;
};

static void note(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct report *r, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (!r->quiet)
		fin_report("fin-eval", text);
	r->ok = r->ok && cJSON_AddItemToArray(r->notes, cJSON_CreateString(text));
}

static void add_count(cJSON *o, const char *key, size_t v, struct report *r)
{
	r->ok = r->ok && cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_number(cJSON *o, const char *key, double v, struct report *r)
{
	r->ok = r->ok && fin_json_add_exact(o, key, v);
}

static void add_text(cJSON *o, const char *key, const char *v, struct report *r)
{
	r->ok = r->ok && cJSON_AddStringToObject(o, key, v);
}

static cJSON *add_object(cJSON *o, const char *key, struct report *r)
{
	cJSON *child = r->ok ? cJSON_AddObjectToObject(o, key) : NULL;

	r->ok = child != NULL;
	return child;
}

/* ---- columns ---- */

static int is_in(size_t v, const size_t *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

/* Finds the column of opt and refuses a key column for it. */
static int find_value_column(const char *opt, const char *spec, char *const *names, size_t n,
			     const char *file, const size_t *key, size_t nkey, size_t *col,
			     fin_err *err)
{
	int rc = fin_column_one(opt, spec, names, n, file, col, err);

	if (rc == FIN_OK && is_in(*col, key, nkey))
		return fin_fail(err, FIN_EUSAGE, "%s: column '%s' is a key (-k): keys are never "
				"evaluated", opt, names[*col]);
	return rc;
}

/* The columns of the task, into spec (spec->num points to cols). */
static int choose_columns(const struct options *o, char *const *names, size_t n,
			  const char *file, fin_eval_spec *spec, size_t *cols, fin_err *err)
{
	size_t *key = NULL, nkey = 0, *feat = NULL, nfeat = 0, label = 0, i;
	int rc = FIN_OK;

	spec->na = o->cli.na;
	spec->text = -1;
	spec->num = cols;
	if (o->cli.nkeys) {
		char why[sizeof err->msg];
		if ((rc = fin_columns_select(o->cli.keys, o->cli.nkeys, names, n, &key, &nkey,
					     err)) != FIN_OK) {
			snprintf(why, sizeof why, "%s", err->msg);
			return fin_fail(err, rc, "%s:1: -k: %s", file, why);
		}
	}
	switch (o->task) {
	case REGRESSION:
		spec->keep_gaps = 1;
		spec->nnum = o->last ? 3 : 2;
		if ((rc = find_value_column("--actual", o->actual, names, n, file, key, nkey,
					    &cols[0], err)) == FIN_OK &&
		    (rc = find_value_column("--pred", o->pred, names, n, file, key, nkey, &cols[1],
					    err)) == FIN_OK &&
		    o->last)
			rc = find_value_column("--last", o->last, names, n, file, key, nkey, &cols[2],
					       err);
		break;
	case BINARY:
	case ANOMALY:
		spec->nnum = 1;
		if ((rc = find_value_column("--actual", o->actual, names, n, file, key, nkey,
					    &label, err)) == FIN_OK)
			rc = find_value_column("--pred", o->pred, names, n, file, key, nkey, &cols[0],
					       err);
		spec->text = (long)label;
		break;
	case SIGNAL:
		spec->nnum = 2;
		if ((rc = find_value_column("--actual", o->actual, names, n, file, key, nkey,
					    &cols[0], err)) != FIN_OK ||
		    (rc = find_value_column("--pred", o->pred, names, n, file, key, nkey, &cols[1],
					    err)) != FIN_OK ||
		    (rc = fin_column_one("--date", o->date, names, n, file, &label, err)) != FIN_OK ||
		    (rc = fin_column_one("--asset", o->asset, names, n, file, &spec->text2, err)) !=
			    FIN_OK)
			break;
		spec->text = (long)label;
		spec->has_text2 = 1;
		if (o->momentum && strcmp(o->momentum, "none") == 0)
			break;
		if (o->momentum) {
			rc = find_value_column("--momentum", o->momentum, names, n, file, key, nkey,
					       &cols[2], err);
			spec->nnum = 3;
			break;
		}
		/* The newest lag of a window, when one column is one. */
		for (i = 0, feat = NULL; i < n; i++) {
			size_t len = strlen(names[i]);
			if (len > 2 && strcmp(names[i] + len - 2, "_0") == 0 && !is_in(i, key, nkey) &&
			    i != cols[0] && i != cols[1]) {
				cols[2] = i;
				nfeat++;
			}
		}
		if (nfeat == 1)
			spec->nnum = 3;
		nfeat = 0;
		break;
	case CLUSTER:
		if ((rc = find_value_column("--cluster", o->cluster, names, n, file, key, nkey,
					    &label, err)) != FIN_OK)
			break;
		spec->text = (long)label;
		if (o->cli.ncolumns) {
			char why[sizeof err->msg];
			if ((rc = fin_columns_select(o->cli.columns, o->cli.ncolumns, names, n, &feat,
						     &nfeat, err)) != FIN_OK) {
				snprintf(why, sizeof why, "%s", err->msg);
				rc = fin_fail(err, rc, "%s:1: -c: %s", file, why);
				break;
			}
		}
		/* The labels and the keys are never features, so that '!name'
		 * lists need not name them; without -c, every other column that
		 * the first row shows to be numeric is one. */
		spec->numeric_first_row = !o->cli.ncolumns;
		for (i = 0; i < (o->cli.ncolumns ? nfeat : n); i++) {
			size_t c = o->cli.ncolumns ? feat[i] : i;
			if (c != label && !is_in(c, key, nkey))
				cols[spec->nnum++] = c;
		}
		if (spec->nnum == 0)
			rc = fin_fail(err, FIN_EUSAGE, "no feature columns (see -c)");
		break;
	}
	free(key);
	free(feat);
	return rc;
}

/* ---- the tasks ---- */

/* Which naive forecast the auto rule chose, and why. */
static void naive_note(const fin_forecast_eval *ev, struct report *r)
{
	if (ev->naive == FIN_NAIVE_LAST)
		note(r, "naive forecast: last, as for a level series: every actual is above 0 and "
		     "their lag-1 autocorrelation is %.4f (above %g)", ev->acf1, FIN_NAIVE_LEVEL_ACF);
	else if (!isnan(ev->nonpositive))
		note(r, "naive forecast: zero, as for returns: an actual is %g (not above 0)",
		     ev->nonpositive);
	else if (isnan(ev->acf1))
		note(r, "naive forecast: zero: the actuals have no lag-1 autocorrelation (they are "
		     "constant, or a single value)");
	else
		note(r, "naive forecast: zero, as for returns: the lag-1 autocorrelation of the "
		     "actuals is %.4f (not above %g)", ev->acf1, FIN_NAIVE_LEVEL_ACF);
}

static int regression(const struct options *o, const fin_eval_input *d, char *const *names,
		      struct report *r, fin_err *err)
{
	size_t rows = d->rows, t;
	double *a = malloc((rows ? rows : 1) * sizeof *a), *p = malloc((rows ? rows : 1) * sizeof *p);
	double *last = o->last ? malloc((rows ? rows : 1) * sizeof *last) : NULL;
	fin_forecast_eval ev;
	cJSON *dm;
	int rc;

	if (!a || !p || (o->last && !last)) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (t = 0; t < rows; t++) {
		a[t] = d->x[t * d->nnum];
		p[t] = d->x[t * d->nnum + 1];
		if (last)
			last[t] = d->x[t * d->nnum + 2];
	}
	if ((rc = fin_forecast_evaluate(a, p, last, rows, &o->fc, &ev, err)) != FIN_OK)
		goto done;
	if (ev.n == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "no row has both an actual ('%s') and a forecast "
			      "('%s')", names[d->num[0]], names[d->num[1]]);
		goto done;
	}
	if (d->gaps)
		note(r, "%zu rows with a missing value left out (their positions still count for "
		     "the naive forecast)", d->gaps);
	if (ev.naive_auto)
		naive_note(&ev, r);
	if (isnan(ev.dm.statistic))
		note(r, "Diebold-Mariano: no test on %zu rows (too few, or losses that differ by a "
		     "constant)", ev.n_naive);
	else if (ev.dm.horizon != o->fc.horizon)
		note(r, "Diebold-Mariano: no positive variance at horizon %zu, tested at horizon 1 "
		     "as R's dm.test does", o->fc.horizon);
	add_text(r->json, "actual", names[d->num[0]], r);
	add_text(r->json, "pred", names[d->num[1]], r);
	if (o->last)
		add_text(r->json, "last", names[d->num[2]], r);
	add_count(r->json, "n", ev.n, r);
	add_number(r->json, "rmse", ev.rmse, r);
	add_number(r->json, "mae", ev.mae, r);
	add_number(r->json, "mape", ev.mape, r);
	add_count(r->json, "n_mape", ev.n_mape, r);
	add_number(r->json, "smape", ev.smape, r);
	add_number(r->json, "r2", ev.r2, r);
	add_number(r->json, "directional_accuracy", ev.directional_accuracy, r);
	add_count(r->json, "n_directional", ev.n_directional, r);
	add_text(r->json, "naive", fin_naive_name(ev.naive), r);
	add_text(r->json, "naive_rule", ev.naive_auto ? "auto" : "given", r);
	add_count(r->json, "horizon", o->fc.horizon, r);
	add_count(r->json, "n_naive", ev.n_naive, r);
	add_number(r->json, "rmse_naive", ev.rmse_naive, r);
	add_number(r->json, "mae_naive", ev.mae_naive, r);
	add_number(r->json, "mase", ev.mase, r);
	add_number(r->json, "theil_u", ev.theil_u, r);
	if ((dm = add_object(r->json, "dm", r))) {
		add_number(dm, "statistic", ev.dm.statistic, r);
		add_number(dm, "p_value", ev.dm.p_value, r);
		add_text(dm, "loss", fin_dm_loss_name(o->fc.loss), r);
		add_count(dm, "horizon", ev.dm.horizon, r);
	}
done:
	free(a);
	free(p);
	free(last);
	return rc;
}

/* Labels as 0/1 by --positive, with notes on what the labels look like. */
static int positives(const struct options *o, const fin_eval_input *d, char *const *names,
		     unsigned char *y, struct report *r, fin_err *err)
{
	int *id = malloc((d->rows ? d->rows : 1) * sizeof *id), rc;
	const char **labels = NULL;
	size_t nlabels = 0, i, hits = 0;

	if (!id)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = fin_eval_labels(d, &labels, &nlabels, id, err)) == FIN_OK) {
		for (i = 0; i < d->rows; i++)
			hits += y[i] = (unsigned char)fin_label_is(labels[id[i]], o->positive);
		if (hits == 0)
			note(r, "no row has %s '%s' (see --positive)", names[d->text_col],
			     o->positive);
		if (nlabels > 2)
			note(r, "column '%s' holds %zu distinct values: every one but '%s' counts as "
			     "negative", names[d->text_col], nlabels, o->positive);
	}
	free(labels);
	free(id);
	return rc;
}

/* What the binary and anomaly reports open with: the columns, the counts
 * and the two areas under the curves. */
static void add_ranking(const struct options *o, const fin_eval_input *d, char *const *names,
			size_t n, size_t npos, double prevalence, double roc_auc, double pr_auc,
			struct report *r)
{
	add_text(r->json, "actual", names[d->text_col], r);
	add_text(r->json, "pred", names[d->num[0]], r);
	add_text(r->json, "positive", o->positive, r);
	add_count(r->json, "n", n, r);
	add_count(r->json, "positives", npos, r);
	add_number(r->json, "prevalence", prevalence, r);
	add_number(r->json, "roc_auc", roc_auc, r);
	add_number(r->json, "pr_auc", pr_auc, r);
}

static int binary(const struct options *o, const fin_eval_input *d, char *const *names,
		  struct report *r, fin_err *err)
{
	unsigned char *y = malloc(d->rows ? d->rows : 1);
	fin_binary_eval ev;
	cJSON *base;
	int rc;

	if (!y)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = positives(o, d, names, y, r, err)) != FIN_OK ||
	    (rc = fin_binary_evaluate(d->x, y, d->rows, o->threshold, &ev, err)) != FIN_OK)
		goto done;
	if (!ev.probabilities)
		note(r, "column '%s' holds scores outside [0, 1]: no log_loss or brier, which need "
		     "probabilities", names[d->num[0]]);
	add_ranking(o, d, names, ev.n, ev.positives, ev.prevalence, ev.roc_auc, ev.pr_auc, r);
	add_number(r->json, "ks", ev.ks, r);
	add_number(r->json, "log_loss", ev.log_loss, r);
	add_number(r->json, "brier", ev.brier, r);
	add_number(r->json, "threshold", ev.threshold, r);
	add_count(r->json, "tp", ev.tp, r);
	add_count(r->json, "fp", ev.fp, r);
	add_count(r->json, "tn", ev.tn, r);
	add_count(r->json, "fn", ev.fn, r);
	add_number(r->json, "accuracy", ev.accuracy, r);
	add_number(r->json, "precision", ev.precision, r);
	add_number(r->json, "recall", ev.recall, r);
	add_number(r->json, "f1", ev.f1, r);
	if ((base = add_object(r->json, "baseline", r))) {
		add_number(base, "roc_auc", ev.baseline.roc_auc, r);
		add_number(base, "pr_auc", ev.baseline.pr_auc, r);
		add_number(base, "ks", ev.baseline.ks, r);
		add_number(base, "log_loss", ev.baseline.log_loss, r);
		add_number(base, "brier", ev.baseline.brier, r);
		add_number(base, "accuracy", ev.baseline.accuracy, r);
	}
done:
	free(y);
	return rc;
}

static int anomaly(const struct options *o, const fin_eval_input *d, char *const *names,
		   struct report *r, fin_err *err)
{
	unsigned char *y = malloc(d->rows ? d->rows : 1);
	fin_anomaly_eval ev;
	cJSON *base;
	int rc;

	if (!y)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = positives(o, d, names, y, r, err)) != FIN_OK ||
	    (rc = fin_anomaly_evaluate(d->x, y, d->rows, o->k, o->alert_rate, &ev, err)) != FIN_OK)
		goto done;
	add_ranking(o, d, names, ev.n, ev.positives, ev.prevalence, ev.roc_auc, ev.pr_auc, r);
	add_count(r->json, "k", ev.k, r);
	add_number(r->json, "precision_at_k", ev.precision_at_k, r);
	add_number(r->json, "alert_rate", ev.alert_rate, r);
	add_count(r->json, "alerts", ev.alerts, r);
	add_number(r->json, "recall_at_rate", ev.recall_at_rate, r);
	if ((base = add_object(r->json, "baseline", r))) {
		add_number(base, "roc_auc", ev.baseline.roc_auc, r);
		add_number(base, "pr_auc", ev.baseline.pr_auc, r);
		add_number(base, "precision_at_k", ev.baseline.precision_at_k, r);
		add_number(base, "recall_at_rate", ev.baseline.recall_at_rate, r);
	}
done:
	free(y);
	return rc;
}

static int cluster(const struct options *o, const fin_eval_input *d, char *const *names,
		   struct report *r, fin_err *err)
{
	int *id = malloc((d->rows ? d->rows : 1) * sizeof *id), rc;
	const char **labels = NULL;
	size_t nlabels = 0, i;
	fin_cluster_eval ev = { 0 };
	cJSON *features, *sizes;

	if (!id)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (d->nnum == 0) {
		rc = fin_fail(err, FIN_EUSAGE, "no numeric feature columns (see -c)");
		goto done;
	}
	if ((rc = fin_eval_labels(d, &labels, &nlabels, id, err)) != FIN_OK ||
	    (rc = fin_cluster_evaluate(d->x, d->rows, d->nnum, id, nlabels, o->sample, o->cli.seed,
				       &ev, err)) != FIN_OK)
		goto done;
	if (nlabels < 2)
		note(r, "one cluster: no silhouette or Davies-Bouldin index");
	else if (ev.silhouette_rows < ev.n)
		note(r, "silhouette on a sample of %zu of the %zu rows (see --sample)",
		     ev.silhouette_rows, ev.n);
	add_text(r->json, "cluster", names[d->text_col], r);
	r->ok = r->ok && (features = cJSON_AddArrayToObject(r->json, "features"));
	for (i = 0; r->ok && i < d->nnum; i++)
		r->ok = cJSON_AddItemToArray(features, cJSON_CreateString(names[d->num[i]]));
	add_count(r->json, "n", ev.n, r);
	add_count(r->json, "k", ev.k, r);
	if ((sizes = add_object(r->json, "sizes", r)))
		for (i = 0; i < nlabels; i++)
			add_count(sizes, labels[i], ev.sizes[i], r);
	add_number(r->json, "silhouette", ev.silhouette, r);
	add_count(r->json, "silhouette_rows", ev.silhouette_rows, r);
	add_number(r->json, "davies_bouldin", ev.davies_bouldin, r);
done:
	fin_cluster_eval_free(&ev);
	free(labels);
	free(id);
	return rc;
}

/* ---- output ---- */

/* The report as "name value" lines, nested names joined by dots: with
 * out NULL, only measures the longest name. */
static void table_lines(fin_out *out, const cJSON *o, const char *prefix, size_t width,
			size_t *longest)
{
	const cJSON *v;
	char name[1024], num[64];

	cJSON_ArrayForEach(v, o)
	{
		size_t len;
		if (strcmp(v->string, "notes") == 0 && !*prefix)
			continue; /* they went to standard error */
		len = (size_t)snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "",
				       v->string);
		if (len >= sizeof name)
			len = sizeof name - 1;
		if (cJSON_IsObject(v)) {
			table_lines(out, v, name, width, longest);
			continue;
		}
		if (!out) {
			if (len > *longest)
				*longest = len;
			continue;
		}
		fin_out_bytes(out, name, len);
		while (len++ < width + 2)
			fin_out_char(out, ' ');
		if (cJSON_IsArray(v)) {
			const cJSON *e;
			cJSON_ArrayForEach(e, v)
			{
				fin_out_bytes(out, e->valuestring, strlen(e->valuestring));
				if (e->next)
					fin_out_char(out, ',');
			}
		} else if (cJSON_IsString(v)) {
			fin_out_bytes(out, v->valuestring, strlen(v->valuestring));
		} else if (cJSON_IsNull(v)) {
			fin_out_bytes(out, "NA", 2);
		} else {
			/* exact numbers are raw text; counts are numbers */
			double x = cJSON_IsRaw(v) ? strtod(v->valuestring, NULL) : v->valuedouble;
			int n = cJSON_IsRaw(v) ? snprintf(num, sizeof num, "%.6g", x)
					       : snprintf(num, sizeof num, "%.0f", x);
			fin_out_bytes(out, num, (size_t)n);
		}
		fin_out_char(out, '\n');
	}
}

static void write_table(const cJSON *report, fin_out *out)
{
	size_t width = 0;

	table_lines(NULL, report, "", 0, &width);
	table_lines(out, report, "", width, &width);
}

static void add_summary(cJSON *o, const char *key, const fin_ic_summary *s, struct report *r)
{
	cJSON *c = add_object(o, key, r);

	if (!c)
		return;
	add_number(c, "mean", s->mean, r);
	add_number(c, "sd", s->sd, r);
	add_number(c, "ir", s->ir, r);
	add_number(c, "t", s->t, r);
	add_number(c, "positive", s->positive, r);
	add_count(c, "dates", s->dates, r);
}

/* A signal's coefficients, quantile returns and spread, into o. */
static void add_signal(cJSON *o, const fin_signal_eval *ev, int quantiles, struct report *r)
{
	cJSON *q;
	size_t i;

	add_summary(o, "ic", &ev->ic, r);
	add_summary(o, "rank_ic", &ev->rank_ic, r);
	if (quantiles && (q = add_object(o, "quantile_returns", r)))
		for (i = 0; i < ev->quantiles; i++) {
			char name[32];
			snprintf(name, sizeof name, "%zu", i + 1);
			add_number(q, name, ev->q_mean[i], r);
		}
	add_summary(o, "top_minus_bottom", &ev->spread, r);
}

/* The information coefficients of a panel's predictions, per date, with
 * the same for the last window's return (momentum) and for no signal. */
static int signal(const struct options *o, const fin_eval_input *d, char *const *names,
		  struct report *r, fin_err *err)
{
	size_t n = d->rows, i, *date = malloc((n ? n : 1) * sizeof *date);
	double *a = malloc((n ? n : 1) * sizeof *a), *p = malloc((n ? n : 1) * sizeof *p);
	double *m = d->nnum > 2 ? malloc((n ? n : 1) * sizeof *m) : NULL;
	fin_dict dates = { 0 }, pairs = { 0 };
	fin_signal_eval ev = { 0 }, mom = { 0 };
	char *pair = NULL;
	size_t pair_cap = 0;
	cJSON *base;
	int rc = FIN_OK;

	if (!date || !a || !p || (d->nnum > 2 && !m)) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < n && rc == FIN_OK; i++) {
		const char *day = fin_eval_text(d, i), *asset = fin_eval_text2(d, i);
		size_t dl = strlen(day), al = strlen(asset);
		long code = fin_dict_code(&dates, day, dl), seen;
		if (dl + al + 1 > pair_cap) {
			char *q = realloc(pair, 2 * (dl + al + 1));
			if (!q) {
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				break;
			}
			pair = q;
			pair_cap = 2 * (dl + al + 1);
		}
		memcpy(pair, day, dl + 1);
		memcpy(pair + dl + 1, asset, al);
		seen = (long)pairs.n;
		if (code < 0 || fin_dict_code(&pairs, pair, dl + 1 + al) < 0) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			break;
		}
		if ((long)pairs.n == seen) {
			char s1[100], s2[100];
			rc = fin_fail(err, FIN_EDATA, "%s '%s' has two rows on %s '%s': one row an asset "
				      "a date", names[d->text_col],
				      fin_quote_field(s1, sizeof s1, asset, al), o->date,
				      fin_quote_field(s2, sizeof s2, day, dl));
			break;
		}
		date[i] = (size_t)code;
		a[i] = d->x[i * d->nnum];
		p[i] = d->x[i * d->nnum + 1];
		if (m)
			m[i] = d->x[i * d->nnum + 2];
	}
	if (rc != FIN_OK ||
	    (rc = fin_signal_evaluate(date, dates.n, p, a, n, o->quantiles, &ev, err)) != FIN_OK ||
	    (m && (rc = fin_signal_evaluate(date, dates.n, m, a, n, o->quantiles, &mom, err)) !=
			  FIN_OK))
		goto done;
	if (ev.skipped)
		note(r, "%zu of %zu dates have no coefficient: fewer than 2 assets, or predictions "
		     "or returns all alike", ev.skipped, ev.dates);
	if (!m)
		note(r, "no momentum signal: name the last window's return with --momentum");
	add_text(r->json, "actual", names[d->num[0]], r);
	add_text(r->json, "pred", names[d->num[1]], r);
	add_text(r->json, "date", o->date, r);
	add_text(r->json, "asset", o->asset, r);
	add_count(r->json, "n", n, r);
	add_count(r->json, "dates", ev.dates, r);
	add_count(r->json, "dates_skipped", ev.skipped, r);
	add_count(r->json, "quantiles", o->quantiles, r);
	add_signal(r->json, &ev, 1, r);
	add_number(r->json, "market", ev.market, r);
	if (m && (base = add_object(r->json, "momentum", r))) {
		add_text(base, "column", names[d->num[2]], r);
		add_signal(base, &mom, 1, r);
	}
	if ((base = add_object(r->json, "zero", r))) {
		/* No signal ranks nothing: every asset in one group. */
		add_number(base, "ic", 0, r);
		add_number(base, "rank_ic", 0, r);
		add_number(base, "top_minus_bottom", 0, r);
	}
done:
	fin_signal_eval_free(&ev);
	fin_signal_eval_free(&mom);
	fin_dict_free(&dates);
	fin_dict_free(&pairs);
	free(pair);
	free(date);
	free(a);
	free(p);
	free(m);
	return rc;
}

/* ---- the run ---- */

static int evaluate(const struct options *o, fin_input *in, fin_err *err)
{
	char **names;
	size_t nnames, *cols = NULL;
	fin_eval_spec spec = { 0 };
	fin_eval_input d = { 0 };
	struct report r = { .json = cJSON_CreateObject(), .notes = cJSON_CreateArray(),
			    .quiet = o->cli.quiet, .ok = 1 };
	fin_out_file *file = NULL;
	int rc;

	if (!r.json || !r.notes) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK)
		goto done;
	if (!(cols = malloc((nnames + 3) * sizeof *cols))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = choose_columns(o, names, nnames, fin_input_name(in), &spec, cols, err)) != FIN_OK)
		goto done;
	/* The output is opened before any row is read. */
	if (!(file = fin_out_file_open(o->cli.output, in, NULL, 0, err))) {
		rc = err->code;
		goto done;
	}
	if ((rc = fin_eval_read(&d, in, &spec, err)) != FIN_OK)
		goto done;
	if (o->task != REGRESSION && d.rows == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "every row has a missing value (%zu rows)", d.read);
		goto done;
	}
	if (o->task != REGRESSION && d.gaps)
		note(&r, "%zu rows with a missing value left out", d.gaps);
	add_text(r.json, "task", task_names[o->task], &r);
	switch (o->task) {
	case REGRESSION: rc = regression(o, &d, names, &r, err); break;
	case BINARY: rc = binary(o, &d, names, &r, err); break;
	case ANOMALY: rc = anomaly(o, &d, names, &r, err); break;
	case CLUSTER: rc = cluster(o, &d, names, &r, err); break;
	case SIGNAL: rc = signal(o, &d, names, &r, err); break;
	}
	if (rc != FIN_OK)
		goto done;
	r.ok = r.ok && cJSON_AddItemToObject(r.json, "notes", r.notes);
	if (r.ok)
		r.notes = NULL;
	if (!r.ok)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	else if (o->format == FORMAT_JSON)
		rc = fin_json_save(r.json, file, err);
	else
		write_table(r.json, fin_out_file_writer(file));
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, err);
		file = NULL;
	}
done:
	fin_out_file_discard(file);
	cJSON_Delete(r.json);
	cJSON_Delete(r.notes);
	fin_eval_input_free(&d);
	free(cols);
	return rc;
}

/* ---- options ---- */

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	static const char *const formats[] = { "json", "table" };
	int opt, word;
	int rc = fin_cli_init(&o->cli, "fin-eval", usage,
			      FIN_CLI_COLUMNS | FIN_CLI_SEED | FIN_CLI_KEY | FIN_CLI_OUTPUT |
				      FIN_CLI_NA_NO_FILL | FIN_CLI_NA_VALUES | FIN_CLI_DELIMITER |
				      FIN_CLI_NO_HEADER | FIN_CLI_QUIET,
			      long_options, err);

	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_TASK:
			rc = fin_cli_word("--task", optarg, fin_word_index(optarg, task_names, 5), &o->task,
					  err);
			o->task_given = 1;
			break;
		case OPT_ACTUAL:
			o->actual = optarg;
			fin_cli_scoped_add(&o->given, "--actual",
					   FOR_REGRESSION | FOR_BINARY | FOR_ANOMALY | FOR_SIGNAL);
			break;
		case OPT_PRED:
			o->pred = optarg;
			fin_cli_scoped_add(&o->given, "--pred",
					   FOR_REGRESSION | FOR_BINARY | FOR_ANOMALY | FOR_SIGNAL);
			break;
		case OPT_LAST:
			o->last = optarg;
			fin_cli_scoped_add(&o->given, "--last", FOR_REGRESSION);
			break;
		case OPT_NAIVE:
			rc = fin_cli_word("--naive", optarg, fin_naive_parse(optarg), &word, err);
			o->fc.naive = (enum fin_naive)word;
			fin_cli_scoped_add(&o->given, "--naive", FOR_REGRESSION);
			break;
		case OPT_HORIZON:
			rc = fin_cli_size("--horizon", optarg, 1, 1000000, &o->fc.horizon, err);
			fin_cli_scoped_add(&o->given, "--horizon", FOR_REGRESSION);
			break;
		case OPT_DM_LOSS:
			rc = fin_cli_word("--dm-loss", optarg, fin_dm_loss_parse(optarg), &word, err);
			o->fc.loss = (enum fin_dm_loss)word;
			fin_cli_scoped_add(&o->given, "--dm-loss", FOR_REGRESSION);
			break;
		case OPT_POSITIVE:
			o->positive = optarg;
			fin_cli_scoped_add(&o->given, "--positive", FOR_BINARY | FOR_ANOMALY);
			break;
		case OPT_THRESHOLD:
			rc = fin_cli_number("--threshold", optarg, -INFINITY, INFINITY, &o->threshold, err);
			fin_cli_scoped_add(&o->given, "--threshold", FOR_BINARY);
			break;
		case OPT_TOP:
			rc = fin_cli_size("--top", optarg, 1, (size_t)1 << 40, &o->k, err);
			fin_cli_scoped_add(&o->given, "--top", FOR_ANOMALY);
			break;
		case OPT_ALERT_RATE:
			rc = fin_cli_number("--alert-rate", optarg, 0, 1, &o->alert_rate, err);
			if (rc == FIN_OK && o->alert_rate == 0)
				rc = fin_fail(err, FIN_EUSAGE, "--alert-rate: expected a share above 0, "
					      "not '%s'", optarg);
			fin_cli_scoped_add(&o->given, "--alert-rate", FOR_ANOMALY);
			break;
		case OPT_CLUSTER:
			o->cluster = optarg;
			fin_cli_scoped_add(&o->given, "--cluster", FOR_CLUSTER);
			break;
		case 'c':
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			fin_cli_scoped_add(&o->given, "-c", FOR_CLUSTER);
			break;
		case OPT_SAMPLE:
			rc = fin_cli_size("--sample", optarg, 2, 1 << 20, &o->sample, err);
			fin_cli_scoped_add(&o->given, "--sample", FOR_CLUSTER);
			break;
		case 's':
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			fin_cli_scoped_add(&o->given, "--seed", FOR_CLUSTER);
			break;
		case OPT_DATE:
			o->date = optarg;
			fin_cli_scoped_add(&o->given, "--date", FOR_SIGNAL);
			break;
		case OPT_ASSET:
			o->asset = optarg;
			fin_cli_scoped_add(&o->given, "--asset", FOR_SIGNAL);
			break;
		case OPT_QUANTILES:
			rc = fin_cli_size("--quantiles", optarg, 2, 1000, &o->quantiles, err);
			fin_cli_scoped_add(&o->given, "--quantiles", FOR_SIGNAL);
			break;
		case OPT_MOMENTUM:
			o->momentum = optarg;
			fin_cli_scoped_add(&o->given, "--momentum", FOR_SIGNAL);
			break;
		case OPT_FORMAT:
			rc = fin_cli_word("--format", optarg, fin_word_index(optarg, formats, 2), &o->format,
					  err);
			break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		exit(0);
	if (rc != FIN_OK)
		return rc;
	if (o->cluster && o->task_given && o->task != CLUSTER)
		return fin_fail(err, FIN_EUSAGE, "--cluster goes with --task cluster, not --task %s",
				task_names[o->task]);
	if (o->cluster)
		o->task = CLUSTER;
	else
		o->cluster = "cluster";
	if ((rc = fin_cli_scoped_check(&o->given, o->task, "--task ", task_names[o->task], err)) !=
	    FIN_OK)
		return rc;
	if (!o->pred) {
		if (o->task == BINARY)
			snprintf(o->pred_default, sizeof o->pred_default, "p_%s", o->positive);
		else
			snprintf(o->pred_default, sizeof o->pred_default, "%s",
				 o->task == ANOMALY ? "score" : "prediction");
		o->pred = o->pred_default;
	}
	return FIN_OK;
}

int main(int argc, char **argv)
{
	struct options o = { .task = REGRESSION, .format = FORMAT_JSON, .actual = "y",
			     .positive = "1", .k = 100, .sample = 10000, .quantiles = 5,
			     .date = "date", .asset = "asset",
			     .threshold = 0.5, .alert_rate = 0.01,
			     .fc = { .naive = FIN_NAIVE_AUTO, .horizon = 1, .loss = FIN_DM_SQUARED } };
	fin_err err = { 0 };
	fin_input *in = NULL;
	int rc = parse_options(argc, argv, &o, &err);

	if (rc == FIN_OK) {
		in = fin_input_open(argv + optind, (size_t)(argc - optind), &o.cli.csv, &err);
		rc = in ? FIN_OK : err.code;
	}
	if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(in))
		fputs("fin-eval: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if (rc == FIN_OK)
		rc = evaluate(&o, in, &err);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-eval", err.msg);
	fin_input_close(in);
	fin_cli_free(&o.cli);
	return rc;
}
