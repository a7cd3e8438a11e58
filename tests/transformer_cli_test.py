#!/usr/bin/env python3
"""Command-line tests of the transformer layers of fin-train and fin-predict:
the transformer and patchtst presets, and attention, ff, encoder, posenc,
patch and pool in --arch (fin-train(1), MODELS and TRANSFORMERS; fin-model(5)).

Run from the repository root as
`FIN_BIN=build/bin python3 tests/transformer_cli_test.py`. Every expected
value is computed here: the layers a preset and an encoder stand for and the
number of parameters from the text of fin-train(1) and the layouts of
fin-model(5), the starting ranges from PyTorch's initialisation, the labels
and their rule from tests/gen_loans.py, ROC-AUC by the rank formula of
tests/recurrent_cli_test.py, and the network's output by a float64 forward
pass in numpy from the weights in the model file, layer by layer as the
manual pages describe them (attention as PyTorch's nn.MultiheadAttention,
layer normalisation over the channels at each step with epsilon 1e-5).
Nothing is copied from the programs' own output. The measured AUCs are
printed.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from fincli import BIN_DIR, ROOT, FinCase, read_csv, parse_csv, rel_close, run
from recurrent_cli_test import n_val, roc_auc, sigmoid, spread
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
GEN_LOANS = os.path.join(ROOT, "tests", "gen_loans.py")

EUSTOCK = "data/eustockmarkets.csv"

EXIT_USAGE = 2

# Windows of log returns with the next DAX return as y: one channel, and two
# channels (DAX, SMI) for the patches that hold every channel of their steps.
SIZE = 20
DAX_ARGS = ["-c", "DAX", "-k", "t", "--size", str(SIZE), "--transform", "logret"]
PAIR_ARGS = ["-c", "DAX,SMI", "-k", "t", "--size", str(SIZE), "--transform", "logret"]
SHORT_SIZE = 5  # shorter than patchtst's patches of 8 steps
PRESET_EPOCHS = 3
ARCH_EPOCHS = 3

# Two pre-norm encoders with the causal mask, read by pool(mean).
NORM_FIRST_ARCH = ("dense(16,step) posenc(sin) encoder(4,32,tanh,norm_first,causal) "
                   "encoder(2,32,norm_first,causal) pool(mean) dense(1)")
# Patches of 6 steps every 4 on 20 steps: 4 patches, the 2 oldest steps left out.
PATCH_ARCH = "patch(6,4) dense(16,step) posenc(learned) encoder(2,32) flatten dense(1)"
PATCH_LEN, PATCH_STRIDE = 6, 4

# Loan histories (tests/gen_loans.py): 6 months, two channels (pay, bill);
# the label is whether the payment right after the month of the high bill
# was missed, which only the order of the months tells.
LOAN_ROWS, LOAN_SEED, MONTHS = 4000, 1, 6
LOAN_VAL = 0.25
LOAN_ARCH = "dense(16,linear,step) posenc(sin) encoder(2,32) pool(last) dense(1)"
LOAN_EPOCHS = 20
# Measured on these rows with seeds 1 to 8: validation AUC 0.981 to 1.000
# after 20 epochs (0.88 to 0.999 after 10, so 20), 0.2 s each; the
# logistic preset 0.509 on every seed (an exact fit).
TRANSFORMER_MIN_AUC = 0.95
LOGISTIC_MAX_AUC = 0.6

# Rows of each file whose prediction is recomputed by the numpy forward
# pass (float64, against fin's float32 one), and how far apart the two may
# be, in standardised units for regression and in probability for binary.
# A float32 dot product of n terms is off by up to n * 2^-24 of the sum of
# its terms' sizes: 8e-6 for the widest here, 128 terms of order one (each
# layernorm brings the values back to order one), and the ten to fourteen
# such layers of a preset stay below 1e-4, the recurrent tests' bound.
# Measured: at most 7e-7 for the DAX models, 3e-6 in probability for the
# loans.
FORWARD_ROWS = 8
FORWARD_TOL = 1e-4
LAYERNORM_EPS = 1e-5

# Written once by setUpModule.
TMP = None
FILES = {}
MODELS = {}


# ---------------------------------------------------------------- reference


def post_norm_encoder(heads, ff, act="relu"):
    """encoder(heads,ff[,act]) as fin-train(1) writes it out."""
    return f"attention({heads},residual) layernorm ff({ff},{act},residual) layernorm"


def norm_first_encoder(heads, ff, act="relu", causal=False):
    """encoder(heads,ff[,act],norm_first[,causal]) written out, the options
    of attention in the order of its syntax, attention(heads[,causal]
    [,residual][,norm])."""
    mask = ",causal" if causal else ""
    return f"attention({heads}{mask},residual,norm) ff({ff},{act},residual,norm)"


# The presets of fin-train(1)'s MODELS, with every option written out.
TRANSFORMER_ARCH = " ".join(["dense(64,linear,step) posenc(sin)"] + [post_norm_encoder(4, 128)] * 2
                            + ["pool(last) dense(1,linear)"])
PATCHTST_ARCH = " ".join(["patch(8,4) dense(64,linear,step) posenc(learned)"]
                         + [post_norm_encoder(4, 128)] * 3 + ["flatten dense(1,linear)"])


def encoder_parameters(channels, ff):
    """A post-norm encoder's parameters (fin-model(5)): attention's
    projections [3c][c] and [c][c] with their biases, two layernorms' gains
    and biases, ff's [u][c] and [c][u] with theirs."""
    attention = 4 * channels * channels + 4 * channels
    feed_forward = 2 * channels * ff + ff + channels
    return attention + feed_forward + 2 * 2 * channels


