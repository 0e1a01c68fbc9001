"""Clean refusals everywhere (issue #31 item 5): study files in any encoding, nesting,
unreadable returns, huge cells, packs whose model cannot be fitted, Parquet decimals, and
every argument of the Python API checked with a LacstatsError naming it."""

from __future__ import annotations

import contextlib
import decimal
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lacstats import (
    cli,
    cohorts,
    collect,
    costs,
    datasets,
    disclosure,
    findings,
    profiles,
    regression,
    reporting,
    sampling,
    study,
    synthetic,
)
from lacstats import io as lio
from lacstats.errors import DataError

KM = '[study]\nname = "km"\ntitle = "Kent and Medway, café"\n[authorities]\nlist = ["Kent", "Medway"]\n'


def _run_cli(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def _one_line(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lacstats: error: "), err
    assert "Traceback" not in err
    assert re.search(pattern, err), err


# --- study files in any encoding ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (KM.encode("latin-1"), r"line 3: not UTF-8 text \(byte 0xe9; Latin-1 or Windows-1252\?\)"),
        (KM.encode("utf-16"), r"UTF-16 text; TOML files are UTF-8"),
        (KM.encode("utf-32"), r"UTF-32 text"),
        (bytes(range(256)) * 4, r"NUL bytes .* binary file"),
        (b"[study]\nname = " + b"[" * 20_000 + b"]" * 20_000 + b"\n", r"nested too deeply"),
        (
            b'[study]\nname = "km"\n[authorities]\nlist = ["Kent"\n',
            r"not valid TOML \(Unclosed array",
        ),
    ],
)
def test_a_study_file_that_is_not_utf8_toml_is_named(tmp_path, data, pattern):
    """The issue's reproductions: Latin-1, UTF-16 and binary study files and deep nesting
    exited 70 (an internal error)."""
    path = tmp_path / "km.toml"
    path.write_bytes(data)
    code, _, err = _run_cli(["design", "--study", path])
    _one_line(code, err, pattern)
    with pytest.raises(DataError, match=pattern):
        study.load(path)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    """The issue's reproduction: a UTF-8 BOM gave 'not valid TOML (line 1, column 1)'."""
    path = tmp_path / "km.toml"
    path.write_bytes(KM.encode("utf-8-sig"))
    assert study.load(path).title == "Kent and Medway, café"
    code, out, err = _run_cli(["design", "--study", path])
    assert code == 0, err
    assert "Kent" in out


