/* fin-explain: why a model predicts what it predicts, and why a detector
 * scores a row as it does. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "detect/detector.h"
#include "detect/detector_shares.h"
#include "explain/attention_weights.h"
#include "explain/explain.h"
#include "explain/feature_groups.h"
#include "explain/perm_loss.h"
#include "explain/permutation.h"
#include "features/feature_reader.h"
#include "features/row_batch.h"
#include "features/table.h"
#include "features/time_key.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/out_file.h"
#include "io/records.h"
#include "nn/gemm.h"

static const char usage[] =
	"Usage: fin-explain -m MODEL [OPTION]... [FILE]...\n"
	"Say why a model (fin-train) predicts what it predicts for each row, which\n"
	"inputs it leans on, and why a detector (fin-anomaly) scores a row as it does.\n"
	"\n"
	"  -m, --model FILE       the model or detector (required)\n"
	"      --method M         ig|shap|share|permutation|attention (default: shap for\n"
	"                         a linear, logistic or softmax model, ig for other\n"
	"                         networks, share for a zscore, mahalanobis or\n"
	"                         autoencoder detector, permutation for the others)\n"
	"      --steps N          ig: points of the midpoint rule (default 128)\n"
	"      --baseline FILE    ig, shap: the baseline is the mean of FILE's rows\n"
	"                         (default: the training mean)\n"
	"      --positive LABEL   the class explained (default: the second label of a\n"
	"                         binary model, every label of a multiclass one); with\n"
	"                         --metric auc, the positive class\n"
	"      --top K            reason codes: the K features that push each row's value\n"
	"                         up most (permutation: the K most important)\n"
	"      --by WHAT          feature|step|channel: attributions summed, or columns\n"
	"                         shuffled together, by time step or channel of a window\n"
	"                         (default feature)\n"
	"      --metric M         permutation: mse|rmse|mae (regression), logloss|auc|error\n"
	"                         (classification), recon (autoencoder), score|auc\n"
	"                         (detector) (default: mse, logloss, recon, score)\n"
	"      --repeats N        permutation: shuffles of each feature (default 5)\n"
	"      --query Q          attention: last|mean|all, the newest step's query, the\n"
	"                         mean of every step's, or each step's (default last)\n"
	"  -y, --target COL       permutation: the target (default: the model's), or a\n"
	"                         detector's label for --metric auc\n"
	"  -s, --seed N           permutation: seed of the shuffles (default 1)\n"
	"      --format F         csv|json (default csv; json: one object a line)\n"
	"  -k, --key LIST         key columns to pass through (default: the model's keys;\n"
	"                         for a model without keys, the first column that is no\n"
	"                         feature holding an ISO date in the first row)\n"
	FIN_HELP_NA
	"      --unseen POLICY    other|error for a text level not seen in training\n"
	"                         (default other)\n"
	FIN_HELP_NA_VALUES
	FIN_HELP_THREADS
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	FIN_HELP_OUTPUT
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Output (ig, shap, share): the keys, 'class' (multiclass), 'prediction' (or\n"
	"'recon_error', or a detector's 'score'), 'baseline' (the same at the\n"
	"baseline), then one column per feature, in the units of the prediction, adding\n"
	"up to prediction - baseline; with --top K, reason_k, value_k, attribution_k\n"
	"for k = 1..K instead. Permutation: feature, importance, sd. Attention: the\n"
	"keys, layer, head ('query' with --query all), then one column per key step,\n"
	"the newest (0) first: one row per input row, attention layer and head.\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable model or\n"
	"detector, 4 no input rows. See fin-explain(1).\n";

enum method { IG, SHAP, SHARE, PERMUTATION, ATTENTION };
static const char *const method_names[] = { "ig", "shap", "share", "permutation", "attention" };

enum { OPT_METHOD = 256, OPT_STEPS, OPT_BASELINE, OPT_POSITIVE, OPT_TOP, OPT_BY, OPT_METRIC,
       OPT_REPEATS, OPT_FORMAT, OPT_QUERY };

static const struct option long_options[] = {
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "positive", required_argument, NULL, OPT_POSITIVE },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "by", required_argument, NULL, OPT_BY },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "repeats", required_argument, NULL, OPT_REPEATS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "query", required_argument, NULL, OPT_QUERY },
	{ NULL, 0, NULL, 0 },
};

struct options {
	char *baseline, *positive;
	size_t steps, repeats, top;
	int method, metric;  /* -1: what suits the file */
	int by, json, query;
	int steps_given, repeats_given, query_given;
	fin_cli cli; /* -m, -y, -s, -k, --na, --na-values, --unseen, --threads, -d, -n, -o, -q */
};

