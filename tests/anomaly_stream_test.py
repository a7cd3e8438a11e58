#!/usr/bin/env python3
"""fin-anomaly fit in passes over its input, checked against numpy and
against scikit-learn's fixture (tests/fixtures/make_stream_fixtures.py).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/anomaly_stream_test.py`. The table
(tests/stream_data.py) has a price near 1e6 that moves by sixteenths, so
that sums of squares would lose its variance, and planted anomalies.
Expected values are computed here with numpy from the rows as fin reads
them (float32): the z-score's medians and median absolute deviations
exactly, the Mahalanobis mean, covariance and Ledoit-Wolf shrinkage by the
textbook formulas, the threshold as the quantile of the rows' own scores;
the isolation forest's ROC-AUC against scikit-learn's over ten seeds. The
same detector must come from the file, from a pipe on standard input
(spooled), and from gzip- and zstd-compressed pipes; fit and score in one
run must give what fit, then score, give.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, write_csv
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stream_data  # noqa: E402

FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "sklearn_stream.json")
FEATURES = ["price", "amount", "spread", "depth", "trades", "latency"]
MAD_TO_SD = 1.482602218505602
TMP = None
TABLE = None


def setUpModule():
    global TMP, TABLE
    TMP = tempfile.TemporaryDirectory(prefix="fin-anomaly-stream-")
    TABLE = os.path.join(TMP.name, "table.csv")
    write_csv(TABLE, stream_data.rows())


def tearDownModule():
    TMP.cleanup()


def features():
    """The feature columns as fin reads them: float32."""
    import csv
    with open(TABLE, newline="") as f:
        rows = list(csv.reader(f))
    cols = [rows[0].index(c) for c in FEATURES]
    x = np.array([[float(r[c]) for c in cols] for r in rows[1:]], dtype=np.float32)
    y = np.array([r[rows[0].index("planted")] == "1" for r in rows[1:]])
    return x.astype(np.float64), y


def roc_auc(scores, labels):
    """Mann-Whitney with average ranks for ties."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.sum()
    return (ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * (len(s) - pos))


