#!/usr/bin/env python3
"""Hostile model, detector and cluster files: fin-model(5), READING A FILE.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/hostile_model_test.py`.

Valid files of every kind are made with the tools themselves (fin-train for
regression, binary, multiclass, CNN, LSTM, autoencoder and GAN models,
fin-anomaly fit for the five detectors, fin-cluster -o with and without
--embed), then each is mutated: sizes of 2^31, 2^40 and 2^62 in every size
field and in the numbers of architecture strings, lists one shorter and one
longer than their sizes, a feature twice, wrong JSON types, a key twice,
text after the value, a 500 MB string as a key, a feature name and an architecture,
NaN and extremes in scalers, and a FIFO or a directory where the file
should be. Every tool that loads that kind of file is run on it.

A refused file must give exit status 3 and one line naming the tool, in
under a second of CPU time and 64 MiB of memory (ru_maxrss of the child,
from os.wait4). A mutated training fact or other number that is not a size
may be accepted or refused: exit 0 or 3, never a signal, memory bounded all
the same. The time and memory figures hold for the plain build only: they
are not asserted when the tools carry a sanitizer's runtime, found by the
symbols __asan_init or __ubsan_handle_ in their binary (as `make
check-asan` builds them). A run that has not finished after TIMEOUT
seconds is killed and fails its test.
"""
import copy
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from fincli import BIN_DIR, ROOT, write_csv

TOOL_NAMES = ("fin-window", "fin-train", "fin-predict", "fin-anomaly", "fin-cluster", "fin-gen",
              "fin-inspect", "fin-explain")
TOOL = {name: os.path.join(BIN_DIR, name) for name in TOOL_NAMES}

EXIT_OK, EXIT_MODEL = 0, 3
HUGE = (2**31, 2**40, 2**62)
BIG_STRING = 500 * 2**20
MAX_RSS_KIB = 64 * 1024
MAX_CPU_SECONDS = 1.0
MAX_MESSAGE = 2000  # a message is for a human: generous next to any sensible one


def sanitizer_build():
    """True when the tools carry a sanitizer's runtime, whose shadow memory
    and checks make time and memory figures meaningless."""
    with open(TOOL["fin-predict"], "rb") as f:
        binary = f.read()
    return b"__asan_init" in binary or b"__ubsan_handle_" in binary


SANITIZED = sanitizer_build()
TIMEOUT = 60 if SANITIZED else 20

TMP = None
FILES = {}  # name -> path of a valid file made by the tools
DOCS = {}   # name -> its parsed JSON
BODY = None  # path of BIG_STRING bytes of 'a'
REFUSALS = []  # the Outcome of every refused run, for the summary at the end


# ---- running a tool, measured ----

class Outcome:
    def __init__(self, args, status, usage, stderr, hung):
        self.args = args
        self.signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        self.code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        self.rss_kib = usage.ru_maxrss
        self.cpu = usage.ru_utime + usage.ru_stime
        self.stderr = stderr.decode(errors="replace")
        self.hung = hung

    def __str__(self):
        return (f"{' '.join(os.path.basename(a) for a in self.args[:2])} ...: exit {self.code}, "
                f"signal {self.signal}, {self.rss_kib} KiB, {self.cpu:.3f} s, "
                f"stderr {self.stderr[:300]!r}")


def measured(args, address_space=None):
    """Runs args to the end (killed after TIMEOUT seconds), with its
    resource use from os.wait4; address_space bounds the child's."""
    def bound():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 preexec_fn=bound if address_space else None)
        deadline, hung = time.monotonic() + TIMEOUT, False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                hung = True
                os.kill(child.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.002)
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return Outcome(args, status, usage, err.read(), hung)


# ---- the loaders: every way a tool reads each kind of file ----

def loaders(kind):
    """The commands that load a file of this kind, as functions of its path:
    the tools that use it (the first is the one every mutation runs), then
    fin-inspect, which reads every kind."""
    return tool_loaders(kind) + [lambda m: [TOOL["fin-inspect"], m]]


