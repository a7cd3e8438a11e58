#!/usr/bin/env python3
"""Hostile and careless CSV input: each case is a way fin once went wrong
(memory it did not own, a silently wrong answer, a message without its
place, a terminal escape on standard error), checked through the programs.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/hostile_input_test.py`.
Expected values are worked out here: the model's features, the line numbers
of the bad values, the positions of repeated names.
"""
import json
import os
import random
import subprocess
import tempfile
import time
import unittest

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, write_csv, run

FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")
FIN_GEN = os.path.join(BIN_DIR, "fin-gen")

EXIT_DATA, EXIT_USAGE, EXIT_MODEL = 1, 2, 3
TMP = None


def path(name):
    return os.path.join(TMP.name, name)


def windows(n, lags=8, seed=3):
    """Rows of t, DAX_<lags-1>..DAX_0 and y: a smooth series, so that every
    model trains fast."""
    rng = random.Random(seed)
    header = ["t"] + ["DAX_%d" % k for k in reversed(range(lags))] + ["y"]
    rows = []
    for i in range(n):
        xs = [round(rng.gauss(0, 1), 6) for _ in range(lags)]
        rows.append([str(i)] + [repr(x) for x in xs] + [repr(round(sum(xs) / lags, 6))])
    return header, rows


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-hostile-input-")
    header, rows = windows(300)
    write_csv(path("windows.csv"), [header] + rows)


def tearDownModule():
    TMP.cleanup()


class SequenceLayout(FinCase):
    """A header repeating a <base>_<lag> name once made fin_sequence_layout
    write through an unset slot; now the repeat is refused by name."""

    HEADER = "t,DAX_7,DAX_6,DAX_5,DAX_5,DAX_3,DAX_2,DAX_1,DAX_0,y"

    def write(self):
        _, rows = windows(50)
        with open(path("repeat_lag.csv"), "w") as f:
            f.write(self.HEADER + "\n")
            for r in rows:
                f.write(",".join(r) + "\n")
        return path("repeat_lag.csv")

    def test_every_reader_refuses_it(self):
        data = self.write()
        for tool, args in ((FIN_TRAIN, ["--model", "cnn", "-k", "t", "--epochs", "1", "-q",
                                        "-o", path("m.json")]),
                           (FIN_ANOMALY, ["fit", "-k", "t", "-o", path("d.json")]),
                           (FIN_CLUSTER, ["--clusters", "2", "-k", "t"])):
            with self.subTest(tool=os.path.basename(tool)):
                msg = self.run_fails(EXIT_DATA, tool, *args, data)
                self.assertIn("repeat_lag.csv:1: column 'DAX_5' appears twice, as columns 4 and 5",
                              msg)

    def trained(self, table):
        """The model fin-train makes of table (keyed by t), as JSON."""
        write_csv(path("layout.csv"), table)
        self.run_ok(FIN_TRAIN, "-k", "t", "--epochs", "1", "-q", "-o", path("layout.json"),
                    path("layout.csv"))
        with open(path("layout.json")) as f:
            return json.load(f)

    def test_missing_lag_is_not_a_sequence(self):
        # DAX_4 missing and DAX_9 in its place: 8 plain features, trained
        # as such (input_shape [8, 1]), not a window of 8 steps.
        header, rows = windows(200)
        header[4] = "DAX_9"
        model = self.trained([header] + rows)
        self.assertEqual(model["input_shape"], [8, 1])
        self.assertEqual(model["features"], header[1:9])

    def test_channels_in_order_of_first_column(self):
        # Two bases, interleaved, the second one first in the header:
        # channels follow their first column, steps run oldest first.
        header = ["t", "b_1", "a_1", "b_0", "a_0", "y"]
        rng = random.Random(5)
        rows = [[str(i)] + [repr(rng.random()) for _ in range(5)] for i in range(60)]
        model = self.trained([header] + rows)
        self.assertEqual(model["input_shape"], [2, 2])
        self.assertEqual(model["features"], ["b_1", "b_0", "a_1", "a_0"])


