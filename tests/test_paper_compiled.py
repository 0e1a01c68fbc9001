"""The compiled paper, checked like code: what a referee reads, not only its source.

Both templates are compiled from one ``--fast`` run of the seed study (conftest's
``seed_fast_run``) and read back two ways: ``typst query`` for the document's elements
(figures, tables, references, and every number the paper shows, which ``lib.typ``'s
``shown`` records beside its value) and the PDF's text and layout (Debian's poppler-utils,
skipped without them). Every table and figure has a number, a caption and a reference in
the text; no "inf", "nan", ``<NA>`` or raw key name reaches the page; one value is shown
one way wherever it appears; no count of children from 1 to 4 is shown; no figure stands
between the lines of a paragraph.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typst

from lacstats import paper

#: a whole ``--fast`` run of the seed study (conftest's, shared with test_reproduce)
pytestmark = pytest.mark.slow

TEMPLATES = {"paper": paper.SEED, "study": paper.STUDY}
#: Each template on the seed run, and the methods paper on a copy without the national
#: analysis (which a run may leave out): every section must read without it.
CASES = ["paper", "study", "paper without national"]


@pytest.fixture(scope="module", params=CASES)
def compiled(request, seed_fast_run, tmp_path_factory):
    """(case, PDF, query function) for each case on the seed run."""
    results, _ = seed_fast_run
    template = request.param.split()[0]
    if request.param.endswith("without national"):
        copy = tmp_path_factory.mktemp("without") / "results"
        shutil.copytree(results, copy, ignore=shutil.ignore_patterns("national"))
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["analyses"].pop("national", None)
        (copy / "manifest.json").write_text(json.dumps(manifest))
        results = copy
    typ = paper.source(TEMPLATES[template])
    name = request.param.replace(" ", "-")
    pdf = paper.build(results, tmp_path_factory.mktemp("paper") / f"{name}.pdf", typ=typ)
    root, inputs = paper.typst_inputs(results, typ)

    answers: dict[str, list[dict]] = {}

    def query(selector: str) -> list[dict]:
        # each query compiles the document again: ask each selector once
        if selector not in answers:
            text = typst.query(str(typ), selector, root=str(root), sys_inputs=inputs)
            answers[selector] = json.loads(text)
        return answers[selector]

    return request.param, pdf, query


def test_every_table_and_figure_has_a_number_a_caption_and_a_reference(compiled):
    name, _, query = compiled
    figures = query("figure")
    assert len(figures) >= (12 if name.startswith("paper") else 5)
    referenced = {r["target"] for r in query("ref")}
    problems = []
    for figure in figures:
        kind = figure.get("kind")
        label = figure.get("label")
        caption = json.dumps(figure.get("caption", {}).get("body", ""))
        if figure.get("numbering") is None:
            problems.append(f"{kind} without a number: {caption[:80]}")
        if len(caption) < 40:
            problems.append(f"{kind} {label} without a caption")
        if label is None:
            problems.append(f"{kind} without a label (so never referenced): {caption[:80]}")
        elif label not in referenced:
            problems.append(f"{kind} {label} is never referenced in the text")
    assert problems == [], problems


#: What may not reach the page: a number the data could not give, shown as a program does.
NOT_A_NUMBER = re.compile(r"\b(?:inf|nan|NaN)\b|<NA>|\bInfinity\b")


def test_no_inf_nan_or_raw_key_name_in_the_text(compiled, seed_fast_run, pdf_text):
    _, pdf, _ = compiled
    results, _ = seed_fast_run
    text = pdf_text(pdf)
    assert NOT_A_NUMBER.findall(text) == [], [
        text[max(0, m.start() - 60) : m.end() + 20] for m in NOT_A_NUMBER.finditer(text)
    ]
    keys = set()
    for numbers in results.glob("*/numbers.json"):
        keys |= {k for k in json.loads(numbers.read_text()) if "_" in k and len(k) > 6}
    humanised = {k.replace("__", " ").replace("_", " ").capitalize() for k in keys}
    shown = sorted(k for k in keys if re.search(rf"\b{re.escape(k)}\b", text))
    shown += sorted(h for h in humanised if h in text and len(h.split()) > 2)
    assert shown == [], f"numbers.json keys in the paper's text: {shown}"
    # the DfE's own column names (CLA_Secure ...) and findings.csv keys
    assert re.findall(r"\bCLA_\w+", text) == []
    assert re.findall(r"\bnational\.(?:england|regions)\S*", text) == []


def _shown(query) -> list[dict]:
    return [m["value"] for m in query("<shown>")]


def _decimals(display: str) -> int:
    number = re.search(r"\d[\d,]*(?:\.(\d+))?", display)
    return len(number.group(1) or "") if number else 0


def test_one_value_is_shown_one_way_in_the_text_and_the_tables(compiled):
    """One figure is displayed alike in the text and the tables: the text does not round to
    "+0.05" what a table shows as "+0.1", nor give "96.0%" where a table has "96%". Two
    numbers of one style shown to different precision are one figure when they agree to
    within a part in a hundred and to within half a unit of the finer display (numbers.json
    and a CSV may hold the same figure to different precision)."""
    _, _, query = compiled
    entries = []
    for entry in _shown(query):
        value, display = entry["value"], entry["shown"]
        if isinstance(value, float) and display is not None and value != 0:
            entries.append((entry["style"], value, display.removeprefix("+"), entry))
    clashes = set()
    for i, (style, a, shown_a, first) in enumerate(entries):
        for style_b, b, shown_b, second in entries[i + 1 :]:
            # the same precision shown differently is two different values, not a rounding;
            # a table's columns each keep one precision, so a figure is looked for between
            # the text and the tables (two columns may hold unrelated values alike)
            if style != style_b or _decimals(shown_a) == _decimals(shown_b):
                continue
            if "text" not in (first["where"], second["where"]):
                continue
            # a setting (a threshold, a level) is not a figure a table reports
            if "option" in (first.get("evidence"), second.get("evidence")):
                continue
            finer = max(_decimals(shown_a), _decimals(shown_b))
            scale = 100 if style == "percent" else 1  # a proportion shown as a percentage
            same = (
                abs(a - b) <= 0.01 * max(abs(a), abs(b)) and abs(a - b) * scale <= 0.5 * 10**-finer
            )
            if same:
                clashes.add(
                    (
                        shown_a,
                        first["where"],
                        first["column"],
                        shown_b,
                        second["where"],
                        second["column"],
                    )
                )
    assert clashes == set(), sorted(clashes)


def test_no_count_of_children_from_one_to_four_in_any_table(compiled):
    """Counts from 1 to 4 are suppressed (shown as c) in every table the paper prints."""
    _, _, query = compiled
    small = [
        e
        for e in _shown(query)
        if e["where"] == "table" and e["style"] == "count" and e["value"] in (1, 2, 3, 4)
    ]
    assert small == [], small


# -- the rendered pages ----------------------------------------------------------------------
def _lines(pdf: Path) -> list[list[dict]]:
    """Each page's text lines, top to bottom: xMin, yMin, xMax, yMax and text."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian: poppler-utils): no layout check")
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    pages = []
    for page in re.findall(r"(?s)<page .*?</page>", out):
        lines = []
        for line in re.finditer(
            r'(?s)<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
            page,
        ):
            words = re.findall(r">([^<]*)</word>", line.group(5))
            lines.append(
                {
                    "x0": float(line.group(1)),
                    "y0": float(line.group(2)),
                    "x1": float(line.group(3)),
                    "y1": float(line.group(4)),
                    "text": " ".join(words),
                }
            )
        pages.append(sorted(lines, key=lambda l: (round(l["y0"]), l["x0"])))
    return pages


