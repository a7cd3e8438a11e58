#include <stdio.h>
#include <string.h>

#include "features/key_order.h"
#include "io/numio.h"

void fin_key_order_init(fin_key_order *k, const char *column, int strict)
{
	memset(k, 0, sizeof *k);
	k->column = column;
	k->strict = strict;
}

/* Reads exactly n digits at *p, moving past them. */
static int digits(const char **p, const char *end, int n, long *v)
{
	long x = 0;
	int i;

	if (end - *p < n)
		return -1;
	for (i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		x = 10 * x + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int accept(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return 1;
	}
	return 0;
}

static long days_in_month(long y, long m)
{
	static const char days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

/* The zone after a time: Z, +HH, +HHMM or +HH:MM (or - for west of UTC),
 * as seconds east of UTC. */
static int zone(const char **p, const char *end, long *east)
{
	long h, m = 0;
	int sign;

	*east = 0;
	if (*p == end)
		return 0;
	if (accept(p, end, 'Z') || accept(p, end, 'z'))
		return 0;
	if (**p != '+' && **p != '-')
		return -1;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, end, 2, &h) != 0 || h > 23)
		return -1;
	if (*p < end) {
		accept(p, end, ':');
		if (digits(p, end, 2, &m) != 0 || m > 59)
			return -1;
	}
	*east = sign * (h * 3600 + m * 60);
	return 0;
}

int fin_key_parse_time(const char *s, size_t len, fin_key_time *t)
{
	const char *p = s, *end = s + len;
	long y, mo, d = 1, h = 0, mi = 0, sec = 0, nsec = 0, east = 0;
	int day = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (digits(&p, end, 4, &y) != 0 || !accept(&p, end, '-') || digits(&p, end, 2, &mo) != 0 ||
	    mo < 1 || mo > 12)
		return -1;
	if ((day = accept(&p, end, '-')) &&
	    (digits(&p, end, 2, &d) != 0 || d < 1 || d > days_in_month(y, mo)))
		return -1;
	if (day && (accept(&p, end, 'T') || accept(&p, end, 't') || accept(&p, end, ' '))) {
		if (digits(&p, end, 2, &h) != 0 || h > 23 || !accept(&p, end, ':') ||
		    digits(&p, end, 2, &mi) != 0 || mi > 59)
			return -1;
		if (accept(&p, end, ':')) {
			if (digits(&p, end, 2, &sec) != 0 || sec > 59)
				return -1;
			if (accept(&p, end, '.') || accept(&p, end, ',')) {
				int n = 0;
				while (p < end && *p >= '0' && *p <= '9') {
					if (n++ == 9)
						return -1;
					nsec = 10 * nsec + (*p++ - '0');
				}
				if (n == 0)
					return -1;
				for (; n < 9; n++)
					nsec *= 10;
			}
		}
		if (zone(&p, end, &east) != 0)
			return -1;
	}
	if (p != end)
		return -1;
	t->sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - east;
	t->nsec = nsec;
	return 0;
}

static int time_cmp(const fin_key_time *a, const fin_key_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return (a->nsec > b->nsec) - (a->nsec < b->nsec);
}

static const char *kind_name(enum fin_key_kind kind)
{
	return kind == FIN_KEY_NUMBER ? "a number" : "a date";
}

/* The message for a key that does not come after the previous one: of
 * another kind (cmp unused), before it (cmp < 0), or at the same time
 * (cmp == 0, strict). */
static int refuse(const fin_key_order *k, const char *file, long line, const char *s, size_t len,
		  enum fin_key_kind kind, int cmp, fin_err *err)
{
	char now[200], before[200], where[300];

	/* The previous key's place: its line, in its file when that is
	 * another one. */
	if (strcmp(k->file, file) != 0)
		snprintf(where, sizeof where, "%s:%ld", k->file, k->line);
	else
		snprintf(where, sizeof where, "line %ld", k->line);
	fin_quote_field(now, sizeof now, s, len);
	fin_quote_field(before, sizeof before, k->text, k->len);
	if (kind != k->kind)
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: column '%s': '%s' is %s, but '%s' on %s is %s: the time "
				"order of keys of two kinds cannot be checked (or give --unsorted)",
				file, line, k->column, now, kind_name(kind), before, where,
				kind_name(k->kind));
	if (cmp < 0)
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: column '%s': '%s' comes before '%s' on %s: the key must "
				"increase (newest-first? sort it, or give --unsorted)",
				file, line, k->column, now, before, where);
	return fin_fail(err, FIN_EDATA,
			"%s:%ld: column '%s': '%s' is the time of '%s' on %s: the key must "
			"increase, one row per time (a repeated row, or two series in one file? "
			"or give --unsorted)",
			file, line, k->column, now, before, where);
}

int fin_key_order_next(fin_key_order *k, const char *file, long line, const char *s, size_t len,
		       fin_err *err)
{
	char shown[200];
	enum fin_key_kind kind;
	fin_key_time t = { 0, 0 };
	double v = 0;
	int cmp = 0;

	switch (fin_parse_double(s, len, &v)) {
	case FIN_NUM_OK:
		kind = FIN_KEY_NUMBER;
		break;
	case FIN_NUM_NA:
		return fin_fail(err, FIN_EDATA,
				"%s:%ld: column '%s': missing key: the time order cannot be checked "
				"(give --unsorted to take the rows as they come)",
				file, line, k->column);
	default:
		if (fin_key_parse_time(s, len, &t) != 0)
			return fin_fail(err, FIN_EDATA,
					"%s:%ld: column '%s': '%s' is neither a number nor an ISO date "
					"such as 2020-01-03 or 2020-01-03T09:30:00: the time order "
					"cannot be checked (give --unsorted to take the rows as they come)",
					file, line, k->column, fin_quote_field(shown, sizeof shown, s, len));
		kind = FIN_KEY_TIME;
	}
	if (k->kind != FIN_KEY_NONE) {
		if (kind == k->kind)
			cmp = kind == FIN_KEY_NUMBER ? (v > k->num) - (v < k->num)
						     : time_cmp(&t, &k->time);
		if (kind != k->kind || cmp < 0 || (cmp == 0 && k->strict))
			return refuse(k, file, line, s, len, kind, cmp, err);
	}
	k->kind = kind;
	k->num = v;
	k->time = t;
	k->len = len < sizeof k->text ? len : sizeof k->text;
	memcpy(k->text, s, k->len);
	k->file = file;
	k->line = line;
	return FIN_OK;
}
