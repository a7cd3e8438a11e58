#!/usr/bin/env python3
"""Command-line tests of the recurrent layers of fin-train and fin-predict:
the lstm and gru presets, lstm(units[,seq]) and gru(units[,seq]) in --arch,
and the <base>_<lag> columns read as sequences (fin-train(1), fin-model(5)).

Run from the repository root as
`FIN_BIN=build/bin python3 tests/recurrent_cli_test.py`. Every expected value
is computed here: the labels and their rule from tests/gen_loans.py, ROC-AUC
by a rank (Mann-Whitney) formula, errors of a constant forecast from the
input, and the network's output by a forward pass in plain Python from the
weights in the model file, in the layouts fin-model(5) documents (PyTorch's).
Nothing is copied from the programs' own output. The measured AUCs are
printed.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, read_csv, parse_csv, run
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
GEN_LOANS = os.path.join(ROOT, "tests", "gen_loans.py")

EUSTOCK = "data/eustockmarkets.csv"

EXIT_USAGE = 2

# Loan histories: 6 months, two channels (pay, bill); the label is whether
# the payment right after the month of the high bill was missed.
LOAN_ROWS, LOAN_SEED, MONTHS = 4000, 1, 6
LOAN_VAL = 0.25
GRU_EPOCHS = 10
LOGISTIC_EPOCHS, LOGISTIC_LR = 100, "0.01"  # converged: the loss no longer moves
GRU_MIN_AUC = 0.9
LOGISTIC_MAX_AUC = 0.7

# Windows of log returns with the next DAX return as y.
DAX_ARGS = ["-c", "DAX", "-k", "t", "--size", "20", "--transform", "logret"]
PAIR_SIZE = 10
PAIR_ARGS = ["-c", "DAX,SMI", "-k", "t", "--size", str(PAIR_SIZE), "--transform", "logret"]
PRICE_EPOCHS = 10

# Rows of each file whose prediction is recomputed by the Python forward
# pass (a float64 pass against fin's float32 one).
FORWARD_ROWS = 8
FORWARD_TOL = 1e-4  # in standardised units for regression, in probability for binary

# Written once by setUpModule.
TMP = None
FILES = {}
MODELS = {}


# ---------------------------------------------------------------- reference


def column(header, rows, name):
    j = header.index(name)
    return [float(r[j]) for r in rows]


def mean(values):
    return math.fsum(values) / len(values)


def mse(pred, want):
    return mean([(p - w) ** 2 for p, w in zip(pred, want)])


def n_val(n, fraction):
    return math.floor(fraction * n)


def roc_auc(scores, labels):
    """Mann-Whitney U / (n_pos n_neg), ties given their average rank."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # ranks i+1 .. j+1, averaged
        i = j + 1
    n_pos = sum(1 for y in labels if y == 1)
    n_neg = len(labels) - n_pos
    rank_sum = math.fsum(r for r, y in zip(ranks, labels) if y == 1)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "tanh": math.tanh,
    "sigmoid": sigmoid,
}


def parse_arch(arch):
    """'gru(16,seq) lstm(8) dense(1,linear)' -> [('gru', ['16', 'seq']), ...]"""
    layers = []
    for word in arch.split():
        name, _, rest = word.partition("(")
        layers.append((name, rest.rstrip(")").split(",") if rest else []))
    return layers


def take(weights, at, n):
    return weights[at:at + n], at + n


def matrix(flat, rows, cols):
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def dot(a, b):
    return math.fsum(x * y for x, y in zip(a, b))


