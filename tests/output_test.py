#!/usr/bin/env python3
"""The files the tools write, checked against fin(7), OUTPUT FILES.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/output_test.py`. Every option
that names an output of every tool (-o of each, fin-train --log, fin-anomaly
--metrics, fin-cluster --k-report, fin-backtest --report) is written onto a
symbolic link, a FIFO, a device node, a directory, an input (standard input
too), a file of mode 0600 and a new path under umask 077; a data error half
way through leaves the previous output byte for byte; a signal while an
output is being written leaves no temporary file; fin-backtest's training
commands die with it. What a run onto a special file must give is what the
same run gives onto a new regular file.

The signals are sent at a point the tool cannot get past: its input is a
FIFO whose writing end the test holds open, so the tool waits for more rows
with its temporary file made and nothing to commit. The test waits for the
temporary file to appear (an event that must come), then signals: no timing
decides the outcome.
"""
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from fincli import BIN_DIR, ROOT, write_csv

TOOL = {name: os.path.join(BIN_DIR, name)
        for name in ("fin-window", "fin-train", "fin-predict", "fin-anomaly", "fin-cluster",
                     "fin-eval", "fin-gen", "fin-backtest", "fin-inspect", "fin-explain",
                     "fin-mask", "fin-avg", "fin-plot")}
EXIT_DATA, EXIT_USAGE = 1, 2
ROWS, BAD_LINE = 2000, 1500
TIMEOUT = 60

TMP = None
FILES = {}


def scratch_dir():
    return tempfile.mkdtemp(dir=TMP.name)


def run(args, umask=None, env=None):
    def child():
        if umask is not None:
            os.umask(umask)
    return subprocess.run(args, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=300, preexec_fn=child, env=env)


def must(args):
    result = run(args)
    assert result.returncode == 0, (args, result.stderr.decode(errors="replace"))
    return result


def bad_copy(path, name):
    """path with a letter before a number of physical line BAD_LINE: the
    second field (the first after a key), or the only one."""
    with open(path) as f:
        lines = f.readlines()
    fields = lines[BAD_LINE - 1].split(",")
    j = 1 if len(fields) > 1 else 0
    fields[j] = "x" + fields[j]
    lines[BAD_LINE - 1] = ",".join(fields)
    FILES[name] = os.path.join(TMP.name, name + ".csv")
    with open(FILES[name], "w") as f:
        f.writelines(lines)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-output-test-")

    def path(name):
        FILES[name] = os.path.join(TMP.name, name)
        return FILES[name]

    rng = random.Random(13)
    a, b = 100.0, 50.0
    rows = [["t", "a", "b"]]
    for t in range(ROWS):
        a *= 1 + rng.gauss(0, 0.01)
        b *= 1 + rng.gauss(0, 0.02)
        rows.append([t + 1, repr(round(a, 4)), repr(round(b, 4))])
    write_csv(path("prices"), rows)
    window = [TOOL["fin-window"], "-c", "a", "-k", "t", "--size", "5", "--transform", "logret"]
    with open(path("windows"), "wb") as f:
        f.write(must(window + [FILES["prices"]]).stdout)
    with open(path("gan-windows"), "wb") as f:
        f.write(must(window + ["--target", "none", FILES["prices"]]).stdout)
    with open(FILES["windows"]) as f:
        lines = f.read().splitlines()
    with open(path("labelled"), "w") as f:
        f.write(lines[0] + ",label\n")
        f.writelines(f"{line},{int(i % 17 == 0)}\n" for i, line in enumerate(lines[1:]))
    write_csv(path("forecasts"), [["y", "prediction"]] +
              [[repr(rng.gauss(0, 1)), repr(rng.gauss(0, 1))] for _ in range(ROWS)])
    write_csv(path("returns"), [["ret"]] + [[repr(rng.gauss(0, 0.01))] for _ in range(ROWS)])
    for name in ("prices", "windows", "labelled", "forecasts", "returns"):
        bad_copy(FILES[name], name + "-bad")
    must([TOOL["fin-train"], "--model", "linear", "-k", "t", "--epochs", "2", "-q",
          "-o", path("model"), FILES["windows"]])
    must([TOOL["fin-train"], "--model", "gan", "-k", "t", "--epochs", "1", "-q",
          "-o", path("gan"), FILES["gan-windows"]])
    must([TOOL["fin-anomaly"], "fit", "--method", "zscore", "-k", "t", "-q",
          "-o", path("detector"), FILES["windows"]])
    with open(path("log"), "w") as f:
        f.writelines(f'{{"epoch":{e},"train_loss":{1 / e},"val_loss":{2 / e},"seconds":{e}}}\n'
                     for e in range(1, 51))
    with open(path("stats"), "w") as f:
        f.write('{"format":"fin-stats","schema_version":1,"tool_version":"0","task":"regression",'
                '"target":"y","features":["a"],"rows":2,"mean":[1.5],"m2":[0.5],'
                '"target_mean":0,"target_m2":2,"parties":1}\n')


