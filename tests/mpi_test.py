#!/usr/bin/env python3
"""fin-train as the ranks of an MPI job (fin-train(1), MPI): the same
program under `mpirun -n P`, each rank training on its part of every batch
and the gradients summed over the ranks.

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/mpi_test.py`; needs Open MPI's
mpirun (Debian's openmpi-bin). Every job runs with --oversubscribe (this
machine may have fewer cores than ranks), --allow-run-as-root when root,
Open MPI's shared-memory transport only, and a timeout, so that a rank left
waiting fails the test instead of hanging it.

Expected values come from one process with the same options: P ranks with
the same global batch and seed run the same steps on the same rows; only
the order in which each batch's gradient is summed differs (by rank, then
by row within a rank, where one process sums by row). That is float32
rounding of the gradient, about 1e-7 of it, carried through the optimizer's
steps; as for --threads (tests/train_cli_test.py, ThreadsTest), the losses
of the weights kept agree to 1e-3 after a few epochs, and the weights to
1e-4 of the largest (measured: 2e-8 after 3 epochs of the cnn preset).
"""
import json
import math
import os
import shutil
import subprocess
import tempfile
import unittest

from fincli import BIN_DIR, ROOT, rel_close

FIN_WINDOW = os.path.join(BIN_DIR, "fin-window")
FIN_TRAIN = os.path.join(BIN_DIR, "fin-train")
EUSTOCK = os.path.join(ROOT, "data", "eustockmarkets.csv")
MPIRUN = shutil.which("mpirun")
OPENMPI_LEAKS = os.path.join(ROOT, "tests", "lsan_openmpi.supp")
TIMEOUT = 300
EXIT_USAGE = 2

LOSS_RTOL = 1e-3     # the kept weights' losses, one process against P ranks
WEIGHT_RTOL = 1e-4   # the weights, against the largest of them

TMP = None
FILES = {}


def mpirun_options():
    argv = [MPIRUN, "--oversubscribe", "--mca", "btl", "self,vader"]
    if os.geteuid() == 0:
        argv.append("--allow-run-as-root")
    return argv


def mpirun_argv(ranks):
    return mpirun_options() + ["-n", str(ranks)]


def fifo_writer(path):
    """Makes the FIFO path and a process that holds it open for writing,
    writing nothing, until killed: every rank's open of it returns whenever
    it comes (a writer that wrote and closed could leave a later rank's
    open waiting for ever)."""
    os.mkfifo(path)
    return subprocess.Popen(["sh", "-c", 'exec 3>"$1"; exec sleep 600', "sh", path])


def shard_job(argv, dirs):
    """argv as a job of one rank in each of dirs (mpirun's --wdir, a program
    block a rank): each rank sees by relative names the files of its own
    directory only, as ranks on machines of their own would."""
    blocks = []
    for d in dirs:
        blocks += ([":"] if blocks else []) + ["-n", "1", "--wdir", d] + argv
    return subprocess.run(mpirun_options() + blocks, capture_output=True, timeout=TIMEOUT,
                          env=job_env())


def split_shards(path, parts, where, stem):
    """Cuts the CSV file path into parts files of consecutive rows, each
    with the header, the last gzip-compressed, each in a directory of its
    own under where; returns the directories and the files' names."""
    import gzip
    with open(path, encoding="utf-8") as f:
        header, *rows = f.read().splitlines(keepends=True)
    dirs, names = [], []
    for i in range(parts):
        d = os.path.join(where, f"{stem}-{i}")
        os.makedirs(d, exist_ok=True)
        name = f"{stem}{i}.csv" + (".gz" if i == parts - 1 else "")
        text = header + "".join(rows[len(rows) * i // parts:len(rows) * (i + 1) // parts])
        with (gzip.open if name.endswith(".gz") else open)(os.path.join(d, name), "wt",
                                                             encoding="utf-8") as f:
            f.write(text)
        dirs.append(d)
        names.append(name)
    return dirs, names


def job_env():
    env = dict(os.environ)
    # One BLAS thread a rank; no single-copy kernel help, which containers
    # often forbid.
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    # In a sanitizer build, leaks are looked for in the jobs too: Open MPI
    # leaves its own at exit, which tests/lsan_openmpi.supp names by its
    # libraries, found in the full stacks of the slow unwinder (the fast
    # one stops in components Open MPI has unloaded). The suppressions used
    # are not listed, as some tests compare standard error with one
    # process's.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                 "fast_unwind_on_malloc=0"]))
    env["LSAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("LSAN_OPTIONS"),
                                                 "print_suppressions=0",
                                                 "suppressions=" + OPENMPI_LEAKS]))
    return env


