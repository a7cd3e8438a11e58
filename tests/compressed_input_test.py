#!/usr/bin/env python3
"""gzip- and zstd-compressed input, checked against fin(7) (CSV).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/compressed_input_test.py`.
The compressed files are made here, with Python's gzip module and the zstd
command (Debian's zstd package, in the Makefile's TEST_DEPS); skippable
zstd frames are written byte by byte from the format's definition. A
program must write, byte for byte, what it writes for the plain file, from
a file and from standard input; line numbers in messages are counted here
in the plain text.
"""
import gzip
import os
import random
import shutil
import subprocess
import struct
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, FinCase, write_csv, run

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
FIN_PREDICT = os.path.join(BIN_DIR, "fin-predict")
FIN_ANOMALY = os.path.join(BIN_DIR, "fin-anomaly")
FIN_CLUSTER = os.path.join(BIN_DIR, "fin-cluster")
FIN_EVAL = os.path.join(BIN_DIR, "fin-eval")
FIN_GEN = os.path.join(BIN_DIR, "fin-gen")
FIN_BACKTEST = os.path.join(BIN_DIR, "fin-backtest")

EXIT_DATA = 1
ZSTD = shutil.which("zstd")
TMP = None


def path(name):
    return os.path.join(TMP.name, name)


def gzip_members(data, cuts=()):
    """data as gzip members, split at the byte offsets cuts."""
    bounds = [0, *cuts, len(data)]
    return b"".join(gzip.compress(data[a:b], mtime=0) for a, b in zip(bounds, bounds[1:]))


def zstd_frame(data):
    result = subprocess.run([ZSTD, "-q", "-c", "--check"], input=data, capture_output=True,
                            check=True)
    return result.stdout


def skippable_frame(payload, variant=3):
    """A zstd skippable frame: magic 0x184D2A50 + variant and the payload's
    length, both little-endian, then the payload."""
    return struct.pack("<II", 0x184D2A50 + variant, len(payload)) + payload


def zstd_frames(data, cuts=()):
    bounds = [0, *cuts, len(data)]
    return b"".join(zstd_frame(data[a:b]) for a, b in zip(bounds, bounds[1:]))


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)
    return path(name)


def setUpModule():
    global TMP
    if not ZSTD:
        raise RuntimeError("the zstd command is missing: install Debian's zstd (make deps)")
    TMP = tempfile.TemporaryDirectory(prefix="fin-compressed-")
    rng = random.Random(5)
    # Windows of a smooth series: t, x_4..x_0, y.
    header = ["t"] + ["x_%d" % k for k in reversed(range(5))] + ["y"]
    rows = []
    for i in range(400):
        xs = [round(rng.gauss(0, 1), 6) for _ in range(5)]
        rows.append([str(i)] + [repr(x) for x in xs] + [repr(round(sum(xs) / 5, 6))])
    write_csv(path("windows.csv"), [header] + rows)
    # Actuals and forecasts for fin-eval.
    level, eval_rows = 100.0, []
    for i in range(300):
        pred = level + rng.gauss(0, 0.5)
        level += rng.gauss(0, 1)
        eval_rows.append([str(i), repr(round(level, 4)), repr(round(pred, 4))])
    write_csv(path("forecasts.csv"), [["t", "y", "prediction"]] + eval_rows)
    result = run(FIN_TRAIN, "--model", "linear", "-k", "t", "--epochs", "3", "-q",
                 "-o", path("model.json"), path("windows.csv"))
    assert result.returncode == 0, result.stderr


def tearDownModule():
    TMP.cleanup()


# Each program with its options: the input file comes last.
COMMANDS = {
    "fin-window": [FIN_WINDOW, "-c", "DAX,SMI", "-k", "t", "--size", "5", "--transform",
                   "logret"],
    "fin-train": [FIN_TRAIN, "--model", "linear", "-k", "t", "--epochs", "3", "-q"],
    "fin-predict": [FIN_PREDICT, "-k", "t"],
    "fin-anomaly": [FIN_ANOMALY, "--method", "zscore", "-k", "t", "-q"],
    "fin-cluster": [FIN_CLUSTER, "--clusters", "3", "-k", "t", "-q"],
    "fin-eval": [FIN_EVAL, "--actual", "y", "--pred", "prediction", "-k", "t"],
    "fin-gen": [FIN_GEN, "--facts", "-c", "DAX", "--format", "csv"],
    "fin-backtest": [FIN_BACKTEST, "--train-size", "250", "--test-size", "50", "-q"],
}
INPUTS = {"fin-window": "data/eustockmarkets.csv", "fin-gen": "data/eustockmarkets.csv",
          "fin-eval": "forecasts.csv"}
AFTER = {"fin-backtest": ["--", "fin-train", "--model", "linear", "--epochs", "2", "-k", "t"]}


def command(tool, source):
    args = list(COMMANDS[tool])
    if tool == "fin-predict":
        args += ["-m", path("model.json")]
    return args + ([source] if source else []) + AFTER.get(tool, [])


