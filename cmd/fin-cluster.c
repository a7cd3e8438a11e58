/* fin-cluster: k-means segmentation of rows, or of an autoencoder's code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_stream.h"
#include "cluster/clusterer.h"
#include "core/cli.h"
#include "features/feature_pass.h"
#include "features/feature_reader.h"
#include "features/row_batch.h"
#include "features/table.h"
#include "features/time_key.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/out_file.h"
#include "nn/gemm.h"
#include "par/dist.h"

static const char usage[] =
	"Usage: fin-cluster [--clusters K|LO-HI] [OPTION]... [FILE]... [-o CLUSTERS]\n"
	"       fin-cluster -m CLUSTERS [OPTION]... [FILE]...\n"
	"Segment rows with k-means: key columns, cluster (from 0), distance to its centroid.\n"
	"\n"
	"      --clusters K       clusters, or a range such as 2-10: each is fitted and the\n"
	"                         best silhouette wins (default 2-10)\n"
	"  -c, --columns LIST     feature columns (default: every column but keys)\n"
	"  -k, --key LIST         key columns passed through (default when assigning: the\n"
	"                         model's; without those, the first column, neither chosen by\n"
	"                         -c nor a feature, holding an ISO date in the first row)\n"
	"      --keep             pass every input column through\n"
	"  -o, --output FILE      save the fitted clusters (JSON) to FILE\n"
	"  -m, --model FILE       assign rows to the clusters of FILE instead of fitting\n"
	"      --embed MODEL      cluster the code of an autoencoder from fin-train\n"
	"      --no-scale         cluster the values as they are (default: standardised)\n"
	"      --restarts N       k-means++ starts, the lowest inertia kept (default 10)\n"
	"      --max-iter N       Lloyd iterations per start (default 300)\n"
	"      --tol T            convergence, relative to the mean variance (default 1e-4)\n"
	"      --sample N         rows the silhouette is computed on (default 10000)\n"
	"      --init-sample N    rows held in memory: with more, k-means++ starts and\n"
	"                         the choice of k use a sample of N rows, and Lloyd's\n"
	"                         iterations go on over every row, a pass each\n"
	"                         (default 100000)\n"
	"      --k-report FILE    the table of k, inertia and silhouette as JSON\n"
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
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable model file,\n"
	"4 no input rows. See fin-cluster(1).\n";

enum { OPT_CLUSTERS = 256, OPT_KEEP, OPT_EMBED, OPT_NO_SCALE, OPT_RESTARTS, OPT_MAX_ITER, OPT_TOL,
       OPT_SAMPLE, OPT_K_REPORT, OPT_INIT_SAMPLE };

static const struct option long_options[] = {
	{ "clusters", required_argument, NULL, OPT_CLUSTERS },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "embed", required_argument, NULL, OPT_EMBED },
	{ "no-scale", no_argument, NULL, OPT_NO_SCALE },
	{ "restarts", required_argument, NULL, OPT_RESTARTS },
	{ "max-iter", required_argument, NULL, OPT_MAX_ITER },
	{ "tol", required_argument, NULL, OPT_TOL },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "k-report", required_argument, NULL, OPT_K_REPORT },
	{ "init-sample", required_argument, NULL, OPT_INIT_SAMPLE },
	{ NULL, 0, NULL, 0 },
};

struct options {
	size_t k_lo, k_hi, sample, hold;
	fin_kmeans_opts km;
	char *embed, *k_report;
	int keep, no_scale;
	fin_cli cli; /* -c, -k, -o, -m, -s, --threads, --shard, --na, --na-values, text options, -d, -n, -q */
};

static void write_header(fin_out *out, char *const *names, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++) {
		fin_out_field(out, names[j], strlen(names[j]));
		fin_out_char(out, ',');
	}
	fin_out_bytes(out, "cluster,distance\n", 17);
}