def tool_loaders(kind):
    tab, win, out = FILES["table"], FILES["windows"], os.path.join(TMP, "out")
    if kind.startswith("detector"):
        rows = win if kind == "detector_gan" else tab
        return [lambda m: [TOOL["fin-anomaly"], "score", "-q", "-m", m, rows],
                lambda m: [TOOL["fin-explain"], "-q", "-m", m, rows]]
    if kind.startswith("cluster"):
        return [lambda m: [TOOL["fin-cluster"], "-q", "-m", m, tab]]
    predict = lambda m: [TOOL["fin-predict"], "-q", "-m", m, tab]
    explain = lambda m: [TOOL["fin-explain"], "-q", "-m", m, tab]
    init = lambda m: [TOOL["fin-train"], "-q", "--init", m, "--epochs", "1", "-o", out, tab]
    return {
        "regression": [predict, init, explain],
        "binary": [predict, explain],
        "multiclass": [predict, explain],
        "cnn": [lambda m: [TOOL["fin-predict"], "-q", "-m", m, win],
                lambda m: [TOOL["fin-explain"], "-q", "-m", m, win]],
        "lstm": [lambda m: [TOOL["fin-predict"], "-q", "-m", m, win],
                 lambda m: [TOOL["fin-explain"], "-q", "-m", m, win]],
        "autoencoder": [
            predict,
            lambda m: [TOOL["fin-anomaly"], "-q", "--method", "autoencoder", "--ae", m, tab],
            lambda m: [TOOL["fin-cluster"], "-q", "--clusters", "2", "--embed", m, "-o", out, tab],
            init, explain],
        "gan": [lambda m: [TOOL["fin-gen"], "-q", "-m", m, "--samples", "5"],
                lambda m: [TOOL["fin-anomaly"], "-q", "--method", "gan", "--gan", m, win]],
    }[kind]


# ---- JSON text with a hole for the mutation ----

def dumps(v, dup=None, path=()):
    """JSON text of v; the object at path dup writes its first key twice."""
    if isinstance(v, dict):
        items = [json.dumps(k) + ":" + dumps(x, dup, path + (k,)) for k, x in v.items()]
        if path == dup and items:
            items.insert(0, items[0])
        return "{" + ",".join(items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x, dup, path + (i,)) for i, x in enumerate(v)) + "]"
    return json.dumps(v)


DELETE = object()


