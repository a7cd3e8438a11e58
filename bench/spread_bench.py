#!/usr/bin/python3
"""Scoring spread over processes: fin-predict one row at a time, on one
process and on --jobs processes (machines, in a real deployment).

Usage: spread_bench.py [--rows 500000] [--jobs 2] [--bin build/bin] [--workdir DIR]

fin-predict and fin-anomaly score reads each row on its own, so scoring
needs no MPI: cut the rows into parts, score each part anywhere, join the
outputs in order. This script makes --rows 20-step windows of synthetic
one-minute log returns (bench/gen_prices.py), trains the cnn preset on the
first 50,000 for one epoch, and scores all rows three ways:

  one process     fin-predict -m cnn.json windows.csv
  split           split -n l/JOBS -d windows.csv part.
                  each part scored (the header put back in all but the
                  first), in JOBS processes at once; outputs joined in part
                  order, one header
  GNU parallel    parallel --pipe --header : --keep-order -j JOBS --block SIZE \\
                      fin-predict -m cnn.json < windows.csv, the repeated
                  headers dropped

The three outputs must hold the same rows and keys, and the same
predictions but for float32 rounding (fin-predict works in batches, and a
row in another place of a batch can round differently); the report counts
the rows that are the same bytes, and gives each way's wall time and
speed-up over one process. (GNU parallel's --sshlogin
runs the same jobs on other machines; here they run on this one.)
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from benchlib import ensure_table, fin_tools, run

SIZE = 20
TRAIN_ROWS = 50_000


def shell(script, what):
    """Run a sh script; return its wall time. Exit if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(["sh", "-c", script], stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"error: {what} failed:\n{proc.stderr.decode(errors='replace')}")
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500_000, help="price rows (default 500000)")
    ap.add_argument("--jobs", type=int, default=2, help="processes to spread over (default 2)")
    ap.add_argument("--bin", default="build/bin", help="the fin tools (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-bench-spread",
                    help="where files go (default /tmp/fin-bench-spread)")
    args = ap.parse_args()
    if args.jobs < 1 or args.rows < TRAIN_ROWS + SIZE + 1:
        ap.error(f"--jobs must be at least 1 and --rows at least {TRAIN_ROWS + SIZE + 1}")
    if not shutil.which("parallel"):
        sys.exit("error: GNU parallel not found (Debian: parallel)")
    fin_window, fin_train, fin_predict = fin_tools(args.bin, "fin-window", "fin-train",
                                                   "fin-predict")
    os.makedirs(args.workdir, exist_ok=True)
    w = args.workdir
    prices = ensure_table(w, "prices", args.rows)
    windows = os.path.join(w, "windows.csv")
    train = os.path.join(w, "train.csv")
    model = os.path.join(w, "cnn.json")
    run([fin_window, "-q", "-c", "close", "-k", "date", "--size", str(SIZE), "--transform",
         "logret", "-o", windows, prices], "fin-window")
    shell(f"head -n {TRAIN_ROWS + 1} {windows} > {train}", "head")
    run([fin_train, "-q", "--model", "cnn", "-k", "date", "--epochs", "1", "-o", model, train],
        "fin-train")
    with open(windows, "rb") as f:
        rows = sum(1 for _ in f) - 1

    outs = {k: os.path.join(w, f"scores-{k}.csv") for k in ("one", "split", "parallel")}
    seconds = {}
    seconds["one"] = shell(f"{fin_predict} -q -m {model} {windows} > {outs['one']}",
                           "fin-predict")
    parts = os.path.join(w, "part.")
    shell(f"rm -f {parts}[0-9]*", "rm")
    seconds["split"] = shell(f"""
cd {w}
split -n l/{args.jobs} -d {windows} part.
for p in part.[0-9][0-9]; do
    if [ "$p" = part.00 ]; then
        {fin_predict} -q -m {model} "$p" > "$p.out" &
    else
        (head -n 1 {windows}; cat "$p") | {fin_predict} -q -m {model} > "$p.out" &
    fi
done
wait
{{ cat part.00.out; for p in part.[0-9][0-9]; do
    [ "$p" = part.00 ] || tail -n +2 "$p.out"; done; }} > {outs['split']}
""", "split")
    block = max(1, os.path.getsize(windows) // (4 * args.jobs) // 1_000_000)
    seconds["parallel"] = shell(
        f"parallel --pipe --header : --keep-order -j {args.jobs} --block {block}M "
        f"{fin_predict} -q -m {model} < {windows} | "
        f"awk 'NR == 1 {{ h = $0; print; next }} $0 != h' > {outs['parallel']}", "parallel")

    # The same rows, keys and columns; each prediction the same but for
    # rounding: fin-predict runs rows in batches, and a row in another
    # place of a batch, or in a shorter batch, can come out of the matrix
    # products a unit in the last place apart.
    with open(outs["one"]) as f:
        want = f.read().splitlines()
    same = {}
    for k in ("split", "parallel"):
        with open(outs[k]) as f:
            got = f.read().splitlines()
        if len(got) != len(want) or got[0] != want[0]:
            sys.exit(f"error: the {k} scores have other rows than one process's")
        same[k] = sum(a == b for a, b in zip(got, want)) - 1
        for a, b in zip(got[1:], want[1:]):
            ka, va = a.rsplit(",", 1)
            kb, vb = b.rsplit(",", 1)
            if ka != kb or abs(float(va) - float(vb)) > 1e-6 * abs(float(vb)) + 1e-30:
                sys.exit(f"error: the {k} scores differ from one process's: {a} against {b}")

    print(f"\n{rows:,} windows of {SIZE} steps ({os.path.getsize(windows) / 1e6:.0f} MB), "
          f"cnn preset; {args.jobs} processes; {os.cpu_count()} CPUs; rows the same bytes as "
          f"one process's: split {same['split']:,}, GNU parallel {same['parallel']:,} (the "
          f"others a float32 rounding apart)")
    print(f"{'how':<16} {'seconds':>8} {'rows/s':>12} {'speed-up':>9}")
    for k, label in (("one", "one process"), ("split", "split + sh"), ("parallel", "GNU parallel")):
        print(f"{label:<16} {seconds[k]:>8.2f} {rows / seconds[k]:>12,.0f} "
              f"{seconds['one'] / seconds[k]:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
