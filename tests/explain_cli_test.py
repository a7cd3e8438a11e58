#!/usr/bin/env python3
"""fin-explain against fin-explain(1): attributions that add up, exact
Shapley values of linear and logistic models, permutation importance with
known effects, each detector's decomposition of its score, and the
attention weights of transformers.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/explain_cli_test.py`.

Every expected value is computed here, from the data, from the model or
detector file's own numbers (coefficients, scalers, medians, covariances,
weights) or by the definitions (a Shapley value as its sum over
coalitions, attention weights by the float64 forward pass of
tests/transformer_cli_test.py from the model file's weights), never taken
from fin-explain's output. Integrated gradients
are compared with PyTorch's in tests/unit/test_explain.c; here they must
add up to prediction - baseline within 1% (the midpoint rule's error,
checked on rows far enough from the baseline that the ratio means
something). The largest errors measured are printed at the end.
"""
import csv
import io
import itertools
import json
import math
import os
import random
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, as_float32, parse_csv, read_csv, run, write_csv
from anomaly_cli_test import dense_forward
from transformer_cli_test import forward as transformer_forward

FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_EXPLAIN = os.path.join(BIN_DIR, "fin-explain")
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NOROWS = 1, 2, 3, 4
CREDIT = os.path.join(ROOT, "data", "german_credit.csv")
EUSTOCK = os.path.join(ROOT, "data", "eustockmarkets.csv")

TMP = None
FILES = {}
WORST = {}  # measured errors, printed at the end


def path(name):
    return os.path.join(TMP.name, name)


def note_worst(name, value):
    WORST[name] = max(WORST.get(name, 0.0), value)


def load_json(name):
    with open(name, encoding="utf-8") as f:
        return json.load(f)


def windows(rng, n, steps=8, channels=("x",), strong=False):
    """Rows of windows named as fin-window names them, oldest lag first, and
    a target that leans on the last two steps of the first channel. strong
    rows have those two steps at +-2.5, far from the training mean, so that
    the prediction is far from the baseline."""
    names = [f"{c}_{k}" for c in channels for k in range(steps - 1, -1, -1)]
    rows = [["t"] + names + ["y"]]
    for i in range(n):
        x = [rng.gauss(0, 1) for _ in names]
        if strong:
            sign = 1 if i % 2 else -1
            x[steps - 1], x[steps - 2] = 2.5 * sign, -2.5 * sign
        y = 0.5 * x[steps - 1] - 0.3 * x[steps - 2] + 0.1 * rng.gauss(0, 1)
        rows.append([i] + [repr(v) for v in x] + [repr(y)])
    return rows


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-explain-test-")
    rng = random.Random(11)
    FILES["windows"] = path("windows.csv")
    write_csv(FILES["windows"], windows(rng, 800))
    FILES["strong"] = path("strong.csv")
    write_csv(FILES["strong"], windows(rng, 20, strong=True))

    # y = 3 x1 + x2 + noise; x3 and x4 play no part
    rows = [["id", "x1", "x2", "x3", "x4", "y"]]
    for i in range(1000):
        x = [rng.gauss(0, 1) for _ in range(4)]
        rows.append([i] + [repr(v) for v in x] + [repr(3 * x[0] + x[1] + rng.gauss(0, 0.5))])
    FILES["effects"] = path("effects.csv")
    write_csv(FILES["effects"], rows)

    # two channels of windows, for permutation by step and by channel
    FILES["two"] = path("two.csv")
    write_csv(FILES["two"], windows(rng, 1000, steps=4, channels=("a", "b")))

    # three classes, a text column of three levels
    rows = [["id", "x1", "x2", "grade", "class"]]
    for i in range(600):
        x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
        grade = rng.choice("ABC")
        logits = [0, 1.5 * x1 + (grade == "B"), -x2 + 0.5 * (grade == "C")]
        u, acc, label = rng.random() * sum(math.exp(v) for v in logits), 0.0, None
        for name, v in zip(("lo", "mid", "hi"), logits):
            acc += math.exp(v)
            if label is None and u <= acc:
                label = name
        rows.append([i, repr(x1), repr(x2), grade, label or "hi"])
    FILES["classes"] = path("classes.csv")
    write_csv(FILES["classes"], rows)


def tearDownModule():
    if WORST:
        print("\nlargest errors measured:")
        for name, v in sorted(WORST.items()):
            print(f"  {name:<44} {v:.3g}")
    TMP.cleanup()


def records(result):
    """The CSV output as a list of dicts, numbers as floats where they are."""
    names, rows = parse_csv(result.stdout)
    out = []
    for row in rows:
        rec = {}
        for k, v in zip(names, row):
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v
        out.append(rec)
    return names, out


def training_mean(rows, names, share=0.8):
    """The mean of each column over the rows fin-train trains on: the
    first share of them."""
    n = int(len(rows) * share)
    return {c: math.fsum(float(r[j]) for r in rows[:n]) / n for j, c in enumerate(names)}


class ExplainCase(FinCase):
    def explain(self, *args):
        return records(self.run_ok(FIN_EXPLAIN, "-q", *args))

    def train(self, name, *args):
        model = path(name)
        if not os.path.exists(model):
            self.run_ok(FIN_TRAIN, "-q", "-o", model, *args)
        return model


