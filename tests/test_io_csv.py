"""CSV reading's two paths give the same table: the fast path (Arrow's parser, files with no
quotes) and Python's csv module (every other file, and every problem named by its line).

Each awkward file is read through ``read_table`` as it is and with the fast path turned
off; the frames (cells, dtypes, columns), the lines each row came from and the error
messages must be identical, and the test says which path read the file.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from lacstats import io
from lacstats.errors import DataError

HEADER = "CHILD,DECOM,PLACE\n"

#: Files the fast path reads (quote-free, every row as wide as the header).
FAST = {
    "plain": HEADER + "101,2020-04-14,U4\n102,2020-03-31,S1\n",
    "utf8 byte-order mark": "\ufeff" + HEADER + "101,2020-04-14,U4\n",
    "CRLF": HEADER.replace("\n", "\r\n") + "101,2020-04-14,U4\r\n102,,S1\r\n",
    "no final line ending": HEADER + "101,2020-04-14,U4",
    "blank lines": HEADER + "\n101,2020-04-14,U4\n\n\n102,2020-03-31,S1\n\n",
    "rows of blank cells": HEADER + "101,a,U4\n,,\n  , \t,\n\xa0,\u3000, \n102,b,S1\n",
    "trailing spaces": HEADER + "101 ,2020-04-14  , U4 \n",
    "cells like formulas": HEADER + "=SUM(A1:A9),+44 1234,-2\n@cmd,=1+1,\t=x\n",
    "non-ASCII text": HEADER + "Wrexham\u2019s,café,\u00a0U4\n",
    "header only": HEADER,
    "header only, no line ending": HEADER.rstrip("\n"),
    "one column": "CHILD\n101\n\n 102\n",
    "blank cells": HEADER + "101,,\n,,U4\n",
    "header padded with spaces": " CHILD , DECOM,PLACE \n101,a,b\n",
    "vertical tab and separators": HEADER + "\x0b101,\x1c,\x85\n",
}

#: Files only the csv module reads: the fast path declines them.
SLOW = {
    "quoted comma": HEADER + '101,"2020-04-14",U4\n102,"a, b",S1\n',
    "quoted line ending": HEADER + '101,"line one\nline two",U4\n102,b,S1\n',
    "quoted CRLF": HEADER + '101,"line one\r\nline two",U4\r\n',
    "doubled quote": HEADER + '101,"say ""hi""",U4\n',
    "quote inside a cell": HEADER + '101,ab"c,U4\n',
    "blank first line": "\n" + HEADER + "101,a,b\n",
    "blank cells before the header": ",,\n" + HEADER + "101,a,b\n",
    "trailing blank header cells": "CHILD,DECOM,PLACE,,\n101,a,b,,\n",
    "row with blank extra cells": HEADER + "101,a,b,, \n",
    "lone carriage returns": HEADER.replace("\n", "\r") + "101,a,b\r",
    "two byte-order marks": "\ufeff\ufeff" + HEADER + "101,a,b\n",
}

#: Files that are a problem: both paths raise the same error.
BAD = {
    "ragged row, too many cells": HEADER + "101,a,b\n102,a,b,c\n",
    "ragged row, too few cells": HEADER + "101,a,b\n102,a\n",
    "duplicate header": "CHILD,DECOM,CHILD\n101,a,b\n",
    "blank header cell": "CHILD,,PLACE\n101,a,b\n",
    "unclosed quote": HEADER + '101,"a,b\n',
    "quote after a quoted cell": HEADER + '101,"a"b,c\n',
    "only blank lines": "\n\n \n",
    "field over the csv module's limit": HEADER + "101," + "x" * 131_073 + ",b\n",
    "header cell over the limit, duplicate header": "A,A," + "x" * 131_073 + "\n1,2,3\n",
}


