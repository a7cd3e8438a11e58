#!/usr/bin/env python3
"""The exact fits of fin-train's linear, logistic and softmax presets, and
fin-inspect: checked against fin-train(1) (EXACT FITS), fin-inspect(1) and
fin-model(5).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/glm_test.py`. The reference fits
are statsmodels' and scikit-learn's on data/german_credit.csv, computed by
tests/fixtures/make_glm_fixtures.py into tests/fixtures/glm_fixture.json
(its docstring says which rows, columns and penalties); every other
expected value is computed here from the input files. Coefficients must
agree within 1e-4 relative, standard errors and test statistics within 1e-3
relative, and fin-predict's predictions within the float32 rounding of the
model's forward pass (see forward_bound).
"""
import json
import math
import os
import statistics
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, read_csv, write_csv, run

FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_INSPECT = os.path.join(BIN_DIR, "fin-inspect")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")

CREDIT = "data/german_credit.csv"
with open(os.path.join(ROOT, "tests", "fixtures", "glm_fixture.json")) as f:
    FIXTURE = json.load(f)
CASES = FIXTURE["cases"]
COEF_REL, SE_REL = 1e-4, 1e-3
U = 2.0 ** -24  # float32's unit roundoff
EXIT_DATA, EXIT_USAGE, EXIT_MODEL = 1, 2, 3

TMP = None
FILES = {}
WORST = {}  # measured largest relative differences, printed at the end


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-glm-test-")
    # The loan's term in three classes, as the fixture script derives it.
    header, rows = read_csv(CREDIT)
    j = header.index("Duration")
    term = ["short" if float(r[j]) <= 12 else "medium" if float(r[j]) <= 24 else "long"
            for r in rows]
    FILES["term"] = os.path.join(TMP.name, "credit_term.csv")
    write_csv(FILES["term"], [header + ["Term"]] + [r + [t] for r, t in zip(rows, term)])


def tearDownModule():
    if WORST:
        print("\nlargest relative differences from statsmodels and scikit-learn:")
        for name, v in sorted(WORST.items()):
            print(f"  {name:<28} {v:.2e}")
    TMP.cleanup()


def data_of(case):
    return FILES["term"] if case["target"] == "Term" else os.path.join(ROOT, CREDIT)


def rel_diff(got, want):
    return abs(got - want) / abs(want) if want else abs(got)


def worst(name, value):
    WORST[name] = max(WORST.get(name, 0.0), value)


def forward_bound(model, x):
    """How far fin's float32 forward pass of one dense layer may put each
    output from the exact one for raw features x: the standardised inputs,
    the weights and each of the P - 1 additions of the sum of products are
    rounded to float32, so a logit is off by at most (P + 2) u times the sum
    of the magnitudes of its terms."""
    w, mean, sd = model["weights"], model["scaler"]["mean"], model["scaler"]["sd"]
    d = len(mean)
    units = len(w) // (d + 1)
    z = [(v - m) / s for v, m, s in zip(x, mean, sd)]
    return [(d + 3) * U * (abs(w[units * d + k]) +
                           math.fsum(abs(w[k * d + j] * z[j]) for j in range(d)))
            for k in range(units)]


class Fits:
    """Trains each fixture case once."""
    models = {}

    @classmethod
    def model(cls, name):
        if name not in cls.models:
            case = CASES[name]
            path = os.path.join(TMP.name, name + ".json")
            args = ["--model", case["model"], "-y", case["target"], "-c", case["columns"], "-o",
                    path]
            if case["l2"]:
                args += ["--l2", "0.01"]
            result = run(FIN_TRAIN, *args, data_of(case))
            assert result.returncode == 0, result.stderr.decode()
            cls.models[name] = (path, result.stderr.decode())
        return cls.models[name][0]

    @classmethod
    def stderr(cls, name):
        cls.model(name)
        return cls.models[name][1]


