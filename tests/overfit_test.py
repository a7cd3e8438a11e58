#!/usr/bin/env python3
"""fin-train keeps the weights of its best validation epoch and says when a
model overfits, as fin-train(1) and fin-model(5) describe.

Run from the repository root as
`FIN_BIN=build/bin python3 tests/overfit_test.py`. Which epoch is best is
found here from the --log file's validation losses; the loss of the weights
kept is recomputed from fin-predict's probabilities and the labels; whether
the run overfits is decided here by the documented rule (each of the last 5
validation losses above 1.5 times the lowest). Nothing is copied from the
programs' own summary.
"""
import json
import math
import os
import re
import sys
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, parse_csv, read_csv

FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

CREDIT = "data/german_credit.csv"
OVERFIT_RATIO, OVERFIT_EPOCHS = 1.5, 5  # fin-train(1), OVERFITTING
# The network's logits are float32: each is off by at most 2^-24 of
# itself, and a row's cross-entropy moves by at most that much times the
# logit; 1e-5 of the mean loss leaves room for logits up to a few hundred.
LOSS_REL_TOL = 1e-5

TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-overfit-test-")


def tearDownModule():
    TMP.cleanup()


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def overfits(val):
    """The rule of fin-train(1): every one of the last 5 epochs' validation
    losses above 1.5 times the lowest."""
    best = min(val)
    return all(v > OVERFIT_RATIO * best for v in val[-OVERFIT_EPOCHS:])


def credit_split():
    """The labels of the German credit rows and where validation starts:
    the last floor(0.2 n) rows are the validation tail."""
    header, rows = read_csv(CREDIT)
    labels = [r[header.index("Class")] for r in rows]
    return labels, len(rows) - math.floor(len(rows) * 2 / 10)


