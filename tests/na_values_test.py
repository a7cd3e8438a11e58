#!/usr/bin/env python3
"""Spellings of a missing value and --na-values, checked against fin(7).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/na_values_test.py`.
Which spellings are missing is asked of pandas 1.5's read_csv when it can be
imported, else taken from the literal list below; a value pandas reads as
missing must be missing to every program, and one it reads as text must
not be. Expected outputs are those of the same rows with the missing
values left empty, or are written out here by hand.
"""
import io
import os
import random
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, write_csv, run

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_EXPLAIN = os.path.join(BIN_DIR, "fin-explain")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")
FIN_GEN = os.path.join(BIN_DIR, "fin-gen")
FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")

EXIT_DATA, EXIT_USAGE = 1, 2

# pandas 1.5's default na_values, pandas._libs.parsers.STR_NA_VALUES: used
# when pandas 1.5 cannot be imported (pandas 2.0 added "None").
PANDAS_1_5_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                 "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"]
# Near misses: other cases, a character more or less, other words.
NEAR_MISSES = ["None", "none", "NONE", "Nan", "NAN", "nA", "Na", "NUll", "#n/a", "N/a", "-NA",
               "+nan", "#N/A  N/A", "1.#INF", "-1.#IN", "<na>", "N.A.", "nil", "NaT", "-", "?"]
TMP = None


def pandas_missing(values):
    """Those of values that pandas 1.5's read_csv reads as missing, each as
    the second field of a row; None without pandas 1.5."""
    try:
        import pandas
    except ImportError:
        return None
    if not pandas.__version__.startswith("1.5."):
        return None
    text = "t,x\n" + "".join("%d,%s\n" % (i, v) for i, v in enumerate(values))
    frame = pandas.read_csv(io.StringIO(text), dtype=str)
    return {v for v, missing in zip(values, frame["x"].isna()) if missing}


def path(name):
    return os.path.join(TMP.name, name)


