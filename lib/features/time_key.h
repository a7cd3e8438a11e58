/* The key found without -k: a column of ISO 8601 dates is the time of its
 * rows, never a feature, so when no key is given the first such column
 * becomes the key, as if -k had named it, and where time order matters it
 * is checked like one (features/key_order.h).
 *
 * Only the first data row is looked at, and only a date with its day
 * (2020-01-03) or a date-time (2020-01-03T09:30, 2020-01-03 09:30:15Z)
 * qualifies: a month such as 2020-01 is as likely a label as a time. */
#ifndef FIN_TIME_KEY_H
#define FIN_TIME_KEY_H

#include <stddef.h>

#include "core/err.h"
#include "features/table.h"
#include "io/input.h"

typedef struct fin_time_key {
	char *name;     /* the column taken, as the header names it; NULL for none */
	char note[1024]; /* which column was taken and why, for standard error */
} fin_time_key;

/* Finds the key of in (whose header is read here if it was not) when spec
 * gives none (spec->nkeys == 0): the first column whose value in the first
 * data row is an ISO date or date-time, leaving out the target and the
 * columns spec chooses as features (spec->columns: -c lists, or with
 * spec->exact a model's feature names). The first row is looked at, not
 * taken. k->name is NULL when no column qualifies, and when the -c lists
 * or the first row cannot be read (the tool says why when it chooses its
 * columns and reads its rows). FIN_OK, or the error of reading the
 * header. */
int fin_time_key_find(fin_input *in, const fin_table_spec *spec, fin_time_key *k, fin_err *err);

/* fin_time_key_find, then the column found appended to the -k lists
 * keys[0..*nkeys) (see fin_cli_append), which spec then holds. */
int fin_time_key_take(fin_input *in, fin_table_spec *spec, char ***keys, size_t *nkeys,
		      fin_time_key *k, fin_err *err);

/* fin_time_key_take on a tool's own -k lists (cli->keys): *note is then
 * the note the tool reports (fin_report(cli->prog, *note)), held in k, or
 * NULL when no column was taken or -q was given. */
struct fin_cli;
int fin_time_key_take_cli(fin_input *in, fin_table_spec *spec, struct fin_cli *cli,
			  fin_time_key *k, const char **note, fin_err *err);

#endif
