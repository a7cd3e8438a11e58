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

Then fitting in constant memory: `fin-anomaly fit` with the isolation
forest and with Mahalanobis distances reads the transaction table from a
pipe (`cat table | fin-anomaly fit ...`, so it must spool standard input
to read it in passes) at two sizes, --stream-rows (4,000,000 by default)
and a tenth of it, with its peak RSS measured by GNU time; the detectors
fitted on the large table then score it (`fin-anomaly score`), and the
ROC-AUC of those scores against is_fraud is set next to scikit-learn's
IsolationForest (same seeds) and LedoitWolf().mahalanobis, fitted on the
same rows held in memory. --stream-only runs this part alone.

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
STREAM_RSS_TARGET = 64   # MiB: fin-anomaly fit on --stream-rows from a pipe
STREAM_AUC_TOL = 0.005   # iforest: fin's mean ROC-AUC at least sklearn's minus this
STREAM_MAHALANOBIS_TOL = 0.001  # the same method: the same ROC-AUC within this


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


def sklearn_stream_job(inp, seeds, out):
    """The scikit-learn side of the constant-memory part, in a child
    process: read_csv, then for each seed IsolationForest(random_state=seed)
    fitted on every row and scored on them, and LedoitWolf's Mahalanobis
    distances (in float64, of the float32 values fin reads); ROC-AUC of
    each against is_fraud, with seconds, as JSON to out."""
    import numpy as np
    import pandas as pd
    from sklearn.covariance import LedoitWolf
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    t0 = time.perf_counter()
    df = pd.read_csv(inp)
    y = (df[TX_LABEL] == int(TX_POSITIVE)).to_numpy()
    x = df.drop(columns=[TX_KEY, TX_LABEL]).to_numpy(dtype=np.float32)
    del df
    res = {"read": time.perf_counter() - t0, "iforest": []}
    for seed in seeds:
        t0 = time.perf_counter()
        forest = IsolationForest(random_state=seed).fit(x)
        score = -forest.score_samples(x)
        res["iforest"].append({"seed": seed, "seconds": time.perf_counter() - t0,
                               "auc": float(roc_auc_score(y, score))})
    t0 = time.perf_counter()
    x64 = x.astype(np.float64)
    lw = LedoitWolf().fit(x64)
    score = lw.mahalanobis(x64)   # squared: the same order as the distance
    res["mahalanobis"] = {"seconds": time.perf_counter() - t0,
                          "auc": float(roc_auc_score(y, score)),
                          "shrinkage": float(lw.shrinkage_)}
    with open(out, "w") as f:
        json.dump(res, f)


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


# ---------------------------------------------------------------- streaming

