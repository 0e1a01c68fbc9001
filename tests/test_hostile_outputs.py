"""Names are not paths, and nothing lacstats did not make is overwritten (issue #31, items 2
and 3): study names validated before any work, every write inside ``--out``, no output
over an input of the command or its study, no user's file replaced without ``--force``,
symbolic links resolved once. Each case hashes every file before and after."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from lacstats import cli, collect, outputs, reporting, study, synthetic
from lacstats.errors import DataError, LacstatsError

KM = '[study]\nname = "km"\n[authorities]\nlist = ["Kent", "Medway"]\n'


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def _refused(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lacstats: error: "), err
    assert re.search(pattern, err), err


# --- item 2: names are not paths ------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../escaped", "/tmp/escaped", "a\\u0000b", "a/b", "..", "with space", ".hidden", "x" * 65],
)
def test_a_study_name_is_a_simple_identifier(name):
    with pytest.raises(DataError, match=r"study\.name.*simple identifier") as caught:
        study.loads(KM.replace('"km"', f'"{name}"'))
    assert caught.value.column == "study.name"


def test_a_study_named_as_a_path_writes_nothing(tmp_path):
    """The issue's reproduction: collect template with a study named ../../escaped wrote
    outside --out (exit 0); an absolute name wrote anywhere; NUL crashed (exit 70)."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    for name in ("../../escaped", str(tmp_path / "abs"), "a\\u0000b"):
        path = work / "hostile.toml"
        path.write_text(KM.replace('"km"', f'"{name}"'), encoding="utf-8")
        before = _digest(tmp_path)
        code, _, err = _run_cli(
            ["collect", "template", "--study", path, "--out", work / "templates"]
        )
        _refused(code, err, "simple identifier")
        assert _digest(tmp_path) == before
        assert not list(tmp_path.rglob("*escaped*"))
        assert not (tmp_path / "abs").exists()


def test_every_write_is_proven_inside_the_folder(tmp_path):
    """A Study built in Python (no file to validate) with a path for a name: refused before
    anything is written."""
    bad = dataclasses.replace(study.loads(KM), name="../escaped")
    templates = collect.template(bad)
    with pytest.raises(outputs.OutputError, match="not a plain file name"):
        templates.write(tmp_path / "templates")
    assert list(tmp_path.iterdir()) == []
    for name in ("../x", "/etc/passwd", "a\x00b", "", "..", "sub/x.csv"):
        with pytest.raises(outputs.OutputError):
            outputs.inside(tmp_path, name)
    assert outputs.inside(tmp_path, "km_Kent.xlsx") == tmp_path / "km_Kent.xlsx"


# --- item 3: never overwrite what lacstats did not make -------------------------------------


@pytest.fixture
def km_study(tmp_path) -> Path:
    path = tmp_path / "km.toml"
    path.write_text(KM, encoding="utf-8")
    return path


def test_design_never_replaces_its_study_or_authorities_file(tmp_path, km_study):
    authorities = tmp_path / "las.txt"
    authorities.write_text("Kent\nMedway\n", encoding="utf-8")
    before = _digest(tmp_path)
    code, _, err = _run_cli(["design", "--study", km_study, "--out", km_study])
    _refused(code, err, "is the input")
    code, _, err = _run_cli(["design", "--authorities", authorities, "--out", authorities])
    _refused(code, err, "is the input")
    assert _digest(tmp_path) == before


@pytest.fixture
def study_in_folder(tmp_path) -> tuple[Path, Path]:
    """A study whose case table and published figures lie in ``data/``."""
    data = tmp_path / "data"
    data.mkdir()
    cases = synthetic.sample(study.loads(KM), rng=1)
    cases.to_csv(data / "cases.csv", index=False)
    (data / "figures.toml").write_text("# no figures\n", encoding="utf-8")
    path = tmp_path / "km_cases.toml"
    path.write_text(
        KM + '[cases]\npath = "data/cases.csv"\n[published]\nfigures = "data/figures.toml"\n',
        encoding="utf-8",
    )
    return path, data


