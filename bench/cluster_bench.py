#!/usr/bin/python3
"""Benchmark fin-cluster's k-means against scikit-learn's KMeans.

Usage: cluster_bench.py [--rows 200000] [--bin build/bin] [--workdir DIR]
                        [--seeds 20] [--restarts 10]

Both tools cluster the same synthetic customer table (gen_customers.py,
200,000 rows by default: a customer_id key and eight numeric features) into
k = 6 clusters, in one run:

    fin-cluster --clusters 6 --restarts 10 -s SEED -k customer_id -o model.json \\
        customers.csv > clusters.csv

and, in a Python process of its own, read_csv, standardisation in numpy
with the mean and sample standard deviation (n - 1) of the rows, as
fin-cluster does by default, KMeans(n_clusters=6, init='k-means++',
n_init=10, random_state=SEED) with every other setting at its default
(max_iter 300, tol 1e-4, algorithm 'lloyd'), the labels of the fitted rows
with the distance to their centroid, and to_csv of the key, cluster and
distance. One thread on both sides. Every run is its own process, with
wall time and peak RSS measured the same way.

Quality is the inertia, computed here for both tools in the same way: in
double, in the standardised space, from the labels each tool wrote and the
centroids those labels give (the mean of each cluster's rows). The figures
each tool reports itself (fin-cluster's model file, scikit-learn's
inertia_) are checked against it. Each tool runs with several seeds
(fin-cluster -s, random_state); the two generators differ, so the same
seed does not give the same starts.

--restarts sets both tools' number of starts (fin-cluster --restarts,
scikit-learn n_init); with --restarts 1 and many seeds, the report's count
of runs that reach the best optimum seen compares single k-means++ starts.

Then a large input: fin-cluster reads the customer table from a pipe
(`cat table | fin-cluster ...`, spooled to read it in passes) at
--large-rows (2,000,000 by default) and a tenth of it, seed 1, with its peak
RSS, the passes over all rows (the model's iterations) and the inertia it
reports; at the smaller size also with --init-sample as large as the table,
which holds every row and fits them in memory, to set the inertia of the
fit in passes against it. --large-only runs this part alone.

This is a benchmark, not a test: missed targets are reported, not fatal.
It exits non-zero only when a tool fails or writes an output that does not
match its input.
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

KEY = "customer_id"
K = 6
RESTARTS = 10            # default fin-cluster --restarts, scikit-learn n_init
BEST_TOL = 1e-4          # within this of the best inertia seen: the best optimum
SPEEDUP_TARGET = 1.0     # fin-cluster at least as fast as scikit-learn
INERTIA_TARGET = 0.001   # fin-cluster's mean inertia at most 0.1% above
OWN_INERTIA_TOL = 1e-4   # a tool's own inertia against the recomputation
SPACE_TOL = 1e-6         # fin-cluster's stored mean and sd against numpy's
LARGE_RSS_TARGET = 64    # MiB: fin-cluster on --large-rows from a pipe


# ---------------------------------------------------------------- sklearn job

def standardise(x):
    """x [n][d] less its column means, over its sample sd (n - 1); a
    constant column keeps sd 1, as in fin-cluster. Returns (z, mean, sd)."""
    import numpy as np

    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1) if len(x) > 1 else np.zeros(x.shape[1])
    sd[~(sd > 0)] = 1.0
    return (x - mean) / sd, mean, sd


def sklearn_job(inp, out, seed, restarts):
    """The scikit-learn job, run in a child process.

    Reads inp, standardises every column but the key, fits
    KMeans(K, init='k-means++', n_init=restarts, random_state=seed) with
    every other default, and writes the key, each row's cluster and its
    Euclidean distance to the centroid to out, as fin-cluster does. Prints
    the seconds of each step, after imports, as one JSON line on stderr.
    """
    import contextlib

    import numpy as np
    import pandas as pd
    import sklearn
    from sklearn.cluster import KMeans
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=1)
        have_tpc = True
    except ImportError:
        limit = contextlib.nullcontext()
        have_tpc = False

    with limit:
        t0 = time.perf_counter()
        df = pd.read_csv(inp, dtype={KEY: str})
        t1 = time.perf_counter()
        z, _, _ = standardise(df.drop(columns=[KEY]).to_numpy(np.float64))
        t2 = time.perf_counter()
        km = KMeans(n_clusters=K, init="k-means++", n_init=restarts,
                    random_state=seed).fit(z)
        t3 = time.perf_counter()
        # labels_ are the fitted rows' nearest final centroids, what
        # predict(z) would give, without a second pass over the rows.
        labels = km.labels_
        dist = np.sqrt(((z - km.cluster_centers_[labels]) ** 2).sum(axis=1))
        t4 = time.perf_counter()
        pd.DataFrame({KEY: df[KEY], "cluster": labels,
                      "distance": dist}).to_csv(out, index=False)
        t5 = time.perf_counter()
    sys.stderr.write(json.dumps({
        "read": t1 - t0, "scale": t2 - t1, "fit": t3 - t2,
        "label": t4 - t3, "write": t5 - t4, "job": t5 - t0,
        "own_inertia": float(km.inertia_), "n_iter": int(km.n_iter_),
        "sklearn": sklearn.__version__, "threadpoolctl": have_tpc,
        "params": {p: km.get_params()[p] for p in
                   ("n_clusters", "init", "n_init", "max_iter", "tol",
                    "algorithm")},
        "features": int(z.shape[1])}) + "\n")


# ---------------------------------------------------------------- measuring


# ---------------------------------------------------------------- input


# ---------------------------------------------------------------- runs

def run_all(path, seeds, bindir, workdir, restarts):
    """Run both tools with every seed; return the raw figures."""
    fin_cluster = os.path.join(bindir, "fin-cluster")
    res = {"path": path, "fin": [], "fin1": [], "sk": [], "restarts": restarts}

    def work(f):
        return os.path.join(workdir, f)

    for seed in seeds:
        print(f"seed {seed}: fin-cluster ...", flush=True)
        model = work(f"fin_model_{seed}.json")
        out = work(f"fin_clusters_{seed}.csv")
        argv = [fin_cluster, "--clusters", str(K), "--restarts", str(restarts),
                "-s", str(seed), "-k", KEY, "-o", model, path]
        s, rss = run_measured(argv, out, work(f"fin_err_{seed}.txt"))
        res["fin"].append({"seed": seed, "wall": s, "rss": rss, "out": out,
                           "model": model})
        # The same job with one start of one iteration: reading,
        # standardising, assigning and writing cost what they cost above,
        # so the difference is about what the fit costs (less one
        # k-means++ start and one Lloyd iteration).
        s1, _ = run_measured(
            [fin_cluster, "--clusters", str(K), "--restarts", "1", "--max-iter", "1",
             "-s", str(seed), "-k", KEY, "-o", work("fin1_model.json"),
             path],
            os.devnull, work(f"fin1_err_{seed}.txt"))
        res["fin1"].append(s1)
        print(f"seed {seed}: scikit-learn ...", flush=True)
        out = work(f"sk_clusters_{seed}.csv")
        err = work(f"sk_err_{seed}.txt")
        argv = [sys.executable, os.path.abspath(__file__), "--sklearn-job",
                path, out, str(seed), str(restarts)]
        s, rss = run_measured(argv, os.devnull, err)
        with open(err) as f:
            facts = json.loads(f.read().strip().splitlines()[-1])
        res["sk"].append({"seed": seed, "wall": s, "rss": rss, "out": out,
                          **facts})
    return res


def read_labels(path, keys, tool):
    """The cluster column of an output file, checked against the input:
    header key,cluster,distance, one row per input row, the same keys in
    the same order, clusters in [0, K)."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path, dtype={KEY: str})
    if list(df.columns) != [KEY, "cluster", "distance"]:
        sys.exit(f"error: {path}: {tool} wrote the columns "
                 f"{','.join(map(str, df.columns))}, not "
                 f"{KEY},cluster,distance")
    if len(df) != len(keys):
        sys.exit(f"error: {path}: {len(df)} rows for {len(keys)} input rows")
    if not np.array_equal(df[KEY].to_numpy(), keys):
        sys.exit(f"error: {path}: the key column does not match the "
                 f"input's, row by row")
    labels = df["cluster"].to_numpy()
    if labels.min() < 0 or labels.max() >= K:
        sys.exit(f"error: {path}: a cluster outside 0-{K - 1}")
    return labels.astype(np.int64)


