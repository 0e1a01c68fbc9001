"""Regenerate tests/reference/dfe903/: the DfE's SSDA903 validator run on returns, its
flags stored by rule code, table, row and child.

The validator is ``csc-validator-be-903`` (PyPI, MIT, the DfE's published validator for
the return, maintained by Data to Insight and Social Finance). It pins pandas < 2 and
numpy < 1.25, so it runs in its own Python 3.10 environment, never a dependency of
lacstats:

    python scripts/make_dfe903_reference.py --create-venv /work/ext/dfe903 \\
        --validator-repo /path/to/csc-validator-be-903-checkout

Cases (each a folder of the return's tables as the validator's CSV files, ``header.csv``
... ``sw_episodes.csv``, dd/mm/yyyy dates):

- ``fake``: the validator's own fake return (its ``tests/fake_data``, a 2017-18 return of
  2,675 children), checked with its 2022-23 rules as collection year 2018;
- ``simulated_<year>``: returns of every table written by ``lacstats.ssda903.simulate``
  (``tables="all"``) for a collection year, with errors planted for the rules
  (:func:`plant`), checked with the rule set of that year (2022-23's for earlier years).

For each case, ``flags.csv.gz`` has one row per flag: ``code``, ``table`` (lacstats'
name), ``row`` (1 = the first row under the header) and ``child``; ``README.md`` the
version, the call and the counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = "0.1.17"
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "reference" / "dfe903"
LA = "E09000027"
#: the validator's table names, lacstats' names and file names
TABLES = {
    "Header": "header",
    "Episodes": "episodes",
    "UASC": "uasc",
    "AD1": "ad1",
    "PlacedAdoption": "placed_for_adoption",
    "PrevPerm": "previous_permanence",
    "OC2": "oc2",
    "OC3": "oc3",
    "Reviews": "reviews",
    "Missing": "missing",
    "SWEpisodes": "sw_episodes",
}

#: Run inside the validator's environment: argv = case folder, collection year, output.
PROGRAM = """
import importlib, json, logging, sys
from pathlib import Path
logging.disable(logging.CRITICAL)
import pandas as pd
from lac_validator import lac_validator
from lac_validator.ingress import read_files
names = json.loads(sys.argv[4])
if sys.argv[6] == "isolated":
    # each rule on its own copy of the tables: the shipped validator hands every rule a
    # shallow copy, so a rule that fills a column in place changes what later rules see
    lac_validator.copy_datastore = lambda store: {
        k: (v.copy(deep=True) if k != "metadata" else v) for k, v in store.items()}
folder, year = Path(sys.argv[1]), int(sys.argv[2])
ruleset = f"lac{year - 1}_{year % 100:02d}" if year >= 2023 else "lac2022_23"
registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
files = read_files([str(p) for p in sorted(folder.glob("*.csv"))])
v = lac_validator.LacValidator(
    metadata={"collectionYear": str(year), "localAuthority": sys.argv[5]},
    files=files, registry=registry)
rows = []
for table, frame in v.ds_results.items():
    if not isinstance(frame, pd.DataFrame) or table not in names:
        continue
    for column in frame.columns:
        if column.startswith("ERR_"):
            hit = frame.index[frame[column] == True]
            for i in hit:
                rows.append((column[4:], names[table], int(i) + 1, frame.at[i, "CHILD"]))
pd.DataFrame(rows, columns=["code", "table", "row", "child"]).sort_values(
    ["code", "table", "row"]).to_csv(sys.argv[3], index=False)
print(json.dumps({"ruleset": ruleset, "rules": len(registry), "failed": v.fails,
                  "skipped": sorted(v.skips)}))
"""


#: Run inside the validator's environment: every rule set's codes, messages and the rule
#: set each code's version comes from (argv = output CSV).
RULESETS = """
import importlib, logging, sys
logging.disable(logging.CRITICAL)
import pandas as pd
rows = []
for ruleset in ("lac2022_23", "lac2023_24", "lac2024_25", "lac2025_26", "lac2026_27"):
    registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
    for code, rule in registry.items():
        rows.append((ruleset, 2000 + int(ruleset[-2:]), code, rule.func.__module__.split(".")[-2],
                     rule.message, ", ".join(rule.affected_fields)))
pd.DataFrame(rows, columns=["ruleset", "year", "code", "version", "message", "fields"]).to_csv(
    sys.argv[1], index=False)
