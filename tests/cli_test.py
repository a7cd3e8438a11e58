#!/usr/bin/env python3
"""Command-line tests of fin-window, checked against fin-window(1).

Run from the repository root as `FIN_BIN=build/bin python3 tests/cli_test.py`
(make check does). Every expected value comes from the small reference
implementation of the man page below, computed from the input file itself;
nothing is copied from the program's own output.
"""
import csv
import io
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import unittest
from collections import namedtuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.path.abspath(os.environ.get("FIN_BIN", os.path.join(ROOT, "build", "bin")))
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")

# Paths as given on the command line (the tool runs in ROOT), so that they
# are also what error messages name.
EUSTOCK = "data/eustockmarkets.csv"
GOLD = "data/gold_daily.csv"
MSFT = "data/msft.csv"

PRICES = ["DAX", "SMI", "CAC", "FTSE"]
TRANSFORMS = ["level", "diff", "ret", "logret"]
NORMS = ["none", "zscore", "minmax", "last"]

# The look-ahead test alters every row from this data row index on.
LOOKAHEAD_ROW = 1000

EXIT_DATA, EXIT_USAGE, EXIT_NO_ROWS = 1, 2, 4

# Derived input files, written once by setUpModule.
TMP = None
FILES = {}


# ---------------------------------------------------------------- reference

