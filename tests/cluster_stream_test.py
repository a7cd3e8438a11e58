#!/usr/bin/env python3
"""fin-cluster fitting in passes, checked against fin-cluster(1) MEMORY.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/cluster_stream_test.py`. The
table: 6,000 rows of five overlapping Gaussian segments in units far apart
and a price near 1e6, made here with Python's Mersenne Twister. Expected
values are computed with numpy from the rows as fin reads them (float32):
the standardisation of every row, cluster means, distances and the
inertia of the labels fin-cluster writes; and the fit of every row held in
memory (--init-sample as large as the table), which the fit from a sample
and passes over every row must match in inertia. The same model must come
from the file, a pipe and a gzip pipe.
"""
import csv
import gzip
import json
import os
import random
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, FinCase, parse_csv, write_csv

FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
ROWS = 6000
FEATURES = ["price", "balance", "age", "ratio", "trades"]
TMP = None
TABLE = None


def segment_rows(n, rnd):
    """A header and n rows of five overlapping Gaussian segments, one
    feature a price near 1e6, drawn from rnd."""
    centres = [(0, 1000, 30, 0.2, 5), (2, 6000, 35, 0.3, 9), (-1, 1500, 60, 0.25, 4),
               (1, 2000, 32, 0.8, 20), (3, 4000, 50, 0.6, 12)]
    rows = [["id", *FEATURES]]
    for i in range(n):
        c = centres[rnd.randrange(len(centres))]
        rows.append([f"r{i}", f"{1e6 + round((c[0] + rnd.gauss(0, 1)) * 16) / 16:.4f}",
                     f"{c[1] + rnd.gauss(0, 700):.2f}", f"{c[2] + rnd.gauss(0, 6):.1f}",
                     f"{c[3] + rnd.gauss(0, 0.12):.4f}",
                     str(max(0, round(c[4] + rnd.gauss(0, 3))))])
    return rows


def setUpModule():
    global TMP, TABLE
    TMP = tempfile.TemporaryDirectory(prefix="fin-cluster-stream-")
    TABLE = os.path.join(TMP.name, "table.csv")
    write_csv(TABLE, segment_rows(ROWS, random.Random(23)))


def tearDownModule():
    TMP.cleanup()


def standardised():
    with open(TABLE, newline="") as f:
        rows = list(csv.reader(f))
    x = np.array([[float(v) for v in r[1:]] for r in rows[1:]],
                 dtype=np.float32).astype(np.float64)
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    return x, mean, sd, (x - mean) / sd


class PassesFit(FinCase):
    def fit(self, *extra, stdin=None):
        model = os.path.join(TMP.name, "model.json")
        out = self.run_ok(FIN_CLUSTER, "--clusters", "5", "-k", "id", "-q", "-o", model,
                          *extra, *([] if stdin else [TABLE]), stdin=stdin).stdout
        with open(model) as f:
            return json.load(f), out

    def inertia(self, out):
        """The inertia of the labels written, recomputed here."""
        _, _, _, z = standardised()
        header, rows = parse_csv(out)
        labels = np.array([int(r[header.index("cluster")]) for r in rows])
        self.assertEqual(len(labels), ROWS)
        total = 0.0
        for k in set(labels):
            members = z[labels == k]
            total += ((members - members.mean(axis=0)) ** 2).sum()
        return total

    def test_sample_and_passes_against_every_row_held(self):
        held, held_out = self.fit("--init-sample", str(ROWS))
        self.assertEqual(held["fit"]["iterations"] > 0, True)
        for hold in ("500", "2000"):
            with self.subTest(init_sample=hold):
                passed, out = self.fit("--init-sample", hold)
                x, mean, sd, _ = standardised()
                # the standardisation is every row's
                np.testing.assert_allclose(passed["mean"], mean, rtol=1e-12)
                np.testing.assert_allclose(passed["sd"], sd, rtol=1e-9)
                got = self.inertia(out)
                # the inertia reported is that of the rows as labelled ...
                self.assertAlmostEqual(passed["inertia"] / got, 1, delta=1e-5)
                # ... and as low as the fit of every row held, within 0.1%
                self.assertLess(got, 1.001 * self.inertia(held_out))
                self.assertEqual(sum(passed["sizes"]), ROWS)

    def test_every_row_held_is_the_fit_in_memory(self):
        """With no more rows than --init-sample the fit is the one of the
        rows in memory: a sample of all of them changes nothing."""
        a, out_a = self.fit()
        b, out_b = self.fit("--init-sample", str(ROWS))
        self.assertEqual(a, b)
        self.assertEqual(out_a, out_b)

    def test_pipes(self):
        with open(TABLE, "rb") as f:
            raw = f.read()
        for hold in ("500", str(ROWS)):
            want = self.fit("--init-sample", hold)
            for name, data in (("plain", raw), ("gzip", gzip.compress(raw))):
                with self.subTest(init_sample=hold, input=name):
                    self.assertEqual(self.fit("--init-sample", hold, stdin=data), want)

    def test_init_sample_below_k(self):
        message = self.run_fails(2, FIN_CLUSTER, "--clusters", "2-10", "--init-sample", "5",
                                 TABLE)
        self.assertIn("--init-sample", message)


if __name__ == "__main__":
    unittest.main(verbosity=1)
