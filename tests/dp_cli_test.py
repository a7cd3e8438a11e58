#!/usr/bin/env python3
"""Command-line tests of fin-train's differentially private training
(DP-SGD), its scaling options and pooled statistics, and a federated run,
checked against fin-train(1), fin-avg(1), fin-inspect(1) and fin-model(5).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/dp_cli_test.py`.

The epsilon a private run records is checked against an accountant written
here from its formula, with the standard library only. One step of DP-SGD
is the sampled Gaussian mechanism: rows join a batch with probability
q = batch / rows, and noise of sigma times the clipping norm is added. At
an integer order alpha its Renyi DP is log(A) / (alpha - 1) with the exact
binomial sum (Mironov, Talwar and Zhang 2019)
  A = sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2)),
summed here in log space; T = epochs * ceil(rows / batch) steps compose to
T times that, and the classic conversion (Mironov 2017, Proposition 3)
gives epsilon = min over orders of T rdp + log(1 / delta) / (alpha - 1).

fin also minimises over the fractional orders 1.25 .. 4.5, which this file
does not sum. They are bounded instead with what the integer orders give:
log A(alpha) is convex in alpha (it is the log of a moment generating
function), with log A(0) = log A(1) = 0, so between integers k and k + 1
it lies below the chord from k to k + 1 and above the line through k - 1
and k. Hence fin's epsilon lies between the least lower bound and the
integer orders' minimum, and it equals that minimum where every fractional
order's lower bound is above it, which the settings checked for equality
are chosen (and checked) to have. Where a fractional order does win (little
noise), its A is integrated from its definition by Simpson's rule instead.
"""
import json
import math
import os
import statistics
import sys
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, read_csv, write_csv

FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_AVG = os.path.join(BIN_DIR, "fin-avg")
FIN_INSPECT = os.path.join(BIN_DIR, "fin-inspect")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")

CREDIT = "data/german_credit.csv"
COLUMNS = ["Duration", "Amount", "Age"]
ROWS = 1000
TRAIN = ROWS - math.floor(0.2 * ROWS)  # the default --val 0.2 holds out the tail
EXIT_USAGE = 2

TMP = None


def path(name):
    return os.path.join(TMP.name, name)


def load(file):
    with open(file) as f:
        return json.load(f)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-dp-test-")


def tearDownModule():
    TMP.cleanup()


# ---------------------------------------------------------------- accountant

INTEGER_ORDERS = [2, 3, 4] + list(range(5, 64)) + [128, 256, 512]
FRACTIONAL_ORDERS = [1.25, 1.5, 1.75, 2.25, 2.5, 3.5, 4.5]


def log_a(q, sigma, alpha):
    """log A of one step at integer order alpha (0 at orders 0 and 1)."""
    if alpha <= 1:
        return 0.0
    if q == 1:
        return alpha * (alpha - 1) / (2 * sigma * sigma)
    log_q, log_1q = math.log(q), math.log1p(-q)
    terms = [math.log(math.comb(alpha, k)) + (alpha - k) * log_1q + k * log_q
             + (k * k - k) / (2 * sigma * sigma) for k in range(alpha + 1)]
    top = max(terms)
    return top + math.log(math.fsum(math.exp(t - top) for t in terms))


