#!/usr/bin/python3
"""Benchmark fin-window against the same jobs written with pandas.

Usage: window_bench.py [--rows 2000000] [--bin build/bin] [--workdir DIR]

Both tools turn a `date,close` price file into supervised-learning rows:
20 consecutive log-returns as features (close_19 oldest ... close_0 newest),
the next log-return as target `y`, keyed by the date of the newest row.
There are two jobs: the returns as they are (`--norm none`), and each
window z-scored with its own mean and sample standard deviation
(`--norm zscore`). Each tool runs as its own process with stdin/stdout
redirected to files, so wall time and peak RSS are measured the same way
for both. The outputs of each job are then checked against each other, and
fin-window is run once more on a file ten times smaller to show that its
memory does not grow with input length.

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

# The two jobs: name, fin-window's --norm.
JOBS = (("none", "none"), ("zscore", "zscore"))


# ---------------------------------------------------------------- pandas job

def pandas_job(norm, inp, out):
    """The reference implementation, run in a child process.

    norm is "none" or "zscore"; inp and out are paths, or "-" for stdin and
    stdout.

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
    if norm == "zscore":
        # fin-window(1): minus the window's mean, divided by its sample
        # standard deviation (n - 1); a window without spread is all zeros.
        # The target stays a plain return.
        mean = windows.mean(axis=1, keepdims=True)
        sd = windows.std(axis=1, ddof=1, keepdims=True)
        windows = np.where(sd > 0, (windows - mean) / np.where(sd > 0, sd, 1.0), 0.0)
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


def z_close_enough(a, b):
    """For z-scores: 1e-12 relative above 1 in size, 1e-12 absolute below.

    fin-window takes a window's mean and sd as GSL does (running sums in
    long double), numpy with pairwise sums in double: the two agree to a
    few units in the last place. Near the mean, x - mean cancels its
    leading digits, so a z-score close to 0 carries that difference as a
    large relative one (1e-6 relative on a z of 1e-10 is 1e-16 absolute).
    A z-score is in units of the window's sd, so 1e-12 of one sd is the
    honest yardstick there.
    """
    return a == b or abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def compare_outputs(fin_path, pd_path, zscore):
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
    worst = 0.0         # relative, of the returns
    worst_z = 0.0       # absolute, of the z-scores
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
                    is_z = zscore and name != "y"
                    if not (z_close_enough if is_z else close_enough)(u, v):
                        problems.append(f"line {lineno} {name}: "
                                        f"fin-window {x} vs pandas {z}")
                    elif is_z:
                        worst_z = max(worst_z, abs(u - v))
                    elif u != v:
                        worst = max(worst, abs(u - v) / max(abs(u), abs(v)))
            if len(problems) >= 10:     # enough to diagnose
                break
    if not problems:
        print(f"outputs agree: {fin_lines} lines, identical header, "
              f"sampled lines equal within {REL_TOL:g} relative "
              f"(largest difference seen: {worst:.2g})")
        if zscore:
            print(f"  z-scores within {REL_TOL:g} absolute below 1 in size, "
                  f"relative above (largest absolute difference seen: "
                  f"{worst_z:.2g})")
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
    ap.add_argument("--pandas-job", nargs=3, metavar=("NORM", "IN", "OUT"),
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

    results = {}
    for job, norm in JOBS:
        fin_argv = [fin_window, "-c", "close", "-k", "date",
                    "--size", str(SIZE), "--transform", "logret", "--norm", norm]
        pd_argv = [sys.executable, os.path.abspath(__file__), "--pandas-job",
                   norm, "-", "-"]
        print(f"running fin-window --norm {norm} ...")
        fin_s, fin_rss = run_measured(fin_argv, work(f"out_fin_{job}.csv"),
                                      work(f"err_fin_{job}.txt"), stdin_path=big)
        small_s = small_rss = None
        if job == "none":
            print("running fin-window on the small input ...")
            small_s, small_rss = run_measured(fin_argv, work("out_fin_small.csv"),
                                              work("err_fin_small.txt"), stdin_path=small)
        print(f"running pandas, {job} ...")
        pd_s, pd_rss = run_measured(pd_argv, work(f"out_pandas_{job}.csv"),
                                    work(f"err_pandas_{job}.txt"), stdin_path=big)
        with open(work(f"err_pandas_{job}.txt")) as f:
            pd_compute = next((float(line.split("=")[1]) for line in f
                               if line.startswith("compute_seconds=")), None)

        print(f"checking outputs, {job} ...")
        problems = compare_outputs(work(f"out_fin_{job}.csv"),
                                   work(f"out_pandas_{job}.csv"), norm == "zscore")
        if problems:
            print(f"MISMATCH between fin-window and pandas, {job}:")
            for p in problems:
                print("  " + p)
            return 1
        results[job] = (fin_s, fin_rss, small_s, small_rss, pd_s, pd_rss, pd_compute)

    print()
    print(f"input: {args.rows} rows, window {SIZE}, "
          f"{args.rows - 1 - SIZE} output rows")
    print(f"{'job':<8} {'tool':<24} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}")
    for job, _ in JOBS:
        fin_s, fin_rss, small_s, small_rss, pd_s, pd_rss, _ = results[job]
        runs = [("fin-window", args.rows, fin_s, fin_rss)]
        if small_s is not None:
            runs.append(("fin-window (rows/10)", small_rows, small_s, small_rss))
        runs.append(("pandas", args.rows, pd_s, pd_rss))
        for name, rows, s, rss in runs:
            print(f"{job:<8} {name:<24} {s:>9.3f} {rows / s:>12,.0f} {rss:>13.1f}")
    print()

    for job, norm in JOBS:
        fin_s, _, _, _, pd_s, _, pd_compute = results[job]
        speedup = pd_s / fin_s
        print(f"speedup, --norm {norm} (pandas/fin-window): {speedup:.1f}x  "
              f"(target >= {SPEEDUP_TARGET:g}x): "
              f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
        if pd_compute is not None:
            # Interpreter start and `import pandas` are part of running the
            # pandas job, but show the stricter figure too.
            print(f"  pandas without start-up and imports: {pd_compute:.3f} s, "
                  f"speedup {pd_compute / fin_s:.1f}x")
    _, fin_rss, _, small_rss, _, _, _ = results["none"]
    z_rss = results["zscore"][1]
    peak = max(fin_rss, small_rss, z_rss)
    print(f"fin-window peak RSS: {peak:.1f} MiB "
          f"(target < {RSS_TARGET_MIB:g} MiB): "
          f"{'met' if peak < RSS_TARGET_MIB else 'NOT met'}")
    print(f"  {args.rows} rows: {fin_rss:.1f} MiB ({z_rss:.1f} MiB with --norm zscore), "
          f"{small_rows} rows: {small_rss:.1f} MiB (x{fin_rss / small_rss:.2f} for "
          f"x{args.rows / small_rows:.0f} input)")
    if not os.access(GNU_TIME, os.X_OK):
        print(f"  note: {GNU_TIME} not found, RSS read with wait4; figures "
              f"up to {launcher_floor_mib():.1f} MiB are this script's own "
              f"peak and only an upper bound (install the `time` package)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
