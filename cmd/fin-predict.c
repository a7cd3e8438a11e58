/* fin-predict: apply a model from fin-train to CSV rows, streaming. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "features/feature_reader.h"
#include "features/row_batch.h"
#include "features/time_key.h"
#include "features/window.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/numio.h"
#include "io/out_file.h"
#include "nn/gemm.h"
#include "nn/model.h"

static const char usage[] =
	"Usage: fin-predict -m MODEL [OPTION]... [FILE]...\n"
	"Apply a model from fin-train to CSV rows.\n"
	"\n"
	"  -m, --model FILE       the model (required)\n"
	"  -k, --key LIST         key columns to pass through (default: the model's keys;\n"
	"                         for a model without keys, the first column that is no\n"
	"                         feature holding an ISO date in the first row)\n"
	"      --keep             pass every input column through\n"
	"      --embed            autoencoder: write the bottleneck as z1..zk\n"
	"      --recon-error      autoencoder: write each row's reconstruction error\n"
	"                         (the default for an autoencoder)\n"
	"      --batch N          rows per forward pass (default 256)\n"
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
	"Output: the keys, then 'prediction' (regression, in the target's units),\n"
	"'p_<label>' for each class and 'label' (classification), or z1..zk and\n"
	"'recon_error' (autoencoder).\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable model, 4 no input rows.\n"
	"See fin-predict(1).\n";

enum { OPT_KEEP = 256, OPT_BATCH, OPT_EMBED, OPT_RECON };

static const struct option long_options[] = {
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "embed", no_argument, NULL, OPT_EMBED },
	{ "recon-error", no_argument, NULL, OPT_RECON },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ NULL, 0, NULL, 0 },
};

/* What is written after the pass-through columns. */
struct results {
	const fin_model *m;
	int embed, recon;   /* autoencoder outputs */
	size_t k;           /* predictions per row */
};

static void write_result_header(fin_out *out, const struct results *r)
{
	const fin_model *m = r->m;
	char name[512];
	size_t j;
	int n;

	if (m->task == FIN_TASK_AUTOENCODER) {
		size_t width = m->net.layers[m->bottleneck].out_c * m->net.layers[m->bottleneck].out_t;
		for (j = 0; r->embed && j < width; j++) {
			n = snprintf(name, sizeof name, "z%zu", j + 1);
			fin_out_bytes(out, name, (size_t)n);
			if (j + 1 < width || r->recon)
				fin_out_char(out, ',');
		}
		if (r->recon)
			fin_out_bytes(out, "recon_error", 11);
	} else if (m->task == FIN_TASK_REGRESSION) {
		fin_out_bytes(out, "prediction", 10);
	} else {
		for (j = 0; j < m->nlabels; j++) {
			n = snprintf(name, sizeof name, "p_%s", m->labels[j]);
			fin_out_field(out, name, (size_t)n < sizeof name ? (size_t)n : sizeof name - 1);
			fin_out_char(out, ',');
		}
		fin_out_bytes(out, "label", 5);
	}
	fin_out_char(out, '\n');
}

/* A value made from the network's float32 output: de-standardising it, or
 * a logistic or softmax function of it, in double, adds no precision, so
 * it is written with float32's shortest digits, not 17 (fin-predict(1)).
 * Beyond float32's range, as a double. */
static void write_prediction(fin_out *out, double v)
{
	if (fabs(v) <= FLT_MAX)
		fin_out_float(out, (float)v);
	else
		fin_out_double(out, v);
}

/* Row i of a batch: pred holds predictions, or reconstruction errors; code
 * the autoencoder's bottleneck for the batch. */
