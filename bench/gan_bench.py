#!/usr/bin/python3
"""Benchmark fin-train's gan preset against the same GAN in PyTorch.

Usage: gan_bench.py [--epochs 20] [--bin build/bin] [--workdir DIR]

Both tools learn the 20-day windows fin-window makes from
data/sp500dge_returns.csv (17,036 rows of daily S&P 500 log returns, one
channel of 20 steps, no target). The networks are those of the preset: a
generator dense(64, leaky_relu) dense(64, leaky_relu) dense(20) from 16
latent values, a discriminator dense(64, leaky_relu) dense(64, leaky_relu)
dense(1) (PyTorch: nn.Linear and nn.LeakyReLU(0.01)). The training is the
same on both sides: every row a training row, standardised with the rows'
mean and sample standard deviation; each epoch shuffles the rows into
batches of 32; each batch takes one discriminator step on the real rows
labelled 0.9 and as many generated rows labelled 0 (the sum of the two
halves' mean BCE on logits), then one generator step on 32 fresh latent
draws with the non-saturating loss; each network has its own Adam, lr 1e-3,
betas 0.5 and 0.999; one thread. Each tool trains with three seeds; the
report gives throughput from the median time (the whole fin-train process
against PyTorch's training loop alone) and, to show both learned the same
thing, stylized facts of 2,000 sampled windows stitched into one path
(fin-gen --facts on both), next to the real returns'.

This is a benchmark, not a test: nothing here is a target of an issue, and
the figures are reported, not judged. It exits non-zero only when a tool
fails.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from benchlib import REPO, fin_tools, require, run

DATA = os.path.join(REPO, "data", "sp500dge_returns.csv")
SIZE, LATENT, HIDDEN, BATCH, LR, SMOOTH = 20, 16, 64, 32, 1e-3, 0.1
SEEDS = (1, 2, 3)
SAMPLES = 2000
FACTS = ("sd", "excess_kurtosis", "acf_abs_1", "acf_abs_5", "leverage_1")


def read_windows(path):
    """The windows' values, [rows][SIZE], oldest step first."""
    import numpy as np
    with open(path) as f:
        header = f.readline().strip().split(",")
        features = [i for i, name in enumerate(header) if name != "day"]
        rows = [[float(v) for i, v in enumerate(line.strip().split(",")) if i in features]
                for line in f]
    return np.array(rows)


def torch_gan_run(x, epochs, seed, out_path):
    """Trains the preset in PyTorch as fin-train does; returns the loop's
    seconds and writes SAMPLES windows, stitched, in the data's units."""
    import time

    import torch
    from torch import nn

    torch.set_num_threads(1)
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    rows = torch.tensor((x - mean) / sd, dtype=torch.float32)
    n = rows.shape[0]
    torch.manual_seed(seed)

    def mlp(inputs, outputs):
        return nn.Sequential(nn.Linear(inputs, HIDDEN), nn.LeakyReLU(0.01),
                             nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.01),
                             nn.Linear(HIDDEN, outputs))

    g, d = mlp(LATENT, SIZE), mlp(SIZE, 1)
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()

    t0 = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for at in range(0, n, BATCH):
            real = rows[order[at:at + BATCH]]
            b = real.shape[0]
            fake = g(torch.randn(b, LATENT)).detach()
            opt_d.zero_grad()
            loss_d = (bce(d(real), torch.full((b, 1), 1 - SMOOTH))
                      + bce(d(fake), torch.zeros(b, 1)))
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = bce(d(g(torch.randn(BATCH, LATENT))), torch.ones(BATCH, 1))
            loss_g.backward()
            opt_g.step()
    seconds = time.perf_counter() - t0

    with torch.no_grad():
        samples = g(torch.randn(SAMPLES, LATENT)).double().numpy() * sd + mean
    with open(out_path, "w") as f:
        f.write("t,ret\n")
        for t, v in enumerate(samples.reshape(-1), 1):
            f.write(f"{t},{v!r}\n")
    return seconds


def facts(bindir, *paths):
    out = subprocess.run([os.path.join(bindir, "fin-gen"), "--facts", "-c", "ret",
                          "--format", "json", *paths], capture_output=True, check=True)
    return [s for s in json.loads(out.stdout)["series"]]


def fact(series, name):
    if name.startswith(("acf_abs_", "leverage_")):
        key, lag = name.rsplit("_", 1)
        return series[key][int(lag) - 1]
    return series[name]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--workdir", default="/tmp/fin-bench")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    fin_tools(a.bin, "fin-window", "fin-train", "fin-gen")
    bindir = os.path.join(REPO, a.bin)
    require("torch, numpy", "python3-torch python3-numpy")
    windows = os.path.join(a.workdir, "sp500_windows.csv")
    run([os.path.join(bindir, "fin-window"), "-c", "ret", "-k", "day", "--size", str(SIZE),
         "--transform", "level", "--target", "none", "-o", windows, DATA], "fin-window")
    x = read_windows(windows)
    n = x.shape[0]
    print(f"{n} windows of {SIZE} daily S&P 500 returns, {a.epochs} epochs, batch {BATCH}, "
          f"seeds {', '.join(map(str, SEEDS))}, one thread")

    fin_times, torch_times, fin_paths, torch_paths = [], [], [], []
    for seed in SEEDS:
        model = os.path.join(a.workdir, f"gan_{seed}.json")
        fin_times.append(run([os.path.join(bindir, "fin-train"), "--model", "gan", "-k", "day",
                              "--epochs", str(a.epochs), "--seed", str(seed), "-q",
                              "-o", model, windows], "fin-train"))
        path = os.path.join(a.workdir, f"gan_fin_{seed}.csv")
        run([os.path.join(bindir, "fin-gen"), "-m", model, "--samples", str(SAMPLES), "--seed", "7",
             "--paths", "-q", "-o", path], "fin-gen")
        fin_paths.append(path)
        path = os.path.join(a.workdir, f"gan_torch_{seed}.csv")
        torch_times.append(torch_gan_run(x, a.epochs, seed, path))
        torch_paths.append(path)

    rate_fin = n * a.epochs / statistics.median(fin_times)
    rate_torch = n * a.epochs / statistics.median(torch_times)
    print(f"fin-train  {statistics.median(fin_times):7.2f} s  {rate_fin:10.0f} rows/s "
          f"(whole process)")
    print(f"PyTorch    {statistics.median(torch_times):7.2f} s  {rate_torch:10.0f} rows/s "
          f"(training loop only)")
    print(f"speed-up   {rate_fin / rate_torch:.2f}x")

    real, *synthetic = facts(bindir, DATA, *fin_paths, *torch_paths)
    fin_s, torch_s = synthetic[:len(SEEDS)], synthetic[len(SEEDS):]
    print(f"\nstylized facts, {SAMPLES} windows a path, mean over the seeds:")
    print(f"{'fact':18s}{'real':>10s}{'fin':>10s}{'PyTorch':>10s}")
    for name in FACTS:
        print(f"{name:18s}{fact(real, name):10.4f}"
              f"{statistics.fmean(fact(s, name) for s in fin_s):10.4f}"
              f"{statistics.fmean(fact(s, name) for s in torch_s):10.4f}")


if __name__ == "__main__":
    sys.exit(main())
