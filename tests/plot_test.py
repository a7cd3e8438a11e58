#!/usr/bin/env python3
"""Command-line tests of fin-plot, checked against fin-plot(1).

Run from the repository root as
`FIN_BIN=build/bin /usr/bin/python3 tests/plot_test.py`.

Each kind is drawn as SVG and the SVG is read back as XML: the lines, dots
and bars PLplot drew must be an affine image of the data the test wrote
(x_svg = a + b x and y_svg = c + d y, fitted by least squares over the
points, no point off by half a unit or more), whatever margins PLplot
chose; the tick labels must sit where that map puts their values, so the
axes say what the data are; the legend must name the columns. The data,
and what each kind computes from them (histogram counts, ROC and
precision-recall points, principal components with numpy), are computed
here from their definitions in fin-plot(1), never taken from fin-plot's
output; the autocorrelations of kind acf are those fin-gen --facts wrote. PNG and PDF pages are
checked by their signatures, their size and their content (the PNG's
pixels decoded with zlib, the PDF's drawing operators), and an SVG is
rendered by rsvg-convert (librsvg2-bin) to count its pixels. The same
command gives the same bytes, in every format.
"""
import datetime
import gzip
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
import zlib

from fincli import BIN_DIR, ROOT, FinCase, run, write_csv

FIN_PLOT = os.path.join(BIN_DIR, "fin-plot")
EXIT_DATA, EXIT_USAGE, EXIT_NO_ROWS = 1, 2, 4

SVG_NS = "{http://www.w3.org/2000/svg}"
# The data colours (matplotlib's cycle), the ink of frame and text, the
# grey of reference lines: fin-plot(1), COLOURS.
COLOURS = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2",
           "#7F7F7F", "#BCBD22", "#17BECF"]
INK, GREY = "#222222", "#707070"

TMP = None


def path(name):
    return os.path.join(TMP.name, name)


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="fin-plot-test-")


def tearDownModule():
    TMP.cleanup()


# ---- reading the SVG ----

def numbers(text):
    return [float(v) for v in re.split(r"[ ,\n]+", text.strip()) if v]


class Svg:
    """The polylines and texts of an SVG of PLplot's svg driver, in its
    drawing coordinates (before the page's flip: y grows upwards)."""

    def __init__(self, data):
        self.root = ET.fromstring(data)
        self.view = numbers(self.root.get("viewBox"))
        self.lines = []
        for p in self.root.iter(SVG_NS + "polyline"):
            v = numbers(p.get("points"))
            self.lines.append({"stroke": p.get("stroke"), "fill": p.get("fill"),
                               "opacity": float(p.get("fill-opacity", "1")),
                               "points": list(zip(v[0::2], v[1::2]))})
        self.texts = []
        for t in self.root.iter(SVG_NS + "text"):
            m = numbers(re.search(r"matrix\(([^)]*)\)", t.get("transform")).group(1))
            self.texts.append({"text": "".join(t.itertext()), "x": m[4], "y": m[5],
                               "anchor": t.get("text-anchor"), "upright": m[1] != 0})

    def strokes(self, colour):
        """Unfilled polylines of a colour, in the order drawn."""
        return [l["points"] for l in self.lines if l["stroke"] == colour and l["fill"] == "none"]

    def fills(self, colour):
        return [l for l in self.lines if l["fill"] == colour]

    def text(self):
        return [t["text"] for t in self.texts]

    def frame(self):
        """The frame: the box around every line of the ink (frame and
        ticks)."""
        pts = [p for line in self.strokes(INK) for p in line]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), max(xs), min(ys), max(ys)


def chains(lines):
    """Polylines joined where one starts at the end of the one before:
    PLplot draws a long line in pieces of at most 256 points, each piece
    starting at the last point of the one before."""
    out = []
    for line in lines:
        if out and out[-1][-1] == line[0]:
            out[-1] = out[-1] + line[1:]
        else:
            out.append(list(line))
    return out


def centre(points):
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def fit(data, drawn):
    """Least squares drawn = a + b data; returns a, b and the largest
    residual."""
    n = len(data)
    mx, my = math.fsum(data) / n, math.fsum(drawn) / n
    sxx = math.fsum((x - mx) ** 2 for x in data)
    b = math.fsum((x - mx) * (y - my) for x, y in zip(data, drawn)) / sxx
    a = my - b * mx
    return a, b, max(abs(a + b * x - y) for x, y in zip(data, drawn))


class Map:
    """The affine map of data to drawing coordinates."""

    def __init__(self, ax, bx, ay, by):
        self.ax, self.bx, self.ay, self.by = ax, bx, ay, by

    def x(self, v):
        return self.ax + self.bx * v

    def y(self, v):
        return self.ay + self.by * v


# ---- PNG and PDF ----

