"""Every validation error of the case table names the column, rows and values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import schema
from lacstats.errors import DataError, LacstatsError


def raw(small_cases: pd.DataFrame) -> pd.DataFrame:
    """The table as a user would hand it over: plain strings and numbers."""
    out = small_cases.drop(columns=["risk_score"]).astype(object)
    return out.where(out.notna(), None)


def test_valid_table_round_trips_with_types(small_cases):
    typed = schema.validate(raw(small_cases))
    assert typed["placement_setting"].dtype == "category"
    assert list(typed["placement_setting"].cat.categories) == list(schema.PLACEMENT_SETTINGS)
    assert typed["weekly_cost"].dtype == np.float64
    assert str(typed["risk_violence"].dtype) == "Int64"
    assert str(typed["uasc"].dtype) == "boolean"
    expected = small_cases[list(schema.RISK_FACTORS)].sum(axis=1).astype("Int64")
    assert typed["risk_score"].tolist() == expected.tolist()


def test_data_error_is_lacstats_error_and_value_error():
    assert issubclass(DataError, LacstatsError)
    assert issubclass(DataError, ValueError)


def test_missing_required_column(small_cases):
    with pytest.raises(DataError, match=r"missing required column.*weekly_cost") as err:
        schema.validate(raw(small_cases).drop(columns="weekly_cost"))
    assert err.value.column == "weekly_cost"


def test_wrong_type_names_row_and_value(small_cases):
    frame = raw(small_cases)
    frame.loc[3, "age"] = "fourteen"
    with pytest.raises(DataError, match="'age': expected a number") as err:
        schema.validate(frame)
    assert (err.value.column, err.value.rows, err.value.values) == ("age", [4], ["fourteen"])


def test_fractional_whole_number(small_cases):
    frame = raw(small_cases)
    frame.loc[0, "placement_number"] = 2.5
    with pytest.raises(DataError, match="whole number") as err:
        schema.validate(frame)
    assert err.value.rows == [1]


@pytest.mark.parametrize("score", [0, 6, -1])
def test_score_outside_1_to_5(small_cases, score):
    frame = raw(small_cases)
    frame.loc[5, "risk_cse"] = score
    with pytest.raises(DataError, match="score outside 1-5") as err:
        schema.validate(frame)
    assert (err.value.column, err.value.rows, err.value.values) == ("risk_cse", [6], [score])


def test_negative_cost(small_cases):
    frame = raw(small_cases)
    frame.loc[2, "weekly_cost"] = -50
    with pytest.raises(DataError, match="negative cost") as err:
        schema.validate(frame)
    assert (err.value.rows, err.value.values) == ([3], [-50])


def test_missing_cost(small_cases):
    frame = raw(small_cases)
    frame.loc[7, "weekly_cost"] = None
    with pytest.raises(DataError, match="missing cost") as err:
        schema.validate(frame)
    assert err.value.rows == [8]


def test_unknown_authority(small_cases):
    frame = raw(small_cases)
    frame.loc[1, "authority"] = "Narnia"
    with pytest.raises(DataError, match="unknown authority") as err:
        schema.validate(frame)
    assert err.value.values == ["Narnia"]
    # allowed when the caller says so
    assert len(schema.validate(frame, authorities=[*frame["authority"]])) == len(frame)


def test_unknown_setting_lists_the_codes(small_cases):
    frame = raw(small_cases)
    frame.loc[4, "placement_setting"] = "childrens_home"
    with pytest.raises(DataError, match="unknown code; allowed: foster_in_house") as err:
        schema.validate(frame)
    assert (err.value.column, err.value.rows) == ("placement_setting", [5])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("needs_met", "fully"),
        ("authority_type", "Metropolitan"),
        ("previous_setting", "x"),
        ("sex", "m"),
    ],
)
def test_unknown_codes(small_cases, column, value):
    frame = raw(small_cases)
    frame.loc[0, column] = value
    with pytest.raises(DataError, match=f"'{column}': unknown code"):
        schema.validate(frame)


def test_duplicate_case_id(small_cases):
    frame = raw(small_cases)
    frame.loc[9, "case_id"] = frame.loc[2, "case_id"]
    with pytest.raises(DataError, match="duplicate case_id") as err:
        schema.validate(frame)
    assert err.value.rows == [10]


def test_bad_boolean(small_cases):
    frame = raw(small_cases)
    frame.loc[0, "uasc"] = "maybe"
    with pytest.raises(DataError, match="'uasc': expected true or false"):
        schema.validate(frame)


def test_inconsistent_risk_score(small_cases):
    frame = raw(small_cases)
    frame["risk_score"] = small_cases["risk_score"].astype(int).to_numpy()
    frame.loc[0, "risk_score"] = 99
    with pytest.raises(DataError, match="sum of the seven risk factors"):
        schema.validate(frame)


def test_message_counts_further_rows(small_cases):
    frame = raw(small_cases)
    frame["risk_cce"] = 9
    with pytest.raises(DataError, match="and 7 more") as err:
        schema.validate(frame)
    assert err.value.n_bad == 12


def test_optional_columns_may_be_absent(small_cases):
    minimal = raw(small_cases)[
        ["case_id", "authority", "authority_type", "placement_setting", "weekly_cost"]
    ]
    typed = schema.validate(minimal)
    assert typed["distance_miles"].isna().all()
    assert typed["risk_score"].isna().all()


def test_not_a_dataframe():
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        schema.validate([1, 2, 3])