def read_csv(path, delimiter=",", header=True):
    """Header names and data rows of a CSV file, as lists of strings."""
    with open(os.path.join(ROOT, path), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    if not header:
        return [str(i + 1) for i in range(len(rows[0]))], rows
    return rows[0], rows[1:]


def write_csv(path, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\n").writerows(rows)


def parse_number(field):
    """A field as the man page reads it: None for a missing value."""
    text = field.strip(" \t")
    return None if text in ("", "NA", "NaN", "null") else float(text)


def fill_forward(levels):
    last, out = None, []
    for x in levels:
        if x is not None:
            last = x
        out.append(last)
    return out


def transform(levels, kind):
    """Transformed values, None where there is none: the first row, and for
    the change transforms a missing value and the row after it."""
    out, prev = [], None
    for x in levels:
        if kind == "level":
            z = x
        elif x is None or prev is None:
            z = None
        elif kind == "diff":
            z = x - prev
        elif kind == "ret":
            z = x / prev - 1
        else:
            z = math.log(x / prev)
        out.append(z)
        prev = x
    return out


def normalise(window, kind):
    """The normalised window, and for each value the magnitude of the numbers
    it was computed from: a value near 0 that came from subtracting numbers
    of that size cannot be more exact than rounding at that size."""
    n = len(window)
    if kind == "none":
        return list(window), [abs(x) for x in window]
    if kind == "last":
        return [x / window[-1] for x in window], [abs(x / window[-1]) for x in window]
    if kind == "zscore":
        centre, spread = statistics.mean(window), statistics.stdev(window)
    else:
        centre, spread = min(window), max(window) - min(window)
    if spread == 0:
        return [0.0] * n, [0.0] * n
    scale = max(abs(x) for x in window) / spread
    return [(x - centre) / spread for x in window], [scale] * n


def sequential_sum(values):
    total = 0.0
    for v in values:  # oldest first, as the rows arrive
        total += v
    return total


Window = namedtuple("Window", "row keys features scales y y_scale directions")


def reference_windows(path, channels, keys=(), size=20, horizon=1, stride=1,
                      transform_kind="level", norm="none", target="next",
                      target_column=None, na="error", delimiter=",", header=True):
    """The windows fin-window(1) describes, from the input file alone."""
    names, rows = read_csv(path, delimiter, header)
    col = {name: i for i, name in enumerate(names)}
    z = {}
    for c in channels:
        levels = [parse_number(r[col[c]]) for r in rows]
        if na == "ffill":
            levels = fill_forward(levels)
        z[c] = transform(levels, transform_kind)
    ahead = 0 if target == "none" else horizon
    first_end = size - 1 if transform_kind == "level" else size
    tz = z[target_column or channels[0]]
    out = []
    for end in range(first_end, len(rows) - ahead, stride):
        span = range(end - size + 1, end + ahead + 1)
        if any(z[c][i] is None for c in channels for i in span):
            continue  # only reachable under --na skip or ffill
        features, scales = [], []
        for c in channels:
            values, value_scales = normalise(z[c][end - size + 1:end + 1], norm)
            features += values
            scales += value_scales
        y = y_scale = directions = None
        if target == "next":
            y = tz[end + horizon]
            y_scale = abs(y)
        elif target in ("sum", "direction"):
            terms = tz[end + 1:end + horizon + 1]
            y, y_scale = sequential_sum(terms), sum(abs(t) for t in terms)
            # When rounding decides the sign of a sum that is 0 within
            # rounding, the man page allows either answer.
            directions = {1 if s > 0 else 0 for s in (y, math.fsum(terms))}
        out.append(Window(end, [rows[end][col[k]] for k in keys], features, scales,
                          y, y_scale, directions))
    return out


def reference_header(keys, channels, size, target="next"):
    lags = [f"{c}_{lag}" for c in channels for lag in range(size - 1, -1, -1)]
    return list(keys) + lags + ([] if target == "none" else ["y"])


def close(got, want, scale):
    """Equal to 1e-12 relative, or near 0 to 1e-15 of the magnitude the value
    was computed from (1e-15 absolute when that magnitude is below 1)."""
    diff = abs(got - want)
    return diff <= 1e-12 * abs(want) or diff <= 1e-15 * max(scale, 1.0)


# ------------------------------------------------------------------ running

def run(*args, stdin=None, restore_signals=True):
    return subprocess.run([FIN_WINDOW, *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=60, restore_signals=restore_signals)


def parse_output(data):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def window_args(channels, keys=(), size=20, horizon=1, stride=1, transform_kind="level",
                norm="none", target="next", target_column=None, na="error", columns=None):
    """fin-window options for the reference_windows arguments of the same name;
    columns, if given, is the -c text that should choose the channels."""
    args = ["-c", columns or ",".join(channels), "--size", str(size), "--horizon", str(horizon),
            "--stride", str(stride), "--transform", transform_kind, "--norm", norm,
            "--target", target, "--na", na]
    if keys:
        args += ["-k", ",".join(keys)]
    if target_column:
        args += ["--target-column", target_column]
    return args


# ------------------------------------------------------------------ fixtures

def data_row_index(path):
    """Key t -> data row index of eustockmarkets-like files."""
    return {r[0]: i for i, r in enumerate(read_csv(path)[1])}


def altered_copy(path, dest, from_row, seed):
    """path with every price from data row from_row on multiplied by a random
    factor in [0.5, 1.5]: the future, changed."""
    names, rows = read_csv(path)
    rng = random.Random(seed)
    out = [names]
    for i, r in enumerate(rows):
        if i >= from_row:
            r = [r[0]] + [repr(float(x) * rng.uniform(0.5, 1.5)) for x in r[1:]]
        out.append(r)
    write_csv(dest, out)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-window-test-")

    def path(name):
        FILES[name] = os.path.join(TMP.name, name)
        return FILES[name]

    names, rows = read_csv(EUSTOCK)
    with open(os.path.join(ROOT, EUSTOCK), "rb") as f:
        raw = f.read()
    assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    crlf = raw.replace(b"\n", b"\r\n")
    for name, data in (("crlf.csv", crlf), ("bom.csv", b"\xef\xbb\xbf" + raw),
                       ("bom_crlf.csv", b"\xef\xbb\xbf" + crlf)):
        with open(path(name), "wb") as f:
            f.write(data)
    write_csv(path("semicolon.csv"), [names] + rows, delimiter=";")
    write_csv(path("tab.csv"), [names] + rows, delimiter="\t")
    write_csv(path("no_header.csv"), rows)
    half = len(rows) // 2
    write_csv(path("first_half.csv"), [names] + rows[:half])
    write_csv(path("second_half.csv"), [names] + rows[half:])
    write_csv(path("second_half_renamed.csv"), [["t", "DAX", "SMI", "CAC", "UKX"]] + rows[half:])
    write_csv(path("header_only.csv"), [names])

    # A zero change is a documented data error under --norm last, and DAX
    # repeats its price now and then: this copy leaves out every row whose
    # DAX equals the previous kept one, so that every transform can meet
    # every norm.
    kept, last = [], None
    for r in rows:
        if r[1] != last:
            kept.append(r)
        last = r[1]
    write_csv(path("dax_no_repeats.csv"), [names] + kept)

    altered_copy(EUSTOCK, path("altered.csv"), LOOKAHEAD_ROW, seed=20261130)
    altered_copy(FILES["dax_no_repeats.csv"], path("altered_no_repeats.csv"), LOOKAHEAD_ROW,
                 seed=20261130)


def tearDownModule():
    TMP.cleanup()


class FinWindowTest(unittest.TestCase):
    def run_ok(self, *args, stdin=None):
        result = run(*args, stdin=stdin)
        self.assertEqual(result.returncode, 0,
                         f"fin-window {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result

    def run_fails(self, code, *args, stdin=None):
        """Runs a failing command; returns its one-line message."""
        result = run(*args, stdin=stdin)
        self.assertEqual(result.returncode, code,
                         f"fin-window {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        message = result.stderr.decode()
        self.assertTrue(message.startswith("fin-window: "), message)
        return message

    def check_windows(self, path, exact=False, extra_args=(), header=True, columns=None,
                      **options):
        """Runs fin-window on path and compares every field with the reference.
        exact: numbers must be bit-identical (no arithmetic beyond IEEE
        operations both sides do the same way)."""
        result = self.run_ok(*extra_args, *window_args(columns=columns, **options), path)
        names, rows = parse_output(result.stdout)
        channels, keys = options["channels"], options.get("keys", ())
        size, target = options.get("size", 20), options.get("target", "next")
        self.assertEqual(names, reference_header(keys, channels, size, target))
        want = reference_windows(path, header=header, **options)
        self.assertEqual([r[:len(keys)] for r in rows], [w.keys for w in want])
        for got, w in zip(rows, want):
            self.assertEqual(len(got), len(names), got)
            values = [float(v) for v in got[len(keys):]]
            features = values[:len(w.features)]
            if exact:
                self.assertEqual(features, w.features, f"row {w.row}")
            else:
                for g, v, s in zip(features, w.features, w.scales):
                    self.assertTrue(close(g, v, s), f"row {w.row}: got {g!r}, want {v!r}")
            if target == "direction":
                self.assertIn(got[-1], ("0", "1"))
                self.assertIn(int(got[-1]), w.directions, f"row {w.row}")
            elif target == "next" and exact:
                self.assertEqual(values[-1], w.y, f"row {w.row}")
            elif target != "none":
                self.assertTrue(close(values[-1], w.y, w.y_scale),
                                f"row {w.row}: y {values[-1]!r}, want {w.y!r}")
        return result, want


# ------------------------------------------------------------------- tests

class LayoutTest(FinWindowTest):
    def test_keys_then_lags_oldest_first_channel_by_channel_then_y(self):
        result = self.run_ok("-k", "t,FTSE", "-c", "SMI,DAX", "--size", "3", EUSTOCK)
        header, _ = parse_output(result.stdout)
        self.assertEqual(header, ["t", "FTSE", "SMI_2", "SMI_1", "SMI_0",
                                  "DAX_2", "DAX_1", "DAX_0", "y"])

    def test_default_size_is_20_and_target_none_has_no_y(self):
        result = self.run_ok("-k", "t", "-c", "CAC", "--target", "none", EUSTOCK)
        header, _ = parse_output(result.stdout)
        self.assertEqual(header, ["t"] + [f"CAC_{lag}" for lag in range(19, -1, -1)])

    def test_keys_come_from_the_newest_row_of_the_window(self):
        _, want = self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=4,
                                     exact=True)
        _, rows = read_csv(EUSTOCK)
        self.assertEqual(want[0].keys, [rows[3][0]])


class TransformTest(FinWindowTest):
    def test_each_transform_with_norm_none_is_bit_exact(self):
        # Both sides parse with correct rounding and do the same single IEEE
        # operations (and the same libm log), so values and the target agree
        # to the bit once the written text is read back.
        for kind in TRANSFORMS:
            with self.subTest(transform=kind):
                self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=5, horizon=3,
                                   transform_kind=kind, exact=True)

    def test_logret_of_a_value_not_above_0_is_a_data_error(self):
        path = os.path.join(TMP.name, "zero_price.csv")
        write_csv(path, [["d", "p"], ["1", "2"], ["2", "0"], ["3", "1"], ["4", "2"]])
        self.run_fails(EXIT_DATA, "-c", "p", "--size", "1", "--transform", "logret", path)
        self.run_fails(EXIT_DATA, "-c", "p", "--size", "1", "--transform", "ret", path)
        # diff of the same values is fine: 0 is a price like any other there.
        self.run_ok("-c", "p", "--size", "1", "--transform", "diff", path)


class NormTest(FinWindowTest):
    def test_each_norm_with_each_transform(self):
        for kind in TRANSFORMS:
            for norm in NORMS:
                # A zero change under --norm last is a data error (tested below).
                zero_changes = norm == "last" and kind != "level"
                path = FILES["dax_no_repeats.csv"] if zero_changes else EUSTOCK
                with self.subTest(transform=kind, norm=norm):
                    self.check_windows(path, channels=["DAX"], keys=["t"], size=5, horizon=2,
                                       transform_kind=kind, norm=norm)

    def test_norm_last_with_a_newest_value_of_0_is_a_data_error(self):
        # DAX repeats a price, so some window of diffs ends in 0.
        self.run_fails(EXIT_DATA, "-c", "DAX", "--size", "5", "--transform", "diff",
                       "--norm", "last", EUSTOCK)

    def test_a_window_without_spread_is_all_zeros(self):
        path = os.path.join(TMP.name, "flat.csv")
        write_csv(path, [["d", "p"]] + [[str(i), "7.5"] for i in range(6)])
        for norm, window in (("zscore", [0.0] * 3), ("minmax", [0.0] * 3), ("last", [1.0] * 3)):
            with self.subTest(norm=norm):
                result = self.run_ok("-c", "p", "--size", "3", "--norm", norm, path)
                _, rows = parse_output(result.stdout)
                self.assertEqual(len(rows), 3)
                for row in rows:
                    self.assertEqual([float(v) for v in row], window + [7.5])

    def test_zscore_and_minmax_need_size_2(self):
        for norm in ("zscore", "minmax"):
            self.run_fails(EXIT_USAGE, "-c", "DAX", "--size", "1", "--norm", norm, EUSTOCK)


class TargetTest(FinWindowTest):
    def test_each_target_with_horizon_3(self):
        for kind in TRANSFORMS:
            for target in ("next", "sum", "direction", "none"):
                with self.subTest(transform=kind, target=target):
                    self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=5, horizon=3,
                                       transform_kind=kind, target=target,
                                       exact=target in ("next", "none"))

    def test_target_none_reaches_the_last_row(self):
        _, want = self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=5,
                                     target="none", horizon=3)
        self.assertEqual(want[-1].row, len(read_csv(EUSTOCK)[1]) - 1)

    def test_direction_of_diff_with_zscore(self):
        self.check_windows(EUSTOCK, channels=["DAX", "SMI"], keys=["t"], size=10, horizon=5,
                           transform_kind="diff", norm="zscore", target="direction",
                           target_column="SMI")


class StrideTest(FinWindowTest):
    def test_windows_end_at_f_f_plus_s(self):
        # f is row N-1 for level and row N for the change transforms.
        for kind, first in (("level", 5), ("logret", 6)):
            with self.subTest(transform=kind):
                _, want = self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=6,
                                             horizon=2, stride=7, transform_kind=kind,
                                             exact=True)
                self.assertEqual([w.row for w in want[:3]], [first, first + 7, first + 14])