class CompletenessTest(ExplainCase):
    """Integrated gradients of the mlp, cnn, lstm and gru presets: each
    row's attributions add up to prediction - baseline within 1%; the
    prediction is fin-predict's and the baseline the model's prediction at
    the training rows' mean."""

    def check_preset(self, preset):
        model = self.train(f"{preset}.json", "--model", preset, "-k", "t", "--epochs", "10",
                           FILES["windows"])
        names, got = self.explain("-m", model, FILES["strong"])
        header, rows = read_csv(FILES["strong"])
        features = header[1:-1]
        self.assertEqual(names, ["t", "prediction", "baseline"] + features)
        _, pred = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, FILES["strong"]).stdout)
        # the baseline: the model at the training rows' mean
        wheader, wrows = read_csv(FILES["windows"])
        mean = training_mean(wrows, wheader)
        mean_row = path(f"{preset}-mean.csv")
        write_csv(mean_row, [features, [repr(mean[c]) for c in features]])
        _, at_mean = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, mean_row).stdout)
        base = float(at_mean[0][0])
        for rec, row, (_, p) in zip(got, rows, pred):
            self.assertEqual(rec["t"], float(row[0]))
            self.assertLessEqual(abs(rec["prediction"] - float(p)), 1e-5 * abs(float(p)) + 1e-7)
            self.assertLessEqual(abs(rec["baseline"] - base), 1e-5 * abs(base) + 1e-6)
            total = math.fsum(rec[c] for c in features)
            move = rec["prediction"] - rec["baseline"]
            gap = abs(total - move) / abs(move)
            note_worst(f"ig completeness, {preset} (relative)", gap)
            self.assertLess(gap, 0.01, (preset, rec))
        self.assertEqual(len(got), len(rows))

    def test_mlp(self):
        self.check_preset("mlp")

    def test_cnn(self):
        self.check_preset("cnn")

    def test_lstm(self):
        self.check_preset("lstm")

    def test_gru(self):
        self.check_preset("gru")

    def test_more_steps_come_closer(self):
        """The midpoint rule's error falls as the steps grow."""
        model = self.train("mlp.json", "--model", "mlp", "-k", "t", "--epochs", "10",
                           FILES["windows"])
        gaps = []
        for steps in ("4", "512"):
            _, got = self.explain("-m", model, "--steps", steps, FILES["strong"])
            gaps.append(max(abs(math.fsum(v for k, v in r.items() if k.startswith("x_"))
                                - (r["prediction"] - r["baseline"])) for r in got))
        self.assertLess(gaps[1], gaps[0])

    def test_autoencoder_reconstruction_error(self):
        model = self.train("ae.json", "--model", "autoencoder", "--bottleneck", "3", "-k", "t",
                           "-c", "!y", "--epochs", "10", FILES["windows"])
        names, got = self.explain("-m", model, FILES["strong"])
        self.assertEqual(names[:3], ["t", "recon_error", "baseline"])
        _, pred = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, FILES["strong"]).stdout)
        for rec, (_, p) in zip(got, pred):
            self.assertLessEqual(abs(rec["recon_error"] - float(p)), 1e-5 * float(p))
            move = rec["recon_error"] - rec["baseline"]
            total = math.fsum(v for k, v in rec.items() if k.startswith("x_"))
            note_worst("ig completeness, autoencoder (relative)", abs(total - move) / abs(move))
            self.assertLess(abs(total - move), 0.01 * abs(move))

    def test_a_note_when_the_steps_are_too_few(self):
        model = self.train("mlp.json", "--model", "mlp", "-k", "t", "--epochs", "10",
                           FILES["windows"])
        result = self.run_ok(FIN_EXPLAIN, "-m", model, "--steps", "1", FILES["windows"])
        self.assertIn("give more --steps than 1", result.stderr.decode())


