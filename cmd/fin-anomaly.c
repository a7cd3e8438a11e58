/* fin-anomaly: fit anomaly detectors on history and score rows with them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "detect/detector.h"
#include "detect/detector_stream.h"
#include "eval/metrics.h"
#include "features/feature_pass.h"
#include "features/feature_reader.h"
#include "features/row_batch.h"
#include "features/table.h"
#include "features/time_key.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/numio.h"
#include "io/out_file.h"
#include "nn/gemm.h"
#include "nn/train.h"
#include "par/dist.h"

static const char usage[] =
	"Usage: fin-anomaly fit --method M [OPTION]... [FILE]... -o DETECTOR\n"
	"       fin-anomaly score -m DETECTOR [OPTION]... [FILE]...\n"
	"       fin-anomaly --method M [OPTION]... [FILE]...   (fit and score the same rows)\n"
	"Score rows by how unusual they are: key columns, score, anomaly (0/1).\n"
	"\n"
	"      --method M         zscore|mahalanobis|iforest|autoencoder|gan (default iforest)\n"
	"  -c, --columns LIST     feature columns (default: every column but the keys and\n"
	"                         the label)\n"
	"  -k, --key LIST         key columns to pass through (default when scoring: the\n"
	"                         detector's; with --ae or --gan: the model's; without\n"
	"                         those, the first column, neither the label nor a feature,\n"
	"                         holding an ISO date in the first row)\n"
	"  -m, --model FILE       the detector to score with (score)\n"
	"  -o, --output FILE      the detector (fit), or the scores (score, fit and score)\n"
	"      --contamination F  flag the top F of the fitted rows' scores (default 0.01)\n"
	"      --threshold T      flag scores above T instead\n"
	"      --fail-on-anomaly  exit with status 5 when any row is flagged\n"
	"      --label COL        a 0/1 or text column to evaluate against (never fitted)\n"
	"      --positive VALUE   the value of COL that marks an anomaly (default 1)\n"
	"      --metrics FILE     write ROC-AUC, PR-AUC and recall as JSON (default: stderr)\n"
	"      --trees N          iforest: trees (default 100)\n"
	"      --sample N         iforest: rows drawn for each tree (default 256)\n"
	"      --shrinkage S      mahalanobis: weight of the identity target in [0, 1]\n"
	"                         (default: the Ledoit-Wolf estimate)\n"
	"      --ae MODEL         autoencoder: a model from fin-train --task autoencoder\n"
	"      --bottleneck N     autoencoder trained here: code width (default 8)\n"
	"      --epochs N         autoencoder trained here: epochs (default 50)\n"
	"      --gan MODEL        gan (required): a model from fin-train --task gan, whose\n"
	"                         discriminator D scores a row 1 - D(x)\n"
	FIN_HELP_SEED
	FIN_HELP_THREADS
	FIN_HELP_SHARD
	FIN_HELP_NA_LEVEL
	FIN_HELP_NA_VALUES
	FIN_TEXT_HELP
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable detector or model\n"
	"file, 4 no input rows, 5 rows flagged with --fail-on-anomaly. See fin-anomaly(1).\n";

enum { OPT_METHOD = 256, OPT_CONTAMINATION, OPT_THRESHOLD, OPT_FAIL, OPT_LABEL, OPT_POSITIVE,
       OPT_METRICS, OPT_TREES, OPT_SAMPLE, OPT_SHRINKAGE, OPT_AE, OPT_BOTTLENECK, OPT_EPOCHS,
       OPT_GAN };

static const struct option long_options[] = {
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "contamination", required_argument, NULL, OPT_CONTAMINATION },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "fail-on-anomaly", no_argument, NULL, OPT_FAIL },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "positive", required_argument, NULL, OPT_POSITIVE },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "trees", required_argument, NULL, OPT_TREES },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "shrinkage", required_argument, NULL, OPT_SHRINKAGE },
	{ "ae", required_argument, NULL, OPT_AE },
	{ "bottleneck", required_argument, NULL, OPT_BOTTLENECK },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "gan", required_argument, NULL, OPT_GAN },
	{ NULL, 0, NULL, 0 },
};

enum mode { FIT_AND_SCORE, FIT, SCORE };

struct options {
	enum mode mode;
	fin_detector_opts det;
	char *label, *positive, *metrics, *ae, *gan;
	size_t bottleneck, epochs;
	int fail_on_anomaly;
	fin_cli cli; /* -c, -k, -m, -o, -s, --threads, --shard, --na, --na-values, text options, -d, -n, -q */
};

