"""Faults a hostile but realistic user meets: outputs over inputs, interrupts during a fit,
SIGKILL then a rerun, --only over a full folder, differencing across packs, bad arguments
on the command line and in the Python API. Nothing lost, nothing leaked, no traceback."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lacstats import cli, cohorts, disclosure, outputs, regression, reporting, sampling, ssda903
from lacstats.errors import LacstatsError
from lacstats.reproduce import run_all


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def _one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lacstats: error: "), err
    assert "Traceback" not in err


# --- outputs never destroy inputs ---------------------------------------------------------


@pytest.fixture
def returns(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    for path in ssda903.fake903_path().glob("2019-*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.mark.parametrize(
    ("out", "why"),
    [
        ("{returns}", "is the input"),
        ("{returns}/tables", "lies inside the input"),
        ("{tmp}", "contains the input"),
        ("{returns}/2019-header.csv", "is the input|lies inside"),
        ("{tmp}/a-file.txt", "an existing file"),
        ("{tmp}/someone-elses", "did not make"),
    ],
)
def test_ssda903_refuses_an_output_over_its_input(returns, tmp_path, out, why):
    (tmp_path / "a-file.txt").write_text("keep me")
    (tmp_path / "someone-elses").mkdir()
    (tmp_path / "someone-elses" / "thesis.docx").write_text("keep me too")
    before = _digest(tmp_path)
    target = out.format(returns=returns, tmp=tmp_path)
    code, _, err = _run_cli(["ssda903", str(returns), "--out", target])
    assert code == 2
    _one_line_error(err)
    assert __import__("re").search(why, err), err
    assert _digest(tmp_path) == before  # nothing changed, nothing added


def test_other_commands_refuse_outputs_over_inputs(tmp_path, small_cases):
    cases = tmp_path / "cases.csv"
    small_cases.to_csv(cases, index=False)
    folder = tmp_path / "folder"
    folder.mkdir()
    before = _digest(tmp_path)
    for argv in (
        ["report", "--authority", "Kent", "--cases", str(cases), "--out", str(cases)],
        ["report", "--all", "--cases", str(cases), "--out", str(tmp_path)],
        ["design", "--out", str(folder)],
        ["sensitivity", "threshold", "--out", str(folder)],
        ["reproduce", "--out", str(Path(outputs.__file__).parents[1] / "analyses")],
        ["reproduce", "--out", str(cases)],
    ):
        code, _, err = _run_cli(argv)
        assert code == 2, argv
        _one_line_error(err)
    assert _digest(tmp_path) == before


def test_sigkill_leaves_a_staging_folder_that_the_next_run_removes(tmp_path):
    target = tmp_path / "results"
    script = textwrap.dedent(
        f"""
        import time
        from lacstats.outputs import atomic_directory
        with atomic_directory({str(target)!r}) as staging:
            (staging / "half.txt").write_text("half")
            print("ready", flush=True)
            time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout.readline().strip() == "ready"
        child.kill()
        child.wait()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1
    assert ".results.staging." in left[0]
    with outputs.atomic_directory(target) as staging:
        (staging / "full.txt").write_text("full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    assert (target / "full.txt").read_text() == "full"
    assert oct((target).stat().st_mode & 0o777) != oct(0o700)


# --- a tiny analyses folder for the runner ------------------------------------------------

_TINY = """
NAME = "{name}"
TITLE = "tiny analysis {name}"

import pandas as pd


def run(ctx):
    ctx.numbers(value=(ctx.seed, "seed"))
    ctx.findings(pd.DataFrame([dict(finding="{name}", definition="", unit="", published=1,
        reproduced=1, rule="exact", match=True, source="test")]))
"""

# An analysis whose "sampler" calls back into Python through ctypes, as nutpie does: a
# signal arriving during the callback raises there, and ctypes swallows it ("Exception
# ignored on calling ctypes callback function"). The run must stop all the same.
_SWALLOWING = """
NAME = "sampler"
TITLE = "a sampler that swallows interrupts"

import ctypes, ctypes.util, os, time
from pathlib import Path


def run(ctx):
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    compare_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    ready = Path(os.environ["READY_FILE"])
    deadline = time.monotonic() + 6

    def compare(a, b):
        ready.write_text("sampling")
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return 0

    values = (ctypes.c_int * 2)(2, 1)
    libc.qsort(values, 2, ctypes.sizeof(ctypes.c_int), compare_t(compare))
    ready.with_name("after").write_text("the callback swallowed the interrupt")
    ctx.numbers(done=1)
"""


def _analyses(folder: Path, *sources: str) -> Path:
    folder.mkdir()
    for i, source in enumerate(sources):
        (folder / f"a{i}.py").write_text(source)
    return folder


def test_only_merges_into_a_full_results_folder(tmp_path):
    analyses = _analyses(
        tmp_path / "analyses", _TINY.format(name="first"), _TINY.format(name="second")
    )
    out = tmp_path / "results"
    run_all(out, seed=1, folder=analyses, jobs=1)
    second_before = (out / "second" / "numbers.json").read_bytes()
    run_all(out, seed=2, folder=analyses, only=["first"], jobs=1)
    assert json.loads((out / "first" / "numbers.json").read_text())["value"]["value"] == 2
    assert (out / "second" / "numbers.json").read_bytes() == second_before
    findings = pd.read_csv(out / "findings.csv")
    assert findings["analysis"].tolist() == ["first", "second"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["analyses"]) == ["first", "second"]
    assert manifest["kept_from_previous_run"] == ["second"]
    assert manifest["analyses"]["second"]["seed"] == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_swallowed_inside_a_sampler_stops_the_run(tmp_path, signum, code):
    analyses = _analyses(tmp_path / "analyses", _SWALLOWING)
    out = tmp_path / "results"
    with outputs.atomic_directory(out) as staging:
        (staging / "previous.txt").write_text("previous results")
    before = _digest(out)
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import lacstats.reproduce
        lacstats.reproduce.analyses_folder = lambda: Path({str(analyses)!r})
        from lacstats import cli
        sys.exit(cli.main(["reproduce", "--only", "sampler", "--out", {str(out)!r},
                           "--jobs", "1", "--quiet"]))
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "READY_FILE": str(ready)},
    )
    started = time.monotonic()
    while not ready.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() - started < 60
        time.sleep(0.05)
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    assert (tmp_path / "after").exists()  # the sampler did swallow it and went on
    assert "Exception ignored" not in err  # ... silently: the run's one line is enough
    assert child.returncode == code, err
    assert _digest(out) == before  # the previous results stay
    assert sorted(p.name for p in tmp_path.iterdir()) == ["after", "analyses", "ready", "results"]


