/* The time order of a key column: where time order matters (fin-window,
 * fin-train's chronological split, fin-backtest's folds), every key must
 * come after the one before it, so that a file sorted newest-first, or
 * shuffled, is stopped at its first step back instead of giving targets
 * that lie before their features.
 *
 * Keys are numbers (a time index, a year fraction, 20200103, epoch
 * seconds) or ISO 8601 dates and date-times (2020-01, 2020-01-03,
 * 2020-01-03T09:30, 2020-01-03 09:30:00.250, 2020-01-03T09:30:00+01:00),
 * compared by the time they name. Anything else (03/01/2020, Jan 3, a
 * ticker) has no order that can be checked, and is refused: comparing it
 * as text would take 01/03/2020 to come before 12/31/2019. */
#ifndef FIN_KEY_ORDER_H
#define FIN_KEY_ORDER_H

#include <stddef.h>

#include "core/err.h"

enum fin_key_kind { FIN_KEY_NONE, FIN_KEY_NUMBER, FIN_KEY_TIME };

/* A point in time: seconds since 1970-01-01T00:00:00Z and nanoseconds. */
typedef struct fin_key_time {
	long long sec;
	long nsec;
} fin_key_time;

enum { FIN_KEY_SHOWN = 48 };

typedef struct fin_key_order {
	const char *column;      /* the key column's name, for messages */
	int strict;              /* equal keys are refused too */
	enum fin_key_kind kind;  /* of the previous key; NONE before the first */
	double num;              /* the previous key, as a number */
	fin_key_time time;       /* or as a time */
	char text[FIN_KEY_SHOWN]; /* its first bytes, for messages */
	size_t len;              /* how many of them */
	const char *file;        /* where it was: a name that outlives the check */
	long line;
} fin_key_order;

/* Starts checking the keys of column: strictly increasing when strict is
 * set (a series has one row per time), otherwise never decreasing (a
 * panel may hold several rows for one time). */
void fin_key_order_init(fin_key_order *k, const char *column, int strict);

/* Takes the key s[0..len) (NUL-ended) of the row on line of file, after
 * the rows taken before. FIN_EDATA with a message naming file, line and
 * column when it goes back (or repeats, when strict), when it is missing,
 * when it is neither a number nor an ISO date, or when it is not of the
 * kind of the keys before it. */
int fin_key_order_next(fin_key_order *k, const char *file, long line, const char *s, size_t len,
		       fin_err *err);

/* Parses an ISO 8601 date (YYYY-MM or YYYY-MM-DD) or date-time
 * (YYYY-MM-DD, then T or a blank, then HH:MM, optional :SS, optional
 * fraction of up to 9 digits, optional zone Z, +HH, +HHMM or +HH:MM), with
 * blanks around it. A date-time without a zone is taken as it is; one
 * with a zone is moved to UTC. Returns 0 and fills *t, or -1 when s is
 * not such a date. */
int fin_key_parse_time(const char *s, size_t len, fin_key_time *t);

#endif