/* The files a run writes, opened once its inputs are open and before the
 * work, made final once it all succeeded. */
struct outputs {
	fin_out_file *main;    /* -o: the detector (fit), or the scores */
	fin_out_file *metrics; /* --metrics */
};

static int open_outputs(const struct options *o, const fin_input *in, struct outputs *w,
			fin_err *err)
{
	char *const models[] = { o->cli.model, o->ae, o->gan };

	if (w->main)
		return FIN_OK; /* opened by the fit, before the rows it scores */
	if (!(w->main = fin_out_file_open(o->cli.output, in, models, 3, err)))
		return err->code;
	if (o->metrics && o->label && o->mode != FIT &&
	    !(w->metrics = fin_out_file_open(o->metrics, in, models, 3, err)))
		return err->code;
	return FIN_OK;
}

/* The checks of a run as one of several ranks (fin-anomaly(1), MPI). */
static int dist_usage(const struct options *o, size_t nfiles, char *const *files, fin_err *err)
{
	if (!fin_dist_active())
		return FIN_OK;
	if (o->mode == SCORE)
		return fin_fail(err, FIN_EUSAGE, "score goes one row at a time, in one process, not "
				"under mpirun: split the rows among processes instead "
				"(split -n l/N, or GNU parallel --pipe; see fin-anomaly(1), MPI)");
	if (o->mode == FIT_AND_SCORE)
		return fin_fail(err, FIN_EUSAGE, "fitting and scoring in one run is for one process: "
				"under mpirun, fin-anomaly fit writes a detector (-o DETECTOR) "
				"for score to use");
	if (!fin_detector_streams(o->det.method))
		return fin_fail(err, FIN_EUSAGE, "--method %s holds its rows and fits in one "
				"process, not under mpirun", fin_method_name(o->det.method));
	return fin_dist_usage(o->cli.threads, nfiles, files, err);
}

/* Scores and labels kept for the metrics. */
struct evaluation {
	double *score;
	unsigned char *label;
	size_t n, cap;
};

static int keep_for_metrics(struct evaluation *e, double score, int positive, fin_err *err)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4096;
		double *s = realloc(e->score, cap * sizeof *s);
		unsigned char *l;
		if (s)
			e->score = s;
		l = s ? realloc(e->label, cap) : NULL;
		if (!l)
			return fin_fail(err, FIN_EDATA, "out of memory");
		e->label = l;
		e->cap = cap;
	}
	e->score[e->n] = score;
	e->label[e->n++] = (unsigned char)positive;
	return FIN_OK;
}

/* Exact JSON text of v; null when it is undefined (no positives). */
static const char *json_number(char *buf, double v)
{
	if (!isfinite(v))
		return "null";
	fin_format_double(buf, v);
	return buf;
}

/* ROC-AUC, PR-AUC and recall when the top contamination share is flagged,
 * against the rows whose label is o->positive: as JSON to file, or on
 * standard error when it is NULL. */
static int report_metrics(const struct evaluation *e, const struct options *o,
			  double contamination, fin_out_file *file, fin_err *err)
{
	size_t k = (size_t)ceil(contamination * (double)e->n), pos = 0, i;
	double auc, ap, recall;

	if (fin_ranking_metrics(e->score, e->label, e->n, k, &auc, &ap, &recall) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < e->n; i++)
		pos += e->label[i];
	/* Undefined metrics say why: most often --positive is not one of the
	 * label's values. */
	if (pos == 0 || pos == e->n)
		fin_note("fin-anomaly",
			 "%zu rows, %s the positive label '%s' in column '%s' (see --positive): no "
			 "ROC-AUC, PR-AUC or recall",
			 e->n, pos ? "every one with" : "none with", o->positive, o->label);
	if (file) {
		char a[FIN_NUM_MAX], b[FIN_NUM_MAX], c[FIN_NUM_MAX], r[FIN_NUM_MAX], line[512];
		int n = snprintf(line, sizeof line,
				 "{\"rows\":%zu,\"positives\":%zu,\"roc_auc\":%s,\"pr_auc\":%s,"
				 "\"contamination\":%s,\"recall_at_contamination\":%s}\n",
				 e->n, pos, json_number(a, auc), json_number(b, ap),
				 json_number(c, contamination), json_number(r, recall));
		fin_out_bytes(fin_out_file_writer(file), line, (size_t)n);
	} else if (pos > 0 && pos < e->n)
		fprintf(stderr, "fin-anomaly: %zu rows, %zu positive: ROC-AUC %.4f, PR-AUC %.4f, "
				"recall in the top %.4g: %.4f\n",
			e->n, pos, auc, ap, contamination, recall);
	return FIN_OK;
}

