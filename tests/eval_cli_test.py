#!/usr/bin/env python3
"""Command-line tests of fin-eval, checked against fin-eval(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/eval_cli_test.py`. The reference
values come from tests/fixtures/eval_fixture.json, made by
tests/fixtures/make_eval_fixtures.py with scikit-learn, SciPy and numpy
(see there); the baselines and the small cases below are computed here by
their definitions in fin-eval(1). Nothing is copied from fin-eval's own
output.
"""
import json
import math
import os
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, silhouette_rounding, write_csv, run

FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "eval_fixture.json")

EXIT_DATA, EXIT_USAGE, EXIT_NO_ROWS = 1, 2, 4

REGRESSION_FIELDS = {"task", "actual", "pred", "n", "rmse", "mae", "mape", "n_mape", "smape",
                     "r2", "directional_accuracy", "n_directional", "naive", "naive_rule",
                     "horizon", "n_naive", "rmse_naive", "mae_naive", "mase", "theil_u", "dm",
                     "notes"}
BINARY_FIELDS = {"task", "actual", "pred", "positive", "n", "positives", "prevalence",
                 "roc_auc", "pr_auc", "ks", "log_loss", "brier", "threshold", "tp", "fp", "tn",
                 "fn", "accuracy", "precision", "recall", "f1", "baseline", "notes"}
ANOMALY_FIELDS = {"task", "actual", "pred", "positive", "n", "positives", "prevalence",
                  "roc_auc", "pr_auc", "k", "precision_at_k", "alert_rate", "alerts",
                  "recall_at_rate", "baseline", "notes"}
CLUSTER_FIELDS = {"task", "cluster", "features", "n", "k", "sizes", "silhouette",
                  "silhouette_rows", "davies_bouldin", "notes"}

TMP = None
FILES = {}
with open(FIXTURE) as f:
    FIX = json.load(f)


def path(name):
    return os.path.join(TMP.name, name)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-eval-test-")
    for case in FIX["regression"]:
        header = ["t", "y", "prediction"] + (["last"] if "last" in case else [])
        rows = [header]
        for i, (a, p) in enumerate(zip(case["actual"], case["pred"])):
            rows.append([i + 1, repr(a), repr(p)] + ([repr(case["last"][i])]
                                                      if "last" in case else []))
        FILES[case["name"]] = path(case["name"] + ".csv")
        write_csv(FILES[case["name"]], rows)
    case = FIX["binary"][0]
    # the same rows twice: 0/1 labels under fin-eval's default names, and
    # text labels as fin-predict writes them for German credit
    FILES["binary"] = path("binary.csv")
    write_csv(FILES["binary"], [["id", "y", "p_1"]] +
              [[i, y, repr(p)] for i, (y, p) in enumerate(zip(case["y"], case["p"]))])
    FILES["credit"] = path("credit.csv")
    write_csv(FILES["credit"], [["id", "Class", "p_Bad"]] +
              [[i, "Bad" if y else "Good", repr(p)]
               for i, (y, p) in enumerate(zip(case["y"], case["p"]))])
    case = FIX["anomaly"][0]
    FILES["anomaly"] = path("anomaly.csv")
    write_csv(FILES["anomaly"], [["id", "y", "score"]] +
              [[i, y, repr(s)] for i, (y, s) in enumerate(zip(case["y"], case["score"]))])
    case = FIX["cluster"][0]
    d = case["d"]
    FILES["cluster"] = path("cluster.csv")
    write_csv(FILES["cluster"], [["id", "f1", "f2", "f3", "cluster"]] +
              [[i] + [repr(v) for v in case["x"][i * d:(i + 1) * d]] + [label]
               for i, label in enumerate(case["labels"])])


def tearDownModule():
    TMP.cleanup()


def write_constant():
    write_csv(path("constant.csv"), [["y", "prediction"], ["2", "1"], ["2", "3"], ["2", "2"]])


def entropy(q):
    return -sum(v * math.log(v) for v in (q, 1 - q) if v > 0)


