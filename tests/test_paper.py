"""The paper's source: no number typed into it, every citation resolvable, the source
documents cited as their bibliography entry gives them, no seed file name anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lacstats import findings
from lacstats.datasets import published_findings

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "paper" / "paper.typ"
#: The report of any other study's run (lacstats.paper chooses it from the manifest).
STUDY = ROOT / "paper" / "study.typ"
BIB = ROOT / "paper" / "references.bib"

#: What may carry a digit in paper.typ, and why. Anything else is a number typed into the
#: paper, which must come from results/ instead.
ALLOWED = (
    # a citation key carries its year (@seslip2020needs): the bibliography renders it
    r"@[a-z]+\d{4}[a-z0-9]*",
    # the display precision of the one number format (#real(..., digits: 2))
    r"digits: \d\b",
    # widths of table columns, as fractions of the free width (layout, not a finding)
    r"\b\d+(\.\d+)?fr\b",
    # the licence's name
    r"Open Government Licence v3\.0",
    # code identifiers and names with a digit inside (a key such as over_100_miles,
    # SSDA903): they name things, they state no quantity
    r"\b[A-Za-z_]+\d\w*",
)
#: A string literal may hold digits only as a key into the results (a figure or file name).
KEY = re.compile(r"[a-z_][a-z0-9_.]*")


def _strip_comments(text: str) -> str:
    return re.sub(r"(?m)^\s*//.*$|(?<=\s)//.*$", "", text)


def typed_numbers(text: str) -> list[str]:
    """Every digit of ``text`` (typst source) outside the allowlist, with its context."""
    text = _strip_comments(text)
    found = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"', text):
        if re.search(r"\d", match.group(1)) and not KEY.fullmatch(match.group(1)):
            found.append(match.group(0))
    text = re.sub(r'"((?:[^"\\]|\\.)*)"', '""', text)
    for pattern in ALLOWED:
        text = re.sub(pattern, "", text)
    for match in re.finditer(r"\d(?:[\d,.]*\d)?", text):
        found.append(text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " "))
    return found


@pytest.mark.parametrize("template", [PAPER, STUDY], ids=["paper", "study"])
def test_the_paper_types_no_number(template):
    assert typed_numbers(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("pay up to £10,700 a week", "10,700"),
        ("growth of 2 a month", "2 a month"),
        ('#real(su, "x") children (#"18.4%")', '"18.4%"'),
        ('an effect of +#check(ae, "x")', None),
        ("@seslip2020needs says", None),
        ('#check(des, "bias_top_cost__over_100_miles", digits: 1)', None),
        ("// a comment may say 2019\nprose", None),
    ],
)
def test_the_number_scan_catches_typed_numbers(source, caught):
    found = typed_numbers(source)
    if caught is None:
        assert found == []
    else:
        assert len(found) == 1
        assert caught in found[0]


def _bib_entries(text: str) -> dict[str, dict[str, str]]:
    entries = {}
    for match in re.finditer(r"@\w+\{(\w+),(.*?)\n\}", text, re.DOTALL):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*)\},?\s*$", match.group(2), re.MULTILINE))
        entries[match.group(1)] = fields
    return entries


def _plain(text: str) -> str:
    return re.sub(r"[{}]", "", text)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (PAPER, {"seslip2020needs", "dfe2017sfr50", "ofsted2019fostering", "ons2020mye"}),
        (STUDY, {"seslip2020needs", "dfe2019cla", "ofsted2019fostering", "crs2012calculator"}),
    ],
    ids=["paper", "study"],
)
def test_every_citation_is_in_the_bibliography(template, expected):
    keys = set(_bib_entries(BIB.read_text(encoding="utf-8")))
    # @key, or <key> in #cite(<key>, form: ...) and lib.typ's #cited(<key>)
    source = _strip_comments(template.read_text())
    cited = {
        a or b for a, b in re.findall(r"@([a-z]+\d{4}[a-z0-9]*)|<([a-z]+\d{4}[a-z0-9]*)>", source)
    }
    assert cited <= keys, cited - keys
    assert expected <= cited


def test_source_documents_are_cited_as_their_entries_give_them():
    # the five source documents: title, author or body and year as in
    # shared/reference/sources.bib, in the paper's bibliography and in the packaged data
    entries = _bib_entries(BIB.read_text(encoding="utf-8"))
    sources = published_findings()["sources"]
    assert set(sources) == {
        "seslip2020needs",
        "dorset2017lac",
        "banes2018sufficiency",
        "seslip2018complexlac",
        "notts2014commissioning",
    }
    for key, entry in sources.items():
        assert _plain(entries[key]["title"]) == entry["title"], key
        assert _plain(entries[key]["author"]) == entry["author"], key
        assert int(entries[key]["year"]) == entry["year"], key
    assert findings.citation("seslip2020needs") == (
        "Evans, Mark (2020), South East Needs DfE Project: SE Fostering Group"
    )
    # a source the data do not know (a user's own) is named as given
    assert findings.citation("our own audit") == "our own audit"


SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def test_no_seed_file_name_in_the_paper_the_readme_or_the_packaged_data():
    for path in (
        PAPER,
        STUDY,
        BIB,
        ROOT / "README.md",
        ROOT / "lacstats" / "datasets" / "data" / "published_findings.toml",
        ROOT / "lacstats" / "datasets" / "data" / "ATTRIBUTION.md",
    ):
        assert not SEED_FILE.search(path.read_text(encoding="utf-8")), path


def _closing(text: str, start: int) -> int:
    """The index after the bracket that closes the one at ``start`` (strings skipped)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"' and (not stack or stack[-1] != "]"):  # a string in code, not prose
            i = text.index('"', i + 1) + 1
            continue
        if char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    return len(text)


