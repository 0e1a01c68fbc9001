"""Regenerate tests/reference/liia/: liia-tools' episode fixes run on its own labelled test
episodes.

liia-tools (Social Finance's children's services data tools, MIT) names the fixes the
regional pipelines apply to multi-year SSDA903 extracts (RULE_1, 1A, 2, 3, 3A, 4, 5) and
ships one labelled child for each in ``liiatools/spec/s903/samples/
SSDA903_episodes_for_testing_fixes_INPUT.csv``. The fixes live in
``liiatools/datasets/s903/lds_ssda903_episodes_fix/process.py``, which the PyPI wheel
``liiatools==0.2.0`` does not ship; they are in the liia-tools repository at commit
0dd821c2968f6930b62ee2223da0203b33db0a96 (2024-06-13, pyproject version 0.2.0). This
script runs that module in its own environment (Python 3.10, ``liiatools==0.2.0`` for its
pinned dependencies, pandas 1.5, numpy < 2), never a dependency of lacstats:

    python scripts/make_liia_reference.py --create-venv /work/ext/liiatools \\
        --liia-tools /path/to/liia-tools-checkout

and writes the input, the output of ``stage_2(stage_1(input))`` and a README with the
versions, hashes and the exact call.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COMMIT = "0dd821c2968f6930b62ee2223da0203b33db0a96"
INPUT = "liiatools/spec/s903/samples/SSDA903_episodes_for_testing_fixes_INPUT.csv"
MODULE = "liiatools/datasets/s903/lds_ssda903_episodes_fix/process.py"
OUT = Path(__file__).resolve().parents[1] / "tests" / "reference" / "liia"
CALL = "stage_2(stage_1(pandas.read_csv(INPUT)))"

#: Run inside liia-tools' environment: the fixes on the labelled episodes.
PROGRAM = """
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
import numpy, pandas
from liiatools.datasets.s903.lds_ssda903_episodes_fix.process import stage_1, stage_2
out = stage_2(stage_1(pandas.read_csv(sys.argv[2])))
out.to_csv(sys.argv[3], index=False, date_format="%Y-%m-%d", lineterminator="\\n")
print(json.dumps({"python": sys.version.split()[0], "pandas": pandas.__version__,
                  "numpy": numpy.__version__}))
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def create_venv(folder: Path, python: str) -> Path:
    subprocess.run([python, "-m", "venv", str(folder)], check=True)
    pip = folder / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "liiatools==0.2.0", "numpy<2"], check=True)
    return folder / "bin" / "python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--liia-tools", required=True, type=Path, help=f"checkout at {COMMIT}")
    parser.add_argument("--venv", type=Path, default=Path("/work/ext/liiatools"))
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
    source = args.liia_tools / INPUT
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "out.csv"
        run = subprocess.run(
            [str(python), "-c", PROGRAM, str(args.liia_tools), str(source), str(result)],
            check=True,
            capture_output=True,
            text=True,
        )
        versions = json.loads(run.stdout.strip().splitlines()[-1])
        shutil.copy(result, OUT / "episodes_expected.csv")
    shutil.copy(source, OUT / "episodes_input.csv")
    shutil.copy(args.liia_tools / "LICENSE", OUT / "LICENSE_MIT_SocialFinanceDigitalLabs.txt")
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
    ).stdout
    liia = next(line for line in freeze.splitlines() if line.lower().startswith("liiatools"))
    (OUT / "README.md").write_text(
        f"""# liia-tools' episode fixes on its labelled test episodes

- `episodes_input.csv`: liia-tools' `{INPUT}` (MIT, Social Finance Digital Labs,
  `LICENSE_MIT_SocialFinanceDigitalLabs.txt`), one child per fix: NORULE_*, RULE1_BAD,
  RULE1A_BAD, RULE2_BAD, RULE3_BAD, RULE3A_BAD, RULE4_BAD, RULE5_BAD. `YEAR` is the
  collection's end year; dates ISO.
- `episodes_expected.csv`: `{CALL}` with `stage_1` and `stage_2` from
  `liiatools.datasets.s903.lds_ssda903_episodes_fix.process` of liia-tools at commit
  {COMMIT} (the fixes are not in the PyPI wheel of the same version),
  written with `to_csv(index=False, date_format="%Y-%m-%d")`.

Environment: Python {versions["python"]}, {liia} (its pinned dependencies), pandas
{versions["pandas"]}, numpy {versions["numpy"]}.

sha256: input {_sha256(OUT / "episodes_input.csv")}, process.py {_sha256(args.liia_tools / MODULE)},
output {_sha256(OUT / "episodes_expected.csv")}.

Regenerate: `python scripts/make_liia_reference.py --liia-tools CHECKOUT [--create-venv]`.
"""
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