def run(argv, ranks=None, stdin=None):
    if ranks:
        argv = mpirun_argv(ranks) + argv
    return subprocess.run(argv, stdin=stdin, capture_output=True, timeout=TIMEOUT, env=job_env())


def loaded_libraries(case, argv):
    """What glibc's loader lists as it loads argv's libraries, run by
    itself (no mpirun), which must succeed."""
    env = dict(job_env(), LD_DEBUG="files")
    result = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, env=env)
    case.assertEqual(result.returncode, 0)
    loaded = result.stderr.decode(errors="replace")
    case.assertIn("libopenblas", loaded)  # the listing is there
    return loaded


def job_message(case, argv, code, ranks, stdin=None):
    """Runs argv as a job of ranks ranks that must fail with status code,
    and returns its message: one line naming the program (mpirun adds its
    own lines), printed once whichever ranks met the error, and nothing on
    standard output."""
    tool = os.path.basename(argv[0])
    result = run(argv, ranks, stdin=stdin)
    case.assertEqual(result.returncode, code, result.stderr.decode(errors="replace"))
    case.assertEqual(result.stdout, b"")
    lines = [line for line in result.stderr.decode(errors="replace").splitlines()
             if line.startswith(tool)]
    case.assertEqual(len(lines), 1, lines)
    return lines[0]


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-mpi-test-")
    for size in (20, 30):
        path = os.path.join(TMP.name, f"w{size}.csv")
        result = run([FIN_WINDOW, "-q", "-c", "DAX", "-k", "t", "--size", str(size),
                      "--transform", "logret", "-o", path, EUSTOCK])
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        FILES[f"w{size}.csv"] = path


