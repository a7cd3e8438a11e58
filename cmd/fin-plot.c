/* fin-plot: plots of what the other tools write, as SVG, PNG or PDF. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/version.h"
#include "io/input.h"
#include "io/out_file.h"
#include "io/json_lines.h"
#include "plot/acf_plot.h"
#include "plot/bars_plot.h"
#include "plot/curve_plot.h"
#include "plot/hist_plot.h"
#include "plot/loss_plot.h"
#include "plot/plot.h"
#include "plot/scatter_plot.h"
#include "plot/series_plot.h"

static const char usage[] =
	"Usage: fin-plot KIND [OPTION]... [FILE]...\n"
	"Draw what the other tools write, as SVG (on standard output by default), PNG\n"
	"or PDF. KIND is one of:\n"
	"  series    columns as lines over a key, with dates on the axis when the key\n"
	"            holds dates (-k, -c); two or more files are tables of their own,\n"
	"            on one frame\n"
	"  loss      training and validation loss per epoch from fin-train's --log (JSON\n"
	"            lines), the epoch of the lowest validation loss marked\n"
	"  hist      the histogram of a score column, with the threshold of fin-anomaly's\n"
	"            flags, split by a label column when given\n"
	"  bars      values by name as bars, largest on top, with error bars\n"
	"            (fin-explain --method permutation)\n"
	"  roc       ROC curves of score columns against actual labels, the area under\n"
	"            each in the legend, and the diagonal of chance\n"
	"  pr        precision-recall curves, their average precision in the legend, and\n"
	"            the prevalence as chance\n"
	"  scatter   a dot for each row at two columns (-c X,Y), or at the first two\n"
	"            principal components of more (--pca), coloured by a column\n"
	"  acf       the autocorrelations of returns and absolute returns by lag, from\n"
	"            fin-gen --facts --format csv, with the white-noise band\n"
	"\n"
	"  -c, --columns LIST     series: the columns drawn (default: every numeric\n"
	"                         column but the key); bars: the names and the values\n"
	"                         (default feature,importance); scatter: x and y, or\n"
	"                         the features of --pca; acf: the series (default: all)\n"
	"  -k, --key COL          series: the x axis, numbers or ISO dates (default: the\n"
	"                         row number)\n"
	"      --cumulate HOW     series: draw each column's running total from the\n"
	"                         first row: sum (log returns to a log price) or\n"
	"                         compound (the growth of 1: prod(1 + return))\n"
	"  -o, --output FILE      write to FILE, in the format its extension names (.svg,\n"
	"                         .png or .pdf), instead of SVG on standard output\n"
	"      --format F         svg|png|pdf, whatever -o's extension (default: -o's\n"
	"                         extension, or svg)\n"
	"      --title TEXT       a title above the plot\n"
	"      --width N          the page's width: pixels (PNG) or points (SVG, PDF)\n"
	"                         (default 800)\n"
	"      --height N         the page's height (default 500)\n"
	"\n"
	"      --log-scale        loss: a logarithmic loss axis\n"
	"      --score LIST       hist: the scores (default score); roc, pr: the columns\n"
	"                         of scores, a curve each (default p_POSITIVE)\n"
	"      --actual COL       roc, pr: the actual labels (default y)\n"
	"      --positive VALUE   roc, pr: the actual label of a positive (default 1)\n"
	"      --label COL        hist: a column of labels, a histogram for each\n"
	"      --threshold T      hist: the threshold drawn (default: where column\n"
	"                         anomaly, when there is one, puts it)\n"
	"      --bins N           hist: bins of equal width (default 30)\n"
	"      --error COL        bars: errors, drawn as the value plus and minus them\n"
	"                         (default without -c: sd, when there is one)\n"
	"      --top N            bars: only the N largest\n"
	"      --color COL        scatter: a colour for each value of COL (at most 20)\n"
	"      --pca              scatter: the first two principal components of the\n"
	"                         -c columns, standardised\n"
	"      --no-scale         scatter --pca: centred only, not standardised\n"
	"\n"
	FIN_HELP_NA_VALUES
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 4 no input rows.\n"
	"See fin-plot(1).\n";

enum { OPT_FORMAT = 256, OPT_TITLE, OPT_WIDTH, OPT_HEIGHT, OPT_LOG_SCALE, OPT_SCORE, OPT_LABEL,
       OPT_THRESHOLD, OPT_BINS, OPT_ERROR, OPT_TOP, OPT_ACTUAL, OPT_POSITIVE,
       OPT_COLOR, OPT_PCA, OPT_NO_SCALE, OPT_CUMULATE };

/* fin-plot's own options; the shared ones are lib/core/cli's. */
static const struct option long_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "log-scale", no_argument, NULL, OPT_LOG_SCALE },
	{ "score", required_argument, NULL, OPT_SCORE },
	{ "actual", required_argument, NULL, OPT_ACTUAL },
	{ "positive", required_argument, NULL, OPT_POSITIVE },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "bins", required_argument, NULL, OPT_BINS },
	{ "error", required_argument, NULL, OPT_ERROR },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "pca", no_argument, NULL, OPT_PCA },
	{ "no-scale", no_argument, NULL, OPT_NO_SCALE },
	{ "cumulate", required_argument, NULL, OPT_CUMULATE },
	{ NULL, 0, NULL, 0 },
};

