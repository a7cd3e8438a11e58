/* Sliding windows over a time series: the engine behind fin-window. */
#ifndef FIN_WINDOW_H
#define FIN_WINDOW_H

#include <stddef.h>

#include "core/err.h"
#include "io/input.h"
#include "io/out.h"

enum fin_transform { FIN_TF_LEVEL, FIN_TF_DIFF, FIN_TF_RET, FIN_TF_LOGRET };
enum fin_norm { FIN_NORM_NONE, FIN_NORM_ZSCORE, FIN_NORM_MINMAX, FIN_NORM_LAST };
enum fin_target { FIN_TARGET_NEXT, FIN_TARGET_SUM, FIN_TARGET_DIRECTION, FIN_TARGET_NONE };
/* FIN_NA_LEVEL: a missing value of a text column is a level of its own. */
enum fin_na { FIN_NA_ERROR, FIN_NA_SKIP, FIN_NA_FFILL, FIN_NA_LEVEL };

typedef struct fin_window_opts {
	size_t size;           /* lags per channel */
	size_t horizon;        /* steps ahead of the target */
	size_t stride;         /* emit every stride-th window */
	enum fin_transform transform;
	enum fin_norm norm;
	enum fin_target target;
	enum fin_na na;
	size_t target_channel; /* index into the channel list */
	int unsorted;          /* take the rows as they come: the first key's
				* order is not checked */
} fin_window_opts;

typedef struct fin_window_stats {
	size_t rows;       /* data rows read */
	size_t na_rows;    /* rows with a missing value in a channel */
	size_t filled;     /* values filled forward */
	size_t windows;    /* windows written */
} fin_window_stats;

/* Parses option words ("logret", "zscore", ...); -1 when unknown. */
int fin_transform_parse(const char *s);
int fin_norm_parse(const char *s);
int fin_target_parse(const char *s);
int fin_na_parse(const char *s);
/* The same, with "level" too, for tools that read text columns. */
int fin_na_parse_text(const char *s);

/* Transformed value of cur given the previous level prev. Returns FIN_OK,
 * or FIN_EDATA when it is undefined (logret of a value <= 0, ret after a
 * zero). */
int fin_transform_apply(enum fin_transform t, double prev, double cur, double *out);

/* Normalises x[0..n) in place using only those values. For zscore the
 * standard deviation is the sample one (n - 1); a window without spread
 * becomes all zeros under zscore and minmax. Returns FIN_EDATA when norm
 * last meets a zero newest value. */
int fin_normalize(enum fin_norm norm, double *x, size_t n);

/* Checks opts for nchan channels; FIN_EUSAGE with a message if unusable. */
int fin_window_check(const fin_window_opts *opts, size_t nchan, fin_err *err);

/* A panel: many series in one table. Either the rows of each value of
 * column by are a series (a long table, --by), or each channel is the
 * series of one asset (a wide table, --assets), written in long form as
 * an FIN_WINDOW_ASSET column naming it and FIN_WINDOW_VALUE_<lag> columns. */
enum fin_cross { FIN_CS_NONE, FIN_CS_RANK, FIN_CS_ZSCORE };

typedef struct fin_window_panel {
	size_t by;     /* the group column (when not assets) */
	int assets;    /* each channel is an asset */
	/* Each value of the windows ending on a date, and the target,
	 * replaced by its rank among the assets' that date (the share of
	 * them at or below it, ties averaged: pandas' rank(pct=True)) or its
	 * z-score among them (sample sd; 0 when they do not differ); the
	 * rows must then come in date order across the panel. */
	enum fin_cross cross;
} fin_window_panel;

/* "none", "rank", "zscore"; -1 when unknown. */
int fin_cross_parse(const char *s);

#define FIN_WINDOW_ASSET "asset"
#define FIN_WINDOW_VALUE "value"

/* Reads the rows of in (whose header, names[0..nnames), has been read),
 * writes the header and the windows of channels chan[0..nchan), led by the
 * key columns key[0..nkeys) of the newest row in each window, to out.
 * The first key is the time: it must increase strictly from row to row
 * (see features/key_order.h), unless opts->unsorted. With a panel, every
 * group is a series of its own, windowed and checked alone, its windows
 * written as its rows complete them (so in the order of the rows);
 * memory grows with the groups, not the rows. Returns FIN_OK, FIN_EDATA,
 * or FIN_ENOROWS when no window could be built; stats are filled in every
 * case. */
int fin_window_run(fin_input *in, char *const *names, const size_t *chan, size_t nchan,
		   const size_t *key, size_t nkeys, const fin_window_panel *panel,
		   const fin_window_opts *opts, fin_out *out, fin_window_stats *stats,
		   fin_err *err);

#endif