class StreamFit(FinCase):
    COLUMNS = ["-c", ",".join(FEATURES), "-k", "t", "--label", "planted"]

    def fit(self, method, *extra, stdin=None, path=None):
        out = os.path.join(TMP.name, f"{method}.json")
        args = ["fit", "--method", method, *self.COLUMNS, *extra, "-o", out]
        self.run_ok(FIN_ANOMALY, *args, *([] if stdin else [path or TABLE]), stdin=stdin)
        with open(out) as f:
            return json.load(f)

    def scores(self, detector):
        path = os.path.join(TMP.name, "scored.json")
        with open(path, "w") as f:
            json.dump(detector, f)
        header, rows = parse_csv(self.run_ok(FIN_ANOMALY, "score", "-q", "-m", path,
                                             TABLE).stdout)
        return np.array([float(r[header.index("score")]) for r in rows])

    def test_zscore_medians_exactly(self):
        x, _ = features()
        det = self.fit("zscore")
        med = np.median(x, axis=0)
        mad = np.median(np.abs(x - med), axis=0)
        self.assertEqual(det["median"], med.tolist())
        for got, m in zip(det["scale"], mad):
            self.assertGreater(m, 0)
            self.assertAlmostEqual(got / (MAD_TO_SD * m), 1, delta=1e-15)

    def test_mahalanobis_moments(self):
        x, _ = features()
        det = self.fit("mahalanobis")
        n, p = x.shape
        mean = x.mean(axis=0)
        xc = x - mean
        emp = xc.T @ xc / n
        mu = np.trace(emp) / p
        delta = ((emp - mu * np.eye(p)) ** 2).sum() / p
        beta = (((xc ** 2).sum(axis=1) ** 2).sum() / n - (emp ** 2).sum()) / (p * n)
        shrink = min(beta, delta) / delta
        cov = (1 - shrink) * emp + shrink * mu * np.eye(p)
        np.testing.assert_allclose(det["mean"], mean, rtol=1e-13)
        scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        got = np.array(det["covariance"]).reshape(p, p)
        # co-moments merged batch by batch: rounding of the spread, not of
        # the price's offset of 1e6
        self.assertLess(np.max(np.abs(got - cov) / scale), 1e-11)
        self.assertAlmostEqual(det["shrinkage"] / shrink, 1, delta=1e-9)

    def test_threshold_is_the_quantile_of_the_rows_scores(self):
        for method in ("zscore", "mahalanobis", "iforest"):
            for contamination in ("0.01", "0.3", "0.7"):
                with self.subTest(method=method, contamination=contamination):
                    det = self.fit(method, "--contamination", contamination)
                    s = self.scores(det)
                    want = np.quantile(s, 1 - float(contamination))
                    self.assertAlmostEqual(det["threshold"], want,
                                           delta=1e-12 * abs(want))

    def test_iforest_roc_auc_against_sklearn(self):
        with open(FIXTURE) as f:
            ref = json.load(f)
        _, y = features()
        aucs = []
        for seed in ref["seeds"]:
            det = self.fit("iforest", "-s", str(seed))
            aucs.append(roc_auc(self.scores(det), y))
        fin, sk = np.mean(aucs), np.mean(ref["roc_auc"])
        se = np.sqrt(np.var(aucs, ddof=1) / len(aucs) + np.var(ref["roc_auc"], ddof=1) /
                     len(ref["roc_auc"]))
        print(f"\n  isolation forest in passes: ROC-AUC {fin:.4f} "
              f"(scikit-learn {sk:.4f}, seeds {ref['seeds'][0]}-{ref['seeds'][-1]})")
        # the two forests draw differently: the same quality within the
        # seeds' noise
        self.assertGreater(fin, sk - max(3 * se, 0.005))

    def test_stdin_pipes_and_compression(self):
        with open(TABLE, "rb") as f:
            raw = f.read()
        zst = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE,
                             check=True).stdout
        for method in ("zscore", "mahalanobis", "iforest"):
            want = self.fit(method)
            for name, data in (("plain", raw), ("gzip", gzip.compress(raw)), ("zstd", zst)):
                with self.subTest(method=method, input=name):
                    self.assertEqual(self.fit(method, stdin=data), want)

    def test_fit_and_score_is_fit_then_score(self):
        for method in ("zscore", "mahalanobis", "iforest"):
            with self.subTest(method=method):
                det = self.fit(method)
                both = self.run_ok(FIN_ANOMALY, "--method", method, *self.COLUMNS,
                                   "-q", TABLE).stdout
                path = os.path.join(TMP.name, "det.json")
                with open(path, "w") as f:
                    json.dump(det, f)
                apart = self.run_ok(FIN_ANOMALY, "score", "-q", "-m", path, TABLE).stdout
                self.assertEqual(both, apart)

    def test_pooled_levels_are_not_unseen(self):
        """Fit and score with --unseen error: levels pooled into (other)
        at the fit are training levels when the same rows are scored."""
        out = self.run_ok(FIN_ANOMALY, "--method", "zscore", "-k", "t", "--label", "planted",
                          "--max-levels", "2", "--unseen", "error", "-q", TABLE).stdout
        header, rows = parse_csv(out)
        self.assertEqual(header, ["t", "score", "anomaly"])
        self.assertEqual(len(rows), 20000)

    def test_spool_goes_to_tmpdir(self):
        """A TMPDIR that cannot be written is a data error naming it."""
        with open(TABLE, "rb") as f:
            raw = f.read()
        env = dict(os.environ, TMPDIR=os.path.join(TMP.name, "missing"))
        r = subprocess.run([FIN_ANOMALY, "fit", "--method", "iforest", *self.COLUMNS,
                            "-o", os.path.join(TMP.name, "x.json")], input=raw, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"missing", r.stderr)
        self.assertEqual(r.stderr.count(b"\n"), 1, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