static void write_header(fin_out *out, char *const *keys, size_t nkeys)
{
	size_t j;

	for (j = 0; j < nkeys; j++) {
		fin_out_field(out, keys[j], strlen(keys[j]));
		fin_out_char(out, ',');
	}
	fin_out_bytes(out, "score,anomaly\n", 14);
}

/* The end of an output row, after the pass-through fields. */
static void write_result(fin_out *out, double score, int flagged)
{
	fin_out_double(out, score);
	fin_out_char(out, ',');
	fin_out_char(out, flagged ? '1' : '0');
	fin_out_char(out, '\n');
}

static int score_rows(struct options *o, fin_input *in, fin_detector *d, size_t *flagged,
		      struct evaluation *ev, struct outputs *w, int fitted, fin_err *err);

/* fit, or fit and score. zscore, mahalanobis and iforest read the rows in
 * passes, holding none (standard input is spooled to a file for them):
 * one pass learns the columns, the fit makes its own, one more scores the
 * rows for the threshold, and fit and score scores them once more for
 * the output. The autoencoder and the GAN hold every row in memory.
 * Under mpirun (fit of those three only), every rank scans the rows and
 * the ranks fit together; rank 0 alone writes the detector. *agreed is set
 * once every rank knows whether any failed. */
static int fit(struct options *o, fin_input *in, fin_detector *d, size_t *flagged,
	       struct evaluation *ev, struct outputs *w, int *agreed, fin_err *err)
{
	int stream = fin_detector_streams(o->det.method);
	fin_table t = { 0 };
	fin_table_spec spec = { .columns = o->cli.columns, .ncolumns = o->cli.ncolumns,
				.keys = o->cli.keys,
				.nkeys = o->cli.nkeys, .target = o->label, .na = o->cli.na,
				.keep_keys = o->mode == FIT_AND_SCORE && !stream,
				.categorical = o->cli.text.categorical,
				.ncategorical = o->cli.text.ncategorical, .encode = o->cli.text.enc,
				.unseen_error = o->cli.text.unseen_error, .scan = stream };
	fin_feature_pass passes = { 0 };
	fin_time_key tk;
	const char *note = NULL;
	double *score = NULL;
	fin_out *out;
	size_t i, j;
	int rc;