def patches(steps, length, stride):
    """How many patches, and how many of the oldest steps no patch holds:
    the last patch ends at the newest step (fin-train(1))."""
    count = (steps - length) // stride + 1
    return count, steps - length - (count - 1) * stride


def parse_arch(arch):
    """'attention(4,residual) layernorm' -> [('attention', ['4', 'residual']), ('layernorm', [])]"""
    layers = []
    for word in arch.split():
        name, _, rest = word.partition("(")
        layers.append((name, rest.rstrip(")").split(",") if rest else []))
    return layers


ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "tanh": np.tanh,
}


class Weights:
    """The model file's weights, taken in order as float64 arrays."""

    def __init__(self, flat):
        self.flat = np.array(flat, dtype=np.float64)
        self.at = 0

    def take(self, *shape):
        n = math.prod(shape)
        if self.at + n > len(self.flat):
            raise ValueError(f"{len(self.flat)} weights, the architecture needs more")
        part = self.flat[self.at:self.at + n].reshape(shape)
        self.at += n
        return part


def unpack(model):
    """The layers of the model's arch, each (name, options, parameters), the
    parameters cut from the weights by fin-model(5)'s layouts: layer by
    layer, each layer's weights then its biases; with norm, attention's and
    ff's weights begin with the normalisation's gains and their biases with
    its biases."""
    channels, steps = model["input_shape"]
    weights = Weights(model["weights"])
    layers = []
    for name, args in parse_arch(model["arch"]):
        p = {}
        if name == "dense":
            units, per_step = int(args[0]), args[-1] == "step"
            p["weight"] = weights.take(units, channels if per_step else channels * steps)
            p["bias"] = weights.take(units)
            channels, steps = (units, steps) if per_step else (units, 1)
        elif name == "posenc":
            if args == ["learned"]:
                p["positions"] = weights.take(steps, channels)
        elif name == "attention":
            if "norm" in args:
                p["gamma"] = weights.take(channels)
            p["in_proj_weight"] = weights.take(3 * channels, channels)
            p["out_proj_weight"] = weights.take(channels, channels)
            if "norm" in args:
                p["beta"] = weights.take(channels)
            p["in_proj_bias"] = weights.take(3 * channels)
            p["out_proj_bias"] = weights.take(channels)
        elif name == "ff":
            units = int(args[0])
            if "norm" in args:
                p["gamma"] = weights.take(channels)
            p["linear1_weight"] = weights.take(units, channels)
            p["linear2_weight"] = weights.take(channels, units)
            if "norm" in args:
                p["beta"] = weights.take(channels)
            p["linear1_bias"] = weights.take(units)
            p["linear2_bias"] = weights.take(channels)
        elif name == "layernorm":
            p["gamma"] = weights.take(channels)
            p["beta"] = weights.take(channels)
        elif name == "pool":
            steps = 1
        elif name == "maxpool":
            steps //= int(args[0])
        elif name == "patch":
            length = int(args[0])
            stride = int(args[1]) if len(args) > 1 else length
            channels, (steps, _) = channels * length, patches(steps, length, stride)
        elif name == "flatten":
            channels, steps = channels * steps, 1
        else:
            raise ValueError(f"layer {name} not modelled here")
        layers.append((name, args, p))
    if weights.at != len(weights.flat):
        raise ValueError(f"{len(weights.flat)} weights, the architecture uses {weights.at}")
    return layers