def recurrent(kind, x, hidden, seq, weights, at):
    """PyTorch's LSTM (gates i, f, g, o) or GRU (r, z, n) over x [C][T],
    from zero state; returns [H][T] for seq, else [H][1]."""
    gates = 4 if kind == "lstm" else 3
    channels, steps = len(x), len(x[0])
    flat, at = take(weights, at, gates * hidden * channels)
    w_ih = matrix(flat, gates * hidden, channels)
    flat, at = take(weights, at, gates * hidden * hidden)
    w_hh = matrix(flat, gates * hidden, hidden)
    b_ih, at = take(weights, at, gates * hidden)
    b_hh, at = take(weights, at, gates * hidden)
    h, c = [0.0] * hidden, [0.0] * hidden
    out = [[] for _ in range(hidden)]
    for t in range(steps):
        xt = [x[ch][t] for ch in range(channels)]
        gx = [dot(w_ih[g], xt) + b_ih[g] for g in range(gates * hidden)]
        gh = [dot(w_hh[g], h) + b_hh[g] for g in range(gates * hidden)]
        if kind == "lstm":
            new_h = []
            for j in range(hidden):
                i = sigmoid(gx[j] + gh[j])
                f = sigmoid(gx[hidden + j] + gh[hidden + j])
                g = math.tanh(gx[2 * hidden + j] + gh[2 * hidden + j])
                o = sigmoid(gx[3 * hidden + j] + gh[3 * hidden + j])
                c[j] = f * c[j] + i * g
                new_h.append(o * math.tanh(c[j]))
        else:
            new_h = []
            for j in range(hidden):
                r = sigmoid(gx[j] + gh[j])
                z = sigmoid(gx[hidden + j] + gh[hidden + j])
                n = math.tanh(gx[2 * hidden + j] + r * gh[2 * hidden + j])
                new_h.append((1 - z) * n + z * h[j])
        h = new_h
        for j in range(hidden):
            out[j].append(h[j])
    return (out if seq else [[v] for v in h]), at


def conv1d(x, filters, kernel, act, weights, at):
    """Valid convolution, weights [f][c][k]: x [C][T] -> [f][T-k+1]."""
    channels, steps = len(x), len(x[0])
    flat, at = take(weights, at, filters * channels * kernel)
    bias, at = take(weights, at, filters)
    out = []
    for f in range(filters):
        w = flat[f * channels * kernel:(f + 1) * channels * kernel]
        out.append([ACTIVATIONS[act](bias[f] + math.fsum(
            w[ch * kernel + k] * x[ch][t + k] for ch in range(channels) for k in range(kernel)))
            for t in range(steps - kernel + 1)])
    return out, at


def dense(x, units, act, weights, at):
    """Reads x [C][T] channel by channel as one flat vector."""
    flat_x = [v for channel in x for v in channel]
    flat, at = take(weights, at, units * len(flat_x))
    bias, at = take(weights, at, units)
    w = matrix(flat, units, len(flat_x))
    return [[ACTIVATIONS[act](dot(w[u], flat_x) + bias[u])] for u in range(units)], at


def forward(model, row):
    """The network's raw outputs for one input row (a dict of columns)."""
    channels, steps = model["input_shape"]
    scaler = model["scaler"]
    flat = [(float(row[name]) - mu) / sd
            for name, mu, sd in zip(model["features"], scaler["mean"], scaler["sd"])]
    x = [flat[ch * steps:(ch + 1) * steps] for ch in range(channels)]
    weights, at = model["weights"], 0
    for name, args in parse_arch(model["arch"]):
        if name in ("lstm", "gru"):
            x, at = recurrent(name, x, int(args[0]), args[1:] == ["seq"], weights, at)
        elif name == "conv1d":
            if args[3] != "valid":
                raise ValueError(f"conv1d padding {args[3]} not modelled here")
            x, at = conv1d(x, int(args[0]), int(args[1]), args[2], weights, at)
        elif name == "dense":
            x, at = dense(x, int(args[0]), args[1], weights, at)
        else:
            raise ValueError(f"layer {name} not modelled here")
    if at != len(weights):
        raise ValueError(f"{len(weights)} weights, the architecture uses {at}")
    return [channel[0] for channel in x]


def recurrent_parameters(kind, channels, hidden):
    gates = 4 if kind == "lstm" else 3
    return gates * hidden * (channels + hidden) + 2 * gates * hidden


def spread(n, count):
    """count row indices spread over 0..n-1, first and last included."""
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})


# ------------------------------------------------------------------ running