/* The shared options fin-plot takes. */
enum { SHARED = FIN_CLI_COLUMNS | FIN_CLI_KEY | FIN_CLI_OUTPUT | FIN_CLI_DELIMITER |
		FIN_CLI_NO_HEADER | FIN_CLI_QUIET | FIN_CLI_NA_VALUES };

enum kind { SERIES, LOSS, HIST, BARS, ROC, PR, SCATTER, ACF, NKINDS };
static const char *const kind_names[] = { "series", "loss", "hist", "bars", "roc", "pr",
					  "scatter", "acf" };

/* The kinds an option belongs to, as bits of 1 << kind: every kind but
 * loss reads CSV; acf's header names the facts' column, so not -n. */
enum { FOR_SERIES = 1 << SERIES, FOR_LOSS = 1 << LOSS, FOR_HIST = 1 << HIST, FOR_BARS = 1 << BARS,
       FOR_CURVES = 1 << ROC | 1 << PR, FOR_SCATTER = 1 << SCATTER, FOR_ACF = 1 << ACF,
       FOR_CSV = FOR_SERIES | FOR_HIST | FOR_BARS | FOR_CURVES | FOR_SCATTER | FOR_ACF,
       FOR_NO_HEADER = FOR_CSV & ~FOR_ACF };

struct options {
	fin_cli cli; /* -c, -k, -o, -d, -n, -q, --na-values */
	int kind, format, log_scale, pca, no_scale;
	int cumulate; /* series: an enum fin_series_total */
	char **scores, *key, *label, *error, *actual, *positive, *colour;
	size_t nscores, bins, top;
	double threshold;
	fin_plot_page page;
	/* options of some kinds only, checked against the kind */
	fin_cli_scoped given;
};

