#!/usr/bin/env python3
"""The time order of the key column, wherever it matters: fin-window,
fin-train (with a key) and fin-backtest refuse keys that go back, naming the
first line that does, as fin(7) says.

Run from the repository root as `FIN_BIN=build/bin python3
tests/time_order_test.py` (make check does). Keys are made here as Python
numbers, dates and zone-aware date-times; which line goes back first is
found by comparing those values, not the text, so that numbers whose text
sorts otherwise (9 before 10) and instants written in other zones (text
that goes back while the time goes on) are read as fin(7) says.
"""
import datetime
import os
import random
import subprocess
import sys
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, parse_csv, run, write_csv

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")

EXIT_DATA = 1
ROWS = 60
TRAIN_SIZE, TEST_SIZE = 30, 15

TMP = None


def number_keys(n):
    """8, 9, 10, ...: as text, "10" sorts before "9"."""
    return [(8 + i, str(8 + i)) for i in range(n)]


def date_keys(n):
    """Days across a month's and a year's end, and a leap day."""
    first = datetime.date(2019, 12, 20)
    days = [first + datetime.timedelta(days=3 * i) for i in range(n)]
    return [(d, d.isoformat()) for d in days]


def date_time_keys(n):
    """Instants 50 minutes apart, written in turn in UTC, at UTC-05:00 and
    without seconds at UTC+01:00, so that the text goes back every other
    row while the time goes on."""
    zones = [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-5)),
             datetime.timezone(datetime.timedelta(hours=1))]
    start = datetime.datetime(2020, 3, 6, 22, 0, tzinfo=datetime.timezone.utc)
    out = []
    for i in range(n):
        t = start + datetime.timedelta(minutes=50 * i)
        local = t.astimezone(zones[i % 3])
        if i % 3 == 0:
            text = local.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif i % 3 == 1:
            text = local.isoformat()
        else:
            text = local.strftime("%Y-%m-%d %H:%M") + "+0100"
        out.append((t, text))
    return out


KINDS = {"numbers": number_keys, "dates": date_keys, "date-times": date_time_keys}


def first_step_back(keys, strict):
    """(line, earlier line) of the first key not after the one before it;
    data row i is on line i + 2."""
    for i in range(1, len(keys)):
        if keys[i][0] < keys[i - 1][0] or (strict and keys[i][0] == keys[i - 1][0]):
            return i + 2, i + 1
    return None


def table(name, keys):
    """A file of key, two features and a target, rows in the order given."""
    rng = random.Random(len(keys))
    rows = [["key", "x1", "x2", "y"]]
    for _, text in keys:
        x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
        rows.append([text, f"{x1:.6f}", f"{x2:.6f}", f"{0.5 * x1 - x2 + rng.gauss(0, 0.1):.6f}"])
    path = os.path.join(TMP.name, name)
    write_csv(path, rows)
    return path


def orders(keys):
    """The same keys newest-first, and shuffled with a step back within the
    first fold's training rows."""
    rng = random.Random(7)
    shuffled = list(keys)
    while True:
        rng.shuffle(shuffled)
        back = first_step_back(shuffled, strict=False)
        if back and back[0] <= TRAIN_SIZE + 1:
            break
    return {"newest-first": keys[::-1], "shuffled": shuffled}


# The three tools, each with -k key: fin-window with its windows of x1,
# fin-train with a linear model, fin-backtest with -k and the same model.
# paths is one file or a list of them.
def files(paths):
    return [paths] if isinstance(paths, str) else list(paths)


def window_args(paths, *extra):
    return [FIN_WINDOW, "-q", "-c", "x1", "-k", "key", "--size", "3", *extra, *files(paths)]


def train_args(paths, *extra):
    return [FIN_TRAIN, "-q", "--model", "linear", "--epochs", "1", "-k", "key", "-y", "y",
            "-o", os.path.join(TMP.name, "model.json"), *extra, *files(paths)]


def backtest_args(paths, *extra):
    return [FIN_BACKTEST, "-q", "-k", "key", "--train-size", str(TRAIN_SIZE), "--test-size",
            str(TEST_SIZE), *extra, *files(paths), "--", "fin-train", "--model", "linear",
            "--epochs", "1", "-y", "y", "-k", "key"]


TOOLS = {"fin-window": (window_args, True), "fin-train": (train_args, False),
         "fin-backtest": (backtest_args, False)}


def message(tool, path, keys, line, before):
    return (f"{tool}: {path}:{line}: column 'key': '{keys[line - 2][1]}' comes before "
            f"'{keys[before - 2][1]}' on line {before}: the key must increase (newest-first? "
            f"sort it, or give --unsorted)\n")


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-order-test-")


def tearDownModule():
    TMP.cleanup()


def env_tmpdir():
    return dict(os.environ, TMPDIR=TMP.name)


