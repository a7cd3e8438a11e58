/* fin-gen: synthetic samples from a GAN of fin-train, and the stylized
 * facts of return series to compare them with real ones. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "eval/facts.h"
#include "features/window.h"
#include "io/columns.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/numio.h"
#include "io/out_file.h"
#include "nn/model.h"

static const char usage[] =
	"Usage: fin-gen -m MODEL [--samples N] [-s SEED] [--paths] [-o FILE]\n"
	"       fin-gen --facts [-c COLUMN] [--format table|csv|json] [OPTION]... [FILE]...\n"
	"Sample synthetic rows from a GAN trained by 'fin-train --task gan', or compare\n"
	"the stylized facts of return series (moments, autocorrelations, leverage).\n"
	"\n"
	"Sampling:\n"
	"  -m, --model FILE       the GAN (required)\n"
	"      --samples N        samples to draw (default 1000)\n"
	"  -s, --seed N           seed of the latent draws (default 1)\n"
	"      --paths            stitch the samples into one series: t, then a column\n"
	"                         per channel, oldest step first\n"
	"\n"
	"Facts (--facts):\n"
	"      --facts            describe the returns of each FILE, side by side\n"
	"  -c, --columns COLUMN   the column of returns (default: the last)\n"
	"      --format F         table|csv|json (default table)\n"
	FIN_HELP_NA_NO_FILL
	FIN_HELP_NA_VALUES
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	"\n"
	FIN_HELP_OUTPUT
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 3 unusable model, 4 no input rows.\n"
	"See fin-gen(1).\n";

enum { OPT_FACTS = 256, OPT_PATHS, OPT_FORMAT, OPT_SAMPLES };

static const struct option long_options[] = {
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "paths", no_argument, NULL, OPT_PATHS },
	{ "facts", no_argument, NULL, OPT_FACTS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ NULL, 0, NULL, 0 },
};

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

struct options {
	size_t samples;
	int facts, paths, format;
	fin_cli cli; /* -m, -s, -c, --na, --na-values, -d, -n, -o, -q */
	const char *sample_opt, *facts_opt; /* an option of each mode, for messages */
	char **files;
	size_t nfiles;
};

/* Samples drawn, unscaled and written at a time: memory stays flat for
 * any --samples. A multiple of fin_gan_sample's own batch, so that the output
 * does not depend on it. */
enum { CHUNK = 4096 };

/* ---- sampling ---- */

/* A channel's name in --paths output: the name of its first step without
 * the lag suffix fin-window adds ("ret_19" -> "ret"). */
static void channel_name(const char *feat, size_t steps, char *buf, size_t len)
{
	size_t n = strlen(feat), cut = n;

	while (cut > 0 && feat[cut - 1] >= '0' && feat[cut - 1] <= '9')
		cut--;
	if (steps > 1 && cut < n && cut > 1 && feat[cut - 1] == '_')
		n = cut - 1;
	snprintf(buf, len, "%.*s", (int)n, feat);
}

static void write_number(fin_out *out, size_t v)
{
	char num[FIN_NUM_MAX];
	fin_out_bytes(out, num, (size_t)snprintf(num, sizeof num, "%zu", v));
}

static void write_value(fin_out *out, double v)
{
	char num[FIN_NUM_MAX];
	fin_out_bytes(out, num, fin_format_float(num, (float)v));
}

/* The training data's header without its target, or with --paths, t and
 * the channels. */
static void write_sample_header(fin_out *out, const fin_model *m, int paths)
{
	size_t steps = m->gan.d.in_t, j;
	char name[512];

	if (paths) {
		fin_out_char(out, 't');
		for (j = 0; j < m->gan.d.in_c; j++) {
			channel_name(m->feat[j * steps], steps, name, sizeof name);
			fin_out_char(out, ',');
			fin_out_field(out, name, strlen(name));
		}
		fin_out_char(out, '\n');
		return;
	}
	for (j = 0; j < m->nkeys; j++) {
		fin_out_field(out, m->keys[j], strlen(m->keys[j]));
		fin_out_char(out, ',');
	}
	for (j = 0; j < m->nfeat; j++) {
		fin_out_field(out, m->feat[j], strlen(m->feat[j]));
		fin_out_char(out, j + 1 < m->nfeat ? ',' : '\n');
	}
}