def stream_bench(rows, seeds, bindir, workdir):
    """fin-anomaly fit from a pipe at rows and rows // 10; the large fits
    then score the large table. Returns the raw figures."""
    fin_anomaly = os.path.join(bindir, "fin-anomaly")
    res = {"rows": rows, "fits": [], "scores": {}}
    sizes = [rows // 10, rows]
    paths = {n: ensure_table(workdir, "transactions", n) for n in sizes}

    def work(f):
        return os.path.join(workdir, f"stream_{f}")

    for n in sizes:
        for method in ("iforest", "mahalanobis"):
            for seed in (seeds if method == "iforest" and n == rows else seeds[:1]):
                tag = f"{method}_{n}_{seed}"
                print(f"stream: fin-anomaly fit --method {method} -s {seed}, "
                      f"{n:,} rows from a pipe ...", flush=True)
                det = work(f"{tag}.json")
                s, rss = run_measured(
                    [fin_anomaly, "fit", "--method", method, "-k", TX_KEY, "--label",
                     TX_LABEL, "-s", str(seed), "-o", det],
                    os.devnull, work(f"{tag}_err.txt"), stdin_path=paths[n], pipe=True)
                res["fits"].append({"rows": n, "method": method, "seed": seed,
                                    "wall": s, "rss": rss})
                if n == rows:
                    out = work(f"{tag}_scores.csv")
                    s2, rss2 = run_measured([fin_anomaly, "score", "-q", "-m", det, paths[n]],
                                            out, work(f"{tag}_score_err.txt"))
                    res["scores"][(method, seed)] = {"out": out, "wall": s2, "rss": rss2}
    print(f"stream: scikit-learn on {rows:,} rows held in memory ...", flush=True)
    sk_out = work("sklearn.json")
    s, rss = run_measured([sys.executable, os.path.abspath(__file__), "--sklearn-stream-job",
                           paths[rows], ",".join(map(str, seeds)), sk_out],
                          os.devnull, work("sklearn_err.txt"))
    with open(sk_out) as f:
        res["sk"] = json.load(f)
    res["sk"]["wall"], res["sk"]["rss"] = s, rss
    res["path"] = paths[rows]
    return res


def stream_report(res):
    """Prints the constant-memory part; returns its targets."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    rows = res["rows"]
    y = (pd.read_csv(res["path"], usecols=[TX_LABEL])[TX_LABEL]
         == int(TX_POSITIVE)).to_numpy()
    auc = {}
    for key, r in res["scores"].items():
        scores = pd.read_csv(r["out"], usecols=["score"])["score"].to_numpy()
        if len(scores) != len(y):
            sys.exit(f"error: {r['out']}: {len(scores)} scores for {len(y)} rows")
        auc[key] = float(roc_auc_score(y, scores))
    print()
    print(f"fitting in constant memory: fin-anomaly fit from a pipe "
          f"(cat table | fin-anomaly fit ...), transactions table, 8 features, "
          f"{int(y.sum()):,} anomalies in {rows:,} rows")
    print(f"{'rows':>10} {'method':<12} {'seed':>4} {'seconds':>8} {'peak RSS MiB':>13}")
    for f in res["fits"]:
        print(f"{f['rows']:>10,} {f['method']:<12} {f['seed']:>4} {f['wall']:>8.2f} "
              f"{f['rss']:>13.1f}")
    sk = res["sk"]
    print(f"  scikit-learn (read_csv, then each fit and score on the rows in memory): "
          f"peak RSS {sk['rss']:.0f} MiB, read_csv {sk['read']:.1f} s, IsolationForest "
          + ", ".join(f"{r['seconds']:.1f}" for r in sk["iforest"])
          + f" s, LedoitWolf {sk['mahalanobis']['seconds']:.1f} s")
    fin_if = [auc[("iforest", r["seed"])] for r in sk["iforest"]]
    sk_if = [r["auc"] for r in sk["iforest"]]
    fin_m = [v for (m, _), v in auc.items() if m == "mahalanobis"][0]
    sk_m = sk["mahalanobis"]["auc"]
    print(f"ROC-AUC at {rows:,} rows, scored by fin-anomaly score with the detector "
          f"fitted from the pipe:")
    print(f"  iforest      fin-anomaly {statistics.mean(fin_if):.4f} "
          f"({' '.join(f'{a:.4f}' for a in fin_if)}), scikit-learn IsolationForest "
          f"{statistics.mean(sk_if):.4f} ({' '.join(f'{a:.4f}' for a in sk_if)}), "
          f"seeds {seed_list(sk['iforest'])}")
    print(f"  mahalanobis  fin-anomaly {fin_m:.6f}, scikit-learn LedoitWolf "
          f"{sk_m:.6f} (shrinkage {sk['mahalanobis']['shrinkage']:.3g})")
    big = [f for f in res["fits"] if f["rows"] == rows]
    small = [f for f in res["fits"] if f["rows"] == rows // 10]
    worst = max(f["rss"] for f in big)
    growth = max(f["rss"] for f in big) - max(f["rss"] for f in small)
    print(f"  peak RSS at {rows // 10:,} rows {max(f['rss'] for f in small):.1f} MiB, "
          f"at {rows:,} rows {worst:.1f} MiB: {growth:+.1f} MiB for ten times the rows")
    d_if = statistics.mean(fin_if) - statistics.mean(sk_if)
    d_m = fin_m - sk_m
    return {"memory": (worst < STREAM_RSS_TARGET,
                       f"{worst:.1f} MiB at {rows:,} rows, target < {STREAM_RSS_TARGET}"),
            "iforest_auc": (d_if >= -STREAM_AUC_TOL,
                            f"{d_if:+.4f} against scikit-learn, target >= "
                            f"-{STREAM_AUC_TOL}"),
            "mahalanobis_auc": (abs(d_m) <= STREAM_MAHALANOBIS_TOL,
                                f"{d_m:+.6f} against scikit-learn, target within "
                                f"{STREAM_MAHALANOBIS_TOL}")}


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
    ap.add_argument("--stream-rows", type=int, default=4_000_000,
                    help="rows of the constant-memory fits from a pipe "
                         "(default 4000000; 0 leaves that part out)")
    ap.add_argument("--stream-seeds", type=int, default=3,
                    help="isolation forest seeds per tool at --stream-rows "
                         "(default 3)")
    ap.add_argument("--stream-only", action="store_true",
                    help="run the constant-memory part alone")
    ap.add_argument("--sklearn-job", nargs=4,
                    metavar=("IN", "OUT", "DROP", "SEED"),
                    help=argparse.SUPPRESS)   # internal: the child process
    ap.add_argument("--sklearn-stream-job", nargs=3,
                    metavar=("IN", "SEEDS", "OUT"),
                    help=argparse.SUPPRESS)   # internal: the child process
    args = ap.parse_args()

    if args.sklearn_job:
        inp, out, drop, seed = args.sklearn_job
        sklearn_job(inp, out, drop, int(seed))
        return 0
    if args.sklearn_stream_job:
        inp, seeds, out = args.sklearn_stream_job
        sklearn_stream_job(inp, [int(s) for s in seeds.split(",")], out)
        return 0
    if args.stream_only and args.stream_rows < 20:
        ap.error("--stream-only needs --stream-rows of at least 20")

    if args.rows < 2:
        ap.error("--rows must be at least 2")
    if args.seeds < 1 or args.big_seeds < 1:
        ap.error("--seeds and --big-seeds must be at least 1")
    fin_anomaly, = fin_tools(args.bin, "fin-anomaly")
    bindir = os.path.dirname(fin_anomaly)
    require("sklearn, pandas", "python3-sklearn python3-pandas")
    os.makedirs(args.workdir, exist_ok=True)
    fin_version = tool_version(fin_anomaly)
    stream_seeds = list(range(1, args.stream_seeds + 1))
    if args.stream_only:
        res = stream_bench(args.stream_rows, stream_seeds, bindir, args.workdir)
        print(f"\nversions: {fin_version}")
        stream_targets(stream_report(res))
        return 0

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
    stream = (stream_bench(args.stream_rows, stream_seeds, bindir, args.workdir)
              if args.stream_rows >= 20 else None)
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

    stream_results = stream_report(stream) if stream else None
    print()
    for res, ok in zip((german, tx), results):
        for what, label in (("speed", "speed"), ("auc", "ROC-AUC")):
            met, figure = ok[what]
            print(f"{res['name']} {label} ({figure}): "
                  f"{'met' if met else 'NOT met'}")
    if stream_results:
        stream_targets(stream_results)
    return 0


def stream_targets(ok):
    for what, label in (("memory", "fit from a pipe, peak RSS"),
                        ("iforest_auc", "fit from a pipe, iforest ROC-AUC"),
                        ("mahalanobis_auc", "fit from a pipe, mahalanobis ROC-AUC")):
        met, figure = ok[what]
        print(f"{label} ({figure}): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
