#!/usr/bin/python3
"""Generate a synthetic card-transaction table with planted anomalies.

Usage: gen_transactions.py ROWS OUT.csv

The columns are

    id,amount,avg_amount_30d,hour,merchant_risk,distance_km,n_last_24h,
    account_age_days,velocity,is_fraud

`id` numbers the rows from 1, `is_fraud` is 1 for a planted anomaly and 0
otherwise, and the eight columns between them are the features:

- amount: the amount paid, in currency units with cents;
- avg_amount_30d: the card's average amount over the last 30 days;
- hour: the hour of the day the card was used, 0 to 23;
- merchant_risk: a risk score of the merchant, 0 to 1;
- distance_km: distance from the cardholder's home;
- n_last_24h: transactions on the card in the 24 hours before;
- account_age_days: age of the account;
- velocity: spending over the last hour relative to the card's usual rate.

Normal rows are drawn from skewed, heavy-tailed distributions (lognormal
amounts and distances, a daytime-weighted hour, beta merchant risk, negative
binomial counts, gamma account ages), and some of the features depend on
each other: a card's amounts scatter around its own average, busy cards
have a higher velocity, people travelling far tend to pay more. The tails are long, so every single feature has normal rows as
extreme as most anomalies: large purchases, card use at night, trips
abroad and busy days all happen in normal data.

About 0.7% of the rows are anomalies of one of three kinds, each differing
from normal rows in a few features at once:

- card theft: a large amount for the card, at night, far from home, at a
  high velocity;
- account takeover: far from home, many transactions, a high velocity, at
  risky merchants;
- bust-out of a new account: a young account, a large amount, many
  transactions.

The features an anomaly kind does not change are drawn as for normal rows.
Rows are in random order. The seed is fixed, so a given ROWS always gives
the same file.
"""
import sys

import numpy as np

SEED = 20240607
FRAUD_SHARE = 0.007
HOURS = np.arange(24)
# Share of card use by hour: low at night, peaks at lunch and early evening.
HOUR_WEIGHT = np.array([2, 1.2, 0.8, 0.6, 0.6, 0.9, 2, 3.5, 5, 6, 6.5, 7,
                        8, 7.5, 6.5, 6.5, 7, 7.5, 8, 7, 6, 5, 4, 3])


def normal_rows(rng, n):
    """The eight features of n normal transactions, as a dict of arrays."""
    hour = rng.choice(HOURS, size=n, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    # Most purchases are near home; about one in twenty is on a trip.
    travel = rng.random(n) < 0.05
    distance = np.where(travel, rng.lognormal(5.0, 1.2, n),
                        rng.lognormal(1.6, 1.0, n))
    # Amounts: lognormal around the card's own lognormal average, a little
    # higher when travelling.
    avg_amount = rng.lognormal(3.4, 0.8, n)
    amount = avg_amount * rng.lognormal(0.4 * travel - 0.1, 0.8, n)
    merchant_risk = rng.beta(2.0, 9.0, n)
    # Busy cards: overdispersed counts, and their velocity goes with them.
    n_last_24h = rng.negative_binomial(2, 0.35, n)
    velocity = rng.lognormal(-0.3 + 0.06 * n_last_24h, 0.6, n)
    account_age = rng.gamma(1.6, 700.0, n) + 1
    return {"amount": amount, "avg_amount_30d": avg_amount, "hour": hour, "merchant_risk": merchant_risk,
            "distance_km": distance, "n_last_24h": n_last_24h,
            "account_age_days": account_age, "velocity": velocity}


def plant_anomalies(rng, rows, idx):
    """Overwrite the rows at idx with anomalies of the three kinds."""
    kind = rng.integers(0, 3, len(idx))

    theft = idx[kind == 0]
    m = len(theft)
    rows["amount"][theft] = rng.lognormal(5.6, 0.8, m)
    rows["hour"][theft] = rng.integers(0, 6, m)
    rows["distance_km"][theft] = rng.lognormal(4.6, 1.0, m)
    rows["velocity"][theft] = rng.lognormal(1.0, 0.6, m)

    takeover = idx[kind == 1]
    m = len(takeover)
    rows["distance_km"][takeover] = rng.lognormal(5.2, 1.0, m)
    rows["n_last_24h"][takeover] = rng.negative_binomial(6, 0.35, m)
    rows["velocity"][takeover] = rng.lognormal(1.1, 0.6, m)
    rows["merchant_risk"][takeover] = rng.beta(4.0, 5.0, m)

    bustout = idx[kind == 2]
    m = len(bustout)
    rows["account_age_days"][bustout] = rng.gamma(2.0, 12.0, m) + 1
    rows["amount"][bustout] = rng.lognormal(5.4, 0.9, m)
    rows["n_last_24h"][bustout] = rng.negative_binomial(6, 0.4, m)


def make_table(rows):
    """Return (features dict, is_fraud array) for `rows` transactions."""
    rng = np.random.default_rng(SEED)
    table = normal_rows(rng, rows)
    n_fraud = max(int(round(FRAUD_SHARE * rows)), 1) if rows >= 2 else 0
    fraud = np.zeros(rows, dtype=np.int64)
    idx = rng.choice(rows, size=n_fraud, replace=False)
    fraud[idx] = 1
    plant_anomalies(rng, table, idx)
    return table, fraud


def write_table(rows, path):
    if rows < 1:
        raise ValueError("ROWS must be at least 1")
    t, fraud = make_table(rows)
    # Rounded as a payment system would store them; repr of a rounded
    # float is its short decimal form.
    cols = [
        np.arange(1, rows + 1).tolist(),
        np.round(t["amount"], 2).tolist(),
        np.round(t["avg_amount_30d"], 2).tolist(),
        t["hour"].tolist(),
        np.round(t["merchant_risk"], 3).tolist(),
        np.round(t["distance_km"], 1).tolist(),
        t["n_last_24h"].tolist(),
        np.floor(t["account_age_days"]).astype(np.int64).tolist(),
        np.round(t["velocity"], 3).tolist(),
        fraud.tolist(),
    ]
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("id,amount,avg_amount_30d,hour,merchant_risk,distance_km,"
                "n_last_24h,account_age_days,velocity,is_fraud\n")
        # Written in slices: one join per 100,000 rows is fast and keeps
        # the strings from taking more memory than the arrays.
        step = 100_000
        for at in range(0, rows, step):
            f.write("".join(
                f"{a},{b!r},{b2!r},{c},{d!r},{e!r},{g},{h},{i!r},{j}\n"
                for a, b, b2, c, d, e, g, h, i, j in
                zip(*(col[at:at + step] for col in cols))))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gen_transactions.py ROWS OUT.csv\n")
        return 2
    try:
        rows = int(argv[1])
        write_table(rows, argv[2])
    except (ValueError, OSError) as e:
        sys.stderr.write(f"gen_transactions.py: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
