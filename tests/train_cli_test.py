#!/usr/bin/env python3
"""Command-line tests of fin-train and fin-predict, checked against fin-train(1),
fin-predict(1) and fin-model(5).

Run from the repository root as
`FIN_BIN=build/bin python3 tests/train_cli_test.py`. Every expected value is
computed here from the input files (means, standard deviations, row counts,
labels, a known formula, a forward pass of a one-layer model); nothing is
copied from the programs' own output. A few epochs on small data keep the
whole file to seconds.
"""
import csv
import json
import math
import os
import pty
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unittest
from fractions import Fraction

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, write_csv, as_float32, rel_close, run
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

EUSTOCK = "data/eustockmarkets.csv"
CREDIT = "data/german_credit.csv"

# 20-step windows of DAX log returns with the next return as y: the input
# of every regression test.
SIZE = 20
WINDOW_ARGS = ["-c", "DAX", "-k", "t", "--size", str(SIZE), "--transform", "logret"]
FEATURES = [f"DAX_{lag}" for lag in range(SIZE - 1, -1, -1)]  # oldest first
CNN_EPOCHS = 20

EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS = 1, 2, 3, 4

# Written once by setUpModule.
TMP = None
FILES = {}
WINDOWS = None  # (header, rows) of the windows file


# ---------------------------------------------------------------- reference