def steps_of(rows, batch, epochs):
    return epochs * -(-rows // batch)


def rate_of(rows, batch):
    return batch / rows if batch < rows else 1.0


def accountant(rows, batch, epochs, sigma, delta):
    """(least epsilon over the integer orders, its order, a lower bound
    on the least epsilon over every order fin takes)."""
    q, steps, log_inv_delta = rate_of(rows, batch), steps_of(rows, batch, epochs), -math.log(delta)
    total = {a: steps * log_a(q, sigma, a) for a in range(0, 6)}
    epsilon, order = min((steps * log_a(q, sigma, a) / (a - 1) + log_inv_delta / (a - 1), a)
                         for a in INTEGER_ORDERS)
    lower = epsilon
    for a in FRACTIONAL_ORDERS:
        k = math.floor(a)
        below = total[k] + (a - k) * (total[k] - total[k - 1])
        lower = min(lower, (below + log_inv_delta) / (a - 1))
    return epsilon, order, lower


def log_a_quadrature(q, sigma, alpha):
    """log A at any order, from its definition: A = E[((1 - q) + q r(z))^alpha]
    for z ~ N(0, sigma^2), r the likelihood ratio exp((2z - 1) / (2 sigma^2))
    of N(1, sigma^2) to N(0, sigma^2), by Simpson's rule over where the
    integrand lives (near 0 and near alpha, some sigma wide)."""
    lo, hi, n = -14 * sigma, alpha + 14 * sigma, 20000
    h = (hi - lo) / n

    def f(z):
        r = math.exp((2 * z - 1) / (2 * sigma * sigma))
        return ((1 - q) + q * r) ** alpha * math.exp(-z * z / (2 * sigma * sigma)) \
            / (sigma * math.sqrt(2 * math.pi))
    return math.log(math.fsum((1 if i in (0, n) else 4 if i % 2 else 2) * f(lo + i * h)
                              for i in range(n + 1)) * h / 3)


class AccountantSelfTest(unittest.TestCase):
    """The binomial sum above against the integral it expands."""

    def test_sum_is_the_integral(self):
        for q, sigma, alpha in ((0.04, 1.1, 6), (0.3, 0.8, 3), (0.02, 2.0, 17)):
            self.assertAlmostEqual(log_a(q, sigma, alpha), log_a_quadrature(q, sigma, alpha),
                                   places=10)

    def test_order_two(self):
        # A(2) = 1 + q^2 (exp(1 / sigma^2) - 1), by hand
        q, sigma = 0.04, 1.1
        self.assertAlmostEqual(log_a(q, sigma, 2), math.log1p(q * q * math.expm1(1 / sigma ** 2)),
                               places=15)


# ---------------------------------------------------------------- helpers


class DpCase(FinCase):
    def train(self, name, *args, data=CREDIT):
        """Trains a model quietly and returns its file's path."""
        out = path(name + ".json")
        self.run_ok(FIN_TRAIN, "-q", "-o", out, *args, data)
        return out

    def private(self, name, *args):
        """A private classifier of COLUMNS on the German credit data."""
        return self.train(name, "-y", "Class", "-c", ",".join(COLUMNS), *args)

    def assert_rel(self, got, want, rel, what=""):
        if want == 0:
            self.assertEqual(got, 0, what)
        else:
            self.assertLessEqual(abs(got - want), rel * abs(want), f"{what}: {got!r} != {want!r}")


# ---------------------------------------------------------------- epsilon


class EpsilonTest(DpCase):
    def check_facts(self, name, batch, epochs, sigma, delta=None):
        """Trains with --dp-clip 1.5 --dp-noise sigma; checks the recorded
        facts and returns (recorded epsilon, the accountant's result)."""
        args = ["--dp-clip", "1.5", "--dp-noise", repr(sigma), "--batch", str(batch),
                "--epochs", str(epochs)]
        if delta is not None:
            args += ["--dp-delta", repr(delta)]
        t = load(self.private(name, *args))["training"]
        want_delta = delta if delta is not None else 1 / (10 * TRAIN)
        self.assertEqual((t["dp_clip"], t["dp_noise"], t["dp_sampling"], t["delta"]),
                         (1.5, sigma, "poisson", want_delta))
        self.assertEqual((t["rows_train"], t["epochs_run"], t["batch"]), (TRAIN, epochs, batch))
        acc = accountant(TRAIN, batch, epochs, sigma, want_delta)
        epsilon, _, lower = acc
        # at most the integer orders' minimum, at least the fractional bounds
        self.assertLessEqual(t["epsilon"], epsilon * (1 + 1e-9))
        self.assertGreaterEqual(t["epsilon"], lower * (1 - 1e-9))
        return t["epsilon"], acc

    def test_equal_where_an_integer_order_wins(self):
        # (batch, epochs, sigma, delta): noise near 1 and many steps put
        # the least epsilon at an order of 5 or more
        for batch, epochs, sigma, delta in ((32, 5, 1.1, None), (16, 20, 2.0, None),
                                            (24, 10, 1.5, 1e-5), (48, 8, 1.3, None)):
            got, (epsilon, order, lower) = self.check_facts(f"int{batch}-{epochs}", batch,
                                                            epochs, sigma, delta)
            self.assertGreaterEqual(order, 5)
            # no fractional order can do better: the minimum is the integer one
            self.assertGreaterEqual(lower, epsilon * (1 - 1e-12))
            self.assert_rel(got, epsilon, 1e-6, f"batch {batch}, epochs {epochs}, sigma {sigma}")

    def test_fractional_orders_may_do_better(self):
        # little noise: the least epsilon is at a low order, fractional ones
        # among them; those too, by quadrature, give fin's epsilon
        got, (epsilon, order, lower) = self.check_facts("frac", 32, 5, 0.6)
        self.assertLess(order, 5)
        q, steps, delta = 32 / TRAIN, steps_of(TRAIN, 32, 5), 1 / (10 * TRAIN)
        fractional = min((steps * log_a_quadrature(q, 0.6, a) - math.log(delta)) / (a - 1)
                         for a in FRACTIONAL_ORDERS)
        self.assertLess(fractional, epsilon)
        self.assert_rel(got, fractional, 1e-6)

    def test_target_epsilon(self):
        noises = []
        for e in (1, 3, 8):
            t = load(self.private(f"target{e}", "--dp-clip", "1", "--dp-epsilon", str(e),
                                  "--epochs", "5"))["training"]
            self.assertEqual(t["epochs_run"], 5)
            self.assertLessEqual(t["epsilon"], e)
            self.assertGreaterEqual(t["epsilon"], 0.99 * e)
            # and the epsilon recorded is the accountant's for the noise found
            epsilon, _, lower = accountant(TRAIN, 32, 5, t["dp_noise"], t["delta"])
            self.assertLessEqual(t["epsilon"], epsilon * (1 + 1e-9))
            self.assertGreaterEqual(t["epsilon"], lower * (1 - 1e-9))
            noises.append(t["dp_noise"])
        self.assertGreater(noises[0], noises[1])
        self.assertGreater(noises[1], noises[2])

    def test_no_steps_spend_nothing(self):
        plain = load(self.private("untrained", "--epochs", "0"))
        for name, args in (("zero-noise", ("--dp-noise", "1")), ("zero-target", ("--dp-epsilon", "2"))):
            m = load(self.private(name, "--dp-clip", "1", "--epochs", "0", *args))
            self.assertEqual(m["training"]["epsilon"], 0, name)
            self.assertEqual(m["training"]["dp_clip"], 1)
            # the weights are those of the initialisation, untouched
            self.assertEqual(m["weights"], plain["weights"], name)

    def test_no_noise_no_finite_epsilon(self):
        t = load(self.private("noiseless", "--dp-clip", "1", "--dp-noise", "0",
                              "--epochs", "1"))["training"]
        self.assertEqual((t["dp_clip"], t["dp_noise"]), (1, 0))
        self.assertIsNone(t["epsilon"])  # infinite, fin-model(5)


# ---------------------------------------------------------------- usage


class UsageTest(DpCase):
    def refused(self, *args, words=()):
        out = path("refused.json")
        message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-o", out, *args, CREDIT)
        for w in words:
            self.assertIn(w, message)
        self.assertFalse(os.path.exists(out))
        return message

    def test_private_options(self):
        self.refused("-y", "Class", "--dp-noise", "1", words=("--dp-clip",))
        self.refused("-y", "Class", "--dp-epsilon", "1", words=("--dp-clip",))
        self.refused("-y", "Class", "--dp-delta", "1e-5", words=("--dp-clip",))
        self.refused("-y", "Class", "--dp-clip", "1", words=("--dp-noise", "--dp-epsilon"))
        self.refused("-y", "Class", "--dp-clip", "1", "--dp-noise", "1", "--dp-epsilon", "1",
                     words=("not both",))

    def test_no_private_gan(self):
        for gan in (("--task", "gan"), ("--model", "gan")):
            self.refused("-c", "Duration,Amount", *gan, "--dp-clip", "1", "--dp-noise", "1",
                         words=("--dp-clip", "GAN"))

    def test_scaling_options(self):
        init = self.private("init", "--epochs", "0")
        stats = path("usage-stats.json")
        self.run_ok(FIN_TRAIN, "-q", "--stats-only", "-y", "Class", "-c", ",".join(COLUMNS),
                    "-o", stats, CREDIT)
        self.refused("--init", init, "--scale", "none", words=("--init", "--scale"))
        self.refused("--init", init, "--stats", stats, words=("--init", "--stats"))
        self.refused("--init", init, "--stats-only", words=("--init", "--stats-only"))
        self.refused("-y", "Class", "--stats", stats, "--stats-only",
                     words=("--stats", "--stats-only"))
        self.refused("-y", "Class", "--stats", stats, "--scale", "none",
                     words=("--stats", "--scale none"))
        self.refused("-y", "Class", "--scale", "some", words=("--scale",))
        # exact statistics are not private: no DP options with --stats-only
        self.refused("-y", "Class", "--stats-only", "--dp-clip", "1", "--dp-noise", "1",
                     words=("--stats-only", "--dp-clip"))


# ---------------------------------------------------------------- scaling


NOTE = "not covered by epsilon"


class ScaleTest(DpCase):
    def test_scale_none(self):
        m = load(self.train("unscaled", "-y", "Amount", "-c", "Duration,Age", "--epochs", "1",
                            "--scale", "none"))
        self.assertEqual(m["scaler"], {"mean": [0, 0], "sd": [1, 1]})
        self.assertEqual(m["target_scaler"], {"mean": 0, "sd": 1})
        m = load(self.private("unscaled-class", "--epochs", "1", "--scale", "none", "--dp-clip",
                              "1", "--dp-noise", "1"))
        self.assertEqual(m["scaler"], {"mean": [0, 0, 0], "sd": [1, 1, 1]})

    def test_note_on_a_large_delta(self):
        args = ["-y", "Class", "-c", ",".join(COLUMNS), "--epochs", "1", "--dp-clip", "1",
                "--dp-noise", "1", "-o", path("delta.json"), CREDIT]
        notes = self.run_ok(FIN_TRAIN, "--dp-delta", "0.01", *args).stderr.decode()
        self.assertIn("fin-train: --dp-delta 0.01 is not below 1/800, one over the training "
                      "rows", notes)
        notes = self.run_ok(FIN_TRAIN, "--dp-delta", "0.001", *args).stderr.decode()
        self.assertNotIn("is not below", notes)

    def test_note_on_fitted_scaling(self):
        plain = ["-y", "Class", "-c", ",".join(COLUMNS), "--epochs", "1", "-o", path("note.json"),
                 CREDIT]
        private = ["--dp-clip", "1", "--dp-noise", "1"] + plain
        notes = self.run_ok(FIN_TRAIN, *private).stderr.decode()
        self.assertEqual(notes.count(NOTE), 1, notes)
        self.assertIn("fin-train: not covered by epsilon, as taken from the training rows: "
                      "the scaling (--scale none for values in known ranges, or --stats), "
                      "the class labels\n", notes)
        # unscaled, a classifier's labels still come from the rows
        notes = self.run_ok(FIN_TRAIN, "--scale", "none", *private).stderr.decode()
        self.assertIn("fin-train: not covered by epsilon, as taken from the training rows: "
                      "the class labels\n", notes)
        self.assertIn("differentially private: epsilon", notes)
        # an unscaled regression on number columns takes nothing from the rows
        regression = ["--dp-clip", "1", "--dp-noise", "1", "--scale", "none", "-y", "Amount",
                      "-c", "Duration,Age", "--epochs", "1", "-o", path("note-r.json"), CREDIT]
        notes = self.run_ok(FIN_TRAIN, *regression).stderr.decode()
        self.assertNotIn(NOTE, notes)
        self.assertIn("differentially private: epsilon", notes)
        self.assertEqual(self.run_ok(FIN_TRAIN, "-q", *private).stderr, b"")
        # nor for a run that is not private
        notes = self.run_ok(FIN_TRAIN, *plain).stderr.decode()
        self.assertNotIn(NOTE, notes)
        self.assertNotIn("differentially private", notes)


# ---------------------------------------------------------------- reproducibility


class SeedTest(DpCase):
    def test_seed_fixes_a_private_run(self):
        epochs, dp = ("--epochs", "2"), ("--dp-clip", "1", "--dp-noise", "1")
        with open(self.private("seed7a", *epochs, *dp, "-s", "7"), "rb") as a, \
                open(self.private("seed7b", *epochs, *dp, "-s", "7"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        first = load(path("seed7a.json"))
        other = load(self.private("seed8", *epochs, *dp, "-s", "8"))
        self.assertNotEqual(other["weights"], first["weights"])
        # privacy changes the result: the same run without it, and with
        # other noise, train other weights
        plain = load(self.private("plain7", *epochs, "-s", "7"))
        self.assertNotEqual(plain["weights"], first["weights"])
        self.assertNotIn("dp_clip", plain["training"])
        noisier = load(self.private("noisier7", *epochs, "--dp-clip", "1", "--dp-noise", "2",
                                    "-s", "7"))
        self.assertNotEqual(noisier["weights"], first["weights"])


# ---------------------------------------------------------------- statistics


def sum_sq_dev(values):
    mean = statistics.fmean(values)
    return math.fsum((v - mean) ** 2 for v in values)


class StatsTest(DpCase):
    def test_stats_only_of_the_training_rows(self):
        header, rows = read_csv(CREDIT)
        small = rows[:23]
        data = path("small.csv")
        write_csv(data, [COLUMNS + ["Class"]]
                  + [[r[header.index(c)] for c in COLUMNS + ["Class"]] for r in small])
        train = small[:23 - math.floor(0.2 * 23)]  # 19 rows: --val 0.2 holds out 4
        out = path("small-stats.json")
        self.run_ok(FIN_TRAIN, "-q", "--stats-only", "-y", "Class", "-o", out, data)
        s = load(out)
        self.assertEqual((s["format"], s["task"], s["target"], s["features"], s["rows"],
                          s["parties"]), ("fin-stats", "binary", "Class", COLUMNS, 19, 1))
        for j, c in enumerate(COLUMNS):
            col = [float(r[header.index(c)]) for r in train]
            self.assert_rel(s["mean"][j], statistics.fmean(col), 1e-12, c)
            self.assert_rel(s["m2"][j], sum_sq_dev(col), 1e-12, c)
        labels = [r[header.index("Class")] for r in train]
        self.assertEqual(s["labels"], {k: labels.count(k) for k in sorted(set(labels))})
        # a regression's target too
        self.run_ok(FIN_TRAIN, "-q", "--stats-only", "-y", "Amount", "-c", "Duration,Age", "-o",
                    out, data)
        s = load(out)
        amount = [float(r[header.index("Amount")]) for r in train]
        self.assertEqual((s["task"], s["features"]), ("regression", ["Duration", "Age"]))
        self.assert_rel(s["target_mean"], statistics.fmean(amount), 1e-12)
        self.assert_rel(s["target_m2"], sum_sq_dev(amount), 1e-12)
        self.assertNotIn("labels", s)

    def test_pooled_scaler_is_the_concatenation(self):
        header, rows = read_csv(CREDIT)
        cuts = (0, 150, 500, 1000)
        parties, train_rows, stats = [], [], []
        for k in range(3):
            part = rows[cuts[k]:cuts[k + 1]]
            data = path(f"pool-party{k}.csv")
            write_csv(data, [header] + part)
            parties.append(data)
            train_rows += part[:len(part) - math.floor(0.2 * len(part))]
            stats.append(path(f"pool-stats{k}.json"))
            self.run_ok(FIN_TRAIN, "-q", "--stats-only", "-y", "Class", "-c", ",".join(COLUMNS),
                        "-o", stats[k], data)
        pooled = path("pooled.json")
        self.run_ok(FIN_AVG, "--stats", "-o", pooled, *stats)
        self.assertEqual(load(pooled)["rows"], len(train_rows))
        together = path("pool-together.csv")
        write_csv(together, [header] + train_rows)
        from_stats = load(self.train("from-stats", "-y", "Class", "-c", ",".join(COLUMNS),
                                     "--stats", pooled, "--epochs", "0", data=parties[0]))
        fitted = load(self.train("fitted", "-y", "Class", "-c", ",".join(COLUMNS), "--val", "0",
                                 "--epochs", "0", data=together))
        self.assertEqual(from_stats["labels"], fitted["labels"])
        for j, c in enumerate(COLUMNS):
            for key in ("mean", "sd"):
                self.assert_rel(from_stats["scaler"][key][j], fitted["scaler"][key][j], 1e-12,
                                f"{key} of {c}")
            col = [float(r[header.index(c)]) for r in train_rows]
            self.assert_rel(from_stats["scaler"]["mean"][j], statistics.fmean(col), 1e-12, c)
            self.assert_rel(from_stats["scaler"]["sd"][j], statistics.stdev(col), 1e-12, c)
        # pooled statistics are not the rows' own: no note on the scaling
        notes = self.run_ok(FIN_TRAIN, "-y", "Class", "-c", ",".join(COLUMNS), "--stats", pooled,
                            "--epochs", "1", "--dp-clip", "1", "--dp-noise", "1", "-o",
                            path("from-stats-dp.json"), parties[0]).stderr.decode()
        self.assertIn("differentially private: epsilon", notes)
        self.assertNotIn(NOTE, notes)


# ---------------------------------------------------------------- federated


class FederatedTest(DpCase):
    def test_three_rounds(self):
        header, rows = read_csv(CREDIT)
        cuts = (0, 150, 500, 1000)
        data, stats, party_train = [], [], []
        for k in range(3):
            part = rows[cuts[k]:cuts[k + 1]]
            data.append(path(f"fed-party{k}.csv"))
            write_csv(data[k], [header] + part)
            party_train.append(len(part) - math.floor(0.2 * len(part)))
            stats.append(path(f"fed-stats{k}.json"))
            self.run_ok(FIN_TRAIN, "-q", "--stats-only", "-y", "Class", "-c", ",".join(COLUMNS),
                        "-o", stats[k], data[k])
        pooled = path("fed-pooled.json")
        self.run_ok(FIN_AVG, "--stats", "-o", pooled, *stats)
        glob = self.train("fed-global", "-y", "Class", "-c", ",".join(COLUMNS), "--stats", pooled,
                          "--epochs", "0", data=data[0])
        self.assertNotIn("round", load(glob)["training"])  # round 0
        for r in range(1, 4):
            models = []
            for k in range(3):
                models.append(self.train(f"fed-r{r}-p{k}", "--init", glob, "--epochs", "1",
                                         "--dp-clip", "1", "--dp-noise", "1", "-s",
                                         str(10 * r + k), data=data[k]))
                t = load(models[k])["training"]
                # a party's model stays in the round it was given
                self.assertEqual(t.get("round", 0), r - 1)
                self.assertEqual(t["rows_train"], party_train[k])
                epsilon, _, lower = accountant(party_train[k], 32, 1, 1.0, 1 / (10 * party_train[k]))
                self.assertLessEqual(t["epsilon"], epsilon * (1 + 1e-9))
                self.assertGreaterEqual(t["epsilon"], lower * (1 - 1e-9))
            self.run_ok(FIN_AVG, "-q", "-o", glob, *models)
            t = load(glob)["training"]
            self.assertEqual(t["round"], r)
            self.assertEqual(t["rows_train"], sum(party_train))
            self.assertEqual(t["epsilon"], max(load(m)["training"]["epsilon"] for m in models))
        self.assertEqual(load(glob)["training"]["round"], 3)
        self.assertEqual(sum(party_train), 120 + 280 + 400)
        self.run_ok(FIN_PREDICT, "-m", glob, data[0])
        doc = json.loads(self.run_ok(FIN_INSPECT, "--format", "json", glob).stdout)
        self.assertEqual(doc["training"]["round"], 3)
        self.assertIn("\ntraining.round ", self.run_ok(FIN_INSPECT, glob).stdout.decode())


# ---------------------------------------------------------------- fin-inspect


def table_facts(text):
    """The name-value lines of fin-inspect's table, as a dict."""
    facts = {}
    for line in text.split("\n\n")[0].splitlines():
        name, _, value = line.partition(" ")
        facts[name] = value.strip()
    return facts


class InspectTest(DpCase):
    def inspect(self, model):
        doc = json.loads(self.run_ok(FIN_INSPECT, "--format", "json", model).stdout)
        return doc["training"], table_facts(self.run_ok(FIN_INSPECT, model).stdout.decode())

    def test_private_model(self):
        model = self.private("inspect-dp", "--epochs", "2", "--dp-clip", "0.75", "--dp-noise",
                             "1.25", "--dp-delta", "2e-5")
        t, facts = self.inspect(model)
        saved = load(model)["training"]
        self.assertEqual((t["dp_clip"], t["dp_noise"], t["dp_sampling"], t["delta"]),
                         (0.75, 1.25, "poisson", 2e-5))
        self.assertEqual(t["epsilon"], saved["epsilon"])
        self.assertNotIn("round", t)
        self.assertEqual(facts["training.dp_clip"], "0.75")
        self.assertEqual(facts["training.dp_noise"], "1.25")
        self.assertEqual(facts["training.dp_sampling"], "poisson")
        self.assertEqual(facts["training.delta"], "2e-05")
        self.assertEqual(float(facts["training.epsilon"]), float(f"{saved['epsilon']:.6g}"))

    def test_no_noise_is_infinite(self):
        model = self.private("inspect-noiseless", "--epochs", "1", "--dp-clip", "1",
                             "--dp-noise", "0")
        t, facts = self.inspect(model)
        self.assertEqual(t["epsilon"], "infinite")
        self.assertEqual(facts["training.epsilon"], "infinite")
        self.assertEqual(t["dp_noise"], 0)

    def test_other_models_show_none(self):
        t, facts = self.inspect(self.private("inspect-plain", "--epochs", "1"))
        for key in ("dp_clip", "dp_noise", "dp_sampling", "epsilon", "delta", "round"):
            self.assertNotIn(key, t)
            self.assertNotIn("training." + key, facts)

    def test_round_of_a_party(self):
        model = self.private("inspect-round0", "--epochs", "0")
        m = load(model)
        m["training"]["round"] = 4
        edited = path("inspect-round4.json")
        with open(edited, "w") as f:
            json.dump(m, f)
        party = self.train("inspect-party", "--init", edited, "--epochs", "1")
        t, facts = self.inspect(party)
        self.assertEqual(t["round"], 4)
        self.assertEqual(facts["training.round"], "4")


if __name__ == "__main__":
    for tool in (FIN_TRAIN, FIN_AVG, FIN_INSPECT, FIN_PREDICT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"dp_cli_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
