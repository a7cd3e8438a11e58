#!/usr/bin/env python3
"""The examples in examples/.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/examples_test.py`. About 10 s on
one core.

examples/Makefile: its small experiment (SMALL=1), run by make -j2 into a
temporary directory, prints a leaderboard with one row per data set and
model. Each row's figures are recomputed here from that model's
out-of-sample file by their definitions in fin-eval(1) and fin-backtest(1)
(RMSE, MASE, Theil's U, the Diebold-Mariano statistic, the Sharpe ratios of
the traded forecasts and of buy-and-hold, ROC-AUC and log-loss, and the
base rate's log-loss), and each equals what fin-eval writes for that file;
the out-of-sample rows are the ones the fold settings leave after the
training rows; a second run remakes nothing.

examples/nightly-scoring.sh: on the German credit applicants, with the
alert and failure commands replaced by a stub that records its calls, a day
of typical applicants exits 0 and calls nothing, a day with planted
outliers exits 5 and sends the alert naming them, and a broken day file,
an empty one, an unusable detector and a held lock each exit with their
status and send the failure message, leaving the previous scores whole.
"""
import csv
import fcntl
import json
import math
import os
import subprocess
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, write_csv

EXAMPLES = os.path.join(ROOT, "examples")
NIGHTLY = os.path.join(EXAMPLES, "nightly-scoring.sh")
DATA = os.path.join(ROOT, "data")

COLUMNS = ["data", "model", "n", "rmse", "rmse_zero", "theil_u", "mase", "dm", "dm_p",
           "sharpe", "sharpe_hold", "roc_auc", "log_loss", "log_loss_base"]
FORECAST_COLUMNS = COLUMNS[3:11]
CLASSIFIER_COLUMNS = COLUMNS[11:]
FORECASTERS = ["linear", "mlp", "cnn", "gru"]
CLASSIFIERS = ["logistic", "mlp"]
# The small experiment's settings, as examples/Makefile sets them for SMALL=1,
# and the trading settings of both series.
WINDOW = 20
TRAIN_ROWS = {"dax": 1000, "sp500": 7035}
PERIODS_PER_YEAR = {"dax": 260, "sp500": 268}
COST = 5 / 10000
CREDIT_TRAIN_ROWS = 700
REL = 1e-9


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return rows


