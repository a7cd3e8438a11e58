#!/usr/bin/env python3
"""Without -k, a column of ISO dates is the key (fin(7), KEYS): fin-window,
fin-train, fin-predict, fin-anomaly, fin-cluster and fin-backtest take the
first column whose first value is an ISO date or date-time, say so on
standard error (unless -q), pass it through as a key, and where time order
matters check it as a key given with -k. Columns chosen with -c, the target
and a model's features are never taken; with -k nothing changes.

Run from the repository root as
`FIN_BIN=build/bin python3 tests/time_key_test.py`. Windows, keys and
dates are computed here from the input files; which column qualifies is
decided here from the documented forms (YYYY-MM-DD, optionally with a
time), not taken from the programs.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, read_csv, run, write_csv

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")
FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")

MSFT = "data/msft.csv"
EXIT_DATA, EXIT_NO_ROWS = 1, 4

TMP = None
FILES = {}


def note(tool, path, line, names):
    """The note of fin(7), KEYS: the columns that qualify, the first taken."""
    quoted = ", ".join(f"'{n}'" for n in names[:2])
    if len(names) == 1:
        return (f"{tool}: {path}:{line}: column {quoted} holds an ISO date: taken as the key "
                f"(give -k to choose another)\n")
    more = f" and {len(names) - 2} more" if len(names) > 2 else ""
    return (f"{tool}: {path}:{line}: columns {quoted}{more} hold ISO dates: the first, "
            f"'{names[0]}', is taken as the key (give -k to choose another)\n")


def order_error(tool, path, keys, line, before):
    return (f"{tool}: {path}:{line}: column 'date': '{keys[line - 2]}' comes before "
            f"'{keys[before - 2]}' on line {before}: the key must increase (newest-first? "
            f"sort it, or give --unsorted)\n")


def windows(header, rows, size):
    """fin-window's level windows with the next value of the first channel
    as target, every column but the first (the dates) a channel, and the
    date of each window's newest row as its key."""
    channels = header[1:]
    names = [f"{c}_{lag}" for c in channels for lag in range(size - 1, -1, -1)]
    out = []
    for t in range(size - 1, len(rows) - 1):
        values = [float(rows[t - lag][1 + c]) for c in range(len(channels))
                  for lag in range(size - 1, -1, -1)]
        out.append([rows[t][0]] + values + [float(rows[t + 1][1])])
    return [header[0]] + names + ["y"], out


def as_numbers(rows):
    return [[r[0]] + [float(v) for v in r[1:]] for r in rows]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-time-key-test-")
    # 5-day windows of Microsoft's closes keyed by date (given with -k, so
    # that the files do not depend on what is tested here).
    result = run(FIN_WINDOW, "-q", "-c", "Close", "-k", "date", "--size", "5", "--transform",
                 "logret", MSFT)
    assert result.returncode == 0, result.stderr.decode()
    FILES["windows"] = os.path.join(TMP.name, "windows.csv")
    with open(FILES["windows"], "wb") as f:
        f.write(result.stdout)
    header, rows = parse_csv(result.stdout)
    FILES["reversed"] = os.path.join(TMP.name, "reversed.csv")
    write_csv(FILES["reversed"], [header] + rows[::-1])
    # The same rows without their dates: models and detectors without keys.
    FILES["no-date"] = os.path.join(TMP.name, "no-date.csv")
    write_csv(FILES["no-date"], [header[1:]] + [r[1:] for r in rows])


def tearDownModule():
    TMP.cleanup()


class TimeKeyCase(FinCase):
    def run_ok(self, tool, *args, stdin=None):
        """As FinCase's, with the notes of unused columns taken out of
        standard error (tests/categorical_test.py checks those): what is
        left is the key's note."""
        result = super().run_ok(tool, *args, stdin=stdin)
        kept = [l for l in result.stderr.splitlines(keepends=True) if b": not used: " not in l]
        return subprocess.CompletedProcess(result.args, result.returncode, result.stdout,
                                           b"".join(kept))

    def windows_file(self):
        header, rows = read_csv(FILES["windows"])
        return header, rows

    def path(self, name):
        return os.path.join(TMP.name, name)


