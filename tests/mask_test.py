#!/usr/bin/env python3
"""Command-line tests of fin-mask: pseudonyms, masks, generalisation,
noise, k-anonymity and l-diversity, its report and its errors.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/mask_test.py` (needs numpy and
pandas). Every expected value is computed here from the interface fin-mask
documents: pseudonyms with Python's hmac and hashlib, bucket bounds and
rounding with decimal arithmetic, classes and their sizes with a pandas
groupby over the generalised values, the Laplace noise against its
distribution (moments within a few standard errors, and a
Kolmogorov-Smirnov distance); nothing is copied from fin-mask's own output,
except where one run of fin-mask is the reference for another (the same
seed gives the same noise, however the column is processed afterwards).
"""
import gzip
import hashlib
import hmac
import io
import json
import math
import os
import random
import re
import select
import subprocess
import tempfile
import threading
import time
import unittest
from collections import Counter
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

import numpy as np
import pandas as pd

from fincli import BIN_DIR, ROOT, FinCase, parse_csv, read_csv

FIN_MASK = os.path.join(BIN_DIR, "fin-mask")
CREDIT = "data/german_credit.csv"

EXIT_DATA, EXIT_USAGE, EXIT_NO_ROWS, EXIT_CHECK = 1, 2, 4, 5

# Spellings pandas 1.5's read_csv takes as missing by default (fin(7)).
NA_SPELLINGS = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"}

# Keys: arbitrary bytes, a trailing newline being part of the key.
KEY = b"\x00\x01fin-mask test key \xff\xfe\xc3\xa9 with a NUL and a newline\n"
ENV_KEY = b"correct horse battery staple \xc3\xa9\xe2\x82\xac\n"
OTHER_KEY = b"another key, for another release of the data"
KEY_ENV = "FIN_MASK_TEST_KEY"
SECRET = "SECRET4242"

TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-mask-test-")
    for name, key in (("key", KEY), ("env_key", ENV_KEY), ("other_key", OTHER_KEY)):
        write_key(name, key)


def tearDownModule():
    TMP.cleanup()


def path(name):
    return os.path.join(TMP.name, name)


def write_key(name, key):
    """A key file only its owner reads, as a key file should be."""
    fd = os.open(path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return path(name)


# ---------------------------------------------------------------- reference


def pseudonym(key, value, length=64):
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]


def missing(text, na_values=()):
    """A field fin reads as missing: a pandas spelling or one of
    --na-values, blanks around it ignored."""
    return text.strip(" \t") in NA_SPELLINGS or text.strip(" \t") in na_values


def masked(value, keep=4):
    """The last keep code points kept, every other one a '*'; a value of
    keep code points or fewer all '*'."""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[len(value) - keep:]


def bucket(text, width):
    """'[a,b)' with a = k*width <= v < b = (k+1)*width, v read as the
    decimal it is written as, bounds with width's decimals."""
    places = len(width.split(".")[1]) if "." in width else 0
    with localcontext() as ctx:
        ctx.prec = 100
        w, v = Decimal(width), Decimal(text.strip())
        k = (v / w).to_integral_value(rounding=ROUND_FLOOR)
        quantum = Decimal(1).scaleb(-places)
        lo, hi = ((k * w).quantize(quantum), ((k + 1) * w).quantize(quantum))
    return "[%s,%s)" % tuple(format(abs(b) if b == 0 else b, "f") for b in (lo, hi))


def rounded(text, digits):
    """printf("%.*f") of the binary value for digits >= 0; for digits < 0
    the exact value over 10^-digits, rounded half to even, times 10^-digits;
    zero without a sign."""
    v = float(text)
    if digits >= 0:
        out = f"{v:.{digits}f}"
    else:
        with localcontext() as ctx:
            ctx.prec = 100
            scale = Decimal(10) ** -digits
            q = (Decimal(v) / scale).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
            out = format(q * scale, "f")
    return out.lstrip("-") if float(out) == 0 else out


def rounded_in_binary(text, digits):
    """The same for digits < 0 through a double quotient, as a C program
    may well compute it: test values are chosen so that both agree."""
    scale = 10.0 ** -digits
    out = f"{round(float(text) / scale) * scale:.0f}"
    return out.lstrip("-") if float(out) == 0 else out


def code_value(text):
    """A top- or bottom-code VALUE as written: repr(float), without '.0'."""
    r = repr(float(text))
    return r[:-2] if r.endswith(".0") else r


def top_coded(text, value):
    return code_value(value) if float(text) > float(value) else text


def bottom_coded(text, value):
    return code_value(value) if float(text) < float(value) else text


def truncated_date(text, unit):
    return text.strip(" \t")[:{"day": 10, "month": 7, "year": 4}[unit]]


def significant_digits(text):
    """The significant digits of a decimal, e.g. '-0.0120e5' -> '12'."""
    m = re.fullmatch(r"-?(\d*)(?:\.(\d*))?(?:[eE][-+]?\d+)?", text)
    assert m, text
    return (m.group(1) + (m.group(2) or "")).strip("0")


def laplace_cdf(x, scale):
    return np.where(x < 0, 0.5 * np.exp(x / scale), 1 - 0.5 * np.exp(-x / scale))