def at(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def replaced(doc, path, value):
    """A copy of doc with the value at path replaced (deleted for DELETE)."""
    doc = copy.deepcopy(doc)
    parent = at(doc, path[:-1])
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


# ---- what each path of a file is ----

def model_base(path):
    """The path within a model: an embedded model's fields are a model's."""
    if path[:1] in (("model",), ("embed",)):
        return path[1:]
    return path


def is_size(kind, path):
    base = model_base(path)
    if base[:1] == ("input_shape",) and len(base) == 2:
        return True
    if base in (("latent",), ("bottleneck",)):
        return True
    if kind.startswith("detector") and path in (("trees",), ("sample",)):
        return True
    if path[:1] == ("forest",) and len(path) == 2 and path[1] in ("ntrees", "sample", "features"):
        return True
    if path[:3] == ("forest", "trees", 0) and len(path) == 5:
        node = at(DOCS[kind], path[:4])
        return len(node) == 1 or path[4] != 1  # a size, or a split's feature and child
    if kind.startswith("cluster") and path in (("k",), ("dim",)):
        return True
    return False


def is_fact(kind, path):
    """Numbers kept for people: any value may be accepted."""
    base = model_base(path)
    return (base[:1] == ("training",) or path[:1] in (("fit",), ("sizes",))
            or path in (("seed",), ("rows_fit",), ("inertia",), ("silhouette",),
                        ("contamination",), ("shrinkage",), ("threshold",)))


def leaves(v, path=()):
    """(path, value) of every field of an object and of the first two items
    of a list (every item of a short one: a shape, a tree's node), and
    below them."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield path + (k,), x
            yield from leaves(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v if len(v) <= 3 else v[:2]):
            yield path + (i,), x
            yield from leaves(x, path + (i,))


# Lists whose length is fixed by a size or by other lists.
SIZED_LISTS = ("input_shape", "features", "mean", "sd", "weights", "labels", "median", "scale",
               "covariance", "centroids", "centroids_raw", "sizes")


def sized_lists(doc, path=()):
    for k, v in doc.items():
        if isinstance(v, dict) and k in ("scaler", "generator", "model", "embed", "forest"):
            yield from sized_lists(v, path + (k,))
        elif isinstance(v, list) and v and k in SIZED_LISTS:
            yield path + (k,)
        elif k == "trees" and isinstance(v, list):
            yield path + (k,)
            yield path + (k, 0)
            yield path + (k, 0, 0)


def wrong_types(v):
    """Two values of JSON types other than v's."""
    if isinstance(v, bool):
        return [1, "true"]
    if isinstance(v, (int, float)):
        return [str(v), None]
    if isinstance(v, str):
        return [7, None]
    if isinstance(v, list):
        return [{}, "x"]
    if isinstance(v, dict):
        return [[], 7]
    return [7, "x"]  # null


# Fields that may hold other types or be absent and still be a usable file.
LENIENT = {"tool_version", "target", "contamination", "shrinkage", "inertia", "silhouette", "fit",
           "seed", "rows_fit", "training"}


def scaler_paths(kind, doc):
    """(path, role) of the first value of every standardisation."""
    out = []
    for prefix in ((), ("model",), ("embed",)):
        if prefix and prefix[0] not in doc:
            continue
        d = at(doc, prefix)
        if "scaler" in d:
            out += [(prefix + ("scaler", "mean", 0), "mean"), (prefix + ("scaler", "sd", 0), "spread")]
        if "target_scaler" in d:
            out += [(prefix + ("target_scaler", "mean"), "mean"),
                    (prefix + ("target_scaler", "sd"), "spread")]
    if kind.startswith("detector") or kind.startswith("cluster"):
        for key, role in (("median", "mean"), ("scale", "spread"), ("mean", "mean"),
                          ("sd", "spread"), ("covariance", "variance")):
            if isinstance(doc.get(key), list):
                out.append(((key, 0), role))
    return out


def arch_paths(doc):
    out = []
    for prefix in ((), ("model",), ("embed",)):
        if prefix and prefix[0] not in doc:
            continue
        d = at(doc, prefix)
        if "arch" in d:
            out.append(prefix + ("arch",))
        if "generator" in d:
            out.append(prefix + ("generator", "arch"))
    return out


# ---- making the valid files ----

def make(args):
    result = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=600)
    assert result.returncode == 0, (args, result.stderr.decode(errors="replace"))