/* The end of an output row, after the pass-through fields. */
static void write_result(fin_out *out, int cluster, double distance)
{
	char num[FIN_NUM_MAX];

	fin_out_bytes(out, num, (size_t)snprintf(num, sizeof num, "%d,", cluster));
	fin_out_double(out, distance);
	fin_out_char(out, '\n');
}

/* The k table as JSON. */
static int write_k_report(fin_out_file *f, const fin_k_result *r, size_t n, size_t best,
			  fin_err *err)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
	size_t i;
	int ok = o && a && cJSON_AddItemToObject(o, "candidates", a) &&
		 cJSON_AddNumberToObject(o, "best_k", (double)r[best].k);
	int rc;

	for (i = 0; ok && i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(a, e) &&
		     cJSON_AddNumberToObject(e, "k", (double)r[i].k) &&
		     fin_json_add_exact(e, "inertia", r[i].inertia) &&
		     fin_json_add_exact(e, "silhouette", r[i].silhouette);
	}
	if (!ok) {
		if (!o)
			cJSON_Delete(a);
		cJSON_Delete(o);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	rc = fin_json_save(o, f, err);
	cJSON_Delete(o);
	return rc;
}

/* With --keep every column passes through; the model still remembers the
 * --key columns by name. */
static int remember_keys(const struct options *o, fin_input *in, fin_clusterer *c, fin_err *err)
{
	char **names;
	size_t nnames, *key = NULL, nkey = 0, j;
	int rc = FIN_OK;

	for (j = 0; j < c->nkeys; j++)
		free(c->keys[j]);
	free(c->keys);
	c->keys = NULL;
	c->nkeys = 0;
	fin_input_columns(in, &names, &nnames);
	if (o->cli.nkeys && (rc = fin_columns_select(o->cli.keys, o->cli.nkeys, names, nnames, &key,
						     &nkey, err)) != FIN_OK)
		return rc;
	c->keys = calloc(nkey ? nkey : 1, sizeof *c->keys);
	for (j = 0; c->keys && j < nkey; j++)
		if ((c->keys[j] = strdup(names[key[j]])))
			c->nkeys++;
	free(key);
	return c->keys && c->nkeys == nkey ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");
}

static int assign_rows(struct options *o, fin_input *in, fin_clusterer *c,
		       fin_cluster_tally *tally, int fitted, fin_err *err);

/* Fits every k of the range on the rows of in, in passes that hold at
 * most --init-sample of them (standard input is spooled to a file); keeps
 * the best silhouette (the only k when there is one), writes assignments
 * in one more pass, then the model. Under mpirun every rank reads the
 * table and they fit together, *agreed set once they have agreed to; rank
 * 0 alone then writes. */