def test_published_figures_and_grids_are_read_the_same_way(tmp_path):
    figures = tmp_path / "figures.toml"
    figures.write_bytes('note = "café"\n'.encode("latin-1"))
    path = tmp_path / "km.toml"
    path.write_text(KM + '[published]\nfigures = "figures.toml"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"published figures .*figures\.toml, line 1: not UTF-8"):
        study.load(path)
    grid = tmp_path / "grid.toml"
    grid.write_text("high_cost = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, _, err = _run_cli(["sensitivity", "threshold", "--grid", grid])
    _one_line(code, err, "nested too deeply")


# --- returns that cannot be read ------------------------------------------------------------


@pytest.fixture
def km() -> study.Study:
    return study.loads(KM)


def test_unreadable_returns_are_issues_and_nothing_merged_fails(tmp_path, km):
    """The issue's reproduction: .xls, .ods and .docx returns were skipped without an issue
    and the merge exited 0; an empty folder gave a 0-row case table, exit 0."""
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "km_Kent.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (returns / "km_Medway.ods").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    (returns / "notes.docx").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    (returns / "~$km_Kent.xlsx").write_bytes(b"lock")  # Excel's lock file: not a return
    merged = collect.merge([returns], study=km, errors="drop")
    files = merged.issues.set_index("file")
    assert sorted(files.index) == ["km_Kent.xls", "km_Medway.ods", "notes.docx"]
    assert files.loc["km_Kent.xls", "authority"] == "Kent"
    assert "save it as .xlsx" in files.loc["km_Medway.ods", "rule"]
    assert set(files["effect"]) == {"file not merged"}
    out = tmp_path / "cases.csv"
    study_file = tmp_path / "km.toml"
    study_file.write_text(KM, encoding="utf-8")
    for errors in ("raise", "drop"):
        argv = ["collect", "merge", returns, "--out", out, "--errors", errors]
        code, _, err = _run_cli([*argv, "--study", study_file])
        _one_line(code, err, "problem")
        assert not out.exists()
    issues = pd.read_csv(tmp_path / "cases_issues" / "issues.csv", dtype=str)
    assert len(issues) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run_cli(["collect", "merge", empty, "--out", tmp_path / "e.csv"])
    _one_line(code, err, "no returns to merge .*no file found")
    with pytest.raises(DataError, match="argument 'returned'"):
        collect.merge(None, study=km)


def test_a_huge_cell_is_named_not_copied(tmp_path, km):
    """The issue's reproduction: a cell holding a 200 MB shared string was copied whole into
    issues.csv (209 MB). The same with 5 MB: the issue names the cell and cuts the value.
    (A CSV cell over Python's field limit makes the file unreadable, an issue naming the
    line.)"""
    returns = tmp_path / "returns"
    returns.mkdir()
    cases = synthetic.sample(km, rng=1).astype({"sex": object})
    for name, part in cases.groupby("authority", observed=True):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(part.columns))
        for row in part.astype(object).where(part.notna(), None).itertuples(index=False):
            sheet.append([v.item() if hasattr(v, "item") else v for v in row])
        if name == "Kent":
            sheet["E2"] = "x" * 5_000_000  # a shared string
        book.save(returns / f"{name}.xlsx")
    merged = collect.merge([returns], study=km, errors="drop")
    merged.write_issues(tmp_path / "issues", fmt="xlsx")
    size = sum(p.stat().st_size for p in (tmp_path / "issues").iterdir())
    assert size < 100_000
    row = merged.issues[merged.issues["column"] == "sex"].iloc[0]
    assert row["cell"] == "E2"
    assert re.search(r"^x{200}… \([\d,]+ characters\)$", row["value"])  # openpyxl keeps 32,767
    assert len(row["rule"]) < 1_000
    book = openpyxl.load_workbook(tmp_path / "issues" / "km_Kent_issues.xlsx")
    assert max(len(str(c.value)) for r in book["Issues"].iter_rows() for c in r) < 1_000


# --- packs whose model cannot be fitted, Parquet decimals ------------------------------------


def test_packs_of_a_two_authority_study_say_the_model_was_not_fitted(tmp_path, km):
    """The issue's reproduction: report --all refused every pack when the study had two
    authorities (the mixed model needs three groups)."""
    cases = synthetic.sample(km, rng=1)
    written = reporting.write_all(cases, tmp_path / "packs", source="test", fast=True, study=km)
    assert sorted(p.name for p in written) == [
        "Kent.html",
        "Kent.xlsx",
        "Medway.html",
        "Medway.xlsx",
    ]
    page = (tmp_path / "packs" / "Kent.html").read_text(encoding="utf-8")
    assert "authority effect: the mixed model of cost could not be fitted" in page
    assert "at least 3 groups" in page
    assert "Authority effect</h2>" not in page


def test_a_parquet_decimal_cost_is_read_as_a_number(tmp_path, km):
    """The issue's reproduction: a Parquet decimal128 weekly cost was refused."""
    cases = synthetic.sample(km, rng=1).head(5)
    table = pa.Table.from_pandas(cases, preserve_index=False)
    costs = pa.array(
        [decimal.Decimal(f"{v:.2f}") for v in cases["weekly_cost"]], type=pa.decimal128(12, 2)
    )
    table = table.set_column(table.schema.get_field_index("weekly_cost"), "weekly_cost", costs)
    path = tmp_path / "cases.parquet"
    pq.write_table(table, path)
    read = lio.read_cases(path)
    assert read["weekly_cost"].dtype.kind == "f"
    assert read["weekly_cost"].round(2).tolist() == cases["weekly_cost"].round(2).tolist()


def test_read_toml_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        lio.read_toml(tmp_path / "none.toml")
    with pytest.raises(DataError, match="a folder"):
        lio.read_toml(Path(tmp_path))


# --- every argument of the Python API checked ----------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return sampling.design(datasets.authority_frame(2017, ["Kent", "Medway"]))


#: Each misuse a probe of the public API found raising a bare Python error (TypeError,
#: AttributeError, ValueError, ZeroDivisionError, KeyError), with the argument its
#: LacstatsError now names.
MISUSES = [
    (
        "sample_size(population='abc')",
        lambda c, p: sampling.sample_size(population="abc"),
        "population",
    ),
    (
        "sample_size(interval='x')",
        lambda c, p: sampling.sample_size(900, interval="x"),
        "interval",
    ),
    ("margin_of_error('x')", lambda c, p: sampling.margin_of_error("x"), "'n'"),
    ("allocate(10, 'ab')", lambda c, p: sampling.allocate(10, "ab"), "populations"),
    ("design(None)", lambda c, p: sampling.design(None), "frame"),
    ("select(None, plan)", lambda c, p: sampling.select(None, p), "cases"),
    ("explain_total('x')", lambda c, p: sampling.explain_total("x"), "frames"),
    (
        "NeedProfiles(n_profiles=0)",
        lambda c, p: profiles.NeedProfiles(n_profiles=0).fit(c),
        "n_profiles",
    ),
    (
        "NeedProfiles(k_range=(5, 1))",
        lambda c, p: profiles.NeedProfiles(k_range=(5, 1)).fit(c),
        "k_range",
    ),
    ("NeedProfiles(n_init=0)", lambda c, p: profiles.NeedProfiles(n_init=0).fit(c), "n_init"),
    ("NeedProfiles().fit(None)", lambda c, p: profiles.NeedProfiles().fit(None), "cases"),
    ("read_cases(None)", lambda c, p: lio.read_cases(None), "path"),
    ("read_cases(123)", lambda c, p: lio.read_cases(123), "path"),
    ("read_table(None)", lambda c, p: lio.read_table(None), "path"),
    (
        "fit(text response)",
        lambda c, p: regression.fit(c, "placement_setting ~ risk_score"),
        "placement_setting.*text",
    ),
    ("fit(None, formula)", lambda c, p: regression.fit(None, "weekly_cost ~ risk_score"), "data"),
    (
        "correlation(bootstrap=-1)",
        lambda c, p: regression.correlation(c, bootstrap=-1),
        "bootstrap",
    ),
    ("risk_cost(None)", lambda c, p: regression.risk_cost(None), "cases"),
    ("risk_cost(min_cases=-1)", lambda c, p: regression.risk_cost(c, min_cases=-1), "min_cases"),
    ("cohorts.assign(None)", lambda c, p: cohorts.assign(None), "cases"),
    (
        "summarise(weeks=-1)",
        lambda c, p: cohorts.summarise(c, cohorts.assign(c), weeks=-1),
        "weeks",
    ),
    (
        "summarise(by='nope')",
        lambda c, p: cohorts.summarise(c, cohorts.assign(c), by="nope"),
        "'by'",
    ),
    ("costs.savings(None)", lambda c, p: costs.savings(None), "changes"),
    ("findings.compare(None)", lambda c, p: findings.compare(None), "cases"),
    ("percent_truncated(1, 0)", lambda c, p: findings.percent_truncated(1, 0), "denominator"),
    ("complex_lac(rng='x')", lambda c, p: synthetic.complex_lac(rng="x"), "rng"),
    ("complex_lac(rng=-1)", lambda c, p: synthetic.complex_lac(rng=-1), "rng"),
    ("synthetic.sample(None)", lambda c, p: synthetic.sample(None), "study"),
    (
        "population_like(sizes=-1)",
        lambda c, p: synthetic.population_like(c, {"Kent": -1}),
        "sizes",
    ),
    ("suppress_small_counts(None)", lambda c, p: disclosure.suppress_small_counts(None), "table"),
    ("disclosure.apply(None, None)", lambda c, p: disclosure.apply(None, None), "values"),
    ("study.load(None)", lambda c, p: study.load(None), "path"),
    ("study.loads(None)", lambda c, p: study.loads(None), "text"),
    ("study.loads(b'...')", lambda c, p: study.loads(b"x"), "text"),
    ("with_cases(None)", lambda c, p: study.south_east().with_cases(None), "path"),
    (
        "authority_tables(None, 'Kent')",
        lambda c, p: reporting.authority_tables(None, "Kent"),
        "cases",
    ),
    ("write_all(cases, None)", lambda c, p: reporting.write_all(c, None, source="x"), "out"),
    (
        "national_position(None, 'Kent')",
        lambda c, p: reporting.national_position(None, "Kent"),
        "positions",
    ),
    ("collect.template(None)", lambda c, p: collect.template(None), "study"),
    ("collect.status(None)", lambda c, p: collect.status(None), "merged"),
    ("collect.merge(123)", lambda c, p: collect.merge(123), "returned"),
]


@pytest.mark.parametrize(
    ("call", "message"), [(m[1], m[2]) for m in MISUSES], ids=[m[0] for m in MISUSES]
)
def test_api_misuse_is_a_lacstats_error_naming_the_argument(cases, plan, call, message):
    from lacstats.errors import LacstatsError

    with pytest.raises(LacstatsError, match=message):
        call(cases.copy(), plan)