class ChannelTest(FinWindowTest):
    def test_several_channels_and_target_column(self):
        options = dict(channels=["DAX", "SMI"], keys=["t"], size=5, horizon=3,
                       transform_kind="logret", target="sum")
        joined, _ = self.check_windows(EUSTOCK, target_column="SMI", **options)
        repeated = self.run_ok("-c", "DAX", "-c", "SMI", "-k", "t", "--size", "5",
                               "--horizon", "3", "--transform", "logret", "--target", "sum",
                               "--target-column", "SMI", EUSTOCK)
        self.assertEqual(repeated.stdout, joined.stdout)
        # The default target channel is the first one.
        self.check_windows(EUSTOCK, **options)

    def test_target_column_must_be_a_channel(self):
        self.run_fails(EXIT_USAGE, "-c", "DAX", "--target-column", "SMI", EUSTOCK)

    def test_index_range_and_negation_select_the_same_columns_as_names(self):
        by_name = self.check_windows(EUSTOCK, channels=["DAX", "SMI"], keys=["t"], size=4,
                                     exact=True)[0]
        self.assertEqual(self.run_ok("-c", "2-3", "-k", "1", "--size", "4", EUSTOCK).stdout,
                         by_name.stdout)
        self.assertEqual(self.run_ok("-c", "2,3", "-k", "t", "--size", "4", EUSTOCK).stdout,
                         by_name.stdout)
        every_price = self.check_windows(EUSTOCK, channels=PRICES, keys=["t"], size=4,
                                         exact=True)[0]
        self.assertEqual(self.run_ok("-c", "!t", "-k", "t", "--size", "4", EUSTOCK).stdout,
                         every_price.stdout)
        # Without -c every column that is not a key is a channel.
        self.assertEqual(self.run_ok("-k", "t", "--size", "4", EUSTOCK).stdout,
                         every_price.stdout)
        three = self.check_windows(EUSTOCK, channels=["DAX", "CAC", "FTSE"], keys=["t"],
                                   size=4, exact=True)[0]
        self.assertEqual(
            self.run_ok("-c", "!t,!SMI", "-k", "t", "--size", "4", EUSTOCK).stdout, three.stdout)

    def test_a_header_name_wins_over_index_range_and_list(self):
        path = os.path.join(TMP.name, "odd_names.csv")
        write_csv(path, [["day", "a", "b,c", "2-3", "1"]] +
                  [[str(d), str(10 + d), str(20 + d), str(30 + d), str(40 + d)] for d in range(4)])
        for spec, name in (("2-3", "2-3"), ("1", "1"), ("b,c", "b,c")):
            with self.subTest(columns=spec):
                self.check_windows(path, channels=[name], keys=["day"], size=2, exact=True,
                                   columns=spec)

    def test_only_negations_choose_every_other_column_keys_included(self):
        # The man page: "With only negations, every other column is chosen".
        self.assertEqual(
            self.run_ok("-c", "!SMI", "-k", "t", "--size", "3", EUSTOCK).stdout,
            self.run_ok("-c", "t,DAX,CAC,FTSE", "-k", "t", "--size", "3", EUSTOCK).stdout)

    def test_unknown_column_is_a_usage_error(self):
        self.run_fails(EXIT_USAGE, "-c", "DAX,NIKKEI", EUSTOCK)
        self.run_fails(EXIT_USAGE, "-c", "DAX", "-k", "date", EUSTOCK)
        self.run_fails(EXIT_USAGE, "-c", "2-9", EUSTOCK)