def load_model(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_windows(name, args):
    result = run(FIN_WINDOW, *args, EUSTOCK)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    FILES[name] = os.path.join(TMP.name, name)
    with open(FILES[name], "wb") as f:
        f.write(result.stdout)


def train_file(name, *args):
    FILES[name] = os.path.join(TMP.name, name)
    result = run(FIN_TRAIN, "-q", *args, "-o", FILES[name])
    assert result.returncode == 0, f"fin-train {' '.join(args)}: " + result.stderr.decode(
        errors="replace")
    MODELS[name] = load_model(FILES[name])


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-recurrent-test-")
    FILES["loans.csv"] = os.path.join(TMP.name, "loans.csv")
    gen = subprocess.run([sys.executable, GEN_LOANS, "--rows", str(LOAN_ROWS), "--seed",
                          str(LOAN_SEED), FILES["loans.csv"]], capture_output=True, timeout=60)
    assert gen.returncode == 0, gen.stderr.decode(errors="replace")
    loan_args = ["--task", "binary", "-y", "default", "-k", "id", "--val", str(LOAN_VAL), "-s", "1"]
    train_file("loans-gru.json", *loan_args, "--model", "gru", "--epochs", str(GRU_EPOCHS),
               FILES["loans.csv"])
    train_file("loans-logistic.json", *loan_args, "--model", "logistic", "--epochs",
               str(LOGISTIC_EPOCHS), "--lr", LOGISTIC_LR, FILES["loans.csv"])
    write_windows("dax.csv", DAX_ARGS)
    write_windows("pair.csv", PAIR_ARGS)
    train_file("dax-gru.json", "--model", "gru", "-k", "t", "--epochs", str(PRICE_EPOCHS),
               FILES["dax.csv"])
    train_file("pair-lstm.json", "--model", "lstm", "-k", "t", "--epochs", str(PRICE_EPOCHS),
               FILES["pair.csv"])


def tearDownModule():
    TMP.cleanup()


class FinTest(FinCase):
    def run_fails(self, code, tool, *args):
        """Runs a failing command; returns its one-line message."""
        result = run(tool, *args)
        name = os.path.basename(tool)
        message = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"{name} {' '.join(args)}: {message}")
        self.assertTrue(message.startswith(name + ": "), message)
        self.assertEqual(message.count("\n"), 1, f"not one line: {message!r}")
        self.assertEqual(result.stdout, b"")
        return message

    def predict(self, model_path, data_path):
        return parse_csv(self.run_ok(FIN_PREDICT, "-m", model_path, data_path).stdout)

    def check_forward(self, model, data_path, out, column_name):
        """fin-predict's output on a few rows against the Python forward pass."""
        header, rows = read_csv(data_path)
        j = out[0].index(column_name)
        for i in spread(len(rows), FORWARD_ROWS):
            raw = forward(model, dict(zip(header, rows[i])))
            got = float(out[1][i][j])
            if model["task"] == "binary":
                self.assertEqual(len(raw), 1)
                want, tol = sigmoid(raw[0]), FORWARD_TOL
            else:
                sd = model["target_scaler"]["sd"]
                want, tol = raw[0] * sd + model["target_scaler"]["mean"], FORWARD_TOL * sd
            self.assertLessEqual(abs(got - want), tol,
                                 f"{model['arch']}: row {i + 1}: fin-predict {got!r}, "
                                 f"the forward pass {want!r}")

    def check_windows_prediction(self, model_path, data_path):
        """One row per window, the keys in order, finite predictions; returns
        the predictions and the y column."""
        header, rows = read_csv(data_path)
        out = self.predict(model_path, data_path)
        self.assertEqual(out[0], ["t", "prediction"])
        self.assertEqual([r[0] for r in out[1]], [r[header.index("t")] for r in rows])
        pred = [float(r[1]) for r in out[1]]
        self.assertTrue(all(math.isfinite(p) for p in pred))
        return out, pred, column(header, rows, "y")


# ------------------------------------------------------------------- tests

