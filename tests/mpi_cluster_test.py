#!/usr/bin/env python3
"""fin-cluster as the ranks of an MPI job (fin-cluster(1), MPI): the same
program under `mpirun -n P`, every rank reading the input and working on
its part of the rows, the sums added over the ranks.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/mpi_cluster_test.py`; needs Open
MPI's mpirun (Debian's openmpi-bin). Jobs run as in tests/mpi_test.py:
--oversubscribe, --allow-run-as-root when root, the shared-memory
transport, one BLAS thread a rank, and a timeout, so that a rank left
waiting fails the test instead of hanging it. In a sanitizer build, leaks
are looked for in the jobs too, Open MPI's own left out by the libraries on
their stacks (tests/lsan_openmpi.supp), fin's reported: the allocations a
fit makes only under mpirun are checked.

The table: 10,000 rows of five overlapping Gaussian segments, one feature a
price near 1e6, made with Python's Mersenne Twister by segment_rows of
tests/cluster_stream_test.py. Expected values come from one process with
the same options and seed, whose own are checked against numpy in
tests/cluster_cli_test.py and tests/cluster_stream_test.py:
- the labels written, the k chosen, the sizes and the iterations are one
  process's exactly (a row would change cluster only if it lay within a
  float32 step of a centroid of a boundary between two clusters);
- the silhouettes are one process's to the bit: each rank computes its
  rows' silhouettes as one process does, and every rank adds them all in
  one process's order;
- the inertias are double sums of n <= 10,000 non-negative terms added in
  another grouping (each rank's part, then the parts in rank order): each
  sum is within (n - 1) eps, about 1.1e-12, of the exact one relative to
  it, so the two are within 2.2e-12; INERTIA_RTOL is 1e-11 (measured:
  5.3e-15 at most);
- the centroids are the clusters' means rounded to float32, the means
  computed from those sums: equal unless a mean falls within rounding of
  the sums of a float32 rounding boundary, then one float32 step apart;
  CENTROID_RTOL is one step (2^-23) of the largest coordinate, and a
  distance written moves by at most the centroid's move, so distances get
  the same tolerance times the square root of the width (measured: every
  output and file byte for byte one process's but for the last digits of
  the inertia of rows held).
Rows held: the k-means++ starts and Lloyd's iterations of fin_kmeans_fit
shared out in runs of 1024 rows (10 runs); --init-sample 2500: the fits on
a sample of 3 such runs, then passes over every row shared out in batches
of 4096 (3 batches); --init-sample 500: the sample on rank 0 alone, the
passes shared. A table of 6 distinct points repeated makes clusters empty,
which Lloyd's iterations refill with the farthest row over the ranks (there
all at distance 0: the lowest row, rank 0's, which every rank takes; each
rank made one process's 40 relocations, counted once by a build that
printed them).
"""
import json
import math
import os
import random
import tempfile
import unittest

from cluster_stream_test import segment_rows
from fincli import BIN_DIR, parse_csv, rel_close, write_csv
from mpi_test import (MPIRUN, fifo_writer, job_message, loaded_libraries, run, shard_job,
                      split_shards)

FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
TIMEOUT = 120
EXIT_DATA = 1
EXIT_USAGE = 2
ROWS = 10000

INERTIA_RTOL = 1e-11
CENTROID_RTOL = 2.0 ** -23

TMP = None
FILES = {}


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-mpi-cluster-test-")
    rnd = random.Random(23)
    FILES["table"] = os.path.join(TMP.name, "table.csv")
    write_csv(FILES["table"], segment_rows(ROWS, rnd))
    points = [(0, 0), (1, 0), (0, 1), (5, 5), (5, 6), (9, 1)]
    rows = [["id", "a", "b"]]
    for i in range(3000):
        rows.append([f"r{i}", *map(str, points[rnd.randrange(len(points))])])
    FILES["repeated"] = os.path.join(TMP.name, "repeated.csv")
    write_csv(FILES["repeated"], rows)


