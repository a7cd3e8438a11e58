#!/usr/bin/env python3
"""One letter, one meaning: every tool's short options, read from its --help
and from what its option parser accepts, against the list every tool
shares (fin(7), CONVENTIONS.md).

Run from the repository root as `FIN_BIN=build/bin python3
tests/options_test.py` (make check does).
"""
import os
import re
import string
import subprocess
import sys
import unittest

from fincli import BIN_DIR

TOOLS = ["fin-window", "fin-train", "fin-predict", "fin-anomaly", "fin-cluster", "fin-gen",
         "fin-backtest", "fin-eval", "fin-inspect", "fin-explain", "fin-mask", "fin-avg",
         "fin-plot"]

# The letters every tool shares, and what each one means wherever it is.
SHARED = {"c": "columns", "k": "key", "y": "target", "m": "model", "o": "output",
          "d": "delimiter", "n": "no-header", "s": "seed", "q": "quiet", "v": "verbose",
          "h": "help", "V": "version"}
# Long options that are shared without a letter, and the value each takes.
SHARED_LONG = {"na": "POLICY", "na-values": "LIST", "threads": "N"}
# Long names of shared options that mean something else in one tool, with
# no letter there: known, and not to grow. fin-window --target is the kind
# of target (next, sum, ...; its column is --target-column), fin-train
# --model a preset network (cnn, mlp, ...; a model file is --init).
LONG_NAME_CLASHES = {("fin-window", "target"), ("fin-train", "model")}

# "  -k, --key LIST   ..." and "      --size N   ..."
SHORT_AND_LONG = re.compile(r"^\s+-(\w), --([\w-]+)")
LONG_ONLY = re.compile(r"^\s+--([\w-]+)(?: (\S+))?")


def tool_path(tool):
    return os.path.join(BIN_DIR, tool)


def help_options(tool):
    """{letter: long name} and {long name: value name} from tool --help."""
    out = subprocess.run([tool_path(tool), "--help"], capture_output=True, timeout=30,
                         check=True).stdout.decode()
    letters, longs = {}, {}
    for line in out.splitlines():
        m = SHORT_AND_LONG.match(line)
        if m:
            letter, name = m.groups()
            assert letter not in letters, f"{tool}: -{letter} listed twice"
            letters[letter] = name
            longs[name] = None
            continue
        m = LONG_ONLY.match(line)
        if m:
            longs[m.group(1)] = m.group(2)
    return letters, longs


def accepted_letters(tool):
    """The letters the tool's option parser takes: all but those it calls
    invalid. Standard input is empty, so that a letter taking no value
    ends the run at once."""
    taken = set()
    for letter in string.ascii_letters:
        result = subprocess.run([tool_path(tool), "-" + letter], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=30)
        if b"invalid option" not in result.stderr:
            taken.add(letter)
    return taken


class OptionLetterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.helps = {tool: help_options(tool) for tool in TOOLS}

    def test_every_letter_is_a_shared_one_with_its_shared_meaning(self):
        for tool in TOOLS:
            letters, _ = self.helps[tool]
            for letter, name in letters.items():
                with self.subTest(tool=tool, letter=letter):
                    self.assertIn(letter, SHARED,
                                  f"{tool}: -{letter} (--{name}) is no shared letter: a tool's "
                                  f"own options are long only")
                    self.assertEqual(name, SHARED[letter],
                                     f"{tool}: -{letter} is --{name}, elsewhere "
                                     f"--{SHARED[letter]}")

    def test_a_shared_long_option_has_its_letter(self):
        by_name = {name: letter for letter, name in SHARED.items()}
        clashes = set()
        for tool in TOOLS:
            letters, longs = self.helps[tool]
            for name in longs:
                if name in by_name and letters.get(by_name[name]) != name:
                    clashes.add((tool, name))
        self.assertEqual(clashes, LONG_NAME_CLASHES)

    def test_shared_long_options_take_the_same_value(self):
        for tool in TOOLS:
            _, longs = self.helps[tool]
            for name, value in SHARED_LONG.items():
                if name in longs:
                    with self.subTest(tool=tool, option=name):
                        self.assertEqual(longs[name], value)

    def test_every_tool_has_the_options_of_every_filter(self):
        """Each reads CSV and writes a file: -d, -n, -o, -q, -h and -V
        (fin-inspect reads a model file, and says nothing but its output;
        fin-avg reads model files, and has notes)."""
        for tool in TOOLS:
            if tool == "fin-inspect":
                self.assertEqual({"o", "h", "V"}, set(self.helps[tool][0]))
                continue
            if tool == "fin-avg":
                self.assertEqual({"o", "q", "h", "V"}, set(self.helps[tool][0]))
                continue
            letters, _ = self.helps[tool]
            with self.subTest(tool=tool):
                self.assertLessEqual({"d", "n", "o", "q", "h", "V"}, set(letters))

    def test_the_parser_takes_the_letters_the_help_lists(self):
        for tool in TOOLS:
            letters, _ = self.helps[tool]
            with self.subTest(tool=tool):
                self.assertEqual(accepted_letters(tool), set(letters))

    def test_counts_are_long_options(self):
        """The counts that once had letters of their own."""
        cases = [("fin-cluster", "clusters"), ("fin-gen", "samples"), ("fin-eval", "top")]
        for tool, name in cases:
            letters, longs = self.helps[tool]
            with self.subTest(tool=tool):
                self.assertIn(name, longs)
                self.assertNotIn(name, letters.values())


if __name__ == "__main__":
    for tool in TOOLS:
        if not os.access(tool_path(tool), os.X_OK):
            sys.exit(f"options_test.py: no executable {tool_path(tool)} (set FIN_BIN or run make)")
    unittest.main()