/* What is explained: a model or a detector. */
struct subject {
	fin_model m;
	fin_detector d;
	int detector;
	fin_model *net;       /* whose network ig and shap explain: m, or an
			       * autoencoder detector's */
	char **feat, **keys;
	size_t nfeat, nkeys;
	const fin_encoding *enc;
	const char *target;   /* a model's target, for the note of unused columns */
	size_t *cls, ncls;    /* the classes explained (label indices) */
	int pos_class;        /* the label --positive names, or -1 */
};

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	static const char *const formats[] = { "csv", "json" };
	int opt;
	int rc = fin_cli_init(&o->cli, "fin-explain", usage,
			      FIN_CLI_MODEL | FIN_CLI_TARGET | FIN_CLI_SEED | FIN_CLI_KEY | FIN_CLI_NA |
				      FIN_CLI_NA_VALUES | FIN_CLI_UNSEEN | FIN_CLI_THREADS |
				      FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER | FIN_CLI_OUTPUT |
				      FIN_CLI_QUIET,
			      long_options, err);

	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_METHOD:
			rc = fin_cli_word("--method", optarg, fin_word_index(optarg, method_names, 5),
					  &o->method, err);
			break;
		case OPT_STEPS:
			rc = fin_cli_size("--steps", optarg, 1, 65536, &o->steps, err);
			o->steps_given = 1;
			break;
		case OPT_BASELINE: o->baseline = optarg; break;
		case OPT_POSITIVE: o->positive = optarg; break;
		case OPT_TOP: rc = fin_cli_size("--top", optarg, 1, 65536, &o->top, err); break;
		case OPT_BY: rc = fin_cli_word("--by", optarg, fin_group_by_parse(optarg), &o->by, err); break;
		case OPT_METRIC:
			rc = fin_cli_word("--metric", optarg, fin_perm_metric_parse(optarg), &o->metric, err);
			break;
		case OPT_REPEATS:
			rc = fin_cli_size("--repeats", optarg, 1, 10000, &o->repeats, err);
			o->repeats_given = 1;
			break;
		case OPT_QUERY:
			rc = fin_cli_word("--query", optarg, fin_query_parse(optarg), &o->query, err);
			o->query_given = 1;
			break;
		case OPT_FORMAT:
			rc = fin_cli_word("--format", optarg, fin_word_index(optarg, formats, 2), &o->json,
					  err);
			break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		exit(0);
	if (rc == FIN_OK && !o->cli.model)
		rc = fin_fail(err, FIN_EUSAGE, "-m MODEL is required");
	return rc;
}

/* The model or detector file, told apart by its format, each read by its
 * own loader. */
static int load_subject(struct subject *s, const char *path, fin_err *err)
{
	fin_json_reader r = { path, "model", err };
	cJSON *file = fin_json_load(&r);
	const cJSON *format = fin_json_field(file, "format");
	int rc;

	if (!file)
		return FIN_EMODEL;
	if (cJSON_IsString(format) && strcmp(format->valuestring, FIN_DETECTOR_FORMAT) == 0) {
		r.kind = "detector";
		s->detector = 1;
		rc = fin_detector_from_json(&s->d, file, &r);
		s->feat = s->d.feat;
		s->nfeat = s->d.nfeat;
		s->enc = &s->d.enc;
		s->keys = s->d.keys;
		s->nkeys = s->d.nkeys;
		s->net = s->d.method == FIN_DET_AUTOENCODER ? &s->d.ae : NULL;
	} else {
		rc = fin_model_from_json(&s->m, file, &r);
		s->feat = s->m.feat;
		s->nfeat = s->m.nfeat;
		s->enc = &s->m.enc;
		s->keys = s->m.keys;
		s->nkeys = s->m.nkeys;
		s->target = s->m.target;
		s->net = &s->m;
		if (rc == FIN_OK && s->m.task == FIN_TASK_GAN)
			rc = fin_fail(err, FIN_EMODEL,
				      "%s: a GAN predicts nothing to explain: its discriminator "
				      "scores rows in fin-anomaly --method gan", path);
	}
	cJSON_Delete(file);
	return rc;
}

/* The method asked for, or the one that suits the file, and whether the
 * options given fit it. */
