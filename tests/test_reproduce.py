"""The runner: byte-identical numbers and findings, atomic results, the CLI."""

from __future__ import annotations

import json
import signal

import pandas as pd
import pytest

from lacstats import cli, paper
from lacstats.errors import LacstatsError
from lacstats.reproduce import run_all


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    first = run_all(base / "a", seed=11, only=["calibrated_sample"])
    second = run_all(base / "b", seed=11, only=["calibrated_sample"])
    return base, first, second


def test_same_seed_byte_identical(two_runs):
    base, *_ = two_runs
    for name in (
        "findings.csv",
        "calibrated_sample/numbers.json",
        "calibrated_sample/findings.csv",
        "calibrated_sample/cost_by_risk_band.svg",
    ):
        assert (base / "a" / name).read_bytes() == (base / "b" / name).read_bytes(), name


def test_manifest_records_provenance(two_runs):
    base, first, _ = two_runs
    manifest = json.loads((base / "a" / "manifest.json").read_text())
    assert manifest["options"]["seed"] == 11
    assert manifest["dependencies"]["numpy"]
    assert "SFR50_CLA2017.csv" in manifest["packaged_data_sha256"]
    assert manifest["analyses"]["calibrated_sample"]["wall_seconds"] > 0
    numbers = json.loads((base / "a" / "calibrated_sample" / "numbers.json").read_text())
    assert numbers["high_cost_residential__children"] == {"value": 114, "unit": "children"}
    assert first.findings["match"].all()
    assert "findings matched: 51 of 51" in first.summary()


def test_failed_run_leaves_previous_results(tmp_path, two_runs):
    base, *_ = two_runs
    bad = tmp_path / "analyses"
    bad.mkdir()
    (bad / "broken.py").write_text("NAME = 'broken'\ndef run(ctx):\n    raise RuntimeError('x')\n")
    out = base / "a"
    before = (out / "findings.csv").read_bytes()
    with pytest.raises(RuntimeError):
        run_all(out, folder=bad)
    assert (out / "findings.csv").read_bytes() == before


def test_parallel_and_serial_runs_give_the_same_bytes(two_runs):
    base, *_ = two_runs
    names = ["calibrated_sample", "savings", "sufficiency"]
    serial = run_all(base / "serial", seed=11, only=names, jobs=1)
    parallel = run_all(base / "parallel", seed=11, only=names, jobs=3)
    files = [
        "findings.csv",
        *(f"{n}/numbers.json" for n in names),
        "savings/dorset_high_cost_review.csv",
    ]
    for name in files:
        assert (base / "serial" / name).read_bytes() == (base / "parallel" / name).read_bytes()
    # rows and manifests in name order whatever order the processes finished in
    assert list(parallel.table["analysis"]) == list(serial.table["analysis"]) == names
    manifest = json.loads((base / "parallel" / "manifest.json").read_text())
    assert (manifest["options"]["jobs"], list(manifest["analyses"])) == (3, names)


def test_failed_parallel_run_leaves_previous_results(tmp_path, two_runs):
    base, *_ = two_runs
    folder = tmp_path / "analyses"
    folder.mkdir()
    started, finished = tmp_path / "started", tmp_path / "finished"
    # a worker's analysis that would outlast the failure by far ...
    (folder / "slow.py").write_text(
        "import time, pathlib\nNAME = 'slow'\n"
        "def run(ctx):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(20)\n"
        f"    pathlib.Path({str(finished)!r}).touch()\n"
    )
    # ... and the longest, run in this process, failing once the other has started
    (folder / "broken.py").write_text(
        "import time, pathlib\nNAME = 'broken'\nEXPECTED_SECONDS = 100\n"
        "def run(ctx):\n"
        f"    while not pathlib.Path({str(started)!r}).exists():\n"
        "        time.sleep(0.05)\n"
        "    raise ValueError('column x, row 3')\n"
    )
    out = base / "a"
    before = (out / "findings.csv").read_bytes()
    with pytest.raises(ValueError, match="column x, row 3"):
        run_all(out, folder=folder, jobs=2)
    # the worker was stopped, not waited for; nothing of the run is left
    assert not finished.exists()
    assert (out / "findings.csv").read_bytes() == before
    assert not (out / "slow").exists()
    assert not list(base.glob(".a.staging.*"))


def test_analysis_declarations_are_literals(tmp_path):
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "odd.py").write_text("NAME = 'o' + 'dd'\ndef run(ctx):\n    pass\n")
    with pytest.raises(LacstatsError, match=r"odd\.py, line 1: NAME must be a literal"):
        run_all(tmp_path / "out", folder=folder)
    (folder / "odd.py").write_text("NAME = 'odd'\ndef run(ctx):\n    pass\n")
    with pytest.raises(LacstatsError, match="'jobs' must be a positive integer; got 0"):
        run_all(tmp_path / "out", folder=folder, jobs=0)
    assert not (tmp_path / "out").exists()