def data_rows(name):
    with open(os.path.join(DATA, name), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def sample_sharpe(returns, periods):
    n = len(returns)
    mean = math.fsum(returns) / n
    sd = math.sqrt(math.fsum((r - mean) ** 2 for r in returns) / (n - 1))
    return mean / sd * math.sqrt(periods)


def traded(actuals, positions):
    """A strategy's returns by fin-backtest(1): the position times the simple
    return of the log return, less the cost of each change of position."""
    returns, held = [], 0.0
    for a, p in zip(actuals, positions):
        returns.append(p * math.expm1(a) - COST * abs(p - held))
        held = p
    return returns


def forecast_figures(rows, periods):
    a = [float(r["y"]) for r in rows]
    p = [float(r["prediction"]) for r in rows]
    n = len(a)
    rmse = math.sqrt(math.fsum((pi - ai) ** 2 for pi, ai in zip(p, a)) / n)
    rmse_zero = math.sqrt(math.fsum(ai * ai for ai in a) / n)
    # Diebold-Mariano at horizon 1, squared loss, HLN-corrected: the variance
    # of the loss differences has no autocovariance terms.
    d = [(ai - pi) ** 2 - ai ** 2 for pi, ai in zip(p, a)]
    dbar = math.fsum(d) / n
    gamma0 = math.fsum((di - dbar) ** 2 for di in d) / n
    dm = dbar / math.sqrt(gamma0 / n) * math.sqrt((n - 1) / n)
    signs = [(pi > 0) - (pi < 0) for pi in p]
    return {
        "n": n, "rmse": rmse, "rmse_zero": rmse_zero, "theil_u": rmse / rmse_zero,
        "mase": math.fsum(abs(pi - ai) for pi, ai in zip(p, a)) / math.fsum(abs(ai) for ai in a),
        "dm": dm,
        "sharpe": sample_sharpe(traded(a, signs), periods),
        "sharpe_hold": sample_sharpe(traded(a, [1] * n), periods),
    }


def classifier_figures(rows):
    y = [r["Class"] == "Bad" for r in rows]
    p = [float(r["p_Bad"]) for r in rows]
    n = len(y)
    pos = [pi for pi, yi in zip(p, y) if yi]
    neg = [pi for pi, yi in zip(p, y) if not yi]
    wins = sum((pp > pn) + 0.5 * (pp == pn) for pp in pos for pn in neg)
    clipped = [min(max(pi, 1e-15), 1 - 1e-15) for pi in p]
    q = len(pos) / n
    return {
        "n": n, "roc_auc": wins / (len(pos) * len(neg)),
        "log_loss": -math.fsum(math.log(pi) if yi else math.log(1 - pi)
                               for pi, yi in zip(clipped, y)) / n,
        "log_loss_base": -(q * math.log(q) + (1 - q) * math.log(1 - q)),
    }


def clean_env(**settings):
    """The environment without the variables make and the script read, plus
    settings: the test's make -j2 is not a parent make's job."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "HISTORY",
                        "DETECTOR", "DAY_FILE", "SCORES", "METHOD", "CONTAMINATION",
                        "FEATURES", "KEYS", "LOCK_FILE"}}
    env.update(settings)
    return env


def make_small(out):
    return subprocess.run(["make", "-j2", "-C", EXAMPLES, "--no-print-directory", "SMALL=1",
                           f"FIN={BIN_DIR}", f"OUT={out}"],
                          capture_output=True, text=True, timeout=300, env=clean_env())


class SmallExperiment(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fin-examples-test-")
        cls.out = os.path.join(cls.tmp.name, "out")
        cls.first = make_small(cls.out)
        cls.second = make_small(cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.assertEqual(self.first.returncode, 0, self.first.stderr)
        self.board = read_rows(os.path.join(self.out, "leaderboard.csv"))

    def path(self, name):
        return os.path.join(self.out, name)

    def close(self, got, want, what):
        self.assertLessEqual(abs(got - want), REL * abs(want), (what, got, want))

    def test_one_row_per_data_set_and_model_sorted_by_loss(self):
        with open(self.path("leaderboard.csv"), encoding="utf-8") as f:
            self.assertEqual(f.readline().rstrip("\n").split(","), COLUMNS)
        names = [(r["data"], r["model"]) for r in self.board]
        want = ([("credit", m) for m in CLASSIFIERS] + [("dax", m) for m in FORECASTERS]
                + [("sp500", m) for m in FORECASTERS])
        self.assertEqual(sorted(names), sorted(want))
        self.assertEqual([r["data"] for r in self.board], sorted(r["data"] for r in self.board))
        for data, loss in (("dax", "rmse"), ("sp500", "rmse"), ("credit", "log_loss")):
            losses = [float(r[loss]) for r in self.board if r["data"] == data]
            self.assertEqual(losses, sorted(losses), data)

    def test_metrics_of_the_out_of_sample_files(self):
        for row in self.board:
            name = f"{row['data']}-{row['model']}"
            with self.subTest(name):
                if row["data"] == "credit":
                    rows = read_rows(self.path(f"{name}.predictions.csv"))
                    want = classifier_figures(rows)
                    empty = FORECAST_COLUMNS
                else:
                    rows = read_rows(self.path(f"{name}.oos.csv"))
                    want = forecast_figures(rows, PERIODS_PER_YEAR[row["data"]])
                    empty = CLASSIFIER_COLUMNS
                self.assertEqual(int(row["n"]), want.pop("n"))
                for column, value in want.items():
                    self.close(float(row[column]), value, column)
                for column in empty:
                    self.assertEqual(row[column], "", column)

    def test_figures_are_fin_evals(self):
        """Every figure of a row as fin-eval writes it for the row's file."""
        fields = {"n": ("n",), "rmse": ("rmse",), "rmse_zero": ("rmse_naive",),
                  "theil_u": ("theil_u",), "mase": ("mase",), "dm": ("dm", "statistic"),
                  "dm_p": ("dm", "p_value"), "roc_auc": ("roc_auc",),
                  "log_loss": ("log_loss",), "log_loss_base": ("baseline", "log_loss")}
        for row in self.board:
            name = f"{row['data']}-{row['model']}"
            with self.subTest(name):
                if row["data"] == "credit":
                    args = ["--task", "binary", "--actual", "Class", "--positive", "Bad",
                            "--pred", "p_Bad", self.path(f"{name}.predictions.csv")]
                else:
                    args = ["--naive", "zero", self.path(f"{name}.oos.csv")]
                result = subprocess.run([os.path.join(BIN_DIR, "fin-eval"), "-q", *args],
                                        capture_output=True, timeout=60, check=True)
                report = json.loads(result.stdout)
                for column, path in fields.items():
                    value = report
                    for key in path:
                        value = value.get(key) if isinstance(value, dict) else None
                    if value is None:
                        self.assertEqual(row[column], "", column)
                    else:
                        self.assertEqual(float(row[column]), value, column)

    def test_forecasts_are_out_of_sample(self):
        """The out-of-sample rows are every window after the first fold's
        training rows, with their realised next-day return."""
        header, prices = data_rows("eustockmarkets.csv")
        dax = [float(r[header.index("DAX")]) for r in prices]
        header, returns = data_rows("sp500dge_returns.csv")
        sp500 = [float(r[header.index("ret")]) for r in returns]
        targets = {"dax": [math.log(b / a) for a, b in zip(dax, dax[1:])], "sp500": sp500}
        for data, series in targets.items():
            windows = len(series) - WINDOW
            for model in FORECASTERS:
                rows = read_rows(self.path(f"{data}-{model}.oos.csv"))
                self.assertEqual(len(rows), windows - TRAIN_ROWS[data], (data, model))
                for got, want in zip((float(r["y"]) for r in rows),
                                     series[WINDOW + TRAIN_ROWS[data]:]):
                    self.assertLessEqual(abs(got - want), 1e-12 + 1e-9 * abs(want))

    def test_classifiers_are_scored_on_held_out_applicants(self):
        header, applicants = data_rows("german_credit.csv")
        held_out = [r[header.index("Class")] for r in applicants[CREDIT_TRAIN_ROWS:]]
        for model in CLASSIFIERS:
            rows = read_rows(self.path(f"credit-{model}.predictions.csv"))
            self.assertEqual([r["Class"] for r in rows], held_out, model)

    def test_prints_the_table_last_and_a_rerun_makes_nothing(self):
        with open(self.path("leaderboard.txt"), encoding="utf-8") as f:
            table = f.read()
        self.assertTrue(self.first.stdout.endswith(table))
        self.assertEqual(self.second.returncode, 0, self.second.stderr)
        self.assertEqual(self.second.stdout, table)
        lines = table.splitlines()
        self.assertEqual(lines[0].split(), COLUMNS)
        for line, row in zip(lines[1:], self.board):
            cells = line.split()
            self.assertEqual(len(cells), len(COLUMNS), line)
            for column, cell in zip(COLUMNS, cells):
                if row[column] == "":
                    self.assertEqual(cell, "-", column)
                elif column in ("data", "model", "n"):
                    self.assertEqual(cell, row[column], column)
                else:
                    self.assertLessEqual(abs(float(cell) - float(row[column])),
                                         5e-4 * abs(float(row[column])), column)

    def test_clean_removes_out(self):
        out = os.path.join(self.tmp.name, "other")
        os.mkdir(out)
        write_csv(os.path.join(out, "dax-gru.oos.csv"), [["y"]])
        subprocess.run(["make", "-C", EXAMPLES, "--no-print-directory", f"OUT={out}", "clean"],
                       capture_output=True, timeout=60, check=True, env=clean_env())
        self.assertFalse(os.path.exists(out))


STUB = """#!/bin/sh
{ printf '== %s %s\\n' "$1" "$DAY"; cat; } >> "$RECORD"
"""
FEATURES = ("Duration", "Amount", "Age")


class NightlyScoring(unittest.TestCase):
    """Each test in a directory of its own: the history is the first 700
    applicants, numbered from 1 in an id column."""

    @classmethod
    def setUpClass(cls):
        header, rows = data_rows("german_credit.csv")
        cls.header = ["id"] + header
        cls.applicants = [[str(i + 1)] + r for i, r in enumerate(rows)]
        history = cls.applicants[:CREDIT_TRAIN_ROWS]
        cols = [cls.header.index(f) for f in FEATURES]
        quartiles, highest = [], []
        for c in cols:
            values = sorted(float(r[c]) for r in history)
            quartiles.append((values[len(values) // 4], values[3 * len(values) // 4]))
            highest.append(values[-1])
        # Applicants after the history whose three features all lie between
        # the history's quartiles: in the thick of it, never outliers.
        cls.typical = [r for r in cls.applicants[CREDIT_TRAIN_ROWS:]
                       if all(lo <= float(r[c]) <= hi for c, (lo, hi) in zip(cols, quartiles))]
        assert len(cls.typical) >= 5, len(cls.typical)
        cls.typical = cls.typical[:10]
        # Outliers: every feature far beyond the history's largest value.
        cls.planted = []
        for i, base in enumerate(cls.typical[:2]):
            row = list(base)
            row[0] = str(9001 + i)
            for c, top in zip(cols, highest):
                row[c] = str(10 * top)
            cls.planted.append(row)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fin-nightly-test-")
        self.work = self.tmp.name
        write_csv(self.file("history.csv"), [self.header] + self.applicants[:CREDIT_TRAIN_ROWS])
        self.record = self.file("calls.txt")
        with open(self.file("stub"), "w", encoding="utf-8") as f:
            f.write(STUB)
        os.chmod(self.file("stub"), 0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def file(self, name):
        return os.path.join(self.work, name)

    def nightly(self, day, rows=None):
        """Scores the day's rows (written to DAY.csv unless None) with the
        script; returns its exit status and log."""
        day_file = self.file(f"{day}.csv")
        if rows is not None:
            write_csv(day_file, [self.header] + rows)
        env = clean_env(FIN=BIN_DIR, WORK_DIR=self.work, DAY=day, KEYS="id",
                        FEATURES=",".join(FEATURES), RECORD=self.record,
                        ALERT_COMMAND=f"{self.file('stub')} alert",
                        FAILURE_COMMAND=f"{self.file('stub')} failure")
        result = subprocess.run([NIGHTLY, day_file], capture_output=True, text=True,
                                timeout=60, env=env)
        return result.returncode, result.stderr

    def calls(self):
        """The stub's calls: (command, day, message) in order."""
        if not os.path.exists(self.record):
            return []
        with open(self.record, encoding="utf-8") as f:
            text = f.read()
        calls = []
        for chunk in text.split("== ")[1:]:
            first, _, message = chunk.partition("\n")
            command, day = first.split(" ")
            calls.append((command, day, message))
        return calls

    def scores(self, day):
        return read_rows(self.file(f"scores/{day}.csv"))

    def test_clean_day(self):
        status, log = self.nightly("clean", self.typical)
        self.assertEqual(status, 0, log)
        self.assertEqual(self.calls(), [])
        scores = self.scores("clean")
        self.assertEqual([r["id"] for r in scores], [r[0] for r in self.typical])
        self.assertEqual({r["anomaly"] for r in scores}, {"0"})
        self.assertIn("fitting", log)
        self.assertTrue(os.path.exists(self.file("detector.json")))

    def test_detector_is_loaded_and_refitted_when_the_history_changes(self):
        self.nightly("first", self.typical)
        fitted = os.stat(self.file("detector.json")).st_mtime_ns
        status, log = self.nightly("second", self.typical)
        self.assertEqual(status, 0, log)
        self.assertNotIn("fitting", log)
        self.assertEqual(os.stat(self.file("detector.json")).st_mtime_ns, fitted)
        later = os.stat(self.file("detector.json")).st_mtime + 10
        os.utime(self.file("history.csv"), (later, later))
        status, log = self.nightly("third", self.typical)
        self.assertEqual(status, 0, log)
        self.assertIn("fitting", log)
        self.assertNotEqual(os.stat(self.file("detector.json")).st_mtime_ns, fitted)

    def test_planted_anomalies_raise_the_alert(self):
        day = self.typical + self.planted
        status, log = self.nightly("planted", day)
        self.assertEqual(status, 5, log)
        calls = self.calls()
        self.assertEqual([(c, d) for c, d, _ in calls], [("alert", "planted")])
        message = calls[0][2]
        self.assertIn(f"2 of {len(day)} rows", message)
        rows = message.split("id,score,anomaly\n")[1].splitlines()
        self.assertEqual([line.split(",")[0] for line in rows], ["9001", "9002"])
        scores = self.scores("planted")
        self.assertEqual([r["id"] for r in scores if r["anomaly"] == "1"], ["9001", "9002"])
        self.assertEqual(len(scores), len(day))

    def test_a_failing_alert_command_reaches_the_failure_command(self):
        self.nightly("first", self.typical)
        with open(self.file("stub"), "a", encoding="utf-8") as f:
            f.write('[ "$1" = failure ]\n')
        status, log = self.nightly("planted", self.typical + self.planted)
        self.assertEqual(status, 5, log)
        self.assertEqual([(c, d) for c, d, _ in self.calls()],
                         [("alert", "planted"), ("failure", "planted")])
        self.assertIn("The alert command failed", self.calls()[1][2])
        self.assertIn("9001", self.calls()[1][2])

    def test_failures_send_the_failure_message_and_keep_the_scores(self):
        status, log = self.nightly("day", self.typical + self.planted)
        self.assertEqual(status, 5, log)
        with open(self.file("scores/day.csv"), "rb") as f:
            previous = f.read()
        broken = [list(r) for r in self.typical]
        broken[1][self.header.index("Amount")] = "abc"
        cases = [("broken", broken, 1, "data error", "day.csv:3: column 'Amount'"),
                 ("empty", [], 4, "no input rows", "")]
        for name, rows, want, meaning, detail in cases:
            with self.subTest(name):
                write_csv(self.file("day.csv"), [self.header] + rows)
                os.remove(self.record)
                status, log = self.nightly("day")
                self.assertEqual(status, want, log)
                calls = self.calls()
                self.assertEqual([(c, d) for c, d, _ in calls], [("failure", "day")])
                self.assertIn(f"failed: {meaning} (exit status {want})", calls[0][2])
                self.assertIn(detail, calls[0][2])
                with open(self.file("scores/day.csv"), "rb") as f:
                    self.assertEqual(f.read(), previous)

    def test_unusable_detector(self):
        with open(self.file("detector.json"), "w", encoding="utf-8") as f:
            f.write('{"format": "fin-detector"')
        later = os.stat(self.file("history.csv")).st_mtime + 10
        os.utime(self.file("detector.json"), (later, later))
        status, log = self.nightly("day", self.typical)
        self.assertEqual(status, 3, log)
        calls = self.calls()
        self.assertEqual([c for c, _, _ in calls], ["failure"])
        self.assertIn("unusable detector file (exit status 3)", calls[0][2])
        self.assertFalse(os.path.exists(self.file("scores/day.csv")))

    def test_a_held_lock_stops_the_run(self):
        with open(self.file("nightly-scoring.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            status, log = self.nightly("day", self.typical)
        self.assertEqual(status, 75, log)
        calls = self.calls()
        self.assertEqual([c for c, _, _ in calls], ["failure"])
        self.assertIn("another run still holds", calls[0][2])
        self.assertFalse(os.path.exists(self.file("detector.json")))
        self.assertFalse(os.path.exists(self.file("scores/day.csv")))


if __name__ == "__main__":
    unittest.main()
