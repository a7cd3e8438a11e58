#!/usr/bin/env python3
"""Command-line tests of fin-anomaly, checked against fin-anomaly(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/anomaly_cli_test.py`. Every expected
value is computed here: ROC-AUC from average ranks, average precision as
scikit-learn defines it, recall among the top scores, quantiles as GSL
interpolates them, robust z-scores from medians, reconstruction errors from
fin-predict, a GAN discriminator's 1 - D(x) from a forward pass written here
over the model file; nothing is copied from fin-anomaly's own output.

The German credit test fits each detector on the applicants labelled Good
among the first 700 rows (file order taken as time order) and scores the last
300; the ROC-AUC of each method against Class == Bad is printed at the end.
"""
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, read_csv, parse_csv, write_csv, as_float32, rel_close, run
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")

CREDIT = "data/german_credit.csv"
METHODS = ("zscore", "mahalanobis", "iforest", "autoencoder")
METRIC_FIELDS = {"rows", "positives", "roc_auc", "pr_auc", "contamination",
                 "recall_at_contamination"}
# 1 / Phi^-1(3/4) and sqrt(pi / 2), by other routes than the program's
MAD_TO_SD = 1 / statistics.NormalDist().inv_cdf(0.75)
MEANAD_TO_SD = math.sqrt(math.pi / 2)

EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS, EXIT_ALERT = 1, 2, 3, 4, 5

TMP = None
FILES = {}
AUCS = {}  # method -> ROC-AUC on German credit, printed at the end


# ---------------------------------------------------------------- reference


def roc_auc(scores, labels):
    """Mann-Whitney: the positives' average ranks (ties share the mean of
    their ranks), against every positive-negative pair."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            rank[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    sum_pos = math.fsum(r for r, y in zip(rank, labels) if y)
    return (sum_pos - pos * (pos + 1) / 2) / (pos * neg)


def average_precision(scores, labels):
    """scikit-learn's average_precision_score: sum over the distinct scores,
    from the highest, of (R_k - R_{k-1}) P_k."""
    total = sum(labels)
    ap, tp, seen, last_recall = 0.0, 0, 0, 0.0
    for s in sorted(set(scores), reverse=True):
        group = [y for x, y in zip(scores, labels) if x == s]
        tp += sum(group)
        seen += len(group)
        recall = tp / total
        ap += (recall - last_recall) * (tp / seen)
        last_recall = recall
    return ap


def recall_at(scores, labels, k):
    """Share of the positives among the k highest scores, ties by position."""
    top = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return sum(labels[i] for i in top) / sum(labels)


def gsl_quantile(values, f):
    """gsl_stats_quantile_from_sorted_data: linear interpolation between the
    order statistics around (n - 1) f."""
    s = sorted(values)
    index = f * (len(s) - 1)
    lhs = int(index)
    delta = index - lhs
    if lhs == len(s) - 1:
        return s[lhs]
    return (1 - delta) * s[lhs] + delta * s[lhs + 1]


def median_scale(values):
    """The robust centre and scale fin-anomaly(1) describes, from float32
    values."""
    med = statistics.median(values)
    dev = [abs(v - med) for v in values]
    mad = statistics.median(dev)
    if mad > 0:
        return med, MAD_TO_SD * mad
    meanad = math.fsum(dev) / len(dev)
    return med, MEANAD_TO_SD * meanad if meanad > 0 else 1.0


def dense_forward(arch, weights, row):
    """The network of a fin-model arch string made only of dense layers, in
    double: per layer, weights [units][inputs] row-major, then the biases
    (fin-model(5)); leaky_relu's slope is lib/nn/layers.h's float 0.01."""
    acts = {"linear": lambda v: v, "relu": lambda v: max(v, 0.0),
            "leaky_relu": lambda v: v if v > 0 else as_float32(0.01) * v,
            "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v))}
    at = 0
    for units, act in re.findall(r"dense\((\d+)(?:,(\w+))?\)", arch):
        units = int(units)
        w = weights[at:at + units * len(row)]
        b = weights[at + units * len(row):at + units * (len(row) + 1)]
        at += units * (len(row) + 1)
        row = [acts[act or "linear"](
            math.fsum(w[u * len(row) + k] * row[k] for k in range(len(row))) + b[u])
            for u in range(units)]
    assert at == len(weights), (arch, at, len(weights))
    assert re.fullmatch(r"(dense\(\d+(,\w+)?\) ?)+", arch), arch
    return row


def gan_score(model, values):
    """1 - D(x) for one row of raw feature values: standardised with the
    model's scaler as float32 (fin-model(5)), then the discriminator, the
    top-level arch and weights of a GAN's model file."""
    z = [as_float32((as_float32(v) - m) / s)
         for v, m, s in zip(values, model["scaler"]["mean"], model["scaler"]["sd"])]
    (logit,) = dense_forward(model["arch"], model["weights"], z)
    return 1 / (1 + math.exp(logit))


# ------------------------------------------------------------------ running


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def scratch_dir():
    return tempfile.mkdtemp(dir=TMP.name)