class FinWindowTest(TimeKeyCase):
    def test_msft_without_k(self):
        header, rows = read_csv(MSFT)
        result = self.run_ok(FIN_WINDOW, MSFT)
        got_header, got = parse_csv(result.stdout)
        want_header, want = windows(header, rows, 20)
        self.assertEqual(got_header, want_header)
        self.assertEqual(as_numbers(got), want)
        self.assertEqual(result.stderr.decode(), note("fin-window", MSFT, 2, ["date"]))
        # The same from standard input, named as such.
        with open(os.path.join(ROOT, MSFT), "rb") as f:
            piped = self.run_ok(FIN_WINDOW, stdin=f.read())
        self.assertEqual(piped.stdout, result.stdout)
        self.assertEqual(piped.stderr.decode(), note("fin-window", "<stdin>", 2, ["date"]))

    def test_quiet_silences_the_note(self):
        loud = self.run_ok(FIN_WINDOW, "--size", "3", MSFT)
        quiet = self.run_ok(FIN_WINDOW, "-q", "--size", "3", MSFT)
        self.assertEqual(quiet.stderr, b"")
        self.assertEqual(quiet.stdout, loud.stdout)

    def test_columns_left_out_by_c(self):
        header, rows = read_csv(MSFT)
        result = self.run_ok(FIN_WINDOW, "-c", "Close", "--size", "3", MSFT)
        got_header, got = parse_csv(result.stdout)
        j = header.index("Close")
        want_header, want = windows(["date", "Close"], [[r[0], r[j]] for r in rows], 3)
        self.assertEqual((got_header, as_numbers(got)), (want_header, want))
        self.assertEqual(result.stderr.decode(), note("fin-window", MSFT, 2, ["date"]))

    def test_a_date_column_given_as_c_is_not_touched(self):
        header, rows = read_csv(MSFT)
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "date,Close", MSFT)
        self.assertEqual(message, f"fin-window: {MSFT}:2: column 'date': not a number: "
                                  f"'{rows[0][0]}'\n")
        for columns in ("1-2", "!Volume"):
            with self.subTest(columns=columns):
                self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", columns, MSFT)

    def test_k_changes_nothing(self):
        header, rows = read_csv(MSFT)
        result = self.run_ok(FIN_WINDOW, "-k", "Open", "--unsorted", "-c", "Close", "--size", "2",
                             MSFT)
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["Open", "Close_1", "Close_0", "y"])
        self.assertEqual([r[0] for r in got], [r[1] for r in rows[1:-1]])
        self.assertEqual(result.stderr, b"")

    def test_which_values_qualify(self):
        """Only a date with its day, or a date-time, in the first row."""
        path = self.path("forms.csv")
        days = [datetime.date(2021, 3, 1) + datetime.timedelta(days=i) for i in range(6)]
        columns = {
            "month": lambda d: d.strftime("%Y-%m"),
            "us": lambda d: d.strftime("%m/%d/%Y"),
            "missing": lambda d: "" if d == days[0] else d.isoformat(),
            "label": lambda d: "2021-03-01x",
            "stamp": lambda d: d.strftime("%Y-%m-%dT09:30:00+01:00"),
            "padded": lambda d: " " + d.isoformat(),
            "day": lambda d: d.isoformat(),
        }
        rows = [[f(d) for f in columns.values()] + [str(i)] for i, d in enumerate(days)]
        write_csv(path, [list(columns) + ["x"]] + rows)
        result = self.run_ok(FIN_WINDOW, "-c", "x", "--size", "2", path)
        self.assertEqual(result.stderr.decode(),
                         note("fin-window", path, 2, ["stamp", "padded", "day"]))
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["stamp", "x_1", "x_0", "y"])
        self.assertEqual([r[0] for r in got], [r[4] for r in rows[1:-1]])

    def test_the_first_of_two_date_columns(self):
        path = self.path("two-dates.csv")
        days = [datetime.date(2021, 3, 1) + datetime.timedelta(days=i) for i in range(5)]
        rows = [[str(i), d.isoformat(), (d + datetime.timedelta(days=2)).isoformat()]
                for i, d in enumerate(days)]
        write_csv(path, [["x", "trade", "settle"]] + rows)
        result = self.run_ok(FIN_WINDOW, "-c", "x", "--size", "2", path)
        self.assertEqual(result.stderr.decode(), note("fin-window", path, 2, ["trade", "settle"]))
        self.assertEqual(parse_csv(result.stdout)[0], ["trade", "x_1", "x_0", "y"])
        # -c choosing the first leaves the second.
        result = run(FIN_WINDOW, "-c", "trade", "--size", "2", path)
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertTrue(result.stderr.decode().startswith(note("fin-window", path, 2,
                                                               ["settle"])))

    def test_headerless_input(self):
        path = self.path("headerless.csv")
        write_csv(path, [["2021-03-0%d" % d, str(10 * d)] for d in range(1, 6)])
        result = self.run_ok(FIN_WINDOW, "-n", "--size", "2", path)
        self.assertEqual(result.stderr.decode(), note("fin-window", path, 1, ["1"]))
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["1", "2_1", "2_0", "y"])
        self.assertEqual(got, [["2021-03-02", "10", "20", "30"], ["2021-03-03", "20", "30", "40"],
                               ["2021-03-04", "30", "40", "50"]])

    def test_the_key_found_is_checked_for_order(self):
        header, rows = read_csv(MSFT)
        path = self.path("msft-newest-first.csv")
        write_csv(path, [header] + rows[::-1])
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-q", path)
        keys = [r[0] for r in rows[::-1]]
        self.assertEqual(message, order_error("fin-window", path, keys, 3, 2))
        self.run_ok(FIN_WINDOW, "-q", "--unsorted", path)

    def test_no_rows_no_note(self):
        path = self.path("header-only.csv")
        write_csv(path, [["date", "x"]])
        message = self.run_fails(EXIT_NO_ROWS, FIN_WINDOW, path)
        self.assertEqual(message, f"fin-window: {path}: no input rows\n")


