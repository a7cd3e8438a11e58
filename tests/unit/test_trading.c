/* Trading reports against values worked out by hand: positions, costs,
 * compounding, drawdown, hit rate, turnover, annualising. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "eval/trading.h"

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("got %.17g, want %.17g\n", got, want);
		fail();
	}
}

static void test_positions(void **state)
{
	fin_trade_opts sign = { .sizing = FIN_SIZE_SIGN, .cap = 1 };
	fin_trade_opts scaled = { .sizing = FIN_SIZE_SCALED, .cap = 1 };
	(void)state;

	assert_true(fin_trade_position(&sign, 0.3, 1) == 1);
	assert_true(fin_trade_position(&sign, -2, 1) == -1);
	assert_true(fin_trade_position(&sign, 0, 1) == 0);
	assert_true(fin_trade_position(&sign, NAN, 1) == 0);
	/* 0.01 / 0.02 = 0.5; 0.05 / 0.02 = 2.5 capped at 1; -0.03 / 0.02 = -1.5
	 * capped at -1. */
	assert_close(fin_trade_position(&scaled, 0.01, 0.02), 0.5, 1e-15);
	assert_true(fin_trade_position(&scaled, 0.05, 0.02) == 1);
	assert_true(fin_trade_position(&scaled, -0.03, 0.02) == -1);
	scaled.cap = 2;
	assert_close(fin_trade_position(&scaled, -0.03, 0.02), -1.5, 1e-15);
	assert_true(fin_trade_position(&scaled, 0.01, 0) == 0);
	assert_true(fin_trade_position(&scaled, NAN, 0.02) == 0);
}

/* Simple returns 10%, -5%, 2%, 0 held long, long, short, flat at 10 bp a
 * unit of turnover:
 *   turnover 1, 0, 2, 1 (mean 1), costs 0.001, 0, 0.002, 0.001 (0.004);
 *   gross 0.10, -0.05, -0.02, 0; net s = 0.099, -0.05, -0.022, -0.001;
 *   equity 1.099, 1.04405, 1.0210809, 1.0200598191: total 0.0200598191;
 *   peak 1.099, falls to 0.95, 0.9291, 0.9281709 of it: drawdown 0.0718291;
 *   3 periods held, 1 gained: hit rate 1/3;
 *   mean s 0.0065, deviations 0.0925, -0.0565, -0.0285, -0.0075, squares
 *   summing to 0.012617, sd sqrt(0.012617 / 3) = 0.0648511115...;
 *   4 periods a year: annual return = total, vol 2 sd = 0.129702223...,
 *   Sharpe 2 x 0.0065 / sd = 0.200459170... */
static void check_worked_example(const fin_trade_report *rep, const double *pnl)
{
	const double s[] = { 0.099, -0.05, -0.022, -0.001 };
	size_t t;

	for (t = 0; t < 4; t++)
		assert_close(pnl[t], s[t], 1e-15);
	assert_int_equal(rep->n, 4);
	assert_close(rep->total_return, 0.0200598191, 1e-14);
	assert_close(rep->annual_return, 0.0200598191, 1e-14);
	assert_close(rep->max_drawdown, 0.0718291, 1e-14);
	assert_close(rep->hit_rate, 1.0 / 3, 1e-15);
	assert_close(rep->turnover, 1, 1e-15);
	assert_close(rep->costs, 0.004, 1e-15);
	assert_close(rep->annual_vol, 2 * sqrt(0.012617 / 3), 1e-14);
	assert_close(rep->sharpe, 2 * 0.0065 / sqrt(0.012617 / 3), 1e-12);
}

static void test_worked_example(void **state)
{
	fin_trade_opts o = { .cost_bps = 10, .periods_per_year = 4 };
	const double pos[] = { 1, 1, -1, 0 }, simple[] = { 0.10, -0.05, 0.02, 0 };
	double logr[4], pnl[4];
	fin_trade_report rep;
	fin_err err = { 0 };
	size_t t;
	(void)state;

	assert_int_equal(fin_trade_run(&o, pos, simple, 4, pnl, &rep, &err), FIN_OK);
	check_worked_example(&rep, pnl);
	/* The same periods given as log returns. */
	for (t = 0; t < 4; t++)
		logr[t] = log1p(simple[t]);
	o.log_returns = 1;
	assert_int_equal(fin_trade_run(&o, pos, logr, 4, pnl, &rep, &err), FIN_OK);
	check_worked_example(&rep, pnl);
	/* Without somewhere to put the returns, the same report. */
	assert_int_equal(fin_trade_run(&o, pos, logr, 4, NULL, &rep, &err), FIN_OK);
	assert_close(rep.total_return, 0.0200598191, 1e-14);
}

/* Buy-and-hold over the same periods, 252 a year, no costs: equity
 * 1.1 x 0.95 x 1.02 x 1 = 1.0659; annual 1.0659^63 - 1; every period
 * held, two of them gains (a zero return is no gain). */
static void test_buy_and_hold(void **state)
{
	fin_trade_opts o = { .periods_per_year = 252 };
	const double pos[] = { 1, 1, 1, 1 }, r[] = { 0.10, -0.05, 0.02, 0 };
	fin_trade_report rep;
	fin_err err = { 0 };
	(void)state;

	assert_int_equal(fin_trade_run(&o, pos, r, 4, NULL, &rep, &err), FIN_OK);
	assert_close(rep.total_return, 0.0659, 1e-14);
	assert_close(rep.annual_return, pow(1.0659, 63) - 1, 1e-9);
	assert_close(rep.hit_rate, 0.5, 1e-15);
	assert_close(rep.turnover, 0.25, 1e-15);
	assert_close(rep.max_drawdown, 0.05, 1e-14);
}

static void test_edges(void **state)
{
	fin_trade_opts o = { .periods_per_year = 252 };
	const double one[] = { 1 }, bust[] = { -1.5 }, flat[] = { 0, 0 }, zero[] = { 0.01, -0.01 };
	fin_trade_report rep;
	fin_err err = { 0 };
	(void)state;

	assert_int_equal(fin_trade_run(&o, one, one, 0, NULL, &rep, &err), FIN_ENOROWS);
	/* One period: no spread, so no volatility or Sharpe ratio. */
	assert_int_equal(fin_trade_run(&o, one, zero, 1, NULL, &rep, &err), FIN_OK);
	assert_true(isnan(rep.annual_vol) && isnan(rep.sharpe));
	/* Losing more than everything: equity -0.5, gone. */
	assert_int_equal(fin_trade_run(&o, one, bust, 1, NULL, &rep, &err), FIN_OK);
	assert_close(rep.total_return, -1.5, 1e-15);
	assert_true(rep.annual_return == -1 && rep.max_drawdown == 1);
	/* Never in the market: no hit rate, no spread. */
	assert_int_equal(fin_trade_run(&o, flat, zero, 2, NULL, &rep, &err), FIN_OK);
	assert_true(isnan(rep.hit_rate) && isnan(rep.sharpe));
	assert_true(rep.total_return == 0 && rep.turnover == 0);
	o.cost_bps = -1;
	assert_int_equal(fin_trade_run(&o, one, zero, 1, NULL, &rep, &err), FIN_EUSAGE);
	o.cost_bps = 0;
	o.periods_per_year = 0;
	assert_int_equal(fin_trade_run(&o, one, zero, 1, NULL, &rep, &err), FIN_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_buy_and_hold),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