def tearDownModule():
    TMP.cleanup()


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class FitTest(unittest.TestCase):
    def fit(self, ranks, name, *args):
        """fin-cluster with args on ranks ranks (None: one process without
        mpirun): its output rows, stderr, model and k report."""
        model = os.path.join(TMP.name, f"{name}-{ranks}.json")
        report = os.path.join(TMP.name, f"{name}-{ranks}-k.json")
        result = run([FIN_CLUSTER, "-k", "id", "-s", "3", *args, "-o", model, "--k-report",
                      report], ranks)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        header, rows = parse_csv(result.stdout)
        with open(model, encoding="utf-8") as f, open(report, encoding="utf-8") as g:
            return {"header": header, "rows": rows, "stderr": result.stderr.decode(),
                    "model": json.load(f), "report": json.load(g)}

    def check_as_one(self, one, many, what):
        self.assertEqual(many["header"], one["header"])
        # Rank 0 alone writes: one row out for each row in, as one process.
        self.assertEqual(len(many["rows"]), len(one["rows"]), what)
        at = one["header"].index("cluster")
        self.assertEqual([r[:at + 1] for r in many["rows"]], [r[:at + 1] for r in one["rows"]],
                         f"{what}: keys and labels")
        a, b = one["model"], many["model"]
        for key in ("features", "keys", "k", "dim", "scaled", "sizes", "fit"):
            self.assertEqual(b[key], a[key], f"{what}: {key}")
        self.assertTrue(rel_close(b["inertia"], a["inertia"], INERTIA_RTOL),
                        f"{what}: inertia {b['inertia']!r}, one process {a['inertia']!r}")
        self.assertEqual(b["silhouette"], a["silhouette"], what)
        if a["scaled"]:
            self.assertEqual(b["mean"], a["mean"], what)
            self.assertEqual(b["sd"], a["sd"], what)
        step = CENTROID_RTOL * max(abs(v) for v in a["centroids"])
        gap = max(abs(u - v) for u, v in zip(a["centroids"], b["centroids"]))
        self.assertLessEqual(gap, step, f"{what}: centroids {gap:.3g} apart")
        gap = max(abs(float(u[at + 1]) - float(v[at + 1]))
                  for u, v in zip(one["rows"], many["rows"]))
        self.assertLessEqual(gap, step * math.sqrt(a["dim"]), f"{what}: distances {gap:.3g} apart")
        self.assertEqual(many["report"]["best_k"], one["report"]["best_k"], what)
        for x, y in zip(one["report"]["candidates"], many["report"]["candidates"]):
            self.assertEqual(y["k"], x["k"])
            self.assertTrue(rel_close(y["inertia"], x["inertia"], INERTIA_RTOL),
                            f"{what}: k = {x['k']}: inertia {y['inertia']!r}, one process "
                            f"{x['inertia']!r}")
            self.assertEqual(y["silhouette"], x["silhouette"], f"{what}: k = {x['k']}")
        # Rank 0 alone speaks: the k table, the notes and the summary once,
        # as one process prints them.
        self.assertEqual(many["stderr"], one["stderr"], what)

    def test_shards(self):
        """--shard: each rank reads its own file alone (a directory no other
        rank sees); the job is one process's on the files in order. With
        the rows held, and read in passes, in which each rank reads only its
        own file (batches then start at each file's first row: the same
        labels and k, distances and inertias to rounding)."""
        dirs, names = split_shards(FILES["table"], 3, TMP.name, "part")
        for extra in ([], ["--init-sample", "2500"]):
            with self.subTest(extra=extra):
                args = ["--clusters", "2-6", *extra]
                one = self.fit(None, "shards", *args,
                               *[os.path.join(d, n) for d, n in zip(dirs, names)])
                model = os.path.join(TMP.name, "shards-3.json")
                report = os.path.join(TMP.name, "shards-3-k.json")
                result = shard_job([FIN_CLUSTER, "-k", "id", "-s", "3", *args, "--shard", "-o",
                                    model, "--k-report", report, *names], dirs)
                self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
                header, rows = parse_csv(result.stdout)
                with open(model, encoding="utf-8") as f, open(report, encoding="utf-8") as g:
                    many = {"header": header, "rows": rows, "stderr": result.stderr.decode(),
                            "model": json.load(f), "report": json.load(g)}
                # The notes name the files as each program was given them.
                for d in dirs:
                    one["stderr"] = one["stderr"].replace(d + os.sep, "")
                self.check_as_one(one, many, f"3 shards {extra}")

    def test_rows_held(self):
        args = ("--clusters", "2-6", FILES["table"])
        one = self.fit(None, "held", *args)
        self.assertEqual(len(one["rows"]), ROWS)
        self.assertEqual(one["stderr"].count("has the best silhouette"), 1)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                self.check_as_one(one, self.fit(ranks, "held", *args),
                                  f"rows held on {ranks} ranks")

    def test_sample_and_passes(self):
        for hold, clusters in (("2500", "2-5"), ("500", "4")):
            args = ("--clusters", clusters, "--init-sample", hold, FILES["table"])
            one = self.fit(None, f"passes{hold}", *args)
            # Lloyd's iterations went on over every row, a pass each.
            self.assertGreater(one["model"]["fit"]["iterations"], 1)
            for ranks in (2, 3):
                with self.subTest(init_sample=hold, ranks=ranks):
                    self.check_as_one(one, self.fit(ranks, f"passes{hold}", *args),
                                      f"--init-sample {hold} on {ranks} ranks")

    def test_empty_clusters_refilled(self):
        # 8 clusters of 6 distinct points: k-means++ repeats centres, and
        # the clusters left empty take the farthest row over the ranks.
        args = ("-c", "a,b", "--clusters", "8", FILES["repeated"])
        one = self.fit(None, "repeated", *args)
        self.assertIn(0, one["model"]["sizes"])
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                self.check_as_one(one, self.fit(ranks, "repeated", *args),
                                  f"repeated points on {ranks} ranks")


