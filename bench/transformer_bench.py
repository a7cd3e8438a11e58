#!/usr/bin/python3
"""Benchmark fin-train's transformer and patchtst presets against the same networks in PyTorch.

Usage: transformer_bench.py [--size 20] [--epochs 10] [--bin build/bin] [--workdir DIR]

Both tools train on the rows fin-window makes from data/eustockmarkets.csv:
--size daily log-returns of the DAX as one channel (DAX_19 oldest ... DAX_0
newest at the default 20) and the next log-return as target `y`. The
networks:

- transformer: dense(64,linear,step) posenc(sin) encoder(4,128)
  encoder(4,128) pool(last) dense(1). PyTorch: nn.Linear(1, 64) at each
  step, plus the sinusoidal encoding PE[t][2i] = sin(t * exp(-ln(10000) *
  2i / 64)), PE[t][2i+1] = cos(same), t = 0 at the oldest step; two
  independent nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0,
  batch_first=True) (post-norm, relu); the last step's vector;
  nn.Linear(64, 1).
- patchtst: patch(8,4) dense(64,linear,step) posenc(learned) encoder(4,128)
  x3 flatten dense(1). PyTorch: the window cut into P = (T - 8) // 4 + 1
  patches of 8 steps, stride 4, aligned to the newest step (the oldest
  (T - 8) - (P - 1) * 4 steps left out); nn.Linear(8, 64) on each patch;
  a learned [P][64] encoding drawn from U(-0.02, 0.02), as fin draws it;
  three independent encoder layers as above; the [N][P][64] output
  flattened channel-major as fin's flatten reads [64][P]; nn.Linear(64 * P, 1).

The setup is the same on both sides: the last 20% of rows (in time order)
for validation, every feature and the target standardised with the mean
and sample standard deviation of the training rows, MSE on the
standardised target, Adam at lr 1e-3, batches of 32 shuffled each epoch
within the training rows, one thread. Attention, feed-forward and layer
norms start as PyTorch's defaults on both sides (fin-train(1) says so); the
PyTorch networks keep their default initialisation throughout, so the
per-step and the output nn.Linear start from U(+-1/sqrt(fan-in)) weights
and biases where fin-train draws Glorot uniform weights and zero biases.
Each tool trains each preset with three seeds; the report gives
throughput from the median time, the mean validation MSE in the target's
units, and the zero forecast's MSE for reference. The targets (speed and
validation MSE) are the transformer preset's; patchtst is reported only.
To show that both sides are the same network, fin-train's seed-1 weights
are loaded into the PyTorch network, whose predictions must then match
fin-predict's to float rounding.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails or the setup cannot be matched.
"""
import math
import os
import sys

from benchlib import (fin_train_run, mse, preset_summary, print_preset_table, torch_train_run,
                      training_bench_setup)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

DATA = os.path.join(REPO, "data", "eustockmarkets.csv")
COLUMN, KEY, SIZE = "DAX", "t", 20
D_MODEL, HEADS, FF = 64, 4, 128
PATCH_LEN, PATCH_STRIDE = 8, 4
BATCH = 32
LR = 1e-3
VAL_FRACTION = 0.2       # fin-train's default --val
SEEDS = (1, 2, 3)
PRESETS = ("transformer", "patchtst")
TARGET_PRESET = "transformer"
SPEEDUP_TARGET = 2.0     # fin-train's samples/s at least this times PyTorch's
SPEEDUP_AIM = 3.0        # and the aim beyond it
MSE_TOLERANCE = 0.10     # fin-train's val MSE at most 10% above PyTorch's
CHECK_REL_TOL = 1e-3     # fin-predict's MSE against fin-train's own val_loss
SAME_NET_TOL = 1e-3      # PyTorch with fin's weights against fin-predict, in sd units

ARCH = {
    "transformer": f"dense({D_MODEL},linear,step) posenc(sin) encoder({HEADS},{FF}) "
                   f"encoder({HEADS},{FF}) pool(last) dense(1)",
    "patchtst": f"patch({PATCH_LEN},{PATCH_STRIDE}) dense({D_MODEL},linear,step) "
                f"posenc(learned) encoder({HEADS},{FF}) encoder({HEADS},{FF}) "
                f"encoder({HEADS},{FF}) flatten dense(1)",
}


def patches(size):
    """(P, offset) of patch(8,4) on `size` steps, aligned to the newest."""
    p = (size - PATCH_LEN) // PATCH_STRIDE + 1
    return p, (size - PATCH_LEN) - (p - 1) * PATCH_STRIDE


# ---------------------------------------------------------------- PyTorch