class LinearShapTest(ExplainCase):
    """Linear and logistic models: coefficient x (value - training mean),
    adding up exactly."""

    def check_exact(self, model_path, data, positive_sign=1.0, *args):
        model = load_json(model_path)
        coef = model["fit"]["coefficients"][0]
        mean = model["scaler"]["mean"]
        features = model["features"]
        names, got = self.explain("-m", model_path, *args, data)
        self.assertEqual(names[-len(features):], features)
        header, rows = read_csv(data)
        for rec, row in zip(got, rows):
            values = {c: float(row[header.index(c)]) for c in features}
            want = [positive_sign * coef[1 + j] * (as_float32(values[c]) - mean[j])
                    for j, c in enumerate(features)]
            scale = max(abs(w) for w in want)
            for j, c in enumerate(features):
                note_worst("shap - coef x (x - mean), relative", abs(rec[c] - want[j]) / scale)
                self.assertLessEqual(abs(rec[c] - want[j]), 1e-6 * scale, c)
            move = rec["prediction"] - rec["baseline"]
            total = math.fsum(rec[c] for c in features)
            note_worst("shap completeness (relative)", abs(total - move) / max(abs(move), 1e-300))
            self.assertLessEqual(abs(total - move), 1e-6 * abs(move))
            # the prediction: the fit's linear predictor
            logit = coef[0] + math.fsum(coef[1 + j] * values[c] for j, c in enumerate(features))
            self.assertLessEqual(abs(rec["prediction"] - positive_sign * logit),
                                 1e-5 * (1 + abs(logit)))
        return got

    def test_linear_regression(self):
        model = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        got = self.check_exact(model, FILES["effects"])
        self.assertEqual(len(got), 1000)
        self.assertEqual(got[0]["id"], 0)

    def test_logistic_credit_both_classes(self):
        model = self.train("credit.json", "-y", "Class", "--model", "logistic", "--l2", "0.01",
                           CREDIT)
        self.check_exact(model, CREDIT)  # log-odds of Good, the second label
        self.check_exact(model, CREDIT, -1.0, "--positive", "Bad")
        # the prediction is the log-odds fin-predict's probabilities give
        _, got = self.explain("-m", model, CREDIT)
        _, probs = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, CREDIT).stdout)
        for rec, (bad, good, _) in zip(got, probs):
            self.assertAlmostEqual(rec["prediction"], math.log(float(good) / float(bad)),
                                   delta=1e-5)

    def test_unpenalised_logistic(self):
        model = self.train("credit4.json", "-y", "Class", "--model", "logistic", "-c",
                           "Duration,Amount,Age,Telephone", CREDIT)
        self.check_exact(model, CREDIT)

    def test_reason_codes(self):
        """The K largest attributions toward the positive class, with the
        feature's value, as reason_k, value_k, attribution_k."""
        model_path = self.train("credit.json", "-y", "Class", "--model", "logistic", "--l2",
                                "0.01", CREDIT)
        model = load_json(model_path)
        coef, mean, features = (model["fit"]["coefficients"][0], model["scaler"]["mean"],
                                model["features"])
        names, got = self.explain("-m", model_path, "--positive", "Bad", "--top", "3", CREDIT)
        self.assertEqual(names, ["prediction", "baseline", "reason_1", "value_1", "attribution_1",
                                 "reason_2", "value_2", "attribution_2", "reason_3", "value_3",
                                 "attribution_3"])
        header, rows = read_csv(CREDIT)
        for rec, row in zip(got, rows):
            values = {c: float(row[header.index(c)]) for c in features}
            toward_bad = sorted(((-coef[1 + j] * (as_float32(values[c]) - mean[j]), c)
                                 for j, c in enumerate(features)), key=lambda t: -t[0])
            toward_bad = [t for t in toward_bad if t[0] > 0][:3]
            for k, (a, c) in enumerate(toward_bad, 1):
                self.assertEqual(rec[f"reason_{k}"], c)
                self.assertEqual(as_float32(rec[f"value_{k}"]), as_float32(values[c]))
                self.assertAlmostEqual(rec[f"attribution_{k}"], a, delta=1e-6 * abs(a))

    def test_baseline_file(self):
        """--baseline: the mean of the file's rows replaces the training mean."""
        model_path = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        model = load_json(model_path)
        coef, features = model["fit"]["coefficients"][0], model["features"]
        header, rows = read_csv(FILES["effects"])
        base_file = path("base.csv")
        write_csv(base_file, [header] + rows[:2])
        base = [math.fsum(as_float32(float(r[header.index(c)])) for r in rows[:2]) / 2
                for c in features]
        _, got = self.explain("-m", model_path, "--baseline", base_file, FILES["effects"])
        for rec, row in zip(got[:50], rows):
            for j, c in enumerate(features):
                want = coef[1 + j] * (as_float32(float(row[header.index(c)])) - base[j])
                self.assertAlmostEqual(rec[c], want, delta=1e-5 * (1 + abs(want)))
            at_base = coef[0] + math.fsum(coef[1 + j] * base[j] for j in range(len(features)))
            self.assertAlmostEqual(rec["baseline"], at_base, delta=1e-5 * (1 + abs(at_base)))

    def test_softmax_by_class_with_text(self):
        """A row per class, each class's logit; one-hot features named
        column=level, the first level left out."""
        model_path = self.train("softmax.json", "-y", "class", "-k", "id", "--model", "softmax",
                                "--l2", "0.01", FILES["classes"])
        model = load_json(model_path)
        features, mean = model["features"], model["scaler"]["mean"]
        self.assertEqual(features, ["x1", "x2", "grade=B", "grade=C"])
        names, got = self.explain("-m", model_path, FILES["classes"])
        self.assertEqual(names, ["id", "class", "prediction", "baseline"] + features)
        header, rows = read_csv(FILES["classes"])
        labels = model["labels"]
        self.assertEqual(len(got), len(labels) * len(rows))
        for i, row in enumerate(rows[:100]):
            x = [float(row[1]), float(row[2]), float(row[3] == "B"), float(row[3] == "C")]
            for k, label in enumerate(labels):
                rec = got[i * len(labels) + k]
                self.assertEqual((rec["id"], rec["class"]), (float(row[0]), label))
                coef = model["fit"]["coefficients"][k]
                for j, c in enumerate(features):
                    want = coef[1 + j] * (x[j] - mean[j])
                    self.assertAlmostEqual(rec[c], want, delta=1e-6 * (1 + abs(want)))
                move = rec["prediction"] - rec["baseline"]
                self.assertAlmostEqual(math.fsum(rec[c] for c in features), move,
                                       delta=1e-9 * (1 + abs(move)))
        _, one = self.explain("-m", model_path, "--positive", "mid", FILES["classes"])
        self.assertEqual([r["class"] for r in one], ["mid"] * len(rows))


