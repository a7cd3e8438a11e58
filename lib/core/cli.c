#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/version.h"
#include "io/numio.h"

int fin_cli_size(const char *opt, const char *arg, size_t min, size_t max, size_t *out,
		 fin_err *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v < min || v > max)
		return fin_fail(err, FIN_EUSAGE, "%s: expected a whole number from %zu to %zu, not '%s'",
				opt, min, max, arg);
	*out = (size_t)v;
	return FIN_OK;
}

int fin_word_index(const char *s, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return (int)i;
	return -1;
}

int fin_cli_number(const char *opt, const char *arg, double min, double max, double *out,
		   fin_err *err)
{
	char *end;
	double v = strtod(arg, &end);

	if (!*arg || *end || !isfinite(v) || !(v >= min && v <= max)) {
		if (isinf(min) && isinf(max))
			return fin_fail(err, FIN_EUSAGE, "%s: expected a number, not '%s'", opt, arg);
		if (isinf(max))
			return fin_fail(err, FIN_EUSAGE, "%s: expected a number of at least %g, not '%s'",
					opt, min, arg);
		return fin_fail(err, FIN_EUSAGE, "%s: expected a number from %g to %g, not '%s'", opt,
				min, max, arg);
	}
	*out = v;
	return FIN_OK;
}

int fin_cli_float(const char *opt, const char *arg, double min, double max, float *out,
		  fin_err *err)
{
	double v = 0;
	int rc = fin_cli_number(opt, arg, min, max, &v, err);

	if (rc == FIN_OK)
		*out = (float)v;
	return rc;
}

int fin_cli_delim(const char *arg, unsigned char *out, fin_err *err)
{
	if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
		*out = '\t';
	else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' && arg[0] != '\r')
		*out = (unsigned char)arg[0];
	else
		return fin_fail(err, FIN_EUSAGE, "--delimiter: expected one character or 'tab', not '%s'",
				arg);
	return FIN_OK;
}

int fin_cli_word(const char *opt, const char *arg, int index, int *out, fin_err *err)
{
	if (index < 0)
		return fin_fail(err, FIN_EUSAGE, "%s: unknown value '%s'", opt, arg);
	*out = index;
	return FIN_OK;
}

int fin_cli_append(char ***list, size_t *n, char *arg, fin_err *err)
{
	char **p = realloc(*list, (*n + 1) * sizeof *p);

	if (!p)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	p[(*n)++] = arg;
	*list = p;
	return FIN_OK;
}

fin_text_opts fin_text_opts_default(void)
{
	return (fin_text_opts){ .enc = { .min_count = 10, .max_levels = 100 } };
}

static int text_option(int opt, char *arg, fin_text_opts *t, fin_err *err)
{
	static const char *const unseen[] = { "other", "error" };

	switch (opt) {
	case FIN_OPT_CATEGORICAL:
		return fin_cli_append(&t->categorical, &t->ncategorical, arg, err);
	case FIN_OPT_MIN_COUNT:
		return fin_cli_size("--min-count", arg, 1, (size_t)1 << 40, &t->enc.min_count, err);
	case FIN_OPT_MAX_LEVELS:
		return fin_cli_size("--max-levels", arg, 1, FIN_LEVELS_MAX, &t->enc.max_levels, err);
	case FIN_OPT_UNSEEN:
		return fin_cli_word("--unseen", arg, fin_word_index(arg, unseen, 2), &t->unseen_error,
				    err);
	}
	return -1;
}

int fin_cli_na_values(const char *arg, fin_err *err)
{
	const char *s = arg;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (strspn(s, " \t") >= len)
			return fin_fail(err, FIN_EUSAGE,
					"--na-values: an empty spelling in '%s' (an empty field is "
					"always missing)", arg);
		if (fin_na_add(s, len) != 0)
			return fin_fail(err, FIN_EUSAGE, "out of memory");
		if (!comma)
			return FIN_OK;
		s = comma + 1;
	}
}

/* The shared options: the FIN_CLI_ bits of the tools that take each (0:
 * every tool), and its getopt entry. */