class GeneratorTest(FinTest):
    """The claims of gen_loans.py's docstring, checked on its output."""

    def setUp(self):
        self.header, self.rows = read_csv(FILES["loans.csv"])
        self.labels = [int(r[-1]) for r in self.rows]

    def months(self, base):
        """The channel's columns, oldest month first."""
        return [column(self.header, self.rows, f"{base}_{lag}")
                for lag in range(MONTHS - 1, -1, -1)]

    def test_header_and_size(self):
        lags = range(MONTHS - 1, -1, -1)
        self.assertEqual(self.header, ["id"] + [f"pay_{k}" for k in lags]
                         + [f"bill_{k}" for k in lags] + ["default"])
        self.assertEqual(len(self.rows), LOAN_ROWS)
        self.assertEqual([r[0] for r in self.rows], [str(i) for i in range(1, LOAN_ROWS + 1)])

    def test_deterministic(self):
        path = os.path.join(TMP.name, "again.csv")
        for seed, same in ((LOAN_SEED, True), (LOAN_SEED + 1, False)):
            subprocess.run([sys.executable, GEN_LOANS, "--rows", str(LOAN_ROWS), "--seed",
                            str(seed), path], check=True, timeout=60)
            with open(path, "rb") as a, open(FILES["loans.csv"], "rb") as b:
                self.assertEqual(a.read() == b.read(), same, f"seed {seed}")

    def test_class_balance(self):
        rate = mean(self.labels)
        print(f"\nloans: {sum(self.labels)} of {len(self.labels)} defaults ({rate:.3f})",
              flush=True)
        self.assertTrue(0.40 <= rate <= 0.50, rate)
        tail = self.labels[len(self.labels) - n_val(len(self.labels), LOAN_VAL):]
        self.assertTrue(0.35 <= mean(tail) <= 0.55, mean(tail))

    def test_label_is_the_order_rule(self):
        bills, pays = self.months("bill"), self.months("pay")
        for i, label in enumerate(self.labels):
            bill = [b[i] for b in bills]
            pay = [p[i] for p in pays]
            rise = bill.index(max(bill))
            missed = pay.index(min(pay))
            # One high bill and one missed payment, clearly apart from the rest.
            self.assertEqual(sum(1 for b in bill if b >= 3000), 1, self.rows[i])
            self.assertEqual(sum(1 for p in pay if p <= 20), 1, self.rows[i])
            self.assertEqual(label, int(missed == rise + 1), self.rows[i])

    def test_no_single_column_or_summary_separates(self):
        # AUC of every column, and of every order-free summary of a
        # channel, stays near 0.5 (a scorer that guesses): so only the
        # order carries the label.
        scores = {}
        for name in self.header[1:-1]:
            scores[name] = column(self.header, self.rows, name)
        for base in ("pay", "bill"):
            months = self.months(base)
            per_row = [[m[i] for m in months] for i in range(len(self.rows))]
            scores[f"sum({base})"] = [math.fsum(v) for v in per_row]
            scores[f"max({base})"] = [max(v) for v in per_row]
            scores[f"min({base})"] = [min(v) for v in per_row]
        for name, values in scores.items():
            auc = roc_auc(values, self.labels)
            self.assertLess(abs(auc - 0.5), 0.05, f"{name}: AUC {auc:.3f}")


class RocAucTest(unittest.TestCase):
    def test_by_hand(self):
        # Pairs (pos, neg): (0.8, 0.1) (0.8, 0.4) (0.8, 0.8 tie) (0.35, 0.1)
        # (0.35, 0.4 loses) (0.35, 0.8 loses): (1 + 1 + 0.5 + 1) / 6.
        self.assertAlmostEqual(roc_auc([0.1, 0.4, 0.35, 0.8, 0.8], [0, 0, 1, 1, 0]), 3.5 / 6)
        self.assertEqual(roc_auc([1, 2, 3], [0, 1, 1]), 1.0)
        self.assertEqual(roc_auc([5, 5, 5, 5], [0, 1, 0, 1]), 0.5)


