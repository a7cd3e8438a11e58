#!/usr/bin/env python3
"""fin-anomaly fit as the ranks of an MPI job (fin-anomaly(1), MPI): the
same program under `mpirun -n P`, each rank reading every row in every pass
and working on its own block of them.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/mpi_anomaly_test.py`; needs Open
MPI's mpirun (Debian's openmpi-bin). Jobs run as in tests/mpi_test.py:
--oversubscribe, --allow-run-as-root when root, the shared-memory transport
only and a timeout. In a sanitizer build, leaks are looked for in the jobs
too: allocations are traced by the slow unwinder, so that each of the leaks
Open MPI leaves at exit (about 3,300, 120 KB a rank) shows a frame of its
libraries, which tests/lsan_openmpi.supp names, and fin's own do not.

The table is the streaming fits' (tests/stream_data.py): a price near 1e6
that moves by sixteenths, a text column and 1% planted anomalies. Expected
values come from one process on the same table:
- zscore: the same file. The ranks' counts of each radix pass, summed, are
  one process's counts, so the medians and median absolute deviations are
  exact, and so are the scores and the threshold.
- iforest: the same file. Every rank draws the subsamples from the seed as
  one process does, copies the rows of its own block, and grows the forest
  one process grows from the rows shared; the threshold is the quantile of
  the same scores. Its ROC-AUC on the planted anomalies is then one
  process's exactly, which is inside the seed noise of scikit-learn's
  forest on the same columns (tests/fixtures/sklearn_stream.json, ten seeds).
- mahalanobis: the same up to the order in which the moments are merged
  (each rank's batches, then the ranks', against one process's batches).
  tests/anomaly_stream_test.py holds one process's co-moments within 1e-11
  of the exact ones, relative to the spread (sqrt(C_ii C_jj)): two such fits
  are within 2e-11 of each other, and their means (near 1e6 for the price)
  within a few units of rounding, 1e-13. S then moves by at most p times
  that in the 2-norm, relative to its own, the shrinkage by cond(S) times
  its relative change and a distance by p cond(S) times it; the threshold
  with the distances. Measured here: covariances within 1e-15 of the
  spread, the same threshold bits at 2 and 3 ranks.
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, ROOT, write_csv
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stream_data  # noqa: E402
from anomaly_stream_test import roc_auc  # noqa: E402
from mpi_test import MPIRUN, fifo_writer, job_message, mpirun_argv  # noqa: E402
from mpi_test import shard_job, split_shards  # noqa: E402
from mpi_test import job_env  # noqa: E402

FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "sklearn_stream.json")
FEATURES = ["price", "amount", "spread", "depth", "trades", "latency"]
COLUMNS = ["-c", ",".join(FEATURES), "-k", "t", "--label", "planted"]
TIMEOUT = 120
EXIT_DATA, EXIT_USAGE = 1, 2

MEAN_RTOL = 1e-13      # the Mahalanobis means, one process against P ranks
COMOMENT_TOL = 2e-11   # the covariances, relative to sqrt(C_ii C_jj)

TMP = None
TABLE = None


def run(argv, ranks=None, stdin=None):
    """argv on ranks ranks, or in one process (None), with one BLAS thread."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if ranks:
        argv = mpirun_argv(ranks) + argv
        env = job_env()
    return subprocess.run(argv, stdin=stdin, capture_output=True, timeout=TIMEOUT, env=env)


def setUpModule():
    global TMP, TABLE
    TMP = tempfile.TemporaryDirectory(prefix="fin-mpi-anomaly-test-")
    TABLE = os.path.join(TMP.name, "table.csv")
    write_csv(TABLE, stream_data.rows())


def tearDownModule():
    TMP.cleanup()


