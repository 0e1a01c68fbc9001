"""Analyses computed once (lacstats.cache): reused by any later run or study with the same
key, byte for byte; a new seed, option, data or code misses; a broken entry is ignored;
``--no-cache`` neither reads nor writes; nothing is written outside LACSTATS_CACHE_DIR."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lacstats import analysis, cache, cli, reproduce, study
from lacstats.errors import LacstatsError
from lacstats.reproduce import run_all


def _folder() -> Path:
    return Path(os.environ[cache.ENV])


def _manifest(out: Path, name: str) -> dict:
    return json.loads((out / "manifest.json").read_text())["analyses"][name]


def _files(folder: Path) -> dict[str, bytes]:
    """Every file an analysis wrote but its manifest (which says what the cache did)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- the store
def test_an_entry_is_kept_whole_and_read_back(tmp_path):
    made = tmp_path / "made"
    (made / "sub").mkdir(parents=True)
    (made / "table.csv").write_text("a,b\n1,2\n")
    (made / "sub" / "figure.svg").write_bytes(b"<svg/>")
    store = cache.Cache(tmp_path / "cache")
    key = cache.key({"seed": 1})
    assert store.get("demo", key) == (None, "")
    assert store.put("demo", key, made, {"seed": 1}, {"row.json": "{}\n"}) == (True, "")
    found, problem = store.get("demo", key)
    assert problem == ""
    assert _tree(found.files) == _tree(made)
    assert found.attachments == {"row.json": "{}\n"}
    assert found.record["inputs"] == {"seed": 1}
    assert found.record["key"] == key
    # built aside and renamed: nothing else is left in the kind's folder
    assert [p.name for p in (tmp_path / "cache" / "demo").iterdir()] == [key]


def test_an_entry_is_never_overwritten(tmp_path):
    made = tmp_path / "made"
    made.mkdir()
    (made / "a.txt").write_text("first")
    store = cache.Cache(tmp_path / "cache")
    key = cache.key({"seed": 1})
    assert store.put("demo", key, made, {})[0]
    (made / "a.txt").write_text("second")
    stored, why = store.put("demo", key, made, {})
    assert not stored
    assert "already there" in why
    assert (store.get("demo", key)[0].files / "a.txt").read_text() == "first"
    assert len(list((tmp_path / "cache" / "demo").iterdir())) == 1


@pytest.mark.parametrize("damage", ["changed", "missing", "added", "record"])
def test_a_broken_entry_is_ignored_and_can_be_discarded(tmp_path, damage):
    made = tmp_path / "made"
    made.mkdir()
    (made / "a.csv").write_text("x\n1\n")
    store = cache.Cache(tmp_path / "cache")
    key = cache.key({"seed": 3})
    store.put("demo", key, made, {})
    entry = store.path("demo", key)
    if damage == "changed":
        (entry / "files" / "a.csv").write_text("x\n2\n")
    elif damage == "missing":
        (entry / "files" / "a.csv").unlink()
    elif damage == "added":
        (entry / "files" / "b.csv").write_text("y\n")
    else:
        (entry / "entry.json").write_text('{"format": 1, "key": "')  # cut short
    found, problem = store.get("demo", key)
    assert found is None
    assert problem
    store.discard("demo", key)
    assert not entry.exists()
    assert store.get("demo", key) == (None, "")


def test_a_cache_folder_that_cannot_be_written_is_not_an_error(tmp_path):
    made = tmp_path / "made"
    made.mkdir()
    (made / "a.txt").write_text("a")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache's folder would be")
    stored, why = cache.Cache(blocked).put("demo", cache.key({}), made, {})
    assert not stored
    assert why
    assert blocked.read_text().startswith("a file")


def test_frames_keep_every_value_and_type():
    frame = pd.DataFrame(
        {
            "authority": ["Kent", "Medway", "Slough"],
            "estimate": [0.1 + 0.2, np.nan, 1e-300],
            "n": np.array([1, 2, 3], dtype="int64"),
            "above": [True, False, True],
            "upper": pd.array([1, None, 3], dtype="Int64"),
            "within": pd.Series([True, None, False], dtype=object),
        }
    )
    back = cache.frame_from_json(cache.frame_to_json(frame))
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert back["estimate"].iloc[0] == 0.1 + 0.2
    with pytest.raises(LacstatsError, match="types"):
        cache.frame_to_json(pd.DataFrame({"when": pd.to_datetime(["2019-03-31"])}))


def test_the_folder_is_the_environment_variable_else_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "here"))
    assert cache.folder() == tmp_path / "here"
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname != "Darwin":
        assert cache.folder() == tmp_path / "xdg" / "lacstats"
    assert not (tmp_path / "xdg").exists()  # naming it creates nothing