def read_csv(path):
    """Header and data rows of a CSV file (relative to ROOT or absolute)."""
    with open(os.path.join(ROOT, path), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(header, rows, name):
    j = header.index(name)
    return [float(r[j]) for r in rows]


def n_val(n, fraction="0.2"):
    """Validation rows for --val F on n rows: floor(F n), F read as the
    exact decimal the user typed."""
    return math.floor(Fraction(fraction) * n)


def mean(values):
    return math.fsum(values) / len(values)


def mse(pred, want):
    return mean([(p - w) ** 2 for p, w in zip(pred, want)])


def standardised_mse(pred, y, target_sd):
    """The regression loss fin-train reports: mean squared error in units of
    the target's training standard deviation."""
    return mean([((p - w) / target_sd) ** 2 for p, w in zip(pred, y)])


# ------------------------------------------------------------------ running


def load_model(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def scratch_dir():
    """A fresh directory, so that leftover files are easy to see."""
    return tempfile.mkdtemp(dir=TMP.name)


def setUpModule():
    global TMP, WINDOWS
    TMP = tempfile.TemporaryDirectory(prefix="fin-train-test-")
    FILES["windows.csv"] = os.path.join(TMP.name, "windows.csv")
    FILES["cnn.json"] = os.path.join(TMP.name, "cnn.json")
    FILES["cnn.log"] = os.path.join(TMP.name, "cnn.log")
    # The pipeline of fin-train(1)'s example: fin-window's windows feed
    # fin-train on its standard input; they are also kept as a file.
    window = run(FIN_WINDOW, *WINDOW_ARGS, EUSTOCK)
    assert window.returncode == 0, window.stderr.decode(errors="replace")
    with open(FILES["windows.csv"], "wb") as f:
        f.write(window.stdout)
    train = run(FIN_TRAIN, "--model", "cnn", "-k", "t", "--epochs", str(CNN_EPOCHS), "--val", "0.2",
                "--log", FILES["cnn.log"], "-q", "-o", FILES["cnn.json"], "-", stdin=window.stdout)
    assert train.returncode == 0, train.stderr.decode(errors="replace")
    WINDOWS = read_csv(FILES["windows.csv"])


def tearDownModule():
    TMP.cleanup()


class FinTest(FinCase):
    def train(self, *args, stdin=None):
        """Trains quietly; returns the model as parsed JSON (from stdout)."""
        return json.loads(self.run_ok(FIN_TRAIN, "-q", *args, stdin=stdin).stdout)

    def predict(self, model, *args):
        return parse_csv(self.run_ok(FIN_PREDICT, "-m", model, *args).stdout)

    def windows_split(self):
        """Windows rows, and how many of them are training rows under --val 0.2."""
        header, rows = WINDOWS
        return header, rows, len(rows) - n_val(len(rows))


# ------------------------------------------------------------------- tests

class EndToEndTest(FinTest):
    def check_beats_constant(self, model):
        """fin-predict on the training windows: one row per input row, keys
        in order, and a lower training error than the training mean."""
        header, rows, ntrain = self.windows_split()
        names, out = self.predict(model, FILES["windows.csv"])
        self.assertEqual(names, ["t", "prediction"])
        self.assertEqual([r[0] for r in out], [r[0] for r in rows])
        pred = [float(r[1]) for r in out]
        y = column(header, rows, "y")
        constant = mean(y[:ntrain])
        model_error = mse(pred[:ntrain], y[:ntrain])
        constant_error = mse([constant] * ntrain, y[:ntrain])
        self.assertLess(model_error, constant_error)

    def test_cnn_beats_constant_on_training_rows(self):
        self.check_beats_constant(FILES["cnn.json"])

    def test_mlp_beats_constant_on_training_rows(self):
        path = os.path.join(scratch_dir(), "mlp.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "mlp", "-k", "t", "--epochs", "20", "--val", "0.2",
                    "-o", path, FILES["windows.csv"])
        self.assertEqual(load_model(path)["arch"].count("dense("), 3)
        self.check_beats_constant(path)


class ReproducibilityTest(FinTest):
    def train_bytes(self, seed):
        args = ["-q", "--model", "cnn", "-k", "t", "--epochs", "3", "--threads", "1",
                "--seed", str(seed), FILES["windows.csv"]]
        return self.run_ok(FIN_TRAIN, *args).stdout

    def test_same_seed_same_file(self):
        first = self.train_bytes(42)
        self.assertEqual(first, self.train_bytes(42))
        self.assertEqual(json.loads(first)["training"]["seed"], 42)

    def test_other_seed_other_file(self):
        self.assertNotEqual(self.train_bytes(42), self.train_bytes(43))


class ThreadsTest(FinTest):
    """--threads N shares each batch out among N threads (fin-train(1)): the
    same model on every run with the same N, and, as only the order of the
    gradients' sums differs, the same training as on one thread to within
    float32 rounding grown over a few epochs."""

    def train_threads(self, threads, *extra):
        args = ["-q", "--model", "cnn", "-k", "t", "--epochs", "3", "--threads", str(threads),
                *extra, FILES["windows.csv"]]
        return self.run_ok(FIN_TRAIN, *args).stdout

    def test_same_threads_same_file(self):
        for extra in ((), ("--dropout", "0.3")):
            with self.subTest(extra=extra):
                first = self.train_threads(2, *extra)
                self.assertEqual(first, self.train_threads(2, *extra))
                self.assertEqual(json.loads(first)["training"]["threads"], 2)

    def test_threads_train_as_one(self):
        one = json.loads(self.train_threads(1))
        header, rows, ntrain = self.windows_split()
        y = column(header, rows, "y")
        sd = statistics.stdev(y[:ntrain])
        for threads in (2, 3):
            with self.subTest(threads=threads):
                model = json.loads(self.train_threads(threads))
                for key in ("train_loss", "val_loss"):
                    self.assertTrue(rel_close(model["training"][key], one["training"][key], 1e-3),
                                    f"{key}: {model['training'][key]!r} on {threads} threads, "
                                    f"{one['training'][key]!r} on one")
                # The facts are those of the weights saved.
                path = os.path.join(scratch_dir(), f"t{threads}.json")
                with open(path, "wb") as f:
                    f.write(json.dumps(model).encode())
                _, out = self.predict(path, FILES["windows.csv"])
                pred = [float(r[1]) for r in out]
                self.assertTrue(rel_close(model["training"]["val_loss"],
                                          standardised_mse(pred[ntrain:], y[ntrain:], sd), 1e-5))

    def test_more_threads_than_rows(self):
        # Batches of 2 rows on 4 threads: two threads have nothing to do.
        model = json.loads(self.train_threads(4, "--batch", "2"))
        self.assertTrue(math.isfinite(model["training"]["val_loss"]))


class ModelFileTest(FinTest):
    def setUp(self):
        self.model = load_model(FILES["cnn.json"])

    def test_header_fields(self):
        m = self.model
        self.assertEqual(m["format"], "fin-model")
        self.assertEqual(m["schema_version"], 1)
        self.assertIsInstance(m["tool_version"], str)
        self.assertTrue(m["tool_version"])
        self.assertEqual(m["task"], "regression")
        self.assertTrue(m["arch"].startswith("conv1d(64,3"), m["arch"])
        self.assertEqual(m["input_shape"], [1, SIZE])
        self.assertEqual(m["features"], FEATURES)
        self.assertEqual(m["target"], "y")
        self.assertEqual(m["keys"], ["t"])

    def test_scaler_fitted_on_training_rows_only(self):
        header, rows, ntrain = self.windows_split()
        scaler = self.model["scaler"]
        self.assertEqual(len(scaler["mean"]), SIZE)
        self.assertEqual(len(scaler["sd"]), SIZE)
        for j, name in enumerate(FEATURES):
            values = column(header, rows, name)
            # Features travel as float32 (the network's precision, in
            # fin-train and fin-predict alike), so the statistics are those
            # of the float32 values; the doubles in the file differ from them
            # by less than float32 rounding, about 1e-8 relative on the mean.
            train = [as_float32(v) for v in values[:ntrain]]
            want_mean, want_sd = mean(train), statistics.stdev(train)  # sample sd: n - 1
            self.assertTrue(rel_close(scaler["mean"][j], want_mean, 1e-9),
                            f"{name}: mean {scaler['mean'][j]!r}, want {want_mean!r}")
            self.assertTrue(rel_close(scaler["sd"][j], want_sd, 1e-9),
                            f"{name}: sd {scaler['sd'][j]!r}, want {want_sd!r}")
            # Not vacuous: with the validation tail the statistics would be
            # told apart at this tolerance.
            everything = [as_float32(v) for v in values]
            self.assertFalse(rel_close(mean(everything), want_mean, 1e-6), name)
            self.assertFalse(rel_close(statistics.stdev(everything), want_sd, 1e-6), name)

    def test_target_scaler_fitted_on_training_rows_only(self):
        header, rows, ntrain = self.windows_split()
        y = column(header, rows, "y")
        got = self.model["target_scaler"]
        self.assertTrue(rel_close(got["mean"], mean(y[:ntrain]), 1e-9), got)
        self.assertTrue(rel_close(got["sd"], statistics.stdev(y[:ntrain]), 1e-9), got)
        self.assertFalse(rel_close(mean(y), mean(y[:ntrain]), 1e-6))

    def test_training_facts(self):
        header, rows, ntrain = self.windows_split()
        facts = self.model["training"]
        n = len(rows)
        self.assertEqual(facts["seed"], 1)  # the documented default
        self.assertEqual(facts["epochs"], CNN_EPOCHS)
        self.assertEqual(facts["epochs_run"], CNN_EPOCHS)  # no --patience: every epoch runs
        self.assertEqual(facts["rows_val"], n_val(n))
        self.assertEqual(facts["rows_train"], ntrain)
        self.assertEqual(facts["rows_train"] + facts["rows_val"], n)
        # best_epoch: the epoch of the lowest validation loss in the log.
        with open(FILES["cnn.log"]) as f:
            log = [json.loads(line) for line in f]
        val = [e["val_loss"] for e in log]
        self.assertEqual(facts["best_epoch"], val.index(min(val)) + 1)
        self.assertLessEqual(facts["best_epoch"], facts["epochs_run"])
        # Its weights are the ones kept, with validation rows.
        self.assertEqual(facts["kept_epoch"], facts["best_epoch"])

    def test_losses_are_those_of_the_saved_weights(self):
        # fin-model(5): train_loss and val_loss are of the saved weights, in
        # standardised units; here they are recomputed from fin-predict's
        # predictions and the y column.
        header, rows, ntrain = self.windows_split()
        _, out = self.predict(FILES["cnn.json"], FILES["windows.csv"])
        pred = [float(r[1]) for r in out]
        y = column(header, rows, "y")
        sd = statistics.stdev(y[:ntrain])
        facts = self.model["training"]
        want_val = standardised_mse(pred[ntrain:], y[ntrain:], sd)
        want_train = standardised_mse(pred[:ntrain], y[:ntrain], sd)
        self.assertTrue(rel_close(facts["val_loss"], want_val, 1e-5),
                        f"val_loss {facts['val_loss']!r}, saved weights give {want_val!r}")
        self.assertTrue(rel_close(facts["train_loss"], want_train, 1e-5),
                        f"train_loss {facts['train_loss']!r}, saved weights give {want_train!r}")


class PredictTest(FinTest):
    def test_same_model_same_output(self):
        args = ["-m", FILES["cnn.json"], FILES["windows.csv"]]
        self.assertEqual(self.run_ok(FIN_PREDICT, *args).stdout,
                         self.run_ok(FIN_PREDICT, *args).stdout)

    def test_linear_model_learns_a_known_formula(self):
        # y = 2 x1 - 3 x2 + 1 exactly (eighths are exact in binary); a
        # linear model trained on every row must give the formula back on
        # rows it never saw, through the feature scaler, the network and
        # the inverse target scaler.
        d = scratch_dir()
        rng = random.Random(20261130)

        def formula_rows(n):
            xs = [(rng.randint(-40, 40) / 8, rng.randint(-24, 24) / 8) for _ in range(n)]
            return [[repr(a), repr(b), repr(2 * a - 3 * b + 1)] for a, b in xs]

        train, new = os.path.join(d, "train.csv"), os.path.join(d, "new.csv")
        write_csv(train, [["x1", "x2", "y"]] + formula_rows(64))
        new_rows = formula_rows(20)
        write_csv(new, [["x1", "x2"]] + [r[:2] for r in new_rows])
        model = os.path.join(d, "linear.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "linear", "--val", "0", "--epochs", "300",
                    "--lr", "0.05", "-o", model, train)
        names, out = self.predict(model, new)
        self.assertEqual(names, ["prediction"])
        self.assertEqual(len(out), len(new_rows))
        for got, row in zip(out, new_rows):
            want = float(row[2])
            self.assertLessEqual(abs(float(got[0]) - want), 1e-4 * max(1.0, abs(want)),
                                 f"x1={row[0]} x2={row[1]}: got {got[0]}, want {want}")

    def test_features_found_by_name(self):
        header, rows = WINDOWS
        reversed_path = os.path.join(scratch_dir(), "reversed.csv")
        write_csv(reversed_path, [header[::-1]] + [r[::-1] for r in rows])
        _, straight = self.predict(FILES["cnn.json"], FILES["windows.csv"])
        _, reordered = self.predict(FILES["cnn.json"], reversed_path)
        self.assertEqual(reordered, straight)

    def test_missing_feature_column(self):
        header, rows = WINDOWS
        j = header.index("DAX_7")
        path = os.path.join(scratch_dir(), "no_dax7.csv")
        write_csv(path, [[v for i, v in enumerate(r) if i != j] for r in [header] + rows])
        message = self.run_fails(EXIT_DATA, FIN_PREDICT, "-m", FILES["cnn.json"], path)
        self.assertIn("'DAX_7'", message)

    def test_keep_passes_every_column(self):
        header, rows = WINDOWS
        names, out = self.predict(FILES["cnn.json"], "--keep", FILES["windows.csv"])
        self.assertEqual(names, header + ["prediction"])
        _, plain = self.predict(FILES["cnn.json"], FILES["windows.csv"])
        self.assertEqual([r[:-1] for r in out], rows)
        self.assertEqual([r[-1] for r in out], [r[1] for r in plain])

    def test_key_option_overrides_the_models_keys(self):
        header, rows = WINDOWS
        names, out = self.predict(FILES["cnn.json"], "-k", "y,DAX_0", FILES["windows.csv"])
        self.assertEqual(names, ["y", "DAX_0", "prediction"])
        self.assertEqual([r[:2] for r in out],
                         [[r[header.index("y")], r[header.index("DAX_0")]] for r in rows])


class ClassificationTest(FinTest):
    def setUp(self):
        header, rows = read_csv(CREDIT)
        self.header, self.rows = header, rows
        self.classes = [r[header.index("Class")] for r in rows]

    def check_probabilities(self, out, labels):
        self.assertEqual(len(out), len(self.rows))
        for r in out:
            p = [float(v) for v in r[:-1]]
            self.assertTrue(all(0 <= v <= 1 for v in p), r)
            # Each is written rounded to float32 (fin-predict(1)), as the
            # shortest text of that float32: each step within half a
            # float32 ulp, at most 2^-24 in all for a number up to 1.
            self.assertAlmostEqual(sum(p), 1.0, delta=len(p) * 2.0**-24 + 1e-12)
            self.assertEqual(r[-1], labels[p.index(max(p))], r)

    def test_logistic(self):
        path = os.path.join(scratch_dir(), "credit.json")
        # Two columns are constant: a penalised fit takes every one.
        self.run_ok(FIN_TRAIN, "-q", "-y", "Class", "--model", "logistic", "--l2", "0.01",
                    "-o", path, CREDIT)
        m = load_model(path)
        ntrain = len(self.rows) - n_val(len(self.rows))
        self.assertEqual(m["task"], "binary")
        self.assertEqual(m["labels"], sorted(set(self.classes[:ntrain])))
        self.assertEqual(m["labels"], ["Bad", "Good"])
        names, out = self.predict(path, CREDIT)
        self.assertEqual(names, ["p_Bad", "p_Good", "label"])
        self.check_probabilities(out, m["labels"])
        # One dense layer: p(Good) = sigmoid(w . (x - mean) / sd + b), the
        # single output being the logit of the second label.
        self.assertEqual(m["arch"], "dense(1,linear)")
        features, scaler, w = m["features"], m["scaler"], m["weights"]
        self.assertEqual(len(w), len(features) + 1)
        for row, got in zip(self.rows, out):
            x = [float(row[self.header.index(f)]) for f in features]
            z = w[-1] + sum(wj * (xj - mu) / sd
                            for wj, xj, mu, sd in zip(w, x, scaler["mean"], scaler["sd"]))
            want = 1 / (1 + math.exp(-z))
            self.assertAlmostEqual(float(got[1]), want, delta=1e-5)

    def test_multiclass_with_an_architecture(self):
        path = os.path.join(scratch_dir(), "credit2.json")
        self.run_ok(FIN_TRAIN, "-q", "-y", "Class", "--task", "multiclass", "--arch",
                    "dense(8,relu) dense(2)", "--epochs", "5", "-o", path, CREDIT)
        m = load_model(path)
        self.assertEqual(m["task"], "multiclass")
        self.assertEqual(m["labels"], ["Bad", "Good"])
        names, out = self.predict(path, CREDIT)
        self.assertEqual(names, ["p_Bad", "p_Good", "label"])
        self.check_probabilities(out, m["labels"])

    def test_wrong_output_count(self):
        message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "-y", "Class", "--arch", "dense(3)",
                                 "--epochs", "1", CREDIT)
        self.assertRegex(message, r"\b3\b")
        self.assertRegex(message, r"\b1\b")

    def test_text_target_needs_a_classification_task(self):
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-q", "-y", "Class", "--task", "regression",
                                 "--epochs", "1", CREDIT)
        self.assertIn("--task", message)