/* Sample `number` (from 1) as one row: its number in every key column,
 * then its values in feature order. */
static void write_sample_row(fin_out *out, const fin_model *m, size_t number, const double *v)
{
	size_t j;

	for (j = 0; j < m->nkeys; j++) {
		write_number(out, number);
		fin_out_char(out, ',');
	}
	for (j = 0; j < m->nfeat; j++) {
		write_value(out, v[j]);
		fin_out_char(out, j + 1 < m->nfeat ? ',' : '\n');
	}
}

/* Sample `number` (from 1) as its steps of a path, oldest first: the
 * values are stored channel by channel, each channel's steps in order. */
static void write_sample_path(fin_out *out, const fin_model *m, size_t number, const double *v)
{
	size_t channels = m->gan.d.in_c, steps = m->gan.d.in_t, s, c;

	for (s = 0; s < steps; s++) {
		write_number(out, (number - 1) * steps + s + 1);
		for (c = 0; c < channels; c++) {
			fin_out_char(out, ',');
			write_value(out, v[c * steps + s]);
		}
		fin_out_char(out, '\n');
	}
}

static int sample(const struct options *o, fin_err *err)
{
	fin_model m = { 0 };
	fin_out_file *file = NULL;
	fin_out *out;
	gsl_rng *rng = NULL;
	float *scaled = NULL;
	double *raw = NULL;
	size_t done, b, i;
	int rc = fin_model_load(&m, o->cli.model, err);

	if (rc != FIN_OK)
		goto done;
	if (m.task != FIN_TASK_GAN) {
		rc = fin_fail(err, FIN_EMODEL, "%s: not a GAN (task %s): fin-gen samples from models "
			      "of fin-train --task gan", o->cli.model, fin_task_name(m.task));
		goto done;
	}
	if (m.nfeat == 0 || m.gan.sample != m.nfeat || m.gan.d.in_c * m.gan.d.in_t != m.nfeat) {
		rc = fin_fail(err, FIN_EMODEL, "%s: unusable model file: %zu features for samples of "
			      "%zu values (%zu channels of %zu steps)", o->cli.model, m.nfeat,
			      m.gan.sample, m.gan.d.in_c, m.gan.d.in_t);
		goto done;
	}
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	scaled = malloc(CHUNK * m.nfeat * sizeof *scaled);
	raw = malloc(CHUNK * m.nfeat * sizeof *raw);
	if (!rng || !scaled || !raw) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (!(file = fin_out_file_open(o->cli.output, NULL, (char *[]){ o->cli.model }, 1, err))) {
		rc = err->code;
		goto done;
	}
	gsl_rng_set(rng, o->cli.seed);
	out = fin_out_file_writer(file);
	write_sample_header(out, &m, o->paths);
	for (done = 0; done < o->samples; done += b) {
		b = o->samples - done < CHUNK ? o->samples - done : CHUNK;
		if ((rc = fin_gan_sample(&m.gan, b, rng, scaled, err)) != FIN_OK)
			break;
		fin_model_unscale(&m, scaled, b, raw);
		for (i = 0; i < b; i++) {
			if (o->paths)
				write_sample_path(out, &m, done + i + 1, raw + i * m.nfeat);
			else
				write_sample_row(out, &m, done + i + 1, raw + i * m.nfeat);
		}
	}
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, err);
		file = NULL;
	}
	if (rc == FIN_OK && !o->cli.quiet) {
		fprintf(stderr, "fin-gen: %zu samples of %zu values", o->samples, m.nfeat);
		if (o->paths)
			fprintf(stderr, ", a path of %zu steps", o->samples * m.gan.d.in_t);
		fputc('\n', stderr);
	}
done:
	fin_out_file_discard(file);
	gsl_rng_free(rng);
	free(scaled);
	free(raw);
	fin_model_free(&m);
	return rc;
}

/* ---- facts ---- */

