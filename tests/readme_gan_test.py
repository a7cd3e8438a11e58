#!/usr/bin/env python3
"""The README's section "Synthetic market data: a GAN on S&P 500 returns"
reproduces: its commands, run as displayed, print the real and the GAN
(seed 1) columns of its table.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_gan_test.py`.

This checks the documentation against the tools, not the tools' figures
against a reference: the expected values are the README's table, read from
README.md, so an edit of the table or of the commands that no longer
matches fails here. The commands are the section's sh block, run by bash in
a temporary directory where `data` links to the repository's data/ and
`build/bin/` stands for FIN_BIN, with OpenBLAS pinned as the README pins it
(OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1); each value the last
command prints, rounded to the digits the README shows, must equal the
README's cell. One training run, about 20-40 s.

Training a GAN amplifies float rounding, so the figures hold for the pinned
kernels only. Skipped, with the reason, on a CPU without avx2 and fma (the
Haswell kernels cannot run there), when OpenBLAS does not take the pin (a
build without DYNAMIC_ARCH), and when the tools carry a sanitizer's runtime
(found by the symbols __asan_init or __ubsan_handle_ in fin-train, as `make
check-asan` builds them): slow there, and this test checks figures, not
memory.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT

sys.path.insert(0, os.path.join(ROOT, "bench"))
from readme_gan import cpu_flags, openblas_kernel, openblas_of  # noqa: E402

SECTION = "## Synthetic market data: a GAN on S&P 500 returns"
PIN = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
TIMEOUT = 600


def readme_section(section=SECTION):
    """The README's text from the heading section to the next one."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index(section)
    end = text.find("\n## ", start + len(section))
    return text[start:end if end >= 0 else len(text)]


def readme_commands(section):
    match = re.search(r"^```sh\n(.*?)^```", section, re.M | re.S)
    if match is None:
        raise AssertionError("no sh block in the README's GAN section")
    return match.group(1)


def readme_table(section):
    """The section's first table: its header cells and its rows of cells."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    if len(rows) < 3:
        raise AssertionError("no table in the README's GAN section")
    return rows[0], rows[2:]


def sanitizer_build():
    with open(FIN_TRAIN, "rb") as f:
        binary = f.read()
    return b"__asan_init" in binary or b"__ubsan_handle_" in binary


def openblas_under_pin():
    """(kernel, configuration) of the OpenBLAS fin-train loads, with the pin
    set; (None, None) if it cannot be found."""
    library = openblas_of(FIN_TRAIN)
    if not library:
        return None, None
    return openblas_kernel(library, {**os.environ, **PIN})


def skip_reason():
    missing = {"avx2", "fma"} - cpu_flags()
    if missing:
        return (f"this CPU lacks {' and '.join(sorted(missing))}: OpenBLAS's Haswell kernels, "
                "which the README's figures are for, cannot run on it")
    if sanitizer_build():
        return "the tools carry a sanitizer's runtime: too slow, and this test checks figures"
    kernel, _ = openblas_under_pin()
    if kernel != "Haswell":
        return (f"OpenBLAS runs the {kernel or 'unknown'} kernel under "
                "OPENBLAS_CORETYPE=Haswell (not a DYNAMIC_ARCH build)")
    return None


class ReadmeCommands(unittest.TestCase):
    def test_commands_pin_the_kernels(self):
        """So that running the commands as written reproduces the table."""
        commands = readme_commands(readme_section())
        before_training = commands[:commands.index("fin-train")]
        exports = re.findall(r"^export ([^\n#]*)", before_training, re.M)
        pinned = dict(word.split("=", 1) for line in exports for word in line.split())
        self.assertEqual({k: pinned.get(k) for k in PIN}, PIN, commands)


SKIP = skip_reason()


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        section = readme_section()
        cls.header, cls.rows = readme_table(section)
        script = readme_commands(section).replace("build/bin/", shlex.quote(BIN_DIR) + "/")
        cls.config = openblas_under_pin()[1]
        tmp = tempfile.mkdtemp(prefix="fin-readme-gan-")
        try:
            os.symlink(os.path.join(ROOT, "data"), os.path.join(tmp, "data"))
            out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp,
                                 env={**os.environ, **PIN}, capture_output=True, text=True,
                                 timeout=TIMEOUT)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if out.returncode != 0:
            raise AssertionError(f"the README's commands exited with {out.returncode}:\n"
                                 + out.stderr[-2000:])
        lines = out.stdout.splitlines()
        cls.printed_header = lines[0].split()
        cls.printed = {}
        for line in lines[1:]:
            name, *values = line.split()
            cls.printed[name] = values

    def check_column(self, readme_column, printed_column):
        self.assertEqual(len(self.printed_header), 3, self.printed_header)
        column = self.header.index(readme_column)
        self.assertGreater(len(self.rows), 0)
        for row in self.rows:
            fact, want = row[0], row[column]
            with self.subTest(fact=fact):
                self.assertIn(fact, self.printed)
                text = self.printed[fact][printed_column]
                decimals = len(want.split(".", 1)[1]) if "." in want else 0
                self.assertEqual(f"{float(text):.{decimals}f}", want,
                                 f"README's {readme_column!r} {fact}: the commands print {text} "
                                 f"({self.config})")

    def test_real_column(self):
        self.check_column("real", 0)

    def test_gan_seed_1_column(self):
        self.check_column("GAN (seed 1)", 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
