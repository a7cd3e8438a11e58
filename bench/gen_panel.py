#!/usr/bin/python3
"""Generate a synthetic panel of daily prices for the benchmarks.

Usage: gen_panel.py ROWS OUT.csv

The file is a long table `date,ticker,close` of 500 assets (A000 ... A499)
over ROWS / 500 business days from 2000-01-03, interleaved as a panel
export writes it: every asset's row of a day, then the next day's, the
assets of a day in a shuffled order. Each asset is a geometric random walk
from its own price (10 to 500) with its own daily volatility (1% to 4%);
closes in cents. The seed is fixed, so the same ROWS always gives the same
file.
"""
import sys

import numpy as np
import pandas as pd

SEED = 20240202
ASSETS = 500


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    days = max(rows // ASSETS, 1)
    rng = np.random.default_rng(SEED)
    start = rng.uniform(10, 500, ASSETS)
    vol = rng.uniform(0.01, 0.04, ASSETS)
    logret = rng.normal(0.0002, 1.0, (days, ASSETS)) * vol
    logret[0] = 0
    close = np.round(start * np.exp(np.cumsum(logret, axis=0)), 2)
    dates = pd.bdate_range("2000-01-03", periods=days).strftime("%Y-%m-%d").to_numpy()
    order = np.argsort(rng.random((days, ASSETS)), axis=1)
    tickers = np.array([f"A{i:03d}" for i in range(ASSETS)])
    frame = pd.DataFrame({
        "date": np.repeat(dates, ASSETS),
        "ticker": tickers[order].ravel(),
        "close": np.take_along_axis(close, order, axis=1).ravel(),
    })
    frame.to_csv(out, index=False, float_format="%.2f")


if __name__ == "__main__":
    main()
