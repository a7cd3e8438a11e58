#!/usr/bin/python3
"""Regenerate the table of the README's section "Many assets at once:
panels".

Usage: readme_panel.py [--bin build/bin] [--workdir /tmp/fin-readme-panel]

Runs the section's commands as displayed there, from a directory where
`data` links to the repository's data/: the four indices of
data/eustockmarkets.csv windowed as a wide table (--assets), and a panel of
200 generated assets with a planted reversal (bench/gen_panel.py, --by),
each walked forward by fin-backtest --asset with a long-short portfolio
and judged by fin-eval --task signal. OpenBLAS is pinned to its Haswell
kernels on one thread, as for the other README tables (see readme_gan.py).

Prints the table in the README's markdown, each figure taken from what
fin-eval prints and from fin-backtest's --report files.
tests/readme_panel_test.py checks the README's table against the commands.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

from benchlib import REPO
from readme_gan import PIN, cpu_flags

PANELS = (("indices", "four European indices"), ("panel", "200 generated assets"))


def pct(x):
    return f"{100 * x:.1f}%"


def coef(s):
    return f"{s['mean']:.4f} ({s['t']:.2f})"


def table(runs):
    """The README's table, from runs[name] = {"eval": fin-eval's JSON,
    "report": fin-backtest's report}, as rows of cells."""
    rows = [["", *[title for _, title in PANELS]], ["---", *["---:" for _ in PANELS]]]
    lines = (
        ("out-of-sample dates", lambda e, r: str(e["dates"])),
        ("IC of the network, mean (t)", lambda e, r: coef(e["ic"])),
        ("rank IC, mean (t)", lambda e, r: coef(e["rank_ic"])),
        ("IC of momentum, mean (t)", lambda e, r: coef(e["momentum"]["ic"])),
        ("top minus bottom quantile, a date",
         lambda e, r: f"{100 * e['top_minus_bottom']['mean']:.3f}%"),
        ("long-short: total return, Sharpe",
         lambda e, r: f"{pct(r['strategy']['total_return'])}, {r['strategy']['sharpe']:.2f}"),
        ("its turnover a date, costs",
         lambda e, r: f"{r['strategy']['turnover']:.2f}, {pct(r['strategy']['costs'])}"),
        ("equal weight: total return, Sharpe",
         lambda e, r: f"{pct(r['equal_weight']['total_return'])}, "
                      f"{r['equal_weight']['sharpe']:.2f}"),
    )
    for label, f in lines:
        rows.append([label, *[f(runs[name]["eval"], runs[name]["report"]) for name, _ in PANELS]])
    return rows


def readme_commands():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("## Many assets at once: panels")
    end = text.find("\n## ", start + 10)
    match = re.search(r"^```sh\n(.*?)^```", text[start:end], re.M | re.S)
    return match.group(1)


def run_commands(script, bindir, workdir):
    """Runs the README's block in workdir; returns the runs for table()."""
    os.makedirs(workdir, exist_ok=True)
    link = os.path.join(workdir, "data")
    if not os.path.islink(link):
        os.symlink(os.path.join(REPO, "data"), link)
    script = script.replace("build/bin/", shlex.quote(bindir) + "/")
    script = script.replace("bench/", shlex.quote(os.path.join(REPO, "bench")) + "/")
    out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=workdir,
                         env={**os.environ, **PIN}, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"the README's commands exited with {out.returncode}:\n{out.stderr[-2000:]}")
    evals = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if len(evals) != len(PANELS):
        sys.exit(f"expected {len(PANELS)} fin-eval reports:\n{out.stdout}")
    runs = {}
    for (name, _), ev in zip(PANELS, evals):
        with open(os.path.join(workdir, f"{name}-report.json"), encoding="utf-8") as f:
            runs[name] = {"eval": ev, "report": json.load(f)}
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--workdir", default="/tmp/fin-readme-panel")
    args = ap.parse_args()
    if {"avx2", "fma"} - cpu_flags():
        sys.exit("this CPU cannot run OpenBLAS's Haswell kernels, which the table is for")
    bindir = os.path.abspath(os.path.join(REPO, args.bin))
    for row in table(run_commands(readme_commands(), bindir, args.workdir)):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
