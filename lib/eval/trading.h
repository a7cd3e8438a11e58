/* Trading out-of-sample return forecasts: positions from predictions, the
 * strategy's returns after costs, and the report a desk reads (return,
 * volatility, Sharpe ratio, drawdown, hit rate, turnover). */
#ifndef FIN_TRADING_H
#define FIN_TRADING_H

#include <stddef.h>

#include "core/err.h"

enum fin_sizing { FIN_SIZE_SIGN, FIN_SIZE_SCALED };

typedef struct fin_trade_opts {
	enum fin_sizing sizing;
	double cap;              /* scaled: |position| at most cap (> 0) */
	double cost_bps;         /* cost per unit of turnover, in basis points */
	double periods_per_year; /* for annualising, e.g. 252 for daily rows */
	int log_returns;         /* the actual returns are log returns */
} fin_trade_opts;

typedef struct fin_trade_report {
	size_t n;                /* periods */
	double total_return;     /* compounded: prod(1 + s_t) - 1 */
	double annual_return;    /* (1 + total)^(periods_per_year / n) - 1; -1 once equity is gone */
	double annual_vol;       /* sample sd of s_t times sqrt(periods_per_year); NaN for n = 1 */
	double sharpe;           /* mean / sd of s_t times sqrt(periods_per_year); no risk-free
				  * rate; NaN when sd is 0 */
	double max_drawdown;     /* largest fall of the equity curve from its peak (the start counts
				  * as one), as a positive share; 1 once equity is gone */
	double hit_rate;         /* of the periods with a position, the share it earned more than 0
				  * in, before costs; NaN without any */
	double turnover;         /* mean |position_t - position_{t-1}| per period, the first from 0 */
	double costs;            /* sum of the costs paid, as returns */
} fin_trade_report;

/* The position a prediction asks for: its sign (-1, 0, 1), or, scaled,
 * pred / scale clamped to [-cap, cap], where scale > 0 is known before the
 * period (fin-backtest uses the sd of the fold's training targets). No
 * prediction (NaN), or no usable scale, is no position. */
double fin_trade_position(const fin_trade_opts *o, double pred, double scale);

/* The strategy's return in each of n periods, into pnl (may be NULL), and
 * its report: holding pos[t] through period t earns pos[t] times the
 * asset's simple return (exp(r[t]) - 1 for log returns, r[t] otherwise),
 * less cost_bps / 10000 times |pos[t] - pos[t-1]|, with pos[-1] = 0.
 * Buy-and-hold is pos[t] = 1 throughout. FIN_ENOROWS for n = 0, FIN_EUSAGE
 * for options out of range. */
int fin_trade_run(const fin_trade_opts *o, const double *pos, const double *r, size_t n,
		  double *pnl, fin_trade_report *rep, fin_err *err);

/* The report of n periods in which a strategy earned gross[t] (a simple
 * return, before costs) and turned over turn[t] (the sum of the changes
 * of its positions' weights), holding a position where held[t]: its
 * return, into pnl (may be NULL), is gross[t] less cost_bps / 10000 times
 * turn[t]. fin_trade_run is this for one asset. */
int fin_trade_periods(const fin_trade_opts *o, const double *gross, const double *turn,
		      const unsigned char *held, size_t n, double *pnl, fin_trade_report *rep,
		      fin_err *err);

#endif
