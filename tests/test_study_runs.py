"""Studies end to end: another region's study, the South East study on a user's table
that lacks columns, and study files that are wrong (errors before any work)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lacstats import cli, schema, synthetic

NORTH_WEST = """
[study]
name = "north_west"
title = "North West complex needs study"
[authorities]
region = "North West"
[frame]
year = 2019
[cases]
path = "synthetic"
"""


def _numbers(out, name):
    return json.loads((out / name / "numbers.json").read_text())


def test_a_north_west_study_on_its_synthetic_sample(tmp_path, capsys):
    path = tmp_path / "nw.toml"
    path.write_text(NORTH_WEST, encoding="utf-8")
    out = tmp_path / "results"
    only = ["calibrated_sample", "sample_design", "sufficiency", "cost_calculator", "risk_cost"]
    args = ["reproduce", "--study", str(path), "--out", str(out), "--fast", "--quiet"]
    assert cli.main([*args, "--jobs", "1", "--only", *only]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"]["name"] == "north_west"
    assert manifest["study"]["region"] == "North West"
    assert len(manifest["study"]["authorities"]) == 23
    assert manifest["case_data"]["source"].startswith("an uncalibrated synthetic sample")
    # the sample has the design's size, drawn for the study's authorities
    cal = _numbers(out, "calibrated_sample")
    design = _numbers(out, "sample_design")
    assert cal["cases"]["value"] == design["design_total"]["value"]
    assert cal["authorities"]["value"] == 23
    assert cal["cases"]["evidence"] == "synthetic_check"
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
        "need_profile",
        "authority_effect",
    ]
    path = tmp_path_factory.mktemp("thin") / "our_cases.csv"
    cases.drop(columns=[c for c in drop if c in cases]).to_csv(path, index=False)
    return path


def test_the_south_east_study_on_a_table_without_needs(tmp_path, thin_table, capsys):
    out = tmp_path / "results"
    args = ["reproduce", "--cases", str(thin_table), "--out", str(out), "--fast", "--quiet"]
    only = ["calibrated_sample", "risk_cost", "cohorts"]
    # differences from the published figures are findings about the table: exit 0
    assert cli.main([*args, "--jobs", "1", "--only", *only]) == 0
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
