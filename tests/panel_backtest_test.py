#!/usr/bin/env python3
"""fin-backtest on panels (fin-backtest(1), PANELS): folds cut between
dates across all assets, and portfolios of the top (and bottom) K
predictions rebalanced each date.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/panel_backtest_test.py`.

The portfolio's figures are recomputed here from fin-backtest's own output
rows (date, asset, return, prediction) with the rules of fin-backtest(1)
written out in Python: weights, each row's return after its trades' costs,
each date's return with the costs of selling what is no longer held, the
report's figures, and the equal-weight benchmark; compared to 1e-12.
"""
import json
import math
import os
import subprocess
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, read_csv, write_csv
from panel_window_test import panel_rows

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")
EXIT_USAGE = 2
RTOL = 1e-12

TMP = None
WINDOWS = None


def run(argv):
    return subprocess.run(argv, capture_output=True, timeout=600)


def setUpModule():
    global TMP, WINDOWS
    TMP = tempfile.TemporaryDirectory(prefix="fin-panel-backtest-")
    # Delistings and listings: assets come and go between dates.
    raw = os.path.join(TMP.name, "panel.csv")
    write_csv(raw, panel_rows(tickers=9, days=220, seed=41))
    WINDOWS = os.path.join(TMP.name, "windows.csv")
    result = run([FIN_WINDOW, "-q", "-k", "date", "--by", "ticker", "-c", "close", "--size", "5",
                  "--transform", "logret", "-o", WINDOWS, raw])
    assert result.returncode == 0, result.stderr.decode()


def tearDownModule():
    TMP.cleanup()


def backtest(*args, windows=None):
    out = os.path.join(TMP.name, "out.csv")
    report = os.path.join(TMP.name, "report.json")
    trade = ["--report", report] if "--trade" in args else []
    result = run([FIN_BACKTEST, "-q", "--asset", "ticker", "-k", "date,ticker",
                  "--train-size", "50", "--test-size", "40", *args, *trade, "-o", out,
                  windows or WINDOWS, "--", FIN_TRAIN, "--model", "mlp", "--epochs", "3"])
    assert result.returncode == 0, result.stderr.decode()
    header, rows = read_csv(out)
    rep = None
    if trade:
        with open(report, encoding="utf-8") as f:
            rep = json.load(f)
    return header, rows, rep


def figures(returns, turns, held, cost, periods):
    """fin_trade_periods, written out."""
    equity, peak, worst = 1.0, 1.0, 0.0
    net = []
    for g, u in zip(returns, turns):
        s = g - cost * u
        net.append(s)
        equity *= 1 + s
        peak = max(peak, equity)
        worst = max(worst, 1 - equity / peak if equity > 0 else 1)
    n = len(net)
    mean = sum(net) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in net) / (n - 1))
    won = [g > 0 for g, h in zip(returns, held) if h]
    return {"total_return": equity - 1,
            "annual_return": equity ** (periods / n) - 1,
            "annual_vol": sd * math.sqrt(periods),
            "sharpe": mean / sd * math.sqrt(periods) if sd > 0 else None,
            "max_drawdown": worst,
            "hit_rate": sum(won) / len(won) if won else None,
            "turnover": sum(turns) / n, "costs": sum(cost * u for u in turns), "n": n}