def dense_forward(m, x):
    """A model of dense layers on the raw features x, in double: the inputs
    standardised with the stored scaler, then every layer's output."""
    layers = m["arch"].split()
    w = m["weights"]
    d = len(x)
    h = [(v - mu) / sd for v, mu, sd in zip(x, m["scaler"]["mean"], m["scaler"]["sd"])]
    scaled, outputs, at = h, [], 0
    for layer in layers:
        units, act = layer[len("dense("):-1].split(",")
        units = int(units)
        weights = w[at:at + units * d]
        bias = w[at + units * d:at + units * d + units]
        at += units * d + units
        h = [sum(weights[u * d + i] * h[i] for i in range(d)) + bias[u] for u in range(units)]
        if act == "relu":
            h = [max(v, 0.0) for v in h]
        outputs.append(h)
        d = units
    return scaled, outputs


class AutoencoderTest(FinTest):
    """The code and the reconstruction error, recomputed in Python from the
    model file: standardise with the stored scaler, then dense layers."""

    def forward(self, m, x):
        return dense_forward(m, x)

    def test_embed_and_recon_error(self):
        path = os.path.join(scratch_dir(), "ae.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "autoencoder", "--bottleneck", "3", "-c", "!Class",
                    "--epochs", "5", "-o", path, CREDIT)
        m = load_model(path)
        self.assertEqual(m["task"], "autoencoder")
        self.assertEqual(m["bottleneck"], 1)
        self.assertNotIn("labels", m)
        names, out = self.predict(path, "--embed", "--recon-error", "-k", "Class", CREDIT)
        self.assertEqual(names, ["Class", "z1", "z2", "z3", "recon_error"])
        header, rows = read_csv(CREDIT)
        features = [i for i, name in enumerate(header) if name != "Class"]
        self.assertEqual(len(out), len(rows))
        for row, got in zip(rows[:20], out[:20]):
            scaled, outputs = self.forward(m, [float(row[i]) for i in features])
            self.assertEqual(got[0], row[header.index("Class")])
            for z, want in zip(got[1:4], outputs[1]):
                self.assertTrue(abs(float(z) - want) <= 1e-4 * max(1.0, abs(want)), (z, want))
            recon = sum((o - s) ** 2 for o, s in zip(outputs[-1], scaled)) / len(scaled)
            self.assertTrue(rel_close(float(got[4]), recon, 1e-4), (got[4], recon))

    def test_autoencoder_has_no_target(self):
        self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "--task", "autoencoder", "-y", "Class", CREDIT)

    def test_embed_needs_an_autoencoder(self):
        self.run_fails(EXIT_USAGE, FIN_PREDICT, "-m", FILES["cnn.json"], "--embed",
                       FILES["windows.csv"])