def inertia_of(z, labels):
    """Sum of squared distances of the rows of z to the mean of their
    cluster, in double; also returns the number of non-empty clusters."""
    total, used = 0.0, 0
    for c in range(K):
        rows = z[labels == c]
        if len(rows):
            used += 1
            total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total, used


def evaluate(res):
    """Add the recomputed inertia to every run, and check each tool's own
    figures against it."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(res["path"], dtype={KEY: str})
    keys = df[KEY].to_numpy()
    names = [c for c in df.columns if c != KEY]
    z, mean, sd = standardise(df.drop(columns=[KEY]).to_numpy(np.float64))
    res["rows"], res["features"] = z.shape
    res["notes"] = []
    notes = res["notes"]
    for tool, r in [("fin-cluster", r) for r in res["fin"]] + \
            [("scikit-learn", r) for r in res["sk"]]:
        labels = read_labels(r["out"], keys, tool)
        r["inertia"], r["used"] = inertia_of(z, labels)
        if r["used"] < K:
            notes.append(f"{tool}, seed {r['seed']}: only {r['used']} of "
                         f"{K} clusters hold rows")
    space_err = 0.0
    for r in res["fin"]:
        with open(r["model"]) as f:
            m = json.load(f)
        r["own_inertia"], r["n_iter"] = m["inertia"], m["fit"]["iterations"]
        if m["features"] != names or not m["scaled"]:
            notes.append(f"seed {r['seed']}: fin-cluster's model has the "
                         f"features {m['features']}, scaled "
                         f"{m['scaled']}; expected {names}, scaled")
            continue
        space_err = max(space_err, float(np.max(
            np.abs(np.array(m["mean"]) - mean) / sd)), float(np.max(
                np.abs(np.array(m["sd"]) / sd - 1))))
    res["space_err"] = space_err
    if space_err > SPACE_TOL:
        notes.append(f"fin-cluster's stored mean and sd differ from numpy's "
                     f"by up to {space_err:.1g} (of an sd): not quite the "
                     f"same space")
    res["own_err"] = {}
    for tool, runs in (("fin-cluster", res["fin"]), ("scikit-learn", res["sk"])):
        worst = 0.0
        for r in runs:
            # A tool's inertia is measured with its own final centroids,
            # which can be a little off the means of its final labels; the
            # recomputation can only be lower or equal.
            rel = r["own_inertia"] / r["inertia"] - 1
            worst = max(worst, abs(rel))
            if abs(rel) > OWN_INERTIA_TOL:
                notes.append(f"{tool}, seed {r['seed']}: its own inertia "
                             f"{r['own_inertia']:.6g} is {100 * rel:+.3f}% "
                             f"off the recomputed {r['inertia']:.6g}")
        res["own_err"][tool] = worst


# ---------------------------------------------------------------- report

def report(res, fin_version):
    fin, sk = res["fin"], res["sk"]
    fin_wall = statistics.median(r["wall"] for r in fin)
    fin1_wall = statistics.median(res["fin1"])
    fin_fit = max(fin_wall - fin1_wall, 0.0)
    sk_job = statistics.median(r["job"] for r in sk)
    sk_wall = statistics.median(r["wall"] for r in sk)
    sk_fit = statistics.median(r["fit"] for r in sk)
    fin_rss = max(r["rss"] for r in fin)
    sk_rss = max(r["rss"] for r in sk)
    fin_in = [r["inertia"] for r in fin]
    sk_in = [r["inertia"] for r in sk]
    fin_mean, sk_mean = statistics.mean(fin_in), statistics.mean(sk_in)
    sk0 = sk[0]

    print()
    shown = os.path.relpath(res["path"], REPO)
    if shown.startswith(".."):
        shown = res["path"]
    print(f"versions: {fin_version}, scikit-learn {sk0['sklearn']}"
          f" (threadpoolctl {'used' if sk0['threadpoolctl'] else 'absent'})"
          f"; one thread on both sides")
    p = sk0["params"]
    print(f"data: {shown}, {res['rows']:,} rows, {res['features']} features, "
          f"standardised (mean, sample sd); k = {K}, {res['restarts']} "
          f"k-means++ starts, max_iter {p['max_iter']}, tol {p['tol']:g}, "
          f"scikit-learn algorithm '{p['algorithm']}'")
    print(f"seeds: {', '.join(str(r['seed']) for r in fin)} on both sides; "
          f"seconds are medians over seeds, inertia is recomputed here in "
          f"double from each tool's labels")
    print(f"{'':<44} {'seconds':>8} {'fit':>8} {'peak RSS':>9} "
          f"{'inertia':>12} {'best':>12}")
    print(f"{'':<44} {'':>8} {'seconds':>8} {'MiB':>9} {'mean':>12}")
    print(f"{'fin-cluster (whole process)':<44} {fin_wall:>8.3f} "
          f"{fin_fit:>7.3f}* {fin_rss:>9.1f} {fin_mean:>12.1f} "
          f"{min(fin_in):>12.1f}")
    print(f"{'scikit-learn (read, scale, fit, label, write)':<44} "
          f"{sk_job:>8.3f} {sk_fit:>8.3f} {'':>9} {sk_mean:>12.1f} "
          f"{min(sk_in):>12.1f}")
    print(f"{'scikit-learn (whole process)':<44} {sk_wall:>8.3f} {'':>8} "
          f"{sk_rss:>9.1f}")
    print(f"  * estimated: whole process minus the same job at --restarts 1 "
          f"--max-iter 1 ({fin1_wall:.3f} s)")
    print(f"  scikit-learn steps: read_csv "
          f"{statistics.median(r['read'] for r in sk):.3f}, standardise "
          f"{statistics.median(r['scale'] for r in sk):.3f}, fit "
          f"{sk_fit:.3f}, labels and distances "
          f"{statistics.median(r['label'] for r in sk):.3f}, to_csv "
          f"{statistics.median(r['write'] for r in sk):.3f} s")
    print()
    print(f"  {'seed':>4} {'fin-cluster':>13} {'scikit-learn':>13} "
          f"{'fin/sk - 1':>11} {'fin s':>7} {'sk s':>7} {'fin it':>6} "
          f"{'sk it':>6}")
    for f, s in zip(fin, sk):
        print(f"  {f['seed']:>4} {f['inertia']:>13.2f} {s['inertia']:>13.2f} "
              f"{100 * (f['inertia'] / s['inertia'] - 1):>+10.4f}% "
              f"{f['wall']:>7.3f} {s['job']:>7.3f} {f['n_iter']:>6} "
              f"{s['n_iter']:>6}")
    print("  (it: Lloyd iterations of the start kept; sk s: the job after "
          "imports)")
    print(f"  fin-cluster's stored mean and sd match numpy's within "
          f"{res['space_err']:.1g} of an sd" if res["space_err"] <= SPACE_TOL
          else "  fin-cluster's stored mean and sd DIFFER from numpy's "
               "(see notes)")
    print(f"  own inertia against the recomputation: fin-cluster (model "
          f"file) within {res['own_err']['fin-cluster']:.1g}, scikit-learn "
          f"(inertia_) within {res['own_err']['scikit-learn']:.1g} relative")
    for n in res["notes"]:
        print(f"  note: {n}")

    speedup = sk_job / fin_wall
    print()
    print(f"speed (scikit-learn job / fin-cluster whole process): "
          f"{speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x): "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}")
    fit_text = (f"{sk_fit / fin_fit:.2f}x" if fin_fit > 0
                else "not measurable")
    print(f"  fit alone: {fit_text} (scikit-learn {sk_fit:.3f} s, "
          f"fin-cluster about {fin_fit:.3f} s); scikit-learn's whole "
          f"process with start-up and imports: {sk_wall / fin_wall:.2f}x")
    excess = fin_mean / sk_mean - 1
    print(f"inertia (fin-cluster mean / scikit-learn mean - 1): "
          f"{100 * excess:+.4f}% (target <= +{100 * INERTIA_TARGET:g}%): "
          f"{'met' if excess <= INERTIA_TARGET else 'NOT met'}")
    best = min(fin_in) / min(sk_in) - 1
    worse = sum(f > s * (1 + INERTIA_TARGET) for f, s in zip(fin_in, sk_in))
    print(f"  best over seeds: {100 * best:+.4f}%; seeds where fin-cluster "
          f"is more than {100 * INERTIA_TARGET:g}% above scikit-learn: "
          f"{worse} of {len(fin_in)}")
    top = min(fin_in + sk_in)
    reach = [sum(v <= top * (1 + BEST_TOL) for v in side) for side in (fin_in, sk_in)]
    print(f"  runs within {100 * BEST_TOL:g}% of the best inertia seen ({top:.1f}): "
          f"fin-cluster {reach[0]} of {len(fin_in)}, scikit-learn {reach[1]} of {len(sk_in)}")
    return speedup >= SPEEDUP_TARGET, excess <= INERTIA_TARGET, speedup, excess


# ---------------------------------------------------------------- large input

def large_bench(rows, bindir, workdir):
    """fin-cluster from a pipe at rows // 10 and rows, and at rows // 10
    with every row held; prints the figures, returns the memory target."""
    fin_cluster = os.path.join(bindir, "fin-cluster")
    runs = []
    for n, hold in ((rows // 10, None), (rows // 10, rows // 10), (rows, None)):
        path = ensure_table(workdir, "customers", n)
        model = os.path.join(workdir, f"large_{n}_{hold}.json")
        print(f"large: fin-cluster, {n:,} rows from a pipe"
              + (f", --init-sample {hold}" if hold else "") + " ...", flush=True)
        s, rss = run_measured(
            [fin_cluster, "--clusters", str(K), "-s", "1", "-k", KEY, "-q", "-o", model,
             *(["--init-sample", str(hold)] if hold else [])],
            os.devnull, os.path.join(workdir, f"large_{n}_{hold}_err.txt"),
            stdin_path=path, pipe=True)
        with open(model) as f:
            m = json.load(f)
        runs.append({"rows": n, "hold": hold, "wall": s, "rss": rss,
                     "inertia": m["inertia"], "passes": m["fit"]["iterations"]})
    print()
    print(f"large input: fin-cluster --clusters {K} -s 1 from a pipe "
          f"(cat table | fin-cluster ...)")
    print(f"{'rows':>10} {'rows held':>10} {'seconds':>8} {'peak RSS MiB':>13} "
          f"{'passes':>7} {'inertia':>14}")
    for r in runs:
        held = f"{r['hold']:,}" if r["hold"] else "100,000"
        print(f"{r['rows']:>10,} {held:>10} {r['wall']:>8.2f} {r['rss']:>13.1f} "
              f"{r['passes']:>7} {r['inertia']:>14,.1f}")
    sampled, held, big = runs
    print(f"  at {sampled['rows']:,} rows the fit in passes has "
          f"{100 * (sampled['inertia'] / held['inertia'] - 1):+.5f}% the inertia of "
          f"the fit of every row held in memory ({held['rss']:.1f} MiB)")
    print(f"  peak RSS {sampled['rss']:.1f} MiB at {sampled['rows']:,} rows, "
          f"{big['rss']:.1f} MiB at {big['rows']:,}: "
          f"{big['rss'] - sampled['rss']:+.1f} MiB for ten times the rows")
    return big["rss"] < LARGE_RSS_TARGET, f"{big['rss']:.1f} MiB at {big['rows']:,} rows"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000,
                    help="rows of the customer table (default 200000)")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding fin-cluster, relative to the "
                         "repository root unless absolute (default build/bin)")
    ap.add_argument("--workdir", default="/tmp/fin-bench-cluster",
                    help="where inputs and outputs go "
                         "(default /tmp/fin-bench-cluster)")
    # One k-means++ run in a few dozen ends in a worse local optimum on
    # either side: enough seeds that one such run does not decide the mean.
    ap.add_argument("--seeds", type=int, default=20,
                    help="seeds per tool, 1 to N (default 20)")
    ap.add_argument("--restarts", type=int, default=RESTARTS,
                    help=f"k-means++ starts of each run on both sides (default {RESTARTS})")
    ap.add_argument("--large-rows", type=int, default=2_000_000,
                    help="rows of the large input read from a pipe (default "
                         "2000000; 0 leaves that part out)")
    ap.add_argument("--large-only", action="store_true",
                    help="run the large-input part alone")
    ap.add_argument("--sklearn-job", nargs=4, metavar=("IN", "OUT", "SEED", "RESTARTS"),
                    help=argparse.SUPPRESS)   # internal: the child process
    args = ap.parse_args()

    if args.sklearn_job:
        inp, out, seed, restarts = args.sklearn_job
        sklearn_job(inp, out, int(seed), int(restarts))
        return 0

    if args.rows < K:
        ap.error(f"--rows must be at least {K}")
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    if args.restarts < 1:
        ap.error("--restarts must be at least 1")
    fin_cluster, = fin_tools(args.bin, "fin-cluster")
    bindir = os.path.dirname(fin_cluster)
    require("sklearn, pandas", "python3-sklearn python3-pandas")
    os.makedirs(args.workdir, exist_ok=True)
    fin_version = tool_version(fin_cluster)
    if args.large_only:
        met, figure = large_bench(args.large_rows, bindir, args.workdir)
        print(f"\nversions: {fin_version}")
        print(f"large input, peak RSS ({figure}, target < {LARGE_RSS_TARGET} MiB): "
              f"{'met' if met else 'NOT met'}")
        return 0

    path = ensure_table(args.workdir, "customers", args.rows)
    res = run_all(path, range(1, args.seeds + 1), bindir, args.workdir, args.restarts)
    # pandas and numpy are imported only now, after every measured run,
    # so that this script's own peak stays small (see run_measured).
    large = (large_bench(args.large_rows, bindir, args.workdir)
             if args.large_rows >= 10 * K else None)
    evaluate(res)
    speed_ok, inertia_ok, speedup, excess = report(res, fin_version)
    if not os.access(GNU_TIME, os.X_OK):
        print(f"note: {GNU_TIME} not found, RSS read with wait4; figures up "
              f"to {launcher_floor_mib():.1f} MiB are only an upper bound "
              f"(install the `time` package)")

    print()
    print(f"speed ({speedup:.2f}x): {'met' if speed_ok else 'NOT met'}")
    print(f"inertia ({100 * excess:+.4f}%): "
          f"{'met' if inertia_ok else 'NOT met'}")
    if large:
        print(f"large input, peak RSS ({large[1]}, target < {LARGE_RSS_TARGET} MiB): "
              f"{'met' if large[0] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
