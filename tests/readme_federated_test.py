#!/usr/bin/env python3
"""The README's section "Training together without pooling rows: fin-avg
and DP-SGD" reproduces: each of its sh blocks, run as displayed, prints the
block that follows it.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_federated_test.py`.

The expected text is the README's. The first block pins OpenBLAS as the
other sections do (training depends on its kernels' rounding); skipped
where the pin cannot hold and under a sanitizer build, as
tests/readme_gan_test.py is. About 5 s.
"""
import unittest

from readme_explain_test import blocks, check_blocks, check_pinned
import readme_gan_test  # noqa: E402
from readme_gan_test import skip_reason  # noqa: E402

SECTION = "## Training together without pooling rows: fin-avg and DP-SGD"
SKIP = skip_reason()


class ReadmeCommands(unittest.TestCase):
    def test_the_first_block_pins_the_kernels(self):
        check_pinned(self, SECTION)

    def test_federated_is_within_003_of_pooled(self):
        """The issue's mark: after 20 rounds the federated model's ROC-AUC
        is within 0.03 of the network trained on the pooled rows (the
        README's table, which the test below checks against the run)."""
        table = blocks(readme_gan_test.readme_section(SECTION))[0][1]
        auc = dict(line.split() for line in table.splitlines())
        self.assertLessEqual(abs(float(auc["global"]) - float(auc["pooled-alone"])), 0.03)
        self.assertIn("for round in $(seq 20)", blocks(readme_gan_test.readme_section(SECTION))[0][0])


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeOutput(unittest.TestCase):
    def test_each_block_prints_what_follows_it(self):
        check_blocks(self, SECTION, "fin-readme-federated-")


if __name__ == "__main__":
    unittest.main()