def quote(field):
    """RFC 4180 quoting, only where needed."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_bytes(rows):
    """RFC 4180 text; a row of one empty field is '""', not a blank line."""
    return "".join((",".join(quote(f) for f in row) if row != [""] else '""') + "\n"
                   for row in rows).encode()


def write_table(name, header, rows):
    p = path(name)
    with open(p, "wb") as f:
        f.write(csv_bytes([header] + rows))
    return p


def column(rows, j):
    return [r[j] for r in rows]


def classes_of(keys, sensitive=None):
    """Class sizes (and the distinct values of a sensitive column in each,
    a missing value counting as one) by a pandas groupby; keys is a list
    of tuples with None for a missing value. Returns the size of each row's
    class, its distinct count (or None), and the size of every class."""
    frame = pd.DataFrame(keys, columns=["q%d" % i for i in range(len(keys[0]))])
    names = list(frame.columns)
    frame["s"] = sensitive if sensitive is not None else 0
    groups = frame.groupby(names, dropna=False, sort=False)
    size = groups["s"].transform("size").tolist()
    distinct = (groups["s"].transform(lambda s: s.nunique(dropna=False)).tolist()
                if sensitive is not None else None)
    sizes = groups.size().tolist()
    assert sum(sizes) == len(keys)
    return size, distinct, sizes


def histogram(sizes):
    return [{"size": s, "classes": c} for s, c in sorted(Counter(sizes).items())]


# ------------------------------------------------------------------ running


def mask(*args, stdin=None, env=None):
    return subprocess.run([FIN_MASK, *args], cwd=ROOT, input=stdin, capture_output=True,
                          env=env, timeout=120)


def env_with_key(key):
    env = dict(os.environb)
    env.pop(KEY_ENV.encode(), None)
    if key is not None:
        env[KEY_ENV.encode()] = key
    return env


def load_json(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


class MaskCase(FinCase):
    maxDiff = 4000

    def ok(self, *args, stdin=None, env=None):
        result = mask(*args, stdin=stdin, env=env)
        self.assertEqual(result.returncode, 0,
                         f"fin-mask {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result

    def table(self, *args, stdin=None, env=None):
        return parse_csv(self.ok(*args, stdin=stdin, env=env).stdout)

    def fails(self, code, *args, stdin=None, env=None):
        """A failing run; its one-line message, checked as run_fails does."""
        result = mask(*args, stdin=stdin, env=env)
        message = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"fin-mask {' '.join(args)}: {message}")
        self.assertTrue(message.startswith("fin-mask: "), message)
        self.assertEqual(message.count("\n"), 1, f"not one line: {message!r}")
        return message


# ------------------------------------------------------------ pseudonyms


# Values read after CSV unquoting, hashed as they are: commas, quotes,
# UTF-8, blanks around them, a line break, 'None' (no missing spelling).
ID_VALUES = ["C001", "alice smith", " alice smith ", "Müller, Jörg", 'say "hello"', "東京都",
             "a,b,c", "line1\nline2", "None", "0042", "42", "", "NA", "NaN", "null", "C001",
             "🙂 émoji"]


class Pseudonyms(MaskCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(3)
        cls.header = ["customer_id", "name", "amount"]
        cls.rows = [[v, rng.choice(["Ann", "Bob, Jr.", "", "Zoë"]), "%.2f" % rng.uniform(0, 99)]
                    for v in ID_VALUES]
        cls.data = write_table("ids.csv", cls.header, cls.rows)

    def expected(self, key, length=64, columns=(0,)):
        return [[("" if missing(f) else pseudonym(key, f, length)) if j in columns else f
                 for j, f in enumerate(r)] for r in self.rows]

    def test_hmac_sha256_with_a_key_file(self):
        for length in (None, "16", "40", "64"):
            options = [] if length is None else ["--length", length]
            with self.subTest(length=length):
                header, rows = self.table("--key-file", path("key"), "--pseudonymize",
                                          "customer_id", *options, "-q", self.data)
                self.assertEqual(header, self.header)
                self.assertEqual(rows, self.expected(KEY, int(length or 64)))

    def test_two_columns_by_name_index_and_range(self):
        want = self.expected(KEY, 16, columns=(0, 1))
        for spec in (["customer_id,name"], ["1-2"], ["1", "--pseudonymize", "name"]):
            with self.subTest(spec=spec):
                _, rows = self.table("--key-file", path("key"), "--length", "16",
                                     "--pseudonymize", *spec, "-q", self.data)
                self.assertEqual(rows, want)

    def test_key_env_reads_the_same_bytes(self):
        _, from_file = self.table("--key-file", path("env_key"), "--pseudonymize",
                                  "customer_id", "-q", self.data)
        _, from_env = self.table("--key-env", KEY_ENV, "--pseudonymize", "customer_id", "-q",
                                 self.data, env=env_with_key(ENV_KEY))
        self.assertEqual(from_env, self.expected(ENV_KEY))
        self.assertEqual(from_env, from_file)
        # without its trailing newline, the key is another key
        _, stripped = self.table("--key-env", KEY_ENV, "--pseudonymize", "customer_id", "-q",
                                 self.data, env=env_with_key(ENV_KEY.rstrip(b"\n")))
        self.assertEqual(stripped, self.expected(ENV_KEY.rstrip(b"\n")))
        self.assertNotEqual(stripped, from_env)

    def test_same_key_same_pseudonyms_another_key_others(self):
        args = ["--pseudonymize", "customer_id", "--length", "16", "-q", self.data]
        first = self.ok("--key-file", path("key"), *args).stdout
        second = self.ok("--key-file", path("key"), *args).stdout
        self.assertEqual(first, second)
        _, mine = parse_csv(first)
        _, other = self.table("--key-file", path("other_key"), *args)
        self.assertEqual(other, self.expected(OTHER_KEY, 16))
        for a, b, r in zip(mine, other, self.rows):
            if not missing(r[0]):
                self.assertNotEqual(a[0], b[0], r[0])

    def test_a_join_across_two_files_still_works(self):
        rng = random.Random(5)
        customers = [["CUST-%04d" % i, "name %d" % i] for i in range(60)]
        customers.append(["ACME, Inc.", "a company"])
        ids = [c[0] for c in customers]
        txns = [["T%05d" % i, rng.choice(ids + ["UNKNOWN"]), "%.2f" % rng.uniform(1, 500)]
                for i in range(400)]
        rng.shuffle(customers)
        cust_path = write_table("customers.csv", ["customer_id", "name"], customers)
        txn_path = write_table("txns.csv", ["txn_id", "customer_id", "amount"], txns)
        args = ["--key-file", path("key"), "--pseudonymize", "customer_id", "--length", "16",
                "-q"]
        ch, cr = self.table(*args, cust_path)
        th, tr = self.table(*args, txn_path)

        def joined(cust, txn):
            c = pd.DataFrame(cust, columns=["customer_id", "name"])
            t = pd.DataFrame(txn, columns=["txn_id", "customer_id", "amount"])
            m = t.merge(c, on="customer_id")[["txn_id", "name"]]
            return m.sort_values("txn_id").values.tolist()

        want = joined(customers, txns)
        self.assertEqual(len(want), sum(t[1] != "UNKNOWN" for t in txns))
        self.assertEqual(joined(cr, tr), want)
        self.assertEqual(column(tr, 1), [pseudonym(KEY, t[1], 16) for t in txns])

    def test_a_key_is_needed(self):
        message = self.fails(EXIT_USAGE, "--pseudonymize", "customer_id", self.data,
                             env=env_with_key(None))
        self.assertIn("key", message.lower())
        # --key-env naming an unset variable
        self.fails(EXIT_USAGE, "--key-env", KEY_ENV, "--pseudonymize", "customer_id",
                   self.data, env=env_with_key(None))
        self.fails(EXIT_USAGE, "--key-file", path("key"), "--key-env", KEY_ENV,
                   "--pseudonymize", "customer_id", self.data, env=env_with_key(ENV_KEY))

    def test_key_sizes(self):
        for size, code in ((15, EXIT_USAGE), (16, 0), (65536, 0), (65537, EXIT_USAGE)):
            key = bytes((7 * i + 1) % 256 for i in range(size - 4)) + b"KEY\n"
            write_key("sized_key", key)
            args = ["--key-file", path("sized_key"), "--pseudonymize", "customer_id", "-q",
                    self.data]
            with self.subTest(size=size):
                if code:
                    message = self.fails(code, *args)
                    self.assertNotIn(key.decode("latin-1"), message)
                else:
                    _, rows = self.table(*args)
                    self.assertEqual(rows, self.expected(key))
        for key in (b"", b"fifteen bytes!!"):
            with self.subTest(env_key=key):
                message = self.fails(EXIT_USAGE, "--key-env", KEY_ENV, "--pseudonymize",
                                     "customer_id", self.data, env=env_with_key(key))
                if key:
                    self.assertNotIn(key.decode(), message)
        sixteen = b"sixteen bytes!!!"
        _, rows = self.table("--key-env", KEY_ENV, "--pseudonymize", "customer_id", "-q",
                             self.data, env=env_with_key(sixteen))
        self.assertEqual(rows, self.expected(sixteen))

    def test_length_bounds(self):
        for length in ("8", "15", "65", "0", "-16", "x16", ""):
            with self.subTest(length=length):
                self.fails(EXIT_USAGE, "--key-file", path("key"), "--pseudonymize",
                           "customer_id", "--length", length, self.data)

    def test_no_option_takes_the_key_itself(self):
        text = "0123456789abcdef0123456789abcdef"
        # (--key, a prefix of --key-file and --key-env, is ambiguous to getopt)
        for args in (["--key", text], ["--key=" + text], ["--hmac-key", text],
                     ["--secret", text], ["-k", text]):
            with self.subTest(args=args):
                result = mask(*args, "--pseudonymize", "customer_id", self.data)
                self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
                self.assertIn(b"Try 'fin-mask --help'", result.stderr)

    def assert_key_not_in_argv(self, proc, key, words):
        self.assertIsNone(proc.poll(), "fin-mask ended before its argv was read")
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            argv = f.read()
        self.assertIn(b"fin-mask", argv)
        self.assertIn(b"--pseudonymize", argv)
        for part in (key, key.strip(b"\x00\x01\n"), words):
            self.assertIn(words, key)
            self.assertNotIn(part, argv)

    def test_the_key_is_not_in_a_running_process_argv(self):
        # reading a FIFO nobody writes to yet, with --key-file
        fifo = path("ids.fifo")
        os.mkfifo(fifo)
        data = csv_bytes([self.header] + self.rows)
        proc = subprocess.Popen([FIN_MASK, "--key-file", path("key"), "--pseudonymize",
                                 "customer_id", "-q", fifo],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.2)
            self.assert_key_not_in_argv(proc, KEY, b"fin-mask test key")
            deadline = time.monotonic() + 30
            while True:  # a writer may open only once fin-mask opened it to read
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            os.set_blocking(fd, True)
            os.write(fd, data)
            os.close(fd)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(parse_csv(out)[1], self.expected(KEY))

        # reading a stdin pipe kept open, with --key-env
        proc = subprocess.Popen([FIN_MASK, "--key-env", KEY_ENV, "--pseudonymize",
                                 "customer_id", "-q"], env=env_with_key(ENV_KEY),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            proc.stdin.write(b"customer_id,name,amount\n")
            proc.stdin.flush()
            time.sleep(0.2)
            self.assert_key_not_in_argv(proc, ENV_KEY, b"horse battery")
            out, err = proc.communicate(csv_bytes(self.rows), timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(parse_csv(out)[1], self.expected(ENV_KEY))


# ------------------------------------------------------------------ masks


class Masks(MaskCase):
    def test_masks(self):
        header = ["card_number", "iban", "name", "note", "pin"]
        rows = [
            ["4111111111111111", "DE89370400440532013000", "Zoë Ünal-Sørensen", "x", "1234"],
            ["5500 0000 0000 0004", "GB82 WEST 1234 5698 7654 32", "東京都港区", "ab", "123"],
            ["378282246310005", "FR1420041010050500013M02606", "Al", "é", "12345"],
            ["", "NA", "NaN", "", "N/A"],
            ["4000-0566-5566-5556", "NL91ABNA0417164300", "a,b,c", 'say "hi"', "9"],
            ["123", "1234", "🙂🙂🙂🙂🙂", "ab ", "null"],
            ["SECRET4242", "SECRET4242", "Ann Lee", "line1\nline2", "0000"],
        ]
        data = write_table("cards.csv", header, rows)
        out_header, out = self.table("--mask", "card_number:4", "--mask", "iban",
                                     "--mask", "name:2", "--mask", "note:0", "--mask", "pin:4",
                                     "-q", data)
        self.assertEqual(out_header, header)
        keeps = [4, 4, 2, 0, 4]
        want = [["" if missing(f) else masked(f, k) for f, k in zip(r, keeps)] for r in rows]
        self.assertEqual(out, want)
        # worked by hand, so the reference above is checked too
        self.assertEqual(out[0][0], "************1111")
        self.assertEqual(out[1][1], "***********************4 32")
        self.assertEqual(out[0][2], "***************en")
        self.assertEqual(out[1][2], "***港区")
        self.assertEqual(out[5][2], "***🙂🙂")
        self.assertEqual(out[5][0], "***")
        self.assertEqual(out[5][1], "****")
        self.assertEqual(out[0][4], "****")
        self.assertEqual(out[2][3], "*")
        self.assertEqual(out[4][2], "***,c")
        self.assertNotIn(b"SECRET", self.ok("--mask", "card_number:4", "--mask", "iban",
                                            "-q", data).stdout)

    def test_bad_keep(self):
        data = write_table("card.csv", ["card"], [["4111111111111111"]])
        for spec in ("card:-1", "card:x", "card:", "card:4.5"):
            with self.subTest(spec=spec):
                self.fails(EXIT_USAGE, "--mask", spec, data)


# --------------------------------------------------------- generalisation


class Buckets(MaskCase):
    # width -> values and their buckets, worked by hand
    CASES = {
        "10": [("35", "[30,40)"), ("30", "[30,40)"), ("39.999", "[30,40)"), ("40", "[40,50)"),
               ("-3", "[-10,0)"), ("-10", "[-10,0)"), ("-10.5", "[-20,-10)"), ("0", "[0,10)"),
               ("-0", "[0,10)"), ("99", "[90,100)"), ("100", "[100,110)"),
               ("123456789", "[123456780,123456790)"), ("1e2", "[100,110)"),
               ("2.5e1", "[20,30)")],
        "0.1": [("0.3", "[0.3,0.4)"), ("0.7", "[0.7,0.8)"), ("0.6", "[0.6,0.7)"),
                ("1.1", "[1.1,1.2)"), ("2.3", "[2.3,2.4)"), ("-0.3", "[-0.3,-0.2)"),
                ("-0.1", "[-0.1,0.0)"), ("-0.05", "[-0.1,0.0)"), ("0", "[0.0,0.1)"),
                ("-0", "[0.0,0.1)"), ("0.05", "[0.0,0.1)"), ("12.34", "[12.3,12.4)"),
                ("-12.34", "[-12.4,-12.3)"), ("0.30000000001", "[0.3,0.4)"),
                ("0.29999999", "[0.2,0.3)")],
        "0.5": [("1.7", "[1.5,2.0)"), ("2", "[2.0,2.5)"), ("-0.25", "[-0.5,0.0)"),
                ("1.5", "[1.5,2.0)")],
        "0.05": [("0.15", "[0.15,0.20)"), ("0.35", "[0.35,0.40)"), ("0.149", "[0.10,0.15)")],
        "3": [("-1", "[-3,0)"), ("7", "[6,9)"), ("6", "[6,9)"), ("0", "[0,3)")],
        "2.50": [("5", "[5.00,7.50)"), ("7.49", "[5.00,7.50)"), ("-0.01", "[-2.50,0.00)")],
        "1000": [("1234567.89", "[1234000,1235000)"), ("-999.5", "[-1000,0)")],
    }

    def test_buckets(self):
        widths = list(self.CASES)
        header = ["id"] + ["w" + w for w in widths]
        depth = max(len(v) for v in self.CASES.values()) + 2
        rows = []
        for i in range(depth):
            row = [str(i)]
            for w in widths:
                cases = self.CASES[w]
                row.append(cases[i][0] if i < len(cases) else ("NA", "")[i % 2])
            rows.append(row)
        data = write_table("buckets.csv", header, rows)
        args = [a for w in widths for a in ("--bucket", f"w{w}:{w}")]
        result = self.ok(*args, "-q", data)
        want = [[r[0]] + ["" if missing(f) else bucket(f, w) for f, w in zip(r[1:], widths)]
                for r in rows]
        for w, cases in self.CASES.items():  # the reference agrees with the hand
            for value, label in cases:
                self.assertEqual(bucket(value, w), label, (value, w))
        # byte for byte: each label holds a comma, so it is quoted
        self.assertEqual(result.stdout, csv_bytes([header] + want))
        self.assertIn(b'"[30,40)"', result.stdout)
        self.assertIn(b'"[0.3,0.4)"', result.stdout)

    def test_random_values(self):
        rng = random.Random(11)
        widths = ["10", "0.1", "0.25", "7", "0.001"]
        values = ["%.*f" % (rng.randint(0, 4), rng.uniform(-500, 500)) for _ in range(400)]
        header = ["w" + w for w in widths]
        data = write_table("random_buckets.csv", header, [[v] * len(widths) for v in values])
        args = [a for w in widths for a in ("--bucket", f"w{w}:{w}")]
        _, out = self.table(*args, "-q", data)
        self.assertEqual(out, [[bucket(v, w) for w in widths] for v in values])

    def test_bad_widths(self):
        data = write_table("age.csv", ["age"], [["35"]])
        for width in ("1e3", "-5", "0", "0.000", "abc", "", "+5", "0x10", "inf", "nan", "1.2.3"):
            with self.subTest(width=width):
                self.fails(EXIT_USAGE, "--bucket", "age:" + width, data)


class Rounding(MaskCase):
    DIGITS = [0, 1, 2, 3, 15, -1, -2, -3, -15]
    FIXED = ["2.675", "0.125", "0.375", "-0.001", "-0.4", "0.5", "1.5", "2.5", "-2.5", "1e-20",
             "123456.789", "15", "25", "-15", "-4", "1234.5", "250", "350", "-50", "149.999",
             "2500", "2501", "0", "-0", "0.045", "1.005", "99.95", "-1234.5678",
             "1500000000000000", "500000000000000", "-0.0000001"]

    def test_round(self):
        rng = random.Random(13)
        values = self.FIXED + ["%.*f" % (rng.randint(0, 7), rng.uniform(-1e5, 1e5))
                               for _ in range(200)]
        for v in values:  # the test values are clear of the binary/decimal divide
            for d in self.DIGITS:
                if d < 0:
                    self.assertEqual(rounded(v, d), rounded_in_binary(v, d), (v, d))
        header = ["id"] + ["d%d" % d for d in self.DIGITS]
        rows = [[str(i)] + [v] * len(self.DIGITS) for i, v in enumerate(values)]
        rows += [["na", "", "NA", "nan", "NULL", "", "", "N/A", "", ""]]
        data = write_table("round.csv", header, rows)
        args = [a for d in self.DIGITS for a in ("--round", "d%d:%d" % (d, d))]
        _, out = self.table(*args, "-q", data)
        want = [[r[0]] + ["" if missing(f) else rounded(f, d) for f, d in zip(r[1:], self.DIGITS)]
                for r in rows]
        self.assertEqual(out, want)
        by_value = {r[0]: dict(zip(self.DIGITS, r[1:])) for r in out}
        # worked by hand: ties to even on the binary value, no '-0'
        hand = {"2.675": {2: "2.67"}, "0.125": {2: "0.12"}, "0.375": {2: "0.38"},
                "-0.001": {2: "0.00"}, "-0.4": {0: "0"}, "2.5": {0: "2", -1: "0"},
                "-2.5": {0: "-2"}, "15": {-1: "20"}, "25": {-1: "20"}, "-15": {-1: "-20"},
                "-4": {-1: "0"}, "250": {-2: "200"}, "350": {-2: "400"}, "-50": {-2: "0"},
                "2500": {-3: "2000"}, "2501": {-3: "3000"}, "1e-20": {15: "0.000000000000000"},
                "1500000000000000": {-15: "2000000000000000"}, "500000000000000": {-15: "0"},
                "-0": {0: "0", 3: "0.000"}, "-0.0000001": {3: "0.000", -1: "0"}}
        for v, cases in hand.items():
            i = values.index(v)
            for d, text in cases.items():
                self.assertEqual(by_value[str(i)][d], text, (v, d))

    def test_bad_digits(self):
        data = write_table("amount.csv", ["amount"], [["1.5"]])
        for spec in ("amount:16", "amount:-16", "amount:x", "amount:", "amount:1.5"):
            with self.subTest(spec=spec):
                self.fails(EXIT_USAGE, "--round", spec, data)


class Dates(MaskCase):
    VALID = ["2020-01-03", "2020-01-03T09:30:00Z", "2020-01-03 09:30",
             "2020-01-03T09:30:00+05:30", "2020-12-31T23:59:59.999-08:00", " 2021-06-30 ",
             "2020-02-29", "1999-12-31T00:00:00", "2024-07-04T12:00:00.123456Z"]
    INVALID = ["2020-13-01", "2020-00-10", "2020-01-32", "2020-01-00", "2021-02-29",
               "2020-04-31", "20200103", "03/01/2020", "2020/01/03", "2020-1-3", "2020-01-3",
               "abcd-ef-gh", "Jan 3 2020", "2020-13", "2020"]

    def test_truncation(self):
        rows = [[str(i), v, v, v] for i, v in enumerate(self.VALID)]
        rows += [["ym", "", "2020-01", "2020-01"], ["na", "NA", "", "null"]]
        data = write_table("dates.csv", ["id", "d", "m", "y"], rows)
        _, out = self.table("--date", "d:day", "--date", "m:month", "--date", "y:year", "-q",
                            data)
        want = [[r[0]] + ["" if missing(f) else truncated_date(f, u)
                          for f, u in zip(r[1:], ("day", "month", "year"))] for r in rows]
        self.assertEqual(out, want)
        self.assertEqual(out[1][1:], ["2020-01-03", "2020-01", "2020"])
        self.assertEqual(out[3][1:], ["2020-01-03", "2020-01", "2020"])  # no time zone shift
        self.assertEqual(out[-2][2:], ["2020-01", "2020"])

    def test_invalid_dates(self):
        for unit in ("day", "month", "year"):
            for value in self.INVALID + (["2020-01"] if unit == "day" else []):
                data = write_table("bad_date.csv", ["id", "when"],
                                   [["1", "2020-01-03"], ["2", value], ["3", "2020-01-04"]])
                with self.subTest(unit=unit, value=value):
                    message = self.fails(EXIT_DATA, "--date", "when:" + unit, data)
                    self.assertIn(f"{data}:3:", message)
                    self.assertNotIn(value, message)

    def test_bad_unit(self):
        data = write_table("date.csv", ["when"], [["2020-01-03"]])
        for spec in ("when:week", "when:", "when:Day", "when"):
            with self.subTest(spec=spec):
                self.fails(EXIT_USAGE, "--date", spec, data)


class Coding(MaskCase):
    def test_top_and_bottom_codes(self):
        values = ["95", "90", "90.0", "1e2", "007", "+3", "89.999", "-5", "0", "-0", "-0.5",
                  "1.50", "2.5000001", "9.0e1", "1000.5", "NA", "", "-1e3", "18", "17.9"]
        header = ["hi", "lo", "both", "frac", "big"]
        rows = [[v] * len(header) for v in values]
        data = write_table("codes.csv", header, rows)
        _, out = self.table("--top-code", "hi:90", "--bottom-code", "lo:0",
                            "--bottom-code", "both:18", "--top-code", "both:90.0",
                            "--top-code", "frac:2.50", "--top-code", "big:1e3", "-q", data)

        def both(v):
            return top_coded(bottom_coded(v, "18"), "90.0")

        rules = [lambda v: top_coded(v, "90"), lambda v: bottom_coded(v, "0"), both,
                 lambda v: top_coded(v, "2.50"), lambda v: top_coded(v, "1e3")]
        want = [["" if missing(f) else rule(f) for f, rule in zip(r, rules)] for r in rows]
        self.assertEqual(out, want)
        by_value = dict(zip(values, out))
        # replaced by the code written shortest; others byte for byte
        self.assertEqual(by_value["95"][0], "90")
        self.assertEqual(by_value["1e2"][0], "90")
        self.assertEqual(by_value["90.0"][0], "90.0")
        self.assertEqual(by_value["9.0e1"][0], "9.0e1")
        self.assertEqual(by_value["007"][0], "007")
        self.assertEqual(by_value["+3"][0], "+3")
        self.assertEqual(by_value["-0.5"][1], "0")
        self.assertEqual(by_value["-0"][1], "-0")
        self.assertEqual(by_value["-1e3"][2], "18")
        self.assertEqual(by_value["95"][2], "90")
        self.assertEqual(by_value["1.50"][3], "1.50")
        self.assertEqual(by_value["2.5000001"][3], "2.5")
        self.assertEqual(by_value["1000.5"][4], "1000")
        self.assertEqual(by_value["NA"], [""] * 5)

    def test_bad_values(self):
        data = write_table("x.csv", ["x"], [["1"]])
        for option in ("--top-code", "--bottom-code"):
            for spec in ("x:abc", "x:", "x", "x:1,5"):
                with self.subTest(option=option, spec=spec):
                    self.fails(EXIT_USAGE, option, spec, data)


class ChainsAndColumns(MaskCase):
    def test_numeric_operations_chain_in_a_fixed_order(self):
        values = ["95", "120", "45", "90", "17", "39.6", "39.4", "95.5", "19.5", "18.5", "NA"]
        rows = [[str(i), v, v] for i, v in enumerate(values)]
        data = write_table("chain.csv", ["id", "age", "x"], rows)
        # given in reverse order: the chain order is fixed
        _, out = self.table("--bucket", "age:10", "--top-code", "age:90",
                            "--bucket", "x:10", "--round", "x:0", "--top-code", "x:90",
                            "--bottom-code", "x:18", "-q", data)

        def age(v):
            return bucket(top_coded(v, "90"), "10")

        def x(v):
            return bucket(rounded(top_coded(bottom_coded(v, "18"), "90"), 0), "10")

        want = [[r[0]] + (["", ""] if missing(r[1]) else [age(r[1]), x(r[2])]) for r in rows]
        self.assertEqual(out, want)
        self.assertEqual(out[0][1:], ["[90,100)", "[90,100)"])
        self.assertEqual(out[4][2], "[10,20)")    # 17 -> 18
        self.assertEqual(out[5][2], "[40,50)")    # 39.6 -> 40
        self.assertEqual(out[8][2], "[20,30)")    # 19.5 -> 20
        self.assertEqual(out[9][2], "[10,20)")    # 18.5 -> 18, ties to even

    def test_drop_and_pass_through(self):
        header = ["id", "ssn", "name", "iban", "amount", "note", "flag"]
        rows = [["1", "123-45-6789", "Ann", "DE89370400440532013000", "12.50", "a, b", "x"],
                ["2", "SECRET4242", "Bob", "GB82WEST12345698765432", "NA", 'say "hi"', ""],
                ["3", "", "Zoë", "", "7", "line1\nline2", "NA"]]
        data = write_table("drop.csv", header, rows)
        for spec in (["ssn,iban"], ["2", "--drop", "4"], ["ssn", "--drop", "iban"]):
            with self.subTest(spec=spec):
                result = self.ok("--drop", *spec, "-q", data)
                keep = [0, 2, 4, 5, 6]
                self.assertEqual(result.stdout,
                                 csv_bytes([[r[j] for j in keep] for r in [header] + rows]))
                self.assertNotIn(b"SECRET", result.stdout)
        result = self.ok("--drop", "2-4", "--round", "amount:0", "-q", data)
        self.assertEqual(parse_csv(result.stdout),
                         (["id", "amount", "note", "flag"],
                          [["1", "12", "a, b", "x"], ["2", "", 'say "hi"', ""],
                           ["3", "7", "line1\nline2", "NA"]]))

    def test_unoperated_columns_pass_through_byte_for_byte(self):
        # over-quoted fields lose their quotes, those that need them keep them;
        # CRLF read, LF written, a BOM stripped, missing spellings untouched
        raw = ('\ufeff"id","note","amount","code"\r\n'
               '"1","plain","1.50","007"\r\n'
               '2,"a, comma","NA","  padded  "\r\n'
               '3,"say ""hi""",-0,"NaN"\r\n'
               '4,"two\nlines",1e3,""\r\n'
               '5,Zoë,,"#N/A"\r\n').encode()
        result = self.ok("--top-code", "amount:100", "-q", stdin=raw)
        self.assertEqual(result.stdout,
                         b'id,note,amount,code\n1,plain,1.50,007\n2,"a, comma",,  padded  \n'
                         b'3,"say ""hi""",-0,NaN\n4,"two\nlines",100,\n'
                         + "5,Zoë,,#N/A\n".encode())
        # no operation at all: the table as read
        result = self.ok("-q", stdin=raw)
        self.assertEqual(result.stdout,
                         b'id,note,amount,code\n1,plain,1.50,007\n2,"a, comma",NA,  padded  \n'
                         b'3,"say ""hi""",-0,NaN\n4,"two\nlines",1e3,\n'
                         + "5,Zoë,,#N/A\n".encode())

    def test_na_values_in_operated_columns_only(self):
        rows = [["1", "-999", "-999", "C1"], ["2", "5", "missing", "-999"],
                ["3", "missing", "7", "NA"]]
        data = write_table("na.csv", ["id", "a", "b", "c"], rows)
        _, out = self.table("--round", "a:0", "--bucket", "b:10", "--mask", "c:1",
                            "--na-values", "-999,missing", "-q", data)
        self.assertEqual(out, [["1", "", "", "*1"], ["2", "5", "", ""], ["3", "", "[0,10)", ""]])
        _, out = self.table("--round", "a:0", "--na-values", "-999,missing", "-q", data)
        self.assertEqual(out, [["1", "", "-999", "C1"], ["2", "5", "missing", "-999"],
                               ["3", "", "7", "NA"]])

    def test_a_missing_value_alone_on_its_line_stays_a_row(self):
        """In a one-column table an empty field needs its quotes: a blank
        line is no row to a CSV reader (pandas, or fin's own)."""
        data = write_table("one_column.csv", ["x"], [["1.4"], ["NA"], ["2.6"], [""], ["3"]])
        out = self.ok("--round", "x:0", "-q", data).stdout
        frame = pd.read_csv(io.BytesIO(out), dtype=str, keep_default_na=False)
        self.assertEqual(frame["x"].tolist(), ["1", "", "3", "", "3"])
        again = self.ok("--round", "x:0", "-q", stdin=out).stdout
        self.assertEqual(again, out)

    def test_gzip_input_and_output_file(self):
        rows = [[str(i), "%.3f" % (i * 1.37), "4111 1111 1111 %04d" % i] for i in range(50)]
        data = write_table("plain.csv", ["id", "x", "card"], rows)
        args = ["--round", "x:1", "--mask", "card", "-q"]
        want = self.ok(*args, data).stdout
        self.assertEqual(want, csv_bytes([["id", "x", "card"]] + [
            [r[0], rounded(r[1], 1), masked(r[2])] for r in rows]))
        with open(data, "rb") as f:
            packed = gzip.compress(f.read())
        with open(path("plain.csv.gz"), "wb") as f:
            f.write(packed)
        self.assertEqual(self.ok(*args, path("plain.csv.gz")).stdout, want)
        self.assertEqual(self.ok(*args, stdin=packed).stdout, want)
        result = self.ok(*args, "-o", path("masked.csv"), data)
        self.assertEqual(result.stdout, b"")
        with open(path("masked.csv"), "rb") as f:
            self.assertEqual(f.read(), want)

    def test_rows_stream_without_k_anonymity(self):
        """Without --k-anon or --l-diverse rows come out while the input
        is still open."""
        proc = subprocess.Popen([FIN_MASK, "--mask", "card", "--round", "x:0", "-q"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        line = b"4111111111111111,12.345,some text to make the line longer\n"
        done = threading.Event()

        def feed():
            try:
                proc.stdin.write(b"card,x,text\n" + line * ((4 << 20) // len(line)))
                proc.stdin.flush()
                done.wait(60)
                proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass

        writer = threading.Thread(target=feed)
        writer.start()
        got = b""
        try:
            deadline = time.monotonic() + 60
            while len(got) < 4096 and time.monotonic() < deadline and proc.poll() is None:
                ready, _, _ = select.select([proc.stdout], [], [], 1)
                if ready:
                    got += os.read(proc.stdout.fileno(), 65536)
            self.assertTrue(writer.is_alive(), "the input was closed before the check")
            self.assertGreaterEqual(len(got), 4096, "no output while the input was open")
            self.assertTrue(got.startswith(b"card,x,text\n************1111,12,"), got[:80])
        finally:
            done.set()
            proc.stdout.close()
            writer.join()
            proc.kill()
            proc.wait()
            proc.stderr.close()


# ------------------------------------------------------------------ noise


class Noise(MaskCase):
    N, SCALE = 100_000, 2.5

    @classmethod
    def setUpClass(cls):
        rng = random.Random(17)
        cls.values = ["%.2f" % rng.uniform(-5000, 5000) if i % 3 else str(rng.randint(0, 900))
                      for i in range(cls.N)]
        cls.data = write_table("noise.csv", ["id", "amount"],
                               [[str(i), v] for i, v in enumerate(cls.values)])
        result = mask("--noise", f"amount:{cls.SCALE:g}", "-q", cls.data)
        assert result.returncode == 0, result.stderr
        cls.output = result.stdout
        cls.out_text = [r[1] for r in parse_csv(result.stdout)[1]]
        cls.noise = (np.array([float(t) for t in cls.out_text])
                     - np.array([float(v) for v in cls.values]))

    def test_laplace_moments(self):
        n, b, x = self.N, self.SCALE, self.noise
        self.assertEqual(len(x), n)
        # standard errors: Laplace(b) has variance 2 b^2 and fourth moment
        # 24 b^4; |X| is exponential with mean and sd b; the sample sd's
        # variance is (mu4 - sigma^4) / (4 sigma^2 n) = 2.5 b^2 / n
        se_mean = math.sqrt(2) * b / math.sqrt(n)
        se_abs = b / math.sqrt(n)
        se_sd = math.sqrt(2.5) * b / math.sqrt(n)
        self.assertLess(abs(x.mean()), 5 * se_mean, x.mean())
        self.assertLess(abs(np.abs(x).mean() - b), 5 * se_abs, np.abs(x).mean())
        self.assertLess(abs(x.std(ddof=1) - math.sqrt(2) * b), 5 * se_sd, x.std(ddof=1))
        self.assertLess(abs(np.median(x)), 5 * b / math.sqrt(n))  # median's se: b / sqrt(n)
        self.assertGreater(len(np.unique(x)), 0.99 * n)

    def test_kolmogorov_smirnov_against_the_laplace_cdf(self):
        x = np.sort(self.noise)
        n = len(x)
        cdf = laplace_cdf(x, self.SCALE)
        i = np.arange(1, n + 1)
        d = max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n))
        self.assertLess(d, 1.63 / math.sqrt(n))  # the 1% critical value

    def test_results_written_shortest(self):
        for text in self.out_text[:20000]:
            self.assertEqual(significant_digits(text), significant_digits(repr(float(text))),
                             text)

    def test_seeds(self):
        args = ["--noise", f"amount:{self.SCALE:g}", "-q", self.data]
        self.assertEqual(self.ok(*args).stdout, self.output)
        self.assertEqual(self.ok("-s", "1", *args).stdout, self.output)
        other = self.ok("-s", "2", *args).stdout
        self.assertNotEqual(other, self.output)
        self.assertEqual(self.ok("--seed", "2", *args).stdout, other)
        a = [r[1] for r in parse_csv(other)[1]]
        self.assertLess(sum(x == y for x, y in zip(a, self.out_text)), 100)

    def noise_of(self, *args, values):
        data = write_table("noise_small.csv", ["id", "x"], [[str(i), v] for i, v in
                                                             enumerate(values)])
        _, out = self.table(*args, "-q", data)
        self.assertEqual(len(out), len(values))
        return [r[1] for r in out]

    def test_missing_values_draw_no_noise(self):
        rng = random.Random(19)
        values = ["%.1f" % rng.uniform(-100, 100) for _ in range(3000)]
        plain = self.noise_of("--noise", "x:3", values=values)
        spaced, where = [], []
        for v in values:
            while rng.random() < 0.2:
                spaced.append(rng.choice(["", "NA", "NaN", "null"]))
                where.append(None)
            spaced.append(v)
            where.append(v)
        out = self.noise_of("--noise", "x:3", values=spaced)
        self.assertEqual([o for o, w in zip(out, where) if w is None], [""] * where.count(None))
        got = [float(o) - float(w) for o, w in zip(out, where) if w is not None]
        want = [float(p) - float(v) for p, v in zip(plain, values)]
        for g, w in zip(got, want):
            self.assertAlmostEqual(g, w, delta=1e-9)
        # the noise does not depend on the value it is added to
        shifted = self.noise_of("--noise", "x:3", values=["0"] * len(values))
        for s, w in zip(shifted, want):
            self.assertAlmostEqual(float(s), w, delta=1e-9)

    def test_noise_comes_first_in_the_chain(self):
        zeros = ["0"] * 2000
        noise = self.noise_of("--noise", "x:1", values=zeros)
        self.assertTrue(any(float(v) > 0 for v in noise) and any(float(v) < 0 for v in noise))
        capped = self.noise_of("--top-code", "x:0", "--noise", "x:1", values=zeros)
        self.assertEqual(capped, ["0" if float(v) > 0 else v for v in noise])
        floored = self.noise_of("--bottom-code", "x:-0.5", "--noise", "x:1", values=zeros)
        self.assertEqual(floored, ["-0.5" if float(v) < -0.5 else v for v in noise])
        self.assertEqual(self.noise_of("--round", "x:2", "--noise", "x:1", values=zeros),
                         [rounded(v, 2) for v in noise])
        self.assertEqual(self.noise_of("--noise", "x:1", "--bucket", "x:0.5", values=zeros),
                         [bucket(v, "0.5") for v in noise])

    def test_bad_scales(self):
        data = write_table("x1.csv", ["x"], [["1"]])
        for spec in ("x:0", "x:-1", "x:abc", "x:", "x:inf", "x:nan"):
            with self.subTest(spec=spec):
                self.fails(EXIT_USAGE, "--noise", spec, data)


# ------------------------------------------------------------ k-anonymity


def customers(n, seed):
    """A customer table with a skewed mix of customer types, ages and
    households, so that the rarer combinations make many small classes."""
    rng = random.Random(seed)
    types = [("retail", 0.78, 42, 14), ("sme", 0.14, 50, 10), ("corporate", 0.05, 55, 8),
             ("private_banking", 0.03, 63, 11)]
    households = ["single", "couple", "family", "shared", ""]
    household_weights = [0.36, 0.30, 0.24, 0.07, 0.03]
    grades = ["A", "B", "C", "D", "E", ""]
    rows = []
    for i in range(n):
        kind, _, mu, sd = rng.choices(types, weights=[t[1] for t in types])[0]
        age = "NaN" if rng.random() < 0.01 else str(min(max(round(rng.gauss(mu, sd)), 18), 99))
        rows.append(["C%06d" % i, kind, age,
                     rng.choices(households, weights=household_weights)[0],
                     "%.2f" % rng.lognormvariate(10.6, 0.5),
                     rng.choices(grades, weights=[30, 35, 20, 10, 4, 1])[0]])
    return ["customer_id", "customer_type", "age", "household", "income", "risk_grade"], rows


class KAnonymity(MaskCase):
    @classmethod
    def setUpClass(cls):
        cls.header, cls.rows = customers(3000, 23)
        cls.data = write_table("customers.csv", cls.header, cls.rows)
        cls.bands = [None if missing(r[2]) else bucket(r[2], "10") for r in cls.rows]
        cls.keys = [(r[1], b, None if missing(r[3]) else r[3])
                    for r, b in zip(cls.rows, cls.bands)]

    def masked_rows(self, income_width=None):
        return [[r[0], r[1], b or "", r[3],
                 bucket(r[4], income_width) if income_width else r[4], r[5]]
                for r, b in zip(self.rows, self.bands)]

    def check_report(self, report, kept_class, size, sizes, k_target=None, l=None, check=False):
        n = len(size)
        suppressed = sum(not k for k in kept_class)
        kept_sizes = [s for s, k in zip(size, kept_class) if k]
        self.assertEqual(report["rows_read"], n)
        self.assertEqual(report["rows_suppressed"], suppressed)
        self.assertEqual(report["rows_written"], 0 if check else n - suppressed)
        self.assertEqual(report["classes"], len(sizes))
        # a class's rows are all kept or all suppressed: count them by rows
        self.assertEqual(report["classes_suppressed"],
                         round(sum(1 / s for s, k in zip(size, kept_class) if not k)))
        self.assertEqual(report["group_sizes"], histogram(sizes))
        self.assertEqual(report["check"], check)
        if check:
            self.assertEqual(report["k"], min(sizes))
        else:
            self.assertEqual(report["k"], min(kept_sizes) if kept_sizes else None)
        if k_target is None:
            self.assertNotIn("k_target", report)
        else:
            self.assertEqual(report["k_target"], k_target)
        if l is None:
            self.assertNotIn("l_diverse", report)
        else:
            self.assertEqual(report["l_diverse"], l)

    def test_german_credit(self):
        header, rows = read_csv(CREDIT)
        age, people, own = (header.index(c) for c in ("Age", "NumberPeopleMaintenance",
                                                       "Housing.Own"))
        bands = [bucket(r[age], "10") for r in rows]
        size, _, sizes = classes_of([(b, r[people], r[own]) for b, r in zip(bands, rows)])
        report_path = path("credit_report.json")
        result = self.ok("--bucket", "Age:10", "--quasi", "Age,NumberPeopleMaintenance,Housing.Own",
                         "--k-anon", "5", "--report", report_path, "-q", CREDIT)
        out_header, out = parse_csv(result.stdout)
        want = [r[:age] + [b] + r[age + 1:] for r, b, s in zip(rows, bands, size) if s >= 5]
        self.assertEqual(out_header, header)
        self.assertEqual(out, want)
        self.assertGreater(len(rows) - len(want), 0)
        self.assertTrue(all(s >= 5 for s in Counter(
            (r[age], r[people], r[own]) for r in out).values()))
        report = load_json(report_path)
        self.assertEqual(report["quasi"], ["Age", "NumberPeopleMaintenance", "Housing.Own"])
        self.assertEqual(report["columns"], {"Age": [{"op": "bucket", "width": 10}]})
        self.check_report(report, [s >= 5 for s in size], size, sizes, k_target=5)

        # --check: the report alone, the same suppression counted
        args = ["--bucket", "Age:10", "--quasi", "Age,NumberPeopleMaintenance,Housing.Own", "-q",
                CREDIT]
        smallest = min(sizes)
        for k, code in ((5, EXIT_CHECK if smallest < 5 else 0), (1, 0), (smallest, 0),
                        (smallest + 1, EXIT_CHECK)):
            with self.subTest(check_k=k):
                result = mask("--check", "--k-anon", str(k), *args)
                self.assertEqual(result.returncode, code, result.stderr)
                report = json.loads(result.stdout)
                self.check_report(report, [s >= k for s in size], size, sizes, k_target=k,
                                  check=True)

    def test_synthetic_customers(self):
        size, _, sizes = classes_of(self.keys)
        self.assertGreater(sum(s < 10 for s in sizes), 20)  # many small classes
        want_rows = self.masked_rows()
        for k in (2, 5, 10):
            with self.subTest(k=k):
                report_path = path(f"customers_{k}.json")
                out_header, out = self.table(
                    "--bucket", "age:10", "--quasi", "customer_type,age,household",
                    "--k-anon", str(k), "--report", report_path, "-q", self.data)
                self.assertEqual(out_header, self.header)
                kept = [s >= k for s in size]
                self.assertEqual(out, [r for r, keep in zip(want_rows, kept) if keep])
                self.assertGreater(kept.count(False), 0)
                # every class written has k rows or more (missing = missing)
                written = Counter((r[1], r[2] or None, None if missing(r[3]) else r[3])
                                  for r in out)
                self.assertGreaterEqual(min(written.values()), k)
                report = load_json(report_path)
                self.assertEqual(report["quasi"], ["customer_type", "age", "household"])
                self.check_report(report, kept, size, sizes, k_target=k)

    def test_l_diversity(self):
        grades = [None if missing(r[5]) else r[5] for r in self.rows]
        incomes = [bucket(r[4], "25000") for r in self.rows]
        cases = [  # k, sensitive column, its values after the operations, L, income bucketed
            (5, "risk_grade", grades, 4, False),
            (None, "risk_grade", grades, 3, False),
            (2, "income", incomes, 2, True),
        ]
        for k, col, values, l, bucketed in cases:
            with self.subTest(k=k, col=col, l=l):
                size, distinct, sizes = classes_of(self.keys, values)
                kept = [(k is None or s >= k) and d >= l for s, d in zip(size, distinct)]
                self.assertGreater(sum(s >= (k or 1) and d < l for s, d in zip(size, distinct)),
                                   0)  # l-diversity suppresses classes k-anonymity keeps
                report_path = path("l.json")
                args = ["--bucket", "age:10", "--quasi", "customer_type,age,household",
                        "--l-diverse", f"{col}:{l}", "--report", report_path, "-q", self.data]
                args += ["--bucket", "income:25000"] if bucketed else []
                args += ["--k-anon", str(k)] if k else []
                _, out = self.table(*args)
                want = self.masked_rows("25000" if bucketed else None)
                self.assertEqual(out, [r for r, keep in zip(want, kept) if keep])
                kept_distinct = [d for d, keep in zip(distinct, kept) if keep]
                self.check_report(load_json(report_path), kept, size, sizes, k_target=k,
                                  l={"column": col, "l": min(kept_distinct), "l_target": l})
                # --check: the same suppression, l among all classes
                result = mask("--check", *args)
                self.assertEqual(result.returncode,
                                 EXIT_CHECK if min(distinct) < l or
                                 (k is not None and min(sizes) < k) else 0, result.stderr)
                self.assertEqual(result.stdout, b"")
                self.check_report(load_json(report_path), kept, size, sizes, k_target=k,
                                  l={"column": col, "l": min(distinct), "l_target": l},
                                  check=True)

    def test_check_passes_when_every_class_is_large_enough(self):
        size, distinct, sizes = classes_of(self.keys, [r[5] or None for r in self.rows])
        args = ["--bucket", "age:10", "--quasi", "customer_type,age,household", "-q", self.data]
        result = mask("--check", "--k-anon", str(min(sizes)), "--l-diverse",
                      f"risk_grade:{min(distinct)}", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual((report["rows_suppressed"], report["rows_written"]), (0, 0))
        result = mask("--check", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.check_report(json.loads(result.stdout), [True] * len(size), size, sizes, check=True)

    def test_missing_quasi_values_form_one_class(self):
        """Every spelling of a missing value is the same quasi value,
        whether the column is generalised (its missing values written
        empty) or passes through (written as read)."""
        rows = [["NA", "NaN", "1"], ["", "", "2"], ["null", "null", "3"], ["x", "12", "4"],
                ["x", "17", "5"], ["y", "25", "6"], ["N/A", "31", "7"]]
        data = write_table("missing_quasi.csv", ["h", "a", "v"], rows)
        report_path = path("missing_quasi.json")
        _, out = self.table("--bucket", "a:10", "--quasi", "h,a", "--k-anon", "2", "--report",
                            report_path, "-q", data)
        self.assertEqual(out, [["NA", "", "1"], ["", "", "2"], ["null", "", "3"],
                               ["x", "[10,20)", "4"], ["x", "[10,20)", "5"]])
        report = load_json(report_path)
        self.assertEqual((report["classes"], report["classes_suppressed"], report["k"]),
                         (4, 2, 2))
        self.assertEqual(report["group_sizes"], histogram([3, 2, 1, 1]))
        _, out = self.table("--quasi", "h", "--k-anon", "3", "-q", data)
        self.assertEqual(out, [r for r in rows if missing(r[0])])

    def test_everything_suppressed(self):
        report_path = path("none.json")
        result = self.ok("--bucket", "age:10", "--quasi", "customer_type,age,household",
                         "--k-anon", "100000", "--report", report_path, "-q", self.data)
        self.assertEqual(result.stdout, csv_bytes([self.header]))
        size, _, sizes = classes_of(self.keys)
        self.check_report(load_json(report_path), [False] * len(size), size, sizes,
                          k_target=100000)

    def test_files_read_twice_and_standard_input_held_agree(self):
        """Named files are read twice (the classes counted, then the kept
        rows written), standard input is held in memory: the same table
        either way, noise drawn again from its seed in the second pass
        included; two files are one table."""
        args = ["--key-file", path("key"), "--pseudonymize", "customer_id", "--noise",
                "income:1000", "--round", "income:-3", "--bucket", "age:10", "--quasi",
                "customer_type,age,household", "--k-anon", "5", "--l-diverse", "income:2", "-q"]
        with open(self.data, "rb") as f:
            data = f.read()
        from_files = self.ok(*args, self.data).stdout
        self.assertEqual(self.ok(*args, stdin=data).stdout, from_files)
        self.assertEqual(self.ok(*args, "-", stdin=data).stdout, from_files)
        body = data.split(b"\n", 1)[1]
        twice = self.ok(*args, self.data, self.data).stdout
        self.assertEqual(self.ok(*args, stdin=data + body).stdout, twice)
        self.assertGreater(len(parse_csv(twice)[1]), len(parse_csv(from_files)[1]))


# ------------------------------------------------------------------ errors


class Errors(MaskCase):
    HEADER = ["id", "card", "ssn", "amount", "day", "grade", "age"]

    def row(self, i, **fields):
        row = {"id": "C%03d" % i, "card": "4111111111111%03d" % i, "ssn": "123-45-%04d" % i,
               "amount": "%d.25" % i, "day": "2020-01-%02d" % (i % 28 + 1), "grade": "AB"[i % 2],
               "age": str(20 + i)}
        row.update(fields)
        return [row[c] for c in self.HEADER]

    def secret_table(self, name, bad):
        """Line 6 (the fifth data row) holds secrets in the pseudonymised,
        masked and dropped columns, and the bad field."""
        rows = [self.row(i) for i in range(8)]
        rows[4] = self.row(4, id=SECRET + "id", card=SECRET + "card", ssn=SECRET + "ssn", **bad)
        return write_table(name, self.HEADER, rows)

    def sensitive_args(self):
        return ["--key-file", path("key"), "--pseudonymize", "id", "--mask", "card",
                "--drop", "ssn"]

    def test_a_non_number_names_its_place_and_no_value(self):
        for option, spec in (("--bucket", "amount:10"), ("--round", "amount:2"),
                             ("--noise", "amount:1"), ("--top-code", "amount:100"),
                             ("--bottom-code", "amount:0")):
            data = self.secret_table("bad_number.csv", {"amount": SECRET + "amount"})
            with self.subTest(option=option):
                message = self.fails(EXIT_DATA, *self.sensitive_args(), option, spec, data)
                self.assertIn(f"{data}:6:", message)
                self.assertIn("amount", message)
                self.assertNotIn(SECRET, message)
                self.assertNotIn("4242", message)

    def test_a_bad_date_names_no_value(self):
        data = self.secret_table("bad_day.csv", {"day": SECRET + "-01-01"})
        message = self.fails(EXIT_DATA, *self.sensitive_args(), "--date", "day:month", data)
        self.assertIn(f"{data}:6:", message)
        self.assertNotIn(SECRET, message)

    def test_ragged_rows_name_no_value(self):
        good = [self.row(i) for i in range(8)]
        secret = self.row(4, id=SECRET + "id", card=SECRET + "card", ssn=SECRET + "ssn")
        for name, bad in (("long", secret + [SECRET + "extra"]), ("short", secret[:4])):
            rows = good[:4] + [bad] + good[5:]
            data = path(f"ragged_{name}.csv")
            with open(data, "wb") as f:
                f.write(csv_bytes([self.HEADER] + rows))
            for extra in ([], ["--quasi", "grade", "--k-anon", "2"]):
                with self.subTest(name=name, extra=extra):
                    message = self.fails(EXIT_DATA, *self.sensitive_args(), "--round",
                                         "amount:0", *extra, data)
                    self.assertIn(f"{data}:6", message)
                    self.assertNotIn(SECRET, message)

    def test_usage_errors(self):
        data = write_table("usage.csv", self.HEADER, [self.row(i) for i in range(5)])
        key = ["--key-file", path("key")]
        cases = [
            ["--mask", "age", "--bucket", "age:10"],
            key + ["--pseudonymize", "id", "--mask", "id"],
            key + ["--pseudonymize", "card", "--drop", "card"],
            ["--date", "day:month", "--round", "day:0"],
            ["--drop", "card", "--mask", "card"],
            ["--drop", "amount", "--round", "amount:0"],
            ["--bucket", "age:10", "--bucket", "age:5"],
            ["--mask", "card:4", "--mask", "card:2"],
            ["--round", "amount:1", "--round", "amount:2"],
            ["--noise", "amount:1", "--noise", "amount:2"],
            ["--date", "day:month", "--date", "day:year"],
            key + ["--pseudonymize", "id,card", "--pseudonymize", "card"],
            ["--drop", "ssn", "--drop", "ssn"],
            ["--k-anon", "5"],
            ["--l-diverse", "grade:2"],
            ["--quasi", "age", "--drop", "age", "--k-anon", "2"],
            ["--quasi", "grade,age", "--l-diverse", "age:2"],
            ["--quasi", "age", "--l-diverse", "grade:2", "--drop", "grade"],
            ["--quasi", "age", "--k-anon", "0"],
            ["--quasi", "age", "--k-anon", "x"],
            ["--quasi", "age", "--l-diverse", "grade:0"],
            ["--quasi", "age", "--l-diverse", "grade"],
            ["--bucket", "age:1e3"],
            ["--bucket", "age:-5"],
            key + ["--pseudonymize", "id", "--length", "8"],
            ["--mask", "nosuch"],
            ["--quasi", "nosuch", "--k-anon", "2"],
            ["--bucket", "age"],
            ["--seed", "x", "--noise", "amount:1"],
        ]
        for args in cases:
            with self.subTest(args=args):
                message = self.fails(EXIT_USAGE, *args, data)
                self.assertNotIn(KEY.decode("latin-1").strip(), message)

    def test_no_data_rows(self):
        header_only = path("header_only.csv")
        with open(header_only, "wb") as f:
            f.write(b"id,amount\n")
        empty = path("empty.csv")
        open(empty, "wb").close()
        for args, stdin in ((["--round", "amount:0", header_only], None),
                            (["--round", "amount:0"], b"id,amount\n"),
                            (["--quasi", "id", "--k-anon", "2", header_only], None),
                            ([empty], None)):
            with self.subTest(args=args):
                self.fails(EXIT_NO_ROWS, *args, stdin=stdin)

    def test_summary_line(self):
        data = write_table("summary.csv", self.HEADER, [self.row(i) for i in range(7)])
        args = ["--key-file", path("key"), "--pseudonymize", "id", "--mask", "card", "--drop",
                "ssn", "--bucket", "age:10", "--quasi", "age", "--k-anon", "2", data]
        loud = self.ok(*args)
        self.assertEqual(loud.stderr.count(b"\n"), 1, loud.stderr)
        self.assertTrue(loud.stderr.startswith(b"fin-mask: "), loud.stderr)
        self.assertIn(b"7", loud.stderr)
        self.assertEqual(self.ok("-q", *args).stderr, b"")
        self.assertEqual(self.ok("-q", *args).stdout, loud.stdout)
        # without --quasi too
        loud = self.ok("--round", "amount:0", data)
        self.assertEqual(loud.stderr.count(b"\n"), 1, loud.stderr)
        self.assertTrue(loud.stderr.startswith(b"fin-mask: "), loud.stderr)
        self.assertIn(b"7", loud.stderr)


# ------------------------------------------------------------------ report


class Report(MaskCase):
    def test_report_without_quasi(self):
        header = ["customer_id", "card", "iban", "age", "amount", "day", "x", "note"]
        rng = random.Random(29)
        rows = [["C%d" % i, "4111111111111%03d" % i, "DE89370400440532013%03d" % i,
                 str(rng.randint(18, 99)), "%.2f" % rng.uniform(0, 900),
                 "2021-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28)),
                 "%.1f" % rng.uniform(-5, 5), "n%d" % i] for i in range(40)]
        data = write_table("report.csv", header, rows)
        report_path = path("report.json")
        # options in another order than the columns
        result = self.ok("--bottom-code", "x:0", "--date", "day:month",
                         "--round", "amount:0", "--noise", "amount:5",
                         "--bucket", "age:10", "--top-code", "age:90",
                         "--drop", "iban", "--mask", "card",
                         "--key-file", path("key"), "--pseudonymize", "customer_id",
                         "--length", "16", "--report", report_path, "-q", data)
        out_header, out = parse_csv(result.stdout)
        self.assertEqual(out_header, [c for c in header if c != "iban"])
        self.assertEqual(len(out), 40)
        with open(report_path, "rb") as f:
            raw = f.read()
        self.assertNotIn(KEY, raw)
        self.assertNotIn(KEY.strip(b"\x00\x01\n"), raw)
        report = json.loads(raw)
        version = subprocess.run([FIN_MASK, "--version"], capture_output=True, text=True)
        self.assertEqual(version.returncode, 0)
        self.assertRegex(report["tool_version"], r"^\d+\.\d+\.\d+")
        self.assertIn(report["tool_version"], version.stdout)
        self.assertEqual(set(report), {"format", "schema_version", "tool_version", "check",
                                       "columns", "rows_read", "rows_suppressed",
                                       "rows_written"})
        self.assertEqual((report["format"], report["schema_version"], report["check"]),
                         ("fin-mask-report", 1, False))
        self.assertEqual((report["rows_read"], report["rows_suppressed"],
                          report["rows_written"]), (40, 0, 40))
        self.assertEqual(list(report["columns"]),
                         ["customer_id", "card", "iban", "age", "amount", "day", "x"])
        self.assertEqual(report["columns"], {
            "customer_id": [{"op": "pseudonymize", "hash": "HMAC-SHA-256", "length": 16}],
            "card": [{"op": "mask", "keep": 4}],
            "iban": [{"op": "drop"}],
            "age": [{"op": "top-code", "value": 90}, {"op": "bucket", "width": 10}],
            "amount": [{"op": "noise", "distribution": "laplace", "scale": 5, "seed": 1},
                       {"op": "round", "digits": 0}],
            "day": [{"op": "date", "unit": "month"}],
            "x": [{"op": "bottom-code", "value": 0}]})

    def test_report_values_as_given(self):
        data = write_table("report2.csv", ["id", "w", "v", "s", "card"],
                           [["1", "1.7", "3", "2", "12345"], ["2", "0.2", "-1", "9", "9"]])
        report_path = path("report2.json")
        self.ok("--bucket", "w:0.5", "--bottom-code", "v:-2.5", "--noise", "s:0.25",
                "--round", "s:-1", "--mask", "card:0", "-s", "42", "--key-file", path("key"),
                "--pseudonymize", "id", "--report", report_path, "-q", data)
        report = load_json(report_path)
        self.assertEqual(report["columns"], {
            "id": [{"op": "pseudonymize", "hash": "HMAC-SHA-256", "length": 64}],
            "w": [{"op": "bucket", "width": 0.5}],
            "v": [{"op": "bottom-code", "value": -2.5}],
            "s": [{"op": "noise", "distribution": "laplace", "scale": 0.25, "seed": 42},
                  {"op": "round", "digits": -1}],
            "card": [{"op": "mask", "keep": 0}]})

    def test_report_with_quasi_and_check(self):
        header, rows = customers(400, 31)
        data = write_table("report_customers.csv", header, rows)
        report_path = path("report3.json")
        base = ["--key-file", path("key"), "--pseudonymize", "customer_id", "--bucket", "age:10",
                "--quasi", "customer_type,age,household", "--l-diverse", "risk_grade:2",
                "--k-anon", "3", "-q", data]
        table = self.ok(*base, "--report", report_path)
        report = load_json(report_path)
        self.assertEqual(set(report), {"format", "schema_version", "tool_version", "check",
                                       "columns", "rows_read", "rows_suppressed",
                                       "rows_written", "quasi", "classes", "classes_suppressed",
                                       "group_sizes", "k", "k_target", "l_diverse"})
        self.assertEqual(report["k_target"], 3)
        self.assertEqual(report["l_diverse"]["column"], "risk_grade")
        self.assertEqual(report["l_diverse"]["l_target"], 2)
        self.assertEqual(report["rows_written"], len(parse_csv(table.stdout)[1]))
        self.assertEqual(report["rows_read"], 400)
        with open(report_path, "rb") as f:
            self.assertNotIn(KEY, f.read())
        # --check with --report: nothing on stdout, the same suppression
        result = mask("--check", *base, "--report", path("report4.json"))
        self.assertIn(result.returncode, (0, EXIT_CHECK), result.stderr)
        self.assertEqual(result.stdout, b"")
        check = load_json(path("report4.json"))
        self.assertEqual(check["check"], True)
        self.assertEqual(check["rows_suppressed"], report["rows_suppressed"])
        self.assertEqual(check["rows_written"], 0)
        self.assertEqual(result.returncode,
                         EXIT_CHECK if check["k"] < 3 or check["l_diverse"]["l"] < 2 else 0)
        # --check alone: the report on stdout
        result = mask("--check", *base)
        self.assertEqual(json.loads(result.stdout), check)


if __name__ == "__main__":
    unittest.main()