def make_transactions(path, n=200, seed=11):
    """Card transactions: text keys (one with a comma, one with a quote), the
    day in time order (eight transactions a day), three numeric features, a
    0/1 fraud flag; the fraud rows are planted far out."""
    rng = random.Random(seed)
    rows = [["id", "date", "amount", "hour", "risk", "fraud"]]
    for i in range(n):
        fraud = i % 25 == 7
        amount = round(rng.lognormvariate(3, 0.5) * (8 if fraud else 1), 2)
        hour = rng.randint(8, 20) if not fraud else rng.choice([2, 3, 4])
        risk = round(rng.gauss(0.2, 0.05) + (0.5 if fraud else 0), 4)
        ident = f"tx{i:04d}"
        if i == 3:
            ident = "tx,0003"
        if i == 4:
            ident = 'tx"0004'
        rows.append([ident, f"2024-01-{1 + i // 8:02d}", str(amount), str(hour), str(risk),
                     "1" if fraud else "0"])
    write_csv(path, rows)
    return rows


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-anomaly-test-")
    header, rows = read_csv(CREDIT)
    assert len(rows) == 1000, len(rows)
    cls = header.index("Class")
    # Time order is file order: history is the first 700 rows, of which
    # the Good ones are "usual"; the last 300 are new.
    fit_rows = [r for r in rows[:700] if r[cls] == "Good"]
    FILES["credit_fit"] = os.path.join(TMP.name, "credit_fit.csv")
    FILES["credit_new"] = os.path.join(TMP.name, "credit_new.csv")
    write_csv(FILES["credit_fit"], [header] + fit_rows)
    write_csv(FILES["credit_new"], [header] + rows[700:])
    FILES["tx"] = os.path.join(TMP.name, "tx.csv")
    make_transactions(FILES["tx"])


def tearDownModule():
    TMP.cleanup()
    if AUCS:
        print("\nGerman credit, fitted on the Good rows among the first 700, scored on "
              "rows 701-1000 against Class == Bad:", file=sys.stderr)
        for m in METHODS:
            if m in AUCS:
                print(f"  {m:12s} ROC-AUC {AUCS[m]:.6f}", file=sys.stderr)


class FinTest(FinCase):
    def fit(self, path, *args):
        """fin-anomaly fit -q ARGS -o a new file; returns (path, detector)."""
        det = os.path.join(scratch_dir(), "detector.json")
        self.run_ok(FIN_ANOMALY, "fit", "-q", *args, "-o", det, path)
        return det, load_json(det)

    def scores(self, *args, stdin=None):
        """Runs fin-anomaly quietly; returns (header, rows, scores, flags)."""
        args = [*args[:1], "-q", *args[1:]] if args[0] in ("fit", "score") else ["-q", *args]
        header, rows = parse_csv(self.run_ok(FIN_ANOMALY, *args, stdin=stdin).stdout)
        return (header, rows, [float(r[-2]) for r in rows], [int(r[-1]) for r in rows])

    def check_flags(self, scores, flags, threshold):
        self.assertEqual(flags, [int(s > threshold) for s in scores])

    def check_metrics(self, m, scores, labels, contamination, k):
        """The metrics file against values computed here: first to the 6
        significant digits any printing keeps, then to 1e-9, as numbers
        that read back exactly (fin conventions) give."""
        self.assertEqual(set(m), METRIC_FIELDS)
        self.assertEqual(m["rows"], len(scores))
        self.assertEqual(m["positives"], sum(labels))
        self.assertEqual(m["contamination"], contamination)
        want = {"roc_auc": roc_auc(scores, labels),
                "pr_auc": average_precision(scores, labels),
                "recall_at_contamination": recall_at(scores, labels, k)}
        for name, value in want.items():
            self.assertTrue(rel_close(m[name], value, 5e-6), (name, m[name], value))
        for name, value in want.items():
            self.assertAlmostEqual(m[name], value, delta=1e-9,
                                   msg=f"{name}: {m[name]} printed to fewer digits than it has")


# ------------------------------------------------------------------- tests

class GermanCreditTest(FinTest):
    """The issue's test: detectors fitted on the Good applicants of the
    history find the Bad ones among the new applicants better than chance."""

    def test_better_than_chance(self):
        header, rows = read_csv(FILES["credit_new"])
        cls = header.index("Class")
        labels = [int(r[cls] == "Bad") for r in rows]
        self.assertEqual(len(rows), 300)
        for method in METHODS:
            with self.subTest(method=method):
                det_path, det = self.fit(FILES["credit_fit"], "--method", method)
                self.assertEqual(det["method"], method)
                self.assertEqual(det["rows_fit"], 493)
                self.assertNotIn("Class", det["features"])
                self.assertEqual(len(det["features"]), len(header) - 1)
                metrics = os.path.join(scratch_dir(), "m.json")
                out, got, scores, flags = self.scores(
                    "score", "-m", det_path, "--label", "Class", "--positive", "Bad",
                    "--metrics", metrics, FILES["credit_new"])
                self.assertEqual(out, ["score", "anomaly"])
                self.assertEqual(len(got), 300)
                self.check_flags(scores, flags, det["threshold"])
                auc = roc_auc(scores, labels)
                AUCS[method] = auc
                print(f"\n  German credit {method}: ROC-AUC {auc:.6f}", file=sys.stderr)
                self.assertGreater(auc, 0.5, f"{method}: no better than chance")
                # 1% of 300 rows: the top 3
                self.check_metrics(load_json(metrics), scores, labels, 0.01, 3)