class EvalCase(FinCase):
    def report(self, *args, stdin=None):
        result = self.run_ok(FIN_EVAL, *args, stdin=stdin)
        self.assertNotIn(b"NaN", result.stdout)
        self.assertTrue(result.stdout.endswith(b"}\n"))
        return json.loads(result.stdout), result.stderr.decode()

    def close(self, got, want, what, rel=1e-6, atol=1e-12):
        if want is None:
            self.assertIsNone(got, what)
            return
        self.assertIsNotNone(got, what)
        self.assertLessEqual(abs(got - want), rel * abs(want) + atol, (what, got, want))


# ---------------------------------------------------------------- regression


class RegressionTest(EvalCase):
    def check(self, got, want, case):
        self.assertEqual(set(got), REGRESSION_FIELDS | ({"last"} if "last" in case else set()))
        self.assertEqual(got["task"], "regression")
        for key in ("n", "n_mape", "n_directional", "n_naive", "horizon"):
            self.assertEqual(got[key], want[key], key)
        for key in ("rmse", "mae", "mape", "smape", "r2", "directional_accuracy", "rmse_naive",
                    "mae_naive", "mase", "theil_u"):
            self.close(got[key], want[key], key)
        self.assertEqual(got["naive"], want["naive"])
        self.close(got["dm"]["statistic"], want["dm_statistic"], "dm statistic")
        self.close(got["dm"]["p_value"], want["dm_p_value"], "dm p-value")
        self.assertEqual(got["dm"]["horizon"], want["dm_horizon"])
        self.assertEqual(got["dm"]["loss"], want["loss"])

    def test_fixture(self):
        """Every naive forecast, horizon and loss against scikit-learn,
        numpy and SciPy."""
        for case in FIX["regression"]:
            last = ["--last", "last"] if "last" in case else []
            for want in case["expected"]:
                with self.subTest(case=case["name"], naive=want["naive"],
                                  horizon=want["horizon"]):
                    got, err = self.report("--naive", want["naive"], "--horizon",
                                           str(want["horizon"]), "--dm-loss", want["loss"],
                                           *last, FILES[case["name"]])
                    self.check(got, want, case)
                    self.assertEqual(got["naive_rule"], "given")
                    self.assertEqual(err, "")

    def test_auto(self):
        """Levels get the random walk, returns the zero forecast, and the
        choice is explained."""
        for case in FIX["regression"][:2]:
            with self.subTest(case=case["name"]):
                got, err = self.report(FILES[case["name"]])
                want = next(e for e in case["expected"]
                            if e["naive"] == case["auto_naive"] and e["horizon"] == 1)
                self.check(got, want, case)
                self.assertEqual(got["naive_rule"], "auto")
                self.assertEqual(got["notes"], [err[len("fin-eval: "):-1]])
        levels, returns = FIX["regression"][:2]
        got, err = self.report(FILES["levels"])
        self.assertEqual(got["naive"], "last")
        self.assertIn(f"a level series: every actual is above 0 and their lag-1 "
                      f"autocorrelation is {levels['lag1']:.4f} (above 0.9)", err)
        got, err = self.report(FILES["returns"])
        self.assertEqual(got["naive"], "zero")
        first = next(a for a in returns["actual"] if a <= 0)
        self.assertIn(f"as for returns: an actual is {first:g} (not above 0)", err)
        # gross returns, 1 + r: all above 0, but hardly autocorrelated
        gross = path("gross.csv")
        write_csv(gross, [["y", "prediction"]] + [[repr(1 + a), repr(1 + p)] for a, p in
                                                  zip(returns["actual"], returns["pred"])])
        got, err = self.report(gross)
        self.assertEqual(got["naive"], "zero")
        self.assertIn(f"autocorrelation of the actuals is {returns['lag1']:.4f} "
                      "(not above 0.9)", err)
        got, err = self.report("-q", FILES["levels"])
        self.assertEqual(err, "")
        self.assertEqual(len(got["notes"]), 1)

    def test_stdin_and_columns_by_index(self):
        with open(FILES["returns"], "rb") as f:
            data = f.read()
        want = FIX["regression"][1]["expected"][1]
        got, _ = self.report("--naive", "zero", "--actual", "2", "--pred", "3", stdin=data)
        self.check(got, want, FIX["regression"][1])
        self.assertEqual((got["actual"], got["pred"]), ("y", "prediction"))
        # headerless: columns are 1, 2, 3
        body = data.split(b"\n", 1)[1]
        got, _ = self.report("-n", "--naive", "zero", "--actual", "2", "--pred", "3", "-",
                             stdin=body)
        self.check(got, want, FIX["regression"][1])

    def test_table(self):
        case = FIX["regression"][0]
        want = case["expected"][0]
        out = self.run_ok(FIN_EVAL, "--format", "table", "--naive", "last",
                          FILES["levels"]).stdout.decode()
        lines = out.splitlines()
        names = [line.split()[0] for line in lines]
        self.assertEqual(names[:4], ["task", "actual", "pred", "n"])
        self.assertIn("dm.statistic", names)
        self.assertNotIn("notes", names)
        # aligned: every value starts in the same column
        starts = {len(line) - len(line.split()[-1]) for line in lines}
        self.assertEqual(len(starts), 1, out)
        cells = dict(line.split() for line in lines)
        self.assertEqual(cells["task"], "regression")
        self.assertEqual(cells["n"], str(want["n"]))
        for key in ("rmse", "mase", "theil_u"):  # 6 significant digits
            self.close(float(cells[key]), want[key], key, rel=1e-5)
        self.close(float(cells["dm.statistic"]), want["dm_statistic"], "dm", rel=1e-5)
        write_constant()
        out = self.run_ok(FIN_EVAL, "--format", "table", path("constant.csv")).stdout.decode()
        self.assertEqual(dict(line.split() for line in out.splitlines())["r2"], "NA")

    def test_undefined_is_null(self):
        """Constant actuals: no r2; a perfect naive: no mase or theil_u; the
        losses differ by a constant: no DM test."""
        write_constant()
        got, err = self.report("--naive", "last", path("constant.csv"))
        self.assertIsNone(got["r2"])
        self.assertEqual(got["mae_naive"], 0)
        self.assertIsNone(got["mase"])
        self.assertIsNone(got["theil_u"])
        self.assertEqual(got["rmse"], math.sqrt(2 / 3))
        self.assertIsNotNone(got["dm"]["statistic"])  # d = 1, 0: not constant
        write_csv(path("same.csv"), [["y", "prediction"], ["1", "2"], ["2", "3"], ["3", "4"],
                                     ["4", "5"]])
        got, err = self.report("--naive", "last", path("same.csv"))
        self.assertIsNone(got["dm"]["statistic"])
        self.assertIsNone(got["dm"]["p_value"])
        self.assertIn("Diebold-Mariano", err)

    def test_dm_fallback(self):
        """Errors of 2 and 1 in turn against a naive error of 1: d = 3 0 3 0
        3 0, whose lag-1 autocovariance makes V negative at horizon 2; at
        horizon 1, V = 2.25/6, DM = 1.5/sqrt(0.375) = sqrt(6), corrected by
        sqrt(5/6): sqrt(5)."""
        write_csv(path("alternating.csv"), [["y", "prediction"]] +
                  [["1", "-1" if t % 2 == 0 else "0"] for t in range(6)])
        got, err = self.report("--naive", "zero", "--horizon", "2", path("alternating.csv"))
        self.assertEqual(got["dm"]["horizon"], 1)
        self.assertEqual(got["horizon"], 2)
        self.close(got["dm"]["statistic"], math.sqrt(5), "dm", rel=1e-14)
        self.assertIn("no positive variance at horizon 2, tested at horizon 1", err)

    def test_missing_values(self):
        """Under skip, a row missing its forecast is left out, and its actual
        still serves the naive forecast of the row after it."""
        rows = [["t", "y", "prediction"], [1, "1", "2"], [2, "2", ""], [3, "4", "3"],
                [4, "NA", "5"], [5, "5", "4"], [6, "7", "8"]]
        write_csv(path("gaps.csv"), rows)
        message = self.run_fails(EXIT_DATA, FIN_EVAL, path("gaps.csv"))
        self.assertEqual(message, f"fin-eval: {path('gaps.csv')}:3: column 'prediction': "
                                  "missing value (see --na)\n")
        got, err = self.report("--na", "skip", "--naive", "last", path("gaps.csv"))
        # rows 1 3 5 6: errors 1 -1 -1 1; naive last on rows 3 (a = 2) and 6
        # (a = 5); row 5's is missing (row 4 has no actual)
        self.assertEqual(got["n"], 4)
        self.assertEqual(got["rmse"], 1)
        self.assertEqual(got["n_naive"], 2)
        # row 3: a - p = 1, a - naive = 2; row 6: -1 and 2
        self.assertEqual(got["mae_naive"], 2)
        self.assertEqual(got["mase"], 0.5)
        self.assertIn("2 rows with a missing value left out", err)
        message = self.run_fails(EXIT_USAGE, FIN_EVAL, "--na", "ffill", path("gaps.csv"))
        self.assertIn("--na", message)
        write_csv(path("all-gaps.csv"), [["y", "prediction"], ["1", ""], ["", "2"]])
        message = self.run_fails(EXIT_NO_ROWS, FIN_EVAL, "--na", "skip", path("all-gaps.csv"))
        self.assertIn("no row has both an actual", message)

    def test_last_column_and_horizon(self):
        """--last replaces the actual of the row before, here two days
        earlier; --horizon changes which earlier actual is the last."""
        case = FIX["regression"][2]
        got, _ = self.report("--naive", "last", FILES["last_column"])
        self.assertEqual(got["n_naive"], len(case["actual"]) - 1)
        got, _ = self.report("--naive", "last", "--last", "last", FILES["last_column"])
        self.assertEqual(got["n_naive"], len(case["actual"]))
        self.assertEqual(got["last"], "last")
        got, _ = self.report("--naive", "last", "--horizon", "4", FILES["levels"])
        self.assertEqual(got["n_naive"], len(FIX["regression"][0]["actual"]) - 4)
        self.assertEqual(got["horizon"], 4)


