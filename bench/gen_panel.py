#!/usr/bin/python3
"""Generate a synthetic panel of daily prices for the benchmarks.

Usage: gen_panel.py [--assets 500] [--reversal R] ROWS OUT.csv

The file is a long table `date,ticker,close` of --assets assets (A000 ...)
over ROWS / assets business days from 2000-01-03, interleaved as a panel
export writes it: every asset's row of a day, then the next day's, the
assets of a day in a shuffled order. Each asset's log-returns have its own
daily volatility (1% to 4%) from its own price (10 to 500); closes in
cents. With --reversal R each day's log-return is -R times the asset's
day before's plus its noise (a short-term reversal of known strength, for
a model to find); without, a random walk. The seed is fixed, so the same
arguments always give the same file.
"""
import numpy as np
import pandas as pd

SEED = 20240202
ASSETS = 500


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=ASSETS)
    ap.add_argument("--reversal", type=float, default=0.0)
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    args = ap.parse_args()
    assets = args.assets
    days = max(args.rows // assets, 1)
    rng = np.random.default_rng(SEED)
    start = rng.uniform(10, 500, assets)
    vol = rng.uniform(0.01, 0.04, assets)
    noise = rng.normal(0.0002, 1.0, (days, assets)) * vol
    logret = noise.copy()
    logret[0] = 0
    for d in range(1, days):
        logret[d] = noise[d] - args.reversal * logret[d - 1]
    close = np.round(start * np.exp(np.cumsum(logret, axis=0)), 2)
    dates = pd.bdate_range("2000-01-03", periods=days).strftime("%Y-%m-%d").to_numpy()
    order = np.argsort(rng.random((days, assets)), axis=1)
    tickers = np.array([f"A{i:03d}" for i in range(assets)])
    frame = pd.DataFrame({
        "date": np.repeat(dates, assets),
        "ticker": tickers[order].ravel(),
        "close": np.take_along_axis(close, order, axis=1).ravel(),
    })
    frame.to_csv(args.out, index=False, float_format="%.2f")


if __name__ == "__main__":
    main()
