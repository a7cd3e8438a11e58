#!/usr/bin/python3
"""Benchmark fin-train's cnn preset against the same network in PyTorch.

Usage: train_bench.py [--size 100] [--epochs 30] [--bin build/bin] [--workdir DIR]

Both tools train on the rows fin-window makes from data/eustockmarkets.csv:
--size daily log-returns of the DAX as one channel (DAX_99 oldest ... DAX_0
newest at the default 100) and the next log-return as target `y`. The setup is the same on
both sides: the last 20% of rows (in time order) for validation, features
and target standardised with the mean and sample standard deviation of the
training rows, MSE on the standardised target, Adam at lr 1e-3, batches of
32 shuffled each epoch within the training rows, one thread. Each tool
trains with three seeds; the report gives throughput from the median time,
the mean validation MSE in the target's units, and the zero forecast's MSE
as the baseline both should beat.

Then fin-train runs again with --threads 2 (each batch shared out between
two threads) for the same seeds, and the report gives its speed-up over one
thread, whole process and training loop, with the CPUs this machine has.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails or the setup cannot be matched.
"""
import os
import statistics
import sys

from benchlib import fin_train_run, mse, torch_train_run, training_bench_setup

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

DATA = os.path.join(REPO, "data", "eustockmarkets.csv")
COLUMN, KEY, SIZE = "DAX", "t", 100
BATCH = 32
LR = 1e-3
VAL_FRACTION = 0.2       # fin-train's default --val
SEEDS = (1, 2, 3)
SPEEDUP_TARGET = 3.0     # fin-train's samples/s at least this times PyTorch's
MSE_TOLERANCE = 0.10     # fin-train's val MSE at most 10% above PyTorch's
CHECK_REL_TOL = 1e-3     # fin-predict's MSE against fin-train's own val_loss


# ---------------------------------------------------------------- data


# ---------------------------------------------------------------- fin-train

