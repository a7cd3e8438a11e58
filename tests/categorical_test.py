#!/usr/bin/env python3
"""Text columns as categorical features: levels learned on the training
rows, rare levels pooled, unseen levels, --categorical, missing values in
text columns, the encoding in model, detector and segmentation files, and
the note naming the columns a tool does not use.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/categorical_test.py`.

The expected levels and features are worked out here from the rows
written, never read back from the tools. The reference ROC-AUC is
scikit-learn's, from tests/fixtures/text_table_sklearn.json (made by
tests/fixtures/make_text_table_fixture.py on the same table).
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, parse_csv, write_csv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import text_table  # noqa: E402

TRAIN = os.path.join(BIN_DIR, "fin-train")
PREDICT = os.path.join(BIN_DIR, "fin-predict")
ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "text_table_sklearn.json")
EXIT_DATA, EXIT_USAGE, EXIT_MODEL = 1, 2, 3


def run(*argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=300)


def roc_auc(labels, scores):
    """Mann-Whitney: the chance a positive outscores a negative, ties half."""
    pairs = sorted(zip(scores, labels))
    rank, i, pos_rank = 1, 0, 0.0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = rank + (j - i - 1) / 2
        pos_rank += mid * sum(1 for k in range(i, j) if pairs[k][1])
        rank += j - i
        i = j
    npos = sum(labels)
    nneg = len(labels) - npos
    return (pos_rank - npos * (npos + 1) / 2) / (npos * nneg)


class TextTable(unittest.TestCase):
    """The generated customer table: 60 text columns, 4 numbers, 8% positives."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fin-categorical-")
        with open(FIXTURE) as f:
            cls.ref = json.load(f)
        cls.csv = os.path.join(cls.tmp, "customers.csv")
        text_table.write(cls.csv, cls.ref["rows"])
        with open(cls.csv, "rb") as f:
            cls.header, cls.rows = parse_csv(f.read())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_logistic_matches_scikit_learn(self):
        # scikit-learn's default penalty, C = 1, is fin-train's --l2 1/(n C)
        # on the n fitted rows (fin-train(1), EXACT FITS); unpenalised, so
        # many sparse levels separate a few rows, and the fit is refused.
        model = self.path("logistic.json")
        r = run(TRAIN, "-q", "-k", "id", "--unsorted", "-y", "default", "--model", "logistic",
                "--l2", repr(1 / self.ref["fit_rows"]), "-o", model, self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(model) as f:
            m = json.load(f)
        text = [i for i in m["inputs"] if "levels" in i]
        self.assertEqual(len(text), self.ref["text_columns"])
        r = run(PREDICT, "-q", "-m", model, self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        header, rows = parse_csv(r.stdout)
        p = [float(row[header.index("p_yes")]) for row in rows]
        n_fit = self.ref["fit_rows"]
        y = [row[-1] == "yes" for row in self.rows]
        auc = roc_auc(y[n_fit:], p[n_fit:])
        self.assertGreaterEqual(auc, self.ref["roc_auc"] - 0.02,
                                f"fin {auc:.4f}, scikit-learn {self.ref['roc_auc']:.4f}")

    def test_cluster_and_anomaly_use_the_text_columns(self):
        text_cols = [h for h in self.header[1:]
                     if h not in ("age", "tenure", "balance", "products", "default")]
        self.assertEqual(len(text_cols), 60)
        seg = self.path("seg.json")
        r = run(CLUSTER, "-q", "--clusters", "3", "-k", "id", "-c", "!default", "-o", seg,
                self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        det = self.path("det.json")
        r = run(ANOMALY, "fit", "-q", "--method", "iforest", "-k", "id", "-c", "!default",
                "-o", det, self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        for path in (seg, det):
            with open(path) as f:
                d = json.load(f)
            got = [i["column"] for i in d["inputs"] if "levels" in i]
            self.assertEqual(got, text_cols, path)
            # one-hot: every level of every text column with 10 or more rows
            for col in text_cols:
                j = self.header.index(col)
                counts = collections.Counter(row[j] for row in self.rows)
                want = sorted(v for v, c in counts.items() if c >= 10)
                entry = next(i for i in d["inputs"] if i["column"] == col)
                self.assertEqual(entry["levels"], want, col)
                self.assertEqual(entry["other"], len(want) < len(counts), col)
        # scoring streams the same encoding
        r = run(ANOMALY, "score", "-q", "-m", det, self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(CLUSTER, "-q", "-m", seg, self.csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(parse_csv(r.stdout)[1]), len(self.rows))


class Levels(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fin-levels-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def table(self, name, rows):
        write_csv(self.path(name), rows)
        return self.path(name)

    def train(self, *args, csv):
        model = self.path("m.json")
        r = run(TRAIN, "--epochs", "2", "-o", model, *args, csv)
        m = None
        if r.returncode == 0:
            with open(model) as f:
                m = json.load(f)
        return r, m

    def basic(self, n=100):
        """kind: a (50), b (30), c (15), d (5, rare); code: 1-3; x a number."""
        kinds = ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5
        rows = [["kind", "code", "x", "y"]]
        for i in range(n):
            rows.append([kinds[(i * 37) % 100], str(1 + i % 3), str(i % 7), str(i % 2)])
        return rows

    def test_levels_in_byte_order_and_rare_pooled(self):
        csv = self.table("t.csv", self.basic())
        r, m = self.train("--val", "0", "--min-count", "10", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        kind = m["inputs"][0]
        self.assertEqual(kind, {"column": "kind", "levels": ["a", "b", "c"], "other": True,
                                "missing": False, "reference": False})
        self.assertEqual(m["features"][:4], ["kind=a", "kind=b", "kind=c", "kind=(other)"])
        self.assertIn(b"1 level pooled into 'kind=(other)'", r.stderr)
        # a pooled level of the training rows is not an unseen one
        self.assertNotIn(b"not in the training rows", r.stderr)
        self.assertEqual(m["inputs"][1], {"column": "code"})
        r, m = self.train("--val", "0", "--min-count", "4", csv=csv)
        self.assertEqual(m["inputs"][0]["levels"], ["a", "b", "c", "d"])
        self.assertFalse(m["inputs"][0]["other"])
        r, m = self.train("--val", "0", "--min-count", "1", "--max-levels", "2", csv=csv)
        self.assertEqual(m["inputs"][0]["levels"], ["a", "b"])

    def test_levels_from_the_training_rows_only(self):
        rows = self.basic()
        # the validation tail (last 20 rows) brings a level of its own
        for row in rows[-20:]:
            row[0] = "late"
        csv = self.table("t.csv", rows)
        r, m = self.train("--min-count", "1", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("late", m["inputs"][0]["levels"])
        self.assertIn(b"20 values of levels not in the training rows", r.stderr)

    def test_reference_coding_for_regressions(self):
        csv = self.table("t.csv", self.basic())
        r, m = self.train("--val", "0", "--model", "logistic", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(m["inputs"][0]["reference"])
        self.assertEqual(m["features"][:3], ["kind=b", "kind=c", "kind=(other)"])
        # fin-inspect shows where each feature comes from
        r = run(os.path.join(BIN_DIR, "fin-inspect"), "--format", "json", self.path("m.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [(f["feature"], f["column"], f["encoding"], f["level"])
               for f in json.loads(r.stdout)["features"]]
        self.assertEqual(got[:5], [("kind=b", "kind", "one-hot", "b"),
                                   ("kind=c", "kind", "one-hot", "c"),
                                   ("kind=(other)", "kind", "one-hot", "(other)"),
                                   ("code", "code", "number", None),
                                   ("x", "x", "number", None)])

    def test_categorical_numeric_codes(self):
        csv = self.table("t.csv", self.basic())
        r, m = self.train("--val", "0", "--categorical", "code", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(m["inputs"][1]["levels"], ["1", "2", "3"])
        self.assertIn("code=2", m["features"])
        r, _ = self.train("--val", "0", "--categorical", "y", csv=csv)
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn(b"--categorical: 'y' is not a feature column", r.stderr)

    def test_unseen_levels(self):
        csv = self.table("t.csv", self.basic())
        r, m = self.train("--val", "0", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        model = self.path("m.json")
        new = self.table("new.csv", [["kind", "code", "x", "y"], ["a", "1", "2", "0"],
                                     ["zz\x1b", "1", "2", "0"], ["zz\x1b", "2", "3", "1"]])
        r = run(PREDICT, "-m", model, new)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"column 'kind': 2 values of levels not seen in training, encoded as "
                      b"(other)", r.stderr)
        r = run(PREDICT, "-m", model, "--unseen", "error", new)
        self.assertEqual(r.returncode, EXIT_DATA)
        self.assertIn(b"new.csv:3: column 'kind': level 'zz\\x1b' was not seen in training",
                      r.stderr)
        self.assertNotIn(b"\x1b", r.stderr)
        # the same level in a model without (other): every kind feature 0
        r, m = self.train("--val", "0", "--min-count", "1", csv=csv)
        self.assertFalse(m["inputs"][0]["other"])
        r = run(PREDICT, "-m", model, new)
        self.assertIn(b"encoded as no level (all zeros)", r.stderr)

    def test_missing_values_in_text(self):
        rows = self.basic()
        rows[5][0] = "NA"
        rows[9][0] = ""
        csv = self.table("t.csv", rows)
        r, _ = self.train("--val", "0", csv=csv)
        self.assertEqual(r.returncode, EXIT_DATA)
        self.assertIn(b"t.csv:6: column 'kind': missing value (see --na)", r.stderr)
        r, m = self.train("--val", "0", "--na", "skip", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"2 rows with missing values left out", r.stderr)
        r, m = self.train("--val", "0", "--na", "level", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(m["inputs"][0]["missing"])
        self.assertIn("kind=(missing)", m["features"])
        # --na level is for text: a number column's gap is still an error
        rows[7][2] = "NA"
        csv = self.table("t2.csv", rows)
        r, _ = self.train("--val", "0", "--na", "level", csv=csv)
        self.assertEqual(r.returncode, EXIT_DATA)
        self.assertIn(b"t2.csv:8: column 'x': missing value (--na level applies to text",
                      r.stderr)

    def test_word_among_many_numbers(self):
        rows = [["x", "y"]] + [[str(i / 7), str(i % 2)] for i in range(1100)]
        rows.append(["oops", "1"])
        csv = self.table("t.csv", rows)
        r, _ = self.train("--val", "0", csv=csv)
        self.assertEqual(r.returncode, EXIT_DATA)
        self.assertIn(b"t.csv:1102: column 'x': not a number: 'oops'", r.stderr)
        self.assertIn(b"--categorical", r.stderr)

    def test_unused_columns_named(self):
        rows = [["id", "when", "kind", "x", "y", "note"]]
        for i in range(60):
            rows.append(["id%d" % i, "2020-01-%02d" % (1 + i % 28), "ab"[i % 2], str(i),
                         str(i % 2), "free text %d" % i])
        csv = self.table("t.csv", rows)
        r, _ = self.train("--val", "0", "-k", "id", "--unsorted", "-c", "kind,x,note", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"t.csv: not used: id (key), when (not selected), y (target)", r.stderr)
        self.assertIn(b"t.csv: not used: note (text with no level in enough training rows",
                      r.stderr)
        r, _ = self.train("-q", "--val", "0", "-k", "id", "--unsorted", "-c", "kind,x,note",
                          csv=csv)
        self.assertEqual(r.stderr, b"")
        # a wide table: the first 32 names, then a count
        rows = [["x", "y"] + ["c%d" % j for j in range(40)]]
        rows += [[str(i), str(i % 2)] + ["1"] * 40 for i in range(20)]
        wide = self.table("wide.csv", rows)
        r, _ = self.train("--val", "0", "-c", "x", csv=wide)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = ", ".join("c%d (not selected)" % j for j in range(31))
        self.assertIn(("wide.csv: not used: y (target), %s and 9 more\n" % names).encode(),
                      r.stderr)

    def test_hostile_inputs_refused(self):
        csv = self.table("t.csv", self.basic())
        r, m = self.train("--val", "0", csv=csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        cases = {
            "unsorted levels": lambda m: m["inputs"][0].__setitem__("levels", ["b", "a", "c"]),
            "width": lambda m: m["inputs"][0].__setitem__("other", False),
            "flag type": lambda m: m["inputs"][0].__setitem__("other", 1),
            "repeated column": lambda m: m["inputs"][1].__setitem__("column", "kind"),
            "no text": lambda m: m.__setitem__("inputs", [{"column": f} for f in m["features"]]),
            "not a list": lambda m: m.__setitem__("inputs", {"column": "kind"}),
        }
        for what, change in cases.items():
            with self.subTest(what):
                bad = json.loads(json.dumps(m))
                change(bad)
                path = self.path("bad.json")
                with open(path, "w") as f:
                    json.dump(bad, f)
                r = run(PREDICT, "-m", path, csv)
                self.assertEqual(r.returncode, EXIT_MODEL, r.stderr)
                self.assertIn(b"unusable model file", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
