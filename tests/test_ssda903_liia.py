"""lacstats' cleaning against liia-tools' episode fixes on liia-tools' own labelled episodes.

Reference: ``tests/reference/liia/`` (see its README): liia-tools' labelled test episodes
(``SSDA903_episodes_for_testing_fixes_INPUT.csv``, one child per fix) and the output of
``stage_2(stage_1(pandas.read_csv(INPUT)))`` from
``liiatools.datasets.s903.lds_ssda903_episodes_fix.process`` at liia-tools commit
0dd821c2968f6930b62ee2223da0203b33db0a96, run with Python 3.10.13, liiatools 0.2.0's
dependencies, pandas 1.5.3 (``scripts/make_liia_reference.py``).

lacstats applies the same fixes with the same semantics and records them the same way
(``episode_source`` = liia-tools' ``Episode_source``), and differs on purpose in three
places, each because the liia-tools output would change a count at 31 March away from
what the return covering that 31 March says (the DfE's definition of looked after at 31
March: an episode open that day in that year's return).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lacstats import ssda903

REFERENCE = Path(__file__).parent / "reference" / "liia"
KEY = ["CHILD", "DECOM"]
COMPARED = ["DEC", "REC", "REASON_PLACE_CHANGE", "episode_source"]

#: (child, DECOM) -> (column, liia-tools' value, lacstats' value, why lacstats differs)
DELIBERATE = {
    ("RULE1A_BAD", "2016-10-24"): (
        "DEC",
        "2017-03-31",
        "2017-04-01",
        (
            "the 2016-17 return reports the episode open on 31 March 2017; closing it that day "
            "takes the child out of that return's count"
        ),
    ),
    ("RULE2_BAD", "2019-05-10"): (
        "DEC",
        "2020-03-31",
        "2020-04-01",
        "the 2019-20 return reports the episode open on 31 March 2020",
    ),
    ("RULE5_BAD", "2019-11-06"): (
        "DEC",
        "2020-04-02",
        "2020-03-29",
        (
            "the 2019-20 return says the episode ended (X1) on 29 March 2020 and the next "
            "episode starts after 31 March 2020: bridging the gap adds the child to the count "
            "of a return that reports them not looked after that day"
        ),
    ),
}
#: the episode_source that goes with each deliberate difference
DELIBERATE_SOURCE = {("RULE5_BAD", "2019-11-06"): ("RULE_5", "Original")}


@pytest.fixture(scope="module")
def liia():
    episodes = pd.read_csv(REFERENCE / "episodes_input.csv", dtype=str)
    header = episodes[["CHILD", "LA", "YEAR"]].drop_duplicates()
    header = header.assign(SEX="1", DOB="2010-01-01", ETHNIC="WBRI")
    data = ssda903.from_frames(header, episodes, year_column="end")
    cleaned = ssda903.clean(data)
    ours = cleaned.episodes.assign(DECOM=cleaned.episodes["DECOM"].dt.strftime("%Y-%m-%d"))
    ours["DEC"] = cleaned.episodes["DEC"].dt.strftime("%Y-%m-%d")
    expected = pd.read_csv(REFERENCE / "episodes_expected.csv", dtype=str)
    expected = expected.rename(columns={"Episode_source": "episode_source"})
    return ours.set_index(KEY)[COMPARED], expected.set_index(KEY)[COMPARED], cleaned


def test_the_same_episodes_are_kept(liia):
    ours, expected, cleaned = liia
    assert sorted(ours.index) == sorted(expected.index)
    # RULE_3 and RULE_3A drop the episode a later return restated or replaced
    report = cleaned.report.set_index("step")["count"]
    steps = ssda903._cleaning.STEPS
    assert report[steps["RULE_3"]] == 1
    assert report[steps["RULE_3A"]] == 2  # RULE3A_BAD's and RULE4_BAD's open copies
    assert ("RULE3_BAD", "2016-09-27") not in ours.index
    assert ("RULE3A_BAD", "2018-03-22") not in ours.index


@pytest.mark.parametrize(
    "child", ["NORULE", "RULE1", "RULE1A", "RULE2", "RULE3", "RULE3A", "RULE4", "RULE5"]
)
def test_each_labelled_child_as_liia_tools_or_deliberately_not(liia, child):
    ours, expected, _ = liia
    names = [
        c for c in expected.index.get_level_values("CHILD").unique() if c.split("_")[0] == child
    ]
    assert names
    for name in names:
        mine = ours.loc[name].fillna("")
        theirs = expected.loc[name].fillna("")
        for decom in theirs.index:
            key = (name, decom)
            for column in COMPARED:
                want = theirs.loc[decom, column]
                if key in DELIBERATE and DELIBERATE[key][0] == column:
                    _, liia_value, ours_value, why = DELIBERATE[key]
                    assert want == liia_value, why
                    assert mine.loc[decom, column] == ours_value, why
                elif key in DELIBERATE_SOURCE and column == "episode_source":
                    assert (want, mine.loc[decom, column]) == DELIBERATE_SOURCE[key]
                else:
                    assert mine.loc[decom, column] == want, (key, column)


def test_the_deliberate_differences_keep_the_31_march_counts(liia):
    _, _, cleaned = liia
    # every difference is about one 31 March: the count that date's return reports
    for census, child in (
        ("2017-03-31", "RULE1A_BAD"),
        ("2020-03-31", "RULE2_BAD"),
    ):
        cases = ssda903.case_table(cleaned, census_date=census).cases
        assert child in set(cases["case_id"]), census
    cases = ssda903.case_table(cleaned, census_date="2020-03-31").cases
    assert "RULE5_BAD" not in set(cases["case_id"])


def _clean(episodes: pd.DataFrame) -> pd.DataFrame:
    header = episodes[["CHILD", "LA", "YEAR"]].drop_duplicates()
    header = header.assign(SEX="1", DOB="2010-01-01", ETHNIC="WBRI")
    cleaned = ssda903.clean(ssda903.from_frames(header, episodes, year_column="end"))
    return cleaned.episodes.set_index(["CHILD", "DECOM"])


def test_rule_5_bridges_a_gap_inside_the_episode_s_own_year():
    episodes = pd.read_csv(REFERENCE / "episodes_input.csv", dtype=str)
    five = episodes[episodes["CHILD"] == "RULE5_BAD"].copy()
    # the next episode starts on 30 March 2020, before the 2019-20 return's 31 March: the
    # bridge changes no count, and lacstats makes it as liia-tools does
    five.loc[five["DECOM"] == "2020-04-02", "DECOM"] = "2020-03-30"
    out = _clean(five).loc["RULE5_BAD"]
    first = out.loc[pd.Timestamp("2019-11-06")]
    assert first["DEC"] == pd.Timestamp("2020-03-30")
    assert first["episode_source"] == "RULE_5"


def test_rule_3_drops_only_a_restatement_by_a_later_return():
    episodes = pd.read_csv(REFERENCE / "episodes_input.csv", dtype=str)
    three = episodes["CHILD"] == "RULE3_BAD"
    # the twin now comes from an earlier return (2016-17) than the open copy (2017-18):
    # liia-tools would still drop the open copy, taking the child out of the 2017-18
    # return's count on 31 March 2018; lacstats keeps it and closes it (RULE_2)
    first = three & (episodes["DECOM"] == "2016-09-23")
    episodes.loc[first, ["DEC", "REC", "YEAR"]] = ["2016-09-27", "X1", "2017"]
    episodes.loc[three & ~first, "YEAR"] = "2018"
    kept = _clean(episodes).loc["RULE3_BAD"]
    assert len(kept) == 2
    assert kept.loc[pd.Timestamp("2016-09-27"), "episode_source"] == "RULE_2"