def torch_run(x, y, n_train, epochs, seed, size):
    """Train the cnn preset's network in PyTorch; see benchlib.torch_train_run."""
    from torch import nn

    def make_net():
        return nn.Sequential(
            nn.Conv1d(1, 64, 3), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
            nn.Linear(64 * ((size - 2) // 2), 64), nn.ReLU(), nn.Linear(64, 1))

    return torch_train_run(make_net, x, y, n_train, epochs, seed, BATCH, LR)


# ---------------------------------------------------------------- main


def main():
    b = training_bench_setup(__doc__, 30, "/tmp/fin-bench-train", DATA, COLUMN, KEY, SIZE, False,
                             VAL_FRACTION, size_option=True)
    import numpy as np
    import torch
    args, bindir, windows, fin_version = b.args, b.bindir, b.windows, b.fin_version
    x, y, n_train, n_val, y_val, samples = b.x, b.y, b.n_train, b.n_val, b.y_val, b.samples
    size = b.size

    fin, tch = [], []
    for seed in SEEDS:
        print(f"seed {seed}: fin-train ...", flush=True)
        r = fin_train_run(bindir, "cnn", windows, args.workdir, args.epochs, seed,
                          n_train, n_val, KEY, size, BATCH)
        r["mse"] = mse(r["pred_val"], y_val)
        # fin-train's own val_loss is on the standardised target; scaled
        # back it must agree with the MSE of fin-predict's output, or the
        # rows were not matched as intended.
        own = r["own_val_loss"] * r["y_sd"] ** 2
        if abs(own - r["mse"]) > CHECK_REL_TOL * r["mse"]:
            print(f"  warning: fin-train's val_loss gives MSE {own:.6g}, "
                  f"fin-predict's output {r['mse']:.6g}")
        fin.append(r)
        print(f"seed {seed}: PyTorch ...", flush=True)
        seconds, pred = torch_run(x, y, n_train, args.epochs, seed, size)
        tch.append({"loop": seconds, "mse": mse(pred, y_val)})

    fin_wall = statistics.median(r["wall"] for r in fin)
    fin_loop = statistics.median(r["loop"] for r in fin)
    torch_loop = statistics.median(r["loop"] for r in tch)
    fin_mse = statistics.mean(r["mse"] for r in fin)
    torch_mse = statistics.mean(r["mse"] for r in tch)
    zero_mse = mse(np.zeros_like(y_val), y_val)

    print()
    print(f"data: {os.path.relpath(DATA, REPO)}, {COLUMN} log-returns, "
          f"window {size}: {n_train} training rows, {n_val} validation rows")
    print(f"cnn: conv1d(64,3,relu) maxpool(2) flatten dense(64,relu) "
          f"dense(1); adam lr {LR:g}, batch {BATCH}, {args.epochs} epochs, "
          f"1 thread, seeds {','.join(map(str, SEEDS))}")
    print(f"versions: {fin_version}, PyTorch {torch.__version__}")
    print("samples/s = epochs x training rows / median seconds over seeds; "
          "val MSE = mean over seeds, in y units")
    print()
    print(f"{'tool':<34} {'samples/s':>10} {'seconds':>8} {'val MSE':>12}")
    for name, s, m in (
            ("fin-train (whole process)", fin_wall, fin_mse),
            ("fin-train (training loop, --log)", fin_loop, None),
            ("PyTorch (training loop only)", torch_loop, torch_mse)):
        mtext = f"{m:>12.6g}" if m is not None else f"{'':>12}"
        print(f"{name:<34} {samples / s:>10,.0f} {s:>8.3f} {mtext}")
    print(f"{'zero forecast (baseline)':<34} {'':>10} {'':>8} "
          f"{zero_mse:>12.6g}")
    for what, key, fmt in (("val MSE", "mse", ".6g"),
                           ("seconds", "loop", ".3f")):
        print(f"per seed {what}: fin-train "
              + " ".join(f"{r[key]:{fmt}}" for r in fin)
              + (" (loop; whole process "
                 + " ".join(f"{r['wall']:.3f}" for r in fin) + ")"
                 if key == "loop" else "")
              + ", PyTorch " + " ".join(f"{r[key]:{fmt}}" for r in tch))
    print()

    speedup = torch_loop / fin_wall
    print(f"throughput (fin-train whole process / PyTorch loop): "
          f"{speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x): "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
    print(f"  fin-train's training loop alone: {torch_loop / fin_loop:.2f}x; "
          f"PyTorch's time leaves out start-up, imports, reading the data "
          f"and building the model, which favours it")
    ratio = fin_mse / torch_mse
    print(f"val MSE (fin-train / PyTorch): {ratio:.3f} "
          f"(target <= {1 + MSE_TOLERANCE:.2f}): "
          f"{'met' if ratio <= 1 + MSE_TOLERANCE else 'NOT met'}")
    print(f"  against the zero forecast: fin-train {fin_mse / zero_mse:.3f}, "
          f"PyTorch {torch_mse / zero_mse:.3f} (below 1 beats it)")

    two = []
    for seed in SEEDS:
        print(f"seed {seed}: fin-train --threads 2 ...", flush=True)
        r = fin_train_run(bindir, "cnn", windows, args.workdir, args.epochs, seed,
                          n_train, n_val, KEY, size, BATCH, threads=2)
        r["mse"] = mse(r["pred_val"], y_val)
        two.append(r)
    two_wall = statistics.median(r["wall"] for r in two)
    two_loop = statistics.median(r["loop"] for r in two)
    print(f"--threads 2 against --threads 1 ({os.cpu_count()} CPUs here): "
          f"{fin_wall / two_wall:.2f}x whole process ({samples / two_wall:,.0f} samples/s), "
          f"{fin_loop / two_loop:.2f}x training loop; val MSE "
          f"{statistics.mean(r['mse'] for r in two):.6g} (one thread {fin_mse:.6g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