class WithoutMpirunTest(unittest.TestCase):
    def test_open_mpi_not_loaded(self):
        # Run by itself, fin-cluster neither links nor loads libmpi:
        # glibc's loader lists what it loads.
        self.assertNotIn("libmpi", loaded_libraries(self, [
            FIN_CLUSTER, "-q", "-k", "id", "--clusters", "3", FILES["table"]]))


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class RefusalTest(unittest.TestCase):
    def fails(self, code, *args, stdin=None, ranks=3):
        return job_message(self, [FIN_CLUSTER, "-k", "id", *args], code, ranks, stdin)

    def test_standard_input(self):
        with open(FILES["table"], "rb") as f:
            message = self.fails(EXIT_USAGE, "--clusters", "3", stdin=f)
        self.assertIn("standard input reaches rank 0 only", message)

    def test_pipe(self):
        fifo = os.path.join(TMP.name, "fifo")
        # Every rank opens the FIFO before refusing it.
        writer = fifo_writer(fifo)
        try:
            self.assertIn("regular file", self.fails(EXIT_USAGE, "--clusters", "3", fifo, ranks=2))
        finally:
            writer.kill()
            writer.wait()

    def test_one_process_options(self):
        model = os.path.join(TMP.name, "assign.json")
        result = run([FIN_CLUSTER, "-q", "-k", "id", "--clusters", "3", "-o", model,
                      FILES["table"]])
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        for args, named in ((["--threads", "2"], "--threads"), (["-m", model], "-m")):
            with self.subTest(args=args):
                self.assertIn(named, self.fails(EXIT_USAGE, *args, FILES["table"]))

    def test_bad_option_reported_once(self):
        # getopt's message names the program as run, then the hint.
        result = run([FIN_CLUSTER, "--no-such-option", FILES["table"]], 3)
        self.assertEqual(result.returncode, EXIT_USAGE)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(stderr.count("--no-such-option"), 1, stderr)
        self.assertEqual(stderr.count("Try 'fin-cluster --help'"), 1, stderr)

    def test_help_once(self):
        result = run([FIN_CLUSTER, "--help"], 3)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout.decode().count("Usage: fin-cluster"), 1)

    def test_every_rank_meets_the_error(self):
        # Every rank reads the table and meets its bad line: one message.
        bad = os.path.join(TMP.name, "bad.csv")
        with open(FILES["table"], encoding="utf-8") as f, open(bad, "w", encoding="utf-8") as g:
            g.write(f.read() + "r10000,1,2\n")
        message = self.fails(EXIT_DATA, "--clusters", "3", bad)
        self.assertIn(f"bad.csv:{ROWS + 2}", message)

    def test_rank_zero_cannot_write(self):
        # Only rank 0 opens the outputs: the others learn of its failure
        # before the fit, and every rank stops.
        for option in ("-o", "--k-report"):
            with self.subTest(option=option):
                message = self.fails(EXIT_USAGE, "--clusters", "3", option,
                                     os.path.join(TMP.name, "no", "such", "dir", "m.json"),
                                     FILES["table"])
                self.assertIn("m.json", message)


if __name__ == "__main__":
    unittest.main()
