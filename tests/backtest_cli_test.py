#!/usr/bin/env python3
"""Command-line tests of fin-backtest, checked against fin-backtest(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/backtest_cli_test.py`. The folds
are listed here from their definition in fin-backtest(1); the rows each
fold trains on are recorded by a training command that logs its input and
hands over to fin-train; the trading columns and report are recomputed from
the formulas of fin-backtest(1). Nothing is copied from the program's own
output. Small models and few epochs keep the file to seconds.
"""
import csv
import io
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, read_csv, write_csv

FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

EUSTOCK = "data/eustockmarkets.csv"
WINDOW_ARGS = ["-c", "DAX", "-k", "t", "--size", "20", "--transform", "logret"]
# Every training command of these tests: quick, and fin-train's own
# validation tail (--val 0.2) stays on.
TRAIN = ["fin-train", "--model", "mlp", "--epochs", "2", "-k", "t"]
# One dense layer trained by gradient (the linear preset is fitted exactly).
LINEAR = ["fin-train", "--arch", "dense(1)", "--epochs", "2", "-k", "t"]

EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS = 1, 2, 3, 4

TMP = None
FILES = {}
WINDOWS = None  # (header, rows) of the windows file


def scratch_dir():
    return tempfile.mkdtemp(dir=TMP.name)


def run_backtest(*args, stdin=None, tmpdir=None, env=None):
    """Runs fin-backtest with TMPDIR pointed at a fresh directory (or the
    one given); returns the result and that directory."""
    tmpdir = tmpdir or scratch_dir()
    full_env = dict(os.environ, TMPDIR=tmpdir, **(env or {}))
    result = subprocess.run([FIN_BACKTEST, *args], cwd=ROOT, input=stdin, capture_output=True,
                            timeout=300, env=full_env)
    return result, tmpdir


def folds(rows, train, test, step=None, rolling=False, gap=0):
    """The folds of fin-backtest(1) as (train_from, train_to, test_from,
    test_to), 0-based, ends excluded."""
    step = step or test
    out, start = [], train + gap
    while start < rows:
        end = start - gap
        out.append((end - train if rolling else 0, end, start, min(start + test, rows)))
        start += step
    return out


def split_by_fold(stdout):
    """Output lines (bytes, without the fold field) by fold number."""
    lines = stdout.split(b"\n")
    assert lines[-1] == b""
    by_fold = {}
    for line in lines[1:-1]:
        body, fold = line.rsplit(b",", 1)
        by_fold.setdefault(int(fold), []).append(body)
    return lines[0], by_fold


def write_training_logger(directory):
    """A training command that records the key column of the rows it is
    given (one line per fold) and then runs fin-train on them."""
    path = os.path.join(directory, "logging-train")
    with open(path, "w") as f:
        f.write(f"""#!{sys.executable}
import csv, os, sys
with open(sys.argv[-1], newline="") as f:
    rows = list(csv.reader(f))
with open(os.environ["TRAIN_LOG"], "a") as log:
    log.write(" ".join(r[0] for r in rows[1:]) + "\\n")
os.execv({FIN_TRAIN!r}, [{FIN_TRAIN!r}] + sys.argv[1:])
""")
    os.chmod(path, 0o755)
    return path