	if (o->ae) {
		/* The model decides the features, and the keys unless -k does. */
		if ((rc = fin_model_load(&d->ae, o->ae, err)) != FIN_OK)
			return rc;
		if (d->ae.task != FIN_TASK_AUTOENCODER)
			return fin_fail(err, FIN_EMODEL, "%s: not an autoencoder (task %s)", o->ae,
					fin_task_name(d->ae.task));
		spec.columns = d->ae.feat;
		spec.ncolumns = d->ae.nfeat;
		spec.encoding = &d->ae.enc;
		spec.exact = 1;
		spec.owner = o->ae;
		if (!o->cli.nkeys) {
			spec.keys = d->ae.keys;
			spec.nkeys = d->ae.nkeys;
		}
	}
	if (o->gan) {
		/* The model decides the features, and the keys unless -k does. */
		if ((rc = fin_model_load(&d->gan, o->gan, err)) != FIN_OK)
			return rc;
		if (d->gan.task != FIN_TASK_GAN)
			return fin_fail(err, FIN_EMODEL,
					"%s: not a GAN (task %s): --gan needs a model from "
					"fin-train --task gan",
					o->gan, fin_task_name(d->gan.task));
		spec.columns = d->gan.feat;
		spec.ncolumns = d->gan.nfeat;
		spec.encoding = &d->gan.enc;
		spec.exact = 1;
		spec.owner = o->gan;
		if (!o->cli.nkeys) {
			spec.keys = d->gan.keys;
			spec.nkeys = d->gan.nkeys;
		}
	}
	if ((fin_dist_rank() == 0 && (rc = open_outputs(o, in, w, err)) != FIN_OK) ||
	    (stream && (rc = fin_input_spool(in, err)) != FIN_OK) ||
	    (rc = fin_time_key_take_cli(in, &spec, &o->cli, &tk, &note, err)) != FIN_OK)
		return rc;
	if (note)
		fin_report(o->cli.prog, note);
	/* Every rank has its input and its columns, and rank 0 its output,
	 * before any rank scans the rows. */
	if (fin_dist_active() && (rc = fin_dist_agree_msg(FIN_OK, err->msg)) != FIN_OK) {
		*agreed = 1;
		return rc;
	}
	if ((rc = fin_table_read(&t, in, &spec, err)) != FIN_OK ||
	    (rc = fin_table_encode(&t, t.rows, err)) != FIN_OK)
		return rc;
	if (!o->cli.quiet && t.skipped)
		fprintf(stderr, "fin-anomaly: %zu rows with missing values left out\n", t.skipped);
	if (o->det.method == FIN_DET_AUTOENCODER && !o->ae) {
		fin_train_opts to = { .epochs = o->epochs, .batch = 32, .optimizer = FIN_OPT_ADAM,
				      .lr = 1e-3f, .seed = o->det.seed };
		if ((rc = fin_train_autoencoder(&d->ae, &t, o->bottleneck, &to, err)) != FIN_OK)
			goto done;
	}
	/* The detector reads the input columns as the table did. */
	if (fin_encoding_has_text(&t.enc)) {
		d->enc = t.enc;
		memset(&t.enc, 0, sizeof t.enc);
	} else if (spec.encoding && fin_encoding_copy(&d->enc, spec.encoding) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	d->nfeat = t.nfeat;
	d->feat = calloc(t.nfeat, sizeof *d->feat);
	d->nkeys = t.nkeys;
	d->keys = calloc(t.nkeys ? t.nkeys : 1, sizeof *d->keys);
	if (!d->feat || !d->keys) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (j = 0; j < t.nfeat; j++)
		d->feat[j] = strdup(t.feat[j]);
	for (j = 0; j < t.nkeys; j++)
		d->keys[j] = strdup(t.key_names[j]);
	if (stream) {
		enum { BATCH = 4096 };
		if ((rc = fin_feature_pass_init(&passes, in, d->feat, d->nfeat, &d->enc, t.rows,
						o->cli.na, BATCH, err)) != FIN_OK ||
		    (o->cli.shard &&
		     (rc = fin_feature_pass_by_files(&passes, t.file_rows, t.files, err)) != FIN_OK))
			goto done;
		/* Every rank has scanned the rows: they fit together, and the
		 * fit itself stops every rank when one fails. */
		if (fin_dist_active()) {
			*agreed = 1;
			if ((rc = fin_dist_agree_msg(FIN_OK, err->msg)) != FIN_OK)
				goto done;
		}
		if ((rc = fin_detector_fit_passes(d, &passes, &o->det, err)) != FIN_OK)
			goto done;
	} else if ((rc = fin_detector_fit(d, t.x, t.rows, &o->det, err)) != FIN_OK) {
		goto done;
	}
	if (!o->cli.quiet)
		fprintf(stderr, "fin-anomaly: %s fitted on %zu rows of %zu features; threshold %.6g\n",
			fin_method_name(d->method), t.rows, t.nfeat, d->threshold);
	if (o->mode == FIT) {
		if (fin_dist_rank() == 0)
			rc = fin_detector_save(d, w->main, err);
		goto done;
	}
	if (stream) {
		/* The rows fitted are scored in one more pass over them. */
		if ((rc = fin_input_rewind(in, err)) == FIN_OK)
			rc = score_rows(o, in, d, flagged, ev, w, 1, err);
		goto done;
	}
	/* The rows fitted are the rows scored: fitting has their scores. */
	score = d->fit_scores;
	out = fin_out_file_writer(w->main);
	write_header(out, t.key_names, t.nkeys);
	for (i = 0; rc == FIN_OK && i < t.rows; i++) {
		int flag = score[i] > d->threshold;
		*flagged += flag;
		if (t.nkeys)
			fin_out_fields(out, t.keys + t.key_at[i], t.nkeys);
		write_result(out, score[i], flag);
		if (o->label)
			rc = keep_for_metrics(ev, score[i],
					      t.ylabel[i] && strcmp(t.ylabel[i], o->positive) == 0, err);
	}
done:
	/* Notes of the columns, once the fit succeeded: a failure is one line. */
	if (rc == FIN_OK && !o->cli.quiet)
		fin_notes_print("fin-anomaly", t.notes, t.nnotes);
	fin_feature_pass_free(&passes);
	fin_table_free(&t);
	return rc;
}

/* score: rows stream through in chunks; memory stays constant (but for
 * the scores kept for --label). */
static int score(struct options *o, fin_input *in, fin_detector *d, size_t *flagged,
		 struct evaluation *ev, struct outputs *w, fin_err *err)
{
	int rc = fin_detector_load(d, o->cli.model, err);

