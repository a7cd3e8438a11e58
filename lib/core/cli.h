/* Option values shared by every tool's command line. */
#ifndef FIN_CLI_H
#define FIN_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "core/err.h"
#include "features/encoding.h"
#include "features/window.h"
#include "io/csv_reader.h"

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

/* The getopt values of the shared options without a letter: above the
 * values of the tools' own options. */
enum {
	FIN_OPT_NA_VALUES = 0x1000,
	FIN_OPT_NA,
	FIN_OPT_THREADS,
	FIN_OPT_CATEGORICAL,
	FIN_OPT_MIN_COUNT,
	FIN_OPT_MAX_LEVELS,
	FIN_OPT_UNSEEN,
	FIN_OPT_SHARD,
};

/* Parses a --na-values list, comma-separated, and makes each spelling in
 * it (blanks around it trimmed) a missing value; see fin_na_add. An empty
 * spelling is refused. */
int fin_cli_na_values(const char *arg, fin_err *err);

/* Appends arg to a growing list of option values. */
int fin_cli_append(char ***list, size_t *n, char *arg, fin_err *err);

/* The options of text (categorical) columns, for the tools that read
 * features (FIN_CLI_TEXT below): their help lines, and their values. */
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

/* The options every tool shares. A tool names those it takes by these
 * bits; -h and -V it always takes. Its usage text lists them with the
 * FIN_HELP_ lines below, or with lines of its own where an option means
 * something more particular there (what -c chooses, what -s seeds). */
enum fin_cli_shared {
	FIN_CLI_COLUMNS = 1 << 0,   /* -c LIST, repeatable */
	FIN_CLI_KEY = 1 << 1,       /* -k LIST, repeatable */
	FIN_CLI_TARGET = 1 << 2,    /* -y COL */
	FIN_CLI_MODEL = 1 << 3,     /* -m FILE */
	FIN_CLI_OUTPUT = 1 << 4,    /* -o FILE */
	FIN_CLI_DELIMITER = 1 << 5, /* -d C */
	FIN_CLI_NO_HEADER = 1 << 6, /* -n */
	FIN_CLI_SEED = 1 << 7,      /* -s N, 0 to 4294967295 (default 1) */
	FIN_CLI_THREADS = 1 << 8,   /* --threads N, 1 to 256 (default 1) */
	FIN_CLI_QUIET = 1 << 9,     /* -q */
	FIN_CLI_VERBOSE = 1 << 10,  /* -v */
	FIN_CLI_NA_VALUES = 1 << 11, /* --na-values LIST */
	/* --na POLICY, with the policies the tool has (at most one of these): */
	FIN_CLI_NA = 1 << 12,         /* error|skip|ffill */
	FIN_CLI_NA_LEVEL = 1 << 13,   /* error|skip|ffill|level */
	FIN_CLI_NA_NO_FILL = 1 << 14, /* error|skip: filling would make up values */
	/* --categorical LIST, --min-count N, --max-levels N, --unseen POLICY */
	FIN_CLI_TEXT = 1 << 15,
	FIN_CLI_UNSEEN = 1 << 16,     /* --unseen POLICY only (a model's levels) */
	/* The tool runs as the ranks of an MPI job (lib/par), and takes
	 * --shard; any other is refused when launched by mpirun with more
	 * than one rank. */
	FIN_CLI_RANKS = 1 << 17,
};

#define FIN_HELP_SHARD                                                                    \
	"      --shard            under mpirun, each rank reads only its share of the FILEs\n" \
	"                         and sends it to the others (see fin(7), MPI)\n"
#define FIN_HELP_SEED "  -s, --seed N           seed (default 1)\n"
#define FIN_HELP_THREADS "      --threads N        BLAS threads (default 1)\n"
#define FIN_HELP_NA "      --na POLICY        error|skip|ffill for missing values (default error)\n"
#define FIN_HELP_NA_LEVEL                                                                  \
	"      --na POLICY        error|skip|ffill|level for missing values (default\n"    \
	"                         error; level: a level of its own in a text column)\n"
#define FIN_HELP_NA_NO_FILL \
	"      --na POLICY        error|skip for missing values (default error)\n"
