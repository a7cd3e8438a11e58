"""A synthetic customer table of mostly text columns, the way credit and
insurance tables come: bands such as '1 - 10%' or 'f 1000-4999', customer
types, regions, yes/no flags, a few numbers, and a rare positive class.

Deterministic (Python's random.Random with a fixed seed, no numpy), so the
test that reads it and the script that made its fixture see the same rows.

    write(path, rows=6000)  writes id, 60 text columns, 4 numbers, default
"""
import math
import random

SEED = 20261206
BANDS = ["1 - 10%", "10 - 25%", "25 - 50%", "50 - 75%", "75 - 100%"]
INCOME = ["f 0-999", "f 1000-4999", "f 5000-9999", "f 10000+"]
TYPES = ["retail", "sme", "corporate", "private", "public"]
REGIONS = ["north", "south", "east", "west", "central", "islands"]
FLAGS = ["yes", "no"]
KINDS = (BANDS, INCOME, TYPES, REGIONS, FLAGS)
TEXT_COLUMNS = 60
INFORMATIVE = 12


def _columns(r):
    """Each text column: its name, its levels, their weights (skewed, so
    that some levels are rare) and, for the informative ones, an effect on
    the log-odds of default per level."""
    cols = []
    for j in range(TEXT_COLUMNS):
        levels = list(KINDS[j % len(KINDS)])
        weights = [r.uniform(0.05, 1.0) for _ in levels]
        if j % 7 == 3:
            levels.append("rare_%d" % j)
            weights.append(0.004)
        effect = [r.gauss(0, 0.6) if j < INFORMATIVE else 0.0 for _ in levels]
        cols.append(("%s_%02d" % (("band", "income", "type", "region", "flag")[j % 5], j),
                     levels, weights, effect))
    return cols


def write(path, rows=6000):
    r = random.Random(SEED)
    cols = _columns(r)
    with open(path, "w") as f:
        f.write("id," + ",".join(c[0] for c in cols) + ",age,tenure,balance,products,default\n")
        for i in range(rows):
            logit = -5.0
            fields = []
            for name, levels, weights, effect in cols:
                k = r.choices(range(len(levels)), weights)[0]
                fields.append(levels[k])
                logit += effect[k]
            age = r.randint(18, 85)
            tenure = r.randint(0, 360)
            balance = round(r.lognormvariate(8, 1.2), 2)
            products = r.randint(1, 6)
            logit += 0.015 * (40 - age) - 0.002 * tenure
            default = "yes" if r.random() < 1 / (1 + math.exp(-logit)) else "no"
            f.write("C%06d,%s,%d,%d,%.2f,%d,%s\n" % (i, ",".join(fields), age, tenure, balance,
                                                     products, default))