class KeyTest(FinWindowTest):
    def test_keys_pass_through_untouched_and_rfc4180_quoted(self):
        keys = [" 2020-01-01 ", "a,b", 'say "hi"', "", "two\nlines", "plain"]
        path = os.path.join(TMP.name, "keys.csv")
        write_csv(path, [["when", "p"]] + [[k, str(i + 1)] for i, k in enumerate(keys)])
        result = self.run_ok("-k", "when", "--unsorted", "-c", "p", "--size", "1", "--target",
                             "none", path)
        _, rows = parse_output(result.stdout)
        self.assertEqual([r[0] for r in rows], keys)
        text = result.stdout.decode()
        self.assertIn('\n"a,b",2\n', text)
        self.assertIn('\n"say ""hi""",3\n', text)
        self.assertIn('\n"two\nlines",5\n', text)
        self.assertIn("\n 2020-01-01 ,1\n", text)

    def test_a_key_with_a_comma_read_with_another_delimiter_comes_out_quoted(self):
        path = os.path.join(TMP.name, "keys_semicolon.csv")
        with open(path, "w") as f:
            f.write("when;p\na,b;1\nc;2\n")
        result = self.run_ok("-d", ";", "-k", "when", "--unsorted", "-c", "p", "--size", "1",
                             "--target", "none", path)
        self.assertEqual(result.stdout, b'when,p_0\n"a,b",1\nc,2\n')

    def test_quoted_header_and_dates_of_msft(self):
        self.check_windows(MSFT, channels=["Close", "Volume"], keys=["date", "Volume"], size=5,
                           horizon=2, transform_kind="logret", exact=True)
        # the first key is the time: Volume does not increase
        self.check_windows(MSFT, channels=["Close"], keys=["Volume", "date"], size=5,
                           extra_args=["--unsorted"], exact=True)