class TimeOrderTest(FinCase):
    def run_tool(self, args):
        return subprocess.run(args, capture_output=True, timeout=120, env=env_tmpdir())

    def test_increasing_keys_pass(self):
        for kind, make in KINDS.items():
            path = table(f"in-order-{kind}.csv", make(ROWS))
            for tool, (args, _) in TOOLS.items():
                with self.subTest(kind=kind, tool=tool):
                    result = self.run_tool(args(path))
                    self.assertEqual(result.returncode, 0, result.stderr.decode())

    def test_the_first_line_that_goes_back_is_named(self):
        for kind, make in KINDS.items():
            for order, keys in orders(make(ROWS)).items():
                path = table(f"{order}-{kind}.csv", keys)
                line, before = first_step_back(keys, strict=False)
                for tool, (args, _) in TOOLS.items():
                    with self.subTest(kind=kind, order=order, tool=tool):
                        result = self.run_tool(args(path))
                        self.assertEqual(result.returncode, EXIT_DATA, result.stderr.decode())
                        self.assertEqual(result.stderr.decode(),
                                         message(tool, path, keys, line, before))
                        if tool != "fin-window":  # a stream: its header is out
                            self.assertEqual(result.stdout, b"")

    def test_unsorted_takes_the_rows_as_they_come(self):
        keys = orders(date_keys(ROWS))["shuffled"]
        path = table("unsorted.csv", keys)
        for tool, (args, _) in TOOLS.items():
            with self.subTest(tool=tool):
                result = self.run_tool(args(path, "--unsorted"))
                self.assertEqual(result.returncode, 0, result.stderr.decode())
        out = self.run_tool(window_args(path, "--unsorted"))
        _, rows = parse_csv(out.stdout)
        self.assertEqual([r[0] for r in rows], [text for _, text in keys[2:-1]])

    def test_a_repeated_time_is_refused_in_a_series_only(self):
        """fin-window makes windows of one series, one row per time; fin-train
        and fin-backtest may read a panel, several rows per time."""
        keys = date_keys(ROWS)
        keys[20] = (keys[19][0], keys[19][0].isoformat() + "T00:00:00Z")
        path = table("repeated.csv", keys)
        for tool, (args, strict) in TOOLS.items():
            with self.subTest(tool=tool):
                result = self.run_tool(args(path))
                if not strict:
                    self.assertEqual(result.returncode, 0, result.stderr.decode())
                    continue
                self.assertEqual(result.returncode, EXIT_DATA)
                self.assertEqual(result.stderr.decode(),
                                 f"{tool}: {path}:22: column 'key': '{keys[20][1]}' is the time "
                                 f"of '{keys[19][1]}' on line 21: the key must increase, one row "
                                 f"per time (a repeated row, or two series in one file? or give "
                                 f"--unsorted)\n")

    def test_keys_that_are_not_times(self):
        keys = [(i, f"{d.month:02d}/{d.day:02d}/{d.year}") for i, (d, _) in
                enumerate(date_keys(ROWS))]
        path = table("us-dates.csv", keys)
        for tool, (args, _) in TOOLS.items():
            with self.subTest(tool=tool):
                result = self.run_tool(args(path))
                self.assertEqual(result.returncode, EXIT_DATA)
                self.assertEqual(result.stderr.decode(),
                                 f"{tool}: {path}:2: column 'key': '{keys[0][1]}' is neither a "
                                 f"number nor an ISO date such as 2020-01-03 or "
                                 f"2020-01-03T09:30:00: the time order cannot be checked (give "
                                 f"--unsorted to take the rows as they come)\n")
                self.assertEqual(self.run_tool(args(path, "--unsorted")).returncode, 0)

    def test_the_order_runs_on_across_files(self):
        keys = number_keys(ROWS)
        first, second = table("part1.csv", keys[30:]), table("part2.csv", keys[:30])
        for tool, (args, _) in TOOLS.items():
            with self.subTest(tool=tool):
                result = self.run_tool(args([first, second]))
                self.assertEqual(result.returncode, EXIT_DATA, result.stderr.decode())
                self.assertEqual(result.stderr.decode(),
                                 f"{tool}: {second}:2: column 'key': '8' comes before '67' on "
                                 f"{first}:31: the key must increase (newest-first? sort it, or "
                                 f"give --unsorted)\n")

    def test_fin_train_checks_only_a_key(self):
        """Without -k, numbers are no key and are not checked; a column of
        dates is the key (fin(7), KEYS), checked as if -k had named it."""
        path = table("no-key.csv", number_keys(ROWS)[::-1])
        args = [a for a in train_args(path) if a not in ("-k", "key")]
        result = self.run_tool(args)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        keys = date_keys(ROWS)[::-1]
        path = table("date-key.csv", keys)
        args = [a for a in train_args(path) if a not in ("-k", "key")]
        result = self.run_tool(args)
        self.assertEqual(result.returncode, EXIT_DATA, result.stderr.decode())
        self.assertEqual(result.stderr.decode(), message("fin-train", path, keys, 3, 2))


class BacktestModelKeyTest(FinCase):
    """Without -k, fin-backtest takes the time from the model's first key
    (fin-train -k), known once the first fold has trained."""

    def test_a_step_back_after_the_first_training_rows(self):
        keys = date_keys(ROWS)
        keys[50], keys[51] = keys[51], keys[50]
        path = table("late-swap.csv", keys)
        args = [a for a in backtest_args(path) if a != "-q"]
        k = args.index("-k")
        del args[k:k + 2]
        result = subprocess.run(args, capture_output=True, timeout=120, env=env_tmpdir())
        self.assertEqual(result.returncode, EXIT_DATA)
        lines = result.stderr.decode().splitlines(keepends=True)
        self.assertEqual(lines[-1], message("fin-backtest", path, keys, 53, 52))
        self.assertEqual([l for l in lines if "fold 2/" in l], [])

    def test_unsorted_given_to_fin_train_is_enough(self):
        keys = date_keys(ROWS)
        keys[50], keys[51] = keys[51], keys[50]
        path = table("late-swap-unsorted.csv", keys)
        args = backtest_args(path)
        k = args.index("-k")
        del args[k:k + 2]
        result = subprocess.run(args + ["--unsorted"], capture_output=True, timeout=120,
                                env=env_tmpdir())
        self.assertEqual(result.returncode, 0, result.stderr.decode())


if __name__ == "__main__":
    for tool in (FIN_WINDOW, FIN_TRAIN, FIN_BACKTEST):
        if not os.access(tool, os.X_OK):
            sys.exit(f"time_order_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