def fin_lines(result):
    return [line for line in result.stderr.decode(errors="replace").splitlines()
            if line.startswith("fin-anomaly")]


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class FitTest(unittest.TestCase):
    def fit(self, ranks, method, *args, table=None):
        """The detector of fin-anomaly fit on ranks ranks (None: one process
        without mpirun)."""
        path = os.path.join(TMP.name, f"{method}-{ranks}.json")
        result = run([FIN_ANOMALY, "fit", "-q", "--method", method, *COLUMNS, *args,
                      "-o", path, table or TABLE], ranks)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def scores(self, detector):
        path = os.path.join(TMP.name, "scored.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(detector, f)
        result = run([FIN_ANOMALY, "score", "-q", "-m", path, TABLE])
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        lines = result.stdout.decode().splitlines()
        at = lines[0].split(",").index("score")
        return np.array([float(line.split(",")[at]) for line in lines[1:]])

    def test_zscore_exactly(self):
        one = self.fit(None, "zscore")
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                self.assertEqual(self.fit(ranks, "zscore"), one)

    def test_more_ranks_than_rows(self):
        # Three rows, five ranks: two ranks have none.
        path = os.path.join(TMP.name, "three.csv")
        write_csv(path, stream_data.rows(n=3))
        self.assertEqual(self.fit(5, "zscore", table=path), self.fit(None, "zscore", table=path))

    def test_forest_as_one_process(self):
        with open(FIXTURE, encoding="utf-8") as f:
            ref = json.load(f)
        labels = np.array([row[-1] == "1" for row in stream_data.rows()[1:]])
        one = self.fit(None, "iforest", "-s", "7")
        one_auc = roc_auc(self.scores(one), labels)
        sk = np.array(ref["roc_auc"])
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                many = self.fit(ranks, "iforest", "-s", "7")
                self.assertEqual(many, one)
                auc = roc_auc(self.scores(many), labels)
                self.assertEqual(auc, one_auc)
                # scikit-learn's forest over ten seeds: the same quality
                # within their noise
                self.assertGreater(auc, sk.mean() - 3 * sk.std(ddof=1))

    def test_shards(self):
        """--shard: each rank reads its own file alone (a directory no other
        rank sees); the detector is one process's on the files in order."""
        dirs, names = split_shards(TABLE, 3, TMP.name, "part")
        for method in ("iforest", "zscore"):
            with self.subTest(method=method):
                path = os.path.join(TMP.name, f"shards-{method}.json")
                result = shard_job([FIN_ANOMALY, "fit", "-q", "--method", method, *COLUMNS,
                                    "--shard", "-o", path, *names], dirs)
                self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
                with open(path, encoding="utf-8") as f:
                    many = json.load(f)
                self.assertEqual(many, self.fit(None, method))

    def test_forest_bottom_share(self):
        # A contamination above one half keeps the lowest scores instead.
        one = self.fit(None, "iforest", "--contamination", "0.7", "--trees", "20")
        many = self.fit(3, "iforest", "--contamination", "0.7", "--trees", "20")
        self.assertEqual(many, one)

    def test_mahalanobis_within_rounding(self):
        one = self.fit(None, "mahalanobis")
        p = len(one["mean"])
        cov = np.array(one["covariance"]).reshape(p, p)
        spread = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        cond = np.linalg.cond(cov)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                many = self.fit(ranks, "mahalanobis")
                np.testing.assert_allclose(many["mean"], one["mean"], rtol=MEAN_RTOL)
                got = np.array(many["covariance"]).reshape(p, p)
                self.assertLess(np.max(np.abs(got - cov) / spread), COMOMENT_TOL)
                self.assertAlmostEqual(many["shrinkage"], one["shrinkage"],
                                       delta=cond * COMOMENT_TOL * one["shrinkage"])
                self.assertAlmostEqual(many["threshold"], one["threshold"],
                                       delta=p * cond * COMOMENT_TOL * one["threshold"])
                self.assertEqual({k: v for k, v in many.items()
                                  if k not in ("mean", "covariance", "shrinkage", "threshold")},
                                 {k: v for k, v in one.items()
                                  if k not in ("mean", "covariance", "shrinkage", "threshold")})

    def test_rank_zero_alone_speaks_and_writes(self):
        # Without -o, the detector goes to standard output once, and the
        # line of the fit and the note of the columns are written once.
        result = run([FIN_ANOMALY, "fit", "--method", "iforest", "-k", "t", "--label", "planted",
                      TABLE], 3)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(json.loads(result.stdout)["format"], "fin-detector")
        lines = fin_lines(result)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("iforest fitted on 20000 rows", lines[0])
        self.assertIn("not used", lines[1])
        # With -o, the one file and nothing beside it.
        out = os.path.join(TMP.name, "alone")
        os.mkdir(out)
        result = run([FIN_ANOMALY, "fit", "-q", "--method", "zscore", *COLUMNS, "-o",
                      os.path.join(out, "z.json"), TABLE], 3)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(os.listdir(out), ["z.json"])


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class RefusalTest(unittest.TestCase):
    def fails(self, code, *args, stdin=None, ranks=3):
        return job_message(self, [FIN_ANOMALY, *args], code, ranks, stdin)

    def test_standard_input(self):
        for args in (["fit", "-o", os.path.join(TMP.name, "x.json")],
                     ["fit", "-o", os.path.join(TMP.name, "x.json"), "-"]):
            with self.subTest(args=args), open(TABLE, "rb") as f:
                self.assertIn("standard input reaches rank 0 only",
                              self.fails(EXIT_USAGE, *args, stdin=f))

    def test_pipe(self):
        fifo = os.path.join(TMP.name, "fifo")
        # Every rank opens the FIFO before refusing it.
        writer = fifo_writer(fifo)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        try:
            self.assertIn("regular file",
                          self.fails(EXIT_USAGE, "fit", "-o", os.path.join(TMP.name, "x.json"),
                                     fifo, ranks=2))
        finally:
            writer.kill()
            writer.wait()

    def test_one_process_modes(self):
        det = os.path.join(TMP.name, "for-scoring.json")
        result = run([FIN_ANOMALY, "fit", "-q", "--method", "zscore", *COLUMNS, "-o", det,
                      TABLE])
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        out = os.path.join(TMP.name, "x.json")
        for args, named in ((["score", "-m", det, TABLE], "split"),
                            (["--method", "zscore", TABLE], "fit writes a detector"),
                            (["fit", "--method", "autoencoder", "-o", out, TABLE],
                             "autoencoder"),
                            (["fit", "--threads", "2", "-o", out, TABLE], "--threads")):
            with self.subTest(args=args):
                self.assertIn(named, self.fails(EXIT_USAGE, *args))

    def test_bad_option_reported_once(self):
        result = run([FIN_ANOMALY, "fit", "--no-such-option", TABLE], 3)
        self.assertEqual(result.returncode, EXIT_USAGE)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(stderr.count("--no-such-option"), 1, stderr)
        self.assertEqual(stderr.count("--help"), 1, stderr)

    def test_rank_zero_cannot_write(self):
        # Only rank 0 opens the output: the others learn of its failure
        # before they scan the rows, and every rank stops.
        message = self.fails(EXIT_USAGE, "fit", "--method", "iforest", "-o",
                             os.path.join(TMP.name, "no", "such", "dir", "d.json"), TABLE)
        self.assertIn("d.json", message)

    def test_data_error_reported_once(self):
        # Every rank meets it in the scan: a missing value, with --na error.
        rows = stream_data.rows(n=500)
        rows[321][2] = ""
        path = os.path.join(TMP.name, "bad.csv")
        write_csv(path, rows)
        message = self.fails(EXIT_DATA, "fit", "--method", "mahalanobis", *COLUMNS, "-o",
                             os.path.join(TMP.name, "bad.json"), path)
        self.assertIn("bad.csv:322", message)
        self.assertFalse(os.path.exists(os.path.join(TMP.name, "bad.json")))


if __name__ == "__main__":
    unittest.main()
