/* fin-window: sliding windows over a time series CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "features/time_key.h"
#include "features/window.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/out_file.h"

static const char usage[] =
	"Usage: fin-window [OPTION]... [FILE]...\n"
	"Turn a time series CSV into one row per sliding window.\n"
	"\n"
	"  -c, --columns LIST     columns to window, one channel each (default: all but keys)\n"
	"  -k, --key LIST         key columns passed through, from the newest row of the window;\n"
	"                         the first is the time: a number or an ISO date that must\n"
	"                         increase from row to row (default: the first column that\n"
	"                         -c leaves out holding an ISO date in the first row)\n"
	"      --unsorted         take the rows as they come: no check of the time order\n"
	"      --size N           values per channel in a window (default 20)\n"
	"      --horizon H        steps ahead of the target (default 1)\n"
	"      --stride S         write every S-th window (default 1)\n"
	"      --transform T      level|diff|ret|logret, applied first (default level)\n"
	"      --norm N           none|zscore|minmax|last, within each window (default none)\n"
	"      --target T         next|sum|direction|none (default next)\n"
	"      --target-column C  channel the target is taken from (default: the first)\n"
	"Panels (many series in one table):\n"
	"      --by COL           a long table: the rows of each value of COL are a series\n"
	"                         of their own, windowed alone; COL passes through as a key\n"
	"      --assets LIST      a wide table: each column of LIST is the series of an\n"
	"                         asset, written in long form (columns asset, value_<lag>)\n"
	"      --cross-section H  rank|zscore|none: each value and the target of the\n"
	"                         windows ending on a date put on a scale across the\n"
	"                         assets present that date (default none)\n"
	FIN_HELP_NA
	FIN_HELP_NA_VALUES
	FIN_HELP_DELIMITER
	"  -n, --no-header        input has no header row; columns are named 1, 2, ...\n"
	FIN_HELP_OUTPUT
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 4 no input rows.\n"
	"See fin-window(1) and fin(7).\n";

enum { OPT_SIZE = 256, OPT_HORIZON, OPT_STRIDE, OPT_TRANSFORM, OPT_NORM, OPT_TARGET,
       OPT_TARGET_COLUMN, OPT_UNSORTED, OPT_BY, OPT_ASSETS, OPT_CROSS };

static const struct option long_options[] = {
	{ "unsorted", no_argument, NULL, OPT_UNSORTED },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "horizon", required_argument, NULL, OPT_HORIZON },
	{ "stride", required_argument, NULL, OPT_STRIDE },
	{ "transform", required_argument, NULL, OPT_TRANSFORM },
	{ "norm", required_argument, NULL, OPT_NORM },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "target-column", required_argument, NULL, OPT_TARGET_COLUMN },
	{ "by", required_argument, NULL, OPT_BY },
	{ "assets", required_argument, NULL, OPT_ASSETS },
	{ "cross-section", required_argument, NULL, OPT_CROSS },
	{ NULL, 0, NULL, 0 },
};

static int fail(const fin_err *err)
{
	fin_report("fin-window", err->msg);
	return err->code;
}

/* The column of --by, added to the keys after them unless among them: it
 * passes through with each window. It is never the time (the first key). */
static int by_key(char *by, char *const *names, size_t nnames, size_t **key, size_t *nkey,
		  size_t *col, fin_err *err)
{
	size_t *one = NULL, n = 0, i, *p;
	int rc = fin_columns_select(&by, 1, names, nnames, &one, &n, err);

	if (rc == FIN_OK && n != 1)
		rc = fin_fail(err, FIN_EUSAGE, "--by names one column");
	if (rc != FIN_OK) {
		free(one);
		return rc;
	}
	*col = one[0];
	free(one);
	if (*nkey && (*key)[0] == *col)
		return fin_fail(err, FIN_EUSAGE, "--by: '%s' is the time key; give the time first "
				"in -k", names[*col]);
	for (i = 0; i < *nkey; i++)
		if ((*key)[i] == *col)
			return FIN_OK;
	if (!(p = realloc(*key, (*nkey + 1) * sizeof *p)))
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	p[(*nkey)++] = *col;
	*key = p;
	return FIN_OK;
}