class ReferenceTest(FinCase):
    """Coefficients, standard errors, tests and predictions against
    statsmodels and scikit-learn."""

    def inspect_csv(self, path):
        header, rows = parse_csv(self.run_ok(FIN_INSPECT, "--format", "csv", path).stdout)
        return [dict(zip(header, r)) for r in rows]

    def inspect_json(self, path):
        return json.loads(self.run_ok(FIN_INSPECT, "--format", "json", path).stdout)

    def outputs(self, name, model):
        """The label (or target) each coefficient row stands for."""
        if model["task"] == "regression":
            return [model["target"]]
        if model["task"] == "binary":
            return [model["labels"][1]]
        labels = model["labels"]
        return labels[1:] if len(CASES[name]["coef"]) == len(labels) - 1 else labels

    def compare(self, name):
        case, path = CASES[name], Fits.model(name)
        with open(path) as f:
            model = json.load(f)
        self.assertEqual(model["features"], case["features"])
        outputs = self.outputs(name, model)
        terms = ["(intercept)"] + case["features"]
        rows = self.inspect_csv(path)
        self.assertEqual([(r["output"], r["term"]) for r in rows],
                         [(o, t) for o in outputs for t in terms])
        odds = model["task"] != "regression" and (model["task"] == "binary" or
                                                   len(outputs) < len(model["labels"]))
        stat = "t" if model["task"] == "regression" else "z"
        for k, o in enumerate(outputs):
            for j, t in enumerate(terms):
                r = rows[k * len(terms) + j]
                want = case["coef"][k][j]
                d = rel_diff(float(r["coef"]), want)
                worst(f"{name} coef", d)
                self.assertLessEqual(d, COEF_REL, (o, t, r["coef"], want))
                if odds:
                    self.assertLessEqual(rel_diff(float(r["odds_ratio"]), math.exp(want)),
                                         COEF_REL, (o, t))
                else:
                    self.assertNotIn("odds_ratio", r)
                if "se" not in case:
                    self.assertNotIn("se", r)
                    continue
                for field, ref in (("se", "se"), (stat, "stat"), ("p", "p")):
                    d = rel_diff(float(r[field]), case[ref][k][j])
                    worst(f"{name} {ref}", d)
                    self.assertLessEqual(d, SE_REL, (o, t, field, r[field], case[ref][k][j]))
        # The JSON description holds the same table and the fit's facts.
        doc = self.inspect_json(path)
        for r, c in zip(rows, doc["coefficients"]):
            self.assertEqual(float(r["coef"]), c["coef"])
        fit = doc["fit"]
        self.assertTrue(fit["converged"])
        self.assertEqual(fit["rows"], FIXTURE["train_rows"])
        self.assertEqual(fit["l2"], case["l2"] and 0.01)
        if "llf" in case:
            self.assertLessEqual(rel_diff(fit["log_likelihood"], case["llf"]), 1e-9)
        if "rss" in case:
            self.assertLessEqual(rel_diff(fit["rss"], case["rss"]), 1e-9)
            self.assertEqual(fit["df_resid"], case["df_resid"])
        self.check_predictions(name, model, path)

    def check_predictions(self, name, model, path):
        case = CASES[name]
        header, rows = read_csv(data_of(case))
        cols = [header.index(f) for f in model["features"]]
        names, out = parse_csv(self.run_ok(FIN_PREDICT, "-m", path, data_of(case)).stdout)
        self.assertEqual(len(out), len(rows))
        for i, (row, got) in enumerate(zip(rows, out)):
            bound = forward_bound(model, [float(row[j]) for j in cols])
            if model["task"] == "regression":
                want = case["predictions"][i]
                tol = model["target_scaler"]["sd"] * bound[0] + 1e-9 * abs(want)
                self.assertLessEqual(abs(float(got[0]) - want), tol, i)
                worst(f"{name} prediction", rel_diff(float(got[0]), want))
                continue
            # A probability moves by at most its logits' largest error (a
            # sigmoid's slope is at most 1/4, a softmax's twice the largest
            # move of a logit).
            tol = 2 * max(bound) + 1e-9
            for p, want in zip(got[:-1], case["probabilities"][i]):
                self.assertLessEqual(abs(float(p) - want), tol, (i, names))
            worst(f"{name} probability (abs)",
                  max(abs(float(p) - w) for p, w in zip(got[:-1], case["probabilities"][i])))

    def test_ols(self):
        self.compare("ols")

    def test_logit(self):
        self.compare("logit")

    def test_mnlogit(self):
        self.compare("mnlogit")

    def test_ridge(self):
        self.compare("ridge")

    def test_logistic_l2(self):
        self.compare("logistic_l2")

    def test_softmax_l2(self):
        self.compare("softmax_l2")

    def test_weights_in_the_dense_layer(self):
        """The model is an ordinary one-layer model in standardised units:
        its weights are the coefficients times each feature's sd, and its
        bias the intercept plus the features' means times the coefficients
        (for the logit: fin's one output is the logit of Good)."""
        case, path = CASES["logit"], Fits.model("logit")
        with open(path) as f:
            m = json.load(f)
        self.assertEqual(m["arch"], "dense(1,linear)")
        mean, sd, w = m["scaler"]["mean"], m["scaler"]["sd"], m["weights"]
        coef = case["coef"][0]
        for j, (mu, s) in enumerate(zip(mean, sd)):
            self.assertLessEqual(rel_diff(w[j], coef[j + 1] * s), 1e-6)
        bias = coef[0] + math.fsum(c * mu for c, mu in zip(coef[1:], mean))
        self.assertLessEqual(rel_diff(w[-1], bias), 1e-6)
        # the unpenalised softmax measures its classes against the first:
        # its weights for "long" are 0
        with open(Fits.model("mnlogit")) as f:
            m = json.load(f)
        d = len(m["features"])
        self.assertEqual(m["arch"], "dense(3,linear)")
        self.assertEqual(m["weights"][:d] + [m["weights"][3 * d]], [0] * (d + 1))


