#!/usr/bin/python3
"""Regenerate the table of stylized facts in the README's section "Synthetic
market data: a GAN on S&P 500 returns", and the figures its prose quotes.

Usage: readme_gan.py [--bin build/bin] [--workdir /tmp/fin-readme-gan] [--kernels]

Runs the README's pipeline as displayed there (fin-window, fin-train --model
gan, fin-gen --samples 2000 --seed 7 --paths, fin-gen --facts) with OpenBLAS
pinned to its Haswell kernels on one thread: OPENBLAS_CORETYPE=Haswell
OPENBLAS_NUM_THREADS=1. Training a GAN amplifies float rounding, and
OpenBLAS picks a kernel per CPU model, so without the pin each CPU gives its
own sample, as valid as any other. The Haswell kernels (AVX2 and FMA) run on
every x86-64 CPU with those two flags, and glibc's libm takes the same FMA
code paths on all of them, so with the same OpenBLAS and the same build of
fin the bits agree. On a CPU without them the script says it cannot
reproduce the table and exits.

Prints the table in the README's markdown: the facts of the real returns,
of the GAN trained with the default seed (1), of the real returns shuffled
(the data rows in the order Python's random.Random(1).shuffle puts them,
which keeps every moment and destroys all time structure), and the range
over training seeds 1-5 (fin-train --seed N, sampled the same way). Then the
figures the prose quotes, from the same runs, and each training's wall time.

With --kernels, the seed-1 pipeline also runs with the kernel OpenBLAS picks
for this CPU by itself and with its Prescott (SSE3) kernels, and the script
marks which of their figures fall outside the seed range.

This is a benchmark script, not a test: tests/readme_gan_test.py checks the
README's real and seed-1 columns.
"""
import argparse
import os
import platform
import random
import subprocess
import sys
import time

from benchlib import REPO, fin_tools, tool_version