def tearDownModule():
    TMP.cleanup()


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class TrainTest(unittest.TestCase):
    def train(self, ranks, name, *args):
        """The model file of fin-train with args, on ranks ranks (None: one
        process without mpirun)."""
        path = os.path.join(TMP.name, name)
        result = run([FIN_TRAIN, "-q", "-k", "t", "-s", "3", *args, "-o", path], ranks)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def check_as_one(self, one, many, what):
        for key in ("train_loss", "val_loss"):
            self.assertTrue(rel_close(many["training"][key], one["training"][key], LOSS_RTOL),
                            f"{what}: {key} {many['training'][key]!r}, one process "
                            f"{one['training'][key]!r}")
        a, b = one["weights"], many["weights"]
        self.assertEqual(len(a), len(b))
        largest = max(abs(v) for v in a)
        gap = max(abs(u - v) for u, v in zip(a, b))
        self.assertLessEqual(gap, WEIGHT_RTOL * largest, f"{what}: weights {gap:.3g} apart")
        self.assertEqual(one["arch"], many["arch"])
        self.assertEqual(many["training"]["epochs_run"], one["training"]["epochs_run"])

    def test_ranks_train_as_one_process(self):
        w = FILES["w30.csv"]
        one = self.train(None, "one.json", "--model", "cnn", "--epochs", "3", w)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                many = self.train(ranks, f"cnn{ranks}.json", "--model", "cnn", "--epochs", "3", w)
                self.check_as_one(one, many, f"cnn on {ranks} ranks")

    def test_every_network(self):
        w = FILES["w20.csv"]
        for name, args in (("mlp", ["--model", "mlp"]), ("gru", ["--model", "gru"]),
                           ("lstm", ["--arch", "lstm(8,seq) gru(8) dense(1)"]),
                           ("transformer", ["--model", "transformer"]),
                           ("patchtst", ["--model", "patchtst"]),
                           ("batch of 5", ["--model", "cnn", "--batch", "5"]),
                           # Both hidden layers' gradients formed from the
                           # ranks' rows, parts of 1 or 2 rows, parameter
                           # parts across layers (fin-train(1), MPI).
                           ("dense by rows", ["--arch", "dense(32,relu) dense(16,relu) dense(1)",
                                              "--batch", "4"]),
                           ("clipped", ["--model", "cnn", "--clip", "1"])):
            with self.subTest(name=name):
                one = self.train(None, f"{name}-1.json", *args, "--epochs", "2", w)
                many = self.train(3, f"{name}-3.json", *args, "--epochs", "2", w)
                self.check_as_one(one, many, f"{name} on 3 ranks")

    def test_shards(self):
        """--shard: each rank reads the files of its share alone, from a
        directory no other rank sees, and the ranks train one process's
        model on all the files in order."""
        dirs, names = split_shards(FILES["w30.csv"], 3, TMP.name, "train")
        model = ["--model", "cnn", "--epochs", "2"]
        args = ["-q", "-k", "t", "-s", "3", *model]
        one = self.train(None, "shards-1.json", *model,
                         *[os.path.join(d, n) for d, n in zip(dirs, names)])
        out = os.path.join(TMP.name, "shards-3.json")
        result = shard_job([FIN_TRAIN, *args, "--shard", "-o", out, *names], dirs)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        with open(out, encoding="utf-8") as f:
            self.check_as_one(one, json.load(f), "cnn on 3 shards")
        # Without --shard every rank reads every file, which it cannot see.
        result = shard_job([FIN_TRAIN, *args, "-o", out + ".no", *names], dirs)
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn(b"No such file or directory", result.stderr)

    def test_shard_missing(self):
        """A file missing on its rank's machine: that rank names it, once,
        and every rank stops with a usage error; nothing is written."""
        dirs, names = split_shards(FILES["w20.csv"], 2, TMP.name, "gone")
        os.remove(os.path.join(dirs[1], names[1]))
        out = os.path.join(TMP.name, "gone.json")
        result = shard_job([FIN_TRAIN, "-q", "-k", "t", "--model", "mlp", "--shard", "-o", out,
                            *names], dirs)
        self.assertEqual(result.returncode, EXIT_USAGE, result.stderr.decode(errors="replace"))
        lines = [line for line in result.stderr.decode(errors="replace").splitlines()
                 if line.startswith("fin-train")]
        self.assertEqual(lines, [f"fin-train: {names[1]}: No such file or directory"])
        self.assertFalse(os.path.exists(out))

    def test_shard_too_few_files(self):
        message = job_message(self, [FIN_TRAIN, "-q", "-k", "t", "--model", "mlp", "--shard",
                                     "-o", os.path.join(TMP.name, "few.json"), FILES["w20.csv"],
                                     FILES["w30.csv"]], EXIT_USAGE, 3)
        self.assertIn("--shard: 2 input files for 3 ranks", message)

    def test_shard_one_process(self):
        """Without mpirun --shard changes nothing: the same model file."""
        a = self.train(None, "plain.json", "--model", "mlp", "--epochs", "2", FILES["w20.csv"])
        b = self.train(None, "shard.json", "--model", "mlp", "--epochs", "2", "--shard",
                       FILES["w20.csv"])
        self.assertEqual(a, b)

    def test_private_training(self):
        # DP-SGD: every rank draws the same Poisson batches and the same
        # noise, and clips the rows of its part; the clipped sums are added
        # before the noise, as one process adds them.
        w = FILES["w20.csv"]
        args = ["--model", "mlp", "--epochs", "3", "--dp-clip", "1", "--dp-noise", "1", w]
        one = self.train(None, "dp-1.json", *args)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                self.check_as_one(one, self.train(ranks, f"dp-{ranks}.json", *args),
                                  f"DP-SGD on {ranks} ranks")

    def test_gan(self):
        # The GAN's two networks share each batch the same way. Adam moves
        # a weight whose gradient is near zero by about its learning rate in
        # the direction of the gradient's sign, which rounding can flip: the
        # weights may part by 1e-3 where the losses agree to a fraction of
        # a percent (measured: 0.06% after 5 epochs on 3 ranks).
        args = ["--task", "gan", "--epochs", "3", FILES["w20.csv"]]
        one = self.train(None, "gan-1.json", *args)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                many = self.train(ranks, f"gan-{ranks}.json", *args)
                for key in ("loss_g", "loss_d"):
                    self.assertTrue(rel_close(many["training"][key], one["training"][key], 0.01),
                                    f"{key}: {many['training'][key]!r} on {ranks} ranks, "
                                    f"{one['training'][key]!r} in one process")
                self.assertEqual(len(many["weights"]), len(one["weights"]))

    def test_same_file_every_run(self):
        w = FILES["w20.csv"]
        first = self.train(2, "again-a.json", "--model", "cnn", "--epochs", "2", w)
        second = self.train(2, "again-b.json", "--model", "cnn", "--epochs", "2", w)
        self.assertEqual(first, second)

    def test_dropout_trains(self):
        # Each rank draws its own dropout masks: the same training in
        # distribution, not in bits; it runs and its model predicts.
        model = self.train(2, "dropout.json", "--model", "cnn", "--dropout", "0.3", "--epochs",
                           "2", FILES["w20.csv"])
        self.assertTrue(math.isfinite(model["training"]["val_loss"]))

    def test_rank_zero_alone_speaks_and_writes(self):
        # Without -o, the model goes to standard output once, and the
        # progress lines are written once.
        result = run([FIN_TRAIN, "-k", "t", "--model", "mlp", "--epochs", "2",
                      FILES["w20.csv"]], 3)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        model = json.loads(result.stdout)
        self.assertEqual(model["format"], "fin-model")
        stderr = result.stderr.decode()
        self.assertEqual(stderr.count("epoch 1/2"), 1, stderr)
        self.assertEqual(stderr.count("kept the weights"), 1, stderr)