def _write(tmp_path, text: str | bytes, name: str = "table.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def _both(path, monkeypatch, **options):
    """What read_table gives with the fast path and with the csv module alone: (kind,
    value) pairs, value a Sheet or an error message; and whether the fast path read it."""
    taken = []
    fast = io._read_plain_csv

    def spy(*args):
        found = fast(*args)
        taken.append(found is not None)
        return found

    def read():
        try:
            (sheet,) = io.read_table(path, **options)
        except DataError as error:
            return ("error", str(error))
        return ("sheet", sheet)

    with monkeypatch.context() as patch:
        patch.setattr(io, "_read_plain_csv", spy)
        quick = read()
    with monkeypatch.context() as patch:
        patch.setattr(io, "_read_plain_csv", lambda *args: None)
        slow = read()
    return quick, slow, any(taken)


def _same(quick, slow):
    assert quick[0] == slow[0], (quick, slow)
    if quick[0] == "error":
        assert quick[1] == slow[1]
        return
    a, b = quick[1], slow[1]
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert list(a.frame.columns) == list(b.frame.columns)
    assert a.rows == b.rows
    assert (a.label, a.kind, a.sheet) == (b.label, b.kind, b.sheet)


@pytest.mark.parametrize("strings", [False, True])
@pytest.mark.parametrize("name", list(FAST))
def test_fast_path_reads_as_the_csv_module(tmp_path, monkeypatch, name, strings):
    quick, slow, fast = _both(_write(tmp_path, FAST[name]), monkeypatch, strings=strings)
    assert fast, f"{name}: expected the fast path to read it"
    _same(quick, slow)
    frame = quick[1].frame
    assert all(str(frame[c].dtype) == ("str" if strings else "object") for c in frame.columns)


@pytest.mark.parametrize("strings", [False, True])
@pytest.mark.parametrize("name", list(SLOW))
def test_files_with_quotes_and_odd_lines_go_to_the_csv_module(
    tmp_path, monkeypatch, name, strings
):
    quick, slow, fast = _both(_write(tmp_path, SLOW[name]), monkeypatch, strings=strings)
    assert not fast, f"{name}: expected the csv module to read it"
    _same(quick, slow)
    assert quick[0] == "sheet"


@pytest.mark.parametrize("name", list(BAD))
def test_problems_are_named_alike_by_both_paths(tmp_path, monkeypatch, name):
    quick, slow, _ = _both(_write(tmp_path, BAD[name]), monkeypatch)
    _same(quick, slow)
    assert quick[0] == "error"
    assert quick[1].startswith("table.csv")


def test_the_cells_as_written(tmp_path):
    text = FAST["rows of blank cells"] + "=HYPERLINK(1), 7 ,x\n"
    (sheet,) = io.read_table(_write(tmp_path, text))
    assert sheet.frame.to_numpy().tolist() == [
        ["101", "a", "U4"],
        ["102", "b", "S1"],
        ["=HYPERLINK(1)", " 7 ", "x"],
    ]
    assert sheet.rows == (2, 6, 7)


def test_a_ragged_row_is_named_by_its_line(tmp_path):
    text = HEADER + "101,a,b\n\n102,a,b,c\n"
    with pytest.raises(DataError, match=r"^table.csv, line 4: 4 fields, the header has 3"):
        io.read_table(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            HEADER.encode() + "101,café,b\n".encode("latin-1"),
            "table.csv, line 2: not UTF-8 text (byte 0xe9; Latin-1 or Windows-1252?)",
        ),
        (b"\x00" + HEADER.encode(), "table.csv: contains NUL bytes"),
    ],
)
def test_undecodable_files_are_named_alike(tmp_path, monkeypatch, data, message):
    quick, slow, _ = _both(_write(tmp_path, data), monkeypatch)
    _same(quick, slow)
    assert quick[1].startswith(message)


def test_utf16_with_a_byte_order_mark_reads_alike(tmp_path, monkeypatch):
    data = (HEADER + "101,a,b\r\n").encode("utf-16")
    quick, slow, fast = _both(_write(tmp_path, data), monkeypatch)
    assert fast
    _same(quick, slow)
    assert quick[1].frame.to_numpy().tolist() == [["101", "a", "b"]]


def test_random_files_read_alike(tmp_path, monkeypatch):
    """Files made of the characters CSV readers disagree on, seeded: every one the fast
    path reads gives what the csv module gives, and the fast path reads some of them."""
    rng = random.Random(20261207)
    pieces = [",", ",", "\n", "\n", "\r\n", "\r", " ", "\t", "a", "1", "é", "\xa0", "\x0b"]
    pieces += ["\x1c", "\u3000", "\u2028", "\x85", '"', "=", "\ufeff", ""]
    read_fast = 0
    for trial in range(400):
        head = rng.choice(["A,B,C", "A,B", "A", " A , B ,C", "A,A", "A,,B", "A,B,", ""])
        if trial % 2:
            body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        else:
            cells = ["x", "", " ", "1", "\xa0", "=1"]
            body = "\n".join(
                ",".join(rng.choice(cells) for _ in range(rng.choice([1, 2, 3, 3, 3, 4])))
                for _ in range(rng.randint(0, 6))
            )
        path = _write(tmp_path, head + "\n" + body)
        for strings in (False, True):
            quick, slow, fast = _both(path, monkeypatch, strings=strings)
            _same(quick, slow)
            read_fast += fast
    assert read_fast >= 50
