#!/usr/bin/env python3
"""fin-window on panels (fin-window(1), PANELS): --by COL windows the rows
of each group of a long table alone, --assets LIST each column of a wide
table.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/panel_window_test.py`.

The reference is pandas: a groupby over the ticker, each group's log
returns (numpy's log of the ratio of consecutive closes, as fin-window's
transform), and its windows taken with numpy from the group's rows alone,
with fin-window's rules written out here: a window ends at every row from
the first that has `size` transformed values (every `stride`-th of them),
its target is the transformed value `horizon` rows later (or their sum),
and a window or target touching a missing value is left out. Values are
compared to 1e-14 relative (numpy's and glibc's log may differ in the last
bit); keys, order and counts exactly.
"""
import json
import os
import random
import subprocess
import tempfile
import unittest

import numpy as np
import pandas as pd

from fincli import BIN_DIR, FinCase, parse_csv, write_csv

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
GNU_TIME = "/usr/bin/time"  # Debian's time, which make deps installs
EXIT_DATA, EXIT_USAGE = 1, 2
RTOL = 1e-14

TMP = None


def run(args, stdin=None):
    return subprocess.run([FIN_WINDOW, *args], input=stdin, capture_output=True, timeout=300)


def panel_rows(tickers=12, days=160, seed=5, missing=()):
    """A long table date,ticker,close,volume interleaved by date; tickers
    start and stop on different days (listings and delistings), each at
    its own price level; `missing` lists (ticker, day) whose close is
    empty."""
    rnd = random.Random(seed)
    start = pd.Timestamp("2020-01-01")
    life = {f"T{i:02d}": (rnd.randrange(0, 30), days - rnd.randrange(0, 30))
            for i in range(tickers)}
    price = {t: 10.0 * (i + 1) for i, t in enumerate(life)}
    rows = [["date", "ticker", "close", "volume"]]
    for d in range(days):
        date = (start + pd.Timedelta(days=d)).strftime("%Y-%m-%d")
        names = list(life)
        rnd.shuffle(names)  # no order among the tickers of a day
        for t in names:
            lo, hi = life[t]
            if not lo <= d < hi:
                continue
            price[t] *= float(np.exp(rnd.gauss(0.0005, 0.02)))
            close = "" if (t, d) in missing else f"{price[t]:.4f}"
            rows.append([date, t, close, str(rnd.randrange(100, 10000))])
    return rows


def reference(rows, cols, size, horizon=1, stride=1, target="next"):
    """Each group's windows of the log returns of cols, as pandas and numpy
    give them: {(date, ticker): (values, y)} and the order in which the
    rows completing them come."""
    df = pd.DataFrame(rows[1:], columns=rows[0])
    df["pos"] = np.arange(len(df))
    for c in cols:
        df[c] = pd.to_numeric(df[c].replace("", np.nan))
    out, order = {}, []
    for ticker, g in df.groupby("ticker", sort=False):
        z = np.column_stack([np.log(g[c].to_numpy() / g[c].shift(1).to_numpy())
                             for c in cols])
        first_end = size  # a log return needs the row before
        for t in range(first_end, len(g) - horizon):
            if (t - first_end) % stride:
                continue
            span = z[t - size + 1:t + horizon + 1]
            if np.isnan(span).any():
                continue
            values = np.concatenate([z[t - size + 1:t + 1, k] for k in range(len(cols))])
            if target == "next":
                y = z[t + horizon, 0]
            else:
                y = z[t + 1:t + horizon + 1, 0].sum()
            key = (g["date"].iloc[t], ticker)
            out[key] = (values, y)
            order.append((g["pos"].iloc[t + horizon], key))
    return out, [k for _, k in sorted(order)]


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-panel-test-")


def tearDownModule():
    TMP.cleanup()