static int choose_method(struct options *o, struct subject *s, fin_err *err)
{
	const char *name;
	char arch[1024];

	if (o->method < 0)
		o->method = s->detector ? (fin_detector_has_shares(&s->d) ? SHARE : PERMUTATION)
			    : fin_explain_is_linear(&s->m.net) && s->m.task != FIN_TASK_AUTOENCODER
				    ? SHAP
				    : IG;
	name = method_names[o->method];
	switch (o->method) {
	case SHAP:
		if (s->detector)
			return fin_fail(err, FIN_EUSAGE, "--method shap is for linear, logistic and "
					"softmax models; a detector takes share or permutation");
		if (!fin_explain_is_linear(&s->m.net) || s->m.task == FIN_TASK_AUTOENCODER) {
			fin_net_arch(&s->m.net, arch, sizeof arch);
			return fin_fail(err, FIN_EUSAGE,
					"--method shap: exact Shapley values are for linear, logistic "
					"and softmax models (one dense layer), and this model is %s: "
					"use --method ig", arch);
		}
		break;
	case IG:
		if (!s->net)
			return fin_fail(err, FIN_EUSAGE, "--method ig: a %s detector has no network "
					"to take gradients of: use --method permutation",
					fin_method_name(s->d.method));
		break;
	case SHARE:
		if (!s->detector)
			return fin_fail(err, FIN_EUSAGE, "--method share decomposes the scores of "
					"zscore, mahalanobis and autoencoder detectors; a model takes "
					"ig, shap or permutation");
		if (!fin_detector_has_shares(&s->d))
			return fin_fail(err, FIN_EUSAGE, "--method share: the score of a %s detector "
					"has no exact decomposition: use --method permutation",
					fin_method_name(s->d.method));
		break;
	case PERMUTATION:
		break;
	case ATTENTION:
		if (!s->net)
			return fin_fail(err, FIN_EUSAGE, "--method attention: a %s detector has no "
					"network: use --method permutation",
					fin_method_name(s->d.method));
		if (fin_attention_layers(&s->net->net) == 0) {
			fin_net_arch(&s->net->net, arch, sizeof arch);
			return fin_fail(err, FIN_EUSAGE,
					"--method attention is for networks with attention layers, "
					"and this %s is %s: use --method ig",
					s->detector ? "detector's autoencoder" : "model", arch);
		}
		if (o->top || o->by != FIN_BY_FEATURE || o->positive)
			return fin_fail(err, FIN_EUSAGE, "--top, --by and --positive do not go with "
					"--method attention: its rows are the weights of every "
					"layer and head over the steps");
		break;
	}
	if (o->method != ATTENTION && o->query_given)
		return fin_fail(err, FIN_EUSAGE, "--query goes with --method attention, not %s", name);
	if (o->method != IG && o->steps_given)
		return fin_fail(err, FIN_EUSAGE, "--steps goes with --method ig, not %s", name);
	if (o->baseline && o->method != IG && o->method != SHAP)
		return fin_fail(err, FIN_EUSAGE, "--baseline goes with --method ig or shap, not %s", name);
	if (o->method != PERMUTATION &&
	    (o->metric >= 0 || o->repeats_given || o->cli.seed_given || o->cli.target))
		return fin_fail(err, FIN_EUSAGE, "--metric, --repeats, --seed and -y go with --method "
				"permutation, not %s", name);
	if (o->method == PERMUTATION && o->cli.nkeys)
		return fin_fail(err, FIN_EUSAGE, "-k: permutation importance writes one row per "
				"feature, with no keys");
	if (o->method != PERMUTATION && o->top && o->by != FIN_BY_FEATURE)
		return fin_fail(err, FIN_EUSAGE, "--top names features: it does not go with --by %s",
				o->by == FIN_BY_STEP ? "step" : "channel");
	if (o->method == PERMUTATION) {
		if (o->metric < 0)
			o->metric = (int)fin_perm_metric_default(s->detector ? NULL : &s->m);
		return fin_perm_metric_check((enum fin_perm_metric)o->metric,
					     s->detector ? NULL : &s->m, err);
	}
	return FIN_OK;
}

/* The classes explained: --positive's label, or for a binary model its
 * second label, for a multiclass one each; one class otherwise. */
static int choose_classes(struct options *o, struct subject *s, fin_err *err)
{
	const fin_model *m = s->detector ? NULL : &s->m;
	int labels = m && (m->task == FIN_TASK_BINARY || m->task == FIN_TASK_MULTICLASS);
	size_t k;

	s->pos_class = -1;
	if (o->positive && labels) {
		for (k = 0; k < m->nlabels && strcmp(m->labels[k], o->positive) != 0; k++)
			;
		if (k == m->nlabels)
			return fin_fail(err, FIN_EUSAGE, "--positive: '%s' is not a label of %s", o->positive,
					o->cli.model);
		s->pos_class = (int)k;
	} else if (o->positive && !(s->detector && o->metric == FIN_METRIC_AUC)) {
		return fin_fail(err, FIN_EUSAGE, "--positive names a class of a classification model, "
				"or a detector's positive label with --metric auc");
	}
	if (o->method == PERMUTATION && o->positive && o->metric != FIN_METRIC_AUC)
		return fin_fail(err, FIN_EUSAGE, "--positive: permutation importance takes it for "
				"--metric auc only");
	s->cls = malloc((labels ? m->nlabels : 1) * sizeof *s->cls);
	if (!s->cls)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (s->pos_class >= 0)
		s->cls[s->ncls++] = (size_t)s->pos_class;
	else if (labels && m->task == FIN_TASK_BINARY)
		s->cls[s->ncls++] = 1;
	else
		for (k = 0; k < (labels ? m->nlabels : 1); k++)
			s->cls[s->ncls++] = k;
	return FIN_OK;
}

