"""The projection beside the field's demand model, both in real time.

Social Finance's demand model (PyPI ``cs-demand-model`` 0.5.1, the Markov stock-and-flow
tool many authorities use) and lacstats' stock-and-flow projection are given, at each
origin, only the returns filed by then (the packaged synthetic returns, 2017-18 to
2021-22; origins 1 April 2018 to 2021), and scored at 6 and 12 months against the count
of children looked after that the return covering each target date reported (lacstats'
real-time truth, :func:`lacstats.projection.backtest`). Each is run at its default window
of history (the demand model: the 6 months before the end of the data; lacstats: 3 years)
and at the other's. Printed: mean absolute percentage error (MAPE) and mean absolute error
of the point forecast (the demand model's expected count, lacstats' median) by horizon,
the coverage of lacstats' 90% and 50% intervals (the demand model gives none), and the
wall time of one projection.

The demand model runs in its own Python 3.11 environment (pandas < 2), never a dependency
of lacstats: ``--venv`` names it (default ``~/.cache/lacstats-bench/cs-demand-model``),
created with uv when missing. Run: ``python benchmarks/bench_projection.py [--venv PATH]
[--draws 500]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lacstats import projection, ssda903

ORIGINS = (2018, 2019, 2020, 2021)
HORIZONS = (6, 12)
PEER = "cs-demand-model==0.5.1"
#: The demand model's age brackets, as the DfE's age bands (the same ages).
BRACKETS = {
    "BIRTH_TO_ONE": "under 1",
    "ONE_TO_FIVE": "1 to 4",
    "FIVE_TO_TEN": "5 to 9",
    "TEN_TO_SIXTEEN": "10 to 15",
    "SIXTEEN_TO_EIGHTEEN": "16 and over",
}
#: Windows of history: the demand model's default, lacstats' default.
WINDOWS = {"6 months": 0.5, "3 years": 3.0}

RUNNER = r"""
import json, sys, time
import pandas as pd
from dateutil.relativedelta import relativedelta
from cs_demand_model import DemandModellingDataContainer, ModelPredictor, PopulationStats
from cs_demand_model.config import Config
from cs_demand_model.datastore import fs_datastore

folder, months, targets = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
t0 = time.perf_counter()
config = Config()
dc = DemandModellingDataContainer(fs_datastore(folder), config)
stats = PopulationStats(dc.enriched_view, config)
end = pd.Timestamp(dc.end_date)
start = max(end - relativedelta(months=int(round(months))), pd.Timestamp(dc.start_date))
predictor = ModelPredictor.from_model(stats, start.date(), end.date())
days = max((pd.Timestamp(t) - end).days for t in targets)
predicted = predictor.predict(days)
seconds = time.perf_counter() - t0
in_care = [c for c in predicted.columns if c[1] != "NOT_IN_CARE"]
out = {"end": str(end.date()), "seconds": seconds, "total": {}, "by_age": {}}
for t in targets:
    row = predicted.iloc[(pd.Timestamp(t) - end).days - 1][in_care]
    out["total"][t] = float(row.sum())
    ages = {}
    for (age, _), value in row.items():
        ages[str(age)] = ages.get(str(age), 0.0) + float(value)
    out["by_age"][t] = ages
print(json.dumps(out))
"""


def peer_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if python.exists():
        return python
    uv = shutil.which("uv")
    if uv is None:
        sys.exit("the demand model needs uv to build its environment (or pass --venv)")
    base = shutil.which("python3.11")
    subprocess.run([uv, "venv", "-q", "-p", base or "3.11", str(venv)], check=True)
    subprocess.run([uv, "pip", "install", "-q", "-p", str(python), PEER, "pandas<2"], check=True)
    return python


def known_returns(folder: Path, year: int) -> None:
    """The packaged returns filed by ``year`` (end year), one folder per year as the demand
    model reads them."""
    for path in sorted(Path(ssda903.fake903_path()).glob("20*-*.csv")):
        if "uasc" in path.name:
            continue
        end_year = int(path.name[:4]) + 1
        if end_year <= year:
            (folder / str(end_year)).mkdir(exist_ok=True)
            shutil.copy(path, folder / str(end_year) / path.name)


def run_peer(python: Path, year: int, months: float, targets: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        known_returns(Path(tmp), year)
        script = Path(tmp) / "runner.py"
        script.write_text(RUNNER)
        done = subprocess.run(
            [str(python), str(script), tmp, str(months * 12), json.dumps(targets)],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv", type=Path, default=Path.home() / ".cache/lacstats-bench/cs-demand-model"
    )
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    python = peer_python(args.venv)
    data = ssda903.read(ssda903.fake903_path())
    rows = []
    for label, years in WINDOWS.items():
        for year in ORIGINS:
            origin = ssda903.year_end(year) + pd.Timedelta(days=1)
            start = time.perf_counter()
            tested = projection.backtest(
                data,
                origin=origin,
                horizon_months=max(HORIZONS),
                history_years=years,
                draws=args.draws,
                pooling="none",
                rng=year,
            )
            seconds = time.perf_counter() - start
            forecasts = tested.forecasts
            total = forecasts[forecasts["series"] == "total"].set_index("month")
            bands = forecasts[forecasts["series"] == "age_band"]
            targets = [str(total.loc[h, "date"]) for h in HORIZONS]
            peer = run_peer(python, year, years, targets)
            for h, target in zip(HORIZONS, targets, strict=True):
                cells = [("total", total.loc[h], peer["total"][target])]
                for bracket, band in BRACKETS.items():
                    row = bands[(bands["month"] == h) & (bands["category"] == band)].iloc[0]
                    if row["observed"] > 0:
                        cells.append(("age band", row, peer["by_age"][target].get(bracket, 0.0)))
                for series, row, theirs in cells:
                    observed = float(row["observed"])
                    for method, point, secs in (
                        ("lacstats", float(row["median"]), seconds),
                        ("demand model", theirs, peer["seconds"]),
                    ):
                        ours = method == "lacstats"
                        rows.append(
                            {
                                "method": method,
                                "window": label,
                                "series": series,
                                "origin": str(origin.date()),
                                "horizon": h,
                                "observed": observed,
                                "forecast": point,
                                "ape": abs(point - observed) / observed,
                                "ae": abs(point - observed),
                                "in_90": (row["ci_low"] <= observed <= row["ci_high"])
                                if ours
                                else np.nan,
                                "in_50": (row["q25"] <= observed <= row["q75"])
                                if ours
                                else np.nan,
                                "seconds": secs,
                            }
                        )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table[table["series"] == "total"].round(3).to_string(index=False))
    summary = (
        table.groupby(["series", "window", "method", "horizon"])
        .agg(
            cells=("ape", "size"),
            mape=("ape", "mean"),
            mae=("ae", "mean"),
            coverage_90=("in_90", "mean"),
            coverage_50=("in_50", "mean"),
            seconds=("seconds", "mean"),
        )
        .reset_index()
    )
    print()
    print(summary.round(3).to_string(index=False))
    overall = table.groupby(["series", "window", "method"]).agg(
        mape=("ape", "mean"), coverage_90=("in_90", "mean"), seconds=("seconds", "mean")
    )
    print()
    print(overall.round(3).to_string())


if __name__ == "__main__":
    main()
