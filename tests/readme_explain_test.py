#!/usr/bin/env python3
"""The README's section "Why a model predicts what it predicts: fin-explain"
reproduces: each of its sh blocks, run as displayed, prints the block that
follows it.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_explain_test.py`.

This checks the documentation against the tools: the expected text is the
README's, read from README.md. The blocks run one after another in one
bash process, in a temporary directory where `data` links to the
repository's data/ and `build/bin/` stands for FIN_BIN; the first block
pins OpenBLAS as the README's other sections do (the logistic fit and the
CNN's training depend on its kernels' rounding). Skipped, with the reason,
where the pin cannot hold and under a sanitizer build, as
tests/readme_gan_test.py is. About 5 s.
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from fincli import BIN_DIR, ROOT
import readme_gan_test  # noqa: E402
from readme_gan_test import PIN, skip_reason  # noqa: E402

SECTION = "## Why a model predicts what it predicts: fin-explain"
MARK = "@@@ next block @@@"


def blocks(section):
    """The section's (commands, printed) pairs: each sh block and the plain
    block after it."""
    found = re.findall(r"^```sh\n(.*?)^```\n\n```\n(.*?)^```", section, re.M | re.S)
    if not found:
        raise AssertionError("no sh block followed by its output in the README's section")
    return found


SKIP = skip_reason()


def check_pinned(test, section):
    """The section's first sh block pins OpenBLAS's kernels and threads."""
    first = blocks(readme_gan_test.readme_section(section))[0][0]
    exports = re.findall(r"^export ([^\n#]*)", first, re.M)
    pinned = dict(word.split("=", 1) for line in exports for word in line.split())
    test.assertEqual({k: pinned.get(k) for k in PIN}, PIN, first)


class ReadmeCommands(unittest.TestCase):
    def test_the_first_block_pins_the_kernels(self):
        check_pinned(self, SECTION)


def check_blocks(test, section, prefix):
    """Runs the sh blocks of the README's section one after another in one
    bash process, in a temporary directory where `data` links to the
    repository's data/ and `build/bin/` stands for FIN_BIN, and checks that
    each prints the block that follows it."""
    pairs = blocks(readme_gan_test.readme_section(section))
    script = f"\necho '{MARK}'\n".join(commands for commands, _ in pairs)
    script = script.replace("build/bin/", shlex.quote(BIN_DIR) + "/")
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        os.symlink(os.path.join(ROOT, "data"), os.path.join(tmp, "data"))
        out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp,
                             capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    test.assertEqual(out.returncode, 0, out.stderr[-2000:])
    printed = out.stdout.split(MARK + "\n")
    test.assertEqual(len(printed), len(pairs))
    for (commands, want), got in zip(pairs, printed):
        test.assertEqual(got, want, commands)


@unittest.skipIf(SKIP is not None, SKIP)
class ReadmeOutput(unittest.TestCase):
    def test_each_block_prints_what_follows_it(self):
        check_blocks(self, SECTION, "fin-readme-explain-")


if __name__ == "__main__":
    unittest.main()
