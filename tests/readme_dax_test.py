#!/usr/bin/env python3
"""The README's section "Honest evaluation: walk-forward forecasts of the
DAX" reproduces: its commands, run as displayed, give every cell of its
table.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_dax_test.py`.

The expected values are the README's table, read from README.md. The
commands are the section's sh block, run by bash in a temporary directory
where `data` links to the repository's data/ and `build/bin/` stands for
FIN_BIN, with OpenBLAS pinned as bench/readme_dax.py pins it (Haswell
kernels, one thread). The table is rebuilt from what they print: fin-eval's
figures (standard output), fin-backtest's trading reports (standard error)
and the out-of-sample files, with bench/readme_dax.py's layout and
rounding; each cell must equal the README's. About 10 s.

Skipped, with the reason, where the pin cannot hold (no avx2 and fma, or an
OpenBLAS without DYNAMIC_ARCH) and under a sanitizer build, as
tests/readme_gan_test.py is.
"""
import csv
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
from readme_dax import MODELS, name_value_lines, table  # noqa: E402
from readme_gan import PIN  # noqa: E402
import readme_gan_test  # noqa: E402
from readme_gan_test import readme_commands, skip_reason  # noqa: E402

SECTION = "## Honest evaluation: walk-forward forecasts of the DAX"
TIMEOUT = 300


def readme_section():
    return readme_gan_test.readme_section(SECTION)


def readme_table(section):
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]


def chunks(text, starts):
    """text cut into pieces, each beginning at a line that matches starts."""
    pieces = []
    for line in text.splitlines():
        if re.match(starts, line):
            pieces.append([])
        if pieces:
            pieces[-1].append(line)
    return ["\n".join(p) for p in pieces]


SKIP = skip_reason()


class ReadmeCommands(unittest.TestCase):
    def test_block_runs_each_model(self):
        commands = readme_commands(readme_section())
        self.assertIn(f"for model in {' '.join(MODELS)}; do", commands)
        self.assertIn("--model $model", commands)


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        section = readme_section()
        cls.want = readme_table(section)
        script = readme_commands(section).replace("build/bin/", shlex.quote(BIN_DIR) + "/")
        tmp = tempfile.mkdtemp(prefix="fin-readme-dax-")
        try:
            os.symlink(os.path.join(ROOT, "data"), os.path.join(tmp, "data"))
            out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp,
                                 env={**os.environ, **PIN}, capture_output=True, text=True,
                                 timeout=TIMEOUT)
            if out.returncode != 0:
                raise AssertionError(f"the README's commands exited with {out.returncode}:\n"
                                     + out.stderr[-2000:])
            evals = chunks(out.stdout, r"task\s")
            reports = chunks(out.stderr, r"fin-backtest: \d+ out-of-sample rows")
            if len(evals) != len(MODELS) or len(reports) != len(MODELS):
                raise AssertionError("expected one fin-eval table and one trading report per "
                                     f"model:\n{out.stdout}\n{out.stderr}")
            cls.runs = {}
            for model, printed, report in zip(MODELS, evals, reports):
                with open(os.path.join(tmp, f"{model}-oos.csv"), newline="") as f:
                    rows = list(csv.DictReader(f))
                cls.runs[model] = {
                    "eval": {k: v[0] for k, v in name_value_lines(printed, 1).items()},
                    "trade": name_value_lines(report, 2), "rows": rows}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_every_cell(self):
        got = table(self.runs)
        self.assertEqual(len(got), len(self.want))
        self.assertEqual(got[0], self.want[0])
        for want_row, got_row in zip(self.want[2:], got[2:]):
            with self.subTest(row=want_row[0]):
                self.assertEqual(got_row, want_row)


if __name__ == "__main__":
    unittest.main(verbosity=2)