static int fit(struct options *o, fin_input *in, fin_clusterer *c, int *agreed, fin_err *err)
{
	enum { BATCH = 4096 };
	fin_table t = { 0 };
	fin_table_spec spec = { .columns = o->cli.columns, .ncolumns = o->cli.ncolumns,
				.keys = o->cli.keys, .nkeys = o->cli.nkeys, .na = o->cli.na,
				.categorical = o->cli.text.categorical,
				.ncategorical = o->cli.text.ncategorical, .encode = o->cli.text.enc,
				.unseen_error = o->cli.text.unseen_error, .scan = 1 };
	size_t nk = o->k_hi - o->k_lo + 1, best = 0, i;
	fin_cluster_fit_opts fo = { .k_lo = o->k_lo, .k_hi = o->k_hi, .km = o->km,
				    .silhouette = o->sample, .hold = o->hold,
				    .scale = !o->no_scale, .report = o->k_report != NULL };
	int writer = fin_dist_rank() == 0;
	fin_k_result *res = calloc(nk, sizeof *res);
	fin_feature_pass passes = { 0 };
	fin_cluster_tally tally = { 0 };
	fin_out_file *model_file = NULL, *report_file = NULL;
	fin_time_key tk;
	const char *note;
	int rc, described = 0;

	if (!res) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (o->embed) {
		if ((rc = fin_model_load(&c->ae, o->embed, err)) != FIN_OK)
			goto done;
		if (c->ae.task != FIN_TASK_AUTOENCODER) {
			rc = fin_fail(err, FIN_EMODEL, "%s: not an autoencoder (task %s)", o->embed,
				      fin_task_name(c->ae.task));
			goto done;
		}
		c->embedded = 1;
		spec.columns = c->ae.feat;
		spec.ncolumns = c->ae.nfeat;
		spec.encoding = &c->ae.enc;
		spec.exact = 1;
		spec.owner = o->embed;
	}
	/* The outputs once every input is open, before the work. */
	if ((writer && o->cli.output &&
	     !(model_file = fin_out_file_open(o->cli.output, in, (char *[]){ o->embed }, 1, err))) ||
	    (writer && o->k_report &&
	     !(report_file = fin_out_file_open(o->k_report, in, (char *[]){ o->embed }, 1, err)))) {
		rc = err->code;
		goto done;
	}
	if ((rc = fin_input_spool(in, err)) != FIN_OK ||
	    (rc = fin_time_key_take_cli(in, &spec, &o->cli, &tk, &note, err)) != FIN_OK)
		goto done;
	if (note)
		fin_report(o->cli.prog, note);
	if ((rc = fin_table_read(&t, in, &spec, err)) != FIN_OK ||
	    (rc = fin_table_encode(&t, t.rows, err)) != FIN_OK)
		goto done;
	if (!o->cli.quiet && t.skipped)
		fprintf(stderr, "fin-cluster: %zu rows with missing values left out\n", t.skipped);
	if (o->k_hi > t.rows) {
		rc = fin_fail(err, FIN_EUSAGE, "k = %zu is more than the %zu rows", o->k_hi, t.rows);
		goto done;
	}
	c->nfeat = t.nfeat;
	c->feat = t.feat;
	t.feat = NULL;
	t.nfeat = 0;
	/* The segmentation reads the input columns as the table did. */
	if (fin_encoding_has_text(&t.enc)) {
		c->enc = t.enc;
		memset(&t.enc, 0, sizeof t.enc);
	} else if (spec.encoding && fin_encoding_copy(&c->enc, spec.encoding) != 0) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_feature_pass_init(&passes, in, c->feat, c->nfeat, &c->enc, t.rows, o->cli.na,
					BATCH, err)) != FIN_OK ||
	    (o->cli.shard &&
	     (rc = fin_feature_pass_by_files(&passes, t.file_rows, t.files, err)) != FIN_OK))
		goto done;
	if (fin_dist_active()) {
		/* Every rank has read the table: they fit together. */
		*agreed = 1;
		fo.km.ranks = 1;
		if ((rc = fin_dist_agree_msg(FIN_OK, err->msg)) != FIN_OK)
			goto done;
	}
	if ((rc = fin_clusterer_fit_passes(c, &passes, &fo, res, &best, &described, err)) != FIN_OK ||
	    !writer)
		goto done;
	if (nk > 1 && !o->cli.quiet) {
		fprintf(stderr, "fin-cluster:  k      inertia  silhouette\n");
		for (i = 0; i < nk; i++)
			fprintf(stderr, "fin-cluster: %2zu %12.6g  %10.4f\n", res[i].k, res[i].inertia,
				res[i].silhouette);
		fprintf(stderr, "fin-cluster: k = %zu has the best silhouette\n", res[best].k);
	}
	/* The rows fitted are assigned in one more pass over them. */
	if ((!described && (rc = fin_cluster_tally_init(&tally, c, err)) != FIN_OK) ||
	    (rc = fin_input_rewind(in, err)) != FIN_OK ||
	    (rc = assign_rows(o, in, c, described ? NULL : &tally, 1, err)) != FIN_OK)
		goto done;
	if (!described)
		fin_cluster_tally_finish(&tally, c);
	if (!o->keep) {
		c->keys = t.key_names;
		c->nkeys = t.nkeys;
		t.key_names = NULL;
		t.nkeys = 0;
	}
	if (o->keep && (rc = remember_keys(o, in, c, err)) != FIN_OK)
		goto done;
	if ((report_file && (rc = write_k_report(report_file, res, nk, best, err)) != FIN_OK) ||
	    (model_file && (rc = fin_clusterer_save(c, model_file, err)) != FIN_OK))
		goto done;
	if (report_file) {
		rc = fin_out_file_commit(report_file, err);
		report_file = NULL;
	}
	if (rc == FIN_OK && model_file) {
		rc = fin_out_file_commit(model_file, err);
		model_file = NULL;
	}
	/* Notes of the columns, once the fit succeeded: a failure is one line. */
	if (rc == FIN_OK && !o->cli.quiet)
		fin_notes_print("fin-cluster", t.notes, t.nnotes);
	if (rc == FIN_OK && !o->cli.quiet)
		fprintf(stderr, "fin-cluster: %zu rows in %zu clusters, inertia %.6g\n", t.rows,
			c->km.k, c->km.inertia);