def png_pixels(data):
    """Width, height and rows of (r, g, b) tuples of an 8-bit RGB or RGBA
    PNG, not interlaced."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, ihdr = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and colour in (2, 6) and interlace == 0, ihdr
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for r in range(height):
        at = r * (stride + 1)
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def ink_share(rows):
    """The share of pixels that differ from the top left one (the
    background)."""
    background = rows[0][0]
    inked = sum(1 for row in rows for px in row if px != background)
    return inked / (len(rows) * len(rows[0]))


def pdf_streams(data):
    """The decompressed content of every Flate stream of a PDF."""
    out = []
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            out.append(zlib.decompressobj().decompress(data[m.end():end]))
        except zlib.error:
            pass
    return out


# ---- the cases ----

def random_walk(rng, n, start, step):
    v, out = start, []
    for _ in range(n):
        v += rng.gauss(0, step)
        out.append(v)
    return out


class PlotCase(FinCase):
    def plot(self, *args, stdin=None):
        return self.run_ok(FIN_PLOT, *args, stdin=stdin).stdout

    def svg(self, *args, stdin=None):
        result = run(FIN_PLOT, *args, stdin=stdin)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(result.stderr, b"", "a plot without notes says nothing")
        return Svg(result.stdout)

    def assert_map(self, data, drawn):
        """Fits the map of data points to drawn ones; returns it."""
        self.assertEqual(len(data), len(drawn))
        ax, bx, rx = fit([p[0] for p in data], [p[0] for p in drawn])
        ay, by, ry = fit([p[1] for p in data], [p[1] for p in drawn])
        self.assertLess(rx, 0.5)
        self.assertLess(ry, 0.5)
        self.assertGreater(bx, 0)
        self.assertGreater(by, 0)
        return Map(ax, bx, ay, by)

    def assert_drawn(self, m, data, drawn):
        """data drawn where the map m puts it."""
        self.assertEqual(len(data), len(drawn))
        for (x, y), (u, v) in zip(data, drawn):
            self.assertLess(abs(m.x(x) - u), 0.5)
            self.assertLess(abs(m.y(y) - v), 0.5)

    def assert_ticks(self, svg, m, xvalue=float, yvalue=float, xs=1, ys=1):
        """The tick labels under the frame (x) and left of it (y) sit where
        m puts their values (read by xvalue and yvalue), within a unit;
        at least xs and ys of each."""
        left, right, bottom, top = svg.frame()
        seen_x = seen_y = 0
        for t in svg.texts:
            if t["anchor"] == "middle" and t["y"] < bottom and left - 1 <= t["x"] <= right + 1:
                try:
                    v = xvalue(t["text"])
                except ValueError:
                    continue
                self.assertLess(abs(m.x(v) - t["x"]), 1, t)
                seen_x += 1
            elif t["anchor"] == "end" and t["x"] < left and bottom - 1 <= t["y"] <= top + 1:
                try:
                    v = yvalue(t["text"])
                except ValueError:
                    continue
                self.assertLess(abs(m.y(v) - t["y"]), 1, t)
                seen_y += 1
        self.assertGreaterEqual(seen_x, xs)
        self.assertGreaterEqual(seen_y, ys)

    def assert_inside(self, svg, drawn):
        left, right, bottom, top = svg.frame()
        for x, y in drawn:
            self.assertTrue(left - 0.5 <= x <= right + 0.5 and bottom - 0.5 <= y <= top + 0.5,
                            (x, y, svg.frame()))


def epoch(day):
    return datetime.datetime.strptime(day, "%Y-%m-%d").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class SeriesTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(18)
        cls.n = 600
        cls.a = random_walk(rng, cls.n, 100, 1)
        cls.b = random_walk(rng, cls.n, 90, 2)
        cls.t = [1990 + i / 260 for i in range(cls.n)]
        # b misses row 100, and rows 200 and 202, which leaves row 201 alone
        cls.gaps = {100, 200, 202}
        rows = [["t", "a", "b"]] + [[repr(t), repr(a), "" if i in cls.gaps else repr(b)]
                                    for i, (t, a, b) in enumerate(zip(cls.t, cls.a, cls.b))]
        write_csv(path("series.csv"), rows)

    def test_lines_are_the_data(self):
        result = run(FIN_PLOT, "series", "-k", "t", "-c", "a,b", path("series.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"fin-plot: 3 missing values break their lines\n")
        svg = Svg(result.stdout)
        a = chains(svg.strokes(COLOURS[0]))
        b = chains(svg.strokes(COLOURS[1]))
        # the data, and a sample in the legend
        self.assertEqual([len(c) for c in a], [self.n, 2])
        m = self.assert_map(list(zip(self.t, self.a)), a[0])
        # b: broken at its gaps, row 201 a dot of its own
        self.assertEqual([len(c) for c in b], [100, 99, 397, 2])
        pieces = [range(0, 100), range(101, 200), range(203, self.n)]
        for piece, drawn in zip(pieces, b):
            self.assert_drawn(m, [(self.t[i], self.b[i]) for i in piece], drawn)
        dots = svg.fills(COLOURS[1])
        self.assertEqual(len(dots), 1)
        self.assert_drawn(m, [(self.t[201], self.b[201])], [centre(dots[0]["points"][:8])])
        self.assert_ticks(svg, m, xs=3, ys=3)
        self.assert_inside(svg, a[0] + [p for c in b for p in c])
        texts = svg.text()
        self.assertIn("t", texts)
        self.assertEqual([t for t in texts if t in ("a", "b")], ["a", "b"])

    def test_dates_on_the_axis(self):
        header, rows = ["date", "Close"], []
        with open(os.path.join(ROOT, "data", "msft.csv")) as f:
            next(f)
            for line in f:
                fields = line.strip().split(",")
                rows.append((epoch(fields[0].strip('"')), float(fields[4])))
        svg = self.svg("series", "-k", "date", "-c", "Close", "data/msft.csv")
        line = chains(svg.strokes(COLOURS[0]))
        self.assertEqual([len(c) for c in line], [len(rows), 2])
        m = self.assert_map(rows, line[0])
        # tick labels are dates (YYYY-MM-DD for a span of a year), each
        # where its midnight is
        self.assert_ticks(svg, m, xvalue=epoch, xs=4, ys=3)
        self.assertIn("Close", svg.text())
        self.assertIn("date", svg.text())

    def test_row_number_without_key(self):
        svg = self.svg("series", "-c", "a", path("series.csv"))
        line = chains(svg.strokes(COLOURS[0]))
        m = self.assert_map([(i + 1, v) for i, v in enumerate(self.a)], line[0])
        self.assert_ticks(svg, m, xs=3, ys=3)
        self.assertIn("row", svg.text())

    def test_default_columns_are_the_numeric_ones(self):
        rows = [["day", "name", "x", "y"]] + [[f"2020-01-{d:02d}", "n", d, d * d]
                                              for d in range(1, 11)]
        write_csv(path("mixed.csv"), rows)
        svg = self.svg("series", "-k", "day", path("mixed.csv"))
        x, y = chains(svg.strokes(COLOURS[0])), chains(svg.strokes(COLOURS[1]))
        days = [epoch(f"2020-01-{d:02d}") for d in range(1, 11)]
        m = self.assert_map([(t, d) for t, d in zip(days, range(1, 11))], x[0])
        self.assert_drawn(m, [(t, d * d) for t, d in zip(days, range(1, 11))], y[0])
        self.assertNotIn("name", svg.text())

    def test_key_going_back_is_refused(self):
        write_csv(path("back.csv"), [["t", "a"], [1, 1], [3, 2], [2, 3]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "series", "-k", "t", path("back.csv"))
        self.assertIn("back.csv:4", message)

    def test_title_and_text_escapes(self):
        # PLplot's escape character and bytes that are not UTF-8
        data = b"t,a#b,\xff\xfec\n1,1,2\n2,2,3\n3,3,1\n"
        svg = self.svg("series", "-k", "t", "--title", "#u up", stdin=data)
        texts = svg.text()
        self.assertIn("#u up", texts)
        self.assertIn("a#b", texts)
        self.assertIn("\ufffd\ufffdc", texts)


def running(values, compound):
    """The running total of fin-plot(1), --cumulate: from 0 (or 1), a
    missing value (None) leaving it as it was and staying missing."""
    total, out = (1.0 if compound else 0.0), []
    for v in values:
        if v is None:
            out.append(None)
            continue
        total = total * (1 + v) if compound else total + v
        out.append(total)
    return out


class SeriesTotalsTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(27)
        cls.n = 300
        cls.pnl = [rng.gauss(0.0005, 0.01) for _ in range(cls.n)]
        cls.y = [rng.gauss(0.0003, 0.012) for _ in range(cls.n)]
        # y misses row 150: its line breaks there, its total carries on
        cls.y[150] = None
        cls.t = [1995 + i / 260 for i in range(cls.n)]
        write_csv(path("oos.csv"), [["t", "y", "prediction", "position", "pnl", "fold"]] +
                  [[repr(t), "" if y is None else repr(y), "0", "1", repr(p), "1"]
                   for t, y, p in zip(cls.t, cls.y, cls.pnl)])
        cls.m = 120
        cls.real = [rng.gauss(0, 0.01) for _ in range(200)]
        cls.synthetic = [rng.gauss(0, 0.01) for _ in range(cls.m)]
        write_csv(path("real.csv"), [["day", "ret", "volume"]] +
                  [[f"d{i}", repr(r), "5"] for i, r in enumerate(cls.real)])
        os.makedirs(path("gen"), exist_ok=True)
        write_csv(path("gen/synthetic.csv"), [["t", "ret"]] +
                  [[i + 1, repr(r)] for i, r in enumerate(cls.synthetic)])

    def pieces(self, values):
        """The points of values (None missing) as the unbroken runs drawn."""
        runs, run_ = [], []
        for i, v in enumerate(values):
            if v is None:
                if run_:
                    runs.append(run_)
                run_ = []
            else:
                run_.append((self.t[i], v))
        return runs + ([run_] if run_ else [])

    def test_compound(self):
        result = run(FIN_PLOT, "series", "-k", "t", "-c", "pnl,y", "--cumulate", "compound",
                     path("oos.csv"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"fin-plot: 1 missing values break their lines\n")
        svg = Svg(result.stdout)
        pnl = chains(svg.strokes(COLOURS[0]))
        y = chains(svg.strokes(COLOURS[1]))
        growth = running(self.pnl, True)
        m = self.assert_map(list(zip(self.t, growth)), pnl[0])
        self.assertEqual([len(c) for c in pnl], [self.n, 2])
        runs = self.pieces(running(self.y, True))
        self.assertEqual([len(c) for c in y], [150, 149, 2])
        for want, drawn in zip(runs, y):
            self.assert_drawn(m, want, drawn)
        self.assert_ticks(svg, m, xs=3, ys=3)
        texts = svg.text()
        self.assertIn("growth of 1", texts)
        self.assertEqual([t for t in texts if t in ("pnl", "y")], ["pnl", "y"])

    def test_sum(self):
        svg = self.svg("series", "-k", "t", "-c", "pnl", "--cumulate", "sum", path("oos.csv"))
        line = chains(svg.strokes(COLOURS[0]))
        m = self.assert_map(list(zip(self.t, running(self.pnl, False))), line[0])
        self.assert_ticks(svg, m, xs=3, ys=3)
        self.assertIn("pnl, summed", svg.text())

    def test_files_of_their_own(self):
        args = ("series", "-c", "ret", "--cumulate", "sum", path("real.csv"),
                path("gen/synthetic.csv"))
        svg = self.svg(*args)
        real = chains(svg.strokes(COLOURS[0]))
        synthetic = chains(svg.strokes(COLOURS[1]))
        self.assertEqual([len(c) for c in real], [len(self.real), 2])
        self.assertEqual([len(c) for c in synthetic], [self.m, 2])
        # each over its own row number, on one map
        m = self.assert_map([(i + 1, v) for i, v in enumerate(running(self.real, False))],
                            real[0])
        self.assert_drawn(m, [(i + 1, v) for i, v in enumerate(running(self.synthetic, False))],
                          synthetic[0])
        texts = svg.text()
        self.assertIn("ret, summed", texts)
        self.assertEqual([t for t in texts if ": " in t],
                         ["real.csv: ret", "synthetic.csv: ret"])
        self.assertEqual(self.plot(*args), self.plot(*args))

    def test_files_keep_their_names_when_base_names_clash(self):
        shutil.copy(path("gen/synthetic.csv"), path("synthetic.csv"))
        svg = self.svg("series", "-c", "ret", path("synthetic.csv"), path("gen/synthetic.csv"))
        self.assertEqual([t for t in svg.text() if ": " in t],
                         [path("synthetic.csv") + ": ret", path("gen/synthetic.csv") + ": ret"])

    def test_errors(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-c", "volume",
                                 path("real.csv"), path("gen/synthetic.csv"))
        self.assertIn("synthetic.csv", message)
        self.assertIn("volume", message)
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-k", "day", "-c", "ret",
                                 path("real.csv"), path("gen/synthetic.csv"))
        self.assertIn("synthetic.csv", message)
        self.run_fails(EXIT_USAGE, FIN_PLOT, "hist", "--cumulate", "sum", path("oos.csv"))
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "--cumulate", "product",
                                 path("oos.csv"))
        self.assertIn("product", message)


def write_log(name, lines):
    with open(path(name), "w") as f:
        f.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


class LossTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        cls.epochs = list(range(1, 31))
        cls.train = [2 * 0.9 ** e + 0.5 for e in cls.epochs]
        # lowest at epoch 12, reached again at epoch 20: the first is kept
        cls.val = [1 + (e - 12) ** 2 / 50 for e in cls.epochs]
        cls.val[19] = cls.val[11]
        cls.val[4] = None
        write_log("log.jsonl", [{"epoch": e, "train_loss": t, "val_loss": v,
                                 "seconds": e / 10}
                                for e, t, v in zip(cls.epochs, cls.train, cls.val)])

    def check_losses(self, svg, transform):
        train = chains(svg.strokes(COLOURS[0]))
        val = chains(svg.strokes(COLOURS[1]))
        self.assertEqual([len(c) for c in train], [30, 2])
        m = self.assert_map([(e, transform(t)) for e, t in zip(self.epochs, self.train)],
                            train[0])
        # val_loss is null at epoch 5: two pieces
        self.assertEqual([len(c) for c in val], [4, 25, 2])
        self.assert_drawn(m, [(e, transform(self.val[e - 1])) for e in range(1, 5)], val[0])
        self.assert_drawn(m, [(e, transform(self.val[e - 1])) for e in range(6, 31)], val[1])
        # the kept epoch: a dashed rule across the frame at epoch 12 and a
        # dot on val_loss
        left, right, bottom, top = svg.frame()
        dashes = [d for d in svg.strokes(GREY) if len(d) == 2 and d[0][0] == d[1][0]]
        self.assertGreater(len(dashes), 5)
        for d in dashes:
            self.assertLess(abs(d[0][0] - m.x(12)), 0.5)
        self.assertLess(abs(min(p[1] for d in dashes for p in d) - bottom), 10)
        self.assertLess(abs(max(p[1] for d in dashes for p in d) - top), 10)
        dots = svg.fills(COLOURS[1])
        self.assertEqual(len(dots), 1)
        self.assert_drawn(m, [(12, transform(self.val[11]))], [centre(dots[0]["points"][:8])])
        texts = svg.text()
        for name in ("train_loss", "val_loss", "kept: epoch 12", "epoch", "loss"):
            self.assertIn(name, texts)
        return m

    def test_losses_and_kept_epoch(self):
        svg = self.svg("loss", path("log.jsonl"))
        m = self.check_losses(svg, lambda v: v)
        self.assert_ticks(svg, m, xs=3, ys=3)

    def test_log_scale(self):
        svg = self.svg("loss", "--log-scale", path("log.jsonl"))
        m = self.check_losses(svg, math.log10)
        # numbers at 1, 2 and 5 times powers of ten, or every multiple
        self.assert_ticks(svg, m, yvalue=lambda t: math.log10(float(t)), xs=3, ys=2)

    def test_compressed_on_standard_input(self):
        with open(path("log.jsonl"), "rb") as f:
            data = gzip.compress(f.read())
        svg = self.svg("loss", stdin=data)
        self.check_losses(svg, lambda v: v)

    def test_gan_log(self):
        write_log("gan.jsonl", [{"epoch": e, "loss_d": 1.3 - e / 100, "loss_g": 0.7 + e / 50,
                                 "seconds": e} for e in range(1, 11)])
        result = run(FIN_PLOT, "loss", path("gan.jsonl"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"fin-plot: no val_loss: no kept epoch to mark\n")
        svg = Svg(result.stdout)
        d, g = chains(svg.strokes(COLOURS[0])), chains(svg.strokes(COLOURS[1]))
        m = self.assert_map([(e, 1.3 - e / 100) for e in range(1, 11)], d[0])
        self.assert_drawn(m, [(e, 0.7 + e / 50) for e in range(1, 11)], g[0])
        self.assertEqual(svg.strokes(GREY), [])
        self.assertIn("loss_d", svg.text())
        self.assertIn("loss_g", svg.text())

    def test_bad_logs(self):
        cases = [
            ("[1, 2]", "log:1: not a JSON object"),
            ('{"epoch": 1, "train_loss": 1}\n{"train_loss": 2}', "log:2: no epoch"),
            ('{"epoch": 2, "train_loss": 1}\n{"epoch": 2, "train_loss": 2}',
             "log:2: epoch 2 does not come after epoch 2"),
            ('{"epoch": 1, "train_loss": "x"}', "log:1: field 'train_loss': not a number"),
            ('{"epoch": 1, "a": 1}\n\n{"epoch": 2, "a": 1, "b": 2}',
             "log:3: field 'b' is not in the first line"),
            ('{"epoch": 1, "a": 1', "log:1: not one JSON value"),
            ('{"epoch": 1, "seconds": 1}', "log:1: no loss"),
        ]
        for text, expected in cases:
            with self.subTest(text):
                with open(path("log"), "w") as f:
                    f.write(text + "\n")
                message = self.run_fails(EXIT_DATA, FIN_PLOT, "loss", path("log"))
                self.assertIn(expected, message)
        with open(path("log"), "w") as f:
            f.write('{"epoch": 1, "a": 1}\n{"epoch": 2, "a": 0}\n')
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "loss", "--log-scale", path("log"))
        self.assertIn("log:2: field 'a': 0 is not above 0", message)
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "loss", stdin=b"\n")
        self.run_fails(EXIT_USAGE, FIN_PLOT, "loss", path("log"), path("log"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "loss", "-d", ";", path("log"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "--log-scale", path("log"))


def bin_edges(scores, bins):
    """Bins of equal width from the lowest score to the highest, their
    edges as GSL sets them."""
    lo, hi = min(scores), max(scores)
    return [lo + (i / bins) * (hi - lo) for i in range(bins + 1)]


def bin_counts(scores, edges):
    """The scores counted into the bins, the highest edge in the last."""
    bins = len(edges) - 1
    counts = [0] * bins
    for v in scores:
        i = bins - 1 if v >= edges[-1] else max(k for k in range(bins) if edges[k] <= v)
        counts[i] += 1
    return counts


def boxes(fills):
    """Each filled polygon as (left, right, bottom, top)."""
    out = []
    for f in fills:
        xs, ys = [p[0] for p in f["points"]], [p[1] for p in f["points"]]
        out.append((min(xs), max(xs), min(ys), max(ys)))
    return out


class HistTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(5)
        cls.rows = []
        for i in range(500):
            label = "B" if i % 4 == 0 else "A"
            cls.rows.append([label, rng.gauss(0.45 if label == "A" else 0.55, 0.05)])
        # fin-anomaly's flags: the scores above the 97th percentile
        cut = sorted(s for _, s in cls.rows)[485]
        cls.calm = max(s for _, s in cls.rows if s <= cut)
        cls.flagged = min(s for _, s in cls.rows if s > cut)
        cls.scores = [s for _, s in cls.rows]
        write_csv(path("scores.csv"), [["Class", "score", "anomaly"]] +
                  [[c, repr(s), int(s > cut)] for c, s in cls.rows] + [["A", "NA", 0]])

    def check_bars(self, svg, scores, edges, colour, m=None):
        """The bars of colour are the counts of scores in the bins (those
        of 0 not drawn), where the map m puts them (fitted when None);
        returns the map."""
        counts = bin_counts(scores, edges)
        bars = boxes(svg.fills(colour))
        # then the legend's box
        self.assertEqual(len(bars), sum(1 for c in counts if c) + 1)
        data, drawn = [], []
        for (left, right, bottom, top), i in zip(bars, [i for i, c in enumerate(counts) if c]):
            data += [(edges[i], 0), (edges[i + 1], counts[i])]
            drawn += [(left, bottom), (right, top)]
        if m is None:
            m = self.assert_map(data, drawn)
        self.assert_drawn(m, data, drawn)
        return m

    def rules(self, svg, m, x):
        """The dashes of a vertical ink rule at x."""
        return [d for d in svg.strokes(INK) if len(d) == 2 and d[0][0] == d[1][0]
                and abs(d[0][0] - m.x(x)) < 0.5]

    def test_split_by_label_with_the_flags_threshold(self):
        result = run(FIN_PLOT, "hist", "--label", "Class", "--bins", "20", path("scores.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr,
                         b"fin-plot: 1 rows without a score or a label left out\n")
        svg = Svg(result.stdout)
        # both labels on the bins of all the scores, translucent
        edges = bin_edges(self.scores, 20)
        m = None
        for label, colour in (("A", COLOURS[0]), ("B", COLOURS[1])):
            m = self.check_bars(svg, [s for c, s in self.rows if c == label], edges, colour, m)
            self.assertTrue(all(f["opacity"] == 0.45 for f in svg.fills(colour)))
        threshold = (self.calm + self.flagged) / 2
        self.assertGreater(len(self.rules(svg, m, threshold)), 5)
        self.assert_ticks(svg, m, xs=3, ys=3)
        texts = svg.text()
        for text in ("Class = A", "Class = B", "threshold %.6g" % threshold, "score", "rows"):
            self.assertIn(text, texts)

    def test_given_threshold(self):
        result = run(FIN_PLOT, "hist", "--threshold", "0.6", "--bins", "12", "-q",
                     path("scores.csv"))
        self.assertEqual((result.returncode, result.stderr), (0, b""))
        svg = Svg(result.stdout)
        m = self.check_bars(svg, self.scores, bin_edges(self.scores, 12), COLOURS[0])
        self.assertGreater(len(self.rules(svg, m, 0.6)), 5)
        self.assertIn("threshold 0.6", svg.text())
        self.assertTrue(all(f["opacity"] == 1 for f in svg.fills(COLOURS[0])))

    def test_without_flags(self):
        write_csv(path("bare.csv"), [["s"]] + [[repr(s)] for s in self.scores])
        svg = self.svg("hist", "--score", "s", path("bare.csv"))
        self.check_bars(svg, self.scores, bin_edges(self.scores, 30), COLOURS[0])
        self.assertFalse(any(t.startswith("threshold") for t in svg.text()))
        # no upright ink inside the frame but the ticks at its edges
        left, right, bottom, top = svg.frame()
        self.assertFalse(any(d[0][0] == d[1][0] and left + 1 < d[0][0] < right - 1 and
                             bottom + 15 < d[0][1] < top - 15 for d in svg.strokes(INK)))

    def test_bad_flags(self):
        write_csv(path("flags.csv"), [["score", "anomaly"], [0.1, 0], [0.2, 2]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "hist", path("flags.csv"))
        self.assertIn("flags.csv:3: column 'anomaly': not a flag (0 or 1): '2'", message)
        write_csv(path("flags.csv"), [["score", "anomaly"], [0.1, 0], [0.2, 1], [0.3, 0]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "hist", path("flags.csv"))
        self.assertIn("column 'anomaly' flags a score of 0.2 and leaves one of 0.3", message)
        write_csv(path("flags.csv"), [["score"], [0.1], ["x"]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "hist", path("flags.csv"))
        self.assertIn("flags.csv:3: column 'score': not a number: 'x'", message)
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "hist", stdin=b"score\nNA\n")
        self.run_fails(EXIT_USAGE, FIN_PLOT, "hist", "--score", "nope", path("flags.csv"))


class BarsTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(3)
        cls.rows = [[f"feature_{i}", round(rng.uniform(-0.01, 0.05), 6),
                     round(rng.uniform(0, 0.01), 6)] for i in range(12)]
        cls.rows[4][1] = cls.rows[7][1]  # a tie: input order decides
        cls.rows[9][2] = ""              # no error bar
        write_csv(path("importance.csv"), [["feature", "importance", "sd"]] + cls.rows +
                  [["feature_x", "", 0.1]])

    def sorted_rows(self, top=None):
        order = sorted(range(len(self.rows)), key=lambda i: (-self.rows[i][1], i))
        return [self.rows[i] for i in order[:top]]

    def check_bars(self, svg, rows, errors=True):
        n = len(rows)
        bars = boxes(svg.fills(COLOURS[0]))
        self.assertEqual(len(bars), n + 1)  # and the legend's box
        data, drawn = [], []
        for k, (_, v, _) in enumerate(rows):
            data += [(min(0, v), n - k - 0.35), (max(0, v), n - k + 0.35)]
            drawn += [(bars[k][0], bars[k][2]), (bars[k][1], bars[k][3])]
        m = self.assert_map(data, drawn)
        # the names, where their bars are
        names = [t for t in svg.texts if t["text"].startswith("feature_")]
        self.assertEqual([t["text"] for t in names], [r[0] for r in reversed(rows)])
        for t in names:
            k = [r[0] for r in rows].index(t["text"])
            self.assertLess(abs(t["y"] - m.y(n - k)), 1)
        # error bars: value - sd to value + sd, at the bar's height
        lines = [d for d in svg.strokes(INK) if len(d) == 2 and d[0][1] == d[1][1]]
        for k, (_, v, sd) in enumerate(rows):
            found = [d for d in lines if abs(d[0][1] - m.y(n - k)) < 0.5]
            if sd == "" or not errors:
                self.assertEqual(found, [])
                continue
            self.assertEqual(len(found), 1, rows[k])
            self.assert_drawn(m, [(v - sd, n - k), (v + sd, n - k)], found[0])
        self.assert_ticks(svg, m, xs=3, ys=0)
        return m

    def test_sorted_with_error_bars(self):
        result = run(FIN_PLOT, "bars", path("importance.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"fin-plot: 1 rows without a name or a value left out\n")
        svg = Svg(result.stdout)
        self.check_bars(svg, self.sorted_rows())
        self.assertIn("importance", svg.text())
        self.assertIn("\u00b1 sd", svg.text())
        # negative values: a rule at 0
        self.assertTrue(any(d[0][0] == d[1][0] for d in svg.strokes(GREY)))

    def test_top(self):
        svg = self.svg("bars", "--top", "5", "-q", path("importance.csv"))
        self.check_bars(svg, self.sorted_rows(5))

    def test_columns_named(self):
        write_csv(path("named.csv"), [["name", "gain", "spread"]] + self.rows[:6])
        rows = sorted(self.rows[:6], key=lambda r: -r[1])
        svg = self.svg("bars", "-c", "name,gain", path("named.csv"))
        self.check_bars(svg, rows, errors=False)
        svg = self.svg("bars", "-c", "name,gain", "--error", "spread", path("named.csv"))
        self.check_bars(svg, rows)
        self.assertIn("\u00b1 spread", svg.text())

    def test_errors(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "bars", "-c", "feature",
                                 path("importance.csv"))
        self.assertIn("expected two columns", message)
        write_csv(path("neg.csv"), [["feature", "importance", "sd"], ["a", 1, 0.1],
                                    ["b", 2, -0.1]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "bars", path("neg.csv"))
        self.assertIn("neg.csv:3: column 'sd': -0.1 is below 0", message)
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "bars", stdin=b"feature,importance\n")
        self.run_fails(EXIT_USAGE, FIN_PLOT, "bars", stdin=b"name,importance\na,1\n")


def score_groups(scores, labels):
    """Groups of equal scores from the highest: (rows, positives) of each."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    groups, i = [], 0
    while i < len(order):
        j = i
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            j += 1
        groups.append((j - i, sum(labels[order[k]] for k in range(i, j))))
        i = j
    return groups