int main(int argc, char **argv)
{
	fin_window_opts o = { .size = 20, .horizon = 1, .stride = 1 };
	fin_err err = { 0 };
	char **names, *target_col = NULL, *by = NULL, **assets = NULL;
	size_t nnames, *chan = NULL, nchan, *key = NULL, nkey = 0, nassets = 0, i;
	fin_window_panel panel = { 0 };
	int opt, word;
	fin_window_stats st;
	fin_time_key tk;
	fin_input *in = NULL;
	fin_out_file *out = NULL;
	fin_cli cli;
	int rc = fin_cli_init(&cli, "fin-window", usage,
			      FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_NA | FIN_CLI_NA_VALUES |
				      FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER | FIN_CLI_OUTPUT |
				      FIN_CLI_QUIET,
			      long_options, &err);

	while (rc == FIN_OK && (opt = fin_cli_next(&cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_UNSORTED: o.unsorted = 1; break;
		case OPT_SIZE: rc = fin_cli_size("--size", optarg, 1, 100000, &o.size, &err); break;
		case OPT_HORIZON: rc = fin_cli_size("--horizon", optarg, 1, 100000, &o.horizon, &err); break;
		case OPT_STRIDE: rc = fin_cli_size("--stride", optarg, 1, 100000000, &o.stride, &err); break;
		case OPT_TRANSFORM:
			rc = fin_cli_word("--transform", optarg, fin_transform_parse(optarg), &word, &err);
			o.transform = (enum fin_transform)word;
			break;
		case OPT_NORM:
			rc = fin_cli_word("--norm", optarg, fin_norm_parse(optarg), &word, &err);
			o.norm = (enum fin_norm)word;
			break;
		case OPT_TARGET:
			rc = fin_cli_word("--target", optarg, fin_target_parse(optarg), &word, &err);
			o.target = (enum fin_target)word;
			break;
		case OPT_TARGET_COLUMN: target_col = optarg; break;
		case OPT_BY: by = optarg; break;
		case OPT_ASSETS: rc = fin_cli_append(&assets, &nassets, optarg, &err); break;
		case OPT_CROSS:
			rc = fin_cli_word("--cross-section", optarg, fin_cross_parse(optarg), &word,
					  &err);
			panel.cross = (enum fin_cross)word;
			break;
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	if (rc != FIN_OK)
		goto done;
	o.na = cli.na;
	if (by && nassets)
		rc = fin_fail(&err, FIN_EUSAGE, "--by (a long table) and --assets (a wide one) "
			      "cannot go together");
	else if (nassets && cli.ncolumns)
		rc = fin_fail(&err, FIN_EUSAGE, "--assets chooses the columns to window: leave out -c");
	else if (nassets && target_col)
		rc = fin_fail(&err, FIN_EUSAGE, "--target-column with --assets: each asset's target "
			      "comes from its own column");
	else if (panel.cross != FIN_CS_NONE && !by && !nassets)
		rc = fin_fail(&err, FIN_EUSAGE, "--cross-section compares the assets of a panel: "
			      "give --by or --assets");
	else if (panel.cross != FIN_CS_NONE && o.target == FIN_TARGET_DIRECTION)
		rc = fin_fail(&err, FIN_EUSAGE, "--cross-section with --target direction: a "
			      "direction (0 or 1) has no scale to put it on; use next or sum");
	else if (panel.cross != FIN_CS_NONE && o.unsorted)
		rc = fin_fail(&err, FIN_EUSAGE, "--cross-section needs the dates in order: leave "
			      "out --unsorted");
	if (rc != FIN_OK)
		goto done;

	in = fin_input_open(argv + optind, (size_t)(argc - optind), &cli.csv, &err);
	if (!in) {
		rc = err.code;
		goto done;
	}
	if (!cli.quiet && fin_input_is_tty(in))
		fputs("fin-window: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	rc = fin_input_header(in, &names, &nnames, &err);
	if (rc == FIN_OK) {
		fin_table_spec chosen = { .columns = nassets ? assets : cli.columns,
					   .ncolumns = nassets ? nassets : cli.ncolumns,
					   .nkeys = cli.nkeys };
		const char *note;
		rc = fin_time_key_take_cli(in, &chosen, &cli, &tk, &note, &err);
		if (rc == FIN_OK && note)
			fin_report(cli.prog, note);
	}
	if (rc == FIN_OK && cli.nkeys)
		rc = fin_columns_select(cli.keys, cli.nkeys, names, nnames, &key, &nkey, &err);
	if (rc == FIN_OK && by)
		rc = by_key(by, names, nnames, &key, &nkey, &panel.by, &err);
	/* Groups without a time key: no order to check, and no dates. */
	if (rc == FIN_OK && by && nkey == 1 && panel.cross != FIN_CS_NONE)
		rc = fin_fail(&err, FIN_EUSAGE, "--cross-section needs a time key (-k) for the dates");
	else if (rc == FIN_OK && by && nkey == 1)
		o.unsorted = 1;
	if (rc == FIN_OK && nassets && !nkey && panel.cross != FIN_CS_NONE)
		rc = fin_fail(&err, FIN_EUSAGE, "--cross-section needs a time key (-k) for the dates");
	if (rc == FIN_OK)
		rc = nassets ? fin_columns_select(assets, nassets, names, nnames, &chan, &nchan, &err)
			     : fin_columns_select(cli.columns, cli.ncolumns, names, nnames, &chan,
						  &nchan, &err);
	if (rc == FIN_OK && by && cli.ncolumns)
		for (i = 0; i < nchan && rc == FIN_OK; i++)
			if (chan[i] == panel.by)
				rc = fin_fail(&err, FIN_EUSAGE, "--by: '%s' names the series, it is "
					      "not one to window", by);
	if (rc == FIN_OK && !nassets && cli.ncolumns == 0) {
		/* By default every column but the keys is a channel. */
		size_t k = 0, j;
		for (i = 0; i < nchan; i++) {
			for (j = 0; j < nkey && key[j] != chan[i]; j++)
				;
			if (j == nkey)
				chan[k++] = chan[i];
		}
		nchan = k;
	}
	if (rc == FIN_OK && target_col) {
		for (i = 0; i < nchan && strcmp(names[chan[i]], target_col) != 0; i++)
			;
		o.target_channel = i;
		if (i == nchan)
			rc = fin_fail(&err, FIN_EUSAGE, "--target-column: '%s' is not a windowed column",
				      target_col);
	}
	if (rc == FIN_OK)
		rc = fin_window_check(&o, nchan, &err);

	if (rc == FIN_OK && !(out = fin_out_file_open(cli.output, in, NULL, 0, &err)))
		rc = err.code;
	if (rc == FIN_OK) {
		panel.assets = nassets > 0;
		rc = fin_window_run(in, names, chan, nchan, key, nkey, by || nassets ? &panel : NULL,
				    &o, fin_out_file_writer(out), &st, &err);
		if (rc == FIN_OK) {
			rc = fin_out_file_commit(out, &err);
			out = NULL;
		}
		if (rc == FIN_OK && !cli.quiet) {
			char *note;
			if (fin_columns_unused_note(names, nnames, key, nkey, chan, nchan,
						    "not selected", fin_input_name(in), &note) != 0)
				rc = fin_fail(&err, FIN_EDATA, "out of memory");
			else if (note)
				fin_report("fin-window", note);
			free(note);
		}
		if (!cli.quiet && st.na_rows)
			fprintf(stderr, "fin-window: %zu rows with missing values; windows spanning them left out\n",
				st.na_rows);
		if (!cli.quiet && st.filled)
			fprintf(stderr, "fin-window: %zu missing values filled forward\n", st.filled);
	}
done:
	fin_out_file_discard(out);
	fin_input_close(in);
	free(chan);
	free(key);
	free(assets);
	fin_cli_free(&cli);
	if (rc == FIN_OK)
		return 0;
	return err.msg[0] ? fail(&err) : rc;
}
