#!/usr/bin/python3
"""Benchmark fin-mask's row-wise operations against the same job in Python.

Usage: mask_bench.py [--size-mb 1024] [--data FILE] [--bin build/bin] [--keep]
                     [--reference csv|pandas]

The input is a synthetic card-transaction table of about --size-mb MiB:

    txn_id,card_number,iban,customer_id,age,date,amount,merchant,mcc

with 16-digit card numbers, German IBANs, customer ids drawn with a skew
(a few customers make many transactions), the customer's age, ISO 8601
date-times, amounts with cents, merchant names (some holding a comma or a
quote, so CSV quotes them) and merchant category codes. It is written with
numpy in chunks of rows, in a temporary directory, or at --data FILE, which
is reused when it exists (and kept).

The job, a release of the table for analysts:

    fin-mask --key-file KEY --pseudonymize customer_id --length 16
             --mask card_number:4 --mask iban:4 --date date:month
             --round amount:0 --bucket age:10 --drop txn_id -q FILE

Without --k-anon every row is written as it is read, so fin-mask should
stream in constant memory: it is run on the whole file and on its first
eighth, and the two peak RSS figures are printed side by side.

Then the same job with --quasi age,mcc --k-anon 5, which needs every class
counted before a row goes out: on the file, which fin-mask reads twice
(memory holds the classes only), and on standard input, which it holds in
memory; their time and peak RSS are printed (no reference: the point is
what each way of holding the table costs).

The reference does the same operations in Python, streaming too, with the
csv module: a csv.reader and a csv.writer, row by row, HMAC by hmac.digest
(the one-shot OpenSSL path, the fastest Python offers), masks and bucket
labels built per value, the month by a string slice, rounding by
f"{float(v):.0f}" (printf's %.0f: ties to even on the binary value).
`--reference pandas` runs the same job with pandas instead: read_csv in
chunks of 100,000 rows (all columns as text), the date by .str.slice, the
rounding by numpy's rint, the bucket bounds by integer arithmetic on whole
columns, to_csv per chunk; HMAC and masks stay per value, there being no
vectorised form of them. Per value work dominates this job, and pandas'
conversions cost more than they save: on a 64 MiB table (--size-mb 64)
the csv version took 3.1 s, the pandas one 5.2 s, so the csv module is the
default.

Every run is its own process under `/usr/bin/time -f '%e %M'` (wall
seconds, peak RSS in KiB) with standard output to /dev/null. Before timing,
both tools mask the first few MiB of the table to files and the two outputs
must be identical, byte for byte: the reference does the same work.

This is a benchmark, not a test: it exits non-zero only when a tool fails
or the two outputs differ.
"""
import argparse
import csv
import hmac
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from benchlib import GNU_TIME, fin_tools, tool_version

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = ["txn_id", "card_number", "iban", "customer_id", "age", "date", "amount", "merchant",
          "mcc"]
SEED = 20240917
CHUNK_ROWS = 250_000      # rows generated at a time
REF_CHUNK = 100_000       # rows the pandas reference reads at a time
CHECK_MIB = 8             # head of the table both tools mask for the comparison
KEY = bytes(range(7, 7 + 32))
FIN_ARGS = ["--pseudonymize", "customer_id", "--length", "16", "--mask", "card_number:4",
            "--mask", "iban:4", "--date", "date:month", "--round", "amount:0",
            "--bucket", "age:10", "--drop", "txn_id", "-q"]
# The quasi-identifiers of the k-anonymity runs: age band and merchant category.
K_ANON_ARGS = ["--quasi", "age,mcc", "--k-anon", "5"]


# -------------------------------------------------------------- the input

MERCHANT_WORDS = ["Corner", "City", "Royal", "Green", "Blue", "Golden", "Metro", "Nord",
                  "Alpen", "Harbour", "Station", "Market", "Garden", "Bay", "Union"]
