#!/usr/bin/env python3
"""fin-eval --task signal (fin-eval(1), SIGNAL): information coefficients,
quantile returns and the top-minus-bottom spread of a panel's predictions,
per date, beside momentum and no signal.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/signal_eval_test.py`.

Expected values come from tests/fixtures/signal_fixture.json, computed
with pandas per date by tests/fixtures/make_signal_fixture.py (see its
docstring), and compared to 1e-12 relative: each is a mean or ratio of
a few dozen double sums. A second panel plants a signal of known strength
and checks that the IC recovers it within its sampling error.
"""
import json
import math
import os
import subprocess
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, ROOT, FinCase, write_csv

FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "signal_fixture.json")
EXIT_DATA, EXIT_USAGE = 1, 2
RTOL = 1e-12

TMP = None


def run(args):
    return subprocess.run([FIN_EVAL, *args], capture_output=True, timeout=300)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-signal-test-")


def tearDownModule():
    TMP.cleanup()


class FixtureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(FIXTURE, encoding="utf-8") as f:
            cls.fx = json.load(f)
        p = cls.fx["panel"]
        cls.path = os.path.join(TMP.name, "panel.csv")
        write_csv(cls.path, [["date", "asset", "prediction", "y", "close_0"],
                             *[[d, a, repr(x), repr(y), repr(c)] for d, a, x, y, c in
                               zip(p["date"], p["asset"], p["prediction"], p["y"],
                                   p["close_0"])]])

    def close(self, got, want, what):
        if isinstance(want, float) and math.isnan(want):
            self.assertIsNone(got, what)
            return
        self.assertTrue(abs(got - want) <= RTOL * max(abs(want), 1e-3), f"{what}: {got} {want}")

    def check(self, got, want, what):
        for key in ("ic", "rank_ic", "top_minus_bottom"):
            for name, value in want[key].items():
                if name == "dates":
                    self.assertEqual(got[key][name], value, f"{what} {key}.dates")
                else:
                    self.close(got[key][name], value, f"{what} {key}.{name}")
        for q, value in enumerate(want["quantile_returns"], start=1):
            self.close(got["quantile_returns"][str(q)], value, f"{what} quantile {q}")

    def test_against_pandas(self):
        result = run(["-q", "--task", "signal", "--quantiles", str(self.fx["quantiles"]),
                      self.path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        got = json.loads(result.stdout)
        want = self.fx["prediction"]
        self.check(got, want, "prediction")
        self.close(got["market"], want["market"], "market")
        self.assertEqual(got["dates"], len(set(self.fx["panel"]["date"])))
        self.assertEqual(got["dates_skipped"], want["dates_skipped"])
        self.assertEqual(got["n"], len(self.fx["panel"]["date"]))
        # close_0 is found as the naive signal, the last window's return.
        self.assertEqual(got["momentum"]["column"], "close_0")
        self.check(got["momentum"], self.fx["momentum"], "momentum")
        self.assertEqual(got["zero"], {"ic": 0, "rank_ic": 0, "top_minus_bottom": 0})

    def test_table_and_no_momentum(self):
        result = run(["--task", "signal", "--momentum", "none", "--format", "table",
                      self.path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        lines = result.stdout.decode().splitlines()
        self.assertTrue(any(line.startswith("rank_ic.mean ") for line in lines))
        self.assertFalse(any(line.startswith("momentum.") for line in lines))
        self.assertIn("no momentum signal", result.stderr.decode())


class PlantedTest(unittest.TestCase):
    def test_ic_recovered(self):
        """prediction = signal + noise, return = b signal + noise: a true
        correlation rho; the mean IC over 400 dates of 60 assets lies within
        4 standard errors of it (the sd of the daily ICs over sqrt(400))."""
        rng = np.random.default_rng(3)
        b, s_ret = 0.05, 0.2
        rho = b / (math.sqrt(2) * math.sqrt(b * b + s_ret * s_ret))
        rows = [["date", "asset", "prediction", "y"]]
        for d in range(400):
            sig = rng.normal(size=60)
            pred = sig + rng.normal(size=60)
            ret = b * sig + s_ret * rng.normal(size=60)
            rows += [[f"d{d:04d}", f"A{a}", repr(float(pred[a])), repr(float(ret[a]))]
                     for a in range(60)]
        path = os.path.join(TMP.name, "planted.csv")
        write_csv(path, rows)
        result = run(["-q", "--task", "signal", path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        got = json.loads(result.stdout)
        ic = got["ic"]
        self.assertLess(abs(ic["mean"] - rho), 4 * ic["sd"] / math.sqrt(ic["dates"]),
                        (ic, rho))
        self.assertGreater(ic["t"], 10)
        q = [got["quantile_returns"][str(k)] for k in range(1, 6)]
        self.assertEqual(q, sorted(q))  # returns rise with the prediction
        self.assertGreater(got["top_minus_bottom"]["mean"], 0)


class ErrorTest(FinCase):
    def test_two_rows_one_asset_one_date(self):
        path = os.path.join(TMP.name, "dup.csv")
        write_csv(path, [["date", "asset", "prediction", "y"],
                         ["d1", "A", "1", "2"], ["d1", "B", "2", "1"], ["d1", "A", "3", "3"]])
        self.assertIn("'A' has two rows on date 'd1'",
                      self.run_fails(EXIT_DATA, FIN_EVAL, "-q", "--task", "signal", path))

    def test_usage(self):
        path = os.path.join(TMP.name, "u.csv")
        write_csv(path, [["date", "asset", "prediction", "y"], ["d1", "A", "1", "2"]])
        for args, words in ((["--date", "date"], "does not go with --task regression"),
                            (["--task", "signal", "--asset", "nope"], "nope"),
                            (["--task", "signal", "--quantiles", "1"], "--quantiles")):
            with self.subTest(args=args):
                self.assertIn(words, self.run_fails(EXIT_USAGE, FIN_EVAL, "-q", *args, path))


if __name__ == "__main__":
    unittest.main()