class FinTrainTest(TimeKeyCase):
    def test_the_date_is_the_key_and_no_feature(self):
        header, rows = self.windows_file()
        model = self.path("train.json")
        result = self.run_ok(FIN_TRAIN, "--model", "linear", "--epochs", "2", "-o", model,
                             FILES["windows"])
        self.assertIn(note("fin-train", FILES["windows"], 2, ["date"]), result.stderr.decode())
        m = load(model)
        self.assertEqual(m["keys"], ["date"])
        self.assertEqual(m["features"], header[1:-1])
        quiet = self.run_ok(FIN_TRAIN, "-q", "--model", "linear", "--epochs", "2", "-o", model,
                            FILES["windows"])
        self.assertEqual(quiet.stderr, b"")

    def test_the_key_found_is_checked_for_order(self):
        _, rows = read_csv(FILES["reversed"])
        keys = [r[0] for r in rows]
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-q", "--model", "linear", "--epochs", "1",
                                 "-o", self.path("reversed.json"), FILES["reversed"])
        self.assertEqual(message, order_error("fin-train", FILES["reversed"], keys, 3, 2))
        self.run_ok(FIN_TRAIN, "-q", "--unsorted", "--model", "linear", "--epochs", "1", "-o",
                    self.path("reversed.json"), FILES["reversed"])

    def test_k_and_c_change_nothing(self):
        model = self.path("given.json")
        result = self.run_ok(FIN_TRAIN, "-k", "Close_0", "--unsorted", "--model", "linear",
                             "--epochs", "1", "-o", model, FILES["windows"])
        self.assertNotIn("ISO date", result.stderr.decode())
        self.assertEqual(load(model)["keys"], ["Close_0"])
        # -y names the date: never taken as the key.
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "date", "--task", "regression",
                                 "-o", model, FILES["windows"])
        self.assertNotIn("ISO date", message)