# -------------------------------------------------------------------- binary


class BinaryTest(EvalCase):
    def check(self, got, case, at):
        self.assertEqual(set(got), BINARY_FIELDS)
        self.assertEqual((got["n"], got["positives"]), (case["n"], case["positives"]))
        q = case["positives"] / case["n"]
        self.close(got["prevalence"], q, "prevalence")
        for key in ("roc_auc", "pr_auc", "ks", "log_loss", "brier"):
            self.close(got[key], case[key], key)
        self.assertEqual(got["threshold"], at["threshold"])
        for key in ("tp", "fp", "tn", "fn"):
            self.assertEqual(got[key], at[key], key)
        for key in ("accuracy", "precision", "recall", "f1"):
            self.close(got[key], at[key], key)
        base = got["baseline"]
        self.assertEqual(set(base), {"roc_auc", "pr_auc", "ks", "log_loss", "brier",
                                     "accuracy"})
        self.close(base["pr_auc"], q, "baseline pr_auc")
        self.close(base["log_loss"], entropy(q), "baseline log_loss")
        self.close(base["brier"], q * (1 - q), "baseline brier")
        self.close(base["accuracy"], max(q, 1 - q), "baseline accuracy")
        self.assertEqual((base["roc_auc"], base["ks"]), (0.5, 0))

    def test_fixture(self):
        case = FIX["binary"][0]
        got, err = self.report("--task", "binary", FILES["binary"])
        self.check(got, case, case["at"][0])
        self.assertEqual((got["actual"], got["pred"], got["positive"]), ("y", "p_1", "1"))
        self.assertEqual(err, "")
        got, _ = self.report("--task", "binary", "--threshold", "0.3", FILES["binary"])
        self.check(got, case, case["at"][1])

    def test_text_labels(self):
        case = FIX["binary"][0]
        got, _ = self.report("--task", "binary", "--actual", "Class", "--positive", "Bad",
                             FILES["credit"])
        self.check(got, case, case["at"][0])
        self.assertEqual(got["pred"], "p_Bad")
        # the other class as positive, scored by 1 - p: the same ranking
        # quality from the other side, and no row is 'Bad ' or 'bad'
        got, err = self.report("--task", "binary", "--actual", "Class", "--positive", "bad",
                               "--pred", "p_Bad", FILES["credit"])
        self.assertEqual(got["positives"], 0)
        self.assertIsNone(got["roc_auc"])
        self.assertIn("no row has Class 'bad' (see --positive)", err)

    def test_scores_outside_probabilities(self):
        write_csv(path("scores.csv"), [["y", "p_1"], ["1", "2.5"], ["0", "-1"], ["1", "0.5"],
                                       ["0", "0.25"]])
        got, err = self.report("--task", "binary", path("scores.csv"))
        self.assertIsNone(got["log_loss"])
        self.assertIsNone(got["brier"])
        self.assertEqual(got["roc_auc"], 1)
        self.assertIn("outside [0, 1]", err)
        self.assertEqual(len(got["notes"]), 1)
        # threshold 0.5: rows 1 and 3 positive, both right
        self.assertEqual((got["tp"], got["fp"], got["tn"], got["fn"]), (2, 0, 2, 0))

    def test_many_labels(self):
        write_csv(path("three.csv"), [["y", "p_1"], ["1", "0.9"], ["2", "0.2"], ["0", "0.1"],
                                      ["1.0", "0.8"]])
        got, err = self.report("--task", "binary", path("three.csv"))
        # "1.0" is the number 1: a positive
        self.assertEqual(got["positives"], 2)
        self.assertIn("4 distinct values", err)


