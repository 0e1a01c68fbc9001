"""Looked after at 31 March means what the return covering that date says.

A multi-year, multi-authority extract is written here from returns that agree with each
other (``ssda903.simulate_region``), then made as the field's extracts are: children open
at the end of one return vanish from the next (they left care and the return that would
have closed their episode never said so), vanish and come back years later (re-entering
care, RNE S, or in a new placement, RNE P), or lose the restatement of their open episode
while their next episodes are reported. For every authority and every collection year,
the count of children looked after at 31 March after cleaning (``to_cases``,
``case_table``, ``projection.observed_stock`` and the projection's starting stock) equals
the count in the return that covers that date: the DfE's definition (DfE, "Children looked
after in England including adoption", methodology: a child is counted at 31 March when an
episode of care is open on that day) applied to that return alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import projection, ssda903
from lacstats.ssda903 import year_end, year_start

YEARS = (2018, 2019, 2020, 2021, 2022)
SIZES = {"Bracknell Forest": 70, "Slough": 45, "Synthetic": 30}


def _drop(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return frame.loc[~rows].reset_index(drop=True)


def stale_extract(seed: int = 7) -> dict[str, pd.DataFrame]:
    """A regional extract (``LA`` and ``YEAR`` columns, YEAR the end year) whose returns
    leave some children's episodes open and never close them: per authority and year,
    about one child in eight open at 31 March is made stale, in one of four ways."""
    region = ssda903.simulate_region(SIZES, years=YEARS, rng=seed)
    header, episodes = region["header"], region["episodes"]
    rng = np.random.default_rng(seed)
    for la in SIZES:
        for year in YEARS[:-1]:
            end = year_end(year)
            mine = (episodes["LA"] == la) & (episodes["YEAR"] == year)
            open_ = mine & (episodes["DECOM"] <= end) & episodes["DEC"].isna()
            children = episodes.loc[open_, "CHILD"].unique()
            chosen = rng.choice(children, size=max(1, len(children) // 8), replace=False)
            for child in chosen:
                of_child = ((episodes["LA"] == la) & (episodes["CHILD"] == child)).to_numpy()
                later = of_child & (episodes["YEAR"] > year).to_numpy()
                how = rng.integers(4)
                if how == 0:  # vanishes: left care, never closed
                    cut = later
                elif how in (1, 2):  # vanishes, back after the next 31 March
                    cut = later & (episodes["DECOM"] <= year_end(year + 1)).to_numpy()
                    back = later & ~cut
                    if back.any() and how == 1:  # re-enters care
                        episodes.loc[np.flatnonzero(back)[0], "RNE"] = "S"
                else:  # the open episode is never restated; the next ones are reported
                    started = episodes.loc[open_ & (episodes["CHILD"] == child), "DECOM"]
                    cut = later & episodes["DECOM"].isin(started).to_numpy()
                episodes = _drop(episodes, cut)
    # a header row for each child in each return that still lists them
    listed = episodes[["LA", "YEAR", "CHILD"]].drop_duplicates()
    header = header.merge(listed, on=["LA", "YEAR", "CHILD"])
    return {"header": header, "episodes": episodes}


def return_counts(episodes: pd.DataFrame) -> pd.Series:
    """Children looked after at 31 March by each return on its own: an episode open on
    its collection's last day (started by then, ceased after it or not at all)."""
    end = episodes["YEAR"].map(year_end)
    open_ = (episodes["DECOM"] <= end) & (episodes["DEC"].isna() | (episodes["DEC"] > end))
    counts = episodes[open_].groupby(["LA", "YEAR"])["CHILD"].nunique()
    counts.index = counts.index.set_names(["authority", "year"])
    return counts


@pytest.fixture(scope="module")
def stale():
    extract = stale_extract()
    data = ssda903.from_frames(extract["header"], extract["episodes"])
    return extract, ssda903.clean(data)