MERCHANT_KINDS = ["Grocery", "Pharmacy", "Fuel", "Books", "Cafe", "Hotel", "Airlines",
                  "Electronics", "Bakery", "Taxi", "Cinema", "Restaurant"]
MCC = ["5411", "5912", "5541", "5942", "5814", "7011", "4511", "5732", "5462", "4121",
       "7832", "5812"]


def merchants():
    """Merchant names with their category codes, CSV-quoted where needed."""
    names, codes = [], []
    for i, word in enumerate(MERCHANT_WORDS):
        for j, kind in enumerate(MERCHANT_KINDS):
            name = f"{word} {kind}"
            if (i + j) % 7 == 0:
                name += ", Ltd."
            elif (i + j) % 11 == 0:
                name = f'{word}\'s "{kind}"'
            names.append('"' + name.replace('"', '""') + '"' if any(c in name for c in ',"')
                         else name)
            codes.append(MCC[j])
    return names, codes


def generate(out_path, size_mb):
    """Writes the table, about size_mb MiB, in chunks of rows."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    names, codes = merchants()
    names, codes = np.array(names, dtype=object), np.array(codes, dtype=object)
    customers = 2_000_000
    # each customer's age, fixed across their transactions
    customer_age = rng.integers(18, 96, customers)
    base = np.datetime64("2023-01-01T00:00:00")
    target = size_mb << 20
    written, start, row_bytes = 0, 1, None
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        while written < target:
            # after the first chunk, no more rows than the size asks for
            n = CHUNK_ROWS if row_bytes is None else \
                max(1000, min(CHUNK_ROWS, int((target - written) / row_bytes) + 1))
            txn = np.arange(start, start + n).astype(str)
            card = rng.integers(4_000_000_000_000_000, 5_000_000_000_000_000, n).astype(str)
            check = rng.integers(10, 100, n).astype(str)
            bban = rng.integers(10 ** 17, 10 ** 18, n).astype(str)
            iban = np.char.add(np.char.add("DE", check), np.char.add("0", bban))
            cust = np.minimum(rng.pareto(1.2, n) * 20_000, customers - 1).astype(np.int64)
            cust_id = np.char.add("C", np.char.zfill(cust.astype(str), 8))
            age = customer_age[cust].astype(str)
            secs = rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")
            date = np.datetime_as_string(base + secs, unit="s")
            cents = np.round(rng.lognormal(3.4, 1.1, n) * 100).astype(np.int64) + 1
            amount = np.char.add(np.char.add((cents // 100).astype(str), "."),
                                 np.char.zfill((cents % 100).astype(str), 2))
            shop = rng.integers(0, len(names), n)
            columns = [txn.tolist(), card.tolist(), iban.tolist(), cust_id.tolist(),
                       age.tolist(), date.tolist(), amount.tolist(), names[shop].tolist(),
                       codes[shop].tolist()]
            text = "\n".join(map(",".join, zip(*columns))) + "\n"
            f.write(text)
            written += len(text.encode())
            start += n
            row_bytes = written / (start - 1)
    os.replace(tmp, out_path)   # never leave a half-written input
    return start - 1


def head(src, dst, nbytes):
    """The first nbytes of src, cut after a whole line (no quoted field in
    the table holds a line break)."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        data = fin.read(nbytes)
        fout.write(data[:data.rfind(b"\n") + 1])
    return dst


# ---------------------------------------------------------- the reference

def pseudonym(key, value):
    return hmac.digest(key, value.encode(), "sha256").hex()[:16]


def masked(value, keep=4):
    n = len(value)
    return "*" * n if n <= keep else "*" * (n - keep) + value[n - keep:]