def plain_input(tool):
    name = INPUTS.get(tool, "windows.csv")
    with open(os.path.join(ROOT, name) if name.startswith("data/") else path(name), "rb") as f:
        return f.read()


def facts_body(tool, out, label):
    """fin-gen --facts heads its table with the input's name: the rest must
    be the same."""
    if tool != "fin-gen":
        return out
    first, rest = out.split(b"\n", 1)
    assert first == b"fact," + label.encode(), first
    return rest


class SameOutput(FinCase):
    def check(self, tool, data, name):
        """The program's output on data, as a file and on standard input,
        must be its output on the plain text."""
        source = write(tool + ".csv", plain_input(tool))
        plain = facts_body(tool, self.run_ok(*command(tool, source)).stdout, source)
        self.assertTrue(plain)
        compressed = write(tool + "-" + name, data)
        with self.subTest(tool=tool, input=name, via="file"):
            out = self.run_ok(*command(tool, compressed)).stdout
            self.assertEqual(facts_body(tool, out, compressed), plain)
        with self.subTest(tool=tool, input=name, via="stdin"):
            out = self.run_ok(*command(tool, None), stdin=data).stdout
            self.assertEqual(facts_body(tool, out, "-"), plain)

    def test_gzip(self):
        for tool in COMMANDS:
            self.check(tool, gzip.compress(plain_input(tool), mtime=0), "one.gz")

    def test_zstd(self):
        for tool in COMMANDS:
            self.check(tool, zstd_frame(plain_input(tool)), "one.zst")

    def test_gzip_members(self):
        """Members cut mid-line and mid-number, an empty one among them."""
        for tool in ("fin-window", "fin-predict", "fin-eval"):
            data = plain_input(tool)
            cuts = (len(data) // 3 + 1, len(data) // 3 + 1, 2 * len(data) // 3 + 2)
            self.check(tool, gzip_members(data, cuts), "members.gz")

    def test_zstd_frames_and_skippable_frames(self):
        for tool in ("fin-window", "fin-predict", "fin-eval"):
            data = plain_input(tool)
            a, b = len(data) // 3 + 1, 2 * len(data) // 3 + 2
            stream = (skippable_frame(b"made by a test") + zstd_frame(data[:a]) +
                      skippable_frame(b"", 15) + zstd_frame(data[a:b]) + zstd_frame(data[b:]) +
                      skippable_frame(b"\x00" * 100, 0))
            self.check(tool, stream, "frames.zst")

    def test_byte_order_mark_and_crlf_inside(self):
        data = plain_input("fin-window")
        marked = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
        self.check("fin-window", gzip.compress(marked, mtime=0), "bom.gz")
        self.check("fin-window", zstd_frame(marked), "bom.zst")

    def test_files_of_each_kind_in_one_run(self):
        """Plain, gzip and zstd files given together are one input."""
        data = plain_input("fin-window")
        lines = data.splitlines(keepends=True)
        header, first, second, third = lines[0], lines[1:600], lines[600:1200], lines[1200:]
        files = [write("part1.csv", header + b"".join(first)),
                 write("part2.gz", gzip.compress(header + b"".join(second), mtime=0)),
                 write("part3.zst", zstd_frame(header + b"".join(third)))]
        whole = self.run_ok(*command("fin-window", write("whole.csv", data))).stdout
        self.assertEqual(self.run_ok(*command("fin-window", None), *files).stdout, whole)


class ShortPlainFiles(FinCase):
    def test_files_shorter_than_a_magic_number(self):
        """A file of 1 to 3 bytes is plain text, even one starting like a
        zstd magic number."""
        cases = [(b"1", b"1_0\n1\n"), (b"1\n", b"1_0\n1\n"), (b"1\n2", b"1_0\n1\n2\n"),
                 (b"1\r\n", b"1_0\n1\n")]
        for data, want in cases:
            for source in (write("short.csv", data), None):
                args = [FIN_WINDOW, "-n", "--size", "1", "--target", "none"]
                result = self.run_ok(*args, *([source] if source else []), stdin=data)
                self.assertEqual(result.stdout, want, data)
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-n", "--size", "1",
                                 write("zstd-like.csv", b"(\xb5/"))
        self.assertIn("zstd-like.csv:1: column '1': not a number", message)

    def test_empty_compressed_input_has_no_rows(self):
        for name, data in (("empty.gz", gzip.compress(b"", mtime=0)), ("empty.zst", zstd_frame(b""))):
            message = self.run_fails(4, FIN_WINDOW, "-c", "DAX", write(name, data))
            self.assertEqual(message, f"fin-window: {path(name)}: no input\n")