def roc_points(scores, labels):
    """(0, 0), then the false and true positive rates after each group."""
    pos = sum(labels)
    neg = len(labels) - pos
    points, tp, fp = [(0.0, 0.0)], 0, 0
    for rows, hits in score_groups(scores, labels):
        tp, fp = tp + hits, fp + rows - hits
        points.append((fp / neg, tp / pos))
    return points


def roc_auc(scores, labels):
    """The chance that a positive scores above a negative, ties one half."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def pr_points(scores, labels):
    """The staircase: precision P_k over the recall group k gains."""
    pos, points, tp, seen = sum(labels), [], 0, 0
    for rows, hits in score_groups(scores, labels):
        before = tp
        tp, seen = tp + hits, seen + rows
        points.append((before / pos, tp / seen))
        if hits:
            points.append((tp / pos, tp / seen))
    return points


def average_precision(scores, labels):
    pos, ap, tp, seen = sum(labels), 0.0, 0, 0
    for rows, hits in score_groups(scores, labels):
        tp, seen = tp + hits, seen + rows
        ap += hits / pos * tp / seen
    return ap


class CurveTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(11)
        cls.labels, cls.good, cls.weak = [], [], []
        for i in range(300):
            y = int(rng.random() < 0.3)
            cls.labels.append(y)
            # two decimals: ties, which the curves take as steps
            cls.good.append(round(min(max(rng.gauss(0.35 + 0.3 * y, 0.15), 0), 1), 2))
            cls.weak.append(rng.random() * 0.5 + 0.2 * y)
        rows = [["Class", "good", "weak"]] + [["yes" if y else "no", g, repr(w)]
                                             for y, g, w in zip(cls.labels, cls.good, cls.weak)]
        rows[10][2] = "NA"  # left out of weak's curve
        rows.append(["", 0.5, 0.5])  # no actual: left out
        write_csv(path("curves.csv"), rows)
        keep = [i for i in range(300) if i != 9]
        cls.weak_scores = [cls.weak[i] for i in keep]
        cls.weak_labels = [cls.labels[i] for i in keep]

    def curves(self, kind):
        result = run(FIN_PLOT, kind, "--actual", "Class", "--positive", "yes", "--score",
                     "good", "--score", "weak", path("curves.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr.decode().splitlines(), [
            "fin-plot: 1 rows without an actual label ('Class') left out",
            "fin-plot: 1 rows without a score in 'weak' left out of its curve"])
        return Svg(result.stdout)

    def check(self, svg, points, name):
        """Both curves, each on its points; returns the map."""
        good = chains(svg.strokes(COLOURS[0]))
        weak = chains(svg.strokes(COLOURS[1]))
        a, b = points(self.good, self.labels), points(self.weak_scores, self.weak_labels)
        self.assertEqual([len(c) for c in good], [len(a), 2])
        self.assertEqual([len(c) for c in weak], [len(b), 2])
        m = self.assert_map(a, good[0])
        self.assert_drawn(m, b, weak[0])
        self.assert_inside(svg, good[0] + weak[0])
        self.assert_ticks(svg, m, xs=5, ys=5)
        self.assertIn(name[0], svg.text())
        self.assertIn(name[1], svg.text())
        return m

    def chance(self, svg, m):
        """The chance line's dashes, drawn before the curves (the legend's
        come after), in data units."""
        first = next(i for i, l in enumerate(svg.lines) if l["stroke"] == COLOURS[0])
        dashes = [p for l in svg.lines[:first] if l["stroke"] == GREY and l["fill"] == "none"
                  for p in l["points"]]
        self.assertGreater(len(dashes), 20)
        return [((x - m.ax) / m.bx, (y - m.ay) / m.by) for x, y in dashes]

    def test_roc(self):
        svg = self.curves("roc")
        m = self.check(svg, roc_points, ("false positive rate", "true positive rate"))
        auc = (roc_auc(self.good, self.labels), roc_auc(self.weak_scores, self.weak_labels))
        texts = svg.text()
        self.assertIn("good (AUC %.3f)" % auc[0], texts)
        self.assertIn("weak (AUC %.3f)" % auc[1], texts)
        self.assertIn("chance (AUC 0.500)", texts)
        # the diagonal, from corner to corner
        chance = self.chance(svg, m)
        for x, y in chance:
            self.assertLess(abs(m.y(x) - m.y(y)), 0.5)
        self.assertLess(min(x for x, _ in chance), 0.01)
        self.assertGreater(max(x for x, _ in chance), 0.99)

    def test_pr(self):
        svg = self.curves("pr")
        m = self.check(svg, pr_points, ("recall", "precision"))
        ap = (average_precision(self.good, self.labels),
              average_precision(self.weak_scores, self.weak_labels))
        prevalence = sum(self.labels) / len(self.labels)
        texts = svg.text()
        self.assertIn("good (AP %.3f)" % ap[0], texts)
        self.assertIn("weak (AP %.3f)" % ap[1], texts)
        self.assertIn("chance (AP %.3f)" % prevalence, texts)
        # the prevalence, across
        for _, y in self.chance(svg, m):
            self.assertLess(abs(m.y(y) - m.y(prevalence)), 0.5)

    def test_defaults(self):
        # fin-eval's: the actual in y, the positive 1, the score p_1
        write_csv(path("p1.csv"), [["y", "p_1"]] + [[y, g] for y, g in zip(self.labels,
                                                                         self.good)])
        svg = self.svg("roc", path("p1.csv"))
        line = chains(svg.strokes(COLOURS[0]))
        self.assert_map(roc_points(self.good, self.labels), line[0])
        self.assertIn("p_1 (AUC %.3f)" % roc_auc(self.good, self.labels), svg.text())

    def test_classes_needed(self):
        write_csv(path("one.csv"), [["y", "p_1"], [1, 0.2], [1, 0.4]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "roc", path("one.csv"))
        self.assertIn("every one of its 2 rows has y '1'", message)
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "pr", "--positive", "0", "--score",
                                 "p_1", path("one.csv"))
        self.assertIn("none of its 2 rows has y '0'", message)
        # precision-recall needs positives only: precision 1 all along
        svg = self.svg("pr", path("one.csv"))
        line = chains(svg.strokes(COLOURS[0]))[0]
        self.assertEqual(len(line), 4)
        self.assertEqual(len({y for _, y in line}), 1)
        self.run_fails(EXIT_USAGE, FIN_PLOT, "roc", "--actual", "nope", path("one.csv"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "roc", "--score", "y", path("one.csv"))
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "pr", stdin=b"y,p_1\n1,0.5\n0,high\n")
        self.assertIn("<stdin>:3: column 'p_1': not a number: 'high'", message)


def dots(svg, colour, opacity=1.0):
    """The centres of the dots (filled octagons) of a colour, in the order
    drawn."""
    return [centre(line["points"][:8]) for line in svg.fills(colour)
            if len(line["points"]) == 9 and abs(line["opacity"] - opacity) < 1e-6]


def principal_components(rows, standardise=True):
    """The scores of rows on their first two principal components, and the
    shares of the variance of each, by fin-plot(1): the columns centred
    (and divided by their sample sd), numpy.linalg.eigh of the covariance,
    each component's first loading of largest magnitude positive."""
    import numpy as np
    x = np.array(rows, dtype=float)
    z = x - x.mean(axis=0)
    if standardise:
        z /= x.std(axis=0, ddof=1)
    variance, vectors = np.linalg.eigh(z.T @ z / (len(x) - 1))
    order = np.argsort(-variance)
    variance, vectors = variance[order], vectors[:, order]
    for k in range(vectors.shape[1]):
        v = vectors[:, k]
        if v[np.flatnonzero(np.abs(v) >= (1 - 1e-9) * np.abs(v).max())[0]] < 0:
            vectors[:, k] = -v
    scores = z @ vectors[:, :2]
    return [tuple(r) for r in scores.tolist()], (variance[:2] / variance.sum()).tolist()


class ScatterTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(1818)
        cls.n = 300
        # three clusters named by numbers that sort otherwise as text
        cls.centres = {"10": (0, 0), "9": (5, 1), "2": (1, 6)}
        rows, cls.points, cls.labels = [["id", "x", "y", "cluster", "name"]], [], []
        for i in range(cls.n):
            label = rng.choice(["10", "9", "2"])
            cx, cy = cls.centres[label]
            x, y = cx + rng.gauss(0, 1), cy + rng.gauss(0, 1)
            rows.append([i, repr(x), repr(y), label, rng.choice(["beta", "alpha", "Gamma"])])
            cls.points.append((x, y))
            cls.labels.append(label)
        cls.names = [r[4] for r in rows[1:]]
        write_csv(path("scatter.csv"), rows)

    def test_points_are_the_rows(self):
        svg = self.svg("scatter", "-c", "x,y", path("scatter.csv"))
        drawn = dots(svg, COLOURS[0])
        self.assertEqual(len(drawn), self.n)
        m = self.assert_map(self.points, drawn)
        self.assert_ticks(svg, m, xs=3, ys=3)
        self.assert_inside(svg, drawn)
        texts = svg.text()
        self.assertIn("x", texts)
        self.assertIn("y", texts)
        # no colour column, no legend
        self.assertEqual(svg.fills("#FFFFFF"), [])

    def test_a_colour_for_each_value(self):
        svg = self.svg("scatter", "-c", "x,y", "--color", "cluster", path("scatter.csv"))
        # numbers in numeric order: 2, 9, 10
        order = ["2", "9", "10"]
        data, drawn = [], []
        for k, label in enumerate(order):
            mine = [p for p, l in zip(self.points, self.labels) if l == label]
            got = dots(svg, COLOURS[k])
            self.assertEqual(len(got), len(mine), label)
            data += mine
            drawn += got
        self.assertEqual(len(drawn), self.n)
        m = self.assert_map(data, drawn)
        self.assert_ticks(svg, m, xs=3, ys=3)
        self.assertEqual([t for t in svg.text() if t.startswith("cluster = ")],
                         [f"cluster = {label}" for label in order])

    def test_text_values_sort_by_their_bytes(self):
        svg = self.svg("scatter", "-c", "x,y", "--color", "name", path("scatter.csv"))
        order = ["Gamma", "alpha", "beta"]
        for k, label in enumerate(order):
            self.assertEqual(len(dots(svg, COLOURS[k])), self.names.count(label))
        self.assertEqual([t for t in svg.text() if t.startswith("name = ")],
                         [f"name = {label}" for label in order])

    def test_more_values_than_colours_turn_pale(self):
        rows = [["x", "y", "g"]] + [[i, i % 7, f"g{i % 12:02d}"] for i in range(60)]
        write_csv(path("twelve.csv"), rows)
        svg = self.svg("scatter", "-c", "x,y", "--color", "g", path("twelve.csv"))
        for k in range(12):
            colour, opacity = COLOURS[k % 10], 1.0 if k < 10 else 0.45
            mine = [(i, i % 7) for i in range(60) if i % 12 == k]
            got = dots(svg, colour, opacity)
            self.assertEqual(len(got), len(mine), k)
        self.assertEqual(len([t for t in svg.text() if t.startswith("g = g")]), 12)

    def test_legend_where_no_dots(self):
        # dots along the rising diagonal leave the top left corner free
        rows = [["x", "y", "g"]] + [[i, i + (i % 3), "ab"[i % 2]] for i in range(100)]
        write_csv(path("diagonal.csv"), rows)
        svg = self.svg("scatter", "-c", "x,y", "--color", "g", path("diagonal.csv"))
        box = [p for line in svg.fills("#FFFFFF") for p in line["points"]]
        left, right = min(p[0] for p in box), max(p[0] for p in box)
        bottom, top = min(p[1] for p in box), max(p[1] for p in box)
        frame = svg.frame()
        self.assertLess(left - frame[0], (frame[1] - frame[0]) / 10)
        self.assertLess(frame[3] - top, (frame[3] - frame[2]) / 10)
        drawn = dots(svg, COLOURS[0]) + dots(svg, COLOURS[1])
        self.assertEqual(len(drawn), 100)
        self.assertFalse([p for p in drawn if left <= p[0] <= right and bottom <= p[1] <= top])

    def test_too_many_values(self):
        rows = [["x", "y", "g"]] + [[i, i, i] for i in range(30)]
        write_csv(path("many.csv"), rows)
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "scatter", "-c", "x,y", "--color", "g",
                                 path("many.csv"))
        # the 21st distinct value, on line 22
        self.assertIn("many.csv:22: --color column 'g': value '20'", message)

    def test_missing_values_are_left_out(self):
        rows = [["x", "y", "g"], [1, 2, "a"], ["", 3, "a"], [2, 5, ""], [3, "NA", "b"],
                [4, 1, "b"], [5, 7, "a"]]
        write_csv(path("gaps.csv"), rows)
        result = run(FIN_PLOT, "scatter", "-c", "x,y", "--color", "g", path("gaps.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"fin-plot: rows not drawn, a value missing: 3\n")
        svg = Svg(result.stdout)
        a, b = dots(svg, COLOURS[0]), dots(svg, COLOURS[1])
        self.assertEqual((len(a), len(b)), (2, 1))
        self.assert_map([(1, 2), (5, 7), (4, 1)], a + b)

    def test_pca_is_numpy_s(self):
        rng = random.Random(5)
        rows, features = [["a", "b", "c", "d", "k"]], []
        for i in range(120):
            u, v, w = rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)
            f = [10 * u + 2 * v, 0.1 * u - 0.05 * w, 3 * v + w + 50, rng.gauss(0, 4)]
            rows.append([repr(x) for x in f] + [i % 3])
            features.append(f)
        write_csv(path("features.csv"), rows)
        for standardise in (True, False):
            with self.subTest(standardise=standardise):
                args = ["scatter", "--pca", "-c", "a,b,c,d", "--color", "k", path("features.csv")]
                if not standardise:
                    args.insert(1, "--no-scale")
                svg = self.svg(*args)
                scores, share = principal_components(features, standardise)
                data, drawn = [], []
                for k in range(3):
                    data += [s for i, s in enumerate(scores) if i % 3 == k]
                    drawn += dots(svg, COLOURS[k])
                # the signs too: the map must not mirror an axis
                m = self.assert_map(data, drawn)
                self.assert_ticks(svg, m, xs=3, ys=3)
                texts = svg.text()
                self.assertIn(f"PC1 ({100 * share[0]:.1f}% of variance)", texts)
                self.assertIn(f"PC2 ({100 * share[1]:.1f}% of variance)", texts)

    def test_pca_of_two_columns_by_hand(self):
        # (1,1) (2,3) (3,2) (4,4): correlation 0.8, components (1,1)/sqrt2
        # and (1,-1)/sqrt2 with 90% and 10% of the variance; scores, in
        # units of sd sqrt2 = sqrt(10/3): PC1 -3 0 0 3, PC2 0 -1 1 0
        write_csv(path("four.csv"), [["u", "v"], [1, 1], [2, 3], [3, 2], [4, 4]])
        svg = self.svg("scatter", "--pca", "-c", "u,v", path("four.csv"))
        unit = math.sqrt(10 / 3)
        want = [(-3 / unit, 0), (0, -1 / unit), (0, 1 / unit), (3 / unit, 0)]
        self.assert_map(want, dots(svg, COLOURS[0]))
        self.assertIn("PC1 (90.0% of variance)", svg.text())
        self.assertIn("PC2 (10.0% of variance)", svg.text())

    def test_refusals(self):
        self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", path("scatter.csv"))
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "-c", "x", path("scatter.csv"))
        self.assertIn("give two", message)
        self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "-c", "x,y,id", path("scatter.csv"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "--pca", "-c", "x", path("scatter.csv"))
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "-c", "x,nope",
                                 path("scatter.csv"))
        self.assertIn("'nope'", message)
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "-c", "x,y", "--color",
                                 "nope", path("scatter.csv"))
        self.assertIn("'nope'", message)
        self.run_fails(EXIT_USAGE, FIN_PLOT, "scatter", "-c", "x,y", "--no-scale",
                       path("scatter.csv"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "--color", "x", path("scatter.csv"))
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "scatter", "-c", "x,name",
                                 path("scatter.csv"))
        self.assertIn("scatter.csv:2: column 'name': not a number:", message)
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "scatter", "-c", "x,y", stdin=b"x,y\n")
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "scatter", "-c", "x,y", stdin=b"x,y\n1,\n")
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "scatter", "--pca", "-c", "x,y",
                                 stdin=b"x,y\n1,2\n")
        self.assertIn("two or more", message)
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "scatter", "--pca", "-c", "x,y",
                                 stdin=b"x,y\n1,2\n1,2\n")
        self.assertIn("do not vary", message)


