#!/usr/bin/env python3
"""Command-line tests of fin-gen, checked against fin-gen(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/gen_cli_test.py`. The facts are
recomputed here from their definitions in fin-gen(1) with plain Python
(math.fsum, no GSL): mean, sample standard deviation, skewness, excess
kurtosis, R's sample autocorrelation, Pearson's correlation; nothing is
copied from fin-gen's own output. The sampling tests train small GANs with
fin-train on fin-window output of seeded series.
"""
import json
import math
import os
import random
import tempfile
import unittest

from fincli import BIN_DIR, FinCase, parse_csv, write_csv, rel_close, run

FIN_GEN = os.path.join(BIN_DIR, "fin-gen")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")

EXIT_DATA, EXIT_USAGE, EXIT_MODEL, EXIT_NO_ROWS = 1, 2, 3, 4

TMP = None
FILES = {}
SERIES = {}


# ---------------------------------------------------------------- reference


def is_flat(x):
    return all(v == x[0] for v in x)


def ref_acf(x, k):
    """R's acf at lag k: the lagged sum of products of deviations from the
    mean of all n values over the total sum of squares."""
    n = len(x)
    if k >= n or n < 2 or is_flat(x):
        return None
    m = math.fsum(x) / n
    num = math.fsum((x[t] - m) * (x[t + k] - m) for t in range(n - k))
    return num / math.fsum((v - m) ** 2 for v in x)


def pearson(x, y):
    n = len(x)
    mx, my = math.fsum(x) / n, math.fsum(y) / n
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = math.fsum((a - mx) ** 2 for a in x)
    syy = math.fsum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def ref_facts(x):
    """[(name, value)] in the order of fin-gen(1); None when undefined."""
    n = len(x)
    m = math.fsum(x) / n
    sd = math.sqrt(math.fsum((v - m) ** 2 for v in x) / (n - 1)) if n >= 2 else None
    shaped = n >= 2 and not is_flat(x)
    skew = math.fsum(((v - m) / sd) ** 3 for v in x) / n if shaped else None
    kurt = math.fsum(((v - m) / sd) ** 4 for v in x) / n - 3 if shaped else None
    rows = [("n", n), ("mean", m), ("sd", sd), ("skew", skew), ("excess_kurtosis", kurt)]
    rows += [(f"acf_{k}", ref_acf(x, k)) for k in range(1, 6)]
    absx = [abs(v) for v in x]
    rows += [(f"acf_abs_{k}", ref_acf(absx, k)) for k in range(1, 21)]
    for k in range(1, 6):
        lead, sq = x[:n - k], [v * v for v in x[k:]]
        ok = n - k >= 2 and not is_flat(lead) and not is_flat(sq)
        rows.append((f"leverage_{k}", pearson(lead, sq) if ok else None))
    rows.append(("acf_band", 1.96 / math.sqrt(n)))
    return rows


def garch_returns(n, seed):
    """A GARCH(1,1) series with t-like shocks: heavy tails and volatility
    clustering, so that the facts are far from zero."""
    rng = random.Random(seed)
    var, out = 1e-4, []
    for _ in range(n):
        shock = rng.gauss(0, 1) * math.sqrt(3 / rng.gammavariate(1.5, 2))
        r = math.sqrt(var) * shock
        out.append(r)
        var = 1e-6 + 0.1 * r * r + 0.85 * var
    return out


def level_series(n, centre, seed):
    rng = random.Random(seed)
    return [centre + rng.gauss(0, 1) for _ in range(n)]


# ------------------------------------------------------------------ running