class ReportTest(FinCase):
    """What fin-train says and records of an exact fit."""

    def test_convergence_is_reported(self):
        err = Fits.stderr("logit")
        self.assertRegex(err, r"fin-train: Newton's method converged in \d+ iterations on 800 "
                              r"rows: log-likelihood -\d+\.\d+, gradient norm \S+\n")
        llf = float(err.split("log-likelihood ")[1].split(",")[0])
        self.assertLessEqual(rel_diff(llf, CASES["logit"]["llf"]), 1e-5)
        err = Fits.stderr("ols")
        rss = float(err.split("residual sum of squares ")[1].split(",")[0])
        self.assertLessEqual(rel_diff(rss, CASES["ols"]["rss"]), 1e-5)
        # the honest summary still follows: the validation tail next to naive forecasts
        self.assertIn("fin-train: validation rows (200 rows): rmse ", err)
        self.assertIn("predicting the training mean", err)

    def test_training_facts(self):
        with open(Fits.model("logit")) as f:
            m = json.load(f)
        t = m["training"]
        self.assertEqual(t["optimizer"], "newton")
        self.assertEqual((t["epochs"], t["batch"], t["lr"]), (0, 0, 0))
        self.assertEqual((t["rows_train"], t["rows_val"]), (800, 200))
        # the losses of the saved weights: the mean log loss of the fit
        self.assertLessEqual(rel_diff(t["train_loss"], -CASES["logit"]["llf"] / 800), 1e-5)
        with open(Fits.model("ols")) as f:
            self.assertEqual(json.load(f)["training"]["optimizer"], "least_squares")

    def test_gradient_options_are_noted(self):
        case = CASES["logit"]
        base = ["--model", "logistic", "-y", "Class", "-c", case["columns"], data_of(case)]
        plain = os.path.join(TMP.name, "plain.json")
        noted = os.path.join(TMP.name, "noted.json")
        self.run_ok(FIN_TRAIN, "-q", "-o", plain, *base)
        result = self.run_ok(FIN_TRAIN, "--epochs", "7", "--lr", "0.5", "--batch", "8",
                             "--optimizer", "sgd", "--patience", "2", "-o", noted, *base)
        lines = result.stderr.decode().splitlines()
        self.assertEqual(lines[0], "fin-train: --epochs, --batch, --lr, --optimizer, --patience "
                                   "do not apply to --model logistic, which is fitted exactly: "
                                   "ignored")
        with open(plain) as f, open(noted) as g:
            self.assertEqual(json.load(f)["weights"], json.load(g)["weights"])
        quiet = self.run_ok(FIN_TRAIN, "-q", "--epochs", "7", "-o", noted, *base)
        self.assertEqual(quiet.stderr, b"")
        # one option: "does"
        result = self.run_ok(FIN_TRAIN, "--model", "linear", "-y", "Amount", "--lr", "0.1",
                             "-c", CASES["ols"]["columns"], "-o", noted, os.path.join(ROOT, CREDIT))
        self.assertIn("fin-train: --lr does not apply to --model linear", result.stderr.decode())

    def test_init_leaves_the_fit_behind(self):
        """Training on from an exact fit moves the weights: the fit no
        longer describes them and is not kept."""
        out = os.path.join(TMP.name, "continued.json")
        self.run_ok(FIN_TRAIN, "-q", "--init", Fits.model("logit"), "--epochs", "1", "-y", "Class",
                    "-o", out, os.path.join(ROOT, CREDIT))
        with open(out) as f:
            m = json.load(f)
        self.assertNotIn("fit", m)
        self.assertEqual(m["training"]["optimizer"], "adam")