def layernorm(tokens, gamma, beta):
    """PyTorch's LayerNorm over the channels of each token [t][c]: biased
    variance, epsilon inside the root."""
    centred = tokens - tokens.mean(axis=1, keepdims=True)
    variance = (centred ** 2).mean(axis=1, keepdims=True)
    return centred / np.sqrt(variance + LAYERNORM_EPS) * gamma + beta


def multi_head_attention(tokens, heads, causal, p, weights=None):
    """nn.MultiheadAttention(c, heads, batch_first=True) on tokens [t][c]
    as query, key and value, with attn_mask triu(-inf, diagonal=1) when
    causal; with weights a list, appends the heads' attention weights to
    it, [heads][t][t] (query step, key step)."""
    steps, channels = tokens.shape
    dh = channels // heads
    w, b = p["in_proj_weight"], p["in_proj_bias"]
    q = tokens @ w[:channels].T + b[:channels]
    k = tokens @ w[channels:2 * channels].T + b[channels:2 * channels]
    v = tokens @ w[2 * channels:].T + b[2 * channels:]
    mask = np.triu(np.full((steps, steps), -np.inf), k=1) if causal else 0.0
    outputs, probs = [], []
    for h in range(heads):
        cols = slice(h * dh, (h + 1) * dh)
        scores = (q[:, cols] / math.sqrt(dh)) @ k[:, cols].T + mask
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs.append(e / e.sum(axis=1, keepdims=True))
        outputs.append(probs[-1] @ v[:, cols])
    if weights is not None:
        weights.append(np.array(probs))
    return np.concatenate(outputs, axis=1) @ p["out_proj_weight"].T + p["out_proj_bias"]


def sinusoids(steps, channels):
    """PE[t][2i] = sin(t / 10000^(2i/c)), PE[t][2i+1] = cos(the same), step 0
    the oldest."""
    pe = np.zeros((steps, channels))
    for t in range(steps):
        for c in range(channels):
            angle = t * math.exp(-math.log(10000.0) * (c - c % 2) / channels)
            pe[t, c] = math.cos(angle) if c % 2 else math.sin(angle)
    return pe