def path(name):
    return os.path.join(TMP.name, name)


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def train_gan(name, rows, columns, size):
    """A GAN of 2 epochs on the windows of a series; returns (model, the
    windows' header)."""
    series = path(name + ".csv")
    write_csv(series, rows)
    windows = run(FIN_WINDOW, "-q", "-c", columns, "-k", "day", "--size", str(size),
                  "--transform", "level", "--target", "none", series)
    assert windows.returncode == 0, windows.stderr
    wpath = path(name + "-windows.csv")
    with open(wpath, "wb") as f:
        f.write(windows.stdout)
    model = path(name + ".json")
    trained = run(FIN_TRAIN, "--task", "gan", "--epochs", "2", "-q", "-k", "day", "-o", model,
                  wpath)
    assert trained.returncode == 0, trained.stderr
    return model, parse_csv(windows.stdout)[0]


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-gen-test-")
    ret, other = garch_returns(400, 5), garch_returns(400, 6)
    SERIES["ret"], SERIES["other"] = ret, other
    FILES["returns"] = path("returns.csv")
    write_csv(FILES["returns"],
              [["day", "ret", "other"]] + [[i + 1, repr(a), repr(b)]
                                           for i, (a, b) in enumerate(zip(ret, other))])
    SERIES["short"] = [0.01, -0.02, 0.005]
    FILES["short"] = path("short.csv")
    write_csv(FILES["short"], [["ret"]] + [[repr(v)] for v in SERIES["short"]])
    FILES["flat"] = path("flat.csv")
    write_csv(FILES["flat"], [["ret"]] + [["0.25"]] * 6)


def tearDownModule():
    TMP.cleanup()


class GenCase(FinCase):
    def facts(self, fmt, *args, stdin=None):
        return self.run_ok(FIN_GEN, "--facts", "--format", fmt, *args, stdin=stdin)

    def csv_facts(self, *args, stdin=None):
        """The csv format as {label: {fact: value or None}}, with the order
        of facts and labels checked."""
        header, rows = parse_csv(self.facts("csv", *args, stdin=stdin).stdout)
        self.assertEqual(header[0], "fact")
        self.assertEqual([r[0] for r in rows], [name for name, _ in ref_facts([1, 2])])
        return {label: {r[0]: (float(r[j]) if r[j] else None) for r in rows}
                for j, label in enumerate(header[1:], start=1)}, header[1:]

    def check_facts(self, got, series, rel=1e-9, atol=1e-13):
        for name, want in ref_facts(series):
            if want is None:
                self.assertIsNone(got[name], name)
            else:
                self.assertIsNotNone(got[name], name)
                self.assertLessEqual(abs(got[name] - want), rel * abs(want) + atol,
                                     (name, got[name], want))


# ------------------------------------------------------------------- facts