static void write_result(fin_out *out, const struct results *r, const double *pred,
			 const float *code, size_t i)
{
	const fin_model *m = r->m;
	size_t best = 0, c;

	if (m->task == FIN_TASK_AUTOENCODER) {
		const fin_layer *b = &m->net.layers[m->bottleneck];
		size_t width = b->out_c * b->out_t;
		for (c = 0; r->embed && c < width; c++) {
			char num[FIN_NUM_MAX];
			fin_out_bytes(out, num, fin_format_float(num, code[i * width + c]));
			if (c + 1 < width || r->recon)
				fin_out_char(out, ',');
		}
		if (r->recon) /* a mean taken in double, as fin-anomaly's score */
			fin_out_double(out, pred[i]);
	} else if (m->task == FIN_TASK_REGRESSION) {
		write_prediction(out, pred[i]);
	} else {
		for (c = 0; c < r->k; c++) {
			write_prediction(out, pred[i * r->k + c]);
			fin_out_char(out, ',');
			if (pred[i * r->k + c] > pred[i * r->k + best])
				best = c;
		}
		fin_out_field(out, m->labels[best], strlen(m->labels[best]));
	}
	fin_out_char(out, '\n');
}

int main(int argc, char **argv)
{
	fin_err err = { 0 };
	fin_model m = { 0 };
	char **names;
	size_t nnames, *pass = NULL, npass = 0, batch = 256;
	size_t i, j, k, rows = 0;
	int keep = 0, embed = 0, recon = 0, opt, got;
	fin_input *in = NULL;
	fin_out_file *file = NULL;
	fin_out *out;
	fin_row *row;
	fin_row_batch rb = { 0 };
	float *scaled = NULL;
	double *pred = NULL;
	struct results res;
	fin_features feat = { 0 };
	fin_time_key tk = { 0 };
	fin_cli cli;
	int rc = fin_cli_init(&cli, "fin-predict", usage,
			      FIN_CLI_MODEL | FIN_CLI_KEY | FIN_CLI_NA | FIN_CLI_NA_VALUES |
				      FIN_CLI_UNSEEN | FIN_CLI_THREADS | FIN_CLI_DELIMITER |
				      FIN_CLI_NO_HEADER | FIN_CLI_OUTPUT | FIN_CLI_QUIET,
			      long_options, &err);

	while (rc == FIN_OK && (opt = fin_cli_next(&cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_KEEP: keep = 1; break;
		case OPT_EMBED: embed = 1; break;
		case OPT_RECON: recon = 1; break;
		case OPT_BATCH: rc = fin_cli_size("--batch", optarg, 1, 1 << 16, &batch, &err); break;
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	if (rc == FIN_OK && !cli.model)
		rc = fin_fail(&err, FIN_EUSAGE, "-m MODEL is required");
	if (rc == FIN_OK)
		rc = fin_model_load(&m, cli.model, &err);
	if (rc == FIN_OK && m.task == FIN_TASK_GAN)
		rc = fin_fail(&err, FIN_EMODEL,
			      "%s: a GAN predicts nothing: sample it with fin-gen, or score rows "
			      "with fin-anomaly --method gan",
			      cli.model);
	if (rc != FIN_OK)
		goto fail;
	fin_gemm_threads((int)cli.threads);
	in = fin_input_open(argv + optind, (size_t)(argc - optind), &cli.csv, &err);
	if (!in) {
		rc = err.code;
		goto fail;
	}
	if (!cli.quiet && fin_input_is_tty(in))
		fputs("fin-predict: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if ((rc = fin_input_header(in, &names, &nnames, &err)) != FIN_OK)
		goto fail;

	/* Features are found by name, wherever they are in the input. */
	if ((rc = fin_features_bind(&feat, m.feat, m.nfeat, &m.enc, names, nnames, cli.na,
				    cli.text.unseen_error, fin_input_name(in), cli.model, &err)) != FIN_OK)
		goto fail;
	if (!keep) {
		/* Keys given by -k or by the model: then none is looked for. */
		fin_table_spec chosen = { .columns = m.feat, .ncolumns = m.nfeat, .exact = 1,
					  .target = m.target, .nkeys = cli.nkeys + m.nkeys };
		const char *note;
		if ((rc = fin_time_key_take_cli(in, &chosen, &cli, &tk, &note, &err)) != FIN_OK)
			goto fail;
		if (note)
			fin_report(cli.prog, note);
	}
	if (keep) {
		pass = malloc(nnames * sizeof *pass);
		if (!pass) {
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
			goto fail;
		}
		for (npass = 0; npass < nnames; npass++)
			pass[npass] = npass;
	} else if (cli.nkeys) {
		if ((rc = fin_columns_select(cli.keys, cli.nkeys, names, nnames, &pass, &npass,
					     &err)) != FIN_OK)
			goto fail;
	} else {
		pass = malloc((m.nkeys ? m.nkeys : 1) * sizeof *pass);
		if (!pass) {
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
			goto fail;
		}
		for (j = 0; j < m.nkeys; j++) {
			long c = fin_column_find(names, nnames, m.keys[j]);
			if (c >= 0)
				pass[npass++] = (size_t)c;
			else if (!cli.quiet)
				fin_note("fin-predict", "key column '%s' is not in the input", m.keys[j]);
		}
	}

	if ((embed || recon) && m.task != FIN_TASK_AUTOENCODER) {
		rc = fin_fail(&err, FIN_EUSAGE, "--embed and --recon-error need an autoencoder");
		goto fail;
	}
	res.m = &m;
	res.embed = embed;
	res.recon = recon || !embed;
	res.k = k = m.task == FIN_TASK_BINARY || m.task == FIN_TASK_MULTICLASS ? m.nlabels : 1;
	if ((rc = fin_row_batch_init(&rb, batch, m.nfeat, pass, npass, &err)) != FIN_OK)
		goto fail;
	scaled = malloc(batch * m.nfeat * sizeof *scaled);
	pred = malloc(batch * k * sizeof *pred);
	if (!scaled || !pred || fin_net_reserve(&m.net, batch) != 0) {
		rc = fin_fail(&err, FIN_EDATA, "out of memory");
		goto fail;
	}
	if (!(file = fin_out_file_open(cli.output, in, (char *[]){ cli.model }, 1, &err))) {
		rc = err.code;
		goto fail;
	}
	out = fin_out_file_writer(file);
	for (j = 0; j < npass; j++) {
		fin_out_field(out, names[pass[j]], strlen(names[pass[j]]));
		fin_out_char(out, ',');
	}
	write_result_header(out, &res);

	for (;;) {
		got = fin_input_next(in, &row, &err);
		if (got < 0) {
			rc = -got;
			break;
		}
		if (got > 0) {
			int added = fin_row_batch_add(&rb, &feat, row, fin_input_name(in), &err);
			rows++;
			if (added != FIN_OK && added != -1) {
				rc = added;
				goto fail;
			}
		}
		if (rb.n == batch || (got == 0 && rb.n)) {
			const float *y;
			fin_model_scale(&m, rb.x, rb.n, scaled);
			y = fin_net_forward(&m.net, scaled, rb.n, 0);
			if (m.task == FIN_TASK_AUTOENCODER)
				fin_model_recon_error(&m, scaled, y, rb.n, pred);
			else
				fin_model_decode(&m, y, rb.n, pred);
			for (i = 0; i < rb.n; i++) {
				fin_row_batch_write_pass(&rb, i, out);
				write_result(out, &res, pred, m.net.act[m.bottleneck + 1], i);
			}
			fin_row_batch_clear(&rb);
		}
		if (got == 0)
			break;
	}
	if (rc == FIN_OK && rows == 0)
		rc = fin_fail(&err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, &err);
		file = NULL;
	}
	if (!cli.quiet && feat.skipped)
		fprintf(stderr, "fin-predict: %zu rows with missing values left out\n", feat.skipped);
	if (!cli.quiet && feat.filled)
		fprintf(stderr, "fin-predict: %zu missing values filled forward\n", feat.filled);
	if (!cli.quiet && rc == FIN_OK) {
		char **notes;
		size_t nnotes;
		if (fin_features_notes(&feat, nnames, pass, npass, m.target, fin_input_name(in), &notes,
				       &nnotes) != 0)
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
		else
			fin_notes_flush("fin-predict", notes, nnotes);
	}
fail:
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-predict", err.msg);
	fin_out_file_discard(file);
	fin_input_close(in);
	fin_model_free(&m);
	fin_row_batch_free(&rb);
	free(scaled);
	free(pred);
	free(pass);
	fin_features_free(&feat);
	fin_cli_free(&cli);
	return rc;
}
