#!/usr/bin/env python3
"""Command-line tests of fin-avg, checked against fin-avg(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/fedavg_test.py`. The German credit
data is cut into three parties of 150, 350 and 500 applicants; a global
model trained by fin-train on the first is trained on by each party
(fin-train --init), and fin-avg's average is checked against the rows- and
equal-weighted means of the parties' weights, computed here from their files
in double and rounded to float32. Every kind of difference between two
models is made by editing a copy of a party's file (or training another
model) and must be refused with exit status 3 and one line naming it.

Pooled statistics are checked on statistics files written here from numpy
(fin-train does not write them yet): fin-avg --stats of slices of a table
must give numpy's mean and sum of squared deviations of all its rows.
"""
import collections
import json
import math
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, FinCase, read_csv, write_csv, as_float32, run

FIN_AVG = os.path.join(BIN_DIR, "fin-avg")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

CREDIT = "data/german_credit.csv"
SIZES = (150, 350, 500)
EXIT_USAGE, EXIT_MODEL = 2, 3

TMP = None
FILES = {}


def path(name):
    return os.path.join(TMP.name, name)


def must(*args):
    result = run(*args)
    assert result.returncode == 0, (args, result.stderr.decode(errors="replace"))
    return result


def load(name):
    with open(FILES.get(name, name)) as f:
        return json.load(f)


def save(model, name):
    FILES[name] = path(name + ".json")
    with open(FILES[name], "w") as f:
        json.dump(model, f)
    return FILES[name]


def edited(name, new_name, change):
    """A copy of model name, changed by change(model)."""
    model = load(name)
    change(model)
    return save(model, new_name)


def train(name, *args):
    FILES[name] = path(name + ".json")
    must(FIN_TRAIN, "-q", "-o", FILES[name], *args)
    return FILES[name]


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-fedavg-test-")
    header, rows = read_csv(CREDIT)
    at = 0
    for i, size in enumerate(SIZES):
        FILES[f"data{i}"] = path(f"party{i}.csv")
        write_csv(FILES[f"data{i}"], [header] + rows[at:at + size])
        at += size
    # A text column, for the encodings: the amount's band.
    amount, klass = header.index("Amount"), header.index("Class")
    bands = [["Duration", "Age", "Band", "Class"]]
    for r in rows[:SIZES[0]]:
        a = float(r[amount])
        band = "low" if a < 1500 else "mid" if a < 4000 else "high"
        bands.append([r[header.index("Duration")], r[header.index("Age")], band, r[klass]])
    FILES["bands_csv"] = path("bands.csv")
    write_csv(FILES["bands_csv"], bands)

    train("global", "--model", "mlp", "-y", "Class", "--epochs", "1", FILES["data0"])
    for i in range(len(SIZES)):
        train(f"party{i}", "--init", FILES["global"], "--epochs", "1", "-s", str(i + 2),
              FILES[f"data{i}"])
    train("regression", "--model", "mlp", "-y", "Amount", "-c", "Duration,Age", "--epochs", "1",
          FILES["data0"])
    train("regression_party", "--init", FILES["regression"], "--epochs", "1", FILES["data1"])
    train("bands", "--model", "mlp", "-y", "Class", "--min-count", "1", "--epochs", "1",
          FILES["bands_csv"])
    train("bands_party", "--init", FILES["bands"], "--epochs", "1", FILES["bands_csv"])


def tearDownModule():
    TMP.cleanup()


def float32s(values):
    return [as_float32(v) for v in values]


def within_float32_rounding(got, want):
    """got is want (a double) rounded to float32, give or take the last
    bits of want's own rounding in double."""
    return got == want if want == 0 else abs(got - want) <= (2.0 ** -24 + 1e-15) * abs(want)