class FactsTest(GenCase):
    def test_csv(self):
        got, labels = self.csv_facts("-c", "ret", FILES["returns"])
        self.assertEqual(labels, [FILES["returns"]])
        self.check_facts(got[FILES["returns"]], SERIES["ret"])
        # the series has the facts it was built to have
        facts = got[FILES["returns"]]
        self.assertGreater(facts["excess_kurtosis"], 1)
        self.assertGreater(facts["acf_abs_1"], facts["acf_band"])
        self.assertEqual(facts["n"], 400)

    def test_json(self):
        out = self.facts("json", "-c", "ret", FILES["returns"], FILES["short"]).stdout
        doc = json.loads(out)
        self.assertEqual(set(doc), {"series"})
        self.assertEqual(len(doc["series"]), 2)
        for entry, name, file in ((doc["series"][0], "ret", "returns"),
                                  (doc["series"][1], "short", "short")):
            self.assertEqual(set(entry), {"file", "column", "n", "mean", "sd", "skew",
                                          "excess_kurtosis", "acf", "acf_abs", "leverage",
                                          "acf_band"})
            self.assertEqual(entry["file"], FILES[file])
            self.assertEqual(entry["column"], "ret")
            self.assertIsInstance(entry["n"], int)
            self.assertEqual((len(entry["acf"]), len(entry["acf_abs"]), len(entry["leverage"])),
                             (5, 20, 5))
            flat = {"n": entry["n"], "mean": entry["mean"], "sd": entry["sd"],
                    "skew": entry["skew"], "excess_kurtosis": entry["excess_kurtosis"],
                    "acf_band": entry["acf_band"]}
            for key, count in (("acf", 5), ("acf_abs", 20), ("leverage", 5)):
                for k in range(count):
                    flat[f"{key}_{k + 1}"] = entry[key][k]
            self.check_facts(flat, SERIES[name])
        # too short for the later lags: null, not an error
        self.assertIsNone(doc["series"][1]["acf"][2])
        self.assertIsNone(doc["series"][1]["leverage"][1])
        self.assertNotIn(b"NaN", out)

    def test_table(self):
        out = self.facts("table", "-c", "ret", FILES["returns"], FILES["short"]).stdout.decode()
        lines = out.splitlines()
        self.assertEqual(len(lines), 37)
        self.assertEqual(lines[0].split(), ["fact", FILES["returns"], FILES["short"]])
        # aligned: every line as wide as the header, the values right-aligned
        self.assertEqual({len(line) for line in lines}, {len(lines[0])})
        for series, column in ((SERIES["ret"], 1), (SERIES["short"], 2)):
            for line, (name, want) in zip(lines[1:], ref_facts(series)):
                cells = line.split()
                self.assertEqual(cells[0], name)
                if want is None:
                    self.assertEqual(cells[column], "NA", name)
                elif name == "n":
                    self.assertEqual(cells[column], str(want))
                else:  # 6 significant digits
                    self.assertLessEqual(abs(float(cells[column]) - want), 1e-5 * abs(want),
                                         (name, cells[column], want))
        # the default format is the table
        self.assertEqual(self.run_ok(FIN_GEN, "--facts", "-c", "ret", FILES["returns"],
                                     FILES["short"]).stdout.decode(), out)

    def test_columns(self):
        by_name, _ = self.csv_facts("-c", "ret", FILES["returns"])
        by_index, _ = self.csv_facts("-c", "2", FILES["returns"])
        self.assertEqual(by_name, by_index)
        last, _ = self.csv_facts(FILES["returns"])
        self.check_facts(last[FILES["returns"]], SERIES["other"])
        doc = json.loads(self.facts("json", FILES["returns"]).stdout)
        self.assertEqual(doc["series"][0]["column"], "other")

    def test_side_by_side_and_stdin(self):
        with open(FILES["returns"], "rb") as f:
            data = f.read()
        got, labels = self.csv_facts("-c", "ret", FILES["short"], "-", stdin=data)
        self.assertEqual(labels, [FILES["short"], "-"])
        self.check_facts(got[FILES["short"]], SERIES["short"])
        self.check_facts(got["-"], SERIES["ret"])
        got, labels = self.csv_facts("-c", "ret", stdin=data)
        self.assertEqual(labels, ["-"])
        self.check_facts(got["-"], SERIES["ret"])

    def test_headerless_and_delimiter(self):
        p = path("headerless.csv")
        with open(p, "w") as f:
            f.writelines(f"{i};{v!r}\n" for i, v in enumerate(SERIES["ret"]))
        got, _ = self.csv_facts("--no-header", "-d", ";", "-c", "2", p)
        self.check_facts(got[p], SERIES["ret"])
        got, _ = self.csv_facts("-n", "-d", ";", p)
        self.check_facts(got[p], SERIES["ret"])

    def test_undefined(self):
        got, _ = self.csv_facts(FILES["short"], FILES["flat"])
        self.check_facts(got[FILES["short"]], SERIES["short"])
        flat = got[FILES["flat"]]
        self.assertEqual((flat["n"], flat["mean"], flat["sd"]), (6, 0.25, 0))
        for name, value in flat.items():
            if name not in ("n", "mean", "sd", "acf_band"):
                self.assertIsNone(value, name)
        # one value: a mean and a band, nothing else
        one = path("one.csv")
        write_csv(one, [["ret"], ["0.5"]])
        got, _ = self.csv_facts(one)
        self.assertEqual(got[one]["mean"], 0.5)
        self.assertIsNone(got[one]["sd"])
        self.assertTrue(rel_close(got[one]["acf_band"], 1.96, 1e-15))

    def test_na(self):
        rows = [["day", "ret"]] + [[i + 1, repr(v)] for i, v in enumerate(SERIES["ret"][:50])]
        rows[4][1] = ""
        rows[20][1] = "NA"
        p = path("gaps.csv")
        write_csv(p, rows)
        message = self.run_fails(EXIT_DATA, FIN_GEN, "--facts", p)
        self.assertEqual(message, f"fin-gen: {p}:5: column 'ret': missing value (see --na)\n")
        result = self.facts("csv", "--na", "skip", p)
        self.assertEqual(result.stderr.decode(),
                         f"fin-gen: {p}: 2 rows with a missing return left out\n")
        got, _ = self.csv_facts("--na", "skip", p)
        kept = [v for i, v in enumerate(SERIES["ret"][:50]) if i not in (3, 19)]
        self.check_facts(got[p], kept)
        self.assertEqual(self.facts("csv", "--na", "skip", "-q", p).stderr, b"")
        message = self.run_fails(EXIT_USAGE, FIN_GEN, "--facts", "--na", "ffill", p)
        self.assertIn("--na", message)

    def test_bad_values(self):
        p = path("bad.csv")
        write_csv(p, [["ret"], ["0.1"], ["0.2"], ["abc"]])
        message = self.run_fails(EXIT_DATA, FIN_GEN, "--facts", p)
        self.assertEqual(message, f"fin-gen: {p}:4: column 'ret': not a number: 'abc'\n")

    def test_no_rows(self):
        header_only = path("header-only.csv")
        write_csv(header_only, [["day", "ret"]])
        message = self.run_fails(EXIT_NO_ROWS, FIN_GEN, "--facts", FILES["short"], header_only)
        self.assertIn(header_only, message)
        empty = path("empty.csv")
        open(empty, "w").close()
        self.run_fails(EXIT_NO_ROWS, FIN_GEN, "--facts", empty)
        self.run_fails(EXIT_NO_ROWS, FIN_GEN, "--facts", stdin=b"")
        missing = path("all-missing.csv")
        write_csv(missing, [["ret"], ["NA"], [""]])
        message = self.run_fails(EXIT_NO_ROWS, FIN_GEN, "--facts", "--na", "skip", missing)
        self.assertIn("'ret'", message)

    def test_output_file(self):
        for fmt in ("table", "csv", "json"):
            out = path(f"facts.{fmt}")
            result = self.facts(fmt, "-o", out, "-c", "ret", FILES["returns"])
            self.assertEqual(result.stdout, b"")
            self.assertEqual(read_bytes(out), self.facts(fmt, "-c", "ret",
                                                         FILES["returns"]).stdout)

    def test_usage(self):
        cases = [
            (("--facts", "-c", "price", FILES["returns"]), "price"),
            (("--facts", "-c", "9", FILES["returns"]), "9"),
            (("--facts", "-c", "ret,other", FILES["returns"]), "names 2 columns"),
            (("--facts", "-c", "ret", "-c", "other", FILES["returns"]), "one column"),
            (("--facts", "--format", "xml", FILES["returns"]), "--format"),
            (("--facts", "--samples", "10", FILES["returns"]), "--samples"),
            (("-m", "gan.json", "-n"), "-n"),
            (("--facts", "--paths", FILES["returns"]), "--paths"),
            (("--facts", "-m", "gan.json", FILES["returns"]), "--facts"),
            (("--facts", "-", "-"), "standard input"),
            (("--facts", path("nonexistent.csv")), "nonexistent.csv"),
            ((FILES["returns"],), "--facts"),
            ((), "-m"),
            (("-m", "gan.json", "-c", "ret"), "-c"),
            (("-m", "gan.json", "--format", "csv"), "--format"),
            (("-m", "gan.json", "--samples", "0"), "--samples"),
            (("-m", "gan.json", "-s", "x"), "--seed"),
        ]
        for args, word in cases:
            with self.subTest(args=args):
                message = self.run_fails(EXIT_USAGE, FIN_GEN, *args, stdin=b"")
                self.assertIn(word, message)
        result = run(FIN_GEN, "--bogus")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn(b"Try 'fin-gen --help'", result.stderr)

    def test_help_and_version(self):
        out = self.run_ok(FIN_GEN, "--help").stdout.decode()
        for option in ("--model", "--samples", "--seed", "--paths", "--facts", "--columns",
                       "--format", "--na", "--delimiter", "--no-header", "--output", "--quiet"):
            self.assertIn(option, out)
        self.assertRegex(self.run_ok(FIN_GEN, "-V").stdout.decode(), r"^fin-gen \(fin\) \S+\n$")