class InputFormatTest(FinWindowTest):
    ARGS = ["-c", "DAX,FTSE", "-k", "t", "--size", "5", "--transform", "logret"]

    def plain_output(self):
        return self.check_windows(EUSTOCK, channels=["DAX", "FTSE"], keys=["t"], size=5,
                                  transform_kind="logret", exact=True)[0].stdout

    def test_crlf_and_bom_read_like_the_plain_file(self):
        plain = self.plain_output()
        for name in ("crlf.csv", "bom.csv", "bom_crlf.csv"):
            with self.subTest(file=name):
                self.assertEqual(self.run_ok(*self.ARGS, FILES[name]).stdout, plain)

    def test_semicolon_and_tab_delimiters(self):
        plain = self.plain_output()
        for name, delim in (("semicolon.csv", ";"), ("tab.csv", "tab"), ("tab.csv", "\t")):
            with self.subTest(delimiter=delim):
                self.assertEqual(self.run_ok(*self.ARGS, "-d", delim, FILES[name]).stdout, plain)

    def test_no_header_names_columns_by_number(self):
        options = dict(channels=["2"], keys=["1"], size=5, horizon=2, transform_kind="diff")
        result, _ = self.check_windows(FILES["no_header.csv"], extra_args=["-n"], header=False,
                                       exact=True, **options)
        self.assertEqual(parse_output(result.stdout)[0],
                         ["1", "2_4", "2_3", "2_2", "2_1", "2_0", "y"])
        long_form = self.run_ok("--no-header", *window_args(**options), FILES["no_header.csv"])
        self.assertEqual(long_form.stdout, result.stdout)

    def test_files_are_read_one_after_the_other(self):
        plain = self.plain_output()
        both = self.run_ok(*self.ARGS, FILES["first_half.csv"], FILES["second_half.csv"])
        self.assertEqual(both.stdout, plain)
        with open(FILES["second_half.csv"], "rb") as f:
            from_stdin = self.run_ok(*self.ARGS, FILES["first_half.csv"], "-", stdin=f.read())
        self.assertEqual(from_stdin.stdout, plain)

    def test_a_later_file_with_another_header_is_an_error(self):
        result = run(*self.ARGS, FILES["first_half.csv"], FILES["second_half_renamed.csv"])
        self.assertIn(result.returncode, (EXIT_DATA, EXIT_USAGE))
        message = result.stderr.decode()
        self.assertTrue(message.startswith("fin-window: "), message)
        self.assertIn(FILES["second_half_renamed.csv"], message)

    def test_a_file_that_cannot_be_opened_is_a_usage_error(self):
        self.run_fails(EXIT_USAGE, "-c", "DAX", os.path.join(TMP.name, "absent.csv"))


