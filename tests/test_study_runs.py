"""Studies end to end: another region's study, the South East study on a user's table
that lacks columns, and study files that are wrong (errors before any work); the paper and
the per-authority packs of each."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lacstats import cli, datasets, paper, provenance, reporting, schema, synthetic
from lacstats.errors import LacstatsError

NORTH_WEST = """
[study]
name = "north_west"
title = "North West complex needs study"
[authorities]
region = "North West"
[frame]
year = 2019
[thresholds]
far_miles = 75
[cases]
path = "synthetic"
"""
#: The analyses of the North West run: every section of the study report but the MCMC
#: fits and the latent classes, which the seed run's tests cover.
NORTH_WEST_ANALYSES = [
    "calibrated_sample",
    "sample_design",
    "sufficiency",
    "cost_calculator",
    "risk_cost",
    "sensitivity",
]
#: The analyses of the run on a user's thin table: authority effects among them, which on
#: a user's table name the authorities (real data about the table).
THIN_ANALYSES = [
    "authority_effects",
    "calibrated_sample",
    "sample_design",
    "risk_cost",
    "cohorts",
    "sensitivity",
    "sufficiency",
    "savings",
]


def _numbers(out, name):
    return json.loads((out / name / "numbers.json").read_text())


@pytest.fixture(scope="module")
def north_west_study(tmp_path_factory):
    path = tmp_path_factory.mktemp("study") / "nw.toml"
    path.write_text(NORTH_WEST, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def north_west(north_west_study):
    """One `lacstats reproduce --study nw.toml --fast` of the quicker analyses."""
    out = north_west_study.parent / "results"
    args = ["reproduce", "--study", str(north_west_study), "--out", str(out), "--fast"]
    assert cli.main([*args, "--quiet", "--jobs", "2", "--only", *NORTH_WEST_ANALYSES]) == 0
    return out


@pytest.mark.slow
def test_a_north_west_study_on_its_synthetic_sample(north_west):
    out = north_west
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"]["name"] == "north_west"
    assert manifest["study"]["region"] == "North West"
    assert len(manifest["study"]["authorities"]) == 23
    assert manifest["case_data"]["source"].startswith("an uncalibrated synthetic sample")
    assert manifest["study_file"]["path"].endswith("nw.toml")
    # the sample has the design's size, drawn for the study's authorities
    cal = _numbers(out, "calibrated_sample")
    design = _numbers(out, "sample_design")
    assert cal["cases"]["value"] == design["design_total"]["value"]
    assert cal["authorities"]["value"] == 23
    assert cal["cases"]["evidence"] == "synthetic_check"
    # the sample's costs reach the study's high-cost line (synthetic.high_cost_shares), so
    # the correlation within the high-cost group is a number
    assert -1 <= cal["spearman_high_cost"]["value"] <= 1
    assert "NaN" not in (out / "calibrated_sample" / "numbers.json").read_text()
    assert design["frame_population"]["value"] == (
        "children looked after aged 10 and over at 31 March 2019 (DfE 2019 release)"
    )
    # no published figures: no comparison, and the reason is written down
    assert "comparison with published figures" in cal["not_run"]["value"]
    assert "audit of a published total" in design["not_run"]["value"]
    assert not (out / "findings.csv").read_text().strip().split("\n")[1:]
    skipped = _numbers(out, "cost_calculator")["not_run"]["value"]["analysis"]
    assert "do not include Dorset's cost calculator report" in skipped
    assert manifest["analyses"]["cost_calculator"]["not_run"]["analysis"] == skipped
    region = _numbers(out, "sufficiency")
    assert region["study_region_foster_places_approved"]["value"] > 0
    # the uncalibrated sample has no generator slope to recover
    rc = _numbers(out, "risk_cost")
    assert "recovery of the generator's risk-cost slope" in rc["not_run"]["value"]
    assert rc["spearman"]["evidence"] == "synthetic_check"
    # the sensitivity analysis simulates the study's authorities at the study's lines
    se = _numbers(out, "sensitivity")
    selection = pd.read_csv(out / "sensitivity" / "selection.csv")
    assert set(selection["output"]) == {"error_over_100_miles", "error_high_cost_residential"}
    assert "selection error of needs_met" in se["not_run"]["value"]
    thresholds = pd.read_csv(out / "sensitivity" / "thresholds.csv")
    assert 75 in set(thresholds["miles"])


@pytest.mark.slow
def test_the_north_west_report(north_west, tmp_path, capsys, page_blankness, pdf_text):
    out = north_west
    assert paper.template(out).name == "study.typ"
    pdf = tmp_path / "nw.pdf"
    assert cli.main(["paper", "--results", str(out), "--out", str(pdf)]) == 0
    assert capsys.readouterr().out.strip() == str(pdf)
    text = pdf_text(pdf)
    # title, region, authorities, frame, design and thresholds from the results
    assert text.startswith("North West complex needs study")
    assert "the whole North West region" in text
    assert "Blackburn with Darwen, Blackpool, Bolton" in text
    assert "children looked after aged 10 and over at 31 March 2019 (DfE 2019 release)" in text
    assert "more than 75 miles from home" in text
    assert "£4,800 a week or more" in text
    design = _numbers(out, "sample_design")
    assert f"gives {design['design_total']['value']:,} cases" in text
    # the kind of its case-row figures: demonstrations on an uncalibrated synthetic sample
    assert "demonstrates the methods (kind b)" in text
    # sections only for the analyses that ran; those skipped or left out say why
    assert "Authority effects" not in text
    assert "Comparison with published figures" not in text
    # and its first table says so: no "Published figures: none" beside a comparison
    assert "Published figures none: the study compares with no published figures" in text
    assert "published figures checked" not in text
    assert "What was not run, and why" in text
    assert "do not include Dorset's cost calculator report" in text
    assert "the study names no published sample" in text
    # without an [ssda903] table the SSDA903 section demonstrates the packaged returns
    assert "The study names no SSDA903 returns of its own" in text
    # the colophon names the study file, its hash and the sample's seed
    sha = provenance.file_hash(out.parent / "nw.toml")
    assert "The study file is nw.toml (SHA-256" in text
    assert sha in text
    assert "drawn from seed 2019" in text
    blank = page_blankness(pdf)
    assert len(blank) >= 4
    assert max(blank.values()) <= 0.5, blank


@pytest.mark.slow
def test_the_study_report_checks_each_figures_kind(north_west, tmp_path):
    # a synthetic sample's count presented as a figure recomputed by construction stops
    # the build, as in the methods paper
    copy = tmp_path / "results"
    shutil.copytree(north_west, copy)
    numbers = copy / "calibrated_sample" / "numbers.json"
    figures = json.loads(numbers.read_text())
    figures["cases"]["evidence"] = "case_rows"
    numbers.write_text(json.dumps(figures))
    with pytest.raises(LacstatsError, match="cases is evidence of kind case_rows, not synthetic"):
        paper.build(copy, tmp_path / "paper.pdf")


@pytest.fixture(scope="module")
def thin_table(tmp_path_factory):
    """The calibrated sample as a user might hold it: no need items, no previous
    placements, no needs-met judgement."""
    cases = synthetic.complex_lac(rng=3)
    drop = [
        *schema.NEED_ITEMS,
        "risk_score",
        "previous_setting",
        "previous_weekly_cost",
        "needs_met",
    ]
    path = tmp_path_factory.mktemp("thin") / "our_cases.csv"
    cases.drop(columns=[c for c in drop if c in cases]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def thin_run(thin_table):
    """One `lacstats reproduce --cases our_cases.csv --fast` (the South East study)."""
    out = thin_table.parent / "results"
    args = ["reproduce", "--cases", str(thin_table), "--out", str(out), "--fast", "--quiet"]
    # differences from the published figures are findings about the table: exit 0
    assert cli.main([*args, "--jobs", "2", "--only", *THIN_ANALYSES]) == 0
    return out


@pytest.mark.slow
def test_the_south_east_study_on_a_table_without_needs(thin_run, thin_table):
    out = thin_run
    manifest = json.loads((out / "manifest.json").read_text())
    data = manifest["case_data"]
    assert data["path"] == str(thin_table)
    assert data["rows"] == 1253
    assert len(data["sha256"]) == 64
    text = json.dumps(manifest)
    assert "SE00001" not in text  # no content of the table: no case id, no row
    # risk and cost: skipped, with the reason, in numbers.json and the manifest
    reason = _numbers(out, "risk_cost")["not_run"]["value"]["analysis"]
    assert reason.startswith("the data have no risk scores")
    assert manifest["analyses"]["risk_cost"]["not_run"]["analysis"] == reason
    # cohorts needing need items are left out; distance and cost cohorts still run
    co = _numbers(out, "cohorts")
    assert "need profiles" in co["not_run"]["value"]
    assert "cohort step_down_candidate" in co["not_run"]["value"]
    assert co["keeping_local_children"]["evidence"] == "real_data"
    assert co["keeping_local_children"]["value"] == 200
    # findings: recomputed where the columns exist, "not computable" where they do not
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    assert (findings["must_match"] == "False").all()
    assert (findings["evidence"] == "real_data").all()
    row = findings.set_index("finding")
    assert row.loc["high_cost_residential.children", "match"] == "True"
    missing = row.loc["high_cost_residential.needs_mostly_or_completely_met"]
    assert missing["reproduced"] == ""
    assert missing["explanation"] == "not computable: the data have no needs_met"
    # no previous placements (which stopped the run with a NaN): not computable either
    moved = row.loc["high_cost_residential.moved_from_residential_percent"]
    assert moved["reproduced"] == ""
    assert moved["explanation"] == "not computable: the data have no previous_setting"
    # the selection errors need no needs-met judgement the table does not have
    se = _numbers(out, "sensitivity")
    assert se["not_run"]["value"] == {"selection error of needs_met": "the data have no needs_met"}


@pytest.mark.slow
def test_the_report_on_a_users_table_says_what_was_not_run(
    thin_run, thin_table, tmp_path, page_blankness, pdf_text
):
    out = thin_run
    assert paper.template(out).name == "study.typ"  # the seed study, but not its sample
    pdf = paper.build(out, tmp_path / "ours.pdf")
    text = pdf_text(pdf)
    assert text.startswith("South East Complex LAC needs analysis")
    assert "Its case data are the case table our_cases.csv, a table of 1,253 cases" in text
    assert "findings about that table (kind c)" in text
    # the analyses and parts the table cannot support, each with its reason
    assert "Not run: the data have no risk scores." in text
    assert "need profiles (the data have no risk_violence" in text
    assert "selection error of needs_met (the data have no needs_met)" in text
    assert "risk adjustment (the data have no risk scores)" in text
    # on the user's table the authority effects are findings about it, named
    ae = _numbers(out, "authority_effects")
    assert ae["highest_authority"]["evidence"] == "real_data"
    assert f"In this table {ae['highest_authority']['value']} has the highest costs" in text
    assert "each authority's effect on weekly cost in the case table, same setting" in text
    # the published figures beside the table's: a difference is a finding, not a failure
    assert "Comparison with published figures" in text
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    rows = findings[findings["obtained"] == "recomputed_from_rows"]
    uncomputable = int((rows["reproduced"] == "").sum())
    assert uncomputable == 10
    # the counts of one sentence in one style (paper/lib.typ's alike): 48 ... and 10
    assert "and 10 cannot be computed from these data" in text
    assert "not computable: the data have no needs_met" in text
    sha = provenance.file_hash(thin_table)
    assert "The case data are the case table our_cases.csv (1,253 rows, SHA-256" in text
    assert sha in text
    assert max(page_blankness(pdf).values()) <= 0.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[frame]\nyear = 2019", "[frame]\nyaer = 2019"), "unknown key frame.yaer"),
        (('region = "North West"', 'list = ["Blackpool", "Atlantis"]'), "'Atlantis'"),
        (('region = "North West"', 'region = "North Wast"'), "unknown region 'North Wast'"),
    ],
)
def test_a_wrong_study_file_stops_before_any_work(tmp_path, capsys, change, message):
    path = tmp_path / "bad.toml"
    path.write_text(NORTH_WEST.replace(*change), encoding="utf-8")
    out = tmp_path / "results"
    assert cli.main(["reproduce", "--study", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lacstats: error:")
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


# ---------------------------------------------------------------- per-authority packs


def test_distance_bands_follow_the_far_from_home_line():
    assert reporting.distance_bands(100) == reporting.DISTANCE_BANDS
    assert [label for *_, label in reporting.distance_bands(75)] == [
        "up to 20 miles",
        "20 to 50 miles",
        "50 to 75 miles",
        "over 75 miles",
    ]
    assert [label for *_, label in reporting.distance_bands(30)] == [
        "up to 20 miles",
        "20 to 30 miles",
        "over 30 miles",
    ]


def _counts_are_safe(frame: pd.DataFrame) -> bool:
    columns = [c for c in frame.columns if str(c).startswith("children") or c == "Total"]
    values = [v for c in columns for v in frame[c].tolist()]
    shown = [float(v) for v in values if v not in ("c", None) and not pd.isna(v)]
    return all(v == 0 or v >= 5 for v in shown)


@pytest.mark.slow
def test_packs_for_a_north_west_study(north_west_study, tmp_path, capsys):
    out = tmp_path / "packs"
    args = ["report", "--study", str(north_west_study), "--all", "--fast", "--out", str(out)]
    assert cli.main(args) == 0
    written = capsys.readouterr().out.split()
    assert len(written) == 46  # 23 authorities x (HTML, XLSX)
    html = (out / "Blackpool.html").read_text()
    tables = pd.read_html(StringIO(html))
    assert all(_counts_are_safe(t) for t in tables)
    # the design table: the study's frame (DfE 2019, aged 10+) and design
    book = openpyxl.load_workbook(out / "Blackpool.xlsx")
    header, row = ([c.value for c in r] for r in book["sample design"].iter_rows(max_row=2))
    design = dict(zip(header, row, strict=True))
    frame = datasets.authority_frame(2019, ["Blackpool"])
    label = "frame: children looked after aged 10 and over at 31 March 2019 (DfE 2019 release)"
    assert design[label] == int(frame["lac_10_plus"].iloc[0])
    assert design["design sample (CRS, 95%, +/-10)"] == 74
    # the study's far-from-home line makes the top distance band, and the cohort
    distance = [c.value for c in book["distance from home"]["A"]]
    assert "over 75 miles" in distance
    assert "over 100 miles" not in distance
    assert "North West complex needs study" in html
    assert "nothing in these packs is a fact about the authorities named" in html
    assert "DfE children looked after, 2019" in html
    notes = [c.value for c in book["notes"]["A"]]
    assert "Not in this pack: cohort frequent_moves: the data have no placement_number." in notes


def test_packs_on_a_users_table_say_what_they_leave_out(thin_table, tmp_path, capsys):
    out = tmp_path / "packs"
    args = ["report", "--cases", str(thin_table), "--authority", "Kent", "--fast"]
    assert cli.main([*args, "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out / "Kent.xlsx")
    assert "needs scored 4-5" not in book.sheetnames
    assert {"placement settings", "distance from home", "commissioning cohorts"} <= set(
        book.sheetnames
    )
    cohorts = [c.value for c in book["commissioning cohorts"]["A"]]
    assert "keeping_local" in cohorts
    assert "violence" not in cohorts
    html = (out / "Kent.html").read_text()
    assert "needs scored 4-5: the data have no risk_violence" in html
    assert f"case table {thin_table}" in html
    # authority effects adjusted for what the data hold: setting, not risk
    effect = pd.read_html(StringIO(html))[-1]
    assert effect["authorities"].iloc[0] == 19
    share = effect["weekly cost versus the regional mean, same setting (%)"].iloc[0]
    assert np.isfinite(share)


def test_a_pack_for_an_authority_outside_the_study_is_refused(north_west_study, tmp_path, capsys):
    args = ["report", "--study", str(north_west_study), "--authority", "Kent"]
    assert cli.main([*args, "--out", str(tmp_path / "packs")]) == 2
    err = capsys.readouterr().err
    assert "'Kent' is not an authority of the study 'north_west'" in err
    assert not (tmp_path / "packs").exists()


# ------------------------------------------------- a consortium's table, typed as analysts type

CONSORTIUM = """
[study]
name = "lancs"
title = "Lancashire and neighbours complex needs study"
[authorities]
list = ["Blackburn with Darwen", "Blackpool", "Bolton", "Bury", "Lancashire", "Wigan"]
[frame]
year = 2019
[cases]
path = "our_cases.csv"
"""
#: The analyses that read the case table (the others do not depend on it).
CASE_ANALYSES = [
    "calibrated_sample",
    "sample_design",
    "risk_cost",
    "authority_effects",
    "cohorts",
    "sensitivity",
]


@pytest.fixture(scope="module")
def consortium(tmp_path_factory):
    """A consortium's table as its analysts typed it: a weekly cost of £0.00 for children
    placed with parents, no need items, no previous placements, columns called
    authority_effect and need_profile holding their own notes, costs typed as "£1,234.00",
    and one authority (Bury) that sent nothing."""
    from lacstats import study

    folder = tmp_path_factory.mktemp("consortium")
    path = folder / "lancs.toml"
    path.write_text(CONSORTIUM, encoding="utf-8")
    planned = study.load(path)
    cases = synthetic.sample(planned, rng=11)
    cases = cases[cases["authority"] != "Bury"].copy()
    cases.loc[cases["placement_setting"] == "with_parents", "weekly_cost"] = 0.0
    cases = cases.drop(
        columns=[*schema.NEED_ITEMS, "risk_score", "previous_setting", "previous_weekly_cost"]
    )
    cases["weekly_cost"] = [f"£{v:,.2f}" for v in cases["weekly_cost"]]
    cases["authority_effect"] = np.where(cases.index % 2, "high spender", "low spender")
    cases["need_profile"] = "complex; see the social worker's notes"
    cases.to_csv(folder / "our_cases.csv", index=False)
    return path, cases


@pytest.fixture(scope="module")
def consortium_run(consortium):
    path, _ = consortium
    out = path.parent / "results"
    args = ["reproduce", "--study", str(path), "--out", str(out), "--fast", "--jobs", "2"]
    from contextlib import redirect_stderr
    from io import StringIO as Buffer

    said = Buffer()
    with redirect_stderr(said):
        code = cli.main([*args, "--only", *CASE_ANALYSES])
    return code, out, said.getvalue()


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_a_consortium_table_typed_as_analysts_type_it_runs_to_the_end(consortium, consortium_run):
    _, cases = consortium
    code, out, said = consortium_run
    assert code == 0, said
    zero = cases[cases["weekly_cost"] == "£0.00"]
    assert len(zero) > 0
    # before any analysis ran: every case an analysis cannot use, by case id and column
    before = said.split("[")[0]
    assert "Before any analysis runs" in before
    for case in zero["case_id"]:
        assert f"{case}, weekly_cost = 0.0: authority_effects" in before
    assert "risk_cost: not run: the data have no risk scores" in before
    assert "the data have no cases from Bury" in before
    # every analysis ran or says why not; the skips are the data's, each with its reason
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["analyses"]) == sorted(CASE_ANALYSES)
    risk = _numbers(out, "risk_cost")["not_run"]["value"]
    assert risk == {"analysis": "the data have no risk scores"}
    co = _numbers(out, "cohorts")["not_run"]["value"]
    assert co["need profiles"].startswith("the data have no risk_violence")
    assert co["cohort frequent_moves"] == "the data have no placement_number"
    # the lognormal cost models leave the zero costs out, count them, and say so
    ae = _numbers(out, "authority_effects")
    assert ae["left_out_cases"]["value"] == {"cost models": len(zero)}
    assert ae["left_out"]["value"]["cost models"].startswith(
        f"{len(zero)} cases with weekly_cost 0 or less left out: the cost models are lognormal"
    )
    assert ae["far_known"]["value"] == int(cases["distance_miles"].notna().sum())  # all kept
    # the columns named like the generator's truth are the consortium's data, not truth
    assert "generator_authority_sd" not in ae
    assert not (out / "authority_effects" / "authority_effects_recovery.csv").exists()
    assert "generator_profiles" not in _numbers(out, "cohorts")
    # the authority with no cases is left out of the simulations, which say so
    for name, part in (
        ("sample_design", "selection and weighting"),
        ("sensitivity", "selection error"),
    ):
        note = _numbers(out, name)["left_out"]["value"][part]
        assert note.startswith("the data have no cases from Bury: it is left out"), name
    # no previous placements, and no published figures for this study to compare with
    assert "previous_setting" not in cases
    cal = _numbers(out, "calibrated_sample")["not_run"]["value"]
    assert cal["comparison with published figures"] == "the study names none"
    counts = pd.read_csv(out / "calibrated_sample" / "authority_counts.csv")
    assert pd.isna(counts.set_index("authority").loc["Bury", "n"])  # none returned
    # nothing child-level in the results
    for file in out.rglob("*.csv"):
        assert not set(cases["case_id"]) & set(file.read_text().replace("\n", ",").split(","))


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_the_consortium_report_says_what_was_left_out(consortium_run, tmp_path, pdf_text):
    _, out, _ = consortium_run
    pdf = paper.build(out, tmp_path / "lancs.pdf")
    text = " ".join(pdf_text(pdf).split())
    assert "Lancashire and neighbours complex needs study" in text
    assert "Cases left out: cost models:" in text
    assert "the data have no cases from Bury" in text


# ------------------------------------------------------------- the consortium's own returns

THREE = """
[study]
name = "three"
title = "Three North West authorities"
[authorities]
list = ["Blackpool", "Bolton", "Bury"]
[frame]
year = 2019
[ssda903]
path = "extract"
"""


@pytest.fixture(scope="module")
def own_returns(tmp_path_factory):
    """A regional extract of three authorities' returns (header and episodes with LA and
    YEAR columns, as the regional pipelines write them), four collection years."""
    from lacstats import ssda903

    folder = tmp_path_factory.mktemp("three")
    extract = ssda903.simulate_region(
        {"Blackpool": 60, "Bolton": 90, "Bury": 40}, years=(2019, 2020, 2021, 2022), rng=1
    )
    (folder / "extract").mkdir()
    extract["header"].to_csv(folder / "extract" / "SSDA903_Header_merged.csv", index=False)
    extract["episodes"].to_csv(folder / "extract" / "SSDA903_Episodes_merged.csv", index=False)
    path = folder / "three.toml"
    path.write_text(THREE, encoding="utf-8")
    out = folder / "results"
    only = ["study_returns", "cost_calculator", "projection"]
    args = ["reproduce", "--study", str(path), "--out", str(out), "--fast", "--quiet"]
    assert cli.main([*args, "--jobs", "2", "--only", *only]) == 0
    return path, out


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_a_study_runs_on_its_own_ssda903_returns(own_returns):
    path, out = own_returns
    numbers = _numbers(out, "study_returns")
    assert numbers["children_at_census"]["evidence"] == "real_data"
    assert (numbers["first_year"]["value"], numbers["last_year"]["value"]) == (2019, 2022)
    assert numbers["authorities"]["value"] == 3
    assert numbers["census_date"]["value"] == "2022-03-31"
    # per authority and pooled: the cost tables, the census and the projection
    costs = pd.read_csv(out / "study_returns" / "costs_by_authority.csv")
    assert {"Blackpool", "Bolton", "Bury"} <= set(costs["authority"])
    census = pd.read_csv(out / "study_returns" / "cases_by_setting.csv", dtype=str)
    assert {"Blackpool", "Bolton", "Bury"} == set(census["authority"])
    shown = census.loc[census["children"] != "c", "children"].astype(int)
    assert shown.sum() <= numbers["children_at_census"]["value"]
    assert not shown.between(1, 4).any()  # small counts suppressed
    # one table of the census counts: the cost tables' (one suppression of each count)
    assert not (out / "study_returns" / "census_by_setting.csv").exists()
    stock = pd.read_csv(out / "study_returns" / "stock_and_flow.csv")
    assert {"Blackpool", "Bolton", "Bury"} <= set(stock["authority"])
    # the back-test: each authority alone and pooled, scored against the 2021-22 return
    scores = pd.read_csv(out / "study_returns" / "backtest_scores.csv")
    assert set(scores["pooling"]) == {"none", "partial"}
    assert 0 <= numbers["backtest_partial_coverage_90"]["value"] <= 1
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["ssda903_returns"]
    assert record["paths"] == [str(path.parent / "extract")]
    assert len(record["sha256"]) == 64
    assert "CHILD" not in (out / "study_returns" / "stock_and_flow.csv").read_text()


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_the_report_and_packs_say_whose_returns(own_returns, tmp_path, pdf_text, capsys):
    path, out = own_returns
    text = " ".join(pdf_text(paper.build(out, tmp_path / "three.pdf")).split())
    assert "The study's own SSDA903 returns are analysed in Section" in text
    assert "The SSDA903 returns the study names (extract) cover four collection years" in text
    assert "findings about the study's own returns (kind c)" in text
    packs = tmp_path / "packs"
    args = ["report", "--study", str(path), "--authority", "Bolton", "--fast"]
    assert cli.main([*args, "--out", str(packs)]) == 0
    html = (packs / "Bolton.html").read_text().replace("&#x27;", "'")
    assert "SSDA903: the study's own SSDA903 returns (extract)" in html


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_without_its_own_returns_the_report_says_they_are_the_packaged_ones(north_west):
    # the North West study names no [ssda903]: its SSDA903 sections demonstrate fake903
    manifest = json.loads((north_west / "manifest.json").read_text())
    assert manifest["ssda903_returns"] is None


# ------------------------------------------------- truth is not a column name


@pytest.fixture(scope="module")
def packaged_sample_files(tmp_path_factory):
    """The packaged sample as a user might save it, with the generator's truth written
    out beside the data as ordinary columns (as older versions of lacstats wrote them):
    CSV, XLSX and Parquet."""
    drawn = synthetic.calibrated_sample(rng=2019)
    cases = drawn.cases.assign(
        authority_effect=drawn.cases["authority"].astype(str).map(drawn.truth.authority_effects),
        need_profile=drawn.cases["case_id"].map(drawn.truth.need_profiles),
    )
    folder = tmp_path_factory.mktemp("packaged")
    cases.to_csv(folder / "sample.csv", index=False)
    cases.to_excel(folder / "sample.xlsx", index=False)
    cases.to_parquet(folder / "sample.parquet", index=False)
    return folder


@pytest.mark.slow  # a whole run (reproduce --study): CI runs it
def test_the_packaged_sample_round_trips_through_every_format(packaged_sample_files, capsys):
    from lacstats import analysis, study

    seed = study.south_east()
    read = {
        kind: analysis.case_data(seed.with_cases(packaged_sample_files / f"sample.{kind}"), 2019)
        for kind in ("csv", "xlsx", "parquet")
    }
    for kind, data in read.items():
        # a user's table: every column is data, the truth columns among them, read as such
        assert data.truth is None, kind
        assert data.cases["need_profile"].iloc[0] in {p.name for p in synthetic.PROFILES}
        pd.testing.assert_frame_equal(
            data.cases.drop(columns=["authority_effect", "need_profile"]),
            synthetic.complex_lac(rng=2019),
            check_dtype=False,
            check_categorical=False,
        )
    # the runner's only input is this table, so one run stands for all three
    out = packaged_sample_files / "results"
    args = ["reproduce", "--cases", str(packaged_sample_files / "sample.csv"), "--fast"]
    only = ["calibrated_sample", "authority_effects", "cohorts", "risk_cost"]
    assert cli.main([*args, "--out", str(out), "--quiet", "--jobs", "2", "--only", *only]) == 0
    capsys.readouterr()
    ae = _numbers(out, "authority_effects")
    assert "generator_authority_sd" not in ae  # no truth on a user's table
    assert ae["highest_authority"]["evidence"] == "real_data"
    cal = _numbers(out, "calibrated_sample")
    assert cal["findings_matched"]["value"] == cal["findings_total"]["value"] == 48
    parquet = packaged_sample_files / "sample.parquet"
    other = packaged_sample_files / "results.parquet"
    assert (
        cli.main(
            [
                *args[:2],
                str(parquet),
                "--fast",
                "--out",
                str(other),
                "--quiet",
                "--only",
                "calibrated_sample",
            ]
        )
        == 0
    )
    assert (other / "findings.csv").read_bytes() == (out / "findings.csv").read_bytes()
