#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "eval/trading.h"

double fin_trade_position(const fin_trade_opts *o, double pred, double scale)
{
	double p;

	/* No forecast, or no scale to size it by: stay out. */
	if (isnan(pred))
		return 0;
	if (o->sizing == FIN_SIZE_SIGN)
		return (pred > 0) - (pred < 0);
	if (!(scale > 0) || !isfinite(scale))
		return 0;
	p = pred / scale;
	return p > o->cap ? o->cap : p < -o->cap ? -o->cap : p;
}

int fin_trade_periods(const fin_trade_opts *o, const double *gross, const double *turn,
		      const unsigned char *held, size_t n, double *pnl, fin_trade_report *rep,
		      fin_err *err)
{
	double cost = o->cost_bps / 10000, equity = 1, peak = 1, sum_turn = 0, sd, drawdown;
	double *s;
	size_t t, nheld = 0, won = 0;

	if (n == 0)
		return fin_fail(err, FIN_ENOROWS, "no periods to trade");
	if (!(o->cost_bps >= 0) || !isfinite(o->cost_bps) || !(o->periods_per_year > 0) ||
	    !isfinite(o->periods_per_year))
		return fin_fail(err, FIN_EUSAGE, "trading costs must be at least 0 and periods per "
				"year above 0");
	s = pnl ? pnl : malloc(n * sizeof *s);
	if (!s)
		return fin_fail(err, FIN_EDATA, "out of memory");
	*rep = (fin_trade_report){ .n = n };
	for (t = 0; t < n; t++) {
		s[t] = gross[t] - cost * turn[t];
		sum_turn += turn[t];
		rep->costs += cost * turn[t];
		if (held[t]) {
			nheld++;
			won += gross[t] > 0;
		}
		equity *= 1 + s[t];
		if (equity > peak)
			peak = equity;
		/* Below zero the account is gone: a drawdown of everything. */
		drawdown = equity > 0 ? 1 - equity / peak : 1;
		if (drawdown > rep->max_drawdown)
			rep->max_drawdown = drawdown;
	}
	rep->total_return = equity - 1;
	/* A strategy that lost everything has no growth rate to annualise. */
	rep->annual_return = equity > 0 ? pow(equity, o->periods_per_year / (double)n) - 1 : -1;
	sd = n > 1 ? gsl_stats_sd(s, 1, n) : NAN;
	rep->annual_vol = sd * sqrt(o->periods_per_year);
	rep->sharpe = sd > 0 ? gsl_stats_mean(s, 1, n) / sd * sqrt(o->periods_per_year) : NAN;
	rep->hit_rate = nheld ? (double)won / (double)nheld : NAN;
	rep->turnover = sum_turn / (double)n;
	if (!pnl)
		free(s);
	return FIN_OK;
}

int fin_trade_run(const fin_trade_opts *o, const double *pos, const double *r, size_t n,
		  double *pnl, fin_trade_report *rep, fin_err *err)
{
	double *gross = malloc((n ? n : 1) * sizeof *gross), *turn = malloc((n ? n : 1) * sizeof *turn);
	unsigned char *held = malloc(n ? n : 1);
	double prev = 0;
	size_t t;
	int rc;

	if (!gross || !turn || !held) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (t = 0; t < n; t++) {
		gross[t] = pos[t] * (o->log_returns ? expm1(r[t]) : r[t]);
		turn[t] = fabs(pos[t] - prev);
		held[t] = pos[t] != 0;
		prev = pos[t];
	}
	rc = fin_trade_periods(o, gross, turn, held, n, pnl, rep, err);
done:
	free(gross);
	free(turn);
	free(held);
	return rc;
}