"""


def create_venv(folder: Path, python: str) -> Path:
    subprocess.run([python, "-m", "venv", str(folder)], check=True)
    pip = folder / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", f"csc-validator-be-903=={VERSION}"], check=True)
    return folder / "bin" / "python"


def validate(python: Path, case: Path, year: int, how: str = "isolated") -> dict:
    """Run the validator on a case folder (each rule on its own copy of the tables, or
    ``how="shipped"``, as the package runs them); write its flags beside the files."""
    out = case / ("flags.csv.gz" if how == "isolated" else "flags_shipped.csv.gz")
    run = subprocess.run(
        [
            str(python),
            "-c",
            PROGRAM,
            str(case),
            str(year),
            str(out),
            json.dumps(TABLES),
            LA,
            how,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def fake_return(repo: Path) -> Path:
    """The validator's own fake return, copied from its repository's tests."""
    case = OUT / "fake"
    case.mkdir(parents=True, exist_ok=True)
    for name in TABLES.values():
        source = repo / "tests" / "fake_data" / f"{name}.csv"
        shutil.copy(source, case / f"{name}.csv")
    shutil.copy(repo / "documentation" / "LICENSE", OUT / "LICENSE_MIT_csc-validator-be-903.txt")
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validator-repo", type=Path, required=True)
    parser.add_argument("--venv", type=Path, default=Path("/work/ext/dfe903"))
    parser.add_argument("--create-venv", action="store_true")
    parser.add_argument(
        "--base-python", default=str(Path.home() / ".pyenv/versions/3.10.13/bin/python")
    )
    args = parser.parse_args()
    python = (
        create_venv(args.venv, args.base_python)
        if args.create_venv
        else args.venv / "bin" / "python"
    )
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
    ).stdout
    pins = [
        line
        for line in freeze.splitlines()
        if line.split("==")[0].lower() in ("csc-validator-be-903", "pandas", "numpy")
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(python), "-c", RULESETS, str(OUT / "rulesets.csv")], check=True)
    cases = [(fake_return(args.validator_repo), 2018)]
    lines = []
    import pandas as pd

    for case, year in cases:
        facts = validate(python, case, year)
        validate(python, case, year, "shipped")
        flags = pd.read_csv(case / "flags.csv.gz", dtype=str)
        shipped = pd.read_csv(case / "flags_shipped.csv.gz", dtype=str)
        (case / "flags_shipped.csv.gz").unlink()
        counts = flags["code"].value_counts()
        as_shipped = shipped["code"].value_counts()
        moved = sorted(
            set(counts.index) | set(as_shipped.index),
            key=lambda c: (int("".join(ch for ch in c if ch.isdigit()) or 0), c),
        )
        moved = [c for c in moved if counts.get(c, 0) != as_shipped.get(c, 0)]
        lines.append(
            f"- `{case.name}`: collection year {year} (ruleset {facts['ruleset']}, "
            f"{facts['rules']} rules; {len(facts['skipped'])} skipped for missing tables or "
            f"metadata, {len(facts['failed'])} failed to run); {len(flags):,} flags under "
            f"{flags['code'].nunique()} codes. As shipped (shared tables): "
            f"{len(shipped):,} flags; codes whose count differs: "
            + (
                ", ".join(
                    f"{c} {as_shipped.get(c, 0)} (own copy {counts.get(c, 0)})" for c in moved
                )
                or "none"
            )
        )
    (OUT / "README.md").write_text(
        f"""# The DfE validator's flags on returns

The DfE's SSDA903 validator, `csc-validator-be-903` {VERSION} from PyPI (MIT;
`LICENSE_MIT_csc-validator-be-903.txt`), run by `scripts/make_dfe903_reference.py` in its
own environment ({", ".join(pins)}; Python 3.10). Call, per case folder:

```python
files = lac_validator.ingress.read_files(sorted(folder.glob("*.csv")))
v = lac_validator.lac_validator.LacValidator(
    metadata={{"collectionYear": str(year), "localAuthority": "{LA}"}},
    files=files, registry=lac_validator.rules.<ruleset>.registry)
# a flag: v.ds_results[table].loc[row, f"ERR_{{code}}"] == True
```

with `<ruleset>` the collection year's (`lac2022_23` for 2022-23 and earlier years), and
each rule given its own deep copy of the tables (`copy_datastore` replaced): the shipped
validator hands each rule a shallow copy, so a rule that fills a column in place (rule
365 fills every blank DEC with 31 March) changes what the rules after it see. The
counts as shipped are listed below for comparison.
`flags.csv.gz`: `code`, `table` (lacstats' name), `row` (1 = the first row under the
header), `child`.

{chr(10).join(lines)}

`rulesets.csv`: every rule of each of the validator's rule sets (`year` = the collection's
end year), with `version` the rule set its code comes from (a new version where the DfE
changed the rule), message and fields.

`fake/` holds the validator's own fake return, copied from its repository
(data-to-insight/csc-validator-be-903, `tests/fake_data/`).
"""
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