done:
	fin_out_file_discard(report_file);
	fin_out_file_discard(model_file);
	fin_cluster_tally_free(&tally);
	fin_feature_pass_free(&passes);
	fin_table_free(&t);
	free(res);
	return rc;
}

/* Assigns streamed rows to the clusters of a saved model. */
static int assign(struct options *o, fin_input *in, fin_clusterer *c, fin_err *err)
{
	int rc = fin_clusterer_load(c, o->cli.model, err);

	return rc == FIN_OK ? assign_rows(o, in, c, NULL, 0, err) : rc;
}

/* Assigns the rows of in to the clusters of c and writes them, adding
 * them to tally unless it is NULL. fitted: c was fitted on these rows just
 * now, which said what there is to say about them. */
static int assign_rows(struct options *o, fin_input *in, fin_clusterer *c,
		       fin_cluster_tally *tally, int fitted, fin_err *err)
{
	enum { BATCH = 4096 };
	char **names, **pass_names = NULL;
	size_t nnames, *pass = NULL, npass = 0, rows = 0, i, j;
	float *space = NULL;
	int *cluster = NULL, got, rc;
	double *dist = NULL;
	fin_row_batch rb = { 0 };
	fin_features feat = { 0 };
	fin_out *out = malloc(sizeof *out);
	fin_row *row;

	if ((rc = fin_input_header(in, &names, &nnames, err)) != FIN_OK ||
	    (rc = fin_features_bind(&feat, c->feat, c->nfeat, &c->enc, names, nnames, o->cli.na,
				    o->cli.text.unseen_error && !fitted, fin_input_name(in),
				    fitted ? "the fit" : o->cli.model, err)) != FIN_OK)
		goto done;
	if (!o->keep) {
		/* Keys given by -k or by the model: then none is looked for. */
		fin_table_spec chosen = { .columns = c->feat, .ncolumns = c->nfeat, .exact = 1,
					  .nkeys = o->cli.nkeys + c->nkeys };
		fin_time_key tk;
		const char *note;
		if ((rc = fin_time_key_take_cli(in, &chosen, &o->cli, &tk, &note, err)) != FIN_OK)
			goto done;
		if (note)
			fin_report(o->cli.prog, note);
	}
	if (o->keep || o->cli.nkeys) {
		if (o->keep) {
			pass = malloc(nnames * sizeof *pass);
			for (npass = 0; pass && npass < nnames; npass++)
				pass[npass] = npass;
		} else if ((rc = fin_columns_select(o->cli.keys, o->cli.nkeys, names, nnames, &pass,
						    &npass, err)) != FIN_OK) {
			goto done;
		}
	} else if ((pass = malloc((c->nkeys ? c->nkeys : 1) * sizeof *pass))) {
		for (j = 0; j < c->nkeys; j++) {
			long col = fin_column_find(names, nnames, c->keys[j]);
			if (col >= 0)
				pass[npass++] = (size_t)col;
			else if (!o->cli.quiet)
				fin_note("fin-cluster", "key column '%s' is not in the input", c->keys[j]);
		}
	}
	if ((rc = fin_row_batch_init(&rb, BATCH, c->nfeat, pass, npass, err)) != FIN_OK)
		goto done;
	space = malloc(BATCH * c->dim * sizeof *space);
	cluster = malloc(BATCH * sizeof *cluster);
	dist = malloc(BATCH * sizeof *dist);
	pass_names = malloc((npass ? npass : 1) * sizeof *pass_names);
	if (!out || !pass || !space || !cluster || !dist || !pass_names) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (j = 0; j < npass; j++)
		pass_names[j] = names[pass[j]];
	fin_out_init(out, STDOUT_FILENO);
	write_header(out, pass_names, npass);
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
		if (rb.n == BATCH || (got == 0 && rb.n)) {
			if ((rc = fin_clusterer_map(c, rb.x, rb.n, space, err)) != FIN_OK)
				break;
			fin_kmeans_assign(&c->km, space, rb.n, cluster, dist);
			if (tally)
				fin_cluster_tally_add(tally, c, rb.x, rb.n, cluster, dist);
			for (i = 0; i < rb.n; i++) {
				fin_row_batch_write_pass(&rb, i, out);
				write_result(out, cluster[i], dist[i]);
			}
			fin_row_batch_clear(&rb);
		}
	} while (got > 0 && rc == FIN_OK);
	if (fin_out_finish(out, "<stdout>", rc == FIN_OK ? err : NULL) != FIN_OK && rc == FIN_OK)
		rc = FIN_EDATA;
	if (rc == FIN_OK && !o->cli.quiet && !fitted && feat.skipped)
		fprintf(stderr, "fin-cluster: %zu rows with missing values left out\n", feat.skipped);
	if (rc == FIN_OK && !o->cli.quiet && !fitted) {
		char **notes;
		size_t nnotes;
		if (fin_features_notes(&feat, nnames, pass, npass, NULL, fin_input_name(in), &notes,
				       &nnotes) != 0)
			rc = fin_fail(err, FIN_EDATA, "out of memory");
		else
			fin_notes_flush("fin-cluster", notes, nnotes);
	}
	if (rc == FIN_OK && rows + feat.skipped == 0)
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
done:
	fin_features_free(&feat);
	free(pass_names);
	free(out);
	fin_row_batch_free(&rb);
	free(space);
	free(cluster);
	free(dist);
	free(pass);
	return rc;
}

