/* fin-mask: pseudonymise, mask and generalise the columns of a CSV table,
 * and suppress the rows that would make it less than k-anonymous. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "io/columns.h"
#include "io/held_rows.h"
#include "io/input.h"
#include "io/json_file.h"
#include "io/out_file.h"
#include "privacy/anonymity.h"
#include "privacy/mask_ops.h"
#include "privacy/mask_report.h"
#include "privacy/pseudonym.h"

static const char usage[] =
	"Usage: fin-mask [OPTION]... [FILE]...\n"
	"Pseudonymise, mask and generalise columns of a CSV table, and suppress the rows\n"
	"of quasi-identifier classes smaller than k.\n"
	"\n"
	"Operations (LIST: columns by name, 1-based index or range; each may repeat):\n"
	"      --pseudonymize LIST  keyed pseudonyms: hex of HMAC-SHA-256(key, value)\n"
	"      --key-file FILE      the key: the bytes of FILE, at least 16\n"
	"      --key-env NAME       the key: the value of environment variable NAME\n"
	"      --length N           hex digits kept of each pseudonym, 16 to 64 (default 64)\n"
	"      --mask COL[:KEEP]    keep the last KEEP characters (default 4), the others '*'\n"
	"      --drop LIST          leave the columns out\n"
	"      --bucket COL:WIDTH   numbers to intervals [a,b) of the width\n"
	"      --round COL:DIGITS   round to DIGITS decimals (negative: tens, hundreds...)\n"
	"      --date COL:UNIT      truncate ISO dates to the day, month or year\n"
	"      --top-code COL:VALUE     numbers above VALUE become VALUE\n"
	"      --bottom-code COL:VALUE  numbers below VALUE become VALUE\n"
	"      --noise COL:SCALE    add Laplace noise of the scale (seeded by -s)\n"
	"Anonymity:\n"
	"      --quasi LIST         quasi-identifier columns, after the operations\n"
	"      --k-anon K           suppress the rows of classes of fewer than K rows\n"
	"      --l-diverse COL:L    and of classes with fewer than L values of COL\n"
	"      --report FILE        write a JSON report of what was done to FILE\n"
	"      --check              write no table: report k and l (standard output\n"
	"                           without --report); exit 5 below --k-anon or --l-diverse\n"
	"Input and output:\n"
	"  -s, --seed N           seed of the noise (default 1)\n"
	FIN_HELP_NA_VALUES
	FIN_HELP_DELIMITER
	"  -n, --no-header        input has no header row; columns are named 1, 2, ...\n"
	FIN_HELP_OUTPUT
	FIN_HELP_QUIET
	FIN_HELP_HELP_VERSION
	"\n"
	"With --k-anon or --l-diverse named files are read twice (the classes counted,\n"
	"then the rows written) and standard input is held in memory until it ends;\n"
	"otherwise every row is written as it is read.\n"
	"Exit status: 0 success, 1 data error, 2 usage error, 4 no input rows,\n"
	"5 --check found the table below --k-anon or --l-diverse.\n"
	"See fin-mask(1) and fin(7).\n";

enum { OPT_PSEUDONYMIZE = 256, OPT_KEY_FILE, OPT_KEY_ENV, OPT_LENGTH, OPT_MASK, OPT_DROP,
       OPT_BUCKET, OPT_ROUND, OPT_DATE, OPT_TOP_CODE, OPT_BOTTOM_CODE, OPT_NOISE, OPT_QUASI,
       OPT_K_ANON, OPT_L_DIVERSE, OPT_REPORT, OPT_CHECK };

static const struct option long_options[] = {
	{ "pseudonymize", required_argument, NULL, OPT_PSEUDONYMIZE },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "key-env", required_argument, NULL, OPT_KEY_ENV },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "mask", required_argument, NULL, OPT_MASK },
	{ "drop", required_argument, NULL, OPT_DROP },
	{ "bucket", required_argument, NULL, OPT_BUCKET },
	{ "round", required_argument, NULL, OPT_ROUND },
	{ "date", required_argument, NULL, OPT_DATE },
	{ "top-code", required_argument, NULL, OPT_TOP_CODE },
	{ "bottom-code", required_argument, NULL, OPT_BOTTOM_CODE },
	{ "noise", required_argument, NULL, OPT_NOISE },
	{ "quasi", required_argument, NULL, OPT_QUASI },
	{ "k-anon", required_argument, NULL, OPT_K_ANON },
	{ "l-diverse", required_argument, NULL, OPT_L_DIVERSE },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ NULL, 0, NULL, 0 },
};

struct options {
	fin_mask_spec *spec;
	size_t nspec;
	char *key_file, *key_env;
	size_t length;
	char **quasi;
	size_t nquasi;
	size_t k;
	char *l_diverse;
	char *report;
	int check, pseudonyms;
	fin_cli cli; /* -s, --na-values, -d, -n, -o, -q */
};

