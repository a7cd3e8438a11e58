#!/usr/bin/python3
"""Generate a synthetic retail-bank customer table for segmentation.

Usage: gen_customers.py ROWS OUT.csv

The columns are

    customer_id,age,income,balance,tenure_months,n_products,
    monthly_spend,n_transactions,credit_utilisation

`customer_id` is a key (C0000001, C0000002, ... in file order), and the
eight columns after it are the features:

- age: in whole years, 18 to 95;
- income: yearly income, in whole currency units;
- balance: the balance held with the bank, with cents;
- tenure_months: months since the customer joined;
- n_products: accounts, cards, loans and so on held, 1 to 12;
- monthly_spend: card and account spending in a month, with cents;
- n_transactions: transactions in a month;
- credit_utilisation: share of the credit limits in use, 0 to 1.

Every customer belongs to one of seven segments, in these shares:

    students 10%, young professionals 17%, families 24%, affluent 8%,
    retirees 15%, dormant 13%, credit-stretched 13%

Each segment has its own distribution of every feature: normal ages,
lognormal incomes, balances and spending (wide for balances, so that the
standardised features are skewed with long right tails), gamma tenures
capped by the years since the customer turned 16, Poisson product counts,
negative binomial transaction counts, and beta utilisation. Within a
segment income, balance and spending share a lognormal "wealth" factor,
and busy spenders make more transactions. The segments overlap in every
single feature (families and young professionals, dormant customers and
retirees, students and the credit-stretched look much alike in several),
and there are seven of them, so k-means with k = 6 has several local
optima of visibly different inertia.

Rows are in random order. The seed is fixed, so a given ROWS always gives
the same file.
"""
import sys

import numpy as np

SEED = 20261130

# name, share, then per feature the parameters used in segment_rows:
#   age: mean, sd; income: median, log-sd; balance: median, log-sd;
#   tenure: gamma shape, scale (months); products: 1 + base + Poisson(lam);
#   spend: median, log-sd; transactions: mean, negative binomial size;
#   utilisation: beta a, b.
SEGMENTS = [
    ("students", 0.10,
     dict(age=(21, 2.5), income=(14_000, 0.45), balance=(800, 1.0),
          tenure=(2.0, 10), products=(0, 0.4), spend=(700, 0.5),
          trans=(55, 4), util=(2, 3))),
    ("young professionals", 0.17,
     dict(age=(31, 5), income=(52_000, 0.35), balance=(6_000, 0.9),
          tenure=(2.5, 18), products=(1, 0.8), spend=(2_200, 0.45),
          trans=(70, 5), util=(2, 5))),
    ("families", 0.24,
     dict(age=(42, 7), income=(48_000, 0.4), balance=(3_500, 1.0),
          tenure=(3.0, 35), products=(2, 1.0), spend=(2_600, 0.4),
          trans=(60, 5), util=(4, 4))),
    ("affluent", 0.08,
     dict(age=(52, 9), income=(130_000, 0.5), balance=(60_000, 1.1),
          tenure=(4.0, 40), products=(3, 1.5), spend=(5_500, 0.5),
          trans=(45, 4), util=(1.2, 8))),
    ("retirees", 0.15,
     dict(age=(71, 6), income=(26_000, 0.35), balance=(25_000, 1.2),
          tenure=(6.0, 45), products=(1, 0.7), spend=(1_300, 0.4),
          trans=(25, 3), util=(1.2, 9))),
    ("dormant", 0.13,
     dict(age=(46, 16), income=(32_000, 0.6), balance=(300, 1.5),
          tenure=(2.0, 40), products=(0, 0.2), spend=(150, 0.9),
          trans=(4, 1.5), util=(1, 12))),
    ("credit-stretched", 0.13,
     dict(age=(36, 10), income=(29_000, 0.4), balance=(250, 1.0),
          tenure=(2.5, 25), products=(1, 1.2), spend=(1_800, 0.4),
          trans=(65, 4), util=(9, 2))),
]

COLUMNS = ["age", "income", "balance", "tenure_months", "n_products",
           "monthly_spend", "n_transactions", "credit_utilisation"]


def segment_rows(rng, n, p):
    """The eight features of n customers of one segment, as a dict."""
    age = np.clip(np.rint(rng.normal(p["age"][0], p["age"][1], n)), 18, 95)
    # Wealth: one factor behind income, balance and spending.
    wealth = rng.normal(0.0, 1.0, n)
    med, s = p["income"]
    income = med * np.exp(s * (0.8 * wealth + 0.6 * rng.normal(0, 1, n)))
    med, s = p["balance"]
    balance = med * np.exp(s * (0.5 * wealth + 0.87 * rng.normal(0, 1, n)))
    shape, scale = p["tenure"]
    tenure = np.minimum(np.ceil(rng.gamma(shape, scale, n)),
                        (age - 16) * 12)
    base, lam = p["products"]
    products = np.minimum(1 + base + rng.poisson(lam, n), 12)
    med, s = p["spend"]
    busy = rng.normal(0.0, 1.0, n)
    spend = med * np.exp(s * (0.5 * wealth + 0.5 * busy
                              + 0.71 * rng.normal(0, 1, n)))
    mean, size = p["trans"]
    # Negative binomial of the given mean and size, its mean moved by the
    # same "busy" factor as spending.
    mu = mean * np.exp(0.3 * busy - 0.045)
    trans = rng.negative_binomial(size, size / (size + mu))
    a, b = p["util"]
    util = rng.beta(a, b, n)
    return {"age": age, "income": income, "balance": balance,
            "tenure_months": tenure, "n_products": products,
            "monthly_spend": spend, "n_transactions": trans,
            "credit_utilisation": util}


def make_table(rows):
    """Return (features dict of arrays, segment index array), shuffled."""
    rng = np.random.default_rng(SEED)
    shares = np.array([s[1] for s in SEGMENTS])
    seg = rng.choice(len(SEGMENTS), size=rows, p=shares / shares.sum())
    table = {c: np.empty(rows) for c in COLUMNS}
    for i, (_, _, params) in enumerate(SEGMENTS):
        idx = np.flatnonzero(seg == i)
        part = segment_rows(rng, len(idx), params)
        for c in COLUMNS:
            table[c][idx] = part[c]
    # seg was drawn row by row already, so the order is random.
    return table, seg


def write_table(rows, path):
    if rows < 1:
        raise ValueError("ROWS must be at least 1")
    t, _ = make_table(rows)
    # repr of a rounded float is its short decimal form.
    cols = [
        [f"C{i:07d}" for i in range(1, rows + 1)],
        t["age"].astype(np.int64).tolist(),
        np.rint(t["income"]).astype(np.int64).tolist(),
        np.round(t["balance"], 2).tolist(),
        t["tenure_months"].astype(np.int64).tolist(),
        t["n_products"].astype(np.int64).tolist(),
        np.round(t["monthly_spend"], 2).tolist(),
        t["n_transactions"].astype(np.int64).tolist(),
        np.round(t["credit_utilisation"], 3).tolist(),
    ]
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("customer_id," + ",".join(COLUMNS) + "\n")
        step = 100_000
        for at in range(0, rows, step):
            f.write("".join(
                f"{a},{b},{c},{d!r},{e},{g},{h!r},{i},{j!r}\n"
                for a, b, c, d, e, g, h, i, j in
                zip(*(col[at:at + step] for col in cols))))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gen_customers.py ROWS OUT.csv\n")
        return 2
    try:
        rows = int(argv[1])
        write_table(rows, argv[2])
    except (ValueError, OSError) as e:
        sys.stderr.write(f"gen_customers.py: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