/* One input of --facts: its label, its column of returns, its facts. */
struct series {
	const char *label; /* as named on the command line */
	fin_input *in;
	size_t col;
	const char *column;
	fin_facts facts;
	size_t width;      /* of its column in the table */
};

/* Reads the header of s and finds its column of returns. */
static int find_column(const struct options *o, struct series *s, fin_err *err)
{
	char **names;
	size_t nnames;
	int rc = fin_input_header(s->in, &names, &nnames, err);

	if (rc != FIN_OK)
		return rc;
	if (o->cli.ncolumns > 1)
		return fin_fail(err, FIN_EUSAGE, "-c: --facts takes one column of returns");
	if (!o->cli.ncolumns)
		s->col = nnames - 1;
	else if ((rc = fin_column_one("-c", o->cli.columns[0], names, nnames, fin_input_name(s->in),
				      &s->col, err)) != FIN_OK)
		return rc;
	s->column = names[s->col];
	return FIN_OK;
}

/* Reads the column of returns of s and computes its facts. */
static int describe(const struct options *o, struct series *s, fin_err *err)
{
	const char *file = fin_input_name(s->in);
	double *r = NULL, v;
	size_t n = 0, cap = 0, rows = 0, skipped = 0;
	char shown[200];
	fin_row *row;
	int got, rc = FIN_OK;

	while ((got = fin_input_next(s->in, &row, err)) > 0) {
		const char *field = row->fields[s->col];
		size_t len = row->lens[s->col];
		rows++;
		switch (fin_parse_double(field, len, &v)) {
		case FIN_NUM_OK:
			break;
		case FIN_NUM_BAD:
			fin_quote_field(shown, sizeof shown, field, len);
			rc = fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': not a number: '%s'", file,
				      row->line, s->column, shown);
			goto done;
		case FIN_NUM_NA:
			if (o->cli.na == FIN_NA_ERROR) {
				rc = fin_fail(err, FIN_EDATA,
					      "%s:%ld: column '%s': missing value (see --na)", file,
					      row->line, s->column);
				goto done;
			}
			skipped++;
			continue;
		}
		if (n == cap) {
			double *grown = realloc(r, (cap = cap ? 2 * cap : 1024) * sizeof *r);
			if (!grown) {
				rc = fin_fail(err, FIN_EDATA, "%s: out of memory for %zu returns",
					      file, n);
				goto done;
			}
			r = grown;
		}
		r[n++] = v;
	}
	if (got < 0) {
		rc = -got;
		goto done;
	}
	if (rows == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "%s: no input rows", file);
		goto done;
	}
	if (n == 0) {
		rc = fin_fail(err, FIN_ENOROWS, "%s: column '%s': every value is missing", file,
			      s->column);
		goto done;
	}
	if (skipped && !o->cli.quiet)
		fin_note("fin-gen", "%s: %zu rows with a missing return left out", file, skipped);
	rc = fin_facts_compute(r, n, &s->facts, err);
done:
	free(r);
	return rc;
}

/* A fact as the table shows it: the count whole, the rest to 6 digits,
 * NA where undefined. Returns the length. */
static size_t table_cell(const struct series *s, size_t fact, char *buf, size_t len)
{
	double v = fin_facts_value(&s->facts, fact);
	int n = fact == 0 ? snprintf(buf, len, "%zu", s->facts.n)
		: isnan(v) ? snprintf(buf, len, "NA") : snprintf(buf, len, "%.6g", v);

	return (size_t)n < len ? (size_t)n : len - 1;
}

static void pad(fin_out *out, size_t n)
{
	while (n--)
		fin_out_char(out, ' ');
}

/* Aligned for reading: facts down the left, a right-aligned column per
 * file, each as wide as its label or widest value. */
