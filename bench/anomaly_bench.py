#!/usr/bin/python3
"""Benchmark fin-anomaly's isolation forest against scikit-learn's.

Usage: anomaly_bench.py [--rows 1000000] [--bin build/bin] [--workdir DIR]
                        [--seeds 50] [--big-seeds 10]

Two data sets, each scored by both tools in one run:

- data/german_credit.csv: every column but `Class` is a feature, and a bad
  loan (Class = Bad) counts as an anomaly;
- a synthetic transaction table (gen_transactions.py, 1,000,000 rows by
  default) with planted anomalies: the eight columns between `id` and
  `is_fraud` are the features, and is_fraud = 1 marks an anomaly.

Both tools fit an isolation forest of 100 trees on 256-row subsamples to all
rows and score all rows, one thread each: `fin-anomaly --method iforest`
with its defaults, and scikit-learn's IsolationForest() with its defaults.
Every run is its own process, with wall time and peak RSS measured the same
way. The scikit-learn job is read_csv, fit, score_samples and to_csv; the
time it takes after interpreter start-up and imports is what fin-anomaly's
whole process is compared with. ROC-AUC is computed here for both tools,
from the scores each wrote, with sklearn.metrics.roc_auc_score. A single
forest's ROC-AUC depends on its seed, so each tool runs with several seeds
(fin-anomaly -s, random_state) and the report gives the mean and range.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails.
"""
import argparse
import json
import os
import statistics
import sys
import time

from benchlib import (GNU_TIME, ensure_table, fin_tools, launcher_floor_mib, require,
                      run_measured, tool_version)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

GERMAN = os.path.join(REPO, "data", "german_credit.csv")
GERMAN_LABEL, GERMAN_POSITIVE = "Class", "Bad"
TX_KEY, TX_LABEL, TX_POSITIVE = "id", "is_fraud", "1"
SPEEDUP_TARGET = 1.0     # fin-anomaly at least as fast as scikit-learn
TREES = 100              # fin-anomaly's and scikit-learn's default
AUC_CHECK_TOL = 1e-5     # --metrics prints 6 significant digits


# ---------------------------------------------------------------- sklearn job

def sklearn_job(inp, out, drop, seed):
    """The scikit-learn job, run in a child process.

    Reads inp, fits IsolationForest(random_state=seed) with every other
    default on all columns but those in `drop` (comma-separated), scores
    the same rows and writes the key column if any (the first of `drop`
    when there are two), the score (higher is more anomalous) and the flag
    to out. Prints the seconds of each step, after imports, as one JSON
    line on stderr.
    """
    import pandas as pd
    import sklearn
    from sklearn.ensemble import IsolationForest

    drop = drop.split(",")
    t0 = time.perf_counter()
    df = pd.read_csv(inp)
    t1 = time.perf_counter()
    x = df.drop(columns=drop)
    forest = IsolationForest(random_state=seed).fit(x)
    t2 = time.perf_counter()
    # score_samples is the opposite of the paper's score: negate it so that
    # higher is more anomalous, as in fin-anomaly. predict() would flag
    # score_samples < offset_; the flag is derived from the same scores
    # rather than by scoring every row a second time.
    score = -forest.score_samples(x)
    t3 = time.perf_counter()
    frame = pd.DataFrame({"score": score,
                          "anomaly": (score > -forest.offset_).astype(int)})
    if len(drop) > 1:
        frame.insert(0, drop[0], df[drop[0]])
    frame.to_csv(out, index=False)
    t4 = time.perf_counter()
    sys.stderr.write(json.dumps({
        "read": t1 - t0, "fit": t2 - t1, "score": t3 - t2, "write": t4 - t3,
        "job": t4 - t0, "sklearn": sklearn.__version__,
        "n_estimators": forest.n_estimators,
        "max_samples": int(forest.max_samples_),
        "features": int(x.shape[1])}) + "\n")


# ---------------------------------------------------------------- measuring


# ---------------------------------------------------------------- input


# ---------------------------------------------------------------- one data set

