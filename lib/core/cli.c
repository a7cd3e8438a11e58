#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
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

int fin_cli_text_option(int opt, char *arg, fin_text_opts *t, fin_err *err)
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