static void note(const struct options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct options *o, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (o->cli.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	fin_report("fin-plot", text);
}

/* ---- the output ---- */

/* Opens the output, before the rows are read: -o or standard output,
 * where a binary format is not written to a terminal. */
static fin_out_file *open_output(const struct options *o, const fin_input *in, char *const *files,
				 size_t nfiles, fin_err *err)
{
	if ((!o->cli.output || strcmp(o->cli.output, "-") == 0) && o->page.format != FIN_PLOT_SVG &&
	    isatty(STDOUT_FILENO)) {
		fin_fail(err, FIN_EUSAGE, "not writing %s to a terminal: give -o FILE, or redirect "
			 "standard output", o->page.format == FIN_PLOT_PNG ? "PNG" : "PDF");
		return NULL;
	}
	return fin_out_file_open(o->cli.output, in, files, nfiles, err);
}

/* What a kind draws on the page. */
typedef int (*draw_fn)(const void *data, fin_plot *p, fin_err *err);

/* Draws the page and writes it to file, which is committed. */
static int plot(const struct options *o, draw_fn draw, const void *data, fin_out_file *file,
		fin_err *err)
{
	fin_plot *p = NULL;
	int rc;

	if ((rc = fin_plot_open(&p, &o->page, err)) == FIN_OK &&
	    (rc = draw(data, p, err)) == FIN_OK)
		rc = fin_plot_write(p, fin_out_file_writer(file), err);
	fin_plot_close(p);
	if (rc != FIN_OK) {
		fin_out_file_discard(file);
		return rc;
	}
	return fin_out_file_commit(file, err);
}

/* ---- the kinds ---- */

/* The tables of fin-plot series, one for each file (or one of every file
 * read as one stream), with the files named in the legend when several. */
struct series_tables {
	fin_series *s;
	char *const *files;
	size_t n;
};

static int draw_series(const void *data, fin_plot *p, fin_err *err)
{
	const struct series_tables *t = data;

	return t->n == 1 ? fin_series_draw(t->s, p, err)
			 : fin_series_draw_files(t->s, t->files, t->n, p, err);
}

/* Draws in[0..n): the input as one stream when n is 1, else one table
 * for each of files[0..n). */
static int series(const struct options *o, fin_input **in, char *const *files, size_t n,
		  fin_err *err)
{
	struct series_tables t = { calloc(n, sizeof *t.s), files, n };
	fin_out_file *file = NULL;
	size_t f, missing = 0;
	int rc = t.s ? FIN_OK : fin_fail(err, FIN_EDATA, "out of memory");

	for (f = 0; rc == FIN_OK && f < n; f++)
		rc = fin_series_columns(&t.s[f], in[f], o->key, o->cli.columns, o->cli.ncolumns, err);
	if (rc == FIN_OK && !(file = n == 1 ? open_output(o, in[0], NULL, 0, err)
					   : open_output(o, NULL, files, n, err)))
		rc = err->code;
	for (f = 0; rc == FIN_OK && f < n; f++) {
		if ((rc = fin_series_read(&t.s[f], in[f], err)) == FIN_OK) {
			fin_series_cumulate(&t.s[f], (enum fin_series_total)o->cumulate);
			missing += t.s[f].missing;
		}
	}
	if (rc == FIN_OK) {
		if (missing)
			note(o, "%zu missing values break their lines", missing);
		rc = plot(o, draw_series, &t, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	for (f = 0; t.s && f < n; f++)
		fin_series_free(&t.s[f]);
	free(t.s);
	return rc;
}

static int draw_loss(const void *data, fin_plot *p, fin_err *err)
{
	return fin_loss_draw(data, p, err);
}

/* The log is JSON lines, not CSV: one file, or standard input. */
static int loss(const struct options *o, char *const *files, size_t nfiles, fin_err *err)
{
	static char *const standard_input[] = { "-" };
	fin_json_lines *r;
	fin_out_file *file = NULL;
	fin_loss l = { 0 };
	int rc = FIN_OK;

	if (nfiles > 1)
		return fin_fail(err, FIN_EUSAGE, "loss reads one log, not %zu files", nfiles);
	if (nfiles == 0) {
		files = standard_input;
		nfiles = 1;
	}
	if (!(r = fin_json_lines_open(files[0], err)))
		return err->code;
	if (!o->cli.quiet && fin_json_lines_is_tty(r))
		fputs("fin-plot: reading the log from the terminal (end with Ctrl-D)\n", stderr);
	if (!(file = open_output(o, NULL, files, nfiles, err)))
		rc = err->code;
	if (rc == FIN_OK && (rc = fin_loss_read(&l, r, o->log_scale, err)) == FIN_OK) {
		if (l.kept < 0)
			note(o, "no val_loss: no kept epoch to mark");
		rc = plot(o, draw_loss, &l, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_loss_free(&l);
	fin_json_lines_close(r);
	return rc;
}

static int draw_hist(const void *data, fin_plot *p, fin_err *err)
{
	return fin_hist_draw(data, p, err);
}

static int hist(const struct options *o, fin_input *in, fin_err *err)
{
	fin_hist h;
	fin_out_file *file = NULL;
	int rc;

	if (o->nscores > 1)
		return fin_fail(err, FIN_EUSAGE, "--score: hist draws one column");
	if ((rc = fin_hist_columns(&h, in, o->nscores ? o->scores[0] : "score", o->label,
				   o->threshold, o->bins, err)) == FIN_OK &&
	    !(file = open_output(o, in, NULL, 0, err)))
		rc = err->code;
	if (rc == FIN_OK && (rc = fin_hist_read(&h, in, err)) == FIN_OK) {
		if (h.left_out)
			note(o, "%zu rows without a score%s left out", h.left_out,
			     h.label >= 0 ? " or a label" : "");
		if (h.flag >= 0 && isnan(h.threshold))
			note(o, "column '%s' flags %s: no threshold drawn", FIN_HIST_FLAG_COLUMN,
			     isnan(h.flagged_min) ? "no row" : "every row");
		rc = plot(o, draw_hist, &h, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_hist_free(&h);
	return rc;
}

static int draw_bars(const void *data, fin_plot *p, fin_err *err)
{
	return fin_bars_draw(data, p, err);
}

static int bars(const struct options *o, fin_input *in, fin_err *err)
{
	fin_bars b;
	fin_out_file *file = NULL;
	int rc;

	if ((rc = fin_bars_columns(&b, in, o->cli.columns, o->cli.ncolumns, o->error, err)) == FIN_OK &&
	    !(file = open_output(o, in, NULL, 0, err)))
		rc = err->code;
	if (rc == FIN_OK && (rc = fin_bars_read(&b, in, o->top, err)) == FIN_OK) {
		if (b.left_out)
			note(o, "%zu rows without a name or a value left out", b.left_out);
		rc = plot(o, draw_bars, &b, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_bars_free(&b);
	return rc;
}

static int draw_curves(const void *data, fin_plot *p, fin_err *err)
{
	return fin_curves_draw(data, p, err);
}

static int curves(const struct options *o, fin_input *in, fin_err *err)
{
	fin_curves c;
	fin_out_file *file = NULL;
	size_t j;
	int rc;

	if ((rc = fin_curves_columns(&c, in, o->kind == ROC ? FIN_CURVE_ROC : FIN_CURVE_PR,
				     o->actual, o->scores, o->nscores, o->positive, err)) == FIN_OK &&
	    !(file = open_output(o, in, NULL, 0, err)))
		rc = err->code;
	if (rc == FIN_OK && (rc = fin_curves_read(&c, in, err)) == FIN_OK) {
		if (c.d.read > c.d.rows)
			note(o, "%zu rows without an actual label ('%s') left out",
			     c.d.read - c.d.rows, c.names[c.actual]);
		for (j = 0; j < c.nscores; j++)
			if (c.scored[j] < c.d.rows)
				note(o, "%zu rows without a score in '%s' left out of its curve",
				     c.d.rows - c.scored[j], c.names[c.scores[j]]);
		if (c.labels > 2)
			note(o, "column '%s' holds %zu distinct values: every one but '%s' counts as "
			     "negative", c.names[c.actual], c.labels, c.positive);
		rc = plot(o, draw_curves, &c, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_curves_free(&c);
	return rc;
}

static int draw_scatter(const void *data, fin_plot *p, fin_err *err)
{
	return fin_scatter_draw(data, p, err);
}

static int scatter(const struct options *o, fin_input *in, fin_err *err)
{
	fin_scatter s;
	fin_out_file *file = NULL;
	int rc;

	if ((rc = fin_scatter_columns(&s, in, o->cli.columns, o->cli.ncolumns, o->colour, o->pca,
				      !o->no_scale, err)) == FIN_OK) {
		if (!(file = open_output(o, in, NULL, 0, err)))
			rc = err->code;
	}
	if (rc == FIN_OK && (rc = fin_scatter_read(&s, in, err)) == FIN_OK) {
		if (s.left_out)
			note(o, "rows not drawn, a value missing: %zu", s.left_out);
		rc = plot(o, draw_scatter, &s, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_scatter_free(&s);
	return rc;
}

static int draw_acf(const void *data, fin_plot *p, fin_err *err)
{
	return fin_acf_draw(data, p, err);
}

static int acf(const struct options *o, fin_input *in, fin_err *err)
{
	fin_acf a;
	fin_out_file *file = NULL;
	int rc;

	if ((rc = fin_acf_columns(&a, in, o->cli.columns, o->cli.ncolumns, err)) == FIN_OK) {
		if (!(file = open_output(o, in, NULL, 0, err)))
			rc = err->code;
	}
	if (rc == FIN_OK && (rc = fin_acf_read(&a, in, err)) == FIN_OK) {
		if (isnan(a.band))
			note(o, "no value of n for '%s': no white-noise band", a.names[a.cols[0]]);
		rc = plot(o, draw_acf, &a, file, err);
		file = NULL;
	}
	fin_out_file_discard(file);
	fin_acf_free(&a);
	return rc;
}

/* ---- options ---- */

/* The shared options that go with some kinds only. */
static const struct {
	int opt;
	const char *name;
	unsigned kinds;
} shared_of_kinds[] = {
	{ 'c', "-c", FOR_SERIES | FOR_BARS | FOR_SCATTER | FOR_ACF },
	{ 'k', "-k", FOR_SERIES },
	{ 'd', "-d", FOR_CSV },
	{ 'n', "-n", FOR_NO_HEADER },
	{ FIN_OPT_NA_VALUES, "--na-values", FOR_CSV },
};

static int side(const char *opt, const char *arg, int *out, fin_err *err)
{
	size_t v;
	int rc = fin_cli_size(opt, arg, FIN_PLOT_MIN_SIDE, FIN_PLOT_MAX_SIDE, &v, err);

	*out = (int)v;
	return rc;
}

/* The format: --format, or -o's extension, or SVG on standard output. */
static int choose_format(struct options *o, fin_err *err)
{
	const char *output = o->cli.output;
	int by_name = output && strcmp(output, "-") != 0 ? fin_plot_format_of(output) : -1;

	if (o->format < 0 && output && strcmp(output, "-") != 0 && by_name < 0)
		return fin_fail(err, FIN_EUSAGE, "-o %s: the name ends in none of .svg, .png and "
				".pdf: give one, or --format", output);
	if (o->format >= 0 && by_name >= 0 && by_name != o->format)
		return fin_fail(err, FIN_EUSAGE, "--format does not match the extension of -o %s",
				output);
	o->page.format = (enum fin_plot_format)(o->format >= 0 ? o->format
						: by_name >= 0 ? by_name : FIN_PLOT_SVG);
	return FIN_OK;
}

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	static const char *const formats[] = { "svg", "png", "pdf" };
	/* --cumulate's words, in the order of enum fin_series_total */
	static const char *const totals[] = { "sum", "compound" };
	int opt, word, rc = fin_cli_init(&o->cli, "fin-plot", usage, SHARED, long_options, err);
	size_t i;

	if (rc != FIN_OK)
		return rc;

	/* the kind comes first; without one, the options are still parsed,
	 * for --help and --version */
	o->kind = argc > 1 ? fin_word_index(argv[1], kind_names, NKINDS) : -1;
	if (o->kind >= 0 || (argc > 1 && argv[1][0] != '-')) {
		if (o->kind < 0)
			return fin_fail(err, FIN_EUSAGE, "unknown kind of plot '%s' (see --help)",
					argv[1]);
		/* getopt's messages name the program */
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			rc = fin_cli_word("--format", optarg, fin_word_index(optarg, formats, 3),
					  &o->format, err);
			break;
		case OPT_TITLE: o->page.title = optarg; break;
		case OPT_WIDTH: rc = side("--width", optarg, &o->page.width, err); break;
		case OPT_HEIGHT: rc = side("--height", optarg, &o->page.height, err); break;
		case OPT_LOG_SCALE:
			o->log_scale = 1;
			fin_cli_scoped_add(&o->given, "--log-scale", FOR_LOSS);
			break;
		case OPT_SCORE:
			rc = fin_cli_append(&o->scores, &o->nscores, optarg, err);
			fin_cli_scoped_add(&o->given, "--score", FOR_HIST | FOR_CURVES);
			break;
		case OPT_ACTUAL:
			o->actual = optarg;
			fin_cli_scoped_add(&o->given, "--actual", FOR_CURVES);
			break;
		case OPT_POSITIVE:
			o->positive = optarg;
			fin_cli_scoped_add(&o->given, "--positive", FOR_CURVES);
			break;
		case OPT_LABEL:
			o->label = optarg;
			fin_cli_scoped_add(&o->given, "--label", FOR_HIST);
			break;
		case OPT_THRESHOLD:
			rc = fin_cli_number("--threshold", optarg, -INFINITY, INFINITY, &o->threshold,
					    err);
			fin_cli_scoped_add(&o->given, "--threshold", FOR_HIST);
			break;
		case OPT_BINS:
			rc = fin_cli_size("--bins", optarg, 1, 10000, &o->bins, err);
			fin_cli_scoped_add(&o->given, "--bins", FOR_HIST);
			break;
		case OPT_ERROR:
			o->error = optarg;
			fin_cli_scoped_add(&o->given, "--error", FOR_BARS);
			break;
		case OPT_TOP:
			rc = fin_cli_size("--top", optarg, 1, (size_t)1 << 30, &o->top, err);
			fin_cli_scoped_add(&o->given, "--top", FOR_BARS);
			break;
		case OPT_COLOR:
			o->colour = optarg;
			fin_cli_scoped_add(&o->given, "--color", FOR_SCATTER);
			break;
		case OPT_PCA:
			o->pca = 1;
			fin_cli_scoped_add(&o->given, "--pca", FOR_SCATTER);
			break;
		case OPT_NO_SCALE:
			o->no_scale = 1;
			fin_cli_scoped_add(&o->given, "--no-scale", FOR_SCATTER);
			break;
		case OPT_CUMULATE:
			word = fin_word_index(optarg, totals, 2);
			rc = fin_cli_word("--cumulate", optarg, word < 0 ? -1 : FIN_SERIES_SUM + word,
					  &o->cumulate, err);
			fin_cli_scoped_add(&o->given, "--cumulate", FOR_SERIES);
			break;
		default:
			for (i = 0; i < sizeof shared_of_kinds / sizeof *shared_of_kinds; i++)
				if (shared_of_kinds[i].opt == opt)
					fin_cli_scoped_add(&o->given, shared_of_kinds[i].name, shared_of_kinds[i].kinds);
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		}
	}
	if (rc != FIN_OK)
		return rc;
	if (o->kind < 0)
		return fin_fail(err, FIN_EUSAGE, "which plot? the first argument is its kind: "
				"series, loss, hist, bars, roc, pr, scatter or acf");
	if ((rc = fin_cli_scoped_check(&o->given, o->kind, "", kind_names[o->kind], err)) != FIN_OK)
		return rc;
	if (o->no_scale && !o->pca)
		return fin_fail(err, FIN_EUSAGE, "--no-scale goes with --pca");
	if (o->cli.nkeys > 1)
		return fin_fail(err, FIN_EUSAGE, "-k names one column, the x axis, not %zu",
				o->cli.nkeys);
	o->key = o->cli.nkeys ? o->cli.keys[0] : NULL;
	return choose_format(o, err);
}

/* Under LeakSanitizer (make check-asan): what the libraries under PLplot's
 * cairo drivers keep for the life of the process is not reported. PLplot
 * makes those drivers resident (lt_dlmakeresident: cairo and pango do not
 * survive being unloaded), so libltdl keeps their handles; fontconfig keeps
 * the fonts pango looked up. Nothing of fin's or of PLplot's own is left
 * out: the svg driver runs with no suppression at all. */
#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libltdl.so\nleak:libfontconfig.so\n";
}

/* and standard error stays the program's own */
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

int main(int argc, char **argv)
{
	struct options o = { .format = -1, .bins = 30, .threshold = NAN, .actual = "y",
			     .positive = "1",
			     .page = { .width = FIN_PLOT_WIDTH, .height = FIN_PLOT_HEIGHT } };
	fin_err err = { 0 };
	fin_input *in = NULL, **ins = NULL; /* ins: series' tables, one a file */
	int rc = parse_options(argc, argv, &o, &err);
	/* the kind, when there is one, took argv[1] out of getopt's sight */
	int shift = o.kind >= 0;
	char **files = argv + shift + optind;
	size_t nfiles = (size_t)(argc - shift - optind), f;

	if (rc == FIN_OK && o.kind == LOSS) {
		rc = loss(&o, files, nfiles, &err);
	} else if (rc == FIN_OK && o.kind == SERIES && nfiles > 1) {
		/* a table for each file, each with its own header */
		if (!(ins = calloc(nfiles, sizeof *ins)))
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
		for (f = 0; rc == FIN_OK && f < nfiles; f++) {
			ins[f] = fin_input_open(files + f, 1, &o.cli.csv, &err);
			rc = ins[f] ? FIN_OK : err.code;
			if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(ins[f]))
				fputs("fin-plot: reading CSV from the terminal (end with Ctrl-D)\n",
				      stderr);
		}
		if (rc == FIN_OK)
			rc = series(&o, ins, files, nfiles, &err);
	} else if (rc == FIN_OK) {
		in = fin_input_open(files, nfiles, &o.cli.csv, &err);
		rc = in ? FIN_OK : err.code;
		if (rc == FIN_OK && !o.cli.quiet && fin_input_is_tty(in))
			fputs("fin-plot: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
		if (rc == FIN_OK)
			rc = o.kind == HIST ? hist(&o, in, &err)
			     : o.kind == BARS ? bars(&o, in, &err)
			     : o.kind == ROC || o.kind == PR ? curves(&o, in, &err)
			     : o.kind == SCATTER ? scatter(&o, in, &err)
			     : o.kind == ACF ? acf(&o, in, &err)
			     : series(&o, &in, NULL, 1, &err);
	}
	if (rc == FIN_CLI_EXIT)
		rc = FIN_OK;
	else if (rc != FIN_OK && err.msg[0])
		fin_report("fin-plot", err.msg);
	fin_input_close(in);
	for (f = 0; ins && f < nfiles; f++)
		fin_input_close(ins[f]);
	free(ins);
	fin_cli_free(&o.cli);
	free(o.scores);
	return rc;
}