# ------------------------------------------------------------------------------ keys
def test_a_key_holds_what_the_analysis_depends_on_and_nothing_else(monkeypatch, tmp_path):
    found = analysis.catalogue()
    se = study.south_east()

    def key(name="national", of=se, seed=2019, fast=True):
        return cache.key(reproduce.cache_inputs(found[name], of, seed, fast))

    base = key()
    assert key() == base
    # another seed, another option
    assert key(seed=7) != base
    assert key(fast=False) != base
    # a study that differs only in what the analysis does not read: the same entry
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id\n")
    same = dataclasses.replace(se, name="another", cases=cases, calibrated=False, interval=5.0)
    assert key(of=same) == base
    assert key("sufficiency", of=same) == key("sufficiency")
    # another region: another entry (its authorities are marked, its region named)
    north_west = dataclasses.replace(se, region="North West")
    assert key(of=north_west) != base
    assert key("sufficiency", of=north_west) != key("sufficiency")
    # no published figures: another entry of sufficiency, the same of national
    alone = dataclasses.replace(se, published=None)
    assert key("sufficiency", of=alone) != key("sufficiency")
    assert key(of=alone) == base
    # another version, edited code, other packaged data
    import lacstats

    monkeypatch.setattr(lacstats, "__version__", "0.0.0")
    assert key() != base
    monkeypatch.undo()
    monkeypatch.setattr(cache, "source_hash", lambda: "edited")
    assert key() != base
    monkeypatch.undo()
    real = cache.provenance.packaged_data_hashes()
    changed = {**real, "SFR50_CLA2017.csv": "0" * 64}
    monkeypatch.setattr(cache.provenance, "packaged_data_hashes", lambda: changed)
    assert key() != base
    monkeypatch.undo()
    # another version of a dependency that changes draws or figures' bytes
    from importlib import metadata

    real_version = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda name: "99.0" if name == "matplotlib" else real_version(name)
    )
    assert key() != base
    monkeypatch.undo()
    assert key() == base


def test_the_analysis_file_is_in_the_key(tmp_path):
    folder = tmp_path / "analyses"
    folder.mkdir()
    source = analysis.catalogue()["sufficiency"].path.read_text()
    (folder / "sufficiency.py").write_text(source)
    se = study.south_east()
    before = reproduce.cache_inputs(analysis.catalogue(folder)["sufficiency"], se, 1, True)
    (folder / "sufficiency.py").write_text(source + "\n# an edit\n")
    after = reproduce.cache_inputs(analysis.catalogue(folder)["sufficiency"], se, 1, True)
    assert cache.key(before) != cache.key(after)


def test_only_an_analysis_that_reads_no_study_data_can_be_computed_once():
    with pytest.raises(LacstatsError, match="reads cases"):
        analysis.Analysis(name="x", title="", reads=(analysis.CASES,), study_reads=("region",))
    with pytest.raises(LacstatsError, match="does not have"):
        analysis.Analysis(name="x", title="", study_reads=("regions",))
    declared = analysis.catalogue()
    assert declared["national"].analysis.computed_once
    assert declared["sufficiency"].analysis.computed_once
    assert not declared["risk_cost"].analysis.computed_once


# ------------------------------------------------------------------------------ runs
def test_a_second_run_reuses_what_the_first_computed(tmp_path):
    first = run_all(tmp_path / "a", seed=5, fast=True, only=["sufficiency", "savings"], jobs=2)
    stored = _manifest(tmp_path / "a", "sufficiency")["cache"]
    assert stored["status"] == "stored"
    assert len(stored["key"]) == 64
    assert "cache" not in _manifest(tmp_path / "a", "savings")  # it reads the case table
    assert first.cached == ()
    entries = _tree(_folder())

    said: list[str] = []
    second = run_all(
        tmp_path / "b", seed=5, fast=True, only=["sufficiency", "savings"], progress=said.append
    )
    assert second.cached == ("sufficiency",)
    assert list(second.table.columns) == list(first.table.columns)
    assert _manifest(tmp_path / "b", "sufficiency")["cache"] == {
        "status": "reused",
        "key": stored["key"],
    }
    assert any("[sufficiency] reused from the cache" in m for m in said)
    assert "reused from the cache: sufficiency" in second.summary()
    top = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert top["reused_from_cache"] == ["sufficiency"]
    assert _tree(_folder()) == entries  # read, not written
    # byte-identical outputs, findings included
    assert _files(tmp_path / "a" / "sufficiency") == _files(tmp_path / "b" / "sufficiency")
    for name in ("findings.csv",):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    pd.testing.assert_frame_equal(first.findings, second.findings)
    # and identical to a run that neither reads nor writes the cache
    no_cache = run_all(
        tmp_path / "c", seed=5, fast=True, only=["sufficiency", "savings"], cache=False
    )
    assert no_cache.cached == ()
    assert _manifest(tmp_path / "c", "sufficiency")["cache"] == {
        "status": "not read or written (--no-cache)",
        "key": stored["key"],
    }
    assert _files(tmp_path / "a" / "sufficiency") == _files(tmp_path / "c" / "sufficiency")
    assert (tmp_path / "a" / "findings.csv").read_bytes() == (
        tmp_path / "c" / "findings.csv"
    ).read_bytes()
    assert _tree(_folder()) == entries