def test_stale_episodes_are_closed_after_their_last_31_march(stale):
    extract, cleaned = stale
    expected = return_counts(extract["episodes"])
    assert len(expected) == len(SIZES) * len(YEARS)
    report = cleaned.report.set_index("step")["count"]
    steps = ssda903._cleaning.STEPS
    # every kind of stale episode is in the extract
    assert report[steps["RULE_1"]] > 0
    assert report[steps["RULE_1A"]] > 0
    assert report[steps["RULE_2"]] > 20
    episodes = cleaned.episodes
    closed = episodes[episodes["episode_source"].str.contains("RULE_2")]
    # never on 31 March: on the 1 April after the return that left it open
    assert (closed["DEC"] == closed["YEAR"].map(year_end) + pd.Timedelta(days=1)).all()
    assert (closed["REC"] == "E99").all()
    found = {}
    for year in YEARS:
        census = year_end(year)
        cases = ssda903.case_table(cleaned, census_date=census).cases
        table = ssda903.case_table(cleaned, census_date=census)
        assert len(table.cases) == len(cases)
        found[year] = cases.groupby("authority").size()
    counts = pd.DataFrame(found).stack()
    counts.index = counts.index.set_names(["authority", "year"])
    pd.testing.assert_series_equal(
        counts.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    stock = projection.observed_stock(cleaned, [year_end(y) for y in YEARS])
    stock.columns = list(YEARS)
    observed = stock.stack()
    observed.index = observed.index.set_names(["authority", "year"])
    pd.testing.assert_series_equal(
        observed.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )


@pytest.mark.parametrize("year", YEARS)
def test_projection_starts_from_the_return_s_count(stale, year):
    extract, cleaned = stale
    expected = return_counts(extract["episodes"]).xs(year, level="year")
    future = projection.stock_and_flow(
        cleaned, months=1, draws=5, start=year_start(year + 1), history_years=1, rng=1
    )
    stock = future.stock
    start = stock[(stock["month"] == 0) & (stock["placement_type"] == "All")]
    start = start[start["authority"].isin(list(SIZES))].set_index("authority")["median"]
    pd.testing.assert_series_equal(
        start.sort_index(), expected.sort_index().astype(float), check_names=False
    )


def test_the_same_child_reappearing_does_not_change_the_closure():
    # one child, open at the end of 2018-19 and absent from 2019-20: closed on 1 April
    # 2019 whether or not the child comes back in 2020-21
    header = pd.DataFrame(
        {"CHILD": ["1"], "SEX": ["1"], "DOB": ["01/06/2008"], "ETHNIC": ["WBRI"]}
    )
    first = {"CHILD": "1", "DECOM": "01/05/2018", "RNE": "S", "LS": "C2", "CIN": "N1"}
    first |= {"PLACE": "U4", "PLACE_PROVIDER": "PR1", "DEC": None, "REC": None}
    later = first | {"DECOM": "01/06/2020", "RNE": "P", "PLACE": "U6"}
    closes = {}
    for comes_back in (False, True):
        frames = [pd.DataFrame([first]).assign(YEAR=2019)]
        heads = [header.assign(YEAR=2019)]
        other = pd.DataFrame([first | {"CHILD": "2", "DECOM": "01/05/2019"}])
        frames.append(other.assign(YEAR=2020))  # a 2019-20 return without child 1
        heads.append(header.assign(CHILD="2", YEAR=2020))
        if comes_back:
            frames.append(pd.DataFrame([later]).assign(YEAR=2021))
            heads.append(header.assign(YEAR=2021))
        data = ssda903.from_frames(
            pd.concat(heads, ignore_index=True), pd.concat(frames, ignore_index=True)
        )
        cleaned = ssda903.clean(data)
        one = cleaned.episodes[cleaned.episodes["CHILD"] == "1"]
        closes[comes_back] = one["DEC"].iloc[0]
        assert ssda903.case_table(cleaned, census_date="2019-03-31").cases["case_id"].tolist() == [
            "1"
        ]
        at_2020 = ssda903.case_table(cleaned, census_date="2020-03-31").cases["case_id"].tolist()
        assert at_2020 == ["2"]
    assert closes == {False: pd.Timestamp("2019-04-01"), True: pd.Timestamp("2019-04-01")}


def _latest_headers(header: pd.DataFrame) -> pd.DataFrame:
    """Each child's header record only in the latest return that lists the child."""
    latest = header.groupby(["LA", "CHILD"])["YEAR"].transform("max")
    return header[header["YEAR"] == latest].reset_index(drop=True)


@pytest.mark.parametrize("convention", ["end", "start"])
def test_extract_in_either_year_convention(tmp_path, convention):
    # YEAR as the year the collection ends (liia-tools) or starts (the field's demand
    # model's regional extracts); headers only in each child's latest return
    extract = stale_extract(seed=11)
    header = _latest_headers(extract["header"])
    shift = 1 if convention == "start" else 0
    for table, frame in (("Header", header), ("Episodes", extract["episodes"])):
        frame.assign(YEAR=frame["YEAR"] - shift).to_csv(
            tmp_path / f"SSDA903_{table}_merged.csv", index=False, date_format="%Y-%m-%d"
        )
    data = ssda903.read(tmp_path)  # defaults: nothing to raise
    assert data.years == list(YEARS)
    assert set(data.files["dated_by"]) == {f"YEAR column, {convention} year (its dates)"}
    assert len(data.episodes) == len(extract["episodes"])
    dropped = ssda903.read(tmp_path, errors="drop")
    assert len(dropped.episodes) == len(extract["episodes"])  # every child has a header
    assert dropped.ledger.empty
    declared = ssda903.read(tmp_path, year_column=convention)
    assert set(declared.files["dated_by"]) == {f"YEAR column, year_column='{convention}'"}
    cleaned = ssda903.clean(data)
    found = {}
    for year in YEARS:
        cases = ssda903.case_table(cleaned, census_date=year_end(year)).cases
        found[year] = cases.groupby("authority").size()
    counts = pd.DataFrame(found).stack()
    counts.index = counts.index.set_names(["authority", "year"])
    expected = return_counts(extract["episodes"])
    pd.testing.assert_series_equal(
        counts.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    # year_from says how file names and, unless year_column is given, YEAR are read
    assert ssda903.read(tmp_path, year_from=convention).years == list(YEARS)


def test_a_child_with_no_header_in_any_year_is_the_only_problem(tmp_path):
    extract = stale_extract(seed=11)
    header = _latest_headers(extract["header"])
    gone = header["CHILD"].iloc[0], header["LA"].iloc[0]
    header = header.iloc[1:]
    data = ssda903.from_frames(header, extract["episodes"], errors="report")
    orphans = data.errors[data.errors["rule"] == "episode_without_header"]
    mine = (extract["episodes"]["CHILD"] == gone[0]) & (extract["episodes"]["LA"] == gone[1])
    assert len(orphans) == mine.sum() > 0
    assert set(orphans["value"]) == {gone[0]}
    assert set(data.errors["rule"]) == {"episode_without_header"}