def tearDownModule():
    TMP.cleanup()


# Every option of every tool that names a file to write: its command line,
# with "{out}" for that file and "{name}" for FILES[name]; the input that
# "-o onto an input" aims at; the input whose "-bad" copy its data error
# run reads instead, or None when the tool reads no data (fin-gen -m).
BACKTEST = ["--train-size", "1000", "--test-size", "500", "-q"]
TRAIN_COMMAND = ["--", "fin-train", "--model", "linear", "--epochs", "1", "-k", "t"]
WRITERS = {
    "fin-window -o": (["fin-window", "-c", "a", "-k", "t", "--size", "5", "-o", "{out}",
                       "{prices}"], "prices", "prices"),
    "fin-predict -o": (["fin-predict", "-m", "{model}", "-o", "{out}", "{windows}"],
                       "model", "windows"),
    "fin-train -o": (["fin-train", "--model", "linear", "-k", "t", "--epochs", "2", "-q",
                      "-o", "{out}", "{windows}"], "windows", "windows"),
    # trained by gradient, one line an epoch (the linear preset is fitted exactly)
    "fin-train --log": (["fin-train", "--arch", "dense(1)", "-k", "t", "--epochs", "2", "-q",
                         "--log", "{out}", "{windows}"], "windows", "windows"),
    "fin-anomaly fit -o": (["fin-anomaly", "fit", "--method", "zscore", "-k", "t", "-q",
                            "-o", "{out}", "{windows}"], "windows", "windows"),
    "fin-anomaly -o": (["fin-anomaly", "--method", "zscore", "-k", "t", "-q", "-o", "{out}",
                        "{windows}"], "windows", "windows"),
    "fin-anomaly score -o": (["fin-anomaly", "score", "-m", "{detector}", "-q", "-o", "{out}",
                              "{windows}"], "detector", "windows"),
    "fin-anomaly --metrics": (["fin-anomaly", "score", "-m", "{detector}", "--label", "label",
                               "-q", "--metrics", "{out}", "{labelled}"],
                              "labelled", "labelled"),
    "fin-cluster -o": (["fin-cluster", "--clusters", "2", "-k", "t", "-q", "-o", "{out}",
                        "{windows}"], "windows", "windows"),
    "fin-cluster --k-report": (["fin-cluster", "--clusters", "2-3", "-k", "t", "-q",
                                "--k-report", "{out}", "{windows}"], "windows", "windows"),
    "fin-eval -o": (["fin-eval", "-q", "-o", "{out}", "{forecasts}"],
                    "forecasts", "forecasts"),
    "fin-eval --format table -o": (["fin-eval", "-q", "--format", "table", "-o", "{out}",
                                    "{forecasts}"], "forecasts", "forecasts"),
    "fin-gen -o": (["fin-gen", "-m", "{gan}", "--samples", "50", "-q", "-o", "{out}"], "gan", None),
    "fin-gen --facts -o": (["fin-gen", "--facts", "--format", "csv", "-c", "ret", "-o",
                            "{out}", "{returns}"], "returns", "returns"),
    "fin-gen --facts --format json -o": (["fin-gen", "--facts", "--format", "json", "-c", "ret",
                                          "-o", "{out}", "{returns}"], "returns", "returns"),
    "fin-inspect -o": (["fin-inspect", "-o", "{out}", "{model}"], "model", None),
    "fin-explain -o": (["fin-explain", "-m", "{model}", "-q", "-o", "{out}", "{windows}"],
                       "model", "windows"),
    "fin-explain --method permutation -o": (["fin-explain", "-m", "{model}", "--method",
                                             "permutation", "-q", "-o", "{out}", "{windows}"],
                                            "windows", "windows"),
    "fin-mask -o": (["fin-mask", "--round", "a:2", "-q", "-o", "{out}", "{prices}"],
                    "prices", "prices"),
    "fin-mask --k-anon -o": (["fin-mask", "--bucket", "a:10", "--quasi", "a", "--k-anon", "2",
                              "-q", "-o", "{out}", "{prices}"], "prices", "prices"),
    "fin-mask --report": (["fin-mask", "--round", "a:2", "--quasi", "a", "-q", "--report",
                           "{out}", "{prices}"], "prices", "prices"),
    "fin-avg -o": (["fin-avg", "-q", "-o", "{out}", "{model}"], "model", None),
    "fin-avg --stats -o": (["fin-avg", "--stats", "-o", "{out}", "{stats}"], "stats", None),
    # a name without an extension needs --format
    "fin-plot -o": (["fin-plot", "series", "-k", "t", "--format", "svg", "-o", "{out}",
                     "{prices}"], "prices", "prices"),
    "fin-plot --format png -o": (["fin-plot", "series", "-k", "t", "--format", "png", "-o",
                                  "{out}", "{prices}"], "prices", "prices"),
    "fin-plot loss -o": (["fin-plot", "loss", "--format", "pdf", "-o", "{out}", "{log}"], "log",
                         None),
    "fin-backtest -o": (["fin-backtest", *BACKTEST, "-o", "{out}", "{windows}",
                         *TRAIN_COMMAND], "windows", "windows"),
    "fin-backtest --report": (["fin-backtest", *BACKTEST, "--trade", "--report", "{out}",
                               "{windows}", *TRAIN_COMMAND], "windows", "windows"),
}