/* The note that states what the numbers are. */
static void units_note(const struct options *o, const struct subject *s)
{
	const fin_model *m = s->net;

	if (o->cli.quiet)
		return;
	if (o->method == PERMUTATION) {
		const char *group = o->by == FIN_BY_FEATURE ? "feature"
				    : o->by == FIN_BY_STEP  ? "time step"
							    : "channel";
		if (o->metric == FIN_METRIC_SCORE)
			fin_note("fin-explain", "importance: the mean absolute change of the score when a "
				 "%s's values are shuffled across the rows; mean and standard deviation "
				 "of %zu shuffles (seed %lu)", group, o->repeats, o->cli.seed);
		else
			fin_note("fin-explain", "importance: how much the %s rises when a %s's values "
				 "are shuffled across the rows; mean and standard deviation of %zu "
				 "shuffles (seed %lu)",
				 o->metric == FIN_METRIC_AUC ? "1 - ROC-AUC"
				 : fin_perm_metric_name((enum fin_perm_metric)o->metric),
				 group, o->repeats, o->cli.seed);
	} else if (s->detector) {
		fin_note("fin-explain", "attributions in the units of the %s detector's score",
			 fin_method_name(s->d.method));
	} else if (m->task == FIN_TASK_REGRESSION) {
		fin_note("fin-explain", "prediction and attributions in the units of the target '%s'",
			 m->target ? m->target : "y");
	} else if (m->task == FIN_TASK_BINARY) {
		size_t c = s->cls[0];
		fin_note("fin-explain", "prediction and attributions in log-odds of '%s' against '%s'",
			 m->labels[c], m->labels[1 - c]);
	} else if (m->task == FIN_TASK_MULTICLASS) {
		fin_note("fin-explain", "prediction and attributions in the logit of each class; a "
			 "class's log-odds against another are the difference of their logits");
	} else {
		fin_note("fin-explain", "recon_error and attributions in the units of the "
			 "reconstruction error (mean squared, standardised features)");
	}
}

/* The note that states what attention weights are. */
static void attention_note(const fin_attention_weights *a)
{
	static const char *const queries[] = { "the newest step's query",
						"every step's query, averaged",
						"each step's query" };

	fin_note("fin-explain", "attention weights of %s over the key steps (0 the newest) in "
		 "each attention layer and head, adding up to 1", queries[a->query]);
	if (a->query == FIN_QUERY_LAST && !a->newest_read)
		fin_note("fin-explain", "the network reads every step of its last attention layer, "
			 "not its newest alone through pool(last): --query mean averages the "
			 "weights of every step's query");
}

/* The mean of the rows of --baseline, standardised: the baseline row. */
static int read_baseline(const struct options *o, struct subject *s, fin_input *in, float *base,
			 fin_err *err)
{
	fin_table t = { 0 };
	fin_table_spec spec = { .columns = s->feat, .ncolumns = s->nfeat, .exact = 1,
				.owner = o->cli.model, .encoding = s->enc, .na = o->cli.na,
				.unseen_error = o->cli.text.unseen_error };
	size_t i, j;
	int rc;

	if ((rc = fin_table_read(&t, in, &spec, err)) == FIN_OK &&
	    (rc = fin_table_encode(&t, t.rows, err)) == FIN_OK && t.rows == 0)
		rc = fin_fail(err, FIN_ENOROWS, "--baseline %s: no rows", o->baseline);
	if (rc == FIN_OK) {
		float *mean = malloc(s->nfeat * sizeof *mean);
		if (!mean) {
			fin_table_free(&t);
			return fin_fail(err, FIN_EDATA, "out of memory");
		}
		for (j = 0; j < s->nfeat; j++) {
			double sum = 0;
			for (i = 0; i < t.rows; i++)
				sum += t.x[i * s->nfeat + j];
			mean[j] = (float)(sum / (double)t.rows);
		}
		fin_model_scale(s->net, mean, 1, base);
		free(mean);
	}
	fin_table_free(&t);
	return rc;
}

/* The output's fields: the keys, the class, the value and the baseline,
 * then the groups' names or the reasons; for attention, the keys, the
 * layer, the head, the query step with --query all, and the key steps. */
static int result_fields(const struct options *o, const struct subject *s,
			 const fin_feature_groups *g, const fin_attention_weights *a,
			 char *const *key_names, size_t npass, char ***fields, size_t *nfields,
			 fin_err *err)
{
	int classes = !s->detector && s->m.task == FIN_TASK_MULTICLASS;
	int query = o->method == ATTENTION && a->query == FIN_QUERY_ALL;
	size_t n = npass + (o->method == ATTENTION ? 2 + (size_t)query + a->steps
				: (size_t)classes + 2 + (o->top ? 3 * o->top : g->n));
	size_t at = 0, j;
	char **f = calloc(n, sizeof *f);

	*fields = f;
	*nfields = n;
	if (!f)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (j = 0; j < npass; j++)
		f[at++] = strdup(key_names[j]);
	if (o->method == ATTENTION) {
		f[at++] = strdup("layer");
		f[at++] = strdup("head");
		if (query)
			f[at++] = strdup("query");
		for (j = 0; j < a->steps; j++)
			f[at++] = strdup(a->names[j]);
		goto check;
	}
	if (classes)
		f[at++] = strdup("class");
	f[at++] = strdup(s->detector ? "score"
			 : s->m.task == FIN_TASK_AUTOENCODER ? "recon_error"
							      : "prediction");
	f[at++] = strdup("baseline");
	for (j = 0; j < (o->top ? o->top : g->n); j++) {
		char name[64];
		if (!o->top) {
			f[at++] = strdup(g->names[j]);
			continue;
		}
		snprintf(name, sizeof name, "reason_%zu", j + 1);
		f[at++] = strdup(name);
		snprintf(name, sizeof name, "value_%zu", j + 1);
		f[at++] = strdup(name);
		snprintf(name, sizeof name, "attribution_%zu", j + 1);
		f[at++] = strdup(name);
	}
check:
	for (j = 0; j < n; j++)
		if (!f[j])
			return fin_fail(err, FIN_EDATA, "out of memory");
	return FIN_OK;
}