def setUpModule():
    global TMP, WINDOWS
    TMP = tempfile.TemporaryDirectory(prefix="fin-backtest-test-")
    FILES["windows.csv"] = os.path.join(TMP.name, "windows.csv")
    result = subprocess.run([FIN_WINDOW, *WINDOW_ARGS, EUSTOCK], cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    with open(FILES["windows.csv"], "wb") as f:
        f.write(result.stdout)
    WINDOWS = read_csv(FILES["windows.csv"])


def tearDownModule():
    TMP.cleanup()


class BacktestCase(FinCase):
    def backtest_ok(self, *args, stdin=None, env=None):
        result, tmpdir = run_backtest(*args, stdin=stdin, env=env)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(os.listdir(tmpdir), [], "files left behind")
        return result


# ------------------------------------------------------------------- tests

class LeakageTest(BacktestCase):
    """Changing the future of the series changes no prediction made before
    it: every fold whose rows all come before the first window the change
    touches gives the same bytes, and later folds do not. The change falls
    inside a fold's test block, whose model learns from the rows before the
    block only: its predictions for the block's rows before the change stay
    the same bytes too, which a model that saw its own test block would not
    give. The training command learns from every row it is given
    (--val 0): under fin-train's validation tail, the last rows a fold hands
    over, a test block among them, would only be scored, never learned."""

    def altered_windows(self, first_changed):
        header, rows = read_csv(EUSTOCK)
        j = header.index("DAX")
        rng = random.Random(7)
        for i in range(first_changed, len(rows)):
            rows[i][j] = repr(float(rows[i][j]) * (1 + rng.uniform(-0.02, 0.02)))
        path = os.path.join(scratch_dir(), "altered.csv")
        write_csv(path, [header] + rows)
        result = subprocess.run([FIN_WINDOW, *WINDOW_ARGS, path], capture_output=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        windows = os.path.join(scratch_dir(), "altered-windows.csv")
        with open(windows, "wb") as f:
            f.write(result.stdout)
        return windows

    def check_leakage(self, *mode):
        train, test = 800, 200
        altered = self.altered_windows(1300)
        _, original_rows = WINDOWS
        _, altered_rows = read_csv(altered)
        self.assertEqual(len(original_rows), len(altered_rows))
        touched = next(i for i, (a, b) in enumerate(zip(original_rows, altered_rows)) if a != b)
        args = ["--train-size", str(train), "--test-size", str(test), *mode, "-q"]
        learn_all = [*TRAIN, "--val", "0"]
        before = self.backtest_ok(*args, FILES["windows.csv"], "--", *learn_all).stdout
        after = self.backtest_ok(*args, altered, "--", *learn_all).stdout
        header_before, by_fold_before = split_by_fold(before)
        header_after, by_fold_after = split_by_fold(after)
        self.assertEqual(header_before, header_after)
        plan = folds(len(original_rows), train, test, rolling=mode == ("--rolling",))
        untouched = [k + 1 for k, f in enumerate(plan) if f[1] <= touched and f[3] <= touched]
        self.assertEqual(untouched, [1, 2])  # the test can pass only by comparing something
        for k in range(1, len(plan) + 1):
            if k in untouched:
                self.assertEqual(by_fold_before[k], by_fold_after[k], f"fold {k}")
            else:
                self.assertNotEqual(by_fold_before[k], by_fold_after[k], f"fold {k}")
        # The fold whose test block holds the change, row by row: the rows
        # before it, 20 or more, are predicted as before.
        k = next(k for k, f in enumerate(plan) if f[2] < touched < f[3])
        early = touched - plan[k][2]
        self.assertGreaterEqual(early, 20)
        self.assertEqual(by_fold_before[k + 1][:early], by_fold_after[k + 1][:early],
                         f"fold {k + 1}, rows before the change")
        self.assertNotEqual(by_fold_before[k + 1][early:], by_fold_after[k + 1][early:])

    def test_expanding(self):
        self.check_leakage("--expanding")

    def test_rolling(self):
        self.check_leakage("--rolling")


class FoldTest(BacktestCase):
    def check_folds(self, train, test, step, rolling, gap=0):
        header, rows = WINDOWS
        keys = [r[0] for r in rows]
        log = os.path.join(scratch_dir(), "train.log")
        command = write_training_logger(scratch_dir())
        args = ["--train-size", str(train), "--test-size", str(test)]
        if step:
            args += ["--step", str(step)]
        if rolling:
            args.append("--rolling")
        if gap:
            args += ["--gap", str(gap)]
        # -q given by hand: fin-backtest adds it only to a command named fin-train.
        result = self.backtest_ok(*args, FILES["windows.csv"], "--", command, *LINEAR[1:], "-q",
                                  env={"TRAIN_LOG": log})
        plan = folds(len(rows), train, test, step, rolling, gap)

        # The rows each fold trained on: exactly the planned ones, all
        # before its test rows.
        with open(log) as f:
            trained = [line.split() for line in f.read().splitlines()]
        self.assertEqual(len(trained), len(plan))
        for (a, b, c, d), got in zip(plan, trained):
            self.assertEqual(got, keys[a:b])
            self.assertLessEqual(b, c)

        # The output: keys, target, prediction, fold; every test row once,
        # in time order, in its fold.
        names, out = parse_csv(result.stdout)
        self.assertEqual(names, ["t", "y", "prediction", "fold"])
        want = [(keys[i], rows[i][header.index("y")], str(k + 1))
                for k, (_, _, c, d) in enumerate(plan) for i in range(c, d)]
        self.assertEqual([(r[0], r[1], r[3]) for r in out], want)
        self.assertEqual(len({r[0] for r in out}), len(out))

        # Progress: one line per fold, 1-based rows.
        lines = result.stderr.decode().splitlines()
        self.assertEqual(len(lines), len(plan), lines)
        for k, ((a, b, c, d), line) in enumerate(zip(plan, lines)):
            self.assertRegex(line, rf"^fin-backtest: fold {k + 1}/{len(plan)}: train rows "
                             rf"{a + 1}-{b}, test rows {c + 1}-{d} \(\d+\.\d s\)$")
        return plan

    def test_expanding(self):
        plan = self.check_folds(700, 250, None, False)
        self.assertEqual(len(plan), 5)
        self.assertEqual(plan[-1][3] - plan[-1][2], len(WINDOWS[1]) - 1700)

    def test_rolling(self):
        self.check_folds(700, 250, None, True)

    def test_step_longer_than_block(self):
        self.check_folds(600, 100, 300, True)

    def test_gap(self):
        plan = self.check_folds(700, 250, None, True, gap=4)
        for a, b, c, d in plan:
            self.assertEqual(c - b, 4)

    def test_fold_equals_tools_by_hand(self):
        """Fold 2 of a rolling backtest, byte for byte, is fin-train and
        fin-predict run on that fold's rows."""
        header, rows = WINDOWS
        result = self.backtest_ok("--train-size", "700", "--test-size", "300", "--rolling", "-q",
                                  FILES["windows.csv"], "--", *TRAIN)
        _, by_fold = split_by_fold(result.stdout)
        d = scratch_dir()
        train_csv, test_csv, model = (os.path.join(d, n) for n in ("train.csv", "test.csv", "m.json"))
        write_csv(train_csv, [header] + rows[300:1000])
        write_csv(test_csv, [header] + rows[1000:1300])
        self.run_ok(FIN_TRAIN, *TRAIN[1:], "-q", "-o", model, train_csv)
        by_hand = self.run_ok(FIN_PREDICT, "-m", model, "-k", "t", "-k", "y", test_csv).stdout
        lines = by_hand.split(b"\n")
        self.assertEqual(lines[0], b"t,y,prediction")
        self.assertEqual(lines[1:-1], by_fold[2])

    def test_output_file_and_quiet(self):
        out = os.path.join(scratch_dir(), "oos.csv")
        args = ["--train-size", "1500", "--test-size", "200", FILES["windows.csv"], "--", *LINEAR]
        to_stdout = self.backtest_ok(*args)
        to_file = self.backtest_ok("-q", "-o", out, *args)
        self.assertEqual(to_file.stdout, b"")
        self.assertEqual(to_file.stderr, b"")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), to_stdout.stdout)

    def test_verbose(self):
        """-v: the tools report too, before each fold's line."""
        result = self.backtest_ok("-v", "--train-size", "1500", "--test-size", "200",
                                  FILES["windows.csv"], "--", *LINEAR)
        lines = [l for l in result.stderr.decode().splitlines() if ": not used: " not in l]
        self.assertTrue(lines[0].startswith("fin-train: epoch 1/2 "), lines)
        self.assertEqual(len([l for l in lines if l.startswith("fin-backtest: fold ")]), 2)

    def test_quoted_keys_and_delimiter(self):
        """Keys holding commas and quotes survive the temporary files, and
        the output is comma-separated whatever the input was."""
        header, rows = WINDOWS
        keys = [f'day {i}, "{i % 7}"' for i in range(len(rows))]
        path = os.path.join(scratch_dir(), "semicolons.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, delimiter=";", lineterminator="\n")
            w.writerow(header)
            w.writerows([[k] + r[1:] for k, r in zip(keys, rows)])
        # keys that are not times: --unsorted, which fin-train is given too
        result = self.backtest_ok("-q", "--unsorted", "-d", ";", "--train-size", "1600",
                                  "--test-size", "100", path, "--", *LINEAR)
        names, out = parse_csv(result.stdout)
        self.assertEqual(names, ["t", "y", "prediction", "fold"])
        self.assertEqual([r[0] for r in out], keys[1600:])

    def test_no_header(self):
        header, rows = WINDOWS
        path = os.path.join(scratch_dir(), "headerless.csv")
        write_csv(path, rows)
        y = str(header.index("y") + 1)
        result = self.backtest_ok("-q", "-n", "--train-size", "1700", "--test-size", "100", path,
                                  "--", "fin-train", "--model", "linear", "--epochs", "2",
                                  "-k", "1", "-y", y)
        names, out = parse_csv(result.stdout)
        self.assertEqual(names, ["1", y, "prediction", "fold"])
        self.assertEqual([r[0] for r in out], [r[0] for r in rows[1700:]])


class TradeTest(BacktestCase):
    FIGURES = ["total_return", "annual_return", "annual_vol", "sharpe", "max_drawdown",
               "hit_rate", "turnover", "costs", "n"]

    def trade(self, *args):
        report = os.path.join(scratch_dir(), "report.json")
        result = self.backtest_ok("--train-size", "1000", "--test-size", "300", "--trade",
                                  "--report", report, *args, FILES["windows.csv"], "--", *TRAIN)
        names, out = parse_csv(result.stdout)
        self.assertEqual(names, ["t", "y", "prediction", "position", "pnl", "fold"])
        with open(report) as f:
            return result, out, json.load(f)

    def check_pnl(self, out, positions, cost_bps, asset):
        prev = 0.0
        for row, want_pos in zip(out, positions):
            pos, pnl = float(row[3]), float(row[4])
            self.assertAlmostEqual(pos, want_pos, delta=1e-12 * max(1, abs(want_pos)))
            want = want_pos * asset(float(row[1])) - cost_bps / 10000 * abs(want_pos - prev)
            self.assertAlmostEqual(pnl, want, delta=1e-12)
            prev = want_pos

    def test_sign_sizing_with_costs(self):
        result, out, report = self.trade("--cost", "5")
        positions = [float((p > 0) - (p < 0)) for p in (float(r[2]) for r in out)]
        self.check_pnl(out, positions, 5, math.expm1)

        # The report: every figure for both, from the definitions.
        for side in ("strategy", "buy_and_hold"):
            self.assertEqual(sorted(report[side]), sorted(self.FIGURES))
            self.assertEqual(report[side]["n"], len(out))
        self.assertEqual(report["sizing"], "sign")
        self.assertEqual(report["cost_bps"], 5)
        self.assertEqual(report["periods_per_year"], 252)
        pnl = [float(r[4]) for r in out]
        s = report["strategy"]
        self.assertAlmostEqual(s["total_return"], math.prod(1 + v for v in pnl) - 1, delta=1e-9)
        self.assertAlmostEqual(s["turnover"],
                               math.fsum(abs(a - b) for a, b in zip(positions, [0.0] + positions))
                               / len(out), delta=1e-12)
        sd = statistics.stdev(pnl)
        self.assertAlmostEqual(s["annual_vol"], sd * math.sqrt(252), delta=1e-9)
        self.assertAlmostEqual(s["sharpe"], statistics.fmean(pnl) / sd * math.sqrt(252), delta=1e-9)
        # Buy-and-hold buys once, paying the cost once.
        y = [float(r[1]) for r in out]
        self.assertAlmostEqual(report["buy_and_hold"]["total_return"],
                               (math.exp(y[0]) - 5 / 10000) * math.exp(math.fsum(y[1:])) - 1,
                               delta=1e-9)

        # The table on standard error, after the progress lines.
        lines = result.stderr.decode().splitlines()
        self.assertRegex(lines[-10], r"^figure +strategy +buy_and_hold$")
        self.assertEqual([l.split()[0] for l in lines[-9:]], self.FIGURES)
        self.assertEqual(lines[-1].split(), ["n", str(len(out)), str(len(out))])

    def test_buy_and_hold_compounds_log_returns(self):
        _, out, report = self.trade()
        y = [float(r[1]) for r in out]
        self.assertAlmostEqual(report["buy_and_hold"]["total_return"],
                               math.prod(math.exp(v) for v in y) - 1, delta=1e-9)
        self.assertEqual(report["buy_and_hold"]["turnover"], 1 / len(out))

    def test_scaled_sizing(self):
        """pred / sd of the fold's training targets, clamped to the cap."""
        header, rows = WINDOWS
        y_all = [float(r[header.index("y")]) for r in rows]
        _, out, report = self.trade("--sizing", "scaled", "--cap", "0.5", "--cost", "2")
        self.assertEqual(report["sizing"], "scaled")
        self.assertEqual(report["cap"], 0.5)
        positions = []
        for row in out:
            fold = int(row[5])
            scale = statistics.stdev(y_all[:1000 + 300 * (fold - 1)])
            positions.append(max(-0.5, min(0.5, float(row[2]) / scale)))
        self.assertTrue(any(abs(p) < 0.5 for p in positions))
        self.check_pnl(out, positions, 2, math.expm1)

    def test_simple_returns(self):
        _, out, report = self.trade("--returns", "simple")
        positions = [float((p > 0) - (p < 0)) for p in (float(r[2]) for r in out)]
        self.check_pnl(out, positions, 0, lambda r: r)
        self.assertEqual(report["returns"], "simple")

    def test_classification_refused(self):
        d = scratch_dir()
        path = os.path.join(d, "direction.csv")
        result = subprocess.run([FIN_WINDOW, *WINDOW_ARGS, "--target", "direction", EUSTOCK],
                                cwd=ROOT, capture_output=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(path, "wb") as f:
            f.write(result.stdout)
        result, tmpdir = run_backtest("--train-size", "1500", "--test-size", "200", "--trade",
                                      path, "--", "fin-train", "--model", "logistic",
                                      "--epochs", "2", "-k", "t")
        self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
        self.assertRegex(result.stderr.decode(),
                         r"^fin-backtest: fold 1/\d+: --trade needs a regression model")
        self.assertEqual(os.listdir(tmpdir), [])


class FailureTest(BacktestCase):
    def fails(self, code, *args, stdin=None):
        result, tmpdir = run_backtest(*args, stdin=stdin)
        message = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, message)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(os.listdir(tmpdir), [], "files left behind")
        return message

    def test_usage(self):
        w = FILES["windows.csv"]
        # Checked before the rows: 10 rows would otherwise be too few.
        with open(w, "rb") as f:
            few = b"".join(f.readlines()[:11])
        cases = [
            (["--train-size", "100", "--test-size", "10"], "no training command"),
            (["--train-size", "100", "--test-size", "10", "--"], "no training command"),
            (["--train-size", "0", "--test-size", "10", "--", *LINEAR], "--train-size"),
            (["--train-size", "100", "--test-size", "0", "--", *LINEAR], "--test-size"),
            (["--train-size", "100", "--step", "0", "--test-size", "5", "--", *LINEAR], "--step"),
            (["--test-size", "10", "--", *LINEAR], "--train-size and --test-size are required"),
            (["--train-size", "10", "--test-size", "5", "--cost", "5", "--", *LINEAR],
             "--cost applies to --trade"),
            (["--train-size", "10", "--test-size", "5", "--trade", "--step", "2", "--", *LINEAR],
             "--step below --test-size"),
            (["--train-size", "10", "--test-size", "5", "--trade", "--sizing", "kelly", "--",
              *LINEAR], "--sizing: unknown value 'kelly'"),
            (["--train-size", "10", "--test-size", "5", "--trade", "--cap", "0", "--", *LINEAR],
             "--cap"),
        ]
        for args, part in cases:
            with self.subTest(args=args):
                message = self.fails(EXIT_USAGE, *args, stdin=few)
                self.assertTrue(message.startswith("fin-backtest: "), message)
                self.assertEqual(message.count("\n"), 1, message)
                self.assertIn(part, message)
        self.fails(EXIT_USAGE, "--train-size", "10", "--test-size", "5", "--bogus", "--", *LINEAR,
                   stdin=few)

    def test_failing_training_command(self):
        message = self.fails(EXIT_DATA, "--train-size", "1000", "--test-size", "300",
                             FILES["windows.csv"], "--", "fin-train", "--arch", "nonsense")
        lines = message.splitlines()
        self.assertTrue(lines[0].startswith("fin-train: "), message)  # its stderr passes through
        self.assertEqual(lines[-1], "fin-backtest: fold 1/3: fin-train exited with status 2")

    def bad_inputs(self, column, row, note_row=10, split=500):
        """The windows with a note column (a value over two lines in data row
        note_row), in two files split before data row split, and 'abc' in
        column of data row row: the paths, and the file and physical line
        of the bad value, read back with Python's csv module."""
        header, rows = WINDOWS
        rows = [r + ["two\nlines" if i == note_row else "one line"] for i, r in enumerate(rows)]
        rows[row][header.index(column)] = "abc"
        d = scratch_dir()
        paths = [os.path.join(d, "first.csv"), os.path.join(d, "second.csv")]
        write_csv(paths[0], [header + ["note"]] + rows[:split])
        write_csv(paths[1], [header + ["note"]] + rows[split:])
        for path in paths:
            with open(path, newline="") as f:
                reader = csv.reader(f)
                for r in reader:
                    if "abc" in r:
                        return paths, path, reader.line_num
        raise AssertionError("no bad value")

    def test_messages_name_the_input_and_its_line(self):
        """What fin-train and fin-predict say of a fold's rows names the
        user's file and line, never the fold's temporary file, whatever
        lines a quoted field takes and whichever file a row is in."""
        cases = [
            # a feature of a test row of fold 1: fin-predict
            ("DAX_0", 1100, 1, "fin-predict", "column 'DAX_0': not a number: 'abc'"),
            # the target of a row fold 2 trains on: fin-train
            ("y", 1100, 2, "fin-train", "column 'y': not a number: 'abc' (for class labels, "
                                        "give --task binary or --task multiclass)"),
            # in the first file, after the note over two lines
            ("y", 300, 1, "fin-train", "column 'y': not a number: 'abc' (for class labels, "
                                       "give --task binary or --task multiclass)"),
        ]
        for column, row, fold, tool, what in cases:
            with self.subTest(column=column, row=row):
                paths, path, line = self.bad_inputs(column, row)
                message = self.fails(EXIT_DATA, "-q", "--train-size", "1000", "--test-size",
                                     "300", *paths, "--", *LINEAR)
                self.assertEqual(message.splitlines(), [
                    f"{tool}: {path}:{line}: {what}",
                    f"fin-backtest: fold {fold}/3: {tool} exited with status 1"])

    def test_a_step_back_is_named_in_the_input(self):
        """fin-train's message about time order names both lines in the input."""
        header, rows = WINDOWS
        rows = [list(r) for r in rows]
        rows[40], rows[41] = rows[41], rows[40]
        path = os.path.join(scratch_dir(), "swapped.csv")
        write_csv(path, [header] + rows)
        message = self.fails(EXIT_DATA, "--train-size", "1000", "--test-size", "300", path, "--",
                             *LINEAR)
        self.assertEqual(message.splitlines(), [
            f"fin-train: {path}:43: column 't': '{rows[41][0]}' comes before '{rows[40][0]}' on "
            f"line 42: the key must increase (newest-first? sort it, or give --unsorted)",
            "fin-backtest: fold 1/3: fin-train exited with status 1"])

    def test_a_return_that_cannot_be_traded_names_its_line(self):
        header, rows = WINDOWS
        rows = [list(r) for r in rows]
        rows[1250][header.index("y")] = "NA"
        path = os.path.join(scratch_dir(), "missing-return.csv")
        write_csv(path, [header] + rows)
        # fold 1 tests rows 1000-1299: trained on earlier rows, the NA is
        # only met when trading
        message = self.fails(EXIT_DATA, "--trade", "--train-size", "1000", "--test-size", "300",
                             "--step", "300", path, "--", *LINEAR, "--na", "skip")
        self.assertEqual(message.splitlines()[-1],
                         f"fin-backtest: {path}:1252: column 'y': no return to trade: 'NA'")

    def test_failure_in_a_later_fold(self):
        """A command that fails on its second run: the fold is named, and
        the first fold's files are gone too."""
        d = scratch_dir()
        command = os.path.join(d, "fails-second-time")
        with open(command, "w") as f:
            f.write(f"""#!{sys.executable}
import os, sys
mark = os.path.join({d!r}, "ran")
if os.path.exists(mark):
    sys.exit(5)
open(mark, "w").close()
os.execv({FIN_TRAIN!r}, [{FIN_TRAIN!r}] + sys.argv[1:])
""")
        os.chmod(command, 0o755)
        message = self.fails(EXIT_DATA, "-q", "--train-size", "1000", "--test-size", "300",
                             FILES["windows.csv"], "--", command, *LINEAR[1:], "-q")
        self.assertEqual(message, "fin-backtest: fold 2/3: fails-second-time exited with status 5\n")

    def test_missing_command(self):
        message = self.fails(EXIT_DATA, "--train-size", "1000", "--test-size", "300",
                             FILES["windows.csv"], "--", "no-such-fin-tool")
        self.assertEqual(message, "fin-backtest: fold 1/3: cannot run no-such-fin-tool: "
                                  "No such file or directory\n")

    def test_unusable_model(self):
        d = scratch_dir()
        command = os.path.join(d, "writes-no-model")
        with open(command, "w") as f:
            f.write(f"""#!{sys.executable}
import sys
with open(sys.argv[sys.argv.index("-o") + 1], "w") as f:
    f.write('{{"format": "something else"}}')
""")
        os.chmod(command, 0o755)
        message = self.fails(EXIT_MODEL, "--train-size", "1000", "--test-size", "300",
                             FILES["windows.csv"], "--", command)
        # the temporary file is not named: it is gone
        self.assertEqual(message, "fin-backtest: fold 1/3: the model the training command "
                                  "wrote: unusable model file: not a fin-model file\n")

    def test_too_few_rows(self):
        with open(FILES["windows.csv"], "rb") as f:
            lines = f.readlines()
        message = self.fails(EXIT_NO_ROWS, "--train-size", "50", "--test-size", "10", "--",
                             *LINEAR, stdin=b"".join(lines[:51]))
        self.assertEqual(message, "fin-backtest: <stdin>: 50 rows: --train-size 50 leaves no row "
                                  "to test (at least 51 needed)\n")
        self.fails(EXIT_NO_ROWS, "--train-size", "50", "--test-size", "10", "--", *LINEAR,
                   stdin=lines[0])
        self.fails(EXIT_NO_ROWS, "--train-size", "50", "--test-size", "10", "--", *LINEAR,
                   stdin=b"")
        # One row to test is enough.
        self.backtest_ok("-q", "--train-size", "50", "--test-size", "10", "--", *LINEAR,
                         stdin=b"".join(lines[:52]))

    def test_interrupted(self):
        """SIGTERM during training: the training command gets it too, the
        files go, and fin-backtest ends by the signal."""
        d = scratch_dir()
        ready = os.path.join(d, "ready")
        command = os.path.join(d, "slow-train")
        with open(command, "w") as f:
            f.write(f"""#!{sys.executable}
import os, time
with open({ready!r} + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename({ready!r} + ".tmp", {ready!r})
time.sleep(60)
""")
        os.chmod(command, 0o755)
        tmpdir = scratch_dir()
        proc = subprocess.Popen([FIN_BACKTEST, "--train-size", "1000", "--test-size", "300",
                                 FILES["windows.csv"], "--", command], cwd=ROOT,
                                env=dict(os.environ, TMPDIR=tmpdir), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(ready))
        self.assertEqual(len(os.listdir(tmpdir)), 1)
        with open(ready) as f:
            child = int(f.read())
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        self.assertEqual(stdout, b"")
        self.assertEqual(os.listdir(tmpdir), [])
        with self.assertRaises(ProcessLookupError):
            os.kill(child, 0)


if __name__ == "__main__":
    for tool in (FIN_BACKTEST, FIN_WINDOW, FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"backtest_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