def recompute(rows, k, long_short, score, cost_bps):
    """Weights, row returns and the report from the output rows."""
    cost = cost_bps / 10000
    dates = []
    for r in rows:
        if not dates or dates[-1][0] != r[0]:
            dates.append((r[0], []))
        dates[-1][1].append(r)
    last, weights, pnls = {}, [], []
    gross, turns, held, bench = [], [], [], []
    for _, group in dates:
        order = sorted(range(len(group)), key=lambda i: (-float(group[i][3]), i))
        m = len(order)
        kk = min(k, m // 2 if long_short else m)
        w = [0.0] * m
        for side, chosen in ((1, order[:kk]), (-1, order[m - kk:] if long_short else [])):
            total = sum(abs(float(group[i][3])) for i in chosen)
            for i in chosen:
                w[i] = side * (abs(float(group[i][3])) / total if score and total > 0
                               else 1 / len(chosen))
        now, g, u = {}, 0.0, 0.0
        for i, r in enumerate(group):
            ret = math.expm1(float(r[2]))
            change = abs(w[i] - last.get(r[1], 0.0))
            weights.append(w[i])
            pnls.append(w[i] * ret - cost * change)
            g += w[i] * ret
            u += change
            now[r[1]] = w[i]
        u += sum(abs(v) for a, v in last.items() if a not in now)
        last = {a: v for a, v in now.items() if v != 0}
        gross.append(g)
        turns.append(u)
        held.append(kk > 0)
        bench.append(sum(math.expm1(float(r[2])) for r in group) / m)
    return (weights, pnls, figures(gross, turns, held, cost, 252),
            figures(bench, [0.0] * len(bench), [True] * len(bench), cost, 252))


class PortfolioTest(unittest.TestCase):
    def check(self, k, long_short, score, cost):
        args = ["--trade", "--portfolio", f"top:{k}", "--cost", str(cost)]
        args += ["--long-short"] if long_short else []
        args += ["--weights", "score"] if score else []
        header, rows, rep = backtest(*args)
        self.assertEqual(header, ["date", "ticker", "y", "prediction", "position", "pnl", "fold"])
        weights, pnls, strategy, bench = recompute(rows, k, long_short, score, cost)
        for r, w, p in zip(rows, weights, pnls):
            self.assertTrue(math.isclose(float(r[4]), w, rel_tol=RTOL, abs_tol=1e-15), (r, w))
            self.assertTrue(math.isclose(float(r[5]), p, rel_tol=RTOL, abs_tol=1e-15), (r, p))
        for name, want in strategy.items():
            got = rep["strategy"][name]
            if want is None:
                self.assertIsNone(got, name)
            else:
                self.assertTrue(math.isclose(got, want, rel_tol=RTOL, abs_tol=1e-15),
                                (name, got, want))
        for name, want in bench.items():
            got = rep["equal_weight"][name]
            self.assertTrue(want is None and got is None or
                            math.isclose(got, want, rel_tol=RTOL, abs_tol=1e-15),
                            (name, got, want))
        self.assertEqual((rep["top"], rep["long_short"], rep["weights"]),
                         (k, long_short, "score" if score else "equal"))
        return rows

    def test_top_k(self):
        rows = self.check(3, False, False, 10)
        self.assertTrue(all(float(r[4]) >= 0 for r in rows))

    def test_long_short(self):
        rows = self.check(2, True, False, 5)
        # Each date's weights sum to 0: as much short as long.
        by_date = {}
        for r in rows:
            by_date[r[0]] = by_date.get(r[0], 0.0) + float(r[4])
        self.assertTrue(all(abs(v) < 1e-12 for v in by_date.values()))

    def test_score_weights(self):
        self.check(4, True, True, 0)


class FoldTest(unittest.TestCase):
    def test_folds_cut_between_dates(self):
        header, rows, _ = backtest()
        fold_dates = {}
        for r in rows:
            fold_dates.setdefault(int(r[-1]), set()).add(r[0])
        folds = sorted(fold_dates)
        for a, b in zip(folds, folds[1:]):
            self.assertLess(max(fold_dates[a]), min(fold_dates[b]))
        # Every window of every asset whose date is tested is there.
        _, windows = read_csv(WINDOWS)
        tested = set().union(*fold_dates.values())
        self.assertEqual(sorted((r[0], r[1]) for r in rows),
                         sorted((w[0], w[1]) for w in windows if w[0] in tested))

    def test_no_leak_across_assets(self):
        """Altering one asset's rows of the last fold (its future) changes
        no prediction of an earlier fold, for any asset."""
        header, rows, _ = backtest()
        last = max(int(r[-1]) for r in rows)
        start = min(r[0] for r in rows if int(r[-1]) == last)
        h, windows = read_csv(WINDOWS)
        changed = [list(w) for w in windows]
        n = 0
        for w in changed:
            if w[1] == "T03" and w[0] >= start:
                w[2:] = [repr(float(v) * -3 + 0.01) for v in w[2:]]
                n += 1
        self.assertGreater(n, 10)
        path = os.path.join(TMP.name, "future.csv")
        write_csv(path, [h, *changed])
        _, again, _ = backtest(windows=path)
        early = [r for r in rows if int(r[-1]) < last]
        self.assertEqual([r for r in again if int(r[-1]) < last], early)
        self.assertGreater(len({r[1] for r in early}), 5)


class UsageTest(FinCase):
    def test_usage(self):
        common = ["--train-size", "50", "--test-size", "40"]
        cmd = ["--", FIN_TRAIN]
        for args, words in (
                (["--trade", "--portfolio", "top:2", "-k", "date,ticker"], "give --asset"),
                (["--asset", "ticker", "--trade", "-k", "date"], "needs --portfolio"),
                (["--asset", "ticker", "--trade", "--portfolio", "top:2"], "needs -k"),
                (["--asset", "ticker", "-k", "date", "--trade", "--portfolio", "top:2",
                  "--sizing", "scaled"], "sizes one asset"),
                (["--asset", "ticker", "-k", "date", "--trade", "--portfolio", "best:2"],
                 "expected top:K"),
                (["--asset", "date", "-k", "date"], "is the time")):
            with self.subTest(args=args):
                self.assertIn(words, self.run_fails(EXIT_USAGE, FIN_BACKTEST, "-q", *common,
                                                    *args, WINDOWS, *cmd))


if __name__ == "__main__":
    unittest.main()
