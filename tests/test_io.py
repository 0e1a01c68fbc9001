"""read_cases on CSV, XLSX and Parquet files written in the test."""

from __future__ import annotations

import pandas as pd
import pytest

from lacstats.errors import DataError
from lacstats.io import read_cases
from lacstats.outputs import atomic_directory


@pytest.fixture
def table(small_cases):
    return small_cases.drop(columns=["risk_score"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_round_trip(tmp_path, table, suffix):
    path = tmp_path / f"cases{suffix}"
    {
        ".csv": lambda p: table.to_csv(p, index=False),
        ".xlsx": lambda p: table.to_excel(p, index=False),
        ".parquet": lambda p: table.to_parquet(p),
    }[suffix](path)
    back = read_cases(path)
    assert back["case_id"].tolist() == table["case_id"].tolist()
    assert back["weekly_cost"].tolist() == table["weekly_cost"].tolist()
    assert (
        back["placement_setting"].astype(str).tolist()
        == table["placement_setting"].astype(str).tolist()
    )
    pd.testing.assert_series_equal(
        back["distance_miles"], table["distance_miles"].reset_index(drop=True)
    )


def test_money_written_as_analysts_write_it(tmp_path, table):
    frame = table.astype({"weekly_cost": object}).reset_index(drop=True)
    frame.loc[0, "weekly_cost"] = "£4,800"
    frame.loc[1, "weekly_cost"] = "4800.00"
    frame.loc[2, "weekly_cost"] = " £10,700.50 "
    path = tmp_path / "cases.xlsx"
    frame.to_excel(path, index=False)
    back = read_cases(path)
    assert back["weekly_cost"].iloc[:3].tolist() == [4800.0, 4800.0, 10700.5]


def test_text_cost_names_the_cell(tmp_path, table):
    frame = table.astype({"weekly_cost": object}).reset_index(drop=True)
    frame.loc[3, "weekly_cost"] = "four thousand"
    path = tmp_path / "cases.xlsx"
    frame.to_excel(path, index=False)
    column = chr(ord("A") + list(frame.columns).index("weekly_cost"))
    with pytest.raises(DataError, match=rf"cases.xlsx \(cell {column}5\).*'four thousand'") as e:
        read_cases(path)
    assert e.value.column == "weekly_cost"
    assert e.value.rows == [4]


def test_named_sheet_and_missing_sheet(tmp_path, table):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover"]}).to_excel(writer, sheet_name="Cover", index=False)
        table.to_excel(writer, sheet_name="Cases", index=False)
    assert len(read_cases(path, sheet="Cases")) == len(table)
    with pytest.raises(DataError, match="no sheet 'Placements'; sheets: Cover, Cases"):
        read_cases(path, sheet="Placements")
    with pytest.raises(DataError, match="missing required column"):
        read_cases(path)  # the first sheet is the cover


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        read_cases(path)


def test_wrong_extension_and_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"unsupported file type '\.json'"):
        read_cases(tmp_path / "cases.json")
    with pytest.raises(DataError, match="no such file"):
        read_cases(tmp_path / "absent.csv")


def test_atomic_directory_keeps_old_results_on_failure(tmp_path):
    target = tmp_path / "results"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("first")

    def interrupted_build() -> None:
        with atomic_directory(target) as staging:
            (staging / "a.txt").write_text("second")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted_build()
    assert (target / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_read_unit_costs_parses_money_and_names_a_bad_cell(tmp_path):
    from lacstats import costs
    from lacstats.errors import DataError
    from lacstats.io import read_unit_costs

    path = tmp_path / "units.csv"
    path.write_text(
        'placement_type,provider,weekly_cost\nFoster care, LA ,"£1,200"\nResidential,Agency,4800.50\n',
        encoding="utf-8",
    )
    units = read_unit_costs(path)
    assert units["weekly_cost"].tolist() == [1200.0, 4800.5]
    assert units["provider"].tolist() == ["LA", "Agency"]  # typed spaces trimmed
    # usable as costs.unit_cost's table
    placements = pd.DataFrame({"placement_type": ["Residential"], "provider": ["Agency"]})
    assert costs.unit_cost(placements, units).tolist() == [4800.5]
    path.write_text("placement_type,weekly_cost\nFoster care,four hundred\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"units\.csv.*B2.*four hundred"):
        read_unit_costs(path)