@pytest.mark.parametrize(
    "argv",
    [
        ["collect", "template", "--study", "{study}", "--out", "{data}"],
        ["collect", "template", "--study", "{study}", "--out", "{tmp}"],
        ["collect", "status", "--study", "{study}", "--out", "{data}"],
        ["design", "--study", "{study}", "--out", "{data}/figures.toml"],
        ["design", "--study", "{study}", "--out", "{data}/cases.csv"],
        ["report", "--all", "--study", "{study}", "--out", "{data}", "--fast"],
        ["reproduce", "--study", "{study}", "--out", "{data}", "--only", "savings", "--fast"],
        ["reproduce", "--study", "{study}", "--out", "{tmp}", "--only", "savings", "--fast"],
        ["collect", "merge", "{tmp}/km.csv", "--study", "{study}", "--out", "{data}/cases.csv"],
        [
            "collect",
            "merge",
            "{tmp}/km.csv",
            "--study",
            "{study}",
            "--out",
            "m.csv",
            "--issues",
            "{data}",
        ],
        ["paper", "--results", "{data}", "--out", "{data}/x.pdf"],
        ["ssda903", "{data}", "--out", "{data}/tables"],
        ["ssda903", "validate", "{data}", "--out", "{data}/report.xlsx"],
    ],
)
def test_no_command_writes_over_what_it_or_its_study_reads(tmp_path, study_in_folder, argv):
    """The study's case table and published figures are inputs of every command that
    reads the study (collect template protected neither; reproduce not the figures)."""
    path, data = study_in_folder
    (tmp_path / "km.csv").write_bytes((data / "cases.csv").read_bytes())
    before = _digest(tmp_path)
    filled = [a.format(study=path, data=data, tmp=tmp_path) for a in argv]
    code, _, err = _run_cli(filled)
    _refused(code, err, "input")
    assert _digest(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "--study", "{study}", "--out", "{data}", "--only", "savings", "--fast"],
        ["collect", "template", "--study", "{study}", "--out", "{data}"],
        ["report", "--all", "--study", "{study}", "--out", "{data}/packs", "--fast"],
    ],
)
def test_published_figures_alone_are_protected(tmp_path, argv):
    """The issue's reproduction: reproduce protected the case table but not the published
    figures, collect template neither; here the study's only file in the folder is its
    published figures."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "figures.toml").write_text("# no figures\n", encoding="utf-8")
    path = tmp_path / "km.toml"
    path.write_text(KM + '[published]\nfigures = "data/figures.toml"\n', encoding="utf-8")
    before = _digest(tmp_path)
    code, _, err = _run_cli([a.format(study=path, data=data) for a in argv])
    if argv[0] == "report":  # packs beside the figures are fine: nothing is replaced
        assert code == 0, err
        assert _digest(data / "packs")
        assert (data / "figures.toml").read_text(encoding="utf-8") == "# no figures\n"
        return
    _refused(code, err, r"contains the input .*figures\.toml")
    assert _digest(tmp_path) == before


def test_report_never_replaces_a_users_file(tmp_path):
    """The issue's reproduction: report --out mine overwrote mine/Kent.html."""
    cases = synthetic.sample(study.loads(KM), rng=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "Kent.html").write_text("<p>my own notes</p>", encoding="utf-8")
    (mine / "thesis.docx").write_text("mine", encoding="utf-8")
    before = _digest(tmp_path)
    km = study.loads(KM)
    with pytest.raises(outputs.OutputError, match=r"Kent\.html"):
        reporting.write_all(cases, mine, source="test", study=km, synthetic=True)
    assert _digest(tmp_path) == before
    # packs lacstats wrote there may be written again; --force replaces the user's file
    with outputs.allow_replacing():
        written = reporting.write_all(cases, mine, source="test", study=km, synthetic=True)
    assert sorted(p.name for p in written) == [
        "Kent.html",
        "Kent.xlsx",
        "Medway.html",
        "Medway.xlsx",
    ]
    again = reporting.write_all(cases, mine, source="test", study=km, synthetic=True)
    assert len(again) == 4
    assert (mine / "thesis.docx").read_text(encoding="utf-8") == "mine"


def test_a_lacstats_folder_holding_a_users_files_is_not_replaced(tmp_path, km_study):
    """The issue's reproduction: a templates folder used again was replaced whole, with
    the filled-in return and the notes the user had saved in it."""
    out = tmp_path / "templates"
    code, _, err = _run_cli(["collect", "template", "--study", km_study, "--out", out])
    assert code == 0, err
    (out / "notes.txt").write_text("call Kent on Monday", encoding="utf-8")
    filled = out / "km_Kent.xlsx"
    filled.write_bytes(filled.read_bytes() + b"filled in")  # changed since lacstats wrote it
    before = _digest(tmp_path)
    code, _, err = _run_cli(["collect", "template", "--study", km_study, "--out", out])
    _refused(code, err, r"km_Kent\.xlsx \(changed since.*notes\.txt \(not written by lacstats\)")
    assert "--force" in err
    assert _digest(tmp_path) == before
    code, _, err = _run_cli(["collect", "template", "--study", km_study, "--out", out, "--force"])
    assert code == 0, err
    assert not (out / "notes.txt").exists()
    # a folder holding only what lacstats wrote is replaced without a word
    code, _, err = _run_cli(["collect", "template", "--study", km_study, "--out", out])
    assert code == 0, err


def test_a_symlinked_output_works_every_time(tmp_path, km_study):
    """The issue's reproduction: a symlinked --out worked once, then every run failed after
    doing its work (Cannot call rmtree on a symbolic link), leaving .link.old behind."""
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    for _ in range(3):
        code, _, err = _run_cli(["collect", "template", "--study", km_study, "--out", link])
        assert code == 0, err
        assert link.is_symlink()
        assert sorted(p.name for p in link.iterdir() if p.suffix == ".xlsx") == [
            "km_Kent.xlsx",
            "km_Medway.xlsx",
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["km.toml", "link", "real"]


def test_a_symlinked_file_output_writes_the_file_it_names(tmp_path):
    target = tmp_path / "design.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, _, err = _run_cli(["design", "--out", link])
    assert code == 0, err
    assert link.is_symlink()
    assert pd.read_csv(target)["n"].sum() > 1000


def test_api_folder_outputs_refuse_a_users_files(tmp_path):
    """The same rule from Python: atomic_directory refuses, allow_replacing lets go."""
    out = tmp_path / "out"
    with outputs.atomic_directory(out) as folder:
        (folder / "a.csv").write_text("n\n1\n")
    (out / "mine.txt").write_text("mine")
    with pytest.raises(LacstatsError, match=r"mine\.txt"), outputs.atomic_directory(out):
        pass
    assert (out / "mine.txt").exists()
    with outputs.allow_replacing(), outputs.atomic_directory(out) as folder:
        (folder / "b.csv").write_text("n\n2\n")
    assert sorted(p.name for p in out.iterdir() if p.name != outputs.MARKER) == ["b.csv"]
    assert os.access(out, os.W_OK)