class OutputTest(FinTest):
    def test_score_rows_in_order(self):
        header, rows = read_csv(FILES["tx"])
        det_path, det = self.fit(FILES["tx"], "--method", "zscore", "-k", "id")
        out, got, scores, flags = self.scores("score", "-m", det_path, FILES["tx"])
        self.assertEqual(out, ["id", "score", "anomaly"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.check_flags(scores, flags, det["threshold"])
        # robust z-scores by hand from the detector's medians and scales
        for r, s in zip(rows, scores):
            want = max(abs(as_float32(float(r[header.index(f)])) - med) / sc
                       for f, med, sc in zip(det["features"], det["median"], det["scale"]))
            self.assertTrue(rel_close(s, want, 1e-12), (r, s, want))

    def test_scores_to_output_file(self):
        det_path, _ = self.fit(FILES["tx"], "--method", "zscore", "-k", "id")
        out = os.path.join(scratch_dir(), "scores.csv")
        stdout = self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, FILES["tx"]).stdout
        self.assertEqual(self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, "-o", out,
                                     FILES["tx"]).stdout, b"")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), stdout)

    def test_keys_remembered_by_detector(self):
        """-k at fit is kept in the detector and passed through when scoring;
        -k when scoring overrides it."""
        header, rows = read_csv(FILES["tx"])
        det_path, det = self.fit(FILES["tx"], "--method", "iforest", "-k", "id", "-k", "date")
        self.assertEqual(det["keys"], ["id", "date"])
        self.assertEqual(det["features"], ["amount", "hour", "risk", "fraud"])
        out, got, _, _ = self.scores("score", "-m", det_path, FILES["tx"])
        self.assertEqual(out, ["id", "date", "score", "anomaly"])
        self.assertEqual([r[:2] for r in got], [r[:2] for r in rows])
        self.assertIn("tx,0003", [r[0] for r in got])
        self.assertIn('tx"0004', [r[0] for r in got])
        out, got, _, _ = self.scores("score", "-m", det_path, "-k", "date", FILES["tx"])
        self.assertEqual(out, ["date", "score", "anomaly"])
        self.assertEqual([r[0] for r in got], [r[1] for r in rows])

    def test_key_list_remembered_as_names(self):
        """-k takes a LIST (fin(7)): the detector keeps the column names."""
        header, rows = read_csv(FILES["tx"])
        for keys in ("id,date", "1-2", "1,date"):
            with self.subTest(keys=keys):
                det_path, det = self.fit(FILES["tx"], "--method", "zscore", "-k", keys)
                self.assertEqual(det["features"], ["amount", "hour", "risk", "fraud"])
                out, got, _, _ = self.scores("score", "-m", det_path, FILES["tx"])
                self.assertEqual(out, ["id", "date", "score", "anomaly"])
                self.assertEqual([r[:2] for r in got], [r[:2] for r in rows])
                self.assertEqual(det["keys"], ["id", "date"])

    def test_keys_fit_and_score(self):
        """Fitting and scoring the same rows: the keys first, under their
        names in the header."""
        header, rows = read_csv(FILES["tx"])
        for keys in (["-k", "id,date"], ["-k", "id", "-k", "date"]):
            with self.subTest(keys=keys):
                out, got, _, _ = self.scores("--method", "zscore", *keys, FILES["tx"])
                self.assertEqual([r[:2] for r in got], [r[:2] for r in rows])
                self.assertEqual(out, ["id", "date", "score", "anomaly"])

    def test_columns_and_label_not_features(self):
        _, det = self.fit(FILES["tx"], "--method", "zscore", "-c", "risk,amount")
        self.assertEqual(det["features"], ["risk", "amount"])
        # Without -k the column of dates is the key (fin(7), KEYS).
        self.assertEqual(det["keys"], ["date"])
        _, det = self.fit(FILES["tx"], "--method", "zscore", "-k", "id", "--label", "fraud")
        self.assertEqual(det["features"], ["amount", "hour", "risk"])

    def test_contamination_flags_share_of_fitted_rows(self):
        for method in METHODS:
            for share in ("0.1", "0.05"):
                with self.subTest(method=method, contamination=share):
                    args = ("--method", method, "-c", "amount,hour,risk",
                            "--contamination", share)
                    _, rows, scores, flags = self.scores(*args, FILES["tx"])
                    _, det = self.fit(FILES["tx"], *args)
                    self.assertEqual(det["contamination"], float(share))
                    self.assertEqual(len(rows), 200)
                    self.assertEqual(sum(flags), sum(s > det["threshold"] for s in scores))
                    self.check_flags(scores, flags, det["threshold"])
                    self.assertTrue(rel_close(det["threshold"],
                                              gsl_quantile(scores, 1 - float(share)), 1e-12))
                    self.assertLessEqual(sum(flags), math.ceil(float(share) * 200))
                    self.assertGreaterEqual(sum(flags), math.floor(float(share) * 200) - 1)

    def test_threshold_as_given(self):
        _, det = self.fit(FILES["tx"], "--method", "zscore", "--threshold", "2.5")
        self.assertEqual(det["threshold"], 2.5)
        self.assertIsNone(det["contamination"])
        _, _, scores, flags = self.scores("--method", "zscore", "--threshold", "2.5",
                                          FILES["tx"])
        self.check_flags(scores, flags, 2.5)
        self.assertTrue(0 < sum(flags) < len(flags))

    def test_threshold_when_scoring(self):
        """--threshold T: flag scores above T instead (fin-anomaly(1)), when
        scoring with a detector too."""
        det_path, det = self.fit(FILES["tx"], "--method", "zscore")
        _, _, scores, flags = self.scores("score", "-m", det_path, FILES["tx"])
        self.assertGreater(sum(flags), 0)
        _, _, scores, flags = self.scores("score", "-m", det_path, "--threshold", "1e300",
                                          FILES["tx"])
        self.assertEqual(sum(flags), 0, "score ignores --threshold")

    def test_fail_on_anomaly(self):
        """Flagged rows are exit status 5, not 1 (a data error): every score is
        written, and the alert is one line, with or without -q."""
        header, rows = read_csv(FILES["tx"])
        for quiet in (["-q"], []):
            with self.subTest(quiet=quiet):
                result = run(FIN_ANOMALY, *quiet, "--method", "iforest", "--fail-on-anomaly",
                             FILES["tx"])
                self.assertEqual(result.returncode, EXIT_ALERT, result.stderr)
                out, got = parse_csv(result.stdout)
                self.assertEqual(len(got), len(rows))
                flagged = sum(int(r[-1]) for r in got)
                self.assertGreater(flagged, 0)
                lines = [l for l in result.stderr.decode().splitlines() if "flagged" in l]
                self.assertEqual(lines, [f"fin-anomaly: {flagged} rows flagged as anomalies"],
                                 result.stderr)
        self.run_ok(FIN_ANOMALY, "-q", "--method", "iforest", "--fail-on-anomaly",
                    "--threshold", "1e308", FILES["tx"])
        # a data error stays 1, whether or not rows were flagged before it
        bad = os.path.join(scratch_dir(), "bad_tail.csv")
        write_csv(bad, [header] + rows + [rows[0][:2] + ["abc"] + rows[0][3:]])
        det_path, _ = self.fit(FILES["tx"], "--method", "zscore")
        self.run_fails(EXIT_DATA, FIN_ANOMALY, "score", "-q", "-m", det_path,
                       "--fail-on-anomaly", bad)
        result = run(FIN_ANOMALY, "score", "-q", "-m", det_path, "--fail-on-anomaly", FILES["tx"])
        self.assertEqual(result.returncode, EXIT_ALERT, result.stderr)
        self.assertEqual(len(parse_csv(result.stdout)[1]), len(rows))
        # nothing above the threshold: the first row alone, at the medians
        _, det_rows = read_csv(FILES["tx"])
        calm = "amount,hour,risk,fraud\n" + ",".join(
            str(statistics.median(float(r[k]) for r in det_rows)) for k in (2, 3, 4)) + ",0\n"
        self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, "--fail-on-anomaly",
                    stdin=calm.encode())

    def test_label_summary_on_stderr(self):
        header, rows = read_csv(FILES["tx"])
        labels = [int(r[-1]) for r in rows]
        det_path, _ = self.fit(FILES["tx"], "--method", "zscore", "--label", "fraud")
        plain = self.run_ok(FIN_ANOMALY, "score", "-m", det_path, FILES["tx"])
        result = self.run_ok(FIN_ANOMALY, "score", "-m", det_path, "--label", "fraud",
                             FILES["tx"])
        self.assertEqual(result.stdout, plain.stdout)
        lines = [l for l in result.stderr.decode().splitlines() if "ROC-AUC" in l]
        self.assertEqual(len(lines), 1, result.stderr)
        scores = [float(r[-2]) for r in parse_csv(result.stdout)[1]]
        auc = float(re.search(r"ROC-AUC ([0-9.]+)", lines[0]).group(1))
        self.assertAlmostEqual(auc, roc_auc(scores, labels), delta=5e-5)
        self.assertIn(f"{len(rows)} rows", lines[0])
        self.assertIn(f"{sum(labels)} positive", lines[0])

    def test_metrics_file(self):
        header, rows = read_csv(FILES["tx"])
        labels = [int(r[-1]) for r in rows]
        for method in ("zscore", "mahalanobis"):
            with self.subTest(method=method):
                metrics = os.path.join(scratch_dir(), "m.json")
                _, _, scores, _ = self.scores("--method", method, "--label", "fraud",
                                              "--contamination", "0.1", "--metrics", metrics,
                                              FILES["tx"])
                self.check_metrics(load_json(metrics), scores, labels, 0.1, 20)

    def test_metrics_with_ties(self):
        """Scores with ties: zscore on a column of few distinct values."""
        rows = [["x", "bad"]]
        rng = random.Random(5)
        for i in range(120):
            bad = rng.random() < 0.3
            rows.append([str(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4] if not bad else [2, 3, 4, 5])),
                         "yes" if bad else "no"])
        path = os.path.join(scratch_dir(), "ties.csv")
        write_csv(path, rows)
        labels = [int(r[1] == "yes") for r in rows[1:]]
        metrics = os.path.join(scratch_dir(), "m.json")
        _, _, scores, _ = self.scores("--method", "zscore", "--label", "bad", "--positive",
                                      "yes", "--contamination", "0.25", "--metrics", metrics,
                                      path)
        self.assertLess(len(set(scores)), 10)
        self.check_metrics(load_json(metrics), scores, labels, 0.25, 30)

    def test_metrics_without_positives_are_null(self):
        """Missing values are null in JSON, never a bare nan (fin conventions)."""
        metrics = os.path.join(scratch_dir(), "m.json")
        self.scores("--method", "zscore", "--label", "fraud", "--positive", "nope",
                    "--metrics", metrics, FILES["tx"])
        with open(metrics, encoding="utf-8") as f:
            text = f.read()
        m = json.loads(text, parse_constant=lambda c: self.fail(f"not JSON: {c} in {text}"))
        self.assertEqual(m["positives"], 0)
        self.assertIsNone(m["roc_auc"])
        self.assertIsNone(m["pr_auc"])
        self.assertIsNone(m["recall_at_contamination"])

    def test_no_positive_points_at_positive(self):
        """A label with no row of the positive value (the default 1 against
        a text label) says so, and names --positive, instead of a nan."""
        header, rows = read_csv(FILES["tx"])
        path = os.path.join(scratch_dir(), "text_label.csv")
        write_csv(path, [header] + [r[:-1] + ["fraud" if r[-1] == "1" else "ok"] for r in rows])
        want = (f"fin-anomaly: {len(rows)} rows, none with the positive label '1' in column "
                f"'fraud' (see --positive): no ROC-AUC, PR-AUC or recall")
        for extra in ([], ["--metrics", os.path.join(scratch_dir(), "m.json")]):
            with self.subTest(extra=extra):
                result = self.run_ok(FIN_ANOMALY, "-q", "--method", "zscore", "--label",
                                     "fraud", *extra, path)
                self.assertEqual(result.stderr.decode().splitlines(), [want])
        result = self.run_ok(FIN_ANOMALY, "-q", "--method", "zscore", "--label", "fraud",
                             "--positive", "fraud", path)
        self.assertRegex(result.stderr.decode(), r"^fin-anomaly: 200 rows, 8 positive: ROC-AUC ")
        # every row positive: no negative to rank against
        result = self.run_ok(FIN_ANOMALY, "-q", "--method", "zscore", "--label", "risk",
                             "--positive", "x", "-c", "amount,hour",
                             stdin=b"amount,hour,risk\n1,2,x\n3,4,x\n5,1,x\n")
        self.assertEqual(result.stderr.decode(),
                         "fin-anomaly: 3 rows, every one with the positive label 'x' in column "
                         "'risk' (see --positive): no ROC-AUC, PR-AUC or recall\n")