class PermutationTest(ExplainCase):
    def test_known_effects(self):
        """y = 3 x1 + x2 + noise: x1 > x2 > x3, x4, which are near 0. For a
        linear model a shuffle raises the mean squared error by b^2 times
        the mean of (x_i - x_pi(i))^2, whose mean over shuffles is twice the
        variance, plus 2 b cov(residual, x): computed here from the model's
        coefficients."""
        model_path = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        coef = load_json(model_path)["fit"]["coefficients"][0]
        names, got = self.explain("-m", model_path, "--method", "permutation",
                                  FILES["effects"])
        self.assertEqual(names, ["feature", "importance", "sd"])
        imp = {r["feature"]: r["importance"] for r in got}
        self.assertGreater(imp["x1"], imp["x2"])
        self.assertGreater(imp["x2"], 100 * max(abs(imp["x3"]), abs(imp["x4"])))
        header, rows = read_csv(FILES["effects"])
        x = [[as_float32(float(r[1 + j])) for j in range(4)] for r in rows]
        y = [float(r[5]) for r in rows]
        resid = [coef[0] + math.fsum(coef[1 + j] * xi[j] for j in range(4)) - yi
                 for xi, yi in zip(x, y)]
        n = len(rows)
        for j in (0, 1):
            col = [xi[j] for xi in x]
            m = math.fsum(col) / n
            var = math.fsum((v - m) ** 2 for v in col) / n
            cov = math.fsum(e * (v - m) for e, v in zip(resid, col)) / n
            want = 2 * coef[1 + j] ** 2 * var + 2 * coef[1 + j] * cov
            note_worst("permutation - expected, relative", abs(imp[f"x{j + 1}"] - want) / want)
            self.assertLess(abs(imp[f"x{j + 1}"] - want), 0.1 * want)

    def test_top_and_seed(self):
        model_path = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        args = ("-m", model_path, "--method", "permutation")
        _, top = self.explain(*args, "--top", "2", FILES["effects"])
        self.assertEqual([r["feature"] for r in top], ["x1", "x2"])
        first = self.run_ok(FIN_EXPLAIN, "-q", *args, FILES["effects"]).stdout
        self.assertEqual(first, self.run_ok(FIN_EXPLAIN, "-q", *args, FILES["effects"]).stdout)
        self.assertNotEqual(first, self.run_ok(FIN_EXPLAIN, "-q", *args, "-s", "2",
                                               FILES["effects"]).stdout)
        _, one = self.explain(*args, "--repeats", "1", FILES["effects"])
        self.assertEqual({r["sd"] for r in one}, {0.0})

    def test_by_step_and_channel(self):
        """Windows of two channels a and b: a time step's or a channel's
        columns shuffled together. For a linear model the rise is twice the
        variance of the group's part of the linear predictor (plus the
        residual's covariance with it)."""
        model_path = self.train("two.json", "--model", "linear", "-k", "t", FILES["two"])
        model = load_json(model_path)
        coef, features = model["fit"]["coefficients"][0], model["features"]
        header, rows = read_csv(FILES["two"])
        x = [{c: as_float32(float(r[header.index(c)])) for c in features} for r in rows]
        resid = [coef[0] + math.fsum(coef[1 + j] * xi[c] for j, c in enumerate(features))
                 - float(r[-1]) for xi, r in zip(x, rows)]
        n = len(rows)

        def expected(group):
            part = [math.fsum(coef[1 + j] * xi[c] for j, c in enumerate(features) if c in group)
                    for xi in x]
            m = math.fsum(part) / n
            var = math.fsum((v - m) ** 2 for v in part) / n
            return 2 * var + 2 * math.fsum(e * (v - m) for e, v in zip(resid, part)) / n

        names, by_step = self.explain("-m", model_path, "--method", "permutation", "--by", "step",
                                      FILES["two"])
        self.assertEqual(names, ["lag", "importance", "sd"])
        self.assertEqual([r["lag"] for r in by_step], [0.0, 1.0, 2.0, 3.0])
        for lag in (0, 1):
            want = expected({f"a_{lag}", f"b_{lag}"})
            self.assertLess(abs(by_step[lag]["importance"] - want), 0.1 * want)
        names, by_channel = self.explain("-m", model_path, "--method", "permutation", "--by",
                                         "channel", FILES["two"])
        self.assertEqual([r["channel"] for r in by_channel], ["a", "b"])
        want = expected({c for c in features if c.startswith("a_")})
        self.assertLess(abs(by_channel[0]["importance"] - want), 0.1 * want)
        self.assertLess(by_channel[1]["importance"], 0.01 * want)

    def test_attributions_by_step_add_up(self):
        model_path = self.train("two.json", "--model", "linear", "-k", "t", FILES["two"])
        _, per_feature = self.explain("-m", model_path, FILES["two"])
        names, per_step = self.explain("-m", model_path, "--by", "step", FILES["two"])
        self.assertEqual(names, ["t", "prediction", "baseline", "0", "1", "2", "3"])
        for f, s in zip(per_feature[:20], per_step):
            for lag in range(4):
                self.assertAlmostEqual(s[str(lag)], f[f"a_{lag}"] + f[f"b_{lag}"], delta=1e-12)

    def test_auc_of_a_classifier(self):
        model_path = self.train("credit.json", "-y", "Class", "--model", "logistic", "--l2",
                                "0.01", CREDIT)
        result = self.run_ok(FIN_EXPLAIN, "-m", model_path, "--method", "permutation",
                             "--metric", "auc", "--top", "3", CREDIT)
        _, got = records(result)
        self.assertEqual(len(got), 3)
        self.assertGreater(got[0]["importance"], 0)
        self.assertIn("1 - ROC-AUC of the 1000 rows as they are", result.stderr.decode())


