#!/usr/bin/python3
"""Benchmark fin-window against the same job written with pandas.

Usage: window_bench.py [--rows 2000000] [--bin build/bin] [--workdir DIR]

Both tools turn a `date,close` price file into supervised-learning rows:
20 consecutive log-returns as features (close_19 oldest ... close_0 newest),
the next log-return as target `y`, keyed by the date of the newest row.
Each tool runs as its own process with stdin/stdout redirected to files, so
wall time and peak RSS are measured the same way for both. The outputs are
then checked against each other, and fin-window is run once more on a file
ten times smaller to show that its memory does not grow with input length.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails or the two outputs disagree.
"""
import argparse
import os
import sys
import time

from benchlib import (GNU_TIME, count_lines, ensure_table, fin_tools, launcher_floor_mib,
                      run_measured)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

SIZE = 20                # window length used by both jobs
SPEEDUP_TARGET = 5.0     # fin-window at least this many times faster
RSS_TARGET_MIB = 16.0    # fin-window peak RSS must stay under this
SAMPLE_ROWS = 1000       # rows compared field by field
REL_TOL = 1e-12


# ---------------------------------------------------------------- pandas job

def pandas_job(inp, out):
    """The reference implementation, run in a child process.

    inp and out are paths, or "-" for stdin and stdout.

    Prints the time spent after imports on stderr, so the report can show
    how much of the wall time is interpreter start-up.
    """
    import numpy as np
    import pandas as pd
    from numpy.lib.stride_tricks import sliding_window_view

    t0 = time.perf_counter()
    inp = sys.stdin if inp == "-" else inp
    out = sys.stdout if out == "-" else out
    # round_trip parsing: pandas' default float parser is not correctly
    # rounded and is off by one ulp on about a quarter of the closes, which
    # would show up as relative errors far above 1e-12 on tiny returns.
    df = pd.read_csv(inp, float_precision="round_trip")
    close = df["close"].to_numpy(dtype=np.float64)
    n = len(close)

    # r[i] is the return of row i+1: log(close_{i+1} / close_i). Same
    # formula as fin-window (a ratio, not a difference of logs), so both
    # sides round identically.
    r = np.log(close[1:] / close[:-1])

    # windows[j] = r[j .. j+SIZE-1], i.e. the returns of rows j+1 .. j+SIZE,
    # so it ends at row t = j + SIZE. Its target is the return of row t+1,
    # which is r[t] = r[j + SIZE]. The last window needs t+1 <= n-1.
    count = max(n - 1 - SIZE, 0)
    windows = sliding_window_view(r, SIZE)[:count] if count else \
        np.empty((0, SIZE))
    y = r[SIZE:SIZE + count]
    dates = df["date"].to_numpy()[SIZE:SIZE + count]

    names = [f"close_{SIZE - 1 - i}" for i in range(SIZE)]
    frame = pd.DataFrame(windows, columns=names)
    frame.insert(0, "date", dates)
    frame["y"] = y
    frame.to_csv(out, index=False)
    sys.stderr.write(f"compute_seconds={time.perf_counter() - t0:.6f}\n")


# ---------------------------------------------------------------- measuring


# ---------------------------------------------------------------- input


# ---------------------------------------------------------------- checking

