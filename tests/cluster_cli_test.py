#!/usr/bin/env python3
"""Command-line tests of fin-cluster, checked against fin-cluster(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/cluster_cli_test.py`. Every expected
value is computed here: blobs drawn with a known membership, standardisation
with the sample standard deviation, cluster means, Euclidean distances,
inertia, the silhouette by its definition over every pair of rows, nearest
centroids from the numbers in the cluster file; nothing is copied from
fin-cluster's own output.

The blobs' values are multiples of 1/64 below 2^17, so each reads as float32
exactly and the expected values need no knowledge of how fin parses numbers.
"""
import json
import math
import os
import random
import re
import sys
import tempfile
import unittest

from fincli import (BIN_DIR, ROOT, FinCase, read_csv, parse_csv, write_csv, as_float32, rel_close,
                    run, silhouette_rounding)
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

CREDIT = "data/german_credit.csv"
FILE_FIELDS = {"format", "schema_version", "tool_version", "features", "keys", "k", "dim",
               "scaled", "centroids", "centroids_raw", "sizes", "inertia", "silhouette", "fit"}
FIT_FIELDS = {"seed", "restarts", "max_iter", "tol", "iterations"}

EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS = 1, 2, 3, 4

TMP = None
FILES = {}
BLOBS = {}  # name -> (header, rows, blob of each row)


# ---------------------------------------------------------------- reference


def grid(x):
    """x on the grid of 1/64: exact in float32 for |x| < 2^17."""
    return round(x * 64) / 64


def make_blobs(path, centres, n, spread, seed, key="id"):
    """n rows around each centre (one row per blob in turn, so that the blobs
    interleave in the file); returns (header, rows, blob of each row)."""
    rng = random.Random(seed)
    d = len(centres[0])
    header = [key] + [f"f{j + 1}" for j in range(d)]
    rows, blob = [], []
    for i in range(n):
        for b, c in enumerate(centres):
            rows.append([f"c{b}-{i:03d}"] + [repr(grid(rng.gauss(v, s)))
                                             for v, s in zip(c, spread)])
            blob.append(b)
    write_csv(path, [header] + rows)
    return header, rows, blob


def features(header, rows, names):
    cols = [header.index(n) for n in names]
    return [[float(r[j]) for j in cols] for r in rows]


def mean_sd(x):
    """Column means and sample standard deviations (n - 1)."""
    n, d = len(x), len(x[0])
    mean = [math.fsum(r[j] for r in x) / n for j in range(d)]
    sd = [math.sqrt(math.fsum((r[j] - mean[j]) ** 2 for r in x) / (n - 1)) for j in range(d)]
    return mean, sd


def standardise(x, mean, sd):
    return [[(v - m) / s for v, m, s in zip(r, mean, sd)] for r in x]


def cluster_means(x, labels, k):
    d = len(x[0])
    out = []
    for c in range(k):
        members = [r for r, l in zip(x, labels) if l == c]
        out.append([math.fsum(r[j] for r in members) / len(members) for j in range(d)])
    return out


def dist(a, b):
    return math.sqrt(math.fsum((u - v) ** 2 for u, v in zip(a, b)))


def silhouette(x, labels):
    """Mean over rows of (b - a) / max(a, b): a the mean distance to the
    other rows of the own cluster, b the lowest mean distance to another
    cluster's rows; a row alone in its cluster counts 0."""
    n = len(x)
    by = {}
    for i, l in enumerate(labels):
        by.setdefault(l, []).append(i)
    total = []
    for i in range(n):
        own = by[labels[i]]
        if len(own) == 1:
            total.append(0.0)
            continue
        a = math.fsum(dist(x[i], x[j]) for j in own if j != i) / (len(own) - 1)
        b = min(math.fsum(dist(x[i], x[j]) for j in members) / len(members)
                for l, members in by.items() if l != labels[i])
        total.append(0.0 if max(a, b) == 0 else (b - a) / max(a, b))
    return math.fsum(total) / n


def same_partition(a, b):
    """Labels a and b split the rows alike, up to renaming the clusters."""
    pairs = set(zip(a, b))
    return len(pairs) == len({p[0] for p in pairs}) == len({p[1] for p in pairs})


def agreement(a, b):
    """Share of rows on which a and b agree under the best one-to-one renaming
    of b's clusters (greedy on the contingency table, enough for near-equal
    partitions)."""
    counts = {}
    for p in zip(a, b):
        counts[p] = counts.get(p, 0) + 1
    used_a, used_b, agree = set(), set(), 0
    for (la, lb), c in sorted(counts.items(), key=lambda kv: -kv[1]):
        if la not in used_a and lb not in used_b:
            used_a.add(la)
            used_b.add(lb)
            agree += c
    return agree / len(a)