def test_cli_reproduce(tmp_path, capsys):
    handler = signal.getsignal(signal.SIGTERM)
    args = ["reproduce", "--out", str(tmp_path / "r"), "--only", "savings", "sufficiency"]
    assert cli.main([*args, "--jobs", "2", "--seed", "5"]) == 0
    out, err = capsys.readouterr()
    assert "findings matched: 16 of 16" in out
    # progress lines from the worker process reach the terminal through the main process
    assert "[savings] done in" in err
    assert "[sufficiency] done in" in err
    assert signal.getsignal(signal.SIGTERM) == handler  # the run's handler is undone
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["options"] == {
        "seed": 5,
        "fast": False,
        "only": ["savings", "sufficiency"],
        "jobs": 2,
    }
    with pytest.raises(SystemExit) as stop:  # argparse: one line, exit 2
        cli.main([*args, "--quiet", "--jobs", "0"])
    assert stop.value.code == 2
    assert "--jobs: '0': must be at least 1" in capsys.readouterr().err


def test_cli_sample_size(capsys):
    assert cli.main(["sample-size", "--population", "900"]) == 0
    assert capsys.readouterr().out.strip() == "87"


def test_cli_design(capsys, tmp_path):
    out = tmp_path / "design.csv"
    assert cli.main(["design", "--year", "2017", "--out", str(out)]) == 0
    assert "total n = 1,268" in capsys.readouterr().out
    assert out.read_text().count("\n") == 20