class ModelRefusalTest(GenCase):
    def test_not_a_gan(self):
        table = path("tiny.csv")
        rng = random.Random(3)
        write_csv(table, [["x", "y"]] + [[repr(x), repr(2 * x + 1)]
                                         for x in (rng.uniform(-1, 1) for _ in range(40))])
        model = path("regression.json")
        self.run_ok(FIN_TRAIN, "-y", "y", "--model", "linear", "--epochs", "1", "-q", "-o",
                    model, table)
        message = self.run_fails(EXIT_MODEL, FIN_GEN, "-m", model)
        self.assertEqual(message, f"fin-gen: {model}: not a GAN (task regression): fin-gen "
                                  "samples from models of fin-train --task gan\n")

    def test_unusable_file(self):
        bad = path("bad-model.json")
        with open(bad, "w") as f:
            f.write("{\"format\": \"fin-model\"")
        self.run_fails(EXIT_MODEL, FIN_GEN, "-m", bad)
        self.run_fails(EXIT_MODEL, FIN_GEN, "-m", path("no-such-model.json"))


# ---------------------------------------------------------------- sampling


class SamplingTest(GenCase):
    @classmethod
    def setUpClass(cls):
        # levels around 100: the samples must come back in these units
        rows = [["day", "ret"]] + [[i + 1, repr(v)] for i, v in
                                   enumerate(level_series(300, 100, 8))]
        cls.model, cls.header = train_gan("levels", rows, "ret", 5)

    def sample(self, *args):
        result = self.run_ok(FIN_GEN, "-m", self.model, *args)
        return result, parse_csv(result.stdout)

    def test_rows(self):
        result, (header, rows) = self.sample("--samples", "50")
        self.assertEqual(self.header, ["day", "ret_4", "ret_3", "ret_2", "ret_1", "ret_0"])
        self.assertEqual(header, self.header)
        self.assertEqual(len(rows), 50)
        self.assertEqual([r[0] for r in rows], [str(i) for i in range(1, 51)])
        self.assertTrue(all(len(r) == 6 for r in rows))
        self.assertEqual(result.stderr.decode(), "fin-gen: 50 samples of 5 values\n")
        self.assertEqual(self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "5").stderr, b"")
        _, (_, rows) = self.sample()
        self.assertEqual(len(rows), 1000)

    def test_units(self):
        _, (_, rows) = self.sample("--samples", "400", "-q")
        values = [float(v) for r in rows for v in r[1:]]
        mean = math.fsum(values) / len(values)
        self.assertTrue(90 < mean < 110, mean)

    def test_seed(self):
        a = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "200", "--seed", "7").stdout
        b = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "200", "-s", "7").stdout
        c = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "200", "-s", "8").stdout
        default = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "200").stdout
        one = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "200", "-s", "1").stdout
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        self.assertEqual(default, one)

    def test_prefix(self):
        _, (_, short) = self.sample("-q", "--samples", "100")
        _, (_, long) = self.sample("-q", "--samples", "300")
        self.assertEqual(len(long), 300)
        for i, (s, l) in enumerate(zip(short, long)):
            self.assertEqual(s[0], l[0])
            for a, b in zip(s[1:], l[1:]):
                self.assertTrue(rel_close(float(b), float(a), 1e-5), (i, a, b))

    def test_large_n_in_chunks(self):
        """More samples than one chunk of 4096: numbered on, prefix kept."""
        _, (_, rows) = self.sample("-q", "--samples", "5000")
        self.assertEqual(len(rows), 5000)
        self.assertEqual(rows[-1][0], "5000")
        _, (_, head) = self.sample("-q", "--samples", "4096")
        for a, b in zip(head[-3:], rows[4093:4096]):
            for x, y in zip(a[1:], b[1:]):
                self.assertTrue(rel_close(float(y), float(x), 1e-5), (x, y))

    def test_paths(self):
        _, (header, rows) = self.sample("-q", "--samples", "40", "-s", "3")
        result, (pheader, prows) = self.sample("--samples", "40", "-s", "3", "--paths")
        self.assertEqual(pheader, ["t", "ret"])
        self.assertEqual(len(prows), 40 * 5)
        self.assertEqual([r[0] for r in prows], [str(t) for t in range(1, 201)])
        for i, row in enumerate(rows):
            for s in range(5):
                got = float(prows[i * 5 + s][1])
                want = float(row[1 + s])  # ret_4 (oldest) .. ret_0
                self.assertTrue(rel_close(got, want, 1e-5), (i, s, got, want))
        self.assertEqual(result.stderr.decode(),
                         "fin-gen: 40 samples of 5 values, a path of 200 steps\n")

    def test_output_file(self):
        out = path("samples.csv")
        result = self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "30", "-o", out)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(read_bytes(out),
                         self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "30").stdout)

    def test_facts_of_paths(self):
        """The pipeline of fin-gen(1): facts of a path, by column name."""
        out = path("path.csv")
        self.run_ok(FIN_GEN, "-q", "-m", self.model, "--samples", "60", "--paths", "-o", out)
        _, (_, rows) = self.sample("-q", "--samples", "60", "--paths")
        got, _ = self.csv_facts("-c", "ret", out)
        self.check_facts(got[out], [float(r[1]) for r in rows])