class FeaturesByNameTest(FinTest):
    def test_reordered_columns(self):
        header, rows = read_csv(FILES["credit_new"])
        perm = list(range(len(header)))
        random.Random(3).shuffle(perm)
        shuffled = os.path.join(scratch_dir(), "shuffled.csv")
        write_csv(shuffled, [[r[j] for j in perm] for r in [header] + rows])
        for method in METHODS:
            with self.subTest(method=method):
                det_path, _ = self.fit(FILES["credit_fit"], "--method", method, "--epochs", "5")
                a = self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, FILES["credit_new"])
                b = self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, shuffled)
                self.assertEqual(a.stdout, b.stdout)

    def test_missing_feature_named(self):
        header, rows = read_csv(FILES["credit_new"])
        drop = header.index("Amount")
        path = os.path.join(scratch_dir(), "no_amount.csv")
        write_csv(path, [r[:drop] + r[drop + 1:] for r in [header] + rows])
        det_path, _ = self.fit(FILES["credit_fit"], "--method", "zscore")
        message = self.run_fails(EXIT_DATA, FIN_ANOMALY, "score", "-m", det_path, path)
        self.assertIn("'Amount'", message)


class MissingValuesTest(FinTest):
    ROWS = [["id", "a", "b"], ["r1", "1", "10"], ["r2", "2", "11"], ["r3", "", "13"],
            ["r4", "4", "12"], ["r5", "5", "NA"], ["r6", "40", "14"], ["r7", "3", "10"]]

    def setUp(self):
        self.path = os.path.join(scratch_dir(), "gaps.csv")
        write_csv(self.path, self.ROWS)

    def check_medians(self, det, a, b):
        for j, col in enumerate((a, b)):
            med, scale = median_scale([as_float32(v) for v in col])
            self.assertEqual(det["median"][j], med)
            self.assertTrue(rel_close(det["scale"][j], scale, 1e-12))

    def test_error_by_default(self):
        message = self.run_fails(EXIT_DATA, FIN_ANOMALY, "fit", "--method", "zscore", "-k", "id",
                                 self.path)
        self.assertIn(":4:", message)
        self.assertIn("'a'", message)

    def test_skip(self):
        _, det = self.fit(self.path, "--method", "zscore", "-k", "id", "--na", "skip")
        self.assertEqual(det["rows_fit"], 5)
        self.check_medians(det, [1, 2, 4, 40, 3], [10, 11, 12, 14, 10])
        out, got, _, _ = self.scores("--method", "zscore", "-k", "id", "--na", "skip", self.path)
        self.assertEqual([r[0] for r in got], ["r1", "r2", "r4", "r6", "r7"])

    def test_ffill(self):
        det_path, det = self.fit(self.path, "--method", "zscore", "-k", "id", "--na", "ffill")
        self.assertEqual(det["rows_fit"], 7)
        self.check_medians(det, [1, 2, 2, 4, 5, 40, 3], [10, 11, 13, 12, 12, 14, 10])
        out, got, scores, _ = self.scores("score", "-m", det_path, "--na", "ffill", self.path)
        self.assertEqual(len(got), 7)
        filled = [[1, 10], [2, 11], [2, 13], [4, 12], [5, 12], [40, 14], [3, 10]]
        for row, s in zip(filled, scores):
            want = max(abs(v - m) / sc for v, m, sc in zip(row, det["median"], det["scale"]))
            self.assertTrue(rel_close(s, want, 1e-12))
        # nothing to fill from: the row is left out
        _, got, _, _ = self.scores("score", "-m", det_path, "--na", "ffill",
                                   stdin=b"id,a,b\nq1,,3\nq2,1,\n")
        self.assertEqual([r[0] for r in got], ["q2"])


