/* fin-predict: apply a model from fin-train to CSV rows, streaming. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/version.h"
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
	"      --na POLICY        error|skip|ffill for missing values (default error)\n"
	"      --unseen POLICY    other|error for a text level not seen in training\n"
	"                         (default other)\n"
	"      --na-values LIST   more spellings of a missing value, comma-separated\n"
	"      --threads N        BLAS threads (default 1)\n"
	"  -d, --delimiter C      input field delimiter (default ',')\n"
	"  -n, --no-header        input has no header row\n"
	"  -o, --output FILE      write to FILE instead of standard output\n"
	"  -q, --quiet            no notes on standard error\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show the version and exit\n"
	"\n"
	"Output: the keys, then 'prediction' (regression, in the target's units),\n"
	"'p_<label>' for each class and 'label' (classification), or z1..zk and\n"
	"'recon_error' (autoencoder).\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable model, 4 no input rows.\n"
	"See fin-predict(1).\n";

enum { OPT_KEEP = 256, OPT_BATCH, OPT_NA, OPT_THREADS, OPT_EMBED, OPT_RECON };

static const struct option long_options[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "key", required_argument, NULL, 'k' },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "embed", no_argument, NULL, OPT_EMBED },
	{ "recon-error", no_argument, NULL, OPT_RECON },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "na", required_argument, NULL, OPT_NA },
	{ "unseen", required_argument, NULL, FIN_OPT_UNSEEN },
	{ "na-values", required_argument, NULL, FIN_OPT_NA_VALUES },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "delimiter", required_argument, NULL, 'd' },
	{ "no-header", no_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
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
		if (r->recon)
			fin_out_double(out, pred[i]);
	} else if (m->task == FIN_TASK_REGRESSION) {
		fin_out_double(out, pred[i]);
	} else {
		for (c = 0; c < r->k; c++) {
			fin_out_double(out, pred[i * r->k + c]);
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
	fin_csv_opts csv = { 0 };
	fin_err err = { 0 };
	fin_model m = { 0 };
	char **keys = NULL, **names, *model_path = NULL, *output = NULL;
	size_t nkeys = 0, nnames, *pass = NULL, npass = 0, batch = 256, threads = 1;
	size_t i, j, k, rows = 0;
	int keep = 0, embed = 0, recon = 0, quiet = 0, opt, rc = FIN_OK, word, got;
	fin_text_opts text = fin_text_opts_default();
	enum fin_na na = FIN_NA_ERROR;
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

	while (rc == FIN_OK &&
	       (opt = getopt_long(argc, argv, "m:k:d:no:qhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'm': model_path = optarg; break;
		case 'k': rc = fin_cli_append(&keys, &nkeys, optarg, &err); break;
		case OPT_KEEP: keep = 1; break;
		case OPT_EMBED: embed = 1; break;
		case OPT_RECON: recon = 1; break;
		case OPT_BATCH: rc = fin_cli_size("--batch", optarg, 1, 1 << 16, &batch, &err); break;
		case OPT_NA:
			rc = fin_cli_word("--na", optarg, fin_na_parse(optarg), &word, &err);
			na = (enum fin_na)word;
			break;
		case OPT_THREADS: rc = fin_cli_size("--threads", optarg, 1, 256, &threads, &err); break;
		case FIN_OPT_NA_VALUES: rc = fin_cli_na_values(optarg, &err); break;
		case 'd': rc = fin_cli_delim(optarg, &csv.delim, &err); break;
		case 'n': csv.no_header = 1; break;
		case 'o': output = optarg; break;
		case FIN_OPT_UNSEEN:
			rc = fin_cli_text_option(opt, optarg, &text, &err);
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': puts("fin-predict (fin) " FIN_VERSION); return 0;
		default:
			fputs("Try 'fin-predict --help'.\n", stderr);
			rc = FIN_EUSAGE;
			goto done;
		}
	}
	if (rc == FIN_OK && !model_path)
		rc = fin_fail(&err, FIN_EUSAGE, "-m MODEL is required");
	if (rc == FIN_OK)
		rc = fin_model_load(&m, model_path, &err);
	if (rc == FIN_OK && m.task == FIN_TASK_GAN)
		rc = fin_fail(&err, FIN_EMODEL,
			      "%s: a GAN predicts nothing: sample it with fin-gen, or score rows "
			      "with fin-anomaly --method gan",
			      model_path);
	if (rc != FIN_OK)
		goto fail;
	fin_gemm_threads((int)threads);
	in = fin_input_open(argv + optind, (size_t)(argc - optind), &csv, &err);
	if (!in) {
		rc = err.code;
		goto fail;
	}
	if (!quiet && fin_input_is_tty(in))
		fputs("fin-predict: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if ((rc = fin_input_header(in, &names, &nnames, &err)) != FIN_OK)
		goto fail;

	/* Features are found by name, wherever they are in the input. */
	if ((rc = fin_features_bind(&feat, m.feat, m.nfeat, &m.enc, names, nnames, na, text.unseen_error,
				    fin_input_name(in), model_path, &err)) != FIN_OK)
		goto fail;
	if (!keep) {
		/* Keys given by -k or by the model: then none is looked for. */
		fin_table_spec chosen = { .columns = m.feat, .ncolumns = m.nfeat, .exact = 1,
					  .target = m.target, .nkeys = nkeys + m.nkeys };
		if ((rc = fin_time_key_take(in, &chosen, &keys, &nkeys, &tk, &err)) != FIN_OK)
			goto fail;
		if (tk.name && !quiet)
			fin_report("fin-predict", tk.note);
	}
	if (keep) {
		pass = malloc(nnames * sizeof *pass);
		if (!pass) {
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
			goto fail;
		}
		for (npass = 0; npass < nnames; npass++)
			pass[npass] = npass;
	} else if (nkeys) {
		if ((rc = fin_columns_select(keys, nkeys, names, nnames, &pass, &npass, &err)) != FIN_OK)
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
			else if (!quiet)
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
	if (!(file = fin_out_file_open(output, in, (char *[]){ model_path }, 1, &err))) {
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
	if (!quiet && feat.skipped)
		fprintf(stderr, "fin-predict: %zu rows with missing values left out\n", feat.skipped);
	if (!quiet && feat.filled)
		fprintf(stderr, "fin-predict: %zu missing values filled forward\n", feat.filled);
	if (!quiet && rc == FIN_OK) {
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
done:
	fin_out_file_discard(file);
	fin_input_close(in);
	fin_model_free(&m);
	fin_row_batch_free(&rb);
	free(scaled);
	free(pred);
	free(pass);
	fin_features_free(&feat);
	free(keys);
	return rc;
}