DATA = "data/sp500dge_returns.csv"   # relative to REPO, as in the README
PIN = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}
SEEDS = (1, 2, 3, 4, 5)
SHUFFLE_SEED = 1
# The README's rows: fact, format of a column, format of the seed range
# (None: no range).
ROWS = (
    ("n", "d", None),
    ("mean", ".6f", ".5f"),
    ("sd", ".5f", ".4f"),
    ("skew", ".3f", ".2f"),
    ("excess_kurtosis", ".1f", ".1f"),
    ("acf_1", ".3f", ".3f"),
    ("acf_2", ".3f", ".3f"),
    ("acf_abs_1", ".3f", ".3f"),
    ("acf_abs_5", ".3f", ".3f"),
    ("acf_abs_10", ".3f", ".3f"),
    ("acf_abs_15", ".3f", ".3f"),
    ("acf_abs_20", ".3f", ".3f"),
    ("leverage_1", ".3f", ".3f"),
    ("leverage_2", ".3f", ".3f"),
    ("leverage_3", ".3f", ".3f"),
    ("acf_band", ".3f", None),
)


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def openblas_of(tool):
    """Path of the OpenBLAS library the tool loads, from ldd; None if none."""
    out = subprocess.run(["ldd", tool], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libopenblas" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None


def openblas_kernel(library, env):
    """(kernel name, build configuration) OpenBLAS chooses under env, asked
    in a child process, since OpenBLAS reads the variables when it loads."""
    probe = ("import ctypes, sys\n"
             "lib = ctypes.CDLL(sys.argv[1])\n"
             "lib.openblas_get_corename.restype = ctypes.c_char_p\n"
             "lib.openblas_get_config.restype = ctypes.c_char_p\n"
             "print(lib.openblas_get_corename().decode())\n"
             "print(lib.openblas_get_config().decode())\n")
    out = subprocess.run([sys.executable, "-c", probe, library], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None, None
    name, config = (out.stdout.splitlines() + ["", ""])[:2]
    return name, config


def run(argv, env, stdout_path):
    """Run argv from the repository root, stdout to a file; return its wall
    time in seconds. Exit if it fails."""
    with open(stdout_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        sys.exit(f"error: {' '.join(argv)} exited with {proc.returncode}"
                 + (f":\n{err}" if err else ""))
    return seconds


def facts(fin_gen, env, *paths):
    """fin-gen --facts -c ret on the paths, as the README runs it (table
    format); one dict per path of each fact's printed text."""
    proc = subprocess.run([fin_gen, "--facts", "-c", "ret", *paths], cwd=REPO, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: fin-gen --facts exited with {proc.returncode}:\n{proc.stderr.strip()}")
    lines = proc.stdout.splitlines()
    series = [{} for _ in paths]
    for line in lines[1:]:
        name, *values = line.split()
        if len(values) != len(paths):
            sys.exit(f"error: fin-gen --facts: cannot read the line {line!r}")
        for one, value in zip(series, values):
            one[name] = value
    return series


def gan_column(tools, env, workdir, windows, seed, tag):
    """Train the GAN (the README's command, plus --seed N when seed is not
    the default 1), sample it as the README does; return (path of the
    synthetic series, seconds of fin-train)."""
    fin_train, fin_gen = tools["fin-train"], tools["fin-gen"]
    model = os.path.join(workdir, f"sp500-gan-{tag}.json")
    synthetic = os.path.join(workdir, f"synthetic-{tag}.csv")
    seed_option = [] if seed == 1 else ["--seed", str(seed)]
    seconds = run([fin_train, "--model", "gan", "-k", "day", *seed_option, "-o", model, windows],
                  env, os.devnull)
    run([fin_gen, "-m", model, "--samples", "2000", "--seed", "7", "--paths"], env, synthetic)
    return synthetic, seconds


def shuffled_returns(path):
    """The data file's rows in a seeded random order, header first."""
    with open(os.path.join(REPO, DATA)) as f:
        header, *rows = f.read().splitlines()
    random.Random(SHUFFLE_SEED).shuffle(rows)
    with open(path, "w") as f:
        f.write("\n".join([header, *rows]) + "\n")
    return path


def cell(text, fmt):
    if fmt == "d":
        return str(int(float(text)))
    return format(float(text), fmt)


def markdown_row(cells):
    """A row of a markdown table; an empty cell as '| |'."""
    return "|" + "".join(f" {c} |" if c else " |" for c in cells)


def value(series, name):
    return float(series[name])


def span(values, fmt="", sep=" to "):
    return f"{min(values):{fmt}}{sep}{max(values):{fmt}}"


def print_prose_figures(real, shuffled, seeds):
    """The figures the README's prose quotes, each from the runs above."""
    lags = range(1, 6)
    sd_gap = max(abs(value(s, "sd") / value(real, "sd") - 1) for s in seeds)
    mean_gap = max(abs(value(s, "mean") - value(real, "mean")) for s in seeds)
    print("\nFigures in the prose (seeds 1-5):")
    print(f"- sd: the seeds' largest gap from the data's: {100 * sd_gap:.1f}%")
    print(f"- excess_kurtosis: {span([value(s, 'excess_kurtosis') for s in seeds], '.1f')} "
          f"against {value(real, 'excess_kurtosis'):.1f}")
    print(f"- skew: {span([value(s, 'skew') for s in seeds], '.2f')} against "
          f"{value(real, 'skew'):.2f}; negative on "
          f"{sum(value(s, 'skew') < 0 for s in seeds)} of {len(seeds)} seeds")
    print("- acf_abs at lags 1-5: data "
          f"{span([value(real, f'acf_abs_{k}') for k in lags], '.2f', '-')}, seeds "
          f"{span([value(s, f'acf_abs_{k}') for s in seeds for k in lags], '.2f', '-')}, "
          f"shuffled {span([value(shuffled, f'acf_abs_{k}') for k in lags], '.3f')}")
    print(f"- acf_abs_20: data {value(real, 'acf_abs_20'):.2f}, seeds "
          f"{span([value(s, 'acf_abs_20') for s in seeds], '.3f')}")
    for k in lags:
        lev = [value(s, f"leverage_{k}") for s in seeds]
        print(f"- leverage_{k}: data {value(real, f'leverage_{k}'):.3f}, seeds "
              f"{span(lev, '.3f')}, negative on {sum(v < 0 for v in lev)} of {len(seeds)}")
    print(f"- mean: the seeds' largest gap from the data's: {mean_gap:.5f}, "
          f"{mean_gap / abs(value(real, 'mean')):.1f} times the data's mean; "
          f"{sum(value(s, 'mean') < 0 for s in seeds)} of {len(seeds)} seeds negative")
    print(f"- data: mean {100 * value(real, 'mean'):.3f}% a day, "
          f"sd {100 * value(real, 'sd'):.2f}% a day")
    print(f"- acf_1: data {value(real, 'acf_1'):.3f}, seeds "
          f"{span([value(s, 'acf_1') for s in seeds], '.3f')}")
    for seed, s in zip(SEEDS, seeds):
        band = value(s, "acf_band")
        outside = [k for k in range(2, 6) if abs(value(s, f"acf_{k}")) > band]
        print(f"- seed {seed}: acf lags 2-5 outside the band (+-{band:.4f}): "
              f"{', '.join(map(str, outside)) or 'none'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding the fin tools, relative to the repository root "
                         "unless absolute (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-readme-gan",
                    help="where windows, models and samples go (default /tmp/fin-readme-gan)")
    ap.add_argument("--kernels", action="store_true",
                    help="also run the seed-1 pipeline with OpenBLAS's own kernel for this "
                         "CPU and with its Prescott kernels")
    args = ap.parse_args()

    missing = {"avx2", "fma"} - cpu_flags()
    if platform.machine() != "x86_64" or missing:
        sys.exit("error: this CPU cannot run OpenBLAS's Haswell kernels (it is not x86-64 with "
                 "avx2 and fma" + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
                 + "), so the README's figures cannot be reproduced on it")
    names = ("fin-window", "fin-train", "fin-gen")
    tools = dict(zip(names, fin_tools(args.bin, *names)))
    pinned = {**os.environ, **PIN}
    library = openblas_of(tools["fin-train"])
    if library is None:
        sys.exit(f"error: {tools['fin-train']} does not load OpenBLAS: cannot pin its kernels")
    kernel, config = openblas_kernel(library, pinned)
    if kernel != PIN["OPENBLAS_CORETYPE"]:
        sys.exit(f"error: {library} runs the {kernel or 'unknown'} kernel under "
                 f"OPENBLAS_CORETYPE={PIN['OPENBLAS_CORETYPE']} (it needs a DYNAMIC_ARCH "
                 "build), so the README's figures cannot be reproduced with it")
    os.makedirs(args.workdir, exist_ok=True)
    print(f"{tool_version(tools['fin-train'])}; {config}")
    print(f"pinned: {' '.join(f'{k}={v}' for k, v in PIN.items())}", flush=True)

    windows = os.path.join(args.workdir, "sp500-windows.csv")
    run([tools["fin-window"], "-c", "ret", "-k", "day", "--size", "20", "--transform", "level",
         "--target", "none", DATA], pinned, windows)
    paths = []
    for seed in SEEDS:
        path, seconds = gan_column(tools, pinned, args.workdir, windows, seed, f"seed{seed}")
        print(f"fin-train --seed {seed}: {seconds:.1f} s", flush=True)
        paths.append(path)
    shuffled = shuffled_returns(os.path.join(args.workdir, "shuffled.csv"))

    real, *seeds = facts(tools["fin-gen"], pinned, DATA, *paths)
    (shuffled_facts,) = facts(tools["fin-gen"], pinned, shuffled)
    print()
    print(markdown_row(["fact", "real", "GAN (seed 1)", "real, shuffled",
                        "GAN, training seeds 1-5"]))
    print(markdown_row(["---"] + ["---:"] * 4))
    for name, fmt, range_fmt in ROWS:
        seed_range = span([value(s, name) for s in seeds], range_fmt) if range_fmt else ""
        print(markdown_row([name, cell(real[name], fmt), cell(seeds[0][name], fmt),
                            cell(shuffled_facts[name], fmt), seed_range]))
    print_prose_figures(real, shuffled_facts, seeds)

    if args.kernels:
        print("\nThe seed-1 pipeline with other OpenBLAS kernels (* outside the seeds' range):")
        columns = [("Haswell", seeds[0])]
        unpinned = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        unpinned["OPENBLAS_NUM_THREADS"] = "1"
        for label, env in (("default", unpinned),
                           ("Prescott", {**unpinned, "OPENBLAS_CORETYPE": "Prescott"})):
            kernel, _ = openblas_kernel(library, env)
            path, seconds = gan_column(tools, env, args.workdir, windows, 1, label)
            print(f"fin-train with the {kernel} kernel ({label}): {seconds:.1f} s", flush=True)
            columns.append((f"{label} ({kernel})" if label == "default" else kernel,
                            facts(tools["fin-gen"], env, path)[0]))
        print()
        print(markdown_row(["fact"] + [label for label, _ in columns]))
        print(markdown_row(["---"] + ["---:"] * len(columns)))
        outside = {label: 0 for label, _ in columns}
        for name, fmt, range_fmt in ROWS:
            if range_fmt is None:
                continue
            lo, hi = (f([value(s, name) for s in seeds]) for f in (min, max))
            cells = []
            for label, series in columns:
                out = not lo <= value(series, name) <= hi
                outside[label] += out
                cells.append(cell(series[name], fmt) + (" *" if out else ""))
            print(markdown_row([name] + cells))
        print("outside the seeds' range: "
              + ", ".join(f"{label} {n} of {sum(r is not None for _, _, r in ROWS)}"
                          for label, n in outside.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