class MissingValueTest(FinWindowTest):
    def first_missing_line(self, path, column):
        """Physical line of the first missing value, counted by the csv module."""
        with open(os.path.join(ROOT, path), newline="") as f:
            reader = csv.reader(f)
            names = next(reader)
            for row in reader:
                if parse_number(row[names.index(column)]) is None:
                    return reader.line_num
        raise AssertionError(f"{path} has no missing {column}")

    def test_error_is_the_default(self):
        line = self.first_missing_line(GOLD, "price")
        for args in ([], ["--na", "error"]):
            message = self.run_fails(EXIT_DATA, "-c", "price", "-k", "day", *args, GOLD)
            self.assertIn(f"{GOLD}:{line}:", message)
            self.assertIn("'price'", message)
            self.assertEqual(message.count("\n"), 1, message)

    def test_skip_leaves_out_exactly_the_windows_spanning_a_gap(self):
        for kind, size, horizon, stride, target in (("logret", 10, 5, 1, "direction"),
                                                    ("level", 5, 3, 1, "next"),
                                                    ("diff", 4, 2, 3, "sum"),
                                                    ("ret", 6, 1, 1, "none")):
            with self.subTest(transform=kind, size=size, horizon=horizon, stride=stride):
                result, want = self.check_windows(
                    GOLD, channels=["price"], keys=["day"], size=size, horizon=horizon,
                    stride=stride, transform_kind=kind, target=target, na="skip",
                    exact=target != "sum")
                # The gaps really left windows out.
                rows = len(read_csv(GOLD)[1])
                all_ends = range(size - (kind == "level"), rows - horizon * (target != "none"),
                                 stride)
                self.assertLess(len(want), len(all_ends) - 50)
                self.assertNotEqual(result.stderr, b"")  # the counts

    def test_quiet_silences_the_counts(self):
        result = self.run_ok("-q", "-c", "price", "--na", "skip", GOLD)
        self.assertEqual(result.stderr, b"")

    def test_ffill_uses_the_last_value_seen(self):
        self.check_windows(GOLD, channels=["price"], keys=["day"], size=10, horizon=5,
                           transform_kind="logret", target="sum", na="ffill")
        self.check_windows(GOLD, channels=["price"], keys=["day"], size=3, horizon=2,
                           na="ffill", exact=True)

    def test_every_spelling_of_missing_and_ffill_with_nothing_before(self):
        prices = ["", "NA", "1", "2", "3", "4", "NaN", "6", "7", "8", "9", "null", "11", "12",
                  "13", "14", " ", "16", "17", "18", "19"]
        path = os.path.join(TMP.name, "spellings.csv")
        write_csv(path, [["d", "p"]] + [[str(i), p] for i, p in enumerate(prices)])
        for na in ("skip", "ffill"):
            for kind in ("level", "diff"):
                with self.subTest(na=na, transform=kind):
                    _, want = self.check_windows(path, channels=["p"], keys=["d"], size=2,
                                                 transform_kind=kind, na=na, exact=True)
                    self.assertTrue(want)