static const struct shared_option {
	unsigned bit;
	struct option entry;
} shared_options[] = {
	{ FIN_CLI_COLUMNS, { "columns", required_argument, NULL, 'c' } },
	{ FIN_CLI_KEY, { "key", required_argument, NULL, 'k' } },
	{ FIN_CLI_TARGET, { "target", required_argument, NULL, 'y' } },
	{ FIN_CLI_MODEL, { "model", required_argument, NULL, 'm' } },
	{ FIN_CLI_OUTPUT, { "output", required_argument, NULL, 'o' } },
	{ FIN_CLI_DELIMITER, { "delimiter", required_argument, NULL, 'd' } },
	{ FIN_CLI_NO_HEADER, { "no-header", no_argument, NULL, 'n' } },
	{ FIN_CLI_SEED, { "seed", required_argument, NULL, 's' } },
	{ FIN_CLI_THREADS, { "threads", required_argument, NULL, FIN_OPT_THREADS } },
	{ FIN_CLI_QUIET, { "quiet", no_argument, NULL, 'q' } },
	{ FIN_CLI_VERBOSE, { "verbose", no_argument, NULL, 'v' } },
	{ FIN_CLI_NA_VALUES, { "na-values", required_argument, NULL, FIN_OPT_NA_VALUES } },
	{ FIN_CLI_NA | FIN_CLI_NA_LEVEL | FIN_CLI_NA_NO_FILL,
	  { "na", required_argument, NULL, FIN_OPT_NA } },
	{ FIN_CLI_TEXT, { "categorical", required_argument, NULL, FIN_OPT_CATEGORICAL } },
	{ FIN_CLI_TEXT, { "min-count", required_argument, NULL, FIN_OPT_MIN_COUNT } },
	{ FIN_CLI_TEXT, { "max-levels", required_argument, NULL, FIN_OPT_MAX_LEVELS } },
	{ FIN_CLI_TEXT | FIN_CLI_UNSEEN, { "unseen", required_argument, NULL, FIN_OPT_UNSEEN } },
	{ FIN_CLI_RANKS, { "shard", no_argument, NULL, FIN_OPT_SHARD } },
	{ 0, { "help", no_argument, NULL, 'h' } },
	{ 0, { "version", no_argument, NULL, 'V' } },
};

/* Adds e to the table, and its letter to the short options. */
static int add_option(fin_cli *c, size_t *n, size_t *nletters, const struct option *e,
		      fin_err *err)
{
	if (*n == FIN_CLI_OPTIONS_MAX || *nletters + 3 > sizeof c->letters)
		return fin_fail(err, FIN_EUSAGE, "%s: too many options", c->prog);
	c->options[(*n)++] = *e;
	if (e->val > 0 && e->val < 128) {
		c->letters[(*nletters)++] = (char)e->val;
		if (e->has_arg == required_argument)
			c->letters[(*nletters)++] = ':';
		c->letters[*nletters] = '\0';
	}
	return FIN_OK;
}

int fin_cli_init(fin_cli *c, const char *prog, const char *usage, unsigned shared,
		 const struct option *own, fin_err *err)
{
	size_t i, n = 0, nletters = 0;
	int rc = FIN_OK;

	const char *ranks = getenv("OMPI_COMM_WORLD_SIZE"), *rank = getenv("OMPI_COMM_WORLD_RANK");

	*c = (fin_cli){ .prog = prog, .usage = usage, .seed = 1, .threads = 1, .na = FIN_NA_ERROR,
			.shared = shared, .text = fin_text_opts_default() };
	if (!(shared & FIN_CLI_RANKS) && ranks && atoi(ranks) > 1) {
		/* Each rank would do the whole job, and write it. The first
		 * rank alone says so. */
		rc = fin_fail(err, FIN_EUSAGE, "%s does not run as the ranks of an MPI job: each "
			      "would do the whole job (to spread rows over processes or machines, "
			      "see fin(7), MPI)", prog);
		if (rank && strcmp(rank, "0") != 0)
			err->msg[0] = '\0';
		return rc;
	}
	for (i = 0; rc == FIN_OK && i < sizeof shared_options / sizeof *shared_options; i++)
		if (!shared_options[i].bit || (shared_options[i].bit & shared))
			rc = add_option(c, &n, &nletters, &shared_options[i].entry, err);
	for (; rc == FIN_OK && own && own->name; own++)
		rc = add_option(c, &n, &nletters, own, err);
	return rc;
}

