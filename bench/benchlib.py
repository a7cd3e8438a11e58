"""What the benchmarks share: one thread for the reference tools, timing
and peak memory of a child process, and the training runs of the training
benchmarks. Import it before numpy, pandas or torch."""
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

# One thread on the reference side means its BLAS and OpenMP too: Debian's
# numpy, scikit-learn and PyTorch call the system OpenBLAS (pthreads build),
# which starts a thread per core whatever torch.set_num_threads says. Set
# before numpy is imported, here and in child processes, which inherit the
# environment. fin's tools get --threads 1 (their default).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

GNU_TIME = "/usr/bin/time"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fin_tools(bin_dir, *names):
    """Paths of the named fin tools in bin_dir (relative to the repository
    root unless absolute); exits when one is not built."""
    paths = [os.path.join(REPO, bin_dir, name) for name in names]
    for path in paths:
        if not os.access(path, os.X_OK):
            sys.exit(f"error: {path} not found; build it first (make)")
    return paths


def require(modules, packages):
    """Exits, naming the Debian packages to install, unless this Python
    imports every one of modules (a comma-separated list). The import runs
    in a child, so that this process keeps its one-thread settings."""
    probe = subprocess.run([sys.executable, "-c", f"import {modules}"], capture_output=True)
    if probe.returncode != 0:
        sys.exit(f"error: {modules} not found; install {packages} "
                 f"(apt-get install {packages})")