class DetectorTest(ExplainCase):
    """Each detector's shares add up to its score, which is fin-anomaly's."""

    @classmethod
    def setUpClass(cls):
        rng = random.Random(5)
        rows = [["id", "a", "b", "c", "d"]]
        for i in range(400):
            a = rng.gauss(0, 1)
            b = 0.8 * a + 0.6 * rng.gauss(0, 1)
            c, d = rng.gauss(5, 2), rng.gauss(0, 1)
            if i % 40 == 0:
                a += 8  # the planted anomalies lie in a
            rows.append([i, repr(a), repr(b), repr(c), repr(d)])
        cls.data = path("detect.csv")
        write_csv(cls.data, rows)

    def fit(self, method, *args):
        det = path(f"det-{method}.json")
        if not os.path.exists(det):
            self.run_ok(FIN_ANOMALY, "fit", "--method", method, "-k", "id", "-q", "-o", det,
                        *args, self.data)
        return det

    def shares(self, method, *args):
        det = self.fit(method, *args)
        names, got = self.explain("-m", det, self.data)
        self.assertEqual(names, ["id", "score", "baseline", "a", "b", "c", "d"])
        _, scores = parse_csv(self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det, self.data).stdout)
        header, rows = read_csv(self.data)
        for rec, (_, s, _) in zip(got, scores):
            total = math.fsum(rec[c] for c in "abcd")
            note_worst(f"{method} shares - score (relative)",
                       abs(total - rec["score"]) / rec["score"])
            self.assertLessEqual(abs(total - rec["score"]), 1e-12 * rec["score"])
            # fin-anomaly's score: the same, but that a matrix product over
            # another number of rows may round differently, by a few float32
            # ulps of the values it sums (an autoencoder's reconstruction
            # error is a difference of such values, squared)
            note_worst(f"{method} score - fin-anomaly's (relative)",
                       abs(rec["score"] - float(s)) / float(s))
            self.assertLessEqual(abs(rec["score"] - float(s)), 1e-5 * float(s))
            self.assertEqual(rec["baseline"], 0)
        self.assertEqual(len(got), len(rows))
        return load_json(det), got, [[as_float32(float(v)) for v in r[1:]] for r in rows]

    def test_zscore_shapley_by_definition(self):
        """The Shapley values of the largest |z| against the median, by
        their definition: a weighted sum over all 8 coalitions without each
        feature."""
        det, got, x = self.shares("zscore")
        p = 4
        for rec, row in zip(got, x):
            z = [abs((v - m) / s) for v, m, s in zip(row, det["median"], det["scale"])]
            value = lambda S: max((z[j] for j in S), default=0.0)
            for j, c in enumerate("abcd"):
                others = [k for k in range(p) if k != j]
                phi = math.fsum(
                    math.factorial(len(S)) * math.factorial(p - len(S) - 1) / math.factorial(p)
                    * (value(S + (j,)) - value(S))
                    for size in range(p) for S in itertools.combinations(others, size))
                note_worst("zscore shares - Shapley", abs(rec[c] - phi))
                self.assertAlmostEqual(rec[c], phi, delta=1e-12 * max(z))

    def test_mahalanobis_terms(self):
        """The distance split by the terms (x - m)_j (S^-1 (x - m))_j of its
        square, S the detector's covariance, solved here in double."""
        det, got, x = self.shares("mahalanobis")
        p = 4
        cov = [det["covariance"][i * p:(i + 1) * p] for i in range(p)]
        for rec, row in zip(got, x):
            c = [v - m for v, m in zip(row, det["mean"])]
            w = solve(cov, c)
            terms = [ci * wi for ci, wi in zip(c, w)]
            dist = math.sqrt(math.fsum(terms))
            for j, col in enumerate("abcd"):
                want = terms[j] / dist
                note_worst("mahalanobis shares - terms (relative to the score)",
                           abs(rec[col] - want) / dist)
                self.assertLessEqual(abs(rec[col] - want), 1e-5 * dist)

    def test_autoencoder_squared_errors(self):
        """Each feature's squared reconstruction error over 4, from the
        detector's network run here in double."""
        det, got, x = self.shares("autoencoder", "--epochs", "20", "--bottleneck", "2")
        model = det["model"]
        mean, sd = model["scaler"]["mean"], model["scaler"]["sd"]
        for rec, row in zip(got, x):
            z = [as_float32((v - m) / s) for v, m, s in zip(row, mean, sd)]
            out = dense_forward(model["arch"], model["weights"], z)
            score = rec["score"]
            for j, col in enumerate("abcd"):
                want = (out[j] - z[j]) ** 2 / 4
                note_worst("autoencoder shares - squared errors (relative to the score)",
                           abs(rec[col] - want) / score)
                self.assertLessEqual(abs(rec[col] - want), 1e-5 * score + 1e-9)

    def test_iforest_permutation(self):
        """Planted in a: permuting a changes the scores most. With the
        anomalies of the shared table (1 row in 40) and 100 trees which
        feature comes first depends on the seed; with 1 row in 10 and 1000
        trees a leads by 15% or more on every seed tried (1-12)."""
        rng = random.Random(5)
        rows = [["id", "a", "b", "c", "d"]]
        for i in range(400):
            a = rng.gauss(0, 1)
            b = 0.8 * a + 0.6 * rng.gauss(0, 1)
            c, d = rng.gauss(5, 2), rng.gauss(0, 1)
            rows.append([i, repr(a + (8 if i % 10 == 0 else 0)), repr(b), repr(c), repr(d)])
        data = path("detect-planted.csv")
        write_csv(data, rows)
        det = path("det-iforest-planted.json")
        self.run_ok(FIN_ANOMALY, "fit", "--method", "iforest", "--trees", "1000", "-k", "id",
                    "-q", "-o", det, data)
        result = self.run_ok(FIN_EXPLAIN, "-m", det, data)
        names, got = records(result)
        self.assertEqual(names, ["feature", "importance", "sd"])
        imp = {r["feature"]: r["importance"] for r in got}
        self.assertEqual(max(imp, key=imp.get), "a")
        self.assertIn("mean absolute change of the score", result.stderr.decode())

    def test_reasons_of_a_flagged_row(self):
        det = self.fit("zscore")
        _, got = self.explain("-m", det, "--top", "1", self.data)
        header, rows = read_csv(self.data)
        for rec, row in zip(got, rows):
            if int(row[0]) % 40 == 0:
                self.assertEqual(rec["reason_1"], "a")
                self.assertEqual(as_float32(rec["value_1"]), as_float32(float(row[1])))