	return rc == FIN_OK ? score_rows(o, in, d, flagged, ev, w, 0, err) : rc;
}

/* Scores the rows of in with d and writes them. fitted: d was fitted on
 * these rows just now, which said what there is to say about them. */
static int score_rows(struct options *o, fin_input *in, fin_detector *d, size_t *flagged,
		      struct evaluation *ev, struct outputs *w, int fitted, fin_err *err)
{
	enum { BATCH = 4096 };
	char **names, **key_names = NULL;
	size_t nnames, *pass = NULL, npass = 0, i, j, rows = 0;
	unsigned char positive[BATCH];
	long label_col = -1;
	double *s = NULL;
	fin_row_batch rb = { 0 };
	fin_features feat = { 0 };
	fin_out *out;
	fin_row *row;
	int rc, got;

	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK ||
	    (rc = fin_features_bind(&feat, d->feat, d->nfeat, &d->enc, names, nnames, o->cli.na,
				    o->cli.text.unseen_error && !fitted, fin_input_name(in),
				    fitted ? "the fit" : o->cli.model, err)) != FIN_OK)
		goto done;
	if (o->label && (label_col = fin_column_find(names, nnames, o->label)) < 0) {
		rc = fin_fail(err, FIN_EUSAGE, "--label: no column '%s' in the input", o->label);
		goto done;
	}
	{
		/* Keys given by -k or by the detector: then none is looked for. */
		fin_table_spec chosen = { .columns = d->feat, .ncolumns = d->nfeat, .exact = 1,
					  .target = o->label, .nkeys = o->cli.nkeys + d->nkeys };
		fin_time_key tk;
		const char *note;
		if ((rc = fin_time_key_take_cli(in, &chosen, &o->cli, &tk, &note, err)) != FIN_OK)
			goto done;
		if (note)
			fin_report(o->cli.prog, note);
	}
	if (o->cli.nkeys) {
		if ((rc = fin_columns_select(o->cli.keys, o->cli.nkeys, names, nnames, &pass, &npass,
					     err)) != FIN_OK)
			goto done;
	} else if ((pass = malloc((d->nkeys ? d->nkeys : 1) * sizeof *pass))) {
		for (j = 0; j < d->nkeys; j++) {
			long c = fin_column_find(names, nnames, d->keys[j]);
			if (c >= 0)
				pass[npass++] = (size_t)c;
			else if (!o->cli.quiet)
				fin_note("fin-anomaly", "key column '%s' is not in the input", d->keys[j]);
		}
	}
	/* --threshold applies to scoring as well as to fitting. */
	if (!isnan(o->det.threshold)) {
		d->threshold = o->det.threshold;
		d->contamination = NAN;
	}
	if ((rc = fin_row_batch_init(&rb, BATCH, d->nfeat, pass, npass, err)) != FIN_OK)
		goto done;
	s = malloc(BATCH * sizeof *s);
	key_names = malloc((npass ? npass : 1) * sizeof *key_names);
	if (!pass || !s || !key_names) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = open_outputs(o, in, w, err)) != FIN_OK)
		goto done;
	out = fin_out_file_writer(w->main);
	for (j = 0; j < npass; j++)
		key_names[j] = names[pass[j]];
	write_header(out, key_names, npass);
	do {
		got = fin_input_next(in, &row, err);
		if (got < 0) {
			rc = -got;
			break;
		}
		if (got > 0) {
			/* read before the row is added: the label is not a feature */
			int is_positive =
				label_col >= 0 && strcmp(row->fields[label_col], o->positive) == 0;
			int added = fin_row_batch_add(&rb, &feat, row, fin_input_name(in), err);
			if (added == -1)
				continue;
			if ((rc = added) != FIN_OK)
				break;
			positive[rb.n - 1] = (unsigned char)is_positive;
			rows++;
		}
		if (rb.n == BATCH || (got == 0 && rb.n)) {
			if ((rc = fin_detector_score(d, rb.x, rb.n, s, err)) != FIN_OK)
				break;
			for (i = 0; i < rb.n; i++) {
				int flag = s[i] > d->threshold;
				*flagged += flag;
				fin_row_batch_write_pass(&rb, i, out);
				write_result(out, s[i], flag);
				if (label_col >= 0 && (rc = keep_for_metrics(ev, s[i], positive[i], err)))
					break;
			}
			fin_row_batch_clear(&rb);
		}
	} while (got > 0 && rc == FIN_OK);
	if (rc == FIN_OK && !o->cli.quiet && !fitted && feat.skipped)
		fprintf(stderr, "fin-anomaly: %zu rows with missing values left out\n", feat.skipped);
	if (rc == FIN_OK && !o->cli.quiet && !fitted) {
		char **notes;
		size_t nnotes, *used = malloc((npass + 1) * sizeof *used);
		/* The label is used too, though not a feature. */
		if (used) {
			memcpy(used, pass, npass * sizeof *used);
			if (label_col >= 0)
				used[npass] = (size_t)label_col;
		}
		if (!used || fin_features_notes(&feat, nnames, used, npass + (label_col >= 0), NULL,
						fin_input_name(in), &notes, &nnotes) != 0)
			rc = fin_fail(err, FIN_EDATA, "out of memory");
		else
			fin_notes_flush("fin-anomaly", notes, nnotes);
		free(used);
	}
	if (rc == FIN_OK && rows + feat.skipped == 0)
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
done:
	fin_features_free(&feat);
	free(key_names);
	fin_row_batch_free(&rb);
	free(s);
	free(pass);
	return rc;
}

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	int opt, word;
	int rc = fin_cli_init(&o->cli, "fin-anomaly", usage,
			      FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_MODEL | FIN_CLI_OUTPUT |
				      FIN_CLI_SEED | FIN_CLI_THREADS | FIN_CLI_NA_LEVEL |
				      FIN_CLI_NA_VALUES | FIN_CLI_TEXT | FIN_CLI_DELIMITER |
				      FIN_CLI_NO_HEADER | FIN_CLI_QUIET | FIN_CLI_RANKS,
			      long_options, err);

	if (argc > 1 && strcmp(argv[1], "fit") == 0)
		o->mode = FIT;
	else if (argc > 1 && strcmp(argv[1], "score") == 0)
		o->mode = SCORE;
	if (o->mode != FIT_AND_SCORE) {
		argv++;
		argc--;
	}
	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_METHOD:
			rc = fin_cli_word("--method", optarg, fin_method_parse(optarg), &word, err);
			o->det.method = (enum fin_method)word;
			break;
		case OPT_CONTAMINATION:
			rc = fin_cli_number("--contamination", optarg, 0, 1, &o->det.contamination, err);
			if (rc == FIN_OK && !(o->det.contamination > 0 && o->det.contamination < 1))
				rc = fin_fail(err, FIN_EUSAGE,
					      "--contamination: expected a share between 0 and 1, not '%s'",
					      optarg);
			break;
		case OPT_THRESHOLD:
			rc = fin_cli_number("--threshold", optarg, -INFINITY, INFINITY,
					    &o->det.threshold, err);
			break;
		case OPT_SHRINKAGE:
			rc = fin_cli_number("--shrinkage", optarg, 0, 1, &o->det.shrinkage, err);
			break;
		case OPT_FAIL: o->fail_on_anomaly = 1; break;
		case OPT_LABEL: o->label = optarg; break;
		case OPT_POSITIVE: o->positive = optarg; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_TREES: rc = fin_cli_size("--trees", optarg, 1, 100000, &o->det.trees, err); break;
		case OPT_SAMPLE: rc = fin_cli_size("--sample", optarg, 2, 1 << 24, &o->det.sample, err); break;
		case OPT_AE: o->ae = optarg; break;
		case OPT_GAN: o->gan = optarg; break;
		case OPT_BOTTLENECK: rc = fin_cli_size("--bottleneck", optarg, 1, 65536, &o->bottleneck, err); break;
		case OPT_EPOCHS: rc = fin_cli_size("--epochs", optarg, 1, 1000000, &o->epochs, err); break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc != FIN_OK)
		return rc; /* FIN_CLI_EXIT after --help and --version */
	o->det.seed = o->cli.seed;
	if (o->mode == SCORE && !o->cli.model)
		return fin_fail(err, FIN_EUSAGE, "score needs -m DETECTOR");
	if (o->mode != SCORE && o->cli.model)
		return fin_fail(err, FIN_EUSAGE, "-m is for score; fit builds a detector");
	if (o->ae && o->det.method != FIN_DET_AUTOENCODER)
		return fin_fail(err, FIN_EUSAGE, "--ae goes with --method autoencoder");
	if (o->gan && o->det.method != FIN_DET_GAN)
		return fin_fail(err, FIN_EUSAGE, "--gan goes with --method gan");
	if (o->mode != SCORE && o->det.method == FIN_DET_GAN && !o->gan)
		return fin_fail(err, FIN_EUSAGE,
				"--method gan needs --gan MODEL, a model from fin-train --task gan");
	return FIN_OK;
}

