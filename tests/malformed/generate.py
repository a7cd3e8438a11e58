#!/usr/bin/python3
"""Write the large malformed-input cases for fin-window into a directory.

Usage: generate.py DIR

These inputs are megabytes each, or need bytes placed at exact offsets, so
they are built at test time instead of being committed. Everything is
deterministic: the same DIR contents on every run and every machine, so a
line number stated in cases.txt stays right. The line numbers follow from
the construction below; each function says where its error sits.

Files written (names as used in cases.txt):
  wide_row.csv          2-column header, a 10,000-field row on line 3
  wide_header.csv       10,000-column header and 4 matching rows (valid)
  long_value.csv        5 MiB of letters in the value column on line 3
  long_digits.csv       5 MiB of digits in the value column on line 3
  long_key.csv          5 MiB key on line 3, valid otherwise
  long_key.expected     the exact output fin-window must write for it
  junk.bin              64 KiB of pseudo-random bytes, NULs included
  junk_after_header.csv a valid header followed by the same kind of junk
  crlf_boundary.csv     a CRLF split across the first 64 KiB read
  cr_boundary.csv       a lone CR as the last byte of the first 64 KiB read
"""
import hashlib
import os
import sys

LONG = 5 * 1024 * 1024
WIDE = 10_000
READ_BLOCK = 64 * 1024


def pseudo_random_bytes(seed, size):
    """size bytes of SHA-256 in counter mode. Unlike the random module,
    whose byte streams may change between Python versions, this is fixed
    for good."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(b"%s:%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:size])


def wide_row():
    # Line 1 header, line 2 a good row, line 3 the ragged row, line 4 good.
    fields = b",".join(b"%d" % i for i in range(WIDE))
    return b"date,close\nd1,1\n" + fields + b"\nd3,3\n"


def wide_header():
    # Columns c1..c10000. c1 is a key ("r1".."r4"); cell (row i, column j)
    # holds i*100000 + j, so picking a neighbour of c5000 by mistake shows.
    header = b",".join(b"c%d" % j for j in range(1, WIDE + 1))
    rows = []
    for i in range(1, 5):
        cells = [b"r%d" % i] + [b"%d" % (i * 100000 + j) for j in range(2, WIDE + 1)]
        rows.append(b",".join(cells))
    return header + b"\n" + b"\n".join(rows) + b"\n"


def long_value(fill):
    # The 5 MiB field is the value of line 3, far longer than one read, so
    # the row crosses many read boundaries.
    return b"date,close\nd1,1\nd2," + fill * LONG + b"\nd3,3\n"


def long_key():
    # Lines: header, d1 1, <key> 2, d3 3. With --size 2 the only window
    # ends at the row of the long key (rows 1-2, target from row 3), so the
    # output is that key untouched, then 1,2 and the target 3.
    key = (b"abcdefghijklmnopqrstuvwxyz" * (LONG // 26 + 1))[:LONG]
    data = b"date,close\nd1,1\n" + key + b",2\nd3,3\n"
    expected = b"date,close_1,close_0,y\n" + key + b",1,2,3\n"
    return data, expected


def junk():
    data = pseudo_random_bytes(b"fin-malformed-junk", 64 * 1024)
    assert b"\0" in data
    return data


def junk_after_header():
    return b"date,close\n" + pseudo_random_bytes(b"fin-malformed-junk-2", 64 * 1024)


def boundary(line_end):
    # Line 1 is the header, line 2 a padding row sized so that its line end
    # starts on the last byte of the first 64 KiB block (the size reads
    # come in), lines 3 and 4 are short rows and line 4 holds 'x'. A line
    # end split between two reads must be counted once: the error is on
    # line 4 exactly.
    header = b"date,close" + line_end
    pad_key = b"p" * (READ_BLOCK - 1 - len(header) - len(b",1"))
    data = header + pad_key + b",1" + line_end + b"d2,2" + line_end + b"d3,x" + line_end
    assert data[READ_BLOCK - 1:READ_BLOCK] == b"\r"
    return data


def generate(outdir):
    """Writes every generated case into outdir."""
    files = {
        "wide_row.csv": wide_row(),
        "wide_header.csv": wide_header(),
        "long_value.csv": long_value(b"x"),
        "long_digits.csv": long_value(b"7"),
        "junk.bin": junk(),
        "junk_after_header.csv": junk_after_header(),
        "crlf_boundary.csv": boundary(b"\r\n"),
        "cr_boundary.csv": boundary(b"\r"),
    }
    files["long_key.csv"], files["long_key.expected"] = long_key()
    for name, data in files.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    generate(sys.argv[1])