class RefusalTest(FinCase):
    """Fits without an optimum are refused, saying why."""

    def write(self, name, header, rows):
        path = os.path.join(TMP.name, name)
        write_csv(path, [header] + rows)
        return path

    def test_complete_separation(self):
        path = self.write("separated.csv", ["x", "z", "y"],
                          [[str(i), str(i * i % 7), "up" if i > 5 else "down"]
                           for i in range(1, 11)])
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "y", "--model", "logistic",
                                 "--val", "0", path)
        self.assertIn("separate the classes of the training rows completely", message)
        self.assertIn("--l2", message)
        # with a penalty there is an optimum, and it separates the rows
        model = os.path.join(TMP.name, "separated.json")
        self.run_ok(FIN_TRAIN, "-q", "-y", "y", "--model", "logistic", "--val", "0", "--l2",
                    "0.1", "-o", model, path)
        with open(model) as f:
            m = json.load(f)
        self.assertTrue(all(math.isfinite(w) for w in m["weights"]))
        self.assertTrue(m["fit"]["converged"])
        self.assertGreater(m["weights"][0], 0)

    def test_quasi_complete_separation(self):
        # x < 5 always down, x > 5 always up, x = 5 both: the slope's
        # likelihood grows without bound
        rows = [[str(i), "up" if i > 5 else "down"] for i in (1, 2, 3, 4, 6, 7, 8, 9)]
        path = self.write("quasi.csv", ["x", "y"], rows + [["5", "up"], ["5", "down"]])
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "y", "--model", "logistic",
                                 "--val", "0", path)
        self.assertIn("quasi-complete separation", message)
        self.assertIn("8 of the 10 rows", message)
        self.assertIn("--l2", message)

    def test_separated_classes_of_a_softmax(self):
        # class c never occurs where flag is 1
        rows = [[str(i % 7), str(int(i % 5 == 0)), "abc"[i % 3] if i % 5 else "ab"[i % 2]]
                for i in range(60)]
        path = self.write("three.csv", ["x", "flag", "y"], rows)
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "y", "--model", "softmax",
                                 "--val", "0", path)
        self.assertIn("quasi-complete separation", message)
        self.assertIn(f"{sum(r[1] == '1' for r in rows)} of the 60 rows", message)

    def test_constant_columns(self):
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "Class", "--model", "logistic",
                                 CREDIT)
        self.assertIn("columns 'Purpose.Vacation', 'Personal.Female.Single' are constant in the "
                      "training rows", message)
        self.assertIn("-c '!Class,!Purpose.Vacation,!Personal.Female.Single'", message)
        self.assertIn("--l2", message)

    def test_collinear_columns(self):
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "-y", "Class", "--model", "logistic",
                                 "-c", "!Class,!Purpose.Vacation,!Personal.Female.Single", CREDIT)
        self.assertIn("column 'CheckingAccountStatus.none' is a linear function of "
                      "'CheckingAccountStatus.lt.0', 'CheckingAccountStatus.0.to.200', "
                      "'CheckingAccountStatus.gt.200' in the training rows (11 columns in all",
                      message)
        self.assertIn("-c '!Class,!CheckingAccountStatus.none'", message)
        # x3 = 2 x1 - x2 + 3, exactly; x4 has nothing to do with it
        rows = [[str(a), str(b), str(2 * a - b + 3), str((a * b) % 5), str(a + b % 3)]
                for a in range(6) for b in range(4)]
        path = self.write("collinear.csv", ["x1", "x2", "x3", "x4", "y"], rows)
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "--model", "linear", "--val", "0", path)
        self.assertIn("column 'x3' is a linear function of 'x1', 'x2' in the training rows:",
                      message)
        # a penalty makes the optimum unique
        self.run_ok(FIN_TRAIN, "-q", "--model", "linear", "--val", "0", "--l2", "0.01", path)

    def test_constant_in_the_training_rows_only(self):
        # x is constant in the training rows, the validation tail varies
        rows = [["1", str(i), str(i % 3)] for i in range(8)] + [["2", "3", "1"], ["3", "4", "0"]]
        path = self.write("tail.csv", ["x", "z", "y"], rows)
        message = self.run_fails(EXIT_DATA, FIN_TRAIN, "--model", "linear", path)
        self.assertIn("column 'x' is constant in the training rows", message)
        self.assertIn("-c '!y,!x'", message)