# ------------------------------------------------------------------ running


def load_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(
        AssertionError(f"{path}: not JSON: {c}")))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def scratch_dir():
    return tempfile.mkdtemp(dir=TMP.name)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-cluster-test-")
    # Four blobs in units far apart (a balance in thousands, an age, a
    # ratio): standardising matters, and the blobs stay well apart in it.
    FILES["blobs4"] = os.path.join(TMP.name, "blobs4.csv")
    BLOBS["blobs4"] = make_blobs(
        FILES["blobs4"],
        [(1000, 30, 0.2), (9000, 30, 0.2), (1000, 70, 0.2), (1000, 30, 0.9)], 50,
        (300, 2.5, 0.04), seed=7)
    FILES["blobs3"] = os.path.join(TMP.name, "blobs3.csv")
    BLOBS["blobs3"] = make_blobs(FILES["blobs3"], [(0, 0), (12, 2), (3, 14)], 50, (1.5, 1.5),
                                 seed=8)
    # fresh rows from the same four blobs, wider, for assignment
    FILES["new4"] = os.path.join(TMP.name, "new4.csv")
    BLOBS["new4"] = make_blobs(
        FILES["new4"],
        [(1000, 30, 0.2), (9000, 30, 0.2), (1000, 70, 0.2), (1000, 30, 0.9)], 15,
        (1500, 10, 0.15), seed=9)


def tearDownModule():
    TMP.cleanup()


class FinTest(FinCase):
    def run_ok(self, *args, stdin=None, tool=FIN_CLUSTER):
        result = run(tool, *args, stdin=stdin)
        self.assertEqual(result.returncode, 0,
                         f"{os.path.basename(tool)} {' '.join(args)}: "
                         f"{result.stderr.decode(errors='replace')}")
        return result

    def run_fails(self, code, *args, stdin=None, tool=FIN_CLUSTER):
        """Runs a failing command; returns its one-line message."""
        result = run(tool, *args, stdin=stdin)
        name = os.path.basename(tool)
        message = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"{name} {' '.join(args)}: {message}")
        self.assertTrue(message.startswith(name + ": "), message)
        self.assertEqual(message.count("\n"), 1, f"not one line: {message!r}")
        return message

    def cluster(self, *args, stdin=None):
        """fin-cluster -q ARGS; returns (header, rows, clusters, distances)."""
        header, rows = parse_csv(self.run_ok("-q", *args, stdin=stdin).stdout)
        self.assertEqual(header[-2:], ["cluster", "distance"])
        return header, rows, [int(r[-2]) for r in rows], [float(r[-1]) for r in rows]

    def fit(self, path, *args):
        """fin-cluster -q ARGS -o a new file; returns (file, header, rows,
        clusters, distances, the file's JSON)."""
        out = os.path.join(scratch_dir(), "clusters.json")
        header, rows, labels, dists = self.cluster(*args, "-o", out, path)
        return out, header, rows, labels, dists, load_json(out)

    def check_distances(self, x, labels, dists, k, rel=1e-6):
        """Each distance is the Euclidean distance from the row to the mean of
        its cluster's rows, both in the space x: to 1e-6 relative, give or
        take what float32 can hold of the row and the centroid (fin-cluster(1):
        the clustered space and the centroids are float32), 8 units of
        2^-24 of their norms, which matters only for rows very near their
        centroid."""
        means = cluster_means(x, labels, k)
        for i, (row, l, got) in enumerate(zip(x, labels, dists)):
            want = dist(row, means[l])
            f32 = 8 * 2 ** -24 * (dist(row, [0] * len(row)) + dist(means[l], [0] * len(row)))
            self.assertLessEqual(abs(got - want), rel * want + f32, (i, got, want))
        return means

    def check_no_nan(self, text):
        self.assertIsNone(re.search(r"(?i)nan|inf", text), text)


# ------------------------------------------------------------------- tests