class SummaryTest(FinTest):
    """The lines fin-train(1) ends with: the error on the training rows and
    on the validation tail next to the naive forecasts, every figure
    recomputed here from the data, the split and (for the model's own) a
    forward pass of the saved model in double. The target trends up, so
    that the training mean, the validation mean and 0 are all far apart,
    and the labels' majority in the training rows is the minority in the
    validation rows."""

    N = 50
    LINE = r"fin-train: {what} \((\d+) rows\): {body}$"
    # %.6g: half a unit in the sixth digit is 5e-6 of the value at most.
    PRINTED = 1e-5
    # A forward pass in float32 against one in double, over a few layers.
    FORWARD = 1e-4

    @classmethod
    def setUpClass(cls):
        rng = random.Random(20261206)
        cls.dir = tempfile.mkdtemp(dir=TMP.name)
        rows = []
        for i in range(cls.N):
            x = [round(rng.uniform(-1, 1), 3) for _ in range(3)]
            y = round(1.5 + 0.06 * i + 0.8 * x[0] - 0.5 * x[1] + rng.gauss(0, 0.3), 4)
            # 24 of the 40 training rows go up, 3 of the 10 validation rows
            up = i % 5 < 3 if i < 40 else i % 10 < 3
            rows.append([str(i + 1), *map(repr, x), repr(y), "up" if up else "down"])
        cls.path = os.path.join(cls.dir, "summary.csv")
        write_csv(cls.path, [["t", "x1", "x2", "x3", "y", "cls"]] + rows)
        cls.x = [[as_float32(float(v)) for v in r[1:4]] for r in rows]
        cls.y = [float(r[4]) for r in rows]
        cls.labels = [r[5] for r in rows]
        cls.ntrain = cls.N - n_val(cls.N)

    def summary(self, *args):
        """Trains a model on the summary data; returns the model and the
        lines fin-train wrote on standard error."""
        model = os.path.join(scratch_dir(), "model.json")
        result = self.run_ok(FIN_TRAIN, "-k", "t", "--epochs", "3", "-o", model, *args,
                             self.path)
        return load_model(model), result.stderr.decode().splitlines()

    def figures(self, lines, what, body, rows):
        pattern = re.compile(self.LINE.format(what=what, body=body))
        found = [m for m in map(pattern.match, lines) if m]
        self.assertEqual(len(found), 1, (what, lines))
        self.assertEqual(int(found[0].group(1)), rows, found[0].group(0))
        return found[0]

    def assert_printed(self, text, want, rel):
        self.assertTrue(rel_close(float(text), want, rel), (text, want))

    def test_regression(self):
        m, lines = self.summary("-c", "x1,x2", "--model", "linear")
        train_mean = mean(self.y[:self.ntrain])
        sc = m["target_scaler"]
        for what, part in (("training rows", slice(0, self.ntrain)),
                           ("validation rows", slice(self.ntrain, self.N))):
            y = self.y[part]
            pred = [dense_forward(m, x[:2])[1][-1][0] * sc["sd"] + sc["mean"] for x in self.x[part]]
            found = self.figures(lines, what, r"rmse (\S+); predicting 0: (\S+); "
                                 r"predicting the training mean: (\S+)", len(y))
            self.assert_printed(found.group(2), math.sqrt(mse(pred, y)), self.FORWARD)
            self.assert_printed(found.group(3), math.sqrt(mse([0] * len(y), y)), self.PRINTED)
            self.assert_printed(found.group(4), math.sqrt(mse([train_mean] * len(y), y)),
                                self.PRINTED)
        # the three figures of the validation tail are far apart
        val = self.y[self.ntrain:]
        self.assertGreater(abs(mean(val) - train_mean), 1)

    def test_classification(self):
        m, lines = self.summary("-c", "x1,x2", "-y", "cls", "--model", "logistic")
        self.assertEqual(m["labels"], ["down", "up"])
        for what, part in (("training rows", slice(0, self.ntrain)),
                           ("validation rows", slice(self.ntrain, self.N))):
            labels = self.labels[part]
            # the single output is the logit of "up"; a logit within 1e-4
            # of 0 may fall either way in float32
            logits = [dense_forward(m, x[:2])[1][-1][0] for x in self.x[part]]
            right = sum((z > 0) == (c == "up") for z, c in zip(logits, labels))
            unsure = sum(abs(z) < 1e-4 for z in logits)
            found = self.figures(lines, what, r"accuracy (\S+); always 'up' \(the training "
                                 r"majority\): (\S+)", len(labels))
            self.assertLessEqual(abs(float(found.group(2)) - right / len(labels)),
                                 unsure / len(labels) + 5e-5, found.group(0))
            self.assertAlmostEqual(float(found.group(3)), labels.count("up") / len(labels),
                                   delta=5e-5)
        self.assertLess(self.labels[self.ntrain:].count("up"), self.N - self.ntrain - 5)

    def test_autoencoder(self):
        m, lines = self.summary("-c", "x1,x2,x3", "--model", "autoencoder", "--bottleneck", "1")
        train = self.x[:self.ntrain]
        mu = [mean([r[j] for r in train]) for j in range(3)]
        sd = [statistics.stdev([r[j] for r in train]) for j in range(3)]
        for what, part in (("training rows", slice(0, self.ntrain)),
                           ("validation rows", slice(self.ntrain, self.N))):
            rows = self.x[part]
            recon = []
            for x in rows:
                scaled, outputs = dense_forward(m, x)
                recon.append(mse(outputs[-1], scaled))
            standardised = [((v - mu[j]) / sd[j]) ** 2 for x in rows for j, v in enumerate(x)]
            found = self.figures(lines, what, r"reconstruction error (\S+); predicting the "
                                 r"training mean: (\S+)", len(rows))
            self.assert_printed(found.group(2), mean(recon), self.FORWARD)
            self.assert_printed(found.group(3), mean(standardised), self.PRINTED)