static int parse_k(const char *arg, size_t *lo, size_t *hi, fin_err *err)
{
	char *end;
	unsigned long a = strtoul(arg, &end, 10), b = a;

	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || a < 1 || b < a || b > 1000)
		return fin_fail(err, FIN_EUSAGE, "--clusters: expected a number of clusters or a range such as "
				"2-10, not '%s'", arg);
	*lo = a;
	*hi = b;
	return FIN_OK;
}

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	int opt;
	int rc = fin_cli_init(&o->cli, "fin-cluster", usage,
			      FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_OUTPUT | FIN_CLI_MODEL |
				      FIN_CLI_SEED | FIN_CLI_THREADS | FIN_CLI_NA_LEVEL |
				      FIN_CLI_NA_VALUES | FIN_CLI_TEXT | FIN_CLI_DELIMITER |
				      FIN_CLI_NO_HEADER | FIN_CLI_QUIET | FIN_CLI_RANKS,
			      long_options, err);

	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_CLUSTERS: rc = parse_k(optarg, &o->k_lo, &o->k_hi, err); break;
		case OPT_KEEP: o->keep = 1; break;
		case OPT_EMBED: o->embed = optarg; break;
		case OPT_NO_SCALE: o->no_scale = 1; break;
		case OPT_RESTARTS: rc = fin_cli_size("--restarts", optarg, 1, 10000, &o->km.restarts, err); break;
		case OPT_MAX_ITER: rc = fin_cli_size("--max-iter", optarg, 1, 1000000, &o->km.max_iter, err); break;
		case OPT_TOL:
			rc = fin_cli_number("--tol", optarg, 0, INFINITY, &o->km.tol, err);
			break;
		case OPT_SAMPLE: rc = fin_cli_size("--sample", optarg, 2, 1 << 20, &o->sample, err); break;
		case OPT_K_REPORT: o->k_report = optarg; break;
		case OPT_INIT_SAMPLE:
			rc = fin_cli_size("--init-sample", optarg, 2, 1 << 26, &o->hold, err);
			break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc != FIN_OK)
		return rc;
	o->km.seed = o->cli.seed;
	if (o->hold < o->k_hi)
		return fin_fail(err, FIN_EUSAGE, "--init-sample %zu: fewer rows than the %zu clusters",
				o->hold, o->k_hi);
	if (o->cli.model && (o->embed || o->cli.output || o->k_report))
		return fin_fail(err, FIN_EUSAGE, "-m assigns with a saved model: no --embed, -o or "
				"--k-report");
	return FIN_OK;
}