class DetectorFileTest(FinTest):
    def test_fields(self):
        for method in METHODS:
            with self.subTest(method=method):
                _, det = self.fit(FILES["tx"], "--method", method, "-k", "id", "--epochs", "3")
                self.assertEqual(det["format"], "fin-detector")
                self.assertEqual(det["schema_version"], 1)
                self.assertIsInstance(det["tool_version"], str)
                self.assertEqual(det["method"], method)
                self.assertEqual(det["features"], ["amount", "hour", "risk", "fraud"])
                self.assertEqual(det["keys"], ["id"])
                self.assertEqual(det["contamination"], 0.01)
                self.assertEqual(det["rows_fit"], 200)
                self.assertTrue(math.isfinite(det["threshold"]))
                extra = {"zscore": {"median", "scale"},
                         "mahalanobis": {"mean", "covariance", "shrinkage"},
                         "iforest": {"trees", "sample", "seed", "forest"},
                         "autoencoder": {"model"}}[method]
                self.assertLessEqual(extra, set(det))
        _, det = self.fit(FILES["tx"], "--method", "mahalanobis", "-c", "amount,hour,risk",
                          "--shrinkage", "0.25")
        self.assertEqual(det["shrinkage"], 0.25)
        self.assertEqual(len(det["covariance"]), 9)
        _, det = self.fit(FILES["tx"], "--method", "iforest", "--trees", "7", "--sample", "50",
                          "-s", "9")
        self.assertEqual((det["trees"], det["sample"], det["seed"]), (7, 50, 9))
        self.assertEqual(len(det["forest"]["trees"]), 7)

    def test_standard_output(self):
        result = self.run_ok(FIN_ANOMALY, "fit", "-q", "--method", "zscore", FILES["tx"])
        self.assertEqual(json.loads(result.stdout)["method"], "zscore")

    def test_failed_fit_leaves_no_file(self):
        d = scratch_dir()
        det = os.path.join(d, "det.json")
        # a constant column: singular covariance, refused with --shrinkage 0
        const = os.path.join(d, "const.csv")
        write_csv(const, [["a", "b"]] + [[str(i), "7"] for i in range(20)])
        self.run_fails(EXIT_DATA, FIN_ANOMALY, "fit", "--method", "mahalanobis", "--shrinkage",
                       "0", "-o", det, const)
        self.assertEqual(sorted(os.listdir(d)), ["const.csv"])
        bad = os.path.join(d, "bad.csv")
        write_csv(bad, [["a", "b"], ["1", "2"], ["1e39", "3"]])
        self.run_fails(EXIT_DATA, FIN_ANOMALY, "fit", "--method", "zscore", "-o", det, bad)
        self.assertEqual(sorted(os.listdir(d)), ["bad.csv", "const.csv"])
        # an existing detector survives a failed fit untouched
        self.run_ok(FIN_ANOMALY, "fit", "-q", "--method", "zscore", "-o", det, FILES["tx"])
        with open(det, "rb") as f:
            before = f.read()
        self.run_fails(EXIT_DATA, FIN_ANOMALY, "fit", "--method", "zscore", "-o", det, bad)
        with open(det, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(sorted(os.listdir(d)), ["bad.csv", "const.csv", "det.json"])

    def test_unusable_detectors(self):
        det_path, det = self.fit(FILES["tx"], "--method", "zscore")
        d = scratch_dir()

        def write(name, text):
            path = os.path.join(d, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path

        def changed(**fields):
            o = dict(det)
            for k, v in fields.items():
                if v is None:
                    del o[k]
                else:
                    o[k] = v
            return json.dumps(o)

        cases = {
            "not JSON": write("text.json", "score,anomaly\n1,0\n"),
            "newer": write("newer.json", changed(schema_version=2)),
            "threshold": write("nothreshold.json", changed(threshold=None)),
            "scale": write("noscale.json", changed(scale=None)),
            "method": write("method.json", changed(method="lof")),
            "No such file": os.path.join(d, "absent.json"),
        }
        model = os.path.join(d, "model.json")
        self.run_ok(FIN_TRAIN, "-q", "--task", "autoencoder", "-c", "amount,hour,risk",
                    "--epochs", "2", "-o", model, FILES["tx"])
        cases["not a fin-detector file"] = model
        for part, path in cases.items():
            with self.subTest(part=part):
                message = self.run_fails(EXIT_MODEL, FIN_ANOMALY, "score", "-m", path,
                                         FILES["tx"])
                self.assertIn(part, message)


class UsageTest(FinTest):
    def test_usage_errors(self):
        cases = [
            ("--method", ["--method", "lof", FILES["tx"]]),
            ("-m", ["score", FILES["tx"]]),
            ("--ae", ["--method", "zscore", "--ae", "model.json", FILES["tx"]]),
            ("--ae", ["fit", "--ae", "model.json", FILES["tx"]]),
            ("-m", ["fit", "-m", "det.json", FILES["tx"]]),
            ("--shrinkage", ["--method", "mahalanobis", "--shrinkage", "1.5", FILES["tx"]]),
        ]
        for bad in ("0", "1", "-0.1", "1.5", "abc", "0.1x", ""):
            cases.append(("--contamination", ["--contamination", bad, FILES["tx"]]))
        for part, args in cases:
            with self.subTest(args=args):
                result = run(FIN_ANOMALY, *args)
                self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
                self.assertEqual(result.stdout, b"")
                self.assertIn(part, result.stderr.decode())

    def test_no_input_rows(self):
        d = scratch_dir()
        header_only = os.path.join(d, "header.csv")
        nothing = os.path.join(d, "nothing.csv")
        write_csv(header_only, [["amount", "hour", "risk", "fraud"]])
        open(nothing, "w").close()
        # A detector without keys, which these files would lack: fitted on
        # the transactions without their id and date.
        header, rows = read_csv(FILES["tx"])
        plain = os.path.join(d, "plain.csv")
        write_csv(plain, [header[2:]] + [r[2:] for r in rows])
        det_path, _ = self.fit(plain, "--method", "zscore")
        for path in (header_only, nothing):
            for args in (["fit", "--method", "zscore", "-o", os.path.join(d, "det.json")],
                         ["--method", "iforest"], ["score", "-m", det_path]):
                with self.subTest(path=os.path.basename(path), args=args):
                    self.run_fails(EXIT_NO_ROWS, FIN_ANOMALY, *args, path)
        self.assertFalse(os.path.exists(os.path.join(d, "det.json")))


class AutoencoderTest(FinTest):
    def test_given_model(self):
        d = scratch_dir()
        model = os.path.join(d, "ae.json")
        self.run_ok(FIN_TRAIN, "-q", "--task", "autoencoder", "-c", "!Class", "--epochs", "10",
                    "-s", "3", "-o", model, FILES["credit_fit"])
        m = load_json(model)
        det_path, det = self.fit(FILES["credit_fit"], "--method", "autoencoder", "--ae", model)
        self.assertEqual(det["features"], m["features"])
        self.assertEqual(det["model"]["weights"], m["weights"])
        _, rows, scores, flags = self.scores("score", "-m", det_path, FILES["credit_new"])
        self.check_flags(scores, flags, det["threshold"])
        # Every row in one forward pass on both sides (fin-predict's default
        # batch is 256): float32 matrix products of another row count may
        # round differently, by about 1e-7.
        names, pred = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, "--recon-error",
                                             "--batch", "1024", FILES["credit_new"]).stdout)
        self.assertEqual(names, ["recon_error"])
        self.assertEqual(len(pred), len(scores))
        for (p,), s in zip(pred, scores):
            self.assertTrue(rel_close(s, float(p), 1e-12), (s, p))
        _, pred = parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model, "--recon-error",
                                        FILES["credit_new"]).stdout)
        for (p,), s in zip(pred, scores):
            self.assertTrue(rel_close(s, float(p), 1e-6), (s, p))
        # the threshold: the 0.99 quantile of the fitted rows' errors
        fitted = [float(p) for (p,) in parse_csv(self.run_ok(
            FIN_PREDICT, "-q", "-m", model, "--recon-error", "--batch", "1024",
            FILES["credit_fit"]).stdout)[1]]
        self.assertTrue(rel_close(det["threshold"], gsl_quantile(fitted, 1 - 0.01), 1e-12))

    def test_not_an_autoencoder(self):
        d = scratch_dir()
        model = os.path.join(d, "reg.json")
        self.run_ok(FIN_TRAIN, "-q", "-y", "risk", "-c", "amount,hour", "--model", "linear",
                    "--epochs", "2", "-o", model, FILES["tx"])
        message = self.run_fails(EXIT_MODEL, FIN_ANOMALY, "fit", "--method", "autoencoder",
                                 "--ae", model, FILES["tx"])
        self.assertIn("autoencoder", message)