static void write_table(fin_out *out, struct series *s, size_t ns)
{
	char name[32], cell[64];
	size_t first = strlen("fact"), len, i, f;

	for (f = 0; f < FIN_FACTS_COUNT; f++)
		if (strlen(fin_facts_name(f, name, sizeof name)) > first)
			first = strlen(name);
	for (i = 0; i < ns; i++) {
		s[i].width = strlen(s[i].label);
		for (f = 0; f < FIN_FACTS_COUNT; f++)
			if ((len = table_cell(&s[i], f, cell, sizeof cell)) > s[i].width)
				s[i].width = len;
	}
	fin_out_bytes(out, "fact", 4);
	pad(out, first - 4);
	for (i = 0; i < ns; i++) {
		pad(out, 2 + s[i].width - strlen(s[i].label));
		fin_out_bytes(out, s[i].label, strlen(s[i].label));
	}
	fin_out_char(out, '\n');
	for (f = 0; f < FIN_FACTS_COUNT; f++) {
		fin_facts_name(f, name, sizeof name);
		fin_out_bytes(out, name, strlen(name));
		pad(out, first - strlen(name));
		for (i = 0; i < ns; i++) {
			len = table_cell(&s[i], f, cell, sizeof cell);
			pad(out, 2 + s[i].width - len);
			fin_out_bytes(out, cell, len);
		}
		fin_out_char(out, '\n');
	}
}

static void write_csv(fin_out *out, const struct series *s, size_t ns)
{
	char name[32];
	size_t i, f;

	fin_out_bytes(out, "fact", 4);
	for (i = 0; i < ns; i++) {
		fin_out_char(out, ',');
		fin_out_field(out, s[i].label, strlen(s[i].label));
	}
	fin_out_char(out, '\n');
	for (f = 0; f < FIN_FACTS_COUNT; f++) {
		fin_facts_name(f, name, sizeof name);
		fin_out_bytes(out, name, strlen(name));
		for (i = 0; i < ns; i++) {
			fin_out_char(out, ',');
			fin_out_double(out, fin_facts_value(&s[i].facts, f));
		}
		fin_out_char(out, '\n');
	}
}

static int write_json(fin_out_file *file, const struct series *s, size_t ns, fin_err *err)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
	int ok = o && a && cJSON_AddItemToObject(o, "series", a), rc;
	size_t i;

	if (!o)
		cJSON_Delete(a);
	for (i = 0; ok && i < ns; i++) {
		const fin_facts *f = &s[i].facts;
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(a, e) && cJSON_AddStringToObject(e, "file", s[i].label) &&
		     cJSON_AddStringToObject(e, "column", s[i].column) &&
		     cJSON_AddNumberToObject(e, "n", (double)f->n) &&
		     fin_json_add_exact(e, "mean", f->mean) && fin_json_add_exact(e, "sd", f->sd) &&
		     fin_json_add_exact(e, "skew", f->skew) &&
		     fin_json_add_exact(e, "excess_kurtosis", f->kurtosis) &&
		     cJSON_AddItemToObject(e, "acf", fin_json_doubles(f->acf, FIN_FACTS_ACF)) &&
		     cJSON_AddItemToObject(e, "acf_abs",
					   fin_json_doubles(f->acf_abs, FIN_FACTS_ACF_ABS)) &&
		     cJSON_AddItemToObject(e, "leverage",
					   fin_json_doubles(f->leverage, FIN_FACTS_LEVERAGE)) &&
		     fin_json_add_exact(e, "acf_band", f->acf_band);
	}
	rc = ok ? fin_json_save(o, file, err) : fin_fail(err, FIN_EDATA, "out of memory");
	cJSON_Delete(o);
	return rc;
}