/* Everything a run holds, freed in one place. */
struct run {
	fin_input *in;
	fin_pseudonym_key key;
	fin_mask_plan plan;
	size_t *quasi, nquasi;
	long sensitive;
	size_t l;
	unsigned char *keep; /* [columns] written out */
	size_t nkept;
	const char **field;  /* [columns] a row after masking */
	size_t *len;
	fin_anonymity anon;
	fin_anonymity_summary summary;
	fin_held_rows held;
	fin_out_file *table, *report;
};

static int add_spec(struct options *o, enum fin_mask_op op, char *arg, fin_err *err)
{
	fin_mask_spec *grown = realloc(o->spec, (o->nspec + 1) * sizeof *grown);

	if (!grown)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	o->spec = grown;
	o->spec[o->nspec++] = (fin_mask_spec){ .op = op, .arg = arg };
	o->pseudonyms |= op == FIN_MASK_PSEUDONYMIZE;
	return FIN_OK;
}

static int parse_options(int argc, char **argv, struct options *o, fin_err *err)
{
	int opt;
	int rc = fin_cli_init(&o->cli, "fin-mask", usage,
			      FIN_CLI_SEED | FIN_CLI_NA_VALUES | FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER |
				      FIN_CLI_OUTPUT | FIN_CLI_QUIET,
			      long_options, err);

	while (rc == FIN_OK && (opt = fin_cli_next(&o->cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_PSEUDONYMIZE: rc = add_spec(o, FIN_MASK_PSEUDONYMIZE, optarg, err); break;
		case OPT_MASK: rc = add_spec(o, FIN_MASK_MASK, optarg, err); break;
		case OPT_DROP: rc = add_spec(o, FIN_MASK_DROP, optarg, err); break;
		case OPT_BUCKET: rc = add_spec(o, FIN_MASK_BUCKET, optarg, err); break;
		case OPT_ROUND: rc = add_spec(o, FIN_MASK_ROUND, optarg, err); break;
		case OPT_DATE: rc = add_spec(o, FIN_MASK_DATE, optarg, err); break;
		case OPT_TOP_CODE: rc = add_spec(o, FIN_MASK_TOP_CODE, optarg, err); break;
		case OPT_BOTTOM_CODE: rc = add_spec(o, FIN_MASK_BOTTOM_CODE, optarg, err); break;
		case OPT_NOISE: rc = add_spec(o, FIN_MASK_NOISE, optarg, err); break;
		case OPT_KEY_FILE: o->key_file = optarg; break;
		case OPT_KEY_ENV: o->key_env = optarg; break;
		case OPT_LENGTH:
			rc = fin_cli_size("--length", optarg, 16, FIN_PSEUDONYM_HEX, &o->length, err);
			break;
		case OPT_QUASI: rc = fin_cli_append(&o->quasi, &o->nquasi, optarg, err); break;
		case OPT_K_ANON: rc = fin_cli_size("--k-anon", optarg, 1, (size_t)-1 / 2, &o->k, err); break;
		case OPT_L_DIVERSE: o->l_diverse = optarg; break;
		case OPT_REPORT: o->report = optarg; break;
		case OPT_CHECK: o->check = 1; break;
		default: rc = fin_cli_option(&o->cli, opt, optarg, err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		exit(0);
	if (rc != FIN_OK)
		return rc;
	if (o->key_file && o->key_env)
		return fin_fail(err, FIN_EUSAGE, "give one key: --key-file or --key-env");
	if (o->pseudonyms && !o->key_file && !o->key_env)
		return fin_fail(err, FIN_EUSAGE,
				"--pseudonymize needs a key, from --key-file FILE or --key-env NAME: "
				"an unkeyed hash of an account number is undone by hashing every "
				"account number");
	if ((o->k || o->l_diverse) && !o->nquasi)
		return fin_fail(err, FIN_EUSAGE, "%s needs the quasi-identifiers: --quasi LIST",
				o->k ? "--k-anon" : "--l-diverse");
	if (o->check && o->cli.output)
		return fin_fail(err, FIN_EUSAGE,
				"--check writes no table: give the report's file with --report");
	if (o->report && o->cli.output && strcmp(o->report, o->cli.output) == 0)
		return fin_fail(err, FIN_EUSAGE, "--report and -o name the same file");
	return FIN_OK;
}

/* The quasi-identifiers and the --l-diverse column, which must be written. */
static int anonymity_columns(const struct options *o, struct run *r, char *const *names,
			     size_t n, fin_err *err)
{
	size_t i;
	int rc;

	r->sensitive = -1;
	if (!o->nquasi)
		return FIN_OK;
	rc = fin_columns_select(o->quasi, o->nquasi, names, n, &r->quasi, &r->nquasi, err);
	if (rc != FIN_OK) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err->msg);
		return fin_fail(err, rc, "--quasi: %s", why);
	}
	for (i = 0; i < r->nquasi; i++)
		if (fin_mask_dropped(&r->plan, r->quasi[i]))
			return fin_fail(err, FIN_EUSAGE, "--quasi: column '%s' is dropped",
					names[r->quasi[i]]);
	if (o->l_diverse) {
		const char *colon = strrchr(o->l_diverse, ':');
		char *col;
		size_t c;

		if (!colon || colon == o->l_diverse)
			return fin_fail(err, FIN_EUSAGE, "--l-diverse: expected COLUMN:L, not '%s'",
					o->l_diverse);
		rc = fin_cli_size("--l-diverse", colon + 1, 1, (size_t)-1 / 2, &r->l, err);
		if (rc != FIN_OK)
			return rc;
		if (!(col = strndup(o->l_diverse, (size_t)(colon - o->l_diverse))))
			return fin_fail(err, FIN_EUSAGE, "out of memory");
		rc = fin_column_one("--l-diverse", col, names, n, fin_input_name(r->in), &c, err);
		free(col);
		if (rc != FIN_OK)
			return rc;
		for (i = 0; i < r->nquasi; i++)
			if (r->quasi[i] == c)
				return fin_fail(err, FIN_EUSAGE,
						"--l-diverse: column '%s' is a quasi-identifier", names[c]);
		if (fin_mask_dropped(&r->plan, c))
			return fin_fail(err, FIN_EUSAGE, "--l-diverse: column '%s' is dropped",
					names[c]);
		r->sensitive = (long)c;
	}
	fin_anonymity_init(&r->anon, r->quasi, r->nquasi, r->sensitive);
	return FIN_OK;
}

static void write_row(fin_out *w, const char *const *field, const size_t *len, size_t n)
{
	size_t i;

	/* An empty row of one field would be a blank line, which CSV readers
	 * skip: it is written quoted. */
	if (n == 1 && len[0] == 0) {
		fin_out_bytes(w, "\"\"\n", 3);
		return;
	}
	for (i = 0; i < n; i++) {
		if (i)
			fin_out_char(w, ',');
		fin_out_field(w, field[i], len[i]);
	}
	fin_out_char(w, '\n');
}

/* The kept fields of a masked row, first in field[]. */
static size_t kept_fields(const struct run *r, size_t n, const char **field, size_t *len)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (r->keep[i]) {
			field[k] = r->field[i];
			len[k++] = r->len[i];
		}
	return k;
}

static int open_outputs(const struct options *o, struct run *r, char *const *names, size_t n,
			fin_err *err)
{
	char *const others[] = { o->key_file, o->report };
	const char **field;
	size_t *len, i, k = 0;

	if (!o->check && !(r->table = fin_out_file_open(o->cli.output, r->in, others, 2, err)))
		return err->code;
	if ((o->report || o->check) &&
	    !(r->report = fin_out_file_open(o->report, r->in, (char *[]){ o->key_file, o->cli.output },
					    2, err)))
		return err->code;
	if (o->check)
		return FIN_OK;
	field = malloc((n ? n : 1) * sizeof *field);
	len = malloc((n ? n : 1) * sizeof *len);
	if (!field || !len) {
		free(field);
		free(len);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++)
		if (r->keep[i]) {
			field[k] = names[i];
			len[k++] = strlen(names[i]);
		}
	write_row(fin_out_file_writer(r->table), field, len, k);
	free(field);
	free(len);
	return FIN_OK;
}

/* What a pass over the input does with each masked row. */
enum pass {
	STREAM, /* writes it (and counts its class, with --quasi) */
	COUNT,  /* counts its class: --check, or the first of two passes */
	HOLD,   /* counts its class and holds it in memory */
	FILTER, /* writes it when its class, counted before, is kept */
};

/* The second of two passes finds each row's class again: a file that
 * changed in between is found out, by a class not seen before or by a
 * class's count. */
static int recount(struct run *r, size_t *seen, const char *file, long line, uint32_t *cls,
		   fin_err *err)
{
	long code = fin_anonymity_find(&r->anon, r->field, r->len);

	if (code < 0 || ++seen[code] > r->anon.size[code])
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: the input changed since the first pass over it", file, line);
	*cls = (uint32_t)code;
	return FIN_OK;
}

/* Reads every row of in and masks it, then does with it what pass says;
 * seen counts the rows of each class in a FILTER pass. */
static int mask_rows(struct run *r, fin_input *in, enum pass pass, size_t k, size_t l,
		     size_t *seen, size_t *read, fin_err *err)
{
	size_t n = r->plan.n;
	fin_out *w = r->table ? fin_out_file_writer(r->table) : NULL;
	const char **kept = malloc((n ? n : 1) * sizeof *kept);
	size_t *klen = malloc((n ? n : 1) * sizeof *klen);
	fin_row *row;
	int got, rc = FIN_OK;

	*read = 0;
	if (!kept || !klen) {
		free(kept);
		free(klen);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	while (rc == FIN_OK && (got = fin_input_next(in, &row, err)) > 0) {
		uint32_t cls = 0;

		rc = fin_mask_row(&r->plan, row, fin_input_name(in), r->field, r->len, err);
		if (rc != FIN_OK)
			break;
		++*read;
		if (pass == FILTER) {
			rc = recount(r, seen, fin_input_name(in), row->line, &cls, err);
			if (rc == FIN_OK && fin_anonymity_kept(&r->anon, cls, k, l))
				write_row(w, kept, klen, kept_fields(r, n, kept, klen));
			continue;
		}
		if (r->nquasi && fin_anonymity_add(&r->anon, r->field, r->len, &cls) != 0)
			rc = fin_fail(err, FIN_EDATA, "out of memory counting the classes");
		else if (pass == HOLD &&
			 fin_held_rows_add(&r->held, r->field, r->len, r->keep, n, cls) != 0)
			rc = fin_fail(err, FIN_EDATA,
				      "out of memory holding the table (%zu rows held, %zu MiB)",
				      r->held.rows, r->held.bytes >> 20);
		else if (pass == STREAM)
			write_row(w, kept, klen, kept_fields(r, n, kept, klen));
	}
	free(kept);
	free(klen);
	if (rc == FIN_OK && got < 0)
		rc = err->code;
	return rc;
}

/* The second pass over files read once to count the classes: the same
 * files, unchanged, give the same rows, masked the same way (the noise
 * drawn again from its seed). */
static int second_pass(const struct options *o, struct run *r, char **paths, size_t npaths,
		       size_t read, size_t k, size_t l, fin_err *err)
{
	fin_input *in = fin_input_open(paths, npaths, &o->cli.csv, err);
	size_t *seen = NULL, again = 0, n, i;
	char **names;
	int rc;

	if (!in)
		return err->code;
	if (!fin_input_same_files(r->in, in)) {
		rc = fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
			      fin_input_name(in));
		goto done;
	}
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		goto done;
	for (i = 0; i < n && i < r->plan.n && strcmp(names[i], r->plan.names[i]) == 0; i++)
		;
	if (n != r->plan.n || i < n) {
		rc = fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
			      fin_input_name(in));
		goto done;
	}
	if (!(seen = calloc(r->anon.classes.n ? r->anon.classes.n : 1, sizeof *seen))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if (r->plan.rng)
		gsl_rng_set(r->plan.rng, r->plan.seed);
	rc = mask_rows(r, in, FILTER, k, l, seen, &again, err);
	if (rc == FIN_OK && again != read)
		rc = fin_fail(err, FIN_EDATA, "%s: the input changed since the first pass over it",
			      fin_input_name(in));
done:
	free(seen);
	fin_input_close(in);
	return rc;
}

static int write_held(struct run *r, size_t k, size_t l, fin_err *err)
{
	fin_out *w = fin_out_file_writer(r->table);
	const char **field = malloc((r->nkept ? r->nkept : 1) * sizeof *field);
	size_t *len = malloc((r->nkept ? r->nkept : 1) * sizeof *len);
	fin_held_cursor c = { 0 };
	uint32_t cls;

	if (!field || !len) {
		free(field);
		free(len);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	while (fin_held_rows_next(&r->held, &c, field, len, r->nkept, &cls))
		if (fin_anonymity_kept(&r->anon, cls, k, l))
			write_row(w, field, len, r->nkept);
	free(field);
	free(len);
	return FIN_OK;
}

static int finish(const struct options *o, struct run *r, char **paths, size_t npaths,
		  enum pass pass, size_t read, fin_err *err)
{
	fin_mask_outcome out = { .check = o->check, .rows_read = read, .k_target = o->k,
				 .l_target = r->l };
	size_t k = o->k ? o->k : 1, l = r->l ? r->l : 1;
	int rc = FIN_OK;

	if (r->nquasi) {
		if (fin_anonymity_summarise(&r->anon, k, l, &r->summary) != 0)
			return fin_fail(err, FIN_EDATA, "out of memory");
		out.anon = &r->anon;
		out.summary = &r->summary;
		out.rows_suppressed = r->summary.rows_suppressed;
	}
	if (!o->check) {
		out.rows_written = read - out.rows_suppressed;
		if (pass == HOLD)
			rc = write_held(r, k, l, err);
		else if (pass == COUNT)
			rc = second_pass(o, r, paths, npaths, read, k, l, err);
		if (rc == FIN_OK)
			rc = fin_out_file_commit(r->table, err);
		r->table = NULL;
	}
	if (rc == FIN_OK && r->report) {
		cJSON *json = fin_mask_report(&r->plan, &out);
		rc = fin_json_save(json, r->report, err);
		cJSON_Delete(json);
		if (rc == FIN_OK)
			rc = fin_out_file_commit(r->report, err);
		r->report = NULL;
	}
	if (rc != FIN_OK)
		return rc;
	if (!r->nquasi) {
		if (!o->cli.quiet)
			fin_note("fin-mask", "%zu rows read, %s", read,
				 o->check ? "none written (--check)" : "all written");
		return FIN_OK;
	}
	if (!o->cli.quiet) {
		const fin_anonymity_summary *s = &r->summary;
		size_t kk = o->check ? s->k_all : s->k_kept, ll = o->check ? s->l_all : s->l_kept;
		char reached[64] = "no row left";
		if (kk && r->sensitive >= 0)
			snprintf(reached, sizeof reached, "k = %zu, l = %zu", kk, ll);
		else if (kk)
			snprintf(reached, sizeof reached, "k = %zu", kk);
		fin_note("fin-mask", "%zu rows read, %zu %s (%zu of %zu classes); %s", read,
			 s->rows_suppressed, o->check ? "to suppress" : "suppressed",
			 s->classes_suppressed, s->classes, reached);
	}
	if (o->check && o->k && r->summary.k_all < o->k)
		return fin_fail(err, FIN_EALERT,
				"not %zu-anonymous: the smallest class of quasi-identifiers holds %zu "
				"row%s", o->k, r->summary.k_all, r->summary.k_all == 1 ? "" : "s");
	if (o->check && r->l && r->summary.l_all < r->l)
		return fin_fail(err, FIN_EALERT,
				"not %zu-diverse: a class holds %zu distinct value%s of '%s'", r->l,
				r->summary.l_all, r->summary.l_all == 1 ? "" : "s",
				r->plan.names[r->sensitive]);
	return FIN_OK;
}

static int run(const struct options *o, struct run *r, char **paths, size_t npaths,
	       fin_err *err)
{
	char **names;
	size_t n, read, i;
	enum pass pass = STREAM;
	int rc;

	if (o->key_file || o->key_env) {
		rc = o->key_file ? fin_pseudonym_key_file(&r->key, o->key_file, err)
				 : fin_pseudonym_key_env(&r->key, o->key_env, err);
		if (rc != FIN_OK)
			return rc;
	}
	if (!(r->in = fin_input_open(paths, npaths, &o->cli.csv, err)))
		return err->code;
	if (!o->cli.quiet && fin_input_is_tty(r->in))
		fputs("fin-mask: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if ((rc = fin_input_header(r->in, &names, &n, err)) != FIN_OK)
		return rc;
	if ((o->nspec || o->nquasi) &&
	    (rc = fin_columns_check_unique(names, n, fin_input_name(r->in), err)) != FIN_OK)
		return rc;
	rc = fin_mask_plan_build(&r->plan, o->spec, o->nspec, fin_input_name(r->in), names, n,
				 &r->key, o->length, o->cli.seed, err);
	if (rc == FIN_OK)
		rc = anonymity_columns(o, r, names, n, err);
	if (rc != FIN_OK)
		return rc;
	r->keep = malloc(n ? n : 1);
	r->field = malloc((n ? n : 1) * sizeof *r->field);
	r->len = malloc((n ? n : 1) * sizeof *r->len);
	if (!r->keep || !r->field || !r->len)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < n; i++)
		r->nkept += r->keep[i] = !fin_mask_dropped(&r->plan, i);
	if ((rc = open_outputs(o, r, names, n, err)) != FIN_OK)
		return rc;
	/* A table that must be counted before a row is written is read twice
	 * when it is in files, or else held in memory. */
	if (o->check)
		pass = COUNT;
	else if (o->k || o->l_diverse)
		pass = fin_input_rereadable(r->in) ? COUNT : HOLD;
	if ((rc = mask_rows(r, r->in, pass, 0, 0, NULL, &read, err)) != FIN_OK)
		return rc;
	if (!read)
		return fin_fail(err, FIN_ENOROWS, "%s: no input rows", fin_input_name(r->in));
	if ((rc = finish(o, r, paths, npaths, pass, read, err)) != FIN_OK)
		return rc;
	/* After the run, so that a failure stays one line. */
	if (r->key.readable_by_others && !o->cli.quiet)
		fin_note("fin-mask", "--key-file '%s' can be read by every user: chmod o-r it",
			 o->key_file);
	return FIN_OK;
}

int main(int argc, char **argv)
{
	struct options o = { .length = FIN_PSEUDONYM_HEX };
	struct run r = { 0 };
	fin_err err = { 0 };
	int rc = parse_options(argc, argv, &o, &err);

	fin_held_rows_init(&r.held);
	if (rc == FIN_OK)
		rc = run(&o, &r, argv + optind, (size_t)(argc - optind), &err);
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-mask", err.msg);
	fin_out_file_discard(r.table);
	fin_out_file_discard(r.report);
	fin_held_rows_free(&r.held);
	fin_anonymity_summary_free(&r.summary);
	fin_anonymity_free(&r.anon);
	fin_mask_plan_free(&r.plan);
	fin_pseudonym_key_wipe(&r.key);
	fin_input_close(r.in);
	free(r.quasi);
	free(r.keep);
	free(r.field);
	free(r.len);
	free(o.spec);
	free(o.quasi);
	return rc;
}