class CreditTest(FinCase):
    def train(self, name, *args):
        """Trains on the German credit data; returns (stderr, log, model)."""
        log = os.path.join(TMP.name, name + ".log")
        model = os.path.join(TMP.name, name + ".json")
        result = self.run_ok(FIN_TRAIN, "-y", "Class", "--log", log, "-o", model, *args, CREDIT)
        return result.stderr.decode(), read_log(log), model

    def validation_loss_and_accuracy(self, model):
        """Mean cross-entropy and accuracy of the model's predictions on the
        validation tail, from fin-predict's p_<label> and label columns."""
        labels, ntrain = credit_split()
        header, out = parse_csv(self.run_ok(FIN_PREDICT, "-m", model, CREDIT).stdout)
        nll, right = [], 0
        for label, row in zip(labels[ntrain:], out[ntrain:]):
            nll.append(-math.log(float(row[header.index("p_" + label)])))
            right += row[header.index("label")] == label
        return math.fsum(nll) / len(nll), right / len(nll)

    def test_the_default_mlp_keeps_its_best_epoch_and_says_it_overfits(self):
        stderr, log, path = self.train("mlp")
        val = [e["val_loss"] for e in log]
        best = val.index(min(val)) + 1  # the first of equals
        self.assertEqual(len(val), 100)
        self.assertTrue(overfits(val), f"best {min(val)} at {best}, last {val[-5:]}")
        facts = load(path)["training"]
        self.assertEqual(facts["best_epoch"], best)
        self.assertEqual(facts["kept_epoch"], best)
        self.assertEqual(facts["epochs_run"], 100)
        # The log gives 9 significant digits.
        self.assertEqual(f"{facts['last_val_loss']:.9g}", f"{val[-1]:.9g}")
        # The weights in the file are that epoch's: their validation loss,
        # recomputed from fin-predict's probabilities, is its logged loss.
        loss, accuracy = self.validation_loss_and_accuracy(path)
        self.assertTrue(math.isclose(loss, val[best - 1], rel_tol=LOSS_REL_TOL),
                        f"fin-predict gives {loss!r}, epoch {best} logged {val[best - 1]!r}")
        self.assertTrue(math.isclose(facts["val_loss"], val[best - 1], rel_tol=LOSS_REL_TOL))
        # Not vacuous: the last epoch's weights would be told apart.
        self.assertGreater(val[-1], 2 * loss)
        self.assertIn(f"fin-train: kept the weights of epoch {best} of 100 (best validation "
                      f"loss {val[best - 1]:.6g})\n", stderr)
        note = [l for l in stderr.splitlines() if "overfits" in l]
        self.assertEqual(len(note), 1, stderr)
        self.assertIn(f"from {val[best - 1]:.6g} (epoch {best}) to {val[-1]:.6g} (epoch 100)",
                      note[0])
        for remedy in ("--patience", "--l2", "--dropout", "smaller model"):
            self.assertIn(remedy, note[0])
        # The summary next to the naive forecast describes the weights kept.
        got = re.search(r"validation rows \(200 rows\): accuracy ([0-9.]+);", stderr)
        self.assertIsNotNone(got, stderr)
        self.assertEqual(got.group(1), f"{accuracy:.4f}")

    def test_a_model_that_does_not_overfit_gets_no_note(self):
        # a logistic regression trained by gradient (--model logistic is fitted exactly)
        stderr, log, path = self.train("logistic", "--arch", "dense(1)")
        val = [e["val_loss"] for e in log]
        best = val.index(min(val)) + 1
        self.assertFalse(overfits(val), f"best {min(val)}, last {val[-5:]}")
        self.assertEqual(load(path)["training"]["kept_epoch"], best)
        self.assertIn(f"kept the weights of epoch {best} of 100", stderr)
        self.assertNotIn("overfit", stderr)
        loss, _ = self.validation_loss_and_accuracy(path)
        self.assertTrue(math.isclose(loss, val[best - 1], rel_tol=LOSS_REL_TOL))

    def test_patience_stops_and_keeps_the_best_epoch(self):
        stderr, log, path = self.train("patience", "--patience", "10")
        val = [e["val_loss"] for e in log]
        best = val.index(min(val)) + 1
        self.assertEqual(len(val), best + 10)
        facts = load(path)["training"]
        self.assertEqual((facts["kept_epoch"], facts["epochs_run"]), (best, best + 10))
        self.assertIn(f"fin-train: kept the weights of epoch {best} of {best + 10} (best "
                      f"validation loss {val[best - 1]:.6g}); --patience 10 stopped training\n",
                      stderr)
        self.assertEqual("overfits" in stderr, overfits(val))

    def test_without_validation_the_last_epoch_is_kept_silently(self):
        stderr, log, path = self.train("no-val", "--val", "0", "--epochs", "20")
        self.assertEqual([e["val_loss"] for e in log], [None] * 20)
        facts = load(path)["training"]
        self.assertEqual((facts["kept_epoch"], facts["epochs_run"]), (20, 20))
        self.assertIsNone(facts["val_loss"])
        self.assertIsNone(facts["last_val_loss"])
        self.assertNotIn("kept the weights", stderr)
        self.assertNotIn("overfit", stderr)

    def test_init_keeps_the_best_epoch_of_the_new_run(self):
        _, _, first = self.train("init-first", "--epochs", "3")
        stderr, log, path = self.train("init-more", "--init", first, "--epochs", "40")
        val = [e["val_loss"] for e in log]
        best = val.index(min(val)) + 1
        facts = load(path)["training"]
        self.assertEqual((facts["kept_epoch"], facts["epochs_run"]), (best, 40))
        loss, _ = self.validation_loss_and_accuracy(path)
        self.assertTrue(math.isclose(loss, val[best - 1], rel_tol=LOSS_REL_TOL))
        self.assertEqual("overfits" in stderr, overfits(val))

    def test_quiet_says_nothing(self):
        stderr, _, _ = self.train("quiet", "-q")
        self.assertEqual(stderr, "")


if __name__ == "__main__":
    for tool in (FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"overfit_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