static void free_fields(char **f, size_t n)
{
	size_t j;

	for (j = 0; f && j < n; j++)
		free(f[j]);
	free(f);
}

/* Work space of a batch of rows: values and attributions of each class,
 * or attention weights. */
struct batch_work {
	float *z, *base;         /* standardised rows, the baseline row */
	double *value, *base_value, *attr, *grouped;
	size_t *top;
	fin_attention_weights attn;
	float *weights;          /* attention: [n][attn.rows][attn.steps] */
	size_t rows_off;         /* ig: rows whose attributions miss prediction -
				  * baseline by more than 1% */
	double worst;            /* and the largest such miss */
};

/* Attributions of the batch's rows x for every class explained. */
static int explain_batch(const struct options *o, struct subject *s, struct batch_work *w,
			 const float *x, size_t n, fin_err *err)
{
	size_t d = s->nfeat, c, i;
	int rc;

	if (o->method == ATTENTION) {
		fin_model_scale(s->net, x, n, w->z);
		return fin_attention_weights_compute(&w->attn, &s->net->net, w->z, n, w->weights, err);
	}
	if (o->method == SHARE) {
		memset(w->base_value, 0, n * sizeof *w->base_value);
		return fin_detector_shares(&s->d, x, n, w->value, w->attr, err);
	}
	fin_model_scale(s->net, x, n, w->z);
	for (c = 0; c < s->ncls; c++) {
		fin_explained f = fin_explained_of_model(s->net, s->cls[c]);
		double *value = w->value + c * n, *base_value = w->base_value + c * n;
		double *attr = w->attr + c * n * d;
		if (o->method == SHAP) {
			fin_explain_linear(&s->net->net, &f, w->z, n, w->base, value, base_value, attr);
			continue;
		}
		if ((rc = fin_explain_value(&s->net->net, &f, w->base, 1, base_value, err)) != FIN_OK ||
		    (rc = fin_explain_value(&s->net->net, &f, w->z, n, value, err)) != FIN_OK ||
		    (rc = fin_explain_ig(&s->net->net, &f, w->z, n, w->base, o->steps, attr, err)) !=
			    FIN_OK)
			return rc;
		for (i = 1; i < n; i++)
			base_value[i] = base_value[0];
		w->rows_off += fin_explain_incomplete(value, base_value, attr, n, d, 0.01, &w->worst);
	}
	return FIN_OK;
}

/* A value or an attribution. ig's come from the float32 network and its
 * float32 gradients: written with float32's shortest digits, not 17.
 * shap's and share's are exact computations in double, written as such. */
static void write_value(fin_records *r, int float32, double v)
{
	if (float32 && fabs(v) <= FLT_MAX)
		fin_records_float(r, (float)v);
	else
		fin_records_number(r, v);
}

/* The key fields of row i of a batch. */
static void write_keys(const fin_row_batch *rb, size_t i, fin_records *r)
{
	const char *text = rb->text + rb->text_at[i];
	size_t j;

	for (j = 0; j < rb->npass; j++, text += strlen(text) + 1)
		fin_records_text(r, text, strlen(text));
}

/* The attention weights of row i of a batch: one output row per layer and
 * head (and query step). They come from the float32 network: written with
 * float32's shortest digits. */
static void write_weights(const fin_attention_weights *a, const float *weights,
			  const fin_row_batch *rb, size_t i, fin_records *r)
{
	const float *v = weights + i * a->rows * a->steps;
	size_t q, k;

	for (q = 0; q < a->rows; q++, v += a->steps) {
		write_keys(rb, i, r);
		fin_records_number(r, (double)a->layer[q]);
		fin_records_number(r, (double)a->head[q]);
		if (a->query == FIN_QUERY_ALL)
			fin_records_text(r, a->names[a->qstep[q]], strlen(a->names[a->qstep[q]]));
		for (k = 0; k < a->steps; k++) {
			if (isnan(v[k]))
				fin_records_missing(r);
			else
				fin_records_float(r, v[k]);
		}
	}
}