class ChannelsTest(GenCase):
    def test_two_channels(self):
        """Channel by channel, each oldest to newest: in --paths, column a
        holds the first T values of a sample and column b the next T."""
        a, b = level_series(200, 100, 9), level_series(200, -50, 10)
        rows = [["day", "a", "b"]] + [[i + 1, repr(x), repr(y)]
                                      for i, (x, y) in enumerate(zip(a, b))]
        model, header = train_gan("two", rows, "a,b", 3)
        self.assertEqual(header, ["day", "a_2", "a_1", "a_0", "b_2", "b_1", "b_0"])
        sheader, samples = parse_csv(self.run_ok(FIN_GEN, "-q", "-m", model, "--samples", "20").stdout)
        self.assertEqual(sheader, header)
        pheader, prows = parse_csv(self.run_ok(FIN_GEN, "-q", "-m", model, "--samples", "20",
                                               "--paths").stdout)
        self.assertEqual(pheader, ["t", "a", "b"])
        self.assertEqual(len(prows), 60)
        for i, sample in enumerate(samples):
            for s in range(3):
                row = prows[i * 3 + s]
                self.assertTrue(rel_close(float(row[1]), float(sample[1 + s]), 1e-5))
                self.assertTrue(rel_close(float(row[2]), float(sample[4 + s]), 1e-5))
        # each channel in its own units
        self.assertTrue(70 < math.fsum(float(r[1]) for r in prows) / 60 < 130)
        self.assertTrue(-80 < math.fsum(float(r[2]) for r in prows) / 60 < -20)

    def test_one_step(self):
        """Windows of one step: the channel keeps the feature's name."""
        rows = [["day", "x"]] + [[i + 1, repr(v)] for i, v in
                                 enumerate(level_series(100, 5, 11))]
        model, header = train_gan("one", rows, "x", 1)
        self.assertEqual(header, ["day", "x_0"])
        pheader, prows = parse_csv(self.run_ok(FIN_GEN, "-q", "-m", model, "--samples", "7",
                                               "--paths").stdout)
        self.assertEqual(pheader, ["t", "x_0"])
        self.assertEqual([r[0] for r in prows], [str(t) for t in range(1, 8)])


if __name__ == "__main__":
    unittest.main(verbosity=1)
