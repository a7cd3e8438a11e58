#!/usr/bin/python3
"""Benchmark fin-window on a panel against pandas groupby and sliding windows.

Usage: panel_bench.py [--rows 1250000] [--bin build/bin] [--workdir DIR]

The input is a long table `date,ticker,close` of 500 assets interleaved by
date (bench/gen_panel.py: 2,500 days at the default rows). Both tools make
each asset's windows alone: 20 consecutive log-returns of its closes as
features (close_19 oldest ... close_0 newest), its next log-return as
target `y`, keyed by the date of the newest row and the ticker:
`fin-window -k date --by ticker -c close --size 20 --transform logret`,
and pandas' groupby over the ticker with numpy's sliding_window_view on
each group's returns, written as CSV. Each runs as its own process with
files as standard input and output, wall time and peak RSS measured the
same way; fin-window runs again on the first tenth of the days (same 500
assets) to show that its memory follows the assets, not the rows. The two
outputs are then compared: the same (date, ticker) rows, and every value
of a sample of rows within 1e-12 relative.

This is a benchmark, not a test: it reports, and exits non-zero only when
a tool fails or the outputs disagree.
"""
import argparse
import os
import sys
import time

from benchlib import count_lines, ensure_table, fin_tools, run_measured

SIZE = 20
ASSETS = 500
SAMPLE_ROWS = 2000
REL_TOL = 1e-12


def pandas_job(inp, out):
    """The reference, in a child process: stdin to stdout."""
    import numpy as np
    import pandas as pd
    from numpy.lib.stride_tricks import sliding_window_view

    t0 = time.perf_counter()
    df = pd.read_csv(sys.stdin if inp == "-" else inp, float_precision="round_trip")
    parts = []
    for ticker, g in df.groupby("ticker", sort=False):
        close = g["close"].to_numpy(dtype=np.float64)
        r = np.log(close[1:] / close[:-1])
        count = max(len(close) - 1 - SIZE, 0)
        if not count:
            continue
        frame = pd.DataFrame(sliding_window_view(r, SIZE)[:count],
                             columns=[f"close_{SIZE - 1 - i}" for i in range(SIZE)])
        frame.insert(0, "ticker", ticker)
        frame.insert(0, "date", g["date"].to_numpy()[SIZE:SIZE + count])
        frame["y"] = r[SIZE:SIZE + count]
        parts.append(frame)
    pd.concat(parts).to_csv(sys.stdout if out == "-" else out, index=False)
    sys.stderr.write(f"compute_seconds={time.perf_counter() - t0:.6f}\n")


def first_days(path, rows, out):
    """The first `rows` data rows of path (whole days: a multiple of the
    assets), written to out once."""
    if os.path.exists(out) and count_lines(out) == rows + 1:
        return out
    with open(path) as f, open(out + ".tmp", "w") as g:
        for i, line in enumerate(f):
            if i > rows:
                break
            g.write(line)
    os.replace(out + ".tmp", out)
    return out


def compare(fin_path, pd_path):
    """Problems found (none when the outputs agree)."""
    import pandas as pd

    a = pd.read_csv(fin_path, float_precision="round_trip", dtype={"date": str})
    b = pd.read_csv(pd_path, float_precision="round_trip", dtype={"date": str})
    if list(a.columns) != list(b.columns):
        return [f"headers differ: {list(a.columns)} / {list(b.columns)}"]
    if len(a) != len(b):
        return [f"rows differ: fin-window {len(a)}, pandas {len(b)}"]
    a = a.set_index(["date", "ticker"]).sort_index()
    b = b.set_index(["date", "ticker"]).sort_index()
    if not a.index.equals(b.index):
        return ["the (date, ticker) rows differ"]
    step = max(len(a) // SAMPLE_ROWS, 1)
    x, y = a.to_numpy()[::step], b.to_numpy()[::step]
    worst = float((abs(x - y) / abs(y).clip(min=1e-300)).max())
    if worst > REL_TOL:
        return [f"values differ by {worst:.3g} relative"]
    print(f"outputs agree: {len(a):,} windows, the same (date, ticker) rows, "
          f"{len(x):,} sampled rows within {REL_TOL:g} relative (largest {worst:.2g}); "
          f"pandas {pd.__version__}")
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_250_000,
                    help="rows of the panel, 500 assets a day (default 1250000)")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding fin-window (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-bench-panel",
                    help="where inputs and outputs go (default /tmp/fin-bench-panel)")
    ap.add_argument("--pandas-job", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pandas_job:
        pandas_job(*args.pandas_job)
        return 0
    if args.rows < ASSETS * (SIZE + 2):
        ap.error(f"--rows must be at least {ASSETS * (SIZE + 2)}")
    fin_window, = fin_tools(args.bin, "fin-window")
    os.makedirs(args.workdir, exist_ok=True)

    def work(name):
        return os.path.join(args.workdir, name)

    panel = ensure_table(args.workdir, "panel", args.rows)
    tenth = max(args.rows // 10 // ASSETS, SIZE + 2) * ASSETS
    small = first_days(panel, tenth, work(f"panel_first_{tenth}.csv"))
    fin_argv = [fin_window, "-q", "-k", "date", "--by", "ticker", "-c", "close",
                "--size", str(SIZE), "--transform", "logret"]
    print("running fin-window ...", flush=True)
    fin_s, fin_rss = run_measured(fin_argv, work("out_fin.csv"), work("err_fin.txt"),
                                  stdin_path=panel)
    print("running fin-window on a tenth of the days ...", flush=True)
    small_s, small_rss = run_measured(fin_argv, work("out_fin_small.csv"),
                                      work("err_fin_small.txt"), stdin_path=small)
    print("running pandas ...", flush=True)
    pd_s, pd_rss = run_measured([sys.executable, os.path.abspath(__file__), "--pandas-job",
                                 "-", "-"], work("out_pandas.csv"), work("err_pandas.txt"),
                                stdin_path=panel)
    with open(work("err_pandas.txt")) as f:
        compute = next((float(line.split("=")[1]) for line in f
                        if line.startswith("compute_seconds=")), float("nan"))
    print("checking outputs ...", flush=True)
    problems = compare(work("out_fin.csv"), work("out_pandas.csv"))
    if problems:
        print("MISMATCH between fin-window and pandas:")
        for p in problems:
            print("  " + p)
        return 1
    print()
    print(f"input: {args.rows:,} rows, {ASSETS} assets x {args.rows // ASSETS:,} days, "
          f"interleaved by date; window {SIZE}; {os.cpu_count()} CPUs")
    print(f"{'tool':<34} {'seconds':>8} {'rows/s':>11} {'peak RSS MiB':>13}")
    for name, rows, s, rss in (("fin-window --by ticker", args.rows, fin_s, fin_rss),
                               (f"fin-window, first {tenth:,} rows", tenth, small_s,
                                small_rss),
                               ("pandas groupby + sliding windows", args.rows, pd_s,
                                pd_rss)):
        print(f"{name:<34} {s:>8.3f} {rows / s:>11,.0f} {rss:>13.1f}")
    print()
    print(f"fin-window is {pd_s / fin_s:.1f}x faster than pandas (pandas after its "
          f"imports: {compute:.3f} s, {compute / fin_s:.1f}x) with {pd_rss / fin_rss:.0f}x "
          f"less memory; its memory on a tenth of the days: {small_rss:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