def expected_weights(probs, query):
    """What --query writes for one sample from each layer's [H][T][T]: per
    layer and head, rows of weights over the keys, the newest key first."""
    rows = []
    for layer in probs:
        T = layer.shape[-1]
        for p in layer:
            if query == "last":
                rows.append(p[T - 1, ::-1])
            elif query == "mean":
                rows.append(p.mean(axis=0)[::-1])
            else:
                rows.extend(p[T - 1 - q, ::-1] for q in range(T))
    return rows


# A row of weights is a softmax computed in float32: each weight within a
# few float32 roundings (u = 2^-24) of its exact value, written with float32's
# digits (one rounding more, and one for the mean of --query mean); over T
# keys the sum is within 8 T u of 1.
def sum_tolerance(steps):
    return 8 * steps * 2.0 ** -24


class AttentionTest(ExplainCase):
    """--method attention: one row per input row, attention layer and head,
    the weights over the key steps, the newest first; compared with the
    weights of a float64 forward pass of the model file's network."""

    @classmethod
    def setUpClass(cls):
        cls.windows = {}
        for name, columns, size in (("dax10.csv", "DAX", "10"), ("pair16.csv", "DAX,SMI", "16")):
            result = run(FIN_WINDOW, "-c", columns, "-k", "t", "--size", size, "--transform",
                         "logret", EUSTOCK)
            assert result.returncode == 0, result.stderr.decode(errors="replace")
            cls.windows[name] = path(name)
            with open(cls.windows[name], "wb") as f:
                f.write(result.stdout)

    def model(self, name, arch, data):
        return self.train(name, "--arch", arch, "-k", "t", "--epochs", "3", self.windows[data])

    def two_encoders(self):
        return self.model("tf2.json", "dense(8,linear,step) posenc(sin) encoder(2,16) "
                          "encoder(2,16) pool(last) dense(1)", "dax10.csv")

    def check_rows(self, got, names, per_row, keys, steps_of=None):
        """Rows of weights: per_row of them for each key in keys (the input
        rows' t, in order), each non-negative and adding up to 1 over the
        steps of its layer (the columns names, the newest first, or the
        first steps_of(record) of them), empty beyond."""
        self.assertEqual(len(got), per_row * len(keys))
        for i, rec in enumerate(got):
            self.assertEqual(rec["t"], float(keys[i // per_row]))
            steps = steps_of(rec) if steps_of else len(names)
            weights = [rec[name] for name in names[:steps]]
            self.assertEqual([rec[name] for name in names[steps:]], [""] * (len(names) - steps))
            self.assertTrue(all(w >= 0 for w in weights), rec)
            note_worst("attention: |sum of a row's weights - 1|", abs(math.fsum(weights) - 1))
            self.assertLessEqual(abs(math.fsum(weights) - 1), sum_tolerance(steps), rec)

    def check_against_forward(self, model_path, data, query, got, per_row, which):
        """The weights of input rows which (indices) against the float64
        forward pass, within 1e-4; the pass's output against fin-predict's."""
        model = load_json(model_path)
        header, rows = read_csv(data)
        names = [n for n in got[0] if n not in ("t", "layer", "head", "query")]
        _, pred = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model_path, data).stdout)
        scaler = model["target_scaler"]
        for i in which:
            probs = []
            out = transformer_forward(model, dict(zip(header, rows[i])), attention=probs)
            want_out = (float(pred[i][1]) - scaler["mean"]) / scaler["sd"]
            self.assertLessEqual(abs(out[0] - want_out), 1e-4, "the forward pass is not fin's")
            want = expected_weights(probs, query)
            self.assertEqual(len(want), per_row)
            for rec, w in zip(got[i * per_row:(i + 1) * per_row], want):
                for k, name in enumerate(names):
                    if k >= len(w):
                        self.assertEqual(rec[name], "", rec)
                        continue
                    gap = abs(rec[name] - w[k])
                    note_worst(f"attention --query {query} - float64 forward", gap)
                    self.assertLessEqual(gap, 1e-4, (query, i, rec, name))

    def test_newest_query_of_each_layer_and_head(self):
        model = self.two_encoders()
        data = self.windows["dax10.csv"]
        names, got = self.explain("-m", model, "--method", "attention", data)
        self.assertEqual(names, ["t", "layer", "head"] + [str(k) for k in range(10)])
        _, rows = read_csv(data)
        self.check_rows(got, names[3:], 4, [r[0] for r in rows])
        self.assertEqual([(r["layer"], r["head"]) for r in got[:4]],
                         [(1, 1), (1, 2), (2, 1), (2, 2)])
        self.check_against_forward(model, data, "last", got, 4, (0, len(rows) // 2, len(rows) - 1))

    def test_every_query_and_their_mean(self):
        model = self.two_encoders()
        data = self.windows["dax10.csv"]
        _, rows = read_csv(data)
        names, every = self.explain("-m", model, "--method", "attention", "--query", "all", data)
        self.assertEqual(names, ["t", "layer", "head", "query"] + [str(k) for k in range(10)])
        self.check_rows(every, names[4:], 40, [r[0] for r in rows])
        self.assertEqual([r["query"] for r in every[:11]], list(range(10)) + [0])
        self.check_against_forward(model, data, "all", every, 40, (0, len(rows) - 1))
        # the newest query's rows are --query last's, which the last layer
        # computes alone
        _, last = self.explain("-m", model, "--method", "attention", data)
        newest = [r for r in every if r["query"] == 0]
        for a, b in zip(newest, last):
            for k in range(10):
                gap = abs(a[str(k)] - b[str(k)])
                note_worst("attention: --query all at the newest step - last", gap)
                self.assertLessEqual(gap, 1e-6)
        _, mean = self.explain("-m", model, "--method", "attention", "--query", "mean", data)
        self.check_rows(mean, names[4:], 4, [r[0] for r in rows])
        self.check_against_forward(model, data, "mean", mean, 4, (0, len(rows) - 1))

    def test_causal(self):
        """A causal layer's query sees no newer key: weight 0 on every key
        newer than the query, the newest query weighs every key."""
        model = self.model("causal.json", "dense(8,linear,step) posenc(sin) "
                           "encoder(2,16,relu,causal) pool(last) dense(1)", "dax10.csv")
        data = self.windows["dax10.csv"]
        _, rows = read_csv(data)
        names, every = self.explain("-m", model, "--method", "attention", "--query", "all", data)
        self.check_rows(every, names[4:], 20, [r[0] for r in rows])
        for rec in every:
            q = int(rec["query"])
            self.assertEqual([rec[str(k)] for k in range(q)], [0.0] * q, rec)
            self.assertTrue(all(rec[str(k)] > 0 for k in range(q, 10)), rec)
        self.check_against_forward(model, data, "all", every, 20, (3,))
        _, mean = self.explain("-m", model, "--method", "attention", "--query", "mean", data)
        self.check_against_forward(model, data, "mean", mean, 2, (0, 7, len(rows) - 1))
        _, last = self.explain("-m", model, "--method", "attention", data)
        self.assertTrue(all(r[str(k)] > 0 for r in last for k in range(10)))

    def test_patches_of_two_channels(self):
        """Patches of a two-channel window, pre-norm, learned positions, a
        flatten head: the columns are the patches, newest first."""
        model = self.model("patches.json", "patch(4,2) dense(8,linear,step) posenc(learned) "
                           "encoder(2,16,relu,norm_first) flatten dense(1)", "pair16.csv")
        data = self.windows["pair16.csv"]
        _, rows = read_csv(data)
        result = self.run_ok(FIN_EXPLAIN, "-m", model, "--method", "attention", data)
        names, got = records(result)
        self.assertEqual(names, ["t", "layer", "head"] + [f"patch_{k}" for k in range(7)])
        self.assertIn("--query mean averages", result.stderr.decode())
        self.check_rows(got, names[3:], 2, [r[0] for r in rows])
        self.check_against_forward(model, data, "last", got, 2, (0, len(rows) - 1))
        _, mean = self.explain("-m", model, "--method", "attention", "--query", "mean", data)
        self.check_against_forward(model, data, "mean", mean, 2, (0, len(rows) - 1))

    def test_layers_of_fewer_steps(self):
        """Attention before and after a maxpool(2): the columns are the
        first layer's 10 steps, named step_<k>, the second's 5 fill the
        first five and leave the rest empty."""
        model = self.model("pooled.json", "dense(8,linear,step) attention(2,residual) maxpool(2) "
                           "attention(2,residual) pool(last) dense(1)", "dax10.csv")
        data = self.windows["dax10.csv"]
        _, rows = read_csv(data)
        for query, per_row in (("last", 4), ("all", 30)):
            names, got = self.explain("-m", model, "--method", "attention", "--query", query,
                                      data)
            steps = [f"step_{k}" for k in range(10)]
            self.assertEqual(names[-10:], steps)
            self.check_rows(got, steps, per_row, [r[0] for r in rows],
                            lambda rec: 10 if rec["layer"] == 1 else 5)
            self.check_against_forward(model, data, query, got, per_row, (0, len(rows) - 1))

    def test_refusals(self):
        cnn = self.train("cnn.json", "--model", "cnn", "-k", "t", "--epochs", "10",
                         FILES["windows"])
        message = self.run_fails(EXIT_USAGE, FIN_EXPLAIN, "-m", cnn, "--method", "attention",
                                 FILES["windows"])
        self.assertIn("--method attention", message)
        self.assertIn(load_json(cnn)["arch"], message)
        model = self.two_encoders()
        data = self.windows["dax10.csv"]
        cases = [
            (("--method", "attention", "--steps", "10"), "--steps goes with --method ig"),
            (("--method", "attention", "--baseline", data), "--baseline goes with"),
            (("--method", "attention", "--top", "3"), "--top"),
            (("--method", "attention", "--by", "step"), "--by"),
            (("--method", "attention", "--query", "first"), "--query"),
            (("--method", "ig", "--query", "mean"), "--query goes with --method attention"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                self.assertIn(text, self.run_fails(EXIT_USAGE, FIN_EXPLAIN, "-m", model, *args,
                                                   data))


def solve(a, b):
    """x with a x = b, by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [list(map(float, row)) + [float(v)] for row, v in zip(a, b)]
    for k in range(n):
        piv = max(range(k, n), key=lambda i: abs(m[i][k]))
        m[k], m[piv] = m[piv], m[k]
        for i in range(k + 1, n):
            f = m[i][k] / m[k][k]
            for j in range(k, n + 1):
                m[i][j] -= f * m[k][j]
    x = [0.0] * n
    for k in range(n - 1, -1, -1):
        x[k] = (m[k][n] - math.fsum(m[k][j] * x[j] for j in range(k + 1, n))) / m[k][k]
    return x


class OutputTest(ExplainCase):
    def test_json_lines_hold_the_csv(self):
        model = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        names, rows = records(self.run_ok(FIN_EXPLAIN, "-q", "-m", model, "--top", "2",
                                          FILES["effects"]))
        lines = self.run_ok(FIN_EXPLAIN, "-q", "-m", model, "--top", "2", "--format", "json",
                            FILES["effects"]).stdout.decode().splitlines()
        self.assertEqual(len(lines), len(rows))
        for line, rec in zip(lines, rows):
            obj = json.loads(line)
            self.assertEqual(list(obj), names)
            self.assertEqual(obj["id"], str(int(rec["id"])))
            for k in names[1:]:
                self.assertEqual(obj[k], None if rec[k] == "" else rec[k], k)

    def test_keys_and_key_option(self):
        model = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        names, _ = self.explain("-m", model, "-k", "y", FILES["effects"])
        self.assertEqual(names[0], "y")

    def test_units_note(self):
        model = self.train("credit.json", "-y", "Class", "--model", "logistic", "--l2", "0.01",
                           CREDIT)
        result = self.run_ok(FIN_EXPLAIN, "-m", model, "--positive", "Bad", CREDIT)
        self.assertIn("in log-odds of 'Bad' against 'Good'", result.stderr.decode())


class UsageTest(ExplainCase):
    def test_refusals(self):
        cnn = self.train("cnn.json", "--model", "cnn", "-k", "t", "--epochs", "10",
                         FILES["windows"])
        linear = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        cases = [
            (("-m", cnn, "--method", "shap"), "use --method ig"),
            (("-m", cnn, "--method", "share"), "detectors"),
            (("-m", linear, "--steps", "10"), "--steps goes with --method ig"),
            (("-m", linear, "--top", "2", "--by", "step"), "--top"),
            (("-m", linear, "--method", "permutation", "--metric", "auc"), "--metric auc"),
            (("-m", linear, "--positive", "x"), "--positive"),
            (("-m", linear, "--method", "nope"), "--method"),
            (("--method", "ig"), "-m MODEL is required"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                self.assertIn(text, self.run_fails(EXIT_USAGE, FIN_EXPLAIN, *args,
                                                   FILES["effects"]))

    def test_unusable_files(self):
        bad = path("newer.json")
        model = load_json(self.train("linear.json", "--model", "linear", "-k", "id",
                                     FILES["effects"]))
        model["schema_version"] = 99
        with open(bad, "w") as f:
            json.dump(model, f)
        self.run_fails(EXIT_MODEL, FIN_EXPLAIN, "-m", bad, FILES["effects"])
        self.run_fails(EXIT_MODEL, FIN_EXPLAIN, "-m", FILES["effects"], FILES["effects"])

    def test_data_errors(self):
        model = self.train("linear.json", "--model", "linear", "-k", "id", FILES["effects"])
        header, rows = read_csv(FILES["effects"])
        broken = path("broken.csv")
        write_csv(broken, [header] + rows[:5] + [[rows[5][0], "abc"] + rows[5][2:]])
        message = self.run_fails(EXIT_DATA, FIN_EXPLAIN, "-m", model, broken)
        self.assertIn(f"{broken}:7: column 'x1': not a number: 'abc'", message)
        empty = path("empty.csv")
        write_csv(empty, [header])
        self.run_fails(EXIT_NOROWS, FIN_EXPLAIN, "-m", model, empty)
        self.run_fails(EXIT_NOROWS, FIN_EXPLAIN, "-m", model, "--method", "permutation", empty)


if __name__ == "__main__":
    unittest.main()
