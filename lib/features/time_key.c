#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "features/key_order.h"
#include "features/time_key.h"
#include "io/columns.h"

/* An ISO date with its day, or a date-time: 2020-01-03 is the shortest. */
static int is_iso_day(const char *s, size_t len)
{
	fin_key_time t;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return len >= 10 && s[7] == '-' && fin_key_parse_time(s, len, &t) == 0;
}

/* Marks the columns spec chooses: the target and the features. 0 when
 * the -c lists cannot be read against the header: the tool says why where
 * it chooses its columns, and no key is taken meanwhile. */
static int mark_chosen(const fin_table_spec *spec, char *const *names, size_t n,
		       unsigned char *chosen)
{
	size_t *idx = NULL, count = 0, i;
	fin_err unused;
	long c;

	if (spec->target && (c = fin_column_find(names, n, spec->target)) >= 0)
		chosen[c] = 1;
	if (spec->exact) {
		for (i = 0; i < spec->ncolumns; i++)
			if ((c = fin_column_find(names, n, spec->columns[i])) >= 0)
				chosen[c] = 1;
		return 1;
	}
	if (spec->ncolumns && fin_columns_select(spec->columns, spec->ncolumns, names, n, &idx,
						 &count, &unused) != FIN_OK)
		return 0;
	for (i = 0; i < count; i++)
		chosen[idx[i]] = 1;
	free(idx);
	return 1;
}

/* The note: the column taken, the others that qualified, and how to
 * choose another. */
static void describe(fin_time_key *k, const char *file, long line, char *const *names,
		     const size_t *found, size_t nfound)
{
	char first[200], second[200], more[64] = "";

	fin_quote_field(first, sizeof first, names[found[0]], strlen(names[found[0]]));
	if (nfound == 1) {
		snprintf(k->note, sizeof k->note,
			 "%s:%ld: column '%s' holds an ISO date: taken as the key (give -k to "
			 "choose another)",
			 file, line, first);
		return;
	}
	fin_quote_field(second, sizeof second, names[found[1]], strlen(names[found[1]]));
	if (nfound > 2)
		snprintf(more, sizeof more, " and %zu more", nfound - 2);
	snprintf(k->note, sizeof k->note,
		 "%s:%ld: columns '%s', '%s'%s hold ISO dates: the first, '%s', is taken as the "
		 "key (give -k to choose another)",
		 file, line, first, second, more, first);
}

int fin_time_key_find(fin_input *in, const fin_table_spec *spec, fin_time_key *k, fin_err *err)
{
	char **names;
	size_t n, nfound = 0, *found = NULL, i;
	unsigned char *chosen = NULL;
	fin_row *row;
	int rc;

	k->name = NULL;
	k->note[0] = '\0';
	if (spec->nkeys)
		return FIN_OK;
	if ((rc = fin_input_header(in, &names, &n, err)) != FIN_OK)
		return rc;
	chosen = calloc(n ? n : 1, 1);
	found = malloc((n ? n : 1) * sizeof *found);
	if (!chosen || !found)
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	/* The rows are read, and any trouble with them reported, later. */
	else if (mark_chosen(spec, names, n, chosen) && fin_input_peek(in, &row, NULL) > 0) {
		for (i = 0; i < n; i++)
			if (!chosen[i] && is_iso_day(row->fields[i], row->lens[i]))
				found[nfound++] = i;
		if (nfound) {
			k->name = names[found[0]];
			describe(k, fin_input_name(in), row->line, names, found, nfound);
		}
	}
	free(chosen);
	free(found);
	return rc;
}

int fin_time_key_take(fin_input *in, fin_table_spec *spec, char ***keys, size_t *nkeys,
		      fin_time_key *k, fin_err *err)
{
	int rc = fin_time_key_find(in, spec, k, err);

	if (rc != FIN_OK || !k->name || (rc = fin_cli_append(keys, nkeys, k->name, err)) != FIN_OK)
		return rc;
	spec->keys = *keys;
	spec->nkeys = *nkeys;
	return FIN_OK;
}

int fin_time_key_take_cli(fin_input *in, fin_table_spec *spec, fin_cli *cli, fin_time_key *k,
			  const char **note, fin_err *err)
{
	int rc = fin_time_key_take(in, spec, &cli->keys, &cli->nkeys, k, err);

	*note = rc == FIN_OK && k->name && !cli->quiet ? k->note : NULL;
	return rc;
}