class RefusedModelTest(FinTest):
    """Every unusable model file is exit 3 with one line, and no output."""

    def variants(self, d):
        with open(FILES["cnn.json"], encoding="utf-8") as f:
            text = f.read()
        def edited(change):
            m = json.loads(text)
            change(m)
            return json.dumps(m)

        start = text.index('"weights":[') + len('"weights":[')
        first_weight_end = text.index(",", start)
        files = {
            "newer_schema": edited(lambda m: m.update(schema_version=2)),
            "no_weights": edited(lambda m: m.pop("weights")),
            "no_scaler": edited(lambda m: m.pop("scaler")),
            "one_weight_short": edited(lambda m: m["weights"].pop()),
            "one_weight_more": edited(lambda m: m["weights"].append(0.5)),
            "infinite_weight": text[:start] + "1e999" + text[first_weight_end:],
            "other_input_shape": edited(lambda m: m.update(input_shape=[1, SIZE - 1])),
            "other_format": edited(lambda m: m.update(format="other-model")),
            "not_json": "fin-model, schema 1\n",
            "empty": "",
            "truncated": text[:len(text) // 2],
        }
        paths = {}
        for name, body in files.items():
            paths[name] = os.path.join(d, name + ".json")
            with open(paths[name], "w", encoding="utf-8") as f:
                f.write(body)
        paths["missing"] = os.path.join(d, "missing.json")
        return paths

    def test_refused_by_fin_predict(self):
        for name, path in self.variants(scratch_dir()).items():
            with self.subTest(model=name):
                result = run(FIN_PREDICT, "-m", path, FILES["windows.csv"])
                message = result.stderr.decode(errors="replace")
                self.assertEqual(result.returncode, EXIT_MODEL, message)
                self.assertEqual(result.stdout, b"")
                self.assertTrue(message.startswith("fin-predict: "), message)
                self.assertEqual(message.count("\n"), 1, message)
                self.assertIn(path, message)

    def test_newer_schema_says_so(self):
        path = self.variants(scratch_dir())["newer_schema"]
        message = self.run_fails(EXIT_MODEL, FIN_PREDICT, "-m", path, FILES["windows.csv"])
        said = message.replace(path, "")
        self.assertRegex(said, r"\b2\b")
        self.assertIn("newer", said)

    def test_refused_by_fin_train_init(self):
        path = self.variants(scratch_dir())["no_weights"]
        self.run_fails(EXIT_MODEL, FIN_TRAIN, "-q", "--init", path, "--epochs", "1",
                       FILES["windows.csv"])


class AtomicWriteTest(FinTest):
    def bad_windows(self, d):
        """The windows with a value beyond float32 in a feature column: a
        data error found while reading, on a known line."""
        header, rows = WINDOWS
        rows = [list(r) for r in rows]
        rows[99][header.index("DAX_3")] = "1e39"
        path = os.path.join(d, "bad.csv")
        write_csv(path, [header] + rows)
        return path, 101  # header line + 100 data rows

    def test_failed_run_leaves_nothing(self):
        d = scratch_dir()
        bad, line = self.bad_windows(d)
        target = os.path.join(d, "model.json")
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-q", "-k", "t", "--epochs", "2", "-o", target,
                                 bad)
        self.assertIn(f"{bad}:{line}:", message)
        self.assertIn("'DAX_3'", message)
        self.assertEqual(sorted(os.listdir(d)), ["bad.csv"])

    def test_failed_run_keeps_the_old_model(self):
        d = scratch_dir()
        bad, _ = self.bad_windows(d)
        target = os.path.join(d, "model.json")
        with open(FILES["cnn.json"], "rb") as f:
            old = f.read()
        with open(target, "wb") as f:
            f.write(old)
        self.run_fails(EXIT_DATA, FIN_TRAIN, "-q", "-k", "t", "--epochs", "2", "-o", target, bad)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), old)
        self.assertEqual(sorted(os.listdir(d)), ["bad.csv", "model.json"])

    def test_diverging_run_leaves_nothing(self):
        # A failure after training began: the loss overflows.
        d = scratch_dir()
        target = os.path.join(d, "model.json")
        self.run_fails(EXIT_DATA, FIN_TRAIN, "-q", "-k", "t", "--optimizer", "sgd", "--lr", "100",
                       "--epochs", "50", "-o", target, FILES["windows.csv"])
        self.assertEqual(os.listdir(d), [])

    def test_interrupted_run(self):
        # A run of many epochs is stopped a moment after it starts, long
        # before it would write: the target is absent, or the previous
        # complete model, and no temporary file is left beside it.
        with open(FILES["cnn.json"], "rb") as f:
            old = f.read()
        for sig in (signal.SIGINT, signal.SIGTERM):
            for previous in (None, old):
                with self.subTest(signal=sig.name, previous=previous is not None):
                    d = scratch_dir()
                    target = os.path.join(d, "model.json")
                    if previous:
                        with open(target, "wb") as f:
                            f.write(previous)
                    proc = subprocess.Popen([FIN_TRAIN, "-q", "--model", "cnn", "-k", "t",
                                             "--epochs", "100000", "-o", target,
                                             FILES["windows.csv"]],
                                            cwd=ROOT, stderr=subprocess.DEVNULL)
                    time.sleep(0.3)
                    proc.send_signal(sig)
                    self.assertNotEqual(proc.wait(timeout=30), 0)
                    if previous:
                        with open(target, "rb") as f:
                            self.assertEqual(f.read(), previous)
                        self.assertEqual(os.listdir(d), ["model.json"])
                    else:
                        self.assertEqual(os.listdir(d), [])