def test_no_figure_splits_a_paragraph(compiled):
    """Above each figure (its image sits above its caption) is the end of a paragraph, a
    heading or a table, never a justified line of a paragraph that goes on below it."""
    name, pdf, _ = compiled
    pages = _lines(pdf)
    body = [l for page in pages for l in page if len(l["text"]) > 40]
    right = max(l["x1"] for l in body)  # the text block's right edge
    found = 0
    problems = []
    for number, lines in enumerate(pages):
        for i, line in enumerate(lines):
            if not re.match(r"Figure \d+:", line["text"]):
                continue
            found += 1
            above = [l for l in lines[:i] if l["y1"] <= line["y0"]]
            if above:
                before = above[-1]
            elif number > 0:
                # the figure heads its page: the last line of the previous page above the
                # page number
                before = [l for l in pages[number - 1] if not l["text"].isdigit()][-1]
            else:
                continue
            # a line of a paragraph that goes on is justified to the right edge and does not
            # end a sentence; a paragraph's last line ends one, or stops short of the edge
            ends = before["text"].rstrip().endswith((".", ":", ";", ")", "!", "?"))
            if before["x1"] >= right - 1.5 and not ends:
                problems.append(
                    f"page {number + 1}: {line['text'][:40]!r} after {before['text'][-60:]!r}"
                )
    assert found >= (5 if name.startswith("paper") else 2)
    assert problems == [], problems