class WithoutMpirunTest(unittest.TestCase):
    def test_open_mpi_not_loaded(self):
        # Run by itself, fin-train neither links nor loads libmpi (it is
        # opened only under mpirun): glibc's loader lists what it loads.
        self.assertNotIn("libmpi", loaded_libraries(self, [
            FIN_TRAIN, "-q", "-k", "t", "--model", "mlp", "--epochs", "1", FILES["w20.csv"]]))


@unittest.skipUnless(MPIRUN, "Open MPI's mpirun is not installed (Debian: openmpi-bin)")
class RefusalTest(unittest.TestCase):
    def fails(self, code, *args, stdin=None, ranks=3):
        return job_message(self, [FIN_TRAIN, "-k", "t", *args], code, ranks, stdin)

    def test_standard_input(self):
        with open(FILES["w20.csv"], "rb") as f:
            message = self.fails(EXIT_USAGE, "--model", "cnn", stdin=f)
        self.assertIn("standard input reaches rank 0 only", message)

    def test_one_process_options(self):
        w = FILES["w20.csv"]
        for args, named in ((["--model", "cnn", "--threads", "2"], "--threads"),
                            (["--model", "linear"], "exact fit")):
            with self.subTest(args=args):
                self.assertIn(named, self.fails(EXIT_USAGE, *args, w))

    def test_other_programs_refused(self):
        # A program that does not run as ranks would do the whole job on
        # each: refused, by the first rank alone, pointing to fin(7).
        for tool, args in (("fin-predict", ["-m", "no.json", FILES["w20.csv"]]),
                           ("fin-window", ["-c", "DAX", "--size", "5", EUSTOCK])):
            with self.subTest(tool=tool):
                result = run([os.path.join(BIN_DIR, tool), *args], 2)
                self.assertEqual(result.returncode, EXIT_USAGE)
                lines = [line for line in result.stderr.decode(errors="replace").splitlines()
                         if line.startswith(tool)]
                self.assertEqual(len(lines), 1, lines)
                self.assertIn("fin(7)", lines[0])
                self.assertEqual(result.stdout, b"")

    def test_bad_option_reported_once(self):
        result = run([FIN_TRAIN, "--no-such-option", FILES["w20.csv"]], 3)
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertEqual(result.stderr.decode(errors="replace").count("--no-such-option"), 1)

    def test_rank_zero_cannot_write(self):
        # Only rank 0 opens the output: the others learn of its failure
        # before training, and every rank stops.
        message = self.fails(EXIT_USAGE, "--model", "cnn", "-o",
                             os.path.join(TMP.name, "no", "such", "dir", "m.json"),
                             FILES["w20.csv"])
        self.assertIn("m.json", message)


if __name__ == "__main__":
    unittest.main()