class OutputTest(FinWindowTest):
    def test_output_file(self):
        args = ["-c", "DAX", "-k", "t", "--size", "5"]
        to_stdout = self.check_windows(EUSTOCK, channels=["DAX"], keys=["t"], size=5,
                                       exact=True)[0].stdout
        for option in ("-o", "--output"):
            with self.subTest(option=option):
                path = os.path.join(TMP.name, f"out{option}.csv")
                self.assertEqual(self.run_ok(*args, option, path, EUSTOCK).stdout, b"")
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), to_stdout)

    def test_output_is_lf_terminated_csv(self):
        result = self.run_ok("-c", "DAX", "-k", "t", "--size", "3", FILES["crlf.csv"])
        self.assertNotIn(b"\r", result.stdout)
        self.assertTrue(result.stdout.endswith(b"\n"))

    def test_closed_pipe_ends_quietly(self):
        # Also with SIGPIPE ignored by the parent, as some shells and
        # supervisors leave it; the output is far larger than a pipe buffer.
        for restore in (True, False):
            with self.subTest(sigpipe_default=restore):
                proc = subprocess.Popen([FIN_WINDOW, "-k", "t", "--size", "20", EUSTOCK],
                                        cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, restore_signals=restore)
                self.assertTrue(proc.stdout.readline().startswith(b"t,DAX_19,"))
                proc.stdout.close()
                stderr = proc.stderr.read()
                proc.stderr.close()
                proc.wait(timeout=30)
                self.assertEqual(stderr, b"")
                self.assertIn(proc.returncode, (0, -signal.SIGPIPE))


class UsageTest(FinWindowTest):
    def test_help_and_version(self):
        for args in (["-h"], ["--help"], ["-V"], ["--version"]):
            with self.subTest(args=args):
                result = self.run_ok(*args)
                self.assertNotEqual(result.stdout, b"")
                self.assertEqual(result.stderr, b"")
        self.assertIn(b"fin-window", self.run_ok("-V").stdout)
        self.assertIn(b"--transform", self.run_ok("-h").stdout)

    def test_usage_errors_exit_2_and_write_no_data(self):
        for args in (["--bogus"], ["-x"], ["-c", "NIKKEI"], ["--size", "0"], ["--size", "abc"],
                     ["--size", "-3"], ["--size", "2.5"], ["--size", ""], ["--horizon", "0"],
                     ["--stride", "0"], ["--transform", "log"], ["--norm", "max"],
                     ["--target", "up"], ["--na", "drop"], ["-d", ";;"]):
            with self.subTest(args=args):
                result = run(*args, EUSTOCK)
                self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
                self.assertEqual(result.stdout, b"")
                self.assertNotEqual(result.stderr, b"")


class NoRowsTest(FinWindowTest):
    def test_header_only_and_empty_input(self):
        self.run_fails(EXIT_NO_ROWS, "-c", "DAX", FILES["header_only.csv"])
        self.run_fails(EXIT_NO_ROWS, "-c", "DAX", stdin=b"t,DAX\n")
        self.run_fails(EXIT_NO_ROWS, stdin=b"")

    def test_too_few_rows_for_one_window(self):
        # size 5, horizon 1 needs 6 rows for level and 7 for a change.
        names, rows = read_csv(EUSTOCK)
        for kind, needed in (("level", 6), ("diff", 7)):
            for n in (needed - 1, needed):
                text = "\n".join(",".join(r) for r in [names] + rows[:n]) + "\n"
                args = ["-c", "DAX", "--size", "5", "--transform", kind]
                with self.subTest(transform=kind, rows=n):
                    if n < needed:
                        self.run_fails(EXIT_NO_ROWS, *args, stdin=text.encode())
                    else:
                        result = self.run_ok(*args, stdin=text.encode())
                        self.assertEqual(len(parse_output(result.stdout)[1]), 1)