class FinPredictTest(TimeKeyCase):
    def test_a_model_without_keys(self):
        header, rows = self.windows_file()
        model = self.path("keyless.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "linear", "--epochs", "1", "-o", model,
                    FILES["no-date"])
        self.assertEqual(load(model)["keys"], [])
        result = self.run_ok(FIN_PREDICT, "-m", model, FILES["windows"])
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["date", "prediction"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertEqual(result.stderr.decode(), note("fin-predict", FILES["windows"], 2,
                                                      ["date"]))
        self.assertEqual(self.run_ok(FIN_PREDICT, "-q", "-m", model, FILES["windows"]).stderr,
                         b"")

    def test_the_model_keys_come_first(self):
        model = self.path("keyed.json")
        self.run_ok(FIN_TRAIN, "-q", "-k", "Close_4", "--unsorted", "--model", "linear",
                    "--epochs", "1", "-o", model, FILES["windows"])
        result = self.run_ok(FIN_PREDICT, "-m", model, FILES["windows"])
        self.assertEqual(parse_csv(result.stdout)[0], ["Close_4", "prediction"])
        self.assertEqual(result.stderr, b"")


class FinAnomalyTest(TimeKeyCase):
    def test_fit_and_score(self):
        header, rows = self.windows_file()
        result = self.run_ok(FIN_ANOMALY, "--method", "zscore", FILES["windows"])
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["date", "score", "anomaly"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertTrue(result.stderr.decode().startswith(
            note("fin-anomaly", FILES["windows"], 2, ["date"])))

    def test_fit_remembers_it_and_score_finds_it(self):
        header, rows = self.windows_file()
        detector = self.path("detector.json")
        self.run_ok(FIN_ANOMALY, "fit", "-q", "--method", "zscore", "-o", detector,
                    FILES["windows"])
        self.assertEqual(load(detector)["keys"], ["date"])
        keyless = self.path("keyless-detector.json")
        self.run_ok(FIN_ANOMALY, "fit", "-q", "--method", "zscore", "-o", keyless,
                    FILES["no-date"])
        result = self.run_ok(FIN_ANOMALY, "score", "-m", keyless, FILES["windows"])
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["date", "score", "anomaly"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertTrue(result.stderr.decode().startswith(
            note("fin-anomaly", FILES["windows"], 2, ["date"])))


class FinClusterTest(TimeKeyCase):
    def test_fit_and_assign(self):
        header, rows = self.windows_file()
        model = self.path("clusters.json")
        result = self.run_ok(FIN_CLUSTER, "--clusters", "2", "-o", model, FILES["windows"])
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["date", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertTrue(result.stderr.decode().startswith(
            note("fin-cluster", FILES["windows"], 2, ["date"])))
        self.assertEqual(load(model)["keys"], ["date"])
        keyless = self.path("keyless-clusters.json")
        self.run_ok(FIN_CLUSTER, "-q", "--clusters", "2", "-o", keyless, FILES["no-date"])
        result = self.run_ok(FIN_CLUSTER, "-m", keyless, FILES["windows"])
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header, ["date", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertEqual(result.stderr.decode(), note("fin-cluster", FILES["windows"], 2,
                                                      ["date"]))


class FinBacktestTest(TimeKeyCase):
    TRAIN, TEST = 100, 50

    def backtest(self, path, *extra):
        return run(FIN_BACKTEST, "-q", "--train-size", str(self.TRAIN), "--test-size",
                   str(self.TEST), *extra, path, "--", "fin-train", "--model", "linear",
                   "--epochs", "1")

    def test_the_model_key_is_the_date(self):
        header, rows = self.windows_file()
        result = self.backtest(FILES["windows"])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        got_header, got = parse_csv(result.stdout)
        self.assertEqual(got_header[:2], ["date", "y"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows[self.TRAIN:]])

    def test_the_date_is_checked_for_order(self):
        _, rows = self.windows_file()
        keys = [r[0] for r in rows]
        # In the first fold's training rows: fin-train stops it.
        _, reversed_rows = read_csv(FILES["reversed"])
        result = self.backtest(FILES["reversed"])
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertIn(order_error("fin-train", FILES["reversed"],
                                  [r[0] for r in reversed_rows], 3, 2), result.stderr.decode())
        # After them: fin-backtest checks every row on the model's key.
        header, _ = self.windows_file()
        swapped = list(rows)
        swapped[150], swapped[151] = swapped[151], swapped[150]
        path = self.path("late-swap.csv")
        write_csv(path, [header] + swapped)
        result = self.backtest(path)
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertEqual(result.stderr.decode().splitlines(keepends=True)[-1],
                         order_error("fin-backtest", path, [r[0] for r in swapped], 153, 152))


class FinEvalTest(TimeKeyCase):
    def test_no_key_is_looked_for(self):
        """fin-eval's keys are only never evaluated, and a date never is."""
        path = self.path("forecasts.csv")
        days = [datetime.date(2021, 3, 1) + datetime.timedelta(days=i) for i in range(30)]
        write_csv(path, [["date", "y", "prediction"]] +
                  [[d.isoformat(), str((-1) ** i * 0.01 * i), "0.001"] for i, d in enumerate(days)])
        plain = self.run_ok(FIN_EVAL, path)
        keyed = self.run_ok(FIN_EVAL, "-k", "date", path)
        self.assertEqual(plain.stdout, keyed.stdout)
        self.assertNotIn("ISO date", plain.stderr.decode())


if __name__ == "__main__":
    for tool in (FIN_WINDOW, FIN_TRAIN, FIN_PREDICT, FIN_ANOMALY, FIN_CLUSTER, FIN_BACKTEST,
                 FIN_EVAL):
        if not os.access(tool, os.X_OK):
            sys.exit(f"time_key_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