def command(writer, out, files=None):
    """The writer's command line writing to out, with FILES overridden by
    files."""
    names = dict(FILES, **(files or {}))
    args, _, _ = WRITERS[writer]
    line = [TOOL[args[0]]]
    for a in args[1:]:
        line.append(out if a == "{out}" else names[a[1:-1]] if re.fullmatch(r"\{.*\}", a) else a)
    return line


def comparable(writer, data):
    """What two runs must agree on: all but the time of each epoch."""
    if writer == "fin-train --log":
        return re.sub(rb'"seconds":[0-9.]+', b'"seconds":0', data)
    return data


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


class WriterCase(unittest.TestCase):
    expected = {}

    def reference(self, writer):
        """What the writer gives on a new regular file."""
        if writer not in self.expected:
            out = os.path.join(scratch_dir(), "reference")
            must(command(writer, out))
            self.expected[writer] = comparable(writer, read(out))
            self.assertTrue(self.expected[writer])
        return self.expected[writer]

    def run_ok(self, writer, out, **kw):
        result = run(command(writer, out), **kw)
        self.assertEqual(result.returncode, 0,
                         f"{writer} onto {out}: {result.stderr.decode(errors='replace')}")

    def run_fails(self, code, writer, out, files=None):
        result = run(command(writer, out, files))
        message = result.stderr.decode(errors="replace")
        name = os.path.basename(command(writer, out)[0])
        self.assertEqual(result.returncode, code, f"{writer} onto {out}: {message}")
        # fin-backtest's commands say what failed first, on lines of their own.
        if name != "fin-backtest":
            self.assertEqual(message.count("\n"), 1, message)
        self.assertTrue(message.splitlines()[-1].startswith(name + ": "), message)
        return message

    def assert_same(self, writer, data):
        self.assertEqual(comparable(writer, data), self.reference(writer), writer)


