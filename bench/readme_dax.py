#!/usr/bin/python3
"""Regenerate the table of the README's section "Honest evaluation:
walk-forward forecasts of the DAX", and the figures its prose quotes.

Usage: readme_dax.py [--bin build/bin] [--workdir /tmp/fin-readme-dax]

Runs the section's commands as displayed there: fin-window, then for the cnn,
gru, transformer and patchtst presets fin-backtest (nine folds, each retraining fin-train on
every earlier day) and fin-eval --format table on its out-of-sample rows.
OpenBLAS is pinned to its Haswell kernels on one thread, as for the GAN
table (see readme_gan.py): a network trained nine times can round
differently with another kernel. The script exits on a CPU that cannot run
those kernels.

Prints the table in the README's markdown, with each figure taken from what
fin-eval prints and from fin-backtest's trading report (standard error),
then the figures of the prose, from the same runs: the out-of-sample days
and folds, the share of days the GRU is long, the fees, and the wall time
of each backtest.

tests/readme_dax_test.py checks the README's table against the commands.
"""
import argparse
import csv
import os
import platform
import subprocess
import sys
import time

from benchlib import REPO, fin_tools, tool_version
from readme_gan import PIN, cpu_flags, markdown_row, openblas_kernel, openblas_of

DATA = "data/eustockmarkets.csv"     # relative to REPO, as in the README
MODELS = ("cnn", "gru", "transformer", "patchtst")
TITLES = {"cnn": "CNN", "gru": "GRU", "transformer": "Transformer", "patchtst": "PatchTST"}
WINDOW = ["-c", "DAX", "-k", "t", "--size", "20", "--transform", "logret"]
BACKTEST = ["--train-size", "1000", "--test-size", "100", "--trade", "--cost", "5",
            "--periods-per-year", "260"]
TRAIN = ["-k", "t", "--epochs", "30", "--patience", "5"]
EVAL = ["--format", "table", "--actual", "y", "--pred", "prediction"]


def name_value_lines(text, columns):
    """Lines 'name v1 v2 ...' with the given number of values, as a dict of
    name to the list of values; other lines are left out."""
    table = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == columns + 1:
            table[words[0]] = words[1:]
    return table


def run(argv, env, stdout_path=None):
    """Run argv from the repository root; return (stdout or None, stderr,
    seconds). Exit if it fails."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t0
    finally:
        if stdout_path:
            out.close()
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(argv)} exited with {proc.returncode}:\n"
                 + proc.stderr.decode(errors="replace").strip())
    stdout = None if stdout_path else proc.stdout.decode()
    return stdout, proc.stderr.decode(), seconds


def walk_forward(tools, env, workdir, windows, model):
    """One model's backtest and evaluation, as the README runs them: a dict
    of fin-eval's figures ('eval'), the trading report ('trade', figure to
    [strategy, buy_and_hold]), the out-of-sample rows ('rows') and the
    backtest's seconds."""
    oos = os.path.join(workdir, f"{model}-oos.csv")
    _, report, seconds = run([tools["fin-backtest"], *BACKTEST, windows, "--",
                              "fin-train", "--model", model, *TRAIN], env, oos)
    printed, _, _ = run([tools["fin-eval"], *EVAL, oos], env)
    with open(oos, newline="") as f:
        rows = list(csv.DictReader(f))
    folds = {row["fold"] for row in rows}
    return {"eval": {k: v[0] for k, v in name_value_lines(printed, 1).items()},
            "trade": name_value_lines(report, 2), "rows": rows, "folds": len(folds),
            "seconds": seconds}


def p_text(p):
    if p < 0.0005:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def pct(text, decimals=1):
    return f"{100 * float(text):.{decimals}f}%"