def test_another_seed_misses(tmp_path):
    run_all(tmp_path / "a", seed=5, fast=True, only=["sufficiency"], jobs=1)
    run_all(tmp_path / "b", seed=6, fast=True, only=["sufficiency"], jobs=1)
    a, b = _manifest(tmp_path / "a", "sufficiency"), _manifest(tmp_path / "b", "sufficiency")
    assert a["cache"]["status"] == b["cache"]["status"] == "stored"
    assert a["cache"]["key"] != b["cache"]["key"]
    assert len(list((_folder() / "analyses").iterdir())) == 2


def test_edited_code_misses(tmp_path, monkeypatch):
    run_all(tmp_path / "a", seed=5, fast=True, only=["sufficiency"], jobs=1)
    monkeypatch.setattr(cache, "source_hash", lambda: "a developer's edit")
    run_all(tmp_path / "b", seed=5, fast=True, only=["sufficiency"], jobs=1)
    assert _manifest(tmp_path / "b", "sufficiency")["cache"]["status"] == "stored"


def test_a_broken_entry_is_computed_again(tmp_path):
    run_all(tmp_path / "a", seed=5, fast=True, only=["sufficiency"], jobs=1)
    key = _manifest(tmp_path / "a", "sufficiency")["cache"]["key"]
    entry = _folder() / "analyses" / key
    table = entry / "files" / "foster_places_by_region.csv"
    table.write_text(table.read_text().replace("South East", "South Easy"))
    said: list[str] = []
    run_all(tmp_path / "b", seed=5, fast=True, only=["sufficiency"], progress=said.append)
    assert any("is ignored: files missing, added or changed" in m for m in said)
    assert _manifest(tmp_path / "b", "sufficiency")["cache"] == {"status": "stored", "key": key}
    assert _files(tmp_path / "a" / "sufficiency") == _files(tmp_path / "b" / "sufficiency")
    # the entry was replaced by a sound one, which the next run reuses
    run_all(tmp_path / "c", seed=5, fast=True, only=["sufficiency"], jobs=1)
    assert _manifest(tmp_path / "c", "sufficiency")["cache"]["status"] == "reused"
    assert _files(tmp_path / "a" / "sufficiency") == _files(tmp_path / "c" / "sufficiency")


def test_no_cache_never_reads_the_cache(tmp_path, monkeypatch):
    run_all(tmp_path / "a", seed=5, fast=True, only=["sufficiency"], jobs=1)
    entries = _tree(_folder())

    def refuse(*args, **kwargs):
        raise AssertionError("the cache was read")

    monkeypatch.setattr(cache.Cache, "get", refuse)
    monkeypatch.setattr(cache.Cache, "put", refuse)
    out = tmp_path / "b"
    assert (
        cli.main(
            [
                "reproduce",
                "--out",
                str(out),
                "--seed",
                "5",
                "--fast",
                "--only",
                "sufficiency",
                "--no-cache",
                "--quiet",
            ]
        )
        == 0
    )
    assert _manifest(out, "sufficiency")["cache"]["status"].startswith("not read")
    assert _tree(_folder()) == entries