class SpecialFileTest(WriterCase):
    def test_symbolic_link_is_followed(self):
        # The link stays a link; its target, in another directory, is
        # replaced, and nothing else appears there or beside the link.
        for writer in WRITERS:
            with self.subTest(writer):
                links, targets = scratch_dir(), scratch_dir()
                target = os.path.join(targets, "target")
                write(target, b"old\n")
                link = os.path.join(links, "link")
                os.symlink(os.path.relpath(target, links), link)
                self.run_ok(writer, link)
                self.assertEqual(os.readlink(link), os.path.relpath(target, links))
                self.assertEqual(os.listdir(links), ["link"])
                self.assertEqual(os.listdir(targets), ["target"])
                self.assert_same(writer, read(target))

    def test_fifo_is_written_through(self):
        for writer in WRITERS:
            with self.subTest(writer):
                d = scratch_dir()
                fifo = os.path.join(d, "fifo")
                os.mkfifo(fifo)
                received = []

                def reader():
                    with open(fifo, "rb") as f:
                        received.append(f.read())

                thread = threading.Thread(target=reader)
                thread.start()
                try:
                    self.run_ok(writer, fifo)
                finally:
                    # A tool that never opened the FIFO leaves the reader
                    # waiting: a writer that comes and goes ends its wait.
                    if thread.is_alive() and not received:
                        os.close(os.open(fifo, os.O_RDWR))
                    thread.join(TIMEOUT)
                self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
                self.assertEqual(os.listdir(d), ["fifo"])
                self.assert_same(writer, received[0])

    def device_copy(self, directory, name, of):
        """A character device node with the numbers of the device of, or
        a skip where nodes cannot be made or used."""
        if os.geteuid() != 0:
            self.skipTest("making device nodes needs root")
        node = os.path.join(directory, name)
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.stat(of).st_rdev)
            os.close(os.open(node, os.O_WRONLY))
        except OSError as e:
            self.skipTest(f"no usable device node in {directory}: {e}")
        return node

    def assert_device(self, node, of):
        st = os.lstat(node)
        self.assertTrue(stat.S_ISCHR(st.st_mode))
        self.assertEqual(st.st_rdev, os.stat(of).st_rdev)

    def test_device_is_written_to(self):
        # A copy of /dev/null takes the output and stays a device; a copy
        # of /dev/full refuses it (a write error, exit 1) and stays too.
        for writer in WRITERS:
            with self.subTest(writer):
                d = scratch_dir()
                null = self.device_copy(d, "null", "/dev/null")
                full = self.device_copy(d, "full", "/dev/full")
                self.run_ok(writer, null)
                self.assert_device(null, "/dev/null")
                message = self.run_fails(EXIT_DATA, writer, full)
                self.assertIn("No space left on device", message)
                self.assert_device(full, "/dev/full")
                self.assertEqual(sorted(os.listdir(d)), ["full", "null"])

    def test_directory_is_refused(self):
        for writer in WRITERS:
            with self.subTest(writer):
                d = scratch_dir()
                message = self.run_fails(EXIT_USAGE, writer, d)
                self.assertIn(f"{d}: cannot write: Is a directory", message)
                self.assertEqual(os.listdir(d), [])

    def test_input_is_refused(self):
        # By its own name and by a link to it, before any work.
        for writer, (_, name, _) in WRITERS.items():
            with self.subTest(writer):
                d = scratch_dir()
                copy = os.path.join(d, "input")
                shutil.copyfile(FILES[name], copy)
                os.symlink("input", os.path.join(d, "link"))
                before = read(copy)
                for out in (copy, os.path.join(d, "link")):
                    message = self.run_fails(EXIT_USAGE, writer, out, {name: copy})
                    self.assertIn(f"{out}: cannot write: it is also an input", message)
                self.assertEqual(read(copy), before)
                self.assertEqual(sorted(os.listdir(d)), ["input", "link"])

    def test_standard_input_is_refused(self):
        # Standard input redirected from the file named by -o.
        for writer, name in (("fin-window -o", "prices"), ("fin-predict -o", "windows"),
                             ("fin-train -o", "windows")):
            with self.subTest(writer):
                d = scratch_dir()
                copy = os.path.join(d, "input")
                shutil.copyfile(FILES[name], copy)
                before = read(copy)
                args = [a for a in command(writer, copy) if a != FILES[name]]
                with open(copy, "rb") as stdin:
                    result = subprocess.run(args, cwd=ROOT, stdin=stdin, capture_output=True,
                                            timeout=300)
                self.assertEqual(result.returncode, EXIT_USAGE, result.stderr)
                self.assertIn(b"cannot write: it is also an input", result.stderr)
                self.assertEqual(read(copy), before)
                self.assertEqual(os.listdir(d), ["input"])

    def test_mode_and_owner_are_kept(self):
        # An old 0600 file keeps its mode, and its owner when root may
        # give it away.
        owner = 65534 if os.geteuid() == 0 else os.geteuid()
        for writer in WRITERS:
            with self.subTest(writer):
                d = scratch_dir()
                out = os.path.join(d, "out")
                write(out, b"old\n")
                os.chmod(out, 0o600)
                os.chown(out, owner, owner if os.geteuid() == 0 else -1)
                self.run_ok(writer, out)
                st = os.stat(out)
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
                self.assertEqual(st.st_uid, owner)
                self.assertEqual(os.listdir(d), ["out"])
                self.assert_same(writer, read(out))

    def test_new_file_follows_umask(self):
        for writer in WRITERS:
            with self.subTest(writer):
                d = scratch_dir()
                out = os.path.join(d, "out")
                self.run_ok(writer, out, umask=0o077)
                self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
                self.assertEqual(os.listdir(d), ["out"])


