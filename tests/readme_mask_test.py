#!/usr/bin/env python3
"""The README's section "Sharing a table: fin-mask" reproduces: each of its
sh blocks, run as displayed, prints the block that follows it (the
pseudonyms, which depend on the key the block draws, are not displayed).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_mask_test.py`.

The expected text is the README's. The rows suppressed and the k printed
there are checked against a pandas groupby by tests/mask_test.py; this
checks that the README shows what the commands print. The first block pins
OpenBLAS as the other sections do (the logistic fits depend on its
kernels' rounding); skipped where the pin cannot hold and under a
sanitizer build, as tests/readme_gan_test.py is. About 2 s.
"""
import unittest

from readme_explain_test import blocks, check_blocks, check_pinned
import readme_gan_test  # noqa: E402
from readme_gan_test import skip_reason  # noqa: E402

SECTION = "## Sharing a table: fin-mask"
SKIP = skip_reason()


class ReadmeCommands(unittest.TestCase):
    def test_the_first_block_pins_the_kernels(self):
        check_pinned(self, SECTION)

    def test_the_key_is_never_an_argument(self):
        for commands, _ in blocks(readme_gan_test.readme_section(SECTION)):
            self.assertNotIn("--key ", commands)
            self.assertNotRegex(commands, r"fin-mask[^\n]*--key-env [^\n]*=")


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeOutput(unittest.TestCase):
    def test_each_block_prints_what_follows_it(self):
        check_blocks(self, SECTION, "fin-readme-mask-")


if __name__ == "__main__":
    unittest.main()
