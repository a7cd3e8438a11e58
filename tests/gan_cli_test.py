#!/usr/bin/env python3
"""Command-line tests of fin-train --task gan, checked against fin-train(1)
and fin-model(5).

Run from the repository root as
`FIN_BIN=build/bin python3 tests/gan_cli_test.py`. Expected values are
computed here from the input (row counts, means and standard deviations of
the training rows, parameter counts of the architectures); nothing is
copied from the programs' own output.
"""
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, parse_csv, run, write_csv

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS = 2, 3, 4
SIZE = 8
EPOCHS = 3
TMP = None
WINDOWS = None  # path of the windows file
HEADER, ROWS = None, None


def setUpModule():
    global TMP, WINDOWS, HEADER, ROWS
    TMP = tempfile.mkdtemp(prefix="fin-gan-test-")
    # Daily returns with a slow swing in volatility, 400 days.
    series = os.path.join(TMP, "returns.csv")
    rows = [["day", "ret"]]
    x = 12345
    for day in range(1, 401):
        x = (1103515245 * x + 12345) % 2**31
        u = x / 2**31 - 0.5
        rows.append([str(day), f"{0.0004 + u * 0.02 * (1.5 + math.sin(day / 30)):.7f}"])
    write_csv(series, rows)
    WINDOWS = os.path.join(TMP, "windows.csv")
    out = run(FIN_WINDOW, "-c", "ret", "-k", "day", "--size", str(SIZE), "--transform", "level",
              "--target", "none", "-o", WINDOWS, series)
    assert out.returncode == 0, out.stderr
    with open(WINDOWS, "rb") as f:
        HEADER, ROWS = parse_csv(f.read())


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def dense_params(arch, inputs):
    """Parameters of a stack of dense layers: weights and biases."""
    total = 0
    for units in re.findall(r"dense\((\d+)", arch):
        total += int(units) * inputs + int(units)
        inputs = int(units)
    return total


class GanCase(FinCase):
    def train(self, *args, name="gan.json"):
        path = os.path.join(TMP, name)
        result = self.run_ok(FIN_TRAIN, "--task", "gan", "-k", "day", "--epochs", str(EPOCHS),
                             "-o", path, *args, WINDOWS)
        with open(path) as f:
            return json.load(f), result.stderr.decode(), path


class ModelFileTest(GanCase):
    def test_fields(self):
        m, _, _ = self.train("-q")
        features = [f"ret_{lag}" for lag in range(SIZE - 1, -1, -1)]
        self.assertEqual(m["format"], "fin-model")
        self.assertEqual(m["task"], "gan")
        self.assertEqual(m["features"], features)
        self.assertEqual(HEADER, ["day"] + features)
        self.assertEqual(m["keys"], ["day"])
        self.assertIsNone(m["target"])
        self.assertEqual(m["input_shape"], [1, SIZE])
        self.assertEqual(m["latent"], 16)
        g, d = m["generator"]["arch"], m["arch"]
        self.assertTrue(g.endswith(f"dense({SIZE},linear)"), g)
        self.assertTrue(d.endswith("dense(1,linear)"), d)
        self.assertEqual(len(m["generator"]["weights"]), dense_params(g, 16))
        self.assertEqual(len(m["weights"]), dense_params(d, SIZE))
        self.assertTrue(all(math.isfinite(w) for w in m["weights"] + m["generator"]["weights"]))

    def test_every_row_trains_and_scalers_see_only_training_rows(self):
        m, _, _ = self.train("-q")
        t = m["training"]
        self.assertEqual((t["rows_train"], t["rows_val"]), (len(ROWS), 0))
        m, _, _ = self.train("-q", "--val", "0.25", name="val.json")
        n_val = math.floor(len(ROWS) * 0.25)
        n_train = len(ROWS) - n_val
        t = m["training"]
        self.assertEqual((t["rows_train"], t["rows_val"]), (n_train, n_val))
        for j, name in enumerate(m["features"]):
            col = [float(r[1 + j]) for r in ROWS[:n_train]]
            self.assertAlmostEqual(m["scaler"]["mean"][j], statistics.fmean(col), delta=1e-9)
            self.assertAlmostEqual(m["scaler"]["sd"][j], statistics.stdev(col), delta=1e-8)

    def test_options_are_recorded(self):
        m, _, _ = self.train("-q", "--latent", "5", "--lr-g", "0.002", "--lr-d", "0.0005",
                             "--d-steps", "3", "--smooth", "0.2", "--batch", "16", "--seed", "9",
                             "--arch-g", "dense(12,tanh) dense(8)",
                             "--arch-d", "dense(6,leaky_relu) dense(1)")
        t = m["training"]
        self.assertEqual(m["latent"], 5)
        self.assertEqual(m["generator"]["arch"], "dense(12,tanh) dense(8,linear)")
        self.assertEqual(m["arch"], "dense(6,leaky_relu) dense(1,linear)")
        self.assertEqual(len(m["generator"]["weights"]), 5 * 12 + 12 + 12 * 8 + 8)
        self.assertEqual(len(m["weights"]), 8 * 6 + 6 + 6 + 1)
        self.assertAlmostEqual(t["lr"], 0.002, places=9)
        self.assertAlmostEqual(t["lr_d"], 0.0005, places=9)
        self.assertAlmostEqual(t["smooth"], 0.2, places=7)
        self.assertEqual((t["d_steps"], t["batch"], t["seed"], t["epochs"]), (3, 16, 9, EPOCHS))
        self.assertEqual(t["optimizer"], "adam")

    def test_lr_sets_both_rates(self):
        m, _, _ = self.train("-q", "--lr", "0.003")
        self.assertAlmostEqual(m["training"]["lr"], 0.003, places=9)
        self.assertAlmostEqual(m["training"]["lr_d"], 0.003, places=9)