class DataErrorTest(WriterCase):
    def test_previous_output_survives(self):
        # The previous output, a complete one, byte for byte; no new path
        # appears, and no temporary file is left.
        for writer, (_, _, name) in WRITERS.items():
            if name is None:
                continue
            with self.subTest(writer):
                d = scratch_dir()
                out = os.path.join(d, "out")
                previous = os.path.join(scratch_dir(), "previous")
                must(command(writer, previous))
                shutil.copyfile(previous, out)
                bad = {name: FILES[name + "-bad"]}
                message = self.run_fails(EXIT_DATA, writer, out, bad)
                self.assertNotIn("cannot write", message)
                self.assertEqual(read(out), read(previous))
                self.assertEqual(os.listdir(d), ["out"])
                self.run_fails(EXIT_DATA, writer, os.path.join(d, "new"), bad)
                self.assertEqual(os.listdir(d), ["out"])


def reset_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def temporary_files(directory, name):
    return [f for f in os.listdir(directory) if re.fullmatch(re.escape(name) + r"\.\w{6}", f)]


class SignalTest(unittest.TestCase):
    """A tool reads its rows from a FIFO the test writes a header and some
    rows to and keeps open: it has opened its output and waits."""
    TOOLS = {
        "fin-train -o": ([TOOL["fin-train"], "--model", "linear", "-k", "t", "--epochs", "2",
                          "-q", "-o"], "windows"),
        "fin-window -o": ([TOOL["fin-window"], "-c", "a", "-k", "t", "--size", "5", "-o"],
                          "prices"),
        "fin-anomaly fit -o": ([TOOL["fin-anomaly"], "fit", "--method", "zscore", "-k", "t",
                                "-q", "-o"], "windows"),
    }

    def start(self, tool, out, fifo, ignore=()):
        """Starts tool writing to out and reading fifo; the first 50 lines
        of its input are written to the FIFO, whose writing end is
        returned, open."""
        args, rows = self.TOOLS[tool]

        def child():
            reset_signals()
            for sig in ignore:
                signal.signal(sig, signal.SIG_IGN)
        proc = subprocess.Popen([*args, out, fifo], cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=child)
        self.addCleanup(self.end, proc)
        # The FIFO's writing end opens once the tool opened its reading end.
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                self.assert_running(proc, deadline)
        os.set_blocking(fd, True)
        with open(FILES[rows], "rb") as f:
            os.write(fd, b"".join(f.readlines()[:50]))
        return proc, fd

    @staticmethod
    def end(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()

    def wait_for_temporary_file(self, proc, directory):
        deadline = time.monotonic() + TIMEOUT
        while not temporary_files(directory, "out"):
            self.assert_running(proc, deadline)

    def assert_running(self, proc, deadline):
        if proc.poll() is not None:
            self.fail(proc.stderr.read().decode(errors="replace"))
        self.assertLess(time.monotonic(), deadline)
        time.sleep(0.01)

    def test_signal_leaves_no_temporary_file(self):
        for tool in self.TOOLS:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                with self.subTest(tool, signal=sig.name):
                    d = scratch_dir()
                    out, fifo = os.path.join(d, "out"), os.path.join(d, "in")
                    write(out, b"old\n")
                    os.mkfifo(fifo)
                    proc, fd = self.start(tool, out, fifo)
                    self.wait_for_temporary_file(proc, d)
                    proc.send_signal(sig)
                    self.assertEqual(proc.wait(TIMEOUT), -sig)
                    os.close(fd)
                    self.assertEqual(sorted(os.listdir(d)), ["in", "out"])
                    self.assertEqual(read(out), b"old\n")

    def test_ignored_signal_stays_ignored(self):
        # As under nohup: SIGHUP does not stop the run, which then ends
        # normally when its input ends.
        for tool in self.TOOLS:
            with self.subTest(tool):
                d = scratch_dir()
                out, fifo = os.path.join(d, "out"), os.path.join(d, "in")
                write(out, b"old\n")
                os.mkfifo(fifo)
                proc, fd = self.start(tool, out, fifo, ignore=(signal.SIGHUP,))
                self.wait_for_temporary_file(proc, d)
                proc.send_signal(signal.SIGHUP)
                os.close(fd)
                self.assertEqual(proc.wait(TIMEOUT), 0, proc.stderr.read())
                self.assertEqual(sorted(os.listdir(d)), ["in", "out"])
                self.assertNotEqual(read(out), b"old\n")


def group_alive(pgid):
    """The processes of group pgid that are not yet dead (zombies are)."""
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(pid))
    return alive