@pytest.mark.slow
def test_interrupt_during_real_nutpie_sampling_stops_the_run(tmp_path):
    """SIGINT while nutpie samples the hierarchical models of a real (fast) run: exit 130,
    the previous results untouched, no staging folder left."""
    out = tmp_path / "results"
    with outputs.atomic_directory(out) as staging:
        (staging / "previous.txt").write_text("previous results")
    before = _digest(out)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lacstats",
            "reproduce",
            "--only",
            "authority_effects",
            "--fast",
            "--jobs",
            "1",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    seen = []
    for line in child.stderr:  # progress messages, one a line
        seen.append(line)
        if "sampling far_from_home" in line:
            break
        assert time.monotonic() - started < 600, seen
    assert child.poll() is None, seen
    time.sleep(1.0)  # compiled by now or soon: the signal lands in compilation or sampling
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=300)
    assert child.returncode == 130, "".join(seen) + err
    assert "Traceback" not in err
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


# --- disclosure across all the packs of a region --------------------------------------------


@pytest.mark.slow
def test_no_suppressed_pack_cell_can_be_recovered_from_all_packs(cases):
    """The attacker holds every pack of the region and solves for each hidden cell: its
    least and greatest values over all non-negative tables agreeing with every published
    number (linear programming, scipy's HiGHS). A recovered cell has min == max."""
    names = cases["authority"].astype(str)
    small = names.value_counts().index[-1]
    keep = (names != small) | (names.eq(small).cumsum() <= 3)  # an authority with 3 cases
    region_cases = cases[keep.to_numpy()].reset_index(drop=True)
    authorities = sorted(region_cases["authority"].astype(str).unique())
    region = reporting.region_suppression(region_cases)
    packs = {a: reporting.authority_tables(region_cases, a, region=region) for a in authorities}
    checked = 0
    for table in (
        "placement settings",
        "distance from home",
        "needs scored 4-5",
        "commissioning cohorts",
    ):
        rows = [r for r in packs[authorities[0]].tables[table].index if r != "Total"]
        n_rows, n_auth = len(rows), len(authorities)
        index = {
            (r, a): i * n_auth + j for i, r in enumerate(rows) for j, a in enumerate(authorities)
        }
        equations, values = [], []

        def equation(cells, value, index=index, equations=equations, values=values):
            vector = np.zeros(len(index))
            for cell in cells:
                vector[index[cell]] = 1
            equations.append(vector)
            values.append(float(value))

        hidden = set()
        for a, pack in packs.items():
            shown = pack.tables[table]
            own, rest = f"children: {a}", "children: other authorities"
            for r in shown.index:
                rows_here = rows if r == "Total" else [r]
                for column, who in (
                    (own, [a]),
                    (rest, [b for b in authorities if b != a]),
                    ("Total", authorities),
                ):
                    value = shown.loc[r, column]
                    cells = [(x, w) for x in rows_here for w in who]
                    if value == disclosure.SUPPRESSED:
                        if column == own and r != "Total":
                            hidden.add((r, a))
                        continue
                    equation(cells, value)
        assert hidden, table
        a_eq, b_eq = np.array(equations), np.array(values)
        for cell in sorted(hidden):
            target = np.zeros(n_rows * n_auth)
            target[index[cell]] = 1
            low = linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            high = linprog(-target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            assert low.status == 0
            assert high.status == 0
            assert -high.fun - low.fun >= 1 - 1e-6, f"{table}: {cell} recovered"
            checked += 1
    assert checked >= 10
    # the authority with 3 cases is hidden in every table of its pack
    assert packs[small].tables["sample design"].iloc[0]["cases in the sample"] == "c"


@pytest.mark.slow
def test_report_all_that_fails_half_way_leaves_nothing(tmp_path, cases, monkeypatch):
    out = tmp_path / "packs"
    calls = {"n": 0}
    real = reporting.write_pack

    def failing(pack, folder, *, source):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(28, "No space left on device")
        return real(pack, folder, source=source)

    monkeypatch.setattr(reporting, "write_pack", failing)
    with pytest.raises(OSError, match="No space"):
        reporting.write_all(cases, out, source="test", fast=True)
    assert list(out.iterdir()) == []


def test_ledgers_suppress_small_counts(returns, tmp_path):
    out = tmp_path / "tables"
    code, _, err = _run_cli(["ssda903", str(returns), "--out", str(out)])
    assert code == 0, err
    for name, column in (("cleaning_report.csv", "count"), ("files.csv", "rows")):
        published = pd.read_csv(out / name, dtype=str)[column]
        numbers = pd.to_numeric(published, errors="coerce")
        assert not numbers.between(1, 4).any(), name


# --- the command line: one line, exit 2; --debug shows the traceback ----------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["sample-size", "--population", "abc"],
        ["sample-size", "--population", "900.5"],
        ["sample-size", "--population", "-3"],
        ["sample-size", "--confidence", "1.5"],
        ["reproduce", "--seed", "-1"],
        ["reproduce", "--jobs", "0"],
        ["sensitivity", "threshold", "--grid", "/no/such/grid.toml"],
        ["ssda903", "/no/such/returns", "--out", "x"],
        ["ssda903", ".", "--out", "x", "--census", "not a date"],
        ["ssda903", ".", "--out", "x", "--census", "03/31/2022"],
        ["ssda903", ".", "--out", "x", "--period", "x", "y"],
        ["ssda903", ".", "--out", "x", "--unit-costs", "/no/such/costs.csv"],
        ["report", "--authority", "Kent", "--out", "x", "--cases", "/no/such/cases.csv"],
        ["nonsense"],
    ],
)
def test_bad_arguments_are_one_line(argv):
    code, _, err = _run_cli(argv)
    assert code == 2
    _one_line_error(err)