def make_files():
    rng = random.Random(7)
    table = os.path.join(TMP, "table.csv")
    rows = [["id", "a", "b", "c", "d", "y", "cls", "k3"]]
    for i in range(120):
        a, b, c = rng.gauss(0, 1), rng.gauss(5, 2), rng.gauss(-1, 0.5)
        d = a + rng.gauss(0, 0.3)
        rows.append([f"r{i}", f"{a:.4f}", f"{b:.4f}", f"{c:.4f}", f"{d:.4f}",
                     f"{2 * a - c + rng.gauss(0, 0.1):.4f}", "up" if a + b > 5 else "down",
                     str(i % 3)])
    write_csv(table, rows)
    series = os.path.join(TMP, "series.csv")
    write_csv(series, [["day", "ret"]] + [[str(t), f"{0.01 * math.sin(t / 5) + rng.gauss(0, 0.01):.6f}"]
                                          for t in range(1, 161)])
    windows = os.path.join(TMP, "windows.csv")
    make([TOOL["fin-window"], "-q", "-c", "ret", "-k", "day", "--size", "6", "-o", windows, series])
    FILES["table"], FILES["windows"] = table, windows

    def path(name):
        return os.path.join(TMP, name + ".json")

    feats = ["-c", "a,b,c,d", "-k", "id"]
    # the ids are record names, not times
    train = [TOOL["fin-train"], "-q", "--epochs", "2", "--unsorted"]
    make(train + feats + ["-y", "y", "-o", path("regression"), table])
    # a + b > 5 separates the classes: a penalised fit has an optimum
    make(train + feats + ["-y", "cls", "--model", "logistic", "--l2", "0.01", "-o",
                          path("binary"), table])
    make(train + feats + ["-y", "k3", "--task", "multiclass", "--model", "softmax", "-o",
                          path("multiclass"), table])
    make(train + feats + ["--model", "autoencoder", "--bottleneck", "2", "-o", path("autoencoder"),
                          table])
    make(train + ["-k", "day", "--model", "cnn", "-o", path("cnn"), windows])
    make(train + ["-k", "day", "--model", "lstm", "-o", path("lstm"), windows])
    make(train + ["-k", "day", "-c", "!y", "--model", "gan", "-o", path("gan"), windows])
    fit = [TOOL["fin-anomaly"], "fit", "-q"]
    for method in ("zscore", "mahalanobis", "iforest"):
        make(fit + feats + ["--method", method, "--trees", "5", "--sample", "16", "-o",
                            path("detector_" + method), table])
    make(fit + ["-k", "id", "--method", "autoencoder", "--ae", path("autoencoder"), "-o",
                path("detector_autoencoder"), table])
    make(fit + ["-k", "day", "--method", "gan", "--gan", path("gan"), "-o", path("detector_gan"),
                windows])
    make([TOOL["fin-cluster"], "-q", "--clusters", "2"] + ["-c", "a,b,c,d", "-k", "id"] +
         ["-o", path("cluster"), table])
    make([TOOL["fin-cluster"], "-q", "--clusters", "2", "-k", "id", "--embed", path("autoencoder"),
          "-o", path("cluster_embed"), table])
    for name in ("regression", "binary", "multiclass", "autoencoder", "cnn", "lstm", "gan",
                 "detector_zscore", "detector_mahalanobis", "detector_iforest",
                 "detector_autoencoder", "detector_gan", "cluster", "cluster_embed"):
        FILES[name] = path(name)
        with open(path(name)) as f:
            DOCS[name] = json.load(f)