def bench_data_set(name, path, drop, fin_args, seeds, sk_seeds, bindir,
                   workdir):
    """Run both tools on one data set; return the raw figures.

    drop: the columns that are not features (the key first, if any, then
    the label). fin_args: fin-anomaly's options naming them.
    """
    fin_anomaly = os.path.join(bindir, "fin-anomaly")
    res = {"name": name, "path": path, "fin": [], "fin1": [], "sk": []}

    def work(f):
        return os.path.join(workdir, f"{name}_{f}")

    for seed in seeds:
        print(f"{name}, seed {seed}: fin-anomaly ...", flush=True)
        metrics = work(f"fin_metrics_{seed}.json")
        out = work(f"fin_scores_{seed}.csv")
        argv = [fin_anomaly, "--method", "iforest", *fin_args, "-s", str(seed),
                "--metrics", metrics, path]
        s, rss = run_measured(argv, out, work(f"fin_err_{seed}.txt"))
        res["fin"].append({"seed": seed, "wall": s, "rss": rss, "out": out,
                           "metrics": metrics})
        # The same job with a forest of one tree: reading, parsing, the
        # threshold, the metrics and writing cost what they cost at 100
        # trees, so the difference is what the other 99 trees cost.
        s1, _ = run_measured(
            [fin_anomaly, "--method", "iforest", *fin_args, "-s", str(seed),
             "--trees", "1", path],
            os.devnull, work(f"fin1_err_{seed}.txt"))
        res["fin1"].append(s1)
    for seed in sk_seeds:
        print(f"{name}, seed {seed}: scikit-learn ...", flush=True)
        out = work(f"sk_scores_{seed}.csv")
        err = work(f"sk_err_{seed}.txt")
        argv = [sys.executable, os.path.abspath(__file__), "--sklearn-job",
                path, out, ",".join(drop), str(seed)]
        s, rss = run_measured(argv, os.devnull, err)
        with open(err) as f:
            facts = json.loads(f.read().strip().splitlines()[-1])
        res["sk"].append({"seed": seed, "wall": s, "rss": rss, "out": out,
                          **facts})
    return res


def read_scores(path, rows, key_values, tool):
    """The score column of a scores file, checked against the input rows.

    The score is the last field but one in every row (`anomaly` is the
    last), whatever key columns come before it. Returns (scores, notes).
    """
    import numpy as np
    import pandas as pd

    notes = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
        first = f.readline().rstrip("\n").split(",")
    if len(header) != len(first):
        notes.append(f"{tool}'s output header has {len(header)} fields "
                     f"({','.join(header)}), its rows {len(first)}")
    df = pd.read_csv(path, header=None, skiprows=1)
    if len(df) != rows:
        sys.exit(f"error: {path}: {len(df)} rows of scores for {rows} "
                 f"input rows")
    if key_values is not None:
        if df.shape[1] < 3 or not np.array_equal(df.iloc[:, 0].to_numpy(),
                                                  key_values):
            sys.exit(f"error: {path}: the key column does not match the "
                     f"input's, row by row")
    return df.iloc[:, -2].to_numpy(dtype=np.float64), notes


