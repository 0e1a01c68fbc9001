"""One contract over every result type, as scikit-learn's ``parametrize_with_checks`` runs one
over every estimator.

Every subclass of :class:`lacstats.results.Result` anywhere in the package must have an
example here (``EXAMPLES``: the cheapest public call that returns one); a new result type
without one fails :func:`test_every_result_type_has_an_example`. Each example is then held
to the face the README promises: frozen, ``to_frame()`` a DataFrame with identifier-safe
column names, ``to_dict()`` JSON-safe (no NaN, no infinity, only JSON types), a text
``summary()`` that is also ``str()``, and ``_repr_html_()`` for notebooks.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lacstats
from lacstats import (
    analysis,
    collect,
    costs,
    datasets,
    disclosure,
    projection,
    publication,
    regression,
    reporting,
    reproduce,
    sampling,
    ssda903,
    study,
    survey,
    synthetic,
)
from lacstats.hierarchical import Diagnostics, HierarchicalModel
from lacstats.results import Result

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Interval bounds are ``ci_low`` and ``ci_high`` (a prefix says what they bound:
#: ``weekly_ci_low``), never ``low``, ``lower``, ``q05``, ...; quartiles (``q25``, ``q75``)
#: are not an interval's bounds.
_BOUND = re.compile(r"(^|_)(low|high|lower|upper|lo|hi|q0?5|q95|q025|q975|q2_5|q97_5)$")


def _result_types() -> list[type[Result]]:
    for module in pkgutil.walk_packages(lacstats.__path__, "lacstats."):
        importlib.import_module(module.name)
    found, todo = [], list(Result.__subclasses__())
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return sorted(
        (kind for kind in found if kind.__module__.startswith("lacstats.")),
        key=lambda kind: f"{kind.__module__}.{kind.__qualname__}",
    )


def _name(kind: type) -> str:
    return kind.__qualname__


# --- one cheap example per result type -------------------------------------------------


def _km():
    return study.loads('[study]\nname = "km"\n[authorities]\nlist = ["Kent", "Medway"]\n')


def _merged(tmp_path: Path):
    km = _km()
    for name, part in synthetic.sample(km, rng=1).groupby("authority", observed=True):
        part.to_csv(tmp_path / f"{name}.csv", index=False)
    return collect.merge([tmp_path], study=km)


@cache
def _cleaned():
    return ssda903.clean(ssda903.read(ssda903.fake903_path()))


@cache
def _hierarchical():
    cases = synthetic.complex_lac(rng=2019).head(300)
    # a short fit: the contract is about the result's face, not the draws' quality
    return HierarchicalModel("weekly_cost ~ risk_score", group="authority").fit(
        cases, draws=100, tune=100, chains=2, rng=1, progress=False, check=False
    ), cases


def _ppc():
    fit, cases = _hierarchical()
    return fit.ppc(cases, n_draws=20, rng=1)


def _savings():
    changes = pd.DataFrame(
        {
            "change": ["to in-house foster care"],
            "children": [10],
            "weekly_cost": [8290.0],
            "new_weekly_cost": [4650.0],
        }
    )
    return costs.savings(changes, delay_weeks=26, draws=50, rng=1)  # with its interval


def _run_summary(tmp_path: Path):
    return reproduce.run_all(tmp_path / "results", fast=True, only=["cost_calculator"], jobs=1)


EXAMPLES: dict[str, Callable[[Path], Result]] = {
    "Allocation": lambda _: sampling.allocate(100, [500, 300, 200]),
    "SampleDesign": lambda _: sampling.design(datasets.south_east_authorities(2017)),
    "Templates": lambda _: collect.template(_km()),
    "Merged": _merged,
    "CollectionStatus": lambda tmp: collect.status(_merged(tmp)),
    "Savings": lambda _: _savings(),
    "Suppressed": lambda _: disclosure.suppress(
        pd.DataFrame({"Kent": [12, 3], "Medway": [7, 9]}, index=["foster", "residential"])
    ),
    "CorrelationResult": lambda _: regression.correlation(
        synthetic.complex_lac(rng=2019), method="spearman"
    ),
    "RegressionResult": lambda _: regression.fit(
        pd.DataFrame(
            {
                "risk_score": [8, 12, 15, 20, 22, 30],
                "weekly_cost": [900.0, 1100, 1000, 3000, 2600, 5200],
            }
        ),
        "weekly_cost ~ risk_score",
    ),
    "RiskCost": lambda _: regression.risk_cost(synthetic.complex_lac(rng=2019)),
    "Diagnostics": lambda _: Diagnostics(
        rhat_max=1.04, ess_bulk_min=180, ess_tail_min=390, divergences=3, draws=200, chains=2
    ),
    "HierarchicalResult": lambda _: _hierarchical()[0],
    "PosteriorPredictiveCheck": lambda _: _ppc(),
    "Return": lambda _: ssda903.read(ssda903.fake903_path()),
    "Cleaned": lambda _: _cleaned(),
    "CaseTable": lambda _: ssda903.case_table(_cleaned(), census_date="2020-03-31"),
    "GammaPoisson": lambda _: projection.gamma_poisson(
        [2, 30, 4, 40, 55], [100.0, 110.0, 60.0, 150.0, 320.0]
    ),
    "Projection": lambda _: projection.stock_and_flow(_cleaned(), months=3, draws=20, rng=1),
    "Backtest": lambda _: projection.backtest(
        ssda903.read(ssda903.fake903_path()),
        origin="2021-04-01",
        horizon_months=3,
        history_years=1,
        draws=20,
        rng=1,
    ),
    "RateForecast": lambda _: projection.rate_forecast(
        pd.DataFrame(
            {"area": ["a", "a", "b", "b"], "year": [2018, 2019] * 2, "n": [10, 12, 30, 28]}
        ).assign(population=1000),
        "n",
        origin_year=2018,
        unit="area",
        draws=50,
        rng=1,
    ),
    "ValidationReport": lambda _: ssda903.validate(ssda903.fake903_path()),
    "CostTables": lambda _: publication.cost_tables(
        ssda903.read(ssda903.fake903_path()), cleaned=_cleaned(), census="2020-03-31"
    ),
    "Study": lambda _: study.south_east(),
    "Pack": lambda _: reporting.authority_tables(synthetic.complex_lac(rng=2019), "Medway"),
    "RunSummary": _run_summary,
    "RequirementsCheck": lambda _: analysis.check(
        analysis.catalogue(),
        analysis.case_data(study.south_east(), 2019),
        study.south_east(),
    ),
    "SyntheticSample": lambda _: synthetic.calibrated_sample(rng=2019),
    "Estimate": lambda _: survey.estimate(
        pd.DataFrame(
            {
                "authority": ["A", "A", "A", "B", "B", "B"],
                "far": [1, 0, 0, 1, 1, 0],
                "design_weight": [10.0] * 3 + [5.0] * 3,
            }
        ),
        "far",
    ),
    "Stratified": lambda _: survey.stratified(
        np.array([1.0, 0, 0, 1, 1, 0]), np.array([0, 0, 0, 1, 1, 1]), np.array([30.0, 15.0])
    ),
    "Design": lambda _: survey.Design.from_frame(
        pd.DataFrame(
            {
                "stratum": ["A", "A", "A", "B", "B"],
                "w": [10.0, 10, 10, 20, 20],
                "fpc": [30, 30, 30, 40, 40],
            }
        ),
        weights="w",
        strata="stratum",
        fpc="fpc",
    ),
}

RESULT_TYPES = _result_types()


def test_every_result_type_has_an_example():
    missing = sorted({_name(kind) for kind in RESULT_TYPES} - set(EXAMPLES))
    assert not missing, f"add an example to EXAMPLES for: {', '.join(missing)}"
    stale = sorted(set(EXAMPLES) - {_name(kind) for kind in RESULT_TYPES})
    assert not stale, f"EXAMPLES names result types that no longer exist: {stale}"


def _json_types_only(value, where="to_dict()"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{where}: key {key!r} is not text"
            _json_types_only(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_types_only(item, f"{where}[{index}]")
    else:
        assert value is None or type(value) in (bool, int, float, str), (
            f"{where} is a {type(value).__name__}, not a JSON type"
        )


@pytest.mark.parametrize("kind", RESULT_TYPES, ids=_name)
def test_result_contract(kind, tmp_path):
    result = EXAMPLES[_name(kind)](tmp_path)
    assert type(result) is kind

    # frozen: a result is a record of what was computed, never edited afterwards
    assert dataclasses.is_dataclass(result)
    assert kind.__dataclass_params__.frozen, f"{kind.__name__} is not a frozen dataclass"
    first = dataclasses.fields(result)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(result, first, None)

    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    unsafe = [column for column in frame.columns if not _IDENTIFIER.match(str(column))]
    assert not unsafe, f"{kind.__name__}.to_frame() has column names {unsafe}"
    assert not frame.attrs, f"{kind.__name__}.to_frame() hides metadata in attrs"

    # one vocabulary: interval bounds are ci_low/ci_high, with the level in the result
    bounds = [str(c) for c in frame.columns if str(c).endswith(("ci_low", "ci_high"))]
    other = [str(c) for c in frame.columns if _BOUND.search(str(c)) and str(c) not in bounds]
    assert not other, f"{kind.__name__}.to_frame(): name interval bounds ci_low/ci_high: {other}"
    if bounds:
        options = getattr(result, "options", None) or {}
        recorded = (
            "level" in frame.columns
            or "confidence" in frame.columns
            or isinstance(getattr(result, "confidence", None), float)
            or "confidence" in options
        )
        assert recorded, f"{kind.__name__}: {bounds} without the level of the interval"

    data = result.to_dict()
    assert isinstance(data, dict)
    assert data
    _json_types_only(data)
    json.dumps(data, allow_nan=False)  # no NaN or infinity slips through as a float

    text = result.summary()
    assert isinstance(text, str)
    assert text.strip()
    assert str(result) == text

    page = result._repr_html_()
    assert isinstance(page, str)
    assert "<" in page


def test_a_hierarchical_interval_records_its_level_and_prob_is_its_old_name():
    fit, cases = _hierarchical()
    for table in (fit.fixed_effects(0.8), fit.variance_components(level=0.8)):
        assert (table["level"] == 0.8).all()  # the family's rows (residual SD) too
    narrow, wide = fit.group_effects(level=0.5), fit.group_effects()
    assert (wide["level"] == 0.95).all()
    assert (narrow["ci_high"] - narrow["ci_low"] < wide["ci_high"] - wide["ci_low"]).all()
    with pytest.warns(FutureWarning, match="'prob' is now 'level'"):
        old = fit.group_effects(prob=0.5)
    pd.testing.assert_frame_equal(old, narrow)
    with pytest.raises(lacstats.errors.DataError, match="argument 'level' must lie strictly"):
        fit.fixed_effects(level=1.0)
    check = fit.ppc(cases, n_draws=20, level=0.5, rng=1).to_frame()
    assert (check["level"] == 0.5).all()