def _expression_end(text: str, start: int) -> int | None:
    """Where the embedded expression at ``text[start] == "#"`` ends, or None."""
    head = re.match(r"#(if\b|[A-Za-z_][\w-]*)", text[start:])
    if head is None or head.group(1) in ("let", "set", "show", "import", "include"):
        return None
    i = start + head.end()
    if head.group(1) == "if":  # the condition, its body, and any else branches
        while True:
            while i < len(text) and text[i] not in "[{":
                i = _closing(text, i) if text[i] in "(" else i + 1
            i = _closing(text, i)
            rest = re.match(r"\s*else\s*(if\b)?", text[i:])
            if rest is None:
                return i
            i += rest.end()
            if rest.group(1) is None:
                return _closing(text, i)
    while i < len(text):
        if text[i] in "([":
            i = _closing(text, i)
        elif re.match(r"\.[A-Za-z_]", text[i : i + 2]):
            i += re.match(r"\.[A-Za-z_][\w-]*", text[i:]).end()
        else:
            return i
    return i


def swallowed_semicolons(text: str) -> list[str]:
    """Each ``;`` right after an embedded expression in markup (``#real(x, "k");``): typst
    reads it as the end of the expression and prints nothing, so the sentence loses it
    (``\\;`` prints one)."""
    text = _strip_comments(text)
    found = []
    for match in re.finditer(r"(?<!\\)#", text):
        end = _expression_end(text, match.start())
        if end is not None and text[end : end + 1] == ";":
            found.append(text[max(0, end - 40) : end + 20].replace("\n", " "))
    return found


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('holds #real(pj, "n"); the median', True),
        ('holds #real(pj, "n")\\; the median', False),
        ('by #check(des, "b") points#if has(des, "f") [ and more]; random', True),
        ("#if x [a] else [b]; c", True),
        ("#if x [a] else [b], c", False),
        ("(@selection); random", False),
        ("#let a = 1; #let b = 2", False),
    ],
)
def test_the_semicolon_scan(source, caught):
    assert bool(swallowed_semicolons(source)) is caught


@pytest.mark.parametrize("template", [PAPER, STUDY, ROOT / "paper" / "lib.typ"])
def test_no_semicolon_is_swallowed_by_an_embedded_expression(template):
    """ "80.3% of 152 the median is ..." lost its semicolon to ``#real(...);``."""
    assert swallowed_semicolons(template.read_text(encoding="utf-8")) == []


def test_every_report_in_the_bibliography_says_what_kind_it_is():
    """A @techreport without a type is listed as "... Looked After Children. technical
    report." (lower case, and true of none of them)."""
    text = BIB.read_text(encoding="utf-8")
    untyped = [
        key
        for kind, key, body in re.findall(r"@(\w+)\{(\w+),(.*?)\n\}", text, re.DOTALL)
        if kind == "techreport" and not re.search(r"^\s*type\s*=", body, re.MULTILINE)
    ]
    assert untyped == []