def windows(n, seed):
    """Rows of t, x_4..x_0 and y, as text."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        xs = [round(rng.gauss(0, 1), 6) for _ in range(5)]
        rows.append([str(i)] + [repr(x) for x in xs] + [repr(round(sum(xs) / 5, 6))])
    return ["t"] + ["x_%d" % k for k in reversed(range(5))] + ["y"], rows


def csv_text(header, rows):
    return "".join(",".join(r) + "\n" for r in [header] + rows).encode()


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-na-values-")
    header, rows = windows(200, 11)
    write_csv(path("clean.csv"), [header] + rows)
    result = run(FIN_TRAIN, "--model", "linear", "-k", "t", "--epochs", "3", "-q",
                 "-o", path("model.json"), path("clean.csv"))
    assert result.returncode == 0, result.stderr


def tearDownModule():
    TMP.cleanup()


# Each program reading the windows' column x_0, with --na and the other
# options after it; the input comes on standard input.
def tool_args(tool, na):
    return {
        "fin-window": [FIN_WINDOW, "-c", "x_0", "-k", "t", "--size", "3", "--na", na],
        "fin-train": [FIN_TRAIN, "--model", "linear", "-k", "t", "--epochs", "3", "-q",
                      "--na", na],
        "fin-predict": [FIN_PREDICT, "-m", path("model.json"), "--na", na],
        "fin-explain": [FIN_EXPLAIN, "-m", path("model.json"), "--na", na],
        "fin-anomaly": [FIN_ANOMALY, "--method", "zscore", "-k", "t", "-q", "--na", na],
        "fin-cluster": [FIN_CLUSTER, "--clusters", "2", "-k", "t", "-q", "--na", na],
        "fin-eval": [FIN_EVAL, "--actual", "y", "--pred", "x_0", "-k", "t", "-q", "--na", na],
        "fin-gen": [FIN_GEN, "--facts", "-c", "x_0", "--format", "csv", "-q", "--na", na],
    }[tool]


TOOLS = ["fin-window", "fin-train", "fin-predict", "fin-anomaly", "fin-cluster", "fin-eval",
         "fin-gen", "fin-explain"]


class Spellings(FinCase):
    @classmethod
    def setUpClass(cls):
        asked = pandas_missing(PANDAS_1_5_NA + NEAR_MISSES)
        cls.missing = PANDAS_1_5_NA if asked is None else [v for v in PANDAS_1_5_NA if v in asked]
        cls.not_missing = NEAR_MISSES if asked is None else [v for v in NEAR_MISSES
                                                               if v not in asked]

    def test_pandas_reads_the_listed_spellings_as_missing(self):
        self.assertEqual(self.missing, PANDAS_1_5_NA)
        self.assertEqual(self.not_missing, NEAR_MISSES)

    def test_each_spelling_fails_under_na_error_naming_its_line(self):
        header, rows = windows(60, 3)
        for tool in TOOLS:
            for k, spelling in enumerate(self.missing):
                line = 5 + 2 * k  # line 1 is the header
                bad = [list(r) for r in rows]
                bad[line - 2][5] = spelling
                source = path("spelling.csv")
                with open(source, "wb") as f:
                    f.write(csv_text(header, bad))
                with self.subTest(tool=tool, spelling=spelling):
                    message = self.run_fails(EXIT_DATA, *tool_args(tool, "error"), source)
                    self.assertEqual(message, f"{tool}: {source}:{line}: column 'x_0': "
                                              "missing value (see --na)\n")

    def test_each_spelling_is_filled_forward(self):
        # blanks around a spelling, and quotes, change nothing
        for spelling in self.missing + [" \tNA ", '"NA"', '"#N/A N/A"']:
            data = f"t,x\n0,1.5\n1,{spelling}\n2,2.5\n".encode()
            with self.subTest(spelling=spelling):
                result = self.run_ok(FIN_WINDOW, "-k", "t", "-c", "x", "--size", "1",
                                     "--target", "none", "--na", "ffill", "-q", stdin=data)
                self.assertEqual(result.stdout, b"t,x_0\n0,1.5\n1,1.5\n2,2.5\n")

    def test_other_text_is_not_a_number(self):
        for text in self.not_missing:
            data = f"t,x\n0,1.5\n1,{text}\n2,2.5\n".encode()
            with self.subTest(text=text):
                message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-k", "t", "-c", "x", "--na",
                                         "skip", stdin=data)
                self.assertEqual(message, f"fin-window: <stdin>:3: column 'x': not a number: "
                                          f"'{text}'\n")


class NaValues(FinCase):
    """-999, '.' and 'missing' in x_0, against the same rows with those
    fields empty."""
    SPELLINGS = {3: "-999", 10: ".", 11: " missing ", 40: "-999", 77: "missing"}

    @classmethod
    def setUpClass(cls):
        header, rows = windows(120, 5)
        marked, empty = [list(r) for r in rows], [list(r) for r in rows]
        for i, text in cls.SPELLINGS.items():
            marked[i][5] = text
            empty[i][5] = ""
        cls.marked, cls.empty = csv_text(header, marked), csv_text(header, empty)

    def test_every_tool_reads_them_as_missing(self):
        for tool in TOOLS:
            with self.subTest(tool=tool):
                want = self.run_ok(*tool_args(tool, "skip"), stdin=self.empty).stdout
                got = self.run_ok(*tool_args(tool, "skip"), "--na-values", "-999,.,missing",
                                  stdin=self.marked).stdout
                self.assertEqual(got, want)
                # without the option, '.' is no number: a data error, but
                # where a fit reads text, it makes x_0 a text column
                if tool in ("fin-train", "fin-anomaly", "fin-cluster"):
                    continue
                message = self.run_fails(EXIT_DATA, *tool_args(tool, "skip"),
                                         stdin=self.marked)
                self.assertEqual(message, f"{tool}: <stdin>:12: column 'x_0': not a number: "
                                          "'.'\n")

    def test_lists_add_up_and_blanks_are_trimmed(self):
        want = self.run_ok(*tool_args("fin-window", "skip"), stdin=self.empty).stdout
        for options in (["--na-values", "-999", "--na-values", ".,missing"],
                        ["--na-values", " -999 ,\t.,missing "],
                        ["--na-values", "missing,-999", "--na-values", ".,-999"]):
            with self.subTest(options=options):
                got = self.run_ok(*tool_args("fin-window", "skip"), *options,
                                  stdin=self.marked).stdout
                self.assertEqual(got, want)

    def test_the_text_must_match_exactly(self):
        data = b"t,x\n0,1.5\n1,-999.0\n2,-9990\n3,2.5\n"
        result = self.run_ok(FIN_WINDOW, "-k", "t", "-c", "x", "--size", "1", "--target",
                             "none", "--na-values", "-999", stdin=data)
        self.assertEqual(result.stdout, b"t,x_0\n0,1.5\n1,-999\n2,-9990\n3,2.5\n")
        for text in ("Missing", "missing!", "miss ing"):
            data = f"t,x\n0,1.5\n1,{text}\n".encode()
            message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-k", "t", "-c", "x",
                                     "--na-values", "missing", "--na", "skip", stdin=data)
            self.assertEqual(message,
                             f"fin-window: <stdin>:3: column 'x': not a number: '{text}'\n")

    def test_under_na_error_the_line_is_named(self):
        message = self.run_fails(EXIT_DATA, *tool_args("fin-train", "error"), "--na-values",
                                 "-999,.,missing", stdin=self.marked)
        self.assertEqual(message, "fin-train: <stdin>:5: column 'x_0': missing value (see --na)\n")

    def test_an_empty_spelling_is_refused(self):
        for tool in TOOLS + ["fin-backtest"]:
            for arg in ("", "a,,b", " ", "a, ", ","):
                with self.subTest(tool=tool, arg=arg):
                    message = self.run_fails(EXIT_USAGE, os.path.join(BIN_DIR, tool),
                                             "--na-values", arg)
                    self.assertEqual(message, f"{tool}: --na-values: an empty spelling in "
                                              f"'{arg}' (an empty field is always missing)\n")


class Backtest(FinCase):
    """fin-backtest gives the lists to fin-train and fin-predict, and reads
    its own rows with them."""
    ARGS = ["--train-size", "100", "--test-size", "50", "-q"]
    TRAIN = ["--", "fin-train", "--model", "linear", "--epochs", "3", "-k", "t", "--na", "skip"]

    def backtest(self, rows, *options):
        header, _ = windows(0, 0)
        source = path("backtest.csv")
        with open(source, "wb") as f:
            f.write(csv_text(header, rows))
        return source, run(FIN_BACKTEST, *self.ARGS, *options, source, *self.TRAIN)

    def test_training_rows(self):
        _, rows = windows(200, 8)
        marked, empty = [list(r) for r in rows], [list(r) for r in rows]
        for i in (5, 50, 99):  # training rows of every fold, test rows of none
            marked[i][5] = "-999"
            empty[i][5] = ""
        _, want = self.backtest(empty)
        _, got = self.backtest(marked, "--na-values", "-999")
        _, unmarked = self.backtest(marked)
        self.assertEqual(want.returncode, 0, want.stderr)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, want.stdout)
        # without the option -999 is a value, and the models differ
        self.assertNotEqual(unmarked.stdout, want.stdout)

    def test_test_rows(self):
        _, rows = windows(200, 8)
        rows[130][5] = "-999"  # test row of the first fold, input line 132
        source, result = self.backtest(rows, "--na-values", "-999")
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertEqual(result.stderr.decode(),
                         f"fin-predict: {source}:132: column 'x_0': missing value (see --na)\n"
                         "fin-backtest: fold 1/2: fin-predict exited with status 1\n")

    def test_a_target_to_trade(self):
        _, rows = windows(200, 8)
        rows[170][6] = "-999"  # the target of a test row, input line 172
        source, result = self.backtest(rows, "--trade")
        self.assertEqual(result.returncode, 0, result.stderr)
        source, result = self.backtest(rows, "--trade", "--na-values", "-999")
        self.assertEqual(result.returncode, EXIT_DATA)
        self.assertEqual(result.stderr.decode(), f"fin-backtest: {source}:172: column 'y': "
                                                 "no return to trade: '-999'\n")


if __name__ == "__main__":
    unittest.main()