class BadNumberTest(FinWindowTest):
    def bad_number_file(self, name, text):
        path = os.path.join(TMP.name, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        with open(path, newline="") as f:
            reader = csv.reader(f)
            for row in reader:
                if row[1] == "abc":
                    return path, reader.line_num
        raise AssertionError("no bad number")

    def check_message(self, name, text):
        path, line = self.bad_number_file(name, text)
        message = self.run_fails(EXIT_DATA, "-c", "close", "-k", "date", "--size", "2", path)
        self.assertEqual(message,
                         f"fin-window: {path}:{line}: column 'close': not a number: 'abc'\n")
        return line

    def test_message_names_file_physical_line_and_column(self):
        rows = "date,close\n2020-01-01,1\n2020-01-02,2\n2020-01-03,abc\n2020-01-04,4\n"
        self.assertEqual(self.check_message("bad.csv", rows), 4)
        self.assertEqual(self.check_message("bad_crlf.csv", rows.replace("\n", "\r\n")), 4)

    def test_line_counts_a_quoted_field_spanning_two_lines(self):
        rows = ('date,close,note\n2020-01-01,1,a\n2020-01-02,2,"two\nlines"\n'
                "2020-01-03,3,b\n2020-01-04,abc,c\n2020-01-05,5,d\n")
        self.assertEqual(self.check_message("bad_multiline.csv", rows), 6)


class LookAheadTest(FinWindowTest):
    """Nothing at or after row j may reach a window that ends before j, and
    nothing at or after j may reach a y whose target rows end before j."""
    SIZE, HORIZON = 5, 3

    def outputs_by_key(self, path, kind, norm, target):
        result = self.run_ok("-c", "DAX", "-k", "t", "--size", str(self.SIZE),
                             "--horizon", str(self.HORIZON), "--transform", kind,
                             "--norm", norm, "--target", target, path)
        header, rows = parse_output(result.stdout)
        self.assertEqual(header, reference_header(["t"], ["DAX"], self.SIZE))
        return {r[0]: r[1:] for r in rows}, [r[0] for r in rows]

    def check_no_look_ahead(self, base, altered, kind, norm, target):
        j = LOOKAHEAD_ROW
        row_of = data_row_index(base)
        before, keys = self.outputs_by_key(base, kind, norm, target)
        after, altered_keys = self.outputs_by_key(altered, kind, norm, target)
        self.assertEqual(altered_keys, keys)
        checked = features_differ = targets_differ = 0
        for key in keys:
            end, a, b = row_of[key], before[key], after[key]
            if end < j:
                self.assertEqual(a[:-1], b[:-1], f"features of the window ending at t={key}")
                checked += 1
            else:
                features_differ += a[:-1] != b[:-1]
            if end + self.HORIZON < j:
                self.assertEqual(a[-1], b[-1], f"y of the window ending at t={key}")
            elif end < j:
                targets_differ += a[-1] != b[-1]
        # Not vacuous: many windows checked, and the change does show in
        # the windows after j and in the targets that reach it.
        self.assertGreater(checked, 900)
        self.assertGreater(features_differ, 500)
        self.assertGreater(targets_differ, 0)

    def test_no_future_reaches_features_or_past_targets(self):
        for kind in TRANSFORMS:
            for norm in NORMS:
                # A zero change under --norm last is a data error, so those
                # runs use the copy without repeated DAX prices.
                if norm == "last" and kind != "level":
                    base, altered = FILES["dax_no_repeats.csv"], FILES["altered_no_repeats.csv"]
                else:
                    base, altered = EUSTOCK, FILES["altered.csv"]
                for target in ("next", "sum"):
                    with self.subTest(transform=kind, norm=norm, target=target):
                        self.check_no_look_ahead(base, altered, kind, norm, target)


if __name__ == "__main__":
    if not os.access(FIN_WINDOW, os.X_OK):
        sys.exit(f"cli_test.py: no executable {FIN_WINDOW} (set FIN_BIN or run make)")
    unittest.main()