/* The output rows of row i of a batch of n: one per class. */
static void write_rows(const struct options *o, const struct subject *s,
		       const fin_feature_groups *g, struct batch_work *w, const fin_row_batch *rb,
		       size_t i, size_t n, fin_records *r)
{
	size_t d = s->nfeat, c, k, got;
	int float32 = o->method == IG;

	if (o->method == ATTENTION) {
		write_weights(&w->attn, w->weights, rb, i, r);
		return;
	}
	for (c = 0; c < s->ncls; c++) {
		const double *attr = w->attr + (c * n + i) * d;
		write_keys(rb, i, r);
		if (!s->detector && s->m.task == FIN_TASK_MULTICLASS)
			fin_records_text(r, s->m.labels[s->cls[c]], strlen(s->m.labels[s->cls[c]]));
		write_value(r, float32, w->value[c * n + i]);
		write_value(r, float32, w->base_value[c * n + i]);
		if (!o->top) {
			fin_feature_groups_sum(g, attr, 1, w->grouped);
			for (k = 0; k < g->n; k++)
				write_value(r, float32, w->grouped[k]);
			continue;
		}
		got = fin_explain_top(attr, d, o->top, 1, w->top);
		for (k = 0; k < o->top; k++) {
			if (k < got) {
				fin_records_text(r, s->feat[w->top[k]], strlen(s->feat[w->top[k]]));
				fin_records_float(r, rb->x[i * d + w->top[k]]);
				write_value(r, float32, attr[w->top[k]]);
			} else {
				fin_records_missing(r);
				fin_records_missing(r);
				fin_records_missing(r);
			}
		}
	}
}

