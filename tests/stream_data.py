"""The table the streaming-fit tests read, shared with the script that made
their scikit-learn fixture: made with Python's own Mersenne Twister, so the
same rows come out on every machine and Python version.

Rows: a key `t`, a price near 1e6 in steps of 1/16 (the spacing of float32
there) that drifts a little, five features of a correlated Gaussian with
lognormal and Poisson parts, a venue (text) and `planted`: 1 for the 1% of
rows moved away from the rest in three or four features at once."""
import math
import random


def rows(n=20000, seed=19):
    rnd = random.Random(seed)
    out = [["t", "price", "amount", "spread", "depth", "trades", "latency",
            "venue", "planted"]]
    for i in range(n):
        z = [rnd.gauss(0, 1) for _ in range(5)]
        planted = rnd.random() < 0.01
        price = 1e6 + round((i / n * 20 + z[0] * 0.5) * 16) / 16
        amount = math.exp(3 + 0.8 * z[1])
        spread = 0.02 + 0.01 * abs(z[2] + 0.5 * z[1])
        depth = 500 + 80 * z[3] - 30 * z[2]
        lam = 4 + 2 * abs(z[4])
        trades = sum(1 for _ in range(20) if rnd.random() < lam / 20)
        latency = math.exp(1 + 0.3 * z[4])
        if planted:
            kind = rnd.randrange(3)
            if kind == 0:
                amount *= 2.5
                spread += 0.015
                depth -= 120
            elif kind == 1:
                trades += 5
                latency *= 1.8
                price += 1
            else:
                depth += 130
                spread += 0.012
                latency *= 1.6
        venue = rnd.choice("ABCDE")
        out.append([f"{i}", f"{price:.4f}", f"{amount:.3f}", f"{spread:.5f}",
                    f"{depth:.2f}", str(trades), f"{latency:.4f}", venue,
                    "1" if planted else "0"])
    return out