def evaluate(res, label, positive, key):
    """Add ROC-AUC to every run of res, from the scores written."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    df = pd.read_csv(res["path"], dtype={label: str})
    y = (df[label].str.strip() == positive).to_numpy()
    keys = df[key].to_numpy() if key else None
    res["rows"], res["positives"] = len(df), int(y.sum())
    res["notes"] = []
    for tool, r in [("fin-anomaly", r) for r in res["fin"]] + \
            [("scikit-learn", r) for r in res["sk"]]:
        scores, notes = read_scores(r["out"], len(df), keys, tool)
        for n in notes:
            if n not in res["notes"]:
                res["notes"].append(n)
        r["auc"] = float(roc_auc_score(y, scores))
    for r in res["fin"]:
        with open(r["metrics"]) as f:
            m = json.load(f)
        r["own_auc"] = m["roc_auc"]
        if (m["rows"], m["positives"]) != (len(df), res["positives"]):
            res["notes"].append(
                f"seed {r['seed']}: fin-anomaly's metrics count "
                f"{m['rows']} rows, {m['positives']} positive; the benchmark "
                f"{len(df)} and {res['positives']}")
        if abs(m["roc_auc"] - r["auc"]) > AUC_CHECK_TOL:
            res["notes"].append(
                f"seed {r['seed']}: fin-anomaly's own ROC-AUC is "
                f"{m['roc_auc']}, its scores give {r['auc']:.6f}")
    res["fin_check"] = max(abs(r["own_auc"] - r["auc"]) for r in res["fin"])


# ---------------------------------------------------------------- report

def auc_summary(runs):
    a = [r["auc"] for r in runs]
    sd = statistics.stdev(a) if len(a) > 1 else float("nan")
    return statistics.mean(a), min(a), max(a), sd


def seed_list(runs):
    seeds = [r["seed"] for r in runs]
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def report(res, features):
    fin, sk = res["fin"], res["sk"]
    fin_wall = statistics.median(r["wall"] for r in fin)
    fin1_wall = statistics.median(res["fin1"])
    fin_forest = max(fin_wall - fin1_wall, 0.0) * TREES / (TREES - 1)
    sk_job = statistics.median(r["job"] for r in sk)
    sk_wall = statistics.median(r["wall"] for r in sk)
    sk_fs = statistics.median(r["fit"] + r["score"] for r in sk)
    fin_rss = max(r["rss"] for r in fin)
    sk_rss = max(r["rss"] for r in sk)
    fm, fmin, fmax, fsd = auc_summary(fin)
    sm, smin, smax, ssd = auc_summary(sk)

    print()
    shown = os.path.relpath(res["path"], REPO)
    if shown.startswith(".."):
        shown = res["path"]
    print(f"{res['name']}: {shown}, "
          f"{res['rows']:,} rows, {features} features, "
          f"{res['positives']:,} anomalies "
          f"({100 * res['positives'] / res['rows']:.1f}%)")
    print(f"seeds: fin-anomaly {seed_list(fin)}, scikit-learn "
          f"{seed_list(sk)}; seconds are medians over seeds")
    print(f"{'':<40} {'seconds':>8} {'fit+score':>10} {'peak RSS':>9} "
          f"{'ROC-AUC':>8} {'min':>7} {'max':>7}")
    print(f"{'':<40} {'':>8} {'seconds':>10} {'MiB':>9} {'mean':>8}")
    print(f"{'fin-anomaly (whole process)':<40} {fin_wall:>8.3f} "
          f"{fin_forest:>9.3f}* {fin_rss:>9.1f} {fm:>8.4f} {fmin:>7.4f} "
          f"{fmax:>7.4f}")
    print(f"{'scikit-learn (read, fit, score, write)':<40} {sk_job:>8.3f} "
          f"{sk_fs:>10.3f} {'':>9} {sm:>8.4f} {smin:>7.4f} "
          f"{smax:>7.4f}")
    print(f"{'scikit-learn (whole process)':<40} {sk_wall:>8.3f} {'':>10} "
          f"{sk_rss:>9.1f}")
    print(f"  * estimated: whole process at --trees {TREES} minus at "
          f"--trees 1 ({fin1_wall:.3f} s), x{TREES}/{TREES - 1}")
    print(f"  scikit-learn steps: read_csv "
          f"{statistics.median(r['read'] for r in sk):.3f}, fit "
          f"{statistics.median(r['fit'] for r in sk):.3f}, score_samples "
          f"{statistics.median(r['score'] for r in sk):.3f}, to_csv "
          f"{statistics.median(r['write'] for r in sk):.3f} s")
    print("  ROC-AUC per seed: fin-anomaly "
          + " ".join(f"{r['auc']:.4f}" for r in fin)
          + "; scikit-learn " + " ".join(f"{r['auc']:.4f}" for r in sk))
    print(f"  fin-anomaly's --metrics agree with the ROC-AUC of its scores "
          f"within {res['fin_check']:.1g}" if not any(
              "own ROC-AUC" in n for n in res["notes"]) else
          "  fin-anomaly's --metrics DISAGREE with its scores (see notes)")
    for n in res["notes"]:
        print(f"  note: {n}")

    speedup = sk_job / fin_wall
    print(f"speed (scikit-learn job / fin-anomaly whole process): "
          f"{speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x): "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
    fs_text = (f"{sk_fs / fin_forest:.1f}x" if fin_forest > 0
               else "not measurable")
    print(f"  fit+score alone: {fs_text} (scikit-learn {sk_fs:.3f} s, "
          f"fin-anomaly about {fin_forest:.3f} s); scikit-learn's whole "
          f"process with start-up and imports: {sk_wall / fin_wall:.2f}x")
    diff = fm - sm
    print(f"ROC-AUC (fin-anomaly mean - scikit-learn mean): {diff:+.4f} "
          f"(target >= 0): {'met' if diff >= 0 else 'NOT met'}")
    if len(fin) > 1 and len(sk) > 1:
        se = (fsd ** 2 / len(fin) + ssd ** 2 / len(sk)) ** 0.5
        print(f"  sd over seeds: fin-anomaly {fsd:.4f}, scikit-learn "
              f"{ssd:.4f}; standard error of the difference {se:.4f}")
        if se > 0:
            # Information only; the target is the plain comparison above.
            z = diff / se
            print(f"  the difference is {z:+.1f} standard errors"
                  + ("; within 2, so these seeds cannot tell the tools "
                     "apart" if abs(z) < 2 else ""))
    elif len(sk) == 1:
        print("  scikit-learn ran with one seed; its ROC-AUC is one draw")
    return {"speed": (speedup >= SPEEDUP_TARGET, f"{speedup:.2f}x"),
            "auc": (diff >= 0, f"{diff:+.4f}")}


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000,
                    help="rows of the transaction table (default 1000000)")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding fin-anomaly, relative to the "
                         "repository root unless absolute (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-bench-anomaly",
                    help="where inputs and outputs go "
                         "(default /tmp/fin-bench-anomaly)")
    # A forest's ROC-AUC varies with its seed by more than the two tools
    # differ: enough seeds to compare means, within a few minutes.
    ap.add_argument("--seeds", type=int, default=50,
                    help="seeds per tool on the German credit data "
                         "(default 50)")
    ap.add_argument("--big-seeds", type=int, default=10,
                    help="seeds per tool on the transaction table "
                         "(default 10)")
    ap.add_argument("--sklearn-job", nargs=4,
                    metavar=("IN", "OUT", "DROP", "SEED"),
                    help=argparse.SUPPRESS)   # internal: the child process
    args = ap.parse_args()

    if args.sklearn_job:
        inp, out, drop, seed = args.sklearn_job
        sklearn_job(inp, out, drop, int(seed))
        return 0

    if args.rows < 2:
        ap.error("--rows must be at least 2")
    if args.seeds < 1 or args.big_seeds < 1:
        ap.error("--seeds and --big-seeds must be at least 1")
    fin_anomaly, = fin_tools(args.bin, "fin-anomaly")
    bindir = os.path.dirname(fin_anomaly)
    require("sklearn, pandas", "python3-sklearn python3-pandas")
    os.makedirs(args.workdir, exist_ok=True)
    fin_version = tool_version(fin_anomaly)

    german = bench_data_set(
        "german", GERMAN, [GERMAN_LABEL],
        ["--label", GERMAN_LABEL, "--positive", GERMAN_POSITIVE],
        range(1, args.seeds + 1), range(1, args.seeds + 1), bindir,
        args.workdir)
    tx_path = ensure_table(args.workdir, "transactions", args.rows)
    tx = bench_data_set(
        "transactions", tx_path, [TX_KEY, TX_LABEL],
        ["-k", TX_KEY, "--label", TX_LABEL, "--positive", TX_POSITIVE],
        range(1, args.big_seeds + 1), range(1, args.big_seeds + 1), bindir,
        args.workdir)

    # pandas and scikit-learn are imported only now, after every measured
    # run, so that this script's own peak stays small (see run_measured).
    evaluate(german, GERMAN_LABEL, GERMAN_POSITIVE, None)
    evaluate(tx, TX_LABEL, TX_POSITIVE, TX_KEY)

    sk0 = german["sk"][0]
    print()
    print(f"versions: {fin_version}, scikit-learn {sk0['sklearn']}; "
          f"{TREES} trees of {sk0['max_samples']} rows on both sides, "
          f"one thread")
    print("fin-anomaly: whole process (read, fit, threshold, score, write, "
          "metrics); scikit-learn: read_csv + fit + score_samples + to_csv, "
          "after start-up and imports")
    results = [report(german, sk0["features"]),
               report(tx, tx["sk"][0]["features"])]
    if not os.access(GNU_TIME, os.X_OK):
        print(f"note: {GNU_TIME} not found, RSS read with wait4; figures up "
              f"to {launcher_floor_mib():.1f} MiB are only an upper bound "
              f"(install the `time` package)")

    print()
    for res, ok in zip((german, tx), results):
        for what, label in (("speed", "speed"), ("auc", "ROC-AUC")):
            met, figure = ok[what]
            print(f"{res['name']} {label} ({figure}): "
                  f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