int fin_cli_next(fin_cli *c, int argc, char **argv)
{
	return getopt_long(argc, argv, c->letters, c->options, NULL);
}

/* --na: the policies of the tool's FIN_CLI_NA_ bit. */
static int na_option(fin_cli *c, const char *arg, fin_err *err)
{
	int word = 0, rc;

	if (c->shared & FIN_CLI_NA_NO_FILL) {
		word = fin_na_parse(arg);
		if (word != FIN_NA_ERROR && word != FIN_NA_SKIP)
			return fin_fail(err, FIN_EUSAGE, "--na: expected error or skip, not '%s'", arg);
		c->na = (enum fin_na)word;
		return FIN_OK;
	}
	rc = fin_cli_word("--na", arg,
			  c->shared & FIN_CLI_NA_LEVEL ? fin_na_parse_text(arg) : fin_na_parse(arg),
			  &word, err);
	if (rc == FIN_OK)
		c->na = (enum fin_na)word;
	return rc;
}

int fin_cli_option(fin_cli *c, int opt, char *arg, fin_err *err)
{
	size_t seed = 0;
	int rc;

	switch (opt) {
	case 'c': return fin_cli_append(&c->columns, &c->ncolumns, arg, err);
	case 'k': return fin_cli_append(&c->keys, &c->nkeys, arg, err);
	case 'y': c->target = arg; return FIN_OK;
	case 'm': c->model = arg; return FIN_OK;
	case 'o': c->output = arg; return FIN_OK;
	case 'd': return fin_cli_delim(arg, &c->csv.delim, err);
	case 'n': c->csv.no_header = 1; return FIN_OK;
	case 's':
		rc = fin_cli_size("--seed", arg, 0, 4294967295UL, &seed, err);
		c->seed = seed;
		c->seed_given = 1;
		return rc;
	case FIN_OPT_THREADS: return fin_cli_size("--threads", arg, 1, 256, &c->threads, err);
	case FIN_OPT_SHARD: c->shard = 1; return FIN_OK;
	case 'q': c->quiet = 1; return FIN_OK;
	case 'v': c->verbose = 1; return FIN_OK;
	case FIN_OPT_NA_VALUES: return fin_cli_na_values(arg, err);
	case FIN_OPT_NA: return na_option(c, arg, err);
	case FIN_OPT_CATEGORICAL:
	case FIN_OPT_MIN_COUNT:
	case FIN_OPT_MAX_LEVELS:
	case FIN_OPT_UNSEEN:
		return text_option(opt, arg, &c->text, err);
	/* Answered by rank 0 alone in an MPI job (opterr 0 on the others). */
	case 'h':
		if (opterr)
			fputs(c->usage, stdout);
		return FIN_CLI_EXIT;
	case 'V':
		if (opterr)
			printf("%s (fin) %s\n", c->prog, FIN_VERSION);
		return FIN_CLI_EXIT;
	}
	/* With getopt's own message, which opterr 0 (a rank but the first of
	 * an MPI job) leaves out. */
	if (opterr)
		fprintf(stderr, "Try '%s --help'.\n", c->prog);
	err->code = FIN_EUSAGE;
	return FIN_EUSAGE;
}

void fin_cli_free(fin_cli *c)
{
	free(c->columns);
	free(c->keys);
	free(c->text.categorical);
	c->columns = c->keys = c->text.categorical = NULL;
	c->ncolumns = c->nkeys = c->text.ncategorical = 0;
}

void fin_cli_scoped_add(fin_cli_scoped *s, const char *name, unsigned modes)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->opt[i].name == name)
			return;
	if (s->n < FIN_CLI_SCOPED_MAX) {
		s->opt[s->n].name = name;
		s->opt[s->n++].modes = modes;
	}
}

int fin_cli_scoped_check(const fin_cli_scoped *s, int mode, const char *prefix,
			 const char *mode_name, fin_err *err)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!(s->opt[i].modes & (1u << mode)))
			return fin_fail(err, FIN_EUSAGE, "%s does not go with %s%s", s->opt[i].name,
					prefix, mode_name);
	return FIN_OK;
}