class ProgressTest(GanCase):
    def test_both_losses_per_epoch_on_stderr_and_in_the_log(self):
        log = os.path.join(TMP, "log.jsonl")
        m, stderr, _ = self.train("--log", log)
        lines = [l for l in stderr.splitlines() if " epoch " in l]
        self.assertEqual(len(lines), EPOCHS, stderr)
        for i, line in enumerate(lines, 1):
            self.assertRegex(line, rf"^fin-train: epoch {i}/{EPOCHS} loss_d \S+ loss_g \S+ ")
        self.assertIn("discriminator", stderr)
        with open(log) as f:
            entries = [json.loads(l) for l in f]
        self.assertEqual([e["epoch"] for e in entries], list(range(1, EPOCHS + 1)))
        for e in entries:
            self.assertTrue(math.isfinite(e["loss_d"]) and math.isfinite(e["loss_g"]))
            self.assertGreater(e["loss_d"], 0)
            self.assertGreater(e["loss_g"], 0)
        # The file keeps the last epoch's losses and weights: a GAN has no
        # validation loss to choose an epoch by, nor a note on overfitting.
        self.assertAlmostEqual(m["training"]["loss_d"], entries[-1]["loss_d"], delta=1e-8)
        self.assertAlmostEqual(m["training"]["loss_g"], entries[-1]["loss_g"], delta=1e-8)
        self.assertEqual(m["training"]["kept_epoch"], EPOCHS)
        self.assertIsNone(m["training"]["last_val_loss"])
        self.assertNotIn("kept the weights", stderr)
        self.assertNotIn("overfit", stderr)

    def test_quiet(self):
        _, stderr, _ = self.train("-q")
        self.assertEqual(stderr, "")


class ReproducibilityTest(GanCase):
    def bytes_of(self, *args, name):
        _, _, path = self.train("-q", *args, name=name)
        with open(path, "rb") as f:
            return f.read()

    def test_same_seed_same_file(self):
        self.assertEqual(self.bytes_of("--seed", "4", name="a.json"),
                         self.bytes_of("--seed", "4", name="b.json"))

    def test_other_seed_or_d_steps_other_file(self):
        first = self.bytes_of("--seed", "4", name="a.json")
        self.assertNotEqual(first, self.bytes_of("--seed", "5", name="c.json"))
        self.assertNotEqual(first, self.bytes_of("--seed", "4", "--d-steps", "2", name="d.json"))

    def test_model_gan_is_the_preset_of_task_gan(self):
        out = os.path.join(TMP, "preset.json")
        self.run_ok(FIN_TRAIN, "--model", "gan", "-k", "day", "--epochs", str(EPOCHS), "-q",
                    "-o", out, WINDOWS)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.bytes_of(name="task.json"))


class RefusalTest(GanCase):
    def test_usage_errors(self):
        cases = {
            "gan option without a GAN": (["--latent", "4"], "--task gan"),
            "target": (["--task", "gan", "-y", "ret_0"], "-y"),
            "single network": (["--task", "gan", "--arch", "dense(1)"], "--arch"),
            "optimizer": (["--task", "gan", "--optimizer", "sgd"], "--optimizer"),
            "another preset": (["--task", "gan", "--model", "cnn"], "cnn"),
            "another task": (["--model", "gan", "--task", "regression"], "--task gan"),
            "generator size": (["--task", "gan", "--arch-g", "dense(3)"], "generator"),
            "discriminator size": (["--task", "gan", "--arch-d", "dense(2)"], "discriminator"),
            "smoothing": (["--task", "gan", "--smooth", "1"], "--smooth"),
            "d-steps": (["--task", "gan", "--d-steps", "0"], "--d-steps"),
        }
        for name, (args, named) in cases.items():
            with self.subTest(name):
                message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "-k", "day", "--epochs", "1",
                                         *args, WINDOWS)
                self.assertIn(named, message)

    def test_gan_is_no_model_for_predict_or_init(self):
        _, _, path = self.train("-q")
        message = self.run_fails(EXIT_MODEL, FIN_PREDICT, "-m", path, WINDOWS)
        self.assertIn("fin-gen", message)
        message = self.run_fails(EXIT_MODEL, FIN_TRAIN, "-q", "--init", path, WINDOWS)
        self.assertIn("GAN", message)

    def test_no_rows(self):
        header_only = os.path.join(TMP, "header.csv")
        write_csv(header_only, [HEADER])
        self.run_fails(EXIT_NO_ROWS, FIN_TRAIN, "--task", "gan", "-q", "-k", "day", header_only)


if __name__ == "__main__":
    for tool in (FIN_WINDOW, FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"gan_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
