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
- ``planted_<year>`` (2022-23 and 2024-25): returns of every table written by
  ``lacstats.ssda903.simulate``
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

import numpy as np
import pandas as pd

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
    ["code", "table", "row"]).to_csv(
    sys.argv[3], index=False, compression={"method": "gzip", "mtime": 0})
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


def _date(text: str) -> pd.Timestamp:
    return pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")


def _text(when: pd.Timestamp) -> str:
    return when.strftime("%d/%m/%Y")


class Planter:
    """Plants one error on a child of its own for each of the DfE's rules it targets,
    and records what it planted (mutation, rules aimed at, table, child)."""

    def __init__(self, tables: dict[str, pd.DataFrame], year: int, seed: int) -> None:
        self.t = {k: v.astype(object) for k, v in tables.items()}
        self.year = year
        self.rng = np.random.default_rng(seed)
        self.used: set[str] = set()
        self.log: list[tuple[str, str, str, str]] = []
        e = self.t["episodes"]
        self.dob = dict(
            zip(self.t["header"]["CHILD"], self.t["header"]["DOB"].map(_date), strict=False)
        )
        self.counts = e["CHILD"].value_counts()

    def child(self, where: pd.Series | None = None, table: str = "episodes") -> str:
        """A child not used yet, among the rows of ``table`` where ``where`` holds."""
        frame = self.t[table]
        rows = frame if where is None else frame[where.to_numpy()]
        free = [c for c in dict.fromkeys(rows["CHILD"]) if c not in self.used]
        if not free:
            raise LookupError("no child left for a planted error")
        chosen = free[int(self.rng.integers(len(free)))]
        self.used.add(chosen)
        return chosen

    def rows(self, table: str, child: str) -> pd.Index:
        frame = self.t[table]
        return frame.index[frame["CHILD"] == child]

    def set(self, name: str, rules: str, table: str, child: str, at, column: str, value) -> None:
        self.t[table].loc[at, column] = value
        self.log.append((name, rules, table, child))

    def age(self, child: str, when: str) -> float:
        return (_date(when) - self.dob[child]).days / 365.25