class InspectTest(FinCase):
    """fin-inspect on every kind of file."""

    def test_table_is_aligned(self):
        out = self.run_ok(FIN_INSPECT, Fits.model("logit")).stdout.decode()
        facts, features, coefficients = out.split("\n\n")
        lines = facts.splitlines()
        self.assertEqual(lines[0].split(), ["format", "fin-model"])
        column = {line.index(line.split()[1]) for line in lines if len(line.split()) == 2}
        self.assertEqual(len(column), 1, lines)
        self.assertIn("fit.reference", facts)
        header = coefficients.splitlines()[0].split()
        self.assertEqual(header, ["output", "term", "coef", "odds_ratio", "se", "z", "p"])
        self.assertEqual(features.splitlines()[0].split(), ["feature", "mean", "sd"])
        self.assertEqual(len(features.splitlines()), 1 + len(CASES["logit"]["features"]))
        # numbers to the right: every line of a table as long as its header
        widths = {len(line) for line in coefficients.splitlines()}
        self.assertEqual(len(widths), 1)

    def test_model_facts(self):
        """A network trained by gradient: its facts, features and scaling,
        and no coefficients."""
        path = os.path.join(TMP.name, "mlp.json")
        self.run_ok(FIN_TRAIN, "-q", "-y", "Amount", "-c", "Duration,Age", "--epochs", "2",
                    "--seed", "5", "-o", path, CREDIT)
        doc = json.loads(self.run_ok(FIN_INSPECT, "--format", "json", path).stdout)
        self.assertEqual((doc["format"], doc["schema_version"], doc["task"]),
                         ("fin-model", 1, "regression"))
        self.assertEqual(doc["arch"], "dense(64,relu) dense(64,relu) dense(1,linear)")
        self.assertEqual(doc["parameters"], (2 * 64 + 64) + (64 * 64 + 64) + (64 + 1))
        self.assertEqual(doc["training"]["seed"], 5)
        self.assertEqual(doc["training"]["epochs"], 2)
        self.assertNotIn("coefficients", doc)
        self.assertNotIn("fit", doc)
        header, rows = read_csv(CREDIT)
        for f in doc["features"]:
            col = [float(r[header.index(f["feature"])]) for r in rows[:800]]
            self.assertLessEqual(rel_diff(f["mean"], statistics.fmean(col)), 1e-12)
            self.assertLessEqual(rel_diff(f["sd"], statistics.stdev(col)), 1e-12)
        amount = [float(r[header.index("Amount")]) for r in rows[:800]]
        self.assertLessEqual(rel_diff(doc["target_scaler"]["mean"], statistics.fmean(amount)),
                             1e-12)
        header, rows = parse_csv(self.run_ok(FIN_INSPECT, "--format", "csv", path).stdout)
        self.assertEqual(header, ["feature", "mean", "sd"])
        self.assertEqual([r[0] for r in rows], ["Duration", "Age"])

    def test_detector(self):
        path = os.path.join(TMP.name, "zscore.json")
        cols = ["Duration", "Amount", "Age"]
        self.run_ok(FIN_ANOMALY, "fit", "-q", "--method", "zscore", "-c", ",".join(cols), "-o",
                    path, CREDIT)
        header, rows = read_csv(CREDIT)
        doc = json.loads(self.run_ok(FIN_INSPECT, "--format", "json", path).stdout)
        self.assertEqual((doc["format"], doc["method"], doc["rows_fit"]),
                         ("fin-detector", "zscore", len(rows)))
        self.assertEqual([f["feature"] for f in doc["features"]], cols)
        for f in doc["features"]:
            col = [float(r[header.index(f["feature"])]) for r in rows]
            med = statistics.median(col)
            mad = statistics.median(abs(v - med) for v in col)
            self.assertEqual(f["median"], med)
            # scaled to the standard deviation of a normal distribution
            self.assertLessEqual(rel_diff(f["scale"], 1.482602218505602 * mad), 1e-12)
        table = self.run_ok(FIN_INSPECT, path).stdout.decode()
        self.assertIn("\nmethod          zscore\n", table)
        header, csv_rows = parse_csv(self.run_ok(FIN_INSPECT, "--format", "csv", path).stdout)
        self.assertEqual(header, ["feature", "median", "scale"])

    def test_cluster_file(self):
        path = os.path.join(TMP.name, "clusters.json")
        cols = ["Duration", "Amount", "Age"]
        result = self.run_ok(FIN_CLUSTER, "-q", "--clusters", "3", "-c", ",".join(cols), "-o",
                             path, CREDIT)
        _, assigned = parse_csv(result.stdout)
        labels = [int(r[0]) for r in assigned]
        header, rows = read_csv(CREDIT)
        doc = json.loads(self.run_ok(FIN_INSPECT, "--format", "json", path).stdout)
        self.assertEqual((doc["format"], doc["k"], doc["scaled"], doc["embedded"]),
                         ("fin-cluster", 3, True, False))
        self.assertEqual(doc["sizes"], [labels.count(c) for c in range(3)])
        self.assertEqual(doc["fit"]["restarts"], 10)
        for f in doc["features"]:
            col = [float(r[header.index(f["feature"])]) for r in rows]
            self.assertLessEqual(rel_diff(f["mean"], statistics.fmean(col)), 1e-12)
            self.assertLessEqual(rel_diff(f["sd"], statistics.stdev(col)), 1e-12)
            for c in range(3):
                mean = statistics.fmean(v for v, l in zip(col, labels) if l == c)
                self.assertLessEqual(rel_diff(f[f"centroid_{c}"], mean), 1e-12)
        header, _ = parse_csv(self.run_ok(FIN_INSPECT, "--format", "csv", path).stdout)
        self.assertEqual(header, ["feature", "mean", "sd", "centroid_0", "centroid_1",
                                  "centroid_2"])

    def test_unusable_files(self):
        with open(Fits.model("logit")) as f:
            text = f.read()
        model = json.loads(text)
        cases = {"truncated": text[:len(text) // 2], "empty": "", "not JSON": "{format",
                 "other format": json.dumps({"format": "fin-other", "schema_version": 1}),
                 "newer schema": text.replace('"schema_version":1', '"schema_version":2')}

        def mutated(change):
            m = json.loads(text)
            change(m)
            return json.dumps(m)
        cases["a coefficient row too long"] = mutated(
            lambda m: m["fit"]["coefficients"][0].append(1.5))
        cases["a row too many"] = mutated(
            lambda m: m["fit"]["coefficients"].append(model["fit"]["coefficients"][0]))
        cases["negative se"] = mutated(lambda m: m["fit"]["se"][0].__setitem__(0, -1))
        cases["se of another shape"] = mutated(lambda m: m["fit"]["se"][0].pop())
        cases["no converged"] = mutated(lambda m: m["fit"].pop("converged"))
        cases["unknown method"] = mutated(lambda m: m["fit"].__setitem__("method", "magic"))
        cases["rows of 2^62"] = mutated(lambda m: m["fit"].__setitem__("rows", 2 ** 62))
        cases["a fit for a deeper net"] = mutated(lambda m: m.update(
            arch="dense(2,relu) dense(1)",
            weights=[0.5] * (2 * len(m["features"]) + 2 + 3)))
        for what, body in cases.items():
            with self.subTest(what=what):
                path = os.path.join(TMP.name, "bad.json")
                with open(path, "w") as f:
                    f.write(body)
                message = self.run_fails(EXIT_MODEL, FIN_INSPECT, path)
                self.assertIn(path, message)
                self.run_fails(EXIT_MODEL, FIN_PREDICT, "-m", path, CREDIT)
        self.run_fails(EXIT_MODEL, FIN_INSPECT, TMP.name)

    def test_usage(self):
        self.run_fails(EXIT_USAGE, FIN_INSPECT)
        self.run_fails(EXIT_USAGE, FIN_INSPECT, "--format", "xml", Fits.model("logit"))
        self.run_fails(EXIT_USAGE, FIN_INSPECT, Fits.model("logit"), Fits.model("ols"))
        # the file it reads is no output
        self.run_fails(EXIT_USAGE, FIN_INSPECT, "-o", Fits.model("logit"), Fits.model("logit"))


if __name__ == "__main__":
    unittest.main()
