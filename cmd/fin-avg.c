/* fin-avg: federated averaging of the parties' models, or pooling of their
 * statistics files. */
#include <stdio.h>
#include <stdlib.h>

#include "core/cli.h"
#include "io/json_file.h"
#include "io/out_file.h"
#include "privacy/fedavg.h"
#include "privacy/pooled_stats.h"

static const char usage[] =
	"Usage: fin-avg [OPTION]... MODEL...\n"
	"  or:  fin-avg --stats [OPTION]... STATS...\n"
	"Average the weights of models the parties of federated learning trained from\n"
	"the same global model (fin-train --init), into the next global model; with\n"
	"--stats, pool their statistics files into one.\n"
	"\n"
	"      --weights W        rows|equal: weigh each model by the training rows it\n"
	"                         records, or equally (default rows)\n"
	"      --stats            pool statistics files (fin-stats) instead\n"
	FIN_HELP_OUTPUT
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"The models must agree on all but their weights: task, target, features, text\n"
	"encodings, architecture, labels, scalers and round.\n"
	"Exit status: 0 success, 1 write error, 2 usage error, 3 unusable or mismatched\n"
	"file.\n"
	"See fin-avg(1).\n";

enum { OPT_WEIGHTS = 256, OPT_STATS };

static const struct option long_options[] = {
	{ "weights", required_argument, NULL, OPT_WEIGHTS },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ NULL, 0, NULL, 0 },
};

/* The average of the models at paths into a (initialised), written to out. */
static int average_models(fin_fedavg *a, char *const *paths, size_t n, fin_out_file *out,
			  fin_err *err)
{
	cJSON *o = NULL;
	size_t i;
	int rc = FIN_OK;

	for (i = 0; rc == FIN_OK && i < n; i++)
		rc = fin_fedavg_add(a, paths[i], err);
	if (rc == FIN_OK)
		rc = fin_fedavg_finish(a, err);
	if (rc == FIN_OK && !(o = fin_fedavg_to_json(a)))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if (rc == FIN_OK)
		rc = fin_json_save(o, out, err);
	cJSON_Delete(o);
	return rc;
}

static int pool_stats(char *const *paths, size_t n, fin_out_file *out, fin_err *err)
{
	fin_stats acc, s;
	size_t i;
	int rc;

	if ((rc = fin_stats_load(&acc, paths[0], err)) != FIN_OK)
		return rc;
	for (i = 1; rc == FIN_OK && i < n; i++) {
		if ((rc = fin_stats_load(&s, paths[i], err)) != FIN_OK)
			break;
		rc = fin_stats_combine(&acc, paths[0], &s, paths[i], err);
		fin_stats_free(&s);
	}
	if (rc == FIN_OK)
		rc = fin_stats_save(&acc, out, err);
	fin_stats_free(&acc);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const weightings[] = { "rows", "equal" };
	fin_err err = { 0 };
	fin_out_file *out = NULL;
	fin_fedavg a;
	fin_cli cli;
	int opt, weighting = FIN_FEDAVG_ROWS, stats = 0, weights_given = 0;
	int rc = fin_cli_init(&cli, "fin-avg", usage, FIN_CLI_OUTPUT | FIN_CLI_QUIET, long_options,
			      &err);
	size_t n;

	while (rc == FIN_OK && (opt = fin_cli_next(&cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_WEIGHTS:
			rc = fin_cli_word("--weights", optarg, fin_word_index(optarg, weightings, 2),
					  &weighting, &err);
			weights_given = 1;
			break;
		case OPT_STATS: stats = 1; break;
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	n = (size_t)(argc - optind);
	if (rc == FIN_OK && n == 0)
		rc = fin_fail(&err, FIN_EUSAGE, "expected at least one %s file",
			      stats ? "statistics" : "model");
	if (rc == FIN_OK && stats && weights_given)
		rc = fin_fail(&err, FIN_EUSAGE, "--weights weighs models: statistics are pooled "
			      "exactly, by their rows");
	if (rc == FIN_OK)
		rc = fin_fedavg_distinct(argv + optind, n, &err);
	if (rc == FIN_OK && !(out = fin_out_file_open(cli.output, NULL, argv + optind, n, &err)))
		rc = err.code;
	fin_fedavg_init(&a, (enum fin_fedavg_weighting)weighting);
	if (rc == FIN_OK)
		rc = stats ? pool_stats(argv + optind, n, out, &err)
			   : average_models(&a, argv + optind, n, out, &err);
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(out, &err);
		out = NULL;
	}
	/* Notes once the run succeeded: a failure is one line. */
	if (rc == FIN_OK && !cli.quiet && a.fit_dropped)
		fin_note("fin-avg", "the exact fits' coefficients and standard errors (\"fit\") are "
			 "left out: they describe each fit, not the average");
	if (rc == FIN_OK && !cli.quiet && a.not_private)
		fin_note("fin-avg", "%s was trained without differential privacy: the average's "
			 "epsilon is infinite", a.not_private);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-avg", err.msg);
	fin_out_file_discard(out);
	fin_fedavg_free(&a);
	return rc;
}