class LoanHistoryTest(FinTest):
    """The GRU finds the order rule; a logistic regression on the same raw
    columns cannot."""

    def validation_auc(self, name):
        header, rows = read_csv(FILES["loans.csv"])
        out = self.predict(FILES[name], FILES["loans.csv"])
        self.assertEqual(out[0], ["id", "p_0", "p_1", "label"])
        self.assertEqual([r[0] for r in out[1]], [r[0] for r in rows])
        start = len(rows) - n_val(len(rows), LOAN_VAL)
        p1 = [float(r[2]) for r in out[1][start:]]
        labels = [int(r[header.index("default")]) for r in rows[start:]]
        return roc_auc(p1, labels), out

    def test_model_file(self):
        m = MODELS["loans-gru.json"]
        lags = range(MONTHS - 1, -1, -1)
        self.assertEqual(m["arch"], "gru(64) dense(1,linear)")
        self.assertEqual(m["input_shape"], [2, MONTHS])
        self.assertEqual(m["features"], [f"pay_{k}" for k in lags] + [f"bill_{k}" for k in lags])
        self.assertEqual(m["labels"], ["0", "1"])
        self.assertEqual(len(m["weights"]), recurrent_parameters("gru", 2, 64) + 64 + 1)
        self.assertEqual(m["training"]["rows_val"], n_val(LOAN_ROWS, LOAN_VAL))
        self.assertEqual(m["training"]["rows_train"], LOAN_ROWS - n_val(LOAN_ROWS, LOAN_VAL))

    def test_gru_finds_the_order(self):
        auc, out = self.validation_auc("loans-gru.json")
        print(f"\nloans: gru preset, validation ROC-AUC {auc:.4f}", flush=True)
        self.assertGreater(auc, GRU_MIN_AUC)
        self.check_forward(MODELS["loans-gru.json"], FILES["loans.csv"], out, "p_1")

    def test_logistic_does_not(self):
        auc, _ = self.validation_auc("loans-logistic.json")
        print(f"\nloans: logistic preset, validation ROC-AUC {auc:.4f}", flush=True)
        self.assertLess(auc, LOGISTIC_MAX_AUC)


class PricesEndToEndTest(FinTest):
    def test_gru_beats_constant_on_training_rows(self):
        model = MODELS["dax-gru.json"]
        self.assertEqual(model["arch"], "gru(64) dense(1,linear)")
        self.assertEqual(model["input_shape"], [1, 20])
        self.assertEqual(model["features"], [f"DAX_{k}" for k in range(19, -1, -1)])
        out, pred, y = self.check_windows_prediction(FILES["dax-gru.json"], FILES["dax.csv"])
        ntrain = len(y) - n_val(len(y), 0.2)  # the default --val
        self.assertEqual(model["training"]["rows_train"], ntrain)
        constant = mean(y[:ntrain])
        self.assertLess(mse(pred[:ntrain], y[:ntrain]), mse([constant] * ntrain, y[:ntrain]))
        self.check_forward(model, FILES["dax.csv"], out, "prediction")

    def test_windows_through_a_pipe(self):
        window = self.run_ok(FIN_WINDOW, *DAX_ARGS, EUSTOCK)
        train = self.run_ok(FIN_TRAIN, "-q", "--model", "gru", "-k", "t", "--epochs", "1", "-",
                            stdin=window.stdout)
        path = os.path.join(TMP.name, "piped.json")
        with open(path, "wb") as f:
            f.write(train.stdout)
        result = self.run_ok(FIN_PREDICT, "-m", path, "-", stdin=window.stdout)
        names, rows = parse_csv(result.stdout)
        self.assertEqual(names, ["t", "prediction"])
        self.assertEqual(len(rows), len(read_csv(FILES["dax.csv"])[1]))