class BrokenData(FinCase):
    def test_truncated_data_is_a_data_error_naming_the_file(self):
        data = plain_input("fin-window")
        for kind, packed in (("gzip", gzip_members(data, (len(data) // 2,))),
                             ("zstd", zstd_frames(data, (len(data) // 2,)))):
            # Cut inside the first member or frame, inside the second, and
            # just before the end (a gzip trailer, a zstd checksum).
            for keep in (len(packed) // 4, 3 * len(packed) // 4, len(packed) - 1):
                cut = write(f"cut-{keep}.{kind}", packed[:keep])
                out = path("out.csv")
                for tool in ("fin-window", "fin-gen"):
                    with self.subTest(kind=kind, keep=keep, tool=tool):
                        args = command(tool, None)
                        message = self.run_fails(EXIT_DATA, *args, "-o", out, cut)
                        self.assertEqual(message, f"{tool}: {cut}: truncated {kind} data\n")
                        message = self.run_fails(EXIT_DATA, *args, stdin=packed[:keep])
                        self.assertEqual(message, f"{tool}: <stdin>: truncated {kind} data\n")
                        # no output file, not a short one
                        self.assertFalse(os.path.exists(out))

    def test_truncated_input_of_every_program(self):
        for tool in COMMANDS:
            data = plain_input(tool)
            for kind, packed in (("gzip", gzip.compress(data, mtime=0)),
                                 ("zstd", zstd_frame(data))):
                with self.subTest(tool=tool, kind=kind):
                    message = self.run_fails(EXIT_DATA, *command(tool, None),
                                             stdin=packed[:-3])
                    self.assertEqual(message, f"{tool}: <stdin>: truncated {kind} data\n")

    def test_corrupt_data(self):
        data = plain_input("fin-window")
        packed = bytearray(gzip.compress(data, mtime=0))
        packed[-8] ^= 0xff  # the CRC-32 of the text
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "DAX", write("crc.gz", packed))
        self.assertEqual(message,
                         f"fin-window: {path('crc.gz')}: corrupt gzip data: incorrect data check\n")
        packed = bytearray(zstd_frame(data))
        packed[-1] ^= 0xff  # the frame's checksum
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "DAX", stdin=bytes(packed))
        self.assertTrue(message.startswith("fin-window: <stdin>: corrupt zstd data: "), message)
        # garbage after whole data
        packed = gzip.compress(data, mtime=0) + b"date,DAX\n"
        message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "DAX", stdin=packed)
        self.assertTrue(message.startswith("fin-window: <stdin>: corrupt gzip data: "), message)

    def test_a_data_error_names_the_line_of_the_text(self):
        """A bad value after a byte order mark, CRLF line ends, a blank line
        and a quoted field over two lines: its line is counted in the text."""
        rows = ["t,x_1,x_0,y", "0,1,2,3", "", '1,2,3,"4"', '"2\nb",3,4,5', "3,4,abc,6", "4,5,6,7"]
        text = "\ufeff" + "\r\n".join(rows) + "\r\n"
        bad_line = text.replace("\r\n", "\n").split("\n").index("3,4,abc,6") + 1
        self.assertEqual(bad_line, 7)
        for name, data in (("bad.csv", text.encode()), ("bad.csv.gz", gzip_members(text.encode(), (30,))),
                           ("bad.csv.zst", zstd_frames(text.encode(), (30,)))):
            source = write(name, data)
            with self.subTest(name=name):
                message = self.run_fails(EXIT_DATA, FIN_WINDOW, "-c", "x_0", "-k", "t",
                                         "--size", "2", "--unsorted", "-q", source)
                self.assertEqual(message, f"fin-window: {source}:{bad_line}: column 'x_0': "
                                          "not a number: 'abc'\n")


class BoundedMemory(unittest.TestCase):
    def peak_rss_kib(self, data):
        """fin-window's peak resident memory (VmHWM) once it has read data
        on standard input, but for what the pipe still holds: read while it
        waits for more, before the end of input lets it exit."""
        proc = subprocess.Popen([FIN_WINDOW, "-c", "p", "-k", "t", "--size", "20",
                                 "--transform", "logret"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
            with open(f"/proc/{proc.pid}/status") as f:
                peak = [line for line in f if line.startswith("VmHWM:")]
        finally:
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=60), 0)
        return int(peak[0].split()[1])

    def test_memory_does_not_grow_with_the_input(self):
        """About 17 MB of text take less than 2 MiB more than 2.5 MB: the
        text is never held whole. Both are longer than the window zstd -3
        writes (2 MiB), which the reader holds, and touches as it fills."""
        def series(n):
            rng = random.Random(9)
            lines = ["t,p"] + ["%d,%.4f" % (i, 100 + rng.random()) for i in range(n)]
            return ("\n".join(lines) + "\n").encode()
        small, big = series(150000), series(1000000)
        for kind, pack in (("gzip", lambda d: gzip.compress(d, compresslevel=1, mtime=0)),
                           ("zstd", zstd_frame)):
            with self.subTest(kind=kind):
                low, high = self.peak_rss_kib(pack(small)), self.peak_rss_kib(pack(big))
                self.assertLess(high - low, 2048, (low, high))


if __name__ == "__main__":
    unittest.main()