class ModelFeatures(FinCase):
    """A model's features must come from the input, each from one column,
    before any row is read: --ae, --gan and --embed once read past the end
    of a row when a feature was taken as a key."""

    @classmethod
    def setUpClass(cls):
        cls.ae = path("ae.json")
        cls.gan = path("gan.json")
        run(FIN_TRAIN, "--model", "autoencoder", "-k", "t", "--epochs", "2", "-q",
            "-c", "!y", "-o", cls.ae, path("windows.csv"))
        run(FIN_TRAIN, "--model", "gan", "-k", "t", "-c", "!y", "--epochs", "1", "-q",
            "-o", cls.gan, path("windows.csv"))
        for p in (cls.ae, cls.gan):
            assert os.path.exists(p), p

    def test_feature_taken_as_key(self):
        for tool, args in (
                (FIN_ANOMALY, ["--method", "autoencoder", "--ae", self.ae, "-k", "DAX_0"]),
                (FIN_ANOMALY, ["--method", "gan", "--gan", self.gan, "-k", "DAX_0"]),
                (FIN_CLUSTER, ["--clusters", "2", "--embed", self.ae, "-k", "DAX_0"])):
            with self.subTest(args=args[:2]):
                msg = self.run_fails(EXIT_USAGE, tool, *args, path("windows.csv"))
                self.assertIn("'DAX_0' is a feature of", msg)

    def test_feature_missing_from_input(self):
        header, rows = windows(40)
        cut = [[v for j, v in enumerate(r) if j != 3] for r in [header] + rows]
        write_csv(path("short.csv"), cut)
        for tool, args in ((FIN_ANOMALY, ["--method", "autoencoder", "--ae", self.ae]),
                           (FIN_CLUSTER, ["--clusters", "2", "--embed", self.ae]),
                           (FIN_PREDICT, ["-m", self.ae])):
            with self.subTest(tool=os.path.basename(tool)):
                msg = self.run_fails(EXIT_DATA, tool, *args, path("short.csv"))
                self.assertIn("short.csv:1: no column 'DAX_5', a feature of", msg)

    def test_model_naming_a_feature_twice(self):
        with open(self.ae) as f:
            model = json.load(f)
        model["features"][1] = model["features"][0]
        twice = path("ae_twice.json")
        with open(twice, "w") as f:
            json.dump(model, f)
        for tool, args in ((FIN_PREDICT, ["-m", twice]),
                           (FIN_ANOMALY, ["--method", "autoencoder", "--ae", twice]),
                           (FIN_CLUSTER, ["--clusters", "2", "--embed", twice])):
            with self.subTest(tool=os.path.basename(tool)):
                msg = self.run_fails(EXIT_MODEL, tool, *args, path("windows.csv"))
                self.assertIn("DAX_7", msg)

    def test_columns_in_another_order(self):
        # The model's order, not the input's: reversed columns give the
        # same scores as the original file.
        header, rows = windows(60, seed=9)
        write_csv(path("fwd.csv"), [header] + rows)
        order = [0] + list(range(len(header) - 1, 0, -1))
        write_csv(path("rev.csv"), [[r[j] for j in order] for r in [header] + rows])
        fwd = self.run_ok(FIN_ANOMALY, "--method", "autoencoder", "--ae", self.ae, "-q",
                          path("fwd.csv")).stdout
        rev = self.run_ok(FIN_ANOMALY, "--method", "autoencoder", "--ae", self.ae, "-q",
                          path("rev.csv")).stdout
        self.assertEqual(fwd, rev)


class DuplicateNames(FinCase):
    """id,x,x,y once trained on both x columns and predicted from the first
    one twice."""

    def test_refused_by_every_tool(self):
        with open(path("dup.csv"), "w") as f:
            f.write("id,x,x,y\n")
            for i in range(30):
                f.write("%d,%d,%d,%d\n" % (i, i, 2 * i, 3 * i))
        model = path("plain.json")
        write_csv(path("plain.csv"), [["id", "x", "z", "y"]] +
                  [[str(i), str(i), str(2 * i), str(3 * i)] for i in range(30)])
        self.run_ok(FIN_TRAIN, "-k", "id", "--epochs", "1", "-q", "-o", model, path("plain.csv"))
        for tool, args in ((FIN_TRAIN, ["-k", "id", "-q", "-o", path("no.json")]),
                           (FIN_PREDICT, ["-m", model]),
                           (FIN_WINDOW, ["-c", "y", "-k", "id", "--size", "3"]),
                           (FIN_ANOMALY, ["--method", "zscore", "-k", "id"]),
                           (FIN_CLUSTER, ["--clusters", "2", "-k", "id"]),
                           (FIN_EVAL, ["--actual", "y", "--pred", "id"])):
            with self.subTest(tool=os.path.basename(tool)):
                msg = self.run_fails(EXIT_DATA, tool, *args, path("dup.csv"))
                self.assertIn("dup.csv:1: column 'x' appears twice, as columns 2 and 3", msg)
        self.assertFalse(os.path.exists(path("no.json")))

    def test_first_repeat_in_header_order(self):
        # b repeats at 4 before a repeats at 5: b is named.
        with open(path("dup2.csv"), "w") as f:
            f.write("a,b,c,b,a\n1,2,3,4,5\n")
        msg = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "c", "--size", "1", path("dup2.csv"))
        self.assertIn("column 'b' appears twice, as columns 2 and 4", msg)