class GanTest(FinTest):
    """--method gan: 1 - D(x), D the discriminator of a model from
    fin-train --task gan, on windows of a return series with spikes."""

    @classmethod
    def setUpClass(cls):
        d = scratch_dir()
        rng = random.Random(17)
        series = [["day", "ret"]]
        for day in range(400):
            ret = rng.gauss(0, 0.01)
            if day % 97 == 50:
                ret = 0.09
            series.append([str(day), f"{ret:.6f}"])
        write_csv(os.path.join(d, "series.csv"), series)
        cls.windows = os.path.join(d, "windows.csv")
        result = run(FIN_WINDOW, "-q", "-c", "ret", "-k", "day", "--size", "5", "--transform",
                     "level", "--target", "none", "-o", cls.windows, os.path.join(d, "series.csv"))
        assert result.returncode == 0, result.stderr
        # a 0/1 column: the window holds a spike (never a feature: the
        # model names the features)
        header, rows = read_csv(cls.windows)
        cls.header = header + ["spike"]
        cls.rows = [r + [str(int(any(abs(float(v)) > 0.05 for v in r[1:])))] for r in rows]
        write_csv(cls.windows, [cls.header] + cls.rows)
        cls.history = os.path.join(d, "history.csv")
        write_csv(cls.history, [cls.header] + cls.rows[:300])
        cls.gan = os.path.join(d, "gan.json")
        cls.gan_dense = os.path.join(d, "gan_dense.json")
        for path, extra in ((cls.gan, ["--model", "gan"]),
                            (cls.gan_dense, ["--arch-d", "dense(16,leaky_relu) dense(1)",
                                             "--latent", "4"])):
            result = run(FIN_TRAIN, "-q", "--task", "gan", *extra, "-k", "day", "-c", "!spike",
                         "--epochs", "5", "-s", "3", "-o", path, cls.history)
            assert result.returncode == 0, result.stderr

    def expected(self, model, rows):
        cols = [self.header.index(f) for f in model["features"]]
        return [gan_score(model, [float(r[c]) for c in cols]) for r in rows]

    def test_scores_by_hand(self):
        for path in (self.gan, self.gan_dense):
            model = load_json(path)
            with self.subTest(model=os.path.basename(path), arch=model["arch"]):
                self.assertEqual(model["task"], "gan")
                self.assertEqual(model["features"], ["ret_4", "ret_3", "ret_2", "ret_1", "ret_0"])
                out, rows, scores, flags = self.scores("--method", "gan", "--gan", path,
                                                       self.windows)
                # the keys are the model's
                self.assertEqual(out, ["day", "score", "anomaly"])
                self.assertEqual([r[0] for r in rows], [r[0] for r in self.rows])
                want = self.expected(model, self.rows)
                for r, s, w in zip(rows, scores, want):
                    self.assertTrue(0 < s < 1, (r, s))
                    self.assertTrue(rel_close(s, w, 1e-5), (r, s, w))
                threshold = gsl_quantile(scores, 1 - 0.01)
                self.check_flags(scores, flags, threshold)

    def test_fit_then_score(self):
        """A detector written by fit scores as fit-and-score does, byte for
        byte, and new rows as the discriminator says."""
        model = load_json(self.gan)
        det_path, det = self.fit(self.history, "--method", "gan", "--gan", self.gan)
        self.assertEqual(det["method"], "gan")
        self.assertEqual(det["features"], model["features"])
        self.assertEqual(det["keys"], ["day"])
        self.assertEqual(det["rows_fit"], 300)
        self.assertEqual(det["contamination"], 0.01)
        for field in ("arch", "weights", "scaler", "generator", "latent", "input_shape"):
            self.assertEqual(det["model"][field], model[field], field)
        both = self.run_ok(FIN_ANOMALY, "-q", "--method", "gan", "--gan", self.gan, self.history)
        scored = self.run_ok(FIN_ANOMALY, "score", "-q", "-m", det_path, self.history)
        self.assertEqual(scored.stdout, both.stdout)
        _, _, fitted, _ = self.scores("score", "-m", det_path, self.history)
        self.assertTrue(rel_close(det["threshold"], gsl_quantile(fitted, 1 - 0.01), 1e-12))
        out, rows, scores, flags = self.scores("score", "-m", det_path, self.windows)
        self.assertEqual(out, ["day", "score", "anomaly"])
        self.assertEqual(len(rows), len(self.rows))
        self.check_flags(scores, flags, det["threshold"])
        for r, s, w in zip(rows, scores, self.expected(model, self.rows)):
            self.assertTrue(rel_close(s, w, 1e-5), (r, s, w))

    def test_threshold_and_contamination(self):
        _, rows, scores, flags = self.scores("--method", "gan", "--gan", self.gan,
                                             "--contamination", "0.1", self.windows)
        self.check_flags(scores, flags, gsl_quantile(scores, 1 - 0.1))
        self.assertLessEqual(sum(flags), math.ceil(0.1 * len(rows)))
        self.assertGreaterEqual(sum(flags), math.floor(0.1 * len(rows)) - 1)
        _, det = self.fit(self.history, "--method", "gan", "--gan", self.gan, "--threshold",
                          "0.5")
        self.assertEqual(det["threshold"], 0.5)
        self.assertIsNone(det["contamination"])
        _, _, scores, flags = self.scores("--method", "gan", "--gan", self.gan, "--threshold",
                                          "0.5", self.windows)
        self.check_flags(scores, flags, 0.5)

    def test_label_and_metrics(self):
        labels = [int(r[-1]) for r in self.rows]
        self.assertGreater(sum(labels), 0)
        metrics = os.path.join(scratch_dir(), "m.json")
        _, rows, scores, _ = self.scores("--method", "gan", "--gan", self.gan, "--label", "spike",
                                         "--contamination", "0.05", "--metrics", metrics,
                                         self.windows)
        self.assertEqual(len(rows), len(self.rows))
        self.check_metrics(load_json(metrics), scores, labels, 0.05,
                           math.ceil(0.05 * len(rows)))

    def test_keys(self):
        """-k overrides the model's keys; a model key missing from the input
        is named."""
        out, rows, _, _ = self.scores("--method", "gan", "--gan", self.gan, "-k", "spike",
                                      self.windows)
        self.assertEqual(out, ["spike", "score", "anomaly"])
        self.assertEqual([r[0] for r in rows], [r[-1] for r in self.rows])
        no_day = os.path.join(scratch_dir(), "no_day.csv")
        write_csv(no_day, [r[1:] for r in [self.header] + self.rows])
        message = self.run_fails(EXIT_USAGE, FIN_ANOMALY, "--method", "gan", "--gan", self.gan,
                                 no_day)
        self.assertIn("'day'", message)

    def test_refused(self):
        d = scratch_dir()
        ae = os.path.join(d, "ae.json")
        self.run_ok(FIN_TRAIN, "-q", "--task", "autoencoder", "-k", "day", "-c", "!spike",
                    "--epochs", "2", "-o", ae, self.history)
        det_path, _ = self.fit(self.history, "--method", "gan", "--gan", self.gan)
        usage = [
            ("--gan", ["--method", "gan", self.windows]),
            ("--gan", ["fit", "--method", "gan", "-o", os.path.join(d, "det.json"),
                       self.windows]),
            ("--gan", ["--gan", self.gan, self.windows]),
            ("--gan", ["--method", "autoencoder", "--gan", self.gan, self.windows]),
            ("--gan", ["score", "-m", det_path, "--gan", self.gan, self.windows]),
        ]
        for part, args in usage:
            with self.subTest(args=args):
                self.assertIn(part, self.run_fails(EXIT_USAGE, FIN_ANOMALY, *args))
        for what, path, part in (("autoencoder", ae, "fin-train --task gan"),
                                 ("detector", det_path, "not a fin-model file"),
                                 ("absent", os.path.join(d, "absent.json"), "absent.json")):
            with self.subTest(model=what):
                message = self.run_fails(EXIT_MODEL, FIN_ANOMALY, "--method", "gan", "--gan",
                                         path, self.windows)
                self.assertIn(part, message)
        self.assertFalse(os.path.exists(os.path.join(d, "det.json")))
        # a GAN model is not a detector
        message = self.run_fails(EXIT_MODEL, FIN_ANOMALY, "score", "-m", self.gan, self.windows)
        self.assertIn("not a fin-detector file", message)


class DeterminismTest(FinTest):
    def test_same_seed_same_detector(self):
        for method, extra in (("iforest", []), ("autoencoder", ["--epochs", "5"])):
            with self.subTest(method=method):
                files = []
                for seed in ("7", "7", "8"):
                    path, _ = self.fit(FILES["tx"], "--method", method, "-s", seed, *extra)
                    with open(path, "rb") as f:
                        files.append(f.read())
                self.assertEqual(files[0], files[1])
                self.assertNotEqual(files[0], files[2])


if __name__ == "__main__":
    for tool in (FIN_ANOMALY, FIN_TRAIN, FIN_PREDICT, FIN_WINDOW):
        if not os.access(tool, os.X_OK):
            sys.exit(f"anomaly_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