class ProgressTest(FinTest):
    # The linear preset is fitted exactly; the same layer trained by gradient.
    LINEAR = ["--arch", "dense(1)", "-k", "t"]

    def test_quiet_is_silent(self):
        result = run(FIN_TRAIN, "-q", *self.LINEAR, "--epochs", "3", FILES["windows.csv"])
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"")

    def test_one_plain_line_per_epoch(self):
        result = self.run_ok(FIN_TRAIN, *self.LINEAR, "--epochs", "4", FILES["windows.csv"])
        lines = result.stderr.decode().splitlines()
        self.assertTrue(all(line.startswith("fin-train: ") for line in lines), lines)
        self.assertNotIn("\r", result.stderr.decode())
        epochs = [re.match(r"fin-train: epoch (\d+)/(\d+) ", line) for line in lines]
        self.assertEqual([(m.group(1), m.group(2)) for m in epochs if m],
                         [(str(i), "4") for i in range(1, 5)])

    def test_live_line_on_a_terminal(self):
        leader, follower = pty.openpty()
        proc = subprocess.Popen([FIN_TRAIN, *self.LINEAR, "--epochs", "3", FILES["windows.csv"]],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes with the process
                break
            if not chunk:
                break
            seen += chunk
        os.close(leader)
        self.assertEqual(proc.wait(timeout=30), 0)
        text = seen.decode(errors="replace")
        self.assertIn("\r", text)
        self.assertIn("epoch 3/3", text)
        self.assertNotRegex(text, r"fin-train: epoch \d")

    def read_log(self, path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def test_log_has_one_object_per_epoch(self):
        d = scratch_dir()
        for val, kind in (("0.2", float), ("0", type(None))):
            with self.subTest(val=val):
                log = os.path.join(d, f"log{val}.jsonl")
                model = self.train(*self.LINEAR, "--epochs", "5", "--val", val, "--log", log,
                                   FILES["windows.csv"])
                entries = self.read_log(log)
                self.assertEqual([e["epoch"] for e in entries], [1, 2, 3, 4, 5])
                seconds = [e["seconds"] for e in entries]
                self.assertEqual(seconds, sorted(seconds))
                self.assertGreaterEqual(seconds[0], 0)
                for e in entries:
                    self.assertIsInstance(e["train_loss"], float)
                    self.assertIsInstance(e["val_loss"], kind)
                if val != "0":
                    # The saved weights are the best epoch's, even without
                    # --patience.
                    best = min(e["val_loss"] for e in entries)
                    self.assertTrue(rel_close(model["training"]["val_loss"], best, 1e-6))

    def test_patience_stops_early_and_keeps_the_best_weights(self):
        d = scratch_dir()
        log, path = os.path.join(d, "log.jsonl"), os.path.join(d, "model.json")
        # A fast learner on noise overfits within a few epochs, so the
        # validation loss soon stops improving.
        self.run_ok(FIN_TRAIN, "-q", "--model", "mlp", "-k", "t", "--lr", "0.01", "--epochs", "200",
                    "--patience", "3", "--log", log, "-o", path, FILES["windows.csv"])
        facts = load_model(path)["training"]
        entries = self.read_log(log)
        val = [e["val_loss"] for e in entries]
        best = val.index(min(val)) + 1
        self.assertEqual(facts["epochs"], 200)
        self.assertEqual(facts["epochs_run"], len(entries))
        self.assertLess(facts["epochs_run"], 200)
        self.assertEqual(facts["best_epoch"], best)
        self.assertLessEqual(facts["best_epoch"], facts["epochs_run"])
        self.assertEqual(facts["epochs_run"], best + 3)  # 3 epochs without improvement
        self.assertTrue(rel_close(facts["val_loss"], val[best - 1], 1e-6),
                        f"saved val_loss {facts['val_loss']!r}, best epoch's {val[best - 1]!r}")
        # And the weights in the file really are the best epoch's: their
        # validation loss, recomputed from fin-predict, is that epoch's.
        header, rows, ntrain = self.windows_split()
        _, out = self.predict(path, FILES["windows.csv"])
        y = column(header, rows, "y")
        got = standardised_mse([float(r[1]) for r in out][ntrain:], y[ntrain:],
                               statistics.stdev(y[:ntrain]))
        self.assertTrue(rel_close(got, val[best - 1], 1e-5), f"{got!r} vs {val[best - 1]!r}")


class InitTest(FinTest):
    def test_init_continues_a_saved_model(self):
        header, rows, ntrain = self.windows_split()
        d = scratch_dir()
        first_part = os.path.join(d, "first.csv")
        write_csv(first_part, [header] + rows[:800])
        saved_path = os.path.join(d, "saved.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "mlp", "-k", "t", "--epochs", "3", "--seed", "3",
                    "-o", saved_path, first_part)
        saved = load_model(saved_path)
        more = self.train("--init", saved_path, "-k", "t", "--epochs", "2", "--seed", "9",
                          FILES["windows.csv"])
        # The saved model's features and scalers...
        for field in ("arch", "input_shape", "features", "keys", "target", "scaler",
                      "target_scaler"):
            self.assertEqual(more[field], saved[field], field)
        # ...which are not what a fresh fit on the new rows would give.
        fresh = mean([as_float32(v) for v in column(header, rows, "DAX_0")[:ntrain]])
        self.assertFalse(rel_close(saved["scaler"]["mean"][-1], fresh, 1e-6))
        # The facts are the new run's.
        facts = more["training"]
        self.assertEqual(facts["seed"], 9)
        self.assertEqual(facts["epochs"], 2)
        self.assertEqual(facts["epochs_run"], 2)
        self.assertEqual(facts["rows_train"], ntrain)
        self.assertEqual(facts["rows_val"], len(rows) - ntrain)
        self.assertNotEqual(more["weights"], saved["weights"])

    def test_init_takes_no_architecture(self):
        self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "--init", FILES["cnn.json"], "--model", "mlp",
                       FILES["windows.csv"])


class ValidationTest(FinTest):
    def test_val_zero_trains_on_every_row(self):
        header, rows = WINDOWS
        m = self.train("--model", "linear", "-k", "t", "--epochs", "2", "--val", "0",
                       FILES["windows.csv"])
        self.assertEqual(m["training"]["rows_train"], len(rows))
        self.assertEqual(m["training"]["rows_val"], 0)
        self.assertIsNone(m["training"]["val_loss"])
        self.assertTrue(rel_close(m["target_scaler"]["mean"], mean(column(header, rows, "y")),
                                  1e-9))

    def test_val_file_is_the_same_as_the_tail(self):
        # The tail given as a file of its own gives the very model that
        # --val gives when it cuts the same tail.
        header, rows, ntrain = self.windows_split()
        d = scratch_dir()
        head, tail = os.path.join(d, "head.csv"), os.path.join(d, "tail.csv")
        write_csv(head, [header] + rows[:ntrain])
        write_csv(tail, [header] + rows[ntrain:])
        args = ["--model", "mlp", "-k", "t", "--epochs", "3"]
        with_file = self.train(*args, "--val-file", tail, head)
        with_tail = self.train(*args, "--val", "0.2", FILES["windows.csv"])
        self.assertEqual(with_file["training"]["rows_train"], ntrain)
        self.assertEqual(with_file["training"]["rows_val"], len(rows) - ntrain)
        self.assertEqual(with_file, with_tail)

    def test_val_fraction_counts_rows_exactly(self):
        # floor(F n) with F the decimal given: 0.7 of 10 rows is 7 rows.
        d = scratch_dir()
        path = os.path.join(d, "ten.csv")
        write_csv(path, [["x", "y"]] + [[str(i), str(2 * i)] for i in range(10)])
        for fraction in ("0.1", "0.2", "0.3", "0.5", "0.7", "0.9"):
            with self.subTest(val=fraction):
                facts = self.train("--arch", "dense(1)", "--epochs", "1", "--val", fraction,
                                   path)["training"]
                self.assertEqual(facts["rows_val"], n_val(10, fraction))
                self.assertEqual(facts["rows_train"], 10 - n_val(10, fraction))


class UsageTest(FinTest):
    def test_usage_errors(self):
        windows = FILES["windows.csv"]
        cases = {
            "unknown model": (["--model", "bert"], "bert"),
            "model and arch": (["--model", "cnn", "--arch", "dense(1)"], "--arch"),
            "bad arch": (["--arch", "conv1d(64,30,relu)"], "conv1d(64,30,relu)"),
            "missing target": (["-y", "close"], "close"),
        }
        for name, (args, named) in cases.items():
            with self.subTest(name):
                message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "-k", "t", "--epochs", "1",
                                         *args, windows)
                self.assertIn(named, message)

    def test_unknown_option(self):
        result = run(FIN_TRAIN, "--epoch-count", "3", FILES["windows.csv"])
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn("--epoch-count", result.stderr.decode())
        self.assertEqual(result.stdout, b"")

    def test_empty_input(self):
        d = scratch_dir()
        header_only, nothing = os.path.join(d, "header.csv"), os.path.join(d, "nothing.csv")
        write_csv(header_only, [WINDOWS[0]])
        open(nothing, "w").close()
        for path in (header_only, nothing):
            with self.subTest(path=os.path.basename(path)):
                self.run_fails(EXIT_NO_ROWS, FIN_TRAIN, "-q", "-k", "t", path)
        self.run_fails(EXIT_NO_ROWS, FIN_PREDICT, "-m", FILES["cnn.json"], header_only)


if __name__ == "__main__":
    for tool in (FIN_WINDOW, FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"train_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
