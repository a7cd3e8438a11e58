#!/usr/bin/env python3
"""Write a deterministic CSV of synthetic six-month loan histories whose
label depends on the order of the months.

Usage: gen_loans.py [--rows N] [--seed S] OUT.csv   (defaults: 4000 rows, seed 1)

Columns: id, pay_5 .. pay_0, bill_5 .. bill_0, default. Lag 5 is the oldest
month and lag 0 the newest, the layout fin-train reads as two channels (pay,
bill) of six time steps. Below, month k = 0..5 counts from the oldest, so
month k is lag 5 - k.

Every applicant, independently, from random.Random(seed):
  - a usual bill B ~ U(1500, 2500) and a usual payment P = B * U(0.5, 1.0);
  - every month's bill is B * (1 + N(0, 0.03)) and every month's payment
    P * (1 + N(0, 0.03)), except for two events:
  - a bill rise in month r: that month's bill is B + U(1500, 2500) (3000 or
    more, against at most about 2800 in an ordinary month); the next month
    the bill is back to usual;
  - a missed payment in month m: that month's payment is U(0, 20).
  - default = 1 with probability 0.45: then r ~ U{0..4} and m = r + 1 (the
    payment right after the bill rise is missed);
    default = 0 otherwise: (r, m) uniform over the 20 pairs with r in 0..4,
    m in 1..5 and m != r + 1 (missed before the rise, in the same month, or
    two or more months after it).
So the label is exactly: 1 if and only if the month right after the high bill
has the missed payment. Every applicant has one high bill and one missed
payment; in both classes r is uniform on 0..4 and m uniform on 1..5, so no
single column, and no order-free summary of a channel (sum, mean, max, min),
tells the classes apart: only the order of the two events does. Amounts are
written with two decimals.
"""
import argparse
import random
import sys

MONTHS = 6
POSITIVE_RATE = 0.45


def applicant(rng):
    """One history: (pays, bills, default), months oldest first."""
    usual_bill = rng.uniform(1500, 2500)
    usual_pay = usual_bill * rng.uniform(0.5, 1.0)
    default = 1 if rng.random() < POSITIVE_RATE else 0
    if default:
        rise = rng.randrange(0, MONTHS - 1)
        missed = rise + 1
    else:
        pairs = [(r, m) for r in range(0, MONTHS - 1) for m in range(1, MONTHS) if m != r + 1]
        rise, missed = rng.choice(pairs)
    bills = [usual_bill * (1 + rng.gauss(0, 0.03)) for _ in range(MONTHS)]
    pays = [usual_pay * (1 + rng.gauss(0, 0.03)) for _ in range(MONTHS)]
    bills[rise] = usual_bill + rng.uniform(1500, 2500)
    pays[missed] = rng.uniform(0, 20)
    return pays, bills, default


def main(argv=None):
    parser = argparse.ArgumentParser(description="Synthetic loan histories whose label depends "
                                     "on the order of the months.")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("out", metavar="OUT.csv")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    rng = random.Random(args.seed)
    lags = range(MONTHS - 1, -1, -1)  # oldest first
    header = (["id"] + [f"pay_{lag}" for lag in lags] + [f"bill_{lag}" for lag in lags]
              + ["default"])
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for i in range(1, args.rows + 1):
            pays, bills, default = applicant(rng)
            fields = [str(i)] + [f"{v:.2f}" for v in pays + bills] + [str(default)]
            f.write(",".join(fields) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