def running(pid, program):
    """The live children of pid that run program (exec'd, not just forked)."""
    found = []
    for child in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{child}/stat") as f:
                comm, rest = f.read().split("(", 1)[1].rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        if int(fields[1]) == pid and fields[0] != "Z" and comm == program:
            found.append(int(child))
    return found


class BacktestSignalTest(unittest.TestCase):
    """fin-backtest in a process group of its own, training with enough
    epochs to be still at its first fold when it is signalled; the test
    waits until fin-train runs (its child has exec'd it)."""

    def start(self, outputs, tmpdir):
        proc = subprocess.Popen([TOOL["fin-backtest"], *BACKTEST, "--trade", "-o",
                                 outputs["out"], "--report", outputs["report"],
                                 FILES["windows"], "--", "fin-train", "--model", "mlp",
                                 "--epochs", "1000000", "-k", "t"],
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=dict(os.environ, TMPDIR=tmpdir),
                                preexec_fn=reset_signals, start_new_session=True)
        self.addCleanup(self.kill_group, proc.pid)
        deadline = time.monotonic() + TIMEOUT
        while not running(proc.pid, "fin-train"):
            self.assertIsNone(proc.poll())
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        return proc

    @staticmethod
    def kill_group(pgid):
        for pid in group_alive(pgid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def assert_group_ends(self, pgid):
        deadline = time.monotonic() + TIMEOUT
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(group_alive(pgid), [])

    def outputs(self):
        d = scratch_dir()
        files = {"out": os.path.join(d, "out.csv"), "report": os.path.join(d, "report.json")}
        for path in files.values():
            write(path, b"old\n")
        return d, files

    def test_sigkill_leaves_no_child(self):
        d, files = self.outputs()
        proc = self.start(files, scratch_dir())
        proc.kill()
        self.assertEqual(proc.wait(TIMEOUT), -signal.SIGKILL)
        self.assert_group_ends(proc.pid)

    def test_sigterm_leaves_nothing(self):
        d, files = self.outputs()
        tmpdir = scratch_dir()
        proc = self.start(files, tmpdir)
        proc.terminate()
        self.assertEqual(proc.wait(TIMEOUT), -signal.SIGTERM)
        self.assert_group_ends(proc.pid)
        self.assertEqual(os.listdir(tmpdir), [])
        self.assertEqual(sorted(os.listdir(d)), ["out.csv", "report.json"])
        for path in files.values():
            self.assertEqual(read(path), b"old\n")


if __name__ == "__main__":
    for tool in TOOL.values():
        if not os.access(tool, os.X_OK):
            sys.exit(f"output_test.py: no executable {tool} (set FIN_BIN or run make)")
    unittest.main()