class AverageTest(FinCase):
    def average(self, *args):
        out = path("average.json")
        result = self.run_ok(FIN_AVG, "-o", out, *args)
        with open(out) as f:
            return json.load(f), result.stderr.decode()

    def parties(self):
        return [FILES[f"party{i}"] for i in range(len(SIZES))]

    def assert_mean(self, got, models, weights):
        total = math.fsum(weights)
        columns = [float32s(m["weights"]) for m in models]
        self.assertEqual(len(got), len(columns[0]))
        for j, g in enumerate(float32s(got)):
            want = math.fsum(w * c[j] for w, c in zip(weights, columns)) / total
            self.assertTrue(within_float32_rounding(g, want), f"weight {j}: {g!r} != {want!r}")

    def test_rows_weighted_mean(self):
        models = [load(p) for p in self.parties()]
        rows = [m["training"]["rows_train"] for m in models]
        self.assertEqual(rows, [s - math.floor(0.2 * s) for s in SIZES])  # the default --val 0.2
        got, _ = self.average(*self.parties())
        self.assert_mean(got["weights"], models, rows)
        # the parties' weights differ: the mean is none of them, and not the equal mean
        equal = [math.fsum(c) / 3 for c in zip(*(float32s(m["weights"]) for m in models))]
        self.assertGreater(sum(not within_float32_rounding(g, e)
                               for g, e in zip(float32s(got["weights"]), equal)), len(equal) // 2)
        t = got["training"]
        self.assertEqual(t["round"], 1)
        self.assertEqual(t["rows_train"], sum(rows))
        self.assertEqual(t["parties"], [{"file": p, "rows": n} for p, n in zip(self.parties(), rows)])
        self.assertNotIn("dp_clip", t)
        self.assertNotIn("epsilon", t)
        # what describes one party's run is reset; the round's settings stay
        self.assertEqual((t["epochs_run"], t["best_epoch"], t["kept_epoch"], t["rows_val"]),
                         (0, 0, 0, 0))
        self.assertEqual((t["train_loss"], t["val_loss"], t["last_val_loss"]), (None, None, None))
        for key in ("optimizer", "lr", "batch", "epochs", "seed"):
            self.assertEqual(t[key], models[0]["training"][key])
        # all but the weights and facts is the first file's
        for key in ("format", "task", "loss", "arch", "input_shape", "features", "target",
                    "scaler", "labels"):
            self.assertEqual(got[key], models[0][key], key)
        # and it is a model the tools read
        must(FIN_PREDICT, "-m", path("average.json"), FILES["data0"])

    def test_equal_weights(self):
        models = [load(p) for p in self.parties()]
        got, _ = self.average("--weights", "equal", *self.parties())
        self.assert_mean(got["weights"], models, [1, 1, 1])
        self.assertEqual(got["training"]["rows_train"],
                         sum(m["training"]["rows_train"] for m in models))

    def test_one_file_is_a_copy_of_the_next_round(self):
        edited("party1", "round4", lambda m: m["training"].update(round=4))
        got, _ = self.average(FILES["round4"])
        self.assertEqual(float32s(got["weights"]), float32s(load("party1")["weights"]))
        self.assertEqual(got["training"]["round"], 5)
        self.assertEqual(got["training"]["parties"],
                         [{"file": FILES["round4"], "rows": load("party1")["training"]["rows_train"]}])

    def test_standard_output(self):
        result = self.run_ok(FIN_AVG, *self.parties())
        got, _ = self.average(*self.parties())
        self.assertEqual(json.loads(result.stdout), got)
        self.assertEqual(result.stderr, b"")

    def test_largest_epsilon(self):
        def private(clip, noise, epsilon, delta):
            return lambda m: m["training"].update(dp_clip=clip, dp_noise=noise,
                                                  dp_sampling="poisson", epsilon=epsilon,
                                                  delta=delta)
        edited("party0", "dp0", private(1.0, 1.1, 2.5, 1e-5))
        edited("party1", "dp1", private(0.5, 0.9, 4.0, 1e-6))
        edited("party2", "dp2", private(0.7, 0.0, None, 1e-7))  # no noise: no finite epsilon
        got, note = self.average(FILES["dp0"], FILES["dp1"])
        t = got["training"]
        self.assertEqual((t["dp_clip"], t["dp_noise"], t["epsilon"], t["delta"]),
                         (1.0, 0.9, 4.0, 1e-5))
        self.assertEqual(t["dp_sampling"], "poisson")
        self.assertEqual([p["epsilon"] for p in t["parties"]], [2.5, 4.0])
        self.assertEqual(note, "")
        # a party without noise has no finite epsilon, and neither has the average
        got, _ = self.average(FILES["dp0"], FILES["dp2"])
        self.assertIsNone(got["training"]["epsilon"])
        self.assertEqual([p["epsilon"] for p in got["training"]["parties"]], [2.5, None])
        # nor when a party trained without differential privacy: said in a note
        got, note = self.average(FILES["dp0"], FILES["dp1"], FILES["party2"])
        t = got["training"]
        self.assertIsNone(t["epsilon"])
        self.assertEqual((t["dp_clip"], t["delta"]), (1.0, 1e-5))
        self.assertNotIn("epsilon", t["parties"][2])
        self.assertEqual(note, f"fin-avg: {FILES['party2']} was trained without differential "
                               "privacy: the average's epsilon is infinite\n")
        _, note = self.average("-q", FILES["dp0"], FILES["party2"])
        self.assertEqual(note, "")
        # the output reads back as a model with those facts
        must(FIN_PREDICT, "-m", path("average.json"), FILES["data0"])

    def test_exact_fit_is_left_out(self):
        fit = train("logistic", "--model", "logistic", "-y", "Class", "-c",
                    "Duration,Amount,Age", FILES["data0"])
        copy = path("logistic-copy.json")
        shutil.copyfile(fit, copy)
        self.assertIn("fit", load(fit))
        got, note = self.average(fit, copy)
        self.assertNotIn("fit", got)
        self.assertEqual(got["weights"], load(fit)["weights"])
        self.assertIn('"fit"', note)
        self.assertEqual(note.count("\n"), 1)
        must(FIN_PREDICT, "-m", path("average.json"), FILES["data0"])


class RefusalTest(FinCase):
    def refused(self, other, *words, first="party0", code=EXIT_MODEL, args=()):
        """fin-avg of the first party's file and other must fail with one
        line naming other and holding every one of words."""
        message = self.run_fails(code, FIN_AVG, *args, "-o", path("refused.json"),
                                 FILES[first], other)
        self.assertTrue(message.startswith(f"fin-avg: {other}: "), message)
        for w in words:
            self.assertIn(w, message)
        self.assertFalse(os.path.exists(path("refused.json")))
        return message

    def test_format(self):
        self.refused(edited("party1", "format", lambda m: m.update(format="fin-detector")),
                     "not a fin-model file")

    def test_schema(self):
        self.refused(edited("party1", "schema", lambda m: m.update(schema_version=2)),
                     "schema version 2 is newer")

    def test_task(self):
        self.refused(FILES["regression_party"], "task regression, but binary in")

    def test_architecture(self):
        other = train("arch", "--arch", "dense(8,relu) dense(1)", "-y", "Class", "--epochs", "1",
                      FILES["data0"])
        self.refused(other, "architecture from layer 1 is 'dense(8,relu) dense(1,linear)', "
                            "but 'dense(64,relu)")

    def test_features(self):
        def swap(m):
            f = m["features"]
            f[0], f[1] = f[1], f[0]
        self.refused(edited("party1", "features", swap),
                     "feature 1 is 'Amount', but 'Duration' in")

    def test_scaler(self):
        self.refused(edited("party1", "scaler",
                            lambda m: m["scaler"]["mean"].__setitem__(1, 3000.5)),
                     "scaler mean of feature 'Amount' is 3000.5, but")
        self.refused(edited("party1", "scaler_sd",
                            lambda m: m["scaler"]["sd"].__setitem__(0, 12.25)),
                     "scaler sd of feature 'Duration' is 12.25, but")

    def test_target_scaler(self):
        other = edited("regression_party", "target_scaler",
                       lambda m: m["target_scaler"].update(sd=2000.5))
        self.refused(other, "target_scaler sd is 2000.5, but", first="regression_party")

    def test_encodings(self):
        def rename_level(m):
            col = next(c for c in m["inputs"] if c["column"] == "Band")
            self.assertEqual(col["levels"], ["high", "low", "mid"])
            col["levels"][2] = "med"
            m["features"][m["features"].index("Band=mid")] = "Band=med"
        self.refused(edited("bands_party", "levels", rename_level),
                     "text column 'Band': level 3 is 'med', but 'mid' in", first="bands")

    def test_labels(self):
        self.refused(edited("party1", "labels", lambda m: m.update(labels=["Bad", "Great"])),
                     "label 2 is 'Great', but 'Good' in")

    def test_target(self):
        self.refused(edited("party1", "target", lambda m: m.update(target="Klass")),
                     "target 'Klass', but 'Class' in")

    def test_round(self):
        self.refused(edited("party1", "round1", lambda m: m["training"].update(round=1)),
                     "round 1, but 0 in", "different rounds")

    def test_gan(self):
        gan = train("gan", "--model", "gan", "-c", "Duration,Amount", "--epochs", "1",
                    FILES["data0"])
        message = self.run_fails(EXIT_MODEL, FIN_AVG, gan)
        self.assertIn("a GAN is not averaged", message)

    def test_no_rows_under_rows_weights(self):
        empty = edited("party1", "no_rows", lambda m: m["training"].update(rows_train=0))
        self.refused(empty, "no training rows recorded", "--weights equal")
        self.run_ok(FIN_AVG, "--weights", "equal", FILES["party0"], empty)

    def test_usage(self):
        message = self.run_fails(EXIT_USAGE, FIN_AVG)
        self.assertIn("expected at least one model file", message)
        copy = path("party0-link.json")
        if not os.path.exists(copy):
            os.link(FILES["party0"], copy)
        message = self.run_fails(EXIT_USAGE, FIN_AVG, FILES["party0"], copy)
        self.assertIn(f"{copy}: given twice (also as {FILES['party0']})", message)
        message = self.run_fails(EXIT_USAGE, FIN_AVG, "-o", FILES["party1"], FILES["party0"],
                                 FILES["party1"])
        self.assertIn("cannot write: it is also an input", message)
        self.run_fails(EXIT_USAGE, FIN_AVG, "--weights", "median", FILES["party0"])
        self.run_fails(EXIT_USAGE, FIN_AVG, "--stats", "--weights", "equal", FILES["party0"])


# ---------------------------------------------------------------- statistics


def numeric_table():
    """German credit's number columns as float64 rows, and Class."""
    header, rows = read_csv(CREDIT)
    klass = header.index("Class")
    names = [h for h in header if h != "Class"]
    x = np.array([[float(v) for j, v in enumerate(r) if j != klass] for r in rows])
    return names, x, [r[klass] for r in rows]


def stats_file(name, names, x, task, target, y=None, labels=None):
    """The statistics of rows x (and their target) as a party writes
    them, computed by numpy."""
    mean = x.mean(axis=0)
    stats = {"format": "fin-stats", "schema_version": 1, "tool_version": "test",
             "task": task, "target": target, "features": names, "rows": len(x),
             "mean": [float(v) for v in mean],
             "m2": [float(v) for v in ((x - mean) ** 2).sum(axis=0)]}
    if y is not None:
        stats["target_mean"] = float(y.mean())
        stats["target_m2"] = float(((y - y.mean()) ** 2).sum())
    if labels is not None:
        stats["labels"] = dict(sorted(collections.Counter(labels).items()))
    stats["parties"] = 1
    return save(stats, name)


def assert_rel(case, got, want, rel=1e-12):
    if want == 0:
        case.assertEqual(got, 0)
    else:
        case.assertLessEqual(abs(got - want), rel * abs(want), f"{got!r} != {want!r}")


class StatsTest(FinCase):
    CUTS = (0, 150, 500, 1000)

    @classmethod
    def setUpClass(cls):
        cls.names, cls.x, cls.labels = numeric_table()

    def pooled(self, *files):
        out = path("pooled.json")
        self.run_ok(FIN_AVG, "--stats", "-o", out, *files)
        with open(out) as f:
            return json.load(f)

    def slices(self, prefix, **kw):
        files = []
        for k in range(3):
            a, b = self.CUTS[k], self.CUTS[k + 1]
            extra = {}
            if "y" in kw:
                extra["y"] = kw["y"][a:b]
            if "labels" in kw:
                extra["labels"] = kw["labels"][a:b]
            files.append(stats_file(f"{prefix}{k}", kw.get("names", self.names),
                                    kw.get("x", self.x)[a:b], kw["task"], kw["target"], **extra))
        return files

    def assert_pooled(self, got, x):
        n = len(x)
        mean = x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        sd = x.std(axis=0, ddof=1)
        self.assertEqual(got["rows"], n)
        self.assertEqual(got["parties"], 3)
        for j in range(x.shape[1]):
            assert_rel(self, got["mean"][j], mean[j])
            assert_rel(self, got["m2"][j], m2[j])
            assert_rel(self, math.sqrt(got["m2"][j] / (n - 1)), sd[j])

    def test_classification(self):
        got = self.pooled(*self.slices("cls", task="binary", target="Class", labels=self.labels))
        self.assert_pooled(got, self.x)
        self.assertEqual(got["features"], self.names)
        self.assertEqual((got["format"], got["schema_version"], got["task"], got["target"]),
                         ("fin-stats", 1, "binary", "Class"))
        self.assertEqual(list(got["labels"].items()),
                         sorted(collections.Counter(self.labels).items()))

    def test_regression(self):
        amount = self.names.index("Amount")
        names = self.names[:amount] + self.names[amount + 1:]
        x = np.delete(self.x, amount, axis=1)
        y = self.x[:, amount]
        got = self.pooled(*self.slices("reg", names=names, x=x, y=y, task="regression",
                                       target="Amount"))
        self.assert_pooled(got, x)
        assert_rel(self, got["target_mean"], y.mean())
        assert_rel(self, got["target_m2"], ((y - y.mean()) ** 2).sum())
        self.assertNotIn("labels", got)
        # pooling pooled files gives the same
        first = save(got, "pooled01")
        got2 = self.pooled(first, stats_file("reg-extra", names, x[:10], "regression", "Amount",
                                             y=y[:10]))
        both = np.vstack([x, x[:10]])
        self.assertEqual(got2["parties"], 4)
        for j in range(x.shape[1]):
            assert_rel(self, got2["mean"][j], both.mean(axis=0)[j])
            assert_rel(self, got2["m2"][j], ((both - both.mean(axis=0)) ** 2).sum(axis=0)[j])

    def test_refusals(self):
        files = self.slices("ref", task="binary", target="Class", labels=self.labels)
        renamed = list(self.names)
        renamed[1] = "Amt"
        other = stats_file("renamed", renamed, self.x[:10], "binary", "Class",
                           labels=self.labels[:10])
        message = self.run_fails(EXIT_MODEL, FIN_AVG, "--stats", files[0], other)
        self.assertEqual(message, f"fin-avg: {other}: feature 2 is 'Amt', but 'Amount' in "
                                  f"{files[0]}\n")
        other = stats_file("multi", self.names, self.x[:10], "multiclass", "Class",
                           labels=self.labels[:10])
        message = self.run_fails(EXIT_MODEL, FIN_AVG, "--stats", files[0], other)
        self.assertIn("task multiclass, but binary in", message)
        other = stats_file("target", self.names, self.x[:10], "binary", "Klass",
                           labels=self.labels[:10])
        message = self.run_fails(EXIT_MODEL, FIN_AVG, "--stats", files[0], other)
        self.assertIn("target 'Klass', but 'Class' in", message)
        bad = edited(files[1], "bad-counts", lambda s: s.update(rows=s["rows"] + 1))
        message = self.run_fails(EXIT_MODEL, FIN_AVG, "--stats", files[0], bad)
        self.assertIn("labels' counts do not sum to rows", message)
        message = self.run_fails(EXIT_MODEL, FIN_AVG, "--stats", files[0], FILES["party0"])
        self.assertIn("not a fin-stats file", message)


if __name__ == "__main__":
    for tool in (FIN_AVG, FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"fedavg_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