class LstmTwoChannelTest(FinTest):
    def test_model_file(self):
        m = MODELS["pair-lstm.json"]
        lags = range(PAIR_SIZE - 1, -1, -1)
        self.assertEqual(m["input_shape"], [2, PAIR_SIZE])
        self.assertEqual(m["features"], [f"DAX_{k}" for k in lags] + [f"SMI_{k}" for k in lags])
        self.assertEqual(m["arch"], "lstm(64) dense(1,linear)")
        self.assertEqual(len(m["weights"]), recurrent_parameters("lstm", 2, 64) + 64 + 1)

    def test_predicts_end_to_end(self):
        out, pred, y = self.check_windows_prediction(FILES["pair-lstm.json"], FILES["pair.csv"])
        ntrain = len(y) - n_val(len(y), 0.2)
        constant = mean(y[:ntrain])
        self.assertLess(mse(pred[:ntrain], y[:ntrain]), mse([constant] * ntrain, y[:ntrain]))
        self.check_forward(MODELS["pair-lstm.json"], FILES["pair.csv"], out, "prediction")


class ArchTest(FinTest):
    def train_arch(self, arch, data):
        path = os.path.join(TMP.name, "".join(ch if ch.isalnum() else "_" for ch in arch) + ".json")
        self.run_ok(FIN_TRAIN, "-q", "--arch", arch, "-k", "t", "--epochs", "3", "-o", path, data)
        return path, load_model(path)

    def test_stacked_recurrent(self):
        path, m = self.train_arch("gru(16,seq) lstm(8) dense(1)", FILES["pair.csv"])
        self.assertEqual(m["arch"], "gru(16,seq) lstm(8) dense(1,linear)")
        self.assertEqual(len(m["weights"]), recurrent_parameters("gru", 2, 16)
                         + recurrent_parameters("lstm", 16, 8) + 8 + 1)
        out, _, _ = self.check_windows_prediction(path, FILES["pair.csv"])
        self.check_forward(m, FILES["pair.csv"], out, "prediction")

    def test_sequence_output_into_dense(self):
        # dense reads gru(4,seq)'s [4][10] output as one flat vector.
        path, m = self.train_arch("gru(4,seq) dense(1)", FILES["pair.csv"])
        self.assertEqual(len(m["weights"]), recurrent_parameters("gru", 2, 4) + 4 * PAIR_SIZE + 1)
        out, _, _ = self.check_windows_prediction(path, FILES["pair.csv"])
        self.check_forward(m, FILES["pair.csv"], out, "prediction")

    def test_conv1d_then_lstm(self):
        path, m = self.train_arch("conv1d(8,3,relu) lstm(16) dense(1)", FILES["dax.csv"])
        self.assertEqual(m["arch"], "conv1d(8,3,relu,valid) lstm(16) dense(1,linear)")
        self.assertEqual(len(m["weights"]), 8 * 3 + 8 + recurrent_parameters("lstm", 8, 16) + 17)
        out, _, _ = self.check_windows_prediction(path, FILES["dax.csv"])
        self.check_forward(m, FILES["dax.csv"], out, "prediction")

    def test_bad_recurrent_layers_are_usage_errors(self):
        # The message names the layer by position and by its text as given.
        cases = [("lstm(0)", "lstm(0)"), ("lstm(4,foo)", "lstm(4,foo)"),
                 ("gru(4,seq,seq)", "gru(4,seq,seq)"), ("lstm(-3)", "lstm(-3)"),
                 ("gru(8,SEQ)", "gru(8,SEQ)"), ("gru()", "gru()")]
        for arch, named in cases:
            for before, position in (("", 1), ("conv1d(4,3) ", 2)):
                path = os.path.join(TMP.name, "bad.json")
                message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", "--arch", before + arch,
                                         "-k", "t", "-o", path, FILES["dax.csv"])
                self.assertIn(f"layer {position} '{named}'", message)
                self.assertFalse(os.path.exists(path), arch)


class ReproducibilityTest(FinTest):
    def train_bytes(self, seed):
        return self.run_ok(FIN_TRAIN, "-q", "--model", "gru", "-k", "t", "--epochs", "2",
                           "--threads", "1", "-s", str(seed), FILES["pair.csv"]).stdout

    def test_same_seed_same_file(self):
        first = self.train_bytes(7)
        self.assertEqual(first, self.train_bytes(7))
        self.assertEqual(json.loads(first)["training"]["seed"], 7)

    def test_other_seed_other_file(self):
        self.assertNotEqual(self.train_bytes(7), self.train_bytes(8))


if __name__ == "__main__":
    unittest.main()