def test_nothing_is_written_outside_the_cache_folder(tmp_path, monkeypatch):
    # the user's cache folder (platformdirs') is elsewhere and stays untouched
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    out = tmp_path / "results"
    run_all(out, seed=5, fast=True, only=["sufficiency"], jobs=1)
    assert not (tmp_path / "xdg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "results"]
    kinds = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert kinds == ["analyses"]
    # one entry, nothing left aside
    assert len(list((tmp_path / "cache" / "analyses").iterdir())) == 1


# ------------------------------------------------------------------ national, computed once
def test_a_part_computed_once_is_reused_and_kept_per_key(tmp_path):
    built: list[int] = []

    def build(folder: Path) -> None:
        built.append(1)
        (folder / "draws.json").write_text(json.dumps([0.1 + 0.2]))

    def read(folder: Path) -> list:
        return json.loads((folder / "draws.json").read_text())

    store = cache.Cache(tmp_path / "cache")

    def context(seed: int, store=store) -> analysis.Context:
        return analysis.Context(name="demo", folder=tmp_path, seed=seed, cache=store)

    first = context(1)
    assert first.computed_once("fits", build, read) == [0.1 + 0.2]
    second = context(1)
    assert second.computed_once("fits", build, read) == [0.1 + 0.2]
    assert len(built) == 1
    assert second.cached["fits"] == {"status": "reused", "key": first.cached["fits"]["key"]}
    context(2).computed_once("fits", build, read)  # another seed: built again
    assert len(built) == 2
    off = context(1, store=None)
    off.computed_once("fits", build, read)
    assert len(built) == 3
    assert off.cached["fits"]["status"].startswith("computed")
    assert len(list((tmp_path / "cache" / "parts").iterdir())) == 2


@pytest.mark.slow
def test_the_national_analysis_is_reused_and_its_fits_by_any_study(
    seed_fast_run, session_cache, tmp_path, monkeypatch
):
    """The session's fast run stored national (and its fits) in the session's cache: the
    same run reuses the whole analysis; a study of another region reuses the fits and marks
    its own authorities."""
    monkeypatch.setenv(cache.ENV, str(session_cache))
    seed_out, _ = seed_fast_run
    seed_manifest = _manifest(seed_out, "national")
    assert seed_manifest["cache"]["status"] in ("stored", "reused")
    said: list[str] = []
    again = run_all(
        tmp_path / "again", seed=2019, fast=True, only=["national"], progress=said.append
    )
    assert again.cached == ("national",)
    assert _manifest(tmp_path / "again", "national")["cache"] == {
        "status": "reused",
        "key": seed_manifest["cache"]["key"],
    }
    assert not any("sampling" in m for m in said)
    assert _files(seed_out / "national") == _files(tmp_path / "again" / "national")

    north_west = study.loads(
        '[study]\nname = "nw"\ntitle = "North West"\n[authorities]\nregion = "North West"\n'
        "[frame]\nyear = 2017\n"
    )
    said.clear()
    other = run_all(
        tmp_path / "nw",
        seed=2019,
        fast=True,
        only=["national"],
        study=north_west,
        progress=said.append,
    )
    assert other.cached == ()
    manifest = _manifest(tmp_path / "nw", "national")
    assert manifest["cache"]["status"] == "stored"
    assert manifest["cache"]["key"] != seed_manifest["cache"]["key"]
    assert manifest["computed_once"]["fits"]["status"] == "reused"
    assert not any("sampling" in m for m in said)  # no model fitted again
    seed_files, nw_files = _files(seed_out / "national"), _files(tmp_path / "nw" / "national")
    # the models' own tables are the same bytes; the positions mark other authorities
    for name in seed_files:
        if name.startswith(("fixed_effects_", "variance_", "region_effects_", "diagnostics_")):
            assert seed_files[name] == nw_files[name], name
    positions = pd.read_csv(tmp_path / "nw" / "national" / "national_positions.csv")
    seed_positions = pd.read_csv(seed_out / "national" / "national_positions.csv")
    marked = positions.loc[positions["marked"], "region"].unique().tolist()
    assert marked == ["North West"]
    pd.testing.assert_frame_equal(
        positions.drop(columns="marked"), seed_positions.drop(columns="marked")
    )


def test_what_a_killed_run_left_aside_is_removed_once_stale(tmp_path):
    made = tmp_path / "made"
    made.mkdir()
    (made / "a.txt").write_text("a")
    store = cache.Cache(tmp_path / "cache")
    kind = tmp_path / "cache" / "demo"
    old, recent = kind / ".0123.tmp.old", kind / ".4567.tmp.recent"
    for left in (old, recent):
        left.mkdir(parents=True)
    stale = cache.STALE_SECONDS + 60
    os.utime(old, (old.stat().st_atime - stale, old.stat().st_mtime - stale))
    assert store.put("demo", cache.key({"n": 1}), made, {})[0]
    assert not old.exists()
    assert recent.exists()  # perhaps another run's, still being written


def test_the_source_hash_covers_the_c_kernels(tmp_path, monkeypatch):
    # the hierarchical kernels are C as well as Python: an edit to either is new code
    package = tmp_path / "lacstats"
    (package / "hierarchical").mkdir(parents=True)
    (package / "cache.py").write_text("")
    (package / "hierarchical" / "_kernels.c").write_text("double f(void) { return 1.0; }\n")
    monkeypatch.setattr(cache, "__file__", str(package / "cache.py"))
    before = cache.source_hash()
    (package / "hierarchical" / "_kernels.c").write_text("double f(void) { return 2.0; }\n")
    edited = cache.source_hash()
    assert edited != before
    (package / "notes.txt").write_text("not a source")  # not code: the same key
    assert cache.source_hash() == edited