static int anomaly_main(int argc, char **argv);

int main(int argc, char **argv)
{
	return fin_dist_main("fin-anomaly", argc, argv, anomaly_main);
}

static int anomaly_main(int argc, char **argv)
{
	struct options o = { .det = { .method = FIN_DET_IFOREST, .contamination = 0.01,
				      .threshold = NAN, .shrinkage = NAN, .trees = 100,
				      .sample = 256 },
			     .positive = "1", .bottleneck = 8, .epochs = 50 };
	struct evaluation ev = { 0 };
	struct outputs w = { 0 };
	fin_detector d = { 0 };
	fin_err err = { 0 };
	fin_input *in = NULL;
	size_t flagged = 0;
	int rc, agreed = 0;

	/* Under mpirun, rank 0 alone speaks. */
	if (fin_dist_rank() > 0)
		opterr = 0;
	rc = parse_options(argc, argv, &o, &err);
	if (fin_dist_rank() > 0)
		o.cli.quiet = 1;
	if (rc == FIN_CLI_EXIT) {
		rc = FIN_OK;
		goto done;
	}
	if (rc == FIN_OK) {
		char **files = o.mode == FIT_AND_SCORE ? argv + optind : argv + 1 + optind;
		size_t nfiles = (size_t)(o.mode == FIT_AND_SCORE ? argc - optind : argc - 1 - optind);
		if ((rc = dist_usage(&o, nfiles, files, &err)) == FIN_OK) {
			fin_gemm_threads((int)o.cli.threads);
			in = fin_dist_open(files, nfiles, &o.cli.csv, o.cli.shard, &err);
			rc = in ? FIN_OK : err.code;
		}
	}
	if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(in))
		fputs("fin-anomaly: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if (rc == FIN_OK)
		rc = o.mode == SCORE ? score(&o, in, &d, &flagged, &ev, &w, &err)
				     : fit(&o, in, &d, &flagged, &ev, &w, &agreed, &err);
	/* A rank that stopped before the ranks fit together says so to the
	 * others there. */
	if (fin_dist_active() && !agreed)
		rc = fin_dist_agree_msg(rc, err.msg);
	if (rc == FIN_OK && o.label && o.mode != FIT)
		rc = report_metrics(&ev, &o,
				    isnan(d.contamination) ? o.det.contamination : d.contamination,
				    w.metrics, &err);
	if (rc == FIN_OK && w.metrics) {
		rc = fin_out_file_commit(w.metrics, &err);
		w.metrics = NULL;
	}
	if (rc == FIN_OK && w.main) {
		rc = fin_out_file_commit(w.main, &err);
		w.main = NULL;
	}
	/* An alert has a status of its own, so that cron tells it from a
	 * broken input, and its one line replaces the count. */
	if (rc == FIN_OK && o.fail_on_anomaly && flagged)
		rc = fin_fail(&err, FIN_EALERT, "%zu rows flagged as anomalies", flagged);
	else if (rc == FIN_OK && o.mode != FIT && !o.cli.quiet)
		fprintf(stderr, "fin-anomaly: %zu rows flagged\n", flagged);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-anomaly", err.msg);
done:
	fin_out_file_discard(w.metrics);
	fin_out_file_discard(w.main);
	fin_input_close(in);
	fin_detector_free(&d);
	free(ev.score);
	free(ev.label);
	fin_cli_free(&o.cli);
	return rc;
}