def test_population_is_a_whole_number():
    code, out, _ = _run_cli(["sample-size", "--population", "900"])
    assert (code, out.strip()) == (0, "87")


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("high_cost = [4000]\nmilez = [20]\n", "unknown key.*milez"),
        ("high_cost = 4000\n", "must be a non-empty list"),
        ("high_cost = [\n", "not valid TOML"),
        ("miles = ['far']\n", "not numbers"),
    ],
)
def test_grid_mistakes_are_named(tmp_path, grid, message):
    path = tmp_path / "grid.toml"
    path.write_text(grid)
    code, _, err = _run_cli(["sensitivity", "threshold", "--grid", str(path)])
    assert code == 2
    _one_line_error(err)
    assert __import__("re").search(message, err), err


def test_debug_shows_the_traceback():
    code, _, err = _run_cli(["--debug", "reproduce", "--only", "no_such_analysis"])
    assert code == 2
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("lacstats: error:")


def test_unit_costs_are_read_as_money(returns, tmp_path):
    costs_file = tmp_path / "costs.csv"
    costs_file.write_text('placement_type,weekly_cost\nIn-house fostering,"4,80"\n')
    code, _, err = _run_cli(
        ["ssda903", str(returns), "--out", str(tmp_path / "t"), "--unit-costs", str(costs_file)]
    )
    assert code == 2
    _one_line_error(err)
    assert "costs.csv (cell B2)" in err
    assert "not an amount of money" in err


