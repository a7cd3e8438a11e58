#!/usr/bin/python3
"""Benchmark fin-train's lstm and gru presets against the same networks in PyTorch.

Usage: rnn_bench.py [--epochs 5] [--bin build/bin] [--workdir DIR]

Both tools train on the rows fin-window makes from data/eustockmarkets.csv:
100 daily log-returns of the DAX as one channel of 100 steps (DAX_99 oldest
... DAX_0 newest) and the next log-return as target `y`. The networks are
lstm(64) dense(1) and gru(64) dense(1): the recurrent layer reads the whole
window and its last hidden state feeds the dense layer (PyTorch: nn.LSTM or
nn.GRU(1, 64, batch_first=True), the last step's output, nn.Linear(64, 1)).
The setup is the same on both sides: the last 20% of rows (in time order)
for validation, every feature and the target standardised with the mean and
sample standard deviation of the training rows, MSE on the standardised
target, Adam at lr 1e-3, batches of 32 shuffled each epoch within the
training rows, one thread. Each tool trains each preset with three seeds;
the report gives throughput from the median time, the mean validation MSE
in the target's units, and the zero forecast's MSE for reference.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails or the setup cannot be matched.
"""
import os
import sys

from benchlib import (fin_train_run, mse, preset_summary, print_preset_table, torch_train_run,
                      training_bench_setup)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

DATA = os.path.join(REPO, "data", "eustockmarkets.csv")
COLUMN, KEY, SIZE = "DAX", "t", 100
HIDDEN = 64
BATCH = 32
LR = 1e-3
VAL_FRACTION = 0.2       # fin-train's default --val
SEEDS = (1, 2, 3)
PRESETS = ("lstm", "gru")
SPEEDUP_TARGET = 3       # fin-train's samples/s at least this times PyTorch's
CHECK_REL_TOL = 1e-3     # fin-predict's MSE against fin-train's own val_loss


# ---------------------------------------------------------------- data


# ---------------------------------------------------------------- fin-train

def torch_run(preset, x, y, n_train, epochs, seed):
    """Train the preset's network in PyTorch; see benchlib.torch_train_run."""
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            kind = nn.LSTM if preset == "lstm" else nn.GRU
            # PyTorch's default recurrent init is fin's: every weight and
            # bias from U(-1/sqrt(H), 1/sqrt(H)).
            self.rnn = kind(1, HIDDEN, batch_first=True)
            self.out = nn.Linear(HIDDEN, 1)
            # fin's dense layer: Glorot uniform weights, zero bias.
            nn.init.xavier_uniform_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, v):
            seq, _ = self.rnn(v)
            return self.out(seq[:, -1, :])

    return torch_train_run(Net, x, y, n_train, epochs, seed, BATCH, LR)


# ---------------------------------------------------------------- main


def main():
    b = training_bench_setup(__doc__, 5, "/tmp/fin-bench-rnn", DATA, COLUMN, KEY, SIZE, True,
                             VAL_FRACTION)
    import numpy as np
    import torch
    args, bindir, windows, fin_version = b.args, b.bindir, b.windows, b.fin_version
    x, y, n_train, n_val, y_val, samples = b.x, b.y, b.n_train, b.n_val, b.y_val, b.samples

    fin = {p: [] for p in PRESETS}
    tch = {p: [] for p in PRESETS}
    for seed in SEEDS:
        for preset in PRESETS:
            print(f"seed {seed}: {preset}: fin-train ...", flush=True)
            r = fin_train_run(bindir, preset, windows, args.workdir, args.epochs,
                              seed, n_train, n_val, KEY, SIZE, BATCH)
            r["mse"] = mse(r["pred_val"], y_val)
            # fin-train's own val_loss is on the standardised target; scaled
            # back it must agree with the MSE of fin-predict's output, or
            # the rows were not matched as intended.
            own = r["own_val_loss"] * r["y_sd"] ** 2
            if abs(own - r["mse"]) > CHECK_REL_TOL * r["mse"]:
                print(f"  warning: fin-train's val_loss gives MSE {own:.6g}, "
                      f"fin-predict's output {r['mse']:.6g}")
            fin[preset].append(r)
            print(f"seed {seed}: {preset}: PyTorch ...", flush=True)
            seconds, pred = torch_run(preset, x, y, n_train, args.epochs, seed)
            tch[preset].append({"loop": seconds, "mse": mse(pred, y_val)})

    zero_mse = mse(np.zeros_like(y_val), y_val)
    summary = preset_summary(fin, tch)

    print()
    print(f"data: {os.path.relpath(DATA, REPO)}, {COLUMN} log-returns, "
          f"window {SIZE}: {n_train} training rows, {n_val} validation rows")
    print(f"networks: lstm({HIDDEN}) dense(1) and gru({HIDDEN}) dense(1), "
          f"last hidden state; adam lr {LR:g}, batch {BATCH}, "
          f"{args.epochs} epochs, 1 thread, "
          f"seeds {','.join(map(str, SEEDS))}")
    print(f"versions: {fin_version}, PyTorch {torch.__version__}")
    print("samples/s = epochs x training rows / median seconds over seeds; "
          "val MSE = mean over seeds, in y units")
    print()
    print_preset_table(summary, fin, tch, samples, zero_mse, 6)

    for preset in PRESETS:
        s = summary[preset]
        speedup = s["torch_loop"] / s["fin_wall"]
        print(f"{preset} throughput (fin-train whole process / PyTorch loop): "
              f"{speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x): "
              f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
        print(f"  fin-train's training loop alone: "
              f"{s['torch_loop'] / s['fin_loop']:.2f}x")
    print("PyTorch's time leaves out start-up, imports, reading the data and "
          "building the model, which favours it")
    print("val MSE against the zero forecast (below 1 beats it; no target): "
          + "; ".join(f"{p} fin-train {summary[p]['fin_mse'] / zero_mse:.3f}, "
                      f"PyTorch {summary[p]['torch_mse'] / zero_mse:.3f}"
                      for p in PRESETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