class BlobsTest(FinTest):
    def test_blobs_recovered(self):
        header, rows, blob = BLOBS["blobs4"]
        names = header[1:]
        path, out, got, labels, dists, c = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        self.assertEqual(out, ["id", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        self.assertEqual(len(got), 200)
        # one cluster per blob, a different one for each blob
        of_blob = {}
        for b, l in zip(blob, labels):
            of_blob.setdefault(b, set()).add(l)
        self.assertTrue(all(len(s) == 1 for s in of_blob.values()), of_blob)
        self.assertEqual(sorted(min(s) for s in of_blob.values()), [0, 1, 2, 3])
        # distances and inertia in the standardised space
        x = features(header, rows, names)
        mean, sd = mean_sd(x)
        z = standardise(x, mean, sd)
        means = self.check_distances(z, labels, dists, 4)
        inertia = math.fsum(dist(r, means[l]) ** 2 for r, l in zip(z, labels))
        self.assertTrue(rel_close(c["inertia"], inertia, 1e-6), (c["inertia"], inertia))
        result = self.run_ok("--clusters", "4", "-k", "id", FILES["blobs4"])
        note = re.fullmatch(r"fin-cluster: \S+blobs4.csv: not used: id \(key\)\n"
                            r"fin-cluster: 200 rows in 4 clusters, inertia (\S+)\n",
                            result.stderr.decode())
        self.assertIsNotNone(note, result.stderr)
        self.assertTrue(rel_close(float(note.group(1)), inertia, 5e-6), (note.group(1), inertia))
        # the file's standardisation and centroids
        for j in range(3):
            self.assertTrue(rel_close(c["mean"][j], mean[j], 1e-12), (j, c["mean"][j], mean[j]))
            self.assertTrue(rel_close(c["sd"][j], sd[j], 1e-12), (j, c["sd"][j], sd[j]))
        for l in range(4):
            for j in range(3):
                self.assertAlmostEqual(c["centroids"][l * 3 + j], means[l][j], delta=1e-6)
        # the distances from the file's float32 centroids, to rounding
        cents = [as_float32(v) for v in c["centroids"]]
        for i, (r, l) in enumerate(zip(x, labels)):
            row = [as_float32((v - m) / s) for v, m, s in zip(r, c["mean"], c["sd"])]
            want = dist(row, cents[l * 3:l * 3 + 3])
            self.assertTrue(rel_close(dists[i], want, 1e-12), (i, dists[i], want))

    def test_k_range_chooses_by_silhouette(self):
        header, rows, blob = BLOBS["blobs3"]
        report = os.path.join(scratch_dir(), "k.json")
        model = os.path.join(scratch_dir(), "c.json")
        result = self.run_ok("--clusters", "2-6", "-k", "id", "--k-report", report, "-o", model,
                             FILES["blobs3"])
        err = result.stderr.decode()
        table = re.findall(r"(?m)^fin-cluster: +(\d+) +(\S+) +(\S+)$", err)
        self.assertEqual([int(t[0]) for t in table], [2, 3, 4, 5, 6], err)
        self.assertIn("fin-cluster: k = 3 has the best silhouette\n", err)
        _, got = parse_csv(result.stdout)
        labels = [int(r[1]) for r in got]
        self.assertEqual(sorted(set(labels)), [0, 1, 2])
        self.assertTrue(same_partition(labels, blob))
        rep = load_json(report)
        self.assertEqual(set(rep), {"candidates", "best_k"})
        self.assertEqual(rep["best_k"], 3)
        self.assertEqual([e["k"] for e in rep["candidates"]], [2, 3, 4, 5, 6])
        for e, t in zip(rep["candidates"], table):
            self.assertEqual(set(e), {"k", "inertia", "silhouette"})
            self.assertTrue(rel_close(float(t[1]), e["inertia"], 5e-6), (t, e))
            self.assertAlmostEqual(float(t[2]), e["silhouette"], delta=5e-5)
        sils = [e["silhouette"] for e in rep["candidates"]]
        self.assertEqual(max(sils), sils[1])
        # k = 3 recomputed from its assignment: silhouette over every pair
        # (150 rows, under --sample), inertia
        x = features(header, rows, header[1:])
        z = standardise(x, *mean_sd(x))
        want_sil, rounding = silhouette(z, labels), silhouette_rounding(z, labels)
        self.assertLessEqual(abs(rep["candidates"][1]["silhouette"] - want_sil), rounding,
                             (rep["candidates"][1]["silhouette"], want_sil))
        means = cluster_means(z, labels, 3)
        inertia = math.fsum(dist(r, means[l]) ** 2 for r, l in zip(z, labels))
        self.assertTrue(rel_close(rep["candidates"][1]["inertia"], inertia, 1e-6))
        c = load_json(model)
        self.assertEqual(c["k"], 3)
        self.assertLessEqual(abs(c["silhouette"] - want_sil), rounding)
        self.assertEqual(c["inertia"], rep["candidates"][1]["inertia"])

    def test_single_k_silhouette(self):
        """One k: no silhouette in the file unless --k-report asks for it."""
        header, rows, blob = BLOBS["blobs3"]
        _, _, _, labels, _, c = self.fit(FILES["blobs3"], "--clusters", "3", "-k", "id")
        self.assertIsNone(c["silhouette"])
        report = os.path.join(scratch_dir(), "k.json")
        _, _, _, labels, _, c = self.fit(FILES["blobs3"], "--clusters", "3", "-k", "id",
                                         "--k-report", report)
        x = features(header, rows, header[1:])
        z = standardise(x, *mean_sd(x))
        want, rounding = silhouette(z, labels), silhouette_rounding(z, labels)
        rep = load_json(report)
        self.assertEqual(rep["best_k"], 3)
        self.assertEqual(len(rep["candidates"]), 1)
        self.assertLessEqual(abs(rep["candidates"][0]["silhouette"] - want), rounding)
        self.assertLessEqual(abs(c["silhouette"] - want), rounding)


class ModelFileTest(FinTest):
    def test_fields(self):
        header, rows, blob = BLOBS["blobs4"]
        x = features(header, rows, header[1:])
        _, _, _, labels, _, c = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        self.assertEqual(set(c), FILE_FIELDS | {"mean", "sd"})
        self.assertEqual(c["format"], "fin-cluster")
        self.assertEqual(c["schema_version"], 1)
        self.assertIsInstance(c["tool_version"], str)
        self.assertEqual(c["features"], ["f1", "f2", "f3"])
        self.assertEqual(c["keys"], ["id"])
        self.assertEqual((c["k"], c["dim"], c["scaled"]), (4, 3, True))
        self.assertEqual((len(c["mean"]), len(c["sd"])), (3, 3))
        self.assertEqual(len(c["centroids"]), 4 * 3)
        raw = cluster_means(x, labels, 4)
        self.assertEqual(len(c["centroids_raw"]), 4 * 3)
        for l in range(4):
            for j in range(3):
                self.assertTrue(rel_close(c["centroids_raw"][l * 3 + j], raw[l][j], 1e-9),
                                (l, j, c["centroids_raw"][l * 3 + j], raw[l][j]))
        self.assertEqual(c["sizes"], [labels.count(l) for l in range(4)])
        self.assertEqual(sum(c["sizes"]), 200)
        self.assertEqual(set(c["fit"]), FIT_FIELDS)
        self.assertEqual({f: c["fit"][f] for f in ("seed", "restarts", "max_iter", "tol")},
                         {"seed": 1, "restarts": 10, "max_iter": 300, "tol": 1e-4})
        self.assertIsInstance(c["fit"]["iterations"], int)
        self.assertTrue(1 <= c["fit"]["iterations"] <= 300)
        _, _, _, _, _, c = self.fit(FILES["blobs4"], "--clusters", "4", "-s", "7", "--restarts", "3",
                                    "--max-iter", "50", "--tol", "1e-6")
        self.assertEqual({f: c["fit"][f] for f in ("seed", "restarts", "max_iter", "tol")},
                         {"seed": 7, "restarts": 3, "max_iter": 50, "tol": 1e-6})
        self.assertTrue(1 <= c["fit"]["iterations"] <= 50)
        self.assertEqual(c["keys"], [])
        self.assertEqual(c["features"], ["f1", "f2", "f3"])

    def test_same_seed_same_output(self):
        outs = []
        for seed in ("5", "5"):
            d = scratch_dir()
            model = os.path.join(d, "c.json")
            result = self.run_ok("-q", "--clusters", "2-5", "-s", seed, "-k", "id", "-o", model,
                                 FILES["blobs4"])
            outs.append((result.stdout, read_bytes(model)))
        self.assertEqual(outs[0], outs[1])

    def test_assign_same_rows(self):
        """-m on the rows that were fitted gives back the fit's output."""
        model = os.path.join(scratch_dir(), "c.json")
        fitted = self.run_ok("-q", "--clusters", "4", "-k", "id", "-o", model, FILES["blobs4"]).stdout
        self.assertEqual(self.run_ok("-q", "-m", model, FILES["blobs4"]).stdout, fitted)
        self.assertEqual(self.run_ok("-q", "-m", model, stdin=read_bytes(
            os.path.join(ROOT, FILES["blobs4"]))).stdout, fitted)

    def test_assign_new_rows_nearest_centroid(self):
        model, _, _, _, _, c = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        header, rows, blob = BLOBS["new4"]
        out, got, labels, dists = self.cluster("-m", model, FILES["new4"])
        self.assertEqual(out, ["id", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        # the float32 centroids and the rows standardised into float32, as
        # fin-cluster(1) describes the space
        cents = [[as_float32(v) for v in c["centroids"][l * 3:l * 3 + 3]] for l in range(c["k"])]
        x = features(header, rows, c["features"])
        for i, r in enumerate(x):
            z = [as_float32((v - m) / s) for v, m, s in zip(r, c["mean"], c["sd"])]
            d = [dist(z, cen) for cen in cents]
            best = min(range(len(d)), key=lambda l: d[l])
            self.assertGreater(sorted(d)[1] - d[best], 1e-6 * d[best], "a near tie")
            self.assertEqual(labels[i], best, (i, d))
            self.assertTrue(rel_close(dists[i], d[best], 1e-12), (i, dists[i], d[best]))

    def test_features_by_name(self):
        header, rows, _ = BLOBS["new4"]
        model, *_ = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        perm = [2, 0, 3, 1]
        shuffled = os.path.join(scratch_dir(), "shuffled.csv")
        write_csv(shuffled, [[r[j] for j in perm] for r in [header] + rows])
        a = self.run_ok("-q", "-m", model, FILES["new4"]).stdout
        self.assertEqual(self.run_ok("-q", "-m", model, shuffled).stdout, a)
        dropped = os.path.join(scratch_dir(), "no_f2.csv")
        write_csv(dropped, [[r[0], r[1], r[3]] for r in [header] + rows])
        message = self.run_fails(EXIT_DATA, "-m", model, dropped)
        self.assertIn("'f2'", message)

    def test_keys_remembered(self):
        header, rows, _ = BLOBS["new4"]
        model, *_ = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        out, got, _, _ = self.cluster("-m", model, FILES["new4"])
        self.assertEqual(out, ["id", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])
        # -k when assigning overrides the model's
        out, got, _, _ = self.cluster("-m", model, "-k", "f3", FILES["new4"])
        self.assertEqual(out, ["f3", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[3] for r in rows])
        # --keep when fitting: the model still remembers -k
        model, *_ = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id", "--keep")
        self.assertEqual(load_json(model)["keys"], ["id"])
        out, got, _, _ = self.cluster("-m", model, FILES["new4"])
        self.assertEqual(out, ["id", "cluster", "distance"])
        self.assertEqual([r[0] for r in got], [r[0] for r in rows])

    def test_keep(self):
        rows = [["id", "a", "name", "b"], ["x,1", "1", "foo", "2"], ["y", "5", 'ba"r', "6"],
                ["z", "9", "q", "9"], ["w", "1", "e", "3"], ["v", "8", "", "8.5"]]
        path = os.path.join(scratch_dir(), "keep.csv")
        write_csv(path, rows)
        model, out, got, labels, dists, c = self.fit(path, "--clusters", "2", "--keep", "-k", "id")
        self.assertEqual(out, rows[0] + ["cluster", "distance"])
        self.assertEqual([r[:-2] for r in got], rows[1:])
        self.assertEqual(c["features"], ["a", "b"])
        self.assertTrue(same_partition(labels, [0, 1, 1, 0, 1]))
        out, got, labels2, dists2 = self.cluster("-m", model, "--keep", path)
        self.assertEqual(out, rows[0] + ["cluster", "distance"])
        self.assertEqual([r[:-2] for r in got], rows[1:])
        self.assertEqual((labels2, dists2), (labels, dists))


class NoScaleTest(FinTest):
    def test_raw_distances(self):
        header, rows, blob = BLOBS["blobs3"]
        x = features(header, rows, header[1:])
        _, _, _, labels, dists, c = self.fit(FILES["blobs3"], "--clusters", "3", "--no-scale",
                                             "-k", "id")
        self.assertTrue(same_partition(labels, blob))
        self.assertFalse(c["scaled"])
        self.assertNotIn("mean", c)
        self.assertNotIn("sd", c)
        means = self.check_distances(x, labels, dists, 3)
        inertia = math.fsum(dist(r, means[l]) ** 2 for r, l in zip(x, labels))
        self.assertTrue(rel_close(c["inertia"], inertia, 1e-6), (c["inertia"], inertia))
        for l in range(3):
            for j in range(2):
                self.assertAlmostEqual(c["centroids"][l * 2 + j], means[l][j], delta=1e-5)
                self.assertTrue(rel_close(c["centroids_raw"][l * 2 + j], means[l][j], 1e-9))

    def test_blobs_units_dominate_unscaled(self):
        """Without scaling, the column in thousands decides alone: blob 1 (far
        out in f1) is split off and the others, apart only in small units, are
        merged."""
        header, rows, blob = BLOBS["blobs4"]
        _, _, labels, _ = self.cluster("--clusters", "2", "--no-scale", FILES["blobs4"])
        self.assertTrue(same_partition(labels, [int(b == 1) for b in blob]))


class EmbedTest(FinTest):
    """The chain of the issue: an autoencoder's 4-number code of the German
    credit applicants, clustered."""

    def test_autoencoder_code(self):
        d = scratch_dir()
        ae = os.path.join(d, "ae.json")
        ce = os.path.join(d, "ce.json")
        self.run_ok("-q", "--model", "autoencoder", "--bottleneck", "4", "-c", "!Class",
                    "--epochs", "10", "-o", ae, CREDIT, tool=FIN_TRAIN)
        fitted = self.run_ok("-q", "--clusters", "3", "--embed", ae, "-k", "Class", "-o", ce, CREDIT)
        out, got = parse_csv(fitted.stdout)
        header, rows = read_csv(CREDIT)
        self.assertEqual(out, ["Class", "cluster", "distance"])
        self.assertEqual(len(got), 1000)
        self.assertEqual([r[0] for r in got], [r[header.index("Class")] for r in rows])
        labels = [int(r[1]) for r in got]
        dists = [float(r[2]) for r in got]
        self.assertEqual(sorted(set(labels)), [0, 1, 2])
        c, m = load_json(ce), load_json(ae)
        self.assertEqual(c["dim"], 4)
        self.assertEqual(c["k"], 3)
        self.assertEqual(c["keys"], ["Class"])
        # the whole model; its training facts are checked on their own below
        self.assertEqual({f: v for f, v in c["embed"].items() if f != "training"},
                         {f: v for f, v in m.items() if f != "training"})
        self.assertEqual(c["features"], m["features"])
        self.assertNotIn("Class", c["features"])
        self.assertEqual(len(c["centroids"]), 3 * 4)
        self.assertEqual(c["sizes"], [labels.count(l) for l in range(3)])
        # centroids_raw: mean inputs per cluster (German credit holds integers)
        x = features(header, rows, c["features"])
        raw = cluster_means(x, labels, 3)
        nf = len(c["features"])
        self.assertEqual(len(c["centroids_raw"]), 3 * nf)
        for l in range(3):
            for j in range(nf):
                self.assertTrue(rel_close(c["centroids_raw"][l * nf + j], raw[l][j], 1e-9),
                                (l, j, c["centroids_raw"][l * nf + j], raw[l][j]))
        # assigning with the saved clusters reproduces the fit
        self.assertEqual(self.run_ok("-q", "-m", ce, CREDIT).stdout, fitted.stdout)
        # the code from fin-predict, in one forward pass as fin-cluster takes
        # 1000 rows: its standardisation by hand
        codes = os.path.join(d, "z.csv")
        result = self.run_ok("-q", "-m", ae, "--embed", "--batch", "1024", CREDIT,
                             tool=FIN_PREDICT)
        with open(codes, "wb") as f:
            f.write(result.stdout)
        zh, zrows = read_csv(codes)
        self.assertEqual(zh, ["z1", "z2", "z3", "z4"])
        # float32 numbers, written in their shortest form
        z = [[as_float32(v) for v in r] for r in features(zh, zrows, zh)]
        mean, sd = mean_sd(z)
        for j in range(4):
            self.assertTrue(rel_close(c["mean"][j], mean[j], 1e-9), (j, c["mean"][j], mean[j]))
            self.assertTrue(rel_close(c["sd"][j], sd[j], 1e-9), (j, c["sd"][j], sd[j]))
        # Each row at its nearest centroid, at the distance written. With the
        # default --tol the last Lloyd step may stop the centroids short of
        # their rows' means (fin-cluster(1)), so the centroids are the file's.
        cents = [[as_float32(v) for v in c["centroids"][l * 4:l * 4 + 4]] for l in range(3)]
        for i, r in enumerate(z):
            zs = [as_float32((v - m) / s) for v, m, s in zip(r, c["mean"], c["sd"])]
            dd = [dist(zs, cen) for cen in cents]
            self.assertTrue(rel_close(dists[i], dd[labels[i]], 1e-12), (i, dists[i], dd))
            # nearest, but for float32 rounding in the search (lib/cluster/kmeans.h)
            self.assertLessEqual(dd[labels[i]], min(dd) * (1 + 1e-6), (i, labels[i], dd))
        # Run to convergence (--tol 0: until no label changes), the centroids
        # are their rows' means, and the distances those to the means.
        _, _, tlabels, tdists = self.cluster("--clusters", "3", "--embed", ae, "--tol", "0", CREDIT)
        self.check_distances(standardise(z, mean, sd), tlabels, tdists, 3)
        # clustering those codes as plain columns: the same partition
        _, _, zlabels, _ = self.cluster("--clusters", "3", "-c", "z1,z2,z3,z4", codes)
        self.assertTrue(same_partition(labels, zlabels),
                        f"agreement {agreement(labels, zlabels):.4f}")
        # fin-predict's default batch of 256 rounds the code a little
        # differently; the partition may move a few borderline rows
        result = self.run_ok("-q", "-m", ae, "--embed", CREDIT, tool=FIN_PREDICT)
        with open(codes, "wb") as f:
            f.write(result.stdout)
        _, _, zlabels, _ = self.cluster("--clusters", "3", "-c", "z1,z2,z3,z4", codes)
        self.assertGreaterEqual(agreement(labels, zlabels), 0.99)

    def test_embed_is_the_whole_model(self):
        """fin-cluster(1): embed is the autoencoder, "a whole fin-model
        object", training facts (fin conventions) included."""
        d = scratch_dir()
        ae = os.path.join(d, "ae.json")
        self.run_ok("-q", "--task", "autoencoder", "--bottleneck", "2", "-c", "f1,f2,f3",
                    "--epochs", "3", "-o", ae, FILES["blobs4"], tool=FIN_TRAIN)
        _, _, _, _, _, c = self.fit(FILES["blobs4"], "--clusters", "4", "--embed", ae)
        m = load_json(ae)
        self.assertEqual(c["dim"], 2)
        self.assertEqual(c["embed"]["weights"], m["weights"])
        self.assertEqual(c["embed"]["training"], m["training"])
        self.assertEqual(c["embed"], m)

    def test_embed_not_an_autoencoder(self):
        d = scratch_dir()
        model = os.path.join(d, "reg.json")
        self.run_ok("-q", "-y", "f1", "-c", "f2,f3", "--model", "linear", "--epochs", "2",
                    "-o", model, FILES["blobs4"], tool=FIN_TRAIN)
        message = self.run_fails(EXIT_MODEL, "--clusters", "2", "--embed", model, FILES["blobs4"])
        self.assertIn("autoencoder", message)


class ErrorTest(FinTest):
    def test_usage_errors(self):
        model, *_ = self.fit(FILES["blobs3"], "--clusters", "3")
        ae = os.path.join(scratch_dir(), "ae.json")
        self.run_ok("-q", "--task", "autoencoder", "-c", "f1,f2", "--epochs", "1", "-o", ae,
                    FILES["blobs3"], tool=FIN_TRAIN)
        cases = [["--clusters", k, FILES["blobs3"]] for k in ("0", "5-2", "abc", "2-", "-3", "2x", "")]
        cases += [["-m", model, "--embed", ae, FILES["blobs3"]],
                  ["-m", model, "-o", os.path.join(scratch_dir(), "x.json"), FILES["blobs3"]],
                  ["-m", model, "--k-report", os.path.join(scratch_dir(), "x.json"),
                   FILES["blobs3"]]]
        for args in cases:
            with self.subTest(args=args):
                self.run_fails(EXIT_USAGE, *args)
                self.assertEqual(run(FIN_CLUSTER, *args).stdout, b"")

    def test_k_more_than_rows(self):
        d = scratch_dir()
        out = os.path.join(d, "c.json")
        message = self.run_fails(EXIT_USAGE, "-q", "--clusters", "151", "-o", out,
                                 FILES["blobs3"])
        self.assertIn("151", message)
        result = run(FIN_CLUSTER, "--clusters", "148-152", "-o", out, FILES["blobs3"])
        self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(os.listdir(d), [])
        # as many clusters as rows is allowed: every row its own centroid
        _, _, labels, dists = self.cluster("--clusters", "4", stdin=b"a,b\n1,2\n3,1\n0,5\n7,7\n")
        self.assertEqual(sorted(labels), [0, 1, 2, 3])
        self.assertTrue(all(d < 1e-6 for d in dists), dists)

    def test_unusable_cluster_files(self):
        model, *_, c = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        d = scratch_dir()

        def write(name, obj):
            path = os.path.join(d, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(obj if isinstance(obj, str) else json.dumps(obj))
            return path

        def changed(**fields):
            o = dict(c)
            for k, v in fields.items():
                if v is None:
                    del o[k]
                else:
                    o[k] = v
            return o

        ae = os.path.join(d, "ae.json")
        self.run_ok("-q", "--task", "autoencoder", "-c", "f1,f2,f3", "--epochs", "1", "-o", ae,
                    FILES["blobs4"], tool=FIN_TRAIN)
        cases = {
            "not JSON": write("text.json", "id,cluster,distance\nx,1,0.5\n"),
            "newer": write("newer.json", changed(schema_version=2)),
            "centroids": write("nocentroids.json", changed(centroids=None)),
            "centroids ": write("short.json", changed(centroids=c["centroids"][:-3])),
            "centroids  ": write("long.json", changed(centroids=c["centroids"] + [0, 0, 0])),
            "k": write("k5.json", changed(k=5)),
            "sd": write("sd0.json", changed(sd=[0.0] + c["sd"][1:])),
            "format": write("format.json", changed(format="fin-detector")),
            "autoencoder": ae,
            "absent": os.path.join(d, "absent.json"),
        }
        for part, path in cases.items():
            with self.subTest(part=part):
                message = self.run_fails(EXIT_MODEL, "-m", path, FILES["new4"])
                self.assertIn(os.path.basename(path), message)
                self.assertEqual(run(FIN_CLUSTER, "-m", path, FILES["new4"]).stdout, b"")

    def test_no_input_rows(self):
        d = scratch_dir()
        header_only = os.path.join(d, "header.csv")
        nothing = os.path.join(d, "nothing.csv")
        write_csv(header_only, [["id", "f1", "f2", "f3"]])
        open(nothing, "w").close()
        model, *_ = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        out = os.path.join(d, "c.json")
        for path in (header_only, nothing):
            for args in (["--clusters", "2", "-o", out], ["--clusters", "2-4"], ["-m", model]):
                with self.subTest(path=os.path.basename(path), args=args):
                    self.run_fails(EXIT_NO_ROWS, *args, path)
        self.assertFalse(os.path.exists(out))

    def test_not_a_number(self):
        d = scratch_dir()
        bad = os.path.join(d, "bad.csv")
        write_csv(bad, [["id", "f1", "f2", "f3"], ["a", "1", "2", "3"], ["b", "4", "5", "6"],
                        ["c", "7", "x8", "9"], ["d", "1", "1", "1"]])
        # fitting, a word makes f2 a text column; a number beyond float32
        # is an error
        huge = os.path.join(d, "huge.csv")
        write_csv(huge, [["id", "f1", "f2", "f3"], ["a", "1", "2", "3"], ["b", "4", "5", "6"],
                         ["c", "7", "1e39", "9"], ["d", "1", "1", "1"]])
        model, *_ = self.fit(FILES["blobs4"], "--clusters", "4", "-k", "id")
        out = os.path.join(d, "c.json")
        for args, path, value in ((["--clusters", "2", "-k", "id", "-o", out], huge, "1e39"),
                                  (["-m", model], bad, "x8")):
            with self.subTest(args=args):
                message = self.run_fails(EXIT_DATA, *args, path)
                self.assertIn(os.path.basename(path) + ":4:", message)
                self.assertIn("'f2'", message)
                self.assertIn(value, message)
        self.assertFalse(os.path.exists(out))


class EmptyClusterTest(FinTest):
    def test_duplicate_rows(self):
        """30 identical rows and 3 others: k up to 6, more than the distinct
        rows, never writes a NaN and every row is at its centroid."""
        rows = [["a", "b"]] + [["1", "2"]] * 30 + [["5", "1"], ["-3", "7"], ["9", "9"]]
        path = os.path.join(scratch_dir(), "dup.csv")
        write_csv(path, rows)
        for k in ("4", "5", "6", "2-6"):
            for scale in ([], ["--no-scale"]):
                with self.subTest(k=k, scale=scale):
                    d = scratch_dir()
                    model = os.path.join(d, "c.json")
                    report = os.path.join(d, "k.json")
                    result = self.run_ok("--clusters", k, *scale, "-o", model, "--k-report", report,
                                         path)
                    for text in (result.stdout.decode(), result.stderr.decode(),
                                 read_bytes(model).decode(), read_bytes(report).decode()):
                        self.check_no_nan(text)
                    c = load_json(model)
                    load_json(report)
                    _, got = parse_csv(result.stdout)
                    labels = [int(r[0]) for r in got]
                    self.assertEqual(len(got), 33)
                    self.assertEqual(sum(c["sizes"]), 33)
                    self.assertEqual(c["sizes"], [labels.count(l) for l in range(c["k"])])
                    self.assertEqual(len(set(labels[:30])), 1)
                    if k != "2-6":
                        self.assertEqual(len(set(labels)), 4)
                        self.assertTrue(all(float(r[1]) < 1e-5 for r in got), got)
                    for v in c["centroids"] + c["centroids_raw"]:
                        self.assertTrue(math.isfinite(v))
                    # and the file assigns again, the same
                    self.assertEqual(self.run_ok("-q", "-m", model, path).stdout, result.stdout)


if __name__ == "__main__":
    for tool in (FIN_CLUSTER, FIN_TRAIN, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"cluster_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
