"""lacstats' checks of the DfE's SSDA903 rules against the DfE's validator itself.

Reference: ``tests/reference/dfe903/`` (see its README): the flags of the DfE's validator,
``csc-validator-be-903`` 0.1.17 (PyPI), each rule run on its own copy of the tables, on
(a) its own fake return (a 2017-18 return, checked with its 2022-23 rules as collection
year 2018) and (b) returns simulated by ``lacstats.ssda903.simulate`` with errors planted
for the rules; and ``rulesets.csv``, every code, message and version of each of its rule
sets. Run by ``scripts/make_dfe903_reference.py``, with the exact call in the README.

For every rule code that fires on the reference inputs, or that lacstats implements, the
coverage table says: implemented and agreeing (the same rows of the same tables flagged),
implemented and differing (with the reason, in :data:`DIFFERS`), or not implemented.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lacstats import ssda903
from lacstats.ssda903 import dfe

REFERENCE = Path(__file__).parent / "reference" / "dfe903"
#: Rule sets by collection (end) year: the validator's earliest, 2022-23, for earlier years.
RULESET_YEARS = {2023: "lac2022_23", 2024: "lac2023_24", 2025: "lac2024_25", 2026: "lac2025_26"}

#: code -> why lacstats flags other rows than the validator does (lacstats is right, or
#: cannot do what the validator does): the rules on the fields the DfE derives from
#: postcodes (the fake return's CSVs have no PL_LA, PL_LOCATION or PL_DISTANCE; the
#: validator derives them for the 92 episodes whose postcodes are real; lacstats reports
#: the rules on columns no file wrote as not checked, where these do not write them)
DIFFERS: dict[str, str] = {
    code: dfe.REGISTRY[code][0].note
    for code in ("169", "179", "218", "392a", "406", "420", "1015")
}


def _coverage(case: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    folder = REFERENCE / case
    data = ssda903.read(folder, year=year, errors="report", rules="all")
    own = data.errors["rule"].isin(list(ssda903.RULES))
    ours = data.errors[~own]
    theirs = pd.read_csv(folder / "flags.csv.gz", dtype={"code": str, "child": str})
    rows = []
    for code in sorted(set(theirs["code"]) | set(ours["rule"]) | set(dfe.versions(year))):
        a = set(theirs.loc[theirs["code"] == code, ["table", "row"]].itertuples(index=False))
        b = set(
            ours.loc[ours["rule"] == code, ["table", "row"]]
            .astype({"row": int})
            .itertuples(index=False)
        )
        if not a and not b:
            continue
        if code not in dfe.versions(year):
            status = "not implemented"
        elif a == b:
            status = "implemented, agrees"
        else:
            status = "implemented, differs"
        rows.append(
            {
                "code": code,
                "status": status,
                "dfe_flags": len(a),
                "lacstats_flags": len(b),
                "only_dfe": len(a - b),
                "only_lacstats": len(b - a),
                "reason": DIFFERS.get(code, dfe.NOT_IMPLEMENTED.get(code, ""))
                or (dfe.versions(year)[code].note if code in dfe.versions(year) else ""),
            }
        )
    return pd.DataFrame(rows), ours, theirs, data.errors[own]


@pytest.fixture(scope="module")
def fake():
    return _coverage("fake", 2018)


def test_the_dfe_s_fake_return_code_by_code(fake, capsys):
    table, _ours, theirs, own = fake
    assert own.empty  # the reading rules of lacstats find nothing to stop on
    with capsys.disabled():
        print("\nDfE validator's fake return (2017-18), coverage by rule code:")
        print(table["status"].value_counts().to_string())
        shown = table.assign(reason=table["reason"].str.slice(0, 60))
        print(shown.to_string(index=False))
    differing = table[table["status"] == "implemented, differs"]
    # a rule that differs from the DfE's validator says why
    assert set(differing["code"]) <= set(DIFFERS), differing.to_string(index=False)
    agreeing = table[table["status"] == "implemented, agrees"]
    assert len(agreeing) >= 109
    assert agreeing["dfe_flags"].sum() >= 35_000
    # of the 116 codes that fire, only 392c (postcodes against the ONS directory) is not
    # implemented
    missing = table[table["status"] == "not implemented"]
    assert missing["code"].tolist() == ["392c"]
    # the fake return of the DfE's validator, which lacstats' own reading rules pass
    assert theirs["code"].nunique() == 116
    assert len(theirs) == 57_304


def test_problems_carry_the_dfe_s_codes_and_messages(fake):
    _, ours, _, _ = fake
    messages = dict(zip(ours["rule"], ours["message"], strict=False))
    assert messages["148"] == (
        "Date episode ceased and reason episode ceased must both be coded, or both left blank."
    )
    assert set(ours["table"]) >= {"header", "episodes", "oc2", "oc3", "reviews"}
    assert ours["row"].notna().all()
    assert ours["file"].notna().all()


@pytest.fixture(scope="module")
def rulesets():
    return pd.read_csv(REFERENCE / "rulesets.csv", dtype=str).astype({"year": int})


def _validator_version(rulesets: pd.DataFrame, code: str, year: int) -> str | None:
    ruleset = RULESET_YEARS.get(max(year, 2023))
    found = rulesets[(rulesets["ruleset"] == ruleset) & (rulesets["code"] == code)]
    return None if found.empty else found["version"].item()


@pytest.mark.parametrize("code", sorted(dfe.REGISTRY))
def test_each_rule_applies_in_the_validator_s_years(rulesets, code):
    # each version of a rule lacstats implements covers years in which the validator has
    # one and the same version of it; the messages are the DfE's
    for version in dfe.REGISTRY[code]:
        theirs = {
            _validator_version(rulesets, code, year)
            for year in range(version.first, version.last + 1)
        }
        assert None not in theirs, (code, version.first, version.last)
        assert len(theirs) == 1, (code, version.first, version.last, theirs)
        (ruleset,) = theirs
        message = rulesets[(rulesets["version"] == ruleset) & (rulesets["code"] == code)]
        assert version.message in set(message["message"]), code


@pytest.fixture(scope="module")
def planted():
    return _coverage("planted_2023", 2023)


def test_a_simulated_return_with_planted_errors_code_by_code(planted, capsys):
    table, ours, theirs, own = planted
    with capsys.disabled():
        print("\nA 2022-23 return simulated by lacstats with errors planted, by rule code:")
        print(table["status"].value_counts().to_string())
        shown = table.assign(reason=table["reason"].str.slice(0, 60))
        print(shown.to_string(index=False))
    differing = table[table["status"] == "implemented, differs"]
    assert set(differing["code"]) <= set(DIFFERS), differing.to_string(index=False)
    # the errors planted (tests/reference/dfe903/planted_2023/planted.csv.gz), each on a
    # child of its own, and the rules they aim at: every rule named is flagged by both
    log = pd.read_csv(REFERENCE / "planted_2023" / "planted.csv.gz", dtype=str)
    assert len(log) >= 70
    aimed = {r for rules in log["rules"].dropna() for r in rules.split()}
    assert aimed <= set(theirs["code"]) | set(dfe.NOT_IMPLEMENTED), aimed - set(theirs["code"])
    assert aimed - set(dfe.NOT_IMPLEMENTED) <= set(ours["rule"])
    # lacstats' own rules find what they should: codes, dates, a child with no header
    assert {"code", "date_format", "episode_without_header"} <= set(own["rule"])
    missing = table[table["status"] == "not implemented"]
    assert set(missing["code"]) <= set(dfe.NOT_IMPLEMENTED), missing.to_string(index=False)
    agreeing = table[table["status"] == "implemented, agrees"]
    assert len(agreeing) >= 102


@pytest.fixture(scope="module")
def planted_2025():
    return _coverage("planted_2025", 2025)


def test_a_2024_25_return_with_planted_errors_code_by_code(planted_2025, capsys):
    # the 2024-25 rules: SEX as M, F or U, social worker episodes, K3
    table, _ours, _theirs, _ = planted_2025
    with capsys.disabled():
        print("\nA 2024-25 return simulated by lacstats with errors planted, by rule code:")
        print(table["status"].value_counts().to_string())
        shown = table.assign(reason=table["reason"].str.slice(0, 60))
        print(shown.to_string(index=False))
    differing = table[table["status"] == "implemented, differs"]
    # 146: the validator's 2024-25 list writes K3 as 'k3', flagging the K3 planted here
    assert set(differing["code"]) <= set(DIFFERS) | {"146"}, differing.to_string(index=False)
    k3 = differing.set_index("code").loc["146"]
    assert (k3["dfe_flags"], k3["lacstats_flags"]) == (2, 1)
    agreeing = table[table["status"] == "implemented, agrees"]
    assert {"101", "393", "SW12STG2", "SW13STG1", "SW01bSTG1"} <= set(agreeing["code"])
    assert len(agreeing) >= 94
    missing = table[table["status"] == "not implemented"]
    assert set(missing["code"]) <= set(dfe.NOT_IMPLEMENTED), missing.to_string(index=False)


def test_a_column_no_file_wrote_is_not_checked_and_says_so(tmp_path):
    # a regional extract leaves columns out (postcodes, MOTHER, REASON_PLACE_CHANGE): the
    # DfE's rules on them are listed as not checked, not run on blanks that are not there;
    # the same column written but blank is checked (rule 392b: no postcodes recorded)
    extract = ssda903.simulate_region({"Kent": 40}, years=[2020, 2021], rng=5, tables="all")
    episodes = extract["episodes"]
    for name, frame in (
        ("written", episodes.assign(HOME_POST=None, PL_POST=None)),
        ("absent", episodes.drop(columns=["HOME_POST", "PL_POST"])),
    ):
        folder = tmp_path / name
        folder.mkdir()
        extract["header"].to_csv(folder / "SSDA903_Header_merged.csv", index=False)
        frame.to_csv(folder / "SSDA903_Episodes_merged.csv", index=False)
    written = ssda903.validate(tmp_path / "written")
    absent = ssda903.validate(tmp_path / "absent")
    # every episode open in the year lacks both postcodes: 392b flags each of them
    assert (
        written.by_rule.set_index("rule").loc["392b", "problems"]
        == len(written.problems[written.problems["rule"] == "392b"])
        > 0
    )
    assert "392b" not in set(written.unchecked["rule"])
    row = absent.by_rule.set_index("rule").loc["392b"]
    assert (row["problems"], row["not_checked"]) == (0, "HOME_POST, PL_POST")
    assert "392b" in absent.to_dict()["rules_not_checked"]
    assert "392b" not in set(absent.problems["rule"])
    assert "rule(s) not checked: the files do not have column(s) HOME_POST" in absent.summary()
    # a rule on columns that are there is checked the same way in both
    assert absent.by_rule.set_index("rule").loc["148", "not_checked"] == ""


def test_absent_fields_looks_in_the_tables_that_hold_the_field():
    rule = dfe.REGISTRY["393"][0]  # MOTHER, a Header column, for an episodes rule
    assert "MOTHER" in rule.fields
    wrote = {"header": ["CHILD", "SEX", "DOB", "ETHNIC"], "episodes": ["CHILD", "DECOM"]}
    assert "MOTHER" in dfe.absent_fields(rule, wrote, ["header", "episodes"])
    wrote["header"].append("MOTHER")
    assert "MOTHER" not in dfe.absent_fields(rule, wrote, ["header", "episodes"])
    # nothing known of what was written: every field counts as written
    assert dfe.absent_fields(rule, None, None) == ()


@pytest.mark.parametrize("tables", ["core", "all"])
def test_simulated_regional_extracts_pass_every_rule_they_can_be_checked_for(tmp_path, tables):
    # the simulation draws returns the DfE's rules accept: one legal status and category
    # of need through a period of care, no section 20 placed with parents, adoption only
    # from foster care and before 18; the core extract (no postcodes, MOTHER or reason for
    # a change of placement) leaves the rules on those columns not checked
    extract = ssda903.simulate_region(
        {"Kent": 300, "Slough": 90}, years=range(2019, 2025), rng=3, tables=tables
    )
    for table, frame in extract.items():
        frame.to_csv(tmp_path / f"SSDA903_{table.title()}_merged.csv", index=False)
    report = ssda903.validate(tmp_path)
    found = report.found()
    if tables == "core":
        assert report.n_problems == 0, found.to_string()
        absent = {c for v in report.unchecked["not_checked"] for c in v.split(", ")}
        assert {"HOME_POST", "PL_POST", "MOTHER", "REASON_PLACE_CHANGE"} <= absent
    else:
        # a handful of children the simulated OC2 and SDQ records miss (rules 191 and
        # 197B, on 12 months looked after at 31 March): under 0.1% of episodes
        assert set(found["rule"]) <= {"191", "197B"}, found.to_string()
        assert report.n_problems <= 0.001 * len(extract["episodes"]), found.to_string()
