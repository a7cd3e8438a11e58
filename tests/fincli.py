"""What the command-line tests share: where the programs are, running them,
CSV in and out, and the checks every failure must pass (its exit status and
one line on standard error, naming the program)."""
import csv
import io
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