def _brackets(text: str) -> list[str]:
    """Each bracket opened inside another, and each bracket that follows another's close
    ("(Creative Research Systems, 2012) (its rounded ...)"): "(Hennig, 2007))" reads as a
    typo and a citation beside an aside as two asides."""
    found = []
    depth = 0
    for i, char in enumerate(text):
        if char == "(":
            if depth:
                found.append(text[max(0, i - 60) : i + 40])
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
    found += [text[max(0, m.start() - 60) : m.end() + 40] for m in re.finditer(r"\) \(", text)]
    return found


def test_the_bracket_check_catches_nesting_and_neighbours():
    assert _brackets("as poLCA (Linzer and Lewis, 2011) treats them") == []
    assert len(_brackets("the Jaccard criterion (Hennig (2007)) says")) == 1
    assert len(_brackets("the calculator (CRS, 2012) (its rounded quantile)")) == 1


def test_no_bracket_nests_in_another_or_follows_another(compiled, pdf_text):
    """The text and the captions before the references (whose entries bracket their own
    parts) and the appendix's tables after them."""
    _, pdf, _ = compiled
    text = pdf_text(pdf)
    before, _, after = text.partition(" References ")
    after = after.partition(" Appendix")[2]
    assert _brackets(before) + _brackets(after) == []


def test_quotes_and_apostrophes_are_the_typesetters(compiled):
    """Text from the results (a table's label, a reason) is set with curly quotes and
    apostrophes as typst sets the prose: "children's homes" in a table beside "children’s
    homes" in the text reads as two hands."""
    _, pdf, _ = compiled
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian: poppler-utils): no text check")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    straight = [text[max(0, m.start() - 40) : m.end() + 20] for m in re.finditer("['\"]", text)]
    assert straight == []


def test_the_appendix_gives_each_measure_in_each_year(compiled, seed_fast_run):
    """The national figures by measure and year (national_by_year.csv) are the appendix's
    table, not a dump of numbers.json: every year each model saw, its national level and
    the LA rows' pooled figure, shown as the table by measure shows them."""
    import pandas as pd

    name, _, query = compiled
    if name != "paper":
        pytest.skip("the study report has no appendix; without national there is no table")
    results, _ = seed_fast_run
    rows = pd.read_csv(results / "national" / "national_by_year.csv")
    years = rows.groupby("measure")["year"].apply(list).to_dict()
    assert years == {
        "far": [2017, 2018, 2019],
        "private": [2015, 2016, 2017, 2018, 2019],
        "rate": [2015, 2016, 2017, 2018, 2019],
        "residential": [2015, 2016, 2017, 2018, 2019],
    }
    # the pooled figures are the LA rows' own: England's rate near the DfE's published 65
    # per 10,000 in 2019 (the LA rows over their ONS populations), shares in per cent
    pooled = rows.set_index(["measure", "year"])["pooled"]
    assert 60 < pooled["rate", 2019] < 70
    assert 0 < pooled["far", 2019] < 100
    assert (rows["national_low"] <= rows["national"]).all()
    assert (rows["national"] <= rows["national_high"]).all()
    shown = [e for e in _shown(query) if e["where"] == "table" and e["column"] == "pooled"]
    assert [e["value"] for e in shown] == pytest.approx(list(rows["pooled"]))