/* ig, shap and share: rows stream through in batches. */
static int explain_rows(const struct options *o, struct subject *s, fin_input *in,
			fin_out_file **file, fin_err *err)
{
	size_t d = s->nfeat, nnames, npass = 0, nfields = 0, j, rows = 0, nkeys = o->cli.nkeys;
	size_t per_row, batch;
	char **names, **keys = NULL, **fields = NULL, **key_names = NULL;
	size_t *pass = NULL;
	fin_features feat = { 0 };
	fin_row_batch rb = { 0 };
	fin_feature_groups g = { 0 };
	struct batch_work w = { 0 };
	fin_time_key tk = { 0 };
	fin_records r;
	fin_input *bin = NULL;
	fin_row *row;
	int rc, got;

	if (nkeys && !(keys = malloc(nkeys * sizeof *keys)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (nkeys)
		memcpy(keys, o->cli.keys, nkeys * sizeof *keys);
	if (o->method == ATTENTION &&
	    (rc = fin_attention_weights_make(&w.attn, &s->net->net, (enum fin_query)o->query, err)) !=
		    FIN_OK)
		goto done;
	/* Rows a batch: the attributions of every class explained, or the
	 * attention weights, held for each, within about 32 MiB. */
	per_row = o->method == ATTENTION ? w.attn.rows * w.attn.steps : s->ncls * d;
	batch = ((size_t)1 << 22) / per_row;
	batch = batch < 1 ? 1 : batch > 256 ? 256 : batch;
	w.z = malloc(batch * d * sizeof *w.z);
	w.base = calloc(d, sizeof *w.base);
	w.value = malloc(s->ncls * batch * sizeof *w.value);
	w.base_value = malloc(s->ncls * batch * sizeof *w.base_value);
	w.attr = malloc(s->ncls * batch * d * sizeof *w.attr);
	w.grouped = malloc(d * sizeof *w.grouped);
	w.top = malloc((o->top ? o->top : 1) * sizeof *w.top);
	w.weights = malloc((o->method == ATTENTION ? batch * per_row : 1) * sizeof *w.weights);
	if (!w.z || !w.base || !w.value || !w.base_value || !w.attr || !w.grouped || !w.top ||
	    !w.weights) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (o->baseline && (!(bin = fin_input_open(&o->baseline, 1, &o->cli.csv, err)) ||
			    (rc = read_baseline(o, s, bin, w.base, err)) != FIN_OK)) {
		rc = err->code;
		goto done;
	}
	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK ||
	    (rc = fin_features_bind(&feat, s->feat, s->nfeat, s->enc, names, nnames, o->cli.na,
				    o->cli.text.unseen_error, fin_input_name(in), o->cli.model,
				    err)) != FIN_OK ||
	    (rc = fin_feature_groups_make(&g, (enum fin_group_by)o->by, s->feat, s->nfeat, err)) !=
		    FIN_OK)
		goto done;
	{
		/* Keys given by -k or by the file: then none is looked for. */
		fin_table_spec chosen = { .columns = s->feat, .ncolumns = s->nfeat, .exact = 1,
					  .target = s->target, .nkeys = nkeys + s->nkeys };
		if ((rc = fin_time_key_take(in, &chosen, &keys, &nkeys, &tk, err)) != FIN_OK)
			goto done;
		if (tk.name && !o->cli.quiet)
			fin_report("fin-explain", tk.note);
	}
	if (nkeys) {
		if ((rc = fin_columns_select(keys, nkeys, names, nnames, &pass, &npass, err)) != FIN_OK)
			goto done;
	} else if ((pass = malloc((s->nkeys ? s->nkeys : 1) * sizeof *pass))) {
		for (j = 0; j < s->nkeys; j++) {
			long col = fin_column_find(names, nnames, s->keys[j]);
			if (col >= 0)
				pass[npass++] = (size_t)col;
			else if (!o->cli.quiet)
				fin_note("fin-explain", "key column '%s' is not in the input", s->keys[j]);
		}
	}
	key_names = malloc((npass ? npass : 1) * sizeof *key_names);
	if (!pass || !key_names) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (j = 0; j < npass; j++)
		key_names[j] = names[pass[j]];
	if ((rc = fin_row_batch_init(&rb, batch, d, pass, npass, err)) != FIN_OK ||
	    (rc = result_fields(o, s, &g, &w.attn, key_names, npass, &fields, &nfields, err)) !=
		    FIN_OK)
		goto done;
	if (!(*file = fin_out_file_open(o->cli.output, in, (char *[]){ o->cli.model, o->baseline }, 2,
					err))) {
		rc = err->code;
		goto done;
	}
	fin_records_start(&r, fin_out_file_writer(*file), o->json, fields, nfields);
	do {
		got = fin_input_next(in, &row, err);
		if (got < 0) {
			rc = -got;
			break;
		}
		if (got > 0) {
			int added = fin_row_batch_add(&rb, &feat, row, fin_input_name(in), err);
			if (added == -1)
				continue;
			if ((rc = added) != FIN_OK)
				break;
			rows++;
		}
		if (rb.n == batch || (got == 0 && rb.n)) {
			size_t i;
			if ((rc = explain_batch(o, s, &w, rb.x, rb.n, err)) != FIN_OK)
				break;
			for (i = 0; i < rb.n; i++)
				write_rows(o, s, &g, &w, &rb, i, rb.n, &r);
			fin_row_batch_clear(&rb);
		}
	} while (got > 0);
	if (rc == FIN_OK && rows == 0)
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (rc == FIN_OK && !o->cli.quiet) {
		char **notes;
		size_t nnotes;
		if (feat.skipped)
			fin_note("fin-explain", "%zu rows with missing values left out", feat.skipped);
		if (feat.filled)
			fin_note("fin-explain", "%zu missing values filled forward", feat.filled);
		if (fin_features_notes(&feat, nnames, pass, npass, s->target, fin_input_name(in), &notes,
				       &nnotes) != 0)
			rc = fin_fail(err, FIN_EDATA, "out of memory");
		else
			fin_notes_flush("fin-explain", notes, nnotes);
		if (o->method == ATTENTION)
			attention_note(&w.attn);
		else
			units_note(o, s);
		if (w.rows_off)
			fin_note("fin-explain", "the attributions of %zu rows miss prediction - baseline "
				 "by more than 1%% (by up to %.3g): give more --steps than %zu",
				 w.rows_off, w.worst, o->steps);
	}
done:
	fin_input_close(bin);
	fin_features_free(&feat);
	fin_row_batch_free(&rb);
	fin_feature_groups_free(&g);
	free_fields(fields, nfields);
	free(key_names);
	free(pass);
	free(keys);
	free(w.z);
	free(w.base);
	free(w.value);
	free(w.base_value);
	free(w.attr);
	free(w.grouped);
	free(w.top);
	free(w.weights);
	fin_attention_weights_free(&w.attn);
	return rc;
}

/* What the rows are compared with: the target, or a detector's label. */
static int permutation_targets(const struct options *o, struct subject *s, const fin_table *t,
			       fin_perm_scorer *sc, fin_err *err)
{
	size_t i, pos = 0, *cls = NULL;
	unsigned char *positive = NULL;
	int rc = FIN_OK;

	if (!fin_perm_metric_needs_target((enum fin_perm_metric)o->metric))
		return FIN_OK;
	if (!s->detector && s->m.task == FIN_TASK_REGRESSION) {
		if (!t->y_numeric)
			return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'",
					t->y_text_file, t->y_text_line, o->cli.target ? o->cli.target : s->m.target,
					t->y_text);
		sc->y = t->y;
		return FIN_OK;
	}
	cls = malloc((t->rows ? t->rows : 1) * sizeof *cls);
	positive = malloc(t->rows ? t->rows : 1);
	if (!cls || !positive) {
		free(cls);
		free(positive);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; !s->detector && rc == FIN_OK && i < t->rows; i++) {
		float c = fin_model_target(&s->m, t, i);
		char shown[200];
		if (c < 0)
			rc = fin_fail(err, FIN_EDATA, "column '%s': '%s' is none of the model's labels",
				      o->cli.target ? o->cli.target : s->m.target,
				      fin_quote_field(shown, sizeof shown, t->ylabel[i],
						      strlen(t->ylabel[i])));
		else
			cls[i] = (size_t)c;
	}
	for (i = 0; rc == FIN_OK && i < t->rows; i++) {
		positive[i] = s->detector ? strcmp(t->ylabel[i], o->positive ? o->positive : "1") == 0
					  : cls[i] == (s->pos_class >= 0 ? (size_t)s->pos_class : 1);
		pos += positive[i];
	}
	if (rc == FIN_OK && o->metric == FIN_METRIC_AUC && (pos == 0 || pos == t->rows))
		rc = fin_fail(err, FIN_EDATA, "--metric auc needs rows of both classes: %zu of %zu "
			      "rows are positive", pos, t->rows);
	sc->cls = cls;
	sc->positive = positive;
	sc->flip = s->pos_class == 0;
	return rc;
}