# ------------------------------------------------------------------- anomaly


class AnomalyTest(EvalCase):
    def test_fixture(self):
        case = FIX["anomaly"][0]
        got, _ = self.report("--task", "anomaly", "--top", str(case["k"]), "--alert-rate",
                             repr(case["alert_rate"]), FILES["anomaly"])
        self.assertEqual(set(got), ANOMALY_FIELDS)
        self.assertEqual((got["n"], got["positives"], got["k"], got["alerts"]),
                         (case["n"], case["positives"], case["k"], case["alerts"]))
        for key in ("roc_auc", "pr_auc", "precision_at_k", "recall_at_rate"):
            self.close(got[key], case[key], key)
        q = case["positives"] / case["n"]
        self.close(got["baseline"]["precision_at_k"], q, "baseline precision")
        self.close(got["baseline"]["recall_at_rate"], case["alerts"] / case["n"],
                   "baseline recall")
        self.assertEqual(got["baseline"]["roc_auc"], 0.5)

    def test_k_and_rate(self):
        """Ties by position: scores 5 4 4 3 1 0 with labels 0 1 0 1 0 0."""
        write_csv(path("small.csv"), [["score", "y"], ["5", "0"], ["4", "1"], ["4", "0"],
                                      ["3", "1"], ["1", "0"], ["0", "0"]])
        got, _ = self.report("--task", "anomaly", "--top", "2", "--alert-rate", "0.5",
                             path("small.csv"))
        self.assertEqual((got["precision_at_k"], got["alerts"], got["recall_at_rate"]),
                         (0.5, 3, 0.5))
        got, _ = self.report("--task", "anomaly", path("small.csv"))
        # k 100 capped at 6 rows; 1% of 6 rows is 1 alert
        self.assertEqual((got["k"], got["precision_at_k"]), (6, 2 / 6))
        self.assertEqual((got["alerts"], got["recall_at_rate"]), (1, 0))
        got, _ = self.report("--task", "anomaly", "--alert-rate", "0.07", path("small.csv"))
        self.assertEqual(got["alerts"], 1)