def torch_net(preset, size):
    """The class of the preset's network in PyTorch, for input [N][T][1],
    oldest step first."""
    import torch
    from torch import nn

    def encoders(n):
        # Built one by one, not nn.TransformerEncoder(layer, n), which
        # deep-copies one layer and so starts every layer from the same
        # weights; fin draws each encoder's own.
        return nn.Sequential(*(nn.TransformerEncoderLayer(
            D_MODEL, HEADS, FF, dropout=0.0, batch_first=True) for _ in range(n)))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(1, D_MODEL)
            # PE[t][2i] = sin(t * exp(-ln(10000) * 2i / C)), PE[t][2i+1] =
            # cos(same), in double and rounded to float as fin computes it.
            t = torch.arange(size, dtype=torch.float64).unsqueeze(1)
            freq = torch.exp(torch.arange(0, D_MODEL, 2, dtype=torch.float64)
                             * (-math.log(10000.0) / D_MODEL))
            pe = torch.zeros(size, D_MODEL, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(t * freq)
            pe[:, 1::2] = torch.cos(t * freq)
            self.register_buffer("pe", pe.float())
            self.enc = encoders(2)
            self.out = nn.Linear(D_MODEL, 1)

        def forward(self, v):                 # v [N][T][1]
            h = self.enc(self.embed(v) + self.pe)
            return self.out(h[:, -1, :])

    n_patch, offset = patches(size)

    class PatchTST(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(PATCH_LEN, D_MODEL)
            self.pe = nn.Parameter(torch.empty(n_patch, D_MODEL))
            nn.init.uniform_(self.pe, -0.02, 0.02)
            self.enc = encoders(3)
            self.out = nn.Linear(D_MODEL * n_patch, 1)

        def forward(self, v):                 # v [N][T][1]
            # token p = steps offset + 4p ... offset + 4p + 7: [N][P][8]
            tokens = v[:, offset:, 0].unfold(1, PATCH_LEN, PATCH_STRIDE)
            h = self.enc(self.embed(tokens) + self.pe)      # [N][P][64]
            # fin's flatten reads its [64][P] activations channel by channel.
            return self.out(h.permute(0, 2, 1).reshape(len(v), -1))

    return Transformer if preset == "transformer" else PatchTST


def torch_run(preset, x, y, n_train, epochs, seed, size):
    """Train the preset's network in PyTorch; see benchlib.torch_train_run."""
    return torch_train_run(torch_net(preset, size), x, y, n_train, epochs, seed, BATCH, LR)


def same_network(preset, size, model_path, x, fin_pred):
    """fin-train's weights loaded into the PyTorch network (in double, in
    the layout fin-model(5) gives, which is PyTorch's) and run on every row
    scaled as the model file says; returns the largest difference from
    fin-predict's output, in units of that output's standard deviation.
    Near float rounding, it shows the two sides train the same function."""
    import json
    import numpy as np
    import torch

    with open(model_path) as f:
        facts = json.load(f)
    w = np.asarray(facts["weights"], dtype=np.float64)
    net = torch_net(preset, size)().double()
    at = 0

    def take(*tensors):
        nonlocal at
        for t in tensors:
            n = t.numel()
            if at + n > len(w):
                break
            with torch.no_grad():
                t.copy_(torch.from_numpy(w[at:at + n]).reshape(t.shape))
            at += n

    take(net.embed.weight, net.embed.bias)
    if preset == "patchtst":
        take(net.pe)
    for layer in net.enc:
        a = layer.self_attn
        take(a.in_proj_weight, a.out_proj.weight, a.in_proj_bias, a.out_proj.bias,
             layer.norm1.weight, layer.norm1.bias,
             layer.linear1.weight, layer.linear2.weight, layer.linear1.bias, layer.linear2.bias,
             layer.norm2.weight, layer.norm2.bias)
    take(net.out.weight, net.out.bias)
    if at != len(w) or at != sum(p.numel() for p in net.parameters()):
        return math.inf
    mean = np.asarray(facts["scaler"]["mean"]).reshape(1, size, 1)
    sd = np.asarray(facts["scaler"]["sd"]).reshape(1, size, 1)
    net.eval()
    with torch.no_grad():
        out = net(torch.from_numpy((x - mean) / sd)).reshape(-1).numpy()
    out = out * facts["target_scaler"]["sd"] + facts["target_scaler"]["mean"]
    scale = float(np.std(fin_pred)) or 1.0
    return float(np.max(np.abs(out - fin_pred))) / scale


# ---------------------------------------------------------------- main


def main():
    b = training_bench_setup(__doc__, 10, "/tmp/fin-bench-transformer", DATA, COLUMN, KEY,
                             SIZE, True, VAL_FRACTION, size_option=True)
    import numpy as np
    import torch
    args, bindir, windows, fin_version = b.args, b.bindir, b.windows, b.fin_version
    x, y, n_train, n_val, y_val, samples = b.x, b.y, b.n_train, b.n_val, b.y_val, b.samples
    size = b.size
    if size < PATCH_LEN:
        sys.exit(f"error: --size {size} is shorter than patchtst's patches of {PATCH_LEN} steps")

    fin = {p: [] for p in PRESETS}
    tch = {p: [] for p in PRESETS}
    same = {}
    for seed in SEEDS:
        for preset in PRESETS:
            print(f"seed {seed}: {preset}: fin-train ...", flush=True)
            r = fin_train_run(bindir, preset, windows, args.workdir, args.epochs,
                              seed, n_train, n_val, KEY, size, BATCH)
            r["mse"] = mse(r["pred_val"], y_val)
            # fin-train's own val_loss is on the standardised target; scaled
            # back it must agree with the MSE of fin-predict's output, or
            # the rows were not matched as intended.
            own = r["own_val_loss"] * r["y_sd"] ** 2
            if abs(own - r["mse"]) > CHECK_REL_TOL * r["mse"]:
                print(f"  warning: fin-train's val_loss gives MSE {own:.6g}, "
                      f"fin-predict's output {r['mse']:.6g}")
            if seed == SEEDS[0]:
                model = os.path.join(args.workdir, f"fin_{preset}_{size}_t1_model_{seed}.json")
                same[preset] = same_network(preset, size, model, x[n_train:], r["pred_val"])
                if not same[preset] <= SAME_NET_TOL:
                    print(f"  warning: PyTorch's {preset} network given fin-train's weights "
                          f"differs from fin-predict's output by {same[preset]:.3g} of its sd")
            fin[preset].append(r)
            print(f"seed {seed}: {preset}: PyTorch ...", flush=True)
            seconds, pred = torch_run(preset, x, y, n_train, args.epochs, seed, size)
            tch[preset].append({"loop": seconds, "mse": mse(pred, y_val)})

    zero_mse = mse(np.zeros_like(y_val), y_val)
    summary = preset_summary(fin, tch)

    n_patch, offset = patches(size)
    print()
    print(f"data: {os.path.relpath(DATA, REPO)}, {COLUMN} log-returns, "
          f"window {size}: {n_train} training rows, {n_val} validation rows")
    for preset in PRESETS:
        print(f"{preset}: {ARCH[preset]}")
    print(f"  (patchtst: {n_patch} patches, {offset} oldest steps left out); "
          f"adam lr {LR:g}, batch {BATCH}, {args.epochs} epochs, 1 thread, "
          f"seeds {','.join(map(str, SEEDS))}")
    print(f"versions: {fin_version}, PyTorch {torch.__version__}")
    print("samples/s = epochs x training rows / median seconds over seeds; "
          "val MSE = mean over seeds, in y units")
    print()
    print_preset_table(summary, fin, tch, samples, zero_mse, 11)

    for preset in PRESETS:
        s = summary[preset]
        speedup = s["torch_loop"] / s["fin_wall"]
        ratio = s["fin_mse"] / s["torch_mse"]
        if preset == TARGET_PRESET:
            verdict = ("NOT met" if speedup < SPEEDUP_TARGET else
                       "met" if speedup >= SPEEDUP_AIM else
                       f"met, below the aim of {SPEEDUP_AIM:g}x")
            print(f"{preset} throughput (fin-train whole process / PyTorch loop): "
                  f"{speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x, aim "
                  f"{SPEEDUP_AIM:g}x): {verdict}")
        else:
            print(f"{preset} throughput (fin-train whole process / PyTorch loop): "
                  f"{speedup:.2f}x (no target)")
        print(f"  fin-train's training loop alone: "
              f"{s['torch_loop'] / s['fin_loop']:.2f}x")
        if preset == TARGET_PRESET:
            print(f"{preset} val MSE (fin-train / PyTorch): {ratio:.3f} "
                  f"(target <= {1 + MSE_TOLERANCE:.2f}): "
                  f"{'met' if ratio <= 1 + MSE_TOLERANCE else 'NOT met'}")
        else:
            print(f"{preset} val MSE (fin-train / PyTorch): {ratio:.3f} (no target)")
    print(f"PyTorch's networks given fin-train's seed-{SEEDS[0]} weights, against "
          f"fin-predict on the validation rows (largest difference / sd of its output; "
          f"float rounding is below {SAME_NET_TOL:g}): "
          + ", ".join(f"{p} {same[p]:.2g}" for p in PRESETS))
    print("PyTorch's time leaves out start-up, imports, reading the data and "
          "building the model, which favours it")
    print("val MSE against the zero forecast (below 1 beats it; no target): "
          + "; ".join(f"{p} fin-train {summary[p]['fin_mse'] / zero_mse:.3f}, "
                      f"PyTorch {summary[p]['torch_mse'] / zero_mse:.3f}"
                      for p in PRESETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