/* The checks of a run as one of several ranks (fin-cluster(1), MPI). */
static int dist_usage(const struct options *o, size_t nfiles, char *const *files, fin_err *err)
{
	if (fin_dist_active() && o->cli.model)
		return fin_fail(err, FIN_EUSAGE, "-m assigns one row at a time, in one process, not "
				"under mpirun: split the rows among processes instead (split -n l/N, "
				"or GNU parallel --pipe; see fin-cluster(1), MPI)");
	return fin_dist_usage(o->cli.threads, nfiles, files, err);
}

static int cluster_main(int argc, char **argv)
{
	struct options o = { .k_lo = 2, .k_hi = 10, .sample = 10000, .hold = 100000,
			     .km = { .restarts = 10, .max_iter = 300, .tol = 1e-4 } };
	fin_clusterer c = { 0 };
	fin_err err = { 0 };
	fin_input *in = NULL;
	int rc, agreed = 0;

	/* Under mpirun, rank 0 alone speaks. */
	if (fin_dist_rank() > 0)
		opterr = 0;
	rc = parse_options(argc, argv, &o, &err);
	if (rc == FIN_CLI_EXIT) {
		fin_cli_free(&o.cli);
		return 0;
	}
	if (fin_dist_rank() > 0)
		o.cli.quiet = 1;
	if (rc == FIN_OK)
		rc = dist_usage(&o, (size_t)(argc - optind), argv + optind, &err);
	if (rc == FIN_OK) {
		fin_gemm_threads((int)o.cli.threads);
		in = fin_dist_open(argv + optind, (size_t)(argc - optind), &o.cli.csv, o.cli.shard,
				   &err);
		rc = in ? FIN_OK : err.code;
	}
	if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(in))
		fputs("fin-cluster: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if (rc == FIN_OK)
		rc = o.cli.model ? assign(&o, in, &c, &err) : fit(&o, in, &c, &agreed, &err);
	/* A rank that stopped before the ranks fit together says so to the
	 * others there; the first failed rank's message is printed. */
	if (fin_dist_active() && !agreed)
		rc = fin_dist_agree_msg(rc, err.msg);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-cluster", err.msg);
	fin_input_close(in);
	fin_clusterer_free(&c);
	fin_cli_free(&o.cli);
	return rc;
}

int main(int argc, char **argv)
{
	return fin_dist_main("fin-cluster", argc, argv, cluster_main);
}