# ------------------------------------------------------------------- cluster


class ClusterTest(EvalCase):
    def check(self, got, case, features):
        self.assertEqual(set(got), CLUSTER_FIELDS)
        self.assertEqual(got["features"], features)
        self.assertEqual((got["n"], got["k"]), (len(case["labels"]), len(case["sizes"])))
        self.assertEqual(got["sizes"], case["sizes"])
        self.assertEqual(list(got["sizes"]), sorted(case["sizes"]))
        self.assertEqual(got["silhouette_rows"], len(case["labels"]))
        d = case["d"]
        x = [case["x"][i * d:(i + 1) * d] for i in range(len(case["labels"]))]
        self.close(got["silhouette"], case["silhouette"], "silhouette", rel=0,
                   atol=silhouette_rounding(x, case["labels"]))
        self.close(got["davies_bouldin"], case["davies_bouldin"], "davies_bouldin")

    def test_fixture(self):
        case = FIX["cluster"][0]
        got, _ = self.report("--task", "cluster", "-k", "id", FILES["cluster"])
        self.check(got, case, ["f1", "f2", "f3"])
        got, _ = self.report("--cluster", "cluster", "-c", "f1,f2,f3", FILES["cluster"])
        self.check(got, case, ["f1", "f2", "f3"])
        # the labels and keys are never features, even in a negation
        got, _ = self.report("--task", "cluster", "-c", "!f2", "-k", "id", FILES["cluster"])
        self.assertEqual(got["features"], ["f1", "f3"])
        # without -k, the id is a numeric column like the others
        got, _ = self.report("--task", "cluster", FILES["cluster"])
        self.assertEqual(got["features"], ["id", "f1", "f2", "f3"])

    def test_sample(self):
        got, err = self.report("--task", "cluster", "-k", "id", "--sample", "100", "-s", "3",
                               FILES["cluster"])
        self.assertEqual(got["silhouette_rows"], 100)
        self.assertIn("sample of 100 of the 300 rows", err)
        again, _ = self.report("--task", "cluster", "-k", "id", "--sample", "100", "-s", "3",
                               FILES["cluster"])
        self.assertEqual(again["silhouette"], got["silhouette"])
        self.close(got["silhouette"], FIX["cluster"][0]["silhouette"], "sampled", rel=0.2)

    def test_one_cluster(self):
        write_csv(path("one.csv"), [["x", "cluster"], ["1", "a"], ["2", "a"], ["4", "a"]])
        got, err = self.report("--task", "cluster", path("one.csv"))
        self.assertEqual((got["k"], got["sizes"]), (1, {"a": 3}))
        self.assertIsNone(got["silhouette"])
        self.assertIsNone(got["davies_bouldin"])
        self.assertIn("one cluster", err)