static int facts(const struct options *o, fin_err *err)
{
	static char *const stdin_path[] = { "-" };
	char *const *files = o->nfiles ? o->files : stdin_path;
	size_t nfiles = o->nfiles ? o->nfiles : 1, i, stdins = 0;
	struct series *s = calloc(nfiles, sizeof *s);
	fin_out_file *file = NULL;
	int rc = FIN_OK, tty = 0;

	if (!s)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < nfiles; i++)
		stdins += strcmp(files[i], "-") == 0;
	if (stdins > 1) {
		rc = fin_fail(err, FIN_EUSAGE, "standard input ('-') can be read only once");
		goto done;
	}
	/* Every file opened and every column found before any is read. */
	for (i = 0; i < nfiles; i++) {
		s[i].label = files[i];
		if (!(s[i].in = fin_input_open(&files[i], 1, &o->cli.csv, err))) {
			rc = err->code;
			goto done;
		}
		tty |= fin_input_is_tty(s[i].in);
	}
	if (tty && !o->cli.quiet)
		fputs("fin-gen: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	for (i = 0; i < nfiles; i++)
		if ((rc = find_column(o, &s[i], err)) != FIN_OK)
			goto done;
	if (!(file = fin_out_file_open(o->cli.output, NULL, files, nfiles, err))) {
		rc = err->code;
		goto done;
	}
	for (i = 0; i < nfiles; i++)
		if ((rc = describe(o, &s[i], err)) != FIN_OK)
			goto done;
	if (o->format == FORMAT_JSON)
		rc = write_json(file, s, nfiles, err);
	else if (o->format == FORMAT_CSV)
		write_csv(fin_out_file_writer(file), s, nfiles);
	else
		write_table(fin_out_file_writer(file), s, nfiles);
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, err);
		file = NULL;
	}
done:
	fin_out_file_discard(file);
	for (i = 0; i < nfiles; i++)
		fin_input_close(s[i].in);
	free(s);
	return rc;
}

/* ---- options ---- */

static int parse_format(const char *arg)
{
	static const char *const words[] = { "table", "csv", "json" };
	size_t i;

	for (i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(arg, words[i]) == 0)
			return (int)i;
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	int opt;
	int rc = fin_cli_init(&o->cli, "fin-gen", usage,
			      FIN_CLI_MODEL | FIN_CLI_SEED | FIN_CLI_COLUMNS | FIN_CLI_NA_NO_FILL |
				      FIN_CLI_NA_VALUES | FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER |
				      FIN_CLI_OUTPUT | FIN_CLI_QUIET,
			      long_options, err);

	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_SAMPLES:
			o->sample_opt = "--samples";
			rc = fin_cli_size("--samples", optarg, 1, (size_t)1000000000000ULL,
					  &o->samples, err);
			break;
		case 's':
			o->sample_opt = "--seed";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		case OPT_PATHS: o->sample_opt = "--paths"; o->paths = 1; break;
		case OPT_FACTS: o->facts = 1; break;
		case 'c':
			o->facts_opt = "-c";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		case OPT_FORMAT:
			o->facts_opt = "--format";
			rc = fin_cli_word("--format", optarg, parse_format(optarg), &o->format, err);
			break;
		case FIN_OPT_NA:
			o->facts_opt = "--na";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		case FIN_OPT_NA_VALUES:
			o->facts_opt = "--na-values";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		case 'd':
			o->facts_opt = "-d";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		case 'n':
			o->facts_opt = "-n";
			rc = fin_cli_option(&o->cli, opt, optarg, err);
			break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		exit(0);
	if (rc != FIN_OK)
		return rc;
	o->files = argv + optind;
	o->nfiles = (size_t)(argc - optind);
	if (o->facts && o->cli.model)
		return fin_fail(err, FIN_EUSAGE, "--facts describes return series and -m samples from "
				"a model: give one of them");
	if (o->facts && o->sample_opt)
		return fin_fail(err, FIN_EUSAGE, "%s is for sampling with -m, not for --facts",
				o->sample_opt);
	if (o->facts)
		return FIN_OK;
	if (o->nfiles)
		return fin_fail(err, FIN_EUSAGE, "%s: files are read with --facts only (sampling "
				"with -m reads no input)", o->files[0]);
	if (!o->cli.model)
		return fin_fail(err, FIN_EUSAGE, "-m MODEL to sample from a GAN, or --facts FILE... "
				"to describe returns");
	if (o->facts_opt)
		return fin_fail(err, FIN_EUSAGE, "%s is for --facts, not for sampling with -m",
				o->facts_opt);
	return FIN_OK;
}

int main(int argc, char **argv)
{
	struct options o = { .samples = 1000, .format = FORMAT_TABLE };
	fin_err err = { 0 };
	int rc = parse_options(argc, argv, &o, &err);

	if (rc == FIN_OK)
		rc = o.facts ? facts(&o, &err) : sample(&o, &err);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-gen", err.msg);
	fin_cli_free(&o.cli);
	return rc;
}
