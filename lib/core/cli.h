/* Option values shared by every tool's command line. */
#ifndef FIN_CLI_H
#define FIN_CLI_H

#include <stddef.h>

#include "core/err.h"
#include "features/encoding.h"

/* Parses a whole decimal number in [min, max] given to option opt. */
int fin_cli_size(const char *opt, const char *arg, size_t min, size_t max, size_t *out,
		 fin_err *err);

/* Parses a finite number in [min, max] (either bound may be infinite)
 * given to option opt. */
int fin_cli_number(const char *opt, const char *arg, double min, double max, double *out,
		   fin_err *err);

/* The same, kept as a float. */
int fin_cli_float(const char *opt, const char *arg, double min, double max, float *out,
		  fin_err *err);

/* Parses a -d argument: one byte, or "tab" / "\t". */
int fin_cli_delim(const char *arg, unsigned char *out, fin_err *err);

/* The position of s among the n words, -1 when it is none of them. */
int fin_word_index(const char *s, const char *const *words, size_t n);

/* Accepts index, the position of arg among an option's words (-1 when
 * it is none of them), as the value of opt. */
int fin_cli_word(const char *opt, const char *arg, int index, int *out, fin_err *err);

/* The getopt value of --na-values, which every tool that reads values
 * takes: above the values of the tools' own options. */
enum { FIN_OPT_NA_VALUES = 0x1000 };

/* Parses a --na-values list, comma-separated, and makes each spelling in
 * it (blanks around it trimmed) a missing value; see fin_na_add. An empty
 * spelling is refused. */
int fin_cli_na_values(const char *arg, fin_err *err);

/* Appends arg to a growing list of option values. */
int fin_cli_append(char ***list, size_t *n, char *arg, fin_err *err);

/* The options of text (categorical) columns, for the tools that read
 * features: their option table entries, help lines and parsing. */
enum { FIN_OPT_CATEGORICAL = 1000, FIN_OPT_MIN_COUNT, FIN_OPT_MAX_LEVELS, FIN_OPT_UNSEEN };

#define FIN_TEXT_LONG_OPTIONS                                                     \
	{ "categorical", required_argument, NULL, FIN_OPT_CATEGORICAL },          \
	{ "min-count", required_argument, NULL, FIN_OPT_MIN_COUNT },              \
	{ "max-levels", required_argument, NULL, FIN_OPT_MAX_LEVELS },            \
	{ "unseen", required_argument, NULL, FIN_OPT_UNSEEN }

#define FIN_TEXT_HELP                                                                       \
	"      --categorical LIST text columns, one-hot encoded, even when they hold\n"     \
	"                         numbers (a column holding any other text is one anyway)\n" \
	"      --min-count N      levels in fewer training rows pool into (other)\n"        \
	"                         (default 10)\n"                                            \
	"      --max-levels N     levels kept per text column, the most frequent\n"         \
	"                         (default 100)\n"                                           \
	"      --unseen POLICY    other|error for a level not seen in training\n"           \
	"                         (default other)\n"

typedef struct fin_text_opts {
	char **categorical;
	size_t ncategorical;
	fin_encoding_opts enc;
	int unseen_error;
} fin_text_opts;

/* The defaults: --min-count 10, --max-levels 100, --unseen other. */
fin_text_opts fin_text_opts_default(void);

/* Parses opt when it is one of the options above (returning its status),
 * else returns -1. */
int fin_cli_text_option(int opt, char *arg, fin_text_opts *t, fin_err *err);

#endif