class Messages(FinCase):
    """Text from the input reaches standard error escaped, on one line."""

    def test_control_characters_escaped(self):
        name = "bad\nname\x1b[31m"
        with open(path("ctl.csv"), "w", newline="") as f:
            f.write('"%s",y\n1,2\n,3\n' % name)
        result = run(FIN_TRAIN, "-q", "-o", path("ctl.json"), path("ctl.csv"))
        self.assertEqual(result.returncode, EXIT_DATA, result.stderr)
        err = result.stderr.decode()
        self.assertEqual(err.count("\n"), 1, repr(err))
        self.assertNotIn("\x1b", err)
        self.assertIn("ctl.csv:4: column 'bad\\nname\\x1b[31m': missing value", err)

    def test_huge_header_name_cut_short(self):
        with open(path("huge.csv"), "w") as f:
            f.write("x" * 1000000 + "\x07,y\n1,2\n")
        result = run(FIN_PREDICT, "-m", path("missing.json"), path("huge.csv"))
        self.assertNotEqual(result.returncode, 0)
        result = run(FIN_TRAIN, "-q", "-y", "nope", "-o", path("h.json"), path("huge.csv"))
        self.assertEqual(result.returncode, EXIT_USAGE)
        with open(path("huge2.csv"), "w") as f:
            f.write("%s\x07,y\n1,2\n,3\n" % ("x" * 5000))
        result = run(FIN_TRAIN, "-q", "-o", path("h.json"), path("huge2.csv"))
        self.assertEqual(result.returncode, EXIT_DATA)
        err = result.stderr.decode()
        self.assertLess(len(err), 8192)
        self.assertEqual(err.count("\n"), 1)
        self.assertNotIn("\x07", err)
        self.assertIn("huge2.csv:3:", err)

    def test_float_overflow_named_with_its_line(self):
        rows = [["x", "z"]] + [[str(i % 7), str(i % 5)] for i in range(60)]
        rows[40][0] = "1e308"
        write_csv(path("big.csv"), rows)
        msg = self.run_fails(EXIT_DATA, FIN_CLUSTER, "--clusters", "2", path("big.csv"))
        self.assertIn("big.csv:41: column 'x': beyond the float32 range: '1e308'", msg)
        msg = self.run_fails(EXIT_DATA, FIN_ANOMALY, "--method", "zscore", path("big.csv"))
        self.assertIn("big.csv:41: column 'x'", msg)
        # streamed: the same through a detector fitted on honest rows
        write_csv(path("fine.csv"), rows[:40])
        self.run_ok(FIN_ANOMALY, "fit", "--method", "zscore", "-o", path("z.json"),
                    path("fine.csv"))
        msg = self.run_fails(EXIT_DATA, FIN_ANOMALY, "score", "-m", path("z.json"),
                             path("big.csv"))
        self.assertIn("big.csv:41: column 'x': beyond the float32 range: '1e308'", msg)

    def test_text_in_a_numeric_target(self):
        header, rows = windows(120)
        rows[80][-1] = "n/d"  # not a spelling of a missing value
        write_csv(path("ytext.csv"), [header] + rows)
        msg = self.run_fails(EXIT_DATA, FIN_TRAIN, "-k", "t", "-q", "-o", path("y.json"),
                             path("ytext.csv"))
        self.assertIn("ytext.csv:82: column 'y': not a number: 'n/d'", msg)
        self.assertIn("--task", msg)
        msg = self.run_fails(EXIT_DATA, FIN_TRAIN, "-k", "t", "-q", "--task", "regression",
                             "-o", path("y.json"), path("ytext.csv"))
        self.assertIn("ytext.csv:82:", msg)
        self.assertFalse(os.path.exists(path("y.json")))


class ByteOrderMark(FinCase):
    def test_split_across_reads(self):
        """A BOM arriving one byte at a time through a pipe is still a BOM."""
        body = b"close\n1\n2\n3\n"
        proc = subprocess.Popen([FIN_WINDOW, "-c", "close", "--size", "2", "--target", "none"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        for b in (b"\xef", b"\xbb", b"\xbf"):
            proc.stdin.write(b)
            proc.stdin.flush()
            time.sleep(0.05)
        out, err = proc.communicate(body, timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, b"close_1,close_0\n1,2\n2,3\n")

    def test_partial_mark_is_data(self):
        """Two bytes of a BOM and then no more are data, not a mark."""
        proc = subprocess.Popen([FIN_WINDOW, "-c", "1", "--size", "1", "--target", "none"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdin.write(b"\xef")
        proc.stdin.flush()
        time.sleep(0.05)
        out, err = proc.communicate(b"\xbbx\n1\n", timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.split(b"\n")[0], b"\xef\xbbx_0")


class ManyColumns(FinCase):
    def test_hundred_thousand_columns(self):
        """Features found among 100,000 columns by name, in the model's
        order, wherever they are."""
        n = 100000
        rng = random.Random(11)
        names = ["c%06d" % i for i in range(n)]
        chosen = rng.sample(range(n), 5)
        rows = [[repr(rng.random()) for _ in range(n)] for _ in range(40)]
        for r in rows:
            r[chosen[0]] = repr(sum(float(r[c]) for c in chosen[1:]))
        write_csv(path("wide.csv"), [names] + rows)
        small = [[names[c] for c in chosen]] + [[r[c] for c in chosen] for r in rows]
        write_csv(path("narrow.csv"), small)
        model = path("wide.json")
        self.run_ok(FIN_TRAIN, "-y", names[chosen[0]], "--epochs", "2", "-q", "-o", model,
                    path("narrow.csv"))
        wide = self.run_ok(FIN_PREDICT, "-m", model, path("wide.csv")).stdout
        narrow = self.run_ok(FIN_PREDICT, "-m", model, path("narrow.csv")).stdout
        self.assertEqual(parse_csv(wide)[1], parse_csv(narrow)[1])


if __name__ == "__main__":
    unittest.main()