def setUpModule():
    global TMP, BODY
    TMP = tempfile.mkdtemp(prefix="fin-hostile-test-")
    make_files()
    BODY = os.path.join(TMP, "body")
    with open(BODY, "wb") as f:
        chunk = b"a" * 2**20
        for _ in range(BIG_STRING // len(chunk)):
            f.write(chunk)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


KINDS = ("regression", "binary", "multiclass", "autoencoder", "cnn", "lstm", "gan",
         "detector_zscore", "detector_mahalanobis", "detector_iforest", "detector_autoencoder",
         "detector_gan", "cluster", "cluster_embed")


class HostileCase(unittest.TestCase):
    def write(self, text, name="mutated.json"):
        path = os.path.join(TMP, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def check_resources(self, out):
        if SANITIZED:
            return
        self.assertLess(out.rss_kib, MAX_RSS_KIB, str(out))

    def refused(self, kind, path, what, every_loader=True):
        """Every loader of kind (the first only, unless every_loader) refuses
        the file at path: exit 3, one short line naming the tool, quickly,
        in little memory."""
        for loader in loaders(kind)[:None if every_loader else 1]:
            args = loader(path)
            out = measured(args)
            REFUSALS.append(out)
            name = os.path.basename(args[0])
            with self.subTest(kind=kind, mutation=what, tool=name):
                self.assertFalse(out.hung, f"{what}: {out}")
                self.assertEqual(out.code, EXIT_MODEL, f"{what}: {out}")
                self.assertTrue(out.stderr.startswith(name + ": "), f"{what}: {out}")
                self.assertEqual(out.stderr.count("\n"), 1, f"{what}: not one line: {out}")
                self.assertLess(len(out.stderr), MAX_MESSAGE, f"{what}: {out}")
                self.check_resources(out)
                if not SANITIZED:
                    self.assertLess(out.cpu, MAX_CPU_SECONDS, f"{what}: {out}")

    def survived(self, kind, path, what, expect=(EXIT_OK, EXIT_MODEL), every_loader=False,
                 address_space=None):
        """The loaders of kind end normally with a status in expect, in
        bounded memory (and address space, when given)."""
        for loader in loaders(kind)[:None if every_loader else 1]:
            args = loader(path)
            out = measured(args, address_space)
            with self.subTest(kind=kind, mutation=what, tool=os.path.basename(args[0])):
                self.assertFalse(out.hung, f"{what}: {out}")
                self.assertIsNone(out.signal, f"{what}: {out}")
                self.assertIn(out.code, expect, f"{what}: {out}")
                self.check_resources(out)

    def refused_doc(self, kind, doc, what, every_loader=False):
        self.refused(kind, self.write(dumps(doc)), what, every_loader)


class ValidFilesTest(HostileCase):
    def test_files_load(self):
        """The files as made, and as written again here, load: the mutations
        below change nothing else."""
        for kind in KINDS:
            self.survived(kind, FILES[kind], "as made", expect=(EXIT_OK,), every_loader=True)
            self.survived(kind, self.write(dumps(DOCS[kind])), "as written here",
                          expect=(EXIT_OK,), every_loader=True)


class NotAFileTest(HostileCase):
    def test_fifo_and_directory(self):
        fifo = os.path.join(TMP, "fifo")
        os.mkfifo(fifo)
        try:
            for kind in ("regression", "autoencoder", "gan", "detector_zscore", "cluster"):
                self.refused(kind, fifo, "a FIFO")
                self.refused(kind, TMP, "a directory")
        finally:
            os.unlink(fifo)


class SizesTest(HostileCase):
    def test_huge_sizes(self):
        """2^31, 2^40 and 2^62 in every size field."""
        for kind in KINDS:
            doc = DOCS[kind]
            paths = [p for p, v in leaves(doc) if isinstance(v, int) and not isinstance(v, bool)
                     and is_size(kind, p)]
            for p in paths:
                for n in HUGE:
                    self.refused_doc(kind, replaced(doc, p, n), f"{p} = {n}",
                                     every_loader=n == HUGE[0])

    def test_huge_numbers_in_arch(self):
        for kind in KINDS:
            doc = DOCS[kind]
            for p in arch_paths(doc):
                arch = at(doc, p)
                numbers = list(re.finditer(r"(?<=[(,])\d+(?=[,)])", arch))
                self.assertTrue(numbers, arch)
                for m in numbers:
                    for n in HUGE:
                        text = arch[:m.start()] + str(n) + arch[m.end():]
                        self.refused_doc(kind, replaced(doc, p, text), f"{p} = {text}",
                                         every_loader=n == HUGE[0])

    def test_lists_one_off(self):
        """Lists one shorter and one longer than their sizes say."""
        for kind in KINDS:
            doc = DOCS[kind]
            for p in sized_lists(doc):
                v = at(doc, p)
                extra = f"extra_{len(v)}" if isinstance(v[0], str) else copy.deepcopy(v[-1])
                if p[-1] == "trees" or p[-2:] == ("trees", 0):
                    extra = [1]
                self.refused_doc(kind, replaced(doc, p, v[:-1]), f"{p} one shorter")
                self.refused_doc(kind, replaced(doc, p, v + [extra]), f"{p} one longer")

    def test_names_twice(self):
        """Features are matched to columns by name, each once."""
        for kind in KINDS:
            doc = DOCS[kind]
            for prefix in ((), ("model",), ("embed",)):
                if prefix and prefix[0] not in doc:
                    continue
                names = at(doc, prefix + ("features",))
                self.refused_doc(kind, replaced(doc, prefix + ("features", 1), names[0]),
                                 f"{prefix} features {names[0]!r} twice", every_loader=True)

    def test_facts(self):
        """Numbers that are no size may be refused or kept, never crash."""
        for kind in KINDS:
            doc = DOCS[kind]
            for p, v in leaves(doc):
                if isinstance(v, (int, float)) and not isinstance(v, bool) and is_fact(kind, p):
                    for n in (2**62, -1, 1e308, 0.5):
                        self.survived(kind, self.write(dumps(replaced(doc, p, n))), f"{p} = {n}")


class TypesTest(HostileCase):
    def test_wrong_types(self):
        """Every field of another JSON type: refused, but where the field is
        one a file may lack or hold as null."""
        for kind in KINDS:
            doc = DOCS[kind]
            for p, v in leaves(doc):
                lenient = any(k in LENIENT for k in p if isinstance(k, str))
                for w in wrong_types(v):
                    text = self.write(dumps(replaced(doc, p, w)))
                    what = f"{p} = {json.dumps(w)}"
                    if lenient:
                        self.survived(kind, text, what)
                    else:
                        self.refused(kind, text, what, every_loader=False)

    def test_missing_fields(self):
        for kind in KINDS:
            doc = DOCS[kind]
            for k in doc:
                if k not in LENIENT:
                    self.refused_doc(kind, replaced(doc, (k,), DELETE), f"no {k}")


class SyntaxTest(HostileCase):
    def test_key_twice(self):
        """A key twice, in every object of the file."""
        for kind in KINDS:
            doc = DOCS[kind]
            objects = [()] + [p for p, v in leaves(doc) if isinstance(v, dict) and v]
            for p in objects:
                self.refused(kind, self.write(dumps(doc, dup=p)), f"a key twice in {p}",
                             every_loader=p == ())

    def test_text_after(self):
        for kind in KINDS:
            text = dumps(DOCS[kind])
            for tail in (" x", "{}", "]", "\n\n1", "\0"):
                self.refused(kind, self.write(text + tail), f"followed by {tail!r}",
                             every_loader=tail == "{}")
            self.survived(kind, self.write(text + " \t\r\n"), "followed by blanks",
                          expect=(EXIT_OK,))

    def test_nan_and_extremes_in_scalers(self):
        """NaN, 1e308, -1e308 and 1e-308 in every standardisation: a mean
        of 1e-308 is a mean like any other."""
        for kind in KINDS:
            doc = DOCS[kind]
            for p, role in scaler_paths(kind, doc):
                for literal in ("NaN", "1e308", "-1e308", "1e-308"):
                    marker = "@@VALUE@@"
                    text = dumps(replaced(doc, p, marker)).replace(json.dumps(marker), literal)
                    what = f"{p} = {literal}"
                    if role == "mean" and literal == "1e-308":
                        self.survived(kind, self.write(text), what, expect=(EXIT_OK,))
                    else:
                        self.refused(kind, self.write(text), what, every_loader=False)


class BigStringTest(HostileCase):
    def big(self, doc, path, as_key=False):
        """Writes doc with BIG_STRING bytes at path (as a key of the object
        at path, when as_key) into a file; returns its path."""
        marker = "@@BIG@@"
        if as_key:
            target = copy.deepcopy(doc)
            obj = at(target, path)
            obj[marker] = 1
            text = dumps(target)
        else:
            text = dumps(replaced(doc, path, marker))
        head, tail = text.split(json.dumps(marker))
        out = os.path.join(TMP, "big.json")
        with open(out, "wb") as f, open(BODY, "rb") as body:
            f.write(head.encode() + b'"')
            f.flush()
            left = BIG_STRING
            while left:
                left -= os.sendfile(f.fileno(), body.fileno(), BIG_STRING - left, left)
            f.write(b'"' + tail.encode())
        return out

    def test_500_mb_strings(self):
        """A 500 MB string as a key, a feature name and an architecture."""
        for kind in ("regression", "gan", "detector_iforest", "detector_autoencoder",
                     "cluster_embed"):
            doc = DOCS[kind]
            places = [((), True, "key"), (("features", 0), False, "feature name")]
            places += [(p, False, "arch") for p in arch_paths(doc)]
            for path, as_key, what in places:
                big = self.big(doc, path, as_key)
                try:
                    self.refused(kind, big, f"a 500 MB {what} at {path}")
                finally:
                    os.unlink(big)


class ForestTest(HostileCase):
    def test_large_sample_small_tree(self):
        """A sound forest whose sample is 2^30, its one tree of 3 nodes:
        loaded in memory that follows the nodes, even the memory reserved
        and never touched (bounded by the address space; not under a
        sanitizer, whose shadow memory needs terabytes of it)."""
        doc = copy.deepcopy(DOCS["detector_iforest"])
        half = 2**29
        doc["trees"], doc["sample"] = 1, 2**30
        doc["forest"].update(ntrees=1, sample=2**30, trees=[[[0, 0.5, 1], [half], [half]]])
        self.survived("detector_iforest", self.write(dumps(doc)), "sample 2^30",
                      expect=(EXIT_OK,), address_space=None if SANITIZED else 2**31)


class ScalerBoundsTest(HostileCase):
    def test_training_refuses_unwritable_scaler(self):
        """fin-train never writes a model its readers refuse: a column of
        values near 1e35 is a data error."""
        table = os.path.join(TMP, "huge_values.csv")
        write_csv(table, [["x", "y"]] + [[f"{i}e35", str(i)] for i in range(1, 9)])
        out = measured([TOOL["fin-train"], "-q", "--epochs", "1", "-o",
                        os.path.join(TMP, "never.json"), table])
        self.assertEqual(out.code, 1, str(out))
        self.assertTrue(out.stderr.startswith("fin-train: "), str(out))
        self.assertIn("'x'", out.stderr)

    def test_labels_equal_as_numbers(self):
        """Labels 1 and 1.0 are two labels, each kept once: the model loads."""
        table = os.path.join(TMP, "labels.csv")
        rng = random.Random(3)
        write_csv(table, [["a", "cls"]] + [[f"{rng.gauss(0, 1):.3f}", ("1", "1.0", "2")[i % 3]]
                                           for i in range(60)])
        model = os.path.join(TMP, "labels.json")
        make([TOOL["fin-train"], "-q", "--epochs", "1", "-y", "cls", "--task", "multiclass",
              "--model", "softmax", "-o", model, table])
        with open(model) as f:
            self.assertEqual(sorted(json.load(f)["labels"]), ["1", "1.0", "2"])
        out = measured([TOOL["fin-predict"], "-q", "-m", model, table])
        self.assertEqual(out.code, 0, str(out))


def summary():
    """What the refusals cost at most, on standard error."""
    if REFUSALS:
        print("hostile model files: %d refusals, exit 3 in %d; at most %.0f KiB and %.3f s "
              "of CPU time" % (len(REFUSALS), sum(o.code == EXIT_MODEL for o in REFUSALS),
                               max(o.rss_kib for o in REFUSALS),
                               max(o.cpu for o in REFUSALS)), file=sys.stderr)


if __name__ == "__main__":
    outcome = unittest.main(exit=False).result
    summary()
    sys.exit(0 if outcome.wasSuccessful() else 1)