class ByTest(FinCase):
    def windows(self, rows, *args):
        path = os.path.join(TMP.name, "panel.csv")
        write_csv(path, rows)
        result = run(["-q", "-k", "date", "--by", "ticker", *args, path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return parse_csv(result.stdout)

    def check(self, rows, cols, size, horizon=1, stride=1, target="next", na="error"):
        args = ["-c", ",".join(cols), "--size", str(size), "--transform", "logret",
                "--horizon", str(horizon), "--stride", str(stride), "--target", target,
                "--na", na]
        header, got = self.windows(rows, *args)
        want, order = reference(rows, cols, size, horizon, stride, target)
        names = [f"{c}_{lag}" for c in cols for lag in range(size - 1, -1, -1)]
        self.assertEqual(header, ["date", "ticker", *names, "y"])
        # Every window of every group, and no other: none crosses groups.
        self.assertEqual([(r[0], r[1]) for r in got], order)
        for r in got:
            values, y = want[(r[0], r[1])]
            np.testing.assert_allclose([float(v) for v in r[2:-1]], values, rtol=RTOL)
            np.testing.assert_allclose(float(r[-1]), y, rtol=RTOL)
        return got

    def test_groupby(self):
        got = self.check(panel_rows(), ["close"], 10)
        self.assertGreater(len(got), 1000)
        self.assertEqual(len({r[1] for r in got}), 12)

    def test_channels_horizon_stride(self):
        self.check(panel_rows(seed=7), ["close", "volume"], 5, horizon=3, stride=2,
                   target="sum")

    def test_gaps_stay_in_their_group(self):
        # A missing close breaks its own ticker's windows only.
        rows = panel_rows(seed=9, missing={("T03", 50), ("T07", 51), ("T07", 90)})
        self.check(rows, ["close"], 8, na="skip")

    def test_ffill_within_the_group(self):
        # --na ffill fills from the ticker's own last close, never from the
        # row before it in the file (another ticker's).
        rows = panel_rows(tickers=3, days=40, seed=3, missing={("T01", 20)})
        header, got = self.windows(rows, "-c", "close", "--size", "1", "--na", "ffill",
                                   "--transform", "level")
        df = pd.DataFrame(rows[1:], columns=rows[0])
        df["close"] = pd.to_numeric(df["close"].replace("", np.nan))
        df["filled"] = df.groupby("ticker")["close"].ffill()
        want = {(d, t): v for d, t, v in zip(df["date"], df["ticker"], df["filled"])}
        gap = df.loc[df["close"].isna(), ["date", "ticker"]].to_records(index=False).tolist()
        self.assertEqual(len(gap), 1)
        self.assertIn(gap[0], [(r[0], r[1]) for r in got])
        for r in got:
            self.assertAlmostEqual(float(r[2]), want[(r[0], r[1])], places=9)

    def test_order_violation_named(self):
        rows = panel_rows(tickers=4, days=30, seed=2)
        # T02's third row moved before its second: its dates go back.
        at = [i for i, r in enumerate(rows) if r[1] == "T02"]
        rows[at[1]], rows[at[2]] = rows[at[2]], rows[at[1]]
        rows[at[1]][0], rows[at[2]][0] = rows[at[2]][0], rows[at[1]][0]
        rows[at[2]][0] = rows[at[0]][0]
        path = os.path.join(TMP.name, "back.csv")
        write_csv(path, rows)
        result = run(["-q", "-k", "date", "--by", "ticker", "-c", "close", "--size", "2", path])
        self.assertEqual(result.returncode, EXIT_DATA)
        message = result.stderr.decode()
        self.assertIn(f"back.csv:{at[2] + 1}: column 'date' of group 'T02'", message)

    def test_missing_group(self):
        rows = panel_rows(tickers=2, days=60)
        rows[5][1] = "NA"
        result = run(["-q", "-k", "date", "--by", "ticker", "-c", "close", "--size", "2"],
                     stdin="\n".join(",".join(r) for r in rows).encode() + b"\n")
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertIn("<stdin>:6: column 'ticker': missing value", result.stderr.decode())

    def test_usage(self):
        path = os.path.join(TMP.name, "u.csv")
        write_csv(path, panel_rows(tickers=2, days=60))
        for args, words in ((["-k", "date", "--by", "date"], "is the time key"),
                            (["-k", "date", "--by", "ticker", "-c", "ticker,close"],
                             "names the series"),
                            (["--by", "ticker", "--assets", "close"], "cannot go together"),
                            (["--by", "nope"], "nope")):
            with self.subTest(args=args):
                self.assertIn(words, self.run_fails(EXIT_USAGE, FIN_WINDOW, "-q", *args, path))

    def test_memory_grows_with_groups_not_rows(self):
        """Peak memory of 20 groups over 10,000 and 200,000 rows, each
        fin-window's own (GNU time's %M): the same within 2 MiB, where
        holding the rows would take 6 MB more (each group holds its window,
        not its rows)."""
        peaks = []
        for days in (500, 10000):
            path = os.path.join(TMP.name, f"big{days}.csv")
            rnd = random.Random(days)
            with open(path, "w", encoding="utf-8") as f:
                f.write("t,ticker,close\n")
                for d in range(days):
                    for k in range(20):
                        f.write(f"{d},G{k},{100 + rnd.random():.4f}\n")
            rss = os.path.join(TMP.name, "maxrss")
            code = subprocess.run([GNU_TIME, "-f", "%M", "-o", rss, FIN_WINDOW, "-q", "-k", "t",
                                   "--by", "ticker", "-c", "close", "--size", "20",
                                   "--transform", "logret", "-o", os.devnull, path],
                                  timeout=300).returncode
            self.assertEqual(code, 0)
            with open(rss, encoding="utf-8") as f:
                peaks.append(int(f.read().split()[-1]))
        self.assertGreater(peaks[0], 500, peaks)
        self.assertLess(peaks[1] - peaks[0], 2048, peaks)


class CrossSectionTest(FinCase):
    """--cross-section against pandas on fin-window's own plain windows:
    per date, rank(pct=True) of every column (ties averaged), or its
    z-score with the sample sd, 0 where the assets of a date do not differ
    or there is one."""

    def test_against_pandas(self):
        rows = panel_rows(seed=13, missing={("T04", 60), ("T09", 61)})
        path = os.path.join(TMP.name, "cs.csv")
        write_csv(path, rows)
        args = ["-q", "-k", "date", "--by", "ticker", "-c", "close,volume", "--size", "5",
                "--transform", "logret", "--na", "skip", "--horizon", "2", "--target", "sum"]
        plain = run([*args, path])
        self.assertEqual(plain.returncode, 0, plain.stderr.decode())
        header, prow = parse_csv(plain.stdout)
        cols = header[2:]
        ref = pd.DataFrame(prow, columns=header)
        ref[cols] = ref[cols].astype(float)
        by_date = ref.groupby("date")[cols]
        want = {"rank": by_date.rank(pct=True)}
        mean, sd = by_date.transform("mean"), by_date.transform("std")
        z = (ref[cols] - mean) / sd
        want["zscore"] = z.where(sd > 0, 0.0).fillna(0.0)
        self.assertGreater(int((ref.groupby("date").size() == 1).sum()), 0)
        for how, frame in want.items():
            with self.subTest(how=how):
                result = run([*args, "--cross-section", how, path])
                self.assertEqual(result.returncode, 0, result.stderr.decode())
                h, got = parse_csv(result.stdout)
                self.assertEqual(h, header)
                dates = [r[0] for r in got]
                self.assertEqual(dates, sorted(dates))
                expect = {(d, t): frame.loc[i].to_numpy()
                          for i, (d, t) in enumerate(zip(ref["date"], ref["ticker"]))}
                self.assertEqual(sorted((r[0], r[1]) for r in got), sorted(expect))
                for r in got:
                    np.testing.assert_allclose([float(v) for v in r[2:]], expect[(r[0], r[1])],
                                               rtol=1e-12, atol=1e-12)

    def test_dates_out_of_order(self):
        rows = panel_rows(tickers=3, days=40, seed=4)
        # T00's rows in order, but the whole file not: one row moved later.
        moved = rows.pop(3)
        rows.insert(20, moved)
        rows = [rows[0]] + [r for r in rows[1:] if r[1] != moved[1] or r is moved]
        path = os.path.join(TMP.name, "cs-order.csv")
        write_csv(path, rows)
        result = run(["-q", "-k", "date", "--by", "ticker", "-c", "close", "--size", "2",
                      "--cross-section", "rank", path])
        self.assertEqual(result.returncode, EXIT_DATA, result.stderr.decode())
        self.assertIn("column 'date'", result.stderr.decode())

    def test_usage(self):
        path = os.path.join(TMP.name, "csu.csv")
        write_csv(path, panel_rows(tickers=2, days=60))
        for args, words in ((["-k", "date", "-c", "close"], "give --by or --assets"),
                            (["-k", "date", "--by", "ticker", "-c", "close", "--target",
                              "direction"], "no scale"),
                            (["-k", "date", "--by", "ticker", "-c", "close", "--unsorted"],
                             "dates in order"),
                            (["--by", "ticker", "-c", "close", "-k", "ticker"], "time")):
            with self.subTest(args=args):
                self.assertIn(words, self.run_fails(EXIT_USAGE, FIN_WINDOW, "-q",
                                                    "--cross-section", "rank", *args, path))


class TrainSplitTest(unittest.TestCase):
    """fin-train's validation tail on panel windows starts at a date: no
    validation date lies before, or on, a training date for any asset."""

    def test_split_by_date(self):
        rows = panel_rows(tickers=7, days=120, seed=21)
        path = os.path.join(TMP.name, "split.csv")
        write_csv(path, rows)
        result = run(["-q", "-k", "date", "--by", "ticker", "-c", "close", "--size", "5",
                      "--transform", "logret", path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        header, windows = parse_csv(result.stdout)
        wpath = os.path.join(TMP.name, "split-windows.csv")
        write_csv(wpath, [header, *windows])
        for val in ("0.2", "0.25", "0.33"):
            with self.subTest(val=val):
                model = os.path.join(TMP.name, "split.json")
                r = subprocess.run([FIN_TRAIN, "-q", "-k", "date,ticker", "--model", "mlp",
                                    "--epochs", "1", "--val", val, "-o", model, wpath],
                                   capture_output=True, timeout=300)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                with open(model, encoding="utf-8") as f:
                    training = json.load(f)["training"]
                n = training["rows_train"]
                self.assertEqual(n + training["rows_val"], len(windows))
                self.assertLess(windows[n - 1][0], windows[n][0])
                # The tail is no shorter than asked, and within one date of it.
                nominal = len(windows) - int(len(windows) * float(val))
                self.assertLessEqual(n, nominal)
                self.assertEqual(windows[n][0], windows[nominal][0])

    def test_one_date(self):
        path = os.path.join(TMP.name, "one-date.csv")
        write_csv(path, [["date", "ticker", "x", "y"],
                         *[["2024-01-02", f"T{i}", str(i), str(i % 2)] for i in range(10)]])
        r = subprocess.run([FIN_TRAIN, "-q", "-k", "date,ticker", "--model", "mlp", "--epochs",
                            "1", "-o", os.path.join(TMP.name, "one.json"), path],
                           capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 4, r.stderr.decode())
        self.assertIn("the date the split falls in", r.stderr.decode())


class AssetsTest(FinCase):
    def test_wide_equals_long(self):
        """--assets on a wide table writes what --by writes on the same
        prices in long form (asset, value), byte for byte."""
        rows = panel_rows(tickers=5, days=120, seed=11)
        df = pd.DataFrame(rows[1:], columns=rows[0])
        wide = df.pivot(index="date", columns="ticker", values="close").reset_index()
        # Every asset must trade every day for a wide table without gaps.
        wide = wide.dropna()
        assets = [c for c in wide.columns if c != "date"]
        wide_path = os.path.join(TMP.name, "wide.csv")
        wide.to_csv(wide_path, index=False)
        long = wide.melt(id_vars="date", var_name="asset", value_name="value")
        long["order"] = long["asset"].map({a: i for i, a in enumerate(assets)})
        long = long.sort_values(["date", "order"], kind="stable").drop(columns="order")
        long_path = os.path.join(TMP.name, "long.csv")
        long.to_csv(long_path, index=False)
        common = ["-q", "-k", "date", "--size", "7", "--transform", "logret"]
        a = run([*common, "--assets", ",".join(assets), wide_path])
        b = run([*common, "--by", "asset", "-c", "value", long_path])
        self.assertEqual(a.returncode, 0, a.stderr.decode())
        self.assertEqual(b.returncode, 0, b.stderr.decode())
        self.assertEqual(a.stdout, b.stdout)
        # And on a common scale across the assets of each date.
        a = run([*common, "--cross-section", "zscore", "--assets", ",".join(assets), wide_path])
        b = run([*common, "--cross-section", "zscore", "--by", "asset", "-c", "value",
                 long_path])
        self.assertEqual(a.returncode, 0, a.stderr.decode())
        self.assertEqual(a.stdout, b.stdout)
        header, got = parse_csv(a.stdout)
        self.assertEqual(header[:2], ["date", "asset"])
        self.assertEqual({r[1] for r in got}, set(assets))

    def test_usage(self):
        path = os.path.join(TMP.name, "w.csv")
        write_csv(path, [["date", "A", "B"], ["2024-01-01", "1", "2"]])
        for args, words in ((["--assets", "A", "-c", "B"], "leave out -c"),
                            (["--assets", "A,B", "--target-column", "B"], "its own column")):
            with self.subTest(args=args):
                self.assertIn(words, self.run_fails(EXIT_USAGE, FIN_WINDOW, "-q", *args, path))


if __name__ == "__main__":
    unittest.main()