def garch(rng, n):
    """Returns with volatility clustering: their absolute values are
    autocorrelated."""
    v, out = 1e-4, []
    for _ in range(n):
        r = math.sqrt(v) * rng.gauss(0, 1)
        out.append(r)
        v = 2e-6 + 0.1 * r * r + 0.88 * v
    return out


class AcfTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(33)
        cls.n_real, cls.n_synthetic = 3000, 800
        write_csv(path("real.csv"), [["ret"]] + [[repr(r)] for r in garch(rng, cls.n_real)])
        write_csv(path("synthetic.csv"),
                  [["ret"]] + [[repr(rng.gauss(0, 0.01))] for _ in range(cls.n_synthetic)])
        facts = run(os.path.join(BIN_DIR, "fin-gen"), "--facts", "--format", "csv",
                    path("real.csv"), path("synthetic.csv"))
        assert facts.returncode == 0, facts.stderr
        with open(path("facts.csv"), "wb") as f:
            f.write(facts.stdout)
        lines = facts.stdout.decode().splitlines()
        cls.header = lines[0].split(",")
        cls.facts = {line.split(",")[0]: line.split(",")[1:] for line in lines[1:]}

    def values(self, name, column, lags):
        return [(k, float(self.facts[f"{name}_{k}"][column])) for k in range(1, lags + 1)]

    def assert_rule(self, svg, m, value):
        """Grey strokes across the frame at the height of value."""
        left, right, _, _ = svg.frame()
        at = [p for line in svg.strokes(GREY) for p in line if abs(p[1] - m.y(value)) < 0.5]
        self.assertTrue(at, value)
        self.assertLess(min(p[0] for p in at), left + 1)
        self.assertGreater(max(p[0] for p in at), right - 1)

    def test_values_are_the_facts(self):
        svg = self.svg("acf", path("facts.csv"))
        data, drawn = [], []
        for j in range(2):
            got = dots(svg, COLOURS[j])
            # the returns' 5 lags, then the absolute returns' 20
            self.assertEqual(len(got), 25)
            data += self.values("acf", j, 5) + self.values("acf_abs", j, 20)
            drawn += got
        m = self.assert_map(data, drawn)
        self.assert_ticks(svg, m, xs=3, ys=3)
        # lines through the dots: returns solid, one line each
        for j in range(2):
            solid = chains([l for l in svg.strokes(COLOURS[j]) if len(l) > 2])
            self.assertEqual(len(solid), 1)
            self.assert_drawn(m, self.values("acf", j, 5), solid[0])
        # the band of the real series, from its length, and zero
        band = 1.96 / math.sqrt(self.n_real)
        for value in (band, -band, 0):
            self.assert_rule(svg, m, value)
        texts = svg.text()
        real, synthetic = self.header[1], self.header[2]
        self.assertEqual([t for t in texts if t.endswith(": r") or t.endswith(": |r|")],
                         [f"{real}: r", f"{real}: |r|", f"{synthetic}: r", f"{synthetic}: |r|"])
        self.assertIn(f"\u00b11.96/\u221an, n = {self.n_real}", texts)
        self.assertIn("lag", texts)
        self.assertIn("autocorrelation", texts)

    def test_chosen_series(self):
        svg = self.svg("acf", "-c", self.header[2], path("facts.csv"))
        m = self.assert_map(self.values("acf", 1, 5) + self.values("acf_abs", 1, 20),
                            dots(svg, COLOURS[0]))
        self.assertEqual(dots(svg, COLOURS[1]), [])
        # the band is the first series' own
        self.assert_rule(svg, m, 1.96 / math.sqrt(self.n_synthetic))

    def test_gaps_and_no_band(self):
        # a missing value, a lag not given, other facts passed over, no n
        rows = [["fact", "a"], ["mean", "0.1"], ["acf_1", "0.5"], ["acf_2", ""],
                ["acf_3", "0.25"], ["acf_abs_1", "0.3"], ["acf_abs_3", "0.2"],
                ["acf_band", "0.1"]]
        write_csv(path("gaps-facts.csv"), rows)
        result = run(FIN_PLOT, "acf", path("gaps-facts.csv"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"fin-plot: no value of n for 'a': no white-noise band\n")
        svg = Svg(result.stdout)
        # each value between gaps is a dot of its line, then the dot of
        # its lag is drawn over it
        returns, absolute = [(1, 0.5), (3, 0.25)], [(1, 0.3), (3, 0.2)]
        self.assert_map(returns * 2 + absolute * 2, dots(svg, COLOURS[0]))
        self.assertNotIn("n = ", " ".join(svg.text()))

    def test_refusals(self):
        table = run(os.path.join(BIN_DIR, "fin-gen"), "--facts", path("real.csv")).stdout
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "acf", stdin=table)
        self.assertIn("--format csv", message)
        write_csv(path("bad-facts.csv"), [["fact", "a"], ["n", "10"], ["acf_1", "x"]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "acf", path("bad-facts.csv"))
        self.assertIn("bad-facts.csv:3: column 'a': not a number: 'x'", message)
        write_csv(path("twice-facts.csv"), [["fact", "a"], ["acf_1", "0.1"], ["acf_1", "0.2"]])
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "acf", path("twice-facts.csv"))
        self.assertIn("twice-facts.csv:3: fact 'acf_1' given twice", message)
        write_csv(path("no-acf.csv"), [["fact", "a"], ["n", "10"], ["mean", "0.1"]])
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "acf", path("no-acf.csv"))
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "acf", stdin=b"fact,a\n")
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "acf", "-c", "nope", path("facts.csv"))
        self.assertIn("'nope'", message)
        self.run_fails(EXIT_USAGE, FIN_PLOT, "acf", "-c", "fact", path("facts.csv"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "acf", "-k", "fact", path("facts.csv"))
        self.run_fails(EXIT_USAGE, FIN_PLOT, "acf", "--pca", path("facts.csv"))


class KindFormatTest(PlotCase):
    """PNG and PDF of each kind, and the same bytes from the same command."""

    @classmethod
    def setUpClass(cls):
        rng = random.Random(9)
        write_csv(path("kinds.csv"), [["a", "b", "c", "g"]] + [
            [repr(rng.gauss(0, 1)), repr(rng.gauss(0, 2)), repr(rng.gauss(1, 1)), i % 4]
            for i in range(200)])
        write_csv(path("kinds-real.csv"), [["ret"]] + [[repr(r)] for r in garch(rng, 500)])
        facts = run(os.path.join(BIN_DIR, "fin-gen"), "--facts", "--format", "csv",
                    path("kinds-real.csv"))
        with open(path("kinds-facts.csv"), "wb") as f:
            f.write(facts.stdout)

    KINDS = {
        "scatter": ["scatter", "-c", "a,b", "--color", "g"],
        "pca": ["scatter", "--pca", "-c", "1-3", "--color", "g"],
        "acf": ["acf"],
    }

    def args(self, kind):
        return self.KINDS[kind] + [path("kinds-facts.csv" if kind == "acf" else "kinds.csv")]

    def test_png_and_pdf(self):
        for kind in self.KINDS:
            with self.subTest(kind):
                out = path(f"{kind}.png")
                self.plot(*self.args(kind), "--width", "640", "--height", "400", "-o", out)
                with open(out, "rb") as f:
                    width, height, rows = png_pixels(f.read())
                self.assertEqual((width, height), (640, 400))
                self.assertGreater(ink_share(rows), 0.01)
                # the first data colour is there
                self.assertTrue(any(px == (0x1f, 0x77, 0xb4) for row in rows for px in row))
                out = path(f"{kind}.pdf")
                self.plot(*self.args(kind), "-o", out)
                with open(out, "rb") as f:
                    data = f.read()
                self.assertTrue(data.startswith(b"%PDF-"))
                self.assertTrue(data.rstrip().endswith(b"%%EOF"))
                self.assertIn(b"/MediaBox [ 0 0 800 500 ]", data)
                self.assertIn(b"0.121569 0.466667 0.705882 rg", max(pdf_streams(data), key=len))

    def test_same_input_same_bytes(self):
        for kind in self.KINDS:
            for fmt in ("svg", "png", "pdf"):
                with self.subTest(kind=kind, fmt=fmt):
                    first, second = path(f"first-{kind}.{fmt}"), path(f"second-{kind}.{fmt}")
                    self.plot(*self.args(kind), "-o", first)
                    if fmt == "pdf":
                        time.sleep(1.1)
                    self.plot(*self.args(kind), "-o", second)
                    with open(first, "rb") as f, open(second, "rb") as g:
                        self.assertEqual(f.read(), g.read())


class FormatTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(7)
        cls.y = random_walk(rng, 300, 0, 1)
        write_csv(path("walk.csv"), [["t", "y"]] + [[i, repr(v)] for i, v in enumerate(cls.y)])

    def test_png(self):
        out = path("walk.png")
        self.plot("series", "-k", "t", "--width", "640", "--height", "360", "-o", out,
                  path("walk.csv"))
        with open(out, "rb") as f:
            data = f.read()
        width, height, rows = png_pixels(data)
        self.assertEqual((width, height), (640, 360))
        self.assertEqual(rows[0][0], (255, 255, 255))
        share = ink_share(rows)
        self.assertGreater(share, 0.01)
        self.assertLess(share, 0.5)
        # the line's blue is there
        self.assertTrue(any(px == (0x1f, 0x77, 0xb4) for row in rows for px in row))

    def test_png_on_standard_output(self):
        data = self.plot("series", "-k", "t", "--format", "png", path("walk.csv"))
        self.assertEqual(png_pixels(data)[:2], (800, 500))

    def test_pdf(self):
        out = path("walk.pdf")
        self.plot("series", "-k", "t", "--width", "600", "--height", "400", "-o", out,
                  path("walk.csv"))
        with open(out, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"%PDF-"))
        self.assertTrue(data.rstrip().endswith(b"%%EOF"))
        self.assertIn(b"/MediaBox [ 0 0 600 400 ]", data)
        # the page strokes the line in its blue, through every point
        content = max(pdf_streams(data), key=len)
        self.assertIn(b"0.121569 0.466667 0.705882 RG", content)
        line_to = re.findall(rb"[-\d.]+ [-\d.]+ l\b", content)
        self.assertGreaterEqual(len(line_to), len(self.y) - 1)

    def test_svg_renders(self):
        if not shutil.which("rsvg-convert"):
            self.skipTest("no rsvg-convert (librsvg2-bin)")
        data = self.plot("series", "-k", "t", path("walk.csv"))
        png = subprocess.run(["rsvg-convert", "--width", "800"], input=data,
                             capture_output=True, check=True).stdout
        width, height, rows = png_pixels(png)
        self.assertEqual((width, height), (800, 500))
        self.assertGreater(ink_share(rows), 0.01)

    def test_every_kind_same_bytes(self):
        """Each kind twice, as SVG and as PNG, half a second apart."""
        write_log("twice.jsonl", [{"epoch": e, "train_loss": 1 / e, "val_loss": 2 / e}
                                  for e in range(1, 20)])
        write_csv(path("twice.csv"), [["t", "y", "p_1", "feature", "importance"]] +
                  [[i, int(i % 3 == 0), math.sin(i) / 2 + 0.5, f"f{i}", math.cos(i)]
                   for i in range(60)])
        cases = [["series", "-k", "t", "-c", "p_1"], ["loss", path("twice.jsonl")],
                 ["hist", "--score", "p_1", "--label", "y"], ["bars"], ["roc"], ["pr"]]
        for args in cases:
            if args[0] != "loss":
                args = args + [path("twice.csv")]
            for fmt in ("svg", "png"):
                with self.subTest(args[0], format=fmt):
                    first = self.plot(*args, "--format", fmt, "-q")
                    time.sleep(0.5)
                    self.assertEqual(self.plot(*args, "--format", fmt, "-q"), first)

    def test_same_input_same_bytes(self):
        for fmt in ("svg", "png", "pdf"):
            with self.subTest(fmt):
                first = path("first." + fmt)
                second = path("second." + fmt)
                self.plot("series", "-k", "t", "-o", first, path("walk.csv"))
                # a PDF carries a date: a second later, it must not change
                if fmt == "pdf":
                    time.sleep(1.1)
                self.plot("series", "-k", "t", "-o", second, path("walk.csv"))
                with open(first, "rb") as f, open(second, "rb") as g:
                    self.assertEqual(f.read(), g.read())