def forward(model, row, layers=None, attention=None):
    """The network's raw outputs for one input row (a dict of columns). A
    sample is [c][t], channels of steps oldest first; attention, ff and
    layernorm see it as tokens [t][c]. With attention a list, the weights
    of each attention layer, every step's query computed, are appended to
    it (see multi_head_attention)."""
    channels, steps = model["input_shape"]
    scaler = model["scaler"]
    # Features travel as float32 (fin-train(1), MEMORY), then (x - mean) / sd.
    flat = np.array([(float(np.float32(row[name])) - mu) / sd
                     for name, mu, sd in zip(model["features"], scaler["mean"], scaler["sd"])])
    x = flat.reshape(channels, steps)
    for name, args, p in layers if layers is not None else unpack(model):
        channels, steps = x.shape
        if name == "dense" and args[-1] == "step":
            x = ACTIVATIONS[args[1]](p["weight"] @ x + p["bias"][:, None])
        elif name == "dense":
            # A dense layer reads [c][t] channel by channel as one vector.
            x = ACTIVATIONS[args[1]](p["weight"] @ x.reshape(-1) + p["bias"])[:, None]
        elif name == "posenc":
            x = x + (p["positions"] if args == ["learned"] else sinusoids(steps, channels)).T
        elif name in ("attention", "ff"):
            tokens = x.T
            branch = layernorm(tokens, p["gamma"], p["beta"]) if "norm" in args else tokens
            if name == "attention":
                out = multi_head_attention(branch, int(args[0]), "causal" in args, p, attention)
            else:
                hidden = ACTIVATIONS[args[1]](branch @ p["linear1_weight"].T + p["linear1_bias"])
                out = hidden @ p["linear2_weight"].T + p["linear2_bias"]
            x = (tokens + out if "residual" in args else out).T
        elif name == "layernorm":
            x = layernorm(x.T, p["gamma"], p["beta"]).T
        elif name == "pool":
            x = x[:, -1:] if args == ["last"] else x.mean(axis=1, keepdims=True)
        elif name == "maxpool":
            # the largest of each k steps from the oldest; the newest that
            # fill no k are left out
            k = int(args[0])
            x = x[:, :steps // k * k].reshape(channels, steps // k, k).max(axis=2)
        elif name == "patch":
            length = int(args[0])
            stride = int(args[1]) if len(args) > 1 else length
            count, first = patches(steps, length, stride)
            # out[ch * len + j][p] = x[ch][first + p * stride + j]
            x = np.array([[x[ch, first + k * stride + j] for k in range(count)]
                          for ch in range(channels) for j in range(length)])
        elif name == "flatten":
            x = x.reshape(-1, 1)
    return x[:, 0]


# ------------------------------------------------------------------ running


def load_model(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_windows(name, args):
    result = run(FIN_WINDOW, "-q", *args, EUSTOCK)
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
    TMP = tempfile.TemporaryDirectory(prefix="fin-transformer-test-")
    FILES["loans.csv"] = os.path.join(TMP.name, "loans.csv")
    gen = subprocess.run([sys.executable, GEN_LOANS, "--rows", str(LOAN_ROWS), "--seed",
                          str(LOAN_SEED), FILES["loans.csv"]], capture_output=True, timeout=60)
    assert gen.returncode == 0, gen.stderr.decode(errors="replace")
    loan_args = ["--task", "binary", "-y", "default", "-k", "id", "--val", str(LOAN_VAL), "-s", "1"]
    train_file("loans-transformer.json", *loan_args, "--arch", LOAN_ARCH, "--epochs",
               str(LOAN_EPOCHS), FILES["loans.csv"])
    train_file("loans-logistic.json", *loan_args, "--model", "logistic", FILES["loans.csv"])
    write_windows("dax.csv", DAX_ARGS)
    write_windows("pair.csv", PAIR_ARGS)
    write_windows("short.csv", ["-c", "DAX", "-k", "t", "--size", str(SHORT_SIZE),
                                "--transform", "logret"])
    train_file("transformer.json", "--model", "transformer", "-k", "t", "--epochs",
               str(PRESET_EPOCHS), FILES["dax.csv"])
    train_file("transformer-2.json", "--model", "transformer", "-k", "t", "--epochs",
               str(PRESET_EPOCHS), "--threads", "2", FILES["dax.csv"])
    train_file("patchtst.json", "--model", "patchtst", "-k", "t", "--epochs",
               str(PRESET_EPOCHS), FILES["dax.csv"])
    train_file("norm-first.json", "--arch", NORM_FIRST_ARCH, "-k", "t", "--epochs",
               str(ARCH_EPOCHS), FILES["dax.csv"])
    train_file("patch.json", "--arch", PATCH_ARCH, "-k", "t", "--epochs", str(ARCH_EPOCHS),
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
        return parse_csv(self.run_ok(FIN_PREDICT, "-q", "-m", model_path, data_path).stdout)

    def check_forward(self, name, data_path, out, column_name):
        """fin-predict's output on a few rows against the numpy forward pass."""
        model = MODELS[name]
        layers = unpack(model)
        header, rows = read_csv(data_path)
        j = out[0].index(column_name)
        for i in spread(len(rows), FORWARD_ROWS):
            raw = forward(model, dict(zip(header, rows[i])), layers)
            self.assertEqual(len(raw), 1)
            got = float(out[1][i][j])
            if model["task"] == "binary":
                want, tol = sigmoid(raw[0]), FORWARD_TOL
            else:
                sd = model["target_scaler"]["sd"]
                want, tol = raw[0] * sd + model["target_scaler"]["mean"], FORWARD_TOL * sd
            self.assertLessEqual(abs(got - want), tol,
                                 f"{name}: row {i + 1}: fin-predict {got!r}, "
                                 f"the forward pass {want!r}")

    def window_predictions(self, name, data_path):
        """fin-predict on a windows file: one row per window, the keys in
        order, finite predictions. Returns the output and the predictions."""
        header, rows = read_csv(data_path)
        out = self.predict(FILES[name], data_path)
        self.assertEqual(out[0], ["t", "prediction"])
        self.assertEqual([r[0] for r in out[1]], [r[header.index("t")] for r in rows])
        pred = [float(r[1]) for r in out[1]]
        self.assertTrue(all(math.isfinite(p) for p in pred))
        return out, pred


# ------------------------------------------------------------------- tests


class TransformerPresetTest(FinTest):
    def test_model_file(self):
        m = MODELS["transformer.json"]
        self.assertEqual(m["arch"], TRANSFORMER_ARCH)
        self.assertEqual(m["input_shape"], [1, SIZE])
        self.assertEqual(m["features"], [f"DAX_{k}" for k in range(SIZE - 1, -1, -1)])
        # dense(64,step) on 1 channel, two encoders of 64 channels, dense(1) on 64.
        self.assertEqual(len(m["weights"]), (64 + 64) + 2 * encoder_parameters(64, 128) + 65)

    def test_predictions_are_the_forward_pass(self):
        out, pred = self.window_predictions("transformer.json", FILES["dax.csv"])
        self.check_forward("transformer.json", FILES["dax.csv"], out, "prediction")
        # The validation loss in the file is that of the weights saved.
        m = MODELS["transformer.json"]
        header, rows = read_csv(FILES["dax.csv"])
        y = [float(r[header.index("y")]) for r in rows]
        start = len(y) - n_val(len(y), 0.2)  # the default --val
        sd = m["target_scaler"]["sd"]
        val_mse = math.fsum(((p - w) / sd) ** 2 for p, w in zip(pred[start:], y[start:])) / (
            len(y) - start)
        self.assertTrue(rel_close(m["training"]["val_loss"], val_mse, 1e-5),
                        f"val_loss {m['training']['val_loss']!r}, from the predictions {val_mse!r}")


class KeyBiasTest(FinTest):
    def test_keys_bias_keeps_its_start(self):
        # fin-train(1): the keys' bias adds the same amount to all of a
        # query's scores, so its gradient is 0 and it stays at its start,
        # 0, through training; the queries' and values' biases move.
        for name in ("transformer.json", "patchtst.json", "norm-first.json", "patch.json",
                     "loans-transformer.json"):
            attention = [p for layer, _, p in unpack(MODELS[name]) if layer == "attention"]
            self.assertTrue(attention, name)
            for k, p in enumerate(attention):
                c = len(p["out_proj_bias"])
                where = f"{name}: attention layer {k + 1}"
                self.assertTrue(np.all(p["in_proj_bias"][c:2 * c] == 0), where)
                self.assertTrue(np.any(p["in_proj_bias"][:c] != 0), where)
                self.assertTrue(np.any(p["in_proj_bias"][2 * c:] != 0), where)


class PatchTstPresetTest(FinTest):
    def test_model_file(self):
        m = MODELS["patchtst.json"]
        self.assertEqual(m["arch"], PATCHTST_ARCH)
        self.assertEqual(patches(SIZE, 8, 4), (4, 0))  # fin-train(1): 4 patches of a 20-day window
        # dense(64,step) on 8 channels (a patch of 8 steps of 1 channel),
        # learned positions [4][64], three encoders, dense(1) on 64 x 4.
        self.assertEqual(len(m["weights"]), (8 * 64 + 64) + 4 * 64
                         + 3 * encoder_parameters(64, 128) + (64 * 4 + 1))

    def test_predictions_are_the_forward_pass(self):
        out, _ = self.window_predictions("patchtst.json", FILES["dax.csv"])
        self.check_forward("patchtst.json", FILES["dax.csv"], out, "prediction")

    def test_starts_as_pytorch(self):
        # Untrained (--epochs 0): attention's input projection Glorot
        # uniform, in +-sqrt(6 / (c + 3c)), its output projection in
        # +-1/sqrt(c), both biases 0; ff's linear1 in +-1/sqrt(c), linear2
        # in +-1/sqrt(u); layernorm gains 1 and biases 0; learned positions
        # in +-0.02 (fin-train(1), TRANSFORMERS).
        path = os.path.join(TMP.name, "patchtst-untrained.json")
        self.run_ok(FIN_TRAIN, "-q", "--model", "patchtst", "-k", "t", "--epochs", "0", "-o", path,
                    FILES["dax.csv"])
        c, u = 64, 128
        bounds = {
            ("posenc", "positions"): 0.02,
            ("attention", "in_proj_weight"): math.sqrt(6 / (c + 3 * c)),
            ("attention", "out_proj_weight"): 1 / math.sqrt(c),
            ("ff", "linear1_weight"): 1 / math.sqrt(c),
            ("ff", "linear1_bias"): 1 / math.sqrt(c),
            ("ff", "linear2_weight"): 1 / math.sqrt(u),
            ("ff", "linear2_bias"): 1 / math.sqrt(u),
        }
        seen = set()
        for name, _, p in unpack(load_model(path)):
            for key, values in p.items():
                where = f"{name} {key}"
                if (name, key) in bounds:
                    bound = bounds[(name, key)]
                    # The bound may round up to the next float32.
                    self.assertLessEqual(np.abs(values).max(), bound * (1 + 2 ** -23), where)
                    # Uniform over the whole range, not a narrower one: the
                    # largest of n draws stays below 0.9 of the bound with
                    # probability 0.9^n, 1e-3 for the fewest here (64 biases).
                    self.assertGreater(np.abs(values).max(), 0.9 * bound, where)
                    seen.add((name, key))
                elif key == "gamma":
                    self.assertTrue(np.all(values == 1), where)
                elif key in ("beta", "in_proj_bias", "out_proj_bias"):
                    self.assertTrue(np.all(values == 0), where)
        self.assertEqual(seen, set(bounds))


class ArchTest(FinTest):
    def test_norm_first_causal_mean(self):
        m = MODELS["norm-first.json"]
        self.assertEqual(m["arch"], "dense(16,linear,step) posenc(sin) "
                         + norm_first_encoder(4, 32, "tanh", causal=True) + " "
                         + norm_first_encoder(2, 32, causal=True) + " pool(mean) dense(1,linear)")
        out, _ = self.window_predictions("norm-first.json", FILES["dax.csv"])
        self.check_forward("norm-first.json", FILES["dax.csv"], out, "prediction")
        # Not vacuous: the same weights without the mask are told apart.
        unmasked = dict(m, arch=m["arch"].replace("causal,", ""))
        header, rows = read_csv(FILES["dax.csv"])
        layers = unpack(unmasked)
        sd = m["target_scaler"]["sd"]
        gaps = [abs(forward(unmasked, dict(zip(header, rows[i])), layers)[0] * sd
                    + m["target_scaler"]["mean"] - float(out[1][i][1])) / sd
                for i in spread(len(rows), FORWARD_ROWS)]
        self.assertGreater(max(gaps), 10 * FORWARD_TOL)

    def test_patches_of_two_channels(self):
        m = MODELS["patch.json"]
        self.assertEqual(m["arch"], "patch(6,4) dense(16,linear,step) posenc(learned) "
                         + post_norm_encoder(2, 32) + " flatten dense(1,linear)")
        self.assertEqual(m["input_shape"], [2, SIZE])
        count, left_out = patches(SIZE, PATCH_LEN, PATCH_STRIDE)
        self.assertEqual((count, left_out), (4, 2))
        # A patch holds 6 steps of both channels: dense(16,step) on 12.
        self.assertEqual(len(m["weights"]), (12 * 16 + 16) + count * 16
                         + encoder_parameters(16, 32) + (16 * count + 1))
        out, _ = self.window_predictions("patch.json", FILES["pair.csv"])
        self.check_forward("patch.json", FILES["pair.csv"], out, "prediction")

    def test_patches_end_at_the_newest_step(self):
        # The 2 oldest steps of each channel reach no patch: changing them
        # leaves every prediction as it was, bit for bit; changing the next
        # step does not. Each variant is a file of its own, so that every
        # row is at the same place in the same matrix products (OpenBLAS
        # may round a row otherwise at another place in a batch).
        header, rows = read_csv(FILES["pair.csv"])
        picked = [rows[i] for i in spread(len(rows), FORWARD_ROWS)]
        oldest = [f"{base}_{SIZE - 1 - k}" for base in ("DAX", "SMI") for k in range(2)]

        def predict_changed(names):
            path = os.path.join(TMP.name, "pair-" + "-".join(names) + ".csv")
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                for r in picked:
                    w.writerow([("0.05" if name in names else v) for name, v in zip(header, r)])
            return [r[-1] for r in self.predict(FILES["patch.json"], path)[1]]

        before = predict_changed([])
        self.assertEqual(predict_changed(oldest), before)
        after = predict_changed([f"DAX_{SIZE - 3}"])
        self.assertTrue(all(a != b for a, b in zip(after, before)), (after, before))


class LoanOrderTest(FinTest):
    """A small transformer finds the order rule; a logistic regression on
    the same raw columns cannot."""

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
        m = MODELS["loans-transformer.json"]
        lags = range(MONTHS - 1, -1, -1)
        self.assertEqual(m["arch"], "dense(16,linear,step) posenc(sin) "
                         + post_norm_encoder(2, 32) + " pool(last) dense(1,linear)")
        self.assertEqual(m["input_shape"], [2, MONTHS])
        self.assertEqual(m["features"], [f"pay_{k}" for k in lags] + [f"bill_{k}" for k in lags])
        self.assertEqual(m["labels"], ["0", "1"])
        self.assertEqual(len(m["weights"]), (2 * 16 + 16) + encoder_parameters(16, 32) + 17)

    def test_transformer_finds_the_order(self):
        auc, out = self.validation_auc("loans-transformer.json")
        print(f"\nloans: {LOAN_ARCH}, {LOAN_EPOCHS} epochs, validation ROC-AUC {auc:.4f}",
              flush=True)
        self.assertGreater(auc, TRANSFORMER_MIN_AUC)
        self.check_forward("loans-transformer.json", FILES["loans.csv"], out, "p_1")

    def test_logistic_does_not(self):
        auc, _ = self.validation_auc("loans-logistic.json")
        print(f"\nloans: logistic preset, validation ROC-AUC {auc:.4f}", flush=True)
        self.assertLess(auc, LOGISTIC_MAX_AUC)


class UsageErrorTest(FinTest):
    """A wrong architecture is a usage error naming the layer, by position
    and as written (fin-train(1), --arch); no model file is left."""

    def check_refused(self, data, *args, named):
        path = os.path.join(tempfile.mkdtemp(dir=TMP.name), "refused.json")
        message = self.run_fails(EXIT_USAGE, FIN_TRAIN, "-q", *args, "-k", "t", "-o", path, data)
        self.assertIn(named, message)
        self.assertFalse(os.path.exists(path))
        return message

    def test_heads_must_divide_the_channels(self):
        message = self.check_refused(FILES["dax.csv"], "--arch",
                                     "dense(6,step) encoder(4,16) pool(last) dense(1)",
                                     named="layer 2 'encoder(4,16)'")
        self.assertIn("head", message)
        self.check_refused(FILES["dax.csv"], "--arch",
                           "dense(8,step) attention(3) pool(last) dense(1)",
                           named="layer 2 'attention(3)'")

    def test_patch_longer_than_the_window(self):
        self.check_refused(FILES["dax.csv"], "--arch", "patch(21,4) dense(8,step) flatten dense(1)",
                           named="layer 1 'patch(21,4)'")

    def test_patchtst_on_short_windows(self):
        # fin-train(1): windows shorter than 8 steps are refused.
        self.check_refused(FILES["short.csv"], "--model", "patchtst", named="'patch(8,4)'")

    def test_norm_without_residual(self):
        # fin-train(1): with norm but no residual, attention and ff are a
        # layernorm and the branch in one layer, nothing added back.
        arch = "dense(8,step) attention(2,norm) ff(16,tanh,norm) pool(last) dense(1)"
        train_file("norm-only.json", "--arch", arch, "-k", "t", "--epochs", "1",
                   FILES["dax.csv"])
        self.assertIn("attention(2,norm) ff(16,tanh,norm)", MODELS["norm-only.json"]["arch"])
        out, _ = self.window_predictions("norm-only.json", FILES["dax.csv"])
        self.check_forward("norm-only.json", FILES["dax.csv"], out, "prediction")


class ReproducibilityTest(FinTest):
    def train_bytes(self, seed, threads):
        return self.run_ok(FIN_TRAIN, "-q", "--model", "transformer", "-k", "t", "--epochs", "1",
                           "--threads", str(threads), "-s", str(seed), FILES["dax.csv"]).stdout

    def test_same_seed_same_file(self):
        for threads in (1, 2):
            with self.subTest(threads=threads):
                first = self.train_bytes(7, threads)
                self.assertEqual(first, self.train_bytes(7, threads))
                self.assertEqual(json.loads(first)["training"]["seed"], 7)
                self.assertEqual(json.loads(first)["training"]["threads"], threads)

    def test_other_seed_other_file(self):
        self.assertNotEqual(self.train_bytes(7, 1), self.train_bytes(8, 1))

    def test_two_threads_predict_as_one(self):
        # On two threads each half batch's gradient is summed apart, so the
        # weights differ in their last bits (fin-train(1), --threads) and
        # training drifts apart from there; after 3 epochs the predictions
        # are still within float rounding of each other: measured 5e-7 to
        # 8e-7 of the target's sd, with OpenBLAS's Haswell and Prescott
        # kernels alike.
        one, two = MODELS["transformer.json"], MODELS["transformer-2.json"]
        self.assertEqual((one["training"]["threads"], two["training"]["threads"]), (1, 2))
        self.assertNotEqual(one["weights"], two["weights"])
        _, pred_one = self.window_predictions("transformer.json", FILES["dax.csv"])
        _, pred_two = self.window_predictions("transformer-2.json", FILES["dax.csv"])
        sd = one["target_scaler"]["sd"]
        gap = max(abs(a - b) for a, b in zip(pred_one, pred_two)) / sd
        self.assertLessEqual(gap, FORWARD_TOL)
        # Not vacuous: the predictions do differ from row to row by more.
        self.assertGreater((max(pred_one) - min(pred_one)) / sd, 100 * FORWARD_TOL)


if __name__ == "__main__":
    unittest.main()