def test_cli_reports_errors(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["sample-size", "--population", "900", "--interval", "0"])
    assert stop.value.code == 2
    assert "--interval: '0'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """One `lacstats reproduce --fast` of every analysis (the CI smoke test)."""
    out = tmp_path_factory.mktemp("fast") / "results"
    return out, run_all(out, seed=2019, fast=True)


def test_fast_run_covers_every_analysis(fast_run):
    out, summary = fast_run
    assert set(summary.table["analysis"]) == {
        "calibrated_sample",
        "sample_design",
        "risk_cost",
        "sensitivity",
        "sufficiency",
        "cost_calculator",
        "savings",
        "projection",
        "cohorts",
        "authority_effects",
    }
    assert summary.findings["match"].all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["fast"] is True
    assert manifest["fast_note"].startswith("MCMC and simulations shortened")
    for name in summary.table["analysis"]:
        assert (out / name / "numbers.json").is_file()
        assert (out / name / "manifest.json").is_file()


def test_sample_design_analysis(fast_run):
    out, _ = fast_run
    folder = out / "sample_design"
    numbers = json.loads((folder / "numbers.json").read_text())
    assert numbers["design_total_crs"]["value"] == 1268
    assert numbers["design_total_exact"]["value"] == 1275
    assert numbers["bias_top_cost__high_cost_residential"]["value"] > 10
    assert abs(numbers["bias_random__over_100_miles"]["value"]) < 3
    assert {
        "design_2017.csv",
        "audit.csv",
        "selection_study.csv",
        "selection_bias.png",
        "selection_bias.svg",
    } <= {p.name for p in folder.iterdir()}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["options"]["reps"] == 20


def test_risk_cost_analysis(fast_run):
    out, _ = fast_run
    folder = out / "risk_cost"
    numbers = json.loads((folder / "numbers.json").read_text())
    assert 0.1 < numbers["spearman"]["value"] < 0.3
    assert numbers["spearman_ci_low"]["value"] < numbers["spearman"]["value"]
    text = (folder / "summary.txt").read_text()
    assert text.startswith("Spearman correlation of risk_score and weekly_cost")
    table = (folder / "risk_cost.csv").read_text()
    assert "mixed model, authority intercepts" in table
    assert "case_id" not in table


def test_cohorts_analysis(fast_run):
    out, _summary = fast_run
    folder = out / "cohorts"
    numbers = json.loads((folder / "numbers.json").read_text())
    assert numbers["keeping_local_children"]["value"] == 200
    assert numbers["keeping_local_percent"]["value"] == "16.5%"
    assert numbers["high_cost_weekly"]["value"] == 666433
    assert numbers["kmeans_profiles"]["value"] == 5
    table = (folder / "kmeans_profiles_by_cohort.csv").read_text()
    assert ",c," in table  # small counts suppressed


def test_authority_effects_analysis(fast_run):
    out, _ = fast_run
    numbers = json.loads((out / "authority_effects" / "numbers.json").read_text())
    # the synthetic authority effects have SD 0.07 on the log scale
    assert 0.02 < numbers["authority_sd"]["value"] < 0.15
    assert numbers["far_children"]["value"] == 200
    assert numbers["loo_best"]["value"] in {"partial", "unpooled", "pooled"}
    manifest = json.loads((out / "authority_effects" / "manifest.json").read_text())
    assert set(manifest["diagnostics"]) == {
        "partial_pooling",
        "far_from_home",
        "pooled",
        "unpooled",
    }


def test_sensitivity_analysis(fast_run):
    out, _ = fast_run
    numbers = json.loads((out / "sensitivity" / "numbers.json").read_text())
    assert numbers["high_cost_at_4800"]["value"] == 114
    assert numbers["high_cost_at_6000"]["value"] == 37
    assert numbers["keeping_local_at_100"]["value"] == 200
    assert numbers["design_total_95_10"]["value"] == 1268
    assert numbers["selection_error_top_cost_high_cost"]["value"] > 10


def test_cost_savings_and_projection_analyses(fast_run):
    out, summary = fast_run
    numbers = json.loads((out / "cost_calculator" / "numbers.json").read_text())
    # seed 001, Table 4: £3,332,385 for all placement types, £1,264 a week
    assert numbers["dorset_all_types_total"]["value"] == 3332385
    assert numbers["dorset_all_types_mean_weekly"]["value"] == 1264
    assert numbers["children_at_census"]["value"] > 100
    by_type = (out / "cost_calculator" / "costs_by_type.csv").read_text()
    assert ",c," in by_type  # small counts suppressed, with the costs they reveal
    savings = json.loads((out / "savings" / "numbers.json").read_text())
    assert savings["dorset_full_year_avoided"]["value"] == 321360 + 483028 + 1406860
    assert savings["high_cost_review_total"]["value"] == 1124872
    assert savings["high_cost_review_in_year"]["value"] == 1124872 // 2
    low, high = (savings[f"high_cost_review_in_year_{k}"]["value"] for k in ("low", "high"))
    assert low < 1124872 // 2 < high
    projected = json.loads((out / "projection" / "numbers.json").read_text())
    assert projected["nottinghamshire_months_to_cap"]["value"] == 7
    assert projected["south_east_10_plus_2019"]["value"] == 6872
    assert projected["stock_end_low"]["value"] <= projected["stock_end_mean"]["value"]
    assert (out / "projection" / "fan_chart.png").is_file()
    matched = summary.findings.set_index("finding")["match"]
    assert matched["dorset_high_cost_review.total"]
    # seed 002 cites England's first-published DfE counts (2018: 75,420)
    assert matched["bath_ne_somerset.england_lac_31_march.2018"]
    # nothing from the SSDA903 returns is child-level: no CHILD identifier as a field,
    # and the projection's real start counts under 5 are pooled
    from lacstats import ssda903

    children = set(ssda903.read(ssda903.fake903_path()).header["CHILD"])
    for name in ("cost_calculator", "projection"):
        for path in (out / name).glob("*.csv"):
            fields = {f for line in path.read_text().splitlines() for f in line.split(",")}
            assert not fields & children, path
    stock = pd.read_csv(out / "projection" / "stock_and_flow.csv")
    start = stock[(stock["month"] == 0) & (stock["placement_type"] != "All")]["mean"]
    assert not start.between(1, 4).any()
    banes = json.loads((out / "sufficiency" / "numbers.json").read_text())
    assert banes["banes_lac_2018_dfe"]["value"] == 169
    assert matched["dorset_cost_calculator_sample.all_types_weeks"]


def test_cli_sensitivity_sweep(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("confidence = [0.95, 0.99]\ninterval = [10]\n")
    out = tmp_path / "design.csv"
    assert (
        cli.main(["sensitivity", "design", "--grid", str(grid), "--out", str(out), "--quiet"]) == 0
    )
    assert "0.95,10,crs,1268" in out.read_text().replace(".0,", ",")
    bad = tmp_path / "bad.toml"
    bad.write_text("confidence = 0.95\n")
    assert cli.main(["sensitivity", "design", "--grid", str(bad)]) == 2
    assert "list of values" in capsys.readouterr().err


def test_no_output_has_a_case_identifier(fast_run):
    out, _ = fast_run
    for path in out.rglob("*"):
        if path.suffix in {".csv", ".json", ".txt", ".svg"}:
            assert "SE0" not in path.read_text(), path


def test_paper_compiles(fast_run, tmp_path):
    out, _ = fast_run
    pdf = paper.build(out, tmp_path / "paper.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 50_000
    again = paper.build(out, tmp_path / "again.pdf")
    assert again.read_bytes() == data  # fixed timestamp: the same results, the same PDF
    with pytest.raises(LacstatsError, match="incomplete"):
        paper.build(tmp_path, tmp_path / "none.pdf")
