"""What the command-line tests share: where the programs are, running them,
CSV in and out, and the checks every failure must pass (its exit status and
one line on standard error, naming the program)."""
import csv
import io
import math
import os
import struct
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.path.abspath(os.environ.get("FIN_BIN", os.path.join(ROOT, "build", "bin")))


def read_csv(path):
    with open(os.path.join(ROOT, path), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def parse_csv(data):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def as_float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def rel_close(got, want, rel):
    return abs(got - want) <= rel * abs(want)


def silhouette_rounding(x, labels):
    """How far a silhouette fin computes in float32 may be from the exact
    one on the rows x (lists of floats). fin centres the rows and rounds
    them to float32, then takes each squared distance as
    |a|^2 + |b|^2 - 2 a.b through float32 sums of d terms: off by at most
    (d + 6) u (|a| + |b|)^2 (u = 2^-24; the roundings of the rows, of the
    centring and of the sums, in whatever order the kernel sums). A distance
    is then off by at most that over the distance (or its root), a row's
    mean distances a and b by the mean of those, its (b - a) / max(a, b) by
    2 (da + db) / max(a, b), and the silhouette by the mean over rows: a
    worst case, every rounding the same way."""
    n, d, u = len(x), len(x[0]), 2.0 ** -24
    centre = [math.fsum(r[k] for r in x) / n for k in range(d)]
    rows = [[v - c for v, c in zip(r, centre)] for r in x]
    norms = [math.sqrt(math.fsum(v * v for v in r)) for r in rows]
    members = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    total = 0.0
    for i in range(n):
        if len(members[labels[i]]) == 1:
            continue
        means = {}
        for label, js in members.items():
            dist_sum = err_sum = 0.0
            for j in js:
                if j == i:
                    continue
                sq = math.fsum((p - q) ** 2 for p, q in zip(rows[i], rows[j]))
                err = (d + 6) * u * (norms[i] + norms[j]) ** 2
                dist = math.sqrt(sq)
                dist_sum += dist
                err_sum += min(math.sqrt(err), err / dist) if dist > 0 else math.sqrt(err)
            m = len(js) - (labels[i] == label)
            means[label] = (dist_sum / m, err_sum / m)
        a, da = means[labels[i]]
        b = min(v[0] for label, v in means.items() if label != labels[i])
        db = max(v[1] for label, v in means.items() if label != labels[i])
        if max(a, b) > 0:
            total += 2 * (da + db) / max(a, b)
    return total / n


def run(tool, *args, stdin=None):
    return subprocess.run([tool, *args], cwd=ROOT, input=stdin, capture_output=True, timeout=60)


class FinCase(unittest.TestCase):
    def run_ok(self, tool, *args, stdin=None):
        result = run(tool, *args, stdin=stdin)
        self.assertEqual(result.returncode, 0,
                         f"{os.path.basename(tool)} {' '.join(args)}: "
                         f"{result.stderr.decode(errors='replace')}")
        return result

    def run_fails(self, code, tool, *args, stdin=None):
        """Runs a failing command; returns its one-line message."""
        result = run(tool, *args, stdin=stdin)
        name = os.path.basename(tool)
        message = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"{name} {' '.join(args)}: {message}")
        self.assertTrue(message.startswith(name + ": "), message)
        self.assertEqual(message.count("\n"), 1, f"not one line: {message!r}")
        return message
