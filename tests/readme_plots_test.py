#!/usr/bin/env python3
"""The plots the README shows are what its commands draw.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/readme_plots_test.py`.

Each image the README's "Plots: fin-plot" section shows,
`![...](examples/plots/NAME.svg)`, must have one `fin-plot` command in that
section writing it (`-o examples/plots/NAME.svg`); the command is run again,
from the repository root, with its output sent to a temporary file, and the
result must be the committed file byte for byte. The inputs are the tables
committed beside the images, so the check does not depend on training runs;
PLplot's svg driver writes text as text, sized by its own metrics, so the
bytes depend on neither the fonts installed nor the BLAS kernels.
"""
import os
import re
import shlex
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, run

SECTION = re.compile(r"^## Plots: fin-plot\n(.*?)(?=^## )", re.M | re.S)
IMAGE = re.compile(r"!\[[^\]]+\]\((examples/plots/[\w.-]+\.svg)\)")
FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def readme_section():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        m = SECTION.search(f.read())
    if not m:
        raise AssertionError("README.md has no section '## Plots: fin-plot'")
    return m.group(1)


def commands(section):
    """The fin-plot commands of the section's shell blocks, as argument
    lists, by the file each writes."""
    out = {}
    for block in FENCE.findall(section):
        for line in block.replace("\\\n", " ").splitlines():
            args = shlex.split(line)
            if args and args[0] == "fin-plot":
                target = args[args.index("-o") + 1]
                if target in out:
                    raise AssertionError(f"two commands write {target}")
                out[target] = args
    return out


class ReadmePlotsTest(unittest.TestCase):
    def test_each_image_is_its_command_s_output(self):
        section = readme_section()
        images = IMAGE.findall(section)
        self.assertEqual(len(images), 3, images)
        cmds = commands(section)
        self.assertEqual(sorted(cmds), sorted(images))
        with tempfile.TemporaryDirectory(prefix="fin-readme-plots-") as tmp:
            for image in images:
                with self.subTest(image):
                    args = list(cmds[image])
                    out = os.path.join(tmp, os.path.basename(image))
                    args[args.index("-o") + 1] = out
                    result = run(os.path.join(BIN_DIR, "fin-plot"), *args[1:])
                    self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
                    with open(out, "rb") as f, open(os.path.join(ROOT, image), "rb") as g:
                        self.assertTrue(f.read() == g.read(),
                                        f"{image} is not what its README command draws")


if __name__ == "__main__":
    if not os.access(os.path.join(BIN_DIR, "fin-plot"), os.X_OK):
        raise SystemExit(f"readme_plots_test.py: no executable fin-plot in {BIN_DIR} "
                         "(set FIN_BIN or run make)")
    unittest.main()
