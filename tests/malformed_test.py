#!/usr/bin/python3
"""Feed fin-window the malformed inputs of tests/malformed/ and check how it
fails: exit status, a one-line message with the right file and line, no
crash, no hang and no sanitizer report.

Usage: FIN_BIN=build/bin tests/malformed_test.py [CASE]...

The cases and their expectations are in tests/malformed/cases.txt; the large
inputs are written by tests/malformed/generate.py into a temporary directory
at each run. FIN_BIN (default build/bin, relative to the repository root)
names the directory holding fin-window; `make check-asan` points it at the
sanitizer build. Naming cases runs only those.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES_DIR = os.path.join(HERE, "malformed")
sys.path.insert(0, CASES_DIR)
import generate  # noqa: E402  (lives next to the cases, not on the path)

TIMEOUT = 10
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
# A message is for a human: a field of megabytes has to be shortened, not
# echoed. Generous next to any sensible message.
MAX_MESSAGE = 2000
KEYS = {"case", "file", "stdin", "args", "exit", "stderr", "stdout", "stdout-file"}


def parse_cases(path):
    """Returns the blocks of cases.txt as dicts; 'stdout' is a list."""
    cases, case = [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                case = None
                continue
            key, _, value = line.partition(" ")
            where = "%s:%d" % (path, number)
            if key not in KEYS:
                sys.exit("%s: unknown key '%s'" % (where, key))
            if key == "case":
                case = {"name": value, "stdout": [], "where": where}
                cases.append(case)
            elif case is None:
                sys.exit("%s: '%s' outside a case" % (where, key))
            elif key == "stdout":
                case["stdout"].append(value)
            elif key in case:
                sys.exit("%s: '%s' given twice" % (where, key))
            else:
                case[key] = value
    for case in cases:
        for key in ("file", "exit"):
            if key not in case:
                sys.exit("%s: case %s has no '%s'" % (case["where"], case["name"], key))
        if case["exit"] != "0" and "stderr" not in case:
            sys.exit("%s: failing case %s needs 'stderr'" % (case["where"], case["name"]))
    return cases


def locate(name, generated):
    """Committed inputs first; anything else comes from generate.py (or,
    like no_such_file.csv, is meant not to exist)."""
    committed = os.path.join(CASES_DIR, name)
    return committed if os.path.exists(committed) else os.path.join(generated, name)


def check(case, tool, generated):
    """Runs one case; returns a list of problems, empty when it passed."""
    path = locate(case["file"], generated)
    argv = [tool] + shlex.split(case.get("args", ""))
    feed = None
    if case.get("stdin") == "yes":
        # Bytes through a pipe, not the file as stdin: a pipe hands them
        # over in pieces of its own choosing.
        with open(path, "rb") as f:
            feed = f.read()
    else:
        # The file is named relative to its directory, so that messages
        # carry exactly the name cases.txt expects.
        argv.append(os.path.basename(path))
    try:
        run = subprocess.run(argv, cwd=os.path.dirname(path), input=feed,
                             stdin=None if feed is not None else subprocess.DEVNULL,
                             capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return ["no answer within %d s" % TIMEOUT]

    problems = []
    err = run.stderr.decode("utf-8", "backslashreplace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            problems.append("sanitizer report (%s)" % mark)
    if run.returncode < 0:
        problems.append("killed by signal %d" % -run.returncode)
    elif run.returncode != int(case["exit"]):
        problems.append("exit %d, expected %s" % (run.returncode, case["exit"]))

    if "stderr" in case:
        if err.count("\n") != 1 or not err.endswith("\n"):
            problems.append("stderr is not exactly one line: %r" % err[:300])
        message = err.split("\n")[0]
        if len(message) > MAX_MESSAGE:
            problems.append("message of %d characters" % len(message))
        elif re.search(r"[\x00-\x1f\x7f]", message):
            problems.append("control character in the message")
        if not re.search(case["stderr"], message):
            problems.append("message %r does not match %r" % (message[:300], case["stderr"]))
    elif err:
        problems.append("unexpected stderr %r" % err[:300])

    if case["exit"] != "0":
        # Every failing case errs before a window can be complete (see
        # cases.txt), so at most the header may have gone out.
        if run.stdout.count(b"\n") > 1:
            problems.append("stdout holds data rows after a failure")
    elif "stdout-file" in case:
        with open(locate(case["stdout-file"], generated), "rb") as f:
            if run.stdout != f.read():
                problems.append("stdout differs from %s" % case["stdout-file"])
    elif case["stdout"]:
        want = "".join(line + "\n" for line in case["stdout"]).encode()
        if run.stdout != want:
            problems.append("stdout %r, expected %r" % (run.stdout[:300], want[:300]))
    return problems


def main():
    bin_dir = os.environ.get("FIN_BIN", "build/bin")
    tool = os.path.join(ROOT, bin_dir, "fin-window")
    if not os.access(tool, os.X_OK):
        sys.exit("malformed_test: no fin-window at %s (run make first)" % tool)
    cases = parse_cases(os.path.join(CASES_DIR, "cases.txt"))
    names = [case["name"] for case in cases]
    if len(set(names)) != len(names):
        sys.exit("malformed_test: duplicate case names in cases.txt")
    wanted = sys.argv[1:]
    for name in wanted:
        if name not in names:
            sys.exit("malformed_test: no case '%s'" % name)
    if wanted:
        cases = [case for case in cases if case["name"] in wanted]

    failed = 0
    with tempfile.TemporaryDirectory(prefix="fin-malformed-") as generated:
        generate.generate(generated)
        for case in cases:
            problems = check(case, tool, generated)
            if problems:
                failed += 1
                print("FAIL %s: %s" % (case["name"], "; ".join(problems)))
            else:
                print("ok   %s" % case["name"])
    print("malformed inputs (%s): %d cases, %d passed, %d failed"
          % (bin_dir, len(cases), len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