def tool_version(path):
    """The first line of a tool's --version."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True)
    return (out.stdout.strip().splitlines() or ["?"])[0]


def run_measured(argv, stdout_path, stderr_path, stdin_path=None, pipe=False):
    """Run argv with files as stdin (or nothing), stdout and stderr; with
    pipe, stdin is a pipe that `cat stdin_path` writes, as from a program
    upstream, so that the tool cannot seek or read it twice.

    Returns (seconds, peak RSS in MiB); exits if the tool fails.

    On Linux a child's ru_maxrss also counts the memory of the process it
    was started from: exec records the high-water mark of the address space
    it replaces, and Python's subprocess shares (vfork) or copies (fork) the
    interpreter's. A child of this script therefore never reports less than
    this script's own peak, about 10 MiB, which hides what a small C tool
    really uses. GNU time forks from a process of about 1 MiB and reports
    the grandchild's figure, so it is used when installed (Debian package
    `time`). Otherwise os.wait4 gives the child's own rusage, and figures at
    or below launcher_floor_mib() are an upper bound, not a measurement.
    """
    rss_path = stderr_path + ".maxrss"
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%M", "-o", rss_path, *argv] if use_time else argv
    cat = None
    fin = open(stdin_path, "rb") if stdin_path and not pipe else subprocess.DEVNULL
    try:
        with open(stdout_path, "wb") as fout, open(stderr_path, "wb") as ferr:
            t0 = time.perf_counter()
            if pipe:
                cat = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE)
                fin = cat.stdout
            proc = subprocess.Popen(full, stdin=fin, stdout=fout, stderr=ferr)
            if cat:
                cat.stdout.close()   # the tool holds the only read end
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
    finally:
        if cat:
            cat.wait()
        elif stdin_path:
            fin.close()
    # Tell Popen the child is reaped, so it does not try to wait again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(stderr_path, errors="replace") as f:
            err = f.read().strip()
        sys.exit(f"error: {' '.join(argv)} exited with {proc.returncode}"
                 + (f":\n{err}" if err else ""))
    if use_time:
        with open(rss_path) as f:
            kib = int(f.read().split()[-1])
    else:
        kib = usage.ru_maxrss
    return seconds, kib / 1024.0   # Linux reports KiB


def launcher_floor_mib():
    """This script's own peak RSS: the least a wait4 figure can show."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def run(argv, what):
    """Run argv; return its wall time in seconds. Exit if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        err = proc.stderr.strip()
        sys.exit(f"error: {what}: {' '.join(argv)} exited with "
                 f"{proc.returncode}" + (f":\n{err}" if err else ""))
    return seconds


def load_windows(path, column, size, steps_first):
    """Read fin-window's output: X oldest step first, as (n, 1, size) for a
    convolution or (n, size, 1) for a recurrent layer; and y (n,)."""
    import numpy as np
    import pandas as pd

    # round_trip: pandas' default float parser is not correctly rounded, and
    # both tools must see exactly the same numbers.
    df = pd.read_csv(path, float_precision="round_trip")
    names = [f"{column}_{size - 1 - i}" for i in range(size)]
    shape = (len(df), size, 1) if steps_first else (len(df), 1, size)
    x = df[names].to_numpy(dtype=np.float64).reshape(shape)
    y = df["y"].to_numpy(dtype=np.float64)
    return x, y


def split(n, val_fraction=0.2):
    """(n_train, n_val) as fin-train computes them for --val."""
    n_val = math.floor(val_fraction * n)
    return n - n_val, n_val


def standardiser(values):
    """Mean and sample sd (n-1) over axis 0; an sd of 0 becomes 1."""
    import numpy as np
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
    return mean, np.where(sd == 0, 1.0, sd)


def mse(pred, y):
    import numpy as np
    return float(np.mean((np.asarray(pred, dtype=np.float64) - y) ** 2))


def mpirun_argv(ranks):
    """mpirun's options for a job of ranks processes on this machine: root
    allowed, shared memory between ranks."""
    import shutil
    mpirun = shutil.which("mpirun")
    if not mpirun:
        sys.exit("error: mpirun not found (Debian: openmpi-bin)")
    argv = [mpirun, "-n", str(ranks), "--mca", "btl", "self,vader"]
    # More ranks than cores must be allowed, and then Open MPI lets a rank
    # waiting for another yield its core; with enough cores it spins, as a
    # job of one rank a core should.
    if ranks > (os.cpu_count() or 1):
        argv.append("--oversubscribe")
    if os.geteuid() == 0:
        argv.append("--allow-run-as-root")
    return argv


def fin_train_run(bindir, preset, windows, workdir, epochs, seed, n_train, n_val, key, size,
                  batch, threads=1, ranks=1):
    """Train and predict with fin on `threads` threads, as a job of `ranks`
    ranks under mpirun when ranks > 1; return a dict of figures for one
    seed."""
    import numpy as np
    import pandas as pd

    stem = f"fin_{preset}_{size}_t{threads}_r{ranks}"
    model = os.path.join(workdir, f"{stem}_model_{seed}.json")
    log = os.path.join(workdir, f"{stem}_log_{seed}.jsonl")
    pred = os.path.join(workdir, f"{stem}_pred_{seed}.csv")
    train_argv = [os.path.join(bindir, "fin-train"), "--model", preset,
                  "-k", key, "-y", "y", "--epochs", str(epochs),
                  "--batch", str(batch), "--threads", str(threads), "--seed", str(seed),
                  "-q", "--log", log, "-o", model, windows]
    if ranks > 1:
        train_argv = mpirun_argv(ranks) + train_argv
    wall = run(train_argv, "fin-train")
    run([os.path.join(bindir, "fin-predict"), "-m", model, "-q", "-o", pred,
         windows], "fin-predict")

    with open(log) as f:
        last = json.loads(f.read().splitlines()[-1])
    with open(model) as f:
        facts = json.load(f)
    training = facts["training"]
    if (training["rows_train"], training["rows_val"]) != (n_train, n_val):
        sys.exit(f"error: fin-train split {training['rows_train']}+"
                 f"{training['rows_val']} rows, the benchmark expects "
                 f"{n_train}+{n_val}")
    if facts["input_shape"] != [1, size]:
        sys.exit(f"error: fin-train read the windows as shape "
                 f"{facts['input_shape']}, the benchmark expects [1, {size}]")

    p = pd.read_csv(pred, float_precision="round_trip")["prediction"]
    p = p.to_numpy(dtype=np.float64)
    if len(p) != n_train + n_val:
        sys.exit(f"error: fin-predict wrote {len(p)} rows for "
                 f"{n_train + n_val} input rows")
    return {"wall": wall, "loop": float(last["seconds"]),
            "pred_val": p[n_train:],
            # The kept epoch's weights are the model's, so its val_loss,
            # not the last epoch's, is the one fin-predict's output matches.
            "own_val_loss": float(training["val_loss"]),
            "y_sd": float(facts["target_scaler"]["sd"])}


def torch_train_run(make_net, x, y, n_train, epochs, seed, batch, lr):
    """Train the network make_net() builds the way fin-train does (scaling
    on the training rows, Adam, MSE, batches shuffled within the training
    rows, one validation pass an epoch, the weights of the epoch with the
    lowest validation loss kept, the first of equals); return (loop
    seconds, validation predictions in y's units).

    Only the training loop is timed: imports, tensor set-up and building the
    model happen before the clock starts.
    """
    import torch
    from torch import nn

    x_mean, x_sd = standardiser(x[:n_train])
    y_mean, y_sd = standardiser(y[:n_train])
    xs = torch.tensor((x - x_mean) / x_sd, dtype=torch.float32)
    ys = torch.tensor((y - y_mean) / y_sd, dtype=torch.float32).reshape(-1, 1)
    x_train, y_train = xs[:n_train], ys[:n_train]

    torch.manual_seed(seed)
    net = make_net()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()

    best, kept = math.inf, None
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(n_train)
        for at in range(0, n_train, batch):
            idx = order[at:at + batch]
            opt.zero_grad()
            loss = loss_fn(net(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(loss_fn(net(xs[n_train:]), ys[n_train:]))
        if val < best:
            best = val
            kept = {k: v.clone() for k, v in net.state_dict().items()}
    seconds = time.perf_counter() - t0
    if kept is not None:
        net.load_state_dict(kept)

    net.eval()
    with torch.no_grad():
        out = net(xs[n_train:]).reshape(-1).double().numpy()
    return seconds, out * y_sd + y_mean


def training_bench_setup(doc, epochs, workdir, data, column, key, size, steps_first,
                         val_fraction, size_option=False, extra_options=()):
    """What the training benchmarks share before they train: their options
    (--epochs, --bin, --workdir), the tools and PyTorch checked, the
    windows of `column` made by fin-window with the next log-return as
    target, loaded and split in time order. Returns a namespace of args,
    bindir, windows, fin_version, x, y, n_train, n_val, y_val and samples
    (epochs x training rows)."""
    import argparse
    import types

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=epochs,
                    help=f"passes over the training rows (default {epochs})")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding the fin tools, relative to the "
                         "repository root unless absolute (default build/bin)")
    ap.add_argument("--workdir", default=workdir,
                    help=f"where windows, models and logs go (default {workdir})")
    if size_option:
        ap.add_argument("--size", type=int, default=size,
                        help=f"time steps of a window (default {size})")
    for flag, how in extra_options:
        ap.add_argument(flag, **how)
    args = ap.parse_args()
    if args.epochs < 1:
        ap.error("--epochs must be at least 1")
    if size_option:
        if args.size < 4:
            ap.error("--size must be at least 4")
        size = args.size

    fin_window, fin_train, _ = fin_tools(args.bin, "fin-window", "fin-train", "fin-predict")
    require("torch", "python3-torch")
    import torch
    torch.set_num_threads(1)
    os.makedirs(args.workdir, exist_ok=True)

    windows = os.path.join(args.workdir, "windows.csv")
    run([fin_window, "-c", column, "-k", key, "--size", str(size), "--transform", "logret",
         "--target", "next", "-q", "-o", windows, data], "fin-window")
    x, y = load_windows(windows, column, size, steps_first=steps_first)
    n_train, n_val = split(len(y), val_fraction)
    return types.SimpleNamespace(
        args=args, bindir=os.path.dirname(fin_train), windows=windows,
        fin_version=tool_version(fin_train), x=x, y=y, n_train=n_train, n_val=n_val,
        y_val=y[n_train:], samples=args.epochs * n_train, size=size)


def preset_summary(fin, tch):
    """Each preset's median seconds (fin-train's whole process and loop,
    PyTorch's loop) and mean validation MSE over its seeds' runs."""
    return {preset: {
        "fin_wall": statistics.median(r["wall"] for r in fin[preset]),
        "fin_loop": statistics.median(r["loop"] for r in fin[preset]),
        "torch_loop": statistics.median(r["loop"] for r in tch[preset]),
        "fin_mse": statistics.mean(r["mse"] for r in fin[preset]),
        "torch_mse": statistics.mean(r["mse"] for r in tch[preset])} for preset in fin}


def print_preset_table(summary, fin, tch, samples, zero_mse, width):
    """The training benchmarks' table: samples/s, seconds and validation MSE
    of each preset for fin-train (whole process and loop) and PyTorch, the
    zero forecast, then each seed's figures. width: the preset column's."""
    print(f"{'preset':<{width}} {'tool':<34} {'samples/s':>10} {'seconds':>8} "
          f"{'val MSE':>12}")
    for preset, s in summary.items():
        for i, (name, sec, m) in enumerate((
                ("fin-train (whole process)", s["fin_wall"], s["fin_mse"]),
                ("fin-train (training loop, --log)", s["fin_loop"], None),
                ("PyTorch (training loop only)", s["torch_loop"],
                 s["torch_mse"]))):
            mtext = f"{m:>12.6g}" if m is not None else f"{'':>12}"
            label = preset if i == 0 else ""
            print(f"{label:<{width}} {name:<34} {samples / sec:>10,.0f} "
                  f"{sec:>8.3f} {mtext}")
    print(f"{'':<{width}} {'zero forecast (baseline)':<34} {'':>10} {'':>8} "
          f"{zero_mse:>12.6g}")
    for preset in summary:
        f, t = fin[preset], tch[preset]
        print(f"{preset} per seed val MSE: fin-train "
              + " ".join(f"{r['mse']:.6g}" for r in f)
              + ", PyTorch " + " ".join(f"{r['mse']:.6g}" for r in t))
        print(f"{preset} per seed seconds: fin-train "
              + " ".join(f"{r['wall']:.3f}" for r in f)
              + " (loop " + " ".join(f"{r['loop']:.3f}" for r in f)
              + "), PyTorch " + " ".join(f"{r['loop']:.3f}" for r in t))
    print()


def ensure_table(workdir, stem, rows):
    """The file <stem>_<rows>.csv that bench/gen_<stem>.py writes: reused when
    it has the right length and is newer than the generator (which is
    seeded, so such a file is the same file), generated otherwise."""
    path = os.path.join(workdir, f"{stem}_{rows}.csv")
    generator = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"gen_{stem}.py")
    if (os.path.exists(path) and os.path.getmtime(path) > os.path.getmtime(generator)
            and count_lines(path) == rows + 1):
        print(f"reusing {path}")
        return path
    print(f"generating {path} ({rows} rows)", flush=True)
    # In a child process: generating millions of rows takes a few hundred
    # MiB, and this script's own peak memory must stay small (see
    # run_measured).
    if subprocess.run([sys.executable, generator, str(rows), path + ".tmp"]).returncode != 0:
        sys.exit(f"error: {os.path.basename(generator)} failed")
    os.replace(path + ".tmp", path)   # never leave a half-written input
    return path