#define FIN_HELP_NA_VALUES \
	"      --na-values LIST   more spellings of a missing value, comma-separated\n"
#define FIN_HELP_DELIMITER "  -d, --delimiter C      input field delimiter (default ',')\n"
#define FIN_HELP_NO_HEADER "  -n, --no-header        input has no header row\n"
#define FIN_HELP_OUTPUT "  -o, --output FILE      write to FILE instead of standard output\n"
#define FIN_HELP_QUIET "  -q, --quiet            no notes on standard error\n"
#define FIN_HELP_HELP_VERSION                                         \
	"  -h, --help             show this help and exit\n"           \
	"  -V, --version          show the version and exit\n"

/* Room for a tool's getopt table: the shared options and its own. */
enum { FIN_CLI_OPTIONS_MAX = 96 };

/* A tool's command line: its getopt table and, once parsed, the values of
 * the shared options it takes. */
typedef struct fin_cli {
	const char *prog;   /* the tool's name, for -V and messages */
	const char *usage;  /* its --help text */
	struct option options[FIN_CLI_OPTIONS_MAX + 1];
	char letters[64];   /* getopt's short options */
	unsigned shared;    /* the FIN_CLI_ bits it takes */

	char **columns;     /* -c, in order given */
	size_t ncolumns;
	char **keys;        /* -k */
	size_t nkeys;
	char *target;       /* -y, NULL when not given */
	char *model;        /* -m */
	char *output;       /* -o */
	fin_csv_opts csv;   /* -d, -n */
	unsigned long seed; /* -s */
	int seed_given;
	size_t threads;     /* --threads */
	enum fin_na na;     /* --na */
	int quiet, verbose; /* -q, -v */
	int shard;          /* --shard */
	fin_text_opts text; /* --categorical, --min-count, --max-levels, --unseen */
} fin_cli;

/* What fin_cli_option returns for -h and -V, once it has written the help
 * or the version: the tool ends there with status 0. */
enum { FIN_CLI_EXIT = -1 };

/* Sets up the command line of tool prog: the shared options of the
 * FIN_CLI_ bits in shared, then own, a table ended by a zeroed entry,
 * each of the tool's own options long only. Every value takes its
 * default. FIN_EUSAGE when the table does not fit. */
int fin_cli_init(fin_cli *c, const char *prog, const char *usage, unsigned shared,
		 const struct option *own, fin_err *err);

/* getopt_long over the table: the next option, or -1 after the last. */
int fin_cli_next(fin_cli *c, int argc, char **argv);

/* Takes opt, an option fin_cli_next returned that is not the tool's own:
 * a shared option, whose value it parses and checks, -h or -V, which it
 * answers on standard output (returning FIN_CLI_EXIT), or getopt's '?'
 * for an option it does not know or one missing its value, which getopt
 * has named: a usage error whose message is already written. With opterr
 * 0 (getopt silenced: under mpirun, every rank but rank 0), -h, -V and the
 * usage error write nothing. */
int fin_cli_option(fin_cli *c, int opt, char *arg, fin_err *err);

/* Frees the lists of -c, -k and --categorical. */
void fin_cli_free(fin_cli *c);

/* Options that go with some modes of a tool only (fin-eval's tasks,
 * fin-plot's kinds): remembered as they are given, checked once the mode
 * is known. Room for FIN_CLI_SCOPED_MAX distinct options. */
enum { FIN_CLI_SCOPED_MAX = 32 };

typedef struct fin_cli_scoped {
	struct {
		const char *name; /* compared by address: one string per option */
		unsigned modes;   /* bits 1 << mode */
	} opt[FIN_CLI_SCOPED_MAX];
	size_t n;
} fin_cli_scoped;

/* Remembers option name, which goes with the modes whose bits are set,
 * once however often it is given. */
void fin_cli_scoped_add(fin_cli_scoped *s, const char *name, unsigned modes);

/* FIN_EUSAGE "NAME does not go with PREFIXMODE" for the first option
 * remembered that does not go with mode, named mode_name. */
int fin_cli_scoped_check(const fin_cli_scoped *s, int mode, const char *prefix,
			 const char *mode_name, fin_err *err);

#endif