def pandas_job(key_path, inp):
    import numpy as np
    import pandas as pd

    with open(key_path, "rb") as f:
        key = f.read()
    first = True
    out = sys.stdout
    for chunk in pd.read_csv(inp, dtype=str, keep_default_na=False, chunksize=REF_CHUNK):
        chunk["customer_id"] = [pseudonym(key, v) for v in chunk["customer_id"]]
        chunk["card_number"] = [masked(v) for v in chunk["card_number"]]
        chunk["iban"] = [masked(v) for v in chunk["iban"]]
        chunk["date"] = chunk["date"].str.slice(0, 7)
        amount = np.rint(chunk["amount"].astype(np.float64).to_numpy())
        chunk["amount"] = amount.astype(np.int64).astype(str)
        low = (chunk["age"].astype(np.int64) // 10 * 10).astype(str)
        high = (chunk["age"].astype(np.int64) // 10 * 10 + 10).astype(str)
        chunk["age"] = "[" + low + "," + high + ")"
        chunk.drop(columns=["txn_id"]).to_csv(out, index=False, header=first,
                                              lineterminator="\n")
        first = False


def csv_job(key_path, inp):
    with open(key_path, "rb") as f:
        key = f.read()
    with open(inp, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        header = next(reader)
        writer.writerow(header[1:])
        for txn, card, iban, cust, age, date, amount, merchant, mcc in reader:
            low = int(age) // 10 * 10
            writer.writerow([masked(card), masked(iban), pseudonym(key, cust),
                             f"[{low},{low + 10})", date[:7], f"{float(amount):.0f}",
                             merchant, mcc])


# -------------------------------------------------------------- measuring

def timed(argv, stdout_path=os.devnull, stdin_path=None):
    """Runs argv under GNU time; returns (wall seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as times, \
            open(stdout_path, "wb") as out, open(stdin_path or os.devnull, "rb") as inp:
        proc = subprocess.run([GNU_TIME, "-f", "%e %M", "-o", times.name, *argv],
                              stdin=inp, stdout=out, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            sys.exit(f"error: {shlex.join(argv)} exited with {proc.returncode}:\n"
                     + proc.stderr.decode(errors="replace").strip())
        seconds, kib = times.read().split()[-2:]
    return float(seconds), int(kib) / 1024.0


def shown(argv, stdout="/dev/null"):
    return f"{GNU_TIME} -f '%e %M' {shlex.join(argv)} > {stdout}"


def compare(fin_out, ref_out):
    with open(fin_out, "rb") as a, open(ref_out, "rb") as b:
        for lineno, (x, y) in enumerate(zip(a, b), start=1):
            if x != y:
                return f"line {lineno}:\n  fin-mask:  {x!r}\n  reference: {y!r}"
        if a.read(1) or b.read(1):
            return "the outputs have different lengths"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024,
                    help="size of the generated table in MiB (default 1024)")
    ap.add_argument("--data", help="the table: reused when it exists, else generated there "
                                   "and kept (default: a temporary file)")
    ap.add_argument("--bin", default="build/bin",
                    help="directory holding fin-mask, relative to the repository root "
                         "unless absolute (default build/bin)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (table, key, outputs)")
    ap.add_argument("--reference", choices=("csv", "pandas"), default="csv",
                    help="the Python reference: the csv module row by row, or pandas "
                         "in chunks (default csv, the faster)")
    ap.add_argument("--reference-job", nargs=3, metavar=("KIND", "KEY", "IN"),
                    help=argparse.SUPPRESS)   # internal: the child process
    args = ap.parse_args()

    if args.reference_job:
        kind, key_path, inp = args.reference_job
        (pandas_job if kind == "pandas" else csv_job)(key_path, inp)
        return 0

    if args.size_mb < 8:
        ap.error("--size-mb must be at least 8")
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"error: {GNU_TIME} not found; install GNU time (apt-get install time)")
    fin_mask, = fin_tools(args.bin, "fin-mask")
    workdir = tempfile.mkdtemp(prefix="fin-mask-bench-")
    try:
        return bench(args, fin_mask, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def bench(args, fin_mask, workdir):
    def work(name):
        return os.path.join(workdir, name)

    data = os.path.abspath(args.data) if args.data else work("transactions.csv")
    if os.path.exists(data):
        with open(data, encoding="utf-8") as f:
            if f.readline().rstrip("\n").split(",") != HEADER:
                sys.exit(f"error: {data} is not a table this benchmark wrote "
                         f"(its header is not {','.join(HEADER)})")
        print(f"reusing {data}")
    else:
        print(f"generating {data} (about {args.size_mb} MiB)", flush=True)
        rows = generate(data, args.size_mb)
        print(f"  {rows:,} rows")
    size = os.path.getsize(data)
    small = head(data, work("eighth.csv"), size // 8)
    check = head(data, work("check.csv"), min(CHECK_MIB << 20, size))
    key = work("key")
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(KEY)

    fin_argv = [fin_mask, "--key-file", key, *FIN_ARGS]
    ref_argv = [sys.executable, os.path.abspath(__file__), "--reference-job", args.reference,
                key]

    print(f"checking both outputs on the first {os.path.getsize(check) / 2**20:.1f} MiB ...",
          flush=True)
    timed(fin_argv + [check], work("check_fin.csv"))
    timed(ref_argv + [check], work("check_ref.csv"))
    problem = compare(work("check_fin.csv"), work("check_ref.csv"))
    if problem:
        print(f"MISMATCH between fin-mask and the {args.reference} reference, {problem}")
        return 1
    print("  identical")

    runs = []
    for name, argv, path in (("fin-mask", fin_argv, data),
                             ("fin-mask (1/8 input)", fin_argv, small),
                             (f"python {args.reference}", ref_argv, data)):
        print(f"$ {shown(argv + [path])}", flush=True)
        seconds, rss = timed(argv + [path])
        runs.append((name, os.path.getsize(path) / 2**20, seconds, rss))

    print()
    print(f"version: {tool_version(fin_mask)}; Python {sys.version.split()[0]}")
    print(f"{'tool':<22} {'MiB':>8} {'seconds':>9} {'MiB/s':>8} {'peak RSS MiB':>13}")
    for name, mib, seconds, rss in runs:
        print(f"{name:<22} {mib:>8.1f} {seconds:>9.2f} {mib / max(seconds, 1e-9):>8.1f} "
              f"{rss:>13.1f}")
    (_, mib, fin_s, fin_rss), (_, small_mib, _, small_rss), (_, _, ref_s, ref_rss) = runs
    print()
    print(f"speed: fin-mask is {ref_s / max(fin_s, 1e-9):.1f}x the {args.reference} "
          f"reference's ({mib / max(fin_s, 1e-9):.1f} against {mib / max(ref_s, 1e-9):.1f} "
          "MiB/s)")
    print(f"memory: fin-mask peaks at {fin_rss:.1f} MiB on {mib:.0f} MiB and {small_rss:.1f} "
          f"MiB on {small_mib:.0f} MiB (x{fin_rss / small_rss:.2f} for x{mib / small_mib:.1f} "
          f"input); the reference at {ref_rss:.1f} MiB ({ref_rss / fin_rss:.1f}x fin-mask's)")

    # k-anonymity needs every class counted before a row goes out: a named
    # file is read twice, standard input is held in memory.
    anon_argv = fin_argv + K_ANON_ARGS
    print()
    print(f"k-anonymity ({' '.join(K_ANON_ARGS)}), on the whole table:")
    for name, argv, stdin in (("file, read twice", anon_argv + [data], None),
                              ("standard input, held", anon_argv, data)):
        print(f"$ {shown(argv)}" + (f" < {stdin}" if stdin else ""), flush=True)
        seconds, rss = timed(argv, stdin_path=stdin)
        print(f"  {name:<22} {seconds:>7.2f} s  {mib / max(seconds, 1e-9):>6.1f} MiB/s  "
              f"peak RSS {rss:>7.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