def table(runs):
    """The README's table: one column per model, then the baseline."""
    first = runs[MODELS[0]]
    ev = {m: runs[m]["eval"] for m in MODELS}
    tr = {m: runs[m]["trade"] for m in MODELS}
    ys = [float(row["y"]) for row in first["rows"]]
    up = sum(y > 0 for y in ys) / len(ys)
    bh = first["trade"]

    def each(fmt, key):
        return [fmt(ev[m][key]) for m in MODELS]

    def trading(fmt, key):
        return [fmt(tr[m][key][0]) for m in MODELS] + [fmt(bh[key][1])]

    def num(decimals):
        return lambda text: f"{float(text):.{decimals}f}"

    n = len(first["rows"])
    lines = [
        ["out of sample, %d days" % n, *(TITLES[m] for m in MODELS), "baseline"],
        ["---"] + ["---:"] * (len(MODELS) + 1),
        ["RMSE", *each(num(6), "rmse"), f"{float(ev['cnn']['rmse_naive']):.6f} (forecast 0)"],
        ["MAE", *each(num(6), "mae"), f"{float(ev['cnn']['mae_naive']):.6f} (forecast 0)"],
        ["MASE, against forecasting 0", *each(num(3), "mase"), "1"],
        ["Theil's U", *each(num(3), "theil_u"), "1"],
        ["Diebold-Mariano statistic (p)",
         *[f"{float(ev[m]['dm.statistic']):.2f} ({p_text(float(ev[m]['dm.p_value']))})"
           for m in MODELS], ""],
        ["R²", *each(num(3), "r2"), "0 (the mean of the days)"],
        ["directional accuracy", *each(num(3), "directional_accuracy"),
         f"{up:.3f} (always up)"],
        ["**trading, sign of the forecast, 5 bp**", *[""] * len(MODELS), "**buy-and-hold**"],
        ["total return", *trading(pct, "total_return")],
        ["annualised return", *trading(pct, "annual_return")],
        ["annualised volatility", *trading(pct, "annual_vol")],
        ["Sharpe ratio (no risk-free rate)", *trading(num(2), "sharpe")],
        ["maximum drawdown", *trading(pct, "max_drawdown")],
        ["hit rate", *trading(num(3), "hit_rate")],
        ["turnover per day", *trading(num(3), "turnover")],
        ["costs paid", *trading(lambda t: pct(t, 2), "costs")],
    ]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding the fin tools, relative to the repository root "
                         "unless absolute (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-readme-dax",
                    help="where windows and out-of-sample rows go (default /tmp/fin-readme-dax)")
    args = ap.parse_args()

    missing = {"avx2", "fma"} - cpu_flags()
    if platform.machine() != "x86_64" or missing:
        sys.exit("error: this CPU cannot run OpenBLAS's Haswell kernels, so the README's "
                 "figures cannot be reproduced on it")
    names = ("fin-window", "fin-backtest", "fin-train", "fin-eval")
    tools = dict(zip(names, fin_tools(args.bin, *names)))
    pinned = {**os.environ, **PIN}
    library = openblas_of(tools["fin-train"])
    kernel, config = openblas_kernel(library, pinned) if library else (None, None)
    if kernel != PIN["OPENBLAS_CORETYPE"]:
        sys.exit(f"error: OpenBLAS runs the {kernel or 'unknown'} kernel under "
                 f"OPENBLAS_CORETYPE={PIN['OPENBLAS_CORETYPE']}: cannot pin it")
    os.makedirs(args.workdir, exist_ok=True)
    print(f"{tool_version(tools['fin-train'])}; {config}")
    print(f"pinned: {' '.join(f'{k}={v}' for k, v in PIN.items())}", flush=True)

    windows = os.path.join(args.workdir, "dax-windows.csv")
    run([tools["fin-window"], *WINDOW, DATA], pinned, windows)
    runs = {m: walk_forward(tools, pinned, args.workdir, windows, m) for m in MODELS}

    print()
    for cells in table(runs):
        print(markdown_row(cells))
    first = runs[MODELS[0]]["rows"]
    print("\nFigures in the prose:")
    print(f"- {len(first)} out-of-sample days in {runs[MODELS[0]]['folds']} folds, "
          f"from t = {float(first[0]['t']):.2f} to {float(first[-1]['t']):.2f}")
    for m in MODELS:
        rows = runs[m]["rows"]
        long = sum(float(r["position"]) > 0 for r in rows) / len(rows)
        print(f"- {m}: long on {100 * long:.0f}% of the days, fees "
              f"{pct(runs[m]['trade']['costs'][0], 0)}, DM p = "
              f"{p_text(float(runs[m]['eval']['dm.p_value']))}, backtest "
              f"{runs[m]['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