def plant(tables: dict[str, pd.DataFrame], year: int, seed: int = 28):
    """Errors planted in a simulated return, each on a child of its own: header codes and
    dates, episodes that break the rules of codes, providers, ages, sequences and legal
    status durations, and the other tables' codes, ages and links."""
    p = Planter(tables, year, seed)
    e, h = p.t["episodes"], p.t["header"]
    end = pd.Timestamp(year=year, month=3, day=31)
    start = pd.Timestamp(year=year - 1, month=4, day=1)
    many = e["CHILD"].map(p.counts) >= 2
    one = e["CHILD"].map(p.counts) == 1
    # header
    for name, rules, column, value in (
        ("sex not a code", "101", "SEX", "3"),
        ("ethnicity not a code", "103", "ETHNIC", "XXXX"),
        ("ethnicity blank", "103", "ETHNIC", None),
        ("UPN not valid", "168", "UPN", "ABC123"),
        ("date of birth not a date", "102", "DOB", "31/02/2011"),
    ):
        c = p.child(table="header")
        p.set(name, rules, "header", c, p.rows("header", c), column, value)
    girl = p.child(h["SEX"].isin(["2", "F"]), "header")
    p.set("mother status not a code", "165", "header", girl, p.rows("header", girl), "MOTHER", "5")
    girl = p.child(h["SEX"].isin(["2", "F"]), "header")
    p.set("mother status blank", "165 393", "header", girl, p.rows("header", girl), "MOTHER", None)
    boy = p.child(h["SEX"].isin(["1", "M"]), "header")
    p.set("boy with a mother status", "165", "header", boy, p.rows("header", boy), "MOTHER", "1")
    boy = p.child(h["SEX"].isin(["1", "M"]), "header")
    p.set(
        "boy with a child's DOB",
        "174",
        "header",
        boy,
        p.rows("header", boy),
        "MC_DOB",
        "01/01/2020",
    )
    c = p.child(table="header")
    p.set(
        "born after the year",
        "301",
        "header",
        c,
        p.rows("header", c),
        "DOB",
        _text(end + pd.Timedelta(days=40)),
    )
    c = p.child(table="header")
    p.set(
        "born at 26",
        "351",
        "header",
        c,
        p.rows("header", c),
        "DOB",
        _text(start - pd.DateOffset(years=27)),
    )
    c = p.child(table="header")
    twin = p.t["header"].loc[p.rows("header", c)]
    p.t["header"] = pd.concat([p.t["header"], twin], ignore_index=True)
    p.log.append(("child twice in the header", "INT32", "header", c))
    # episodes: codes and pairs
    for name, rules, column, value, where in (
        ("DEC without REC", "148", "REC", None, e["DEC"].notna()),
        ("provider not a code", "178", "PLACE_PROVIDER", "PR9", e["PLACE"].eq("U4")),
        ("URN for a placement with none", "222", "URN", "SC123456", e["PLACE"].eq("P1")),
        (
            "URN missing (218 needs PL_LA, derived from postcodes)",
            "",
            "URN",
            None,
            e["PLACE"].eq("U6"),
        ),
        ("RNE not a code", "", "RNE", "Q", many),
        ("LS not a code", "", "LS", "Z9", one),
        ("CIN not a code", "", "CIN", "N9", one),
        ("PLACE not a code", "", "PLACE", "Z9", one),
        ("REC not a code", "", "REC", "E99", e["DEC"].notna()),
        (
            "reason for a change not a code",
            "",
            "REASON_PLACE_CHANGE",
            "XYZ",
            e["REASON_PLACE_CHANGE"].notna(),
        ),
        ("PR0 with a foster placement", "550", "PLACE_PROVIDER", "PR0", e["PLACE"].eq("U4")),
        ("PR1 with parents", "527", "PLACE_PROVIDER", "PR1", e["PLACE"].eq("P1")),
        ("PR3 with a children's home", "529", "PLACE_PROVIDER", "PR3", e["PLACE"].eq("K2")),
        ("freeing order", "445 555", "LS", "D1", one),
        ("adoption placement without an order", "408 551", "PLACE", "A5", one & e["LS"].eq("C2")),
        (
            "adopted from a non-adoption placement",
            "390",
            "REC",
            "E11",
            e["DEC"].notna() & ~e["PLACE"].str.startswith("A"),
        ),
        (
            "former foster carers from a home",
            "516",
            "REC",
            "E45",
            e["DEC"].notna() & e["PLACE"].eq("K2"),
        ),
    ):
        c = p.child(where)
        at = p.rows("episodes", c)
        at = at[where.loc[at].to_numpy()][:1] if where is not None else at[:1]
        p.set(name, rules, "episodes", c, at, column, value)
    if year >= 2025:
        # a children's home registered for supported accommodation, valid from 2024-25
        c = p.child(e["PLACE"].eq("K2"))
        at = p.rows("episodes", c)
        at = at[e.loc[at, "PLACE"].eq("K2").to_numpy()][:1]
        p.set("supported accommodation (K3)", "146", "episodes", c, at, "PLACE", "K3")
    # episodes: sequences
    c = p.child(many & e["DEC"].notna())
    at = p.rows("episodes", c)[0]
    p.set("open episode followed by another", "142", "episodes", c, [at], "DEC", None)
    p.t["episodes"].loc[at, "REC"] = None
    c = p.child(many & e["DEC"].notna())
    at = p.rows("episodes", c)[0]
    p.set(
        "overlapping the next",
        "501",
        "episodes",
        c,
        [at],
        "DEC",
        _text(_date(e.loc[at, "DEC"]) + pd.Timedelta(days=5)),
    )
    c = p.child(many & e["DEC"].notna())
    at = p.rows("episodes", c)[1]
    p.set(
        "gap before a continuation",
        "433 388",
        "episodes",
        c,
        [at],
        "DECOM",
        _text(_date(e.loc[at, "DECOM"]) + pd.Timedelta(days=3)),
    )
    c = p.child(many)
    at = p.rows("episodes", c)[1]
    p.set("new period the day the last ended", "431", "episodes", c, [at], "RNE", "S")
    c = p.child(many)
    at = p.rows("episodes", c)[1]
    p.set("change of legal status only, same status", "434", "episodes", c, [at], "RNE", "L")
    c = p.child(many)
    at = p.rows("episodes", c)[1]
    p.set("change of placement with a new status", "435", "episodes", c, [at], "LS", "C1")
    c = p.child(many)
    at = p.rows("episodes", c)[1]
    p.set("continuation with another need", "504", "episodes", c, [at], "CIN", "N8")
    c = p.child(many & e["DEC"].notna())
    at = p.rows("episodes", c)[0]
    p.set("died, then more episodes", "437", "episodes", c, [at], "REC", "E2")
    c = p.child(many & e["DEC"].notna())
    at = p.rows("episodes", c)[0]
    p.set(
        "continuation without a reason for the change",
        "225",
        "episodes",
        c,
        [at],
        "REASON_PLACE_CHANGE",
        None,
    )
    c = p.child(e["DEC"].notna() & e["REC"].ne("X1"))
    at = p.rows("episodes", c)[-1]
    p.set("ends X1 with nothing after", "388", "episodes", c, [at], "REC", "X1")
    c = p.child(e["DEC"].notna() & e["REC"].ne("X1"))
    at = p.rows("episodes", c)[-1]
    p.set(
        "ceased after the year",
        "385",
        "episodes",
        c,
        [at],
        "DEC",
        _text(end + pd.Timedelta(days=10)),
    )
    # ages and durations
    for name, rules, column, value, years in (
        ("semi-independent at 10", "371", "PLACE", "H5", 12),
        ("school at 2", "373", "PLACE", "S1", 3),
        ("custody at 8", "372", "PLACE", "R5", 9),
        ("remanded at 8", "358", "LS", "J1", 9),
    ):
        young = e["CHILD"].map(p.dob) + pd.DateOffset(years=years) > e["DECOM"].map(_date)
        c = p.child(young & e["DEC"].notna())
        at = p.rows("episodes", c)[:1]
        p.set(name, rules, "episodes", c, at, column, value)
    for name, rules, reason, years in (
        ("independent living at 12", "387", "E5", 13),
        ("to adult services at 12", "389", "E7", 15),
        ("staying put at 15", "460", "E17", 17),
    ):
        young = e["CHILD"].map(p.dob) + pd.DateOffset(years=years) > e["DEC"].map(
            _date, na_action="ignore"
        )
        c = p.child(young & e["DEC"].notna() & e["REC"].ne("X1"))
        at = p.rows("episodes", c)[-1:]
        p.set(name, rules, "episodes", c, at, "REC", reason)
    for name, rules, status, days in (
        ("police protection for 10 days", "361", "L1", 10),
        ("emergency protection for 30 days", "362", "L2", 30),
        ("assessment order for 10 days", "363", "L3", 10),
        ("PACE for 30 days", "364", "J2", 30),
        ("short break for 20 days", "365", "V3", 20),
    ):
        c = p.child(
            one
            & e["DEC"].notna()
            & (e["DEC"].map(_date, na_action="ignore") > start + pd.Timedelta(days=40))
        )
        at = p.rows("episodes", c)
        ended = _date(p.t["episodes"].loc[at[0], "DEC"])
        p.set(name, rules, "episodes", c, at, "LS", status)
        p.t["episodes"].loc[at, "DECOM"] = _text(ended - pd.Timedelta(days=days))
    # reviews
    r = p.t["reviews"]
    for name, rules, column, value in (
        ("participation not a code", "167", "REVIEW_CODE", "PN9"),
        ("review blank", "166", "REVIEW", None),
    ):
        c = p.child(table="reviews")
        p.set(name, rules, "reviews", c, p.rows("reviews", c), column, value)
    old = r["CHILD"].map(p.dob) + pd.DateOffset(years=6) < r["REVIEW"].map(_date)
    c = p.child(old, "reviews")
    p.set("under-4 code at 6", "440", "reviews", c, p.rows("reviews", c), "REVIEW_CODE", "PN0")
    baby = r["CHILD"].map(p.dob) + pd.DateOffset(years=3) > r["REVIEW"].map(_date)
    c = p.child(baby, "reviews")
    p.set("4-and-over code at 2", "441", "reviews", c, p.rows("reviews", c), "REVIEW_CODE", "PN1")
    c = p.child(table="reviews")
    p.set(
        "DOB unlike the header", "INT17", "reviews", c, p.rows("reviews", c), "DOB", "01/01/2001"
    )
    # OC2
    o = p.t["oc2"]
    for name, rules, column, value, where in (
        ("SDQ score out of range", "180", "SDQ_SCORE", "45", o["SDQ_SCORE"].notna()),
        ("SDQ reason not a code", "196", "SDQ_REASON", "SDQ9", o["SDQ_SCORE"].isna()),
        ("conviction not a code", "181", "CONVICTED", "2", o["CONVICTED"].notna()),
        ("conviction under 10", "542", "CONVICTED", "0", o["CONVICTED"].isna()),
        ("health check at 5 or over", "546", "HEALTH_CHECK", "1", o["HEALTH_CHECK"].isna()),
        ("intervention received and offered", "158", "INTERVENTION_OFFERED", "1", None),
        ("intervention without misuse", "193", "INTERVENTION_RECEIVED", "0", None),
        ("immunisations blank", "181", "IMMUNISATIONS", None, None),
    ):
        c = p.child(where, "oc2")
        p.set(name, rules, "oc2", c, p.rows("oc2", c), column, value)
        if name == "intervention received and offered":
            p.t["oc2"].loc[p.rows("oc2", c), ["SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED"]] = [
                "1",
                "1",
            ]
    # OC3: care leavers' rows for a 15-year-old and a 19-year-old with bad codes
    hh = p.t["header"]
    c = p.child(hh["DOB"].map(_date) + pd.DateOffset(years=16) > end, "header")
    dob = p.t["header"].loc[p.rows("header", c)[0], "DOB"]
    leavers = pd.DataFrame(
        [
            {"CHILD": c, "DOB": dob, "IN_TOUCH": "YES", "ACTIV": "F2", "ACCOM": "S2"},
            {
                "CHILD": "LEAVER1",
                "DOB": _text(end - pd.DateOffset(years=19)),
                "IN_TOUCH": "YES",
                "ACTIV": "Z9",
                "ACCOM": "Q1",
            },
        ]
    )
    p.t["oc3"] = pd.concat([p.t["oc3"], leavers], ignore_index=True)
    p.log.append(("care leaver aged 15", "391", "oc3", c))
    p.log.append(("care leaver codes not codes, no header", "132 133 INT06", "oc3", "LEAVER1"))
    # missing
    p.t["missing"]
    for name, rules, column, value in (
        ("missing code not a code", "", "MISSING", "X"),
        ("missing ends before it starts", "", "MIS_END", "01/04/2000"),
    ):
        c = p.child(table="missing")
        p.set(name, rules, "missing", c, p.rows("missing", c), column, value)
    c = p.child(table="missing")
    at = p.rows("missing", c)
    p.set(
        "missing after care ended",
        "578 581",
        "missing",
        c,
        at,
        "MIS_START",
        _text(start - pd.DateOffset(years=20)),
    )
    # adoption
    if len(p.t["placed_for_adoption"]):
        c = p.child(table="placed_for_adoption")
        at = p.rows("placed_for_adoption", c)
        p.set(
            "reason for reversal not a code",
            "120",
            "placed_for_adoption",
            c,
            at,
            "REASON_PLACED_CEASED",
            "RD9",
        )
    if len(p.t["ad1"]):
        c = p.child(table="ad1")
        at = p.rows("ad1", c)
        p.set("single adopter as a couple", "514", "ad1", c, at, "SEX_ADOPTR", "MF")
    # previous permanence
    c = p.child(table="previous_permanence")
    at = p.rows("previous_permanence", c)
    p.set("previous permanence not a code", "", "previous_permanence", c, at, "PREV_PERM", "P9")
    c = p.child(table="previous_permanence")
    at = p.rows("previous_permanence", c)
    p.set(
        "date of permanence not a date",
        "",
        "previous_permanence",
        c,
        at,
        "DATE_PERM",
        "99/99/9999",
    )
    # social worker episodes (collected from 2023-24)
    if len(p.t["sw_episodes"]):
        for name, rules, column, value in (
            ("social worker reason not a code", "SW13STG1", "SW_REASON", "XYZ"),
            ("social worker not named", "SW01bSTG1", "SW_ID", None),
        ):
            c = p.child(table="sw_episodes")
            p.set(name, rules, "sw_episodes", c, p.rows("sw_episodes", c), column, value)
    # an episode of a child with no header record
    c = p.child(one)
    p.t["header"] = p.t["header"][p.t["header"]["CHILD"] != c]
    p.log.append(("child without a header record", "INT03", "header", c))
    log = pd.DataFrame(p.log, columns=["planted", "rules", "table", "child"])
    return p.t, log


def simulated_case(year: int, seed: int) -> Path:
    """A return simulated by lacstats (every table) with errors planted, in the
    validator's file names."""
    sys.path.insert(0, str(ROOT))
    from lacstats import ssda903

    returns = ssda903.simulate(years=[year - 1, year], children=900, rng=seed, tables="all")
    tables, log = plant(returns[year], year)
    case = OUT / f"planted_{year}"
    case.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(case / f"{name}.csv", index=False, lineterminator="\n")
    log.to_csv(case / "planted.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    return case


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
    cases = [
        (fake_return(args.validator_repo), 2018),
        (simulated_case(2023, 7), 2023),
        (simulated_case(2025, 9), 2025),
    ]
    lines = []
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