# ------------------------------------------------------------ command line


class CommandLineTest(EvalCase):
    def test_missing_columns(self):
        levels = FILES["levels"]
        cases = [
            (("--actual", "price", levels), f"{levels}:1: --actual: no column 'price' in the input"),
            (("--pred", "9", levels), f"{levels}:1: --pred: column 9 out of range"),
            (("--task", "binary", levels), f"{levels}:1: --pred: no column 'p_1' in the input"),
            (("--task", "anomaly", FILES["binary"]), "--pred: no column 'score'"),
            (("--task", "cluster", levels), "--cluster: no column 'cluster'"),
            (("--last", "nope", levels), "--last: no column 'nope'"),
            (("-k", "y", levels), "--actual: column 'y' is a key (-k)"),
            (("--actual", "y,t", levels), "--actual: 'y,t' names 2 columns"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                message = self.run_fails(EXIT_USAGE, FIN_EVAL, *args)
                self.assertIn(words, message)

    def test_bad_options(self):
        levels = FILES["levels"]
        cases = [
            (("--task", "ranking"), "--task"),
            (("--naive", "seasonal"), "--naive"),
            (("--horizon", "0"), "--horizon"),
            (("--dm-loss", "huber"), "--dm-loss"),
            (("--format", "xml"), "--format"),
            (("--task", "binary", "--threshold", "high"), "--threshold"),
            (("--task", "anomaly", "--alert-rate", "0"), "--alert-rate"),
            (("--task", "anomaly", "--alert-rate", "1.5"), "--alert-rate"),
            (("--task", "anomaly", "--top", "0"), "--top"),
            (("--task", "binary", "--naive", "last"), "--naive does not go with --task binary"),
            (("--threshold", "0.2"), "--threshold does not go with --task regression"),
            (("--task", "binary", "--cluster", "c"), "--cluster goes with --task cluster"),
            (("--task", "cluster", "--actual", "y"), "--actual does not go with --task cluster"),
            (("-c", "y"), "-c does not go with --task regression"),
            (("--sample", "1", "--task", "cluster"), "--sample"),
            ((path("nonexistent.csv"),), "nonexistent.csv"),
        ]
        for args, word in cases:
            with self.subTest(args=args):
                message = self.run_fails(EXIT_USAGE, FIN_EVAL, *args, levels
                                         if "nonexistent.csv" not in args[0] else args[0])
                self.assertIn(word, message)
        result = run(FIN_EVAL, "--bogus")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn(b"Try 'fin-eval --help'", result.stderr)

    def test_bad_data(self):
        write_csv(path("bad.csv"), [["y", "prediction"], ["1", "2"], ["abc", "3"]])
        message = self.run_fails(EXIT_DATA, FIN_EVAL, path("bad.csv"))
        self.assertEqual(message, f"fin-eval: {path('bad.csv')}:3: column 'y': not a number: "
                                  "'abc'\n")
        write_csv(path("bad-label.csv"), [["y", "p_1"], ["1", "0.5"], ["", "0.2"]])
        message = self.run_fails(EXIT_DATA, FIN_EVAL, "--task", "binary", path("bad-label.csv"))
        self.assertEqual(message, f"fin-eval: {path('bad-label.csv')}:3: column 'y': missing "
                                  "value (see --na)\n")
        got, err = self.report("--task", "binary", "--na", "skip", path("bad-label.csv"))
        self.assertEqual(got["n"], 1)
        self.assertIn("1 rows with a missing value left out", err)

    def test_no_rows(self):
        write_csv(path("header-only.csv"), [["y", "prediction"]])
        message = self.run_fails(EXIT_NO_ROWS, FIN_EVAL, path("header-only.csv"))
        self.assertIn("no input rows", message)
        empty = path("empty.csv")
        open(empty, "w").close()
        self.run_fails(EXIT_NO_ROWS, FIN_EVAL, empty)
        self.run_fails(EXIT_NO_ROWS, FIN_EVAL, stdin=b"")
        write_csv(path("header-only-cluster.csv"), [["x", "cluster"]])
        self.run_fails(EXIT_NO_ROWS, FIN_EVAL, "--task", "cluster", path("header-only-cluster.csv"))

    def test_output_file(self):
        for fmt in ("json", "table"):
            out = path(f"report.{fmt}")
            result = self.run_ok(FIN_EVAL, "--format", fmt, "-o", out, FILES["returns"])
            self.assertEqual(result.stdout, b"")
            with open(out, "rb") as f:
                self.assertEqual(f.read(), self.run_ok(FIN_EVAL, "--format", fmt,
                                                       FILES["returns"]).stdout)
        message = self.run_fails(EXIT_USAGE, FIN_EVAL, "-o", path("no/such/dir.json"),
                                 FILES["returns"])
        self.assertIn("cannot write", message)

    def test_help_and_version(self):
        out = self.run_ok(FIN_EVAL, "--help").stdout.decode()
        for option in ("--task", "--actual", "--pred", "--naive", "--horizon", "--last",
                       "--dm-loss", "--positive", "--threshold", "--top", "--alert-rate",
                       "--cluster", "--columns", "--sample", "--seed", "--key", "--format",
                       "--output", "--na", "--delimiter", "--no-header", "--quiet"):
            self.assertIn(option, out)
        self.assertRegex(self.run_ok(FIN_EVAL, "-V").stdout.decode(),
                         r"^fin-eval \(fin\) \S+\n$")


if __name__ == "__main__":
    unittest.main()
