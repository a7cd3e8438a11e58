#!/usr/bin/python3
"""Generate a synthetic daily price file for the benchmarks.

Usage: gen_prices.py ROWS OUT.csv

The file has two columns, `date,close`. Dates are consecutive calendar days
from 1970-01-01 (YYYY-MM-DD); closes follow a geometric random walk starting
at 100 with daily log-returns ~ N(0.0002, 0.01). The seed is fixed, so the
same ROWS always gives the same file and results stay comparable between
runs and machines.

Closes are written with Python's shortest round-trip formatting (repr), so a
reader that parses them correctly recovers the exact doubles. With this
drift, prices pass 1e16 after roughly 160,000 rows and are then written in
exponent form (e.g. 1.2345e+17), which CSV readers must accept too.
"""
import sys

import numpy as np

SEED = 20240101
START_PRICE = 100.0
MU = 0.0002
SIGMA = 0.01


def make_prices(rows):
    """Return (dates, closes) as Python lists of str and float."""
    rng = np.random.default_rng(SEED)
    logret = rng.normal(MU, SIGMA, rows - 1)
    # Accumulate in log space: one exp per row, no compounding error drift
    # from repeated multiplication.
    logp = np.concatenate(([0.0], np.cumsum(logret)))
    closes = START_PRICE * np.exp(logp)
    dates = np.datetime64("1970-01-01", "D") + np.arange(rows)
    return np.datetime_as_string(dates, unit="D").tolist(), closes.tolist()


def write_prices(rows, path):
    if rows < 1:
        raise ValueError("ROWS must be at least 1")
    dates, closes = make_prices(rows)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("date,close\n")
        # One big join is several times faster than csv.writer or to_csv
        # and keeps 2,000,000 rows at a couple of seconds.
        f.write("".join(f"{d},{c!r}\n" for d, c in zip(dates, closes)))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gen_prices.py ROWS OUT.csv\n")
        return 2
    try:
        rows = int(argv[1])
        write_prices(rows, argv[2])
    except (ValueError, OSError) as e:
        sys.stderr.write(f"gen_prices.py: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