def test_census_is_read_day_first(returns, tmp_path):
    day_first = _run_cli(
        ["ssda903", str(returns), "--out", str(tmp_path / "a"), "--census", "01/03/2020"]
    )
    iso = _run_cli(
        ["ssda903", str(returns), "--out", str(tmp_path / "b"), "--census", "2020-03-01"]
    )
    assert day_first[0] == iso[0] == 0
    assert day_first[1].splitlines()[-1].split(";")[0] == iso[1].splitlines()[-1].split(";")[0]
    assert "on 2020-03-01" in iso[1]


@settings(max_examples=60, deadline=None)
@given(
    option=st.sampled_from(["--population", "--seed", "--confidence", "--interval"]),
    value=st.text(max_size=12).filter(lambda v: not v.startswith("-")),
)
def test_any_argument_is_accepted_or_one_line(option, value):
    command = "reproduce" if option == "--seed" else "sample-size"
    extra = ["--only", "no_such_analysis"] if command == "reproduce" else []
    code, _, err = _run_cli([command, option, value, *extra])
    assert code in (0, 2)
    if code == 2:
        _one_line_error(err)


# --- the Python API ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: regression.fit(c, "weekly_cost ~ risk_score", confidence=1.5), "confidence"),
        (lambda c: regression.fit(c, "weekly_cost ~ risk_score", confidence=True), "confidence"),
        (
            lambda c: regression.fit(
                c.assign(weekly_cost=c["weekly_cost"].where(c.index != c.index[0], 0)),
                "np.log(weekly_cost) ~ risk_score",
            ),
            "not finite",
        ),
        (lambda c: regression.fit(c, 42), "formula"),
        (lambda c: cohorts.assign(c, keeping_local={"miles": -5}), "miles"),
        (lambda c: cohorts.assign(c, keeping_local={"miles": float("inf")}), "finite"),
        (lambda c: cohorts.assign(c, keeping_local={"miles": "far"}), "a number"),
        (lambda c: cohorts.assign(c, keeping_local=20), "mapping"),
        (lambda c: cohorts.assign(c, violence={"min_score": 9}), "1 to 5"),
        (lambda c: sampling.largest_remainder([float("nan"), 1], 5), "finite"),
        (lambda c: sampling.largest_remainder([1, 1], float("inf")), "total"),
        (lambda c: sampling.largest_remainder("ab", 5), "shares"),
        (lambda c: disclosure.suppress(pd.DataFrame([[1, 2], [3, 9]]), threshold=0), "threshold"),
        (lambda c: disclosure.suppress(pd.DataFrame([[1.5, 2]])), "whole"),
        (lambda c: disclosure.suppress(pd.DataFrame([[np.inf, 2]])), "whole"),
        (
            lambda c: disclosure.suppress_small_counts(pd.DataFrame({"n": [1]}), threshold=1),
            "threshold",
        ),
        (lambda c: reporting.region_suppression(c, threshold=0), "threshold"),
        (
            lambda c: (
                ssda903.case_table(
                    ssda903.read(ssda903.fake903_path()), census_date="31/13/2019"
                ).cases
            ),
            "no such day",
        ),
    ],
)
def test_api_misuse_is_a_lacstats_error(cases, call, message):
    with pytest.raises(LacstatsError, match=message):
        call(cases.copy())


def test_census_date_is_day_first_in_the_api():
    cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    day_first = ssda903.case_table(cleaned, census_date="01/03/2019").cases
    iso = ssda903.case_table(cleaned, census_date="2019-03-01").cases
    january = ssda903.case_table(cleaned, census_date="2019-01-03").cases
    assert len(day_first) == len(iso)
    assert day_first["case_id"].tolist() == iso["case_id"].tolist()
    assert len(january) != len(iso) or day_first["age"].tolist() != january["age"].tolist()