/* permutation: every row is read, as shuffling needs. */
static int explain_permutation(const struct options *o, struct subject *s, fin_input *in,
			       fin_out_file **file, fin_err *err)
{
	const char *target = fin_perm_metric_needs_target((enum fin_perm_metric)o->metric)
				     ? (o->cli.target ? o->cli.target : s->target)
				     : NULL;
	fin_table_spec spec = { .columns = s->feat, .ncolumns = s->nfeat, .exact = 1,
				.owner = o->cli.model, .encoding = s->enc, .target = target,
				.na = o->cli.na, .unseen_error = o->cli.text.unseen_error };
	fin_perm_scorer sc = { .m = s->detector ? NULL : &s->m, .d = s->detector ? &s->d : NULL,
			       .metric = (enum fin_perm_metric)o->metric };
	fin_feature_groups g = { 0 };
	fin_table t = { 0 };
	double *importance = NULL, *sd = NULL, base;
	size_t *order = NULL, k, nrows;
	char *fields[3];
	fin_records r;
	int rc;

	if (fin_perm_metric_needs_target(sc.metric) && !target)
		return fin_fail(err, FIN_EUSAGE, "--metric %s compares with a label: give -y COL",
				fin_perm_metric_name(sc.metric));
	if ((rc = fin_feature_groups_make(&g, (enum fin_group_by)o->by, s->feat, s->nfeat, err)) !=
		    FIN_OK)
		goto done;
	if (!(*file = fin_out_file_open(o->cli.output, in, (char *[]){ o->cli.model }, 1, err))) {
		rc = err->code;
		goto done;
	}
	if ((rc = fin_table_read(&t, in, &spec, err)) != FIN_OK ||
	    (rc = fin_table_encode(&t, t.rows, err)) != FIN_OK)
		goto done;
	if (t.rows == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
		goto done;
	}
	importance = malloc(g.n * sizeof *importance);
	sd = malloc(g.n * sizeof *sd);
	order = malloc(g.n * sizeof *order);
	if (!importance || !sd || !order) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = permutation_targets(o, s, &t, &sc, err)) != FIN_OK ||
	    (rc = fin_perm_scorer_init(&sc, t.x, t.rows, err)) != FIN_OK ||
	    (rc = fin_permutation_importance(t.x, t.rows, s->nfeat, &g, o->repeats, o->cli.seed,
					     fin_perm_scorer_loss, &sc, &base, importance, sd, err)) != FIN_OK)
		goto done;
	fields[0] = (char *)g.header;
	fields[1] = "importance";
	fields[2] = "sd";
	fin_records_start(&r, fin_out_file_writer(*file), o->json, fields, 3);
	if (o->top)
		nrows = fin_explain_top(importance, g.n, o->top, 0, order);
	else
		for (nrows = 0; nrows < g.n; nrows++)
			order[nrows] = nrows;
	for (k = 0; k < nrows; k++) {
		fin_records_text(&r, g.names[order[k]], strlen(g.names[order[k]]));
		fin_records_number(&r, importance[order[k]]);
		fin_records_number(&r, sd[order[k]]);
	}
	if (!o->cli.quiet) {
		if (t.skipped)
			fin_note("fin-explain", "%zu rows with missing values left out", t.skipped);
		fin_notes_print("fin-explain", t.notes, t.nnotes);
		units_note(o, s);
		if (sc.metric != FIN_METRIC_SCORE)
			fin_note("fin-explain", "%s of the %zu rows as they are: %.6g",
				 sc.metric == FIN_METRIC_AUC ? "1 - ROC-AUC" : fin_perm_metric_name(sc.metric),
				 t.rows, base);
	}
done:
	fin_perm_scorer_free(&sc);
	free((void *)sc.cls);
	free((void *)sc.positive);
	fin_feature_groups_free(&g);
	fin_table_free(&t);
	free(importance);
	free(sd);
	free(order);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { .method = -1, .metric = -1, .steps = 128, .repeats = 5 };
	struct subject s = { 0 };
	fin_err err = { 0 };
	fin_input *in = NULL;
	fin_out_file *file = NULL;
	int rc;

	rc = parse_options(argc, argv, &o, &err);
	if (rc == FIN_OK)
		rc = load_subject(&s, o.cli.model, &err);
	if (rc == FIN_OK)
		rc = choose_method(&o, &s, &err);
	if (rc == FIN_OK)
		rc = choose_classes(&o, &s, &err);
	if (rc == FIN_OK) {
		fin_gemm_threads((int)o.cli.threads);
		in = fin_input_open(argv + optind, (size_t)(argc - optind), &o.cli.csv, &err);
		rc = in ? FIN_OK : err.code;
	}
	if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(in))
		fputs("fin-explain: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if (rc == FIN_OK)
		rc = o.method == PERMUTATION ? explain_permutation(&o, &s, in, &file, &err)
					     : explain_rows(&o, &s, in, &file, &err);
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, &err);
		file = NULL;
	}
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-explain", err.msg);
	fin_out_file_discard(file);
	fin_input_close(in);
	fin_model_free(&s.m);
	fin_detector_free(&s.d);
	free(s.cls);
	fin_cli_free(&o.cli);
	return rc;
}