def close_enough(a, b):
    return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def compare_outputs(fin_path, pd_path):
    """Compare the two outputs; return a list of problems (empty if equal).

    Line counts and headers are compared in full; values on about
    SAMPLE_ROWS lines spread through the file. Both files are streamed, so
    the check needs no more memory than a line.
    """
    fin_lines = count_lines(fin_path)
    pd_lines = count_lines(pd_path)
    if fin_lines != pd_lines:
        return [f"line count differs: fin-window {fin_lines}, "
                f"pandas {pd_lines}"]
    step = max((fin_lines - 1) // SAMPLE_ROWS, 1)

    problems = []
    worst = 0.0
    with open(fin_path) as ffin, open(pd_path) as fpd:
        h_fin, h_pd = ffin.readline().rstrip("\n"), fpd.readline().rstrip("\n")
        if h_fin != h_pd:
            return [f"header differs:\n  fin-window: {h_fin}\n"
                    f"  pandas:     {h_pd}"]
        for lineno, (a, b) in enumerate(zip(ffin, fpd), start=2):
            # Always check the last line too: off-by-one errors live there.
            if (lineno - 2) % step and lineno != fin_lines:
                continue
            fa, fb = a.rstrip("\n").split(","), b.rstrip("\n").split(",")
            if len(fa) != len(fb):
                problems.append(f"line {lineno}: {len(fa)} fields vs "
                                f"{len(fb)}")
            elif fa[0] != fb[0]:
                problems.append(f"line {lineno}: date {fa[0]!r} vs {fb[0]!r}")
            else:
                for name, x, z in zip(h_fin.split(",")[1:], fa[1:], fb[1:]):
                    try:
                        u, v = float(x), float(z)
                    except ValueError:
                        problems.append(f"line {lineno} {name}: not a number: "
                                        f"{x!r} vs {z!r}")
                        continue
                    if not close_enough(u, v):
                        problems.append(f"line {lineno} {name}: "
                                        f"fin-window {x} vs pandas {z}")
                    elif u != v:
                        worst = max(worst, abs(u - v) / max(abs(u), abs(v)))
            if len(problems) >= 10:     # enough to diagnose
                break
    if not problems:
        print(f"outputs agree: {fin_lines} lines, identical header, "
              f"sampled lines equal within {REL_TOL:g} relative "
              f"(largest difference seen: {worst:.2g})")
    return problems


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000,
                    help="price rows in the main input (default 2000000)")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding fin-window, relative to the "
                         "repository root unless absolute (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-bench",
                    help="where inputs and outputs go (default /tmp/fin-bench)")
    ap.add_argument("--pandas-job", nargs=2, metavar=("IN", "OUT"),
                    help=argparse.SUPPRESS)   # internal: the child process
    args = ap.parse_args()

    if args.pandas_job:
        pandas_job(*args.pandas_job)
        return 0

    if args.rows < SIZE + 2:
        ap.error(f"--rows must be at least {SIZE + 2} to produce a window")
    fin_window, = fin_tools(args.bin, "fin-window")
    os.makedirs(args.workdir, exist_ok=True)

    def work(name):
        return os.path.join(args.workdir, name)

    big = ensure_table(args.workdir, "prices", args.rows)
    small_rows = max(args.rows // 10, SIZE + 2)
    small = ensure_table(args.workdir, "prices", small_rows)

    fin_argv = [fin_window, "-c", "close", "-k", "date",
                "--size", str(SIZE), "--transform", "logret"]
    pd_argv = [sys.executable, os.path.abspath(__file__), "--pandas-job",
               "-", "-"]

    print("running fin-window ...")
    fin_s, fin_rss = run_measured(fin_argv, work("out_fin.csv"), work("err_fin.txt"),
                                  stdin_path=big)
    print("running fin-window on the small input ...")
    small_s, small_rss = run_measured(fin_argv, work("out_fin_small.csv"),
                                      work("err_fin_small.txt"), stdin_path=small)
    print("running pandas ...")
    pd_s, pd_rss = run_measured(pd_argv, work("out_pandas.csv"), work("err_pandas.txt"),
                                stdin_path=big)
    with open(work("err_pandas.txt")) as f:
        pd_compute = next((float(line.split("=")[1]) for line in f
                           if line.startswith("compute_seconds=")), None)

    print("checking outputs ...")
    problems = compare_outputs(work("out_fin.csv"), work("out_pandas.csv"))
    if problems:
        print("MISMATCH between fin-window and pandas:")
        for p in problems:
            print("  " + p)
        return 1

    print()
    print(f"input: {args.rows} rows, window {SIZE}, "
          f"{args.rows - 1 - SIZE} output rows")
    print(f"{'tool':<24} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}")
    for name, rows, s, rss in (
            ("fin-window", args.rows, fin_s, fin_rss),
            ("fin-window (rows/10)", small_rows, small_s, small_rss),
            ("pandas", args.rows, pd_s, pd_rss)):
        print(f"{name:<24} {s:>9.3f} {rows / s:>12,.0f} {rss:>13.1f}")
    print()

    speedup = pd_s / fin_s
    print(f"speedup (pandas/fin-window): {speedup:.1f}x  "
          f"(target >= {SPEEDUP_TARGET:g}x): "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
    if pd_compute is not None:
        # Interpreter start and `import pandas` are part of running the
        # pandas job, but show the stricter figure too.
        print(f"  pandas without start-up and imports: {pd_compute:.3f} s, "
              f"speedup {pd_compute / fin_s:.1f}x")
    peak = max(fin_rss, small_rss)
    print(f"fin-window peak RSS: {peak:.1f} MiB "
          f"(target < {RSS_TARGET_MIB:g} MiB): "
          f"{'met' if peak < RSS_TARGET_MIB else 'NOT met'}")
    print(f"  {args.rows} rows: {fin_rss:.1f} MiB, {small_rows} rows: "
          f"{small_rss:.1f} MiB (x{fin_rss / small_rss:.2f} for "
          f"x{args.rows / small_rows:.0f} input)")
    if not os.access(GNU_TIME, os.X_OK):
        print(f"  note: {GNU_TIME} not found, RSS read with wait4; figures "
              f"up to {launcher_floor_mib():.1f} MiB are this script's own "
              f"peak and only an upper bound (install the `time` package)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
