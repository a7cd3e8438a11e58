#!/usr/bin/env python3
"""The README's section "Many assets at once: panels" reproduces: its
commands, run as displayed, give every cell of its table.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_panel_test.py`.

The expected values are the README's table, read from README.md. The
commands are the section's sh block, run by bash in a temporary directory
where `data` links to the repository's data/, `build/bin/` stands for
FIN_BIN and `bench/` for the repository's, with OpenBLAS pinned as
bench/readme_panel.py pins it; the table is rebuilt from fin-eval's
reports and fin-backtest's --report files with readme_panel.table. About
10 s. Skipped where the pin cannot hold and under a sanitizer build, as
tests/readme_gan_test.py is.
"""
import os
import shutil
import sys
import tempfile
import unittest

from fincli import BIN_DIR, ROOT

sys.path.insert(0, os.path.join(ROOT, "bench"))
from readme_panel import readme_commands, run_commands, table  # noqa: E402
from readme_gan_test import readme_section, readme_table, skip_reason  # noqa: E402

SECTION = "## Many assets at once: panels"
SKIP = skip_reason()


class ReadmeCommands(unittest.TestCase):
    def test_commands_pin_the_kernels(self):
        commands = readme_commands()
        self.assertIn("export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1", commands)


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeTable(unittest.TestCase):
    def test_every_cell(self):
        header, want = readme_table(readme_section(SECTION))
        tmp = tempfile.mkdtemp(prefix="fin-readme-panel-")
        try:
            got = table(run_commands(readme_commands(), BIN_DIR, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(got[0][1:], header[1:])
        self.assertEqual(len(got) - 2, len(want))
        for want_row, got_row in zip(want, got[2:]):
            with self.subTest(row=want_row[0]):
                self.assertEqual(got_row, want_row)


if __name__ == "__main__":
    unittest.main(verbosity=2)
