#!/usr/bin/python3
"""What differential privacy costs fin-train: DP-SGD against the same
training without it.

Usage: dp_bench.py [--bin build/bin] [--epochs 30] [--repeats 3]

For three presets on the repository's data: mlp on the German credit
applicants (800 training rows, 61 features), cnn and gru on 20-day windows
of DAX log returns (1,472 training rows) — fin-train runs the same epochs,
batch 32, one thread, once plain and once with --dp-clip 1 --dp-noise 1
(Poisson batches of 32 on average, each row's gradient clipped, Gaussian
noise on every parameter each step). The median wall time of --repeats
runs of each is printed with the slowdown, and the share of the private
run that the noise draws alone take, measured by a run with --dp-noise 0
(same clipping, no draws: DP-SGD's cost without the noise).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from benchlib import REPO, fin_tools, run, tool_version

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.update(ONE_THREAD)
    fin_window, fin_train = fin_tools(args.bin, "fin-window", "fin-train")
    work = tempfile.mkdtemp(prefix="fin-dp-bench-")
    windows = os.path.join(work, "dax-windows.csv")
    with open(windows, "wb") as f:
        subprocess.run([fin_window, "-c", "DAX", "-k", "t", "--size", "20", "--transform",
                        "logret", os.path.join(REPO, "data", "eustockmarkets.csv")],
                       stdout=f, check=True)
    credit = os.path.join(REPO, "data", "german_credit.csv")
    cases = [("mlp, German credit", ["-y", "Class", "-c", "!Class", "--model", "mlp", credit]),
             ("cnn, DAX windows", ["-k", "t", "--model", "cnn", windows]),
             ("gru, DAX windows", ["-k", "t", "--model", "gru", windows])]
    common = ["--epochs", str(args.epochs), "--batch", "32", "--threads", "1", "-q",
              "-o", os.devnull]
    private = ["--dp-clip", "1", "--dp-noise", "1"]
    print(f"version: {tool_version(fin_train)}; {args.epochs} epochs, batch 32, one thread, "
          f"median of {args.repeats}")
    print(f"{'preset':<22} {'plain s':>8} {'DP-SGD s':>9} {'no noise s':>11} {'slowdown':>9}")
    for name, data_args in cases:
        times = {}
        for label, extra in (("plain", []), ("dp", private),
                             ("clip only", ["--dp-clip", "1", "--dp-noise", "0"])):
            argv = [fin_train, *common, *extra, *data_args]
            if label == "plain":
                print(f"$ {' '.join(argv)}", file=sys.stderr)
            times[label] = statistics.median(run(argv, name) for _ in range(args.repeats))
        print(f"{name:<22} {times['plain']:>8.3f} {times['dp']:>9.3f} "
              f"{times['clip only']:>11.3f} {times['dp'] / times['plain']:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