class ErrorTest(PlotCase):
    @classmethod
    def setUpClass(cls):
        write_csv(path("small.csv"), [["t", "a"], [1, 2], [2, 3]])
        write_csv(path("bad.csv"), [["t", "a"], [1, 2], [2, "x"]])

    def test_unknown_kind(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "pie", path("small.csv"))
        self.assertIn("'pie'", message)

    def test_no_kind(self):
        self.run_fails(EXIT_USAGE, FIN_PLOT, "-k", "t", path("small.csv"))

    def test_bad_extension(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-o", path("plot.jpg"),
                                 path("small.csv"))
        self.assertIn(".svg", message)
        self.assertFalse(os.path.exists(path("plot.jpg")))

    def test_format_against_extension(self):
        self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "--format", "png", "-o",
                       path("plot.svg"), path("small.csv"))

    def test_missing_column(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-c", "nope", path("small.csv"))
        self.assertIn("'nope'", message)

    def test_not_a_number(self):
        message = self.run_fails(EXIT_DATA, FIN_PLOT, "series", "-k", "t", path("bad.csv"))
        self.assertIn("bad.csv:3: column 'a': not a number: 'x'", message)

    def test_empty_input(self):
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "series", stdin=b"")
        self.run_fails(EXIT_NO_ROWS, FIN_PLOT, "series", stdin=b"t,a\n")

    def test_option_of_another_kind(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-k", "t", "--width", "50",
                                 path("small.csv"))
        self.assertIn("--width", message)

    def test_each_kind_takes_its_own_options(self):
        """-d and --na-values go with every kind that reads CSV, -n with all
        but acf, and a kind refuses the options of the others."""
        write_csv(path("semi.csv"), [["fact;a"], ["n;3"], ["acf_1;0.1"], ["acf_abs_1;0.2"]])
        self.svg("acf", "-d", ";", "--na-values", "-", "-q", path("semi.csv"))
        self.svg("scatter", "-n", "-c", "1,2", "--na-values", "-", "-q", stdin=b"1,2\n2,-\n3,5\n")
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "-k", "t", "-k", "a",
                                 path("small.csv"))
        self.assertIn("-k names one column", message)
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "acf", "-n", path("semi.csv"))
        self.assertIn("-n does not go with acf", message)
        for args in (["scatter", "--bins", "5", "-c", "t,a"], ["hist", "--pca"],
                     ["roc", "--color", "a"], ["bars", "-k", "t"], ["acf", "--top", "3"],
                     ["series", "--no-scale"], ["scatter", "--no-scale", "-c", "t,a"]):
            with self.subTest(args):
                self.run_fails(EXIT_USAGE, FIN_PLOT, *args, path("small.csv"))

    def test_output_is_not_an_input(self):
        message = self.run_fails(EXIT_USAGE, FIN_PLOT, "series", "--format", "svg", "-o",
                                 path("small.csv"), path("small.csv"))
        self.assertIn("it is also an input", message)


if __name__ == "__main__":
    if not os.access(FIN_PLOT, os.X_OK):
        raise SystemExit(f"plot_test.py: no executable {FIN_PLOT} (set FIN_BIN or run make)")
    unittest.main()
